//! netlink(7) framing shared by the NFQUEUE and rtnetlink messages: the message and attribute
//! headers, the walks over a receive buffer, acknowledgements and the header writers; safe code
//! over `&[u8]`, tested with byte fixtures.
//!
//! Layouts: netlink(7) and `include/uapi/linux/netlink.h`, all fields in host byte order.
//! Nothing here allocates or panics: every length read from the kernel is checked against the
//! buffer before a range is built from it.

use std::io;

use static_assertions::const_assert_eq;

// struct nlmsghdr, all fields in host byte order (include/uapi/linux/netlink.h):
//  0               4       6       8               12              16
// +---------------+-------+-------+---------------+---------------+
// | nlmsg_len     | type  | flags | nlmsg_seq     | nlmsg_pid     |
// +---------------+-------+-------+---------------+---------------+
// nlmsg_len counts this header; messages in one datagram start at NLMSG_ALIGN (4) boundaries.
mod nlmsghdr {
    use core::ops::Range;
    pub const LEN: Range<usize> = 0..4;
    pub const TYPE: Range<usize> = 4..6;
    pub const FLAGS: Range<usize> = 6..8;
    pub const SEQ: Range<usize> = 8..12;
    pub const PID: Range<usize> = 12..16;
}
/// Length of `struct nlmsghdr`.
pub(crate) const NLMSG_HDR_LEN: usize = nlmsghdr::PID.end;
const_assert_eq!(NLMSG_HDR_LEN, 16);

// struct nlattr (and struct rtattr, the same layout), host byte order:
//  0       2       4
// +-------+-------+---------------- - -
// | len   | type  | value, padded to 4
// +-------+-------+---------------- - -
// len counts this header but not the padding.
mod nlattr {
    use core::ops::Range;
    pub const LEN: Range<usize> = 0..2;
    pub const TYPE: Range<usize> = 2..4;
}
/// Length of `struct nlattr` / `struct rtattr`.
pub(crate) const NLA_HDR_LEN: usize = nlattr::TYPE.end;
const_assert_eq!(NLA_HDR_LEN, 4);

// struct nlmsgerr: the errno (0 for an acknowledgement, else negated), host byte order, then the
// request's header (include/uapi/linux/netlink.h). Only the errno is read.
mod nlmsgerr {
    use core::ops::Range;
    pub const ERROR: Range<usize> = 0..4;
}

/// netlink.h: messages and attributes are aligned to 4 bytes (NLMSG_ALIGNTO, NLA_ALIGNTO).
pub(crate) const ALIGN: usize = 4;
/// netlink.h NLA_TYPE_MASK: the top two bits of `nla_type` are the NESTED and NET_BYTEORDER flags.
const NLA_TYPE_MASK: u16 = 0x3fff;

/// netlink.h: a request for the kernel (it ignores messages without it).
pub(crate) const NLM_F_REQUEST: u16 = 0x1;
/// netlink.h: asks for an NLMSG_ERROR with errno 0 on success.
pub(crate) const NLM_F_ACK: u16 = 0x4;
/// netlink.h: a GET request for every object (NLM_F_ROOT | NLM_F_MATCH).
pub(crate) const NLM_F_DUMP: u16 = 0x300;
/// netlink.h NLMSG_ERROR: an error or, with errno 0, an acknowledgement.
pub(crate) const NLMSG_ERROR: u16 = 2;

#[cfg(target_os = "linux")]
mod values_match_libc {
    use static_assertions::const_assert_eq;
    const_assert_eq!(super::NLA_TYPE_MASK as i32, libc::NLA_TYPE_MASK & 0xffff);
    const_assert_eq!(super::NLM_F_REQUEST as i32, libc::NLM_F_REQUEST);
    const_assert_eq!(super::NLM_F_ACK as i32, libc::NLM_F_ACK);
    const_assert_eq!(super::NLM_F_DUMP as i32, libc::NLM_F_DUMP);
    const_assert_eq!(super::NLMSG_ERROR as i32, libc::NLMSG_ERROR);
}

/// Reads 2 bytes at a constant range of a fixed-size array (a constant index passes the lints).
macro_rules! bytes2 {
    ($h:expr, $r:expr) => {
        [$h[$r.start], $h[$r.start + 1]]
    };
}
/// Reads 4 bytes at a constant range of a fixed-size array.
macro_rules! bytes4 {
    ($h:expr, $r:expr) => {
        [
            $h[$r.start],
            $h[$r.start + 1],
            $h[$r.start + 2],
            $h[$r.start + 3],
        ]
    };
}
pub(crate) use {bytes2, bytes4};

/// Rounds `len` up to the netlink alignment; `None` only past `usize::MAX`.
pub(crate) fn align(len: usize) -> Option<usize> {
    Some(len.checked_add(ALIGN - 1)? & !(ALIGN - 1))
}

/// Why a netlink message could not be read. Too few bytes (`Truncated…`) is kept apart from an
/// impossible value (`Bad…`), as etherparse does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// Fewer bytes than a netlink header, or a message length past the end of the datagram.
    TruncatedMessage,
    /// A message length shorter than the netlink header itself.
    BadMessageLength,
    /// Too few bytes for the header that follows the netlink header (nfgenmsg, nlmsgerr,
    /// ifinfomsg).
    TruncatedBody,
    /// An attribute header or value past the end of its message.
    TruncatedAttribute,
    /// An attribute length shorter than the attribute header.
    BadAttributeLength,
    /// An NFQUEUE packet message without `NFQA_PACKET_HDR`: there is no id to give a verdict to.
    NoPacketHeader,
    /// An `NFQA_PACKET_HDR` shorter than its 7-byte structure.
    BadPacketHeader,
}

impl Malformed {
    /// Every variant, for an array of counters.
    pub const ALL: [Malformed; 7] = [
        Malformed::TruncatedMessage,
        Malformed::BadMessageLength,
        Malformed::TruncatedBody,
        Malformed::TruncatedAttribute,
        Malformed::BadAttributeLength,
        Malformed::NoPacketHeader,
        Malformed::BadPacketHeader,
    ];

    /// Returns the counter and log name.
    pub fn name(self) -> &'static str {
        match self {
            Malformed::TruncatedMessage => "truncated-netlink",
            Malformed::BadMessageLength => "bad-netlink-length",
            Malformed::TruncatedBody => "truncated-netlink-body",
            Malformed::TruncatedAttribute => "truncated-attribute",
            Malformed::BadAttributeLength => "bad-attribute-length",
            Malformed::NoPacketHeader => "no-packet-header",
            Malformed::BadPacketHeader => "bad-packet-header",
        }
    }
}

/// One netlink message found in a receive buffer.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// `nlmsg_type`.
    pub kind: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
    /// The bytes after the netlink header, up to the message length or the end of the buffer.
    pub body: &'a [u8],
    /// Offset of `body` in the whole buffer.
    pub body_start: usize,
    /// The message length runs past the end of the buffer: `body` is only its first part.
    pub cut: bool,
}

/// Walks the netlink messages of one datagram; stops after the first one it cannot step over.
pub struct Frames<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Frames<'a> {
    /// Starts at the first byte of a receive buffer.
    pub fn new(buf: &'a [u8]) -> Self {
        Frames::at(buf, 0)
    }

    /// Starts at `buf[at..]`, where an earlier walk left off; past the end there is nothing.
    pub(crate) fn at(buf: &'a [u8], at: usize) -> Self {
        Frames { buf, at }
    }

    /// Returns the offset where the next message starts: `buf.len()` after the last one, or
    /// after one that could not be stepped over.
    pub fn offset(&self) -> usize {
        self.at
    }

    fn stop(&mut self) {
        self.at = self.buf.len();
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.at..)?;
        if rest.is_empty() {
            return None;
        }
        let Some((header, after)) = rest.split_first_chunk::<NLMSG_HDR_LEN>() else {
            self.stop();
            return Some(Err(Malformed::TruncatedMessage));
        };
        let Ok(len) = usize::try_from(u32::from_ne_bytes(bytes4!(header, nlmsghdr::LEN))) else {
            self.stop();
            return Some(Err(Malformed::TruncatedMessage));
        };
        let Some(body_len) = len.checked_sub(NLMSG_HDR_LEN) else {
            self.stop();
            return Some(Err(Malformed::BadMessageLength));
        };
        let body_start = self.at.wrapping_add(NLMSG_HDR_LEN); // <= buf.len(): header was there
        let (body, cut) = match after.get(..body_len) {
            Some(body) => (body, false),
            None => (after, true),
        };
        // The next message starts at the aligned end of this one; the last message's padding
        // may be missing, and a cut message ends the datagram.
        match align(len).and_then(|step| self.at.checked_add(step)) {
            Some(next) if !cut && next <= self.buf.len() => self.at = next,
            _ => self.stop(),
        }
        Some(Ok(Frame {
            kind: u16::from_ne_bytes(bytes2!(header, nlmsghdr::TYPE)),
            seq: u32::from_ne_bytes(bytes4!(header, nlmsghdr::SEQ)),
            body,
            body_start,
            cut,
        }))
    }
}

/// One attribute: its type (flags masked off), its value and where the value starts in the buffer.
#[derive(Clone, Copy, Debug)]
pub struct Attr<'a> {
    /// `nla_type` without the NESTED and NET_BYTEORDER flags.
    pub kind: u16,
    /// The value, without header or padding.
    pub value: &'a [u8],
    /// Offset of `value` in the whole buffer.
    pub value_start: usize,
}

/// Walks a run of netlink attributes (or rtattrs); stops after the first one it cannot step over.
pub struct Attrs<'a> {
    rest: &'a [u8],
    /// Offset of `rest` in the whole buffer.
    at: usize,
}

impl<'a> Attrs<'a> {
    /// `start` is the offset of `run` in the whole buffer, for `Attr::value_start`.
    pub fn new(run: &'a [u8], start: usize) -> Self {
        Attrs {
            rest: run,
            at: start,
        }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let rest = core::mem::take(&mut self.rest);
        let Some((header, after)) = rest.split_first_chunk::<NLA_HDR_LEN>() else {
            return Some(Err(Malformed::TruncatedAttribute));
        };
        let len = usize::from(u16::from_ne_bytes(bytes2!(header, nlattr::LEN)));
        let Some(value_len) = len.checked_sub(NLA_HDR_LEN) else {
            return Some(Err(Malformed::BadAttributeLength));
        };
        let Some(value) = after.get(..value_len) else {
            return Some(Err(Malformed::TruncatedAttribute));
        };
        // `len` <= rest.len() here; the padding after the last attribute may be missing.
        let step = align(len).unwrap_or(len).min(rest.len());
        self.rest = rest.get(step..).unwrap_or_default();
        let value_start = self.at.wrapping_add(NLA_HDR_LEN);
        self.at = self.at.wrapping_add(step);
        Some(Ok(Attr {
            kind: u16::from_ne_bytes(bytes2!(header, nlattr::TYPE)) & NLA_TYPE_MASK,
            value,
            value_start,
        }))
    }
}

/// Reads the errno of an NLMSG_ERROR body: 0 for an acknowledgement, else a positive errno.
fn error_errno(body: &[u8]) -> Option<i32> {
    let err = body.first_chunk::<{ nlmsgerr::ERROR.end }>()?;
    // The kernel sends the negated errno (netlink_ack in af_netlink.c).
    Some(i32::from_ne_bytes(bytes4!(err, nlmsgerr::ERROR)).saturating_neg())
}

/// Reads an NLMSG_ERROR frame: the errno (0 acknowledges, else positive) and the sequence number
/// of the request it answers. A cut one is not guessed at.
pub(crate) fn error(frame: &Frame<'_>) -> Result<(i32, u32), Malformed> {
    if frame.cut {
        return Err(Malformed::TruncatedMessage);
    }
    match error_errno(frame.body) {
        Some(errno) => Ok((errno, frame.seq)),
        None => Err(Malformed::TruncatedBody),
    }
}

/// Turns the errno of an acknowledgement into a result: 0 is `Ok`, anything else the OS error.
pub fn ack_result(errno: i32) -> io::Result<()> {
    match errno {
        0 => Ok(()),
        errno => Err(io::Error::from_raw_os_error(errno)),
    }
}

/// Writes a netlink header into the first 16 bytes of `out`; port id 0 addresses the kernel.
pub(crate) fn put_nlmsghdr(
    out: &mut [u8; NLMSG_HDR_LEN],
    len: u32,
    kind: u16,
    flags: u16,
    seq: u32,
) {
    out[nlmsghdr::LEN].copy_from_slice(&len.to_ne_bytes());
    out[nlmsghdr::TYPE].copy_from_slice(&kind.to_ne_bytes());
    out[nlmsghdr::FLAGS].copy_from_slice(&flags.to_ne_bytes());
    out[nlmsghdr::SEQ].copy_from_slice(&seq.to_ne_bytes());
    out[nlmsghdr::PID].copy_from_slice(&0u32.to_ne_bytes());
}

/// Writes an attribute header; `len` counts the header and the value, not the padding.
pub(crate) fn put_nlattr(out: &mut [u8; NLA_HDR_LEN], len: u16, kind: u16) {
    out[nlattr::LEN].copy_from_slice(&len.to_ne_bytes());
    out[nlattr::TYPE].copy_from_slice(&kind.to_ne_bytes());
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::fixture::{cat, nla, set_u16, set_u32};

    // Two messages in one datagram, as the kernel packs them: an NLMSG_NOOP whose 18-byte length
    // leaves 2 bytes of alignment padding, then an acknowledgement of request 9 (built by hand
    // from netlink.h; the padding bytes are 0xee to show they are skipped, not read). Every
    // field is in host byte order.
    #[rustfmt::skip]
    const NOOP_THEN_ACK: [u8; 56] = cat(&[
        &18u32.to_ne_bytes(),      // nlmsg_len 18
        &1u16.to_ne_bytes(),       // NLMSG_NOOP
        &0u16.to_ne_bytes(),       // flags
        &1u32.to_ne_bytes(),       // seq 1
        &0u32.to_ne_bytes(),       // pid 0
        &[0x05, 0x00],             // a 2-byte body
        &[0xee, 0xee],             // padding to 20
        &36u32.to_ne_bytes(),      // nlmsg_len 36
        &2u16.to_ne_bytes(),       // NLMSG_ERROR
        &0x100u16.to_ne_bytes(),   // NLM_F_CAPPED
        &9u32.to_ne_bytes(),       // seq 9
        &0u32.to_ne_bytes(),       // pid 0
        &(-2i32).to_ne_bytes(),    // error -2 = -ENOENT
        &16u32.to_ne_bytes(),      // the request's header: nlmsg_len 16
        &[0x00, 0x00, 0x00, 0x00], //   type 0, flags 0
        &9u32.to_ne_bytes(),       //   seq 9
        &0u32.to_ne_bytes(),       //   pid 0
    ]);

    // A run of attributes: a 5-byte one with its padding, a nested one (NLA_F_NESTED) and a
    // last one whose padding is missing, as at the end of a message. Lengths and types in host
    // byte order.
    #[rustfmt::skip]
    const ATTRS: [u8; 22] = cat(&[
        &nla(5, 1),                // nla_len 5, type 1
        &[0xaa, 0xee, 0xee, 0xee], //   1 byte, 3 of padding
        &nla(8, 0x8002),           // nla_len 8, type 2 | NLA_F_NESTED
        &NESTED_EMPTY,             //   nla_len 4, type 3: empty, inside
        &nla(6, 4),                // nla_len 6, type 4
        &[0xbb, 0xcc],             //   2 bytes, padding missing
    ]);
    #[rustfmt::skip]
    const NESTED_EMPTY: [u8; 4] = nla(4, 3);

    #[test]
    fn frames_step_over_padding_and_read_errors() {
        let mut frames = Frames::new(&NOOP_THEN_ACK);
        let noop = frames.next().unwrap().unwrap();
        assert_eq!(
            (noop.kind, noop.seq, noop.body, noop.body_start),
            (1, 1, &[5u8, 0][..], 16)
        );
        assert!(!noop.cut);
        assert_eq!(frames.offset(), 20);
        let ack = frames.next().unwrap().unwrap();
        assert_eq!(
            (ack.kind, ack.body_start, ack.cut),
            (NLMSG_ERROR, 36, false)
        );
        assert_eq!(error(&ack), Ok((2, 9)));
        assert!(frames.next().is_none());
        assert_eq!(frames.offset(), NOOP_THEN_ACK.len());
        // Resuming at the second message reads the same.
        let again = Frames::at(&NOOP_THEN_ACK, 20).next().unwrap().unwrap();
        assert_eq!((again.kind, again.seq), (NLMSG_ERROR, 9));
        assert!(Frames::at(&NOOP_THEN_ACK, 57).next().is_none());
    }

    #[test]
    fn error_frames_cut_or_short() {
        let cut = Frames::new(&NOOP_THEN_ACK[20..50]).next().unwrap().unwrap();
        assert!(cut.cut);
        assert_eq!(error(&cut), Err(Malformed::TruncatedMessage));
        let mut short = NOOP_THEN_ACK[20..39].to_vec();
        set_u32(&mut short, 0, 19); // nlmsg_len: 3 bytes of errno
        let short = Frames::new(&short).next().unwrap().unwrap();
        assert_eq!(error(&short), Err(Malformed::TruncatedBody));
    }

    #[test]
    fn frames_refuse_lengths_they_cannot_step_over() {
        let mut frames = Frames::new(&NOOP_THEN_ACK[..15]);
        assert_eq!(
            frames.next().unwrap().err(),
            Some(Malformed::TruncatedMessage)
        );
        assert!(frames.next().is_none());
        let mut bad = NOOP_THEN_ACK;
        set_u32(&mut bad, 0, 15);
        let mut frames = Frames::new(&bad);
        assert_eq!(
            frames.next().unwrap().err(),
            Some(Malformed::BadMessageLength)
        );
        assert!(frames.next().is_none());
    }

    #[test]
    fn attrs_mask_flags_and_tolerate_missing_last_padding() {
        let attrs: Vec<Attr<'_>> = Attrs::new(&ATTRS, 100).map(Result::unwrap).collect();
        let seen: Vec<(u16, &[u8], usize)> = attrs
            .iter()
            .map(|a| (a.kind, a.value, a.value_start))
            .collect();
        assert_eq!(
            seen,
            [
                (1, &[0xaa][..], 104),
                (2, &NESTED_EMPTY[..], 112),
                (4, &[0xbb, 0xcc][..], 120),
            ]
        );
        // The nested run is itself a run of attributes.
        let inner: Vec<_> = Attrs::new(attrs[1].value, 112)
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            (inner.len(), inner[0].kind, inner[0].value),
            (1, 3, &[][..])
        );
    }

    #[test]
    fn attrs_stop_at_the_first_broken_one() {
        let mut attrs = Attrs::new(&ATTRS[..21], 0);
        assert!(attrs.next().unwrap().is_ok());
        assert!(attrs.next().unwrap().is_ok());
        assert_eq!(
            attrs.next().unwrap().err(),
            Some(Malformed::TruncatedAttribute)
        );
        assert!(attrs.next().is_none());
        let mut zero = ATTRS;
        set_u16(&mut zero, 0, 0);
        let mut attrs = Attrs::new(&zero, 0);
        assert_eq!(
            attrs.next().unwrap().err(),
            Some(Malformed::BadAttributeLength)
        );
        assert!(attrs.next().is_none());
        assert!(Attrs::new(&ATTRS[..3], 0).next().unwrap().is_err());
        assert!(Attrs::new(&[], 0).next().is_none());
    }

    #[test]
    fn headers_written_read_back() {
        let mut msg = [0u8; 24];
        let (header, body) = msg.split_first_chunk_mut::<NLMSG_HDR_LEN>().unwrap();
        put_nlmsghdr(header, 24, 0x0301, NLM_F_REQUEST | NLM_F_ACK, 77);
        put_nlattr(body.first_chunk_mut::<NLA_HDR_LEN>().unwrap(), 6, 0x8005);
        body[4..6].copy_from_slice(&[1, 2]);
        let frame = Frames::new(&msg).next().unwrap().unwrap();
        assert_eq!((frame.kind, frame.seq, frame.cut), (0x0301, 77, false));
        assert_eq!(msg[6..8], 0x0005u16.to_ne_bytes()); // NLM_F_REQUEST | NLM_F_ACK
        let attr = Attrs::new(frame.body, 16).next().unwrap().unwrap();
        assert_eq!(
            (attr.kind, attr.value, attr.value_start),
            (5, &[1, 2][..], 20)
        );
    }

    #[test]
    fn alignment() {
        assert_eq!(
            [0, 1, 4, 5, 18].map(align),
            [Some(0), Some(4), Some(4), Some(8), Some(20)]
        );
        assert_eq!(align(usize::MAX), None);
    }

    #[test]
    fn acknowledgement_results() {
        assert!(ack_result(0).is_ok());
        assert_eq!(
            ack_result(libc::EBUSY).unwrap_err().raw_os_error(),
            Some(libc::EBUSY)
        );
    }

    #[test]
    fn malformed_names_are_distinct() {
        for (i, a) in Malformed::ALL.iter().enumerate() {
            for b in &Malformed::ALL[i + 1..] {
                assert_ne!(a.name(), b.name());
            }
        }
    }
}

/// Well-formed messages for the property tests of `nfqueue.rs` and
/// `rtnetlink.rs`, written byte by byte from netlink.h rather than with this module's
/// writers.
#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::arithmetic_side_effects
)]
pub(crate) mod build {
    use proptest::collection::vec;
    use proptest::prelude::*;

    /// netlink.h NLA_F_NESTED and NLA_F_NET_BYTEORDER, the flag bits of `nla_type`.
    const TYPE_FLAGS: [u16; 4] = [0, 0x8000, 0x4000, 0xc000];

    /// Returns one attribute: header, value, then `padding` up to the 4-byte alignment (the
    /// kernel zeroes it; random bytes here show that nothing reads them).
    pub fn attr(kind: u16, value: &[u8], padding: [u8; 3]) -> Vec<u8> {
        let len = u16::try_from(4 + value.len()).unwrap();
        let mut out = Vec::new();
        out.extend_from_slice(&len.to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(value);
        out.extend_from_slice(&padding[..value.len().wrapping_neg() % 4]);
        out
    }

    /// Returns one message: netlink header (`nlmsg_len` counting `body`, pid 0), then `body`.
    pub fn message(kind: u16, seq: u32, body: &[u8]) -> Vec<u8> {
        let len = u32::try_from(16 + body.len()).unwrap();
        let mut out = Vec::new();
        out.extend_from_slice(&len.to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(&0u16.to_ne_bytes());
        out.extend_from_slice(&seq.to_ne_bytes());
        out.extend_from_slice(&0u32.to_ne_bytes());
        out.extend_from_slice(body);
        out
    }

    /// Returns the flag bits of an attribute type: none, NESTED, NET_BYTEORDER or both.
    pub fn type_flags() -> impl Strategy<Value = u16> {
        prop::sample::select(&TYPE_FLAGS[..])
    }

    /// Returns an attribute the parser must step over: any type whose masked value is not in
    /// `read` (flag bits set at random), its value random bytes or a nested run of attributes.
    pub fn foreign_attr(read: &'static [u16]) -> impl Strategy<Value = Vec<u8>> {
        let leaf = vec(any::<u8>(), 0..24);
        let nested = vec((any::<u16>(), leaf.clone(), any::<[u8; 3]>()), 0..4).prop_map(|run| {
            run.iter()
                .flat_map(|(kind, value, padding)| attr(*kind, value, *padding))
                .collect()
        });
        let kind = any::<u16>().prop_filter("a type the parser reads", move |kind| {
            !read.contains(&(kind & super::NLA_TYPE_MASK))
        });
        (kind, prop_oneof![leaf, nested], any::<[u8; 3]>())
            .prop_map(|(kind, value, padding)| attr(kind, &value, padding))
    }
}
