//! The core's per-packet code before the per-packet work was reordered (commit 01ce44e), kept as a
//! reference the current code must agree with on every input.
#![allow(dead_code, clippy::all)]

use tcpmssd_core::{Outcome, Reason};

const PROTOCOL_TCP: u8 = 6;
const PROTOCOL_ESP: u8 = 50;
const PROTOCOL_AH: u8 = 51;

mod checksum {
    /// Adds two 16-bit words in ones' complement arithmetic (end-around carry, RFC 1071).
    const fn ones_complement_add(a: u16, b: u16) -> u16 {
        let (sum, carry) = a.overflowing_add(b);
        sum.wrapping_add(carry as u16)
    }

    /// Returns the checksum after a 16-bit word of the summed data changed from `old` to `new`:
    /// `HC' = ~(~HC + ~m + m')`.
    ///
    /// Equation 3, not RFC 1141's `HC' = HC + m + ~m'`, which yields `0xffff` where a full
    /// recomputation yields `0x0000` (RFC 1624 section 4).
    ///
    /// `odd_offset` tells that the word starts at an odd offset from the start of the summed
    /// data (for TCP, from the header's first byte): its bytes then sit in the low half of one
    /// aligned word and the high half of the next, so it enters the sum byte-swapped (RFC 1071
    /// section 2(B), byte-order independence).
    #[must_use]
    pub const fn adjust(checksum: u16, old: u16, new: u16, odd_offset: bool) -> u16 {
        let (old, new) = if odd_offset {
            (old.swap_bytes(), new.swap_bytes())
        } else {
            (old, new)
        };
        !ones_complement_add(ones_complement_add(!checksum, !old), new)
    }
}

mod ipv4 {
    use super::*;
    use core::ops::Range;
    use static_assertions::const_assert_eq;
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

    /// The 13 low bits of flags/fragment offset; the top 3 are flags (RFC 791).
    const FRAGMENT_OFFSET_MASK: u16 = 0x1fff;

    /// Returns where the TCP segment lies in an IPv4 packet, or why there is none to clamp.
    ///
    /// Bytes past the total length (link padding) are not part of the segment.
    pub fn segment(packet: &[u8]) -> Result<Range<usize>, Reason> {
        let Some(header) = packet.first_chunk::<HEADER_LEN>() else {
            return Err(Reason::TruncatedIp);
        };
        if header[field::VERSION_IHL] >> 4 != 4 {
            return Err(Reason::NotIp);
        }
        // At most 15 * 4: no overflow.
        let header_len = usize::from(header[field::VERSION_IHL] & 0x0f).wrapping_mul(4);
        let total_len = usize::from(u16::from_be_bytes([
            header[field::TOTAL_LEN.start],
            header[field::TOTAL_LEN.end - 1],
        ]));
        if header_len < HEADER_LEN || total_len < header_len {
            return Err(Reason::MalformedIp);
        }
        if total_len > packet.len() {
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
            PROTOCOL_AH | PROTOCOL_ESP => Err(Reason::Ipsec),
            _ => Err(Reason::NotTcp),
        }
    }
}

mod ipv6 {
    use super::*;
    use core::ops::Range;
    use static_assertions::const_assert_eq;
    mod field {
        use core::ops::Range;
        pub const VERSION: usize = 0;
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

    /// Returns where the TCP segment lies in an IPv6 packet, or why there is none to clamp.
    ///
    /// Bytes past the payload length are not part of the segment.
    pub fn segment(packet: &[u8]) -> Result<Range<usize>, Reason> {
        let Some(header) = packet.first_chunk::<HEADER_LEN>() else {
            return Err(Reason::TruncatedIp);
        };
        if header[field::VERSION] >> 4 != 6 {
            return Err(Reason::NotIp);
        }
        let payload_len = usize::from(u16::from_be_bytes([
            header[field::PAYLOAD_LEN.start],
            header[field::PAYLOAD_LEN.end - 1],
        ]));
        // At most 40 + 65535: no overflow on any target with a 32-bit usize.
        let end = HEADER_LEN.saturating_add(payload_len);
        let Some(packet) = packet.get(..end) else {
            return Err(Reason::TruncatedIp);
        };

        let mut next = header[field::NEXT_HEADER];
        let mut start = HEADER_LEN;
        for count in 0..=MAX_EXTENSION_HEADERS {
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
                        return Err(Reason::TruncatedIp);
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
                        return Err(Reason::TruncatedIp);
                    };
                    next = prefix[ext_field::NEXT_HEADER];
                    // At most 256 * 8: no overflow.
                    usize::from(prefix[ext_field::LEN])
                        .wrapping_add(1)
                        .wrapping_mul(8)
                }
                _ => return Err(Reason::NotTcp),
            };
            start = start.saturating_add(header_len);
            if start > end {
                return Err(Reason::TruncatedIp);
            }
        }
        // The arm for `count == MAX_EXTENSION_HEADERS` returns on every kind the loop follows.
        Err(Reason::Ipv6ExtLimit)
    }
}

mod tcp {
    use super::*;
    use static_assertions::const_assert_eq;
    mod field {
        use core::ops::Range;
        pub const SRC_PORT: Range<usize> = 0..2;
        pub const DST_PORT: Range<usize> = 2..4;
        pub const DATA_OFFSET: usize = 12;
        pub const FLAGS: usize = 13;
        pub const CHECKSUM: Range<usize> = 16..18;
        pub const URGENT: Range<usize> = 18..20;
    }

    /// Length of the TCP header without options.
    pub const HEADER_LEN: usize = field::URGENT.end;
    const_assert_eq!(HEADER_LEN, 20);

    const FLAG_SYN: u8 = 0x02;
    const FLAG_RST: u8 = 0x04;

    const OPTION_EOL: u8 = 0;
    const OPTION_NOP: u8 = 1;
    const OPTION_MSS: u8 = 2;
    /// Kind, length and a 16-bit value (RFC 9293 section 3.2).
    const OPTION_MSS_LEN: u8 = 4;
    mod mss_field {
        pub const KIND: usize = 0;
        pub const VALUE_HIGH: usize = 2;
        pub const VALUE_LOW: usize = 3;
    }
    const_assert_eq!(mss_field::VALUE_LOW + 1, OPTION_MSS_LEN as usize);

    /// Lowers every MSS option above `max_mss` in a TCP segment and fixes its checksum.
    ///
    /// The checksum covers the whole segment plus a pseudo-header that does not change, so
    /// the incremental update needs only the TCP header.
    pub fn clamp_segment(segment: &mut [u8], max_mss: u16) -> Outcome {
        let Some((fixed, after_fixed)) = segment.split_first_chunk_mut::<HEADER_LEN>() else {
            return Outcome::Unchanged(Reason::TruncatedTcp);
        };
        // At most 15 * 4: no overflow.
        let header_len = usize::from(fixed[field::DATA_OFFSET] >> 4).wrapping_mul(4);
        let Some(options_len) = header_len.checked_sub(HEADER_LEN) else {
            return Outcome::Unchanged(Reason::MalformedTcp);
        };
        let Some((options, _payload)) = after_fixed.split_at_mut_checked(options_len) else {
            return Outcome::Unchanged(Reason::TruncatedTcp);
        };
        let flags = fixed[field::FLAGS];
        if flags & FLAG_SYN == 0 {
            return Outcome::Unchanged(Reason::NotSyn);
        }
        if flags & FLAG_RST != 0 {
            return Outcome::Unchanged(Reason::Rst);
        }

        let mut checksum = u16::from_be_bytes([
            fixed[field::CHECKSUM.start],
            fixed[field::CHECKSUM.start + 1],
        ]);
        let mut saw_mss = false;
        let mut stopped = false;
        let mut first_lowered = None;
        let mut rest: &mut [u8] = options;
        // The offset of `rest` from the TCP header's first byte; only its parity matters.
        let mut offset = HEADER_LEN;
        // Each step consumes at least one byte of `rest` (a NOP, or an option of length >= 2),
        // so the loop ends.
        while let Some(&kind) = rest.first() {
            let len = match kind {
                OPTION_EOL => break,
                OPTION_NOP => 1,
                _ => match rest.get(1) {
                    Some(&len) if len >= 2 => usize::from(len),
                    _ => {
                        stopped = true;
                        break;
                    }
                },
            };
            let Some((option, after_option)) = core::mem::take(&mut rest).split_at_mut_checked(len)
            else {
                stopped = true;
                break;
            };
            if let Ok(mss_option) = <&mut [u8; OPTION_MSS_LEN as usize]>::try_from(option) {
                if mss_option[mss_field::KIND] == OPTION_MSS {
                    saw_mss = true;
                    let mss = u16::from_be_bytes([
                        mss_option[mss_field::VALUE_HIGH],
                        mss_option[mss_field::VALUE_LOW],
                    ]);
                    // Receivers use the last MSS option, so every one is lowered.
                    if mss > max_mss {
                        [
                            mss_option[mss_field::VALUE_HIGH],
                            mss_option[mss_field::VALUE_LOW],
                        ] = max_mss.to_be_bytes();
                        // The value sits 2 bytes into the option, so it shares the option's parity.
                        let value_is_odd = offset % 2 == 1;
                        checksum = checksum::adjust(checksum, mss, max_mss, value_is_odd);
                        first_lowered.get_or_insert(mss);
                    }
                }
            }
            rest = after_option;
            // At most 60 (the longest TCP header): no overflow.
            offset = offset.wrapping_add(len);
        }

        if let Some(from) = first_lowered {
            [
                fixed[field::CHECKSUM.start],
                fixed[field::CHECKSUM.start + 1],
            ] = checksum.to_be_bytes();
            return Outcome::Clamped { from, to: max_mss };
        }
        Outcome::Unchanged(if stopped {
            Reason::MalformedOptions
        } else if saw_mss {
            Reason::MssOk
        } else {
            Reason::NoMss
        })
    }
}

/// `clamp` as it was, with the limits as (IPv4 MSS, IPv6 MSS).
pub fn clamp(packet: &mut [u8], limits: (u16, u16)) -> Outcome {
    let (located, max_mss) = match packet.first().map(|byte| byte >> 4) {
        Some(4) => (ipv4::segment(packet), limits.0),
        Some(6) => (ipv6::segment(packet), limits.1),
        Some(_) => return Outcome::Unchanged(Reason::NotIp),
        None => return Outcome::Unchanged(Reason::TruncatedIp),
    };
    match located {
        Ok(range) => match packet.get_mut(range) {
            Some(segment) => tcp::clamp_segment(segment, max_mss),
            None => Outcome::Unchanged(Reason::TruncatedIp),
        },
        Err(reason) => Outcome::Unchanged(reason),
    }
}

/// `clamp_tcp` as it was.
pub fn clamp_tcp(segment: &mut [u8], max_mss: u16) -> Outcome {
    tcp::clamp_segment(segment, max_mss)
}
