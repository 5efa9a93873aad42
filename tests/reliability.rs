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
use common::flood::{send_syns, Arrivals, Arrived, Sent};
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
    let daemon = Clamper::Daemon(DaemonSetup {
        args: vec!["-i".into(), "dum0".into()],
        chain: "FORWARD",
        queued: Queued::Syns,
        bypass: true,
    })
    .install(&topology)
    .expect("a daemon");
    await_mss(&topology, Family::V4, 1360);
    let arrivals = Arrivals::install(&topology, Family::V4, Family::V4.mss_for_mtu(1300));

    // 1,000 changes through one `ip -batch`, cycling 1280..=1499 and ending on 1300, while
    // a flood of SYNs goes through the daemon.
    let mut script = String::new();
    for n in 0..1000u16 {
        let mtu = if n == 999 { 1300 } else { 1280 + n % 220 };
        script.push_str(&format!("link set dum0 mtu {mtu}\n"));
    }
    let start = Instant::now();
    let mut storm = Duration::ZERO;
    let sent = flood_while(&topology, 200_000, || {
        let mut ip = Command::new("ip")
            .args(["-n", &topology.r, "-batch", "-"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("ip -batch");
        let mut stdin = ip.stdin.take().expect("stdin");
        stdin.write_all(script.as_bytes()).expect("write the batch");
        drop(stdin);
        assert!(ip.wait().expect("ip").success(), "ip -batch failed");
        storm = start.elapsed();
    });
    let arrived = arrivals.settle(&topology);
    report("MTU storm", sent, arrived, start.elapsed());
    // The last MTU is the one in use, for both families.
    let after = await_mss(&topology, Family::V4, 1260) + await_mss(&topology, Family::V6, 1240);
    let changes = daemon
        .log()
        .iter()
        .filter(|l| l.contains("dum0: MTU "))
        .count();
    eprintln!(
        "MTU storm: 1000 changes in {storm:.2?}; the daemon logged {changes} MTU changes; \
         {after} handshakes to see the final MSS"
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

// ---- Floods ----------------------------------------------------------------------------------

/// A daemon on r for `-m 1400`, fed SYNs by a `--queue-bypass` rule (as deployed), and the
/// counters at b for IPv4 flood SYNs.
fn flood_setup(args: &[&str]) -> (Topology, common::clamper::Daemon, Arrivals) {
    let topology = Topology::new();
    let daemon = Clamper::Daemon(DaemonSetup {
        args: args.iter().map(|a| a.to_string()).collect(),
        chain: "FORWARD",
        queued: Queued::Syns,
        bypass: true,
    })
    .install(&topology)
    .expect("a daemon");
    let arrivals = Arrivals::install(&topology, Family::V4, Family::V4.mss_for_mtu(1400));
    (topology, daemon, arrivals)
}

/// A process's resident set in KiB and its open descriptors.
fn rss_kib_and_fds(daemon: &common::clamper::Daemon) -> (u64, usize) {
    let rss = daemon
        .status_field("VmRSS")
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .expect("VmRSS");
    (rss, daemon.open_fds())
}

/// Prints the figures the issue asks for, and asserts that nothing was lost.
fn report(test: &str, sent: Sent, arrived: Arrived, took: Duration) {
    eprintln!(
        "{test}: sent {}, received {}, clamped {}, passed unclamped {}, lost {}, \
         {took:.2?} ({:.0} SYNs/s sent)",
        sent.syns,
        arrived.total(),
        arrived.clamped,
        arrived.other,
        sent.syns as i64 - arrived.total() as i64,
        sent.syns as f64 / sent.took.as_secs_f64(),
    );
    assert_eq!(arrived.total(), sent.syns, "{test}: SYNs lost");
}

#[test]
fn soak_1_000_000_syns_none_lost_memory_fds_and_allocations_flat() {
    require_netns!();
    let (topology, daemon, arrivals) = flood_setup(&["-m", "1400"]);
    // Warm-up: every page the loop touches is touched once.
    send_syns(&topology, Family::V4, 10_000);
    let warm = arrivals.settle(&topology);
    let before = daemon.report();
    let (rss_before, fds_before) = rss_kib_and_fds(&daemon);

    let start = Instant::now();
    let sent = send_syns(&topology, Family::V4, 1_000_000);
    let arrived = arrivals.settle(&topology);
    let took = start.elapsed();
    let after = daemon.report();
    let (rss_after, fds_after) = rss_kib_and_fds(&daemon);
    let flood = Arrived {
        clamped: arrived.clamped - warm.clamped,
        other: arrived.other - warm.other,
    };
    report("soak", sent, flood, took);
    eprintln!(
        "soak: the daemon saw {} packets; RSS {rss_before} -> {rss_after} KiB; fds \
         {fds_before} -> {fds_after}; heap allocations {} -> {}",
        after.packets - before.packets,
        before.allocations,
        after.allocations
    );
    // Every SYN the daemon saw left clamped; the rest passed by fail-open, unclamped.
    assert_eq!(after.packets - before.packets, flood.clamped);
    assert_eq!(
        after.allocations, before.allocations,
        "heap allocations grew"
    );
    assert_eq!(fds_after, fds_before, "descriptors leaked");
    assert!(
        rss_after <= rss_before + 16,
        "RSS grew: {rss_before} -> {rss_after} KiB"
    );
    assert_eq!(daemon.stop().code(), Some(0));
}

/// Floods `count` SYNs on another thread while `during` runs; returns what was sent.
fn flood_while(topology: &Topology, count: u64, during: impl FnOnce()) -> Sent {
    thread::scope(|scope| {
        let sender = scope.spawn(|| send_syns(topology, Family::V4, count));
        during();
        sender.join().expect("sender")
    })
}

#[test]
fn stall_sigstop_2s_mid_flood_none_lost_then_clamps_again() {
    require_netns!();
    let (topology, daemon, arrivals) = flood_setup(&["-m", "1400"]);
    let start = Instant::now();
    let sent = flood_while(&topology, 300_000, || {
        thread::sleep(Duration::from_millis(200));
        daemon.signal(libc::SIGSTOP);
        thread::sleep(Duration::from_secs(2));
        daemon.signal(libc::SIGCONT);
    });
    let arrived = arrivals.settle(&topology);
    report("stall", sent, arrived, start.elapsed());
    // Recovered: a later burst is clamped in full.
    let later = send_syns(&topology, Family::V4, 1000);
    let after = arrivals.settle(&topology);
    assert_eq!(
        after.total() - arrived.total(),
        later.syns,
        "SYNs lost after the stall"
    );
    assert_eq!(
        after.clamped - arrived.clamped,
        later.syns,
        "not clamping after the stall"
    );
    assert_eq!(daemon.stop().code(), Some(0));
}

#[test]
fn restart_sigterm_mid_flood_then_start_again_none_lost() {
    require_netns!();
    let (topology, daemon, arrivals) = flood_setup(&["-m", "1400"]);
    let queue = common::clamper::queue_number(&topology);
    let mut second = None;
    let start = Instant::now();
    let sent = flood_while(&topology, 300_000, || {
        thread::sleep(Duration::from_millis(200));
        assert_eq!(daemon.stop().code(), Some(0), "SIGTERM mid-flood");
        second = Some(common::clamper::Daemon::start(
            &topology,
            queue,
            &["-m", "1400"],
        ));
    });
    let arrived = arrivals.settle(&topology);
    report("restart", sent, arrived, start.elapsed());
    let second = second.expect("restarted");
    let later = send_syns(&topology, Family::V4, 1000);
    let after = arrivals.settle(&topology);
    assert_eq!(
        after.clamped - arrived.clamped,
        later.syns,
        "the new daemon does not clamp"
    );
    assert_eq!(second.stop().code(), Some(0));
}

#[test]
fn signal_storm_mid_flood_none_lost_no_error_counted() {
    require_netns!();
    let (topology, daemon, arrivals) = flood_setup(&["-m", "1400"]);
    let start = Instant::now();
    let mut signals = 0;
    let sent = flood_while(&topology, 300_000, || {
        // Spread over about two seconds of the flood: signals of one kind sent faster than
        // the daemon wakes merge into one (signal(7)), which would make no storm.
        for n in 0..4000 {
            let signal = if n % 2 == 0 {
                libc::SIGUSR1
            } else {
                libc::SIGHUP
            };
            daemon.signal(signal);
            thread::sleep(Duration::from_micros(500));
            signals += 1;
        }
    });
    let arrived = arrivals.settle(&topology);
    report("signal storm", sent, arrived, start.elapsed());
    let log = daemon.log();
    let reports = log
        .iter()
        .filter(|l| l.contains(" heap allocations "))
        .count();
    eprintln!("signal storm: {signals} signals sent, {reports} counter reports logged");
    // Signals of one kind sent faster than the loop turns merge, so not every SIGUSR1 gets
    // its report; but while the socket stays readable the loop must still take them (it once
    // did not: 9 reports out of 2,000 before `take_pending_signals`, 1,290 after).
    assert!(reports >= 200, "only {reports} reports for 2000 SIGUSR1");
    for counter in ["recv-error", "send-error"] {
        assert!(
            !log.iter().any(|l| l.contains(counter)),
            "{counter} counted:\n{}",
            log.join("\n")
        );
    }
    assert_eq!(daemon.stop().code(), Some(0));
}
