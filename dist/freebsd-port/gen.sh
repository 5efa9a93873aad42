#!/bin/sh
# Writes the port's generated files from the sources they copy, since the ports tree's own
# tool (`make cargo-crates`) needs a FreeBSD host:
#   net/tcpmssd/Makefile.crates     every crates.io package of Cargo.lock, in its order and
#                                   in the layout `make cargo-crates` prints (the workspace's
#                                   own packages, which have no source, are left out)
#   net/tcpmssd/files/tcpmssd.in    dist/rc.d/tcpmssd with /usr/local as %%PREFIX%%
# With --check, writes nothing and fails, showing the difference, if either is not current
# (CI runs it that way). Run after every change to Cargo.lock or to the rc.d script.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
port=$here/net/tcpmssd

crates()
{
	# Cargo.lock: a [[package]] table per package, with name, version and, for a registry
	# package, source; crates.io's is recorded under this name whatever protocol fetched it.
	awk '
	function flush() {
		if (source == "registry+https://github.com/rust-lang/crates.io-index")
			crate[n++] = name "-" version
		name = version = source = ""
	}
	/^\[\[package\]\]$/ { flush() }
	/^name = "/ { name = $3; gsub(/"/, "", name) }
	/^version = "/ { version = $3; gsub(/"/, "", version) }
	/^source = "/ { source = $3; gsub(/"/, "", source) }
	END {
		flush()
		for (i = 0; i < n; i++)
			printf "%s\t%s%s\n", (i == 0 ? "CARGO_CRATES=" : "\t"), crate[i], (i < n - 1 ? " \\" : "")
	}' "$root/Cargo.lock"
}

rc_script()
{
	sed 's|/usr/local/|%%PREFIX%%/|g' "$root/dist/rc.d/tcpmssd"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
crates >"$tmp/Makefile.crates"
rc_script >"$tmp/tcpmssd.in"

if [ "${1:-}" = --check ]; then
	stale=0
	for file in Makefile.crates files/tcpmssd.in; do
		if ! diff -u "$port/$file" "$tmp/${file##*/}"; then
			echo "dist/freebsd-port/net/tcpmssd/$file is not current: run sh dist/freebsd-port/gen.sh" >&2
			stale=1
		fi
	done
	[ "$stale" -eq 0 ] && echo "dist/freebsd-port: Makefile.crates ($(grep -c . "$tmp/Makefile.crates") crates) and files/tcpmssd.in are current"
	exit "$stale"
fi
cp "$tmp/Makefile.crates" "$port/Makefile.crates"
cp "$tmp/tcpmssd.in" "$port/files/tcpmssd.in"
