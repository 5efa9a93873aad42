#!/usr/bin/env bash
# Throughput and latency of MSS clamping on a router: plain forwarding, the kernel's TCPMSS
# target and tcpmssd behind NFQUEUE, alternated round by round (issue 6). Root, Linux; runs in
# network namespaces with documentation addresses only, all removed on exit.
#
#   bash benches/throughput.sh [--rounds N] [--seconds S] [--connects N] [--nice N]
#
# The benchmark is the ignored test `throughput_benchmark` in tests/throughput.rs, built in
# release mode so that the daemon it runs is the release build.
#
# Priority: with sched_autogroup (on in most distributions' kernels) every session is one
# scheduling entity, so another user's job at nice 19 in its own session still takes its
# full share of a CPU from ours. The kernel mode needs one CPU and leaves the other to such a
# job; tcpmssd needs both, so background load is charged to tcpmssd alone. The benchmark
# therefore runs in a session of its own whose autogroup gets nice -10 (--nice; 0 to measure
# without it), and the test gives the daemon, which starts its own session, the same.
set -euo pipefail
script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$script")/.."
rounds=7 seconds=3 connects=1000 nice=-10
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --connects) connects=$2; shift 2 ;;
    --nice) nice=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--seconds S] [--connects N] [--nice N]" >&2; exit 64 ;;
    esac
done
[[ $nice =~ ^-?[0-9]+$ ]] && ((nice >= -20 && nice <= 19)) ||
    { echo "throughput.sh: --nice takes -20..19" >&2; exit 64; }
[ "$(id -u)" -eq 0 ] || { echo "throughput.sh: needs root (network namespaces)" >&2; exit 77; }

# The session: this instance waits and turns ^C into SIGTERM for the second one (a new
# session no longer hears the terminal), whose test then removes its namespaces as usual.
if [ -z "${TCPMSSD_BENCH_SESSION:-}" ] && command -v setsid >/dev/null; then
    export TCPMSSD_BENCH_SESSION=1
    setsid bash "$script" --rounds "$rounds" --seconds "$seconds" --connects "$connects" \
        --nice "$nice" &
    child=$!
    trap 'kill -TERM "$child" 2>/dev/null' INT TERM HUP
    status=0
    wait "$child" || status=$?
    while kill -0 "$child" 2>/dev/null; do status=0; wait "$child" || status=$?; done
    exit "$status"
fi
if [ -n "${TCPMSSD_BENCH_SESSION:-}" ] && [ -w /proc/self/autogroup ]; then
    echo "$nice" >/proc/self/autogroup
fi
echo "# $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), Linux $(uname -r)"
echo "# autogroup: $(cat /proc/self/autogroup 2>/dev/null || echo none)"

# The test binary runs as our child, so an interrupt can stop it and remove its namespaces
# (named tmss-<its pid>-…, tests/common/netns.rs), which its own Drop does only on a normal end.
exe=$(cargo test --release --test throughput --no-run 2>&1 |
    sed -n 's/^ *Executable tests\/throughput\.rs (\(.*\))$/\1/p' | tail -n 1)
[ -x "$exe" ] || { echo "throughput.sh: cannot build tests/throughput.rs" >&2; exit 1; }
tmp=$(mktemp -d)
cleanup() {
    local pid
    pid=$(cat "$tmp/pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    if [ -n "$pid" ]; then
        for ns in $(ip netns list | awk -v p="tmss-$pid-" 'index($1, p) == 1 { print $1 }'); do
            ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
            ip netns del "$ns" 2>/dev/null
        done
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' INT TERM HUP
{
    TCPMSSD_BENCH_ROUNDS=$rounds TCPMSSD_BENCH_SECONDS=$seconds TCPMSSD_BENCH_CONNECTS=$connects \
        "$exe" throughput_benchmark --exact --ignored --nocapture --test-threads 1 2>&1 &
    echo "$!" >"$tmp/pid"
    status=0
    wait "$!" || status=$?
    echo "$status" >"$tmp/status"
} |
    # The harness's "test throughput_benchmark ... " has no newline before the first round.
    sed -u 's/^test throughput_benchmark \.\.\. //' |
    grep -v -e '^\[tcpmssd' -e '^running ' -e '^test ' -e '^$' -e '^test result' -e '^ok$' &
# In the background so that a signal is handled at once, not when the pipeline ends.
wait "$!" || true
exit "$(cat "$tmp/status" 2>/dev/null || echo 1)"
