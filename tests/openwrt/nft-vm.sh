#!/usr/bin/env bash
# The OpenWrt package's NFQUEUE rules, whole, on a kernel with nftables' queue expression:
# `nft -c` on this CI machine cannot check `queue num N bypass` (its kernel has no nft_queue),
# so tests/openwrt/run.sh checks them there with `accept` in its place, and this script checks
# them as written, inside Debian's arm64 kernel (6.1, as tests/vm/run.sh arm64 boots it) under
# qemu-system-aarch64. The VM's /init (tests/openwrt/nft-guest.sh) puts each case's rules
# inside a throw-away `table inet fw4` as fw4 includes them and runs `nft -c` on it, loads one
# for real and lists it back, and makes sure that a rule the kernel refuses fails the check.
# It prints "openwrt-nft: N passed, M failed"; this script exits non-zero unless 0 failed.
#
#   bash tests/openwrt/nft-vm.sh
#
# Needs root (apt-get download of arm64 packages), qemu-system-aarch64 (package
# qemu-system-arm), cpio, dpkg-deb; the rules come from tests/openwrt/run.sh, run first. The
# machine, the packages and the unpacked kernel are the arm64 end-to-end test's
# (tests/vm/debian-vm.sh), cached in ${TCPMSSD_VM_CACHE:-target/vm}/arm64/, where
# tests/vm/run.sh arm64 has put every file this script needs when CI gets here. A missing
# prerequisite or an unreachable Debian archive is one "!!! SKIPPED:" line and exit status 0,
# as the other optional CI steps.
set -euo pipefail
cd "$(dirname "$0")/../.."
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
cache=${TCPMSSD_VM_CACHE:-$target_dir/vm}
work=$cache/openwrt-nft/work
rules=$target_dir/openwrt/rules

skip() {
	echo "!!! SKIPPED: OpenWrt rules in a VM: $*; the NFQUEUE rules were NOT checked whole by nft !!!"
	exit 0
}
die() {
	echo "nft-vm.sh: $*" >&2
	exit 1
}
# shellcheck source=tests/vm/debian-vm.sh
. tests/vm/debian-vm.sh
vm_arch arm64

[ "$(id -u)" -eq 0 ] || skip "needs root for apt-get"
for tool in "${vm_qemu[0]}" cpio apt-get apt-cache dpkg-deb readelf; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool not found (.ci/setup installs it)"
done

bash tests/openwrt/run.sh >/dev/null || echo "nft-vm.sh: tests/openwrt/run.sh failed; checking the rules it wrote" >&2
files=("$rules"/*.nft)
[ -e "${files[0]}" ] || die "tests/openwrt/run.sh wrote no rules in $rules"

# 1. Debian's arm64 packages: the kernel, busybox, nft and the libraries it needs (the loop in
# step 2 checks that none is missing).
vm_fetch busybox-static nftables libnftables1 libmnl0 libnftnl11 libjansson4 libgmp10 \
	libedit2 libtinfo6 libbsd0 libmd0 libxtables12 libc6

# 2. The initramfs: busybox, nft with its libraries, the modules nft -c needs for these rules
# (nf_tables and the queue expression), the rules and the guest script.
rm -rf "$work"
rootfs=$work/rootfs
mkdir -p "$rootfs"/{proc,sys,dev,tmp,lib/modules,rules}
for deb in "${vm_debs[@]}"; do
	dpkg-deb -x "$deb" "$rootfs"
done
rm -rf "${rootfs:?}"/usr/share "${rootfs:?}/usr/lib/$vm_triplet/gconv"
vm_kernel
# nf_tables needs libcrc32c, which finds its crc32c through the crypto API (a soft
# dependency): loaded first by name.
vm_modules "$rootfs" crc32c_generic nf_tables nft_queue
cp "${files[@]}" "$rootfs/rules/"
ln -sf busybox "$rootfs/bin/sh"
cp tests/openwrt/nft-guest.sh "$rootfs/init"
chmod 755 "$rootfs/init"
absent=()
while IFS= read -r elf; do
	while IFS= read -r needed; do
		found=
		for dir in "lib/$vm_triplet" "usr/lib/$vm_triplet" lib usr/lib; do
			[ -e "$rootfs/$dir/$needed" ] && found=1 && break
		done
		[ -n "$found" ] || absent+=("${elf#"$rootfs"/} needs $needed")
	done < <(readelf -d "$elf" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done < <(find "$rootfs"/usr/sbin/nft "$rootfs"/{,usr/}lib/"$vm_triplet" -type f \
	\( -name nft -o -name '*.so*' \))
((${#absent[@]} == 0)) || die "libraries missing from the image: ${absent[*]}"
vm_initrd "$rootfs" "$work/initrd.gz"
rm -rf "$rootfs"
echo "rules: ${#files[@]} cases; initrd $(stat -c %s "$work/initrd.gz") bytes"

# 3. Boot. TCG, no network device; the guest powers off after its last check.
log=$work/console.log
vm_boot 600 "$work/initrd.gz" "$log"
summary=$(grep -E '^openwrt-nft: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
[ -n "$summary" ] || die "the VM gave no summary line (status $vm_qemu_status); see $log"
[[ $summary == *" 0 failed" ]] || die "$summary"
[ "$vm_qemu_status" -eq 0 ] || die "qemu exited with status $vm_qemu_status"
