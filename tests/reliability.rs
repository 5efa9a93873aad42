//! Reliability through the Linux kernel (issue 7): the daemon under faults and storms, in
//! namespaces a — r — b as in e2e.rs. Root only (skipped otherwise, with the reason).
//!
//! Each test prints what it did (connections, clamps, run time) so that a run's figures can
//! be reported.
#![cfg(target_os = "linux")]

// Shared with e2e.rs; this file uses part of it.
#[allow(dead_code)]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::clamper::{Clamper, DaemonSetup, Queued, DAEMON_WAIT};
use common::handshake::handshake;
use common::netns::{Family, Topology, FAMILIES, LINK_MTU};
use common::wait_until;

/// A spare veth pair inside r whose `dum0` end the daemon follows with `-i`: deleting or
/// changing it leaves the path a — r — b alone.
fn add_spare_link(topology: &Topology, mtu: u16) {
    let mtu = mtu.to_string();
    topology.exec(
        &topology.r,
        &[
            "ip", "link", "add", "dum0", "mtu", &mtu, "type", "veth", "peer", "name", "dum1",
        ],
    );
}

/// The SYN at b, within [`DAEMON_WAIT`] of carrying `wanted` (link changes reach the daemon
/// asynchronously); panics with the last one otherwise. Returns the handshakes it took.
fn await_mss(topology: &Topology, family: Family, wanted: u16) -> usize {
    let start = Instant::now();
    for attempt in 1.. {
        let syn = handshake(topology, family).syn;
        assert!(syn.checksum_valid(), "{syn}");
        if syn.mss() == wanted {
            return attempt;
        }
        assert!(
            start.elapsed() < DAEMON_WAIT,
            "expected MSS {wanted}, still {syn}"
        );
        thread::sleep(Duration::from_millis(20));
    }
    unreachable!()
}

// ---- 5. MTU storm --------------------------------------------------------------------------

#[test]
fn mtu_storm_1000_changes_while_syns_flow_then_the_final_mtu_is_in_use() {
    require_netns!();
    let topology = Topology::new();
    add_spare_link(&topology, 1400);
    let daemon = Clamper::daemon(&["-i", "dum0"])
        .install(&topology)
        .expect("a daemon");
    await_mss(&topology, Family::V4, 1360);

    // 1,000 changes through one `ip -batch`, cycling 1280..=1499 and ending on 1300.
    let mut script = String::new();
    for n in 0..1000u16 {
        let mtu = if n == 999 { 1300 } else { 1280 + n % 220 };
        script.push_str(&format!("link set dum0 mtu {mtu}\n"));
    }
    let start = Instant::now();
    let mut ip = Command::new("ip")
        .args(["-n", &topology.r, "-batch", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("ip -batch");
    let mut stdin = ip.stdin.take().expect("stdin");
    let writer = thread::spawn(move || stdin.write_all(script.as_bytes()));
    // SYNs keep flowing during the storm; each is clamped to the limit of some MTU the link
    // had (1280 - 40 ..= 1499 - 40), never left above it, and its checksum stays valid.
    let mut during = 0;
    while ip.try_wait().expect("try_wait").is_none() {
        for family in FAMILIES {
            let syn = handshake(&topology, family).syn;
            let mss = syn.mss();
            let (low, high) = (family.mss_for_mtu(1280), family.mss_for_mtu(1499));
            assert!((low..=high).contains(&mss), "{family:?}: {syn}");
            assert!(syn.checksum_valid(), "{syn}");
            during += 1;
        }
    }
    writer.join().expect("writer").expect("write the batch");
    assert!(ip.wait().expect("ip").success(), "ip -batch failed");
    let storm = start.elapsed();
    let after = await_mss(&topology, Family::V4, 1260) + await_mss(&topology, Family::V6, 1240);
    let changes = daemon
        .log()
        .iter()
        .filter(|l| l.contains("dum0: MTU "))
        .count();
    eprintln!(
        "MTU storm: 1000 changes in {storm:?}; {during} handshakes during it, {after} after; \
         the daemon logged {changes} MTU changes"
    );
    assert!(changes >= 1, "no MTU change logged");
    assert_eq!(daemon.stop().code(), Some(0));
}

// ---- 6. kill -9 under traffic, with --queue-bypass -----------------------------------------

#[test]
fn kill_9_with_queue_bypass_later_connections_pass_unclamped() {
    require_netns!();
    let topology = Topology::new();
    let mut daemon = Clamper::Daemon(DaemonSetup {
        args: vec!["-m".into(), "1400".into()],
        chain: "FORWARD",
        queued: Queued::Syns,
        bypass: true,
    })
    .install(&topology)
    .expect("a daemon");
    for family in FAMILIES {
        assert_eq!(
            handshake(&topology, family).syn.mss(),
            family.mss_for_mtu(1400)
        );
    }
    daemon.signal(libc::SIGKILL);
    // The kernel unbinds the queue when the socket goes (NETLINK_URELEASE).
    let gone = wait_until(DAEMON_WAIT, || daemon.has_exited().then_some(()));
    assert!(gone.is_some(), "tcpmssd still running after SIGKILL");
    for family in FAMILIES {
        let syn = handshake(&topology, family).syn;
        assert_eq!(
            syn.mss(),
            family.mss_for_mtu(LINK_MTU),
            "{family:?}: after kill -9 the SYN passes as sent: {syn}"
        );
        assert!(syn.checksum_valid(), "{syn}");
    }
}
