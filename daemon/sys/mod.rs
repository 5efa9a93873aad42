//! The only `unsafe` in the daemon: thin wrappers over libc system calls.
//!
//! Everything here moves bytes and returns `io::Result`; nothing interprets them.
#![allow(unsafe_code)]

pub mod alloc;
#[cfg(target_os = "freebsd")]
pub mod divert;
pub mod file;
pub mod interface;
#[cfg(target_os = "linux")]
pub mod netlink;
pub mod privilege;
pub mod process;
#[cfg(target_os = "freebsd")]
pub mod route;

use std::ffi::CStr;
use std::io;
use std::net::IpAddr;
#[cfg(target_os = "freebsd")]
use std::os::fd::{AsRawFd, BorrowedFd};

/// Turns a C-style `-1` return into the thread's `errno`.
pub fn cvt<T: IsMinusOne>(ret: T) -> io::Result<T> {
    if ret.is_minus_one() {
        Err(errno())
    } else {
        Ok(ret)
    }
}

/// Returns the thread's `errno` as an error; out of line, as failures are rare and the read
/// of `errno` would otherwise be copied into every system call's wrapper.
#[cold]
#[inline(never)]
pub fn errno() -> io::Error {
    io::Error::last_os_error()
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

// POSIX, in every C library the daemon links with; the libc crate does not bind it.
unsafe extern "C" {
    fn inet_ntop(
        af: libc::c_int,
        src: *const libc::c_void,
        dst: *mut libc::c_char,
        size: libc::socklen_t,
    ) -> *const libc::c_char;
}

/// Longest address text plus its NUL: `INET6_ADDRSTRLEN`.
pub const ADDRESS_TEXT_LEN: usize = 46;

/// Writes `address` as the C library does (RFC 5952 for IPv6) into `buf`; returns the text.
///
/// The C library's formatter rather than std's `Display`: the same text, without 3 KB of
/// formatting code in the binary.
pub fn address_text(address: IpAddr, buf: &mut [u8; ADDRESS_TEXT_LEN]) -> &str {
    let (v4, v6);
    let (af, src): (libc::c_int, &[u8]) = match address {
        IpAddr::V4(address) => {
            v4 = address.octets();
            (libc::AF_INET, &v4)
        }
        IpAddr::V6(address) => {
            v6 = address.octets();
            (libc::AF_INET6, &v6)
        }
    };
    // SAFETY: `src` holds the 4 (AF_INET) or 16 (AF_INET6) bytes of the address in network
    // order and lives across the call; `buf` is writable for its whole length, which is passed.
    let text = unsafe {
        inet_ntop(
            af,
            src.as_ptr().cast(),
            buf.as_mut_ptr().cast(),
            ADDRESS_TEXT_LEN as libc::socklen_t,
        )
    };
    if text.is_null() {
        // Only for an unknown family or a short buffer, neither possible here.
        return "?";
    }
    CStr::from_bytes_until_nul(buf)
        .ok()
        .and_then(|text| text.to_str().ok())
        .unwrap_or("?")
}
