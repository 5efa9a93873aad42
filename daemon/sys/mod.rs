//! The only `unsafe` in the daemon: thin wrappers over libc system calls.
//!
//! Everything here moves bytes and returns a [`errno::SysResult`] (the bare `errno` on
//! failure); nothing interprets them. What both
//! systems share is at the top; what only one has is in `linux/` or `freebsd/`.
#![allow(unsafe_code)]

pub mod address;
pub mod alloc;
pub mod clock;
pub mod detach;
// Not in the test harness, which brings its own `main`.
#[cfg(not(test))]
mod entry;
pub mod errno;
pub mod file;
#[cfg(target_os = "freebsd")]
pub mod freebsd;
pub mod interface;
#[cfg(target_os = "linux")]
pub mod linux;
pub mod privilege;
pub mod signals;
pub mod stdio;
pub mod syslog;

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use libc::c_int;

pub use errno::cvt;
use errno::SysResult;

/// Opens a socket of `domain`, `kind` and `protocol`, close-on-exec.
pub fn socket(domain: c_int, kind: c_int, protocol: c_int) -> SysResult<OwnedFd> {
    // SAFETY: socket(2) takes no pointers; a non-negative return is a new descriptor.
    let fd = cvt(unsafe { libc::socket(domain, kind | libc::SOCK_CLOEXEC, protocol) })?;
    // SAFETY: `fd` was just returned by socket(2) and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sets the `int` socket option `name` at `level` on `fd` to `value`.
pub fn set_option(fd: BorrowedFd<'_>, level: c_int, name: c_int, value: c_int) -> SysResult<()> {
    // SAFETY: `value` lives across the call and the length passed is the size of a c_int.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&raw const value).cast(),
            core::mem::size_of::<c_int>() as libc::socklen_t,
        )
    })?;
    Ok(())
}
