#!/usr/bin/env bash
# The daemon's unit tests that need the CPU's own kernel, on Debian's armhf (`-M virt`) and
# mipsel (`-M malta`) kernels under qemu-system: qemu-user, which runs the rest of them
# (.ci/qemu-user.sh), refuses seccomp filters and does not know recvmmsg_time64. Each VM
# boots a busybox initramfs whose /init runs the test binary (built by .ci/qemu-user.sh's
# command) with --ignored: the filter installed in a child that is killed by SIGSYS for a call
# off the list and returns from one on it, and the recvmmsg_time64 number; then the seccomp
# and time64 tests once more, on the real kernel.
#
#   bash tests/vm/kernel-32.sh
#
# Needs root (apt-get download of armhf and mipsel packages), qemu-system-arm and
# qemu-system-mips (installed here when missing), nightly with rust-src, cargo-zigbuild, cpio.
# The machines, and the cache of their packages (${TCPMSSD_VM_CACHE:-target/vm}/ARCH/debs),
# are the end-to-end test's (tests/vm/debian-vm.sh). A missing prerequisite or an
# unreachable Debian archive is one "!!! SKIPPED:" line and exit status 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
cache=${TCPMSSD_VM_CACHE:-$target_dir/vm}

skip() {
    echo "!!! SKIPPED: 32-bit kernel tests: $*; the seccomp filter was NOT tried on armhf and mipsel kernels !!!"
    exit 0
}
die() {
    echo "kernel-32.sh: $*" >&2
    exit 1
}
# shellcheck source=tests/vm/debian-vm.sh
. tests/vm/debian-vm.sh

[ "$(id -u)" -eq 0 ] || skip "needs root for apt-get"
if ! command -v qemu-system-mipsel >/dev/null 2>&1 ||
    ! command -v qemu-system-arm >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends \
        qemu-system-arm qemu-system-mips >/dev/null 2>&1 || true
fi
for tool in qemu-system-arm qemu-system-mipsel cargo-zigbuild cpio apt-get dpkg-deb; do
    command -v $tool >/dev/null 2>&1 || skip "$tool not found"
done
rustup run nightly rustc --version >/dev/null 2>&1 || skip "no nightly toolchain"

# run ARCH: builds the CPU's unit tests, fetches the kernel and busybox, boots, and checks the
# VM's two summaries.
run() {
    local unit work log
    vm_arch "$1"
    printf '\n--> %s (%s)\n' "$vm_name" "$vm_target"
    unit=$(env "CARGO_TARGET_$(echo "$vm_target" | tr 'a-z-' 'A-Z_')_RUSTFLAGS=-Clink-self-contained=no" \
        rustup run nightly cargo-zigbuild test --target "$vm_target" -Zbuild-std --bin tcpmssd \
        --no-run 2>&1 | sed -n 's/.*Executable unittests daemon\/main.rs (\(.*\))$/\1/p')
    [ -x "${unit:-/nonexistent}" ] || die "no unit test binary for $vm_target"

    vm_fetch busybox-static
    vm_kernel
    work=$vm_cache/kernel-32
    rm -rf "${work:?}"
    mkdir -p "$work/root"/{proc,sys,tmp,dev}
    dpkg-deb -x "${vm_debs[0]}" "$work/root"
    ln -sf busybox "$work/root/bin/sh"
    cp "$unit" "$work/root/unit"
    # The VM's /init: the kernel tests (3 that --ignored selects), then the filter's own.
    cat >"$work/root/init" <<'EOF'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
mount -t tmpfs tmp /tmp
echo "kernel $(uname -r) on $(uname -m)"
/unit --ignored --test-threads=1 sys::linux::privilege
/unit --test-threads=1 linux::seccomp time64
poweroff -f
EOF
    chmod 755 "$work/root/init"
    vm_initrd "$work/root" "$work/initrd.gz"
    rm -rf "${work:?}/root"

    log=$work/console.log
    vm_boot 300 "$work/initrd.gz" "$log"
    [ "$(grep -c '^test result: ok\.' "$log")" -eq 2 ] ||
        die "$vm_name: the VM's tests did not both pass (qemu status $vm_qemu_status); see $log"
    grep -q '^test result: ok\. 3 passed; 0 failed' "$log" ||
        die "$vm_name: the three kernel tests did not all run and pass; see $log"
}

started=$SECONDS
run armhf
run mipsel
echo "kernel-32: armhf and mipsel kernel tests passed ($((SECONDS - started)) s)"
