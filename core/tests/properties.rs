//! Properties of `clamp`, `clamp_tcp`, `clamp_prefix` and `clamp_ethernet` over generated
//! packets, checked against the independent oracle in `common/` (full checksum
//! recomputation, RFC 9293 option walk).
//!
//! Valid packets are built first (IHL or extension chain, data offset, then options of that
//! length, as etherparse's `tcp_any()`), then mutated; arbitrary bytes check "never panics,
//! unchanged unless clamped".
mod common;

use std::ops::Range;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{TestRng, TestRunner};
use tcpmssd_core::{
    clamp, clamp_ethernet, clamp_prefix, clamp_prefix_segment, clamp_tcp, ethernet_ip_start,
    prefix_segment, Changes, Limits, Outcome, Reason,
};

const FLAG_SYN: u8 = 0x02;
const FLAG_RST: u8 = 0x04;
const FLAG_ACK: u8 = 0x10;

/// Longest TCP options area: data offset 15 minus the 20 fixed bytes (RFC 9293 section 3.1).
const MAX_TCP_OPTIONS_LEN: usize = 40;
/// Longest IPv4 options area: IHL 15 minus the 20 fixed bytes (RFC 791 section 3.1).
const MAX_IPV4_OPTION_WORDS: usize = 10;

/// 2000 cases per property; no regression files are written beside this source.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// One TCP option as a sender writes it (RFC 9293 section 3.2, RFC 7323, RFC 2018).
#[derive(Clone, Debug)]
enum TcpOption {
    Mss(u16),
    Nop,
    SackPermitted,
    Timestamps(u32, u32),
    WindowScale(u8),
    /// Kind 2 with length 6: not an MSS option to either walk, but a well-formed option.
    MssWrongLength([u8; 4]),
}

impl TcpOption {
    fn bytes(&self) -> Vec<u8> {
        match *self {
            TcpOption::Mss(value) => {
                let [high, low] = value.to_be_bytes();
                vec![2, 4, high, low]
            }
            TcpOption::Nop => vec![1],
            TcpOption::SackPermitted => vec![4, 2],
            TcpOption::Timestamps(value, echo) => {
                let mut bytes = vec![8, 10];
                bytes.extend_from_slice(&value.to_be_bytes());
                bytes.extend_from_slice(&echo.to_be_bytes());
                bytes
            }
            TcpOption::WindowScale(shift) => vec![3, 3, shift],
            TcpOption::MssWrongLength(body) => {
                let mut bytes = vec![2, 6];
                bytes.extend_from_slice(&body);
                bytes
            }
        }
    }
}

/// An IPv6 extension header of the chain (RFC 8200 section 4).
#[derive(Clone, Copy, Debug)]
enum ExtensionSpec {
    HopByHop {
        units: u8,
    },
    Routing {
        units: u8,
    },
    DestinationOptions {
        units: u8,
    },
    /// A first fragment (offset 0), with or without more fragments to follow.
    FirstFragment {
        more: bool,
    },
}

impl ExtensionSpec {
    fn build(self) -> common::Extension {
        match self {
            ExtensionSpec::HopByHop { units } => common::Extension::options(0, units),
            ExtensionSpec::Routing { units } => common::Extension::options(43, units),
            ExtensionSpec::DestinationOptions { units } => common::Extension::options(60, units),
            ExtensionSpec::FirstFragment { more } => common::Extension::fragment(0, more),
        }
    }
}

/// An option that stops the walk (RFC 9293 section 3.1 gives no way past it). Receivers use
/// the options parsed before it, so MSS options before it are still lowered; any after it
/// must be left alone.
#[derive(Clone, Copy, Debug)]
enum BrokenOption {
    /// A kind other than EOL and NOP with length 0 or 1.
    ShortLength { kind: u8, len: u8 },
    /// A length running `beyond` + 1 bytes past the end of the options.
    PastEnd { kind: u8, beyond: u8 },
    /// A kind in the last option byte, with no room for its length.
    LoneKind { kind: u8 },
}

/// Where a broken option goes: at the end, or before the option with this index.
#[derive(Clone, Debug)]
struct BrokenTail {
    option: BrokenOption,
    at: Index,
}

#[derive(Clone, Debug)]
enum IpSpec {
    /// IPv4 with this many 4-byte words of options: NOPs ending in EOL (RFC 791); either
    /// don't-fragment or the first fragment (more fragments, offset 0).
    V4 {
        option_words: usize,
        first_fragment: bool,
    },
    /// IPv6 behind these extension headers, hop-by-hop only first.
    V6 { extensions: Vec<ExtensionSpec> },
}

/// A valid TCP packet: every length field agrees with the bytes, the checksum verifies.
#[derive(Clone, Debug)]
struct PacketSpec {
    ip: IpSpec,
    flags: u8,
    options: Vec<TcpOption>,
    /// A broken option somewhere in the options, or none.
    broken: Option<BrokenTail>,
    payload: Vec<u8>,
    /// Link-layer padding past the IP length (Ethernet pads short frames to 60 bytes).
    trailer: Vec<u8>,
}

impl PacketSpec {
    /// The options in order, dropping those that no longer fit, with the broken option (if
    /// any) in its place, padded with EOL and zeros to a whole number of words.
    fn option_bytes(&self) -> Vec<u8> {
        // A broken option takes at most 2 bytes plus padding to the next word.
        let budget = MAX_TCP_OPTIONS_LEN - if self.broken.is_some() { 4 } else { 0 };
        let mut options: Vec<Vec<u8>> = Vec::new();
        let mut len = 0;
        for option in &self.options {
            let option = option.bytes();
            if len + option.len() <= budget {
                len += option.len();
                options.push(option);
            }
        }
        // Where a past-the-end option starts, to set its length once the padding is known.
        let mut past_end = None;
        match self
            .broken
            .as_ref()
            .map(|broken| (broken.option, &broken.at))
        {
            None => {}
            Some((BrokenOption::ShortLength { kind, len }, at)) => {
                options.insert(at.index(options.len() + 1), vec![kind, len]);
            }
            Some((BrokenOption::PastEnd { kind, beyond }, at)) => {
                let at = at.index(options.len() + 1);
                past_end = Some((options[..at].iter().map(Vec::len).sum::<usize>(), beyond));
                options.insert(at, vec![kind, 0]);
            }
            Some((BrokenOption::LoneKind { kind }, _)) => {
                // NOPs up to the last byte of a word, then the kind.
                let mut filler = vec![1; 3 - len % 4];
                filler.push(kind);
                options.push(filler);
            }
        }
        let mut bytes = options.concat();
        bytes.resize(bytes.len().div_ceil(4) * 4, 0);
        if let Some((start, beyond)) = past_end {
            // At most 40 + 1 + 200: still a length byte.
            bytes[start + 1] = u8::try_from(bytes.len() - start + 1 + usize::from(beyond))
                .expect("length fits a byte");
        }
        bytes
    }

    fn build(&self) -> Vec<u8> {
        let segment = common::tcp(self.flags, &self.option_bytes(), &self.payload);
        let mut packet = match &self.ip {
            IpSpec::V4 {
                option_words,
                first_fragment,
            } => {
                let mut ip_options = vec![1; option_words * 4];
                if let Some(last) = ip_options.last_mut() {
                    *last = 0;
                }
                let flags = if *first_fragment { 0x2000 } else { 0x4000 };
                common::ipv4_with_flags(&ip_options, flags, &segment)
            }
            IpSpec::V6 { extensions } => {
                let extensions: Vec<_> = extensions.iter().map(|spec| spec.build()).collect();
                common::ipv6(&extensions, &segment)
            }
        };
        packet.extend_from_slice(&self.trailer);
        packet
    }
}

/// MSS values: anything, plain ones, and the values of common MTUs so that "equal to the
/// limit" happens too.
fn mss_value() -> impl Strategy<Value = u16> {
    prop_oneof![
        2 => any::<u16>(),
        2 => 0u16..=9000,
        1 => prop::sample::select(vec![0u16, 536, 1220, 1432, 1440, 1452, 1460, 8960, u16::MAX]),
    ]
}

fn tcp_option() -> impl Strategy<Value = TcpOption> {
    prop_oneof![
        3 => mss_value().prop_map(TcpOption::Mss),
        3 => Just(TcpOption::Nop),
        1 => Just(TcpOption::SackPermitted),
        1 => (any::<u32>(), any::<u32>()).prop_map(|(value, echo)| TcpOption::Timestamps(value, echo)),
        1 => any::<u8>().prop_map(TcpOption::WindowScale),
        1 => any::<[u8; 4]>().prop_map(TcpOption::MssWrongLength),
    ]
}

/// Options in random order; half the time they start with NOP, MSS so the MSS value sits
/// at an odd offset from the TCP header (RFC 1071 section 2(B): it enters the sum swapped).
/// A quarter of the time, the layout a common stack sends instead, which the core takes
/// without walking.
fn tcp_options() -> impl Strategy<Value = Vec<TcpOption>> {
    let random = (
        any::<bool>(),
        mss_value(),
        prop::collection::vec(tcp_option(), 0..=12),
    )
        .prop_map(|(odd_mss_first, mss, rest)| {
            let mut options = Vec::new();
            if odd_mss_first {
                options.extend([TcpOption::Nop, TcpOption::Mss(mss)]);
            }
            options.extend(rest);
            options
        });
    prop_oneof![3 => random, 1 => common_stack_options()]
}

/// MSS first, then what Linux (with and without timestamps), FreeBSD, Windows or macOS
/// sends after it, with any MSS, timestamps and window shift.
fn common_stack_options() -> impl Strategy<Value = Vec<TcpOption>> {
    use TcpOption::{Mss, Nop, SackPermitted as Sack, Timestamps, WindowScale};
    (0..5usize, mss_value(), any::<(u32, u32)>(), any::<u8>()).prop_map(
        |(stack, mss, (value, echo), shift)| {
            let timestamps = Timestamps(value, echo);
            let scale = WindowScale(shift);
            match stack {
                0 => vec![Mss(mss), Sack, timestamps, Nop, scale],
                1 => vec![Mss(mss), Nop, Nop, Sack, Nop, scale],
                2 => vec![Mss(mss), Nop, scale, Sack, timestamps],
                3 => vec![Mss(mss), Nop, scale, Nop, Nop, Sack],
                // EOL and padding follow: `option_bytes` pads with zeros.
                _ => vec![Mss(mss), Nop, scale, Nop, Nop, timestamps, Sack],
            }
        },
    )
}

/// SYN most of the time, SYN-ACK often, sometimes RST, a bare ACK, or any flags at all.
fn tcp_flags() -> impl Strategy<Value = u8> {
    prop_oneof![
        6 => Just(FLAG_SYN),
        3 => Just(FLAG_SYN | FLAG_ACK),
        1 => Just(FLAG_SYN | FLAG_RST),
        1 => Just(FLAG_SYN | FLAG_RST | FLAG_ACK),
        1 => Just(FLAG_ACK),
        1 => any::<u8>(),
    ]
}

/// Any kind but EOL and NOP, MSS's own kind often.
fn broken_kind() -> impl Strategy<Value = u8> {
    prop_oneof![Just(2u8), 2u8..=255]
}

fn broken_tail() -> impl Strategy<Value = BrokenTail> {
    let option = prop_oneof![
        (broken_kind(), 0u8..=1).prop_map(|(kind, len)| BrokenOption::ShortLength { kind, len }),
        (broken_kind(), 0u8..=200)
            .prop_map(|(kind, beyond)| BrokenOption::PastEnd { kind, beyond }),
        broken_kind().prop_map(|kind| BrokenOption::LoneKind { kind }),
    ];
    (option, any::<Index>()).prop_map(|(option, at)| BrokenTail { option, at })
}

fn ipv6_extensions() -> impl Strategy<Value = Vec<ExtensionSpec>> {
    let later = prop_oneof![
        (0u8..=2).prop_map(|units| ExtensionSpec::Routing { units }),
        (0u8..=2).prop_map(|units| ExtensionSpec::DestinationOptions { units }),
        any::<bool>().prop_map(|more| ExtensionSpec::FirstFragment { more }),
    ];
    (
        prop::option::of(0u8..=2),
        prop::collection::vec(later, 0..=3),
    )
        .prop_map(|(hop_by_hop, later)| {
            let mut extensions = Vec::new();
            if let Some(units) = hop_by_hop {
                extensions.push(ExtensionSpec::HopByHop { units });
            }
            extensions.extend(later);
            extensions.truncate(3);
            extensions
        })
}

fn ip_spec() -> impl Strategy<Value = IpSpec> {
    prop_oneof![
        (0..=MAX_IPV4_OPTION_WORDS, prop::bool::weighted(0.2)).prop_map(
            |(option_words, first_fragment)| IpSpec::V4 {
                option_words,
                first_fragment
            }
        ),
        ipv6_extensions().prop_map(|extensions| IpSpec::V6 { extensions }),
    ]
}

fn valid_packet() -> impl Strategy<Value = PacketSpec> {
    (
        ip_spec(),
        tcp_flags(),
        tcp_options(),
        prop::option::weighted(0.2, broken_tail()),
        prop::collection::vec(any::<u8>(), 0..64),
        prop_oneof![
            4 => Just(Vec::new()),
            1 => prop::collection::vec(any::<u8>(), 1..8),
        ],
    )
        .prop_map(
            |(ip, flags, options, broken, payload, trailer)| PacketSpec {
                ip,
                flags,
                options,
                broken,
                payload,
                trailer,
            },
        )
}

/// Limits from a link MTU most of the time, sometimes any pair of values.
fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        3 => (68u16..=9000).prop_map(Limits::from_mtu),
        1 => prop::sample::select(vec![1280u16, 1492, 1500]).prop_map(Limits::from_mtu),
        1 => (any::<u16>(), any::<u16>()).prop_map(|(ipv4, ipv6)| Limits::new(ipv4, ipv6)),
    ]
}

/// The limit `clamp` applies to this packet, by its version nibble.
fn family_limit(packet: &[u8], limits: Limits) -> Option<u16> {
    match packet.first().map(|byte| byte >> 4) {
        Some(4) => Some(limits.ipv4_mss()),
        Some(6) => Some(limits.ipv6_mss()),
        _ => None,
    }
}

/// Where the oracle finds the TCP segment of a valid packet.
fn segment_range(packet: &[u8]) -> Range<usize> {
    let located = common::locate(packet);
    located.start..located.end
}

/// Checks what must hold after any call of `clamp`, valid packet or not: unchanged means
/// byte-identical; clamped lowers to the family's limit, and a second clamp does nothing.
fn check_any_outcome(
    before: &[u8],
    after: &mut [u8],
    limits: Limits,
    outcome: Outcome,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(before.len(), after.len());
    match outcome {
        Outcome::Unchanged(_) => prop_assert_eq!(before, &after[..]),
        Outcome::Clamped { from, to } => {
            prop_assert_eq!(Some(to), family_limit(before, limits));
            prop_assert!(from > to, "from {} not above to {}", from, to);
            let clamped = after.to_vec();
            let again = clamp(after, limits);
            prop_assert!(!again.is_clamped(), "second clamp gave {:?}", again);
            prop_assert_eq!(&clamped, &after[..]);
        }
    }
    Ok(())
}

/// Where the headers of a valid packet end: its TCP header's start plus the data offset.
fn headers_end(packet: &[u8]) -> usize {
    let start = segment_range(packet).start;
    start + usize::from(packet[start + 12] >> 4) * 4
}

/// Checks what `changes` says against the bytes: with a clamp it comes, it locates the
/// segment where the oracle does (`segment`, shifted by `offset` in a frame), and it lists
/// exactly the 16-bit words of the segment, besides the checksum, whose bytes differ.
fn check_changes(
    before: &[u8],
    after: &[u8],
    outcome: Outcome,
    changes: Option<Changes>,
    segment: Option<Range<usize>>,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(changes.is_some(), outcome.is_clamped());
    let Some(changes) = changes else {
        return Ok(());
    };
    if let Some(segment) = segment {
        prop_assert_eq!(changes.segment(), segment);
    }
    let start = changes.segment().start;
    prop_assert_eq!(changes.checksum_at(), start + 16);
    let differing: Vec<usize> = (start..after.len())
        .step_by(2)
        .filter(|&at| at != changes.checksum_at())
        .filter(|&at| before.get(at..at + 2) != after.get(at..at + 2))
        .collect();
    prop_assert_eq!(changes.words().collect::<Vec<_>>(), differing);
    // Nothing before the segment changed, nor any byte the words and checksum leave out.
    prop_assert_eq!(
        &before[..start.min(before.len())],
        &after[..start.min(after.len())]
    );
    Ok(())
}

/// An Ethernet frame around `packet`: addresses, these tags (tag protocol id, control
/// information), the EtherType; returns it and where the packet starts.
fn frame(macs: [u8; 12], tags: &[(u16, u16)], ethertype: u16, packet: &[u8]) -> (Vec<u8>, usize) {
    let mut frame = macs.to_vec();
    for &(tpid, tci) in tags {
        frame.extend_from_slice(&tpid.to_be_bytes());
        frame.extend_from_slice(&tci.to_be_bytes());
    }
    frame.extend_from_slice(&ethertype.to_be_bytes());
    let ip_start = frame.len();
    frame.extend_from_slice(packet);
    (frame, ip_start)
}

/// IEEE 802.1Q and 802.1ad tag protocol ids, with any control information.
fn vlan_tag() -> impl Strategy<Value = (u16, u16)> {
    (prop::sample::select(vec![0x8100u16, 0x88a8]), any::<u16>())
}

/// The EtherType a packet's version nibble calls for (IEEE 802 numbers).
fn ethertype(packet: &[u8]) -> u16 {
    match packet[0] >> 4 {
        4 => 0x0800,
        _ => 0x86dd,
    }
}

/// `packet` with `overwrites` written into it, then cut at `cut` if given: a valid packet
/// made odd, for the properties that must hold whatever the bytes.
fn mutated(mut packet: Vec<u8>, overwrites: &[(Index, u8)], cut: Option<Index>) -> Vec<u8> {
    for (at, byte) in overwrites {
        let at = at.index(packet.len());
        packet[at] = *byte;
    }
    if let Some(cut) = cut {
        packet.truncate(cut.index(packet.len() + 1));
    }
    packet
}

proptest! {
    #![proptest_config(config())]

    /// (a) The incremental update gives what a full recomputation gives, MSS at even or odd offsets.
    #[test]
    fn clamp_leaves_checksum_equal_to_full_recomputation(
        spec in valid_packet(),
        limits in limits(),
    ) {
        let mut packet = spec.build();
        prop_assert!(common::tcp_checksum_verifies(&packet), "generator built a bad checksum");
        let _ = clamp(&mut packet, limits);
        prop_assert!(common::tcp_checksum_verifies(&packet));
        prop_assert_eq!(
            common::stored_tcp_checksum(&packet),
            common::full_tcp_checksum(&packet)
        );
    }

    /// (b) Only the two value bytes of each MSS option and the two checksum bytes may change.
    #[test]
    fn clamp_changes_only_mss_values_and_tcp_checksum(
        spec in valid_packet(),
        limits in limits(),
    ) {
        let before = spec.build();
        let mut after = before.clone();
        let _ = clamp(&mut after, limits);
        let segment = segment_range(&before);
        let mut may_change = vec![segment.start + 16, segment.start + 17];
        for (offset, _) in common::mss_options(&before[segment.clone()]) {
            may_change.extend([segment.start + offset, segment.start + offset + 1]);
        }
        prop_assert_eq!(before.len(), after.len());
        for (at, (old, new)) in before.iter().zip(&after).enumerate() {
            prop_assert!(
                old == new || may_change.contains(&at),
                "byte {} changed from {:#04x} to {:#04x}",
                at,
                old,
                new
            );
        }
    }

    /// (c) Clamped iff SYN set, RST clear and some MSS the option walk meets is above the
    /// family limit; those and only those become the limit, `from` is the first of them, and
    /// no MSS ever rises. MSS options after a broken option are not met, so not lowered.
    #[test]
    fn clamp_lowers_exactly_the_mss_options_above_the_limit_of_a_syn(
        spec in valid_packet(),
        limits in limits(),
    ) {
        let before = spec.build();
        let mut after = before.clone();
        let outcome = clamp(&mut after, limits);
        let limit = family_limit(&before, limits).expect("valid packets are IPv4 or IPv6");
        let segment = segment_range(&before);
        let walk = common::option_walk(&before[segment.clone()]);
        let old_mss = walk.mss;
        let new_mss = common::mss_options(&after[segment]);

        let syn_not_rst = spec.flags & FLAG_SYN != 0 && spec.flags & FLAG_RST == 0;
        let expected_mss: Vec<(usize, u16)> = old_mss
            .iter()
            .map(|&(offset, value)| {
                (offset, if syn_not_rst && value > limit { limit } else { value })
            })
            .collect();
        prop_assert_eq!(&new_mss, &expected_mss);
        for (&(_, old), &(_, new)) in old_mss.iter().zip(&new_mss) {
            prop_assert!(new <= old, "MSS rose from {} to {}", old, new);
        }

        let first_above = old_mss.iter().map(|&(_, value)| value).find(|&value| value > limit);
        let expected = match first_above {
            Some(from) if syn_not_rst => Outcome::Clamped { from, to: limit },
            _ if spec.flags & FLAG_SYN == 0 => Outcome::Unchanged(Reason::NotSyn),
            _ if spec.flags & FLAG_RST != 0 => Outcome::Unchanged(Reason::Rst),
            _ if walk.stopped => Outcome::Unchanged(Reason::MalformedOptions),
            _ if old_mss.is_empty() => Outcome::Unchanged(Reason::NoMss),
            _ => Outcome::Unchanged(Reason::MssOk),
        };
        prop_assert_eq!(outcome, expected);
        if let Outcome::Clamped { from, to } = outcome {
            prop_assert!(from > to);
            prop_assert!(new_mss.iter().all(|&(_, value)| value <= limit));
        }
    }

    /// (d) Clamping a clamped packet again changes nothing.
    #[test]
    fn second_clamp_is_unchanged_and_byte_identical(
        spec in valid_packet(),
        limits in limits(),
    ) {
        let mut packet = spec.build();
        let _ = clamp(&mut packet, limits);
        let once = packet.clone();
        let again = clamp(&mut packet, limits);
        prop_assert!(!again.is_clamped(), "second clamp gave {:?}", again);
        prop_assert_eq!(&once, &packet);
    }

    /// (a') A checksum that was wrong stays wrong by exactly as much: the update is
    /// incremental, so a damaged packet is not made to look intact (a full recomputation
    /// would do that), and the MSS words enter the sum at the right parity.
    #[test]
    fn clamp_keeps_a_bad_checksum_exactly_as_bad(
        spec in valid_packet(),
        damage in 1u16..,
        limits in limits(),
    ) {
        let mut packet = spec.build();
        let checksum_at = segment_range(&packet).start + 16;
        let stored = u16::from_be_bytes([packet[checksum_at], packet[checksum_at + 1]]);
        packet[checksum_at..checksum_at + 2].copy_from_slice(&(stored ^ damage).to_be_bytes());
        let sum = common::tcp_sum(&packet);
        let _ = clamp(&mut packet, limits);
        prop_assert_eq!(common::tcp_sum(&packet), sum);
    }

    /// (e) Any bytes at all (often behind an IPv4 or IPv6 version nibble): no panic, and
    /// unchanged means byte-identical.
    #[test]
    fn arbitrary_bytes_never_panic_and_stay_identical_unless_clamped(
        mut bytes in prop::collection::vec(any::<u8>(), 0..300),
        first in prop::sample::select(vec![None, Some(0x45u8), Some(0x4f), Some(0x60)]),
        limits in limits(),
    ) {
        if let (Some(first), Some(byte)) = (first, bytes.first_mut()) {
            *byte = first;
        }
        let before = bytes.clone();
        let outcome = clamp(&mut bytes, limits);
        check_any_outcome(&before, &mut bytes, limits, outcome)?;
    }

    /// (e) Valid packets with bytes overwritten and cut short: no panic, and unchanged means
    /// byte-identical.
    #[test]
    fn mutated_packets_never_panic_and_stay_identical_unless_clamped(
        spec in valid_packet(),
        overwrites in prop::collection::vec((any::<Index>(), any::<u8>()), 0..=4),
        cut in prop::option::weighted(0.3, any::<Index>()),
        limits in limits(),
    ) {
        let mut packet = mutated(spec.build(), &overwrites, cut);
        let before = packet.clone();
        let outcome = clamp(&mut packet, limits);
        check_any_outcome(&before, &mut packet, limits, outcome)?;
    }

    /// (f) `clamp_tcp` on the bare segment agrees with `clamp` on the whole packet.
    #[test]
    fn clamp_tcp_on_bare_segment_matches_clamp_on_packet(
        spec in valid_packet(),
        limits in limits(),
    ) {
        let mut packet = spec.build();
        let segment = segment_range(&packet);
        let limit = family_limit(&packet, limits).expect("valid packets are IPv4 or IPv6");
        let mut bare = packet[segment.clone()].to_vec();
        let bare_outcome = clamp_tcp(&mut bare, limit);
        let packet_outcome = clamp(&mut packet, limits);
        prop_assert_eq!(bare_outcome, packet_outcome);
        prop_assert_eq!(&bare[..], &packet[segment]);
    }
}

proptest! {
    #![proptest_config(config())]

    /// (g) From any prefix that holds every header, `clamp_prefix` gives `clamp`'s outcome and
    /// `clamp`'s bytes, the checksum right for the whole packet; from a shorter one it changes
    /// nothing and says `short-prefix` or what `clamp` says.
    #[test]
    fn clamp_prefix_holding_the_headers_equals_clamp_on_the_whole_packet(
        spec in valid_packet(),
        cut in any::<Index>(),
        limits in limits(),
    ) {
        let packet = spec.build();
        let mut whole = packet.clone();
        let expected = clamp(&mut whole, limits);
        let held = cut.index(packet.len() + 1);
        let mut prefix = packet[..held].to_vec();
        let (outcome, changes) = clamp_prefix(&mut prefix, packet.len(), limits);
        if held >= headers_end(&packet) {
            prop_assert_eq!(outcome, expected);
            prop_assert_eq!(&prefix[..], &whole[..held]);
            let mut rejoined = prefix.clone();
            rejoined.extend_from_slice(&packet[held..]);
            prop_assert!(common::tcp_checksum_verifies(&rejoined));
            prop_assert_eq!(
                common::stored_tcp_checksum(&rejoined),
                common::full_tcp_checksum(&rejoined)
            );
            check_changes(&packet, &rejoined, outcome, changes, Some(segment_range(&packet)))?;
        } else {
            prop_assert_eq!(&prefix[..], &packet[..held]);
            prop_assert!(
                outcome == Outcome::Unchanged(Reason::ShortPrefix)
                    || (outcome == expected && !expected.is_clamped()),
                "{:?} from {} of {} header bytes, clamp said {:?}",
                outcome,
                held,
                headers_end(&packet),
                expected
            );
            prop_assert!(changes.is_none());
        }
    }

    /// (g) With the whole packet at hand, `clamp_prefix` is `clamp`, whatever the bytes.
    #[test]
    fn clamp_prefix_of_the_whole_packet_is_clamp_whatever_the_bytes(
        spec in valid_packet(),
        overwrites in prop::collection::vec((any::<Index>(), any::<u8>()), 0..=4),
        cut in prop::option::weighted(0.3, any::<Index>()),
        limits in limits(),
    ) {
        let packet = mutated(spec.build(), &overwrites, cut);
        let mut whole = packet.clone();
        let mut prefix = packet.clone();
        let expected = clamp(&mut whole, limits);
        let (outcome, changes) = clamp_prefix(&mut prefix, packet.len(), limits);
        prop_assert_eq!(outcome, expected);
        prop_assert_eq!(&prefix, &whole);
        check_changes(&packet, &prefix, outcome, changes, None)?;
    }

    /// (g) Any bytes, any packet length, any part of them at hand: no panic; unchanged means
    /// byte-identical; a clamp lists exactly the words it changed.
    #[test]
    fn prefix_entries_never_panic_and_list_what_they_change(
        mut bytes in prop::collection::vec(any::<u8>(), 0..300),
        first in prop::sample::select(vec![None, Some(0x45u8), Some(0x4f), Some(0x60)]),
        packet_len in 0usize..400,
        ethernet in any::<bool>(),
        limits in limits(),
    ) {
        if let (Some(first), Some(byte)) = (first, bytes.first_mut()) {
            *byte = first;
        }
        let before = bytes.clone();
        let (outcome, changes) = if ethernet {
            clamp_ethernet(&mut bytes, packet_len, limits)
        } else {
            clamp_prefix(&mut bytes, packet_len, limits)
        };
        if !outcome.is_clamped() {
            prop_assert_eq!(&before, &bytes);
        }
        check_changes(&before, &bytes, outcome, changes, None)?;
        if ethernet {
            // `clamp_ethernet` is `ethernet_ip_start`, the version check, then `clamp_prefix`
            // from there: the steps a TC program takes apart (ebpf/src/main.rs).
            let mut steps = before.clone();
            let held = steps.len().min(packet_len);
            let expected = match ethernet_ip_start(&steps, packet_len) {
                Err(reason) => Outcome::Unchanged(reason),
                Ok((ip_start, version)) => match steps.get_mut(ip_start..held) {
                    None => Outcome::Unchanged(Reason::TruncatedFrame),
                    Some(packet) if packet.first().is_some_and(|b| b >> 4 != version) => {
                        Outcome::Unchanged(Reason::NotIp)
                    }
                    Some(packet) => {
                        clamp_prefix(packet, packet_len.saturating_sub(ip_start), limits).0
                    }
                },
            };
            prop_assert_eq!(outcome, expected);
            prop_assert_eq!(&steps, &bytes);
        }
    }

    /// (g) `clamp_prefix_segment` given any range, not only one `prefix_segment` found: no
    /// panic, unchanged means byte-identical, a clamp changes only words it lists, inside the
    /// range; with the range `prefix_segment` gives, the two steps are `clamp_prefix`.
    #[test]
    fn clamp_prefix_segment_with_any_range_writes_only_inside_it(
        mut bytes in prop::collection::vec(any::<u8>(), 0..300),
        first in prop::sample::select(vec![Some(0x45u8), Some(0x60), None]),
        packet_len in 0usize..400,
        start in 0usize..320,
        end in 0usize..420,
        limits in limits(),
    ) {
        if let (Some(first), Some(byte)) = (first, bytes.first_mut()) {
            *byte = first;
        }
        let before = bytes.clone();
        let (outcome, changes) =
            clamp_prefix_segment(&mut bytes, packet_len, start..end, limits);
        if !outcome.is_clamped() {
            prop_assert_eq!(&before, &bytes);
        }
        check_changes(&before, &bytes, outcome, changes, Some(start..end))?;
        let held_end = end.min(before.len()).min(packet_len);
        if outcome.is_clamped() {
            prop_assert!(start <= held_end);
            prop_assert_eq!(&before[held_end..], &bytes[held_end..]);
        }

        let mut steps = before.clone();
        let mut whole = before.clone();
        let expected = clamp_prefix(&mut whole, packet_len, limits);
        let stepped = match prefix_segment(&steps, packet_len) {
            Ok(segment) => clamp_prefix_segment(&mut steps, packet_len, segment, limits),
            Err(reason) => (Outcome::Unchanged(reason), None),
        };
        prop_assert_eq!(stepped, expected);
        prop_assert_eq!(&steps, &whole);
    }

    /// (h) Behind an Ethernet header and up to two VLAN tags (802.1Q or 802.1ad, in any
    /// order), a packet is clamped as it is alone, from the whole frame or from a prefix;
    /// the frame header is never touched and the changes count from the frame's start.
    #[test]
    fn clamp_ethernet_equals_clamp_on_the_inner_packet(
        spec in valid_packet(),
        macs in any::<[u8; 12]>(),
        tags in prop::collection::vec(vlan_tag(), 0..=2),
        cut in prop::option::weighted(0.3, any::<Index>()),
        limits in limits(),
    ) {
        let packet = spec.build();
        let (original, ip_start) = frame(macs, &tags, ethertype(&packet), &packet);
        let held = cut.map_or(original.len(), |cut| cut.index(original.len() + 1));
        let mut frame = original[..held].to_vec();
        let (outcome, changes) = clamp_ethernet(&mut frame, original.len(), limits);
        let version = packet[0] >> 4;
        prop_assert_eq!(
            ethernet_ip_start(&original[..held], original.len()),
            if held >= ip_start { Ok((ip_start, version)) } else { Err(Reason::ShortPrefix) }
        );

        let mut inner = packet[..held.saturating_sub(ip_start)].to_vec();
        let (inner_outcome, inner_changes) = if held >= ip_start {
            clamp_prefix(&mut inner, packet.len(), limits)
        } else {
            (Outcome::Unchanged(Reason::ShortPrefix), None)
        };
        prop_assert_eq!(outcome, inner_outcome);
        prop_assert_eq!(&frame[..ip_start.min(held)], &original[..ip_start.min(held)]);
        prop_assert_eq!(&frame[ip_start.min(held)..], &inner[..]);
        prop_assert_eq!(
            changes.map(|changes| (changes.segment(), changes.words().collect::<Vec<_>>())),
            inner_changes.map(|changes| {
                let segment = changes.segment();
                let words = changes.words().map(|at| at + ip_start).collect::<Vec<_>>();
                (segment.start + ip_start..segment.end + ip_start, words)
            })
        );
        if held == original.len() {
            let mut alone = packet.clone();
            prop_assert_eq!(outcome, clamp(&mut alone, limits));
            prop_assert_eq!(&frame[ip_start..], &alone[..]);
        }
    }

    /// (h) A third tag, another EtherType, or a version nibble that is not the EtherType's:
    /// unchanged, for its own reason.
    #[test]
    fn clamp_ethernet_leaves_other_frames_alone(
        spec in valid_packet(),
        macs in any::<[u8; 12]>(),
        tags in prop::collection::vec(vlan_tag(), 3..=4),
        other in any::<u16>().prop_filter("not IP or a tag", |ethertype| {
            ![0x0800, 0x86dd, 0x8100, 0x88a8].contains(ethertype)
        }),
        limits in limits(),
    ) {
        let packet = spec.build();
        let wrong_version = if ethertype(&packet) == 0x0800 { 0x86dd } else { 0x0800 };
        let cases = [
            (frame(macs, &tags, ethertype(&packet), &packet).0, Reason::VlanLimit),
            (frame(macs, &tags[..2], other, &packet).0, Reason::OtherEthertype),
            (frame(macs, &tags[..1], wrong_version, &packet).0, Reason::NotIp),
        ];
        for (original, reason) in cases {
            let link = ethernet_ip_start(&original, original.len());
            prop_assert!(link == Err(reason) || (reason == Reason::NotIp && link.is_ok()));
            let mut frame = original.clone();
            let (outcome, changes) = clamp_ethernet(&mut frame, original.len(), limits);
            prop_assert_eq!(outcome, Outcome::Unchanged(reason));
            prop_assert!(changes.is_none());
            prop_assert_eq!(&frame, &original);
        }
    }
}

/// The generator is only as good as what it reaches: both families, every outcome a valid
/// packet can have, and clamps of MSS values at odd and even offsets.
#[test]
fn valid_packet_generator_reaches_every_outcome_and_both_mss_parities() {
    let mut runner =
        TestRunner::new_with_rng(config(), TestRng::deterministic_rng(config().rng_algorithm));
    let packets = valid_packet();
    let limits = limits();
    let mut seen_v4 = false;
    let mut seen_v6_extensions = false;
    let mut clamped_at_odd = false;
    let mut clamped_at_even = false;
    let mut clamped_before_broken_option = false;
    let mut reasons = Vec::new();
    for _ in 0..2000 {
        let spec = packets
            .new_tree(&mut runner)
            .expect("strategy generates")
            .current();
        let limits = limits
            .new_tree(&mut runner)
            .expect("strategy generates")
            .current();
        let mut packet = spec.build();
        let segment = segment_range(&packet);
        let before = common::mss_options(&packet[segment.clone()]);
        match &spec.ip {
            IpSpec::V4 { .. } => seen_v4 = true,
            IpSpec::V6 { extensions } => seen_v6_extensions |= extensions.len() == 3,
        }
        match clamp(&mut packet, limits) {
            Outcome::Clamped { .. } => {
                clamped_before_broken_option |=
                    common::option_walk(&packet[segment.clone()]).stopped;
                let after = common::mss_options(&packet[segment]);
                for (&(offset, old), &(_, new)) in before.iter().zip(&after) {
                    if old != new {
                        clamped_at_odd |= offset % 2 == 1;
                        clamped_at_even |= offset % 2 == 0;
                    }
                }
            }
            Outcome::Unchanged(reason) => {
                if !reasons.contains(&reason) {
                    reasons.push(reason);
                }
            }
        }
    }
    assert!(
        seen_v4 && seen_v6_extensions,
        "both families, IPv6 with 3 extensions"
    );
    assert!(clamped_at_odd && clamped_at_even, "clamps at both parities");
    assert!(
        clamped_before_broken_option,
        "a clamp of an MSS before a broken option"
    );
    reasons.sort();
    assert_eq!(
        reasons,
        [
            Reason::NotSyn,
            Reason::Rst,
            Reason::NoMss,
            Reason::MalformedOptions,
            Reason::MssOk
        ]
    );
}

/// The prefix and frame properties mean something only if their cases occur: clamps from a
/// prefix shorter than the packet, short prefixes, and clamps behind two tags.
#[test]
fn prefix_and_frame_generators_reach_their_cases() {
    let mut runner =
        TestRunner::new_with_rng(config(), TestRng::deterministic_rng(config().rng_algorithm));
    let cases = (
        valid_packet(),
        any::<Index>(),
        prop::collection::vec(vlan_tag(), 0..=2),
        limits(),
    );
    let (mut clamped_from_prefix, mut short_prefix, mut clamped_behind_two_tags) = (0, 0, 0);
    for _ in 0..2000 {
        let (spec, cut, tags, limits) = cases
            .new_tree(&mut runner)
            .expect("strategy generates")
            .current();
        let packet = spec.build();
        let held = cut.index(packet.len() + 1);
        let mut prefix = packet[..held].to_vec();
        match clamp_prefix(&mut prefix, packet.len(), limits).0 {
            Outcome::Clamped { .. } if held < packet.len() => clamped_from_prefix += 1,
            Outcome::Unchanged(Reason::ShortPrefix) => short_prefix += 1,
            _ => {}
        }
        let (mut frame, _) = frame([0; 12], &tags, ethertype(&packet), &packet);
        let len = frame.len();
        if tags.len() == 2 && clamp_ethernet(&mut frame, len, limits).0.is_clamped() {
            clamped_behind_two_tags += 1;
        }
    }
    assert!(
        clamped_from_prefix >= 100 && short_prefix >= 500 && clamped_behind_two_tags >= 100,
        "{clamped_from_prefix} clamps from a prefix, {short_prefix} short prefixes, \
         {clamped_behind_two_tags} clamps behind two tags"
    );
}
