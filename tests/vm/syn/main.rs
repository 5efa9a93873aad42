//! `vmsyn`: the SYN sender and the capture that `tests/vm/arm64.sh` runs inside its arm64 VM,
//! each in one namespace through `ip netns exec`.
//!
//! ```text
//! vmsyn send SRC DST MSS COUNT        COUNT SYNs from SRC to DST port 9 carrying MSS, from a
//!                                     raw socket; prints "sent COUNT"
//! vmsyn capture IFACE COUNT SECONDS   SYNs to port 9 received on IFACE, until COUNT came (and
//!                                     a grace period passed, to see any extra) or SECONDS
//!                                     passed; prints "ready", then one summary line
//! ```
//!
//! The SYNs are the e2e suite's flood SYNs (tests/common/flood.rs: SACK permitted, timestamps,
//! NOP, window scale 7; random source ports and sequence numbers) with the MSS as an argument,
//! so that one below the daemon's limit can be sent too. The capture, the MSS option walk and
//! the checksum oracle are the suite's own (tests/common/capture.rs, included below), written
//! independently of the daemon.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

/// What `tests/common/capture.rs` takes from the suite's namespace helpers.
mod netns {
    use std::io;
    use std::os::fd::{FromRawFd, OwnedFd};

    /// Runs `f` here: `ip netns exec` already put this process in the namespace.
    pub fn in_netns<T>(_ns: &str, f: impl FnOnce() -> T) -> T {
        f()
    }

    /// A socket of this process's namespace, closed on drop.
    pub fn socket(domain: i32, kind: i32, protocol: i32) -> io::Result<OwnedFd> {
        // SAFETY: socket(2) has no memory arguments; a non-negative result is a new descriptor.
        let fd = unsafe { libc::socket(domain, kind | libc::SOCK_CLOEXEC, protocol) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd was just returned by socket(2) and is owned by nobody else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

// Only the capture and the checksum are used here; the rest serves the e2e suite.
#[allow(dead_code)]
#[path = "../../common/capture.rs"]
mod capture;

/// b's port for the SYNs (the e2e suite's FLOOD_PORT); nothing listens there.
const PORT: u16 = 9;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args[..] {
        ["send", src, dst, mss, count] => send(
            parse(src, "SRC"),
            parse(dst, "DST"),
            parse(mss, "MSS"),
            parse(count, "COUNT"),
        ),
        ["capture", iface, count, seconds] => {
            capture(iface, parse(count, "COUNT"), parse(seconds, "SECONDS"));
        }
        _ => {
            eprintln!("usage: vmsyn send SRC DST MSS COUNT | vmsyn capture IFACE COUNT SECONDS");
            std::process::exit(64);
        }
    }
}

fn parse<T: std::str::FromStr>(text: &str, what: &str) -> T {
    text.parse().unwrap_or_else(|_| {
        eprintln!("vmsyn: bad {what}: {text}");
        std::process::exit(64)
    })
}

/// Sends `count` SYNs; a send the kernel refuses (ENOBUFS) is retried, so exactly `count`
/// leave (as the suite's `send_syns`).
fn send(src: IpAddr, dst: IpAddr, mss: u16, count: u64) {
    let (domain, protocol) = match dst {
        // IPPROTO_RAW implies IP_HDRINCL: the IPv4 header is ours (raw(7)).
        IpAddr::V4(_) => (libc::AF_INET, libc::IPPROTO_RAW),
        // IPv6 raw sockets never take the IP header; the TCP checksum is ours.
        IpAddr::V6(_) => (libc::AF_INET6, libc::IPPROTO_TCP),
    };
    let fd = netns::socket(domain, libc::SOCK_RAW, protocol).expect("raw socket");
    let to = sockaddr(dst);
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id()));
    let mut sent = 0;
    while sent < count {
        let bits = random.next();
        let packet = syn(src, dst, mss, bits as u16 | 1024, (bits >> 32) as u32);
        match send_raw(fd.as_fd(), &packet, &to) {
            Ok(_) => sent += 1,
            Err(error) if error.raw_os_error() == Some(libc::ENOBUFS) => {
                std::thread::yield_now();
            }
            Err(error) => panic!("sendto: {error}"),
        }
    }
    println!("sent {sent}");
}

/// Counts the SYNs to [`PORT`] arriving on `iface` by MSS, and those whose checksum is not a
/// full recomputation's; prints e.g. `syns 2000 mss 1360:2000 bad-checksum 0`.
fn capture(iface: &str, count: usize, seconds: u64) {
    let capture = capture::Capture::open("", iface);
    println!("ready");
    std::io::stdout().flush().expect("stdout");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut by_mss: BTreeMap<String, usize> = BTreeMap::new();
    let (mut syns, mut bad_checksum) = (0, 0);
    let mut complete_at = None;
    loop {
        for segment in capture.received_syns() {
            if segment.dst_port() != PORT {
                continue;
            }
            syns += 1;
            let values: Vec<String> = segment.mss_values().iter().map(u16::to_string).collect();
            let key = if values.is_empty() {
                "none".to_string()
            } else {
                values.join(",")
            };
            *by_mss.entry(key).or_default() += 1;
            if !segment.checksum_valid() {
                bad_checksum += 1;
            }
        }
        let now = Instant::now();
        // Once all expected SYNs came, a last half second shows whether more follow.
        if syns >= count && complete_at.is_none() {
            complete_at = Some(now);
        }
        if now >= deadline || complete_at.is_some_and(|at| now - at >= Duration::from_millis(500)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mss: Vec<String> = by_mss.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    println!(
        "syns {syns} mss {} bad-checksum {bad_checksum}",
        if mss.is_empty() {
            "-".to_string()
        } else {
            mss.join(" ")
        }
    );
}

/// A SYN from `src:port` to `dst:PORT` with MSS `mss`: the whole IPv4 packet, or for IPv6 the
/// TCP segment (the kernel adds the IPv6 header).
fn syn(src: IpAddr, dst: IpAddr, mss: u16, port: u16, seq: u32) -> Vec<u8> {
    let mut tcp = Vec::with_capacity(40);
    tcp.extend_from_slice(&port.to_be_bytes());
    tcp.extend_from_slice(&PORT.to_be_bytes());
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
    let checksum = capture::tcp_checksum(src, dst, &tcp);
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
        (IpAddr::V6(_), IpAddr::V6(_)) => tcp,
        _ => {
            eprintln!("vmsyn: {src} and {dst} are of different families");
            std::process::exit(64)
        }
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

/// Sends `packet` on raw socket `fd` to `to`.
fn send_raw(
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

/// The raw socket's destination; for raw IPv4 and IPv6 the port must be 0.
fn sockaddr(to: IpAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match to {
        IpAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            let sin = unsafe { &mut *(&raw mut storage).cast::<libc::sockaddr_in>() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_addr.s_addr = u32::from_ne_bytes(v4.octets());
            std::mem::size_of::<libc::sockaddr_in>()
        }
        IpAddr::V6(v6) => {
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            let sin6 = unsafe { &mut *(&raw mut storage).cast::<libc::sockaddr_in6>() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_addr.s6_addr = v6.octets();
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}
