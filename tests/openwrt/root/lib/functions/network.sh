# shellcheck shell=dash
# Stands in for OpenWrt's /lib/functions/network.sh in tests/openwrt/run.sh: netifd's state
# of each interface comes from the file IFSTATUS names (a case's `ifstatus`), one interface per
# line:
#   wan l3_device=pppoe-wan device=eth1
# A field that is absent is one netifd does not report (no l3_device while a link is down);
# as in the real one, the variable is then emptied and the function returns 1.

__network_field() {
	local interface fields key_value
	while read -r interface fields; do
		[ "$interface" = "$2" ] || continue
		for key_value in $fields; do
			case "$key_value" in
			"$3"=*)
				eval "$1=\${key_value#*=}"
				return 0
				;;
			esac
		done
	done <"$IFSTATUS"
	eval "$1="
	return 1
}

network_get_device() { __network_field "$1" "$2" l3_device; }
network_get_physdev() { __network_field "$1" "$2" device; }
