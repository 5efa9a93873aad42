//! System call results: `-1` turned into the thread's `errno`, and `errno`'s text.

use std::ffi::CStr;
use std::io;

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
}
