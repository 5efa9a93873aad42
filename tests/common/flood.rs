//! A SYN flood: a raw socket in a sends a counted number of SYNs toward b, and counters in b's
//! raw PREROUTING say how many arrived, clamped or not (and drop them there, so no RST comes
//! back). Linux-like SYNs: MSS 1460 (IPv4) / 1440 (IPv6), SACK permitted, timestamps, NOP,
//! window scale 7; random source ports and sequence numbers.

use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use super::capture::tcp_checksum;
use super::netns::{in_netns, socket, Family, Topology};

/// b's port for flood SYNs; nothing listens there, the counters drop them first.
pub const FLOOD_PORT: u16 = 9;

/// What a flood did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// SYNs the kernel took from the raw socket.
    pub syns: u64,
    /// Sends the kernel refused (retried until taken, so not part of `syns`).
    pub refused: u64,
    /// How long sending took.
    pub took: Duration,
}

/// Sends `count` SYNs from a to b's [`FLOOD_PORT`], as fast as the kernel takes them; a send
/// the kernel refuses (ENOBUFS) is retried, so exactly `count` leave.
pub fn send_syns(topology: &Topology, family: Family, count: u64) -> Sent {
    flood(topology, family, Until::Count(count), None)
}

/// When a flood stops.
#[derive(Clone, Copy, Debug)]
pub enum Until {
    /// After this many SYNs.
    Count(u64),
    /// After this long.
    Time(Duration),
}

/// Sends SYNs from a to b's [`FLOOD_PORT`] until `until`, from a thread pinned to `cpu` if
/// given (a benchmark keeps the sender and the daemon apart).
pub fn flood(topology: &Topology, family: Family, until: Until, cpu: Option<usize>) -> Sent {
    let (src, dst) = (family.a(), family.b());
    in_netns(&topology.a, move || {
        if let Some(cpu) = cpu {
            pin_thread(cpu);
        }
        let (domain, protocol) = match family {
            // IPPROTO_RAW implies IP_HDRINCL: the IPv4 header is ours (raw(7)).
            Family::V4 => (libc::AF_INET, libc::IPPROTO_RAW),
            // IPv6 raw sockets never take the IP header: the kernel builds it; the TCP
            // checksum is ours, over the pseudo-header.
            Family::V6 => (libc::AF_INET6, libc::IPPROTO_TCP),
        };
        let fd = socket(domain, libc::SOCK_RAW, protocol).expect("raw socket");
        let to = sockaddr(&SocketAddr::new(dst, 0));
        let mut random = XorShift(0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id()));
        let mut sent = Sent {
            syns: 0,
            refused: 0,
            took: Duration::ZERO,
        };
        let start = Instant::now();
        loop {
            let done = match until {
                Until::Count(count) => sent.syns >= count,
                // Checked every 256 SYNs: reading the clock per packet would slow the flood.
                Until::Time(limit) => sent.syns % 256 == 0 && start.elapsed() >= limit,
            };
            if done {
                break;
            }
            let bits = random.next();
            let packet = syn(src, dst, bits as u16 | 1024, (bits >> 32) as u32);
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

/// Sends `packet` on raw socket `fd` to `to` (from [`sockaddr`]); returns the bytes sent.
pub fn send_raw(
    fd: BorrowedFd<'_>,
    packet: &[u8],
    (addr, addr_len): &(libc::sockaddr_storage, libc::socklen_t),
) -> std::io::Result<usize> {
    // SAFETY: `packet` and `addr` are alive and sized as passed for the whole call.
    let n = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            packet.as_ptr().cast(),
            packet.len(),
            0,
            (&raw const *addr).cast(),
            *addr_len,
        )
    };
    usize::try_from(n).map_err(|_| std::io::Error::last_os_error())
}

/// The raw socket's destination; for IPv4 and raw IPv6 the port must be 0.
pub fn sockaddr(to: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match to {
        SocketAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            let sin = unsafe { &mut *(&raw mut storage).cast::<libc::sockaddr_in>() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_addr.s_addr = u32::from_ne_bytes(v4.ip().octets());
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v6) => {
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            let sin6 = unsafe { &mut *(&raw mut storage).cast::<libc::sockaddr_in6>() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_addr.s6_addr = v6.ip().octets();
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// A Linux-like SYN from `src:port` to `dst:FLOOD_PORT`: the whole IPv4 packet, or for IPv6
/// the TCP segment (the kernel adds the IPv6 header).
fn syn(src: IpAddr, dst: IpAddr, port: u16, seq: u32) -> Vec<u8> {
    let mss: u16 = match src {
        IpAddr::V4(_) => 1460,
        IpAddr::V6(_) => 1440,
    };
    let mut tcp = Vec::with_capacity(40);
    tcp.extend_from_slice(&port.to_be_bytes());
    tcp.extend_from_slice(&FLOOD_PORT.to_be_bytes());
    tcp.extend_from_slice(&seq.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 0]); // acknowledgment number
    tcp.extend_from_slice(&[0xa0, 0x02, 0xfa, 0xf0]); // data offset 10, SYN, window 64240
    tcp.extend_from_slice(&[0, 0, 0, 0]); // checksum (below), urgent pointer
    tcp.extend_from_slice(&[0x02, 0x04]);
    tcp.extend_from_slice(&mss.to_be_bytes()); // MSS
    tcp.extend_from_slice(&[0x04, 0x02, 0x08, 0x0a]); // SACK permitted, timestamps...
    tcp.extend_from_slice(&seq.rotate_left(7).to_be_bytes()); // ...TSval
    tcp.extend_from_slice(&[0, 0, 0, 0]); // ...TSecr
    tcp.extend_from_slice(&[0x01, 0x03, 0x03, 0x07]); // NOP, window scale 7
    let checksum = tcp_checksum(src, dst, &tcp);
    tcp[16..18].copy_from_slice(&checksum.to_be_bytes());
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut packet = vec![
                0x45, 0, 0, 60, // IPv4, IHL 5, total length 60
                0, 0, 0x40, 0, // id 0 (the kernel fills it in), DF
                64, 6, 0, 0, // TTL 64, TCP, checksum (the kernel fills it in, raw(7))
            ];
            packet.extend_from_slice(&s.octets());
            packet.extend_from_slice(&d.octets());
            packet.extend_from_slice(&tcp);
            packet
        }
        _ => tcp,
    }
}

/// A xorshift64 generator: source ports and sequence numbers need variety, not quality.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Counters in b's raw PREROUTING: SYNs to [`FLOOD_PORT`] carrying MSS `clamped_mss`, and
/// all other SYNs to that port; both dropped there.
pub struct Arrivals {
    ns: String,
    iptables: &'static str,
}

/// What arrived at b.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
        let table = topology.exec(
            &self.ns,
            &[
                self.iptables,
                "-t",
                "raw",
                "-L",
                "PREROUTING",
                "-v",
                "-x",
                "-n",
            ],
        );
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
