//! The unwinder entry points std's code calls, defined here so that no unwinder is linked
//! where the daemon's panics abort (`panic = "abort"`: the release profile, and the tiny
//! one, whose `-Cpanic=immediate-abort` sets that cfg too).
//!
//! The precompiled std calls ten `_Unwind_*` functions (the list `nm` shows in a FreeBSD
//! release linked without this file): `_Unwind_Resume` from the landing pads it was compiled
//! with (it is built with `panic=unwind`), the context functions from its personality routine
//! `rust_eh_personality`, and `_Unwind_Backtrace` with `_Unwind_GetIP(Info)` from the panic
//! hook's backtrace. On FreeBSD zig satisfies them with its static copy of LLVM's libunwind,
//! and because `_Unwind_Backtrace` can call back, LTO keeps std's whole backtrace symbolizer
//! (gimli, addr2line, object, miniz_oxide, rustc_demangle). Defined here, the archive member
//! is never pulled in, and a `_Unwind_Backtrace` that calls nothing back makes the symbolizer
//! dead code. Measured on the FreeBSD amd64 release (`cargo zigbuild --release --target
//! x86_64-unknown-freebsd`, 2026-12-07): see the figure where `mod unwind` is declared.
//!
//! Why each definition is sound, from the unwinding ABI (Itanium C++ ABI, "Exception
//! Handling", Level I, as LLVM implements it: llvm-project `libunwind/include/unwind.h`,
//! `unwind_itanium.h`, `libunwind/src/UnwindLevel1.c` and `UnwindLevel1-gcc-ext.c`):
//! - Only two things ever start an unwind: `_Unwind_RaiseException` and
//!   `_Unwind_ForcedUnwind` (ABI 1.3). Nothing in this binary calls either: with `panic =
//!   "abort"` std's panics end in `panic_abort`, which aborts, and the daemon calls neither
//!   `pthread_exit` nor `pthread_cancel`, the libc paths that force an unwind. A new
//!   reference to either would link the library's member defining it (UnwindLevel1.c),
//!   which also defines functions below: the link fails on the duplicate (as an armv7 musl
//!   trial did), it cannot pass silently.
//! - So no landing pad ever runs, and `_Unwind_Resume`, "inserted at the end of a landing pad
//!   that performed cleanup" (ABI 1.3), is never reached: it aborts.
//! - The context functions read or write the `_Unwind_Context` the unwinder passes to a
//!   personality routine or to a `_Unwind_Backtrace` callback (ABI 1.5: they pass information
//!   "between the unwind library and the personality routine and landing pad"); there is no
//!   such context outside those calls, and neither kind of call is ever made: they abort.
//! - `_Unwind_Backtrace` (a GCC extension, declared in unwind.h) walks the stack and calls
//!   its callback once per frame until the walk ends, then returns `_URC_END_OF_STACK`.
//!   Returning that at once is a walk that found no frame: a valid answer the caller must
//!   handle anyway (std's backtrace then prints no frames). It reads neither argument.
//!
//! The cost: a panic still prints its message and location, then aborts, as before;
//! `RUST_BACKTRACE=1` adds no frames to it. Nothing else changes: the daemon never unwinds.
//!
//! FreeBSD only. zig links its unwinder statically, so these definitions stay local to the
//! executable. On Linux with glibc, std links libgcc_s.so.1 dynamically, and a definition in
//! the executable of a symbol a shared library on the link line also defines is exported
//! (measured: all ten in `.dynsym` of the x86_64 release, 325,368 -> 100,408 bytes): they
//! would then interpose on libgcc_s's for every library loaded later, and a C++ library
//! `getpwnam` may load (an NSS module) that throws would abort in these instead of
//! unwinding. The x86_64 release meets its goal without it.
//! The types are the ABI's: `uintptr_t` is `usize` and `_Unwind_Reason_Code`, a C enum, is
//! `c_int`; the contexts and exceptions are opaque pointers, never read.

use core::ffi::{c_int, c_void};

/// `_URC_END_OF_STACK` of `_Unwind_Reason_Code` (unwind.h).
const END_OF_STACK: c_int = 5;

/// Walks no frame (see the module's comment): the callback is never called.
#[unsafe(no_mangle)]
extern "C" fn _Unwind_Backtrace(_trace: *mut c_void, _argument: *mut c_void) -> c_int {
    END_OF_STACK
}

/// Continues an unwind after a landing pad: unreachable, as no unwind ever starts.
#[unsafe(no_mangle)]
extern "C" fn _Unwind_Resume(_exception: *mut c_void) -> ! {
    std::process::abort()
}

/// Defines context functions that abort: each is only ever given a context by an unwind or
/// by a backtrace callback, and neither ever runs here.
macro_rules! unreachable_context {
    ($($name:ident($($argument:ident: $type:ty),*) -> $result:ty;)*) => {$(
        #[unsafe(no_mangle)]
        extern "C" fn $name(_context: *mut c_void $(, $argument: $type)*) -> $result {
            $(let _ = $argument;)*
            std::process::abort()
        }
    )*};
}

unreachable_context! {
    _Unwind_GetIP() -> usize;
    _Unwind_GetIPInfo(before_instruction: *mut c_int) -> usize;
    _Unwind_SetIP(ip: usize) -> ();
    _Unwind_SetGR(register: c_int, value: usize) -> ();
    _Unwind_GetLanguageSpecificData() -> usize;
    _Unwind_GetRegionStart() -> usize;
    _Unwind_GetTextRelBase() -> usize;
    _Unwind_GetDataRelBase() -> usize;
}
