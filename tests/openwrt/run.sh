#!/usr/bin/env bash
# The OpenWrt package (dist/openwrt) without OpenWrt or its SDK:
# 1. dist/openwrt/Makefile's PKG_VERSION is Cargo.toml's version, and the link it installs
#    into fw4's include directory leads to the file the init script writes;
# 2. each case in tests/openwrt/cases/ runs the init script under `busybox sh` (the shell of
#    OpenWrt's init scripts, which is not dash) with stand-ins for procd, UCI, netifd, logger
#    and fw4 (tests/openwrt/stubs.sh, tests/openwrt/root/), as tests/openwrt/case.sh says:
#    start_service and service_triggers, a second start_service (with the case's
#    ifstatus.after as netifd's state, if it has one), stats, stop_service; with the rules of
#    an earlier start in place first if the case has rules.before. What they print (the procd
#    instances with their command lines, the triggers, the fw4 reloads, the log lines) and the
#    rules they write must equal the case's `expected` file;
# 3. the rules of each case, included as fw4 includes them, inside a throw-away
#    `table inet fw4`, pass `nft -c` (checked against the kernel, nothing loaded). A kernel
#    without nftables' queue expression (this CI machine's) cannot check `queue ... bypass`:
#    the rules are then checked with `accept` in its place and tests/openwrt/nft-vm.sh checks
#    them whole on Debian's arm64 kernel. The generated files stay in
#    ${CARGO_TARGET_DIR:-target}/openwrt/ for it.
#
#   bash tests/openwrt/run.sh            check
#   bash tests/openwrt/run.sh --update   write what the cases print into their `expected`
#
# Exits non-zero on any failed check. A missing busybox or nft (.ci/openwrt.sh installs them) is
# one "!!! SKIPPED:" line for that part.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=$PWD/tests/openwrt
init=$PWD/dist/openwrt/files/tcpmssd.init
makefile=dist/openwrt/Makefile
out=$(realpath -m "${CARGO_TARGET_DIR:-target}")/openwrt
update=0
[ "${1:-}" = --update ] && update=1

passed=0 failed=0
ok() {
	passed=$((passed + 1))
	echo "ok   $*"
}
bad() {
	failed=$((failed + 1))
	echo "FAIL $*"
}
skip() { echo "!!! SKIPPED: $* !!!"; }

rm -rf "$out"
mkdir -p "$out/rules"

# 1. The package against the tree.
cargo_version=$(sed -n '/^\[package\]/,/^\[/s/^version = "\(.*\)"$/\1/p' Cargo.toml)
pkg_version=$(sed -n 's/^PKG_VERSION:=//p' $makefile)
if [ -n "$cargo_version" ] && [ "$pkg_version" = "$cargo_version" ]; then
	ok "Makefile PKG_VERSION $pkg_version is Cargo.toml's version"
else
	bad "Makefile PKG_VERSION '$pkg_version' is not Cargo.toml's version '$cargo_version'"
fi
rules_path=$(sed -n 's/^RULES=//p' "$init")
# shellcheck disable=SC2016 # $(LN) is make's, not the shell's
link_target=$(sed -n 's/^\t$(LN) \(\/[^ ]*\) .*\/nftables\.d\/table-post\/[^ ]*\.nft$/\1/p' $makefile)
if [ -n "$rules_path" ] && [ "$link_target" = "$rules_path" ]; then
	ok "the Makefile links fw4's table-post include to $rules_path, which the init script writes"
else
	bad "the Makefile's table-post link leads to '$link_target', the init script writes '$rules_path'"
fi

# 2. The init script under busybox sh.
if ! command -v busybox >/dev/null 2>&1; then
	skip "busybox is not installed (apt-get install busybox); the init script was NOT run"
else
	for dir in "$here"/cases/*/; do
		dir=${dir%/}
		name=$(basename "$dir")
		work=$(mktemp -d)
		actual=$work/actual
		status=0
		env -i PATH="$PATH" STUBS="$here/stubs.sh" INIT="$init" WORK="$work" \
			FIXTURE="$dir" IFSTATUS="$dir/ifstatus" IPKG_INSTROOT="$here/root" \
			SAVE="$out/rules/$name.nft" busybox sh "$here/case.sh" >"$actual" 2>&1 || status=$?
		[ $status -eq 0 ] || echo "(busybox sh exited with status $status)" >>"$actual"
		if [ $update = 1 ]; then
			cp "$actual" "$dir/expected"
		fi
		if diff -u "$dir/expected" "$actual" >"$work/diff"; then
			ok "init script, case $name: procd instances, triggers, fw4 reloads, log and rules as expected"
		else
			bad "init script, case $name: output differs from $dir/expected:"
			cat "$work/diff"
		fi
		rm -rf "$work"
	done
fi

# 3. The rules through nft, inside a table like fw4's.
# fw4_ruleset INCLUDE: fw4's frame around a table-post include: the table, flushed, its filter
# chains, then the include after the last chain.
fw4_ruleset() {
	cat <<EOF
table inet fw4
flush table inet fw4
table inet fw4 {
	chain input {
		type filter hook input priority filter; policy drop;
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
	}
	chain output {
		type filter hook output priority filter; policy accept;
	}
	include "$1"
}
EOF
}
rules=("$out"/rules/*.nft)
if ! command -v nft >/dev/null 2>&1; then
	skip "nft is not installed (apt-get install nftables); the rules were NOT checked by nft"
elif [ "$(id -u)" -ne 0 ]; then
	skip "nft -c needs root (it asks the kernel); the rules were NOT checked by nft"
elif [ ! -e "${rules[0]}" ]; then
	bad "no case wrote rules: nothing for nft to check"
else
	queue='table inet tcpmssd_probe { chain c { type filter hook forward priority 0; queue num 0 bypass; }; }'
	whole=1
	if ! probe=$(nft -c -f - <<<"$queue" 2>&1); then
		whole=0
		skip "this kernel has no nftables queue expression ($(echo "$probe" | head -n 1)): the rules were checked with 'accept' in place of 'queue num N bypass'; bash tests/openwrt/nft-vm.sh checks them whole on Debian's arm64 kernel"
	fi
	for file in "${rules[@]}"; do
		name=$(basename "$file" .nft)
		include=$file
		if [ $whole = 0 ]; then
			include=$out/rules/$name.accept
			sed 's/queue num [0-9]* bypass/accept/' "$file" >"$include"
		fi
		fw4_ruleset "$include" >"$out/rules/$name.ruleset"
		if result=$(nft -c -f "$out/rules/$name.ruleset" 2>&1); then
			ok "nft -c, case $name: the rules load in table inet fw4$([ $whole = 1 ] || echo " (queue as accept)")"
		else
			bad "nft -c, case $name: $result"
		fi
	done
fi

echo "openwrt: $passed passed, $failed failed"
[ $failed -eq 0 ]
