#!/usr/bin/env bash
# Throughput of MSS clamping at saturation (issue 18): plain forwarding, the kernel's TCPMSS
# target, tcpmssd (detached, and with -v), and a C consumer on libnetfilter_queue (classic and
# batched), alternated round by round while an AF_PACKET generator on CPU 0 offers more SYNs
# than any of them takes; then a rate sweep per consumer. Root, Linux; runs in network
# namespaces with documentation addresses only, all removed on exit, also on failure or ^C.
#
#   bash benches/throughput.sh [--rounds N] [--seconds S] [--modes LIST] [--no-sweep]
#                              [--perf DIR] [--syscalls] [--baseline BIN] [--nice N]
#
# Builds what it needs: the ignored test `throughput_benchmark` of tests/throughput.rs in
# release mode (so the daemon it runs is the release build), and benches/nfq_clamp.c, for which
# it installs libnetfilter-queue-dev and libmnl-dev with apt-get when pkg-config lacks them.
# --modes takes keys from plain,kernel,ebpf,tcpmssd,tcpmssd-v,c-classic,c-batched,baseline
# (ebpf: tcpmssd -e, the classifier on r's interface toward b, no queue); --perf
# DIR adds one round per mode under `perf record -a -g` (DIR/<mode>.data); --baseline BIN runs
# another tcpmssd binary as one more mode, paired round by round with this one; --syscalls
# adds one round per consumer under `perf stat` of its system calls.
#
# Priority: with sched_autogroup (on in most distributions' kernels) every session is one
# scheduling entity, so another user's job at nice 19 in its own session still takes its
# full share of a CPU from ours. The kernel mode needs one CPU and leaves the other to such a
# job; the consumers need both, so background load is charged to them alone. The benchmark
# therefore runs in a session of its own whose autogroup gets nice -10 (--nice; 0 to measure
# without it), and the test gives the detached daemon, which starts its own session, the same.
set -euo pipefail
script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$script")/.."
rounds=11 seconds=0.7 nice=-10 modes='' sweep=1 perf='' baseline='' syscalls=''
usage() {
    echo "usage: $0 [--rounds N] [--seconds S] [--modes LIST] [--no-sweep] [--perf DIR]" \
        "[--syscalls] [--baseline BIN] [--nice N]" >&2
    exit 64
}
args=("$@")
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=${2:?}; shift 2 ;;
    --seconds) seconds=${2:?}; shift 2 ;;
    --modes) modes=${2:?}; shift 2 ;;
    --no-sweep) sweep=0; shift ;;
    --perf) perf=$(realpath -m "${2:?}"); shift 2 ;;
    --baseline) baseline=$(realpath "${2:?}"); shift 2 ;;
    --syscalls) syscalls=1; shift ;;
    --nice) nice=${2:?}; shift 2 ;;
    *) usage ;;
    esac
done
[[ $nice =~ ^-?[0-9]+$ ]] && ((nice >= -20 && nice <= 19)) ||
    { echo "throughput.sh: --nice takes -20..19" >&2; exit 64; }
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "throughput.sh: --rounds takes a count" >&2; exit 64; }
[[ $seconds =~ ^[0-9]*\.?[0-9]+$ ]] || { echo "throughput.sh: --seconds takes a number" >&2; exit 64; }
[ "$(id -u)" -eq 0 ] || { echo "throughput.sh: needs root (network namespaces)" >&2; exit 77; }

# The session: this instance waits and turns ^C into SIGTERM for the second one (a new
# session no longer hears the terminal), whose test then removes its namespaces as usual.
if [ -z "${TCPMSSD_BENCH_SESSION:-}" ] && command -v setsid >/dev/null; then
    export TCPMSSD_BENCH_SESSION=1
    setsid bash "$script" "${args[@]}" &
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

# The C peer: libnetfilter_queue and libmnl from the distribution.
if ! pkg-config --exists libnetfilter_queue libmnl 2>/dev/null; then
    if command -v apt-get >/dev/null; then
        echo "# installing libnetfilter-queue-dev libmnl-dev" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends libnetfilter-queue-dev libmnl-dev pkg-config \
            >/dev/null
    fi
fi
target_dir=${CARGO_TARGET_DIR:-target}
mkdir -p "$target_dir/release"
c_consumer=
if pkg-config --exists libnetfilter_queue libmnl 2>/dev/null; then
    c_consumer=$(realpath "$target_dir/release/nfq-clamp")
    # shellcheck disable=SC2046 # pkg-config prints several words on purpose
    cc -O2 -Wall -Wextra -o "$c_consumer" benches/nfq_clamp.c \
        $(pkg-config --cflags --libs libnetfilter_queue libmnl)
else
    echo "throughput.sh: libnetfilter_queue not found: the C consumers are left out" >&2
fi

echo "# $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), Linux $(uname -r), $(date -u +%F)"
echo "# autogroup: $(cat /proc/self/autogroup 2>/dev/null || echo none); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $rounds rounds of ${seconds} s per mode, generator on CPU 0, consumers on CPU 1"

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
    TCPMSSD_BENCH_ROUNDS=$rounds TCPMSSD_BENCH_SECONDS=$seconds TCPMSSD_BENCH_SWEEP=$sweep \
        TCPMSSD_BENCH_C=$c_consumer TCPMSSD_BENCH_MODES=$modes TCPMSSD_BENCH_PERF=$perf \
        TCPMSSD_BENCH_BASELINE=$baseline TCPMSSD_BENCH_SYSCALLS=$syscalls \
        TCPMSSD_BENCH_VARIANTS=${TCPMSSD_BENCH_VARIANTS:-} \
        "$exe" throughput_benchmark --exact --ignored --nocapture --test-threads 1 2>&1 &
    echo "$!" >"$tmp/pid"
    status=0
    wait "$!" || status=$?
    echo "$status" >"$tmp/status"
} |
    # The harness's "test throughput_benchmark ... " has no newline before the first round.
    sed -u 's/^test throughput_benchmark \.\.\. //' |
    grep -v -e '^running ' -e '^test ' -e '^$' -e '^test result' -e '^ok$' &
# In the background so that a signal is handled at once, not when the pipeline ends.
wait "$!" || true
exit "$(cat "$tmp/status" 2>/dev/null || echo 1)"
