//! What clamps the MSS on r: nothing, the kernel's own TCPMSS target, or tcpmssd behind an
//! NFQUEUE rule. The kernel stand-in proves each scenario (and this harness) can pass before
//! the daemon exists; the same scenario with the daemon then proves the daemon.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::netns::{Family, Topology, FAMILIES};
use super::wait_until;

/// How long the daemon may take to bind its queue, or to notice a change.
pub const DAEMON_WAIT: Duration = Duration::from_secs(5);

/// Which packets r hands to the daemon's queue.
#[derive(Clone, Copy, Debug)]
pub enum Queued {
    /// SYN set, RST clear (SYN and SYN-ACK): the deployment rule.
    Syns,
    /// Every TCP packet, so the daemon's verdicts carry whole transfers.
    AllTcp,
}

/// The daemon's arguments after `-v -p <queue>`, and the rule that feeds it.
#[derive(Clone, Debug)]
pub struct DaemonSetup {
    pub args: Vec<String>,
    /// The mangle chain of r holding the NFQUEUE rule.
    pub chain: &'static str,
    /// The rule has `--queue-bypass` (as deployed): packets pass while no daemon is bound.
    pub bypass: bool,
    pub queued: Queued,
}

#[derive(Clone, Debug)]
pub enum Clamper {
    /// Nothing on r touches the MSS.
    None,
    /// `TCPMSS --set-mss` with MTU − 40 (IPv4) and MTU − 60 (IPv6) in r's mangle FORWARD.
    Kernel { mtu: u16 },
    /// tcpmssd on r.
    Daemon(DaemonSetup),
}

impl Clamper {
    /// tcpmssd with `args`, fed the SYNs r forwards (mangle FORWARD).
    pub fn daemon(args: &[&str]) -> Clamper {
        Clamper::Daemon(DaemonSetup {
            args: args.iter().map(|a| a.to_string()).collect(),
            chain: "FORWARD",
            queued: Queued::Syns,
            bypass: false,
        })
    }

    /// Puts the clamper in place on r; the daemon (if any) runs until the result is dropped.
    #[must_use = "the daemon is stopped when this is dropped"]
    pub fn install(&self, topology: &Topology) -> Option<Daemon> {
        match self {
            Clamper::None => None,
            Clamper::Kernel { mtu } => {
                for family in FAMILIES {
                    let mss = family.mss_for_mtu(*mtu).to_string();
                    topology.exec(
                        &topology.r,
                        &[
                            family.iptables(),
                            "-t",
                            "mangle",
                            "-A",
                            "FORWARD",
                            "-p",
                            "tcp",
                            "--tcp-flags",
                            "SYN,RST",
                            "SYN",
                            "-j",
                            "TCPMSS",
                            "--set-mss",
                            &mss,
                        ],
                    );
                }
                None
            }
            Clamper::Daemon(setup) => {
                let queue = queue_number(topology);
                queue_to(topology, setup.chain, setup.queued, queue, setup.bypass);
                let args: Vec<&str> = setup.args.iter().map(String::as_str).collect();
                Some(Daemon::start(topology, queue, &args))
            }
        }
    }
}

/// The queue number of a topology's daemon: unique within the test process, although queues
/// are per namespace anyway.
pub fn queue_number(topology: &Topology) -> u16 {
    1000 + topology.id()
}

/// Adds r's rule that hands `queued` packets in mangle `chain` to NFQUEUE `queue`, both
/// families. Without `bypass` (most tests), with no daemon bound the packets are dropped, so a
/// daemon that is not there fails a test instead of letting SYNs pass unclamped.
pub fn queue_to(topology: &Topology, chain: &str, queued: Queued, queue: u16, bypass: bool) {
    let queue = queue.to_string();
    for family in FAMILIES {
        let mut args = vec![family.iptables(), "-t", "mangle", "-A", chain, "-p", "tcp"];
        if let Queued::Syns = queued {
            args.extend_from_slice(&["--tcp-flags", "SYN,RST", "SYN"]);
        }
        args.extend_from_slice(&["-j", "NFQUEUE", "--queue-num", &queue]);
        if bypass {
            args.push("--queue-bypass");
        }
        topology.exec(&topology.r, &args);
    }
}

/// One line of /proc/net/netfilter/nfnetlink_queue: a bound queue and its counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueStats {
    pub copy_mode: u32,
    pub copy_range: u32,
    /// Dropped by the kernel: queue full without fail-open, or no verdict space.
    pub queue_dropped: u32,
    /// Dropped because the netlink socket could not take them.
    pub user_dropped: u32,
    /// The id of the last packet queued: how many packets passed through the queue.
    pub id_sequence: u32,
}

/// The stats of `queue` as process `pid`'s namespace sees them, if it is bound.
pub fn queue_stats(pid: u32, queue: u16) -> Option<QueueStats> {
    let table =
        std::fs::read_to_string(format!("/proc/{pid}/net/netfilter/nfnetlink_queue")).ok()?;
    table.lines().find_map(|line| {
        let fields: Vec<u32> = line
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        // queue_number peer_portid queue_total copy_mode copy_range queue_dropped
        // user_dropped id_sequence 1
        (fields.len() >= 8 && fields[0] == u32::from(queue)).then(|| QueueStats {
            copy_mode: fields[3],
            copy_range: fields[4],
            queue_dropped: fields[5],
            user_dropped: fields[6],
            id_sequence: fields[7],
        })
    })
}

/// The number right after `prefix` in the last of `lines` that holds it.
fn last_number_after(lines: &[String], prefix: &str) -> Option<u64> {
    lines.iter().rev().find_map(|line| {
        let rest = line.split_once(prefix)?.1;
        rest.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    })
}

/// Whether process `pid` lives in namespace `ns` (so far it may still be `ip netns exec`).
pub fn in_namespace(pid: u32, ns: &str) -> bool {
    let inode = |path: String| std::fs::metadata(path).map(|m| (m.dev(), m.ino())).ok();
    let theirs = inode(format!("/proc/{pid}/ns/net"));
    theirs.is_some() && theirs == inode(Topology::handle(ns))
}

/// `tcpmssd -v -p <queue> ...` running in r; stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Daemon {
    child: Child,
    queue: u16,
    ns: String,
    log: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
}

impl Daemon {
    /// Starts the daemon in r and waits until it has bound `queue` in copy-packet mode: only
    /// then is a packet sent to the queue sure to reach it.
    pub fn start(topology: &Topology, queue: u16, args: &[&str]) -> Daemon {
        Daemon::launch(topology, queue, args, false)
    }

    /// As [`Daemon::start`], with the daemon's stdin and stdout closed, not on /dev/null.
    pub fn start_with_stdin_and_stdout_closed(
        topology: &Topology,
        queue: u16,
        args: &[&str],
    ) -> Daemon {
        Daemon::launch(topology, queue, args, true)
    }

    fn launch(topology: &Topology, queue: u16, args: &[&str], close_stdio: bool) -> Daemon {
        let queue_arg = queue.to_string();
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &topology.r])
            .arg(super::binary())
            .args(["-v", "-p", &queue_arg])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if close_stdio {
            let close_0_and_1 = || {
                // SAFETY: close(2) is async-signal-safe, and 0 and 1 are ours to close.
                unsafe { libc::close(0) };
                // SAFETY: as above.
                unsafe { libc::close(1) };
                Ok(())
            };
            // SAFETY: the closure only calls close(2); ip then execs tcpmssd without 0 and 1.
            unsafe { command.pre_exec(close_0_and_1) };
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn tcpmssd: {e}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let lines = Arc::clone(&log);
        let reader = thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // Shown with the test's output when it fails.
                eprintln!("[tcpmssd -p {queue}] {line}");
                lines.lock().unwrap().push(line);
            }
        });
        let mut daemon = Daemon {
            child,
            queue,
            ns: topology.r.clone(),
            log,
            reader: Some(reader),
        };
        daemon.wait_until_bound(args);
        daemon
    }

    fn wait_until_bound(&mut self, args: &[&str]) {
        let mut last = None;
        let bound = wait_until(DAEMON_WAIT, || {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.join_reader();
                panic!(
                    "tcpmssd -v -p {} {} exited ({status}) before binding its queue; stderr:\n{}",
                    self.queue,
                    args.join(" "),
                    self.log().join("\n")
                );
            }
            last = in_namespace(self.child.id(), &self.ns)
                .then(|| queue_stats(self.child.id(), self.queue))
                .flatten();
            // Copy mode 2 is NFQNL_COPY_PACKET; 0 would mean bound but not yet configured.
            last.filter(|stats| stats.copy_mode == 2)
        });
        assert!(
            bound.is_some(),
            "tcpmssd did not bind queue {} in copy-packet mode within {DAEMON_WAIT:?} \
             (last seen: {last:?}); stderr:\n{}",
            self.queue,
            self.log().join("\n")
        );
    }

    /// Waits (briefly) for the last stderr lines. Bounded: a process the daemon left behind
    /// could hold the pipe open, and that must not hang the test.
    fn join_reader(&mut self) {
        if let Some(reader) = self.reader.take() {
            let start = Instant::now();
            while !reader.is_finished() && start.elapsed() < Duration::from_secs(1) {
                thread::sleep(Duration::from_millis(10));
            }
            if reader.is_finished() {
                let _ = reader.join();
            }
        }
    }

    /// The value of `field` in the daemon's /proc status (`CapEff`, `Seccomp`, `Uid`, ...).
    pub fn status_field(&self, field: &str) -> String {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the daemon's /proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .unwrap_or_else(|| panic!("no {field} in:\n{status}"))
            .trim()
            .to_string()
    }

    /// The daemon's stderr lines so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits until a stderr line satisfies `wanted`; false after [`DAEMON_WAIT`].
    pub fn wait_for_line(&self, wanted: impl Fn(&str) -> bool) -> bool {
        wait_until(DAEMON_WAIT, || {
            self.log().iter().any(|l| wanted(l)).then_some(())
        })
        .is_some()
    }

    /// The kernel's counters for the daemon's queue; panics if it is no longer bound.
    pub fn queue_stats(&self) -> QueueStats {
        queue_stats(self.child.id(), self.queue)
            .unwrap_or_else(|| panic!("queue {} is not bound any more", self.queue))
    }

    /// Asks for the counters (SIGUSR1) and returns the next report: packets seen by the core
    /// and heap allocations since start.
    pub fn report(&self) -> Report {
        let reports = |log: &[String]| {
            log.iter()
                .filter(|l| l.contains(" heap allocations "))
                .count()
        };
        let before = reports(&self.log());
        self.signal(libc::SIGUSR1);
        let log = wait_until(DAEMON_WAIT, || {
            let log = self.log();
            (reports(&log) > before).then_some(log)
        })
        .unwrap_or_else(|| {
            panic!(
                "no report {DAEMON_WAIT:?} after SIGUSR1:\n{}",
                self.log().join("\n")
            )
        });
        let last_number = |prefix: &str| -> u64 {
            last_number_after(&log, prefix)
                .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{}", log.join("\n")))
        };
        Report {
            packets: last_number("tcpmssd: packets "),
            allocations: last_number(" heap allocations "),
        }
    }

    /// The value of counter `name` (`clamped`, `repeated`, ...) in a fresh report (SIGUSR1);
    /// 0 when the summary leaves it out, as it leaves out zeros.
    pub fn counter(&self, name: &str) -> u64 {
        self.report();
        let summary: Vec<String> = self
            .log()
            .into_iter()
            .rev()
            .filter(|line| line.contains("packets ") || line.contains("counters (cont.)"))
            .take(2)
            .collect();
        last_number_after(&summary, &format!(" {name} ")).unwrap_or(0)
    }

    /// SIGTERM, then the exit status (a panic after [`DAEMON_WAIT`]; Drop then kills it).
    pub fn stop(mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        let status = wait_until(DAEMON_WAIT, || self.child.try_wait().expect("try_wait"))
            .unwrap_or_else(|| panic!("tcpmssd still running {DAEMON_WAIT:?} after SIGTERM"));
        self.join_reader();
        status
    }

    /// How many descriptors the daemon has open.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .expect("the daemon's /proc fd directory")
            .count()
    }

    /// What the daemon's descriptor `fd` refers to, as /proc shows it.
    pub fn fd_target(&self, fd: i32) -> String {
        std::fs::read_link(format!("/proc/{}/fd/{fd}", self.child.id()))
            .map(|target| target.display().to_string())
            .unwrap_or_else(|error| format!("nothing ({error})"))
    }

    /// Whether the daemon has exited (it is then reaped).
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Sends `signal` to the daemon.
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) on our own child, which has not been reaped (so the pid is its).
        unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            if thread::panicking() {
                // A test failing because the daemon died says so, beside its stderr.
                eprintln!(
                    "tcpmssd -p {} had exited during the test: {status}",
                    self.queue
                );
            }
        } else {
            self.signal(libc::SIGTERM);
            let exited = wait_until(Duration::from_secs(2), || self.child.try_wait().ok()?);
            if exited.is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
        self.join_reader();
    }
}

/// What the daemon reports on SIGUSR1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    /// Packets the core looked at.
    pub packets: u64,
    /// Heap allocations since the daemon started.
    pub allocations: u64,
}

/// The MSS a clamper for `mtu` leaves on a SYN that arrives with `mss`.
pub fn expected_mss(family: Family, mtu: u16, mss: u16) -> u16 {
    mss.min(family.mss_for_mtu(mtu))
}
