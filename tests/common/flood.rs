//! A SYN flood: a raw socket in a sends a counted number of SYNs toward b, and counters in b's
//! raw PREROUTING say how many arrived, clamped or not (and drop them there, so no RST comes
//! back). Linux-like SYNs: MSS 1460 (IPv4) / 1440 (IPv6), SACK permitted, timestamps, NOP,
//! window scale 7; random source ports and sequence numbers.
//!
//! [`frame_flood`] is the benchmark's generator: whole Ethernet frames built once, handed to
//! a's veth from an AF_PACKET socket 256 at a time (`sendmmsg`) past the queueing layer
//! (`PACKET_QDISC_BYPASS`), so that it offers far more than a clamper on r can take; the raw
//! socket's one `sendto` per SYN tops out near 180,000 SYN/s and saturates its own CPU first.

use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use super::netns::{in_netns, socket, Family, Topology, A_IF, R_A_IF};
pub use super::raw_syn::{send_raw, sockaddr};
use super::raw_syn::{syn, XorShift};

/// b's port for flood SYNs; nothing listens there, the counters drop them first.
pub const FLOOD_PORT: u16 = 9;

/// What a flood did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// SYNs the kernel took.
    pub syns: u64,
    /// Sends the kernel refused (retried until taken, so not part of `syns`).
    pub refused: u64,
    /// How long sending took.
    pub took: Duration,
    /// The sending thread's CPU time meanwhile (less than `took` when it had to wait).
    pub cpu: Duration,
}

/// Sends `count` SYNs from a to b's [`FLOOD_PORT`] from a raw socket, as fast as the kernel
/// takes them; a send the kernel refuses (ENOBUFS) is retried, so exactly `count` leave.
pub fn send_syns(topology: &Topology, family: Family, count: u64) -> Sent {
    let (src, dst) = (family.a(), family.b());
    in_netns(&topology.a, move || {
        let (domain, protocol) = match family {
            // IPPROTO_RAW implies IP_HDRINCL: the IPv4 header is ours (raw(7)).
            Family::V4 => (libc::AF_INET, libc::IPPROTO_RAW),
            // IPv6 raw sockets never take the IP header: the kernel builds it; the TCP
            // checksum is ours, over the pseudo-header.
            Family::V6 => (libc::AF_INET6, libc::IPPROTO_TCP),
        };
        let fd = socket(domain, libc::SOCK_RAW, protocol).expect("raw socket");
        let to = sockaddr(dst);
        let mut random = XorShift(0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id()));
        let mut sent = Sent {
            syns: 0,
            refused: 0,
            took: Duration::ZERO,
            cpu: Duration::ZERO,
        };
        let start = Instant::now();
        while sent.syns < count {
            let bits = random.next();
            let packet = syn(
                src,
                dst,
                linux_mss(src),
                (bits as u16 | 1024, FLOOD_PORT),
                (bits >> 32) as u32,
            );
            match send_raw(fd.as_fd(), &packet, &to) {
                Ok(_) => sent.syns += 1,
                Err(error) => {
                    assert_eq!(error.raw_os_error(), Some(libc::ENOBUFS), "sendto: {error}");
                    sent.refused += 1;
                    std::thread::yield_now();
                }
            }
        }
        sent.took = start.elapsed();
        sent
    })
}

/// SYN frames in the pool of [`frame_flood`]: distinct source ports and sequence numbers, sent
/// round and round (b drops them before any stack could see a repeat).
const FRAME_POOL: usize = 4096;
/// Frames per `sendmmsg` at full speed; a paced flood sends [`PACED_BATCH`] at a time.
const FRAME_BATCH: usize = 256;
const PACED_BATCH: usize = 16;
/// Ethernet header: destination, source, EtherType.
const ETHER_HEADER_LEN: usize = 14;

/// Sends IPv4 SYN frames from a's veth toward b's [`FLOOD_PORT`] for `duration`, from a thread
/// pinned to `cpu`: as fast as the kernel takes them, or at `per_second` (paced per batch of
/// [`PACED_BATCH`], by spinning: a sleep on a VM lasts far longer than asked). `syns` counts
/// exactly the frames the kernel took; `refused` the `sendmmsg` calls that failed with ENOBUFS
/// and were retried.
///
/// With `PACKET_QDISC_BYPASS` a frame goes straight to the veth's transmit function, which hands
/// it to r's receive path on the same CPU; r's forwarding (and, with NFQUEUE, the enqueue to a
/// consumer) runs inside this thread's system call. A frame the receive backlog cannot take is
/// dropped by the veth and counted in a-r's `tx_dropped` ([`veth_drops`]).
pub fn frame_flood(
    topology: &Topology,
    frames: &SynFrames,
    duration: Duration,
    cpu: usize,
    per_second: Option<u64>,
) -> Sent {
    let frames = std::sync::Arc::clone(&frames.0);
    in_netns(&topology.a, move || {
        pin_thread(cpu);
        let fd = socket(libc::AF_PACKET, libc::SOCK_RAW, 0).expect("AF_PACKET socket");
        let on: libc::c_int = 1;
        // SAFETY: `on` lives across the call and the length passed is its size.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_QDISC_BYPASS,
                (&raw const on).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        assert_eq!(
            rc,
            0,
            "PACKET_QDISC_BYPASS: {}",
            std::io::Error::last_os_error()
        );
        // Bound to a-r with protocol 0: it sends there, and receives nothing (packet(7)).
        let name = std::ffi::CString::new(A_IF).expect("name");
        // SAFETY: `name` is a NUL-terminated string that lives across the call.
        let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
        assert_ne!(index, 0, "{A_IF}: {}", std::io::Error::last_os_error());
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
        let mut ll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        ll.sll_family = libc::AF_PACKET as u16;
        ll.sll_ifindex = index as i32;
        // SAFETY: `ll` is a valid sockaddr_ll and the length passed is its size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0, "bind AF_PACKET: {}", std::io::Error::last_os_error());

        let mut iovecs: Vec<libc::iovec> = frames
            .iter()
            .map(|frame| libc::iovec {
                iov_base: frame.as_ptr().cast_mut().cast(),
                iov_len: frame.len(),
            })
            .collect();
        let mut messages: Vec<libc::mmsghdr> = iovecs
            .iter_mut()
            .map(|iov| {
                // SAFETY: msghdr is integers and null pointers; all-zero is a valid value.
                let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
                header.msg_iov = iov;
                header.msg_iovlen = 1;
                libc::mmsghdr {
                    msg_hdr: header,
                    msg_len: 0,
                }
            })
            .collect();
        let batch = if per_second.is_some() {
            PACED_BATCH
        } else {
            FRAME_BATCH
        };
        let mut sent = Sent {
            syns: 0,
            refused: 0,
            took: Duration::ZERO,
            cpu: Duration::ZERO,
        };
        let mut at = 0;
        let cpu_start = thread_cpu_time();
        let start = Instant::now();
        loop {
            let now = start.elapsed();
            if now >= duration {
                break;
            }
            if let Some(rate) = per_second {
                // The frames sent so far are due by this time; the next batch waits for it.
                let due = Duration::from_secs_f64(sent.syns as f64 / rate as f64);
                if now < due {
                    std::hint::spin_loop();
                    continue;
                }
            }
            let count = batch.min(FRAME_POOL - at);
            // SAFETY: `messages[at..at + count]` are valid mmsghdrs whose iovecs point into
            // `frames`, all alive for the whole call.
            let rc = unsafe {
                libc::sendmmsg(
                    fd.as_raw_fd(),
                    messages[at..].as_mut_ptr(),
                    count as libc::c_uint,
                    0,
                )
            };
            if rc < 0 {
                let error = std::io::Error::last_os_error();
                assert_eq!(
                    error.raw_os_error(),
                    Some(libc::ENOBUFS),
                    "sendmmsg: {error}"
                );
                sent.refused += 1;
                std::thread::yield_now();
                continue;
            }
            let taken = rc as usize;
            sent.syns += taken as u64;
            at = (at + taken) % FRAME_POOL;
        }
        sent.took = start.elapsed();
        sent.cpu = thread_cpu_time().saturating_sub(cpu_start);
        drop(iovecs);
        sent
    })
}

/// The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID).
fn thread_cpu_time() -> Duration {
    // SAFETY: timespec is plain data; all-zero is a valid value.
    let mut now: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `now` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(rc, 0, "clock_gettime: {}", std::io::Error::last_os_error());
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// The frames [`frame_flood`] sends, built once (reading the MAC addresses takes two `ip`
/// commands, which must not fall inside a measured flood).
pub struct SynFrames(std::sync::Arc<Vec<Vec<u8>>>);

impl SynFrames {
    /// The frames for `topology`'s a-r toward r-a.
    pub fn new(topology: &Topology) -> SynFrames {
        SynFrames(std::sync::Arc::new(syn_frames(topology, FRAME_POOL)))
    }
}

/// `count` Ethernet frames from a-r to r-a, each an IPv4 SYN from a to b's [`FLOOD_PORT`] as
/// [`syn`] builds it, with its IPv4 header checksum (the kernel fills in nothing here).
fn syn_frames(topology: &Topology, count: usize) -> Vec<Vec<u8>> {
    let source = mac(topology, &topology.a, A_IF);
    let destination = mac(topology, &topology.r, R_A_IF);
    let (src, dst) = (Family::V4.a(), Family::V4.b());
    let mut random = XorShift(0x2545_f491_4f6c_dd1d);
    (0..count)
        .map(|_| {
            let bits = random.next();
            let mut packet = syn(
                src,
                dst,
                linux_mss(src),
                (bits as u16 | 1024, FLOOD_PORT),
                (bits >> 32) as u32,
            );
            packet[4..6].copy_from_slice(&((bits >> 16) as u16).to_be_bytes()); // IP id
            let checksum = !ones_complement(&packet[..20]);
            packet[10..12].copy_from_slice(&checksum.to_be_bytes());
            let mut frame = Vec::with_capacity(ETHER_HEADER_LEN + packet.len());
            frame.extend_from_slice(&destination);
            frame.extend_from_slice(&source);
            frame.extend_from_slice(&0x0800u16.to_be_bytes()); // IPv4
            frame.extend_from_slice(&packet);
            frame
        })
        .collect()
}

/// The one's complement sum of `bytes` (an even number of them), folded to 16 bits.
fn ones_complement(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The MAC address of interface `iface` in namespace `ns`, from `ip -o link`.
fn mac(topology: &Topology, ns: &str, iface: &str) -> [u8; 6] {
    let line = topology.exec(ns, &["ip", "-o", "link", "show", "dev", iface]);
    let text = line
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap_or_else(|| panic!("no link/ether in: {line}"));
    let mut mac = [0u8; 6];
    for (byte, hex) in mac.iter_mut().zip(text.split(':')) {
        *byte = u8::from_str_radix(hex, 16).expect("a MAC address");
    }
    mac
}

/// Frames the veths of `topology` dropped on transmit (a-r toward r, r-b toward b): what a
/// receive backlog could not take, which no clamper caused.
pub fn veth_drops(topology: &Topology) -> u64 {
    [(&topology.a, A_IF), (&topology.r, super::netns::R_B_IF)]
        .iter()
        .map(|(ns, iface)| {
            let path = format!("/sys/class/net/{iface}/statistics/tx_dropped");
            topology
                .exec(ns, &["cat", &path])
                .trim()
                .parse::<u64>()
                .expect("tx_dropped")
        })
        .sum()
}

/// Pins the calling thread to `cpu`.
pub fn pin_thread(cpu: usize) {
    pin(0, cpu);
}

/// Pins thread or process `pid` (0: the calling thread) to `cpu`.
pub fn pin(pid: libc::pid_t, cpu: usize) {
    // SAFETY: cpu_set_t is a plain bit array; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid cpu_set_t and `cpu` is below CPU_SETSIZE on any test machine.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is alive and sized as passed.
    let rc = unsafe { libc::sched_setaffinity(pid, std::mem::size_of_val(&set), &set) };
    assert_eq!(
        rc,
        0,
        "sched_setaffinity: {}",
        std::io::Error::last_os_error()
    );
}

/// The MSS a Linux host on a 1500-byte link advertises: 1460 over IPv4, 1440 over IPv6.
fn linux_mss(src: IpAddr) -> u16 {
    match src {
        IpAddr::V4(_) => 1460,
        IpAddr::V6(_) => 1440,
    }
}

/// The raw PREROUTING chain of namespace `ns` with exact packet counters, as `iptables` (or
/// `ip6tables`) lists it: the first column of each rule's line is its packet count.
pub fn raw_prerouting(topology: &Topology, ns: &str, iptables: &str) -> String {
    topology.exec(
        ns,
        &[iptables, "-t", "raw", "-L", "PREROUTING", "-v", "-x", "-n"],
    )
}

/// Counters in b's raw PREROUTING: SYNs to [`FLOOD_PORT`] carrying MSS `clamped_mss`, and
/// all other SYNs to that port; both dropped there.
pub struct Arrivals {
    ns: String,
    iptables: &'static str,
}

/// What arrived at b.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Arrived {
    /// SYNs with the clamped MSS.
    pub clamped: u64,
    /// SYNs with any other MSS (passed unclamped: fail-open, bypass, no daemon).
    pub other: u64,
}

impl Arrived {
    /// Every SYN that arrived.
    pub fn total(&self) -> u64 {
        self.clamped + self.other
    }
}

impl Arrivals {
    /// Installs the two counting rules in b for `family`.
    pub fn install(topology: &Topology, family: Family, clamped_mss: u16) -> Arrivals {
        let arrivals = Arrivals {
            ns: topology.b.clone(),
            iptables: family.iptables(),
        };
        let port = FLOOD_PORT.to_string();
        let mss = clamped_mss.to_string();
        let base = [
            arrivals.iptables,
            "-t",
            "raw",
            "-A",
            "PREROUTING",
            "-p",
            "tcp",
            "--syn",
            "--dport",
            &port,
        ];
        let mut clamped = base.to_vec();
        clamped.extend_from_slice(&["-m", "tcpmss", "--mss", &mss, "-j", "DROP"]);
        topology.exec(&arrivals.ns, &clamped);
        let mut other = base.to_vec();
        other.extend_from_slice(&["-j", "DROP"]);
        topology.exec(&arrivals.ns, &other);
        arrivals
    }

    /// Reads the counters.
    pub fn read(&self, topology: &Topology) -> Arrived {
        let table = raw_prerouting(topology, &self.ns, self.iptables);
        let counts: Vec<u64> = table
            .lines()
            .filter(|line| line.contains("DROP"))
            .filter_map(|line| line.split_whitespace().next()?.parse().ok())
            .collect();
        assert_eq!(counts.len(), 2, "counters in:\n{table}");
        Arrived {
            clamped: counts[0],
            other: counts[1],
        }
    }

    /// Waits until the counters stop changing (the last SYNs still on their way through r),
    /// then returns them.
    pub fn settle(&self, topology: &Topology) -> Arrived {
        let mut last = self.read(topology);
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let now = self.read(topology);
            if now == last {
                return now;
            }
            last = now;
        }
    }
}
