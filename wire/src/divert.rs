//! divert(4) socket addresses: the `struct sockaddr_in` that `recvfrom` returns with every
//! diverted packet, read for the packet's direction; safe code over `&[u8]`, tested with byte
//! fixtures laid out as FreeBSD 14 amd64 lays them out.
//!
//! divert(4): the address is "the (first) address of the interface on which the packet was
//! received (if the packet was incoming) or INADDR_ANY (if the packet was outgoing)". The kernel
//! always returns an AF_INET address, also for IPv6 packets (`divert_packet` in
//! sys/netinet/ip_divert.c), so an incoming IPv6 packet on an interface without IPv4 looks
//! outgoing. The same bytes go back unchanged with the packet (`sendto`), as divert(4) advises.

use static_assertions::const_assert_eq;

// struct sockaddr_in, BSD layout (sys/netinet/in.h):
//  0        1          2               4                  8                      16
// +--------+----------+---------------+------------------+----------------------+
// | len=16 | family=2 | port (cookie) | addr (BE)        | zero: receive ifname |
// +--------+----------+---------------+------------------+----------------------+
// The port holds the ipfw rule number "in host format"; sin_zero the receive interface's name,
// cut to 7 bytes (strlcpy into 8), whenever the packet has one.
mod field {
    use core::ops::Range;
    pub const LEN: usize = 0;
    pub const FAMILY: usize = 1;
    pub const ADDR: Range<usize> = 4..8;
    pub const ZERO: Range<usize> = 8..16;
}
/// Length of `struct sockaddr_in` on FreeBSD.
pub const SOCKADDR_IN_LEN: usize = field::ZERO.end;
const_assert_eq!(SOCKADDR_IN_LEN, 16);

/// AF_INET on FreeBSD (sys/sys/socket.h).
const AF_INET: u8 = 2;

#[cfg(target_os = "freebsd")]
mod values_match_libc {
    use core::mem::{offset_of, size_of};
    use static_assertions::const_assert_eq;
    const_assert_eq!(size_of::<libc::sockaddr_in>(), super::SOCKADDR_IN_LEN);
    const_assert_eq!(
        offset_of!(libc::sockaddr_in, sin_addr),
        super::field::ADDR.start
    );
    const_assert_eq!(
        offset_of!(libc::sockaddr_in, sin_zero),
        super::field::ZERO.start
    );
    const_assert_eq!(libc::AF_INET, super::AF_INET as i32);
}

/// Which way a diverted packet was going.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// INADDR_ANY: the packet was on its way out.
    Outbound,
    /// The address of the interface the packet came in on.
    Inbound,
}

/// Why an address returned with a packet could not be read. The packet is still sent back
/// unchanged, with these same bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadAddress {
    /// Fewer bytes than a `sockaddr_in`.
    Truncated,
    /// `sin_len` or `sin_family` is not that of an AF_INET address.
    NotInet,
}

impl BadAddress {
    /// Returns the counter and log name.
    pub fn name(self) -> &'static str {
        match self {
            BadAddress::Truncated => "truncated-divert-address",
            BadAddress::NotInet => "not-inet-divert-address",
        }
    }
}

/// Reads the direction of a diverted packet from the address `recvfrom` returned with it.
pub fn direction(address: &[u8]) -> Result<Direction, BadAddress> {
    let Some(sin) = address.first_chunk::<SOCKADDR_IN_LEN>() else {
        return Err(BadAddress::Truncated);
    };
    if usize::from(sin[field::LEN]) != SOCKADDR_IN_LEN || sin[field::FAMILY] != AF_INET {
        return Err(BadAddress::NotInet);
    }
    let addr = [
        sin[field::ADDR.start],
        sin[field::ADDR.start + 1],
        sin[field::ADDR.start + 2],
        sin[field::ADDR.end - 1],
    ];
    Ok(if addr == [0; 4] {
        Direction::Outbound
    } else {
        Direction::Inbound
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::fixture::cat;

    // An outgoing packet diverted by `ipfw add 500 divert 1000 ... out xmit ng0`: laid out as
    // divert_packet() fills it on FreeBSD 14 amd64 (sys/netinet/ip_divert.c); the receive
    // interface of a locally sent packet is none, so sin_zero stays zero.
    #[rustfmt::skip]
    const OUTGOING: [u8; 16] = cat(&[
        &[0x10],                   // sin_len 16
        &[0x02],                   // sin_family AF_INET
        &500u16.to_ne_bytes(),     // sin_port: rule 500, host byte order (not read)
        &[0x00, 0x00, 0x00, 0x00], // sin_addr INADDR_ANY: outgoing
        &[0x00, 0x00, 0x00, 0x00], // sin_zero
        &[0x00, 0x00, 0x00, 0x00],
    ]);

    // An incoming packet on em0, whose first IPv4 address is 198.51.100.1.
    #[rustfmt::skip]
    const INCOMING: [u8; 16] = cat(&[
        &[0x10],                   // sin_len 16
        &[0x02],                   // sin_family AF_INET
        &500u16.to_ne_bytes(),     // sin_port: rule 500
        &[0xc6, 0x33, 0x64, 0x01], // sin_addr 198.51.100.1 (network order): incoming
        &[b'e', b'm', b'0', 0x00], // sin_zero: the receive interface's name
        &[0x00, 0x00, 0x00, 0x00],
    ]);

    #[test]
    fn outgoing_and_incoming() {
        assert_eq!(direction(&OUTGOING), Ok(Direction::Outbound));
        assert_eq!(direction(&INCOMING), Ok(Direction::Inbound));
    }

    #[test]
    fn forwarded_packet_with_a_receive_interface_but_no_address_is_outbound() {
        // An outgoing packet that came in elsewhere carries the name, not the address.
        let mut forwarded = OUTGOING;
        forwarded[8..11].copy_from_slice(b"em1");
        assert_eq!(direction(&forwarded), Ok(Direction::Outbound));
    }

    #[test]
    fn short_or_foreign_addresses_are_refused() {
        assert_eq!(direction(&[]), Err(BadAddress::Truncated));
        assert_eq!(direction(&INCOMING[..15]), Err(BadAddress::Truncated));
        let mut wrong_len = INCOMING;
        wrong_len[0] = 28; // sizeof(struct sockaddr_in6)
        assert_eq!(direction(&wrong_len), Err(BadAddress::NotInet));
        let mut inet6 = INCOMING;
        inet6[1] = 28; // AF_INET6 on FreeBSD
        assert_eq!(direction(&inet6), Err(BadAddress::NotInet));
        // Longer buffers are fine: only the first 16 bytes are the address.
        let mut long = [0u8; 128];
        long[..16].copy_from_slice(&INCOMING);
        assert_eq!(direction(&long), Ok(Direction::Inbound));
        assert_ne!(BadAddress::Truncated.name(), BadAddress::NotInet.name());
    }
}
