# shellcheck shell=dash
# Stand-ins for what OpenWrt gives an init script, for tests/openwrt/run.sh: UCI
# (/lib/functions.sh), procd (/lib/functions/procd.sh), rc.common's extra_command, logger and
# fw4. Sourced by busybox sh before the init script; the procd calls are printed, one
# instance as one block, so that a test compares the command lines with what it expects.
# tests/openwrt/root/lib/functions/network.sh stands in for netifd's state.
#
# FIXTURE: the case's directory: `tcpmssd` and `network` in UCI syntax, `ifstatus` with
# netifd's view of each interface ("wan l3_device=pppoe-wan device=eth1", one per line).

# A UCI file is shell once `package`, `config`, `option` and `list` are commands: that is the
# form `uci export` prints, which OpenWrt's config_load evaluates the same way.
package() { :; }
config() {
	local name="$2"
	if [ -z "$name" ]; then
		# uci names an anonymous section cfgXXXXXX; any unique name serves here.
		_uci_anonymous=$((_uci_anonymous + 1))
		name=$(printf 'cfg%02x' "$_uci_anonymous")
	fi
	_uci_section=$name
	_uci_sections="$_uci_sections $name"
	eval "CONFIG_${name}_TYPE=\$1"
}
option() {
	eval "CONFIG_${_uci_section}_$1=\$2"
}
list() {
	echo "stubs.sh: list is not stubbed ($_uci_section.$1)" >&2
	return 1
}
config_load() {
	_uci_sections='' _uci_anonymous=0
	# shellcheck source=/dev/null
	. "$FIXTURE/$1"
}
# config_get VARIABLE SECTION OPTION [DEFAULT]: an empty value gives the default, as OpenWrt's.
config_get() {
	eval "$1=\${CONFIG_$2_$3:-\$4}"
}
config_get_bool() {
	local value
	config_get value "$2" "$3" "$4"
	case "$value" in
	1 | on | true | yes | enabled) value=1 ;;
	0 | off | false | no | disabled) value=0 ;;
	*) value=$4 ;;
	esac
	eval "$1=\$value"
}
config_foreach() {
	local function="$1" type="$2" section section_type
	for section in $_uci_sections; do
		eval "section_type=\$CONFIG_${section}_TYPE"
		[ "$section_type" = "$type" ] && "$function" "$section"
	done
	return 0
}
# uci_get PACKAGE SECTION OPTION [DEFAULT]: prints the value, or DEFAULT; another package than
# the one loaded, so in a subshell, as the real one runs uci(1).
uci_get() {
	(
		local value
		config_load "$1"
		config_get value "$2" "$3"
		if [ -n "$value" ]; then
			echo "$value"
		elif [ -n "$4" ]; then
			echo "$4"
			return 1
		else
			return 1
		fi
	)
}

# Each argument as a shell word: bare when it needs no quotes, else in single quotes.
_words() {
	local word out=''
	for word in "$@"; do
		case "$word" in
		'' | *[!A-Za-z0-9_./:=@%+,-]*) word="'$word'" ;;
		esac
		out="$out${out:+ }$word"
	done
	echo "$out"
}

# procd: an instance is printed when it closes, its command line first, then its other
# parameters in the order they were set. PROCD_QUIET=1 prints nothing.
procd_open_instance() {
	_procd_instance=$1 _procd_command='' _procd_params=''
}
procd_set_param() {
	local type="$1"
	shift
	if [ "$type" = command ]; then
		_procd_command=$(_words "$@")
	else
		_procd_params="$_procd_params
  $type $(_words "$@")"
	fi
}
procd_append_param() {
	local type="$1"
	shift
	if [ "$type" = command ]; then
		_procd_command="$_procd_command $(_words "$@")"
	else
		_procd_params="$_procd_params
  $type (appended) $(_words "$@")"
	fi
}
procd_close_instance() {
	[ "$PROCD_QUIET" = 1 ] && return 0
	echo "instance $_procd_instance"
	echo "  command $_procd_command$_procd_params"
}
procd_add_reload_trigger() {
	echo "trigger config.change $(_words "$@") -> reload"
}
procd_add_reload_interface_trigger() {
	echo "trigger interface.* $(_words "$@") -> reload"
}
procd_send_signal() {
	echo "signal $(_words "$@")"
}
extra_command() { :; }

logger() {
	# logger -t TAG -p PRIORITY MESSAGE: the message is what a test compares.
	while [ $# -gt 1 ]; do shift; done
	echo "logger: $1"
}
fw4() {
	echo "fw4 $(_words "$@")"
}
