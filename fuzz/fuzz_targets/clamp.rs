//! Differential fuzzing of `tcpmssd_core::clamp`: whatever the bytes, no panic; an unchanged
//! packet is byte-identical; in a clamped one exactly the MSS values above the limit are
//! lowered to it, nothing else changes but the TCP checksum, and that checksum equals a full
//! recomputation done here, independently of the core (for a packet whose checksum was wrong
//! to begin with, it stays wrong by the same amount: the incremental update must neither
//! repair nor hide a corrupted packet). `clamp_prefix` given the whole packet must do exactly
//! what `clamp` does, and the `Changes` it returns must locate the segment where the oracle
//! does and list exactly the 16-bit words that differ.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The same oracle the core's tests use: full checksum, locator, RFC 9293 option walk.
#[path = "../../core/tests/common/mod.rs"]
mod common;
use tcpmssd_core::{clamp, clamp_prefix, Changes, Limits, Outcome};

fuzz_target!(|input: &[u8]| {
    // The first two bytes choose the MTU, so limits vary with the corpus.
    let Some((mtu_bytes, packet)) = input.split_first_chunk::<2>() else {
        return;
    };
    let limits = Limits::from_mtu(u16::from_be_bytes(*mtu_bytes));
    let mut clamped = packet.to_vec();
    let outcome = clamp(&mut clamped, limits);
    match outcome {
        Outcome::Unchanged(_) => assert_eq!(clamped, packet, "unchanged packet was modified"),
        Outcome::Clamped { from, to } => {
            assert!(from > to, "MSS raised: {from} -> {to}");
            check_clamped(packet, &clamped, to);
            let mut again = clamped.clone();
            assert!(
                !clamp(&mut again, limits).is_clamped(),
                "clamp is not idempotent"
            );
            assert_eq!(again, clamped);
        }
    }
    let mut prefix = packet.to_vec();
    let (prefix_outcome, changes) = clamp_prefix(&mut prefix, packet.len(), limits);
    assert_eq!(
        prefix_outcome, outcome,
        "clamp_prefix of the whole packet is not clamp"
    );
    assert_eq!(
        prefix, clamped,
        "clamp_prefix of the whole packet wrote other bytes"
    );
    assert_eq!(
        changes.is_some(),
        outcome.is_clamped(),
        "changes without a clamp"
    );
    if let Some(changes) = changes {
        check_changes(packet, &clamped, changes);
    }
});

/// Checks the `Changes` of a clamp against the bytes, with the oracle's locator.
fn check_changes(original: &[u8], clamped: &[u8], changes: Changes) {
    let located = common::locate(clamped);
    assert_eq!(changes.segment(), located.start..located.end, "segment");
    assert_eq!(changes.checksum_at(), located.start + 16, "checksum offset");
    let differing: Vec<usize> = (located.start..clamped.len())
        .step_by(2)
        .filter(|&at| at != changes.checksum_at())
        .filter(|&at| original.get(at..at + 2) != clamped.get(at..at + 2))
        .collect();
    assert_eq!(
        changes.words().collect::<Vec<_>>(),
        differing,
        "changed words"
    );
}

/// Checks a clamped packet against its original with the core tests' independent oracle.
fn check_clamped(original: &[u8], clamped: &[u8], limit: u16) {
    let located = common::locate(clamped);
    let (start, end) = (located.start, located.end);
    assert_eq!(
        common::ones_complement_sum(&[&located.pseudo, &clamped[start..end]]),
        common::ones_complement_sum(&[&located.pseudo, &original[start..end]]),
        "the checksum after the clamp is not the full recomputation's"
    );
    let mss_options = common::mss_options(&original[start..end]);
    for (index, (&before, &after)) in original.iter().zip(clamped).enumerate() {
        if before == after {
            continue;
        }
        let in_segment = index.wrapping_sub(start);
        let is_checksum = (16..18).contains(&in_segment);
        let is_mss = mss_options
            .iter()
            .any(|&(offset, _)| in_segment == offset || in_segment == offset + 1);
        assert!(
            is_checksum || is_mss,
            "byte {index} changed outside MSS/checksum"
        );
    }
    // Every MSS option the walk meets above the limit is lowered to it, none other changes.
    for &(offset, before) in &mss_options {
        let after = u16::from_be_bytes([clamped[start + offset], clamped[start + offset + 1]]);
        let expected = before.min(limit);
        assert_eq!(
            after, expected,
            "MSS {before} at {offset} with limit {limit}"
        );
    }
}
