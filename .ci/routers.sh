#!/usr/bin/env bash
# CI for router architectures (issues 17, 23): the static builds for every router target with
# their sizes, the aarch64 tiny build, the unit tests on armv7, mipsel and big-endian mips under
# qemu-user (.ci/qemu-user.sh) and those that need the CPU's own kernel on Debian's armhf and
# mipsel kernels (tests/vm/kernel-32.sh), the VM test's own code checks, then the daemon end
# to end on Debian's arm64, armhf and mipsel kernels, confined, and on its big-endian s390x
# kernel (tests/vm/run.sh), and the proof that each confined run fails on a daemon with a
# seccomp gap (tests/vm/seccomp-gap.sh), and the arm64 run once more on Debian 11's Linux
# 5.10 (issue 25: the eBPF mode's oldest kernel). Whatever cannot run here is one
# "!!! SKIPPED:" line, as in .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=.ci/lib.sh
. .ci/lib.sh
# Where the time goes, one line per step, printed together at the end: lap NAME notes the
# time since the last lap (or the start) under NAME.
laps=()
lap_started=$SECONDS
lap() {
    laps+=("$(printf '%5d s  %s' $((SECONDS - lap_started)) "$1")")
    lap_started=$SECONDS
}
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")

# size TARGET PROFILE: prints the binary's size and how it is linked.
size() {
    local binary=$target_dir/$1/$2/tcpmssd linked=static interpreter
    interpreter=$(elf_interpreter "$binary")
    [ -z "$interpreter" ] || linked="dynamic, $interpreter"
    readelf -h "$binary" | grep -q 'Type:.*DYN' && [ -z "$interpreter" ] && linked=static-pie
    printf '%-32s %-8s %8s bytes  %s\n' "$1" "$2" "$(stat -c %s "$binary")" "$linked"
}
sizes=()

step "router builds (cargo zigbuild)"
if ! have_zig; then
    skipped "cargo-zigbuild or zig missing (.ci/setup installs them); no router build was checked"
else
    # The release builds below are what the router VMs run; .ci/firmware.sh builds the
    # firmware rows (tiny profile, immediate-abort, non-PIE: a std of their own) and borrows
    # the position-independent compiler_builtins of these as its musl loader's libgcc.
    # Tier 2 with std from rustup: stable. gnueabihf is glibc, dynamically linked: for
    # armhf distributions (Debian, Raspberry Pi OS), not for musl firmware.
    for target in x86_64-unknown-linux-musl aarch64-unknown-linux-musl \
        armv7-unknown-linux-gnueabihf; do
        if have_target $target; then
            cargo zigbuild --release --target $target --bin tcpmssd
            sizes+=("$(size $target release)")
        else
            skipped "rustup cannot install $target here; its build was NOT checked"
        fi
    done
    # No std from rustup (armv7 musl: rustup answers 404; mipsel and mips: tier 3): std built
    # from source on nightly; mips is big-endian, as OpenWrt's ath79 routers are. Without
    # rustup's self-contained crt objects for these targets, rustc must not look for them
    # (-Clink-self-contained=no): zig's musl supplies crt1.o.
    # The linker's "unable to open library directory .../rustlib/<target>/lib" is expected:
    # rustc names the sysroot's directory for the target, which only rustup's std would fill.
    if have_nightly; then
        for target in armv7-unknown-linux-musleabihf mipsel-unknown-linux-musl \
            mips-unknown-linux-musl; do
            var=CARGO_TARGET_$(echo $target | tr 'a-z-' 'A-Z_')_RUSTFLAGS
            env "$var=-Clink-self-contained=no" cargo +nightly zigbuild --release \
                --target $target --bin tcpmssd -Zbuild-std=std,panic_abort
            sizes+=("$(size $target release)")
        done
        # The tiny profile (.cargo/config.toml's `tiny` alias, for aarch64 musl).
        CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-Zunstable-options \
-Cpanic=immediate-abort -Zlocation-detail=none -Cforce-unwind-tables=no \
-Clink-self-contained=no" \
            cargo +nightly zigbuild --profile tiny --target aarch64-unknown-linux-musl \
            --bin tcpmssd -Zbuild-std=std,panic_abort
        sizes+=("$(size aarch64-unknown-linux-musl tiny)")
    else
        skipped "rustup cannot install nightly with rust-src here; armv7 musl, mipsel, mips and the aarch64 tiny build were NOT checked"
    fi
fi
step "router binary sizes"
printf '%s\n' "${sizes[@]}"

lap "router builds (cargo zigbuild), sizes"

step "clippy for the router targets (the daemon and its unit tests)"
# 64-bit musl and 32-bit code paths (time_t, c_long are 32 bits on armv7) lint differently.
for target in aarch64-unknown-linux-musl armv7-unknown-linux-gnueabihf; do
    if rustup target list --installed 2>/dev/null | grep -qx $target; then
        cargo clippy --target $target --bin tcpmssd --profile test -- -D warnings
    else
        skipped "no std for $target here; clippy for it was NOT run"
    fi
done

lap "clippy for the router targets"

step "unit tests on armv7, mipsel and big-endian mips: .ci/qemu-user.sh"
bash .ci/qemu-user.sh
lap "unit tests under qemu-user (their builds included)"

step "32-bit unit tests that need the CPU's kernel, on armhf and mipsel: tests/vm/kernel-32.sh"
bash tests/vm/kernel-32.sh
lap "32-bit kernel unit tests in VMs (tests/vm/kernel-32.sh)"

step "VM test code: fmt, clippy, tests, shellcheck"
(cd tests/vm/syn &&
    export CARGO_TARGET_DIR=$target_dir &&
    cargo fmt --check &&
    cargo clippy --all-targets -- -D warnings &&
    cargo test)
vm_scripts=(tests/vm/run.sh tests/vm/debian-vm.sh tests/vm/arm64.sh tests/vm/seccomp-gap.sh
    tests/vm/kernel-32.sh tests/vm/bullseye-kernel.sh)
bash -n "${vm_scripts[@]}" .ci/routers.sh .ci/qemu-user.sh .ci/lib.sh
sh -n tests/vm/guest.sh
if command -v shellcheck >/dev/null 2>&1; then
    shellcheck "${vm_scripts[@]}" tests/vm/guest.sh .ci/routers.sh .ci/qemu-user.sh .ci/lib.sh
    echo "shellcheck: clean"
else
    skipped "shellcheck not installed; the VM scripts were only checked with bash -n"
fi
lap "VM test code checks"

# s390x: the big-endian kernel (no seccomp list there, so no gap to plant).
vm_archs=(arm64 armhf mipsel s390x)
confined_archs=(arm64 armhf mipsel)
for arch in "${vm_archs[@]}"; do
    step "end to end on $arch: tests/vm/run.sh $arch"
    bash tests/vm/run.sh "$arch" 2>&1 | tee "$target_dir/vm-$arch.log"
    lap "$arch end to end (tests/vm/run.sh; vmsyn's build included)"
done

for arch in "${confined_archs[@]}"; do
    step "the $arch test fails on a seccomp gap: tests/vm/seccomp-gap.sh $arch"
    if [ -f "${TCPMSSD_VM_CACHE:-$target_dir/vm}/$arch/work/console.log" ]; then
        bash tests/vm/seccomp-gap.sh "$arch" SYS_sendmsg
        lap "$arch planted gap (tests/vm/seccomp-gap.sh; its build included)"
    else
        skipped "the $arch VM did not run, so neither did its seccomp-gap check"
    fi
done

# The eBPF mode on the oldest kernel it is run on (issue 25): Debian 11's 5.10 under the
# release's arm64 user space. Before 5.11 the kernel charges the program and its maps to
# RLIMIT_MEMLOCK, which the daemon lifts: a second daemon (the restart after kill -9) failed
# here without that. After the gaps, which reuse the arm64 VM's last console.
step "the arm64 VM on Linux 5.10 (Debian 11's kernel): tests/vm/bullseye-kernel.sh, run.sh arm64"
if ! [ -f "${TCPMSSD_VM_CACHE:-$target_dir/vm}/arm64/work/console.log" ]; then
    skipped "the arm64 VM did not run, so neither did its run on Linux 5.10"
elif ! old_kernel=$(bash tests/vm/bullseye-kernel.sh); then
    skipped "Debian 11's arm64 kernel could not be fetched (above); the eBPF mode was NOT run on Linux 5.10"
else
    TCPMSSD_VM_KERNEL_DEB=$old_kernel bash tests/vm/run.sh arm64 2>&1 |
        tee "$target_dir/vm-arm64-5.10.log"
    lap "arm64 on Linux 5.10 (tests/vm/run.sh with Debian 11's kernel)"
fi

step "router builds and VMs: time per step"
printf '%s\n' "${laps[@]}"
echo "$(printf '%5d s' "$SECONDS")  in all (.ci/routers.sh)"
# The real runs' results last, where a reader of the log looks for them.
for arch in "${vm_archs[@]}"; do
    grep -E "^$arch: [0-9]+ passed, [0-9]+ failed\$" "$target_dir/vm-$arch.log" || true
done
grep -E "^arm64: [0-9]+ passed, [0-9]+ failed\$" "$target_dir/vm-arm64-5.10.log" 2>/dev/null |
    sed 's/^/Linux 5.10: /' || true
