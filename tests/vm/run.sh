#!/usr/bin/env bash
# The daemon end to end on a router CPU's own kernel: Debian's arm64, armhf or mipsel kernel
# under qemu-system (TCG, no KVM; tests/vm/debian-vm.sh has each machine), a busybox initramfs
# holding tcpmssd (static, or with musl's libc.so: below) and the SYN tool tests/vm/syn
# (vmsyn) built for that CPU, Debian's iproute2, iptables and nftables of that architecture
# with their libraries, and the kernel modules for veth, x_tables, nf_tables, NFQUEUE and the
# tcpmss match.
# tests/vm/guest.sh is the VM's /init: it runs the cases and prints "ARCH: N passed, M
# failed"; this script exits non-zero unless that says 0 failed.
#
#   bash tests/vm/run.sh ARCH                      build the daemon, then test it
#   TCPMSSD_BIN=path bash tests/vm/run.sh ARCH     test a prebuilt binary for ARCH instead
#                                                  (tests/vm/seccomp-gap.sh does)
#   TCPMSSD_BIN=path TCPMSSD_VM_LIBC=libc.so bash tests/vm/run.sh ARCH
#                                                  a binary linked against musl's libc.so (the
#                                                  firmware rows of .ci/firmware.sh), with that
#                                                  libc.so, laid out as OpenWrt does: /lib/libc.so
#                                                  and the binary's loader name linked to it
#   TCPMSSD_VM_KERNEL_DEB=linux-image-....deb bash tests/vm/run.sh ARCH
#                                                  boot that kernel package instead (by hand:
#                                                  ebpf/README.md has the 5.10 run)
#
# For a caller that expects a failure (tests/vm/seccomp-gap.sh): TCPMSSD_VM_APPEND adds
# kernel arguments, and with TCPMSSD_VM_STOP_AFTER (extended regular expressions, one a
# line) the VM is stopped once console lines have matched each in turn, and run.sh fails
# there, naming the last line (tests/vm/debian-vm.sh, vm_boot).
#
# ARCH is arm64 (aarch64-unknown-linux-musl, stable), armhf (armv7-unknown-linux-musleabihf),
# mipsel (mipsel-unknown-linux-musl), both built on nightly with std from source as
# .ci/routers.sh builds them, or s390x (s390x-unknown-linux-gnu, stable: the big-endian
# kernel, unconfined; tests/vm/debian-vm.sh says why).
# Needs root (apt-get download of the architecture's packages), the qemu-system for ARCH
# (packages qemu-system-arm, qemu-system-mips, qemu-system-misc), cargo-zigbuild and cpio.
# The packages are cached in ${TCPMSSD_VM_CACHE:-target/vm}/ARCH/debs (target/ is
# CARGO_TARGET_DIR when set); the last run's console is ARCH/work/console.log there. A
# missing prerequisite or an unreachable Debian archive is one "!!! SKIPPED:" line and exit
# status 0, as the other optional CI steps. Nothing is left running or changed on the host but the cache and apt's
# foreign architecture; the namespaces live and die inside the VM.
set -euo pipefail
cd "$(dirname "$0")/../.."
arch=${1:?usage: tests/vm/run.sh arm64|armhf|mipsel|s390x}
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
cache=${TCPMSSD_VM_CACHE:-$target_dir/vm}

skip() {
    echo "!!! SKIPPED: $arch VM test: $*; the daemon was NOT tested on $arch !!!"
    exit 0
}
die() {
    echo "run.sh: $arch: $*" >&2
    exit 1
}
# shellcheck source=tests/vm/debian-vm.sh
. tests/vm/debian-vm.sh
vm_arch "$arch"
work=$vm_cache/work
# What a previous run left, before anything can skip: a console.log is then this run's.
rm -rf "${work:?}"

[ "$(id -u)" -eq 0 ] || skip "needs root for apt-get"
for tool in "${vm_qemu[0]}" cargo-zigbuild cpio apt-get dpkg-deb readelf; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not found (.ci/setup installs it)"
done
case $arch in
arm64 | s390x)
    # std from rustup.
    rustup target list --installed 2>/dev/null | grep -qx "$vm_target" ||
        timeout 300 rustup target add "$vm_target" >/dev/null 2>&1 ||
        skip "rustup cannot install $vm_target"
    ;;
*)
    rustup run nightly rustc --version >/dev/null 2>&1 || skip "no nightly toolchain"
    ;;
esac

step() { printf '\n--> %s: %s\n' "$arch" "$*"; }

# 1. The binaries: the daemon (unless given) and vmsyn, static musl through zig.
step "$vm_target binaries"
if [ -n "${TCPMSSD_BIN:-}" ]; then
    daemon=$(realpath "$TCPMSSD_BIN")
else
    vm_build --bin tcpmssd
    daemon=$target_dir/$vm_target/release/tcpmssd
fi
# In the daemon's target dir, with its release profile (tests/vm/syn/Cargo.toml): the std that
# armhf and mipsel build from source is then the daemon's, built once for both.
(cd tests/vm/syn && CARGO_TARGET_DIR=$target_dir vm_build)
vmsyn=$target_dir/$vm_target/release/vmsyn
vm_check_binary "$daemon" ${TCPMSSD_VM_LIBC:+libc.so}
vm_check_binary "$vmsyn"
echo "tcpmssd: $daemon ($(stat -c %s "$daemon") bytes)"

# 2. Debian's packages. The libraries are those that iproute2's ip, iptables'
# xtables-legacy-multi with its extensions and nft need; step 3 checks that every NEEDED
# library is there, so that a new dependency fails loudly, not oddly.
step "Debian $arch packages"
vm_fetch busybox-static \
    iproute2 libbpf1 libelf1 libmnl0 libbsd0 libmd0 libcap2 zlib1g libc6 \
    iptables libip4tc2 libip6tc2 libxtables12 libnetfilter-conntrack3 libnfnetlink0 libnftnl11 \
    nftables libnftables1 libedit2 libgmp10 libjansson4 libtinfo6

# 3. The initramfs.
step "initramfs"
rootfs=$work/rootfs
mkdir -p "$rootfs"/{proc,sys,dev,run,tmp,etc,lib/modules,usr/bin,usr/sbin}
for deb in "${vm_debs[@]}"; do
    dpkg-deb -x "$deb" "$rootfs"
done
# Documentation, glibc's character-set converters and tc's plugins: unused, and the last two
# need libraries the image does not carry.
rm -rf "${rootfs:?}"/usr/share "${rootfs:?}"/etc/init.d \
    "${rootfs:?}/usr/lib/$vm_triplet"/{gconv,tc}
vm_kernel
# nf_tables needs libcrc32c, which finds its crc32c through the crypto API: a soft
# dependency ("softdep=pre: crc32c" in its .modinfo), loaded first by name here.
vm_modules "$rootfs" veth nfnetlink nfnetlink_queue xt_NFQUEUE xt_tcpudp xt_tcpmss \
    iptable_mangle iptable_raw ip6table_mangle ip6table_raw crc32c_generic nf_tables nft_queue \
    sch_ingress cls_bpf

cp "$daemon" "$rootfs/usr/sbin/tcpmssd"
if [ -n "${TCPMSSD_VM_LIBC:-}" ]; then
    # musl's libc.so is its loader too: the binary names it as its interpreter and as NEEDED
    # libc.so, which the loader answers itself.
    loader=$(readelf -l "$daemon" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
    [[ $loader == /lib/ld-musl-* ]] || die "$daemon asks for loader '$loader', not musl's"
    cp "$TCPMSSD_VM_LIBC" "$rootfs/lib/libc.so"
    ln -s libc.so "$rootfs$loader"
fi
cp "$vmsyn" "$rootfs/usr/bin/vmsyn"
# /init's interpreter; the other applets are linked by /init itself (busybox --install).
ln -sf busybox "$rootfs/bin/sh"
cp tests/vm/guest.sh "$rootfs/init"
chmod 755 "$rootfs/init"
# What the guest needs to know of its machine (tests/vm/debian-vm.sh, vm_arch).
printf 'arch=%s\nseccomp=%s\n' "$arch" "$vm_seccomp" >"$rootfs/etc/vm.conf"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"

# Every library that the programs the guest runs (ip, iptables-legacy, nft; tcpmssd and
# vmsyn where they are not static), the iptables extensions and those libraries themselves ask
# for must be in the image.
lib_dirs=("lib/$vm_triplet" "usr/lib/$vm_triplet" lib usr/lib)
absent=()
for program in bin/ip usr/sbin/xtables-legacy-multi usr/sbin/nft usr/sbin/tcpmssd usr/bin/vmsyn; do
    [ -f "$rootfs/$program" ] || die "$program is not in the packages"
done
while IFS= read -r elf; do
    while IFS= read -r needed; do
        found=
        for dir in "${lib_dirs[@]}"; do
            [ -e "$rootfs/$dir/$needed" ] && found=1 && break
        done
        [ -n "$found" ] || absent+=("${elf#"$rootfs"/} needs $needed")
    done < <(vm_needed "$elf")
done < <(find "$rootfs"/{bin/ip,usr/sbin/xtables-legacy-multi,usr/sbin/nft,usr/sbin/tcpmssd} \
    "$rootfs"/{usr/bin/vmsyn,lib/"$vm_triplet",usr/lib/"$vm_triplet"} -type f \
    \( -name ip -o -name xtables-legacy-multi -o -name nft -o -name tcpmssd -o -name vmsyn \
    -o -name '*.so*' \))
((${#absent[@]} == 0)) || die "libraries missing from the image: ${absent[*]}"
vm_initrd "$rootfs" "$work/initrd.gz"
rm -rf "${rootfs:?}"
echo "initrd: $(stat -c %s "$work/initrd.gz") bytes; kernel: $(basename "$vm_vmlinuz")"

# 4. Boot; the guest powers off after its last check.
step "boot"
log=$work/console.log
vm_stop_after=${TCPMSSD_VM_STOP_AFTER:-}
# shellcheck disable=SC2086 # kernel arguments, split at spaces as the kernel splits them
vm_boot 900 "$work/initrd.gz" "$log" ${TCPMSSD_VM_APPEND:-}
[ -z "$vm_stopped" ] || die "stopped at: $vm_stopped"
summary=$(grep -E "^$arch: [0-9]+ passed, [0-9]+ failed$" "$log" | tail -n 1 || true)
[ -n "$summary" ] || die "the VM gave no summary line (status $vm_qemu_status); see $log"
[[ $summary == *" 0 failed" ]] || die "$summary"
[ "$vm_qemu_status" -eq 0 ] || die "qemu exited with status $vm_qemu_status"
