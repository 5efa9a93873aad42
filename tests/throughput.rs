//! The throughput and latency benchmark of issue 6, as an ignored test so that it shares the
//! namespace harness: `bash benches/throughput.sh` runs it in release mode.
//!
//! Namespaces a — r — b; a floods IPv4 SYNs from a raw socket (pinned to CPU 0) for a fixed
//! time; b counts the SYNs that arrive clamped (raw PREROUTING, `-m tcpmss --mss 1360`, then
//! dropped). Modes alternate round by round: plain forwarding, the kernel's TCPMSS target
//! (the ceiling), tcpmssd behind `NFQUEUE --queue-bypass` with only SYNs queued (pinned to
//! CPU 1). Then p50/p99 of connect() through each mode, the daemon's peak RSS under the flood
//! and its CPU time while idle.
#![cfg(target_os = "linux")]

// Shared with e2e.rs and reliability.rs; this file uses part of it.
#[allow(dead_code)]
mod common;

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::clamper::{queue_to, Clamper, Queued};
use common::flood::{flood, pin, Arrivals, Arrived, Until};
use common::handshake::PORT;
use common::netns::{in_netns, spawn_in, Family, Topology, FAMILIES};

/// The MTU of every clamper: IPv4 MSS 1360.
const MTU: u16 = 1400;
/// The CPUs of the sender and the daemon.
const SENDER_CPU: usize = 0;
const DAEMON_CPU: usize = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Plain,
    Kernel,
    Tcpmssd,
}

const MODES: [Mode; 3] = [Mode::Plain, Mode::Kernel, Mode::Tcpmssd];

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Plain => "plain forwarding",
            Mode::Kernel => "kernel TCPMSS",
            Mode::Tcpmssd => "tcpmssd NFQUEUE",
        }
    }
}

/// One round of one mode.
#[derive(Clone, Copy, Debug)]
struct Round {
    sent: u64,
    arrived: Arrived,
    seconds: f64,
}

impl Round {
    /// Clamped SYNs delivered per second; for plain forwarding, all SYNs delivered.
    fn rate(&self, mode: Mode) -> f64 {
        let counted = match mode {
            Mode::Plain => self.arrived.total(),
            _ => self.arrived.clamped,
        };
        counted as f64 / self.seconds
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// tcpmssd as deployed: without -v (no line per clamp), detached, found through its pidfile;
/// stopped with SIGTERM when dropped.
struct Detached {
    pid: u32,
    dir: std::path::PathBuf,
}

impl Detached {
    fn start(topology: &Topology, queue: u16) -> Detached {
        let dir = std::env::temp_dir().join(format!("{}-bench", topology.r));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).expect("temp dir");
        let pidfile = dir.join("tcpmssd.pid");
        let status = std::process::Command::new("ip")
            .args(["netns", "exec", &topology.r, env!("CARGO_BIN_EXE_tcpmssd")])
            .args(["-p", &queue.to_string(), "-m", &MTU.to_string(), "-P"])
            .arg(&pidfile)
            .status()
            .expect("run tcpmssd");
        // The parent exits 0 only once the daemon has bound the queue.
        assert!(status.success(), "tcpmssd did not start: {status}");
        let pid = std::fs::read_to_string(&pidfile)
            .expect("pidfile")
            .trim()
            .parse()
            .expect("a pid");
        Detached { pid, dir }
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
            .unwrap_or_else(|| panic!("no {field}"))
    }

    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).expect("stat");
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .expect("fields")
            .split_whitespace()
            .collect();
        // utime and stime are fields 14 and 15 (proc(5)); `fields` starts at field 3.
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the pid the daemon wrote; no memory arguments.
        unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
        let gone = common::wait_until(Duration::from_secs(5), || {
            (!std::path::Path::new(&format!("/proc/{}/stat", self.pid)).exists()
                || std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).is_ok_and(|s| {
                    s.rsplit(')')
                        .next()
                        .is_some_and(|f| f.trim_start().starts_with('Z'))
                }))
            .then_some(())
        });
        if gone.is_none() {
            // SAFETY: as above.
            unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGKILL) };
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Gives the autogroup of `pid` the nice value of ours (sched(7), `/proc/PID/autogroup`).
/// With autogroups every session is one scheduling entity; the daemon detaches into a session
/// of its own, and benches/throughput.sh raises the benchmark's session above other users'
/// background jobs, so the daemon must not be left below them. Without autogroups: nothing.
fn share_autogroup_nice(pid: u32) {
    // "/autogroup-63 nice -10"
    let Ok(own) = std::fs::read_to_string("/proc/self/autogroup") else {
        return;
    };
    if let Some(nice) = own.split_whitespace().last() {
        let _ = std::fs::write(format!("/proc/{pid}/autogroup"), nice);
    }
}

/// Sets r up for `mode`; returns the daemon in tcpmssd mode.
fn install(topology: &Topology, mode: Mode) -> Option<Detached> {
    for family in FAMILIES {
        topology.exec(&topology.r, &[family.iptables(), "-t", "mangle", "-F"]);
    }
    match mode {
        Mode::Plain => None,
        Mode::Kernel => {
            // Installs its rules and returns no daemon.
            let _ = Clamper::Kernel { mtu: MTU }.install(topology);
            None
        }
        Mode::Tcpmssd => {
            let queue = common::clamper::queue_number(topology);
            queue_to(topology, "FORWARD", Queued::Syns, queue, true);
            let daemon = Detached::start(topology, queue);
            pin(daemon.pid as libc::pid_t, DAEMON_CPU);
            share_autogroup_nice(daemon.pid);
            Some(daemon)
        }
    }
}

/// p50 and p99 of `count` sequential connect() calls from a to a listener on b.
fn connect_latency(topology: &Topology, count: usize) -> (Duration, Duration) {
    let address = Family::V4.b_port(PORT);
    let listener: TcpListener =
        in_netns(&topology.b, move || TcpListener::bind(address)).expect("listen on b");
    let acceptor = spawn_in(&topology.b, move || {
        for _ in 0..count {
            drop(listener.accept());
        }
    });
    let mut times = in_netns(&topology.a, move || {
        let mut times = Vec::with_capacity(count);
        for _ in 0..count {
            let start = Instant::now();
            let stream = TcpStream::connect_timeout(&address, Duration::from_secs(3))
                .expect("connect a -> b");
            times.push(start.elapsed());
            drop(stream);
        }
        times
    });
    acceptor.join().expect("acceptor");
    times.sort();
    (times[count / 2], times[count * 99 / 100])
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[test]
#[ignore = "a benchmark: run it with bash benches/throughput.sh"]
fn throughput_benchmark() {
    require_netns!();
    let rounds = env_or("TCPMSSD_BENCH_ROUNDS", 7) as usize;
    let seconds = env_or("TCPMSSD_BENCH_SECONDS", 3);
    let connects = env_or("TCPMSSD_BENCH_CONNECTS", 1000) as usize;
    let topology = Topology::new();
    let arrivals = Arrivals::install(&topology, Family::V4, Family::V4.mss_for_mtu(MTU));
    let mut results: Vec<(Mode, Vec<Round>)> = MODES.iter().map(|&m| (m, Vec::new())).collect();
    let mut peak_rss_kib = 0u64;
    for round in 0..rounds {
        for (mode, runs) in &mut results {
            let daemon = install(&topology, *mode);
            let before = arrivals.settle(&topology);
            let sent = flood(
                &topology,
                Family::V4,
                Until::Time(Duration::from_secs(seconds)),
                Some(SENDER_CPU),
            );
            let after = arrivals.settle(&topology);
            let arrived = Arrived {
                clamped: after.clamped - before.clamped,
                other: after.other - before.other,
            };
            if let Some(daemon) = daemon {
                peak_rss_kib = peak_rss_kib.max(daemon.status_kib("VmHWM"));
            }
            let run = Round {
                sent: sent.syns,
                arrived,
                seconds: sent.took.as_secs_f64(),
            };
            eprintln!(
                "round {}: {:<16} sent {:>8}, arrived {:>8} ({:>8} clamped), {:>9.0}/s",
                round + 1,
                mode.name(),
                run.sent,
                run.arrived.total(),
                run.arrived.clamped,
                run.rate(*mode)
            );
            runs.push(run);
        }
    }

    // Idle: the daemon sleeps in ppoll and uses no CPU.
    let daemon = install(&topology, Mode::Tcpmssd).expect("a daemon");
    std::thread::sleep(Duration::from_millis(500));
    let idle_start = daemon.cpu_ticks();
    std::thread::sleep(Duration::from_secs(2));
    let idle_ticks = daemon.cpu_ticks() - idle_start;
    drop(daemon);

    let mut latencies = Vec::new();
    for &mode in &MODES {
        let _daemon = install(&topology, mode);
        latencies.push(connect_latency(&topology, connects));
    }

    println!();
    println!(
        "{:<17} {:>6}  {:>28}  {:>9}  {:>6}  {:>19}",
        "mode", "rounds", "SYNs/s min / median / max", "clamped", "lost", "connect p50 / p99"
    );
    let mut medians = Vec::new();
    for ((mode, runs), (p50, p99)) in results.iter().zip(&latencies) {
        let mut rates: Vec<f64> = runs.iter().map(|r| r.rate(*mode)).collect();
        let med = median(&mut rates);
        let (min, max) = (rates[0], rates[rates.len() - 1]);
        let sent: u64 = runs.iter().map(|r| r.sent).sum();
        let arrived: u64 = runs.iter().map(|r| r.arrived.total()).sum();
        let clamped: u64 = runs.iter().map(|r| r.arrived.clamped).sum();
        println!(
            "{:<17} {:>6}  {:>8.0} / {:>8.0} / {:>8.0}  {:>8.1}%  {:>6}  {:>7.0} / {:>7.0} µs",
            mode.name(),
            runs.len(),
            min,
            med,
            max,
            100.0 * clamped as f64 / arrived.max(1) as f64,
            sent as i64 - arrived as i64,
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6,
        );
        medians.push(med);
    }
    let kernel = &results[1].1;
    let daemon = &results[2].1;
    let mut ratios: Vec<f64> = kernel
        .iter()
        .zip(daemon)
        .map(|(k, d)| d.rate(Mode::Tcpmssd) / k.rate(Mode::Kernel))
        .collect();
    let ratio = median(&mut ratios);
    println!("tcpmssd peak RSS under the flood: {peak_rss_kib} KiB; CPU while idle for 2 s: {idle_ticks} ticks");
    println!(
        "throughput: kernel={:.0} tcpmssd={:.0} ratio={ratio:.2}",
        medians[1], medians[2]
    );
}
