//! Per-packet work of the Linux daemon around the core: reading an NFQUEUE packet message out
//! of the receive buffer and writing its verdict header. Together with `benches/core.rs`
//! (the clamp itself) this is everything the loop does per packet between two system calls.
//!
//! `cargo bench --bench daemon`; the messages come from tcpmssd-wire, as in the daemon.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

use tcpmssd_wire::nfqueue;

use nfqueue::{message_at, Item};

// An NFQUEUE packet message for a forwarded IPv4 SYN (queue 4242, packet id 1, hook FORWARD),
// written by hand in the attribute order of nfqnl_build_packet_message: netlink header,
// nfgenmsg, NFQA_PACKET_HDR, NFQA_IFINDEX_INDEV, NFQA_IFINDEX_OUTDEV, NFQA_HWADDR,
// NFQA_PAYLOAD (a 60-byte SYN taken from tcpmssd-wire's nfqueue.rs capture). Host-endian framing
// (little-endian here); only read, never clamped, so its checksums are not maintained.
#[rustfmt::skip]
const FORWARDED_SYN: [u8; 128] = [
    0x80, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, // nlmsg_len 128, NFQNL_MSG_PACKET, flags 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // seq 0, pid 0
    0x02, 0x00, 0x10, 0x92,                         // NFPROTO_IPV4, V0, queue 4242
    0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, // NFQA_PACKET_HDR: id 1
    0x08, 0x00, 0x02, 0x00,                         //   IPv4, hook FORWARD, padding
    0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x02, // NFQA_IFINDEX_INDEV 2
    0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x03, // NFQA_IFINDEX_OUTDEV 3
    0x10, 0x00, 0x09, 0x00, 0x00, 0x06, 0x00, 0x00, // NFQA_HWADDR: length 6, padding
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, //   02:00:00:00:00:01, padding
    0x40, 0x00, 0x0a, 0x00,                         // NFQA_PAYLOAD, 60 bytes
    0x45, 0x00, 0x00, 0x3c, 0x79, 0x30, 0x40, 0x00, //   IPv4 header
    0x3f, 0x06, 0x6e, 0x21, 0xc6, 0x33, 0x64, 0x01,
    0xcb, 0x00, 0x71, 0x01,
    0xe0, 0x46, 0x1f, 0x90, 0x3b, 0x35, 0xb6, 0x0f, //   TCP: ports, sequence
    0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, //   ack, data offset 10, SYN, window
    0x03, 0xb7, 0x00, 0x00,                         //   checksum, urgent
    0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, //   MSS 1460, SACK permitted, timestamps
    0x7f, 0x7b, 0xa3, 0xda, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x03, 0x03, 0x07,                         //   NOP, window scale 7
];

fn daemon_per_packet(c: &mut Criterion) {
    // The fixture must read back as the packet it describes, or the figures mean nothing.
    match message_at(&FORWARDED_SYN, 0) {
        Some((Item::Packet(p), 128)) => {
            assert_eq!(
                (p.id, p.hook, p.payload.len(), p.truncated),
                (1, 2, 60, false)
            );
        }
        other => panic!("fixture reads as {other:?}"),
    }
    let mut group = c.benchmark_group("daemon-per-packet");
    group.bench_function("read-packet-message", |b| {
        b.iter(|| black_box(message_at(black_box(&FORWARDED_SYN), 0)))
    });
    let mut header = [0u8; nfqueue::VERDICT_PAYLOAD_HEADER_LEN];
    group.bench_function("write-verdict-with-payload-header", |b| {
        b.iter(|| {
            black_box(nfqueue::put_accept_with_payload(
                black_box(&mut header),
                0,
                4242,
                black_box(1),
                black_box(60),
            ))
        })
    });
    let mut tail = [0u8; nfqueue::VERDICT_LEN];
    group.bench_function("write-batch-verdict", |b| {
        b.iter(|| {
            black_box(nfqueue::put_accept_batch(
                black_box(&mut tail),
                0,
                4242,
                black_box(64),
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, daemon_per_packet);
criterion_main!(benches);
