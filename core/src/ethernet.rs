//! Ethernet II header offsets and up to two VLAN tags, down to the IP packet (IEEE 802.3
//! clause 3.2.6; IEEE 802.1Q clause 9.5: the C-tag 0x8100 and the 802.1ad S-tag 0x88a8).

use static_assertions::const_assert_eq;

use crate::outcome::Reason;

// | Destination address (6) | Source address (6) | EtherType or tag protocol id (2) |
// IEEE 802.3 clause 3.2.6 (Ethernet II: an EtherType, not a length, at 12..14)
mod field {
    use core::ops::Range;
    pub const DST_ADDR: Range<usize> = 0..6;
    pub const SRC_ADDR: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
}
/// Length of the Ethernet header without tags.
const HEADER_LEN: usize = field::ETHERTYPE.end;
const_assert_eq!(HEADER_LEN, 14);
const_assert_eq!(field::SRC_ADDR.start, field::DST_ADDR.end);

// A VLAN tag follows its tag protocol id, which stands where the EtherType would:
// | Tag control information: PCP, DEI, VLAN id (2) | EtherType or tag protocol id (2) |
// IEEE 802.1Q clause 9.5
mod tag_field {
    use core::ops::Range;
    pub const TCI: Range<usize> = 0..2;
    pub const ETHERTYPE: Range<usize> = 2..4;
}
/// Bytes a tag adds after its tag protocol id.
const TAG_LEN: usize = tag_field::ETHERTYPE.end;
const_assert_eq!(TAG_LEN, 4);
const_assert_eq!(tag_field::ETHERTYPE.start, tag_field::TCI.end);

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
/// IEEE 802.1Q customer tag.
const TPID_8021Q: u16 = 0x8100;
/// IEEE 802.1ad service tag (QinQ's outer tag).
const TPID_8021AD: u16 = 0x88a8;

/// Tags followed before giving up: an 802.1ad service tag and an 802.1Q customer tag, the
/// most any standard stacks (Linux accepts either id in either place, so both are).
pub const MAX_TAGS: usize = 2;

/// Returns where the IP packet starts in an Ethernet frame of `frame_len` bytes whose first
/// bytes are `frame`, and the IP version its EtherType names; or why there is none.
pub fn ip_start(frame: &[u8], frame_len: usize) -> Result<(usize, u8), Reason> {
    // Where the EtherType (or the next tag protocol id) is read.
    let mut at = field::ETHERTYPE.start;
    // Tags walked so far; each turn of the loop walks one or returns, and it returns once
    // MAX_TAGS have been walked, so the loop ends.
    let mut tags = 0;
    loop {
        // At most 12 + 2 * 4 + 2: no overflow.
        let after = at.wrapping_add(2);
        let Some(&[high, low]) = frame.get(at..).and_then(<[u8]>::first_chunk::<2>) else {
            return Err(Reason::missing(Reason::TruncatedFrame, after, frame_len));
        };
        match u16::from_be_bytes([high, low]) {
            ETHERTYPE_IPV4 => return Ok((after, 4)),
            ETHERTYPE_IPV6 => return Ok((after, 6)),
            TPID_8021Q | TPID_8021AD if tags == MAX_TAGS => return Err(Reason::VlanLimit),
            TPID_8021Q | TPID_8021AD => {
                tags = tags.wrapping_add(1);
                at = at.wrapping_add(TAG_LEN);
            }
            _ => return Err(Reason::OtherEthertype),
        }
    }
}
