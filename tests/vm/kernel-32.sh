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
# Packages are cached in ${TCPMSSD_VM_CACHE:-target/vm}/kernel-32. A missing prerequisite or
# an unreachable Debian archive is one "!!! SKIPPED:" line and exit status 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
cache=${TCPMSSD_VM_CACHE:-$target_dir/vm}/kernel-32

skip() {
    echo "!!! SKIPPED: 32-bit kernel tests: $*; the seccomp filter was NOT tried on armhf and mipsel kernels !!!"
    exit 0
}
die() {
    echo "kernel-32.sh: $*" >&2
    exit 1
}

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

# kernel_of ARCH METAPACKAGE: the kernel package the metapackage points to.
kernel_of() {
    apt-cache depends "$2:$1" 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*\).*/\1/p' | head -n 1
}

# run ARCH TARGET METAPACKAGE QEMU-COMMAND...: builds TARGET's unit tests, fetches the kernel
# and busybox, boots, and checks the VM's two summaries.
run() {
    local arch=$1 target=$2 meta=$3 kernel package version unit var work log status
    shift 3
    printf '\n--> %s (%s)\n' "$arch" "$target"
    var=$(echo "$target" | tr 'a-z-' 'A-Z_')
    unit=$(env "CARGO_TARGET_${var}_RUSTFLAGS=-Clink-self-contained=no" \
        rustup run nightly cargo-zigbuild test --target "$target" -Zbuild-std --bin tcpmssd \
        --no-run 2>&1 | sed -n 's/.*Executable unittests daemon\/main.rs (\(.*\))$/\1/p')
    [ -x "${unit:-/nonexistent}" ] || die "no unit test binary for $target"

    kernel=$(kernel_of "$arch" "$meta")
    if [ -z "$kernel" ]; then
        dpkg --print-foreign-architectures | grep -qx "$arch" || dpkg --add-architecture "$arch"
        timeout 300 apt-get update -qq >/dev/null 2>&1 || skip "apt-get update failed"
        kernel=$(kernel_of "$arch" "$meta")
        [ -n "$kernel" ] || skip "apt-cache cannot resolve $meta:$arch"
    fi
    mkdir -p "$cache/$arch"
    for package in "$kernel" busybox-static; do
        version=$(apt-cache show --no-all-versions "$package:$arch" 2>/dev/null |
            sed -n 's/^Version: //p' | head -n 1)
        [ -n "$version" ] || skip "apt-cache does not know $package:$arch"
        # The name apt-get download gives the file: the epoch's colon escaped as %3a.
        if [ ! -f "$cache/$arch/${package}_${version//:/%3a}_$arch.deb" ]; then
            rm -f "$cache/$arch/${package}"_*.deb
            (cd "$cache/$arch" &&
                timeout 600 apt-get download -q -o APT::Sandbox::User=root "$package:$arch" \
                    >/dev/null 2>&1) || skip "apt-get download of $package:$arch failed"
        fi
    done

    work=$cache/$arch/work
    rm -rf "$work"
    mkdir -p "$work/root"/{proc,sys,tmp,dev}
    dpkg-deb -x "$cache/$arch/busybox-static"_*.deb "$work/root"
    dpkg-deb --fsys-tarfile "$cache/$arch/$kernel"_*.deb |
        tar -x -C "$work" --wildcards './boot/vmlinuz-*'
    ln -sf busybox "$work/root/bin/sh"
    cp "$unit" "$work/root/unit"
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
    (cd "$work/root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$work/initrd.gz"

    log=$work/console.log
    set +e
    timeout 300 "$@" -nographic -no-reboot -nic none -kernel "$work"/boot/vmlinuz-* \
        -initrd "$work/initrd.gz" </dev/null | tr -d '\r' | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    # The two runs: the kernel tests (3 that --ignored selects) and the filter's own.
    [ "$(grep -c '^test result: ok\.' "$log")" -eq 2 ] ||
        die "$arch: the VM's tests did not both pass (qemu status $status); see $log"
    grep -q '^test result: ok\. 3 passed; 0 failed' "$log" ||
        die "$arch: the three kernel tests did not all run and pass; see $log"
}

started=$SECONDS
run armhf armv7-unknown-linux-musleabihf linux-image-armmp \
    qemu-system-arm -M virt -cpu cortex-a15 -m 512 -append "console=ttyAMA0 quiet panic=-1"
# Malta's default VGA needs a ROM file Debian ships elsewhere: none wanted.
run mipsel mipsel-unknown-linux-musl linux-image-4kc-malta \
    qemu-system-mipsel -M malta -m 256 -vga none -append "console=ttyS0 quiet panic=-1"
echo "kernel-32: armhf and mipsel kernel tests passed ($((SECONDS - started)) s)"
