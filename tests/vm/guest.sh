#!/bin/sh
# /init of the arm64 VM that tests/vm/arm64.sh boots: busybox sh as pid 1, Debian's iproute2,
# iptables (legacy, on x_tables) and nft, the aarch64 tcpmssd and vmsyn.
# Builds namespaces a — r — b with documentation addresses only, puts the daemon on r behind
# NFQUEUE rules with --queue-bypass, and checks what arrives at b. Prints one line per check
# and closes with "arm64: N passed, M failed"; then powers the VM off.
#
#   a  a-r 198.51.100.1, 2001:db8:1::1 --- r-a 198.51.100.2, 2001:db8:1::2  r
#   r  r-b 203.0.113.2,  2001:db8:2::2 --- b-r 203.0.113.1,  2001:db8:2::1  b
#
# The VM has no network device (qemu -nic none): nothing here can leave it.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mount -t tmpfs run /run
mount -t tmpfs tmp /tmp
mkdir -p /var && ln -s /run /var/run
# Debian's static busybox runs its own applets before programs on PATH (seen here: "ip netns"
# reached busybox's ip, which has no netns): iproute2's ip is called by its path. In the background it is
# called so too: "ip ... &" would fork a subshell for the function, and $! would be its pid.
ip() { /bin/ip "$@"; }

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
# check NAME EXPECTED ACTUAL
check() {
    if [ "$2" = "$3" ]; then ok "$1: $3"; else bad "$1: expected '$2', got '$3'"; fi
}
finish() {
    echo "arm64: $passed passed, $failed failed"
    sync
    poweroff -f
}
# Set-up steps that must work, or nothing after them means anything.
must() {
    if ! out=$("$@" 2>&1); then
        bad "set-up: $* -> $out"
        finish
    fi
}

echo "kernel $(uname -r) on $(uname -m)"
while read -r module; do
    must insmod "/lib/modules/$module.ko"
done </modules.order
# The capture's 4 MiB queue (tests/common/capture.rs) holds a whole burst only when the
# global cap allows it (socket(7): SO_RCVBUF is capped at rmem_max).
echo 8388608 >/proc/sys/net/core/rmem_max
syslogd -O /run/messages

for ns in a r b; do
    must ip netns add $ns
    must ip -n $ns link set lo up
done
must ip link add a-r netns a type veth peer name r-a netns r
must ip link add r-b netns r type veth peer name b-r netns b
must ip -n a addr add 198.51.100.1/24 dev a-r
must ip -n a addr add 2001:db8:1::1/64 dev a-r nodad
must ip -n r addr add 198.51.100.2/24 dev r-a
must ip -n r addr add 2001:db8:1::2/64 dev r-a nodad
must ip -n r addr add 203.0.113.2/24 dev r-b
must ip -n r addr add 2001:db8:2::2/64 dev r-b nodad
must ip -n b addr add 203.0.113.1/24 dev b-r
must ip -n b addr add 2001:db8:2::1/64 dev b-r nodad
for link in a:a-r r:r-a r:r-b b:b-r; do
    must ip -n "${link%%:*}" link set "${link#*:}" up
done
must ip -n a route add default via 198.51.100.2
must ip -n a -6 route add default via 2001:db8:1::2
must ip -n b route add default via 203.0.113.2
must ip -n b -6 route add default via 2001:db8:2::2
must ip netns exec r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# r's link toward b is the narrow one: MTU 1400, so MSS 1360 (IPv4) and 1340 (IPv6).
mtu=1400
must ip -n r link set r-b mtu $mtu

for ipt in iptables-legacy ip6tables-legacy; do
    # r: SYNs and SYN-ACKs being forwarded go to queue 7, accepted by the kernel whenever no
    # daemon is bound (README, "Deploying on Linux").
    must ip netns exec r $ipt -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN \
        -j NFQUEUE --queue-num 7 --queue-bypass
    # b: two counters for SYNs to port 9, dropped there (no RST comes back): with the MSS r
    # should have clamped to, and any other.
    case $ipt in iptables*) limit=$((mtu - 40)) ;; *) limit=$((mtu - 60)) ;; esac
    must ip netns exec b $ipt -t raw -A PREROUTING -p tcp --syn --dport 9 \
        -m tcpmss --mss $limit -j DROP
    must ip netns exec b $ipt -t raw -A PREROUTING -p tcp --syn --dport 9 -j DROP
done
if ip netns exec a ping -c 1 -W 5 203.0.113.1 >/dev/null &&
    ip netns exec a ping -c 1 -W 5 2001:db8:2::1 >/dev/null; then
    ok "topology: a reaches b through r over IPv4 and IPv6"
else
    bad "topology: a does not reach b through r"
    finish
fi

# counters FAMILY: "clamped other" from b's counting rules.
counters() {
    case $1 in 4) ipt=iptables-legacy ;; *) ipt=ip6tables-legacy ;; esac
    ip netns exec b $ipt -t raw -L PREROUTING -v -x -n |
        awk '$3 == "DROP" { printf "%s%s", sep, $1; sep = " " } END { print "" }'
}
# syns FAMILY MSS COUNT: COUNT SYNs carrying MSS from a to b port 9; prints what the capture
# on b-r saw (vmsyn capture: "syns N mss VALUE:N ... bad-checksum K").
syns() {
    case $1 in
    4) src=198.51.100.1 dst=203.0.113.1 ;;
    *) src=2001:db8:1::1 dst=2001:db8:2::1 ;;
    esac
    # The child truncates the file only once it runs: the last call's "ready" must be gone
    # first, or the SYNs could leave before this capture is bound.
    rm -f /tmp/capture
    /bin/ip netns exec b vmsyn capture b-r "$3" $((10 + $3 / 100)) >/tmp/capture &
    capture=$!
    tries=0
    until grep -q ready /tmp/capture 2>/dev/null || [ $tries -ge 100 ]; do
        tries=$((tries + 1))
        sleep 0.1
    done
    ip netns exec a vmsyn send "$src" "$dst" "$2" "$3" >/tmp/sent
    wait $capture
    tail -n 1 /tmp/capture
}
# The daemon's log lines, as busybox syslogd wrote them.
log_lines() { grep "tcpmssd\[$pid\]: $1" /run/messages; }
alive() { [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; }
status_field() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status"; }
# The syslog counters line after USR1, waited for; $1 is how many such lines came before.
counters_line() {
    tries=0
    while [ "$(log_lines 'packets ' | wc -l)" -le "$1" ] && [ $tries -lt 50 ]; do
        tries=$((tries + 1))
        sleep 0.1
    done
    log_lines 'packets ' | tail -n 1 | sed 's/.*tcpmssd\[[0-9]*\]: //'
}

# As deployed: detached, pidfile, -u nobody, following r-b's MTU.
rm -f /run/tcpmssd.pid
ip netns exec r tcpmssd -p 7 -i r-b -P /run/tcpmssd.pid -u nobody
check "daemon: detached start exits" 0 $?
pid=$(cat /run/tcpmssd.pid 2>/dev/null)
if [ -n "$pid" ] && alive; then
    ok "daemon: pidfile names live process $pid ($(cat "/proc/$pid/comm"))"
else
    bad "daemon: no live process in the pidfile ('$pid')"
    cat /run/messages
    finish
fi
check "daemon: parent is init (detached)" 1 "$(status_field PPid)"
check "daemon: uid after -u nobody" "$(id -u nobody)" "$(status_field Uid)"
check "daemon: CapEff (CAP_NET_ADMIN only)" 0000000000001000 "$(status_field CapEff)"
check "daemon: NoNewPrivs" 1 "$(status_field NoNewPrivs)"
check "daemon: Seccomp (filter mode)" 2 "$(status_field Seccomp)"
limits="MSS limit $((mtu - 40)) (IPv4), $((mtu - 60)) (IPv6)"
check "daemon: start logged with r-b's limits" 1 \
    "$(log_lines "started, .*r-b MTU $mtu, $limits" | wc -l)"

sent=0 clamped=0
check "IPv4 SYN MSS 1460 arrives clamped, checksum valid" \
    "syns 1 mss $((mtu - 40)):1 bad-checksum 0" "$(syns 4 1460 1)"
check "IPv6 SYN MSS 1440 arrives clamped, checksum valid" \
    "syns 1 mss $((mtu - 60)):1 bad-checksum 0" "$(syns 6 1440 1)"
check "IPv4 SYN MSS 1200 (below the limit) arrives unchanged" \
    "syns 1 mss 1200:1 bad-checksum 0" "$(syns 4 1200 1)"
check "IPv6 SYN MSS 1200 (below the limit) arrives unchanged" \
    "syns 1 mss 1200:1 bad-checksum 0" "$(syns 6 1200 1)"
sent=$((sent + 4)) clamped=$((clamped + 2))
check "b's counters after the single SYNs (IPv4: clamped other)" "1 1" "$(counters 4)"
check "b's counters after the single SYNs (IPv6: clamped other)" "1 1" "$(counters 6)"

burst4=3000 burst6=1000
start=$(date +%s)
check "burst of $burst4 IPv4 SYNs: all arrive clamped, checksums valid" \
    "syns $burst4 mss $((mtu - 40)):$burst4 bad-checksum 0" "$(syns 4 1460 $burst4)"
check "burst of $burst6 IPv6 SYNs: all arrive clamped, checksums valid" \
    "syns $burst6 mss $((mtu - 60)):$burst6 bad-checksum 0" "$(syns 6 1440 $burst6)"
echo "     (both bursts in $(($(date +%s) - start)) s, capture included)"
sent=$((sent + burst4 + burst6)) clamped=$((clamped + burst4 + burst6))
check "b's counters after the bursts (IPv4: none lost)" "$((1 + burst4)) 1" "$(counters 4)"
check "b's counters after the bursts (IPv6: none lost)" "$((1 + burst6)) 1" "$(counters 6)"
if alive; then ok "daemon: alive after the bursts"; else bad "daemon: dead after the bursts"; fi

before=$(log_lines 'packets ' | wc -l)
kill -USR1 "$pid"
check "USR1: counters logged" "packets $sent, clamped $clamped, mss-ok 2" \
    "$(counters_line "$before")"

# -i: a new MTU on r-b is followed (rtnetlink), without a signal.
mtu=1300
ip -n r link set r-b mtu $mtu
tries=0
until [ -n "$(log_lines "r-b: MTU $mtu, ")" ] || [ $tries -ge 50 ]; do
    tries=$((tries + 1))
    sleep 0.1
done
check "-i: MTU change on r-b logged" 1 \
    "$(log_lines "r-b: MTU $mtu, MSS limit $((mtu - 40)) (IPv4), $((mtu - 60)) (IPv6)" | wc -l)"
check "-i: IPv4 SYN clamped to the new MTU's MSS" \
    "syns 1 mss $((mtu - 40)):1 bad-checksum 0" "$(syns 4 1460 1)"
check "-i: IPv6 SYN clamped to the new MTU's MSS" \
    "syns 1 mss $((mtu - 60)):1 bad-checksum 0" "$(syns 6 1440 1)"
sent=$((sent + 2)) clamped=$((clamped + 2))

before=$(log_lines "r-b: MTU $mtu, " | wc -l)
kill -HUP "$pid"
tries=0
while [ "$(log_lines "r-b: MTU $mtu, " | wc -l)" -le "$before" ] && [ $tries -lt 50 ]; do
    tries=$((tries + 1))
    sleep 0.1
done
check "HUP: MTU re-read and logged" $((before + 1)) "$(log_lines "r-b: MTU $mtu, " | wc -l)"
if alive; then ok "daemon: alive after USR1 and HUP"; else bad "daemon: dead after USR1/HUP"; fi

before=$(log_lines 'packets ' | wc -l)
kill -TERM "$pid"
tries=0
while alive && [ $tries -lt 50 ]; do
    tries=$((tries + 1))
    sleep 0.1
done
if alive; then bad "TERM: still running after 5 s"; else ok "TERM: daemon exited"; fi
check "TERM: exit logged" 1 "$(log_lines 'exiting' | wc -l)"
check "TERM: counters logged on the way out" "packets $sent, clamped $clamped, mss-ok 2" \
    "$(counters_line "$before")"
# As nobody it cannot unlink in root's /run: it empties the pidfile instead (main.rs).
check "TERM: pidfile removed or emptied" "" "$(cat /run/tcpmssd.pid 2>/dev/null)"
check "no daemon: SYN passes unclamped (--queue-bypass)" \
    "syns 1 mss 1460:1 bad-checksum 0" "$(syns 4 1460 1)"

# OpenWrt's firewall (fw4) is nftables: the same queueing as an nft rule (README, "Routers"),
# in place of r's iptables rules. The daemon in the foreground (-v) this time.
for ipt in iptables-legacy ip6tables-legacy; do
    must ip netns exec r $ipt -t mangle -F FORWARD
done
cat >/tmp/tcpmssd.nft <<'EOF'
table inet tcpmssd {
    chain forward {
        type filter hook forward priority mangle; policy accept;
        tcp flags & (syn | rst) == syn queue num 7 bypass
    }
}
EOF
must ip netns exec r nft -f /tmp/tcpmssd.nft
check "nftables: bypass while no daemon is bound (IPv6 SYN unclamped)" \
    "syns 1 mss 1440:1 bad-checksum 0" "$(syns 6 1440 1)"
rm -f /tmp/foreground
/bin/ip netns exec r tcpmssd -v -p 7 -m 1400 2>/tmp/foreground &
pid=$!
tries=0
until grep -q started /tmp/foreground 2>/dev/null || [ $tries -ge 50 ]; do
    tries=$((tries + 1))
    sleep 0.1
done
check "nftables, foreground: IPv4 SYN clamped" "syns 1 mss 1360:1 bad-checksum 0" \
    "$(syns 4 1460 1)"
check "nftables, foreground: IPv6 SYN clamped" "syns 1 mss 1340:1 bad-checksum 0" \
    "$(syns 6 1440 1)"
check "foreground: the IPv4 clamp on stderr" 1 \
    "$(grep -c 'MSS 1460 -> 1360 198.51.100.1:[0-9]* -> 203.0.113.1:9' /tmp/foreground)"
check "foreground: the IPv6 clamp on stderr" 1 \
    "$(grep -c 'MSS 1440 -> 1340 \[2001:db8:1::1\]:[0-9]* -> \[2001:db8:2::1\]:9' /tmp/foreground)"
kill -TERM "$pid"
wait "$pid"
check "foreground: exit status on TERM" 0 $?
if [ "$failed" -ne 0 ]; then
    echo "--- syslog:"
    cat /run/messages
    echo "--- foreground stderr:"
    cat /tmp/foreground
    # A process seccomp killed is in the kernel's audit log (type 1326, AUDIT_SECCOMP), with
    # the signal (31, SIGSYS) and the system call's number.
    echo "--- b's counters now (IPv4, IPv6: clamped other): $(counters 4), $(counters 6)"
    echo "--- r: queues (queue, portid, waiting, mode, range, dropped, user-dropped, id):"
    ip netns exec r cat /proc/net/netfilter/nfnetlink_queue
    echo "--- r: IPv6 neighbours and routes, forwarding and drop counters:"
    ip -n r -6 neigh
    ip -n r -6 route
    ip netns exec r grep -E \
        'Ip6(InDiscards|InNoRoutes|OutDiscards|OutNoRoutes|InTooBig|OutForwDatagrams|InReceives)' \
        /proc/net/snmp6
    echo "--- b: IPv6 receive counters:"
    ip netns exec b grep -E 'Ip6(InReceives|InDiscards|InHdrErrors|InAddrErrors)' /proc/net/snmp6
    echo "--- seccomp kills (dmesg):"
    dmesg | grep 'type=1326' || echo "none"
fi
finish
