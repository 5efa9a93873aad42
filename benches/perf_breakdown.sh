#!/usr/bin/env bash
# Where each CPU's time goes in the profiles that `bash benches/throughput.sh --perf DIR` wrote
# (perf record -a -g, one flood per mode): for each DIR/<mode>.data, per CPU, the share of that
# CPU's samples spent in (under) each kernel function of the path, and the samples of the
# consumer's process. Shares nest (the enqueue runs inside the generator's send on CPU 0, the
# forwarding inside the consumer's verdict on CPU 1), so they do not add up to 100 %.
#
#   bash benches/perf_breakdown.sh DIR
set -euo pipefail
dir=${1:?usage: $0 DIR}
command -v perf >/dev/null || { echo "perf_breakdown.sh: needs perf (linux-perf)" >&2; exit 69; }

# function: what it stands for
groups=(
    "packet_sendmsg:generator's send (all of CPU 0's path runs inside it)"
    "process_backlog:receive of a frame (r from a on CPU 0; b from r after a verdict)"
    "ip_forward:r's forwarding up to the mangle FORWARD hook"
    "tcpmss_tg4:kernel TCPMSS target"
    "__nfqnl_enqueue_packet:NFQUEUE enqueue: message built, queued, sent to the socket"
    "netlink_unicast:  netlink delivery (enqueue on CPU 0, verdicts on CPU 1)"
    "___slab_alloc:slab allocation slow path"
    "do_recvmmsg:consumer reads (recvmmsg)"
    "__sys_recvfrom:consumer reads (recvfrom)"
    "__sys_sendmsg:consumer verdicts (sendmsg)"
    "__sys_sendto:consumer verdicts (sendto)"
    "nfqnl_recv_verdict:  verdicts handled by the kernel"
    "nfqnl_reinject:    of which the packet's way on (forwarding to b, b's receive)"
    "do_sys_poll:consumer waits (ppoll)"
)

for data in "$dir"/*.data; do
    mode=$(basename "$data" .data)
    echo "== $mode"
    for cpu in 0 1; do
        report=$(perf report -i "$data" --cpu "$cpu" --children --sort sym -g none -q 2>/dev/null)
        comms=$(perf report -i "$data" --cpu "$cpu" --no-children --sort comm -g none -q 2>/dev/null |
            head -n 3 | awk '{ printf "%s %s, ", $2, $1 }')
        echo "  CPU $cpu: ${comms%, }"
        for entry in "${groups[@]}"; do
            symbol=${entry%%:*}
            what=${entry#*:}
            share=$(awk -v s="$symbol" '$NF == s { print $1; exit }' <<<"$report")
            [ -n "$share" ] && printf '    %-8s %-28s %s\n' "$share" "$symbol" "$what"
        done
    done
done
