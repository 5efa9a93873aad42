//! The loop: sleep until the kernel has packets (or a signal or an MTU change arrives), hand
//! every packet to `tcpmssd_core::clamp`, give every one back, count, and act on the signal
//! flags. Platform-neutral: the kernel side is a [`PacketPath`] (NFQUEUE on Linux, divert(4) on
//! FreeBSD) and, with `-i`, an [`MtuWatch`] (rtnetlink, the routing socket).

use core::fmt;
use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

use tcpmssd_core::{clamp, endpoints, Limits, Outcome};

use crate::counters::{Counters, Event};
use crate::exit::Fatal;
use crate::log::{Endpoint, Level, Log, RateLimit};
use crate::sys::clock::Moment;
use crate::sys::signals::{self, WaitMask};

/// Bytes in the one packet buffer: a whole 64 KiB IP packet with room for the kernel's message
/// around it (an NFQUEUE packet message adds about 200 bytes of headers and attributes), after
/// the 32 slots of 2 KiB that an NFQUEUE batch reads into (`linux/nfqueue_path.rs`); divert
/// reads one packet at a time into the whole of it.
pub const PACKET_BUF_LEN: usize = 32 * 2048 + 65 * 1024;

/// Most warnings per second that packets or messages can cause (bad verdicts, send errors).
const WARNINGS_PER_SECOND: u32 = 10;

/// How soon the loop retries verdicts the kernel could not take.
const RETRY_AFTER: Duration = Duration::from_millis(100);

/// What the loop knows about each packet: the limits, the direction rule, the counters and
/// where lines go.
pub struct Handler {
    limits: Limits,
    both: bool,
    verbose: bool,
    counters: Counters,
    log: Log,
    warnings: RateLimit,
}

impl Handler {
    /// Returns a handler that clamps to `limits`, inbound packets too when `both` (`-b`), and
    /// logs every clamp when `verbose` (`-v`).
    pub fn new(limits: Limits, both: bool, verbose: bool, log: Log) -> Handler {
        Handler {
            limits,
            both,
            verbose,
            counters: Counters::new(),
            log,
            warnings: RateLimit::new("warnings", WARNINGS_PER_SECOND),
        }
    }

    /// Clamps one packet in place; returns true when its bytes changed, so that it must be
    /// given back with them. `outbound` is the direction the kernel reported.
    pub fn packet(&mut self, packet: &mut [u8], outbound: bool) -> bool {
        if !outbound && !self.both {
            self.counters.count(Event::SkippedInbound);
            return false;
        }
        let outcome = clamp(packet, self.limits);
        self.counters.record(outcome);
        let Outcome::Clamped { from, to } = outcome else {
            return false;
        };
        if self.verbose {
            match endpoints(packet) {
                Some((source, destination)) => {
                    let (source, destination) = (Endpoint(source), Endpoint(destination));
                    self.log
                        .info(format_args!("MSS {from} -> {to} {source} -> {destination}"));
                }
                None => self.log.info(format_args!("MSS {from} -> {to}")),
            }
        }
        true
    }

    /// Returns the counters, for the tests of the packet paths.
    #[cfg(test)]
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Counts something that happened outside the core.
    pub fn count(&mut self, event: Event) {
        self.counters.count(event);
    }

    /// Logs a warning that a packet or a kernel message caused, at most
    /// [`WARNINGS_PER_SECOND`] a second: a flood must not fill the disk behind syslogd.
    pub fn warn(&mut self, args: fmt::Arguments<'_>) {
        self.log
            .limited(&mut self.warnings, Moment::now(), Level::Warn, args);
    }

    /// Returns the log, for lines that are not caused by packets (start-up, MTU changes).
    pub fn log(&mut self) -> &mut Log {
        &mut self.log
    }

    /// Sends lines to `log` from now on (syslog, once detached).
    pub fn set_log(&mut self, log: Log) {
        self.log = log;
    }

    /// Returns the limits in use.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Logs the counters and the heap allocations since start (which stay flat in the loop).
    pub fn report(&mut self) {
        self.counters.log_to(&mut self.log);
        self.log.info(format_args!(
            "heap allocations {}",
            crate::sys::alloc::allocations()
        ));
    }

    /// Uses the limits for `mtu` from now on and logs them, naming `interface`.
    fn set_mtu(&mut self, interface: &str, mtu: u32) {
        self.limits = limits_for(mtu);
        let limits = self.limits;
        self.log.info(format_args!(
            "{interface}: MTU {mtu}, {}",
            LimitsShown(limits)
        ));
    }

    /// Reports warnings held back by the rate limit once their second is over.
    fn flush_warnings(&mut self) {
        self.warnings.flush(&mut self.log, Moment::now());
    }

    /// Returns true when held-back warnings wait for their report.
    fn warnings_pending(&self) -> bool {
        self.warnings.suppressed() > 0
    }
}

/// Returns the limits for an interface MTU; MTUs past 65535 (loopback's 65536) clamp to it.
pub fn limits_for(mtu: u32) -> Limits {
    Limits::from_mtu(u16::try_from(mtu).unwrap_or(u16::MAX))
}

/// Shows limits as `MSS limit 1360 (IPv4), 1340 (IPv6)`.
pub struct LimitsShown(pub Limits);

impl fmt::Display for LimitsShown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MSS limit {} (IPv4), {} (IPv6)",
            self.0.ipv4_mss(),
            self.0.ipv6_mss()
        )
    }
}

/// The kernel side of the packet path: where packets come from and go back to.
pub trait PacketPath: Sized {
    /// Opens and binds the path for `port` (`-p`). Packets may arrive while it binds; they go
    /// through `handler` like any other.
    fn open(port: u16, buf: &mut [u8], handler: &mut Handler) -> Result<Self, Fatal>;

    /// Returns the descriptor to wait on.
    fn fd(&self) -> BorrowedFd<'_>;

    /// Reads the packets that are ready without blocking, hands each to `handler`, and gives
    /// every one back to the kernel, changed or not. Returns after one bounded batch so that a
    /// flood cannot keep the loop from its signals. An error ends the daemon.
    fn pass_batch(&mut self, buf: &mut [u8], handler: &mut Handler) -> io::Result<()>;

    /// Returns true when the path has work left without new packets (verdicts the kernel
    /// could not take yet); the loop then calls [`PacketPath::pass_batch`] again soon.
    fn backlog(&self) -> bool {
        false
    }

    /// Leaves without losing a packet: stops new packets from reaching the daemon where the
    /// kernel allows it, passes the ones still queued, then lets go of the port.
    fn shut_down(self, buf: &mut [u8], handler: &mut Handler) -> io::Result<()>;
}

/// Follows one interface's MTU (`-i`).
pub trait MtuWatch: Sized {
    /// Starts following `interface`; returns the watch and the interface's MTU now.
    fn open(interface: &str) -> Result<(Self, u32), Fatal>;

    /// Returns the descriptor to wait on.
    fn fd(&self) -> BorrowedFd<'_>;

    /// Reads the messages that are ready without blocking; returns the MTU when it changed.
    /// The interface going away keeps the last MTU, and says so in `log`.
    fn read(&mut self, buf: &mut [u8], log: &mut Log) -> Option<u32>;

    /// Reads the MTU again (SIGHUP); `None`, logged, when the interface is not there.
    fn reread(&mut self, log: &mut Log) -> Option<u32>;

    /// Returns the interface's name.
    fn interface(&self) -> &str;

    /// Returns when [`MtuWatch::check`] wants to run, message or not; `None`: never.
    fn next_check(&self) -> Option<Moment> {
        None
    }

    /// Reads the MTU again if its time has come (a system that can lose notifications
    /// silently); returns it when it changed.
    fn check(&mut self, now: Moment, log: &mut Log) -> Option<u32> {
        let _ = (now, log);
        None
    }
}

/// Runs the loop until SIGTERM or SIGINT (or an error of the packet path), then shuts the
/// path down. Sleeps only in
/// `wait_readable`, the one place the handled signals are unblocked (see `sys::signals`).
pub fn run<P: PacketPath, W: MtuWatch>(
    mut path: P,
    mut watch: Option<W>,
    buf: &mut [u8],
    handler: &mut Handler,
    mask: &WaitMask,
) -> io::Result<()> {
    const PATH: usize = 0;
    const WATCH: usize = 1;
    let ended = loop {
        // Owed verdicts are retried soon, held-back warnings reported within a second, even
        // when no packet comes.
        let timeout = if path.backlog() {
            Some(RETRY_AFTER)
        } else {
            handler.warnings_pending().then_some(Duration::from_secs(1))
        };
        // ... and the MTU re-read when it is due (the clock is read only if one is due).
        let until_check = watch
            .as_ref()
            .and_then(MtuWatch::next_check)
            .map(|at| at.saturating_duration_since(Moment::now()));
        let timeout = match (timeout, until_check) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let ready = {
            let mut fds: heapless::Vec<BorrowedFd<'_>, 2> = heapless::Vec::new();
            let _ = fds.push(path.fd());
            if let Some(watch) = &watch {
                let _ = fds.push(watch.fd());
            }
            match signals::wait_readable(&fds, timeout, mask) {
                Ok(ready) => ready,
                Err(error) => break Err(error),
            }
        };
        let requests = signals::take_requests();
        if requests.terminate {
            break Ok(());
        }
        if requests.report_counters {
            handler.report();
        }
        if requests.reload_mtu {
            match &mut watch {
                Some(watch) => {
                    if let Some(mtu) = watch.reread(handler.log()) {
                        handler.set_mtu(watch.interface(), mtu);
                    }
                }
                None => handler.log().info(format_args!(
                    "SIGHUP: the MTU is fixed (-m), nothing to re-read"
                )),
            }
        }
        // The lines of one wake-up (with -v, a line per clamp) go out in one write.
        handler.log().hold();
        let passed = if ready.contains(PATH) || path.backlog() {
            path.pass_batch(buf, handler)
        } else {
            Ok(())
        };
        if let Some(watch) = watch
            .as_mut()
            .filter(|_| passed.is_ok() && ready.contains(WATCH))
        {
            if let Some(mtu) = watch.read(buf, handler.log()) {
                handler.set_mtu(watch.interface(), mtu);
            }
        }
        if let Some(watch) = watch.as_mut().filter(|watch| watch.next_check().is_some()) {
            if let Some(mtu) = watch.check(Moment::now(), handler.log()) {
                handler.set_mtu(watch.interface(), mtu);
            }
        }
        handler.flush_warnings();
        handler.log().release();
        if let Err(error) = passed {
            break Err(error);
        }
    };
    // Even after an error: the packets still queued are answered before the daemon goes.
    let left = path.shut_down(buf, handler);
    handler.flush_warnings();
    ended.and(left)
}
