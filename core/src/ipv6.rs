//! IPv6 header offsets and the bounded extension-header walk (RFC 8200 sections 3 and 4).

use core::net::Ipv6Addr;
use core::ops::Range;

use static_assertions::const_assert_eq;

use crate::outcome::Reason;
use crate::{PROTOCOL_AH, PROTOCOL_ESP, PROTOCOL_TCP};

//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version| Traffic Class |           Flow Label                  |
// |         Payload Length        |  Next Header  |   Hop Limit   |
// |                     Source Address (128 bits)                 |
// |                  Destination Address (128 bits)               |
// RFC 8200 section 3
mod field {
    use core::ops::Range;
    pub const PAYLOAD_LEN: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const SRC_ADDR: Range<usize> = 8..24;
    pub const DST_ADDR: Range<usize> = 24..40;
}

/// Length of the fixed IPv6 header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;
const_assert_eq!(HEADER_LEN, 40);

// Hop-by-hop, routing and destination options share this start (RFC 8200 section 4.3):
// | Next Header | Hdr Ext Len (8-octet units, not counting the first 8) | ...
mod ext_field {
    pub const NEXT_HEADER: usize = 0;
    pub const LEN: usize = 1;
}
/// Bytes of an extension header needed to read its next header and length.
const EXT_PREFIX_LEN: usize = ext_field::LEN + 1;

// | Next Header | Reserved | Fragment Offset (13) | Res | M | Identification (32) |
// RFC 8200 section 4.5
mod fragment_field {
    use core::ops::Range;
    pub const NEXT_HEADER: usize = 0;
    pub const OFFSET_FLAGS: Range<usize> = 2..4;
    pub const IDENTIFICATION: Range<usize> = 4..8;
}
const FRAGMENT_HEADER_LEN: usize = fragment_field::IDENTIFICATION.end;
const_assert_eq!(FRAGMENT_HEADER_LEN, 8);

const NEXT_HOP_BY_HOP: u8 = 0;
const NEXT_ROUTING: u8 = 43;
const NEXT_FRAGMENT: u8 = 44;
const NEXT_DESTINATION_OPTIONS: u8 = 60;

/// Extension headers followed before giving up; a real packet has at most a handful
/// (RFC 8200 section 4.1 lists the order: six kinds, destination options twice).
pub const MAX_EXTENSION_HEADERS: usize = 8;

/// Returns where the TCP segment lies in an IPv6 packet of `packet_len` bytes whose first
/// bytes are `packet` (all of it, but for the prefix entries), or why there is none to clamp.
///
/// The caller has read version 6 from the first byte. Bytes past the payload length are
/// not part of the segment. The segment may end past `packet` only when `packet_len` does.
// One copy of the walk, out of line or not as the compiler sees fit, for `endpoints` and the
// prefix entries; `clamp` has its own (`segment_mut`). Inline on BPF, where the eBPF
// objects' loader links no subprograms (daemon/linux/ebpf.rs).
#[cfg_attr(target_arch = "bpf", inline(always))]
pub fn segment(packet: &[u8], packet_len: usize) -> Result<Range<usize>, Reason> {
    walk(packet, packet_len)
}

/// Walks the extension headers for [`segment`] and [`segment_mut`].
// Inlined into `clamp_ipv6` whatever else calls `segment`: with a second caller in the same
// binary the compiler put it out of line, 194.9 instead of 168.9 instructions per IPv6 SYN
// (benches/instructions.sh).
#[inline(always)]
fn walk(packet: &[u8], packet_len: usize) -> Result<Range<usize>, Reason> {
    let Some(header) = packet.first_chunk::<HEADER_LEN>() else {
        return Err(Reason::missing(Reason::TruncatedIp, HEADER_LEN, packet_len));
    };
    let payload_len = usize::from(u16::from_be_bytes([
        header[field::PAYLOAD_LEN.start],
        header[field::PAYLOAD_LEN.end - 1],
    ]));
    // At most 40 + 65535: no overflow on any target with a 32-bit usize.
    let end = HEADER_LEN.saturating_add(payload_len);
    if end > packet_len {
        return Err(Reason::TruncatedIp);
    }
    // The packet up to its payload length, or as much of it as a prefix holds: a header
    // that does not fit is past the packet if it runs past `end`, else past the prefix.
    let packet = packet.get(..end).unwrap_or(packet);

    let mut next = header[field::NEXT_HEADER];
    let mut start = HEADER_LEN;
    // Extension headers walked so far; each turn of the loop walks one or returns, and it
    // returns once MAX_EXTENSION_HEADERS have been walked, so the loop ends.
    let mut count = 0;
    loop {
        let header_len = match next {
            PROTOCOL_TCP => return Ok(start..end),
            PROTOCOL_AH | PROTOCOL_ESP => return Err(Reason::Ipsec),
            NEXT_HOP_BY_HOP | NEXT_ROUTING | NEXT_DESTINATION_OPTIONS | NEXT_FRAGMENT
                if count == MAX_EXTENSION_HEADERS =>
            {
                return Err(Reason::Ipv6ExtLimit)
            }
            // Hop-by-hop options may only follow the IPv6 header itself (RFC 8200 section 4.3).
            NEXT_HOP_BY_HOP if count != 0 => return Err(Reason::MalformedIp),
            NEXT_FRAGMENT => {
                let Some(fragment) = packet
                    .get(start..)
                    .and_then(<[u8]>::first_chunk::<FRAGMENT_HEADER_LEN>)
                else {
                    let needed = start.saturating_add(FRAGMENT_HEADER_LEN);
                    return Err(Reason::missing(Reason::TruncatedIp, needed, end));
                };
                let offset = u16::from_be_bytes([
                    fragment[fragment_field::OFFSET_FLAGS.start],
                    fragment[fragment_field::OFFSET_FLAGS.end - 1],
                ]) >> 3;
                if offset != 0 {
                    return Err(Reason::Fragment);
                }
                next = fragment[fragment_field::NEXT_HEADER];
                FRAGMENT_HEADER_LEN
            }
            NEXT_HOP_BY_HOP | NEXT_ROUTING | NEXT_DESTINATION_OPTIONS => {
                let Some(prefix) = packet
                    .get(start..)
                    .and_then(<[u8]>::first_chunk::<EXT_PREFIX_LEN>)
                else {
                    let needed = start.saturating_add(EXT_PREFIX_LEN);
                    return Err(Reason::missing(Reason::TruncatedIp, needed, end));
                };
                next = prefix[ext_field::NEXT_HEADER];
                // At most 256 * 8: no overflow.
                usize::from(prefix[ext_field::LEN])
                    .wrapping_add(1)
                    .wrapping_mul(8)
            }
            _ => return Err(Reason::NotTcp),
        };
        // At most MAX_EXTENSION_HEADERS: no overflow.
        count = count.wrapping_add(1);
        // `start` is at most `end` (checked below on the last turn), at most 40 + 65535,
        // plus at most 2,048: no overflow on any target with a 32-bit usize. Not
        // `saturating_add`: a verifier that cannot rule out its overflow branch (Linux 6.1's,
        // which does not compare two registers' ranges) walks on with `usize::MAX` as the
        // offset and refuses the eBPF program for it.
        start = start.wrapping_add(header_len);
        if start > end {
            return Err(Reason::TruncatedIp);
        }
    }
}

/// Returns the TCP segment of an IPv6 packet, or why there is none to clamp.
///
/// The caller has read version 6 from the first byte.
pub fn segment_mut(packet: &mut [u8]) -> Result<&mut [u8], Reason> {
    let range = walk(packet, packet.len())?;
    // `segment` checked start <= end <= packet.len(), so this always succeeds.
    packet.get_mut(range).ok_or(Reason::TruncatedIp)
}

/// Returns the source and destination address; `None` when the header is cut short.
pub fn addresses(packet: &[u8]) -> Option<(Ipv6Addr, Ipv6Addr)> {
    let header = packet.first_chunk::<HEADER_LEN>()?;
    let src: [u8; 16] = *header[field::SRC_ADDR].first_chunk()?;
    let dst: [u8; 16] = *header[field::DST_ADDR].first_chunk()?;
    Some((Ipv6Addr::from(src), Ipv6Addr::from(dst)))
}
