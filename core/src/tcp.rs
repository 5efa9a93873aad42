//! TCP header offsets, the option walk and the MSS clamp (RFC 9293 sections 3.1 and 3.7.1).

use static_assertions::const_assert_eq;

use crate::checksum;
use crate::outcome::{Outcome, Reason};

//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Source Port          |       Destination Port        |
// |                        Sequence Number                        |
// |                    Acknowledgment Number                      |
// |  Data |       |C|E|U|A|P|R|S|F|                               |
// | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
// |           Checksum            |         Urgent Pointer        |
// |                    Options                    |    Padding    |
// RFC 9293 section 3.1
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

/// Source and destination port of a TCP segment, for log lines; `None` when shorter than 4 bytes.
#[must_use]
pub fn ports(segment: &[u8]) -> Option<(u16, u16)> {
    let header = segment.first_chunk::<{ field::DST_PORT.end }>()?;
    Some((
        u16::from_be_bytes([
            header[field::SRC_PORT.start],
            header[field::SRC_PORT.start + 1],
        ]),
        u16::from_be_bytes([
            header[field::DST_PORT.start],
            header[field::DST_PORT.start + 1],
        ]),
    ))
}

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
