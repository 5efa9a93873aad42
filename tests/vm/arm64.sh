#!/usr/bin/env bash
# The daemon end to end on a real arm64 kernel: Debian's arm64 kernel under
# qemu-system-aarch64 (TCG, no KVM), a busybox initramfs holding the static aarch64 tcpmssd,
# the SYN tool tests/vm/syn (vmsyn), Debian's arm64 iproute2, iptables and nftables with
# their libraries, and the kernel modules for veth, x_tables, nf_tables, NFQUEUE and the
# tcpmss match.
# tests/vm/guest.sh is the VM's /init: it runs the checks and prints
# "arm64: N passed, M failed"; this script exits non-zero unless that says 0 failed.
#
#   bash tests/vm/arm64.sh                         build the daemon, then test it
#   TCPMSSD_BIN=path bash tests/vm/arm64.sh        test a prebuilt aarch64 binary instead
#                                                  (tests/vm/seccomp-gap.sh does)
#
# Needs root (apt-get download of arm64 packages), qemu-system-aarch64 (package
# qemu-system-arm), cargo-zigbuild and cpio. The packages are cached in
# ${TCPMSSD_VM_CACHE:-target/vm}/debs (target/ is CARGO_TARGET_DIR when set); a missing
# prerequisite or an unreachable Debian archive is one "!!! SKIPPED:" line and exit status 0,
# as the other optional CI steps. Nothing is left running or changed on the host but the
# cache and apt's arm64 architecture; the namespaces live and die inside the VM.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=aarch64-unknown-linux-musl
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
cache=${TCPMSSD_VM_CACHE:-$target_dir/vm}
work=$cache/work
# What a previous run left, before anything can skip: a console.log is then this run's.
rm -rf "$work"

skip() {
    echo "!!! SKIPPED: arm64 VM test: $*; the daemon was NOT tested on arm64 !!!"
    exit 0
}
die() {
    echo "arm64.sh: $*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || skip "needs root for apt-get"
for tool in qemu-system-aarch64 cargo-zigbuild cpio apt-get dpkg-deb readelf; do
    command -v $tool >/dev/null 2>&1 || skip "$tool not found (.ci/setup installs it)"
done

step() { printf '\n--> %s\n' "$*"; }

# 1. The aarch64 binaries: the daemon (unless given) and vmsyn, static musl through zig.
step "aarch64 binaries"
if [ -n "${TCPMSSD_BIN:-}" ]; then
    daemon=$(realpath "$TCPMSSD_BIN")
else
    cargo zigbuild --release --target $target --bin tcpmssd
    daemon=$target_dir/$target/release/tcpmssd
fi
(cd tests/vm/syn &&
    CARGO_TARGET_DIR=$target_dir/vm-syn cargo zigbuild --release --target $target)
vmsyn=$target_dir/vm-syn/$target/release/vmsyn
for binary in "$daemon" "$vmsyn"; do
    readelf -h "$binary" | grep -q 'Machine:.*AArch64' || die "$binary is not an aarch64 ELF"
    if readelf -d "$binary" 2>/dev/null | grep -q NEEDED; then
        die "$binary is not static"
    fi
done
echo "tcpmssd: $daemon ($(stat -c %s "$daemon") bytes)"

# 2. Debian's arm64 packages. The kernel is the one linux-image-arm64 points to (its
# -unsigned twin has the same image and modules without the EFI signature). The libraries
# are those that iproute2's ip, iptables' xtables-legacy-multi with its extensions and nft
# need; step 3 checks that every NEEDED library is there, so that a new dependency fails
# loudly, not oddly.
step "Debian arm64 packages"
# apt-cache reads its whole cache on every call (seconds each here): two calls in all.
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
packages=(
    busybox-static
    iproute2 libbpf1 libelf1 libmnl0 libbsd0 libmd0 libcap2 zlib1g libc6
    iptables libip4tc2 libip6tc2 libxtables12 libnetfilter-conntrack3 libnfnetlink0 libnftnl11
    nftables libnftables1 libedit2 libgmp10 libjansson4 libtinfo6
)
# "package version" for each; the -unsigned kernel is missing from some releases.
declare -A version_of
while read -r package version; do
    version_of[$package]=$version
done < <(apt-cache show --no-all-versions "$kernel-unsigned:arm64" "$kernel:arm64" \
    "${packages[@]/%/:arm64}" 2>/dev/null | awk '/^Package: /{p=$2} /^Version: /{print p, $2}')
if [ -n "${version_of[$kernel-unsigned]:-}" ]; then
    kernel=$kernel-unsigned
fi
packages=("$kernel" "${packages[@]}")
mkdir -p "$cache/debs"
debs=()
missing=()
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
        timeout 600 apt-get download -q -o APT::Sandbox::User=root "${missing[@]}") ||
        skip "apt-get download failed (Debian archive unreachable?)"
fi
for deb in "${debs[@]}"; do
    [ -f "$deb" ] || die "apt-get download left no $deb"
done
# Versions the archive has replaced go, with their unpacked kernels.
for old in "$cache"/debs/*.deb "$cache"/kernel/*; do
    [[ " ${debs[*]} " == *" $cache/debs/$(basename "$old" .deb).deb "* ]] || rm -rf "$old"
done
echo "${#debs[@]} packages (kernel $kernel), ${#missing[@]} downloaded now," \
    "the rest cached in $cache/debs"

# 3. The initramfs.
step "initramfs"
rootfs=$work/rootfs
mkdir -p "$rootfs"/{proc,sys,dev,run,tmp,etc,lib/modules,usr/bin,usr/sbin}
kernel_deb=${debs[0]}
for deb in "${debs[@]:1}"; do
    dpkg-deb -x "$deb" "$rootfs"
done
# Documentation, glibc's character-set converters and tc's plugins: unused, and the last two
# need libraries the image does not carry.
rm -rf "${rootfs:?}"/usr/share "${rootfs:?}"/etc/init.d \
    "${rootfs:?}"/usr/lib/aarch64-linux-gnu/{gconv,tc}
# Only the image and the modules the guest may load (the whole package unpacks to 400 MB),
# once per kernel package and list.
members=('./boot/vmlinuz-*' './lib/modules/*/kernel/net/*'
    './lib/modules/*/kernel/drivers/net/veth.ko' './lib/modules/*/kernel/lib/libcrc32c.ko'
    './lib/modules/*/kernel/crypto/crc32c_generic.ko')
kernel_tree=$cache/kernel/$(basename "$kernel_deb" .deb)
if [ "$(cat "$kernel_tree/.unpacked" 2>/dev/null)" != "${members[*]}" ]; then
    rm -rf "$kernel_tree"
    mkdir -p "$kernel_tree"
    dpkg-deb --fsys-tarfile "$kernel_deb" | tar -x -C "$kernel_tree" --wildcards "${members[@]}"
    echo "${members[*]}" >"$kernel_tree/.unpacked"
fi
vmlinuz=$(ls "$kernel_tree"/boot/vmlinuz-*)

# Each module after those it depends on (the `depends=` of its .modinfo, which modinfo(8)
# prints; the package has no modules.dep: depmod makes it on installation).
declare -A module_path
while IFS= read -r path; do
    name=$(basename "$path" .ko)
    module_path[${name//-/_}]=$path
done < <(find "$kernel_tree/lib/modules" -name '*.ko')
order=()
add_module() {
    local name=${1//-/_} dep
    [[ " ${order[*]} " == *" $name "* ]] && return
    [ -n "${module_path[$name]:-}" ] || die "kernel module $name not in $kernel_deb"
    for dep in $(LC_ALL=C tr '\0' '\n' <"${module_path[$name]}" | sed -n 's/^depends=//p' |
        head -n 1 | tr ',' ' '); do
        add_module "$dep"
    done
    order+=("$name")
}
# nf_tables needs libcrc32c, which finds its crc32c through the crypto API: a soft
# dependency ("softdep=pre: crc32c" in its .modinfo), loaded first by name here.
for module in veth nfnetlink nfnetlink_queue xt_NFQUEUE xt_tcpudp xt_tcpmss \
    iptable_mangle iptable_raw ip6table_mangle ip6table_raw crc32c_generic nf_tables nft_queue; do
    add_module $module
done
for name in "${order[@]}"; do
    cp "${module_path[$name]}" "$rootfs/lib/modules/$name.ko"
done
printf '%s\n' "${order[@]}" >"$rootfs/modules.order"
echo "modules: ${order[*]}"

cp "$daemon" "$rootfs/usr/sbin/tcpmssd"
cp "$vmsyn" "$rootfs/usr/bin/vmsyn"
# /init's interpreter; the other applets are linked by /init itself (busybox --install).
ln -sf busybox "$rootfs/bin/sh"
cp tests/vm/guest.sh "$rootfs/init"
chmod 755 "$rootfs/init"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"

# Every library that the programs the guest runs (ip, iptables-legacy, nft), the iptables
# extensions and those libraries themselves ask for must be in the image.
lib_dirs=(lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu lib usr/lib)
absent=()
for program in bin/ip usr/sbin/xtables-legacy-multi usr/sbin/nft; do
    [ -f "$rootfs/$program" ] || die "$program is not in the packages"
done
while IFS= read -r elf; do
    while IFS= read -r needed; do
        found=
        for dir in "${lib_dirs[@]}"; do
            [ -e "$rootfs/$dir/$needed" ] && found=1 && break
        done
        [ -n "$found" ] || absent+=("${elf#"$rootfs"/} needs $needed")
    done < <(readelf -d "$elf" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done < <(find "$rootfs"/{bin/ip,usr/sbin/xtables-legacy-multi,usr/sbin/nft} \
    "$rootfs"/{,usr/}lib/aarch64-linux-gnu -type f \
    \( -name ip -o -name xtables-legacy-multi -o -name nft -o -name '*.so*' \))
((${#absent[@]} == 0)) || die "libraries missing from the image: ${absent[*]}"
(cd "$rootfs" && find . | cpio -o -H newc --quiet) | gzip -1 >"$work/initrd.gz"
rm -rf "$rootfs"
echo "initrd: $(stat -c %s "$work/initrd.gz") bytes; kernel: $(basename "$vmlinuz")"

# 4. Boot. TCG (no KVM here); no network device, so nothing can leave the VM. The guest
# powers off after its last check; panic=-1 with -no-reboot ends qemu if /init dies.
step "boot"
log=$work/console.log
started=$(date +%s)
set +e
timeout 900 qemu-system-aarch64 -M virt -cpu cortex-a57 -m 1024 -nographic -no-reboot \
    -nic none -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
    -append "console=ttyAMA0 quiet panic=-1" </dev/null |
    tr -d '\r' | tee "$log"
qemu_status=${PIPESTATUS[0]}
set -e
echo "(qemu exited with status $qemu_status after $(($(date +%s) - started)) s)"
summary=$(grep -E '^arm64: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
[ -n "$summary" ] || die "the VM gave no summary line (status $qemu_status); see $log"
[[ $summary == *" 0 failed" ]] || die "$summary"
[ "$qemu_status" -eq 0 ] || die "qemu exited with status $qemu_status"
