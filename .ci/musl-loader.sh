#!/usr/bin/env bash
# Builds musl's dynamic loader (musl's libc.so, which is also ld-musl-ARCH.so.1) for a router
# CPU, so that qemu-user can run the dynamically linked firmware builds (.ci/firmware.sh) as
# OpenWrt runs them. musl 1.2.3, Debian 12's: the source comes from Debian's archive through
# apt (its hashes checked against the signed release), compiled by zig's clang (no cross gcc).
#   bash .ci/musl-loader.sh TRIPLE ROOT BUILTINS
# TRIPLE is zig's (arm-linux-musleabihf, mipsel-linux-musleabi, mips-linux-musleabi); the
# loader lands in ROOT/lib under the name the binaries ask for, and ROOT is then qemu's -L.
# BUILTINS is the compiler_builtins rlib of a position-independent Rust build for the same
# CPU (the release builds of .ci/routers.sh), given to musl as its libgcc (LIBCC). zig's own
# (what -lgcc gives) cannot serve: its memcpy, memset, strlen and the like are weak and
# hidden, and one hidden definition hides musl's own too, so libc.so would not export them
# (every dynamic binary then fails: "memset: symbol not found"). Rust's has none of those for
# musl targets; complex multiplication, which it lacks, is made inline (-fcx-limited-range:
# only musl's cpow uses it, nothing the daemon calls).
# Nothing is rebuilt when ROOT already has it. One to two minutes per CPU on 2 shared cores.
set -euo pipefail

triple=$1 root=$2 builtins=$3
case $triple in
arm-linux-musleabihf) musl_target=arm-linux-musleabihf loader=ld-musl-armhf.so.1 cflags=() ;;
mipsel-linux-musleabi) musl_target=mipsel-linux-musl loader=ld-musl-mipsel-sf.so.1 cflags=(-msoft-float) ;;
mips-linux-musleabi) musl_target=mips-linux-musl loader=ld-musl-mips-sf.so.1 cflags=(-msoft-float) ;;
*) echo "musl-loader.sh: no loader name known for $triple" >&2; exit 2 ;;
esac
[ -e "$root/lib/$loader" ] && exit 0

work=$(realpath -m "$root/../musl-src")
version=1.2.3
source=$work/musl-$version
if [ ! -d "$source" ]; then
    # A private apt state: only deb-src lines, the system's lists untouched.
    mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
    # shellcheck source=/dev/null
    . /etc/os-release
    echo "deb-src http://deb.debian.org/debian ${VERSION_CODENAME:-bookworm} main" \
        >"$work/apt/sources.list"
    apt=(-o "Dir::Etc::SourceList=$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
        -o APT::Sandbox::User=root)
    timeout 300 apt-get "${apt[@]}" update -qq
    (cd "$work" && timeout 300 apt-get "${apt[@]}" source --download-only -qq "musl=$version-1")
    tar -xzf "$work/musl_$version.orig.tar.gz" -C "$work"
fi

zig=$(command -v zig ||
    echo "$(python3 -c 'import ziglang, os; print(os.path.dirname(ziglang.__file__))')/zig")
build=$work/build-$triple
mkdir -p "$build"
(cd "$build" &&
    "$source/configure" --target="$musl_target" --disable-static --prefix=/ \
        CC="$zig cc -target $triple -fcx-limited-range ${cflags[*]}" LIBCC="$builtins" \
        >configure.log 2>&1 &&
    nice -n 10 make -j"$(nproc)" lib/libc.so >make.log 2>&1) || {
    tail -n 20 "$build/configure.log" "$build/make.log" >&2
    exit 1
}
mkdir -p "$root/lib"
cp "$build/lib/libc.so" "$root/lib/$loader"
