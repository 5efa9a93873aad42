//! The proof "same bytes as user space": the committed object's programs, loaded into this
//! kernel and run with `BPF_PROG_TEST_RUN`, give for every packet exactly the bytes and the
//! counter that `tcpmssd_core` gives in user space for the same first bytes. Root only (the
//! verifier refuses unprivileged SCHED_CLS programs); elsewhere the loading tests say why
//! they skipped.

use std::os::fd::{AsFd, AsRawFd};

use tcpmssd_core::{clamp_ethernet, clamp_prefix, Changes, Limits, Outcome, Reason};

use super::*;

/// What every program run returns: `TC_ACT_UNSPEC`.
const TC_ACT_UNSPEC: u32 = u32::MAX;

/// A core entry as the programs call it.
type Entry = fn(&mut [u8], usize, Limits) -> (Outcome, Option<Changes>);

/// The limits the runs cycle through: a 1400-byte link, a low one, PPPoE, the smallest
/// IPv4 and IPv6 links, jumbo frames, and limits nothing exceeds.
const LIMITS: [Limits; 7] = [
    Limits::from_mtu(1400),
    Limits::new(1000, 1000),
    Limits::from_mtu(1492),
    Limits::new(536, 1220),
    Limits::from_mtu(68),
    Limits::from_mtu(9000),
    Limits::new(65535, 65535),
];

#[test]
fn both_objects_hold_both_programs_and_the_maps_this_loader_expects() {
    let objects: [&[u8]; 2] = [
        include_bytes!("tcpmssd-bpfel.o"),
        include_bytes!("tcpmssd-bpfeb.o"),
    ];
    for (bytes, big_endian) in objects.into_iter().zip([false, true]) {
        let object = Object::parse(bytes).unwrap();
        assert_eq!(object.big_endian(), big_endian);
        assert_eq!(object.section_data("license"), Some(&b"Dual BSD/GPL\0"[..]));
        for section in [SECTION_ETHERNET, SECTION_L3] {
            let relocations = object.relocations(section).unwrap();
            let mut names: Vec<_> = relocations.iter().map(|r| r.symbol).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names, ["COUNTERS", "LIMITS", "PACKET"], "{section}");
            for relocation in &relocations {
                let def = object.map_def(relocation.symbol_value).unwrap();
                let expected = match relocation.symbol {
                    // BPF_MAP_TYPE_ARRAY, u32 key, two u16, one entry.
                    "LIMITS" => (2, 4, 4, 1),
                    // BPF_MAP_TYPE_PERCPU_ARRAY, u32 key, u64 per slot.
                    "COUNTERS" => (6, 4, 8, COUNTER_SLOTS as u32),
                    // The same, one 32 KiB buffer.
                    "PACKET" => (6, 4, 32768, 1),
                    // The same, one slot.
                    _ => (6, 4, 8, 1),
                };
                assert_eq!(
                    (def.map_type, def.key_size, def.value_size, def.max_entries),
                    expected,
                    "{section}: {}",
                    relocation.symbol
                );
            }
        }
    }
}

/// Loads `section` of this machine's object; `None` (after saying why) where this process
/// may not load programs. A refusal by the verifier fails with its log's end.
fn load_or_skip(section: &str) -> Option<Program> {
    // Level 4: the verifier's statistics only (instructions processed, time).
    let mut stats = vec![0u8; 4096];
    match load(OBJECT, section, 4, &mut stats) {
        Ok(program) => {
            println!("{section}: {}", log_text(&stats).trim());
            // prog_jited, memlock, verified_insns: what the kernel made of it.
            let fdinfo = format!("/proc/self/fdinfo/{}", program.fd.as_raw_fd());
            let fdinfo = std::fs::read_to_string(fdinfo).unwrap_or_default();
            println!(
                "{section}: {}",
                fdinfo.split_whitespace().collect::<Vec<_>>().join(" ")
            );
            Some(program)
        }
        Err(Error::Load(error) | Error::Map(error))
            if matches!(error.raw_os_error(), Some(libc::EPERM | libc::ENOSYS)) =>
        {
            println!("SKIPPED: loading {section} needs root (CAP_BPF, CAP_NET_ADMIN): {error}");
            None
        }
        Err(Error::Load(error)) => {
            let mut log = vec![0u8; 64 << 20];
            let again = load(OBJECT, section, 1, &mut log);
            let text = log_text(&log);
            let tail = &text[text.len().saturating_sub(6000)..];
            panic!("the kernel refused {section}: {error} (again: {again:?})\n{tail}");
        }
        Err(error) => panic!("{section}: {error}"),
    }
}

fn log_text(log: &[u8]) -> String {
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    String::from_utf8_lossy(&log[..end]).into_owned()
}

/// The number of possible CPUs, each of which has its own per-CPU counter.
fn possible_cpus() -> usize {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible").unwrap();
    let last = text.trim().rsplit([',', '-']).next().unwrap();
    last.parse::<usize>().unwrap() + 1
}

/// Returns the counter slot of an outcome.
fn slot(outcome: Outcome) -> usize {
    match outcome {
        Outcome::Clamped { .. } => CLAMPED,
        Outcome::Unchanged(reason) => reason.index(),
    }
}

/// A program under test and what its counters must read.
struct Bench {
    program: Program,
    entry: Entry,
    held: fn(&[u8]) -> usize,
    expected: [u64; COUNTER_SLOTS],
    limits: Limits,
    runs: usize,
    long_clamped: usize,
    refused: usize,
}

impl Bench {
    fn new(program: Program, entry: Entry, held: fn(&[u8]) -> usize) -> Bench {
        Bench {
            program,
            entry,
            held,
            expected: [0; COUNTER_SLOTS],
            limits: Limits::new(0, 0),
            runs: 0,
            long_clamped: 0,
            refused: 0,
        }
    }

    fn set_limits(&mut self, limits: Limits) {
        self.program.set_limits(limits).unwrap();
        self.limits = limits;
    }

    /// Runs the program on `input` and checks its bytes against the core's in user space,
    /// on the same first bytes as the program holds ([`held_packet`], [`held_frame`]) with
    /// the same length.
    fn check(&mut self, name: &str, input: &[u8]) {
        let mut expected = input.to_vec();
        let held = (self.held)(input);
        let outcome = if self.limits.ipv4_mss() == 0 || self.limits.ipv6_mss() == 0 {
            None
        } else {
            Some((self.entry)(&mut expected[..held], input.len(), self.limits).0)
        };
        let mut output = vec![0u8; input.len() + 256];
        let (retval, len) = match bpf::prog_test_run(self.program.fd.as_fd(), input, &mut output) {
            Ok(ran) => ran,
            // The kernel builds no skb from an untagged frame whose EtherType names IPv4 or
            // IPv6 when the bytes after it are shorter than that header (EINVAL): such a
            // frame is not tested, and counted as such.
            Err(error)
                if error.raw_os_error() == Some(libc::EINVAL)
                    && input.len() < 14 + 40
                    && matches!(input[12..14], [0x08, 0x00] | [0x86, 0xdd]) =>
            {
                self.refused += 1;
                return;
            }
            Err(error) => panic!("{name}: BPF_PROG_TEST_RUN: {error}; input {input:02x?}"),
        };
        assert_eq!(retval, TC_ACT_UNSPEC, "{name}: return value");
        assert_eq!(
            &output[..len],
            &expected[..],
            "{name}: the kernel's bytes differ from the core's ({outcome:?}, {:?}); input {input:02x?}",
            self.limits
        );
        self.expected[outcome.map_or(NO_LIMITS, slot)] += 1;
        self.runs += 1;
        if input.len() > PREFIX_LEN && outcome.is_some_and(Outcome::is_clamped) {
            self.long_clamped += 1;
        }
    }

    /// Checks the counters against the outcomes tallied in user space and prints them.
    fn check_counters(&self, name: &str) {
        let counters = self.program.counters(possible_cpus()).unwrap();
        let label = |slot: usize| match slot {
            CLAMPED => "clamped",
            NO_LIMITS => "no-limits",
            HELPER_FAILED => "helper-failed",
            _ => Reason::ALL[slot].name(),
        };
        let shown: Vec<String> = (0..COUNTER_SLOTS)
            .filter(|&slot| counters[slot] != 0)
            .map(|slot| format!("{} {}", label(slot), counters[slot]))
            .collect();
        println!(
            "{name}: {} runs ({} refused by BPF_PROG_TEST_RUN), {} longer than the prefix and clamped; counters: {}",
            self.runs,
            self.refused,
            self.long_clamped,
            shown.join(", ")
        );
        assert_eq!(counters, self.expected, "{name}: counters");
        assert_eq!(counters[HELPER_FAILED], 0);
    }
}

/// The bytes the L3 program holds of a packet: its first [`PREFIX_LEN`].
fn held_packet(packet: &[u8]) -> usize {
    packet.len().min(PREFIX_LEN)
}

/// The bytes the Ethernet program holds of a frame: the link header and the first
/// [`PREFIX_LEN`] bytes of the IP packet behind it (all of a frame it leaves alone for its
/// link header, which it then reads no further).
fn held_frame(frame: &[u8]) -> usize {
    match tcpmssd_core::ethernet_ip_start(frame, frame.len()) {
        Ok((ip_start, _)) => frame.len().min(ip_start + PREFIX_LEN),
        Err(_) => frame.len(),
    }
}

/// Every byte array in the core's fixture table (core/tests/fixtures.rs), read from its
/// source: the whole corpus, without a second copy of it to drift.
fn fixture_corpus() -> Vec<(String, Vec<u8>)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/core/tests/fixtures.rs");
    let source = std::fs::read_to_string(path).unwrap();
    let mut corpus = Vec::new();
    let mut current: Option<(String, usize, Vec<u8>)> = None;
    for line in source.lines() {
        if let Some((name, len, mut bytes)) = current.take() {
            if line.starts_with("];") {
                assert_eq!(bytes.len(), len, "{name}");
                corpus.push((name, bytes));
                continue;
            }
            let code = line.split("//").next().unwrap();
            for token in code.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let byte = match token.strip_prefix("0x") {
                    Some(hex) => u8::from_str_radix(hex, 16),
                    None => token.parse(),
                };
                bytes.push(byte.unwrap_or_else(|_| panic!("{name}: {token}")));
            }
            current = Some((name, len, bytes));
        } else if let Some(rest) = line.strip_prefix("const ") {
            // `const NAME: [u8; N] = [`
            if let Some((name, rest)) = rest.split_once(": [u8; ") {
                if let Some(len) = rest.strip_suffix("] = [") {
                    current = Some((name.to_owned(), len.parse().unwrap(), Vec::new()));
                }
            }
        }
    }
    assert!(corpus.len() >= 70, "only {} fixtures found", corpus.len());
    corpus
}

/// An Ethernet frame around `packet`: documentation MACs (RFC 7042), `tags` VLAN tags
/// (802.1ad outside, 802.1Q inside), and `ethertype`.
fn frame(packet: &[u8], tags: &[u16], ethertype: u16) -> Vec<u8> {
    let mut frame = vec![
        0x00, 0x00, 0x5e, 0x00, 0x53, 0x02, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x01,
    ];
    for &tpid in tags {
        frame.extend_from_slice(&tpid.to_be_bytes());
        frame.extend_from_slice(&100u16.to_be_bytes()); // VLAN 100
    }
    frame.extend_from_slice(&ethertype.to_be_bytes());
    frame.extend_from_slice(packet);
    frame
}

/// The EtherType a packet's version nibble calls for (IPv4 for anything but 6).
fn ethertype_of(packet: &[u8]) -> u16 {
    match packet.first().map(|b| b >> 4) {
        Some(6) => 0x86dd,
        _ => 0x0800,
    }
}

/// xorshift64*: the generated packets are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
    fn fill(&mut self, out: &mut Vec<u8>, len: usize) {
        out.extend((0..len).map(|_| self.byte()));
    }
}

/// TCP options: mostly real layouts and MSS values around the limits, sometimes several MSS
/// options, odd offsets, EOL, bad lengths and unknown kinds.
fn options(rng: &mut Rng) -> Vec<u8> {
    const VALUES: [u16; 10] = [536, 1000, 1220, 1340, 1360, 1440, 1452, 1460, 8960, 65535];
    let mss = |rng: &mut Rng| {
        let value = if rng.one_in(4) {
            rng.next() as u16
        } else {
            VALUES[rng.below(VALUES.len())]
        };
        let [high, low] = value.to_be_bytes();
        [2, 4, high, low]
    };
    let mut out = Vec::new();
    match rng.below(4) {
        // Linux: MSS, SACK permitted, timestamps, NOP, window scale.
        0 => {
            out.extend_from_slice(&mss(rng));
            out.extend_from_slice(&[4, 2, 8, 10]);
            rng.fill(&mut out, 8);
            out.extend_from_slice(&[1, 3, 3, 7]);
        }
        // Windows: MSS, NOP, window scale, NOP, NOP, SACK permitted.
        1 => {
            out.extend_from_slice(&mss(rng));
            out.extend_from_slice(&[1, 3, 3, 8, 1, 1, 4, 2]);
        }
        _ => {
            let budget = rng.below(41);
            while out.len() < budget {
                match rng.below(10) {
                    0..=2 => out.extend_from_slice(&mss(rng)),
                    3 | 4 => out.push(1),
                    5 => out.push(0),
                    6 => out.extend_from_slice(&[4, 2]),
                    7 => out.extend_from_slice(&[3, 3, rng.byte()]),
                    8 => {
                        out.extend_from_slice(&[8, 10]);
                        rng.fill(&mut out, 8);
                    }
                    _ => {
                        // Any kind, any length: 0, 1 and lengths past the end included.
                        out.push(rng.byte());
                        out.push(rng.below(14) as u8);
                    }
                }
            }
            out.truncate(40);
        }
    }
    while out.len() % 4 != 0 {
        out.push(1);
    }
    out
}

/// A TCP segment: SYN, SYN-ACK and the other flag mixes, the options above, and data
/// (sometimes 200 bytes and more, as a TCP Fast Open SYN carries).
fn segment(rng: &mut Rng) -> Vec<u8> {
    let options = options(rng);
    let mut tcp = Vec::new();
    rng.fill(&mut tcp, 12); // ports, sequence and acknowledgment numbers
    let data_offset = ((20 + options.len()) / 4) as u8;
    const FLAGS: [u8; 6] = [0x02, 0x02, 0x12, 0x12, 0x10, 0x06];
    let flags = if rng.one_in(10) {
        rng.byte()
    } else {
        FLAGS[rng.below(FLAGS.len())]
    };
    tcp.extend_from_slice(&[data_offset << 4, flags]);
    rng.fill(&mut tcp, 6); // window, checksum, urgent pointer
    tcp.extend_from_slice(&options);
    let data = match rng.below(8) {
        0 => 200 + rng.below(120),
        1..=3 => rng.below(40),
        _ => 0,
    };
    rng.fill(&mut tcp, data);
    tcp
}

/// An IPv4 or IPv6 packet around a segment: IPv4 options, fragments and other protocols;
/// IPv6 extension chains up to nine headers long.
fn packet(rng: &mut Rng) -> Vec<u8> {
    let tcp = segment(rng);
    let protocol = if rng.one_in(12) {
        [17, 50, 51, 1][rng.below(4)]
    } else {
        6
    };
    let mut packet = Vec::new();
    if rng.one_in(2) {
        let ip_options = if rng.one_in(4) { 4 * rng.below(11) } else { 0 };
        let total = (20 + ip_options + tcp.len()) as u16;
        packet.push(0x40 | (5 + ip_options / 4) as u8);
        packet.push(0);
        packet.extend_from_slice(&total.to_be_bytes());
        rng.fill(&mut packet, 2); // identification
        let fragment: u16 = if rng.one_in(10) {
            rng.next() as u16 & 0x3fff
        } else {
            0x4000
        };
        packet.extend_from_slice(&fragment.to_be_bytes());
        packet.extend_from_slice(&[64, protocol]);
        packet.extend_from_slice(&[0, 0]); // header checksum: nothing checks it
        packet.extend_from_slice(&[198, 51, 100, 1, 203, 0, 113, 1]);
        packet.extend(std::iter::repeat_n(1, ip_options)); // NOP options
    } else {
        let mut chain = Vec::new();
        let headers = if rng.one_in(3) { rng.below(10) } else { 0 };
        let mut kinds: Vec<u8> = (0..headers)
            .map(|_| [0, 43, 44, 60][rng.below(4)])
            .collect();
        kinds.push(protocol);
        for pair in kinds.windows(2) {
            let (kind, next) = (pair[0], pair[1]);
            if kind == 44 {
                // Fragment header: offset 0 mostly, so the TCP header is in it.
                let offset: u16 = if rng.one_in(4) {
                    rng.next() as u16 & 0xfff8
                } else {
                    0
                };
                chain.extend_from_slice(&[next, 0]);
                chain.extend_from_slice(&offset.to_be_bytes());
                rng.fill(&mut chain, 4);
            } else {
                let units = rng.below(3);
                chain.extend_from_slice(&[next, units as u8]);
                chain.extend(std::iter::repeat_n(1, 6 + 8 * units)); // Pad1 options
            }
        }
        let first = kinds[0];
        let payload = (chain.len() + tcp.len()) as u16;
        packet.extend_from_slice(&[0x60, 0, 0, 0]);
        packet.extend_from_slice(&payload.to_be_bytes());
        packet.extend_from_slice(&[first, 64]);
        packet.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        packet.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        packet.extend_from_slice(&chain);
    }
    packet.extend_from_slice(&tcp);
    // Malformed ones: a byte anywhere changed, or the packet cut short.
    if rng.one_in(6) {
        let at = rng.below(packet.len());
        packet[at] = rng.byte();
    }
    if rng.one_in(10) {
        packet.truncate(rng.below(packet.len() + 1));
    }
    packet
}

/// A frame around a generated packet: 0 to 3 tags, and sometimes another EtherType or link
/// padding to Ethernet's 60 bytes.
fn generated_frame(rng: &mut Rng) -> Vec<u8> {
    let packet = packet(rng);
    let tags: Vec<u16> = match rng.below(10) {
        0..=5 => vec![],
        6 | 7 => vec![0x8100],
        8 => vec![0x88a8, 0x8100],
        _ => vec![0x88a8, 0x8100, 0x8100],
    };
    let ethertype = match rng.below(20) {
        0 => 0x0806,
        1 => 0x0800 ^ 0x86dd ^ ethertype_of(&packet),
        _ => ethertype_of(&packet),
    };
    let mut frame = frame(&packet, &tags, ethertype);
    if frame.len() < 60 && rng.one_in(3) {
        frame.resize(60, 0);
    }
    frame
}

#[test]
fn ethernet_program_gives_the_cores_bytes_and_counts() {
    let Some(program) = load_or_skip(SECTION_ETHERNET) else {
        return;
    };
    let mut bench = Bench::new(program, clamp_ethernet, held_frame);
    let corpus = fixture_corpus();
    // No limits written yet: nothing is clamped, all is counted as such.
    let syn = corpus
        .iter()
        .find(|(name, _)| name == "LINUX_SYN_V4")
        .unwrap();
    bench.check("no limits", &frame(&syn.1, &[], 0x0800));
    for limits in LIMITS {
        bench.set_limits(limits);
        for (name, bytes) in &corpus {
            let ethertype = ethertype_of(bytes);
            bench.check(name, &frame(bytes, &[], ethertype));
            bench.check(name, &frame(bytes, &[0x8100], ethertype));
            bench.check(name, &frame(bytes, &[0x88a8, 0x8100], ethertype));
            // The fixtures that are frames already, and the rest read as frames.
            if bytes.len() >= 14 {
                bench.check(name, bytes);
            }
        }
    }
    let mut rng = Rng(0x7463_706d_7373_6421);
    for round in 0..5000 {
        if round % 500 == 0 {
            bench.set_limits(LIMITS[round / 500 % LIMITS.len()]);
        }
        let frame = generated_frame(&mut rng);
        if frame.len() >= 14 {
            bench.check(&format!("generated frame {round}"), &frame);
        }
    }
    bench.check_counters(SECTION_ETHERNET);
    assert!(bench.expected[CLAMPED] > 1000 && bench.long_clamped > 50);
}

#[test]
fn l3_program_gives_the_cores_bytes_and_counts() {
    let Some(program) = load_or_skip(SECTION_L3) else {
        return;
    };
    let mut bench = Bench::new(program, clamp_prefix, held_packet);
    let corpus = fixture_corpus();
    for limits in LIMITS {
        bench.set_limits(limits);
        // BPF_PROG_TEST_RUN takes at least an Ethernet header's 14 bytes.
        for (name, bytes) in corpus.iter().filter(|(_, bytes)| bytes.len() >= 14) {
            bench.check(name, bytes);
        }
    }
    let mut rng = Rng(0x6c33_2070_726f_6f66);
    for round in 0..3000 {
        if round % 500 == 0 {
            bench.set_limits(LIMITS[round / 500 % LIMITS.len()]);
        }
        let packet = packet(&mut rng);
        if packet.len() >= 14 {
            bench.check(&format!("generated packet {round}"), &packet);
        }
    }
    bench.check_counters(SECTION_L3);
    assert!(bench.expected[CLAMPED] > 500 && bench.long_clamped > 20);
}
