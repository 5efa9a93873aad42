//! Clamps the TCP Maximum Segment Size option of SYN packets in place.
//!
//! `tcpmssd-core` is the packet logic of the tcpmssd daemon, usable on its own in any
//! packet path: `#![no_std]`, no allocation, no `unsafe`, and no reachable panic (a test
//! links the release build against a panic handler that does not exist). It lowers every
//! MSS option of a SYN or SYN-ACK above a limit, updates the TCP checksum incrementally
//! (RFC 1624, equation 3) and leaves every other packet byte-for-byte unchanged, saying why.
//!
//! ```
//! use tcpmssd_core::{clamp, Limits, Outcome};
//!
//! // An IPv4 SYN from 198.51.100.1:40000 to 203.0.113.1:80 with MSS 1460.
//! let mut syn = [
//!     0x45, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x40, 0x00, // IPv4, IHL 5, total length 44, DF
//!     0x40, 0x06, 0xd4, 0x95, 198, 51, 100, 1,        // TTL 64, TCP, header checksum, source
//!     203, 0, 113, 1,                                 // destination
//!     0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, // ports 40000 -> 80, sequence 1
//!     0x00, 0x00, 0x00, 0x00, 0x60, 0x02, 0xff, 0xff, // no ack, data offset 6, SYN, window
//!     0x95, 0x5e, 0x00, 0x00,                         // checksum, urgent pointer
//!     0x02, 0x04, 0x05, 0xb4,                         // MSS 1460
//! ];
//! // A PPPoE link: MTU 1492, so MSS 1452 for IPv4 and 1432 for IPv6.
//! let limits = Limits::from_mtu(1492);
//! assert_eq!(clamp(&mut syn, limits), Outcome::Clamped { from: 1460, to: 1452 });
//! assert_eq!(syn[40..44], [0x02, 0x04, 0x05, 0xac]);
//! assert_eq!(syn[36..38], [0x95, 0x66]); // as a full recomputation gives
//! ```
//!
//! # Contract
//!
//! - [`clamp`] takes one IPv4 or IPv6 packet (chosen by the version nibble) and the
//!   [`Limits`] for each family; [`clamp_tcp`] takes a bare TCP segment and one limit;
//!   [`clamp_prefix`] and [`clamp_ethernet`] (below) take the first bytes of a packet or an
//!   Ethernet frame.
//! - Only segments with SYN set and RST clear are touched. Every MSS option above the limit
//!   is lowered to it, not only the first (receivers use the last one); an MSS is never
//!   raised.
//! - The TCP checksum is updated incrementally and equals a full recomputation, also when
//!   the MSS value sits at an odd offset. A checksum that was wrong stays wrong by the same
//!   amount.
//! - [`Outcome::Clamped`] changes only MSS bytes and the TCP checksum;
//!   [`Outcome::Unchanged`] leaves the packet byte-for-byte as it was and names the
//!   [`Reason`]. The caller forwards the packet either way.
//! - IPv4 options are skipped and non-first fragments left alone; IPv6 extension headers
//!   are walked, at most [8](Reason::Ipv6ExtLimit); TCP behind AH or ESP is never touched.
//! - [`endpoints`] gives the addresses and ports of a packet, for log lines.
//!
//! # Prefixes, frames and checksums applied elsewhere
//!
//! For packet paths that hold only the first bytes of a packet, have link headers in front
//! of it, or must apply the checksum change themselves (a TC eBPF program: its skb's
//! checksum may be partial, so it hands each changed word to `bpf_l4_csum_replace`):
//!
//! - [`clamp_prefix`] clamps an IP packet from a prefix that holds every header through the
//!   end of the TCP options (the incremental update needs no payload), given the packet's
//!   length: a TCP Fast Open SYN with its data, an IPv6 SYN behind a long extension chain.
//!   A prefix too short for the headers is [`ShortPrefix`](Reason::ShortPrefix); with the
//!   whole packet at hand the result is [`clamp`]'s.
//! - [`clamp_ethernet`] does the same for an Ethernet frame, behind at most two VLAN tags
//!   (802.1Q, 802.1ad); other frames are left alone with their reason.
//! - [`prefix_segment`] and [`clamp_prefix_segment`] are [`clamp_prefix`] in its two steps,
//!   as [`ethernet_ip_start`] is the first step of [`clamp_ethernet`]: for a caller whose
//!   packet path is checked step by step (an eBPF verifier).
//! - They return [`Changes`] with a clamp: where the TCP segment and its checksum are, and
//!   which 16-bit words changed, so that a caller can write back just those words and update
//!   the checksum its own way.
//!
//! ```
//! use tcpmssd_core::{clamp_ethernet, Limits, Outcome};
//!
//! // The SYN above behind an 802.1Q tag, as a TC program on a VLAN trunk copies it.
//! let mut frame = [
//!     0x00, 0x00, 0x5e, 0x00, 0x53, 0x02, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x01, // MACs
//!     0x81, 0x00, 0x00, 0x64, 0x08, 0x00,             // 802.1Q tag, VLAN 100; IPv4
//!     0x45, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x40, 0x00, // IPv4, IHL 5, total length 44, DF
//!     0x40, 0x06, 0xd4, 0x95, 198, 51, 100, 1,        // TTL 64, TCP, header checksum, source
//!     203, 0, 113, 1,                                 // destination
//!     0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, // ports 40000 -> 80, sequence 1
//!     0x00, 0x00, 0x00, 0x00, 0x60, 0x02, 0xff, 0xff, // no ack, data offset 6, SYN, window
//!     0x95, 0x5e, 0x00, 0x00,                         // checksum, urgent pointer
//!     0x02, 0x04, 0x05, 0xb4,                         // MSS 1460
//! ];
//! let frame_len = frame.len(); // all of it at hand; a prefix of it would do
//! let (outcome, changes) = clamp_ethernet(&mut frame, frame_len, Limits::from_mtu(1492));
//! assert_eq!(outcome, Outcome::Clamped { from: 1460, to: 1452 });
//! let changes = changes.expect("a clamp says where it wrote");
//! assert_eq!(changes.segment(), 38..62);
//! assert_eq!(changes.checksum_at(), 54); // the field holds the incremental update
//! assert!(changes.words().eq([60]));     // the MSS value: 0x05b4 -> 0x05ac
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]

mod changes;
mod checksum;
mod ethernet;
mod ipv4;
mod ipv6;
mod outcome;
mod tcp;

use core::net::{IpAddr, SocketAddr};
use core::ops::Range;

pub use changes::{Changes, Words};
pub use outcome::{Outcome, Reason};

const PROTOCOL_TCP: u8 = 6;
const PROTOCOL_ESP: u8 = 50;
const PROTOCOL_AH: u8 = 51;

/// The smallest MTU an IPv4 link may have (RFC 791 section 3.2).
pub const IPV4_MIN_MTU: u16 = 68;
/// The smallest MTU an IPv6 link may have (RFC 8200 section 5).
pub const IPV6_MIN_MTU: u16 = 1280;
/// IPv4 header and TCP header without options.
const IPV4_TCP_OVERHEAD: u16 = 40;
/// IPv6 header and TCP header without options.
const IPV6_TCP_OVERHEAD: u16 = 60;

/// The highest MSS allowed for each address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    ipv4_mss: u16,
    ipv6_mss: u16,
}

impl Limits {
    /// Returns the limits for a link MTU: IPv4 MSS = MTU − 40, IPv6 MSS = MTU − 60.
    ///
    /// No IPv6 link is below 1280, so the IPv6 limit never drops below 1220; likewise an
    /// MTU below IPv4's minimum of 68 is taken as 68 (MSS 28) rather than yielding an MSS
    /// no peer could use.
    #[must_use]
    pub const fn from_mtu(mtu: u16) -> Limits {
        let ipv4_mtu = if mtu < IPV4_MIN_MTU {
            IPV4_MIN_MTU
        } else {
            mtu
        };
        let ipv6_mtu = if mtu < IPV6_MIN_MTU {
            IPV6_MIN_MTU
        } else {
            mtu
        };
        Limits {
            ipv4_mss: ipv4_mtu.wrapping_sub(IPV4_TCP_OVERHEAD),
            ipv6_mss: ipv6_mtu.wrapping_sub(IPV6_TCP_OVERHEAD),
        }
    }

    /// Returns limits with an explicit MSS for each family.
    #[must_use]
    pub const fn new(ipv4_mss: u16, ipv6_mss: u16) -> Limits {
        Limits { ipv4_mss, ipv6_mss }
    }

    /// Returns the MSS limit for IPv4.
    #[must_use]
    pub const fn ipv4_mss(self) -> u16 {
        self.ipv4_mss
    }

    /// Returns the MSS limit for IPv6.
    #[must_use]
    pub const fn ipv6_mss(self) -> u16 {
        self.ipv6_mss
    }
}

/// Clamps the MSS options of one IP packet, IPv4 or IPv6 by its version nibble.
///
/// Only SYN and SYN-ACK segments (SYN set, RST clear) are touched, and in them only MSS
/// options above the family's limit. The caller forwards the packet whatever the outcome.
// Inlined into the caller, where the outcome goes straight to the caller's match instead
// of being packed into a register and unpacked again, and the call itself is saved:
// measured 68.8 -> 54.9 instructions per ACK and 142.8 -> 127.9 per IPv4 SYN
// (benches/instructions.sh). Only the IPv4 checks are inlined; the option walk and IPv6
// stay out of line, so the common packet (not a SYN) leaves after a row of compares.
#[inline(always)]
pub fn clamp(packet: &mut [u8], limits: Limits) -> Outcome {
    match packet.first().map(|byte| byte >> 4) {
        Some(4) => match ipv4::segment_mut(packet).and_then(tcp::syn_options) {
            Ok((fixed, options)) => tcp::clamp_options::<()>(fixed, options, limits.ipv4_mss).0,
            Err(reason) => Outcome::Unchanged(reason),
        },
        Some(6) => clamp_ipv6(packet, limits.ipv6_mss),
        Some(_) => Outcome::Unchanged(Reason::NotIp),
        None => Outcome::Unchanged(Reason::TruncatedIp),
    }
}

/// Clamps the MSS options of an IPv6 packet.
// Out of line: the extension-header walk needs registers that IPv4 packets should not
// have to save. Inline on BPF, where the verifier refuses to read the register an
// out-of-line function returns `Outcome` in: `Unchanged` leaves part of it unwritten.
#[cfg_attr(not(target_arch = "bpf"), inline(never))]
fn clamp_ipv6(packet: &mut [u8], max_mss: u16) -> Outcome {
    match ipv6::segment_mut(packet) {
        Ok(segment) => tcp::clamp_segment(segment, max_mss),
        Err(reason) => Outcome::Unchanged(reason),
    }
}

/// Clamps the MSS options of a bare TCP segment (header and payload), for callers that
/// have walked the IP header themselves.
///
/// The checksum is updated incrementally, so the pseudo-header is not needed.
pub fn clamp_tcp(segment: &mut [u8], max_mss: u16) -> Outcome {
    tcp::clamp_segment(segment, max_mss)
}

/// Clamps the MSS options of an IP packet of `packet_len` bytes of which `prefix` holds the
/// first ones, and says where it wrote.
///
/// The incremental checksum update needs no payload, so the prefix need only hold every
/// header through the end of the TCP options: a TCP Fast Open SYN carrying data, or an IPv6
/// SYN behind a long extension chain, is clamped from its first bytes. Headers that run
/// past the prefix but not past the packet leave it unchanged as
/// [`ShortPrefix`](Reason::ShortPrefix); a length field past `packet_len` is truncation, as
/// for [`clamp`]. Bytes of `prefix` past `packet_len` are not the packet's and stay as they
/// are. With the whole packet at hand (`packet_len` = `prefix.len()`) the outcome and the
/// bytes are [`clamp`]'s.
///
/// [`Changes`] comes with every [`Outcome::Clamped`]: the TCP segment's place and the
/// 16-bit words written, for a caller that copies them into the packet and updates its
/// checksum itself; the prefix's own checksum field is updated as [`clamp`] does it.
// Inline on BPF: its calls pass at most five arguments in registers, and this one takes
// six (the slice's two, the length, the two limits and the place of its result).
#[cfg_attr(target_arch = "bpf", inline(always))]
#[must_use]
pub fn clamp_prefix(
    prefix: &mut [u8],
    packet_len: usize,
    limits: Limits,
) -> (Outcome, Option<Changes>) {
    match prefix_segment(prefix, packet_len) {
        Ok(segment) => clamp_prefix_segment(prefix, packet_len, segment, limits),
        Err(reason) => (Outcome::Unchanged(reason), None),
    }
}

/// Returns where the TCP segment lies in the IP packet of `packet_len` bytes of which
/// `prefix` holds the first ones, or why there is none to clamp: the first step of
/// [`clamp_prefix`], which then clamps it as [`clamp_prefix_segment`] does.
///
/// The segment's end is the IP length's, so it may lie past the prefix.
///
/// For callers whose packet path checks the two steps apart: a TC eBPF program hands the
/// segment's place to the second step through memory its verifier does not follow, so the
/// verifier checks the TCP code once rather than once for each way through the IPv6
/// extension headers (Linux 6.1's gave up after a million instructions).
///
/// ```
/// use tcpmssd_core::{clamp_prefix_segment, prefix_segment, Limits, Outcome};
///
/// // An IPv4 SYN with MSS 1460 (as in the crate's first example), clamped in two steps.
/// let mut syn = [
///     0x45, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0xd4, 0x95, 198, 51, 100, 1,
///     203, 0, 113, 1, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
///     0x60, 0x02, 0xff, 0xff, 0x95, 0x5e, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
/// ];
/// let segment = prefix_segment(&syn, 44).expect("an IPv4 packet with TCP in it");
/// assert_eq!(segment, 20..44);
/// let (outcome, _) = clamp_prefix_segment(&mut syn, 44, segment, Limits::from_mtu(1492));
/// assert_eq!(outcome, Outcome::Clamped { from: 1460, to: 1452 });
/// ```
#[cfg_attr(target_arch = "bpf", inline(always))]
pub fn prefix_segment(prefix: &[u8], packet_len: usize) -> Result<Range<usize>, Reason> {
    let prefix = match prefix.get(..packet_len) {
        Some(packet) => packet,
        None => prefix,
    };
    match prefix.first().map(|byte| byte >> 4) {
        Some(4) => ipv4::segment(prefix, packet_len),
        Some(6) => ipv6::segment(prefix, packet_len),
        Some(_) => Err(Reason::NotIp),
        None => Err(Reason::missing(Reason::TruncatedIp, 1, packet_len)),
    }
}

/// Clamps the MSS options of the TCP segment at `segment`, as [`prefix_segment`] found it,
/// in the IP packet of `packet_len` bytes of which `prefix` holds the first ones: the
/// second step of [`clamp_prefix`], with its outcome and [`Changes`].
///
/// The limit is the one for the version in the packet's first byte. A `segment` that
/// [`prefix_segment`] would not give leaves the packet unchanged or clamps the bytes it
/// names, never panics, and never writes past them.
// Inline on BPF, as `clamp_prefix`.
#[cfg_attr(target_arch = "bpf", inline(always))]
#[must_use]
pub fn clamp_prefix_segment(
    prefix: &mut [u8],
    packet_len: usize,
    segment: Range<usize>,
    limits: Limits,
) -> (Outcome, Option<Changes>) {
    let prefix = match prefix.get_mut(..packet_len) {
        Some(packet) => packet,
        None => prefix,
    };
    let max_mss = match prefix.first().map(|byte| byte >> 4) {
        Some(4) => limits.ipv4_mss,
        Some(6) => limits.ipv6_mss,
        Some(_) => return (Outcome::Unchanged(Reason::NotIp), None),
        None => {
            let reason = Reason::missing(Reason::TruncatedIp, 1, packet_len);
            return (Outcome::Unchanged(reason), None);
        }
    };
    // The segment as far as the prefix holds it; none of it when the IP header or its
    // extensions already run past the prefix.
    let held_end = segment.end.min(prefix.len());
    let Some(held) = prefix.get_mut(segment.start..held_end) else {
        return (Outcome::Unchanged(Reason::ShortPrefix), None);
    };
    // `get_mut` checked start <= held_end <= end: no overflow.
    let segment_len = segment.end.wrapping_sub(segment.start);
    match tcp::syn_options_in_prefix(held, segment_len) {
        Ok((fixed, options)) => {
            match tcp::clamp_options::<changes::WordMask>(fixed, options, max_mss) {
                (outcome @ Outcome::Clamped { .. }, words) => {
                    (outcome, Some(Changes::new(segment, words)))
                }
                (outcome, _) => (outcome, None),
            }
        }
        Err(reason) => (Outcome::Unchanged(reason), None),
    }
}

/// Clamps the MSS options of the IP packet in an Ethernet frame of `frame_len` bytes of
/// which `frame` holds the first ones, and says where it wrote.
///
/// The EtherType must be IPv4 (0x0800) or IPv6 (0x86dd), after at most two VLAN tags
/// (802.1Q 0x8100 or 802.1ad 0x88a8, in either place); anything else is left unchanged
/// with its reason, as is a packet whose version nibble is not the EtherType's. The IP
/// packet is then clamped as [`clamp_prefix`] does it, and the [`Changes`] count from the
/// frame's first byte. With the whole frame at hand, `frame_len` is `frame.len()`; the
/// outcome and the packet's bytes are then [`clamp`]'s on the packet alone.
// Inline on BPF, as `clamp_prefix`: six arguments, five registers.
#[cfg_attr(target_arch = "bpf", inline(always))]
#[must_use]
pub fn clamp_ethernet(
    frame: &mut [u8],
    frame_len: usize,
    limits: Limits,
) -> (Outcome, Option<Changes>) {
    let frame = match frame.get_mut(..frame_len) {
        Some(frame) => frame,
        None => frame,
    };
    let (ip_start, version) = match ethernet::ip_start(frame, frame_len) {
        Ok(found) => found,
        Err(reason) => return (Outcome::Unchanged(reason), None),
    };
    // `ip_start` read the EtherType just before `ip_start`, so it is within the frame.
    let Some(packet) = frame.get_mut(ip_start..) else {
        return (Outcome::Unchanged(Reason::TruncatedFrame), None);
    };
    if packet.first().is_some_and(|&byte| byte >> 4 != version) {
        return (Outcome::Unchanged(Reason::NotIp), None);
    }
    let packet_len = frame_len.saturating_sub(ip_start);
    let (outcome, changes) = clamp_prefix(packet, packet_len, limits);
    (outcome, changes.map(|changes| changes.shifted(ip_start)))
}

/// Returns where the IP packet starts in an Ethernet frame of `frame_len` bytes whose first
/// bytes are `frame` (22 hold any frame's link header), and the IP version its EtherType
/// names; or why it has none: the first step of [`clamp_ethernet`], which then clamps the
/// packet from there as [`clamp_prefix`] does (after checking its version nibble).
///
/// For callers that copy the IP packet apart from its link header: a TC eBPF program whose
/// verifier would otherwise walk the IP and TCP code once per number of VLAN tags.
///
/// ```
/// use tcpmssd_core::{ethernet_ip_start, Reason};
///
/// let mut frame = [0u8; 22];
/// frame[12..18].copy_from_slice(&[0x81, 0x00, 0x00, 0x64, 0x86, 0xdd]); // 802.1Q, IPv6
/// assert_eq!(ethernet_ip_start(&frame, 80), Ok((18, 6)));
/// assert_eq!(ethernet_ip_start(&frame[..16], 80), Err(Reason::ShortPrefix));
/// ```
pub fn ethernet_ip_start(frame: &[u8], frame_len: usize) -> Result<(usize, u8), Reason> {
    let frame = match frame.get(..frame_len) {
        Some(frame) => frame,
        None => frame,
    };
    ethernet::ip_start(frame, frame_len)
}

/// Returns the source and destination (address and port) of a TCP packet, for log lines;
/// `None` when the packet is not TCP or too short to say.
#[must_use]
pub fn endpoints(packet: &[u8]) -> Option<(SocketAddr, SocketAddr)> {
    let (range, src, dst) = match packet.first().map(|byte| byte >> 4) {
        Some(4) => {
            let (src, dst) = ipv4::addresses(packet)?;
            (
                ipv4::segment(packet, packet.len()).ok()?,
                IpAddr::V4(src),
                IpAddr::V4(dst),
            )
        }
        Some(6) => {
            let (src, dst) = ipv6::addresses(packet)?;
            (
                ipv6::segment(packet, packet.len()).ok()?,
                IpAddr::V6(src),
                IpAddr::V6(dst),
            )
        }
        _ => return None,
    };
    let (src_port, dst_port) = tcp::ports(packet.get(range)?)?;
    Some((
        SocketAddr::new(src, src_port),
        SocketAddr::new(dst, dst_port),
    ))
}

/// The crate page's example (`core/README.md`, shipped with the crate) runs as a doctest,
/// so the documented API cannot drift. It is kept apart from the docs above: it links to
/// the repository, these link to the items.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
