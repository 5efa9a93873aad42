//! The only `unsafe` in the daemon: thin wrappers over libc system calls.
//!
//! Everything here moves bytes and returns `io::Result`; nothing interprets them.
#![allow(unsafe_code)]

pub mod alloc;
#[cfg(target_os = "freebsd")]
pub mod divert;
#[cfg(target_os = "linux")]
pub mod netlink;
pub mod privilege;
pub mod process;
#[cfg(target_os = "freebsd")]
pub mod route;

use std::io;

/// Turns a C-style `-1` return into the thread's `errno`.
pub fn cvt<T: IsMinusOne>(ret: T) -> io::Result<T> {
    if ret.is_minus_one() {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Integer return types of system calls.
pub trait IsMinusOne: Copy {
    /// Returns true when the call reported failure.
    fn is_minus_one(self) -> bool;
}

macro_rules! impl_is_minus_one {
    ($($t:ty)*) => ($(impl IsMinusOne for $t {
        fn is_minus_one(self) -> bool {
            self == -1
        }
    })*)
}
impl_is_minus_one! { i32 i64 isize }
