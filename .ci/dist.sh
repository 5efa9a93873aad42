#!/usr/bin/env bash
# CI, what is installed beside the daemon: the rc.d script (sh -n, shellcheck, and its
# commands for no, one and two profiles under rc.subr stand-ins: tests/rcd/run.sh), the
# systemd units (systemd-analyze verify) and the FreeBSD port's generated files (current with
# Cargo.lock and the rc.d script). A few seconds. What cannot be run here is skipped with one
# loud line. Run from .ci/run (after the tests, which build the daemon); alone:
# bash .ci/dist.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=.ci/lib.sh
. .ci/lib.sh

step "rc.d script: sh -n, shellcheck, profiles (tests/rcd/run.sh)"
sh -n dist/rc.d/tcpmssd
if command -v shellcheck >/dev/null 2>&1; then
    shellcheck -s sh dist/rc.d/tcpmssd tests/rcd/run.sh tests/rcd/rc.subr dist/freebsd-port/gen.sh
    echo "shellcheck: clean"
else
    skipped "shellcheck is not installed; the rc.d script and its test were NOT linted"
fi
sh tests/rcd/run.sh

step "systemd units: systemd-analyze verify"
if command -v systemd-analyze >/dev/null 2>&1; then
    # verify checks that ExecStart's program exists and that Documentation's man page
    # resolves: the units are verified with this tree's daemon in place of
    # /usr/local/sbin/tcpmssd and its man page on MANPATH, nothing else changed.
    cargo build --quiet --bin tcpmssd
    daemon=$(realpath "${CARGO_TARGET_DIR:-target}/debug/tcpmssd")
    units=$(mktemp -d)
    trap 'rm -rf "$units"' EXIT
    mkdir -p "$units/man/man8"
    cp dist/tcpmssd.8 "$units/man/man8/"
    for unit in tcpmssd.service tcpmssd@.service; do
        sed "s|/usr/local/sbin/tcpmssd|$daemon|" "dist/$unit" >"$units/$unit"
    done
    # verify exits 0 on directives it ignores with a warning: any output fails the step.
    out=$(MANPATH="$units/man" systemd-analyze verify \
        "$units/tcpmssd.service" "$units/tcpmssd@ppp0.service" 2>&1) || {
        echo "$out"
        exit 1
    }
    if [ -n "$out" ]; then
        echo "$out"
        echo "systemd-analyze verify: warnings" >&2
        exit 1
    fi
    echo "dist/tcpmssd.service, dist/tcpmssd@.service (as tcpmssd@ppp0): verified"
else
    skipped "systemd-analyze is not installed; the systemd units were NOT verified"
fi

step "FreeBSD port: Makefile.crates and files/tcpmssd.in current"
sh dist/freebsd-port/gen.sh --check
