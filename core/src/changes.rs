//! Where a clamp changed a packet, for callers that copy the change into the packet and
//! update its checksum themselves (an eBPF program: `bpf_skb_store_bytes` and
//! `bpf_l4_csum_replace` per changed word).

use core::ops::Range;

use crate::tcp::{self, Record};

/// Offset of the TCP checksum from the TCP header's first byte (RFC 9293 section 3.1).
const CHECKSUM_OFFSET: usize = 16;

/// Where [`clamp_prefix`](crate::clamp_prefix) or [`clamp_ethernet`](crate::clamp_ethernet)
/// changed a packet: the TCP segment (so the checksum's place) and the 16-bit words of the
/// TCP options that changed. Offsets count from the first byte of the buffer given.
///
/// The words are aligned to the TCP header (an even number of bytes from its start), as the
/// checksum sums them. An MSS value at an odd offset straddles two of them, and only those
/// whose bytes changed are listed. The checksum's own word is not listed: the buffer holds
/// the core's incremental update of it, which a caller that updates the checksum itself
/// ignores.
///
/// In a TC eBPF program, whose skb may carry only a partial checksum
/// (`CHECKSUM_PARTIAL`: the field holds the pseudo-header's sum until the device or the
/// stack sums the data), each word is written back and its change handed to the kernel,
/// which then updates the field only when that is right:
///
/// ```text
/// for at in changes.words() {
///     old = the 2 bytes at `at` in the skb (still unchanged)
///     new = the 2 bytes at `at` in the buffer
///     bpf_skb_store_bytes(skb, at, new, 2, 0)
///     bpf_l4_csum_replace(skb, changes.checksum_at(), old, new, 2)   // no BPF_F_PSEUDO_HDR
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Changes {
    segment_start: usize,
    segment_end: usize,
    words: WordMask,
}

// The offsets below are places in a buffer (at most isize::MAX) plus a link header or a
// few dozen bytes of TCP header: the adds cannot wrap. They are `wrapping_add`, not
// `saturating_add`, because an eBPF verifier that cannot rule out the saturating branch
// (Linux 6.1's) goes on with `usize::MAX` as an offset and refuses the program.
impl Changes {
    /// Returns a record of a clamp of the segment at `segment`, words as noted.
    pub(crate) const fn new(segment: Range<usize>, words: WordMask) -> Changes {
        Changes {
            segment_start: segment.start,
            segment_end: segment.end,
            words,
        }
    }

    /// Returns the same changes for a buffer that starts `by` bytes earlier (a link header).
    pub(crate) const fn shifted(self, by: usize) -> Changes {
        Changes {
            segment_start: self.segment_start.wrapping_add(by),
            segment_end: self.segment_end.wrapping_add(by),
            words: self.words,
        }
    }

    /// Returns where the TCP segment (header and payload, as the IP length bounds it) lies
    /// in the buffer. For a prefix it may end past the buffer's end, where the packet does.
    #[must_use]
    pub const fn segment(self) -> Range<usize> {
        self.segment_start..self.segment_end
    }

    /// Returns the offset of the TCP checksum field (2 bytes) in the buffer.
    #[must_use]
    pub const fn checksum_at(self) -> usize {
        self.segment_start.wrapping_add(CHECKSUM_OFFSET)
    }

    /// Returns the offsets in the buffer of the 16-bit words that changed, in ascending
    /// order, the checksum not among them.
    #[must_use]
    pub const fn words(self) -> Words {
        Words {
            next_at: self.segment_start.wrapping_add(tcp::HEADER_LEN),
            mask: self.words.0,
        }
    }
}

/// The 16-bit words of the TCP options a clamp changed: bit `i` is the word `2 * i` bytes
/// into the options. Options are at most 40 bytes, 20 words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct WordMask(u32);

impl WordMask {
    /// Marks the word that holds the byte `at` bytes into the options.
    fn mark(&mut self, at: usize) {
        // Options start at an even offset from the TCP header, so their words are its words.
        let bit = u32::try_from(at / 2)
            .ok()
            .and_then(|word| 1u32.checked_shl(word))
            .unwrap_or(0);
        self.0 |= bit;
    }
}

impl Record for WordMask {
    fn lowered(&mut self, value_at: usize, from: u16, to: u16) {
        let [from_high, from_low] = from.to_be_bytes();
        let [to_high, to_low] = to.to_be_bytes();
        // At an odd offset the two bytes sit in two words; a byte that kept its value
        // leaves its word as it was (1460 -> 1360 keeps the high byte 0x05).
        if from_high != to_high {
            self.mark(value_at);
        }
        if from_low != to_low {
            self.mark(value_at.wrapping_add(1));
        }
    }
}

/// The offsets of the words a clamp changed, from [`Changes::words`].
#[derive(Clone, Debug)]
pub struct Words {
    /// Offset of the word that bit 0 of `mask` stands for.
    next_at: usize,
    mask: u32,
}

impl Iterator for Words {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        // Each turn drops one bit of the 32, so the loop ends.
        while self.mask != 0 {
            let changed = self.mask & 1 != 0;
            let at = self.next_at;
            self.mask = self.mask.wrapping_shr(1);
            self.next_at = at.wrapping_add(2);
            if changed {
                return Some(at);
            }
        }
        None
    }
}
