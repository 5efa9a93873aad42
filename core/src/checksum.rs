//! Incremental update of the Internet checksum, RFC 1624 section 3, equation 3.

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

#[cfg(test)]
mod tests {
    use super::adjust;

    // RFC 1624 section 4 example: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 gives 0x0000.
    #[test]
    fn rfc1624_section4_example() {
        assert_eq!(adjust(0xdd2f, 0x5555, 0x3285, false), 0x0000);
    }

    #[test]
    fn unchanged_word_keeps_checksum() {
        assert_eq!(adjust(0x1234, 0x05b4, 0x05b4, false), 0x1234);
        assert_eq!(adjust(0x1234, 0x05b4, 0x05b4, true), 0x1234);
    }
}
