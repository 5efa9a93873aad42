# shellcheck shell=bash
# Sourced by the VM tests (tests/vm/run.sh, tests/vm/kernel-32.sh, tests/openwrt/nft-vm.sh): a
# Debian VM of each router CPU under qemu-system, without KVM and without a network device.
# What differs between the CPUs is in vm_arch; the rest (Debian's packages fetched and cached,
# the kernel image and the modules unpacked once, the initramfs, the boot) is the same for
# every CPU.
#
# The caller sets `cache` (the cache's root) and defines `skip MESSAGE` (one "!!! SKIPPED:"
# line, exit 0) and `die MESSAGE` (exit 1) before calling anything here.
# The vm_ variables are this file's answers to its callers, hence:
# shellcheck disable=SC2034

# vm_arch NAME: the settings of one VM, by its Debian architecture name.
vm_arch() {
    vm_name=$1
    case $1 in
    arm64)
        vm_target=aarch64-unknown-linux-musl
        vm_kernel_package=linux-image-arm64
        vm_triplet=aarch64-linux-gnu
        vm_elf_machine=AArch64
        vm_qemu=(qemu-system-aarch64 -M virt -cpu cortex-a57 -m 1024)
        vm_console=ttyAMA0
        ;;
    armhf)
        vm_target=armv7-unknown-linux-musleabihf
        vm_kernel_package=linux-image-armmp
        vm_triplet=arm-linux-gnueabihf
        vm_elf_machine=ARM
        vm_qemu=(qemu-system-arm -M virt -cpu cortex-a15 -m 512)
        vm_console=ttyAMA0
        ;;
    mipsel)
        vm_target=mipsel-unknown-linux-musl
        vm_kernel_package=linux-image-4kc-malta
        vm_triplet=mipsel-linux-gnu
        vm_elf_machine='MIPS R3000'
        # Malta's default VGA needs a ROM file Debian ships elsewhere: none wanted. 256 MiB is
        # the most Malta maps without highmem.
        vm_qemu=(qemu-system-mipsel -M malta -m 256 -vga none)
        vm_console=ttyS0
        ;;
    s390x)
        # Big-endian, as OpenWrt's most common MIPS routers are, where Debian has no big-endian
        # MIPS port left (bookworm ships mipsel and mips64el): the byte order of the kernel's
        # netlink messages, not a router CPU. So the glibc build, for which rustup has std (no
        # std from source), linked against the image's own libc6; and the daemon has no
        # seccomp list for it, so it warns and runs unconfined there.
        vm_target=s390x-unknown-linux-gnu
        vm_kernel_package=linux-image-s390x
        vm_triplet=s390x-linux-gnu
        vm_elf_machine='IBM S/390'
        vm_qemu=(qemu-system-s390x -M s390-ccw-virtio -m 1024)
        vm_console=ttysclp0
        ;;
    *)
        die "no VM for '$1' (arm64, armhf, mipsel or s390x)"
        ;;
    esac
    # SIGSYS, the signal of a seccomp kill, is 12 on MIPS (arch/mips/include/uapi/asm/signal.h)
    # and 31 on ARM and arm64.
    case $1 in mipsel) vm_sigsys=12 ;; *) vm_sigsys=31 ;; esac
    # The daemon's seccomp mode there (/proc/PID/status): 2, a filter, where it has a list.
    case $1 in s390x) vm_seccomp=0 ;; *) vm_seccomp=2 ;; esac
    vm_cache=${cache:?}/$1
}

# vm_build [CARGO ARGUMENTS...]: a static musl release build for the VM's CPU (s390x: glibc),
# linked by zig.
# rustup has std for aarch64 musl; for armv7 musl (rustup answers 404) and mipsel (tier 3)
# nightly builds it from source, and rustc is told not to look for rustup's self-contained
# start files (-Clink-self-contained=no): zig's musl supplies them. The same command as
# .ci/routers.sh's, so the router build there is reused here.
vm_build() {
    if [ "$vm_name" = arm64 ] || [ "$vm_name" = s390x ]; then
        cargo zigbuild --release --target "$vm_target" "$@"
    else
        env "CARGO_TARGET_$(echo "$vm_target" | tr 'a-z-' 'A-Z_')_RUSTFLAGS=-Clink-self-contained=no" \
            cargo +nightly zigbuild --release --target "$vm_target" -Zbuild-std=std,panic_abort "$@"
    fi
}

# vm_needed ELF: the libraries ELF needs (DT_NEEDED), one a line.
vm_needed() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# vm_check_binary PATH [LIBRARY]: refuses a binary that is not an ELF for the VM's CPU, or
# (but on s390x, whose libc comes with the image) that needs a library other than LIBRARY,
# which the caller puts in the image; without LIBRARY, one that is not static.
vm_check_binary() {
    local needed
    readelf -h "$1" | grep -q "Machine:.*$vm_elf_machine" || die "$1 is not an $vm_name ELF"
    [ "$vm_name" != s390x ] || return 0
    needed=$(vm_needed "$1")
    if [ -n "$needed" ] && [ "$needed" != "${2:-}" ]; then
        die "$1 needs ${needed//$'\n'/ }: neither static nor linked against ${2:-nothing} alone"
    fi
}

# apt with a binary cache of its own in $cache/apt. Debian's container images turn apt's off
# (docker-clean: Dir::Cache::pkgcache ""), and every apt-cache or apt-get call then parses all
# of apt's lists again, foreign architectures' included: 2.3 s a call on the 2-core CI machine
# (7 s when loaded), 0.7 s with this cache (1.8 s; 2026-12-07). apt checks the cache against
# the lists and the dpkg status at every call and rebuilds it when they changed, as it does its
# own. Only the package cache: the source cache would add its 120 MB and save nothing. The
# options (vm_apt) are set by vm_fetch, which makes the directory.
vm_apt=()

# The kernel package that the architecture's kernel metapackage points to. vm_fetch makes two
# apt-cache calls in all.
vm_kernel_of() {
    apt-cache "${vm_apt[@]}" depends "$vm_kernel_package:$vm_name" 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*\).*/\1/p' | head -n 1
}

# vm_fetch PACKAGE...: the VM's kernel and these packages of its architecture, downloaded into
# $vm_cache/debs unless there already. Sets vm_kernel_deb and vm_debs (the others' files). A
# version the archive has replaced is removed when its successor comes; the kernel's -unsigned
# twin (same image and modules without the EFI signature) is taken where the release has one.
vm_fetch() {
    local kernel package version deb
    local -A version_of
    local apt_dir
    apt_dir=$(realpath -m "$cache/apt")
    mkdir -p "$apt_dir"
    vm_apt=(-o "Dir::Cache::pkgcache=$apt_dir/pkgcache.bin"
        -o "Dir::Cache::srcpkgcache=")
    kernel=$(vm_kernel_of || true)
    if [ -z "$kernel" ]; then
        dpkg --print-foreign-architectures | grep -qx "$vm_name" ||
            dpkg --add-architecture "$vm_name"
        timeout 300 apt-get update -qq >/dev/null 2>&1 ||
            skip "apt-get update failed (Debian archive unreachable?)"
        kernel=$(vm_kernel_of || true)
        [ -n "$kernel" ] || skip "apt-cache cannot resolve $vm_kernel_package:$vm_name"
    fi
    while read -r package version; do
        version_of[$package]=$version
    done < <(apt-cache "${vm_apt[@]}" show --no-all-versions "$kernel-unsigned:$vm_name" "$kernel:$vm_name" \
        "${@/%/:$vm_name}" 2>/dev/null | awk '/^Package: /{p=$2} /^Version: /{print p, $2}')
    if [ -n "${version_of[$kernel-unsigned]:-}" ]; then
        kernel=$kernel-unsigned
    fi
    mkdir -p "$vm_cache/debs"
    vm_debs=()
    vm_kernel_deb=
    local missing=()
    for package in "$kernel" "$@"; do
        version=${version_of[$package]:-}
        [ -n "$version" ] || skip "apt-cache does not know $package:$vm_name"
        # The name apt-get download gives the file: the epoch's colon escaped as %3a.
        deb=$vm_cache/debs/${package}_${version//:/%3a}_$vm_name.deb
        if [ -z "$vm_kernel_deb" ]; then vm_kernel_deb=$deb; else vm_debs+=("$deb"); fi
        [ -f "$deb" ] || missing+=("$package:$vm_name")
    done
    if ((${#missing[@]})); then
        (cd "$vm_cache/debs" &&
            timeout 600 apt-get "${vm_apt[@]}" download -q -o APT::Sandbox::User=root "${missing[@]}" \
                >/dev/null) || skip "apt-get download failed (Debian archive unreachable?)"
    fi
    for deb in "$vm_kernel_deb" "${vm_debs[@]}"; do
        [ -f "$deb" ] || die "apt-get download left no $deb"
    done
    # Versions the archive has replaced go: any other file of a package asked for here, and
    # any other kernel (a new kernel ABI is a new package name), with its unpacked tree.
    local wanted=" $vm_kernel_deb ${vm_debs[*]} " name old
    for old in "$vm_cache"/debs/*.deb; do
        name=$(basename "$old")
        name=${name%%_*}
        [[ $wanted != *" $old "* ]] || continue
        if [[ $name == linux-image-* || " $* " == *" $name "* ]]; then
            rm -f "$old"
        fi
    done
    for old in "$vm_cache"/kernel/*; do
        [ ! -e "$old" ] || [ "$old" = "$vm_cache/kernel/$(basename "$vm_kernel_deb" .deb)" ] ||
            rm -rf "$old"
    done
    # Another kernel package in place of the release's, for a run by hand on an older kernel
    # (Debian 11's 5.10 for the eBPF mode, issue 25: ebpf/README.md); its own modules are
    # taken from it, the user space stays this release's.
    if [ -n "${TCPMSSD_VM_KERNEL_DEB:-}" ]; then
        vm_kernel_deb=$TCPMSSD_VM_KERNEL_DEB
        kernel=$(basename "$vm_kernel_deb" .deb)
    fi
    echo "$vm_name: $((1 + ${#vm_debs[@]})) packages (kernel $kernel), ${#missing[@]}" \
        "downloaded now, the rest cached in $vm_cache/debs"
}

# vm_kernel: unpacks the image and the modules a guest may load (the whole package unpacks to
# hundreds of MB), once per kernel package. Sets vm_vmlinuz and vm_kernel_tree.
vm_kernel() {
    local members=('./boot/vmlinuz-*' './lib/modules/*/kernel/net/*'
        './lib/modules/*/kernel/drivers/net/veth.ko' './lib/modules/*/kernel/lib/libcrc32c.ko'
        './lib/modules/*/kernel/crypto/crc32c_generic.ko')
    vm_kernel_tree=$vm_cache/kernel/$(basename "$vm_kernel_deb" .deb)
    if [ "$(cat "$vm_kernel_tree/.unpacked" 2>/dev/null)" != "${members[*]}" ]; then
        rm -rf "${vm_kernel_tree:?}"
        mkdir -p "$vm_kernel_tree"
        dpkg-deb --fsys-tarfile "$vm_kernel_deb" |
            tar -x -C "$vm_kernel_tree" --wildcards "${members[@]}"
        echo "${members[*]}" >"$vm_kernel_tree/.unpacked"
    fi
    vm_vmlinuz=$(ls "$vm_kernel_tree"/boot/vmlinuz-*)
}

# vm_modules ROOTFS MODULE...: copies the modules, each after those it depends on (the
# `depends=` of its .modinfo, which modinfo(8) prints; the package has no modules.dep: depmod
# makes it on installation), into ROOTFS/lib/modules, their order into ROOTFS/modules.order.
vm_modules() {
    local rootfs=$1 path name
    shift
    local -A module_path
    while IFS= read -r path; do
        name=$(basename "$path" .ko)
        module_path[${name//-/_}]=$path
    done < <(find "$vm_kernel_tree/lib/modules" -name '*.ko')
    local order=()
    add_module() {
        local name=${1//-/_} dep
        [[ " ${order[*]} " == *" $name "* ]] && return
        [ -n "${module_path[$name]:-}" ] || die "kernel module $name not in $vm_kernel_deb"
        for dep in $(LC_ALL=C tr '\0' '\n' <"${module_path[$name]}" | sed -n 's/^depends=//p' |
            head -n 1 | tr ',' ' '); do
            add_module "$dep"
        done
        order+=("$name")
    }
    for name in "$@"; do
        add_module "$name"
    done
    mkdir -p "$rootfs/lib/modules"
    for name in "${order[@]}"; do
        cp "${module_path[$name]}" "$rootfs/lib/modules/$name.ko"
    done
    printf '%s\n' "${order[@]}" >"$rootfs/modules.order"
    echo "modules: ${order[*]}"
}

# vm_initrd ROOTFS INITRD: packs ROOTFS as a gzipped initramfs.
vm_initrd() {
    (cd "$1" && find . | cpio -o -H newc --quiet) | gzip -1 >"$2"
}

# vm_boot SECONDS INITRD LOG [KERNEL ARGUMENT...]: boots the kernel with INITRD, the console
# on stdout and in LOG, for at most SECONDS; sets vm_qemu_status. No network device, so
# nothing can leave the VM; panic=-1 with -no-reboot ends qemu if /init dies.
# With vm_stop_after set (extended regular expressions, one a line), qemu is stopped as soon
# as the console has shown a line matching each, in that order; vm_stopped is then the last
# of those lines (empty when the guest ran to its end). A run whose outcome is already known
# (tests/vm/seccomp-gap.sh) need not wait for the guest's remaining checks.
vm_stop_after=${vm_stop_after:-}
vm_boot() {
    local seconds=$1 initrd=$2 log=$3 started=$SECONDS stop=$3.stopped pidfile=$3.pid
    shift 3
    rm -f "$stop" "$pidfile"
    set +e
    { timeout "$seconds" "${vm_qemu[@]}" -nographic -no-reboot -nic none -kernel "$vm_vmlinuz" \
        -initrd "$initrd" -append "console=$vm_console quiet panic=-1 $*" </dev/null &
        echo $! >"$pidfile"
        wait $!; } | vm_console "$log" "$stop" "$pidfile"
    vm_qemu_status=${PIPESTATUS[0]}
    set -e
    vm_stopped=$(cat "$stop" 2>/dev/null || true)
    rm -f "$stop" "$pidfile"
    echo "($vm_name: qemu exited with status $vm_qemu_status after $((SECONDS - started))" \
        "s${vm_stopped:+; stopped at: $vm_stopped})"
}

# vm_console LOG STOP PIDFILE: copies the console (standard input, carriage returns dropped) to
# stdout and LOG as it comes; once lines have matched each of vm_stop_after's expressions in
# turn, writes the last into STOP and sends TERM to the process in PIDFILE (timeout, which
# passes it on to qemu). Line by line in the shell: tr, awk (mawk) and grep would hold the
# lines back in their buffers, and the stop come late.
vm_console() {
    local line next=0 patterns=()
    [ -z "$vm_stop_after" ] || mapfile -t patterns <<<"$vm_stop_after"
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line//$'\r'/}
        printf '%s\n' "$line"
        printf '%s\n' "$line" >&3
        if ((next < ${#patterns[@]})) && [[ $line =~ ${patterns[next]} ]] &&
            ((++next == ${#patterns[@]})); then
            printf '%s\n' "$line" >"$2"
            kill -TERM "$(cat "$3")" 2>/dev/null || true
        fi
    done 3>"$1"
}
