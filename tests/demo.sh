#!/usr/bin/env bash
# A throw-away demonstration, as root on Linux: namespaces a -- r -- b, tcpmssd on r behind
# an NFQUEUE rule, and a SYN from a that leaves with MSS 1460 and reaches b with MSS 1360.
# Only documentation addresses are used, and everything is removed on exit, even on error.
set -euo pipefail

bin=${TCPMSSD:-target/release/tcpmssd}
tag=tmssdemo$$
a=$tag-a r=$tag-r b=$tag-b
queue=7
capture=$(mktemp -d)

cleanup() {
    set +e
    [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    for ns in "$a" "$r" "$b"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null; done
    for ns in "$a" "$r" "$b"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$capture"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (network namespaces)" >&2; exit 77; }
[ -x "$bin" ] || { echo "demo: $bin not built; run cargo build --release" >&2; exit 66; }

for ns in "$a" "$r" "$b"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add a-r netns "$a" type veth peer name r-a netns "$r"
ip link add r-b netns "$r" type veth peer name b-r netns "$b"
ip -n "$a" addr add 198.51.100.1/24 dev a-r
ip -n "$r" addr add 198.51.100.254/24 dev r-a
ip -n "$r" addr add 203.0.113.254/24 dev r-b
ip -n "$b" addr add 203.0.113.1/24 dev b-r
for link in "$a a-r" "$r r-a" "$r r-b" "$b b-r"; do set -- $link; ip -n "$1" link set "$2" up; done
ip -n "$a" route add default via 198.51.100.254
ip -n "$b" route add default via 203.0.113.254
ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1

echo "# r: SYNs forwarded toward b go to NFQUEUE $queue; --queue-bypass lets them pass if tcpmssd is not running"
ip netns exec "$r" iptables -t mangle -A POSTROUTING -o r-b -p tcp --tcp-flags SYN,RST SYN \
    -j NFQUEUE --queue-num "$queue" --queue-bypass
ip netns exec "$r" iptables -t mangle -S POSTROUTING | tail -n 1

echo "# r: tcpmssd -v -p $queue -m 1400   (IPv4 MSS limit 1400 - 40 = 1360)"
ip netns exec "$r" "$bin" -v -p "$queue" -m 1400 &
daemon=$!
# Ready once r's queue table lists the queue as bound (copy mode 2, whole packets).
for _ in $(seq 50); do
    ip netns exec "$r" awk -v q="$queue" '$1 == q && $4 == 2 { found = 1 } END { exit !found }' \
        /proc/net/netfilter/nfnetlink_queue 2>/dev/null && break
    kill -0 "$daemon" 2>/dev/null || { echo "demo: tcpmssd exited" >&2; exit 1; }
    sleep 0.1
done

# -vv makes tcpdump verify the TCP checksum: "cksum 0x.... (correct)". On a, the veth leaves
# the checksum to offload, so tcpdump there calls it incorrect; r completes it before queueing.
ip netns exec "$a" timeout 6 tcpdump -i a-r -n -c 1 -vv 'tcp[tcpflags] & tcp-syn != 0' >"$capture/a" 2>/dev/null &
dump_a=$!
ip netns exec "$b" timeout 6 tcpdump -i b-r -n -c 1 -vv 'tcp[tcpflags] & tcp-syn != 0' >"$capture/b" 2>/dev/null &
dump_b=$!
sleep 1

echo "# a: connect to 203.0.113.1:80 (b answers with a reset; only the SYN matters)"
ip netns exec "$a" timeout 3 bash -c 'exec 3<>/dev/tcp/203.0.113.1/80' 2>/dev/null || true
wait "$dump_a" "$dump_b" || true

echo "# the SYN as a sent it:"
cat "$capture/a"
echo "# the SYN as b received it:"
cat "$capture/b"
grep -q 'mss 1360' "$capture/b" && grep -Eq 'cksum 0x[0-9a-f]+ \(correct\)' "$capture/b" ||
    { echo "demo: the SYN at b was not clamped to 1360 with a valid checksum" >&2; exit 1; }
echo "# clamped: MSS 1460 -> 1360, checksum valid"
