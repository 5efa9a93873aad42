#!/usr/bin/env bash
# CI for the OpenWrt package (dist/openwrt, issue 23 part 4):
# 1. its scripts: sh -n / busybox sh -n / bash -n and shellcheck;
# 2. tests/openwrt/run.sh: PKG_VERSION against Cargo.toml, the init script under busybox sh
#    with stub procd/UCI/netifd for each case in tests/openwrt/cases, the rules through nft -c;
# 3. the daemon built as the packages feed builds it: lang/rust/rust-values.mk's profile
#    (CARGO_PROFILE_RELEASE_PANIC=unwind, OPT_LEVEL=z, OVERFLOW_CHECKS=true, LTO, one codegen
#    unit, no debug info or assertions) and RUSTFLAGS (-Ctarget-feature=-crt-static, and
#    -lssp_nonshared as OpenWrt's default stack protector adds), for x86_64 musl, linked as
#    OpenWrt links it: by a gcc driver (musl-gcc), dynamically, against libc.so and
#    libgcc_s.so.1. Its size; the feed's generic version check; the command-line, start-up and
#    end-to-end tests against it;
# 4. the same profile for mipsel-unknown-linux-musl (nightly, std from source, linked by zig as
#    .ci/routers.sh does): it builds, and its size;
# 5. tests/openwrt/nft-vm.sh: the rules whole, on Debian's arm64 kernel (this kernel has no
#    nft_queue).
# What cannot run here is one "!!! SKIPPED: ... !!!" line. Run from .ci/run; alone:
#   bash .ci/openwrt.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=.ci/lib.sh
. .ci/lib.sh
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
started=$SECONDS

# Debian packages the steps need, installed when missing (busybox, not dash, is the shell of
# OpenWrt's init scripts).
need=()
command -v busybox >/dev/null 2>&1 || need+=(busybox)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v musl-gcc >/dev/null 2>&1 || need+=(musl-tools)
if ((${#need[@]})) && [ "$(id -u)" -eq 0 ]; then
	DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
		"${need[@]}" >/dev/null 2>&1 || echo "openwrt.sh: could not install ${need[*]}" >&2
fi

step "OpenWrt package scripts: syntax and shellcheck"
scripts=(dist/openwrt/files/tcpmssd.init tests/openwrt/stubs.sh tests/openwrt/case.sh
	tests/openwrt/root/lib/functions/network.sh tests/openwrt/nft-guest.sh)
for script in "${scripts[@]}"; do
	sh -n "$script"
	if command -v busybox >/dev/null 2>&1; then busybox sh -n "$script"; fi
done
bash -n tests/openwrt/run.sh tests/openwrt/nft-vm.sh .ci/openwrt.sh
if command -v shellcheck >/dev/null 2>&1; then
	shellcheck -x "${scripts[@]}" tests/openwrt/run.sh tests/openwrt/nft-vm.sh .ci/openwrt.sh
	echo "shellcheck: clean"
else
	skipped "shellcheck is not installed; the OpenWrt scripts were only checked with sh -n"
fi

step "the init script under busybox sh, the rules through nft: tests/openwrt/run.sh"
bash tests/openwrt/run.sh

# rust-values.mk's CARGO_PKG_CONFIG_VARS, as Build/Compile/Cargo (rust-package.mk) passes them
# to `cargo install --profile release --locked`; the build here is that compile.
openwrt_profile=(
	CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
	CARGO_PROFILE_RELEASE_DEBUG=false
	CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=false
	CARGO_PROFILE_RELEASE_LTO=true
	CARGO_PROFILE_RELEASE_OPT_LEVEL=z
	CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true
	CARGO_PROFILE_RELEASE_PANIC=unwind
	CARGO_PROFILE_RELEASE_RPATH=false
)
# describe BINARY: its size and how it is linked.
describe() {
	local interpreter needed
	interpreter=$(elf_interpreter "$1")
	needed=$(elf_needed "$1" | paste -sd ' ')
	echo "$1: $(stat -c %s "$1") bytes, ${interpreter:-static}${needed:+, needs $needed}"
}

step "tcpmssd as OpenWrt builds it, x86_64 musl: size, version check, tests"
build=$target_dir/openwrt-build
if ! command -v musl-gcc >/dev/null 2>&1; then
	skipped "musl-gcc is missing (apt-get install musl-tools); the OpenWrt profile build was NOT made or tested"
elif ! have_target x86_64-unknown-linux-musl; then
	skipped "rustup cannot install x86_64-unknown-linux-musl; the OpenWrt profile build was NOT made or tested"
else
	# OpenWrt's toolchain has a libgcc_s.so.1 built for musl (package libgcc, which libc
	# depends on); Debian's is built for glibc and does not load under musl. rustup's own
	# libunwind for this target, made a shared library under that name, stands in for it: the
	# binary links against it by name, as it links against OpenWrt's.
	libgcc=$build/libgcc
	mkdir -p "$libgcc"
	sysroot=$(rustc --print sysroot)
	musl-gcc -shared -o "$libgcc/libgcc_s.so.1" -Wl,-soname,libgcc_s.so.1 -Wl,--whole-archive \
		"$sysroot/lib/rustlib/x86_64-unknown-linux-musl/lib/self-contained/libunwind.a" \
		-Wl,--no-whole-archive
	env "${openwrt_profile[@]}" CARGO_BUILD_TARGET=x86_64-unknown-linux-musl \
		CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=musl-gcc TARGET_CC=musl-gcc \
		RUSTFLAGS="-Ctarget-feature=-crt-static -lssp_nonshared -L$libgcc" \
		nice -n 10 cargo build --locked --release --bin tcpmssd --target-dir "$build"
	binary=$build/x86_64-unknown-linux-musl/release/tcpmssd
	describe "$binary"
	readelf -d "$binary" | grep -q 'NEEDED.*libgcc_s\.so\.1' ||
		{ echo "openwrt.sh: the binary does not link libgcc_s.so.1 as OpenWrt's does" >&2; exit 1; }
	# musl looks for libraries in /usr/lib/x86_64-linux-musl: the stand-in is laid over it in
	# a mount namespace of the command's own, so nothing changes outside it.
	with_libgcc() {
		# shellcheck disable=SC2016 # expanded by the inner sh: $0 is the stand-in's directory
		unshare -m sh -c 'mount -t overlay tcpmssd-libgcc -o "lowerdir=$0:/usr/lib/x86_64-linux-musl" \
			/usr/lib/x86_64-linux-musl && exec "$@"' "$libgcc" "$@"
	}
	if [ "$(id -u)" -ne 0 ] || ! with_libgcc true 2>/dev/null; then
		skipped "no mount namespace with an overlay here (needs root); the OpenWrt profile build was NOT run or tested"
	else
		# The packages feed's generic runtime test (openwrt/actions-shared-workflows,
		# test_entrypoint.sh): each executable with these flags in turn, until one prints
		# PKG_VERSION.
		pkg_version=$(sed -n 's/^PKG_VERSION:=//p' dist/openwrt/Makefile)
		found=
		for flag in --version -version version -v -V --help -help '-?'; do
			if with_libgcc timeout 5 "$binary" "$flag" 2>&1 | grep -F "$pkg_version"; then
				found=$flag
				break
			fi
		done
		[ -n "$found" ] || { echo "openwrt.sh: no flag makes tcpmssd print $pkg_version" >&2; exit 1; }
		echo "generic version check: tcpmssd $found prints PKG_VERSION $pkg_version"
		version=$(with_libgcc "$binary" -V)
		[ "$version" = "tcpmssd $pkg_version" ] ||
			{ echo "openwrt.sh: tcpmssd -V says '$version'" >&2; exit 1; }
		echo "tcpmssd -V: $version"
		# The same command-line, start-up and end-to-end tests as the release build's: panics
		# unwinding instead of aborting and overflow checks on must change nothing.
		with_libgcc env TCPMSSD_BIN="$binary" \
			nice -n 10 cargo test --locked --test e2e --test cli --test startup
	fi
fi

step "tcpmssd as OpenWrt builds it, mipsel musl (nightly, std from source, zig): builds, size"
if ! command -v cargo-zigbuild >/dev/null 2>&1 ||
	! { command -v zig >/dev/null 2>&1 || python3 -m ziglang version >/dev/null 2>&1; }; then
	skipped "cargo-zigbuild or zig missing (.ci/setup installs them); the mipsel OpenWrt profile build was NOT checked"
elif ! rustup +nightly component list --installed 2>/dev/null | grep -q '^rust-src'; then
	skipped "no nightly with rust-src; the mipsel OpenWrt profile build was NOT checked"
else
	# -Clink-arg=-dynamic: zig links musl statically unless told; OpenWrt's binaries are
	# dynamic. zig puts its own unwinder in the binary where OpenWrt's gcc links libgcc_s.so.1:
	# the one difference. -Clink-self-contained=no: as .ci/routers.sh, zig's musl supplies
	# the start files. panic_unwind: std built for PANIC=unwind.
	env "${openwrt_profile[@]}" \
		RUSTFLAGS="-Ctarget-feature=-crt-static -Clink-self-contained=no -Clink-arg=-dynamic" \
		nice -n 10 cargo +nightly zigbuild --locked --release --target mipsel-unknown-linux-musl \
		--bin tcpmssd -Zbuild-std=std,panic_unwind --target-dir "$target_dir/openwrt-zig"
	describe "$target_dir/openwrt-zig/mipsel-unknown-linux-musl/release/tcpmssd"
fi

step "the rules whole, on a kernel with nft_queue: tests/openwrt/nft-vm.sh"
bash tests/openwrt/nft-vm.sh

step "OpenWrt package: done in $((SECONDS - started)) s"
