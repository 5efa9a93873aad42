//! Differential fuzzing of `tcpmssd_core::clamp_prefix` and `clamp_ethernet` against `clamp`
//! on the whole packet. From any prefix: a clamp is `clamp`'s clamp, bytes and all, and only
//! from a prefix that holds every header; `short-prefix` changes nothing; any other reason
//! is `clamp`'s. Behind up to two VLAN tags, `clamp_ethernet` is `clamp_prefix` on the inner
//! packet, its `Changes` counted from the frame's start; behind three it is `vlan-limit`.
//! `ethernet_ip_start` finds the packet behind the tags, or says why not. `clamp_prefix`'s
//! second step, `clamp_prefix_segment`, given a range no first step found (from the input's
//! held length): no panic, and it writes only inside that range.
//!
//! Input: MTU (2 bytes, big-endian), bytes at hand (2, big-endian, taken modulo the length
//! plus one), mode (1: bit 0 a frame, bits 1-2 the number of tags, bit 3 802.1ad ids), then
//! the packet.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The same oracle the core's tests use: full checksum, locator, RFC 9293 option walk.
#[path = "../../core/tests/common/mod.rs"]
mod common;
use tcpmssd_core::{
    clamp, clamp_ethernet, clamp_prefix, clamp_prefix_segment, ethernet_ip_start, Changes, Limits,
    Outcome, Reason,
};

fuzz_target!(|input: &[u8]| {
    let Some((header, packet)) = input.split_first_chunk::<5>() else {
        return;
    };
    let limits = Limits::from_mtu(u16::from_be_bytes([header[0], header[1]]));
    let held = u16::from_be_bytes([header[2], header[3]]);
    let mode = header[4];
    if mode & 1 == 0 {
        let held = usize::from(held) % (packet.len() + 1);
        check_prefix(packet, held, limits);
    } else {
        let tags = usize::from((mode >> 1) & 3);
        let tpid: u16 = if mode & 8 == 0 { 0x8100 } else { 0x88a8 };
        check_frame(packet, tags, tpid, held, limits);
    }
});

/// Checks `clamp_prefix` on the first `held` bytes of `packet` against `clamp` on all of it.
fn check_prefix(packet: &[u8], held: usize, limits: Limits) -> (Outcome, Option<Changes>) {
    let mut whole = packet.to_vec();
    let expected = clamp(&mut whole, limits);
    let mut prefix = packet[..held].to_vec();
    let (outcome, changes) = clamp_prefix(&mut prefix, packet.len(), limits);
    match outcome {
        Outcome::Clamped { .. } => {
            assert_eq!(outcome, expected, "a clamp clamp does not make");
            assert_eq!(prefix, whole[..held], "bytes other than clamp's");
            let changes = changes.expect("a clamp comes with changes");
            let located = common::locate(&whole);
            assert_eq!(changes.segment(), located.start..located.end, "segment");
            assert_eq!(changes.checksum_at(), located.start + 16, "checksum offset");
            let differing: Vec<usize> = (located.start..held)
                .step_by(2)
                .filter(|&at| at != changes.checksum_at())
                .filter(|&at| {
                    let word = at..(at + 2).min(held);
                    packet[word.clone()] != prefix[word]
                })
                .collect();
            assert_eq!(changes.words().collect::<Vec<_>>(), differing, "words");
        }
        Outcome::Unchanged(reason) => {
            assert_eq!(prefix, packet[..held], "unchanged prefix was modified");
            assert!(changes.is_none(), "changes without a clamp");
            if reason != Reason::ShortPrefix {
                assert_eq!(outcome, expected, "another reason than clamp's");
            } else if expected.is_clamped() {
                // Only a prefix that ends before the TCP options do may be short.
                let start = common::locate(&whole).start;
                let headers_end = start + usize::from(whole[start + 12] >> 4) * 4;
                assert!(held < headers_end, "short-prefix with every header at hand");
            }
        }
    }
    check_any_segment(packet, held, limits);
    (outcome, changes)
}

/// Checks `clamp_prefix_segment` on the first `held` bytes of `packet` with the range
/// `held / 2 .. held`, whatever the packet says: it may clamp what looks like a TCP header
/// there, but writes nothing outside the range.
fn check_any_segment(packet: &[u8], held: usize, limits: Limits) {
    let mut prefix = packet[..held].to_vec();
    let range = held / 2..held;
    let (outcome, changes) = clamp_prefix_segment(&mut prefix, packet.len(), range.clone(), limits);
    assert_eq!(
        changes.is_some(),
        outcome.is_clamped(),
        "changes without a clamp"
    );
    assert_eq!(
        prefix[..range.start],
        packet[..range.start],
        "a write before the range"
    );
    if !outcome.is_clamped() {
        assert_eq!(prefix, packet[..held], "unchanged prefix was modified");
    }
}

/// Checks `clamp_ethernet` on `packet` behind `tags` tags with this id, from the first
/// `held` bytes (modulo the frame length plus one), against `clamp_prefix` on the packet.
fn check_frame(packet: &[u8], tags: usize, tpid: u16, held: u16, limits: Limits) {
    let ethertype: u16 = match packet.first().map(|byte| byte >> 4) {
        Some(6) => 0x86dd,
        _ => 0x0800,
    };
    // Documentation MACs (RFC 7042), the tags (VLANs 1, 2, 3), the EtherType.
    let mut frame = vec![
        0x00, 0x00, 0x5e, 0x00, 0x53, 0x02, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x01,
    ];
    for vlan in 1..=tags {
        frame.extend_from_slice(&tpid.to_be_bytes());
        frame.extend_from_slice(&u16::try_from(vlan).unwrap().to_be_bytes());
    }
    frame.extend_from_slice(&ethertype.to_be_bytes());
    let ip_start = frame.len();
    frame.extend_from_slice(packet);
    let held = usize::from(held) % (frame.len() + 1);
    let mut prefix = frame[..held].to_vec();
    let (outcome, changes) = clamp_ethernet(&mut prefix, frame.len(), limits);
    // Its first step alone, as a TC program takes it (ebpf/src/main.rs).
    let link = ethernet_ip_start(&frame[..held], frame.len());
    let expected_link = if held < ip_start.min(22) {
        Err(Reason::ShortPrefix)
    } else if tags > 2 {
        Err(Reason::VlanLimit)
    } else {
        Ok((ip_start, if ethertype == 0x86dd { 6 } else { 4 }))
    };
    assert_eq!(link, expected_link, "ethernet_ip_start");
    if tags > 2 {
        // The walk gives up on reading the third tag's id, bytes 20 and 21.
        let expected = if held < 22 {
            Reason::ShortPrefix
        } else {
            Reason::VlanLimit
        };
        assert_eq!(outcome, Outcome::Unchanged(expected), "three tags");
        assert_eq!(
            prefix,
            frame[..held],
            "a frame with three tags was modified"
        );
        return;
    }
    if held < ip_start {
        assert_eq!(
            outcome,
            Outcome::Unchanged(Reason::ShortPrefix),
            "cut in the tags"
        );
        assert_eq!(prefix, frame[..held], "a cut frame was modified");
        return;
    }
    let (inner_outcome, inner_changes) = check_prefix(packet, held - ip_start, limits);
    assert_eq!(outcome, inner_outcome, "frame and packet differ");
    let mut inner = packet[..held - ip_start].to_vec();
    let _ = clamp_prefix(&mut inner, packet.len(), limits);
    assert_eq!(
        prefix[..ip_start],
        frame[..ip_start],
        "the frame header was modified"
    );
    assert_eq!(prefix[ip_start..], inner, "frame and packet bytes differ");
    let shifted = |changes: Changes| {
        let segment = changes.segment();
        let words: Vec<usize> = changes.words().map(|at| at + ip_start).collect();
        (segment.start + ip_start..segment.end + ip_start, words)
    };
    assert_eq!(
        changes.map(|changes| (changes.segment(), changes.words().collect::<Vec<_>>())),
        inner_changes.map(shifted),
        "changes not counted from the frame's start"
    );
}
