#!/usr/bin/env bash
# Shows that tests/vm/arm64.sh fails when the daemon is broken: builds the aarch64 daemon
# with one system call that the loop makes taken out of its seccomp allowlist (by default
# SYS_sendmsg, which carries every batch of verdicts), runs arm64.sh on that binary through
# TCPMSSD_BIN, and succeeds only when arm64.sh fails and the VM's kernel logged seccomp
# killing tcpmssd.
#
#   bash tests/vm/seccomp-gap.sh [SYS_name]
#
# The tree is copied (tracked and untracked files as they are now, not target/) to
# target/seccomp-gap/src and built there (own target dir), so the real build is untouched.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
call=${1:-SYS_sendmsg}
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
gap=$target_dir/seccomp-gap
src=$gap/src

rm -rf "$src"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard |
    tar --null -T - -cf - | tar -C "$src" -xf -
# The allowlist's file (daemon/linux/seccomp.rs, found by its contents wherever it is).
list=$(grep -rl 'const ALLOWED: &\[libc::c_long\]' "$src/daemon")
[ "$(printf '%s\n' "$list" | wc -l)" -eq 1 ] || {
    echo "seccomp-gap.sh: expected one allowlist under daemon/, found: ${list:-none}" >&2
    exit 1
}
pattern="^ *libc::$call,\$"
[ "$(grep -c "$pattern" "$list")" -eq 1 ] || {
    echo "seccomp-gap.sh: $call is not listed exactly once in ${list#"$src"/}" >&2
    exit 1
}
# A call under a #[cfg] line would leave the attribute on its neighbour: refuse those.
if grep -B1 "$pattern" "$list" | head -n 1 | grep -q '#\[cfg'; then
    echo "seccomp-gap.sh: $call is listed under a #[cfg]; pick another call" >&2
    exit 1
fi
sed -i "/$pattern/d" "$list"
echo "seccomp-gap: ${list#"$src"/} without $call:"
diff -u "$root/${list#"$src"/}" "$list" | sed -n 's/^-[^-]/  &/p' || true

(cd "$src" && CARGO_TARGET_DIR=$gap/target \
    cargo zigbuild --release --target aarch64-unknown-linux-musl --bin tcpmssd)
binary=$gap/target/aarch64-unknown-linux-musl/release/tcpmssd

# Its summary line is reworded: a CI log's last "N passed, M failed" line reads as the
# run's result, and these failures are the expected outcome here.
set +e
TCPMSSD_BIN=$binary bash tests/vm/arm64.sh 2>&1 |
    sed -E 's/^(arm64(\.sh: arm64)?): ([0-9]+) passed, ([0-9]+) failed$/\1 (planted gap): \3 ok, \4 FAIL/'
status=${PIPESTATUS[0]}
set -e
log=${TCPMSSD_VM_CACHE:-$target_dir/vm}/work/console.log
if [ "$status" -eq 0 ]; then
    echo "seccomp-gap: arm64.sh PASSED a daemon without $call: the VM test cannot see this gap" >&2
    exit 1
fi
if ! grep 'type=1326' "$log" | grep -q 'comm="tcpmssd".* sig=31 '; then
    echo "seccomp-gap: arm64.sh failed (status $status), but not by seccomp killing tcpmssd" >&2
    exit 1
fi
echo "seccomp-gap: arm64.sh failed (status $status) on the daemon without $call, which" \
    "seccomp killed: $(grep -o 'comm="tcpmssd".*syscall=[0-9]*' "$log" | head -n 1)"
