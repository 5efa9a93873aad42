//! The eBPF mode end to end (`tcpmssd -e`): the classifier on r's interface toward b in the
//! namespaces a — r — b of e2e.rs, and on an IP-only tunnel device; SYNs from real TCP stacks
//! and raw ones; the lifetime (TERM takes it off, kill -9 leaves it clamping, a restart
//! replaces it, the interface's return re-attaches it). Root only (skipped otherwise, with
//! the reason). The kernel's own TCPMSS target is the reference in e2e.rs; here the same
//! checks hold with no firewall rule at all.
#![cfg(target_os = "linux")]

#[allow(dead_code)]
mod common;

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsFd;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::capture::{tcp_checksum, Capture, Segment};
use common::flood::{send_raw, sockaddr};
use common::handshake::{handshake, only, Handshake, PORT};
use common::netns::{
    in_netns, run, set_tx_checksum, socket, Family, Topology, A_IF, B_IF, FAMILIES, LINK_MTU,
    R_A_IF, R_B_IF,
};
use common::transfer::{connect, listen};
use common::wait_until;

/// Loading runs the verifier over a few hundred thousand instructions: seconds on a busy
/// machine.
const START_WAIT: Duration = Duration::from_secs(60);
/// How long a running daemon may take to notice a change.
const NOTICE_WAIT: Duration = Duration::from_secs(5);

/// tcpmssd `-e -v` in a namespace, its stderr collected.
struct Classifier {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    what: String,
}

impl Classifier {
    /// Starts `tcpmssd -e -v ARGS` in `ns` and waits for its start-up line.
    fn start(ns: &str, args: &[&str]) -> Classifier {
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(common::binary())
            .args(["-e", "-v"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn tcpmssd: {e}"));
        let what = format!("tcpmssd -e {}", args.join(" "));
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&log);
        let stderr = child.stderr.take().expect("stderr is piped");
        let prefix = what.clone();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[{prefix}] {line}");
                lines.lock().unwrap().push(line);
            }
        });
        let mut classifier = Classifier { child, log, what };
        let started = wait_until(START_WAIT, || {
            if let Some(status) = classifier.child.try_wait().unwrap() {
                panic!(
                    "{} exited ({status}) at start:\n{}",
                    classifier.what,
                    classifier.log().join("\n")
                );
            }
            classifier
                .log()
                .iter()
                .any(|line| line.contains("started"))
                .then_some(())
        });
        assert!(started.is_some(), "{} did not start", classifier.what);
        classifier
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn wait_for_line(&self, wanted: impl Fn(&str) -> bool) {
        let seen = wait_until(NOTICE_WAIT, || {
            self.log().iter().any(|l| wanted(l)).then_some(())
        });
        assert!(
            seen.is_some(),
            "{}: line not seen:\n{}",
            self.what,
            self.log().join("\n")
        );
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        assert_eq!(rc, 0, "kill {}", self.child.id());
    }

    /// Sends `signal` and waits for the exit.
    fn end_with(mut self, signal: libc::c_int) -> (ExitStatus, Vec<String>) {
        self.signal(signal);
        let status = self.child.wait().unwrap();
        // The reader thread has the last lines once the pipe closes.
        thread::sleep(Duration::from_millis(100));
        (status, self.log())
    }

    /// The value of counter `name` in the last counters line logged (USR1 asks for one).
    fn counter(&self, name: &str) -> u64 {
        let before = self.log().len();
        self.signal(libc::SIGUSR1);
        let line = wait_until(NOTICE_WAIT, || {
            self.log()[before..]
                .iter()
                .find(|line| line.contains("packets "))
                .cloned()
        })
        .unwrap_or_else(|| panic!("{}: no counters after USR1", self.what));
        line.split(", ")
            .find_map(|item| item.rsplit_once(' ').filter(|(n, _)| n.ends_with(name)))
            .map_or(0, |(_, value)| value.parse().unwrap())
    }
}

impl Drop for Classifier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tc filter show dev IFACE HOOK` in `ns`: tcpmssd's filters there, one line each.
fn filters(ns: &str, iface: &str, hook: &str) -> Vec<String> {
    let shown = run(
        "ip",
        &[
            "netns", "exec", ns, "tc", "filter", "show", "dev", iface, hook,
        ],
    );
    shown
        .lines()
        .filter(|line| line.contains("tcpmssd"))
        .map(str::to_string)
        .collect()
}

/// The topology of e2e.rs with r's link to b at a 1400-byte MTU, and a's transmit checksum
/// offload on again: a's SYNs leave as CHECKSUM_PARTIAL skbs, r forwards them so, and r-b,
/// without the offload, has the kernel complete the checksum after the classifier. A
/// classifier that wrote its own checksum into such a packet would show at b as a bad one.
fn topology_1400() -> Topology {
    let topology = Topology::new();
    topology.set_r_mtu(R_B_IF, 1400);
    in_netns(&topology.a, || set_tx_checksum(A_IF, true)).expect("a-r tx checksum on");
    topology
}

/// A handshake a — b through r's classifier: both directions as expected, checksums valid.
fn assert_handshake(topology: &Topology, family: Family, syn_mss: u16, syn_ack_mss: u16) {
    let Handshake { syn, syn_ack } = handshake(topology, family);
    assert_eq!(syn.mss(), syn_mss, "SYN at b: {syn}");
    assert!(syn.checksum_valid(), "SYN at b: {syn}");
    assert_eq!(syn_ack.mss(), syn_ack_mss, "SYN-ACK at a: {syn_ack}");
    assert!(syn_ack.checksum_valid(), "SYN-ACK at a: {syn_ack}");
}

#[test]
fn forwarded_syns_clamped_on_egress_syn_acks_left_alone_ipv4_ipv6() {
    require_netns!();
    let topology = topology_1400();
    let daemon = Classifier::start(&topology.r, &["-i", R_B_IF]);
    assert_eq!(filters(&topology.r, R_B_IF, "egress").len(), 1);
    assert!(filters(&topology.r, R_B_IF, "ingress").is_empty());
    for family in FAMILIES {
        assert_handshake(
            &topology,
            family,
            family.mss_for_mtu(1400),
            family.mss_for_mtu(LINK_MTU),
        );
    }
    assert_eq!(daemon.counter("clamped"), 2);
    // Every packet on r-b is counted, by what the core made of it: the handshakes' other
    // segments as not-syn, neighbour discovery as not-tcp or other-ethertype.
    assert!(daemon.counter("not-syn") > 0);
}

#[test]
fn with_b_syn_acks_arriving_on_ingress_are_clamped_too() {
    require_netns!();
    let topology = topology_1400();
    let _daemon = Classifier::start(&topology.r, &["-b", "-i", R_B_IF]);
    assert_eq!(filters(&topology.r, R_B_IF, "ingress").len(), 1);
    for family in FAMILIES {
        let limit = family.mss_for_mtu(1400);
        assert_handshake(&topology, family, limit, limit);
    }
}

#[test]
fn syns_below_the_limit_pass_byte_for_byte() {
    require_netns!();
    let topology = topology_1400();
    let _daemon = Classifier::start(&topology.r, &["-i", R_B_IF]);
    for family in FAMILIES {
        topology.set_a_advmss(family, 1000);
        let _listener = listen(&topology.b, family.b_port(PORT));
        let into_r = Capture::open(&topology.r, R_A_IF);
        let at_b = Capture::open(&topology.b, B_IF);
        let _stream = connect(&topology.a, family.b_port(PORT)).unwrap();
        let sent = only(&into_r.received_syns(), "SYN entering r").clone();
        let arrived = only(&at_b.received_syns(), "SYN at b").clone();
        assert_eq!(arrived.mss(), 1000, "{arrived}");
        // a's SYN enters r with only the pseudo-header's sum in its checksum field: a
        // CHECKSUM_PARTIAL skb, which r forwards as such and r-b completes after the
        // classifier (what `topology_1400` sets up for every test here).
        assert!(!sent.checksum_valid(), "not a partial checksum: {sent}");
        // At b the completed one: compare the rest of the segment.
        assert_eq!(
            [&arrived.tcp[..16], &arrived.tcp[18..]],
            [&sent.tcp[..16], &sent.tcp[18..]],
            "{sent}\n{arrived}"
        );
        assert!(arrived.checksum_valid(), "{arrived}");
    }
}

#[test]
fn locally_generated_syns_clamped_with_a_fixed_mtu() {
    require_netns!();
    let topology = topology_1400();
    // -m below the link's own: r's stack advertises 1360 / 1340, the classifier lowers it.
    let _daemon = Classifier::start(&topology.r, &["-i", R_B_IF, "-m", "1300"]);
    for family in FAMILIES {
        let _listener = listen(&topology.b, family.b_port(PORT));
        let at_b = Capture::open(&topology.b, B_IF);
        let _stream = connect(&topology.r, family.b_port(PORT)).unwrap();
        let syn = only(&at_b.received_syns(), "SYN from r at b").clone();
        assert_eq!(syn.mss(), family.mss_for_mtu(1300), "{syn}");
        assert!(syn.checksum_valid(), "{syn}");
    }
}

/// An IPv4 SYN from a to b's port 9 with the TCP `options` given (a multiple of 4 bytes) and
/// `data_len` bytes of data, its checksum complete: sent from a raw socket, it is an skb
/// without checksum offload (CHECKSUM_NONE), the other kind.
fn raw_ipv4_syn(options: &[u8], data_len: usize) -> Vec<u8> {
    let (IpAddr::V4(src), IpAddr::V4(dst)) = (Family::V4.a(), Family::V4.b()) else {
        unreachable!("IPv4 addresses");
    };
    assert_eq!(options.len() % 4, 0);
    let tcp_len = 20 + options.len() + data_len;
    let total_len = u16::try_from(20 + tcp_len).unwrap();
    let mut packet = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
    packet[2..4].copy_from_slice(&total_len.to_be_bytes());
    packet.extend_from_slice(&src.octets());
    packet.extend_from_slice(&dst.octets());
    packet.extend_from_slice(&[0xc3, 0x51, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0]);
    let offset = u8::try_from((20 + options.len()) / 4).unwrap();
    packet.extend_from_slice(&[offset << 4, 0x02, 0xfa, 0xf0, 0, 0, 0, 0]);
    packet.extend_from_slice(options);
    packet.extend((0..data_len).map(|i| (i * 7) as u8));
    let checksum = tcp_checksum(IpAddr::V4(src), IpAddr::V4(dst), &packet[20..]);
    packet[36..38].copy_from_slice(&checksum.to_be_bytes());
    packet
}

/// Sends `packet` from a's raw socket and returns the one SYN b received.
fn through_r(topology: &Topology, packet: Vec<u8>) -> Segment {
    let at_b = Capture::open(&topology.b, B_IF);
    in_netns(&topology.a, move || {
        let fd = socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW).unwrap();
        let to = sockaddr(IpAddr::from(<[u8; 4]>::try_from(&packet[16..20]).unwrap()));
        assert_eq!(send_raw(fd.as_fd(), &packet, &to).unwrap(), packet.len());
    });
    let arrived = wait_until(NOTICE_WAIT, || {
        let syns = at_b.received_syns();
        (!syns.is_empty()).then_some(syns)
    })
    .expect("a SYN at b");
    only(&arrived, "raw SYN at b").clone()
}

#[test]
fn raw_syns_odd_offset_two_mss_options_and_200_bytes_of_data_clamped() {
    require_netns!();
    let topology = topology_1400();
    let _daemon = Classifier::start(&topology.r, &["-i", R_B_IF]);
    let mss_8960 = [0x02, 0x04, 0x23, 0x00];
    let cases: [(&str, Vec<u8>, usize, Vec<u16>); 3] = [
        // NOP first: the MSS option's value at an odd offset of the segment.
        (
            "odd offset",
            [&[1][..], &mss_8960, &[1, 1, 1]].concat(),
            0,
            vec![1360],
        ),
        // Two MSS options: both lowered (the kernel's TCPMSS lowers only the first).
        (
            "two MSS",
            [&mss_8960[..], &[0x02, 0x04, 0x05, 0xb4]].concat(),
            0,
            vec![1360, 1360],
        ),
        // A TCP Fast Open SYN: the program reads a 192-byte prefix, the data runs past it.
        ("200 bytes of data", mss_8960.to_vec(), 200, vec![1360]),
    ];
    for (what, options, data_len, expected) in cases {
        let sent = raw_ipv4_syn(&options, data_len);
        let arrived = through_r(&topology, sent.clone());
        assert_eq!(arrived.mss_values(), expected, "{what}: {arrived}");
        assert!(arrived.checksum_valid(), "{what}: {arrived}");
        let header = 20 + options.len();
        assert_eq!(
            arrived.tcp[header..],
            sent[20 + header..],
            "{what}: data changed"
        );
    }
}

#[test]
fn mtu_change_followed_without_restart() {
    require_netns!();
    let topology = topology_1400();
    let daemon = Classifier::start(&topology.r, &["-i", R_B_IF]);
    assert_handshake(&topology, Family::V4, 1360, 1460);
    topology.set_r_mtu(R_B_IF, 1300);
    daemon.wait_for_line(|line| line.contains("MTU 1300"));
    assert_handshake(&topology, Family::V4, 1260, 1460);
    // SIGHUP reads it again, with no change.
    daemon.signal(libc::SIGHUP);
    daemon.wait_for_line(|line| line.matches("MTU 1300").count() == 1 && line.contains("limit"));
}

#[test]
fn term_takes_it_off_kill_9_leaves_it_clamping_a_restart_replaces_it() {
    require_netns!();
    let topology = topology_1400();
    let r = topology.r.clone();
    // TERM: off, exit 0, the next SYN passes as the link's own.
    let daemon = Classifier::start(&r, &["-i", R_B_IF]);
    let (status, log) = daemon.end_with(libc::SIGTERM);
    assert_eq!(status.code(), Some(0), "{log:?}");
    assert!(
        log.iter().any(|l| l.contains("taken off egress")),
        "{log:?}"
    );
    assert!(filters(&r, R_B_IF, "egress").is_empty());
    assert_handshake(&topology, Family::V4, 1460, 1460);

    // kill -9: the filter stays and clamps to the last limit.
    let daemon = Classifier::start(&r, &["-i", R_B_IF, "-m", "1300"]);
    let (status, _) = daemon.end_with(libc::SIGKILL);
    assert_eq!(status.code(), None, "killed by a signal");
    assert_eq!(filters(&r, R_B_IF, "egress").len(), 1);
    assert_handshake(&topology, Family::V4, 1260, 1460);

    // A new daemon replaces that program: still one filter, the new limit.
    let daemon = Classifier::start(&r, &["-i", R_B_IF]);
    assert_eq!(filters(&r, R_B_IF, "egress").len(), 1);
    assert_handshake(&topology, Family::V4, 1360, 1460);

    // A second daemon on the same interface replaces the first one's; the first, stopped
    // later, leaves the second's alone.
    let second = Classifier::start(&r, &["-i", R_B_IF, "-m", "1200"]);
    assert_eq!(filters(&r, R_B_IF, "egress").len(), 1);
    assert_handshake(&topology, Family::V4, 1160, 1460);
    let (status, log) = daemon.end_with(libc::SIGTERM);
    assert_eq!(status.code(), Some(0));
    assert!(log.iter().any(|l| l.contains("another's now")), "{log:?}");
    assert_handshake(&topology, Family::V4, 1160, 1460);
    let (status, _) = second.end_with(libc::SIGTERM);
    assert_eq!(status.code(), Some(0));
    assert!(filters(&r, R_B_IF, "egress").is_empty());
}

#[test]
fn two_interfaces_two_daemons() {
    require_netns!();
    let topology = topology_1400();
    let _toward_b = Classifier::start(&topology.r, &["-i", R_B_IF]);
    let _toward_a = Classifier::start(&topology.r, &["-i", R_A_IF, "-m", "1300"]);
    // The SYN leaves r through r-b, the SYN-ACK through r-a: each clamped by its own.
    for family in FAMILIES {
        assert_handshake(
            &topology,
            family,
            family.mss_for_mtu(1400),
            family.mss_for_mtu(1300),
        );
    }
}

/// A veth pair r-x — x-b between r and b, 192.0.2.0/24 (TEST-NET-1) on it, offloads left as
/// the kernel sets them.
fn add_second_link(topology: &Topology) {
    run(
        "ip",
        &[
            "link",
            "add",
            "r-x",
            "netns",
            &topology.r,
            "type",
            "veth",
            "peer",
            "name",
            "x-b",
            "netns",
            &topology.b,
        ],
    );
    for (ns, iface, address) in [
        (&topology.r, "r-x", "192.0.2.1/24"),
        (&topology.b, "x-b", "192.0.2.2/24"),
    ] {
        run("ip", &["-n", ns, "addr", "add", address, "dev", iface]);
        run("ip", &["-n", ns, "link", "set", iface, "up"]);
    }
}

#[test]
fn a_missing_interface_is_attached_when_it_appears_and_again_when_it_comes_back() {
    require_netns!();
    let topology = topology_1400();
    let daemon = Classifier::start(&topology.r, &["-i", "r-x", "-m", "1300"]);
    assert!(daemon
        .log()
        .iter()
        .any(|l| l.contains("on r-x egress once it exists (waiting for interface)")));
    assert!(filters(&topology.r, R_B_IF, "egress").is_empty());
    let b = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)), PORT);
    for round in ["appeared", "came back"] {
        add_second_link(&topology);
        daemon.wait_for_line(|line| line.contains("eBPF classifier attached"));
        assert_eq!(filters(&topology.r, "r-x", "egress").len(), 1, "{round}");
        let _listener = listen(&topology.b, b);
        let at_b = Capture::open(&topology.b, "x-b");
        let _stream = connect(&topology.r, b).unwrap();
        let syn = only(&at_b.received_syns(), "SYN at b over x").clone();
        assert_eq!(syn.mss(), 1260, "{round}: {syn}");
        run("ip", &["-n", &topology.r, "link", "del", "r-x"]);
        daemon.wait_for_line(|line| line.contains("interface gone"));
        // Forget the lines seen so far: the next round waits for new ones.
        daemon.log.lock().unwrap().clear();
    }
}

/// A tun device in r (ARPHRD_NONE: IP packets without a link header, as WireGuard's and
/// PPP's), 203.0.113.253/30 and 2001:db8:7::1/64 on it; what r sends through it is read here
/// as the far end would read it. (This kernel has no ipip, ip6tnl or WireGuard modules: tun
/// is the IP-only device it has.)
struct Tun(std::fs::File);

impl Tun {
    fn new(topology: &Topology) -> Tun {
        let file = in_netns(&topology.r, || {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/net/tun")?;
            // SAFETY: ifreq is plain old data; all-zero is a valid value.
            let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
            for (dst, &src) in ifr.ifr_name.iter_mut().zip(b"t0") {
                *dst = src as libc::c_char;
            }
            ifr.ifr_ifru.ifru_flags = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
            use std::os::fd::AsRawFd;
            // SAFETY: TUNSETIFF reads and writes the ifreq, which outlives the call.
            let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut ifr) };
            if rc < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: F_SETFL with an int flag on our own descriptor.
            unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
            Ok(file)
        })
        .expect("tun device t0 in r");
        let r = &topology.r;
        run(
            "ip",
            &["-n", r, "addr", "add", "203.0.113.253/30", "dev", "t0"],
        );
        run(
            "ip",
            &[
                "-n",
                r,
                "addr",
                "add",
                "2001:db8:7::1/64",
                "dev",
                "t0",
                "nodad",
            ],
        );
        run("ip", &["-n", r, "link", "set", "t0", "up"]);
        Tun(file)
    }

    /// The next TCP SYN r sent through the tunnel.
    fn next_syn(&mut self) -> Segment {
        use std::io::Read;
        let mut packet = vec![0u8; 65536];
        wait_until(NOTICE_WAIT, || match self.0.read(&mut packet) {
            Ok(n) => Segment::parse_ip(&packet[..n], true).filter(|s| s.flags() & 0x12 == 0x02),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(10));
                None
            }
            Err(e) => panic!("read from t0: {e}"),
        })
        .expect("a SYN through t0")
    }
}

/// Starts a connection from r to `to`, which nobody answers: only its SYN matters.
fn syn_from_r(topology: &Topology, to: SocketAddr) {
    let r = topology.r.clone();
    thread::spawn(move || {
        let _ = in_netns(&r, move || {
            std::net::TcpStream::connect_timeout(&to, Duration::from_millis(500))
        });
    });
}

#[test]
fn on_an_ip_only_device_syns_clamped_ipv4_ipv6_and_a_long_one() {
    require_netns!();
    let topology = topology_1400();
    let mut tun = Tun::new(&topology);
    let daemon = Classifier::start(&topology.r, &["-i", "t0", "-m", "1300"]);
    for (family, far) in [(Family::V4, "203.0.113.254"), (Family::V6, "2001:db8:7::2")] {
        syn_from_r(&topology, SocketAddr::new(far.parse().unwrap(), PORT));
        let syn = tun.next_syn();
        assert_eq!(syn.mss(), family.mss_for_mtu(1300), "{syn}");
        assert!(syn.checksum_valid(), "{syn}");
    }
    // A raw SYN with 200 bytes of data from r through the tunnel.
    let (near, far) = (
        Ipv4Addr::new(203, 0, 113, 253),
        Ipv4Addr::new(203, 0, 113, 254),
    );
    let mut packet = raw_ipv4_syn(&[0x02, 0x04, 0x23, 0x00], 200);
    packet[12..16].copy_from_slice(&near.octets());
    packet[16..20].copy_from_slice(&far.octets());
    packet[36..38].fill(0);
    let checksum = tcp_checksum(IpAddr::V4(near), IpAddr::V4(far), &packet[20..]);
    packet[36..38].copy_from_slice(&checksum.to_be_bytes());
    let sent = packet.clone();
    in_netns(&topology.r, move || {
        let fd = socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW).unwrap();
        let to = sockaddr(IpAddr::V4(far));
        assert_eq!(send_raw(fd.as_fd(), &packet, &to).unwrap(), packet.len());
    });
    let syn = tun.next_syn();
    assert_eq!(syn.mss(), 1260, "{syn}");
    assert!(syn.checksum_valid(), "{syn}");
    assert_eq!(syn.tcp[24..], sent[44..], "data changed");
    assert!(daemon.counter("clamped") >= 3);
}

#[test]
fn privilege_kept_is_net_admin_and_bpf_under_seccomp() {
    require_netns!();
    let topology = topology_1400();
    let daemon = Classifier::start(&topology.r, &["-i", R_B_IF, "-u", "nobody"]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.child.id())).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .unwrap()
            .trim()
            .to_string()
    };
    // CAP_NET_ADMIN (12) and CAP_BPF (39).
    assert_eq!(field("CapEff"), "0000008000001000");
    assert_eq!(field("CapBnd"), "0000008000001000");
    assert_eq!(field("NoNewPrivs"), "1");
    assert_eq!(field("Seccomp"), "2");
    // Confined, it still writes the map (an MTU change) and reads it (USR1).
    topology.set_r_mtu(R_B_IF, 1300);
    daemon.wait_for_line(|line| line.contains("MTU 1300"));
    assert_handshake(&topology, Family::V4, 1260, 1460);
    assert_eq!(daemon.counter("clamped"), 1);
}

/// Without the privilege to load it, the daemon says so in one line that points to the
/// NFQUEUE mode, and exits 69: no silent fallback.
#[test]
fn a_refused_program_is_one_line_and_exit_69() {
    require_netns!();
    let topology = topology_1400();
    let output = Command::new("ip")
        .args([
            "netns",
            "exec",
            &topology.r,
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
        ])
        .args(["--clear-groups", "--inh-caps=-all", "--bounding-set=-all"])
        .arg(common::binary())
        .args(["-e", "-f", "-i", R_B_IF])
        .output()
        .expect("setpriv runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(69), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("tcpmssd: can't load the eBPF classifier (classifier/ethernet): ")
            && lines[0].contains("Operation not permitted")
            && lines[0].ends_with("the NFQUEUE mode (-p) needs no eBPF"),
        "{stderr}"
    );
    assert!(filters(&topology.r, R_B_IF, "egress").is_empty());
}
