#!/usr/bin/env bash
# The arm64 end-to-end test by its old name: tests/vm/run.sh arm64 (which see).
exec bash "$(dirname "$0")/run.sh" arm64 "$@"
