# shellcheck shell=dash
# One case of tests/openwrt/run.sh, run by busybox sh: the calls /etc/rc.common makes, in one
# shell, as rc.common sources the init script and calls its functions. Printed on stdout.
# Environment: STUBS, INIT, IPKG_INSTROOT (the stand-in root), FIXTURE (the case's directory),
# IFSTATUS (netifd's state), WORK (a scratch directory), SAVE (where the rules of the first
# start are kept for the nft checks).

# shellcheck source=tests/openwrt/stubs.sh
. "$STUBS"
# shellcheck source=dist/openwrt/files/tcpmssd.init
. "$INIT"
RULES=$WORK/tcpmssd.nft

show_rules() {
	echo "== rules ($1)"
	if [ -e "$RULES" ]; then cat "$RULES"; else echo "(none)"; fi
}

if [ -f "$FIXTURE/rules.before" ]; then
	cp "$FIXTURE/rules.before" "$RULES"
	echo "== rules before start: rules.before"
fi
echo "== start_service"
start_service
echo "== service_triggers"
service_triggers
show_rules "after start"
if [ -e "$RULES" ]; then cp "$RULES" "$SAVE"; fi
if [ -f "$FIXTURE/ifstatus.after" ]; then
	export IFSTATUS="$FIXTURE/ifstatus.after"
	echo "== start_service again, netifd now as in ifstatus.after"
else
	echo "== start_service again, nothing changed"
fi
start_service
echo "== stats"
stats
echo "== stats wan"
stats wan
echo "== stop_service"
# shellcheck disable=SC2119 # as `/etc/init.d/tcpmssd stop`: no instance named
stop_service
show_rules "after stop"
