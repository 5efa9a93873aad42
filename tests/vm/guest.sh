#!/bin/sh
# /init of the VM that tests/vm/run.sh boots (arm64, armhf, mipsel, s390x: /etc/vm.conf says
# which, and the seccomp mode the daemon has there):
# busybox sh as pid 1, Debian's iproute2, iptables (legacy, on x_tables) and nft, the static
# tcpmssd and vmsyn of that CPU.
# Builds namespaces a — r — b with documentation addresses only, puts the daemon on r behind
# NFQUEUE rules with bypass, and checks what arrives at b. Each case below is one function;
# `cases` at the end lists them in the order they run. Prints one line per check and closes
# with "ARCH: N passed, M failed"; then powers the VM off.
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
arch=unknown seccomp=2
# Written by run.sh into the image.
# shellcheck source=/dev/null
. /etc/vm.conf
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
    [ "$failed" -eq 0 ] || diagnostics
    echo "$arch: $passed passed, $failed failed"
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
# wait_until TENTHS COMMAND...: runs COMMAND every 0.1 s until it succeeds, at most TENTHS times.
wait_until() {
    tries=$1
    shift
    until "$@"; do
        [ "$tries" -gt 0 ] || return 1
        tries=$((tries - 1))
        sleep 0.1
    done
}

# --- The network and the tools the cases use ---------------------------------------------

setup() {
    echo "kernel $(uname -r) on $(uname -m)"
    while read -r module; do
        must insmod "/lib/modules/$module.ko"
    done </modules.order
    # The capture's 4 MiB queue (tests/common/capture.rs) holds a whole burst only when the
    # global cap allows it (socket(7): SO_RCVBUF is capped at rmem_max).
    echo 8388608 >/proc/sys/net/core/rmem_max
    # A process killed by a signal that dumps core (SIGSYS from seccomp among them) is named
    # in the kernel's log (kernel/signal.c, print_fatal_signal): the only trace of a seccomp
    # kill on a kernel without audit (Debian's mipsel).
    echo 1 >/proc/sys/kernel/print-fatal-signals
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
        # b: two counters for SYNs to port 9, dropped there (no RST comes back): with the MSS
        # r should have clamped to, and any other.
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
}

# r's SYNs and SYN-ACKs being forwarded go to queue 7, accepted by the kernel whenever no
# daemon is bound (README, "Deploying on Linux"): with iptables, or as an nft rule (OpenWrt's
# fw4 is nftables; README, "Routers"). unqueue removes either.
queue_with_iptables() {
    for ipt in iptables-legacy ip6tables-legacy; do
        must ip netns exec r $ipt -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN \
            -j NFQUEUE --queue-num 7 --queue-bypass
    done
}
queue_with_nft() {
    cat >/tmp/tcpmssd.nft <<'EOF'
table inet tcpmssd {
    chain forward {
        type filter hook forward priority mangle; policy accept;
        tcp flags & (syn | rst) == syn queue num 7 bypass
    }
}
EOF
    must ip netns exec r nft -f /tmp/tcpmssd.nft
}
unqueue() {
    for ipt in iptables-legacy ip6tables-legacy; do
        must ip netns exec r $ipt -t mangle -F FORWARD
    done
    ip netns exec r nft delete table inet tcpmssd 2>/dev/null || true
}

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
    wait_until 100 grep -q ready /tmp/capture 2>/dev/null
    ip netns exec a vmsyn send "$src" "$dst" "$2" "$3" >/tmp/sent
    wait $capture
    tail -n 1 /tmp/capture
}
# expect_syns NAME FAMILY MSS COUNT ARRIVING-MSS: sends, and checks that all COUNT arrive at b
# with ARRIVING-MSS and a valid checksum.
expect_syns() {
    check "$1" "syns $4 mss $5:$4 bad-checksum 0" "$(syns "$2" "$3" "$4")"
}
# What the daemon has seen, for the counters it logs: SYNs sent through the queue, clamped,
# and left alone because their MSS was within the limit.
seen=0 clamped=0 mss_ok=0
# The daemon's log lines, as busybox syslogd wrote them.
log_lines() { grep "tcpmssd\[$pid\]: $1" /run/messages; }
alive() { [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; }
gone() { ! alive; }
status_field() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status"; }
# The syslog counters line after USR1 or at exit, waited for; $1 is how many came before.
counters_line() {
    wait_until 50 [ "$(log_lines 'packets ' | wc -l)" -gt "$1" ]
    log_lines 'packets ' | tail -n 1 | sed 's/.*tcpmssd\[[0-9]*\]: //'
}
expected_counters() { echo "packets $seen, clamped $clamped, mss-ok $mss_ok"; }

# --- The cases: each checks one thing the daemon promises --------------------------------

# start_detached ARGUMENT...: the daemon on r as deployed, detached with a pidfile; sets pid.
start_detached() {
    rm -f /run/tcpmssd.pid
    ip netns exec r tcpmssd "$@" -P /run/tcpmssd.pid
    check "daemon: detached start exits" 0 $?
    pid=$(cat /run/tcpmssd.pid 2>/dev/null)
    if [ -n "$pid" ] && alive; then
        ok "daemon: pidfile names live process $pid ($(cat "/proc/$pid/comm"))"
    else
        bad "daemon: no live process in the pidfile ('$pid')"
        finish
    fi
    check "daemon: parent is init (detached)" 1 "$(status_field PPid)"
}

# check_confined [CAPS]: what `-u nobody` and the confinement leave the running daemon
# (README, "Privilege"): CAP_NET_ADMIN, or the CAPS given (the eBPF mode keeps CAP_BPF too);
# where the daemon has no seccomp list for the CPU, that it says so.
check_confined() {
    caps=${1:-0000000000001000}
    check "daemon: uid after -u nobody" "$(id -u nobody)" "$(status_field Uid)"
    for field in CapEff CapPrm CapBnd; do
        check "daemon: $field" "$caps" "$(status_field $field)"
    done
    check "daemon: NoNewPrivs" 1 "$(status_field NoNewPrivs)"
    if [ "$seccomp" = 2 ]; then
        check "daemon: Seccomp (filter mode)" 2 "$(status_field Seccomp)"
    else
        # No list for this CPU (daemon/linux/seccomp.rs): unconfined, and it says so.
        check "daemon: Seccomp (none: no list for $arch)" "$seccomp" "$(status_field Seccomp)"
        check "daemon: warns that it has no seccomp filter" 1 \
            "$(log_lines 'no seccomp filter for this architecture' | wc -l)"
    fi
}

# As deployed: NFQUEUE through iptables, detached, -u nobody, following r-b's MTU; confined.
case_detached_confined() {
    queue_with_iptables
    start_detached -p 7 -i r-b -u nobody
    check_confined
    check "daemon: start logged with r-b's limits" 1 \
        "$(log_lines "started, .*r-b MTU $mtu, MSS limit $((mtu - 40)) (IPv4), $((mtu - 60)) (IPv6)" |
            wc -l)"
}

case_clamped() {
    expect_syns "IPv4 SYN MSS 1460 arrives clamped, checksum valid" 4 1460 1 $((mtu - 40))
    expect_syns "IPv6 SYN MSS 1440 arrives clamped, checksum valid" 6 1440 1 $((mtu - 60))
    seen=$((seen + 2)) clamped=$((clamped + 2))
}

case_below_limit_unchanged() {
    expect_syns "IPv4 SYN MSS 1200 (below the limit) arrives unchanged" 4 1200 1 1200
    expect_syns "IPv6 SYN MSS 1200 (below the limit) arrives unchanged" 6 1200 1 1200
    seen=$((seen + 2)) mss_ok=$((mss_ok + 2))
    check "b's counters after the single SYNs (IPv4: clamped other)" "1 1" "$(counters 4)"
    check "b's counters after the single SYNs (IPv6: clamped other)" "1 1" "$(counters 6)"
}

case_bursts_none_lost() {
    burst4=3000 burst6=1000
    before4=$(counters 4) before6=$(counters 6)
    start=$(date +%s)
    expect_syns "burst of $burst4 IPv4 SYNs: all arrive clamped, checksums valid" \
        4 1460 $burst4 $((mtu - 40))
    expect_syns "burst of $burst6 IPv6 SYNs: all arrive clamped, checksums valid" \
        6 1440 $burst6 $((mtu - 60))
    echo "     (both bursts in $(($(date +%s) - start)) s, capture included)"
    seen=$((seen + burst4 + burst6)) clamped=$((clamped + burst4 + burst6))
    check "b's counters after the bursts (IPv4: none lost)" \
        "$((${before4% *} + burst4)) ${before4#* }" "$(counters 4)"
    check "b's counters after the bursts (IPv6: none lost)" \
        "$((${before6% *} + burst6)) ${before6#* }" "$(counters 6)"
    if alive; then ok "daemon: alive after the bursts"; else bad "daemon: dead after the bursts"; fi
}

case_usr1_counters() {
    before=$(log_lines 'packets ' | wc -l)
    kill -USR1 "$pid"
    check "USR1: counters logged" "$(expected_counters)" "$(counters_line "$before")"
}

# -i: a new MTU on r-b is followed (rtnetlink), without a signal.
case_mtu_followed() {
    mtu=1300
    ip -n r link set r-b mtu $mtu
    wait_until 50 log_lines "r-b: MTU $mtu, " >/dev/null
    check "-i: MTU change on r-b logged" 1 \
        "$(log_lines "r-b: MTU $mtu, MSS limit $((mtu - 40)) (IPv4), $((mtu - 60)) (IPv6)" |
            wc -l)"
    expect_syns "-i: IPv4 SYN clamped to the new MTU's MSS" 4 1460 1 $((mtu - 40))
    expect_syns "-i: IPv6 SYN clamped to the new MTU's MSS" 6 1440 1 $((mtu - 60))
    seen=$((seen + 2)) clamped=$((clamped + 2))
}

case_hup_rereads_mtu() {
    before=$(log_lines "r-b: MTU $mtu, " | wc -l)
    kill -HUP "$pid"
    wait_until 50 [ "$(log_lines "r-b: MTU $mtu, " | wc -l)" -gt "$before" ]
    check "HUP: MTU re-read and logged" $((before + 1)) "$(log_lines "r-b: MTU $mtu, " | wc -l)"
    if alive; then ok "daemon: alive after USR1 and HUP"; else bad "daemon: dead after USR1/HUP"; fi
}

case_term_exits() {
    before=$(log_lines 'packets ' | wc -l)
    kill -TERM "$pid"
    if wait_until 50 gone; then
        ok "TERM: daemon exited"
    else
        bad "TERM: still running after 5 s"
    fi
    check "TERM: exit logged" 1 "$(log_lines 'exiting' | wc -l)"
    check "TERM: counters logged on the way out" "$(expected_counters)" \
        "$(counters_line "$before")"
    # As nobody it cannot unlink in root's /run: it empties the pidfile instead (main.rs).
    check "TERM: pidfile removed or emptied" "" "$(cat /run/tcpmssd.pid 2>/dev/null)"
}

case_bypass_without_daemon() {
    expect_syns "no daemon: SYN passes unclamped (iptables --queue-bypass)" 4 1460 1 1460
}

# The nft rule in place of the iptables ones, the daemon in the foreground (-v) this time.
case_nft_foreground() {
    unqueue
    queue_with_nft
    expect_syns "nftables: bypass while no daemon is bound (IPv6 SYN unclamped)" 6 1440 1 1440
    rm -f /tmp/foreground
    /bin/ip netns exec r tcpmssd -v -p 7 -m 1400 2>/tmp/foreground &
    pid=$!
    wait_until 50 grep -q started /tmp/foreground 2>/dev/null
    expect_syns "nftables, foreground: IPv4 SYN clamped" 4 1460 1 1360
    expect_syns "nftables, foreground: IPv6 SYN clamped" 6 1440 1 1340
    check "foreground: the IPv4 clamp on stderr" 1 \
        "$(grep -c 'MSS 1460 -> 1360 198.51.100.1:[0-9]* -> 203.0.113.1:9' /tmp/foreground)"
    check "foreground: the IPv6 clamp on stderr" 1 \
        "$(grep -c 'MSS 1440 -> 1340 \[2001:db8:1::1\]:[0-9]* -> \[2001:db8:2::1\]:9' \
            /tmp/foreground)"
    kill -TERM "$pid"
    wait "$pid"
    check "foreground: exit status on TERM" 0 $?
}

# --- The eBPF mode: the classifier on r-b's egress, no queue, no rule -------------------

# clamped_count: the "clamped N" of the counters line after a USR1 (the classifier counts
# every packet on r-b, ARP and neighbour discovery too, so only this one is predictable).
clamped_count() {
    before=$(log_lines 'packets ' | wc -l)
    kill -USR1 "$pid"
    counters_line "$before" | sed -n 's/.*clamped \([0-9]*\).*/\1/p'
}

# As deployed, with -e: detached, -u nobody, following r-b's MTU; the start takes the
# verifier's time (seconds under TCG). Debian 12's 6.1 verifier accepts the program since
# issue 25; a refusal is a failure here, shown by its one line, and the other eBPF cases are
# then left out (each would fail for the same reason).
ebpf_refused=
# The foreground probe's end: its start line in syslog, or its refusal on stderr.
probe_done() {
    grep -q "can't load" /tmp/ebpf-probe 2>/dev/null ||
        grep -q "tcpmssd\[$probe\]: started" /run/messages
}
case_ebpf_detached_confined() {
    unqueue
    mtu=1400
    ip -n r link set r-b mtu $mtu
    # Compiled where the kernel has a JIT, as routers run it: Debian's armmp kernel builds
    # one in but leaves it off; its s390x kernel has none (the program runs interpreted).
    jit=/proc/sys/net/core/bpf_jit_enable
    [ ! -e $jit ] || [ "$(cat $jit)" != 0 ] || echo 1 >$jit
    started=$(date +%s)
    # In the foreground first, to see its one line if the kernel refuses the program.
    /bin/ip netns exec r tcpmssd -e -f -i r-b -m 1400 2>/tmp/ebpf-probe &
    probe=$!
    wait_until 1200 probe_done
    if grep -q "can't load the eBPF classifier" /tmp/ebpf-probe; then
        ebpf_refused=1
        bad "eBPF: Linux $(uname -r) refused the program: $(cat /tmp/ebpf-probe)"
        wait $probe
        return
    fi
    kill -TERM $probe
    wait $probe
    start_detached -e -i r-b -u nobody
    echo "     (probe and daemon each loaded, verified and attached: $(($(date +%s) - started)) s for both)"
    # CAP_NET_ADMIN and CAP_BPF (README, "Privilege").
    check_confined 0000008000001000
    check "eBPF: start logged with r-b's limits" 1 \
        "$(log_lines "started, .*: eBPF on r-b egress, r-b MTU $mtu, MSS limit $((mtu - 40)) (IPv4)" |
            wc -l)"
    if [ -e $jit ]; then
        check "eBPF: the JIT is on (net.core.bpf_jit_enable)" 1 "$(cat $jit)"
    else
        echo "     (no eBPF JIT in Linux $(uname -r) on $arch: the program runs interpreted)"
    fi
}

case_ebpf_clamped() {
    [ -z "$ebpf_refused" ] || return
    expect_syns "eBPF: IPv4 SYN MSS 1460 arrives clamped, checksum valid" 4 1460 1 $((mtu - 40))
    expect_syns "eBPF: IPv6 SYN MSS 1440 arrives clamped, checksum valid" 6 1440 1 $((mtu - 60))
    expect_syns "eBPF: IPv4 SYN MSS 1200 arrives unchanged" 4 1200 1 1200
    expect_syns "eBPF: burst of 3000 IPv4 SYNs: all arrive clamped, checksums valid" \
        4 1460 3000 $((mtu - 40))
    check "eBPF: USR1 counters: clamped" 3002 "$(clamped_count)"
}

case_ebpf_mtu_followed() {
    [ -z "$ebpf_refused" ] || return
    mtu=1300
    ip -n r link set r-b mtu $mtu
    wait_until 50 log_lines "r-b: MTU $mtu, " >/dev/null
    expect_syns "eBPF, -i: IPv4 SYN clamped to the new MTU's MSS" 4 1460 1 $((mtu - 40))
    expect_syns "eBPF, -i: IPv6 SYN clamped to the new MTU's MSS" 6 1440 1 $((mtu - 60))
}

# TERM takes the program off; kill -9 leaves it clamping; a new daemon replaces it.
case_ebpf_lifetime() {
    [ -z "$ebpf_refused" ] || return
    kill -TERM "$pid"
    if wait_until 50 gone; then ok "eBPF, TERM: daemon exited"; else bad "eBPF, TERM: still running"; fi
    # syslogd may write the last line after the daemon is gone.
    wait_until 50 log_lines 'r-b: eBPF classifier taken off egress' >/dev/null
    check "eBPF, TERM: program taken off" 1 "$(log_lines 'r-b: eBPF classifier taken off egress' | wc -l)"
    expect_syns "eBPF, after TERM: SYN passes as it was sent" 4 1460 1 1460
    start_detached -e -i r-b -m 1200
    kill -KILL "$pid"
    wait_until 50 gone
    expect_syns "eBPF, after kill -9: still clamped to the last limit" 4 1460 1 1160
    start_detached -e -i r-b -u nobody
    expect_syns "eBPF, a new daemon replaces the old program" 4 1460 1 $((mtu - 40))
    kill -TERM "$pid"
    wait_until 50 gone
    expect_syns "eBPF, after the last TERM: nothing left on r-b" 4 1460 1 1460
}

diagnostics() {
    echo "--- syslog:"
    cat /run/messages
    echo "--- foreground stderr:"
    cat /tmp/foreground 2>/dev/null
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
    ip netns exec b grep -E 'Ip6(InDiscards|InHdrErrors|InAddrErrors|InReceives)' /proc/net/snmp6
    # A process seccomp killed is in the kernel's audit log where the kernel has one (type
    # 1326, AUDIT_SECCOMP, with the signal and the system call's number); on every kernel,
    # through print-fatal-signals, its signal is logged ("potentially unexpected fatal signal
    # 31.", 12 on MIPS) with the registers, whose first line names the process ("CPU: 0 PID:
    # 179 Comm: tcpmssd ..."): one line here for each such death.
    echo "--- seccomp kills (audit) and fatal signals (dmesg):"
    dmesg | grep 'type=1326' || echo "no audit lines"
    dmesg | awk '/potentially unexpected fatal signal/ { signal = $0; next }
        signal != "" && / Comm: / { print "fatal:" substr(signal, index(signal, "]") + 1) " by" \
            substr($0, index($0, " PID: ")); signal = "" }'
}

# The order matters: each case starts from what the one before left (the daemon running, the
# MTU, the counts in seen, clamped and mss_ok). A mode with its own start (say eBPF, `-e -i
# r-b`, no queue) adds its cases as functions (its start: unqueue, start_detached -e -i r-b
# -u nobody, check_confined; then clamped, below_limit_unchanged, bursts_none_lost and the
# signals' cases as they are) and names them here.
cases="detached_confined clamped below_limit_unchanged bursts_none_lost usr1_counters
    mtu_followed hup_rereads_mtu term_exits bypass_without_daemon nft_foreground
    ebpf_detached_confined ebpf_clamped ebpf_mtu_followed ebpf_lifetime"

setup
for name in $cases; do
    "case_$name"
done
finish
