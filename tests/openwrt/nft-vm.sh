#!/usr/bin/env bash
# The OpenWrt package's NFQUEUE rules, whole, on a kernel with nftables' queue expression:
# `nft -c` on this CI machine cannot check `queue num N bypass` (its kernel has no nft_queue),
# so tests/openwrt/run.sh checks them there with `accept` in its place, and this script checks
# them as written, inside Debian's arm64 kernel (6.1, as arm64.sh boots it) under
# qemu-system-aarch64. The VM's /init (tests/openwrt/nft-guest.sh) puts each case's rules
# inside a throw-away `table inet fw4` as fw4 includes them and runs `nft -c` on it, loads one
# for real and lists it back, and makes sure that a rule the kernel refuses fails the check.
# It prints "openwrt-nft: N passed, M failed"; this script exits non-zero unless 0 failed.
#
#   bash tests/openwrt/nft-vm.sh
#
# Needs root (apt-get download of arm64 packages), qemu-system-aarch64 (package
# qemu-system-arm), cpio, dpkg-deb; the rules come from tests/openwrt/run.sh, run first. The
# packages are cached in ${TCPMSSD_VM_CACHE:-target/vm}/debs, the directory tests/vm/arm64.sh
# fills with the same files (this script only adds to it), the unpacked kernel in
# .../openwrt-nft/. A missing prerequisite or an unreachable Debian archive is one
# "!!! SKIPPED:" line and exit status 0, as the other optional CI steps.
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

[ "$(id -u)" -eq 0 ] || skip "needs root for apt-get"
for tool in qemu-system-aarch64 cpio apt-get apt-cache dpkg-deb readelf; do
	command -v $tool >/dev/null 2>&1 || skip "$tool not found (.ci/setup installs it)"
done

bash tests/openwrt/run.sh >/dev/null || echo "nft-vm.sh: tests/openwrt/run.sh failed; checking the rules it wrote" >&2
files=("$rules"/*.nft)
[ -e "${files[0]}" ] || die "tests/openwrt/run.sh wrote no rules in $rules"

# 1. Debian's arm64 packages: the kernel linux-image-arm64 points to, busybox, nft and the
# libraries it needs (the loop in step 2 checks that none is missing).
kernel_of() {
	apt-cache depends linux-image-arm64:arm64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*\).*/\1/p' | head -n 1
}
kernel=$(kernel_of || true)
if [ -z "$kernel" ]; then
	dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
	timeout 300 apt-get update -qq >/dev/null 2>&1 ||
		skip "apt-get update failed (Debian archive unreachable?)"
	kernel=$(kernel_of || true)
	[ -n "$kernel" ] || skip "apt-cache cannot resolve linux-image-arm64:arm64"
fi
packages=(busybox-static nftables libnftables1 libmnl0 libnftnl11 libjansson4 libgmp10
	libedit2 libtinfo6 libbsd0 libmd0 libxtables12 libc6)
declare -A version_of
while read -r package version; do
	version_of[$package]=$version
done < <(apt-cache show --no-all-versions "$kernel-unsigned:arm64" "$kernel:arm64" \
	"${packages[@]/%/:arm64}" 2>/dev/null | awk '/^Package: /{p=$2} /^Version: /{print p, $2}')
# The -unsigned twin has the same image and modules without the EFI signature; arm64.sh
# takes it where it exists, so the cache holds that one.
[ -n "${version_of[$kernel-unsigned]:-}" ] && kernel=$kernel-unsigned
packages=("$kernel" "${packages[@]}")
mkdir -p "$cache/debs"
debs=() missing=()
for package in "${packages[@]}"; do
	version=${version_of[$package]:-}
	[ -n "$version" ] || skip "apt-cache does not know $package:arm64"
	# The name apt-get download gives the file: the epoch's colon escaped as %3a.
	deb=$cache/debs/${package}_${version//:/%3a}_arm64.deb
	debs+=("$deb")
	[ -f "$deb" ] || missing+=("$package:arm64")
done
if ((${#missing[@]})); then
	(cd "$cache/debs" &&
		timeout 600 apt-get download -q -o APT::Sandbox::User=root "${missing[@]}" >/dev/null) ||
		skip "apt-get download failed (Debian archive unreachable?)"
fi
echo "${#debs[@]} packages (kernel $kernel), ${#missing[@]} downloaded now"

# 2. The initramfs: busybox, nft with its libraries, the modules nft -c needs for these rules
# (nf_tables and the queue expression), the rules and the guest script.
rm -rf "$work"
rootfs=$work/rootfs
mkdir -p "$rootfs"/{proc,sys,dev,tmp,lib/modules,rules}
for deb in "${debs[@]:1}"; do
	dpkg-deb -x "$deb" "$rootfs"
done
rm -rf "${rootfs:?}"/usr/share "${rootfs:?}"/usr/lib/aarch64-linux-gnu/gconv
kernel_tree=$cache/openwrt-nft/kernel/$(basename "${debs[0]}" .deb)
if [ ! -f "$kernel_tree/.unpacked" ]; then
	rm -rf "$cache/openwrt-nft/kernel"
	mkdir -p "$kernel_tree"
	dpkg-deb --fsys-tarfile "${debs[0]}" | tar -x -C "$kernel_tree" --wildcards \
		'./boot/vmlinuz-*' './lib/modules/*/kernel/net/netfilter/*' \
		'./lib/modules/*/kernel/lib/libcrc32c.ko' './lib/modules/*/kernel/crypto/crc32c_generic.ko'
	touch "$kernel_tree/.unpacked"
fi
vmlinuz=$(ls "$kernel_tree"/boot/vmlinuz-*)
# Each module after those it depends on, from the `depends=` of its .modinfo.
declare -A module_path
while IFS= read -r path; do
	name=$(basename "$path" .ko)
	module_path[${name//-/_}]=$path
done < <(find "$kernel_tree/lib/modules" -name '*.ko')
order=()
add_module() {
	local name=${1//-/_} dep
	[[ " ${order[*]} " == *" $name "* ]] && return
	[ -n "${module_path[$name]:-}" ] || die "kernel module $name not in ${debs[0]}"
	for dep in $(LC_ALL=C tr '\0' '\n' <"${module_path[$name]}" | sed -n 's/^depends=//p' |
		head -n 1 | tr ',' ' '); do
		add_module "$dep"
	done
	order+=("$name")
}
# nf_tables needs libcrc32c, which finds its crc32c through the crypto API (a soft
# dependency): loaded first by name.
for module in crc32c_generic nf_tables nft_queue; do
	add_module $module
done
for name in "${order[@]}"; do
	cp "${module_path[$name]}" "$rootfs/lib/modules/$name.ko"
done
printf '%s\n' "${order[@]}" >"$rootfs/modules.order"
cp "${files[@]}" "$rootfs/rules/"
ln -sf busybox "$rootfs/bin/sh"
cp tests/openwrt/nft-guest.sh "$rootfs/init"
chmod 755 "$rootfs/init"
absent=()
while IFS= read -r elf; do
	while IFS= read -r needed; do
		found=
		for dir in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu lib usr/lib; do
			[ -e "$rootfs/$dir/$needed" ] && found=1 && break
		done
		[ -n "$found" ] || absent+=("${elf#"$rootfs"/} needs $needed")
	done < <(readelf -d "$elf" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done < <(find "$rootfs"/usr/sbin/nft "$rootfs"/{,usr/}lib/aarch64-linux-gnu -type f \
	\( -name nft -o -name '*.so*' \))
((${#absent[@]} == 0)) || die "libraries missing from the image: ${absent[*]}"
(cd "$rootfs" && find . | cpio -o -H newc --quiet) | gzip -1 >"$work/initrd.gz"
rm -rf "$rootfs"
echo "modules: ${order[*]}; rules: ${#files[@]} cases; initrd $(stat -c %s "$work/initrd.gz") bytes"

# 3. Boot. TCG, no network device; the guest powers off after its last check.
log=$work/console.log
started=$SECONDS
set +e
timeout 600 qemu-system-aarch64 -M virt -cpu cortex-a57 -m 512 -nographic -no-reboot \
	-nic none -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
	-append "console=ttyAMA0 quiet panic=-1" </dev/null | tr -d '\r' | tee "$log"
status=${PIPESTATUS[0]}
set -e
echo "(qemu exited with status $status after $((SECONDS - started)) s)"
summary=$(grep -E '^openwrt-nft: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
[ -n "$summary" ] || die "the VM gave no summary line (status $status); see $log"
[[ $summary == *" 0 failed" ]] || die "$summary"
[ "$status" -eq 0 ] || die "qemu exited with status $status"
