//! The reordered per-packet code against the code it replaced (`old_core/`, commit
//! 01ce44e): the same outcome and the same bytes for valid packets with a few bytes
//! overwritten or cut short, and for arbitrary bytes behind either version nibble.
mod common;
mod old_core;

use proptest::prelude::*;
use proptest::sample::Index;
use tcpmssd_core::{clamp, clamp_tcp, Limits};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 20_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Options a SYN carries, in any order and number, MSS first or after a NOP, so that every
/// walk path (EOL, NOP, MSS at both parities, long options, broken lengths) is reached once
/// bytes are overwritten.
fn option_bytes() -> impl Strategy<Value = Vec<u8>> {
    let option = prop_oneof![
        3 => any::<u16>().prop_map(|mss| { let [h, l] = mss.to_be_bytes(); vec![2, 4, h, l] }),
        2 => Just(vec![1]),
        1 => Just(vec![0]),
        1 => Just(vec![4, 2]),
        1 => Just(vec![8, 10, 0, 1, 2, 3, 4, 5, 6, 7]),
        1 => any::<u8>().prop_map(|shift| vec![3, 3, shift]),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(kind, len)| vec![kind, len]),
    ];
    prop::collection::vec(option, 0..8).prop_map(|options| {
        let mut bytes = options.concat();
        bytes.truncate(40);
        bytes.resize(bytes.len().div_ceil(4) * 4, 0);
        bytes
    })
}

fn packet() -> impl Strategy<Value = Vec<u8>> {
    let flags = prop_oneof![
        Just(0x02u8),
        Just(0x12),
        Just(0x10),
        Just(0x06),
        any::<u8>()
    ];
    // (kind, length in 8-byte units or fragment offset, more fragments); up to 10, past
    // the walk's limit of 8.
    let extensions = prop::collection::vec(
        (
            prop::sample::select(vec![0u8, 43, 44, 60]),
            0u8..=1,
            any::<bool>(),
        ),
        0..11,
    );
    (
        any::<bool>(),
        0usize..=3,
        extensions,
        flags,
        option_bytes(),
        prop::collection::vec(any::<u8>(), 0..16),
    )
        .prop_map(
            |(v4, ip_option_words, extensions, flags, options, payload)| {
                let segment = common::tcp(flags, &options, &payload);
                if v4 {
                    common::ipv4(&vec![1; ip_option_words * 4], &segment)
                } else {
                    let extensions: Vec<_> = extensions
                        .into_iter()
                        .map(|(kind, size, more)| match kind {
                            44 => common::Extension::fragment(u16::from(size), more),
                            _ => common::Extension::options(kind, size),
                        })
                        .collect();
                    common::ipv6(&extensions, &segment)
                }
            },
        )
}

fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        (68u16..=9000).prop_map(Limits::from_mtu),
        (any::<u16>(), any::<u16>()).prop_map(|(ipv4, ipv6)| Limits::new(ipv4, ipv6)),
    ]
}

fn check(packet: &[u8], limits: Limits) -> Result<(), TestCaseError> {
    let mut new = packet.to_vec();
    let mut old = packet.to_vec();
    let new_outcome = clamp(&mut new, limits);
    let old_outcome = old_core::clamp(&mut old, (limits.ipv4_mss(), limits.ipv6_mss()));
    prop_assert_eq!(new_outcome, old_outcome);
    prop_assert_eq!(new, old);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn clamp_agrees_with_old_core_on_mutated_packets(
        packet in packet(),
        overwrites in prop::collection::vec((any::<Index>(), any::<u8>()), 0..=3),
        cut in prop::option::weighted(0.2, any::<Index>()),
        trailer in prop::collection::vec(any::<u8>(), 0..4),
        limits in limits(),
    ) {
        let mut packet = packet;
        packet.extend_from_slice(&trailer);
        for (at, byte) in overwrites {
            let at = at.index(packet.len());
            packet[at] = byte;
        }
        if let Some(cut) = cut {
            packet.truncate(cut.index(packet.len() + 1));
        }
        check(&packet, limits)?;
    }

    #[test]
    fn clamp_agrees_with_old_core_on_arbitrary_bytes(
        mut bytes in prop::collection::vec(any::<u8>(), 0..120),
        first in prop::sample::select(vec![None, Some(0x45u8), Some(0x46), Some(0x60)]),
        limits in limits(),
    ) {
        if let (Some(first), Some(byte)) = (first, bytes.first_mut()) {
            *byte = first;
        }
        check(&bytes, limits)?;
    }

    #[test]
    fn clamp_tcp_agrees_with_old_core(
        segment in (prop_oneof![Just(0x02u8), any::<u8>()], option_bytes(), prop::collection::vec(any::<u8>(), 0..8))
            .prop_map(|(flags, options, payload)| common::tcp(flags, &options, &payload)),
        overwrites in prop::collection::vec((any::<Index>(), any::<u8>()), 0..=2),
        cut in prop::option::weighted(0.2, any::<Index>()),
        max_mss in any::<u16>(),
    ) {
        let mut segment = segment;
        for (at, byte) in overwrites {
            let at = at.index(segment.len());
            segment[at] = byte;
        }
        if let Some(cut) = cut {
            segment.truncate(cut.index(segment.len() + 1));
        }
        let mut old = segment.clone();
        let new_outcome = clamp_tcp(&mut segment, max_mss);
        prop_assert_eq!(new_outcome, old_core::clamp_tcp(&mut old, max_mss));
        prop_assert_eq!(segment, old);
    }
}
