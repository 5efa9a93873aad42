#!/usr/bin/env bash
# CI, FreeBSD: lints for x86_64-unknown-freebsd, then links the daemon for FreeBSD for real with
# cargo zigbuild (zig carries FreeBSD's libc symbol lists, every symbol versioned, so a symbol
# FreeBSD 14's libc lacks fails the link): the stable release and the tiny build for amd64,
# sizes against the goals, and aarch64 (NanoBSD on ARM boards) with -Zbuild-std on nightly.
# A failed amd64 link fails CI; what cannot be tried here is skipped with one loud line.
# Run from .ci/run (after .ci/setup); alone: bash .ci/freebsd.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=.ci/lib.sh
. .ci/lib.sh

# Sizes against the goals and ceilings of the one size table (.ci/firmware.sh): release <=
# 320 KiB (met since daemon/sys/freebsd/unwind.rs: no unwinder, no backtrace symbolizer),
# tiny <= 32 KiB (not met).
target_dir=${CARGO_TARGET_DIR:-target}

# ROW FILE: prints the size, the verdict and file(1)'s word on it; fails past the ceiling or
# when the file is no FreeBSD executable. ROW "-": no row of the table (size printed only).
report() {
    local kind
    kind=$(file -b "$2")
    if [ "$1" = - ]; then
        echo "$2: $(stat -c %s "$2") bytes"
    else
        bash .ci/firmware.sh check "$1" "$2"
    fi
    echo "  file: $kind"
    echo "  needs: $(elf_needed "$2" | tr '\n' ' ')"
    case $kind in
    *"for FreeBSD"*) ;;
    *) echo "$2: not a FreeBSD executable" >&2; exit 1 ;;
    esac
}

if ! have_target x86_64-unknown-freebsd; then
    skipped "rustup cannot install x86_64-unknown-freebsd here; the FreeBSD build was NOT checked"
    exit 0
fi

step "cargo clippy --target x86_64-unknown-freebsd"
cargo clippy --target x86_64-unknown-freebsd --workspace --all-targets -- -D warnings

if ! have_zig; then
    skipped "cargo-zigbuild or zig is missing (.ci/setup installs them); FreeBSD was NOT linked"
    exit 0
fi

step "link: release for x86_64-unknown-freebsd (stable)"
cargo zigbuild --release --bin tcpmssd --target x86_64-unknown-freebsd
report freebsd-amd64-release "$target_dir/x86_64-unknown-freebsd/release/tcpmssd"

# The tiny build's flags, as the `tiny` alias in .cargo/config.toml sets them for Linux.
tiny_flags="['-Zunstable-options', '-Cpanic=immediate-abort', '-Zlocation-detail=none', '-Cforce-unwind-tables=no']"
if have_nightly; then
    step "link: tiny for x86_64-unknown-freebsd (nightly, -Zbuild-std)"
    cargo +nightly zigbuild --profile tiny --bin tcpmssd --target x86_64-unknown-freebsd \
        -Zbuild-std=std,panic_abort \
        --config "target.x86_64-unknown-freebsd.rustflags=$tiny_flags"
    report freebsd-amd64-tiny "$target_dir/x86_64-unknown-freebsd/tiny/tcpmssd"

    # aarch64-unknown-freebsd is a tier-3 target without a prebuilt std: nightly builds it.
    # A failed link is reported, not fatal: it is not a release target yet.
    step "link: release for aarch64-unknown-freebsd (nightly, -Zbuild-std)"
    log=$(mktemp)
    if cargo +nightly zigbuild --release --bin tcpmssd --target aarch64-unknown-freebsd \
        -Zbuild-std=std,panic_abort >"$log" 2>&1; then
        # No row of its own: the amd64 ones watch the growth.
        report - "$target_dir/aarch64-unknown-freebsd/release/tcpmssd"
    else
        tail -20 "$log"
        skipped "aarch64-unknown-freebsd did not link: $(grep -m1 -E '^error' "$log" || tail -1 "$log")"
    fi
    rm -f "$log"
else
    skipped "rustup cannot install nightly with rust-src here; the FreeBSD tiny and aarch64 builds were NOT linked"
fi
