//! Three network namespaces a — r — b joined by veth pairs, with r forwarding between them.
//!
//! ```text
//!   a                     r                                b
//!   a-r 198.51.100.1 ---- r-a 198.51.100.2
//!       2001:db8:1::1         2001:db8:1::2
//!                         r-b 203.0.113.2 ---------------- b-r 203.0.113.1
//!                             2001:db8:2::2                    2001:db8:2::1
//! ```
//!
//! Only documentation addresses are used and every route stays inside the namespaces, so no
//! packet of a test can leave them. Names carry the test process's pid and a counter, so tests
//! run in parallel and a crashed run's leftovers are recognisable (and removed before reuse).

use std::fs::File;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU16, Ordering};
use std::thread::{self, JoinHandle};

/// a's interface toward r.
pub const A_IF: &str = "a-r";
/// r's interface toward a: the link whose MTU the black-hole tests lower.
pub const R_A_IF: &str = "r-a";
/// r's interface toward b.
pub const R_B_IF: &str = "r-b";
/// b's interface toward r: where SYNs from a are captured.
pub const B_IF: &str = "b-r";

/// The MTU every veth starts with.
pub const LINK_MTU: u16 = 1500;

/// The address family of a connection from a to b.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// IP + TCP header bytes without options: MSS = MTU − this.
    pub fn overhead(self) -> u16 {
        match self {
            Family::V4 => 40,
            Family::V6 => 60,
        }
    }

    /// The largest MSS an MTU allows for this family.
    pub fn mss_for_mtu(self, mtu: u16) -> u16 {
        mtu - self.overhead()
    }

    pub fn a(self) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)),
            Family::V6 => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1)),
        }
    }

    pub fn b(self) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1)),
            Family::V6 => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 1)),
        }
    }

    /// A TCP address on b that the tests listen on.
    pub fn b_port(self, port: u16) -> SocketAddr {
        SocketAddr::new(self.b(), port)
    }

    /// The firewall command for this family.
    pub fn iptables(self) -> &'static str {
        match self {
            Family::V4 => "iptables",
            Family::V6 => "ip6tables",
        }
    }

    /// a's route toward b's network: `ip` family flag, prefix, gateway (r).
    fn a_route(self) -> [&'static str; 3] {
        match self {
            Family::V4 => ["-4", "203.0.113.0/24", "198.51.100.2"],
            Family::V6 => ["-6", "2001:db8:2::/64", "2001:db8:1::2"],
        }
    }
}

/// Both families, for tests that run the same scenario over each.
pub const FAMILIES: [Family; 2] = [Family::V4, Family::V6];

/// Numbers topologies within this process: namespace names and NFQUEUE queue numbers.
static NEXT_ID: AtomicU16 = AtomicU16::new(1);

/// The three namespaces; dropping it kills whatever runs in them and deletes them.
pub struct Topology {
    pub a: String,
    pub r: String,
    pub b: String,
    id: u16,
}

impl Topology {
    /// Builds a — r — b with addresses, routes and forwarding, ready for traffic.
    pub fn new() -> Topology {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let name = |role: &str| format!("tmss-{}-{id}-{role}", std::process::id());
        let topology = Topology {
            a: name("a"),
            r: name("r"),
            b: name("b"),
            id,
        };
        // The guard exists before the first namespace, so a failure half-way still cleans up.
        for ns in topology.namespaces() {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
            run("ip", &["netns", "add", ns]);
            // DAD would keep the IPv6 addresses (also the link-local ones ND uses as source)
            // tentative for about a second after link-up; the first connection would fail.
            // `default` applies to the veths created below, directly inside this namespace.
            topology.exec(
                ns,
                &[
                    "sysctl",
                    "-qw",
                    "net.ipv6.conf.all.accept_dad=0",
                    "net.ipv6.conf.default.accept_dad=0",
                ],
            );
            run("ip", &["-n", ns, "link", "set", "lo", "up"]);
        }
        let (a, r, b) = (&topology.a, &topology.r, &topology.b);
        // Created directly inside the namespaces, so equal names in parallel tests never meet.
        run(
            "ip",
            &[
                "link", "add", A_IF, "netns", a, "type", "veth", "peer", "name", R_A_IF, "netns", r,
            ],
        );
        run(
            "ip",
            &[
                "link", "add", R_B_IF, "netns", r, "type", "veth", "peer", "name", B_IF, "netns", b,
            ],
        );
        for (ns, iface, v4, v6) in [
            (a, A_IF, "198.51.100.1/24", "2001:db8:1::1/64"),
            (r, R_A_IF, "198.51.100.2/24", "2001:db8:1::2/64"),
            (r, R_B_IF, "203.0.113.2/24", "2001:db8:2::2/64"),
            (b, B_IF, "203.0.113.1/24", "2001:db8:2::1/64"),
        ] {
            run("ip", &["-n", ns, "addr", "add", v4, "dev", iface]);
            run("ip", &["-n", ns, "addr", "add", v6, "dev", iface, "nodad"]);
            // A veth that offloads the TCP checksum carries locally sent segments with only
            // the pseudo-header sum in the field (CHECKSUM_PARTIAL), to the peer namespace and
            // through r's forwarding alike: every capture would show a "bad" checksum, and a
            // clamper's checksum update could not be checked. Off, the sender computes it.
            // (This also turns TSO off, so r sees wire-sized segments, as on a real link.)
            let owned = iface.to_string();
            in_netns(ns, move || disable_tx_checksum(&owned))
                .unwrap_or_else(|e| panic!("{ns}/{iface}: tx checksum offload off: {e}"));
            run("ip", &["-n", ns, "link", "set", iface, "up"]);
        }
        topology.exec(
            r,
            &[
                "sysctl",
                "-qw",
                "net.ipv4.ip_forward=1",
                "net.ipv6.conf.all.forwarding=1",
            ],
        );
        for family in FAMILIES {
            let [flag, prefix, via] = family.a_route();
            run("ip", &["-n", a, flag, "route", "add", prefix, "via", via]);
        }
        run(
            "ip",
            &[
                "-n",
                b,
                "-4",
                "route",
                "add",
                "198.51.100.0/24",
                "via",
                "203.0.113.2",
            ],
        );
        run(
            "ip",
            &[
                "-n",
                b,
                "-6",
                "route",
                "add",
                "2001:db8:1::/64",
                "via",
                "2001:db8:2::2",
            ],
        );
        topology
    }

    fn namespaces(&self) -> [&str; 3] {
        [&self.a, &self.r, &self.b]
    }

    /// A number unique to this topology within the test process (queue numbers, ports).
    pub fn id(&self) -> u16 {
        self.id
    }

    /// Runs `args` inside namespace `ns`; panics with its stderr unless it succeeds.
    pub fn exec(&self, ns: &str, args: &[&str]) -> String {
        let mut full = vec!["netns", "exec", ns];
        full.extend_from_slice(args);
        run("ip", &full)
    }

    /// Lowers the MSS a advertises toward b, through the route's `advmss`.
    pub fn set_a_advmss(&self, family: Family, mss: u16) {
        let [flag, prefix, via] = family.a_route();
        let mss = mss.to_string();
        run(
            "ip",
            &[
                "-n", &self.a, flag, "route", "change", prefix, "via", via, "advmss", &mss,
            ],
        );
    }

    /// Sets the MTU of one of r's interfaces.
    pub fn set_r_mtu(&self, iface: &str, mtu: u16) {
        run(
            "ip",
            &["-n", &self.r, "link", "set", iface, "mtu", &mtu.to_string()],
        );
    }

    /// The PMTU black hole: r's link toward a gets `mtu`, and r drops the ICMP
    /// "fragmentation needed" / ICMPv6 "packet too big" it would send to b about it.
    pub fn black_hole(&self, mtu: u16) {
        // Only r's end is lowered: a keeps 1500 and advertises MSS 1460, which is what a host
        // behind such a link does. (a's own small packets still fit through r-a.)
        self.set_r_mtu(R_A_IF, mtu);
        for (family, icmp) in [
            (
                Family::V4,
                ["-p", "icmp", "--icmp-type", "fragmentation-needed"],
            ),
            (
                Family::V6,
                ["-p", "icmpv6", "--icmpv6-type", "packet-too-big"],
            ),
        ] {
            let mut args = vec![family.iptables(), "-A", "OUTPUT"];
            args.extend_from_slice(&icmp);
            args.extend_from_slice(&["-j", "DROP"]);
            self.exec(&self.r, &args);
        }
    }

    /// How many ICMP errors r's black-hole rule dropped for `family`.
    pub fn black_hole_drops(&self, family: Family) -> u64 {
        let listing = self.exec(
            &self.r,
            &[family.iptables(), "-L", "OUTPUT", "-v", "-x", "-n"],
        );
        listing
            .lines()
            .find(|line| line.contains("DROP"))
            .and_then(|line| line.split_whitespace().next())
            .and_then(|packets| packets.parse().ok())
            .unwrap_or_else(|| panic!("no DROP rule in r's OUTPUT:\n{listing}"))
    }

    /// The path of a namespace's handle, as `ip netns` keeps it.
    pub fn handle(ns: &str) -> String {
        format!("/var/run/netns/{ns}")
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for ns in self.namespaces() {
            // Whatever a test started in the namespace (a daemon that detached, too).
            if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    if let Ok(pid) = pid.parse::<libc::pid_t>() {
                        // SAFETY: kill(2) with a pid listed in our own namespace; no memory.
                        unsafe { libc::kill(pid, libc::SIGKILL) };
                    }
                }
            }
        }
        for ns in self.namespaces() {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// Runs a command, panicking with its output unless it exits 0; returns its stdout.
pub fn run(program: &str, args: &[&str]) -> String {
    let output = output_of(program, args);
    assert!(
        output.status.success(),
        "{program} {}: {}\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn output_of(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

/// Why the end-to-end tests cannot run here, if they cannot: not root, or no `ip netns`.
pub fn skip_reason() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root: network namespaces need CAP_SYS_ADMIN".into());
    }
    match Command::new("ip").args(["netns", "list"]).output() {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "`ip netns list` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!("`ip` not runnable: {e}")),
    }
}

/// Runs `f` on a new thread that has joined namespace `ns`. Sockets created there belong to
/// `ns` for good, so they can be handed back and used from any thread.
pub fn spawn_in<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    let handle = File::open(Topology::handle(ns))
        .unwrap_or_else(|e| panic!("{}: {e}", Topology::handle(ns)));
    thread::spawn(move || {
        // SAFETY: setns with a namespace file we opened; it changes only this thread's netns.
        let rc = unsafe { libc::setns(handle.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", io::Error::last_os_error());
        f()
    })
}

/// [`spawn_in`], waiting for the result.
pub fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    spawn_in(ns, f)
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// A socket of the calling thread's namespace, closed on drop.
pub fn socket(domain: i32, kind: i32, protocol: i32) -> io::Result<OwnedFd> {
    // SAFETY: socket(2) has no memory arguments; a non-negative result is a new descriptor.
    let fd = unsafe { libc::socket(domain, kind | libc::SOCK_CLOEXEC, protocol) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just returned by socket(2) and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `ethtool -K iface tx off` without ethtool (not installed everywhere): the legacy
/// ETHTOOL_STXCSUM ioctl, in the calling thread's namespace.
fn disable_tx_checksum(iface: &str) -> io::Result<()> {
    set_tx_checksum(iface, false)
}

/// Turns the transmit checksum offload of `iface` (in the calling thread's namespace) on or
/// off, as `ethtool -K IFACE tx on|off` does.
pub fn set_tx_checksum(iface: &str, on: bool) -> io::Result<()> {
    const ETHTOOL_STXCSUM: u32 = 0x17; // linux/ethtool.h
    #[repr(C)]
    struct EthtoolValue {
        cmd: u32,
        data: u32,
    }
    let mut value = EthtoolValue {
        cmd: ETHTOOL_STXCSUM,
        data: u32::from(on),
    };
    let fd = socket(libc::AF_INET, libc::SOCK_DGRAM, 0)?;
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    assert!(iface.len() < libc::IFNAMSIZ);
    for (dst, src) in ifr.ifr_name.iter_mut().zip(iface.bytes()) {
        *dst = src as libc::c_char;
    }
    ifr.ifr_ifru.ifru_data = (&mut value as *mut EthtoolValue).cast();
    // SAFETY: SIOCETHTOOL reads the ifreq and the ethtool_value it points to; both outlive it.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCETHTOOL, &mut ifr) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
