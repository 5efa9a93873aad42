//! TCP header offsets, the option walk and the MSS clamp (RFC 9293 sections 3.1 and 3.7.1).

use static_assertions::{const_assert, const_assert_eq};

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
// The option walk takes a value's parity from its offset within the options.
const_assert!(HEADER_LEN % 2 == 0);

const FLAG_SYN: u8 = 0x02;
const FLAG_RST: u8 = 0x04;

const OPTION_EOL: u8 = 0;
const OPTION_NOP: u8 = 1;
const OPTION_MSS: u8 = 2;
/// Kind, length and a 16-bit value (RFC 9293 section 3.2).
const OPTION_MSS_LEN: u8 = 4;
// The option walk matches an MSS option as these four bytes: kind, length, value.
const_assert_eq!(OPTION_MSS_LEN, 4);

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
#[inline(always)]
pub fn clamp_segment(segment: &mut [u8], max_mss: u16) -> Outcome {
    match syn_options(segment) {
        Ok((fixed, options)) => clamp_options(fixed, options, max_mss),
        Err(reason) => Outcome::Unchanged(reason),
    }
}

/// Returns the fixed header and the options of a SYN or SYN-ACK segment, or why it is left
/// alone.
// Inlined into the callers: a packet that is not a SYN, the common case, then leaves
// after a few compares, and only SYNs call the option walk.
#[inline(always)]
pub fn syn_options(segment: &mut [u8]) -> Result<(&mut [u8; HEADER_LEN], &mut [u8]), Reason> {
    let Some((fixed, after_fixed)) = segment.split_first_chunk_mut::<HEADER_LEN>() else {
        return Err(Reason::TruncatedTcp);
    };
    // At most 15 * 4: no overflow.
    let header_len = usize::from(fixed[field::DATA_OFFSET] >> 4).wrapping_mul(4);
    let Some(options_len) = header_len.checked_sub(HEADER_LEN) else {
        return Err(Reason::MalformedTcp);
    };
    let Some((options, _payload)) = after_fixed.split_at_mut_checked(options_len) else {
        return Err(Reason::TruncatedTcp);
    };
    let flags = fixed[field::FLAGS];
    if flags & FLAG_SYN == 0 {
        return Err(Reason::NotSyn);
    }
    if flags & FLAG_RST != 0 {
        return Err(Reason::Rst);
    }
    Ok((fixed, options))
}

/// Lowers every MSS option above `max_mss` in the options of a SYN, `fixed` being the 20
/// bytes before them, whose checksum it updates.
// Out of line: only SYNs get here, and the walk needs registers that the callers' early
// exits should not have to save.
#[inline(never)]
pub fn clamp_options(fixed: &mut [u8; HEADER_LEN], options: &mut [u8], max_mss: u16) -> Outcome {
    let mut saw_mss = false;
    let mut first_lowered = None;
    // Where the next option starts, counted from the first option byte. Linux, Windows,
    // macOS and the BSDs all send MSS as the first option: taking it before the walk saves
    // a turn of the general loop on nearly every SYN.
    let mut at = match options {
        [OPTION_MSS, OPTION_MSS_LEN, value_high, value_low, ..] => {
            saw_mss = true;
            // The value sits 2 bytes into the options, which start at an even offset.
            first_lowered = lower_mss(fixed, [value_high, value_low], max_mss, false);
            usize::from(OPTION_MSS_LEN)
        }
        _ => 0,
    };
    // Each step moves `at` on by at least one byte (a NOP, or an option of length >= 2)
    // and the walk stops at the end of the options, so the loop ends.
    let stopped = loop {
        let Some(&kind) = options.get(at) else {
            break false;
        };
        let len = match kind {
            OPTION_EOL => break false,
            OPTION_NOP => 1,
            _ => match options.get(at.wrapping_add(1)) {
                Some(&len) if len >= 2 => usize::from(len),
                _ => break true,
            },
        };
        // `at` is within the options (at most 40 bytes) and `len` at most 255: no overflow.
        let end = at.wrapping_add(len);
        let Some(option) = options.get_mut(at..end) else {
            break true;
        };
        if let [OPTION_MSS, OPTION_MSS_LEN, value_high, value_low] = option {
            saw_mss = true;
            // Options start at an even offset from the TCP header, and the value 2 bytes
            // into its option, so the value's parity is that of `at`.
            let lowered = lower_mss(fixed, [value_high, value_low], max_mss, at % 2 == 1);
            first_lowered = first_lowered.or(lowered);
        }
        at = end;
    };

    if let Some(from) = first_lowered {
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

/// Lowers one MSS value above `max_mss` to it and updates the checksum in the fixed
/// header; returns the value it replaced.
// Receivers use the last MSS option, so every one is lowered, not only the first.
fn lower_mss(
    fixed: &mut [u8; HEADER_LEN],
    [value_high, value_low]: [&mut u8; 2],
    max_mss: u16,
    value_is_odd: bool,
) -> Option<u16> {
    let mss = u16::from_be_bytes([*value_high, *value_low]);
    if mss <= max_mss {
        return None;
    }
    [*value_high, *value_low] = max_mss.to_be_bytes();
    let checksum = u16::from_be_bytes([
        fixed[field::CHECKSUM.start],
        fixed[field::CHECKSUM.start + 1],
    ]);
    [
        fixed[field::CHECKSUM.start],
        fixed[field::CHECKSUM.start + 1],
    ] = checksum::adjust(checksum, mss, max_mss, value_is_odd).to_be_bytes();
    Some(mss)
}
