#!/usr/bin/env bash
# Unit tests on the router CPUs this machine is not, each test binary run by Debian's
# qemu-user-static as cargo's runner; std built from source on nightly and linked by zig, as
# .ci/routers.sh builds these targets:
#  - armv7 (musleabihf) and mipsel: the daemon's unit tests, among them the 32-bit seccomp
#    lists (daemon/linux/seccomp.rs) and the time64 numbers (daemon/sys/linux/privilege.rs);
#  - mips, big-endian (OpenWrt's most common MIPS target, ath79, is): the core's byte
#    fixtures, the wire crate's and the daemon's unit tests. Netlink and routing-socket
#    headers are in host byte order, so this is where a parser written on x86 would break.
# qemu-user refuses seccomp filters (EINVAL) and answers ENOSYS to recvmmsg_time64: the tests
# that need the CPU's own kernel are #[ignore]d on these CPUs and named so in the output.
# Whatever cannot run here is one "!!! SKIPPED:" line, as in .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=.ci/lib.sh
. .ci/lib.sh

qemus=(qemu-arm-static qemu-mipsel-static qemu-mips-static)
missing() {
    local q
    for q in "${qemus[@]}"; do
        command -v "$q" >/dev/null 2>&1 || return 0
    done
    return 1
}
if missing && [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    { timeout 600 apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null 2>&1 ||
        { timeout 300 apt-get update -qq && timeout 600 apt-get install -y -qq \
            --no-install-recommends qemu-user-static >/dev/null; }; } || true
fi
if missing; then
    skipped "qemu-user-static is not installed (needs root and Debian's archive); the armv7, mipsel and big-endian mips unit tests were NOT run"
    exit 0
fi
if ! { rustup toolchain list | grep -q '^nightly' ||
    timeout 600 rustup toolchain install nightly --profile minimal >/dev/null 2>&1; } ||
    ! timeout 300 rustup +nightly component add rust-src >/dev/null 2>&1; then
    skipped "rustup cannot install nightly with rust-src here; the armv7, mipsel and big-endian mips unit tests were NOT run"
    exit 0
fi
if ! command -v cargo-zigbuild >/dev/null 2>&1 ||
    ! { command -v zig >/dev/null 2>&1 || python3 -m ziglang version >/dev/null 2>&1; }; then
    skipped "cargo-zigbuild or zig missing (.ci/setup installs them); the armv7, mipsel and big-endian mips unit tests were NOT run"
    exit 0
fi

# unit_tests TARGET QEMU CARGO-TEST-ARGUMENTS...: builds the tests for TARGET (std from source:
# rustup has none for these targets; zig's musl supplies the start files, hence
# -Clink-self-contained=no) and runs each binary under QEMU.
unit_tests() {
    local target=$1 qemu=$2 var
    shift 2
    var=$(echo "$target" | tr 'a-z-' 'A-Z_')
    env "CARGO_TARGET_${var}_RUNNER=$qemu" \
        "CARGO_TARGET_${var}_RUSTFLAGS=-Clink-self-contained=no" rustup run nightly \
        cargo-zigbuild test --target "$target" -Zbuild-std "$@"
}

times=()
timed() { # NAME COMMAND...: runs it and notes how long it took
    local name=$1 started=$SECONDS
    shift
    "$@"
    times+=("$name: $((SECONDS - started)) s")
}

step "armv7 (musleabihf) under qemu-arm: the daemon's unit tests"
timed armv7 unit_tests armv7-unknown-linux-musleabihf qemu-arm-static --bin tcpmssd

step "mipsel under qemu-mipsel: the daemon's unit tests"
timed mipsel unit_tests mipsel-unknown-linux-musl qemu-mipsel-static --bin tcpmssd

step "mips, big-endian, under qemu-mips: the core, the wire formats and the daemon"
# The core's fixtures pin output bytes; its property and differential tests compare two
# computations made on the same CPU, which a byte-order slip would change alike, and take five
# minutes here under qemu (they pass: run them with --tests to see).
timed "mips core" unit_tests mips-unknown-linux-musl qemu-mips-static -p tcpmssd-core --lib \
    --test fixtures --test no_panic --test oracle_selftest
timed "mips wire" unit_tests mips-unknown-linux-musl qemu-mips-static -p tcpmssd-wire --lib
# kernel_answers_getlink_for_loopback asks this machine's (little-endian) kernel through
# qemu's netlink translation, which leaves a last 4-byte attribute unswapped (qemu 7.2
# linux-user/fd-trans.c, host_to_target_for_each_rtattr: `while (len > sizeof(struct
# rtattr))`): the test then reads a host-order header, as it should not have been given.
echo "(skipped under qemu-mips only: linux::links::tests::kernel_answers_getlink_for_loopback," \
    "which reads qemu's cross-endian netlink translation, not a big-endian kernel)"
timed "mips daemon" unit_tests mips-unknown-linux-musl qemu-mips-static --bin tcpmssd -- \
    --skip linux::links::tests::kernel_answers_getlink_for_loopback

step "qemu-user unit tests: time per CPU (build included)"
printf '%s\n' "${times[@]}"
