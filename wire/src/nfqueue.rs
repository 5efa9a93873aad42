//! NFQUEUE messages over netlink: the queue's configuration, the packets the kernel queues to us
//! and the verdicts that hand them back; safe code over `&[u8]`, tested with byte fixtures.
//!
//! Layouts: `include/uapi/linux/netfilter/nfnetlink.h` and `nfnetlink_queue.h` (big-endian
//! payloads) inside the netlink framing of `netlink.rs` (host byte order); behaviour from
//! `net/netfilter/nfnetlink_queue.c`. Nothing here allocates or panics: every length read from the
//! kernel is checked against the buffer before a range is built from it.

use core::ops::Range;
use std::io;

use static_assertions::const_assert_eq;

pub use crate::netlink::{ack_result, Malformed};
use crate::netlink::{
    align, bytes2, bytes4, error, put_nlattr, put_nlmsghdr, Attrs, Frame, Frames, ALIGN,
    NLA_HDR_LEN, NLMSG_ERROR, NLMSG_HDR_LEN, NLM_F_ACK, NLM_F_REQUEST,
};

// ---------------------------------------------------------------------------------------------
// NFQUEUE (nfnetlink_queue.h)

// struct nfgenmsg, after every nfnetlink header (nfnetlink.h):
//  0        1         2
// +--------+---------+-----------------+
// | family | version | res_id (BE)     |  res_id = queue number
// +--------+---------+-----------------+
mod nfgenmsg {
    use core::ops::Range;
    pub const FAMILY: usize = 0;
    pub const VERSION: usize = 1;
    pub const RES_ID: Range<usize> = 2..4;
}
const NFGENMSG_LEN: usize = nfgenmsg::RES_ID.end;
const_assert_eq!(NFGENMSG_LEN, 4);

// struct nfqnl_msg_packet_hdr, __packed (7 bytes):
//  0                 4                6
// +-----------------+----------------+------+
// | packet_id (BE)  | hw_protocol BE | hook |
// +-----------------+----------------+------+
mod packet_hdr {
    use core::ops::Range;
    pub const PACKET_ID: Range<usize> = 0..4;
    pub const HW_PROTOCOL: Range<usize> = 4..6;
    pub const HOOK: usize = 6;
}
const PACKET_HDR_LEN: usize = packet_hdr::HOOK + 1;
const_assert_eq!(PACKET_HDR_LEN, 7);

// struct nfqnl_msg_verdict_hdr: verdict (BE), id (BE).
mod verdict_hdr {
    use core::ops::Range;
    pub const VERDICT: Range<usize> = 0..4;
    pub const ID: Range<usize> = 4..8;
}
const VERDICT_HDR_LEN: usize = verdict_hdr::ID.end;

// struct nfqnl_msg_config_cmd: command, pad, pf (BE).
mod config_cmd {
    use core::ops::Range;
    pub const COMMAND: usize = 0;
    pub const PAD: usize = 1;
    pub const PF: Range<usize> = 2..4;
}
const CONFIG_CMD_LEN: usize = config_cmd::PF.end;

// struct nfqnl_msg_config_params, __packed: copy_range (BE), copy_mode (5 bytes).
mod config_params {
    use core::ops::Range;
    pub const COPY_RANGE: Range<usize> = 0..4;
    pub const COPY_MODE: usize = 4;
}
const CONFIG_PARAMS_LEN: usize = config_params::COPY_MODE + 1;
const_assert_eq!(CONFIG_PARAMS_LEN, 5);

/// nfnetlink.h NFNL_SUBSYS_QUEUE: the high byte of every NFQUEUE message type.
const SUBSYS_QUEUE: u16 = 3;
/// NFQNL_MSG_PACKET: a packet queued to us.
const MSG_PACKET: u16 = SUBSYS_QUEUE << 8;
/// NFQNL_MSG_VERDICT: one packet's verdict, optionally with a replacement payload.
const MSG_VERDICT: u16 = (SUBSYS_QUEUE << 8) | 1;
/// NFQNL_MSG_CONFIG: bind, unbind and parameters.
const MSG_CONFIG: u16 = (SUBSYS_QUEUE << 8) | 2;
/// NFQNL_MSG_VERDICT_BATCH: one verdict for every queued id up to a maximum.
const MSG_VERDICT_BATCH: u16 = (SUBSYS_QUEUE << 8) | 3;

// Attributes of packet and verdict messages (enum nfqnl_attr_type).
const NFQA_PACKET_HDR: u16 = 1;
const NFQA_VERDICT_HDR: u16 = 2;
const NFQA_PAYLOAD: u16 = 10;
/// The packet's real length; sent only when the copy is shorter (nfqnl_build_packet_message).
const NFQA_CAP_LEN: u16 = 13;

// Attributes of config messages (enum nfqnl_attr_config).
const NFQA_CFG_CMD: u16 = 1;
const NFQA_CFG_PARAMS: u16 = 2;
const NFQA_CFG_QUEUE_MAXLEN: u16 = 3;
const NFQA_CFG_MASK: u16 = 4;
const NFQA_CFG_FLAGS: u16 = 5;

const CMD_BIND: u8 = 1;
const CMD_UNBIND: u8 = 2;
const COPY_PACKET: u8 = 2;
/// Asked-for copy range; the kernel lowers it to NFQNL_MAX_COPY_RANGE (0xffff - NLA_HDRLEN)
/// in nfqnl_set_mode, so the whole of any IP packet is copied.
const COPY_RANGE: u32 = 0xffff;
/// NFQA_CFG_F_FAIL_OPEN: with the queue or our socket buffer full the kernel accepts the packet
/// instead of dropping it (commit fdb694a01f1f). GSO (0x4) stays off on purpose: without it the
/// kernel completes partial checksums before queueing, which the incremental update needs.
const CFG_F_FAIL_OPEN: u32 = 0x1;

/// netfilter.h NF_ACCEPT: the verdict for every packet the daemon read whole; it never drops.
const NF_ACCEPT: u32 = 1;
/// netfilter.h NF_REPEAT: the kernel calls the hook that queued the packet again
/// (nf_reinject: `verdict = nf_hook_entry_hookfn(hook_entry, skb, ...)`), so the NFQUEUE rule
/// queues it once more, as a new packet with a new id. The verdict for a packet whose message
/// the daemon could not read whole: it comes back rather than pass unclamped.
const NF_REPEAT: u32 = 4;
/// AF_UNSPEC: the kernel reads the family of neither config nor verdict messages.
const FAMILY_UNSPEC: u8 = 0;
/// NFNETLINK_V0.
const NFNETLINK_V0: u8 = 0;

/// Netfilter hook PRE_ROUTING (enum nf_inet_hooks in netfilter.h).
pub const HOOK_PRE_ROUTING: u8 = 0;
/// Netfilter hook LOCAL_IN.
pub const HOOK_LOCAL_IN: u8 = 1;
/// Netfilter hook FORWARD.
pub const HOOK_FORWARD: u8 = 2;
/// Netfilter hook LOCAL_OUT.
pub const HOOK_LOCAL_OUT: u8 = 3;
/// Netfilter hook POST_ROUTING.
pub const HOOK_POST_ROUTING: u8 = 4;

#[cfg(target_os = "linux")]
mod nfqueue_values_match_libc {
    use static_assertions::const_assert_eq;
    const_assert_eq!(super::SUBSYS_QUEUE as i32, libc::NFNL_SUBSYS_QUEUE);
    const_assert_eq!(super::MSG_PACKET as i32 & 0xff, libc::NFQNL_MSG_PACKET);
    const_assert_eq!(super::MSG_VERDICT as i32 & 0xff, libc::NFQNL_MSG_VERDICT);
    const_assert_eq!(super::MSG_CONFIG as i32 & 0xff, libc::NFQNL_MSG_CONFIG);
    const_assert_eq!(
        super::MSG_VERDICT_BATCH as i32 & 0xff,
        libc::NFQNL_MSG_VERDICT_BATCH
    );
    const_assert_eq!(super::NFQA_PACKET_HDR as i32, libc::NFQA_PACKET_HDR);
    const_assert_eq!(super::NFQA_VERDICT_HDR as i32, libc::NFQA_VERDICT_HDR);
    const_assert_eq!(super::NFQA_PAYLOAD as i32, libc::NFQA_PAYLOAD);
    const_assert_eq!(super::NFQA_CAP_LEN as i32, libc::NFQA_CAP_LEN);
    const_assert_eq!(super::NFQA_CFG_CMD as i32, libc::NFQA_CFG_CMD);
    const_assert_eq!(super::NFQA_CFG_PARAMS as i32, libc::NFQA_CFG_PARAMS);
    const_assert_eq!(
        super::NFQA_CFG_QUEUE_MAXLEN as i32,
        libc::NFQA_CFG_QUEUE_MAXLEN
    );
    const_assert_eq!(super::NFQA_CFG_MASK as i32, libc::NFQA_CFG_MASK);
    const_assert_eq!(super::NFQA_CFG_FLAGS as i32, libc::NFQA_CFG_FLAGS);
    const_assert_eq!(super::CMD_BIND as i32, libc::NFQNL_CFG_CMD_BIND);
    const_assert_eq!(super::CMD_UNBIND as i32, libc::NFQNL_CFG_CMD_UNBIND);
    const_assert_eq!(super::COPY_PACKET as i32, libc::NFQNL_COPY_PACKET);
    const_assert_eq!(super::CFG_F_FAIL_OPEN as i32, libc::NFQA_CFG_F_FAIL_OPEN);
    const_assert_eq!(super::NF_ACCEPT as i32, libc::NF_ACCEPT);
    const_assert_eq!(super::NF_REPEAT as i32, libc::NF_REPEAT);
    const_assert_eq!(
        super::HOOK_PRE_ROUTING as u32,
        libc::NF_INET_PRE_ROUTING as u32
    );
    const_assert_eq!(super::HOOK_LOCAL_IN as u32, libc::NF_INET_LOCAL_IN as u32);
    const_assert_eq!(super::HOOK_FORWARD as u32, libc::NF_INET_FORWARD as u32);
    const_assert_eq!(super::HOOK_LOCAL_OUT as u32, libc::NF_INET_LOCAL_OUT as u32);
    const_assert_eq!(
        super::HOOK_POST_ROUTING as u32,
        libc::NF_INET_POST_ROUTING as u32
    );
}

/// Returns true for hooks a packet passes on its way out: LOCAL_OUT, FORWARD and POST_ROUTING.
///
/// A forwarded packet leaves through its output interface, so FORWARD counts as outbound, like
/// the original tcpmssd's divert rule on `out xmit`.
pub fn is_outbound(hook: u8) -> bool {
    matches!(hook, HOOK_LOCAL_OUT | HOOK_FORWARD | HOOK_POST_ROUTING)
}

// ---------------------------------------------------------------------------------------------
// Configuration

// The config message: netlink header, nfgenmsg, then five attributes, each 4-aligned.
mod config {
    use core::ops::Range;
    pub const NFGENMSG: Range<usize> = 16..20;
    pub const CMD: Range<usize> = 20..28;
    pub const PARAMS: Range<usize> = 28..40; // 4 + 5 bytes, 3 of padding
    pub const MAXLEN: Range<usize> = 40..48;
    pub const MASK: Range<usize> = 48..56;
    pub const FLAGS: Range<usize> = 56..64;
}
/// Length of the message [`config_bind`] builds.
pub const CONFIG_BIND_LEN: usize = config::FLAGS.end;
/// Length of the message [`config_unbind`] builds.
pub const CONFIG_UNBIND_LEN: usize = config::CMD.end;
const_assert_eq!(config::CMD.start, NLMSG_HDR_LEN + NFGENMSG_LEN);
const_assert_eq!(config::PARAMS.end - config::PARAMS.start, NLA_HDR_LEN + 8);
const_assert_eq!(CONFIG_BIND_LEN, 64);

/// Builds the request that binds `queue`, asks for whole packets, limits the queue to `max_len`
/// packets and sets fail-open, all in one message with `NLM_F_ACK`.
///
/// One message, because a new queue starts in copy mode NONE and drops every packet until the
/// mode is set (nfnetlink_queue.c `instance_create`, `nfqnl_enqueue_packet` returning -EINVAL).
/// The kernel answers with an NLMSG_ERROR carrying `seq`: see [`Item::Error`] and [`ack_result`].
/// `EBUSY` means the queue is already bound (by us), `EPERM` that another socket owns it or we
/// lack `CAP_NET_ADMIN`.
pub fn config_bind(queue: u16, max_len: u32, seq: u32) -> [u8; CONFIG_BIND_LEN] {
    let mut msg = [0u8; CONFIG_BIND_LEN];
    write_config_start(&mut msg, seq, queue, CMD_BIND);

    let mut params = [0u8; CONFIG_PARAMS_LEN];
    params[config_params::COPY_RANGE].copy_from_slice(&COPY_RANGE.to_be_bytes());
    params[config_params::COPY_MODE] = COPY_PACKET;
    write_attr(&mut msg[config::PARAMS], NFQA_CFG_PARAMS, &params);
    write_attr(
        &mut msg[config::MAXLEN],
        NFQA_CFG_QUEUE_MAXLEN,
        &max_len.to_be_bytes(),
    );
    // The kernel changes only the flag bits set in MASK, and refuses FLAGS without MASK.
    write_attr(
        &mut msg[config::MASK],
        NFQA_CFG_MASK,
        &CFG_F_FAIL_OPEN.to_be_bytes(),
    );
    write_attr(
        &mut msg[config::FLAGS],
        NFQA_CFG_FLAGS,
        &CFG_F_FAIL_OPEN.to_be_bytes(),
    );
    msg
}

/// Builds the request that unbinds `queue`, with `NLM_F_ACK`. Closing the socket does the same
/// (NETLINK_URELEASE); either way the kernel drops the packets still waiting for a verdict.
pub fn config_unbind(queue: u16, seq: u32) -> [u8; CONFIG_UNBIND_LEN] {
    let mut msg = [0u8; CONFIG_UNBIND_LEN];
    write_config_start(&mut msg, seq, queue, CMD_UNBIND);
    msg
}

// The maximum-length message: netlink header, nfgenmsg and NFQA_CFG_QUEUE_MAXLEN only.
mod config_maxlen {
    use core::ops::Range;
    pub const NFGENMSG: Range<usize> = 16..20;
    pub const MAXLEN: Range<usize> = 20..28;
}
/// Length of the message [`config_max_len`] builds.
pub const CONFIG_MAXLEN_LEN: usize = config_maxlen::MAXLEN.end;
const_assert_eq!(config_maxlen::NFGENMSG.start, NLMSG_HDR_LEN);

/// Builds the request that changes the maximum length of the bound `queue` to `max_len`
/// packets, with `NLM_F_ACK`.
///
/// With fail-open set, a maximum of 0 makes the kernel accept every new packet itself instead
/// of queueing it (`queue_total >= queue_maxlen` in `__nfqnl_enqueue_packet`), while packets
/// already queued keep waiting for their verdicts: the way to leave without losing any.
pub fn config_max_len(queue: u16, max_len: u32, seq: u32) -> [u8; CONFIG_MAXLEN_LEN] {
    let mut msg = [0u8; CONFIG_MAXLEN_LEN];
    let len = u32::try_from(CONFIG_MAXLEN_LEN).unwrap_or(u32::MAX);
    if let Some(header) = msg.first_chunk_mut::<NLMSG_HDR_LEN>() {
        put_nlmsghdr(header, len, MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq);
    }
    write_nfgenmsg(&mut msg[config_maxlen::NFGENMSG], queue);
    write_attr(
        &mut msg[config_maxlen::MAXLEN],
        NFQA_CFG_QUEUE_MAXLEN,
        &max_len.to_be_bytes(),
    );
    msg
}

/// Writes the netlink header, nfgenmsg and the command attribute of a config message.
fn write_config_start<const N: usize>(msg: &mut [u8; N], seq: u32, queue: u16, command: u8) {
    let len = u32::try_from(N).unwrap_or(u32::MAX);
    if let Some(header) = msg.first_chunk_mut::<NLMSG_HDR_LEN>() {
        put_nlmsghdr(header, len, MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq);
    }
    if let Some(genmsg) = msg.get_mut(config::NFGENMSG) {
        write_nfgenmsg(genmsg, queue);
    }
    let mut cmd = [0u8; CONFIG_CMD_LEN];
    cmd[config_cmd::COMMAND] = command;
    cmd[config_cmd::PAD] = 0;
    // The protocol family is read only by the obsolete PF_BIND/PF_UNBIND commands.
    cmd[config_cmd::PF].copy_from_slice(&0u16.to_be_bytes());
    if let Some(slot) = msg.get_mut(config::CMD) {
        write_attr(slot, NFQA_CFG_CMD, &cmd);
    }
}

/// Writes nfgenmsg for `queue` into `out` (4 bytes; shorter slots are left alone).
fn write_nfgenmsg(out: &mut [u8], queue: u16) {
    if let Some(genmsg) = out.first_chunk_mut::<NFGENMSG_LEN>() {
        genmsg[nfgenmsg::FAMILY] = FAMILY_UNSPEC;
        genmsg[nfgenmsg::VERSION] = NFNETLINK_V0;
        genmsg[nfgenmsg::RES_ID].copy_from_slice(&queue.to_be_bytes());
    }
}

/// Writes an attribute with `value` at the start of `slot`, which the caller sized to the
/// aligned length (the padding stays as it was: zero).
fn write_attr(slot: &mut [u8], kind: u16, value: &[u8]) {
    let Some((header, rest)) = slot.split_first_chunk_mut::<NLA_HDR_LEN>() else {
        return;
    };
    let Some(dst) = rest.get_mut(..value.len()) else {
        return;
    };
    dst.copy_from_slice(value);
    let len = u16::try_from(NLA_HDR_LEN.saturating_add(value.len())).unwrap_or(u16::MAX);
    put_nlattr(header, len, kind);
}

// ---------------------------------------------------------------------------------------------
// Receiving

/// A packet the kernel queued, with its payload left in place in the receive buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// The id the verdict must name.
    pub id: u32,
    /// Netfilter hook the packet was queued from (`HOOK_*`).
    pub hook: u8,
    /// EtherType of the payload: 0x0800 IPv4, 0x86dd IPv6.
    pub hw_protocol: u16,
    /// Where the IP packet lies in the receive buffer; empty when the message had none or its
    /// payload attribute was cut off.
    pub payload: Range<usize>,
    /// The payload is not the whole packet: the kernel copied less (`NFQA_CAP_LEN`), the
    /// datagram was cut, or the attributes after the packet header were broken. Such a packet
    /// must be accepted without a payload: one sent back would replace (trim) the real packet.
    pub truncated: bool,
}

/// One message from an NFQUEUE socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A queued packet; it needs a verdict.
    Packet(Packet),
    /// An NLMSG_ERROR: errno 0 acknowledges the request numbered `seq`, any other value is the
    /// positive errno it failed with. Verdicts are sent with seq 0 and without `NLM_F_ACK`, so
    /// only their failures arrive (netlink_rcv_skb acknowledges errors regardless of the flag).
    Error {
        /// 0 or a positive errno (`ENOENT`: no queued packet with that id).
        errno: i32,
        /// The sequence number of the request it answers.
        seq: u32,
    },
    /// Any other message (NLMSG_NOOP, NLMSG_DONE, other NFQUEUE types); nothing to do.
    Other,
    /// A message that could not be read. After a broken frame (`TruncatedMessage`,
    /// `BadMessageLength`) nothing else in the buffer is read; after a broken body the walk goes
    /// on with the next message, which the frame's length still locates.
    Malformed(Malformed),
}

/// Returns the messages in `buf` (what one read of the queue's socket wrote).
pub fn messages(buf: &[u8]) -> impl Iterator<Item = Item> + '_ {
    Frames::new(buf).map(read)
}

/// Returns the message that starts at `buf[at..]` and the offset where the next one starts
/// (`buf.len()` after the last, or after one that could not be stepped over); `None` at the end.
///
/// The same walk as [`messages`], for a caller that changes the buffer between two messages
/// (it clamps a packet in place before it reads the next).
pub fn message_at(buf: &[u8], at: usize) -> Option<(Item, usize)> {
    let mut frames = Frames::at(buf, at);
    let item = read(frames.next()?);
    Some((item, frames.offset()))
}

/// Reads one message the framing walk found, or names why it found none.
fn read(frame: Result<Frame<'_>, Malformed>) -> Item {
    let frame = match frame {
        Ok(frame) => frame,
        Err(why) => return Item::Malformed(why),
    };
    match frame.kind {
        MSG_PACKET => packet(&frame),
        NLMSG_ERROR => match error(&frame) {
            Ok((errno, seq)) => Item::Error { errno, seq },
            Err(why) => Item::Malformed(why),
        },
        _ if frame.cut => Item::Malformed(Malformed::TruncatedMessage),
        _ => Item::Other,
    }
}

/// Reads a packet message. A cut one still yields its id when the packet header arrived, so the
/// packet is not left in the queue without a verdict.
fn packet(frame: &Frame<'_>) -> Item {
    let Some((_genmsg, attrs)) = frame.body.split_first_chunk::<NFGENMSG_LEN>() else {
        return Item::Malformed(if frame.cut {
            Malformed::TruncatedMessage
        } else {
            Malformed::TruncatedBody
        });
    };
    let attrs_start = frame.body_start.wrapping_add(NFGENMSG_LEN); // within the buffer
    let mut header = None;
    let mut payload = None;
    let mut capped = false;
    let mut broken = None;
    for attr in Attrs::new(attrs, attrs_start) {
        let attr = match attr {
            Ok(attr) => attr,
            Err(why) => {
                broken = Some(why);
                break;
            }
        };
        match attr.kind {
            NFQA_PACKET_HDR => match attr.value.first_chunk::<PACKET_HDR_LEN>() {
                Some(h) => header = Some(*h),
                None => return Item::Malformed(Malformed::BadPacketHeader),
            },
            NFQA_PAYLOAD => {
                payload = Some(attr.value_start..attr.value_start.wrapping_add(attr.value.len()))
            }
            NFQA_CAP_LEN => capped = true,
            _ => {}
        }
    }
    let Some(h) = header else {
        // In a cut message the header may be among the lost bytes, even when the attributes
        // that did arrive end on a boundary.
        return Item::Malformed(match broken {
            _ if frame.cut => Malformed::TruncatedMessage,
            Some(why) => why,
            None => Malformed::NoPacketHeader,
        });
    };
    let empty = attrs_start..attrs_start;
    Item::Packet(Packet {
        id: u32::from_be_bytes(bytes4!(h, packet_hdr::PACKET_ID)),
        hook: h[packet_hdr::HOOK],
        hw_protocol: u16::from_be_bytes(bytes2!(h, packet_hdr::HW_PROTOCOL)),
        payload: payload.unwrap_or(empty),
        truncated: capped || frame.cut || broken.is_some(),
    })
}

/// Returns the outcome of the request numbered `seq` if `buf` holds its acknowledgement:
/// `Some(Ok(()))`, `Some(Err(errno))`, or `None` when it is not there.
///
/// Packets can arrive before the acknowledgement of [`config_bind`] (the queue is live as soon
/// as the kernel has applied it); this function skips them, so a caller that might receive
/// packets must read the buffer with [`messages`] as well and give them verdicts.
pub fn ack(buf: &[u8], seq: u32) -> Option<io::Result<()>> {
    messages(buf).find_map(|item| match item {
        Item::Error { errno, seq: s } if s == seq => Some(ack_result(errno)),
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------------
// Verdicts

// A verdict message: netlink header, nfgenmsg, NFQA_VERDICT_HDR, and for a verdict with a
// payload the NFQA_PAYLOAD header, whose value (the packet) the caller sends from its own buffer.
mod verdict {
    use core::ops::Range;
    pub const NFGENMSG: Range<usize> = 16..20;
    pub const VERDICT_HDR: Range<usize> = 20..32;
    pub const PAYLOAD_ATTR: Range<usize> = 32..36;
}
/// Length of a verdict message without payload ([`put_accept`], [`put_accept_batch`]).
pub const VERDICT_LEN: usize = verdict::VERDICT_HDR.end;
/// Length of the bytes [`put_accept_with_payload`] writes before the payload.
pub const VERDICT_PAYLOAD_HEADER_LEN: usize = verdict::PAYLOAD_ATTR.end;
const_assert_eq!(verdict::NFGENMSG.start, NLMSG_HDR_LEN);
const_assert_eq!(verdict::VERDICT_HDR.start, NLMSG_HDR_LEN + NFGENMSG_LEN);
const_assert_eq!(
    verdict::VERDICT_HDR.end - verdict::VERDICT_HDR.start,
    NLA_HDR_LEN + VERDICT_HDR_LEN
);
const_assert_eq!(VERDICT_LEN % ALIGN, 0);
/// The largest payload an attribute can carry (its length is 16 bits and counts the header).
pub const MAX_PAYLOAD_LEN: usize = u16::MAX as usize - NLA_HDR_LEN;

const ZERO_PADDING: [u8; ALIGN - 1] = [0; ALIGN - 1];

/// Writes an `NF_ACCEPT` verdict for packet `id` of `queue` at `buf[at..]` and returns the offset
/// after it (the next message's start), or `None` when it does not fit.
///
/// Several verdicts written one after another go to the kernel in one `send`.
pub fn put_accept(buf: &mut [u8], at: usize, queue: u16, id: u32) -> Option<usize> {
    put_verdict(buf, at, MSG_VERDICT, NF_ACCEPT, queue, id, VERDICT_LEN)
}

/// Writes an `NF_REPEAT` verdict for packet `id` of `queue` at `buf[at..]` and returns the
/// offset after it, or `None` when it does not fit: the packet goes through its hook again and
/// is queued anew (see [`NF_REPEAT`]), behind the packets queued meanwhile.
///
/// Like a verdict with a payload, it must come before a batch verdict that covers `id`.
pub fn put_repeat(buf: &mut [u8], at: usize, queue: u16, id: u32) -> Option<usize> {
    put_verdict(buf, at, MSG_VERDICT, NF_REPEAT, queue, id, VERDICT_LEN)
}

/// Writes an `NFQNL_MSG_VERDICT_BATCH` that accepts every queued packet whose id is `max_id` or
/// older, and returns the offset after it, or `None` when it does not fit.
///
/// The kernel compares ids as serial numbers and answers `ENOENT` if none matched
/// (nfqnl_recv_verdict_batch). Packets sent back with a payload need their own verdicts placed
/// before it in the same datagram: the kernel handles messages in order.
pub fn put_accept_batch(buf: &mut [u8], at: usize, queue: u16, max_id: u32) -> Option<usize> {
    put_verdict(
        buf,
        at,
        MSG_VERDICT_BATCH,
        NF_ACCEPT,
        queue,
        max_id,
        VERDICT_LEN,
    )
}

/// Writes the header of an `NF_ACCEPT` verdict for packet `id` that replaces the packet with a
/// `payload_len`-byte payload, and returns the offset after the header; `None` when it does not
/// fit or `payload_len` exceeds [`MAX_PAYLOAD_LEN`].
///
/// The message is the header, then the payload, then [`payload_padding`]`(payload_len)`; send the
/// three as `IoSlice`s (`Socket::send_vectored`), alone or between other verdicts. The kernel
/// marks the replaced packet CHECKSUM_NONE (nfqnl_mangle), so the payload's checksums must be
/// complete, and it must not be sent for a [`Packet::truncated`] packet.
pub fn put_accept_with_payload(
    buf: &mut [u8],
    at: usize,
    queue: u16,
    id: u32,
    payload_len: usize,
) -> Option<usize> {
    if payload_len > MAX_PAYLOAD_LEN {
        return None;
    }
    // nlmsg_len counts the payload's padding, as libmnl's mnl_attr_put does.
    let msg_len = VERDICT_PAYLOAD_HEADER_LEN.checked_add(align(payload_len)?)?;
    let end = at.checked_add(VERDICT_PAYLOAD_HEADER_LEN)?;
    // Check the room for the whole header before writing any of it.
    buf.get(at..end)?;
    let attr_at = put_verdict(buf, at, MSG_VERDICT, NF_ACCEPT, queue, id, msg_len)?;
    let attr = buf
        .get_mut(attr_at..end)?
        .first_chunk_mut::<NLA_HDR_LEN>()?;
    // payload_len <= MAX_PAYLOAD_LEN: the attribute length fits in 16 bits.
    let attr_len = u16::try_from(NLA_HDR_LEN.checked_add(payload_len)?).ok()?;
    put_nlattr(attr, attr_len, NFQA_PAYLOAD);
    Some(end)
}

/// Returns the zero bytes that pad a `payload_len`-byte payload to the netlink alignment (0..=3).
pub fn payload_padding(payload_len: usize) -> &'static [u8] {
    let pad = payload_len.wrapping_neg() % ALIGN;
    ZERO_PADDING.get(..pad).unwrap_or_default()
}

/// Writes netlink header, nfgenmsg and NFQA_VERDICT_HDR(verdict, id) at `buf[at..]` with
/// `nlmsg_len` = `msg_len`; returns `at + VERDICT_LEN`.
fn put_verdict(
    buf: &mut [u8],
    at: usize,
    kind: u16,
    verdict: u32,
    queue: u16,
    id: u32,
    msg_len: usize,
) -> Option<usize> {
    let end = at.checked_add(VERDICT_LEN)?;
    let msg = <&mut [u8; VERDICT_LEN]>::try_from(buf.get_mut(at..end)?).ok()?;
    let len = u32::try_from(msg_len).ok()?;
    if let Some(header) = msg.first_chunk_mut::<NLMSG_HDR_LEN>() {
        put_nlmsghdr(header, len, kind, NLM_F_REQUEST, 0);
    }
    write_nfgenmsg(&mut msg[verdict::NFGENMSG], queue);
    let mut hdr = [0u8; VERDICT_HDR_LEN];
    hdr[verdict_hdr::VERDICT].copy_from_slice(&verdict.to_be_bytes());
    hdr[verdict_hdr::ID].copy_from_slice(&id.to_be_bytes());
    write_attr(&mut msg[verdict::VERDICT_HDR], NFQA_VERDICT_HDR, &hdr);
    Some(end)
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]
mod tests {
    use super::*;
    use crate::fixture::{cat, nla, set_u16, set_u32};
    use crate::netlink::Frames;

    // Captured on Linux 6.18 (x86_64): a network namespace with a veth d0 (index 3) holding
    // 198.51.100.1/24 and 2001:db8::1/64, `iptables -A OUTPUT -o d0 -p tcp --dport 9 --syn
    // -j NFQUEUE --queue-num 4242`, connect() to 198.51.100.2 port 9, read by this module's socket
    // after config_bind(4242, 64, 7). The netlink header and the attribute headers are in host
    // byte order (little-endian there), built here with to_ne_bytes for the host the test runs
    // on; the NFQUEUE values and the packet are big-endian, bytes as captured.
    #[rustfmt::skip]
    const PACKET_V4: [u8; 104] = cat(&[
        &104u32.to_ne_bytes(),     // nlmsg_len 104
        &0x0300u16.to_ne_bytes(),  // nlmsg_type NFQNL_MSG_PACKET
        &0u16.to_ne_bytes(),       // nlmsg_flags 0
        &0u32.to_ne_bytes(),       // nlmsg_seq 0
        &0u32.to_ne_bytes(),       // nlmsg_pid 0 (the kernel)
        &[0x02],                   // nfgen_family NFPROTO_IPV4
        &[0x00],                   // version NFNETLINK_V0
        &[0x10, 0x92],             // res_id: queue 4242 (big-endian)
        &nla(11, 1),               // nla_len 11, NFQA_PACKET_HDR
        &[0x00, 0x00, 0x00, 0x01], //   packet_id 1 (big-endian)
        &[0x08, 0x00],             //   hw_protocol 0x0800 IPv4 (big-endian)
        &[0x03],                   //   hook 3 LOCAL_OUT
        &[0x00],                   //   padding
        &nla(8, 6),                // nla_len 8, NFQA_IFINDEX_OUTDEV
        &[0x00, 0x00, 0x00, 0x03], //   ifindex 3 (big-endian)
        &nla(64, 10),              // nla_len 64, NFQA_PAYLOAD: 60 bytes from offset 44
        &[0x45, 0x00, 0x00, 0x3c], //   IPv4, IHL 5, total length 60
        &[0x79, 0x30, 0x40, 0x00], //   id, DF
        &[0x40, 0x06, 0x6d, 0x21], //   TTL 64, TCP, header checksum
        &[0xc6, 0x33, 0x64, 0x01], //   198.51.100.1
        &[0xc6, 0x33, 0x64, 0x02], //   198.51.100.2
        &[0xe0, 0x46, 0x00, 0x09], //   ports 57414 -> 9
        &[0x3b, 0x35, 0xb6, 0x0f], //   sequence number
        &[0x00, 0x00, 0x00, 0x00], //   acknowledgment number
        &[0xa0, 0x02, 0xfa, 0xf0], //   data offset 10, SYN, window 64240
        &[0x03, 0xb7, 0x00, 0x00], //   checksum, urgent pointer
        &[0x02, 0x04, 0x05, 0xb4], //   MSS 1460
        &[0x04, 0x02, 0x08, 0x0a], //   SACK permitted, timestamps...
        &[0x7f, 0x7b, 0xa3, 0xda], //   ...TSval
        &[0x00, 0x00, 0x00, 0x00], //   ...TSecr
        &[0x01, 0x03, 0x03, 0x0a], //   NOP, window scale 10
    ]);

    // Same capture, connect() to [2001:db8::2]:9 (packet id 2); byte orders as above.
    #[rustfmt::skip]
    const PACKET_V6: [u8; 124] = cat(&[
        &124u32.to_ne_bytes(),     // nlmsg_len 124
        &0x0300u16.to_ne_bytes(),  // nlmsg_type NFQNL_MSG_PACKET
        &0u16.to_ne_bytes(),       // nlmsg_flags 0
        &0u32.to_ne_bytes(),       // nlmsg_seq 0
        &0u32.to_ne_bytes(),       // nlmsg_pid 0
        &[0x0a],                   // nfgen_family NFPROTO_IPV6
        &[0x00],                   // version
        &[0x10, 0x92],             // queue 4242
        &nla(11, 1),               // nla_len 11, NFQA_PACKET_HDR
        &[0x00, 0x00, 0x00, 0x02], //   packet_id 2
        &[0x86, 0xdd],             //   hw_protocol 0x86dd IPv6
        &[0x03],                   //   hook LOCAL_OUT
        &[0x00],                   //   padding
        &nla(8, 6),                // nla_len 8, NFQA_IFINDEX_OUTDEV
        &[0x00, 0x00, 0x00, 0x03], //   ifindex 3
        &nla(84, 10),              // nla_len 84, NFQA_PAYLOAD: 80 bytes from offset 44
        &[0x60, 0x0d, 0x00, 0x91], //   IPv6, flow label
        &[0x00, 0x28, 0x06, 0x40], //   payload length 40, TCP, hop limit 64
        &[0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00], // 2001:db8::1
        &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01],
        &[0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00], // 2001:db8::2
        &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02],
        &[0xeb, 0x04, 0x00, 0x09], //   ports 60164 -> 9
        &[0xea, 0x08, 0x3f, 0xb4], //   sequence number
        &[0x00, 0x00, 0x00, 0x00], //   acknowledgment number
        &[0xa0, 0x02, 0xfd, 0x20], //   data offset 10, SYN, window
        &[0x63, 0xa3, 0x00, 0x00], //   checksum, urgent pointer
        &[0x02, 0x04, 0x05, 0xa0], //   MSS 1440
        &[0x04, 0x02, 0x08, 0x0a], //   SACK permitted, timestamps...
        &[0x64, 0x78, 0x12, 0x95], //   ...TSval
        &[0x00, 0x00, 0x00, 0x00], //   ...TSecr
        &[0x01, 0x03, 0x03, 0x0a], //   NOP, window scale 10
    ]);

    // Same set-up, but the config's copy_range patched to 40: the kernel adds NFQA_CAP_LEN.
    #[rustfmt::skip]
    const PACKET_CAPPED: [u8; 92] = cat(&[
        &92u32.to_ne_bytes(),      // nlmsg_len 92
        &0x0300u16.to_ne_bytes(),  // nlmsg_type NFQNL_MSG_PACKET
        &0u16.to_ne_bytes(),       // nlmsg_flags 0
        &0u32.to_ne_bytes(),       // nlmsg_seq 0
        &0u32.to_ne_bytes(),       // nlmsg_pid 0
        &[0x02, 0x00, 0x10, 0x92], // NFPROTO_IPV4, version 0, queue 4242
        &nla(11, 1),               // nla_len 11, NFQA_PACKET_HDR
        &[0x00, 0x00, 0x00, 0x01], //   packet_id 1
        &[0x08, 0x00, 0x03, 0x00], //   IPv4, LOCAL_OUT, padding
        &nla(8, 6),                // nla_len 8, NFQA_IFINDEX_OUTDEV
        &[0x00, 0x00, 0x00, 0x03], //   ifindex 3
        &nla(8, 13),               // nla_len 8, NFQA_CAP_LEN
        &[0x00, 0x00, 0x00, 0x3c], //   real length 60 (big-endian)
        &nla(44, 10),              // nla_len 44, NFQA_PAYLOAD: the first 40 bytes, from offset 52
        &[0x45, 0x00, 0x00, 0x3c, 0x2f, 0xb5, 0x40, 0x00], // IPv4 header
        &[0x40, 0x06, 0xb6, 0x9c, 0xc6, 0x33, 0x64, 0x01],
        &[0xc6, 0x33, 0x64, 0x02],
        &[0xe0, 0x50, 0x00, 0x09, 0xf9, 0x24, 0x9d, 0x59], // TCP header, options cut off
        &[0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0],
        &[0x28, 0x8f, 0x00, 0x00],
    ]);

    // The kernel's answer to config_bind(4242, 64, 7) from this module's socket: success.
    // Host byte order throughout, as above.
    #[rustfmt::skip]
    const ACK_OK: [u8; 36] = cat(&[
        &36u32.to_ne_bytes(),     // nlmsg_len 36
        &2u16.to_ne_bytes(),      // nlmsg_type NLMSG_ERROR
        &0x100u16.to_ne_bytes(),  // nlmsg_flags NLM_F_CAPPED: request payload left out
        &7u32.to_ne_bytes(),      // nlmsg_seq 7, the request's
        &0x3e13u32.to_ne_bytes(), // nlmsg_pid: our port id
        &0i32.to_ne_bytes(),      // error 0
        &64u32.to_ne_bytes(),     // the request's header: nlmsg_len 64
        &0x0302u16.to_ne_bytes(), //   NFQNL_MSG_CONFIG
        &0x0005u16.to_ne_bytes(), //   NLM_F_REQUEST | NLM_F_ACK
        &7u32.to_ne_bytes(),      //   seq 7
        &0u32.to_ne_bytes(),      //   pid 0
    ]);

    // The same request sent by uid 65534 without CAP_NET_ADMIN: -EPERM, with the whole request
    // echoed back, which shows config_bind's bytes as the kernel received them. Netlink and
    // attribute headers in host byte order, NFQUEUE values big-endian.
    #[rustfmt::skip]
    const ACK_EPERM: [u8; 84] = cat(&[
        &84u32.to_ne_bytes(),      // nlmsg_len 84
        &2u16.to_ne_bytes(),       // NLMSG_ERROR
        &0u16.to_ne_bytes(),       // flags 0: not capped, the request follows
        &7u32.to_ne_bytes(),       // seq 7
        &0x40f8u32.to_ne_bytes(),  // our port id
        &(-1i32).to_ne_bytes(),    // error -1 = -EPERM
        &64u32.to_ne_bytes(),      // request: nlmsg_len 64
        &0x0302u16.to_ne_bytes(),  //   NFQNL_MSG_CONFIG
        &0x0005u16.to_ne_bytes(),  //   NLM_F_REQUEST | NLM_F_ACK
        &7u32.to_ne_bytes(),       //   seq 7
        &0u32.to_ne_bytes(),       //   pid 0
        &[0x00, 0x00, 0x10, 0x92], //   AF_UNSPEC, version 0, queue 4242
        &nla(8, 1),                //   nla_len 8, NFQA_CFG_CMD
        &[0x01, 0x00, 0x00, 0x00], //     BIND, pad, pf 0
        &nla(9, 2),                //   nla_len 9, NFQA_CFG_PARAMS
        &[0x00, 0x00, 0xff, 0xff], //     copy_range 0xffff (big-endian)
        &[0x02, 0x00, 0x00, 0x00], //     NFQNL_COPY_PACKET, padding
        &nla(8, 3),                //   nla_len 8, NFQA_CFG_QUEUE_MAXLEN
        &[0x00, 0x00, 0x00, 0x40], //     64 (big-endian)
        &nla(8, 4),                //   nla_len 8, NFQA_CFG_MASK
        &[0x00, 0x00, 0x00, 0x01], //     FAIL_OPEN
        &nla(8, 5),                //   nla_len 8, NFQA_CFG_FLAGS
        &[0x00, 0x00, 0x00, 0x01], //     FAIL_OPEN
    ]);

    fn packet_of(item: Option<Item>) -> Packet {
        match item {
            Some(Item::Packet(p)) => p,
            other => panic!("expected a packet, got {other:?}"),
        }
    }

    fn only(buf: &[u8]) -> Item {
        let mut it = messages(buf);
        let item = it.next().unwrap();
        assert_eq!(it.next(), None);
        item
    }

    #[test]
    fn captured_ipv4_packet() {
        let p = packet_of(Some(only(&PACKET_V4)));
        assert_eq!(
            p,
            Packet {
                id: 1,
                hook: HOOK_LOCAL_OUT,
                hw_protocol: 0x0800,
                payload: 44..104,
                truncated: false,
            }
        );
        assert_eq!(PACKET_V4[p.payload.start], 0x45);
    }

    #[test]
    fn captured_ipv6_packet() {
        let p = packet_of(Some(only(&PACKET_V6)));
        assert_eq!((p.id, p.hook, p.hw_protocol), (2, HOOK_LOCAL_OUT, 0x86dd));
        assert_eq!(p.payload, 44..124);
        assert!(!p.truncated);
    }

    #[test]
    fn cap_len_marks_truncated() {
        let p = packet_of(Some(only(&PACKET_CAPPED)));
        assert_eq!(p.id, 1);
        assert_eq!(p.payload, 52..92);
        assert!(p.truncated);
    }

    #[test]
    fn several_messages_in_one_buffer() {
        let mut buf = Vec::new();
        buf.extend_from_slice(&PACKET_V4);
        buf.extend_from_slice(&ACK_OK);
        buf.extend_from_slice(&PACKET_V6);
        let mut it = messages(&buf);
        assert_eq!(packet_of(it.next()).payload, 44..104);
        assert_eq!(it.next(), Some(Item::Error { errno: 0, seq: 7 }));
        let v6 = packet_of(it.next());
        assert_eq!(v6.id, 2);
        // Offsets are into the whole buffer.
        assert_eq!(v6.payload, 140 + 44..140 + 124);
        assert_eq!(buf[v6.payload.start], 0x60);
        assert_eq!(it.next(), None);
    }

    #[test]
    fn ack_and_eperm() {
        assert_eq!(only(&ACK_OK), Item::Error { errno: 0, seq: 7 });
        assert!(matches!(ack(&ACK_OK, 7), Some(Ok(()))));
        assert!(ack(&ACK_OK, 8).is_none());
        assert_eq!(
            only(&ACK_EPERM),
            Item::Error {
                errno: libc::EPERM,
                seq: 7
            }
        );
        let err = ack(&ACK_EPERM, 7).unwrap().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
        // Packets before the acknowledgement are skipped by `ack`.
        let mut buf = PACKET_V4.to_vec();
        buf.extend_from_slice(&ACK_EPERM);
        assert_eq!(
            ack(&buf, 7).unwrap().unwrap_err().raw_os_error(),
            Some(libc::EPERM)
        );
    }

    #[test]
    fn config_bind_bytes_match_the_kernel_echo() {
        let msg = config_bind(4242, 64, 7);
        assert_eq!(msg[..], ACK_EPERM[20..]);
    }

    #[test]
    fn config_bind_fields() {
        let msg = config_bind(0x0102, 0x0a0b_0c0d, 0x11223344);
        assert_eq!(msg[0..4], 64u32.to_ne_bytes()); // nlmsg_len
        assert_eq!(msg[4..6], 0x0302u16.to_ne_bytes()); // NFQNL_MSG_CONFIG
        assert_eq!(msg[6..8], 0x0005u16.to_ne_bytes()); // REQUEST | ACK
        assert_eq!(msg[8..12], 0x11223344u32.to_ne_bytes()); // seq
        assert_eq!(msg[12..16], [0; 4]); // pid: the kernel
        assert_eq!(msg[16..20], [0, 0, 0x01, 0x02]); // AF_UNSPEC, V0, queue big-endian

        // Each attribute: its header (host byte order), then its value (big-endian).
        assert_eq!(msg[20..24], nla(8, NFQA_CFG_CMD));
        assert_eq!(msg[24..28], [CMD_BIND, 0, 0, 0]);
        assert_eq!(msg[28..32], nla(9, NFQA_CFG_PARAMS));
        assert_eq!(msg[32..40], [0, 0, 0xff, 0xff, COPY_PACKET, 0, 0, 0]);
        assert_eq!(msg[40..44], nla(8, NFQA_CFG_QUEUE_MAXLEN));
        assert_eq!(msg[44..48], [0x0a, 0x0b, 0x0c, 0x0d]);
        assert_eq!(msg[48..52], nla(8, NFQA_CFG_MASK));
        assert_eq!(msg[52..56], [0, 0, 0, 1]);
        assert_eq!(msg[56..60], nla(8, NFQA_CFG_FLAGS));
        assert_eq!(msg[60..64], [0, 0, 0, 1]);
    }

    #[test]
    fn config_unbind_fields() {
        let msg = config_unbind(4242, 9);
        #[rustfmt::skip]
        let expected: [u8; 28] = cat(&[
            &28u32.to_ne_bytes(),      // nlmsg_len
            &0x0302u16.to_ne_bytes(),  // NFQNL_MSG_CONFIG
            &0x0005u16.to_ne_bytes(),  // REQUEST | ACK
            &9u32.to_ne_bytes(),       // seq
            &0u32.to_ne_bytes(),       // pid
            &[0x00, 0x00, 0x10, 0x92], // AF_UNSPEC, V0, queue 4242
            &nla(8, 1),                // nla_len 8, NFQA_CFG_CMD
            &[CMD_UNBIND, 0, 0, 0],    // UNBIND, pad, pf 0
        ]);
        assert_eq!(msg, expected);
    }

    #[test]
    fn config_max_len_fields() {
        let msg = config_max_len(4242, 0, 11);
        #[rustfmt::skip]
        let expected: [u8; 28] = cat(&[
            &28u32.to_ne_bytes(),      // nlmsg_len
            &0x0302u16.to_ne_bytes(),  // NFQNL_MSG_CONFIG
            &0x0005u16.to_ne_bytes(),  // REQUEST | ACK
            &11u32.to_ne_bytes(),      // seq
            &0u32.to_ne_bytes(),       // pid
            &[0x00, 0x00, 0x10, 0x92], // AF_UNSPEC, V0, queue 4242
            &nla(8, 3),                // nla_len 8, NFQA_CFG_QUEUE_MAXLEN
            &[0, 0, 0, 0],             // 0 packets (big-endian)
        ]);
        assert_eq!(msg, expected);
        assert_eq!(config_max_len(1, 0x0102_0304, 0)[24..], [1, 2, 3, 4]);
    }

    #[test]
    fn message_at_steps_like_messages() {
        let mut buf = Vec::new();
        buf.extend_from_slice(&PACKET_V4);
        buf.extend_from_slice(&ACK_OK);
        buf.extend_from_slice(&PACKET_V6);
        let walked: Vec<Item> = messages(&buf).collect();
        let mut stepped = Vec::new();
        let mut at = 0;
        while let Some((item, next)) = message_at(&buf, at) {
            assert!(next > at && next <= buf.len(), "{at} -> {next}");
            stepped.push(item);
            at = next;
        }
        assert_eq!(stepped, walked);
        assert_eq!(stepped.len(), 3);
        assert_eq!(
            message_at(&buf, PACKET_V4.len()).unwrap().1,
            PACKET_V4.len() + ACK_OK.len()
        );
        assert!(message_at(&buf, buf.len()).is_none());
        assert!(message_at(&buf, buf.len() + 8).is_none());
        // A broken length ends the walk: the offset returned is the end of the buffer.
        let (item, next) = message_at(&buf[..PACKET_V4.len() - 1], 0).unwrap();
        assert!(matches!(
            item,
            Item::Packet(Packet {
                truncated: true,
                ..
            })
        ));
        assert_eq!(next, PACKET_V4.len() - 1);
    }

    #[test]
    fn verdict_fields_and_batching() {
        let mut buf = [0xeeu8; 70];
        let at = put_accept(&mut buf, 0, 4242, 0x0102_0304).unwrap();
        assert_eq!(at, VERDICT_LEN);
        let at = put_accept_batch(&mut buf, at, 4242, 7).unwrap();
        assert_eq!(at, 2 * VERDICT_LEN);
        #[rustfmt::skip]
        let first: [u8; 32] = cat(&[
            &32u32.to_ne_bytes(),      // nlmsg_len
            &0x0301u16.to_ne_bytes(),  // NFQNL_MSG_VERDICT
            &0x0001u16.to_ne_bytes(),  // NLM_F_REQUEST
            &0u32.to_ne_bytes(),       // seq 0
            &0u32.to_ne_bytes(),       // pid 0
            &[0x00, 0x00, 0x10, 0x92], // AF_UNSPEC, V0, queue 4242
            &nla(12, 2),               // nla_len 12, NFQA_VERDICT_HDR
            &[0, 0, 0, 1],             // NF_ACCEPT (big-endian)
            &[1, 2, 3, 4],             // id (big-endian)
        ]);
        assert_eq!(buf[..32], first);
        assert_eq!(buf[36..38], 0x0303u16.to_ne_bytes()); // NFQNL_MSG_VERDICT_BATCH
        assert_eq!(buf[60..64], [0, 0, 0, 7]); // max id
        assert_eq!(buf[64..], [0xee; 6]); // nothing written past the end
                                          // No room: nothing is claimed.
        assert_eq!(put_accept(&mut buf, 64, 1, 1), None);
        assert_eq!(put_accept(&mut buf, usize::MAX, 1, 1), None);
    }

    #[test]
    fn repeat_verdict_fields() {
        let mut buf = [0xeeu8; 40];
        assert_eq!(put_repeat(&mut buf, 4, 4242, 9), Some(4 + VERDICT_LEN));
        #[rustfmt::skip]
        let repeat: [u8; 32] = cat(&[
            &32u32.to_ne_bytes(),      // nlmsg_len
            &0x0301u16.to_ne_bytes(),  // NFQNL_MSG_VERDICT
            &0x0001u16.to_ne_bytes(),  // NLM_F_REQUEST
            &0u32.to_ne_bytes(),       // seq 0
            &0u32.to_ne_bytes(),       // pid 0
            &[0x00, 0x00, 0x10, 0x92], // AF_UNSPEC, V0, queue 4242
            &nla(12, 2),               // nla_len 12, NFQA_VERDICT_HDR
            &[0, 0, 0, 4],             // NF_REPEAT (big-endian)
            &[0, 0, 0, 9],             // id (big-endian)
        ]);
        assert_eq!(buf[4..36], repeat);
        assert_eq!(buf[..4], [0xee; 4]);
        assert_eq!(buf[36..], [0xee; 4]);
        assert_eq!(put_repeat(&mut buf, 9, 1, 1), None);
    }

    #[test]
    fn verdict_with_payload_header() {
        let mut buf = [0u8; 40];
        let end = put_accept_with_payload(&mut buf, 0, 4242, 1, 61).unwrap();
        assert_eq!(end, VERDICT_PAYLOAD_HEADER_LEN);
        assert_eq!(buf[0..4], (36u32 + 64).to_ne_bytes()); // header + payload + 3 padding
        assert_eq!(buf[4..6], 0x0301u16.to_ne_bytes()); // NFQNL_MSG_VERDICT
        assert_eq!(buf[20..24], nla(12, NFQA_VERDICT_HDR));
        assert_eq!(buf[24..32], [0, 0, 0, 1, 0, 0, 0, 1]); // NF_ACCEPT, id 1 (big-endian)
        assert_eq!(buf[32..36], nla(4 + 61, NFQA_PAYLOAD));
        assert_eq!(payload_padding(61), &[0, 0, 0]);
        assert_eq!(payload_padding(60), &[] as &[u8]);
        assert_eq!(payload_padding(62).len(), 2);
        assert_eq!(payload_padding(63).len(), 1);
        assert_eq!(
            put_accept_with_payload(&mut buf, 0, 1, 1, MAX_PAYLOAD_LEN + 1),
            None
        );
        assert_eq!(put_accept_with_payload(&mut buf, 8, 1, 1, 60), None);
        let end = put_accept_with_payload(&mut [0u8; 36], 0, 1, 1, MAX_PAYLOAD_LEN).unwrap();
        assert_eq!(end, 36);
    }

    // The header, payload and padding as `send_vectored` joins them parse back as one message.
    #[test]
    fn verdict_with_payload_reads_back() {
        let payload = &PACKET_V4[44..103]; // 59 bytes: one byte of padding
        let mut wire = [0u8; 36].to_vec();
        put_accept_with_payload(&mut wire, 0, 4242, 1, payload.len()).unwrap();
        wire.extend_from_slice(payload);
        wire.extend_from_slice(payload_padding(payload.len()));
        let mut frames = Frames::new(&wire);
        let frame = frames.next().unwrap().unwrap();
        assert!(!frame.cut);
        assert_eq!(frame.kind, MSG_VERDICT);
        let attrs: Vec<_> = Attrs::new(&frame.body[4..], 20)
            .map(Result::unwrap)
            .collect();
        assert_eq!(attrs[0].kind, NFQA_VERDICT_HDR);
        assert_eq!(attrs[1].kind, NFQA_PAYLOAD);
        assert_eq!(attrs[1].value, payload);
        assert!(frames.next().is_none());
    }

    #[test]
    fn outbound_hooks() {
        assert!(!is_outbound(HOOK_PRE_ROUTING));
        assert!(!is_outbound(HOOK_LOCAL_IN));
        assert!(is_outbound(HOOK_FORWARD));
        assert!(is_outbound(HOOK_LOCAL_OUT));
        assert!(is_outbound(HOOK_POST_ROUTING));
        assert!(!is_outbound(5));
    }

    // --- Broken input: each case names what the parser must report. ---

    /// PACKET_V4 with the attribute at `at` given length `len`.
    fn v4_with_attr_len(at: usize, len: u16) -> [u8; 104] {
        let mut m = PACKET_V4;
        m[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        m
    }

    #[test]
    fn attribute_length_below_header() {
        for len in [0, 1, 3] {
            // Before the packet header: no id, and the reason is the broken attribute.
            let m = v4_with_attr_len(20, len);
            assert_eq!(only(&m), Item::Malformed(Malformed::BadAttributeLength));
            // After it: the id still gets its verdict, without payload.
            let p = packet_of(Some(only(&v4_with_attr_len(32, len))));
            assert_eq!(p.id, 1);
            assert!(p.truncated);
            assert!(p.payload.is_empty());
        }
    }

    #[test]
    fn attribute_length_past_message() {
        // Payload attribute claims one byte more than the message holds.
        let p = packet_of(Some(only(&v4_with_attr_len(40, 65))));
        assert_eq!((p.id, p.truncated), (1, true));
        assert!(p.payload.is_empty());
        // Oversized, 0xffff.
        let p = packet_of(Some(only(&v4_with_attr_len(40, 0xffff))));
        assert!(p.truncated);
        // Packet header attribute itself past the message.
        let m = v4_with_attr_len(20, 0xfff0);
        assert_eq!(only(&m), Item::Malformed(Malformed::TruncatedAttribute));
    }

    #[test]
    fn packet_header_too_short() {
        // nla_len 10: a 6-byte packet header.
        let m = v4_with_attr_len(20, 10);
        assert_eq!(only(&m), Item::Malformed(Malformed::BadPacketHeader));
    }

    #[test]
    fn packet_without_packet_header() {
        let mut m = PACKET_V4;
        set_u16(&mut m, 22, 0x05); // NFQA_PACKET_HDR -> NFQA_IFINDEX_INDEV
        assert_eq!(only(&m), Item::Malformed(Malformed::NoPacketHeader));
    }

    #[test]
    fn packet_header_without_payload_keeps_id() {
        let mut m = PACKET_V4[..40].to_vec();
        set_u32(&mut m, 0, 40); // nlmsg_len: the payload attribute dropped
        let p = packet_of(Some(only(&m)));
        assert_eq!(p.id, 1);
        assert!(p.payload.is_empty());
        assert!(!p.truncated);
    }

    #[test]
    fn attribute_type_flags_masked() {
        let mut m = PACKET_V4;
        set_u16(&mut m, 22, 0x8000 | NFQA_PACKET_HDR); // NLA_F_NESTED
        set_u16(&mut m, 42, 0x4000 | NFQA_PAYLOAD); // NLA_F_NET_BYTEORDER
        assert_eq!(packet_of(Some(only(&m))).payload, 44..104);
    }

    #[test]
    fn message_length_past_buffer_cut_datagram() {
        // What recv delivered into a 56-byte buffer (Received::truncated): the id survives.
        let p = packet_of(Some(only(&PACKET_V4[..56])));
        assert_eq!((p.id, p.truncated), (1, true));
        assert!(p.payload.is_empty());
        // Cut inside the packet header: nothing to answer.
        assert_eq!(
            only(&PACKET_V4[..26]),
            Item::Malformed(Malformed::TruncatedMessage)
        );
        // Cut inside nfgenmsg.
        assert_eq!(
            only(&PACKET_V4[..18]),
            Item::Malformed(Malformed::TruncatedMessage)
        );
        // An acknowledgement cut short is not guessed at.
        assert_eq!(
            only(&ACK_EPERM[..40]),
            Item::Malformed(Malformed::TruncatedMessage)
        );
    }

    // Found by the property tests: a message cut right after nfgenmsg (or after a whole
    // attribute before the packet header) was reported as NoPacketHeader, as if the kernel had
    // sent a packet without one.
    #[test]
    fn cut_on_an_attribute_boundary_before_the_header() {
        assert_eq!(
            only(&PACKET_V4[..20]),
            Item::Malformed(Malformed::TruncatedMessage)
        );
        // NFQA_IFINDEX_OUTDEV moved in front of the packet header, then cut after it.
        let mut m = PACKET_V4;
        m[20..28].copy_from_slice(&PACKET_V4[32..40]);
        m[28..40].copy_from_slice(&PACKET_V4[20..32]);
        assert_eq!(only(&m[..28]), Item::Malformed(Malformed::TruncatedMessage));
        assert_eq!(packet_of(Some(only(&m[..39]))).id, 1);
        assert_eq!(packet_of(Some(only(&m))).payload, 44..104);
        // Whole, the same message still has no header when the kernel sent none.
        let mut m = PACKET_V4[..20].to_vec();
        set_u32(&mut m, 0, 20);
        assert_eq!(only(&m), Item::Malformed(Malformed::NoPacketHeader));
    }

    #[test]
    fn message_length_garbage() {
        for len in [0u32, 1, 15] {
            let mut m = PACKET_V4;
            m[0..4].copy_from_slice(&len.to_ne_bytes());
            assert_eq!(only(&m), Item::Malformed(Malformed::BadMessageLength));
        }
        let mut m = PACKET_V4;
        m[0..4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert!(matches!(
            only(&m),
            Item::Packet(Packet {
                truncated: true,
                ..
            })
        ));
        // nlmsg_len 16: no room for nfgenmsg.
        let mut m = PACKET_V4;
        set_u32(&mut m, 0, 16);
        let mut it = messages(&m);
        assert_eq!(it.next(), Some(Item::Malformed(Malformed::TruncatedBody)));
        // ...and the next "message" starts in the middle of this one: garbage, read safely.
        assert!(it.count() <= 8);
    }

    #[test]
    fn trailing_bytes_shorter_than_header() {
        let mut buf = PACKET_V4.to_vec();
        buf.extend_from_slice(&[1, 2, 3]);
        let mut it = messages(&buf);
        assert_eq!(packet_of(it.next()).id, 1);
        assert_eq!(
            it.next(),
            Some(Item::Malformed(Malformed::TruncatedMessage))
        );
        assert_eq!(it.next(), None);
    }

    #[test]
    fn error_too_short_and_other_types() {
        let mut m = ACK_OK[..18].to_vec();
        set_u32(&mut m, 0, 18);
        assert_eq!(only(&m), Item::Malformed(Malformed::TruncatedBody));
        let mut m = ACK_OK;
        set_u16(&mut m, 4, 3); // NLMSG_DONE
        assert_eq!(only(&m), Item::Other);
        let mut m = PACKET_V4;
        set_u16(&mut m, 4, MSG_CONFIG); // from the kernel: not ours to read
        assert_eq!(only(&m), Item::Other);
    }

    #[test]
    fn empty_buffer_has_no_messages() {
        assert_eq!(messages(&[]).next(), None);
    }

    // Arbitrary bytes: never a panic, every payload range inside the buffer, and the walk ends.
    #[test]
    fn arbitrary_bytes_stay_in_bounds() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut buf = [0u8; 256];
        for round in 0..20_000 {
            for b in buf.iter_mut() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = state as u8;
            }
            // Keep lengths plausible often enough to reach the attribute walk.
            if round % 2 == 0 {
                let len = 20 + (state as usize % 236);
                buf[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
                buf[4..6].copy_from_slice(&MSG_PACKET.to_ne_bytes());
            }
            let len = (state >> 20) as usize % 257;
            let mut n = 0;
            for item in messages(&buf[..len]) {
                n += 1;
                if let Item::Packet(p) = item {
                    assert!(p.payload.start <= p.payload.end && p.payload.end <= len);
                }
            }
            assert!(n <= len / NLMSG_HDR_LEN + 1);
        }
    }
}

// Generated packet messages: every attribute order, flag bits, padding bytes and cut length.
#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]
mod properties {
    use super::*;
    use crate::netlink::build::{attr, foreign_attr, message, type_flags};
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::Index;

    /// A packet message as the kernel could build it, and where its parts ended up.
    #[derive(Debug)]
    struct Built {
        bytes: Vec<u8>,
        id: u32,
        hook: u8,
        hw_protocol: u16,
        /// Where the payload attribute's value lies in `bytes`.
        payload: Range<usize>,
        /// The end of the packet header attribute's value: a cut at or after it keeps the id.
        header_end: usize,
    }

    prop_compose! {
        fn packet_message()(
            id in any::<u32>(),
            hook in any::<u8>(),
            hw_protocol in any::<u16>(),
            // The kernel's header is 7 bytes; a longer one is read by its first 7.
            header_extra in vec(any::<u8>(), 0..4),
            payload in vec(any::<u8>(), 0..200),
            others in vec(foreign_attr(&[NFQA_PACKET_HDR, NFQA_PAYLOAD, NFQA_CAP_LEN]), 0..6),
            header_at in any::<Index>(),
            payload_at in any::<Index>(),
            flags in (type_flags(), type_flags()),
            paddings in any::<([u8; 3], [u8; 3])>(),
            genmsg in any::<[u8; NFGENMSG_LEN]>(),
            seq in any::<u32>(),
        ) -> Built {
            let mut header = id.to_be_bytes().to_vec();
            header.extend_from_slice(&hw_protocol.to_be_bytes());
            header.push(hook);
            header.extend_from_slice(&header_extra);
            let mut attrs = others;
            // Tagged by position so their offsets can be found after the shuffle.
            let header_index = header_at.index(attrs.len() + 1);
            attrs.insert(header_index, attr(NFQA_PACKET_HDR | flags.0, &header, paddings.0));
            let payload_index = payload_at.index(attrs.len() + 1);
            attrs.insert(payload_index, attr(NFQA_PAYLOAD | flags.1, &payload, paddings.1));
            let header_index = header_index + usize::from(payload_index <= header_index);
            let start_of = |index: usize| {
                NLMSG_HDR_LEN + NFGENMSG_LEN + attrs[..index].iter().map(Vec::len).sum::<usize>()
            };
            let header_end = start_of(header_index) + NLA_HDR_LEN + header.len();
            let payload_start = start_of(payload_index) + NLA_HDR_LEN;
            let mut body = genmsg.to_vec();
            body.extend(attrs.concat());
            Built {
                bytes: message(MSG_PACKET, seq, &body),
                id,
                hook,
                hw_protocol,
                payload: payload_start..payload_start + payload.len(),
                header_end,
            }
        }
    }

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: 1000,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn generated_packet_reads_back(built in packet_message()) {
            let items: Vec<Item> = messages(&built.bytes).collect();
            let expected = Item::Packet(Packet {
                id: built.id,
                hook: built.hook,
                hw_protocol: built.hw_protocol,
                payload: built.payload.clone(),
                truncated: false,
            });
            prop_assert_eq!(items, vec![expected]);
            prop_assert_eq!(
                message_at(&built.bytes, 0).map(|(_, next)| next),
                Some(built.bytes.len())
            );
        }

        #[test]
        fn generated_packet_cut_anywhere_keeps_id_or_is_malformed(built in packet_message()) {
            prop_assert_eq!(messages(&[]).next(), None);
            for len in 1..built.bytes.len() {
                let items: Vec<Item> = messages(&built.bytes[..len]).collect();
                prop_assert_eq!(items.len(), 1, "cut at {}", len);
                if len < built.header_end {
                    // Without the whole packet header there is no id to answer.
                    prop_assert_eq!(
                        &items[0],
                        &Item::Malformed(Malformed::TruncatedMessage),
                        "cut at {}",
                        len
                    );
                    continue;
                }
                let Item::Packet(packet) = &items[0] else {
                    return Err(TestCaseError::fail(format!("cut at {len}: {:?}", items[0])));
                };
                prop_assert_eq!(
                    (packet.id, packet.hook, packet.hw_protocol, packet.truncated),
                    (built.id, built.hook, built.hw_protocol, true),
                    "cut at {}",
                    len
                );
                // The payload is whole or absent, never a part passed off as the packet.
                if len >= built.payload.end {
                    prop_assert_eq!(&packet.payload, &built.payload, "cut at {}", len);
                } else {
                    prop_assert!(packet.payload.is_empty(), "cut at {}: {:?}", len, packet);
                }
            }
        }

        // Several messages in one datagram: each packet reads back at its own offset.
        #[test]
        fn generated_packets_in_one_datagram(built in vec(packet_message(), 1..4)) {
            let datagram: Vec<u8> = built.iter().flat_map(|b| b.bytes.iter().copied()).collect();
            let mut start = 0;
            let mut at = 0;
            for (one, item) in built.iter().zip(messages(&datagram)) {
                let shifted = start + one.payload.start..start + one.payload.end;
                prop_assert_eq!(
                    &item,
                    &Item::Packet(Packet {
                        id: one.id,
                        hook: one.hook,
                        hw_protocol: one.hw_protocol,
                        payload: shifted,
                        truncated: false,
                    })
                );
                let (stepped, next) = message_at(&datagram, at).unwrap();
                prop_assert_eq!(stepped, item);
                start += one.bytes.len();
                prop_assert_eq!(next, start);
                at = next;
            }
            prop_assert_eq!(messages(&datagram).count(), built.len());
        }
    }
}
