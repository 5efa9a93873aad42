#!/usr/bin/env bash
# Shows that the end-to-end VM test (tests/vm/run.sh) fails when the daemon is broken: builds
# the daemon for ARCH with one system call that the loop makes taken out of its seccomp
# allowlist (by default SYS_sendmsg, which carries every batch of verdicts), runs run.sh ARCH
# on that binary through TCPMSSD_BIN, and succeeds only when run.sh fails and the VM's kernel
# logged tcpmssd's death by SIGSYS, the signal of a seccomp kill (print-fatal-signals, set by
# the guest: Debian's mipsel kernel has no audit log to show the kill in; where there is one,
# its AUDIT_SECCOMP line is shown as well).
#
#   bash tests/vm/seccomp-gap.sh ARCH [SYS_name]        ARCH: arm64, armhf or mipsel
#
# The tree is copied (tracked and untracked files as they are now, not target/) to
# target/seccomp-gap/src and built there (own target dir), so the real build is untouched.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
arch=${1:?usage: tests/vm/seccomp-gap.sh arm64|armhf|mipsel [SYS_name]}
call=${2:-SYS_sendmsg}
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
cache=${TCPMSSD_VM_CACHE:-$target_dir/vm}
gap=$target_dir/seccomp-gap
src=$gap/src

die() {
    echo "seccomp-gap.sh: $arch: $*" >&2
    exit 1
}
# shellcheck source=tests/vm/debian-vm.sh
. tests/vm/debian-vm.sh
vm_arch "$arch"

rm -rf "${src:?}"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard |
    tar --null -T - -cf - | tar -C "$src" -xf -
# The allowlist's file (daemon/linux/seccomp.rs, found by its contents wherever it is).
list=$(grep -rl 'const ALLOWED: &\[libc::c_long\]' "$src/daemon")
[ "$(printf '%s\n' "$list" | wc -l)" -eq 1 ] ||
    die "expected one allowlist under daemon/, found: ${list:-none}"
pattern="^ *libc::$call,\$"
[ "$(grep -c "$pattern" "$list")" -eq 1 ] || die "$call is not listed exactly once in ${list#"$src"/}"
# A call under a #[cfg] line would leave the attribute on its neighbour: refuse those.
if grep -B1 "$pattern" "$list" | head -n 1 | grep -q '#\[cfg'; then
    die "$call is listed under a #[cfg]; pick another call"
fi
sed -i "/$pattern/d" "$list"
echo "seccomp-gap: ${list#"$src"/} without $call:"
diff -u "$root/${list#"$src"/}" "$list" | sed -n 's/^-[^-]/  &/p' || true

(cd "$src" && CARGO_TARGET_DIR=$gap/target vm_build --bin tcpmssd)
binary=$gap/target/$vm_target/release/tcpmssd

# Its summary line is reworded: a CI log's last "N passed, M failed" line reads as the
# run's result, and these failures are the expected outcome here.
set +e
TCPMSSD_BIN=$binary bash tests/vm/run.sh "$arch" 2>&1 |
    sed -E "s/^((run\.sh: )?$arch: )+([0-9]+) passed, ([0-9]+) failed\$/$arch (planted gap): \3 ok, \4 FAIL/"
status=${PIPESTATUS[0]}
set -e
log=$vm_cache/work/console.log
[ "$status" -ne 0 ] || die "run.sh PASSED a daemon without $call: the VM test cannot see this gap"
killed=$(grep -Eo "^fatal: potentially unexpected fatal signal $vm_sigsys\. by PID: [0-9]+ Comm: tcpmssd" \
    "$log" | head -n 1 || true)
[ -n "$killed" ] ||
    die "run.sh failed (status $status), but the kernel logged no SIGSYS ($vm_sigsys) for tcpmssd"
audit=$(grep 'type=1326' "$log" | grep -o 'comm="tcpmssd".*syscall=[0-9]*' | head -n 1 || true)
echo "seccomp-gap: $arch: run.sh failed (status $status) on the daemon without $call," \
    "killed by SIGSYS: $killed${audit:+ (audit: $audit)}"
