//! IPv4 header offsets and checks, down to the TCP segment (RFC 791 section 3.1).

use core::net::Ipv4Addr;
use core::ops::Range;

use static_assertions::const_assert_eq;

use crate::outcome::Reason;
use crate::{PROTOCOL_AH, PROTOCOL_ESP, PROTOCOL_TCP};

//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version|  IHL  |Type of Service|          Total Length         |
// |         Identification        |Flags|      Fragment Offset    |
// |  Time to Live |    Protocol   |         Header Checksum       |
// |                       Source Address                          |
// |                    Destination Address                        |
// |                    Options                    |    Padding    |
// RFC 791 section 3.1
mod field {
    use core::ops::Range;
    pub const VERSION_IHL: usize = 0;
    pub const TOTAL_LEN: Range<usize> = 2..4;
    pub const FLAGS_FRAGMENT_OFFSET: Range<usize> = 6..8;
    pub const PROTOCOL: usize = 9;
    pub const SRC_ADDR: Range<usize> = 12..16;
    pub const DST_ADDR: Range<usize> = 16..20;
}

/// Length of the IPv4 header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;
const_assert_eq!(HEADER_LEN, 20);
/// The IHL (in 4-byte words) of a header without options.
const MIN_IHL: u8 = 5;
const_assert_eq!((MIN_IHL as usize).wrapping_mul(4), HEADER_LEN);

/// The 13 low bits of flags/fragment offset; the top 3 are flags (RFC 791).
const FRAGMENT_OFFSET_MASK: u16 = 0x1fff;

/// Returns where the TCP segment lies in an IPv4 packet of `packet_len` bytes whose first
/// bytes are `packet` (all of it, but for the prefix entries), or why there is none to clamp.
///
/// The caller has read version 4 from the first byte. Bytes past the total length (link
/// padding) are not part of the segment. The segment may end past `packet` only when
/// `packet_len` does.
// Inlined into `clamp`, where the checks then cost a few compares each.
#[inline(always)]
pub fn segment(packet: &[u8], packet_len: usize) -> Result<Range<usize>, Reason> {
    let Some(header) = packet.first_chunk::<HEADER_LEN>() else {
        return Err(Reason::missing(Reason::TruncatedIp, HEADER_LEN, packet_len));
    };
    let ihl = header[field::VERSION_IHL] & 0x0f;
    if ihl < MIN_IHL {
        return Err(Reason::MalformedIp);
    }
    // At most 15 * 4: no overflow.
    let header_len = usize::from(ihl).wrapping_mul(4);
    let total_len = usize::from(u16::from_be_bytes([
        header[field::TOTAL_LEN.start],
        header[field::TOTAL_LEN.end - 1],
    ]));
    if total_len < header_len {
        return Err(Reason::MalformedIp);
    }
    if total_len > packet_len {
        return Err(Reason::TruncatedIp);
    }
    let fragment_offset = u16::from_be_bytes([
        header[field::FLAGS_FRAGMENT_OFFSET.start],
        header[field::FLAGS_FRAGMENT_OFFSET.end - 1],
    ]) & FRAGMENT_OFFSET_MASK;
    if fragment_offset != 0 {
        return Err(Reason::Fragment);
    }
    match header[field::PROTOCOL] {
        PROTOCOL_TCP => Ok(header_len..total_len),
        protocol => Err(not_tcp(protocol)),
    }
}

/// Returns why a packet of this protocol, not TCP, is left alone.
// Out of line and cold, so that TCP is tested first (inline, the match tests AH and ESP
// before TCP): the rules that queue packets to the daemon select TCP (README: `-p tcp
// --tcp-flags SYN,RST SYN`), so another protocol is rare. Measured: 3 instructions fewer
// per TCP packet. Inline on BPF, where the eBPF objects' loader links no subprograms
// (daemon/linux/ebpf.rs).
#[cold]
#[cfg_attr(not(target_arch = "bpf"), inline(never))]
#[cfg_attr(target_arch = "bpf", inline(always))]
fn not_tcp(protocol: u8) -> Reason {
    match protocol {
        PROTOCOL_AH | PROTOCOL_ESP => Reason::Ipsec,
        _ => Reason::NotTcp,
    }
}

/// Returns the TCP segment of an IPv4 packet, or why there is none to clamp.
///
/// The caller has read version 4 from the first byte.
#[inline(always)]
pub fn segment_mut(packet: &mut [u8]) -> Result<&mut [u8], Reason> {
    let range = segment(packet, packet.len())?;
    // `segment` checked header_len <= total_len <= packet.len(), so this always succeeds.
    packet.get_mut(range).ok_or(Reason::TruncatedIp)
}

/// Returns the source and destination address; `None` when the header is cut short.
pub fn addresses(packet: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let header = packet.first_chunk::<HEADER_LEN>()?;
    let src: [u8; 4] = *header[field::SRC_ADDR].first_chunk()?;
    let dst: [u8; 4] = *header[field::DST_ADDR].first_chunk()?;
    Some((Ipv4Addr::from(src), Ipv4Addr::from(dst)))
}
