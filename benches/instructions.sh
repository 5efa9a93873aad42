#!/bin/bash
# Instructions per packet for each case of benches/core.rs, counted by callgrind: steady
# where times on a shared machine are not. Each case runs 1,000 and then 2,000 batches of
# 32 packets; the difference divided by 32,000 leaves out start-up and the set-up of the
# buffers. Usage: bash benches/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install -y valgrind)" >&2; exit 1; }
bench=$(cargo bench --bench core --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
[ -x "$bench" ] || { echo "could not build benches/core.rs" >&2; exit 1; }
batch=32
instructions() { # case batches
    local out
    out=$(mktemp)
    TCPMSSD_BENCH_BATCHES="$1:$2" valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$bench" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
    rm -f "$out"
}
printf '%-30s %s\n' case "instructions per packet"
for case in $(TCPMSSD_BENCH_BATCHES=list "$bench"); do
    low=$(instructions "$case" 1000)
    high=$(instructions "$case" 2000)
    awk -v case="$case" -v low="$low" -v high="$high" -v n=$((1000 * batch)) \
        'BEGIN { printf "%-30s %.1f\n", case, (high - low) / n }'
done
