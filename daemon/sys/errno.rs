//! System call results: `-1` turned into the thread's `errno`, kept as the bare number
//! ([`Errno`]), and `errno`'s text.
//!
//! `std::io::Error` buys the daemon nothing: it never builds one with a payload, never asks
//! for a kind beyond the number, and its text comes from [`strerror`] anyway. Its tagged
//! pointer and drop glue at every `?` cost the firmware build 1,440 bytes (issue 24: 55,856
//! → 54,416 with `Errno`, 2026-12-07).

use std::ffi::CStr;

use crate::text::{put, Line, Piece};

/// A failed system call's `errno`, or one of the daemon's own few failures without one (the
/// negative constants below, never an `errno`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

/// The result of a system call wrapper.
pub type SysResult<T> = Result<T, Errno>;

impl Errno {
    /// A write that wrote nothing (as std's `ErrorKind::WriteZero`).
    pub const WRITE_ZERO: Errno = Errno(-1);
    /// A value a system call cannot take, refused before the call (`ErrorKind::InvalidInput`).
    pub const INVALID_INPUT: Errno = Errno(-2);
    /// A failure with no `errno` and no other name: the kernel's answer made no sense, or
    /// what was asked for is not there.
    #[cfg(all(target_os = "linux", feature = "ebpf"))]
    pub const NO_ERRNO: Errno = Errno(-3);

    /// Returns the `errno`, `None` for the daemon's own failures (as `io::Error` did).
    #[must_use]
    pub const fn raw_os_error(self) -> Option<i32> {
        if self.0 >= 0 {
            Some(self.0)
        } else {
            None
        }
    }
}

/// Shows `<description> (errno <n>)`, the description from `strerror_r` in a stack buffer;
/// the daemon's own failures in std's words for them.
impl Piece for Errno {
    fn put(&self, line: &mut Line) {
        match self.raw_os_error() {
            Some(errno) => {
                let mut buf = [0u8; 128];
                put!(line; strerror(errno, &mut buf), " (errno ", errno, ")");
            }
            None => line.push_str(match *self {
                Errno::WRITE_ZERO => "write zero",
                Errno::INVALID_INPUT => "invalid input parameter",
                _ => "error without an errno",
            }),
        }
    }
}

// Tests name failures in their assertion messages, and their doubles open real files; the
// daemon does neither.
#[cfg(test)]
impl core::fmt::Display for Errno {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&crate::text::shown!(self))
    }
}

#[cfg(test)]
impl From<std::io::Error> for Errno {
    fn from(error: std::io::Error) -> Errno {
        Errno(error.raw_os_error().unwrap_or(0))
    }
}

/// Turns a C-style `-1` return into the thread's `errno`.
pub fn cvt<T: IsMinusOne>(ret: T) -> SysResult<T> {
    if ret.is_minus_one() {
        Err(errno())
    } else {
        Ok(ret)
    }
}

/// Returns the thread's `errno`; out of line, as failures are rare and the read of `errno`
/// would otherwise be copied into every system call's wrapper.
#[cold]
#[inline(never)]
pub fn errno() -> Errno {
    // std reads `errno` portably (`__errno_location` on Linux, `__error` on FreeBSD); the
    // error it makes holds only the number, so nothing is kept of it but that.
    Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
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

/// Returns the C library's description of `errno`, written into `buf` (128 bytes is ample).
///
/// Unknown numbers and a too-small buffer give `"unknown error"`.
pub fn strerror(errno: i32, buf: &mut [u8]) -> &str {
    // The libc crate binds the XSI strerror_r on glibc (`__xpg_strerror_r`), musl and FreeBSD:
    // it returns 0 on success and writes a NUL-terminated string into `buf`.
    // SAFETY: `buf` is valid for `buf.len()` writable bytes for the whole call.
    let ret = unsafe { libc::strerror_r(errno, buf.as_mut_ptr().cast(), buf.len()) };
    if ret != 0 {
        return "unknown error";
    }
    CStr::from_bytes_until_nul(buf)
        .ok()
        .and_then(|text| text.to_str().ok())
        .unwrap_or("unknown error")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::shown;

    #[test]
    fn strerror_describes_known_errno() {
        let mut buf = [0u8; 128];
        let text = strerror(libc::EACCES, &mut buf);
        assert_eq!(text, "Permission denied");
    }

    #[test]
    fn strerror_small_buffer_falls_back() {
        let mut buf = [0u8; 4];
        assert_eq!(strerror(libc::EACCES, &mut buf), "unknown error");
    }

    #[test]
    fn os_error_shows_errno_and_text() {
        let error = Errno(libc::ENOENT);
        let line = shown!(error);
        assert!(line.ends_with(&format!("(errno {})", libc::ENOENT)));
        assert!(line.len() > "(errno 2)".len() + 1, "{line}");
    }

    #[test]
    fn os_error_without_errno_shows_kind_as_std_does() {
        // The kinds the daemon makes without an errno: sys::file::write_all,
        // sys::signals::wait_readable.
        for (error, kind) in [
            (Errno::WRITE_ZERO, std::io::ErrorKind::WriteZero),
            (Errno::INVALID_INPUT, std::io::ErrorKind::InvalidInput),
        ] {
            assert_eq!(shown!(error), std::io::Error::from(kind).to_string());
        }
    }
}
