# shellcheck shell=bash
# Sourced by the CI scripts (.ci/run and the scripts it calls): the one copy of their step
# headings, their "!!! SKIPPED:" line and their probes for what a step needs, each of which
# installs what it can and answers whether it is there.

# step TEXT: a heading in the CI log.
step() { printf '\n==> %s\n' "$*"; }
# skipped TEXT: the loud line for a step that cannot run here.
skipped() { echo "!!! SKIPPED: $* !!!"; }

# elf_interpreter FILE: the loader FILE names (PT_INTERP); nothing for a static binary.
elf_interpreter() { readelf -l "$1" | sed -n 's/.*interpreter: \(.*\)]/\1/p'; }
# elf_needed FILE: the libraries FILE needs (DT_NEEDED), one a line.
elf_needed() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# have_target TARGET [TOOLCHAIN]: rustup's std for TARGET, added when missing.
have_target() {
    rustup ${2:+"+$2"} target list --installed 2>/dev/null | grep -qx "$1" ||
        timeout 300 rustup ${2:+"+$2"} target add "$1" >/dev/null 2>&1
}
# have_nightly: a nightly toolchain with rust-src (for -Zbuild-std), installed when missing.
have_nightly() {
    { rustup toolchain list | grep -q '^nightly' ||
        timeout 600 rustup toolchain install nightly --profile minimal >/dev/null 2>&1; } &&
        timeout 300 rustup +nightly component add rust-src >/dev/null 2>&1
}
# have_zig: cargo-zigbuild and zig (a binary, or PyPI's ziglang), which .ci/setup installs.
have_zig() {
    command -v cargo-zigbuild >/dev/null 2>&1 &&
        { command -v zig >/dev/null 2>&1 || python3 -m ziglang version >/dev/null 2>&1; }
}
