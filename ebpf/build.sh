#!/usr/bin/env bash
# Rebuilds the committed eBPF objects, daemon/linux/ebpf/tcpmssd-bpfel.o and -bpfeb.o, from
# this crate with the pinned nightly (rust-toolchain.toml) and bpf-linker, installing both
# when missing. The daemon's stable build only reads the objects; this is the one command
# that makes them. `bash ebpf/build.sh [output folder]`.
#
# The recipe is the one research/ebpf.md found working: bpf-linker 0.13.0 built against the
# nightly's own libLLVM (its default feature targets another LLVM major, and it links
# -lLLVM from $LLVM_PREFIX/lib), `-Z build-std=core`, and three flags the verifier needs:
# target-cpu v3 (alu32: bounds survive into bpf_skb_load_bytes' length),
# no in-order memcpy expansion and no memory builtins (no exported memset with misaligned
# stores).
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
out=$(realpath -m "${1:-../daemon/linux/ebpf}")

toolchain=$(sed -n 's/^channel = "\(.*\)"$/\1/p' rust-toolchain.toml)
llvm_major=22
linker_version=0.13.0
cache=${TCPMSSD_EBPF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tcpmssd-ebpf}

if ! rustup run "$toolchain" rustc -V >/dev/null 2>&1 ||
    ! [ -d "$(rustup run "$toolchain" rustc --print sysroot)/lib/rustlib/src/rust/library" ]; then
    rustup toolchain install "$toolchain" --profile minimal --component rust-src
fi
sysroot=$(rustup run "$toolchain" rustc --print sysroot)
major=$(rustup run "$toolchain" rustc -vV | sed -n 's/^LLVM version: \([0-9]*\)\..*/\1/p')
if [ "$major" != "$llvm_major" ]; then
    echo "build.sh: $toolchain has LLVM $major, bpf-linker is built for $llvm_major: change both" >&2
    exit 1
fi

linker_root=$cache/bpf-linker-$linker_version-$toolchain
if ! [ -x "$linker_root/bin/bpf-linker" ]; then
    llvm=$cache/llvm-$toolchain
    mkdir -p "$llvm/lib"
    libllvm=$(find "$sysroot/lib" -maxdepth 1 -name "libLLVM.so.$llvm_major.*" | head -n 1)
    ln -sfn "$libllvm" "$llvm/lib/libLLVM.so"
    LLVM_PREFIX=$llvm CARGO_TARGET_DIR=$cache/linker-target \
        cargo +"$toolchain" install bpf-linker --version "$linker_version" --locked \
        --no-default-features --features "llvm-$llvm_major" --root "$linker_root"
fi
# rustc runs `bpf-linker` from PATH; it loads the nightly's libLLVM at run time.
export PATH=$linker_root/bin:$PATH
export LD_LIBRARY_PATH=$sysroot/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# No debug information (Cargo.toml) and paths remapped: the objects are the same bytes
# wherever the repository and the toolchain live.
repo=$(realpath ..)
flags="-C target-cpu=v3 -C link-arg=--disable-expand-memcpy-in-order"
flags="$flags -C link-arg=--disable-memory-builtins"
flags="$flags --remap-path-prefix=$repo=/tcpmssd --remap-path-prefix=$sysroot=/rustc"
flags="$flags --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"
mkdir -p "$out"
for target in bpfel-unknown-none bpfeb-unknown-none; do
    RUSTFLAGS=$flags CARGO_TARGET_DIR=$here/target \
        cargo +"$toolchain" build --release --target "$target" -Z build-std=core
    cp "$here/target/$target/release/tcpmssd-ebpf" "$out/tcpmssd-${target%%-*}.o"
done
ls -l "$out"/tcpmssd-bpfel.o "$out"/tcpmssd-bpfeb.o
