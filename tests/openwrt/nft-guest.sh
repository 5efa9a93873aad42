#!/bin/sh
# /init of the VM tests/openwrt/nft-vm.sh boots: busybox sh as pid 1, Debian's arm64 nft, the
# nf_tables and nft_queue modules, and in /rules the rules tests/openwrt/run.sh's cases wrote
# from the OpenWrt package's init script. Prints one line per check and closes with
# "openwrt-nft: N passed, M failed"; then powers the VM off. No network device: nothing leaves.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp

passed=0 failed=0
ok() {
	passed=$((passed + 1))
	echo "ok   $*"
}
bad() {
	failed=$((failed + 1))
	echo "FAIL $*"
}
finish() {
	echo "openwrt-nft: $passed passed, $failed failed"
	sync
	poweroff -f
}

while read -r module; do
	if ! out=$(insmod "/lib/modules/$module.ko" 2>&1); then
		bad "insmod $module: $out"
		finish
	fi
done </modules.order
echo "kernel $(uname -r) on $(uname -m), $(nft --version)"

# fw4_ruleset INCLUDE: fw4's frame around a table-post include (as in tests/openwrt/run.sh):
# the table, flushed, its filter chains, then the include after the last chain.
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

# 1. Every case's rules, whole, checked by the kernel.
for rules in /rules/*.nft; do
	name=$(basename "$rules" .nft)
	fw4_ruleset "$rules" >"/tmp/$name.ruleset"
	if out=$(nft -c -f "/tmp/$name.ruleset" 2>&1); then
		ok "nft -c, case $name: the rules load in table inet fw4, queue and bypass included"
	else
		bad "nft -c, case $name: $out"
	fi
done

# 2. The check can fail: without the queue expression in the kernel, as on the CI machine,
# the same rules are refused.
rmmod nft_queue
if out=$(nft -c -f /tmp/two-links.ruleset 2>&1); then
	bad "nft -c passed without nft_queue loaded: it does not ask the kernel"
else
	ok "nft -c refuses the rules once nft_queue is unloaded: $(echo "$out" | grep -m 1 Error)"
fi
insmod /lib/modules/nft_queue.ko

# 3. Loaded for real, and listed back as the kernel holds them: five chains, six rules (the
# first link's FORWARD and OUTPUT, the second's both ways), queues 1000 and 1001 with bypass.
if out=$(nft -f /tmp/two-links.ruleset 2>&1); then
	ok "nft -f, case two-links: loaded into the kernel"
	listed=$(nft list table inet fw4)
	echo "$listed" | grep -E 'chain tcpmssd|queue'
	chains=$(echo "$listed" | grep -c 'chain tcpmssd_')
	queued=$(echo "$listed" | grep -c 'tcp flags syn / syn,rst queue.*bypass.*to 100[01]\|tcp flags syn / syn,rst queue.*100[01].*bypass')
	if [ "$chains" = 5 ] && [ "$queued" = 6 ]; then
		ok "listed back: $chains tcpmssd chains, $queued SYN rules queueing to 1000/1001 with bypass"
	else
		bad "listed back: $chains tcpmssd chains (expected 5), $queued queueing rules (expected 6)"
	fi
else
	bad "nft -f, case two-links: $out"
fi

finish
