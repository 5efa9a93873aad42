//! Where the C runtime enters the program, in place of std's start-up.

use std::ffi::CStr;

use libc::c_int;

/// Where the C runtime enters the program (`#![no_main]` in main.rs); it hands the arguments
/// to the crate root's `tcpmssd` and exits with its status, the one call from `sys` upwards.
///
/// In place of std's start-up, `lang_start`, which also installs a stack-overflow handler,
/// registers the main thread and flushes std's stdout at exit: none of which the daemon uses.
/// Measured on the daemon (2026-12-07, x86_64, std's `fn main` with `args_os` in its place):
/// 3,952 bytes of the firmware build (56,512 → 60,464) and 23,144 of the release build
/// (322,008 → 345,152, past its 320 KiB goal).
/// What the daemon does rely on is done here as std does it: closed
/// standard descriptors reopened on /dev/null, and SIGPIPE ignored, so that a write to a
/// closed pipe fails with EPIPE rather than killing the process. The arguments come from
/// `argv` itself, which on FreeBSD std learns only in `lang_start`.
#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const libc::c_char) -> c_int {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    super::stdio::open_standard_descriptors();
    // SAFETY: SIG_IGN is a valid disposition for SIGPIPE, set before any other thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let count = usize::try_from(argc).unwrap_or(0);
    // Borrowed where they lie, not copied.
    let args = (1..count).map(|at| {
        // SAFETY: `at < argc`: the pointer stays inside the `argv` array of `argc` entries.
        let entry = unsafe { argv.add(at) };
        // SAFETY: `entry` points at one of those entries, initialised by the C runtime.
        let text = unsafe { *entry };
        // SAFETY: the C runtime passes `argc` valid NUL-terminated strings in `argv`, which
        // live as long as the process and are not written to.
        let arg: &'static CStr = unsafe { CStr::from_ptr(text) };
        OsStr::from_bytes(arg.to_bytes())
    });
    c_int::from(crate::tcpmssd(args))
}
