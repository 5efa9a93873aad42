//! The oracle itself is checked against a checksum computed by hand, so the other tests
//! do not rest on an unchecked helper.
mod common;

// Both checksums of this SYN were computed independently (Python, RFC 1071).
#[test]
fn oracle_checksums_match_hand_computed_values() {
    let packet = common::ipv4(&[], &common::tcp(0x02, &[0x02, 0x04, 0x05, 0xb4], &[]));
    assert_eq!(packet[10..12], [0x4a, 0x79]);
    assert_eq!(packet[36..38], [0x24, 0x16]);
    assert!(common::tcp_checksum_verifies(&packet));
    assert_eq!(common::mss_options(&packet[20..]), vec![(22, 1460)]);
}
