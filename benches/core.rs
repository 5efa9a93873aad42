//! Per-packet cost of `tcpmssd_core::clamp` against a no-parse baseline.
//!
//! Each iteration copies a fresh packet into the buffer first (a clamped packet would
//! otherwise stay clamped and take the `mss-ok` path), so every figure includes that copy;
//! `copy-only` measures it alone.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use tcpmssd_core::{clamp, Limits, Outcome};

// Linux 6.1 connect() SYN: MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
// Addresses 198.51.100.1 -> 203.0.113.1.
#[rustfmt::skip]
const LINUX_SYN_V4: [u8; 60] = [
    0x45, 0x00, 0x00, 0x3c, 0x8a, 0x1c, 0x40, 0x00, // IPv4, IHL 5, total 60, DF
    0x40, 0x06, 0x00, 0x00, 198, 51, 100, 1,        // TTL 64, TCP, source
    203, 0, 113, 1,                                 // destination
    0x9c, 0x40, 0x00, 0x50, 0x4a, 0x3b, 0x2c, 0x1d, // ports 40000 -> 80, sequence
    0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, // ack 0, data offset 10, SYN, window 64240
    0x00, 0x00, 0x00, 0x00,                         // checksum (not checked here), urgent
    0x02, 0x04, 0x05, 0xb4,                         // MSS 1460
    0x04, 0x02,                                     // SACK permitted
    0x08, 0x0a, 0x00, 0x01, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00, // timestamps
    0x01,                                           // NOP
    0x03, 0x03, 0x07,                               // window scale 7
];

// The same SYN over IPv6 with an 8-byte hop-by-hop header (PadN only) before TCP.
#[rustfmt::skip]
const SYN_V6_HOP_BY_HOP: [u8; 88] = [
    0x60, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00, 0x40, // IPv6, payload 48, next hop-by-hop, hop limit 64
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // 2001:db8::1
    0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // 2001:db8:1::1
    0x06, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, // hop-by-hop: next TCP, length 8, PadN 4
    0x9c, 0x40, 0x00, 0x50, 0x4a, 0x3b, 0x2c, 0x1d, // ports 40000 -> 80, sequence
    0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, // ack 0, data offset 10, SYN, window
    0x00, 0x00, 0x00, 0x00,                         // checksum, urgent
    0x02, 0x04, 0x05, 0xa0,                         // MSS 1440
    0x04, 0x02,                                     // SACK permitted
    0x08, 0x0a, 0x00, 0x01, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00, // timestamps
    0x01,                                           // NOP
    0x03, 0x03, 0x07,                               // window scale 7
];

// An IPv4 ACK with timestamps: the common case, which must cost next to nothing.
#[rustfmt::skip]
const ACK_V4: [u8; 52] = [
    0x45, 0x00, 0x00, 0x34, 0x8a, 0x1d, 0x40, 0x00, // IPv4, IHL 5, total 52, DF
    0x40, 0x06, 0x00, 0x00, 198, 51, 100, 1,        // TTL 64, TCP, source
    203, 0, 113, 1,                                 // destination
    0x9c, 0x40, 0x00, 0x50, 0x4a, 0x3b, 0x2c, 0x1e, // ports, sequence
    0x11, 0x22, 0x33, 0x44, 0x80, 0x10, 0x01, 0xf6, // ack, data offset 8, ACK, window
    0x00, 0x00, 0x00, 0x00,                         // checksum, urgent
    0x01, 0x01, 0x08, 0x0a, 0x00, 0x01, 0x02, 0x04, 0x00, 0x05, 0x06, 0x07, // NOP NOP timestamps
];

/// Offsets a parser-free clamp of `LINUX_SYN_V4` would use: MSS value and TCP checksum.
const MSS_VALUE: usize = 44;
const TCP_CHECKSUM: usize = 36;

/// The floor: read the 40 header bytes, write the MSS and an adjusted checksum at fixed
/// offsets, no parsing and no checks.
fn baseline(packet: &mut [u8; 60], max_mss: u16) {
    let header: [u8; 40] = *packet.first_chunk().unwrap_or(&[0; 40]);
    let checksum = u16::from_be_bytes([header[TCP_CHECKSUM], header[TCP_CHECKSUM + 1]]);
    let old = u16::from_be_bytes([packet[MSS_VALUE], packet[MSS_VALUE + 1]]);
    let sum = u32::from(!checksum) + u32::from(!old) + u32::from(max_mss);
    let folded = (sum & 0xffff) + (sum >> 16);
    let folded = (folded & 0xffff) + (folded >> 16);
    packet[MSS_VALUE..MSS_VALUE + 2].copy_from_slice(&max_mss.to_be_bytes());
    packet[TCP_CHECKSUM..TCP_CHECKSUM + 2].copy_from_slice(&(!(folded as u16)).to_be_bytes());
}

fn per_packet(c: &mut Criterion) {
    let limits = Limits::from_mtu(1400);
    let mut group = c.benchmark_group("per-packet");

    let mut buffer = LINUX_SYN_V4;
    group.bench_function("copy-only", |b| {
        b.iter(|| {
            buffer = black_box(LINUX_SYN_V4);
            black_box(&mut buffer);
        })
    });
    group.bench_function("baseline-no-parse", |b| {
        b.iter(|| {
            buffer = black_box(LINUX_SYN_V4);
            baseline(&mut buffer, black_box(1360));
            black_box(&mut buffer);
        })
    });
    assert!(clamp(&mut LINUX_SYN_V4.clone(), limits).is_clamped());
    group.bench_function("ipv4-syn-linux-clamped", |b| {
        b.iter(|| {
            buffer = black_box(LINUX_SYN_V4);
            black_box(clamp(&mut buffer, black_box(limits)))
        })
    });

    let mut buffer_v6 = SYN_V6_HOP_BY_HOP;
    assert!(clamp(&mut SYN_V6_HOP_BY_HOP.clone(), limits).is_clamped());
    group.bench_function("ipv6-syn-hop-by-hop-clamped", |b| {
        b.iter(|| {
            buffer_v6 = black_box(SYN_V6_HOP_BY_HOP);
            black_box(clamp(&mut buffer_v6, black_box(limits)))
        })
    });

    // An ACK is never written, so no fresh copy is needed.
    let mut ack = ACK_V4;
    assert_eq!(
        clamp(&mut ack, limits),
        Outcome::Unchanged(tcpmssd_core::Reason::NotSyn)
    );
    group.bench_function("ipv4-ack-fast-path", |b| {
        b.iter(|| black_box(clamp(black_box(&mut ack), black_box(limits))))
    });
    group.finish();
}

criterion_group!(benches, per_packet);
criterion_main!(benches);
