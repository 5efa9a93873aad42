//! The throughput benchmark of issue 18, as an ignored test so that it shares the namespace
//! harness: `bash benches/throughput.sh` builds what it needs and runs it in release mode.
//!
//! Namespaces a — r — b. From CPU 0, a offers IPv4 SYNs (MSS 1460) as fast as the kernel takes
//! them, from an AF_PACKET socket (`common::flood::frame_flood`); b counts the SYNs that arrive
//! with MSS 1360 and the others in its raw PREROUTING and drops them there. On r, round by
//! round in a rotating order, each mode in turn:
//! - plain forwarding (nothing clamps; the rate counts every SYN delivered),
//! - the kernel's `-j TCPMSS --set-mss 1360` in mangle FORWARD (the ceiling),
//! - tcpmssd, release build, detached as deployed,
//! - tcpmssd `-v` in the foreground, its line per clamp read from a pipe,
//! - benches/nfq_clamp.c on libnetfilter_queue, classic and batched (when built), and the same
//!   program accepting everything unclamped with one batch verdict per read: the ceiling of any
//!   NFQUEUE consumer here,
//!
//! every consumer behind the same `-j NFQUEUE --queue-bypass` rule for SYNs in mangle FORWARD,
//! with the same queue options (fail-open, [`QUEUE_MAX_LEN`], [`RECEIVE_BUFFER_LEN`]), pinned
//! to CPU 1. Per round: the SYNs offered and delivered, clamped or passed unclamped by
//! fail-open, CPU time on both CPUs from /proc/stat, and `connect()` times a — b measured
//! during the flood, and the consumer's own CPU time. Then, for each consumer, a rate sweep: the
//! highest offered rate at which it passes nothing unclamped.
//!
//! Settings (environment): TCPMSSD_BENCH_ROUNDS (11), TCPMSSD_BENCH_SECONDS (0.7),
//! TCPMSSD_BENCH_C (path of the built nfq-clamp; without it the C modes are left out),
//! TCPMSSD_BENCH_BASELINE (another tcpmssd binary, run detached and with -v as two more modes
//! to compare with), TCPMSSD_BENCH_VARIANTS (up to four more binaries, comma-separated),
//! TCPMSSD_BENCH_MODES (comma-separated mode keys, default all), TCPMSSD_BENCH_SWEEP (1; 0
//! skips the sweep), TCPMSSD_BENCH_SWEEP_SECONDS (1.0), TCPMSSD_BENCH_PERF (a directory: one
//! more round per mode under `perf record -a -g`, written there as <mode>.data),
//! TCPMSSD_BENCH_SYSCALLS (set: one more round per consumer under `perf stat` of its system
//! calls).
#![cfg(target_os = "linux")]

// Shared with e2e.rs and reliability.rs; this file uses part of it.
#[allow(dead_code)]
mod common;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::clamper::{queue_number, queue_to, Clamper, Queued};
use common::flood::{
    frame_flood, pin, raw_prerouting, veth_drops, Arrivals, Arrived, Sent, SynFrames,
};
use common::handshake::PORT;
use common::netns::{in_netns, spawn_in, Family, Topology, FAMILIES, R_B_IF};

/// The MTU of every clamper: IPv4 MSS 1360.
const MTU: u16 = 1400;
/// The CPUs of the sender and of every consumer.
const SENDER_CPU: usize = 0;
const CONSUMER_CPU: usize = 1;
/// The queue options the C consumers get: tcpmssd's own, `QUEUE_MAX_LEN` and
/// `RECEIVE_BUFFER_LEN` in daemon/linux/nfqueue.rs. Keep them equal.
const QUEUE_MAX_LEN: u32 = 4096;
const RECEIVE_BUFFER_LEN: usize = 8 * 1024 * 1024;
/// Clock ticks per second in /proc/stat (USER_HZ, 100 on every Linux architecture we build).
const USER_HZ: f64 = 100.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Plain,
    Kernel,
    Tcpmssd,
    TcpmssdVerbose,
    /// tcpmssd -e: the classifier on r's interface toward b, no queue (detached as deployed).
    Ebpf,
    CClassic,
    CBatched,
    /// benches/nfq_clamp.c accepting every packet unclamped with one batch verdict: the most
    /// any NFQUEUE consumer can deliver here (its rate counts every SYN delivered).
    CAccept,
    /// Another tcpmssd binary (TCPMSSD_BENCH_BASELINE), detached as `Tcpmssd`: before and
    /// after a change, paired round by round.
    Baseline,
    /// The same binary with -v, run as `TcpmssdVerbose`.
    BaselineVerbose,
    /// Experimental builds (TCPMSSD_BENCH_VARIANTS, comma-separated, at most four), run as
    /// `Baseline` is.
    Variant(usize),
}

const MODES: [Mode; 10] = [
    Mode::Plain,
    Mode::Kernel,
    Mode::Ebpf,
    Mode::Tcpmssd,
    Mode::TcpmssdVerbose,
    Mode::CClassic,
    Mode::CBatched,
    Mode::CAccept,
    Mode::Baseline,
    Mode::BaselineVerbose,
];

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Plain => "plain forwarding",
            Mode::Kernel => "kernel TCPMSS",
            Mode::Tcpmssd => "tcpmssd",
            Mode::TcpmssdVerbose => "tcpmssd -v",
            Mode::Ebpf => "tcpmssd -e",
            Mode::CClassic => "C classic",
            Mode::CBatched => "C batched",
            Mode::CAccept => "NFQUEUE accept",
            Mode::Baseline => "tcpmssd baseline",
            Mode::BaselineVerbose => "baseline -v",
            Mode::Variant(n) => ["variant 1", "variant 2", "variant 3", "variant 4"][n],
        }
    }

    /// The name in TCPMSSD_BENCH_MODES and in file names.
    fn key(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Kernel => "kernel",
            Mode::Tcpmssd => "tcpmssd",
            Mode::TcpmssdVerbose => "tcpmssd-v",
            Mode::Ebpf => "ebpf",
            Mode::CClassic => "c-classic",
            Mode::CBatched => "c-batched",
            Mode::CAccept => "c-accept",
            Mode::Baseline => "baseline",
            Mode::BaselineVerbose => "baseline-v",
            Mode::Variant(n) => ["variant-1", "variant-2", "variant-3", "variant-4"][n],
        }
    }

    fn queued(self) -> bool {
        !matches!(self, Mode::Plain | Mode::Kernel | Mode::Ebpf)
    }
}

/// One round of one mode.
#[derive(Clone, Debug, Default)]
struct Round {
    sent: u64,
    arrived: Arrived,
    seconds: f64,
    /// Busy clock ticks of CPU 0 and CPU 1 from the flood's start until the queue was empty.
    busy: [u64; 2],
    /// Frames the veths dropped (a receive backlog was full), whoever clamps.
    veth_dropped: u64,
    /// Packets the consumer was handed (the queue's id sequence), the connections' too.
    queued: u64,
    /// The connections' SYNs and SYN-ACKs that arrived clamped, so queued.
    connection_clamped: u64,
    connects: Vec<Duration>,
    connect_failures: u64,
    /// `-v` only: clamp lines the daemon wrote during the round.
    lines: u64,
    /// The consumer's own CPU time (utime + stime) in clock ticks, over the same span as `busy`.
    consumer_ticks: u64,
    /// What the flood's observer wrote on stderr.
    observed: Option<String>,
    /// The generator's CPU time over the flood's, in per cent (100 unless it had to wait).
    sender_busy: f64,
}

impl Round {
    /// Clamped SYNs delivered per second; for plain forwarding, all SYNs delivered.
    fn rate(&self, mode: Mode) -> f64 {
        self.counted(mode) as f64 / self.seconds
    }

    fn counted(&self, mode: Mode) -> u64 {
        match mode {
            Mode::Plain | Mode::CAccept => self.arrived.total(),
            _ => self.arrived.clamped,
        }
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A consumer on r; stopped (SIGTERM, then SIGKILL) when dropped.
enum Consumer {
    /// tcpmssd as deployed: without -v, detached, found through its pidfile.
    Detached { pid: u32, dir: PathBuf },
    /// tcpmssd -v or the C program, a child of ours; for -v, the clamp lines read so far.
    Child {
        child: Child,
        lines: Arc<AtomicU64>,
        reader: Option<JoinHandle<()>>,
    },
}

impl Consumer {
    fn pid(&self) -> u32 {
        match self {
            Consumer::Detached { pid, .. } => *pid,
            Consumer::Child { child, .. } => child.id(),
        }
    }

    fn detached(topology: &Topology, program: &Path, args: &[&str]) -> Consumer {
        let dir = std::env::temp_dir().join(format!("{}-bench", topology.r));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).expect("temp dir");
        let pidfile = dir.join("tcpmssd.pid");
        let status = Command::new("ip")
            .args(["netns", "exec", &topology.r])
            .arg(program)
            .args(args)
            .arg("-P")
            .arg(&pidfile)
            .status()
            .expect("run tcpmssd");
        // The parent exits 0 only once the daemon has bound the queue (or attached).
        assert!(status.success(), "tcpmssd did not start: {status}");
        let pid = std::fs::read_to_string(&pidfile)
            .expect("pidfile")
            .trim()
            .parse()
            .expect("a pid");
        Consumer::Detached { pid, dir }
    }

    /// Starts `program args` in r with stderr read line by line (lines with "MSS " counted).
    fn child(topology: &Topology, queue: u16, program: &Path, args: &[String]) -> Consumer {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &topology.r])
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
        // `ip netns exec` execs the program in the same process, which keeps the CPU.
        pin(child.id() as libc::pid_t, CONSUMER_CPU);
        let lines = Arc::new(AtomicU64::new(0));
        let stderr = child.stderr.take().expect("piped");
        let counted = Arc::clone(&lines);
        // As cheap as a reader can be (it takes CPU from the flood too, as journald would):
        // bytes in large reads, clamp lines counted, other lines shown.
        let reader = std::thread::spawn(move || {
            let mut stderr = stderr;
            let mut buf = vec![0u8; 1 << 16];
            let mut line = Vec::new();
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                for &byte in &buf[..n] {
                    if byte != b'\n' {
                        line.push(byte);
                        continue;
                    }
                    if line.windows(6).any(|w| w == b": MSS ") {
                        counted.fetch_add(1, Ordering::Relaxed);
                    } else {
                        eprintln!("[{queue}] {}", String::from_utf8_lossy(&line));
                    }
                    line.clear();
                }
            }
        });
        let consumer = Consumer::Child {
            child,
            lines,
            reader: Some(reader),
        };
        let bound = common::wait_until(Duration::from_secs(5), || {
            queue_line(consumer.pid(), queue).filter(|q| q.copy_mode == 2)
        });
        assert!(
            bound.is_some(),
            "{} did not bind queue {queue}",
            program.display()
        );
        consumer
    }

    fn lines(&self) -> u64 {
        match self {
            Consumer::Detached { .. } => 0,
            Consumer::Child { lines, .. } => lines.load(Ordering::Relaxed),
        }
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
            .unwrap_or_else(|| panic!("no {field}"))
    }

    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).expect("stat");
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

impl Drop for Consumer {
    fn drop(&mut self) {
        let pid = self.pid();
        // SAFETY: kill(2) on the consumer's pid; no memory arguments.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        match self {
            Consumer::Detached { dir, .. } => {
                let gone = common::wait_until(Duration::from_secs(5), || {
                    std::fs::read_to_string(format!("/proc/{pid}/stat"))
                        .map_or(true, |s| {
                            s.rsplit(')')
                                .next()
                                .is_some_and(|f| f.trim_start().starts_with('Z'))
                        })
                        .then_some(())
                });
                if gone.is_none() {
                    // SAFETY: as above.
                    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                }
                let _ = std::fs::remove_dir_all(&*dir);
            }
            Consumer::Child { child, reader, .. } => {
                let exited =
                    common::wait_until(Duration::from_secs(5), || child.try_wait().ok()?);
                if exited.is_none() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                if let Some(reader) = reader.take() {
                    let _ = reader.join();
                }
            }
        }
    }
}

/// One line of /proc/net/netfilter/nfnetlink_queue as `pid`'s namespace sees it.
#[derive(Clone, Copy, Debug)]
struct QueueLine {
    total: u32,
    copy_mode: u32,
    id_sequence: u32,
}

fn queue_line(pid: u32, queue: u16) -> Option<QueueLine> {
    let table =
        std::fs::read_to_string(format!("/proc/{pid}/net/netfilter/nfnetlink_queue")).ok()?;
    table.lines().find_map(|line| {
        let f: Vec<u32> = line
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        // queue_number peer_portid queue_total copy_mode copy_range queue_dropped
        // user_dropped id_sequence 1
        (f.len() >= 8 && f[0] == u32::from(queue)).then(|| QueueLine {
            total: f[2],
            copy_mode: f[3],
            id_sequence: f[7],
        })
    })
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

/// The programs the modes run besides tcpmssd itself.
#[derive(Clone, Debug, Default)]
struct Programs {
    /// benches/nfq_clamp.c, built.
    c_consumer: Option<PathBuf>,
    /// Another tcpmssd.
    baseline: Option<PathBuf>,
    /// Experimental tcpmssd builds.
    variants: Vec<PathBuf>,
}

/// Sets r up for `mode`; returns its consumer, if it has one.
fn install(topology: &Topology, mode: Mode, programs: &Programs) -> Option<Consumer> {
    for family in FAMILIES {
        topology.exec(&topology.r, &[family.iptables(), "-t", "mangle", "-F"]);
    }
    let queue = queue_number(topology);
    if mode.queued() {
        queue_to(topology, "FORWARD", Queued::Syns, queue, true);
    }
    let consumer = match mode {
        Mode::Plain => None,
        Mode::Kernel => {
            // Installs its rules and returns no daemon.
            let _ = Clamper::Kernel { mtu: MTU }.install(topology);
            None
        }
        Mode::Tcpmssd | Mode::Baseline | Mode::Variant(_) => {
            let program = match mode {
                Mode::Variant(n) => &programs.variants[n],
                Mode::Baseline => programs
                    .baseline
                    .as_deref()
                    .expect("TCPMSSD_BENCH_BASELINE"),
                _ => Path::new(env!("CARGO_BIN_EXE_tcpmssd")),
            };
            let args = ["-p", &queue.to_string(), "-m", &MTU.to_string()];
            let daemon = Consumer::detached(topology, program, &args);
            pin(daemon.pid() as libc::pid_t, CONSUMER_CPU);
            share_autogroup_nice(daemon.pid());
            Some(daemon)
        }
        Mode::Ebpf => {
            let program = Path::new(env!("CARGO_BIN_EXE_tcpmssd"));
            let args = ["-e", "-i", R_B_IF, "-m", &MTU.to_string()];
            Some(Consumer::detached(topology, program, &args))
        }
        Mode::TcpmssdVerbose | Mode::BaselineVerbose => {
            let args = ["-v", "-p", &queue.to_string(), "-m", &MTU.to_string()].map(String::from);
            let program = match mode {
                Mode::BaselineVerbose => programs.baseline.as_deref().expect("a baseline"),
                _ => Path::new(env!("CARGO_BIN_EXE_tcpmssd")),
            };
            Some(Consumer::child(topology, queue, program, &args))
        }
        Mode::CClassic | Mode::CBatched | Mode::CAccept => {
            let variant = match mode {
                Mode::CClassic => "classic",
                Mode::CBatched => "batched",
                _ => "accept",
            };
            let args = [
                variant.to_string(),
                queue.to_string(),
                MTU.to_string(),
                QUEUE_MAX_LEN.to_string(),
                RECEIVE_BUFFER_LEN.to_string(),
            ];
            let program = programs
                .c_consumer
                .as_deref()
                .expect("C modes only with TCPMSSD_BENCH_C");
            Some(Consumer::child(topology, queue, program, &args))
        }
    };
    consumer
}

/// Counting rules (no target) in the raw PREROUTING of b and a for the connections' SYNs and
/// SYN-ACKs that arrive clamped: with the flood's counters at b, they account for every packet
/// a consumer was handed.
struct ConnectionCounters;

impl ConnectionCounters {
    fn install(topology: &Topology) -> ConnectionCounters {
        let mss = Family::V4.mss_for_mtu(MTU).to_string();
        let port = PORT.to_string();
        for (ns, flags, direction) in [
            (&topology.b, "SYN", "--dport"),
            (&topology.a, "SYN,ACK", "--sport"),
        ] {
            topology.exec(
                ns,
                &[
                    "iptables",
                    "-t",
                    "raw",
                    "-A",
                    "PREROUTING",
                    "-p",
                    "tcp",
                    "--tcp-flags",
                    "SYN,ACK,RST",
                    flags,
                    direction,
                    &port,
                    "-m",
                    "tcpmss",
                    "--mss",
                    &mss,
                ],
            );
        }
        ConnectionCounters
    }

    fn read(&self, topology: &Topology) -> u64 {
        let port = format!("pt:{PORT}");
        [&topology.b, &topology.a]
            .iter()
            .map(|ns| {
                let table = raw_prerouting(topology, ns, "iptables");
                table
                    .lines()
                    .find(|l| l.contains(&port))
                    .and_then(|l| l.split_whitespace().next()?.parse::<u64>().ok())
                    .unwrap_or_else(|| panic!("no connection counter in:\n{table}"))
            })
            .sum()
    }
}

/// Busy clock ticks (user, nice, system, irq, softirq; not idle, iowait or steal) of CPU 0 and
/// CPU 1 since boot, from /proc/stat.
fn busy_ticks() -> [u64; 2] {
    let stat = std::fs::read_to_string("/proc/stat").expect("/proc/stat");
    let mut busy = [0; 2];
    for (cpu, slot) in busy.iter_mut().enumerate() {
        let prefix = format!("cpu{cpu} ");
        let line = stat
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} in /proc/stat"));
        let f: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse().expect("a tick count"))
            .collect();
        // user nice system idle iowait irq softirq steal ... (proc(5))
        *slot = f[0] + f[1] + f[2] + f[5] + f[6];
    }
    busy
}

/// How often the connector starts a connection: paced, so that its own work (a connect and a
/// close cost as much CPU as some hundred flood SYNs) is the same small load in every mode
/// instead of growing with how fast connections complete.
const CONNECT_EVERY: Duration = Duration::from_millis(5);

/// `connect()` calls from a to a listener on b every [`CONNECT_EVERY`] until `stop`: their
/// times and the number that failed.
fn connector(topology: &Topology, stop: Arc<AtomicBool>) -> JoinHandle<(Vec<Duration>, u64)> {
    let address = Family::V4.b_port(PORT);
    spawn_in(&topology.a, move || {
        let mut times = Vec::new();
        let mut failures = 0;
        while !stop.load(Ordering::Relaxed) {
            let start = Instant::now();
            match TcpStream::connect_timeout(&address, Duration::from_secs(3)) {
                Ok(stream) => {
                    times.push(start.elapsed());
                    drop(stream);
                }
                Err(_) => failures += 1,
            }
            std::thread::sleep(CONNECT_EVERY.saturating_sub(start.elapsed()));
        }
        (times, failures)
    })
}

/// Runs one flood of `seconds` against whatever r has now; `per_second` paces it.
/// What one flood is: how long, how fast, with connections measured alongside or not, and a
/// program (perf) started just before it and waited for after it.
struct Flood<'a> {
    seconds: f64,
    per_second: Option<u64>,
    connects: bool,
    observer: Option<&'a dyn Fn() -> Child>,
}

impl Flood<'_> {
    /// A round's flood: as fast as the kernel takes it, with connections.
    fn full(seconds: f64) -> Flood<'static> {
        Flood {
            seconds,
            per_second: None,
            connects: true,
            observer: None,
        }
    }
}

/// What every flood of the run uses: the namespaces, the counters at b (and a), the frames.
struct Bench {
    topology: Topology,
    arrivals: Arrivals,
    connections: ConnectionCounters,
    frames: SynFrames,
}

fn measure(bench: &Bench, consumer: Option<&Consumer>, flood: &Flood<'_>) -> Round {
    let Bench {
        topology,
        arrivals,
        connections,
        frames,
    } = bench;
    let Flood {
        seconds,
        per_second,
        connects,
        ..
    } = *flood;
    let queue = queue_number(topology);
    let queued = |c: Option<&Consumer>| {
        c.and_then(|c| queue_line(c.pid(), queue))
            .map_or(0, |q| u64::from(q.id_sequence))
    };
    let before = arrivals.settle(topology);
    let connection_before = connections.read(topology);
    let dropped_before = veth_drops(topology);
    let queued_before = queued(consumer);
    let lines_before = consumer.map_or(0, Consumer::lines);
    let stop = Arc::new(AtomicBool::new(false));
    let connecting = connects.then(|| connector(topology, Arc::clone(&stop)));
    let observer = flood.observer.map(|spawn| spawn());
    let busy_before = busy_ticks();
    let consumer_before = consumer.map_or(0, Consumer::cpu_ticks);
    let sent: Sent = frame_flood(
        topology,
        frames,
        Duration::from_secs_f64(seconds),
        SENDER_CPU,
        per_second,
    );
    stop.store(true, Ordering::Relaxed);
    // The consumer's CPU time until it has answered what the flood left queued.
    if let Some(consumer) = consumer {
        // The eBPF mode binds no queue: nothing waits.
        let _ = common::wait_until(Duration::from_millis(500), || {
            queue_line(consumer.pid(), queue).map_or(Some(()), |q| (q.total == 0).then_some(()))
        });
    }
    let busy_after = busy_ticks();
    let consumer_ticks = consumer.map_or(0, Consumer::cpu_ticks) - consumer_before;
    let observed = observer.map(|child| {
        let output = child.wait_with_output().expect("observer");
        String::from_utf8_lossy(&output.stderr).into_owned()
    });
    let (connect_times, connect_failures) = connecting
        .map(|c| c.join().expect("connector"))
        .unwrap_or_default();
    let after = arrivals.settle(topology);
    let lines = match consumer {
        // The reader may still be behind the daemon's writes.
        Some(c) => {
            let _ = common::wait_until(Duration::from_secs(2), || {
                (c.lines() - lines_before >= after.clamped - before.clamped).then_some(())
            });
            c.lines() - lines_before
        }
        None => 0,
    };
    Round {
        sent: sent.syns,
        arrived: Arrived {
            clamped: after.clamped - before.clamped,
            other: after.other - before.other,
        },
        seconds: sent.took.as_secs_f64(),
        busy: [
            busy_after[0] - busy_before[0],
            busy_after[1] - busy_before[1],
        ],
        veth_dropped: veth_drops(topology) - dropped_before,
        queued: queued(consumer) - queued_before,
        connection_clamped: connections.read(topology) - connection_before,
        connects: connect_times,
        connect_failures,
        lines,
        consumer_ticks,
        observed,
        sender_busy: 100.0 * sent.cpu.as_secs_f64() / sent.took.as_secs_f64(),
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percentile(sorted: &[Duration], per_cent: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(sorted.len() * per_cent / 100).min(sorted.len() - 1)]
}

/// The median, least and greatest of `mode_a`'s rate over `mode_b`'s in the same round.
fn paired(results: &[(Mode, Vec<Round>)], a: Mode, b: Mode) -> Option<(f64, f64, f64)> {
    let of = |m: Mode| results.iter().find(|(mode, _)| *mode == m).map(|(_, r)| r);
    let (ra, rb) = (of(a)?, of(b)?);
    let mut ratios: Vec<f64> = ra
        .iter()
        .zip(rb)
        .map(|(x, y)| x.rate(a) / y.rate(b))
        .collect();
    let med = median(&mut ratios);
    Some((med, ratios[0], ratios[ratios.len() - 1]))
}

/// The highest rate, to a 64th of `ceiling`, at which `mode` delivers every SYN clamped in a
/// flood of `seconds`, found by bisection; with the rate the generator really offered.
fn sweep(
    bench: &Bench,
    mode: Mode,
    programs: &Programs,
    ceiling: f64,
    seconds: f64,
) -> (u64, Vec<String>) {
    let consumer = install(&bench.topology, mode, programs);
    let (mut good, mut bad) = (0.0f64, ceiling);
    let mut best = 0.0f64;
    let mut log = Vec::new();
    for _ in 0..6 {
        let rate = (good + bad) / 2.0;
        let flood = Flood {
            seconds,
            per_second: Some(rate as u64),
            connects: false,
            observer: None,
        };
        let round = measure(bench, consumer.as_ref(), &flood);
        let offered = round.sent as f64 / round.seconds;
        let clean = round.arrived.other == 0 && round.arrived.clamped == round.sent;
        log.push(format!(
            "{:.0}/s{}",
            offered,
            if clean {
                String::new()
            } else {
                format!(" ({} unclamped)", round.arrived.other)
            }
        ));
        if clean {
            good = rate;
            best = best.max(offered);
        } else {
            bad = rate;
        }
    }
    (best as u64, log)
}

#[test]
#[ignore = "a benchmark: run it with bash benches/throughput.sh"]
fn throughput_benchmark() {
    require_netns!();
    let rounds: usize = env_or("TCPMSSD_BENCH_ROUNDS", 11);
    let seconds: f64 = env_or("TCPMSSD_BENCH_SECONDS", 0.7);
    let sweep_seconds: f64 = env_or("TCPMSSD_BENCH_SWEEP_SECONDS", 1.0);
    let do_sweep: u32 = env_or("TCPMSSD_BENCH_SWEEP", 1);
    // Set but empty (as benches/throughput.sh passes them) counts as not set.
    let setting = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let programs = Programs {
        c_consumer: setting("TCPMSSD_BENCH_C").map(PathBuf::from),
        baseline: setting("TCPMSSD_BENCH_BASELINE").map(PathBuf::from),
        variants: setting("TCPMSSD_BENCH_VARIANTS")
            .and_then(|v| v.into_string().ok())
            .map(|v| v.split(',').take(4).map(PathBuf::from).collect())
            .unwrap_or_default(),
    };
    let wanted = setting("TCPMSSD_BENCH_MODES").and_then(|v| v.into_string().ok());
    let variants = (0..programs.variants.len()).map(Mode::Variant);
    let modes: Vec<Mode> = MODES
        .iter()
        .copied()
        .chain(variants)
        .filter(|m| match m {
            Mode::CClassic | Mode::CBatched | Mode::CAccept => programs.c_consumer.is_some(),
            Mode::Baseline | Mode::BaselineVerbose => programs.baseline.is_some(),
            _ => true,
        })
        .filter(|m| {
            wanted
                .as_deref()
                .is_none_or(|w| w.split(',').any(|k| k == m.key()))
        })
        .collect();
    if programs.c_consumer.is_none() {
        println!("# no TCPMSSD_BENCH_C: the C consumers are left out");
    }
    let topology = Topology::new();
    let bench = Bench {
        arrivals: Arrivals::install(&topology, Family::V4, Family::V4.mss_for_mtu(MTU)),
        connections: ConnectionCounters::install(&topology),
        frames: SynFrames::new(&topology),
        topology,
    };
    let topology = &bench.topology;
    // The connections' listener on b, for the whole run.
    let listener: TcpListener =
        in_netns(&topology.b, || TcpListener::bind(Family::V4.b_port(PORT))).expect("listen");
    let _acceptor = spawn_in(&topology.b, move || {
        for stream in listener.incoming() {
            drop(stream);
        }
    });

    let mut results: Vec<(Mode, Vec<Round>)> = modes.iter().map(|&m| (m, Vec::new())).collect();
    let mut peak_rss_kib = 0u64;
    for round in 0..rounds {
        // Each round starts with another mode, so that no mode always follows the same one.
        for k in 0..results.len() {
            let index = (round + k) % results.len();
            let mode = results[index].0;
            let consumer = install(topology, mode, &programs);
            let run = measure(&bench, consumer.as_ref(), &Flood::full(seconds));
            if mode == Mode::Tcpmssd {
                if let Some(c) = &consumer {
                    peak_rss_kib = peak_rss_kib.max(c.status_kib("VmHWM"));
                }
            }
            eprintln!(
                "round {:>2}: {:<16} sent {:>8}, arrived {:>8} ({:>8} clamped), {:>7.0}/s, \
                 CPU {:>3}+{:>3} ticks, sender busy {:.0} %",
                round + 1,
                mode.name(),
                run.sent,
                run.arrived.total(),
                run.arrived.clamped,
                run.rate(mode),
                run.busy[0],
                run.busy[1],
                run.sender_busy,
            );
            drop(consumer);
            results[index].1.push(run);
        }
    }

    // Idle: the daemon sleeps in ppoll and uses no CPU.
    let idle_ticks = modes.contains(&Mode::Tcpmssd).then(|| {
        let daemon = install(topology, Mode::Tcpmssd, &programs).expect("a daemon");
        std::thread::sleep(Duration::from_millis(500));
        let start = daemon.cpu_ticks();
        std::thread::sleep(Duration::from_secs(2));
        daemon.cpu_ticks() - start
    });

    let mut sweeps = Vec::new();
    if do_sweep != 0 {
        for &(mode, ref runs) in &results {
            if !mode.queued()
                || matches!(
                    mode,
                    Mode::TcpmssdVerbose | Mode::BaselineVerbose | Mode::CAccept
                )
            {
                continue;
            }
            let mut offered: Vec<f64> = runs.iter().map(|r| r.sent as f64 / r.seconds).collect();
            let ceiling = median(&mut offered);
            let (rate, log) = sweep(&bench, mode, &programs, ceiling, sweep_seconds);
            eprintln!("sweep {}: {}", mode.name(), log.join(", "));
            sweeps.push((mode, rate, ceiling));
        }
    }

    if let Some(dir) = setting("TCPMSSD_BENCH_PERF") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("perf directory");
        for &mode in &modes {
            let consumer = install(topology, mode, &programs);
            let data = dir.join(format!("{}.data", mode.key()));
            let spawn = || {
                Command::new("perf")
                    .args(["record", "-a", "-g", "-q", "-o"])
                    .arg(&data)
                    .args(["--", "sleep", &format!("{seconds}")])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("perf record")
            };
            let flood = Flood {
                observer: Some(&spawn),
                ..Flood::full(seconds + 0.2)
            };
            let run = measure(&bench, consumer.as_ref(), &flood);
            eprintln!(
                "perf {}: {:.0}/s -> {}",
                mode.name(),
                run.rate(mode),
                data.display()
            );
        }
    }

    // System calls per clamped SYN, counted by the kernel's tracepoints for the consumer alone.
    let mut syscall_lines = Vec::new();
    if setting("TCPMSSD_BENCH_SYSCALLS").is_some() {
        const CALLS: [&str; 8] = [
            "recvmmsg",
            "recvfrom",
            "sendmsg",
            "sendto",
            "ppoll",
            "poll",
            "rt_sigpending",
            "write",
        ];
        for &mode in modes.iter().filter(|m| m.queued()) {
            let consumer = install(topology, mode, &programs).expect("a consumer");
            let events: Vec<String> = CALLS
                .iter()
                .map(|c| format!("syscalls:sys_enter_{c}"))
                .collect();
            let pid = consumer.pid().to_string();
            let spawn = || {
                Command::new("perf")
                    .args(["stat", "-x,", "-e", &events.join(","), "-p", &pid])
                    .args(["--", "sleep", &format!("{seconds}")])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("perf stat")
            };
            let flood = Flood {
                observer: Some(&spawn),
                connects: false,
                ..Flood::full(seconds + 0.2)
            };
            let run = measure(&bench, Some(&consumer), &flood);
            let text = run.observed.clone().unwrap_or_default();
            // -x, lines: count,unit,event,...; the counts cover `seconds` of the flood.
            let mut total = 0.0;
            let mut parts = Vec::new();
            for line in text.lines() {
                let f: Vec<&str> = line.split(',').collect();
                let (Some(count), Some(event)) = (f.first(), f.get(2)) else {
                    continue;
                };
                let Ok(count) = count.parse::<f64>() else {
                    continue;
                };
                let name = event.trim_start_matches("syscalls:sys_enter_");
                total += count;
                if count > 0.0 {
                    parts.push(format!("{name} {count:.0}"));
                }
            }
            // The counts cover the flood's first `seconds`, which run.rate describes.
            let clamped = run.rate(mode) * seconds;
            syscall_lines.push(format!(
                "system calls {}: {:.3} per clamped SYN ({}; {clamped:.0} clamped in {seconds} s)",
                mode.key(),
                total / clamped.max(1.0),
                parts.join(", ")
            ));
        }
    }

    println!();
    println!(
        "{:<16} {:>6}  {:>26}  {:>8}  {:>9}  {:>6}  {:>20}  {:>8}  {:>19}",
        "mode",
        "rounds",
        "clamped SYN/s min/med/max",
        "offered",
        "fail-open",
        "lost",
        "CPU µs/SYN 0+1=all",
        "consumer",
        "connect p50 / p99"
    );
    let mut medians = Vec::new();
    for (mode, runs) in &results {
        let mut rates: Vec<f64> = runs.iter().map(|r| r.rate(*mode)).collect();
        let med = median(&mut rates);
        let (min, max) = (rates[0], rates[rates.len() - 1]);
        let mut offered: Vec<f64> = runs.iter().map(|r| r.sent as f64 / r.seconds).collect();
        let offered = median(&mut offered);
        let sent: u64 = runs.iter().map(|r| r.sent).sum();
        let arrived: u64 = runs.iter().map(|r| r.arrived.total()).sum();
        let other: u64 = runs.iter().map(|r| r.arrived.other).sum();
        let counted: u64 = runs.iter().map(|r| r.counted(*mode)).sum();
        let busy: Vec<u64> = (0..2)
            .map(|cpu| runs.iter().map(|r| r.busy[cpu]).sum())
            .collect();
        let per_syn = |ticks: u64| ticks as f64 / USER_HZ * 1e6 / counted.max(1) as f64;
        let consumer = if mode.queued() {
            format!(
                "{:.2}",
                per_syn(runs.iter().map(|r| r.consumer_ticks).sum())
            )
        } else {
            "-".to_string()
        };
        let mut connects: Vec<Duration> = runs.iter().flat_map(|r| r.connects.clone()).collect();
        connects.sort();
        // NFQUEUE accept passes everything unclamped: fail-open cannot be told apart there.
        let fail_open = if matches!(mode, Mode::Plain | Mode::CAccept) {
            "-".to_string()
        } else {
            format!("{:.1} %", 100.0 * other as f64 / arrived.max(1) as f64)
        };
        println!(
            "{:<16} {:>6}  {:>8.0}/{:>8.0}/{:>8.0}  {:>8.0}  {:>9}  {:>6}  {:>5.2}+{:>5.2}={:>5.2}  \
             {:>8}  {:>7.0} / {:>7.0} µs",
            mode.name(),
            runs.len(),
            min,
            med,
            max,
            offered,
            fail_open,
            sent as i64 - arrived as i64,
            per_syn(busy[0]),
            per_syn(busy[1]),
            per_syn(busy[0] + busy[1]),
            consumer,
            percentile(&connects, 50).as_secs_f64() * 1e6,
            percentile(&connects, 99).as_secs_f64() * 1e6,
        );
        medians.push((*mode, med));
    }
    println!();
    let veth: u64 = results
        .iter()
        .flat_map(|(_, r)| r.iter().map(|r| r.veth_dropped))
        .sum();
    let failures: u64 = results
        .iter()
        .flat_map(|(_, r)| r.iter().map(|r| r.connect_failures))
        .sum();
    println!(
        "lost = offered - delivered; of them dropped by a full veth receive backlog: {veth}; \
         failed connects: {failures}"
    );
    for (mode, runs) in &results {
        if !mode.queued() {
            continue;
        }
        // The connections' SYNs and SYN-ACKs pass the queue too, unless fail-open took them.
        let queued: u64 = runs.iter().map(|r| r.queued).sum();
        if *mode == Mode::CAccept {
            let sent: u64 = runs.iter().map(|r| r.sent).sum();
            println!(
                "{}: handed {queued} packets of {sent} flood SYNs offered (and the connections'); \
                 fail-open passed the rest",
                mode.name()
            );
            continue;
        }
        let connection: u64 = runs.iter().map(|r| r.connection_clamped).sum();
        let clamped: u64 = runs.iter().map(|r| r.arrived.clamped).sum();
        let mut line = format!(
            "{}: handed {queued} packets, delivered {} clamped ({clamped} flood SYNs, {connection} \
             of the connections){}",
            mode.name(),
            clamped + connection,
            if queued == clamped + connection {
                ": all"
            } else {
                ": NOT ALL"
            }
        );
        if matches!(mode, Mode::TcpmssdVerbose | Mode::BaselineVerbose) {
            let lines: u64 = runs.iter().map(|r| r.lines).sum();
            line.push_str(&format!(", wrote {lines} clamp lines"));
        }
        println!("{line}");
    }
    for (a, b) in [
        (Mode::Ebpf, Mode::Kernel),
        (Mode::Ebpf, Mode::Tcpmssd),
        (Mode::Tcpmssd, Mode::Kernel),
        (Mode::Tcpmssd, Mode::CBatched),
        (Mode::Tcpmssd, Mode::CClassic),
        (Mode::CBatched, Mode::Kernel),
        (Mode::TcpmssdVerbose, Mode::Kernel),
        (Mode::TcpmssdVerbose, Mode::BaselineVerbose),
        (Mode::BaselineVerbose, Mode::Kernel),
        (Mode::Plain, Mode::Kernel),
        (Mode::CAccept, Mode::Kernel),
        (Mode::Tcpmssd, Mode::CAccept),
        (Mode::Tcpmssd, Mode::Baseline),
        (Mode::Baseline, Mode::Kernel),
        (Mode::Variant(0), Mode::Tcpmssd),
        (Mode::Variant(1), Mode::Tcpmssd),
        (Mode::Variant(2), Mode::Tcpmssd),
        (Mode::Variant(3), Mode::Tcpmssd),
    ] {
        if let Some((med, min, max)) = paired(&results, a, b) {
            println!(
                "paired rounds {}/{}: {med:.2} ({min:.2}-{max:.2})",
                a.key(),
                b.key()
            );
        }
    }
    for line in &syscall_lines {
        println!("{line}");
    }
    for (mode, rate, ceiling) in &sweeps {
        // The bisection starts from the rate the generator reached against this consumer
        // unpaced; clean that close to it, the generator's limit bounds the figure.
        let bound = if *rate as f64 >= 0.95 * ceiling {
            format!(", the generator's own limit through this queue ({ceiling:.0}/s) bounds it")
        } else {
            String::new()
        };
        println!(
            "sweep {}: highest offered rate with nothing unclamped {rate}/s ({sweep_seconds} s \
             floods, bisection){bound}",
            mode.key()
        );
    }
    if let Some(idle) = idle_ticks {
        println!(
            "tcpmssd peak RSS under the flood: {peak_rss_kib} KiB; CPU while idle for 2 s: {idle} \
             ticks"
        );
    }
    let of = |m: Mode| {
        medians
            .iter()
            .find(|(mode, _)| *mode == m)
            .map_or(0.0, |(_, r)| *r)
    };
    let ratio = |a, b| paired(&results, a, b).map_or(0.0, |(med, _, _)| med);
    println!(
        "throughput: kernel={:.0} tcpmssd={:.0} c-batched={:.0} tcpmssd/kernel={:.2} \
         tcpmssd/c-batched={:.2}",
        of(Mode::Kernel),
        of(Mode::Tcpmssd),
        of(Mode::CBatched),
        ratio(Mode::Tcpmssd, Mode::Kernel),
        ratio(Mode::Tcpmssd, Mode::CBatched),
    );
}
