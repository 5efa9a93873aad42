#!/bin/sh
# Tests dist/rc.d/tcpmssd on Linux: the script is sourced as rc(8) and service(8) run it,
# with the stand-ins of tests/rcd/rc.subr in place of /etc/rc.subr, once per case: an
# rc.conf, the command line ("start", "reload wg0", ...) and the pidfiles of processes that
# run. What the stand-ins print (the command daemon(8) would be started with, the signal
# sent, rc.subr's messages) and the exit status are compared with the expected lines below:
# no profile (the plain configuration), one and two profiles, and the mistakes.
# Run from .ci/run; alone: sh tests/rcd/run.sh
set -eu
cd "$(dirname "$0")/../.."

script=dist/rc.d/tcpmssd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The script as installed, but loading the stand-ins: exactly its one ". /etc/rc.subr" line
# is replaced.
[ "$(grep -c '^\. /etc/rc\.subr$' "$script")" -eq 1 ] || {
	echo "rcd: $script must load /etc/rc.subr on exactly one line" >&2
	exit 1
}
sed "s|^\. /etc/rc\.subr\$|. \"$PWD/tests/rcd/rc.subr\"|" "$script" >"$tmp/tcpmssd"

failures=0
cases=0

# check NAME RC_CONF RUNNING ARGS EXPECTED: runs the script with ARGS (word-split) under
# RC_CONF, with the pidfile=pid pairs of RUNNING, and compares its output and status with
# EXPECTED.
check()
{
	cases=$((cases + 1))
	printf '%s\n' "$2" >"$tmp/rc.conf"
	# shellcheck disable=SC2086 # ARGS are words
	got=$(
		set +e
		RCD_CONF="$tmp/rc.conf" RCD_RUNNING="$3" sh -c '. "$0"' "$tmp/tcpmssd" $4 2>&1
		echo "exit $?"
	)
	if [ "$got" = "$5" ]; then
		echo "ok   $1"
	else
		failures=$((failures + 1))
		echo "FAIL $1"
		printf '%s\n' "$5" >"$tmp/expected"
		printf '%s\n' "$got" >"$tmp/got"
		diff -u "$tmp/expected" "$tmp/got" | sed 's/^/     /' || true
	fi
}

daemon="/usr/sbin/daemon -r -R 1 -S -T tcpmssd"

# ---- no profiles: the plain configuration, as before profiles ---------------------------
plain='tcpmssd_enable="YES"
tcpmssd_flags="-p 1000 -i ng0"'

check "plain: start" "$plain" "" "start" "\
kldload ipdivert
run $daemon -t tcpmssd -P /var/run/tcpmssd.pid -p /var/run/tcpmssd.child.pid /usr/local/sbin/tcpmssd -f -p 1000 -i ng0
exit 0"

check "plain: stop" "$plain" "/var/run/tcpmssd.pid=100" "stop" "\
kill -TERM 100
exit 0"

check "plain: reload signals tcpmssd, not daemon(8)" "$plain" \
    "/var/run/tcpmssd.pid=100 /var/run/tcpmssd.child.pid=101" "reload" "\
kill -HUP 101
tcpmssd: MTU read again.
exit 0"

check "plain: info when not running" "$plain" "" "info" "\
tcpmssd is not running.
exit 1"

check "plain: a profile name without profiles is ignored" "$plain" "" "start wg0" "\
tcpmssd: no tcpmssd_profiles; \"wg0\" ignored
kldload ipdivert
run $daemon -t tcpmssd -P /var/run/tcpmssd.pid -p /var/run/tcpmssd.child.pid /usr/local/sbin/tcpmssd -f -p 1000 -i ng0
exit 0"

check "plain: pidfiles and delay from rc.conf" "$plain
tcpmssd_pidfile=/var/run/mss.pid
tcpmssd_child_pidfile=/var/run/mss.child.pid
tcpmssd_restart_delay=3" "" "start" "\
kldload ipdivert
run /usr/sbin/daemon -r -R 3 -S -T tcpmssd -t tcpmssd -P /var/run/mss.pid -p /var/run/mss.child.pid /usr/local/sbin/tcpmssd -f -p 1000 -i ng0
exit 0"

check "plain: no flags is an error naming the variable" 'tcpmssd_enable="YES"' "" "start" "\
$tmp/tcpmssd: ERROR: set tcpmssd_flags in rc.conf, e.g. tcpmssd_flags=\"-p 1000 -i ng0\"
exit 1"

check "plain: not enabled" 'tcpmssd_flags="-p 1000 -i ng0"' "" "start" "\
Cannot 'start' tcpmssd. Set tcpmssd_enable to YES in /etc/rc.conf or use 'onestart' instead of 'start'.
exit 0"

# ---- one profile -------------------------------------------------------------------------
one='tcpmssd_enable="YES"
tcpmssd_profiles="ng0"
tcpmssd_ng0_flags="-p 1000 -i ng0"'

check "one profile: start starts it" "$one" "" "start" "\
===> tcpmssd profile: ng0
kldload ipdivert
run $daemon -t tcpmssd_ng0 -P /var/run/tcpmssd_ng0.pid -p /var/run/tcpmssd_ng0.child.pid /usr/local/sbin/tcpmssd -f -p 1000 -i ng0
exit 0"

check "one profile: start ng0" "$one" "" "start ng0" "\
kldload ipdivert
run $daemon -t tcpmssd_ng0 -P /var/run/tcpmssd_ng0.pid -p /var/run/tcpmssd_ng0.child.pid /usr/local/sbin/tcpmssd -f -p 1000 -i ng0
exit 0"

check "one profile: tcpmssd_flags is not used" "$one
tcpmssd_flags=\"-p 7 -m 1400\"" "" "start" "\
===> tcpmssd profile: ng0
kldload ipdivert
run $daemon -t tcpmssd_ng0 -P /var/run/tcpmssd_ng0.pid -p /var/run/tcpmssd_ng0.child.pid /usr/local/sbin/tcpmssd -f -p 1000 -i ng0
exit 0"

check "one profile: stop" "$one" "/var/run/tcpmssd_ng0.pid=200" "stop" "\
===> tcpmssd profile: ng0
kill -TERM 200
exit 0"

# ---- two profiles ------------------------------------------------------------------------
two='tcpmssd_enable="YES"
tcpmssd_profiles="ng0 wg0"
tcpmssd_ng0_flags="-p 1000 -i ng0"
tcpmssd_wg0_flags="-b -p 1001 -i wg0 -u nobody"
tcpmssd_wg0_restart_delay="5"'

check "two profiles: start starts both, each with its own pidfiles" "$two" "" "start" "\
===> tcpmssd profile: ng0
kldload ipdivert
run $daemon -t tcpmssd_ng0 -P /var/run/tcpmssd_ng0.pid -p /var/run/tcpmssd_ng0.child.pid /usr/local/sbin/tcpmssd -f -p 1000 -i ng0
===> tcpmssd profile: wg0
kldload ipdivert
run /usr/sbin/daemon -r -R 5 -S -T tcpmssd -t tcpmssd_wg0 -P /var/run/tcpmssd_wg0.pid -p /var/run/tcpmssd_wg0.child.pid /usr/local/sbin/tcpmssd -f -b -p 1001 -i wg0 -u nobody
exit 0"

check "two profiles: start wg0 starts wg0 alone" "$two" "" "start wg0" "\
kldload ipdivert
run /usr/sbin/daemon -r -R 5 -S -T tcpmssd -t tcpmssd_wg0 -P /var/run/tcpmssd_wg0.pid -p /var/run/tcpmssd_wg0.child.pid /usr/local/sbin/tcpmssd -f -b -p 1001 -i wg0 -u nobody
exit 0"

check "two profiles: reload wg0 signals wg0's tcpmssd" "$two" \
    "/var/run/tcpmssd_ng0.child.pid=301 /var/run/tcpmssd_wg0.pid=400 /var/run/tcpmssd_wg0.child.pid=401" \
    "reload wg0" "\
kill -HUP 401
tcpmssd_wg0: MTU read again.
exit 0"

check "two profiles: info, one running" "$two" \
    "/var/run/tcpmssd_wg0.pid=400 /var/run/tcpmssd_wg0.child.pid=401" "info" "\
===> tcpmssd profile: ng0
tcpmssd_ng0 is not running.
===> tcpmssd profile: wg0
kill -INFO 401
tcpmssd_wg0: counters logged to syslog (daemon.info).
exit 1"

check "two profiles: stop stops both" "$two" \
    "/var/run/tcpmssd_ng0.pid=300 /var/run/tcpmssd_wg0.pid=400" "stop" "\
===> tcpmssd profile: ng0
kill -TERM 300
===> tcpmssd profile: wg0
kill -TERM 400
exit 0"

check "two profiles: status" "$two" "/var/run/tcpmssd_ng0.pid=300" "status" "\
===> tcpmssd profile: ng0
tcpmssd is running as pid 300.
===> tcpmssd profile: wg0
tcpmssd not running? (check /var/run/tcpmssd_wg0.pid).
exit 1"

check "two profiles: one disabled" "$two
tcpmssd_wg0_enable=\"NO\"" "" "start" "\
===> tcpmssd profile: ng0
kldload ipdivert
run $daemon -t tcpmssd_ng0 -P /var/run/tcpmssd_ng0.pid -p /var/run/tcpmssd_ng0.child.pid /usr/local/sbin/tcpmssd -f -p 1000 -i ng0
===> tcpmssd profile: wg0
Cannot 'start' tcpmssd. Set tcpmssd_enable to YES in /etc/rc.conf or use 'onestart' instead of 'start'.
exit 0"

check "two profiles: one enabled alone" 'tcpmssd_profiles="ng0 wg0"
tcpmssd_ng0_flags="-p 1000 -i ng0"
tcpmssd_wg0_flags="-p 1001 -i wg0"
tcpmssd_wg0_enable="YES"' "" "start" "\
===> tcpmssd profile: ng0
Cannot 'start' tcpmssd. Set tcpmssd_enable to YES in /etc/rc.conf or use 'onestart' instead of 'start'.
===> tcpmssd profile: wg0
kldload ipdivert
run $daemon -t tcpmssd_wg0 -P /var/run/tcpmssd_wg0.pid -p /var/run/tcpmssd_wg0.child.pid /usr/local/sbin/tcpmssd -f -p 1001 -i wg0
exit 0"

check "two profiles: one without flags fails, the other starts" 'tcpmssd_enable="YES"
tcpmssd_profiles="ng0 wg0"
tcpmssd_ng0_flags="-p 1000 -i ng0"' "" "start" "\
===> tcpmssd profile: ng0
kldload ipdivert
run $daemon -t tcpmssd_ng0 -P /var/run/tcpmssd_ng0.pid -p /var/run/tcpmssd_ng0.child.pid /usr/local/sbin/tcpmssd -f -p 1000 -i ng0
===> tcpmssd profile: wg0
$tmp/tcpmssd: ERROR: set tcpmssd_wg0_flags in rc.conf, e.g. tcpmssd_wg0_flags=\"-p 1000 -i ng0\"
exit 1"

check "a profile name that cannot name a variable" 'tcpmssd_enable="YES"
tcpmssd_profiles="wg-0"' "" "start" "\
===> tcpmssd profile: wg-0
$tmp/tcpmssd: ERROR: profile \"wg-0\": use letters, digits and _ only (it names tcpmssd_wg-0_flags)
exit 1"

check "profiles: start of a name given on the command line" "$two" "" "start x;y" "\
$tmp/tcpmssd: ERROR: profile \"x;y\": use letters, digits and _ only (it names tcpmssd_x;y_flags)
exit 1"

echo "rcd: $cases cases, $failures failed"
[ "$failures" -eq 0 ]
