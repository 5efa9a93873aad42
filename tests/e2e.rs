//! End to end through the Linux kernel: namespaces a — r — b, real TCP stacks, the MSS clamped
//! on r. Root only (skipped otherwise, with the reason).
//!
//! Each scenario takes the clamper as a parameter. `kernel_*` tests run it with the kernel's
//! TCPMSS target: they prove the scenario and this harness can pass (and fail: the `no_clamper_*`
//! tests) independently of tcpmssd. `daemon_*` tests run the same scenario with tcpmssd behind
//! NFQUEUE, plus what only the daemon has (`-i`, `-b`, detaching).
// Network namespaces, AF_PACKET and NFQUEUE are Linux's.
#![cfg(target_os = "linux")]

// Shared with reliability.rs; each file uses part of it.
#[allow(dead_code)]
mod common;

use std::fs::File;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::capture::{tcp_checksum, Capture, Segment};
use common::clamper::{
    expected_mss, in_namespace, queue_number, queue_stats, queue_to, Clamper, Daemon, DaemonSetup,
    Queued, DAEMON_WAIT,
};
use common::flood::{send_raw, send_syns, sockaddr, Arrivals};
use common::handshake::{handshake, only, Handshake, PORT};
use common::netns::{
    in_netns, socket, Family, Topology, A_IF, B_IF, FAMILIES, LINK_MTU, R_A_IF, R_B_IF,
};
use common::transfer::{connect, download, listen, Failure, Server};
use common::wait_until;

/// The MTU every clamper in these tests works to: MSS 1360 for IPv4, 1340 for IPv6.
const MTU: u16 = 1400;
/// How long a download may take before it counts as stalled. A completing one takes
/// milliseconds inside the namespaces; a black-holed one makes no progress at all.
const STALL_DEADLINE: Duration = Duration::from_secs(5);
const MIB: usize = 1 << 20;

fn kernel() -> Clamper {
    Clamper::Kernel { mtu: MTU }
}

fn daemon_m() -> Clamper {
    Clamper::daemon(&["-m", "1400"])
}

/// The MSS a host on a 1500-byte link advertises: 1460 (IPv4), 1440 (IPv6).
fn unclamped(family: Family) -> u16 {
    family.mss_for_mtu(LINK_MTU)
}

// ---- 1. SYNs through r: clamped to MTU − 40 / MTU − 60, checksum valid --------------------

/// An IPv4 SYN from a to b's port 9 with MSS 8960 that carries `data_len` bytes of data, as a
/// TCP Fast Open SYN does; IP id and checksum are left to the kernel (raw(7), IPPROTO_RAW).
fn ipv4_syn_with_data(data_len: usize) -> Vec<u8> {
    let (IpAddr::V4(src), IpAddr::V4(dst)) = (Family::V4.a(), Family::V4.b()) else {
        unreachable!("IPv4 addresses");
    };
    let tcp_len = 24 + data_len;
    let total_len = u16::try_from(20 + tcp_len).expect("fits an IPv4 packet");
    let mut packet = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0]; // IHL 5, DF, TTL 64, TCP
    packet[2..4].copy_from_slice(&total_len.to_be_bytes());
    packet.extend_from_slice(&src.octets());
    packet.extend_from_slice(&dst.octets());
    packet.extend_from_slice(&[0xc3, 0x50, 0, 9]); // ports 50000 -> 9
    packet.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]); // seq 1, ack 0
    packet.extend_from_slice(&[0x60, 0x02, 0xfa, 0xf0]); // data offset 6, SYN, window
    packet.extend_from_slice(&[0, 0, 0, 0]); // checksum (below), urgent pointer
    packet.extend_from_slice(&[0x02, 0x04, 0x23, 0x00]); // MSS 8960
    packet.extend((0..data_len).map(|i| i as u8));
    let checksum = tcp_checksum(IpAddr::V4(src), IpAddr::V4(dst), &packet[20..]);
    packet[36..38].copy_from_slice(&checksum.to_be_bytes());
    packet
}

/// Raises every link of a — r — b to a 9000-byte MTU.
fn jumbo_links(topology: &Topology) {
    for (ns, iface) in [
        (&topology.a, A_IF),
        (&topology.r, R_A_IF),
        (&topology.r, R_B_IF),
        (&topology.b, B_IF),
    ] {
        topology.exec(ns, &["ip", "link", "set", iface, "mtu", "9000"]);
    }
}

/// Sends the whole IPv4 `packet` `count` times from a's raw socket to its destination address;
/// each send must take all of it.
fn send_from_a(topology: &Topology, packet: Vec<u8>, count: usize) {
    in_netns(&topology.a, move || {
        let fd = socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW).expect("raw socket");
        let destination: [u8; 4] = packet[16..20].try_into().unwrap();
        let to = sockaddr(IpAddr::from(destination));
        for _ in 0..count {
            assert_eq!(
                send_raw(fd.as_fd(), &packet, &to).expect("sendto"),
                packet.len()
            );
        }
    });
}

/// A SYN with 4000 bytes of data on a 9000-byte link (TCP Fast Open on a jumbo link) arrives
/// clamped and whole: the daemon must read its message whole, however it lays out its reads (a
/// read into a smaller slot cuts it, and a cut packet can only be accepted unclamped).
#[test]
fn daemon_syn_with_4000_bytes_of_data_on_a_jumbo_link_clamped_and_whole() {
    require_netns!();
    let topology = Topology::new();
    jumbo_links(&topology);
    let _daemon = daemon_m().install(&topology);
    let capture = Capture::open(&topology.b, B_IF);
    let sent = ipv4_syn_with_data(4000);
    send_from_a(&topology, sent.clone(), 1);
    let syn = wait_until(DAEMON_WAIT, || capture.received_syns().into_iter().next())
        .expect("the SYN reaches b");
    assert_eq!(
        syn.mss_values(),
        [Family::V4.mss_for_mtu(MTU)],
        "SYN at b: {syn}"
    );
    assert!(syn.checksum_valid(), "SYN at b: {syn}");
    assert_eq!(syn.tcp.len(), sent.len() - 20, "SYN at b: {syn}");
    assert_eq!(syn.tcp[24..], sent[44..], "the data arrives unchanged");
}

/// Waits until the daemon's queue has had `count` packets queued in all.
fn await_queued(daemon: &Daemon, count: u32) {
    let queued = wait_until(DAEMON_WAIT, || {
        (daemon.queue_stats().id_sequence >= count).then_some(())
    });
    assert!(
        queued.is_some(),
        "queued: {:?}, expected {count}",
        daemon.queue_stats()
    );
}

/// Eight SYNs with 4000 bytes of data each, queued while the daemon is stopped, reach it in one
/// read: every one runs past its slot into the slots after it, so only the last is read
/// whole; the other seven must be queued again (NF_REPEAT), not passed unclamped, and then read
/// one at a time, so that each is repeated once. All eight arrive clamped and whole.
#[test]
fn daemon_8_jumbo_syns_in_one_read_7_repeated_once_all_clamped_and_whole() {
    require_netns!();
    const SYNS: usize = 8;
    let topology = Topology::new();
    jumbo_links(&topology);
    let daemon = daemon_m().install(&topology).expect("a daemon");
    let capture = Capture::open(&topology.b, B_IF);
    let sent = ipv4_syn_with_data(4000);
    daemon.signal(libc::SIGSTOP);
    send_from_a(&topology, sent.clone(), SYNS);
    await_queued(&daemon, SYNS as u32);
    daemon.signal(libc::SIGCONT);
    // Each read of the capture returns what arrived since the last.
    let mut syns = Vec::new();
    let all = wait_until(DAEMON_WAIT, || {
        syns.extend(capture.received_syns());
        (syns.len() >= SYNS).then_some(())
    });
    assert!(all.is_some(), "{} SYNs at b", syns.len());
    // A SYN passed twice would come after the rest: give it the time to.
    std::thread::sleep(Duration::from_millis(200));
    syns.extend(capture.received_syns());
    for syn in &syns {
        assert_eq!(
            syn.mss_values(),
            [Family::V4.mss_for_mtu(MTU)],
            "SYN at b: {syn}"
        );
        assert!(syn.checksum_valid(), "SYN at b: {syn}");
        assert_eq!(syn.tcp[24..], sent[44..], "the data arrives unchanged");
    }
    assert_eq!(syns.len(), SYNS, "no SYN twice");
    assert_eq!(daemon.counter("repeated"), SYNS as u64 - 1);
    assert_eq!(daemon.counter("clamped"), SYNS as u64);
}

/// 100 SYNs queued while the daemon is stopped are read in full batches (a read per batch of
/// slots) and all arrive clamped, none lost, without a heap allocation.
#[test]
fn daemon_100_syns_queued_while_stopped_read_in_full_batches_all_clamped() {
    require_netns!();
    const SYNS: u64 = 100;
    let topology = Topology::new();
    let daemon = daemon_m().install(&topology).expect("a daemon");
    let arrivals = Arrivals::install(&topology, Family::V4, Family::V4.mss_for_mtu(MTU));
    let before = daemon.report();
    daemon.signal(libc::SIGSTOP);
    send_syns(&topology, Family::V4, SYNS);
    await_queued(&daemon, SYNS as u32);
    daemon.signal(libc::SIGCONT);
    let arrived = wait_until(DAEMON_WAIT, || {
        let arrived = arrivals.read(&topology);
        (arrived.total() >= SYNS).then_some(arrived)
    })
    .unwrap_or_else(|| panic!("arrived at b: {:?}", arrivals.read(&topology)));
    assert_eq!((arrived.clamped, arrived.other), (SYNS, 0));
    let after = daemon.report();
    assert_eq!(after.packets - before.packets, SYNS);
    assert_eq!(
        after.allocations, before.allocations,
        "heap allocations grew"
    );
}

fn syn_clamped_with_valid_checksum(clamper: Clamper, family: Family) {
    require_netns!();
    let topology = Topology::new();
    let _clamper = clamper.install(&topology);
    let Handshake { syn, syn_ack } = handshake(&topology, family);
    // a and b advertise more than the limit, so the clamp lands exactly on it.
    let limit = family.mss_for_mtu(MTU);
    assert_eq!(syn.mss(), limit, "SYN at b: {syn}");
    assert!(syn.checksum_valid(), "SYN at b: {syn}");
    assert_eq!(syn_ack.mss(), limit, "SYN-ACK at a: {syn_ack}");
    assert!(syn_ack.checksum_valid(), "SYN-ACK at a: {syn_ack}");
}

#[test]
fn kernel_ipv4_syn_clamped_to_mtu_minus_40_checksum_valid() {
    syn_clamped_with_valid_checksum(kernel(), Family::V4);
}

#[test]
fn kernel_ipv6_syn_clamped_to_mtu_minus_60_checksum_valid() {
    syn_clamped_with_valid_checksum(kernel(), Family::V6);
}

#[test]
fn daemon_ipv4_syn_clamped_to_mtu_minus_40_checksum_valid() {
    syn_clamped_with_valid_checksum(daemon_m(), Family::V4);
}

#[test]
fn daemon_ipv6_syn_clamped_to_mtu_minus_60_checksum_valid() {
    syn_clamped_with_valid_checksum(daemon_m(), Family::V6);
}

/// Without a clamper the same handshake keeps 1460 / 1440: the clamp tests above can fail.
#[test]
fn no_clamper_syn_arrives_with_link_mss() {
    require_netns!();
    let topology = Topology::new();
    for family in FAMILIES {
        let Handshake { syn, syn_ack } = handshake(&topology, family);
        assert_eq!(syn.mss(), unclamped(family), "SYN at b: {syn}");
        assert!(syn.checksum_valid(), "SYN at b: {syn}");
        assert_eq!(syn_ack.mss(), unclamped(family), "SYN-ACK at a: {syn_ack}");
    }
}

// ---- 1b. A SYN already below the limit passes byte for byte ------------------------------

/// Connects a to b once and returns the SYN as it entered r and as it arrived at b.
fn syn_entering_r_and_at_b(topology: &Topology, family: Family) -> (Segment, Segment) {
    let _listener = listen(&topology.b, family.b_port(PORT));
    let into_r = Capture::open(&topology.r, R_A_IF);
    let at_b = Capture::open(&topology.b, B_IF);
    let _stream = connect(&topology.a, family.b_port(PORT))
        .unwrap_or_else(|e| panic!("{family:?} connect a -> b: {e}"));
    let sent = only(&into_r.received_syns(), "SYN entering r").clone();
    let arrived = only(&at_b.received_syns(), "SYN at b").clone();
    (sent, arrived)
}

fn syn_below_limit_arrives_unchanged(clamper: Clamper, family: Family) {
    require_netns!();
    let topology = Topology::new();
    let _clamper = clamper.install(&topology);
    topology.set_a_advmss(family, 1000);
    let (sent, arrived) = syn_entering_r_and_at_b(&topology, family);
    assert_eq!(arrived.mss(), 1000, "SYN at b: {arrived}");
    // The whole TCP segment, checksum included; only the IP header (TTL / hop limit) changes.
    assert_eq!(
        arrived.tcp, sent.tcp,
        "r changed the SYN:\n  {sent}\n  {arrived}"
    );
    assert!(arrived.checksum_valid(), "SYN at b: {arrived}");
}

#[test]
fn kernel_ipv4_syn_below_limit_arrives_unchanged() {
    syn_below_limit_arrives_unchanged(kernel(), Family::V4);
}

#[test]
fn kernel_ipv6_syn_below_limit_arrives_unchanged() {
    syn_below_limit_arrives_unchanged(kernel(), Family::V6);
}

#[test]
fn daemon_ipv4_syn_below_limit_arrives_unchanged() {
    syn_below_limit_arrives_unchanged(daemon_m(), Family::V4);
}

#[test]
fn daemon_ipv6_syn_below_limit_arrives_unchanged() {
    syn_below_limit_arrives_unchanged(daemon_m(), Family::V6);
}

// ---- 2. Long transfers through the clamper ----------------------------------------------

/// a downloads 8 MiB from b over each family; every byte is checked.
fn transfer_8mib_byte_exact(topology: &Topology) {
    for family in FAMILIES {
        let server = Server::start(&topology.b, family.b_port(PORT), 8 * MIB);
        let took = download(
            &topology.a,
            server.address,
            8 * MIB,
            Duration::from_secs(20),
        )
        .unwrap_or_else(|failure| panic!("{family:?} 8 MiB download: {failure}"));
        server.finish().expect("server sent everything");
        eprintln!("{family:?}: 8 MiB in {took:?}");
    }
}

#[test]
fn kernel_8mib_transfer_byte_exact() {
    require_netns!();
    let topology = Topology::new();
    let _clamper = kernel().install(&topology);
    transfer_8mib_byte_exact(&topology);
}

#[test]
fn daemon_every_tcp_packet_queued_8mib_transfer_byte_exact_without_allocating() {
    require_netns!();
    let topology = Topology::new();
    let daemon = Clamper::Daemon(DaemonSetup {
        args: vec!["-m".into(), "1400".into()],
        chain: "FORWARD",
        queued: Queued::AllTcp,
        bypass: false,
    })
    .install(&topology)
    .expect("a daemon");
    let before = daemon.report();
    // Start-up allocates only what lexopt copies of the command line (`-v -p N -m 1400`): the
    // argument vector and one string per argument. Everything else lives in static or stack
    // buffers.
    assert!(
        before.allocations <= 1 + 5,
        "{} heap allocations before any traffic",
        before.allocations
    );
    transfer_8mib_byte_exact(&topology);
    let after = daemon.report();
    // Test 6 of the issue: no heap allocation while at least 10,000 packets pass.
    let passed = after.packets - before.packets;
    assert!(passed >= 10_000, "only {passed} packets reached the core");
    assert_eq!(
        after.allocations, before.allocations,
        "heap allocations grew while {passed} packets passed"
    );
    let stats = daemon.queue_stats();
    // 16 MiB of payload in segments of at most 1360 bytes, and their ACKs, all went through
    // the queue; none was dropped on the way to the daemon.
    assert!(
        stats.id_sequence as usize >= 16 * MIB / 1360,
        "only {} packets queued: {stats:?}",
        stats.id_sequence
    );
    assert_eq!(
        (stats.queue_dropped, stats.user_dropped),
        (0, 0),
        "{stats:?}"
    );
    assert_eq!(
        daemon.stop().code(),
        Some(0),
        "SIGTERM ends the daemon with 0"
    );
}

// ---- 3. The PMTU black hole --------------------------------------------------------------

/// r's link toward a has MTU 1400 and r's ICMP about it is dropped; a downloads 2 MiB from b.
/// Returns how the download ended and how many ICMP errors r dropped.
fn black_hole_download(clamper: Clamper, family: Family) -> (Result<Duration, Failure>, u64) {
    let topology = Topology::new();
    topology.black_hole(MTU);
    let _clamper = clamper.install(&topology);
    let server = Server::start(&topology.b, family.b_port(PORT), 2 * MIB);
    let result = download(&topology.a, server.address, 2 * MIB, STALL_DEADLINE);
    if result.is_ok() {
        server.finish().expect("server sent everything");
    }
    (result, topology.black_hole_drops(family))
}

fn black_hole_download_stalls_without_clamper(family: Family) {
    require_netns!();
    match black_hole_download(Clamper::None, family) {
        (Err(Failure::Stalled { received, .. }), drops) => {
            assert!(received < 2 * MIB);
            // The stall is the black hole's doing: r had ICMP to send and dropped it.
            assert!(drops > 0, "r dropped no ICMP, so something else stalled");
        }
        (Ok(took), _) => panic!("{family:?}: expected a stall, completed in {took:?}"),
        (Err(failure), _) => panic!("{family:?}: expected a stall: {failure}"),
    }
}

fn black_hole_download_completes(clamper: Clamper, family: Family) {
    require_netns!();
    let (result, drops) = black_hole_download(clamper, family);
    let took = result.unwrap_or_else(|failure| panic!("{family:?} download: {failure}"));
    eprintln!("{family:?}: 2 MiB through the black hole in {took:?}");
    // No segment was too big for r's small link, so r never had an ICMP error to drop.
    assert_eq!(
        drops, 0,
        "r dropped {drops} ICMP errors: some segment was too big"
    );
}

#[test]
fn no_clamper_black_hole_ipv4_download_stalls() {
    black_hole_download_stalls_without_clamper(Family::V4);
}

#[test]
fn no_clamper_black_hole_ipv6_download_stalls() {
    black_hole_download_stalls_without_clamper(Family::V6);
}

/// The control for the stall: with the ICMP errors let through, path MTU discovery alone
/// completes the same download, so the stall above is the black hole and nothing else.
#[test]
fn no_clamper_small_link_download_completes_when_icmp_passes() {
    require_netns!();
    let topology = Topology::new();
    topology.set_r_mtu(R_A_IF, MTU);
    for family in FAMILIES {
        let server = Server::start(&topology.b, family.b_port(PORT), 2 * MIB);
        download(&topology.a, server.address, 2 * MIB, STALL_DEADLINE)
            .unwrap_or_else(|failure| panic!("{family:?} download: {failure}"));
    }
}

#[test]
fn kernel_black_hole_ipv4_download_completes() {
    black_hole_download_completes(kernel(), Family::V4);
}

#[test]
fn kernel_black_hole_ipv6_download_completes() {
    black_hole_download_completes(kernel(), Family::V6);
}

#[test]
fn daemon_m_black_hole_ipv4_download_completes() {
    black_hole_download_completes(daemon_m(), Family::V4);
}

#[test]
fn daemon_m_black_hole_ipv6_download_completes() {
    black_hole_download_completes(daemon_m(), Family::V6);
}

#[test]
fn daemon_i_black_hole_ipv4_download_completes() {
    black_hole_download_completes(Clamper::daemon(&["-i", R_A_IF]), Family::V4);
}

#[test]
fn daemon_i_black_hole_ipv6_download_completes() {
    black_hole_download_completes(Clamper::daemon(&["-i", R_A_IF]), Family::V6);
}

// ---- 4. -i follows the interface's MTU ---------------------------------------------------

#[test]
fn daemon_i_mtu_lowered_while_running_next_syn_gets_new_mss() {
    require_netns!();
    let topology = Topology::new();
    topology.set_r_mtu(R_A_IF, MTU);
    let _daemon = Clamper::daemon(&["-i", R_A_IF]).install(&topology);
    for family in FAMILIES {
        let syn = handshake(&topology, family).syn;
        assert_eq!(
            syn.mss(),
            family.mss_for_mtu(MTU),
            "before the change: {syn}"
        );
    }
    topology.set_r_mtu(R_A_IF, 1300);
    // The daemon learns of the change from rtnetlink, asynchronously: allow it a moment, but
    // no connection may see anything but the old or the new limit meanwhile.
    for family in FAMILIES {
        let (old, new) = (family.mss_for_mtu(MTU), family.mss_for_mtu(1300));
        let start = Instant::now();
        loop {
            let syn = handshake(&topology, family).syn;
            assert!(syn.checksum_valid(), "{syn}");
            match syn.mss() {
                mss if mss == new => break,
                mss if mss == old && start.elapsed() < DAEMON_WAIT => {}
                _ => panic!("{family:?}: after MTU 1300 expected MSS {new}, got {syn}"),
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The MSS of the IPv4 SYN that reaches b, within [`DAEMON_WAIT`] of `wanted` showing up
/// (the daemon learns of link changes asynchronously); panics with the last one otherwise.
fn await_ipv4_mss(topology: &Topology, wanted: u16) {
    let start = Instant::now();
    loop {
        let syn = handshake(topology, Family::V4).syn;
        assert!(syn.checksum_valid(), "{syn}");
        if syn.mss() == wanted {
            return;
        }
        assert!(
            start.elapsed() < DAEMON_WAIT,
            "expected MSS {wanted}, still {syn}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn daemon_i_interface_gone_keeps_mtu_then_followed_back_and_sighup_rereads() {
    require_netns!();
    let topology = Topology::new();
    // The followed interface is a spare veth pair inside r (the dummy driver may be missing),
    // so deleting it leaves the path a - r - b intact.
    let add_dummy = |mtu: &str| {
        topology.exec(
            &topology.r,
            &[
                "ip", "link", "add", "dum0", "mtu", mtu, "type", "veth", "peer", "name", "dum1",
            ],
        )
    };
    add_dummy("1400");
    let daemon = Clamper::daemon(&["-i", "dum0"])
        .install(&topology)
        .expect("a daemon");
    await_ipv4_mss(&topology, 1360);

    topology.exec(&topology.r, &["ip", "link", "del", "dum0"]);
    assert!(
        daemon.wait_for_line(|l| l.ends_with("dum0: interface gone; keeping MTU 1400")),
        "{}",
        daemon.log().join("\n")
    );
    await_ipv4_mss(&topology, 1360);

    // Re-created under the same name, with a new index and another MTU.
    add_dummy("1300");
    assert!(
        daemon.wait_for_line(|l| l.contains("dum0: interface back")),
        "{}",
        daemon.log().join("\n")
    );
    await_ipv4_mss(&topology, 1260);

    daemon.signal(libc::SIGHUP);
    let reread = "dum0: MTU 1300, MSS limit 1260 (IPv4), 1240 (IPv6)";
    assert!(
        wait_until(DAEMON_WAIT, || {
            (daemon.log().iter().filter(|l| l.ends_with(reread)).count() >= 2).then_some(())
        })
        .is_some(),
        "SIGHUP did not re-read the MTU:\n{}",
        daemon.log().join("\n")
    );
}

/// `-i` on an interface that does not exist yet, as a PPP or VPN link appears only once it is
/// up: the daemon starts and says it waits; SYNs pass byte for byte, counted as
/// `no-interface`; once the interface is created with MTU 1300, the next SYN is clamped to it.
/// The interface is a spare veth pair inside r (the dummy driver may be missing): the daemon
/// follows it by name whether it carries the traffic or not.
#[test]
fn daemon_i_missing_interface_waited_for_syns_pass_unchanged_then_clamped_once_it_appears() {
    require_netns!();
    let topology = Topology::new();
    let daemon = Clamper::daemon(&["-i", "dum0"])
        .install(&topology)
        .expect("a daemon");
    let waiting = "waiting for interface dum0: packets pass unchanged until it appears";
    assert!(
        daemon.wait_for_line(|l| l.contains(waiting)),
        "{}",
        daemon.log().join("\n")
    );
    for family in FAMILIES {
        let (sent, arrived) = syn_entering_r_and_at_b(&topology, family);
        assert_eq!(arrived.mss(), unclamped(family), "SYN at b: {arrived}");
        assert_eq!(
            arrived.tcp, sent.tcp,
            "r changed the SYN:\n  {sent}\n  {arrived}"
        );
    }
    // Every packet queued so far (both families' SYN and SYN-ACK, and any retransmission)
    // passed for want of an interface, and none went through the core.
    let queued = u64::from(daemon.queue_stats().id_sequence);
    assert!(queued >= 4, "only {queued} packets queued");
    assert_eq!(daemon.counter("no-interface"), queued);
    assert_eq!(daemon.report().packets, 0, "the core saw packets");

    topology.exec(
        &topology.r,
        &[
            "ip", "link", "add", "dum0", "mtu", "1300", "type", "veth", "peer", "name", "dum1",
        ],
    );
    // Logged once the limits are in use: every SYN after it must be clamped.
    let limits = "dum0: MTU 1300, MSS limit 1260 (IPv4), 1240 (IPv6)";
    assert!(
        daemon.wait_for_line(|l| l.ends_with(limits)),
        "{}",
        daemon.log().join("\n")
    );
    assert!(
        daemon
            .log()
            .iter()
            .any(|l| l.contains("dum0: interface appeared (index ")),
        "{}",
        daemon.log().join("\n")
    );
    for family in FAMILIES {
        let Handshake { syn, syn_ack } = handshake(&topology, family);
        assert_eq!(syn.mss(), family.mss_for_mtu(1300), "SYN at b: {syn}");
        assert!(syn.checksum_valid(), "SYN at b: {syn}");
        assert_eq!(
            syn_ack.mss(),
            family.mss_for_mtu(1300),
            "SYN-ACK at a: {syn_ack}"
        );
    }
    assert_eq!(daemon.counter("no-interface"), queued, "no more passed");
}

// ---- 5. Outbound hooks only, unless -b ---------------------------------------------------

/// The daemon fed from r's PREROUTING (an inbound hook): the SYN at b and the SYN-ACK at a.
fn prerouting_handshakes(args: &[&str]) -> Vec<(Family, Handshake)> {
    let topology = Topology::new();
    let daemon = Clamper::Daemon(DaemonSetup {
        args: args.iter().map(|a| a.to_string()).collect(),
        chain: "PREROUTING",
        queued: Queued::Syns,
        bypass: false,
    })
    .install(&topology)
    .expect("a daemon");
    let handshakes: Vec<_> = FAMILIES
        .into_iter()
        .map(|family| (family, handshake(&topology, family)))
        .collect();
    // Both families' SYN and SYN-ACK went through the daemon, whatever it did with them (the
    // rule has no bypass: had it dropped them, there would have been no handshake).
    let queued = daemon.queue_stats().id_sequence;
    assert!(queued >= 4, "only {queued} packets reached the queue");
    handshakes
}

#[test]
fn daemon_default_prerouting_syn_left_unclamped() {
    require_netns!();
    for (family, Handshake { syn, syn_ack }) in prerouting_handshakes(&["-m", "1400"]) {
        assert_eq!(syn.mss(), unclamped(family), "SYN at b: {syn}");
        assert_eq!(syn_ack.mss(), unclamped(family), "SYN-ACK at a: {syn_ack}");
    }
}

#[test]
fn daemon_b_prerouting_syn_clamped() {
    require_netns!();
    for (family, Handshake { syn, syn_ack }) in prerouting_handshakes(&["-b", "-m", "1400"]) {
        let limit = family.mss_for_mtu(MTU);
        assert_eq!(syn.mss(), limit, "SYN at b: {syn}");
        assert!(syn.checksum_valid(), "SYN at b: {syn}");
        assert_eq!(syn_ack.mss(), limit, "SYN-ACK at a: {syn_ack}");
        assert!(syn_ack.checksum_valid(), "SYN-ACK at a: {syn_ack}");
    }
}

// ---- -v: one line per clamp, SIGTERM exits 0 ---------------------------------------------

#[test]
fn daemon_v_logs_one_line_per_clamp_and_exits_0_on_sigterm() {
    require_netns!();
    let topology = Topology::new();
    let daemon = daemon_m().install(&topology).expect("a daemon");
    let _listener = listen(&topology.b, Family::V4.b_port(PORT));
    let stream = connect(&topology.a, Family::V4.b_port(PORT)).expect("connect a -> b");
    let port = stream.local_addr().unwrap().port();
    let syn_line = format!("MSS 1460 -> 1360 198.51.100.1:{port} -> 203.0.113.1:{PORT}");
    let syn_ack_line = format!("MSS 1460 -> 1360 203.0.113.1:{PORT} -> 198.51.100.1:{port}");
    for wanted in [&syn_line, &syn_ack_line] {
        assert!(
            daemon.wait_for_line(|line| line.contains(wanted.as_str())),
            "no line with {wanted:?} in:\n{}",
            daemon.log().join("\n")
        );
    }
    let log = daemon.log();
    for wanted in [&syn_line, &syn_ack_line] {
        let count = log.iter().filter(|l| l.contains(wanted.as_str())).count();
        assert_eq!(
            count,
            1,
            "{wanted:?} logged {count} times:\n{}",
            log.join("\n")
        );
    }
    assert_eq!(
        daemon.stop().code(),
        Some(0),
        "SIGTERM ends the daemon with 0"
    );
}

// ---- 8. Detached: pidfile, lock, second instance, SIGTERM --------------------------------

/// A directory for one test's files, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(topology: &Topology) -> TempDir {
        let path = std::env::temp_dir().join(format!("{}-files", topology.r));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).expect("temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs tcpmssd without -v in r; returns its exit code and stderr. Its output goes to files,
/// not pipes: a detached daemon that kept a pipe open would hang the test instead of failing.
fn run_detaching(topology: &Topology, dir: &Path, queue: u16, pidfile: &Path) -> (i32, String) {
    let stderr_path = dir.join(format!("stderr-{queue}"));
    let stderr = File::create(&stderr_path).expect("stderr file");
    let mut child = Command::new("ip")
        .args(["netns", "exec", &topology.r])
        .arg(common::binary())
        .args(["-p", &queue.to_string(), "-m", "1400", "-P"])
        .arg(pidfile)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn tcpmssd");
    let status = wait_until(DAEMON_WAIT, || child.try_wait().expect("try_wait"))
        .unwrap_or_else(|| panic!("tcpmssd (parent) still running after {DAEMON_WAIT:?}"));
    let stderr = std::fs::read_to_string(stderr_path).unwrap_or_default();
    (status.code().unwrap_or(-1), stderr)
}

/// Sends SIGTERM to the detached daemon `pid` (checked to be running by the caller) and waits
/// until it is gone.
fn terminate(pid: u32) {
    // SAFETY: kill(2) on the pid the daemon wrote, which the caller saw running.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    assert!(
        wait_until(DAEMON_WAIT, || (!running(pid)).then_some(())).is_some(),
        "tcpmssd {pid} still running after SIGTERM"
    );
}

/// Whether process `pid` is still running (a zombie has finished: once detached, the daemon
/// is no child of ours, and this container's init may not reap it).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// Whether someone holds an flock(2) on `path` (pidfile(3) locks with flock, as the daemon).
fn flock_held(path: &Path) -> bool {
    let file = File::open(path).expect("open pidfile");
    // SAFETY: flock on a descriptor we own; released when `file` closes.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) };
    rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK)
}

#[test]
fn daemon_detached_pidfile_locked_second_instance_refused_sigterm_removes_it() {
    require_netns!();
    let topology = Topology::new();
    let dir = TempDir::new(&topology);
    let pidfile = dir.0.join("tcpmssd.pid");
    let queue = queue_number(&topology);
    queue_to(&topology, "FORWARD", Queued::Syns, queue, false);

    let (code, stderr) = run_detaching(&topology, &dir.0, queue, &pidfile);
    assert_eq!(code, 0, "detaching tcpmssd: {stderr}");
    let pid: u32 = wait_until(DAEMON_WAIT, || {
        std::fs::read_to_string(&pidfile).ok()?.trim().parse().ok()
    })
    .unwrap_or_else(|| panic!("no pid in {} after {DAEMON_WAIT:?}", pidfile.display()));
    assert!(running(pid), "pidfile names {pid}, which is not running");
    assert!(flock_held(&pidfile), "the pidfile is not locked");

    // Another queue number, so that only the pidfile can be the reason to refuse.
    let (code, stderr) = run_detaching(&topology, &dir.0, queue + 1, &pidfile);
    assert_ne!(
        code, 0,
        "a second instance on the same pidfile started: {stderr}"
    );
    let still: u32 = std::fs::read_to_string(&pidfile)
        .expect("pidfile kept")
        .trim()
        .parse()
        .expect("a pid");
    assert_eq!(still, pid, "the refused instance rewrote the pidfile");

    // The detached daemon does its job.
    let syn = handshake(&topology, Family::V4).syn;
    assert_eq!(syn.mss(), expected_mss(Family::V4, MTU, 1460), "{syn}");

    terminate(pid);
    assert!(
        wait_until(DAEMON_WAIT, || (!pidfile.exists()).then_some(())).is_some(),
        "pidfile left behind after SIGTERM"
    );
}

/// `-u` when detaching (issue 16, item 1): /dev/null is opened before privilege goes, as on
/// FreeBSD the chroot to /var/empty (empty, `flags=schg` in etc/mtree/BSD.var.dist) hides it
/// from later opens. Simulated here: in a mount namespace of its own, a file only root may open
/// (mode 0600) is bound over /dev/null, so that nobody cannot open it after the switch. The
/// daemon still starts (it exited 71, "can't detach", when it opened /dev/null last), has
/// stdin, stdout and stderr on that file, and clamps.
#[test]
fn daemon_u_nobody_detached_starts_where_dev_null_cannot_be_opened_after_the_switch() {
    require_netns!();
    let topology = Topology::new();
    let dir = TempDir::new(&topology);
    let pidfile = dir.0.join("tcpmssd.pid");
    let null = dir.0.join("null");
    File::create(&null).expect("the stand-in /dev/null");
    std::fs::set_permissions(&null, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod 0600");
    let queue = queue_number(&topology);
    queue_to(&topology, "FORWARD", Queued::Syns, queue, false);
    let stderr_path = dir.0.join("stderr");
    let script = r#"mount --bind "$1" /dev/null && exec "$2" -u nobody -p "$3" -m 1400 -P "$4""#;
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &topology.r,
            "unshare",
            "--mount",
            "--propagation",
            "private",
        ])
        .args(["sh", "-c", script, "sh"])
        .arg(&null)
        .arg(common::binary())
        .arg(queue.to_string())
        .arg(&pidfile)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("spawn tcpmssd");
    let status = wait_until(DAEMON_WAIT, || child.try_wait().expect("try_wait"))
        .unwrap_or_else(|| panic!("tcpmssd (parent) still running after {DAEMON_WAIT:?}"));
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert_eq!(
        status.code(),
        Some(0),
        "tcpmssd -u nobody, detached: {stderr}"
    );
    let pid: u32 = wait_until(DAEMON_WAIT, || {
        std::fs::read_to_string(&pidfile).ok()?.trim().parse().ok()
    })
    .expect("a pid in the pidfile");
    assert!(running(pid), "pidfile names {pid}, which is not running");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    assert!(
        status.contains("Uid:\t65534\t65534\t65534\t65534"),
        "{status}"
    );
    let inode = |path: &Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).map(|m| (m.dev(), m.ino())).unwrap()
    };
    for fd in 0..3 {
        assert_eq!(
            inode(Path::new(&format!("/proc/{pid}/fd/{fd}"))),
            inode(&null),
            "fd {fd} is not on the /dev/null of its namespace"
        );
    }
    let syn = handshake(&topology, Family::V4).syn;
    assert_eq!(syn.mss(), expected_mss(Family::V4, MTU, 1460), "{syn}");
    terminate(pid);
}

/// `-f`, for a supervisor (daemon(8) -r, systemd Type=simple): the started process itself is
/// the daemon (it does not fork away), writes no pidfile unless asked, prints nothing per
/// clamp, clamps, and exits 0 on SIGTERM.
#[test]
fn daemon_f_stays_in_the_foreground_without_a_pidfile_and_exits_0_on_sigterm() {
    require_netns!();
    let topology = Topology::new();
    let queue = queue_number(&topology);
    queue_to(&topology, "FORWARD", Queued::Syns, queue, false);
    let mut child = Command::new("ip")
        .args(["netns", "exec", &topology.r])
        .arg(common::binary())
        .args(["-f", "-p", &queue.to_string(), "-m", "1400"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tcpmssd");
    let pid = child.id();
    let bound = wait_until(DAEMON_WAIT, || {
        assert!(
            child.try_wait().expect("try_wait").is_none(),
            "tcpmssd -f exited: it must stay in the foreground"
        );
        let stats = in_namespace(pid, &topology.r)
            .then(|| queue_stats(pid, queue))
            .flatten();
        stats.filter(|stats| stats.copy_mode == 2)
    });
    assert!(bound.is_some(), "tcpmssd -f did not bind queue {queue}");
    let syn = handshake(&topology, Family::V4).syn;
    assert_eq!(syn.mss(), expected_mss(Family::V4, MTU, 1460), "{syn}");
    assert!(
        !Path::new(&format!("/var/run/tcpmssd.{queue}.pid")).exists(),
        "a pidfile was written without -P"
    );
    // SAFETY: kill(2) on our own child, which is still running (checked above).
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    let status = wait_until(DAEMON_WAIT, || child.try_wait().expect("try_wait"))
        .expect("tcpmssd -f still running after SIGTERM");
    let output = child.wait_with_output().expect("output");
    assert_eq!(status.code(), Some(0), "{status}");
    // Lines go to syslog under -f; the clamp made none anywhere.
    assert!(output.stdout.is_empty());
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

// ---- Oracle: the daemon clamps real SYNs exactly as the kernel's TCPMSS target ------------

/// The MSS values of the SYN at b and the SYN-ACK at a, for a's SYN carrying `advmss`
/// (None: the link's), through `clamper`; both checksums must be valid.
fn clamped_values(clamper: &Clamper, family: Family, advmss: Option<u16>) -> (Vec<u16>, Vec<u16>) {
    let topology = Topology::new();
    let _clamper = clamper.install(&topology);
    if let Some(mss) = advmss {
        topology.set_a_advmss(family, mss);
    }
    let Handshake { syn, syn_ack } = handshake(&topology, family);
    assert!(syn.checksum_valid(), "{clamper:?}: SYN at b: {syn}");
    assert!(
        syn_ack.checksum_valid(),
        "{clamper:?}: SYN-ACK at a: {syn_ack}"
    );
    (syn.mss_values(), syn_ack.mss_values())
}

#[test]
fn daemon_and_kernel_tcpmss_clamp_real_syns_identically() {
    require_netns!();
    // Around each family's limit (1360 / 1340): above, one above, equal, below.
    let cases = [
        (Family::V4, None),
        (Family::V4, Some(1361)),
        (Family::V4, Some(1360)),
        (Family::V4, Some(536)),
        (Family::V6, None),
        (Family::V6, Some(1341)),
        (Family::V6, Some(1340)),
        (Family::V6, Some(1220)),
    ];
    let (kernel, daemon) = (kernel(), daemon_m());
    for (family, advmss) in cases {
        let by_kernel = clamped_values(&kernel, family, advmss);
        // The kernel's own result is what the contract says, or the oracle is no oracle.
        let sent = advmss.unwrap_or(unclamped(family));
        let limit = |mss| expected_mss(family, MTU, mss);
        assert_eq!(
            by_kernel,
            (vec![limit(sent)], vec![limit(unclamped(family))])
        );
        let by_daemon = clamped_values(&daemon, family, advmss);
        assert_eq!(
            by_daemon, by_kernel,
            "{family:?} advmss {advmss:?}: daemon vs kernel"
        );
    }
}

// ---- Start-up refusals that need a namespace ---------------------------------------------

/// Runs `tcpmssd -v -p <queue> -m 1400` in r through `wrapper` (a command prefix run inside
/// r); returns its exit code and stderr.
fn run_in_r(topology: &Topology, wrapper: &[&str], binary: &Path, queue: u16) -> (i32, String) {
    let queue = queue.to_string();
    let output = Command::new("ip")
        .args(["netns", "exec", &topology.r])
        .args(wrapper)
        .arg(binary)
        .args(["-v", "-p", &queue, "-m", "1400"])
        .stdin(Stdio::null())
        .output()
        .expect("run tcpmssd");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), stderr)
}

#[test]
fn daemon_started_with_stdin_and_stdout_closed_opens_them_on_dev_null_and_clamps() {
    require_netns!();
    let topology = Topology::new();
    let queue = queue_number(&topology);
    queue_to(&topology, "FORWARD", Queued::Syns, queue, false);
    // Were 0 and 1 left closed, the NFQUEUE socket would take one of them.
    let daemon = Daemon::start_with_stdin_and_stdout_closed(&topology, queue, &["-m", "1400"]);
    assert_eq!(daemon.fd_target(0), "/dev/null");
    assert_eq!(daemon.fd_target(1), "/dev/null");
    let syn = handshake(&topology, Family::V4).syn;
    assert_eq!(syn.mss(), 1360, "{syn}");
}

#[test]
fn daemon_second_instance_on_a_bound_queue_exits_69() {
    require_netns!();
    let topology = Topology::new();
    let _first = daemon_m().install(&topology).expect("a daemon");
    let binary = common::binary();
    let (code, stderr) = run_in_r(&topology, &[], &binary, queue_number(&topology));
    assert_eq!(code, 69, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "NFQUEUE {}: queue in use by another process",
            queue_number(&topology)
        )),
        "{stderr}"
    );
}

#[test]
fn daemon_without_cap_net_admin_exits_77_with_a_hint() {
    require_netns!();
    let topology = Topology::new();
    // The unprivileged user must be able to reach the binary: copy it where anyone can.
    let dir = TempDir::new(&topology);
    std::fs::set_permissions(&dir.0, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod temp dir");
    let binary = dir.0.join("tcpmssd");
    std::fs::copy(common::binary(), &binary).expect("copy the binary");
    let nobody = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
    ];
    let (code, stderr) = run_in_r(&topology, &nobody, &binary, queue_number(&topology));
    assert_eq!(code, 77, "{stderr}");
    assert!(
        stderr.contains("not permitted to bind the queue: run as root or with CAP_NET_ADMIN"),
        "{stderr}"
    );
}

// ---- Least privilege -----------------------------------------------------------------------

/// Runs the daemon with `args` in r, checks that it clamps, and returns it for inspection.
fn privileged_state(args: &[&str]) -> (Topology, Daemon) {
    let topology = Topology::new();
    let daemon = Clamper::daemon(args).install(&topology).expect("a daemon");
    // Verdicts need CAP_NET_ADMIN: what is left must still be enough to clamp.
    let syn = handshake(&topology, Family::V4).syn;
    assert_eq!(syn.mss(), 1360, "{syn}");
    (topology, daemon)
}

/// CAP_NET_ADMIN (bit 12) alone, as /proc shows a capability set.
const NET_ADMIN_ONLY: &str = "0000000000001000";

fn assert_confined(daemon: &Daemon) {
    for set in ["CapEff", "CapPrm", "CapBnd"] {
        assert_eq!(daemon.status_field(set), NET_ADMIN_ONLY, "{set}");
    }
    assert_eq!(daemon.status_field("CapInh"), "0000000000000000");
    assert_eq!(daemon.status_field("CapAmb"), "0000000000000000");
    assert_eq!(daemon.status_field("NoNewPrivs"), "1");
    // 2: SECCOMP_MODE_FILTER.
    assert_eq!(daemon.status_field("Seccomp"), "2");
}

#[test]
fn daemon_as_root_keeps_only_cap_net_admin_no_new_privs_and_seccomp() {
    require_netns!();
    let (_topology, daemon) = privileged_state(&["-m", "1400"]);
    assert_confined(&daemon);
    assert!(daemon.status_field("Uid").starts_with("0\t"));
    assert_eq!(daemon.stop().code(), Some(0));
}

#[test]
fn daemon_u_nobody_switches_user_and_keeps_cap_net_admin() {
    require_netns!();
    let (_topology, daemon) = privileged_state(&["-m", "1400", "-u", "nobody"]);
    assert_confined(&daemon);
    // Real, effective, saved and file-system ids: all nobody's.
    assert_eq!(daemon.status_field("Uid"), "65534\t65534\t65534\t65534");
    assert_eq!(daemon.status_field("Gid"), "65534\t65534\t65534\t65534");
    assert_eq!(daemon.status_field("Groups"), "65534");
    assert_eq!(daemon.stop().code(), Some(0));
}
