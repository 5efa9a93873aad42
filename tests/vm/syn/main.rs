//! `vmsyn`: the SYN sender and the capture that `tests/vm/run.sh` runs inside each router VM
//! (arm64, armhf, mipsel), each in one namespace through `ip netns exec`.
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
use std::os::fd::AsFd;
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
#[path = "../../common/raw_syn.rs"]
mod raw_syn;

use raw_syn::{send_raw, sockaddr, syn, XorShift};

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
    if src.is_ipv4() != dst.is_ipv4() {
        eprintln!("vmsyn: {src} and {dst} are of different families");
        std::process::exit(64)
    }
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
        let packet = syn(
            src,
            dst,
            mss,
            (bits as u16 | 1024, PORT),
            (bits >> 32) as u32,
        );
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
