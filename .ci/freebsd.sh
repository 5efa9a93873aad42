#!/usr/bin/env bash
# CI, FreeBSD: lints for x86_64-unknown-freebsd, then links the daemon for FreeBSD for real with
# cargo zigbuild (zig carries FreeBSD's libc symbol lists, every symbol versioned, so a symbol
# FreeBSD 14's libc lacks fails the link): the stable release and the tiny build for amd64,
# sizes against the goals, and aarch64 (NanoBSD on ARM boards) with -Zbuild-std on nightly.
# A failed amd64 link fails CI; what cannot be tried here is skipped with one loud line.
# Run from .ci/run (after .ci/setup); alone: bash .ci/freebsd.sh
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
skip() { echo "!!! SKIPPED: $* !!!"; }

have_target() { # target [toolchain]
    rustup ${2:+"+$2"} target list --installed 2>/dev/null | grep -qx "$1" ||
        timeout 300 rustup ${2:+"+$2"} target add "$1" >/dev/null 2>&1
}
have_nightly() {
    { rustup toolchain list | grep -q '^nightly' ||
        timeout 600 rustup toolchain install nightly --profile minimal >/dev/null 2>&1; } &&
        timeout 300 rustup +nightly component add rust-src >/dev/null 2>&1
}

# Goals (README): stripped release <= 320 KiB, tiny <= 32 KiB; neither is met for FreeBSD yet.
# The ceilings are the amd64 sizes measured on 2026-12-03 with all of that day's changes in
# (release 334,192, tiny 49,128 bytes; rustc 1.95.0, nightly 1.97.0 of 2026-05-19, zig
# 0.17.1) plus 4 KiB, so that growth fails CI as it does for the Linux builds in .ci/run.
release_goal=327680 release_ceiling=338288 tiny_goal=32768 tiny_ceiling=53224
target_dir=${CARGO_TARGET_DIR:-target}

# name file goal ceiling: prints the size, the verdict and file(1)'s word on it; fails past
# the ceiling or when the file is no FreeBSD executable.
report() {
    local bytes verdict kind
    bytes=$(stat -c %s "$2")
    kind=$(file -b "$2")
    verdict="goal $3: met"
    [ "$bytes" -le "$3" ] || verdict="goal $3: NOT MET"
    echo "$1: $bytes bytes ($verdict; ceiling $4)"
    echo "  file: $kind"
    echo "  needs: $(readelf -d "$2" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
    case $kind in
    *"for FreeBSD"*) ;;
    *) echo "$1: not a FreeBSD executable" >&2; exit 1 ;;
    esac
    if [ "$bytes" -gt "$4" ]; then
        echo "$1 grew past its ceiling" >&2
        exit 1
    fi
}

if ! have_target x86_64-unknown-freebsd; then
    skip "rustup cannot install x86_64-unknown-freebsd here; the FreeBSD build was NOT checked"
    exit 0
fi

step "cargo clippy --target x86_64-unknown-freebsd"
cargo clippy --target x86_64-unknown-freebsd --workspace --all-targets -- -D warnings

if ! command -v cargo-zigbuild >/dev/null 2>&1 ||
    ! { command -v zig >/dev/null 2>&1 || python3 -c 'import ziglang' 2>/dev/null; }; then
    skip "cargo-zigbuild or zig is missing (.ci/setup installs them); FreeBSD was NOT linked"
    exit 0
fi

step "link: release for x86_64-unknown-freebsd (stable)"
cargo zigbuild --release --bin tcpmssd --target x86_64-unknown-freebsd
report "FreeBSD amd64 release" "$target_dir/x86_64-unknown-freebsd/release/tcpmssd" \
    $release_goal $release_ceiling

# The tiny build's flags, as the `tiny` alias in .cargo/config.toml sets them for Linux.
tiny_flags="['-Zunstable-options', '-Cpanic=immediate-abort', '-Zlocation-detail=none', '-Cforce-unwind-tables=no']"
if have_nightly; then
    step "link: tiny for x86_64-unknown-freebsd (nightly, -Zbuild-std)"
    cargo +nightly zigbuild --profile tiny --bin tcpmssd --target x86_64-unknown-freebsd \
        -Zbuild-std=std,panic_abort \
        --config "target.x86_64-unknown-freebsd.rustflags=$tiny_flags"
    report "FreeBSD amd64 tiny" "$target_dir/x86_64-unknown-freebsd/tiny/tcpmssd" \
        $tiny_goal $tiny_ceiling

    # aarch64-unknown-freebsd is a tier-3 target without a prebuilt std: nightly builds it.
    # A failed link is reported, not fatal: it is not a release target yet.
    step "link: release for aarch64-unknown-freebsd (nightly, -Zbuild-std)"
    log=$(mktemp)
    if cargo +nightly zigbuild --release --bin tcpmssd --target aarch64-unknown-freebsd \
        -Zbuild-std=std,panic_abort >"$log" 2>&1; then
        # No ceiling of its own: the amd64 ones watch the growth.
        report "FreeBSD arm64 release" "$target_dir/aarch64-unknown-freebsd/release/tcpmssd" \
            $release_goal 1000000000
    else
        tail -20 "$log"
        skip "aarch64-unknown-freebsd did not link: $(grep -m1 -E '^error' "$log" || tail -1 "$log")"
    fi
    rm -f "$log"
else
    skip "rustup cannot install nightly with rust-src here; the FreeBSD tiny and aarch64 builds were NOT linked"
fi
