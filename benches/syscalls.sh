#!/usr/bin/env bash
# System calls per packet of the daemon: every TCP packet of an 8 MiB transfer a <- b is queued
# on r, and the release daemon runs under `strace -c`. Root, Linux; namespaces with
# documentation addresses only, removed on exit. Needs strace and python3.
#   cargo build --release && bash benches/syscalls.sh
set -euo pipefail
bin=${TCPMSSD:-target/release/tcpmssd}
out=$(mktemp -d)
t=tmsssc$$; a=$t-a r=$t-r b=$t-b
cleanup() { set +e; for ns in $a $r $b; do ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null; done; sleep 0.3; for ns in $a $r $b; do ip netns del $ns 2>/dev/null; done; }
trap 'cleanup; rm -rf "$out"' EXIT
for ns in $a $r $b; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add a-r netns $a type veth peer name r-a netns $r
ip link add r-b netns $r type veth peer name b-r netns $b
ip -n $a addr add 198.51.100.1/24 dev a-r; ip -n $r addr add 198.51.100.254/24 dev r-a
ip -n $r addr add 203.0.113.254/24 dev r-b; ip -n $b addr add 203.0.113.1/24 dev b-r
for l in "$a a-r" "$r r-a" "$r r-b" "$b b-r"; do set -- $l; ip -n $1 link set $2 up; done
ip -n $a route add default via 198.51.100.254; ip -n $b route add default via 203.0.113.254
ip netns exec $r sysctl -qw net.ipv4.ip_forward=1
ip netns exec $r iptables -t mangle -A FORWARD -p tcp -j NFQUEUE --queue-num 9
ip netns exec $r strace -c -f -o $out/strace $bin -v -p 9 -m 1400 2>$out/daemon &
sleep 1
ip netns exec $b python3 -c '
import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("203.0.113.1", 8080)); s.listen(1)
c,_=s.accept(); data=b"x"*65536
for _ in range(128): c.sendall(data)
c.close()' &
sleep 0.5
ip netns exec $a python3 -c '
import socket, time
s=socket.create_connection(("203.0.113.1", 8080)); n=0; t=time.time()
while True:
    d=s.recv(65536)
    if not d: break
    n+=len(d)
print("received", n, "bytes in", round(time.time()-t,3), "s")'
ip netns exec $r awk '$1 == 9 {print "queued packets (id_sequence):", $8}' /proc/net/netfilter/nfnetlink_queue
ip netns pids $r | xargs -r kill -TERM
sleep 1
tail -3 $out/daemon
grep -E "calls|recvfrom|recvmmsg|sendmsg|ppoll|sendto|rt_sig|total" $out/strace
