//! Differential fuzzing of `tcpmssd_core::clamp`: whatever the bytes, no panic; an unchanged
//! packet is byte-identical; a clamped one differs only in MSS values and the TCP checksum,
//! and its checksum equals a full recomputation done here, independently of the core (for a
//! packet whose checksum was wrong to begin with, it stays wrong by the same amount: the
//! incremental update must neither repair nor hide a corrupted packet).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tcpmssd_core::{clamp, Limits, Outcome};

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
            assert!(!clamp(&mut again, limits).is_clamped(), "clamp is not idempotent");
            assert_eq!(again, clamped);
        }
    }
});

/// Checks a clamped packet against its original without using the core's parsers.
fn check_clamped(original: &[u8], clamped: &[u8], limit: u16) {
    let (segment_start, segment_end, pseudo) = locate(clamped).expect("clamped a non-TCP packet");
    let segment = &clamped[segment_start..segment_end];
    assert_eq!(
        tcp_checksum(&pseudo, segment),
        tcp_checksum(&pseudo, &original[segment_start..segment_end]),
        "the checksum after the clamp is not the full recomputation's"
    );
    let mss_value_offsets = mss_value_offsets(segment);
    for (index, (&before, &after)) in original.iter().zip(clamped).enumerate() {
        if before == after {
            continue;
        }
        let in_segment = index.wrapping_sub(segment_start);
        let is_checksum = (16..18).contains(&in_segment);
        let is_mss = mss_value_offsets
            .iter()
            .any(|&offset| in_segment == offset || in_segment == offset + 1);
        assert!(is_checksum || is_mss, "byte {index} changed outside MSS/checksum");
    }
    for &offset in &mss_value_offsets {
        let before = u16::from_be_bytes([original[segment_start + offset], original[segment_start + offset + 1]]);
        let after = u16::from_be_bytes([segment[offset], segment[offset + 1]]);
        assert!(after <= before, "MSS raised");
        assert!(after == before || after == limit, "MSS changed to something else than the limit");
    }
}

/// Finds the TCP segment and returns its bounds and the pseudo-header sum's input
/// (addresses, protocol, length), trusting the packet as the core has already accepted it.
fn locate(packet: &[u8]) -> Option<(usize, usize, Vec<u8>)> {
    match packet.first()? >> 4 {
        4 => {
            let header_len = usize::from(packet[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
            let mut pseudo = packet[12..20].to_vec();
            pseudo.extend_from_slice(&[0, 6]);
            pseudo.extend_from_slice(&u16::try_from(total - header_len).ok()?.to_be_bytes());
            Some((header_len, total, pseudo))
        }
        6 => {
            let end = 40 + usize::from(u16::from_be_bytes([packet[4], packet[5]]));
            let mut next = packet[6];
            let mut start = 40;
            while next != 6 {
                let len = if next == 44 { 8 } else { (usize::from(packet[start + 1]) + 1) * 8 };
                next = packet[start];
                start += len;
            }
            let mut pseudo = packet[8..40].to_vec();
            pseudo.extend_from_slice(&u32::try_from(end - start).ok()?.to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, 6]);
            Some((start, end, pseudo))
        }
        _ => None,
    }
}

/// RFC 1071 sum over the pseudo-header and segment; 0 when the stored checksum is right,
/// otherwise how far off it is.
fn tcp_checksum(pseudo: &[u8], segment: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    for data in [pseudo, segment] {
        for pair in data.chunks(2) {
            let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            sum += u64::from(word);
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Offsets (from the TCP header) of every MSS value, walking options as RFC 9293 3.2 says.
fn mss_value_offsets(segment: &[u8]) -> Vec<usize> {
    let header_len = usize::from(segment[12] >> 4) * 4;
    let mut offsets = Vec::new();
    let mut at = 20;
    while at < header_len {
        match segment[at] {
            0 => break,
            1 => at += 1,
            kind => {
                let Some(&len) = segment.get(at + 1) else { break };
                let len = usize::from(len);
                if len < 2 || at + len > header_len {
                    break;
                }
                if kind == 2 && len == 4 {
                    offsets.push(at + 2);
                }
                at += len;
            }
        }
    }
    offsets
}
