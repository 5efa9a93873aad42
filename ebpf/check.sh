#!/usr/bin/env bash
# CI: rebuilds the eBPF objects from source (ebpf/build.sh, the pinned nightly and
# bpf-linker) into a temporary folder and fails if the committed ones in
# daemon/linux/ebpf/ differ: stale objects, or a build that is not reproducible.
# Prints one loud SKIPPED line and succeeds where the toolchain cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
toolchain=$(sed -n 's/^channel = "\(.*\)"$/\1/p' ebpf/rust-toolchain.toml)
if ! { rustup run "$toolchain" rustc -V >/dev/null 2>&1 ||
    timeout 900 rustup toolchain install "$toolchain" --profile minimal --component rust-src >/dev/null 2>&1; }; then
    echo "!!! SKIPPED: rustup cannot install $toolchain here; the eBPF objects were NOT rebuilt or compared !!!"
    exit 0
fi
if ! timeout 1800 bash ebpf/build.sh "$out" >"$out/build.log" 2>&1; then
    if grep -qE 'failed to (download|fetch|update registry)|resolve host|connect to server|spurious network error|Couldn.t resolve' "$out/build.log"; then
        tail -n 5 "$out/build.log"
        echo "!!! SKIPPED: bpf-linker or the crates cannot be fetched here; the eBPF objects were NOT rebuilt or compared !!!"
        exit 0
    fi
    cat "$out/build.log"
    echo "ebpf/build.sh failed" >&2
    exit 1
fi
stale=0
for object in tcpmssd-bpfel.o tcpmssd-bpfeb.o; do
    if cmp -s "$out/$object" "daemon/linux/ebpf/$object"; then
        echo "daemon/linux/ebpf/$object: the same bytes as a rebuild ($(stat -c %s "$out/$object") bytes)"
    else
        echo "daemon/linux/ebpf/$object differs from a rebuild from source: run bash ebpf/build.sh and commit" >&2
        stale=1
    fi
done
exit $stale
