//! The kernel messages tcpmssd reads and writes, as safe code over `&[u8]`: every length read
//! from the kernel is checked against the buffer before a range is built from it, nothing
//! allocates or panics (the workspace lints deny indexing, `unwrap`, `panic!` and unchecked
//! arithmetic, as in tcpmssd-core).
//!
//! Built and tested on every OS, so that Linux's formats are checked on FreeBSD and the other
//! way round; the fuzz targets and benches use this crate as it is. The daemon's sockets that
//! move these bytes are in its `sys/` module.
//!
//! - [`netlink`]: the framing every netlink protocol shares (headers, attributes, errors).
//! - [`nfqueue`]: NFQUEUE's configuration, packet and verdict messages.
//! - [`rtnetlink`]: RTM_NEWLINK/RTM_DELLINK, an interface's MTU and its changes.
//! - [`tc`]: the clsact qdisc and the `bpf` filter that put the eBPF classifier on a link.
//! - [`elf`]: the ELF sections, relocations and map definitions of tcpmssd's eBPF objects.
//! - [`divert`]: the `sockaddr_in` FreeBSD's divert(4) returns with each packet.
//! - [`route`]: FreeBSD's routing-socket messages about interfaces.
#![forbid(unsafe_code)]

pub mod divert;
pub mod elf;
pub mod netlink;
pub mod nfqueue;
pub mod route;
pub mod rtnetlink;
pub mod tc;

/// Longest interface name: `IFNAMSIZ` (16 on Linux and FreeBSD) less its NUL.
pub const IFNAME_MAX: usize = 15;

/// Reads an interface name from a kernel message: the bytes up to the first NUL, or all of
/// them when there is none. `None` when the name is not UTF-8 or longer than [`IFNAME_MAX`].
///
/// One rule serves both kernels: Linux's IFLA_IFNAME carries the name and its NUL
/// (`nla_put_string`), FreeBSD's `ifan_name` is the IFNAMSIZ array, NUL-padded; a name that
/// fills all 16 bytes of either without a NUL is longer than any interface name can be.
pub fn interface_name(value: &[u8]) -> Option<heapless::String<IFNAME_MAX>> {
    let name = match value.iter().position(|&b| b == 0) {
        Some(nul) => value.get(..nul)?,
        None => value,
    };
    heapless::String::try_from(core::str::from_utf8(name).ok()?).ok()
}

/// Test fixtures: kernel messages written field by field, so that the fields the kernel keeps
/// in host byte order (netlink and routing-socket headers, attribute headers, most ifinfomsg
/// and if_msghdr fields) are built with `to_ne_bytes` and each test runs on a big-endian CPU
/// as on the little-endian one the bytes were captured on.
#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]
pub(crate) mod fixture {
    /// Joins `parts` into one N-byte array, at compile time in a `const`; a total other than N
    /// stops the build.
    pub const fn cat<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
        let mut out = [0u8; N];
        let mut at = 0;
        let mut part = 0;
        while part < parts.len() {
            let bytes = parts[part];
            let mut i = 0;
            while i < bytes.len() {
                assert!(at < N, "the parts are longer than the fixture");
                out[at] = bytes[i];
                at += 1;
                i += 1;
            }
            part += 1;
        }
        assert!(at == N, "the parts are shorter than the fixture");
        out
    }

    /// Returns a netlink attribute header (`struct nlattr`, `struct rtattr`): length and type,
    /// both in host byte order.
    pub const fn nla(len: u16, kind: u16) -> [u8; 4] {
        cat(&[&len.to_ne_bytes(), &kind.to_ne_bytes()])
    }

    /// Overwrites the host-order u16 at `at` (a length or type in a header).
    pub fn set_u16(message: &mut [u8], at: usize, value: u16) {
        message[at..at + 2].copy_from_slice(&value.to_ne_bytes());
    }

    /// Overwrites the host-order u32 at `at`.
    pub fn set_u32(message: &mut [u8], at: usize, value: u32) {
        message[at..at + 4].copy_from_slice(&value.to_ne_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Linux cases are rtnetlink.rs' `names`; these are FreeBSD's `ifan_name`, the
    // IFNAMSIZ array: NUL-padded, or full without a NUL.
    #[test]
    fn interface_names_from_either_kernel() {
        assert_eq!(
            interface_name(b"tun0\0\0\0\0\0\0\0\0\0\0\0\0").as_deref(),
            Some("tun0")
        );
        assert_eq!(interface_name(b"0123456789abcdef"), None);
    }
}
