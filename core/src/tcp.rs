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
        Ok((fixed, options)) => clamp_options::<()>(fixed, options, max_mss).0,
        Err(reason) => Outcome::Unchanged(reason),
    }
}

/// What the clamp notes of each MSS value it lowers, besides the outcome: nothing for
/// `clamp`, the changed 16-bit words for the prefix entries. A type parameter, so that
/// `clamp`'s instance (`()`) carries no noting at all.
pub trait Record: Copy + Default {
    /// Notes that the MSS value `value_at` bytes into the options went from `from` to `to`.
    fn lowered(&mut self, value_at: usize, from: u16, to: u16);
}

impl Record for () {
    #[inline(always)]
    fn lowered(&mut self, _value_at: usize, _from: u16, _to: u16) {}
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

/// Returns the fixed header and the options of a SYN or SYN-ACK segment `segment_len` bytes
/// long whose first bytes are `held`, or why it is left alone: a header that runs past
/// `held` but not past the segment is [`Reason::ShortPrefix`], not truncated.
pub fn syn_options_in_prefix(
    held: &mut [u8],
    segment_len: usize,
) -> Result<(&mut [u8; HEADER_LEN], &mut [u8]), Reason> {
    // The header's length as far as the bytes at hand tell: the data offset's if it is
    // among them, the fixed header's at least. At most 15 * 4: no overflow.
    let header_len = held
        .get(field::DATA_OFFSET)
        .map_or(HEADER_LEN, |&byte| usize::from(byte >> 4).wrapping_mul(4))
        .max(HEADER_LEN);
    let past_prefix = header_len > held.len();
    match syn_options(held) {
        Err(Reason::TruncatedTcp) if past_prefix => Err(Reason::missing(
            Reason::TruncatedTcp,
            header_len,
            segment_len,
        )),
        result => result,
    }
}

/// Lowers every MSS option above `max_mss` in the options of a SYN, `fixed` being the 20
/// bytes before them, whose checksum it updates; returns the outcome and what `R` noted.
// Out of line: only SYNs get here, and the callers' early exits should not pay for it.
// Inline on BPF, as `clamp_ipv6` (lib.rs) says why, and always: the eBPF objects' loader
// links no subprograms (daemon/linux/ebpf.rs).
#[cfg_attr(not(target_arch = "bpf"), inline(never))]
#[cfg_attr(target_arch = "bpf", inline(always))]
pub fn clamp_options<R: Record>(
    fixed: &mut [u8; HEADER_LEN],
    options: &mut [u8],
    max_mss: u16,
) -> (Outcome, R) {
    // Linux, Windows, macOS and the BSDs all send MSS as the first option, and the options
    // after it in a few fixed layouts that hold no other MSS: such a SYN needs no walk.
    if let [OPTION_MSS, OPTION_MSS_LEN, value_high, value_low, rest @ ..] = options {
        if is_known_layout(rest) {
            // The value sits 2 bytes into the options, which start at an even offset.
            let lowered = lower_mss(fixed, [value_high, value_low], max_mss, false);
            let mut record = R::default();
            if let Some(from) = lowered {
                record.lowered(2, from, max_mss);
            }
            return (finish(lowered, max_mss, false, true), record);
        }
    }
    walk_options(fixed, options, max_mss)
}

/// The most option bytes a TCP header holds: 15 words less the fixed 20 bytes.
const OPTIONS_MAX: usize = 40;

/// Lowers every MSS option above `max_mss`, walking the options one by one.
// Out of line: the walk needs registers that the known layouts' path should not save.
// Inline on BPF, as `clamp_ipv6` (lib.rs) says why, and always: the eBPF objects' loader
// links no subprograms (daemon/linux/ebpf.rs).
#[cfg_attr(not(target_arch = "bpf"), inline(never))]
#[cfg_attr(target_arch = "bpf", inline(always))]
fn walk_options<R: Record>(
    fixed: &mut [u8; HEADER_LEN],
    options: &mut [u8],
    max_mss: u16,
) -> (Outcome, R) {
    let mut record = R::default();
    let mut saw_mss = false;
    let mut first_lowered = None;
    // Where the next option starts, counted from the first option byte.
    let mut at = 0;
    // Each step moves `at` on by at least one byte (a NOP, or an option of length >= 2)
    // and the walk stops at the end of the options, so the loop ends.
    let stopped = loop {
        // Options are at most 40 bytes (a 60-byte header): past that `get` below finds
        // nothing either. Said with a constant for the eBPF verifier of Linux 6.1, which
        // does not carry the slice's length into the loop and otherwise let `at` grow past
        // any buffer ("invalid access to map value").
        if at >= OPTIONS_MAX {
            break false;
        }
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
            if let Some(from) = lowered {
                // At most 40 + 2: no overflow.
                record.lowered(at.wrapping_add(2), from, max_mss);
            }
            first_lowered = first_lowered.or(lowered);
        }
        at = end;
    };

    (finish(first_lowered, max_mss, stopped, saw_mss), record)
}

/// The outcome of an option walk: whether it lowered an MSS (and from what), else why not.
#[inline(always)]
fn finish(first_lowered: Option<u16>, max_mss: u16, stopped: bool, saw_mss: bool) -> Outcome {
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

/// The options that the common stacks send after a leading MSS option, as a big-endian
/// pattern and the mask of its fixed bytes (the timestamps and the window shift vary).
/// RFC 7323 appendix A has receivers predict option layouts the same way.
const KNOWN_LAYOUTS_16: [(u128, u128); 2] = [
    // Linux SYN and SYN-ACK: SACK permitted, timestamps, NOP, window scale.
    (
        0x0402_080a_0000_0000_0000_0000_0103_0300,
        0xffff_ffff_0000_0000_0000_0000_ffff_ff00,
    ),
    // FreeBSD: NOP, window scale, SACK permitted, timestamps.
    (
        0x0103_0300_0402_080a_0000_0000_0000_0000,
        0xffff_ff00_ffff_ffff_0000_0000_0000_0000,
    ),
];
const KNOWN_LAYOUTS_8: [(u64, u64); 2] = [
    // Linux without timestamps: NOP, NOP, SACK permitted, NOP, window scale.
    (0x0101_0402_0103_0300, 0xffff_ffff_ffff_ff00),
    // Windows: NOP, window scale, NOP, NOP, SACK permitted.
    (0x0103_0300_0101_0402, 0xffff_ff00_ffff_ffff),
];
/// macOS and iOS: NOP, window scale, NOP, NOP, timestamps, SACK permitted, EOL, padding.
const KNOWN_LAYOUT_20: ((u128, u32), (u128, u32)) = (
    (0x0103_0300_0101_080a_0000_0000_0000_0000, 0x0402_0000),
    (0xffff_ff00_ffff_ffff_0000_0000_0000_0000, 0xffff_ffff),
);

/// Tells whether the options after a leading MSS option have one of the known layouts,
/// which hold no MSS option and no bad length: the general walk over them is then
/// skipped, a dependent load per option that costs more than the rest of the clamp.
#[inline(always)]
fn is_known_layout(rest: &[u8]) -> bool {
    if let Some(bytes) = rest.first_chunk::<16>() {
        let head = u128::from_be_bytes(*bytes);
        if rest.len() == 16 {
            return KNOWN_LAYOUTS_16
                .iter()
                .any(|&(pattern, mask)| head & mask == pattern);
        }
        let ((pattern, pattern_tail), (mask, mask_tail)) = KNOWN_LAYOUT_20;
        return match rest.get(16..).and_then(|tail| tail.first_chunk::<4>()) {
            Some(tail) if rest.len() == 20 => {
                head & mask == pattern && u32::from_be_bytes(*tail) & mask_tail == pattern_tail
            }
            _ => false,
        };
    }
    match rest.first_chunk::<8>() {
        Some(bytes) if rest.len() == 8 => {
            let word = u64::from_be_bytes(*bytes);
            KNOWN_LAYOUTS_8
                .iter()
                .any(|&(pattern, mask)| word & mask == pattern)
        }
        _ => false,
    }
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

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::{clamp_options, is_known_layout, walk_options, HEADER_LEN};

    /// The options of each known layout as sent, MSS 1460 first; the timestamps hold
    /// `02 04` pairs that a careless fast path would take for MSS options.
    const SENT: [&[u8]; 5] = [
        // Linux
        &[
            2, 4, 5, 0xb4, 4, 2, 8, 10, 2, 4, 2, 4, 2, 4, 2, 4, 1, 3, 3, 7,
        ],
        // FreeBSD
        &[
            2, 4, 5, 0xb4, 1, 3, 3, 6, 4, 2, 8, 10, 2, 4, 0xff, 0xff, 0, 0, 0, 0,
        ],
        // Linux without timestamps
        &[2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7],
        // Windows
        &[2, 4, 5, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2],
        // macOS
        &[
            2, 4, 5, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 2, 4, 5, 0xdc, 2, 4, 5, 0xdc, 4, 2, 0, 0,
        ],
    ];

    /// Runs the fast path and the general walk on copies; returns both outcomes and bytes.
    fn both(options: &[u8], max_mss: u16) -> [(super::Outcome, Vec<u8>); 2] {
        let run = |walk: bool| {
            let mut fixed = [0u8; HEADER_LEN];
            fixed[16..18].copy_from_slice(&[0x12, 0x34]);
            let mut bytes = options.to_vec();
            let (outcome, ()) = if walk {
                walk_options(&mut fixed, &mut bytes, max_mss)
            } else {
                clamp_options(&mut fixed, &mut bytes, max_mss)
            };
            bytes.extend_from_slice(&fixed);
            (outcome, bytes)
        };
        [run(false), run(true)]
    }

    #[test]
    fn known_layouts_take_the_fast_path_and_agree_with_the_walk() {
        for options in SENT {
            assert!(is_known_layout(&options[4..]), "{options:02x?}");
            for max_mss in [536, 1460, 9000] {
                let [fast, walked] = both(options, max_mss);
                assert_eq!(fast, walked, "{options:02x?} limit {max_mss}");
            }
        }
    }

    #[test]
    fn any_byte_changed_the_fast_path_still_agrees_with_the_walk() {
        for options in SENT {
            for at in 4..options.len() {
                for byte in [0, 1, 2, 4, 0x0b, 0xff] {
                    let mut changed = options.to_vec();
                    changed[at] = byte;
                    // A changed timestamp or window shift keeps the layout, any other change
                    // leaves the options to the walk: either way the two must agree.
                    let [fast, walked] = both(&changed, 1360);
                    assert_eq!(fast, walked, "{changed:02x?}");
                }
            }
            // A second MSS option where the layout has SACK permitted and a NOP or two.
            let mut second_mss = options.to_vec();
            if let Some(at) = second_mss.windows(2).position(|pair| pair == [4, 2]) {
                if at >= 2 && second_mss[at - 2..at] == [1, 1] {
                    second_mss[at - 2..at + 2].copy_from_slice(&[2, 4, 0x23, 0x28]);
                    assert!(!is_known_layout(&second_mss[4..]));
                    let [fast, walked] = both(&second_mss, 1360);
                    assert_eq!(fast, walked);
                }
            }
        }
    }

    #[test]
    fn other_lengths_are_never_a_known_layout() {
        let linux = SENT[0];
        for len in 0..=36 {
            if ![8, 16, 20].contains(&len) {
                assert!(!is_known_layout(&[1; 40][..len]));
            }
        }
        assert!(!is_known_layout(&[&linux[4..], &[0, 0, 0, 0]].concat()));
        assert!(!is_known_layout(&linux[4..12]));
    }
}
