//! Per-packet cost of `tcpmssd_core::clamp` against a no-parse baseline, and of the prefix
//! and Ethernet entries (`clamp_prefix`, `clamp_ethernet`) that also say where they wrote.
//!
//! Each iteration handles a batch of packets, as a packet path does with what one read
//! brings, and criterion reports the time per packet. Every outcome is tallied by reason,
//! as the daemon's counters do. A single call per iteration with `black_box` on the result
//! measured the harness instead: the 6-byte `Outcome` went through memory as a 4- and a
//! 2-byte store and came back as two 4-byte loads, which no store can forward (about 20
//! cycles, more than the ACK's whole check).
//!
//! Each SYN is first copied fresh into its buffer (a clamped packet would otherwise stay
//! clamped and take the `mss-ok` path), so those figures include the copy; `copy-only`
//! measures it alone. Likewise `tally-only` is the ACK case's loop and tally without the
//! clamp: counting into one counter is a chain of dependent memory adds, which sets a floor
//! under every case.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use tcpmssd_core::{clamp, clamp_ethernet, clamp_prefix, Changes, Limits, Outcome, Reason};

/// Packets per iteration: enough to make the loop's own cost vanish, few enough to stay in L1.
const BATCH: usize = 32;

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

// LINUX_SYN_V4 behind an 802.1Q tag (VLAN 100), as a TC program on a VLAN trunk sees it.
#[rustfmt::skip]
const VLAN_HEADER: [u8; 18] = [
    0x00, 0x00, 0x5e, 0x00, 0x53, 0x02, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x01, // MACs (RFC 7042)
    0x81, 0x00, 0x00, 0x64,                         // 802.1Q tag, VLAN 100
    0x08, 0x00,                                     // EtherType IPv4
];
const VLAN_FRAME_LEN: usize = VLAN_HEADER.len() + LINUX_SYN_V4.len();

/// Returns LINUX_SYN_V4 behind VLAN_HEADER.
fn vlan_syn_v4() -> [u8; VLAN_FRAME_LEN] {
    let mut frame = [0; VLAN_FRAME_LEN];
    let (header, packet) = frame.split_at_mut(VLAN_HEADER.len());
    header.copy_from_slice(&VLAN_HEADER);
    packet.copy_from_slice(&LINUX_SYN_V4);
    frame
}

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

/// Outcomes counted by kind, so that each one is used as a caller would use it.
#[derive(Default)]
struct Tally {
    clamped: u64,
    unchanged: [u64; 16],
}

impl Tally {
    #[inline(always)]
    fn record(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Clamped { .. } => self.clamped += 1,
            Outcome::Unchanged(reason) => self.unchanged[reason as usize % 16] += 1,
        }
    }

    /// Records the outcome and reads the changes as a caller that writes them back does.
    #[inline(always)]
    fn record_with_changes(&mut self, (outcome, changes): (Outcome, Option<Changes>)) {
        self.record(outcome);
        if let Some(changes) = changes {
            black_box(changes.checksum_at());
            for at in changes.words() {
                black_box(at);
            }
        }
    }
}

/// Runs `batch` (which handles `BATCH` packets) `iterations` times and returns the time
/// per packet.
fn per_packet_time(iterations: u64, mut batch: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iterations {
        batch();
    }
    start.elapsed() / BATCH as u32
}

/// The buffers every case works on, and where their outcomes go.
struct Bench {
    limits: Limits,
    syns_v4: [[u8; 60]; BATCH],
    syns_v6: [[u8; 88]; BATCH],
    vlan_syns_v4: [[u8; VLAN_FRAME_LEN]; BATCH],
    acks: [[u8; 52]; BATCH],
    tally: Tally,
}

impl Bench {
    fn new() -> Bench {
        let limits = Limits::from_mtu(1400);
        assert!(clamp(&mut LINUX_SYN_V4.clone(), limits).is_clamped());
        assert!(clamp(&mut SYN_V6_HOP_BY_HOP.clone(), limits).is_clamped());
        assert_eq!(
            clamp(&mut ACK_V4.clone(), limits),
            Outcome::Unchanged(Reason::NotSyn)
        );
        let (outcome, changes) = clamp_ethernet(&mut vlan_syn_v4(), VLAN_FRAME_LEN, limits);
        assert!(outcome.is_clamped() && changes.is_some());
        Bench {
            limits,
            syns_v4: [LINUX_SYN_V4; BATCH],
            syns_v6: [SYN_V6_HOP_BY_HOP; BATCH],
            vlan_syns_v4: [vlan_syn_v4(); BATCH],
            acks: [ACK_V4; BATCH],
            tally: Tally::default(),
        }
    }

    fn copy_only(&mut self) {
        for buffer in &mut self.syns_v4 {
            *buffer = *black_box(&LINUX_SYN_V4);
        }
        black_box(&mut self.syns_v4);
    }

    fn baseline_no_parse(&mut self) {
        for buffer in &mut self.syns_v4 {
            *buffer = *black_box(&LINUX_SYN_V4);
            baseline(buffer, black_box(1360));
        }
        black_box(&mut self.syns_v4);
    }

    fn ipv4_syn_linux_clamped(&mut self) {
        for buffer in &mut self.syns_v4 {
            *buffer = *black_box(&LINUX_SYN_V4);
            self.tally.record(clamp(buffer, black_box(self.limits)));
        }
        black_box(&mut self.syns_v4);
    }

    fn ipv6_syn_hop_by_hop_clamped(&mut self) {
        for buffer in &mut self.syns_v6 {
            *buffer = *black_box(&SYN_V6_HOP_BY_HOP);
            self.tally.record(clamp(buffer, black_box(self.limits)));
        }
        black_box(&mut self.syns_v6);
    }

    /// The IPv4 SYN through `clamp_prefix`, whole, its changes read.
    fn ipv4_syn_prefix_clamped(&mut self) {
        for buffer in &mut self.syns_v4 {
            *buffer = *black_box(&LINUX_SYN_V4);
            let len = black_box(buffer.len());
            self.tally
                .record_with_changes(clamp_prefix(buffer, len, black_box(self.limits)));
        }
        black_box(&mut self.syns_v4);
    }

    /// The IPv4 SYN behind an 802.1Q tag through `clamp_ethernet`, its changes read.
    fn vlan_ipv4_syn_clamped(&mut self) {
        let frame = vlan_syn_v4();
        for buffer in &mut self.vlan_syns_v4 {
            *buffer = *black_box(&frame);
            let len = black_box(buffer.len());
            self.tally
                .record_with_changes(clamp_ethernet(buffer, len, black_box(self.limits)));
        }
        black_box(&mut self.vlan_syns_v4);
    }

    /// The ACK case without `clamp`: the loop and the tally alone, the floor under the ACK's
    /// figure. The outcome depends on each packet's first byte so that it is not hoisted.
    fn tally_only(&mut self) {
        for ack in black_box(&mut self.acks) {
            let reason = if ack[0] == 0x45 {
                Reason::NotSyn
            } else {
                Reason::NotIp
            };
            self.tally.record(Outcome::Unchanged(reason));
        }
    }

    // An ACK is never written, so no fresh copy is needed.
    fn ipv4_ack_fast_path(&mut self) {
        for ack in black_box(&mut self.acks) {
            self.tally.record(clamp(ack, black_box(self.limits)));
        }
    }
}

type Case = (&'static str, fn(&mut Bench));

const CASES: [Case; 8] = [
    ("copy-only", Bench::copy_only),
    ("baseline-no-parse", Bench::baseline_no_parse),
    ("ipv4-syn-linux-clamped", Bench::ipv4_syn_linux_clamped),
    (
        "ipv6-syn-hop-by-hop-clamped",
        Bench::ipv6_syn_hop_by_hop_clamped,
    ),
    ("ipv4-ack-fast-path", Bench::ipv4_ack_fast_path),
    ("tally-only", Bench::tally_only),
    ("ipv4-syn-prefix-clamped", Bench::ipv4_syn_prefix_clamped),
    ("vlan-ipv4-syn-clamped", Bench::vlan_ipv4_syn_clamped),
];

fn per_packet(c: &mut Criterion) {
    let mut bench = Bench::new();
    let mut group = c.benchmark_group("per-packet");
    for (name, case) in CASES {
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| per_packet_time(iterations, || case(&mut bench)))
        });
    }
    group.finish();
    black_box(&bench.tally);
}

/// `TCPMSSD_BENCH_BATCHES=<case>:<count>` runs one case's batch that many times and
/// nothing else, for `benches/instructions.sh` to count instructions under callgrind;
/// `TCPMSSD_BENCH_BATCHES=list` prints the case names.
fn run_batches_only() -> bool {
    let Ok(spec) = std::env::var("TCPMSSD_BENCH_BATCHES") else {
        return false;
    };
    if spec == "list" {
        for (name, _) in CASES {
            println!("{name}");
        }
        return true;
    }
    let (name, count) = spec
        .split_once(':')
        .expect("TCPMSSD_BENCH_BATCHES=<case>:<count>");
    let count: u64 = count.parse().expect("a batch count");
    let (_, case) = CASES
        .into_iter()
        .find(|(case_name, _)| *case_name == name)
        .expect("a case named in CASES");
    let mut bench = Bench::new();
    for _ in 0..count {
        case(&mut bench);
    }
    black_box(&bench.tally);
    true
}

criterion_group!(benches, per_packet);

// criterion_main!, with the instruction-count mode first.
fn main() {
    if run_batches_only() {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
