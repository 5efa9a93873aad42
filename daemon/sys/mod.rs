//! The only `unsafe` in the daemon: thin wrappers over libc system calls.
//!
//! Everything here moves bytes and returns `io::Result`; nothing interprets them.
#![allow(unsafe_code)]

pub mod alloc;
#[cfg(target_os = "freebsd")]
pub mod divert;
pub mod file;
#[cfg(target_os = "linux")]
pub mod netlink;
pub mod privilege;
pub mod process;
#[cfg(target_os = "freebsd")]
pub mod route;

use std::io;
#[cfg(target_os = "freebsd")]
use std::os::fd::{AsRawFd, BorrowedFd};

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

/// Asks for a receive buffer of `len` bytes on socket `fd` (SO_RCVBUF; FreeBSD caps it at
/// `kern.ipc.maxsockbuf`, 2 MiB by default).
#[cfg(target_os = "freebsd")]
pub fn set_receive_buffer(fd: BorrowedFd<'_>, len: usize) -> io::Result<()> {
    let value =
        libc::c_int::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `value` lives across the call and the length passed is the size of a c_int.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&raw const value).cast(),
            core::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })?;
    Ok(())
}
