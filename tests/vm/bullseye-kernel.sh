#!/usr/bin/env bash
# Fetches Debian 11 (bullseye)'s arm64 kernel package, Linux 5.10, and prints its path: the
# oldest kernel the eBPF mode is run on (issue 25). Before 5.11 the kernel charges BPF maps
# and programs to RLIMIT_MEMLOCK, which the daemon lifts; this kernel is where that shows.
# .ci/routers.sh boots it with the release's arm64 user space:
#
#   TCPMSSD_VM_KERNEL_DEB=$(bash tests/vm/bullseye-kernel.sh) bash tests/vm/run.sh arm64
#
# apt runs with a configuration of its own under ${TCPMSSD_VM_CACHE:-target/vm}/bullseye
# (lists, cache; the host's sources and state are not touched), bullseye's main archive only:
# its security archive names newer ABIs that the mirror here answered 404 for. Prints nothing
# and exits 1, with the reason on stderr, when the archive cannot be reached.
set -euo pipefail
cd "$(dirname "$0")/../.."
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
dir=$(realpath -m "${TCPMSSD_VM_CACHE:-$target_dir/vm}/bullseye")
mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$dir/debs" "$dir/etc/preferences.d" \
    "$dir/etc/sources.list.d"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || { echo "bullseye-kernel.sh: no $keyring" >&2; exit 1; }
echo "deb [arch=arm64 signed-by=$keyring] http://deb.debian.org/debian bullseye main" \
    >"$dir/etc/sources.list"
apt=(-o "Dir::Etc::sourcelist=$dir/etc/sources.list"
    -o "Dir::Etc::sourceparts=$dir/etc/sources.list.d"
    -o "Dir::Etc::preferencesparts=$dir/etc/preferences.d"
    -o "Dir::State::Lists=$dir/lists" -o "Dir::State::status=/dev/null"
    -o "Dir::Cache=$dir" -o "Dir::Cache::pkgcache=$dir/pkgcache.bin"
    -o "Dir::Cache::srcpkgcache=" -o "APT::Architecture=arm64"
    -o "APT::Architectures::=arm64" -o "APT::Sandbox::User=root")
# The lists once a day at most: the point release does not move.
if [ -z "$(find "$dir/lists" -name '*_InRelease' -mtime -1 2>/dev/null)" ]; then
    timeout 300 apt-get "${apt[@]}" update -qq >/dev/null 2>&1 ||
        { echo "bullseye-kernel.sh: apt-get update failed (archive unreachable?)" >&2; exit 1; }
fi
kernel=$(apt-cache "${apt[@]}" depends linux-image-arm64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*\).*/\1/p' | head -n 1)
[ -n "$kernel" ] || { echo "bullseye-kernel.sh: no kernel behind linux-image-arm64" >&2; exit 1; }
# The -unsigned twin: the same image and modules without the EFI signature, as debian-vm.sh.
version=$(apt-cache "${apt[@]}" show --no-all-versions "$kernel-unsigned" 2>/dev/null |
    sed -n 's/^Version: //p' | head -n 1)
[ -n "$version" ] || { echo "bullseye-kernel.sh: no $kernel-unsigned" >&2; exit 1; }
deb=$dir/debs/${kernel}-unsigned_${version//:/%3a}_arm64.deb
if ! [ -f "$deb" ]; then
    (cd "$dir/debs" && timeout 600 apt-get "${apt[@]}" download -q "$kernel-unsigned" \
        >/dev/null 2>&1) ||
        { echo "bullseye-kernel.sh: apt-get download $kernel-unsigned failed" >&2; exit 1; }
fi
[ -f "$deb" ] || { echo "bullseye-kernel.sh: apt-get download left no $deb" >&2; exit 1; }
echo "$deb"
