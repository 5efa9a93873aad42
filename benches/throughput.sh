#!/usr/bin/env bash
# Throughput and latency of MSS clamping on a router: plain forwarding, the kernel's TCPMSS
# target and tcpmssd behind NFQUEUE, alternated round by round (issue 6). Root, Linux; runs in
# network namespaces with documentation addresses only, all removed on exit.
#
#   bash benches/throughput.sh [--rounds N] [--seconds S] [--connects N]
#
# The benchmark is the ignored test `throughput_benchmark` in tests/throughput.rs, built in
# release mode so that the daemon it runs is the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=7 seconds=3 connects=1000
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --connects) connects=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--seconds S] [--connects N]" >&2; exit 64 ;;
    esac
done
[ "$(id -u)" -eq 0 ] || { echo "throughput.sh: needs root (network namespaces)" >&2; exit 77; }
echo "# $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), Linux $(uname -r)"
TCPMSSD_BENCH_ROUNDS=$rounds TCPMSSD_BENCH_SECONDS=$seconds TCPMSSD_BENCH_CONNECTS=$connects \
    cargo test --release --test throughput -- --ignored --nocapture --test-threads 1 2>&1 |
    grep -v -e '^\[tcpmssd' -e '^running ' -e '^test ' -e '^$' -e '^test result' -e 'Finished\|Running\|Compiling'
