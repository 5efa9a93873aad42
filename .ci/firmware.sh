#!/usr/bin/env bash
# CI, firmware sizes (issue 24): the router firmware builds, each run under qemu-user (armv7's
# and mipsel's also end to end in the router VMs), and the one table of size goals and
# ceilings every size step in CI checks against.
#   bash .ci/firmware.sh                  builds and checks the router firmware rows, prints
#                                         the OpenWrt-settings row .ci/openwrt.sh built
#   bash .ci/firmware.sh check ROW FILE   checks FILE's size against ROW of the table (used by
#                                         .ci/run and .ci/freebsd.sh for their rows)
# A firmware row is the daemon as an OpenWrt image carries it: NFQUEUE only (the goals count
# it; one row per CPU adds the eBPF mode, `--features ebpf`), linked against musl 1.2 as a
# dynamic executable (OpenWrt ships libc.so), with the levers below; a static twin (same
# code, musl linked in) is for images without musl. Run from .ci/run after .ci/openwrt.sh;
# what cannot run here is one "!!! SKIPPED:" line.
set -euo pipefail
cd "$(dirname "$0")/.."

# The size table. ROW GOAL MEASURED: GOAL in bytes ("-": reported, no goal); MEASURED is the
# size last measured, and the row's ceiling is MEASURED + 4 KiB, so that growth fails CI.
# After a change that moves a size on purpose, paste the new size in MEASURED.
# Measured 2026-12-07 on main fc72b78 (decimal digits without a u64 division, DT_RELR in the
# x86_64 tiny build; before it: the branches nofmt and sizes2), with the eBPF objects of
# b36fdbf (rustc 1.95.0, nightly 1.97.0 of 2026-05-19, zig 0.17.1), printed by a whole
# .ci/run in a clean clone.
size_table='
x86_64-release            327680  320040
x86_64-release-ebpf       -       354824
x86_64-tiny               36864   54200
x86_64-tiny-ebpf          -       84656
x86_64-tiny-stripped      -       51968
freebsd-amd64-release     327680  85144
freebsd-amd64-tiny        32768   45216
armv7-dynamic             45056   38124
mipsel-dynamic            53248   60632
mips-dynamic              53248   60600
armv7-dynamic-ebpf        -       65360
mipsel-dynamic-ebpf       -       95352
mips-dynamic-ebpf         -       95032
armv7-static              -       89148
mipsel-static             -       142120
mips-static               -       141992
mipsel-openwrt-settings   -       585372
'

rows=$(realpath -m "${CARGO_TARGET_DIR:-target}")/firmware/rows
# check ROW FILE: prints FILE's size, the goal's verdict and the ceiling; fails past the
# ceiling.
check() {
    local goal measured bytes verdict ceiling line
    read -r goal measured < <(awk -v row="$1" '$1 == row { print $2, $3 }' <<<"$size_table") ||
        true
    [ -n "${measured:-}" ] || { echo "firmware.sh: no row $1 in the size table" >&2; exit 2; }
    bytes=$(stat -c %s "$2")
    ceiling=$((measured + 4096))
    verdict="no goal"
    if [ "$goal" != - ]; then
        verdict="goal $goal: met"
        [ "$bytes" -le "$goal" ] || verdict="goal $goal: NOT MET"
    fi
    line=$(printf '%-26s %8d bytes  (%s; ceiling %d)' "$1" "$bytes" "$verdict" "$ceiling")
    echo "$line"
    # Kept for the table printed whole at the end of CI, with the time it was measured.
    mkdir -p "$rows"
    echo "$line  [$(date -u +%H:%M)]" >"$rows/$1"
    if [ "$bytes" -gt "$ceiling" ]; then
        echo "$1 grew past its ceiling ($ceiling bytes): $2" >&2
        exit 1
    fi
}
if [ "${1:-}" = check ]; then
    check "$2" "$3"
    exit 0
fi

# shellcheck source=.ci/lib.sh
. .ci/lib.sh
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
out=$target_dir/firmware
mkdir -p "$out"
started=$SECONDS

# The levers, chosen per target here and nowhere else. Each saving was measured on 2026-12-07
# by leaving that one lever out of the dynamic build: bytes after --strip-sections, armv7 /
# mipsel / mips.
# Code generation, std built with them (so each CPU builds std from source once):
#  - the tiny profile (Cargo.toml: opt-level z, LTO, one codegen unit, stripped), as `cargo
#    +nightly tiny`; opt-level z rather than the release's s: 3,680 / 4,336 / 5,200;
#  - std's `optimize_for_size` feature: 848 / 1,776 / 1,776;
#  - -Cpanic=immediate-abort, std without panic messages, hooks or unwinding: 27,968 /
#    68,220 / 68,140; -Zlocation-detail=none with it;
#  - -Cforce-unwind-tables=no (nothing unwinds): 1,280 / 6,416 / 6,432;
#  - -Crelocation-model=static, non-PIE: 1,228 / 7,868 / 7,612. MIPS position-independent
#    code calls through the GOT and $t9; a router image's daemon gives up ASLR for it (the
#    x86_64 tiny build, where PIE costs far less, keeps it: .cargo/config.toml);
#  - armv7: Thumb-2 code (+thumb-mode, an unstable feature name rustc warns about): 16-bit
#    instructions where they fit, which every ARMv7-A core runs: 15,824;
#  - -Clink-self-contained=no: zig's musl supplies the start files (.ci/routers.sh).
codegen="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none \
-Cforce-unwind-tables=no -Crelocation-model=static -Clink-self-contained=no"
# Link only, passed to the final link alone (`cargo rustc -- ...`), so the static and the
# dynamic build share one std:
#  - dynamic: -Ctarget-feature=-crt-static and -dynamic (without the latter zig quietly makes
#    a static-pie): the static twin is 50,568 / 80,640 / 80,544 bytes larger;
#  - -z norelro, as the x86_64 tiny alias (.cargo/config.toml): 64 / 64 / 64. The alias's
#    --build-id=none and --no-eh-frame-hdr save nothing here (zig adds neither section
#    without unwind tables), so they are left out;
#  - armv7: --hash-style=gnu (musl's loader reads DT_GNU_HASH; no SysV .hash): 584. Not on
#    MIPS, whose ABI orders .dynsym by the GOT: lld refuses .gnu.hash there;
#  - MIPS: .pdr (procedure descriptors: debug data no loader reads, in every object musl
#    and std are built from) discarded by a linker script INSERTed into the default one:
#    30,828 / 30,828 bytes of what cargo leaves in target/ (--strip-sections below drops
#    them too, so the rows do not count them).
link="-Clink-arg=-Wl,-z,norelro"
dynamic="-Ctarget-feature=-crt-static -Clink-arg=-dynamic"
printf '%s\n' 'SECTIONS { /DISCARD/ : { *(.pdr) } } INSERT AFTER .text;' >"$out/no-pdr.ld"
no_pdr="-Clink-arg=-Wl,-T,$out/no-pdr.ld"

# rust-objcopy (llvm-objcopy, in every Rust toolchain's rustlib; it finds its libLLVM only
# through LD_LIBRARY_PATH) for --strip-sections: the section headers and the sections no
# loader reads go, as OpenWrt's sstrip does: 1,072 / 1,112 / 1,112 bytes (x86_64 tiny:
# 2,160).
sysroot=$(rustc --print sysroot)
rust_objcopy=$(find "$sysroot/lib/rustlib" -name rust-objcopy -print -quit)
objcopy() { LD_LIBRARY_PATH=$sysroot/lib "$rust_objcopy" "$@"; }


# firmware TARGET ROW-PREFIX EXTRA-CODEGEN EXTRA-LINK: builds the static, dynamic and
# dynamic-with-eBPF rows for TARGET into $out/ROW-PREFIX-{static,dynamic,dynamic-ebpf}.
firmware() {
    local target=$1 row=$2 var kind features args
    var=CARGO_TARGET_$(echo "$target" | tr 'a-z-' 'A-Z_')_RUSTFLAGS
    for kind in static dynamic dynamic-ebpf; do
        features=--no-default-features args="$link $4"
        [ "$kind" = static ] || args="$args $dynamic"
        [ "$kind" != dynamic-ebpf ] || features="--no-default-features --features ebpf"
        # shellcheck disable=SC2086 # the flag lists are word lists
        env "$var=$codegen $3" nice -n 10 rustup run nightly cargo-zigbuild rustc --quiet \
            --profile tiny --bin tcpmssd $features --target "$target" \
            -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size -- $args
        objcopy --strip-sections "$target_dir/$target/tiny/tcpmssd" "$out/$row-$kind"
    done
}

# run ROW QEMU ROOT: the binary answers -h (exit 0, usage), -V (its version) and a bad
# argument (exit 64) under qemu-user, its loader found in ROOT.
run() {
    local binary=$out/$1 status=0
    "$2" -L "$3" "$binary" -h | grep -q '^usage: tcpmssd' ||
        { echo "$1: -h under $2 gave no usage" >&2; exit 1; }
    "$2" -L "$3" "$binary" -V | grep -qx "tcpmssd $version" ||
        { echo "$1: -V under $2 is not tcpmssd $version" >&2; exit 1; }
    "$2" -L "$3" "$binary" -p 1 -m 1 2>/dev/null || status=$?
    [ "$status" -eq 64 ] || { echo "$1: a bad MTU gave exit $status, not 64" >&2; exit 1; }
    echo "$1: runs under $2 ($(elf_interpreter "$binary" || true))"
}

step "router firmware builds (nightly, std from source once per CPU, zig)"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
if ! have_zig; then
    skipped "cargo-zigbuild or zig missing (.ci/setup installs them); the firmware rows were NOT built"
elif ! have_nightly; then
    skipped "rustup cannot install nightly with rust-src here; the firmware rows were NOT built"
elif [ -z "$rust_objcopy" ]; then
    skipped "no rust-objcopy in the toolchain; the firmware rows were NOT built"
else
    # target, row, zig's triple (for the loader), qemu, extra code generation, extra link.
    cpus=(
        "armv7-unknown-linux-musleabihf armv7 arm-linux-musleabihf qemu-arm-static -Ctarget-feature=+thumb-mode -Clink-arg=-Wl,--hash-style=gnu"
        "mipsel-unknown-linux-musl mipsel mipsel-linux-musleabi qemu-mipsel-static - $no_pdr"
        "mips-unknown-linux-musl mips mips-linux-musleabi qemu-mips-static - $no_pdr"
    )
    # The musl loaders first, in the background: they need no firmware build (their libgcc
    # is the compiler_builtins of .ci/routers.sh's release build: PIC, as a shared libc.so
    # must be, where the firmware builds' is not), and they fill the cores while std's
    # long single-threaded crates compile.
    loaders=$out/loaders.log
    for cpu in "${cpus[@]}"; do
        read -r target row triple _ <<<"$cpu"
        builtins=$(find "$target_dir/$target/release/deps" -name 'libcompiler_builtins-*.rlib' \
            -print -quit 2>/dev/null || true)
        if [ -n "$builtins" ]; then
            echo "$triple $builtins"
        else
            skipped "no release build for $target (.ci/routers.sh makes it); the $row dynamic builds will NOT run" >&2
        fi
    done | while read -r triple builtins; do
        bash .ci/musl-loader.sh "$triple" "$out/root-$triple" "$builtins" ||
            echo "musl loader for $triple failed" >&2
    done >"$loaders" 2>&1 &
    loaders_pid=$!
    for cpu in "${cpus[@]}"; do
        read -r target row triple _ extra link_extra <<<"$cpu"
        [ "$extra" != - ] || extra=
        begun=$SECONDS
        firmware "$target" "$row" "$extra" "${link_extra:-}"
        echo "$row: built in $((SECONDS - begun)) s"
    done
    begun=$SECONDS
    wait "$loaders_pid"
    cat "$loaders"
    echo "musl loaders: waited $((SECONDS - begun)) s for them"
    for cpu in "${cpus[@]}"; do
        read -r target row triple qemu _ <<<"$cpu"
        if ! command -v "$qemu" >/dev/null 2>&1; then
            skipped "$qemu missing (.ci/qemu-user.sh installs it); the $row builds were NOT run"
            continue
        fi
        run "$row-static" "$qemu" "$out/root-$triple"
        if [ -d "$out/root-$triple/lib" ]; then
            run "$row-dynamic" "$qemu" "$out/root-$triple"
            run "$row-dynamic-ebpf" "$qemu" "$out/root-$triple"
        else
            skipped "no musl loader for $triple (above); the $row dynamic builds were NOT run"
        fi
    done

    # The firmware code generation end to end, on the router CPUs' own kernels: each dynamic
    # row with the eBPF mode (the same code as the NFQUEUE-only row, and the eBPF mode
    # besides), with musl 1.2.3's libc.so as OpenWrt lays it out, through every case of
    # tests/vm/guest.sh, confined. Big-endian mips has no VM (Debian has no such port):
    # qemu-user above runs its rows, .ci/qemu-user.sh its unit tests, s390x's VM the
    # big-endian end to end.
    for cpu in "${cpus[@]}"; do
        read -r _ row triple _ <<<"$cpu"
        case $row in
        armv7) arch=armhf ;;
        mipsel) arch=mipsel ;;
        *) continue ;;
        esac
        step "$row-dynamic-ebpf end to end in the $arch VM (tests/vm/run.sh)"
        libc=$(find "$out/root-$triple/lib" -name 'ld-musl-*.so.1' -print -quit 2>/dev/null || true)
        if [ -z "$libc" ]; then
            skipped "no musl loader for $triple (above); $row-dynamic-ebpf was NOT tested in the $arch VM"
            continue
        fi
        begun=$SECONDS
        TCPMSSD_BIN=$out/$row-dynamic-ebpf TCPMSSD_VM_LIBC=$libc bash tests/vm/run.sh "$arch"
        echo "$row-dynamic-ebpf in the $arch VM: $((SECONDS - begun)) s"
    done
fi

step "firmware sizes (stripped, --strip-sections; goals: issue 24)"
for row in armv7-dynamic mipsel-dynamic mips-dynamic armv7-dynamic-ebpf mipsel-dynamic-ebpf \
    mips-dynamic-ebpf armv7-static mipsel-static mips-static; do
    if [ -f "$out/$row" ]; then check "$row" "$out/$row"; fi
done
# OpenWrt's own settings (stable-like: panic=unwind, opt-level z, dynamic musl), as
# .ci/openwrt.sh builds them for mipsel: reported, so the gap the levers close shows.
openwrt=$target_dir/openwrt-zig/mipsel-unknown-linux-musl/release/tcpmssd
if [ -f "$openwrt" ]; then
    check mipsel-openwrt-settings "$openwrt"
else
    skipped "no $openwrt (.ci/openwrt.sh builds it); the OpenWrt-settings row was NOT printed"
fi
# x86_64's firmware build (`cargo +nightly tiny`, NFQUEUE only: the copy .ci/run kept) after
# --strip-sections.
tiny=$out/x86_64-tiny
if [ -f "$tiny" ] && [ -n "$rust_objcopy" ]; then
    objcopy --strip-sections "$tiny" "$out/x86_64-tiny-stripped"
    check x86_64-tiny-stripped "$out/x86_64-tiny-stripped"
fi
echo "firmware rows: $((SECONDS - started)) s"

step "every size row of issue 24, as measured in this CI run (UTC time of each)"
while read -r row _; do
    [ -z "$row" ] || cat "$rows/$row" 2>/dev/null ||
        echo "$row: not measured in this run (by .ci/run, .ci/freebsd.sh or above; or SKIPPED)"
done <<<"$size_table"
