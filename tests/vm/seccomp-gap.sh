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
# target/seccomp-gap/src and built from there in the real build's target dir, whose std
# (built from source for armhf and mipsel, minutes each) it then reuses. The copy enables a
# feature of its own, seccomp-gap (added to its Cargo.toml, used by no code): cargo then
# keeps the copy's daemon apart from the real one (the copy's crates otherwise hash as the
# real ones do, and cargo, judging freshness by mtimes, could take either for the other).
# The gap binary is copied out to target/seccomp-gap/ARCH/tcpmssd, and the real build run
# again (nothing to compile) to put the real binary back where cargo leaves it.
#
# The run stops at the first failed check after the kernel has logged the kill (run.sh's
# TCPMSSD_VM_STOP_AFTER; the rest of the checks would only fail in turn), with the kernel's
# messages on the console (loglevel=7), where print-fatal-signals' and audit's lines are read.
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

if grep -qx '\[features\]' "$src/Cargo.toml"; then
    sed -i '/^\[features\]$/a seccomp-gap = []' "$src/Cargo.toml"
else
    printf '\n[features]\nseccomp-gap = []\n' >>"$src/Cargo.toml"
fi
real=$target_dir/$vm_target/release/tcpmssd
binary=$gap/$arch/tcpmssd
rm -rf "${gap:?}/$arch" "${gap:?}/target"
mkdir -p "$gap/$arch"
before=$(cksum <"$real" 2>/dev/null || true)
(cd "$src" && CARGO_TARGET_DIR=$target_dir vm_build --bin tcpmssd --features seccomp-gap)
cp "$real" "$binary"
vm_build --bin tcpmssd
! cmp -s "$real" "$binary" || die "the real build gave the gap binary: the two were not kept apart"
[ -z "$before" ] || [ "$(cksum <"$real")" = "$before" ] ||
    die "$real is not the binary it was before the gap build"

# Its summary line is reworded: a CI log's last "N passed, M failed" line reads as the
# run's result, and these failures are the expected outcome here.
set +e
TCPMSSD_BIN=$binary TCPMSSD_VM_APPEND=loglevel=7 \
    TCPMSSD_VM_STOP_AFTER="potentially unexpected fatal signal $vm_sigsys\.
 Comm: tcpmssd( |\$)
^FAIL " bash tests/vm/run.sh "$arch" 2>&1 |
    sed -E "s/^((run\.sh: )?$arch: )+([0-9]+) passed, ([0-9]+) failed\$/$arch (planted gap): \3 ok, \4 FAIL/"
status=${PIPESTATUS[0]}
set -e
log=$vm_cache/work/console.log
[ "$status" -ne 0 ] || die "run.sh PASSED a daemon without $call: the VM test cannot see this gap"
failed=$(grep -m 1 '^FAIL ' "$log" || true)
[ -n "$failed" ] || die "run.sh failed (status $status), but no check in the VM did"
# The kill as the guest's diagnostics name it after a whole run, or from the kernel's own
# lines on the console: the signal, then the registers' first line, which names the process.
killed=$({
    grep '^fatal: ' "$log"
    awk '/^(\[ *[0-9.]+\] )?potentially unexpected fatal signal/ { signal = $0; next }
        signal != "" && / Comm: / { print "fatal: " substr(signal, index(signal, "potentially")) \
            " by" substr($0, index($0, " PID: ")); signal = "" }' "$log"
} | grep -Eo "^fatal: potentially unexpected fatal signal $vm_sigsys\. by PID: [0-9]+ Comm: tcpmssd" |
    head -n 1 || true)
[ -n "$killed" ] ||
    die "run.sh failed (status $status), but the kernel logged no SIGSYS ($vm_sigsys) for tcpmssd"
audit=$(grep 'type=1326' "$log" | grep -o 'comm="tcpmssd".*syscall=[0-9]*' | head -n 1 || true)
echo "seccomp-gap: $arch: run.sh failed (status $status) on the daemon without $call," \
    "killed by SIGSYS: $killed${audit:+ (audit: $audit)}; first failed check: $failed"
