//! Addresses as text, by the C library's formatter.

use std::ffi::CStr;
use std::net::IpAddr;

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
