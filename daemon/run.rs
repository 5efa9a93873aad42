//! The loop and the contract it drives: sleep until the kernel has packets (or a signal or an
//! MTU change arrives), let the [`Backend`] hand every packet to [`Handler::packet`] and give
//! every one back, count ([`Counters`]: one per `Reason` the core can return, plus what the
//! daemon itself sees, logged on SIGUSR1 (SIGINFO on FreeBSD) and at exit), and act on the
//! signal flags.
//!
//! # Adding a backend
//! A backend is the kernel side of the packet path: NFQUEUE (`linux/nfqueue.rs`) and divert(4)
//! (`freebsd/divert.rs`) today. To add one:
//! 1. Implement [`Backend`] in a file of its system's folder (`linux/`, `freebsd/`, a new
//!    `openbsd/`), with its socket calls in `sys/<system>/` (the only `unsafe`) and its message
//!    layouts in the `tcpmssd-wire` crate, tested there with byte fixtures.
//! 2. Name it in that system's `run` (`linux/mod.rs`, `freebsd/mod.rs`): the one place that
//!    picks the backend, from the command line where a system has several.
//!
//! Nothing else changes: this loop, the log, the counters and the MTU watch know no backend's
//! sizes or messages. A backend may wait on several descriptors (OpenBSD's divert has one
//! socket per address family) or on none (a backend that clamps in the kernel).

use std::os::fd::BorrowedFd;
use std::time::Duration;

use tcpmssd_core::{clamp, endpoints, Limits, Outcome, Reason};

use crate::cli::Config;
use crate::exit::Fatal;
use crate::log::{info, Endpoint, Log, RateLimit};
use crate::mtu::{LinkEvents, MtuWatch};
use crate::sys::clock::Moment;
use crate::sys::errno::SysResult;
use crate::sys::signals::{self, WaitMask, MAX_WAIT_FDS};
use crate::text::{put, Line, Piece, LINE_LEN};

/// Logs a warning that a packet or a kernel message caused, unless this second's warnings
/// are used up (see [`Handler::admit_warning`]): `limited_warn!(handler; "NFQUEUE ", n)`.
macro_rules! limited_warn {
    ($handler:expr; $($piece:expr),* $(,)?) => {{
        if let Some(log) = $handler.admit_warning() {
            $crate::log::warning!(log; $($piece),*);
        }
    }};
}
pub(crate) use limited_warn;

/// Bytes in the one packet buffer, as the brief asks: 64 KiB. Every backend reads into it;
/// a packet whose kernel message does not fit (a SYN with more than about 65,400 bytes of
/// data, possible only on a link with an MTU past 65,400) passes unchanged, counted as
/// `truncated-copy`.
pub const PACKET_BUF_LEN: usize = 64 * 1024;

/// Most warnings per second that packets or messages can cause (bad verdicts, send errors).
const WARNINGS_PER_SECOND: u32 = 10;

/// How soon the loop retries work a backend could not finish ([`Backend::backlog`]).
const RETRY_AFTER: Duration = Duration::from_millis(100);

/// The descriptors a backend waits on.
pub type Fds<'a> = heapless::Vec<BorrowedFd<'a>, { MAX_WAIT_FDS - 1 }>;

/// The kernel side of the packet path: where packets come from and go back to.
pub trait Backend: Sized {
    /// How the start-up line names `-p`, before its number: "NFQUEUE", "divert port".
    const PORT_NAME: &'static str;

    /// Opens and binds the path `config` asks for (`-p`'s port; `-e`'s interface, which has
    /// index `link` now, `None` while it does not exist). Packets may arrive while it binds;
    /// they go through `handler` like any other.
    fn open(
        config: &Config,
        link: Option<u32>,
        buf: &mut [u8],
        handler: &mut Handler,
    ) -> Result<Self, Fatal>;

    /// Returns the descriptors to wait on; [`Backend::pass`] runs when one is readable.
    fn fds(&self) -> Fds<'_>;

    /// Reads what is ready without blocking, hands each packet to `handler`, and gives every
    /// one back to the kernel, changed or not. Returns after a bounded amount of work, so that
    /// a flood cannot keep the loop from its signals. An error ends the daemon.
    fn pass(&mut self, buf: &mut [u8], handler: &mut Handler) -> SysResult<()>;

    /// Returns true when the path has work left without new packets (verdicts the kernel
    /// could not take yet); the loop then calls [`Backend::pass`] again soon.
    fn backlog(&self) -> bool {
        false
    }

    /// The limits changed (the MTU did, or the interface gave its first): a backend that
    /// clamps in the kernel hands them on. The handler has them already.
    fn limits_changed(&mut self, _limits: Limits, _handler: &mut Handler) {}

    /// The followed interface now has index `index`, or none while it is gone (a re-created
    /// interface gets a new index): a backend attached to it attaches again.
    fn link_changed(&mut self, _index: Option<u32>, _handler: &mut Handler) {}

    /// Brings the handler's counters up to date before they are reported: a backend that
    /// counts in the kernel reads them there (into `buf`, free between passes).
    fn update_counters(&mut self, _buf: &mut [u8], _handler: &mut Handler) {}

    /// Leaves without losing a packet: stops new packets from reaching the daemon where the
    /// kernel allows it, passes the ones still queued, then lets go of the port.
    fn shut_down(self, buf: &mut [u8], handler: &mut Handler) -> SysResult<()>;
}

/// What the loop knows about each packet: the limits, the direction rule, the counters and
/// where lines go.
pub struct Handler {
    /// `None` until the `-i` interface has existed: there is no MTU to clamp to yet.
    limits: Option<Limits>,
    /// `-m` with `-e`: the interface is followed for its existence, not for its MTU.
    mtu_fixed: bool,
    both: bool,
    verbose: bool,
    counters: Counters,
    log: Log,
    warnings: RateLimit,
}

impl Handler {
    /// Returns a handler that clamps to `limits`, inbound packets too when `both` (`-b`), and
    /// logs every clamp when `verbose` (`-v`). Without limits (an `-i` interface that does not
    /// exist yet) packets pass unchanged, counted as `no-interface`, until [`Handler::set_mtu`].
    pub fn new(limits: Option<Limits>, both: bool, verbose: bool, log: Log) -> Handler {
        Handler {
            limits,
            mtu_fixed: false,
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
        let Some(limits) = self.limits else {
            self.counters.count(Event::NoInterface);
            return false;
        };
        let outcome = clamp(packet, limits);
        self.counters.record(outcome);
        let Outcome::Clamped { from, to } = outcome else {
            return false;
        };
        if self.verbose {
            match endpoints(packet) {
                Some((source, destination)) => {
                    let (source, destination) = (Endpoint(source), Endpoint(destination));
                    info!(&mut self.log;
                        "MSS ",
                        from,
                        " -> ",
                        to,
                        " ",
                        source,
                        " -> ",
                        destination
                    );
                }
                None => info!(&mut self.log; "MSS ", from, " -> ", to),
            }
        }
        true
    }

    /// Returns the counters, for the tests of the backends.
    #[cfg(test)]
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Counts something that happened outside the core.
    pub fn count(&mut self, event: Event) {
        self.counters.count(event);
    }

    /// Returns the log when one more warning that a packet or a kernel message caused may be
    /// written now: at most [`WARNINGS_PER_SECOND`] a second, as a flood must not fill the
    /// disk behind syslogd ([`limited_warn!`] asks).
    pub fn admit_warning(&mut self) -> Option<&mut Log> {
        if self.warnings.admit(&mut self.log, Moment::now()) {
            Some(&mut self.log)
        } else {
            None
        }
    }

    /// Returns the log, for lines that are not caused by packets (start-up, MTU changes).
    pub fn log(&mut self) -> &mut Log {
        &mut self.log
    }

    /// Sends lines to `log` from now on (syslog, once detached).
    pub fn set_log(&mut self, log: Log) {
        self.log = log;
    }

    /// Returns true when the MTU is fixed (`-m`) though an interface is followed (`-e`).
    pub fn mtu_fixed(&self) -> bool {
        self.mtu_fixed
    }

    /// Returns the limits in use; `None` while waiting for the `-i` interface.
    pub fn limits(&self) -> Option<Limits> {
        self.limits
    }

    /// Logs the counters and the heap allocations since start (which stay flat in the loop).
    pub fn report(&mut self) {
        self.counters.log_to(&mut self.log);
        info!(&mut self.log; "heap allocations ", crate::sys::alloc::allocations());
    }

    /// Keeps the limits as they are whatever MTU the interface reports (`-e` with `-m`).
    pub fn fix_mtu(&mut self) {
        self.mtu_fixed = true;
    }

    /// Returns the counters, for a backend that counts in the kernel to bring up to date.
    #[cfg(all(target_os = "linux", feature = "ebpf"))]
    pub fn counters_mut(&mut self) -> &mut Counters {
        &mut self.counters
    }

    /// Uses the limits for `mtu` from now on and logs them, naming `interface`; returns them,
    /// or `None` when the MTU is fixed (`-m`) and nothing changed.
    pub fn set_mtu(&mut self, interface: &str, mtu: u32) -> Option<Limits> {
        if self.mtu_fixed {
            return None;
        }
        let limits = limits_for(mtu);
        self.limits = Some(limits);
        info!(&mut self.log; interface, ": MTU ", mtu, ", ", LimitsShown(limits));
        Some(limits)
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

impl Piece for LimitsShown {
    fn put(&self, line: &mut Line) {
        put!(line;
            "MSS limit ",
            self.0.ipv4_mss(),
            " (IPv4), ",
            self.0.ipv6_mss(),
            " (IPv6)"
        );
    }
}

/// Runs the loop until SIGTERM or SIGINT (or an error of the backend), then shuts the backend
/// down. Sleeps only in `wait_readable`, the one place the handled signals are unblocked (see
/// `sys::signals`).
pub fn run<B: Backend, E: LinkEvents>(
    mut backend: B,
    mut watch: Option<MtuWatch<E>>,
    buf: &mut [u8],
    handler: &mut Handler,
    mask: &WaitMask,
) -> SysResult<()> {
    // The interface's index as the backend last heard it (it had it from `open`).
    let mut link = watch.as_ref().and_then(MtuWatch::index);
    let ended = loop {
        // Owed work is retried soon, held-back warnings reported within a second, even when
        // no packet comes; and the MTU re-read when it is due (the clock is read only then).
        let timeout = if backend.backlog() {
            Some(RETRY_AFTER)
        } else {
            handler.warnings_pending().then_some(Duration::from_secs(1))
        };
        let until_check = watch
            .as_ref()
            .and_then(MtuWatch::next_check)
            .map(|at| at.saturating_duration_since(Moment::now()));
        let timeout = match (timeout, until_check) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // The backend's descriptors first, the MTU watch's last.
        let (packets_ready, watch_ready) = {
            let mut fds: heapless::Vec<BorrowedFd<'_>, MAX_WAIT_FDS> =
                backend.fds().into_iter().collect();
            let backend_fds = fds.len();
            if let Some(watch) = &watch {
                let _ = fds.push(watch.fd());
            }
            match signals::wait_readable(&fds, timeout, mask) {
                Ok(ready) => (
                    (0..backend_fds).any(|index| ready.contains(index)),
                    watch.is_some() && ready.contains(backend_fds),
                ),
                Err(error) => break Err(error),
            }
        };
        let requests = signals::take_requests();
        if requests.terminate {
            break Ok(());
        }
        if requests.report_counters {
            backend.update_counters(buf, handler);
            handler.report();
        }
        if requests.reload_mtu {
            match watch.as_mut().filter(|_| !handler.mtu_fixed) {
                Some(watch) => {
                    if let Some(mtu) = watch.reread(handler.log()) {
                        new_mtu(&mut backend, handler, watch.interface(), mtu);
                    }
                }
                None => info!(handler
                    .log(); "SIGHUP: the MTU is fixed (-m), nothing to re-read"),
            }
        }
        // The lines of one wake-up (with -v, a line per clamp) go out in one write.
        handler.log().hold();
        let passed = if packets_ready || backend.backlog() {
            backend.pass(buf, handler)
        } else {
            Ok(())
        };
        if let Some(watch) = watch.as_mut().filter(|_| passed.is_ok() && watch_ready) {
            if let Some(mtu) = watch.read(buf, handler.log()) {
                new_mtu(&mut backend, handler, watch.interface(), mtu);
            }
        }
        if let Some(watch) = watch.as_mut().filter(|watch| watch.next_check().is_some()) {
            if let Some(mtu) = watch.check(Moment::now(), handler.log()) {
                new_mtu(&mut backend, handler, watch.interface(), mtu);
            }
        }
        // After the MTU: an interface that came back is attached to with its new limits.
        let index = watch.as_ref().and_then(MtuWatch::index);
        if index != link {
            link = index;
            backend.link_changed(index, handler);
        }
        handler.flush_warnings();
        handler.log().release();
        if let Err(error) = passed {
            break Err(error);
        }
    };
    // Even after an error: the packets still queued are answered before the daemon goes.
    let left = backend.shut_down(buf, handler);
    handler.flush_warnings();
    ended.and(left)
}

/// Takes a new MTU of `interface`: the handler's limits, then the backend's.
fn new_mtu<B: Backend>(backend: &mut B, handler: &mut Handler, interface: &str, mtu: u32) {
    if let Some(limits) = handler.set_mtu(interface, mtu) {
        backend.limits_changed(limits, handler);
    }
}

/// How often a message is sent in all when the kernel keeps failing it for a moment.
const SEND_ATTEMPTS: usize = 3;

/// Calls `send` until it succeeds, fails for good, or has failed [`SEND_ATTEMPTS`] times with
/// an error that a second attempt may not meet (`EINTR`, and `ENOBUFS`, `ENOMEM`, `EAGAIN`:
/// the kernel short of memory or queue room for a moment). Both kernels free what a failed
/// send carried, so sending it again is no duplicate.
pub fn send_retrying(mut send: impl FnMut() -> SysResult<usize>) -> SysResult<usize> {
    let mut attempts = 1;
    loop {
        match send() {
            Err(error)
                if attempts < SEND_ATTEMPTS
                    && matches!(
                        error.raw_os_error(),
                        Some(libc::EINTR | libc::ENOBUFS | libc::ENOMEM | libc::EAGAIN)
                    ) =>
            {
                attempts += 1;
            }
            sent => return sent,
        }
    }
}

/// Something the daemon counts that happens outside the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A packet not handed to the core: inbound, and `-b` was not given.
    SkippedInbound,
    /// A netlink or divert message the backend could not parse; its packet, if any, is
    /// passed unchanged.
    MalformedMessage,
    /// The kernel copied less than the whole packet (NFQUEUE copy range, or a divert read
    /// that filled the buffer), so it was passed unchanged.
    TruncatedCopy,
    /// A verdict or reinjection failed.
    SendError,
    /// Reading from the packet socket failed.
    RecvError,
    /// A packet whose message could not be read whole was handed back to be queued again
    /// (NFQUEUE `NF_REPEAT`), rather than passed unclamped.
    Repeated,
    /// A packet passed unchanged because the `-i` interface has not existed yet, so there is
    /// no MTU to clamp to.
    NoInterface,
    /// A packet the eBPF classifier left as it was because a kernel helper failed on it
    /// (reading, writing or the checksum update); never in the other modes.
    HelperError,
}

impl Event {
    /// Every event, in declaration order; `ALL[e.index()] == e`.
    pub const ALL: [Event; 8] = [
        Event::SkippedInbound,
        Event::MalformedMessage,
        Event::TruncatedCopy,
        Event::SendError,
        Event::RecvError,
        Event::Repeated,
        Event::NoInterface,
        Event::HelperError,
    ];

    /// Returns the short name used in the summary line.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Event::SkippedInbound => "skipped-inbound",
            Event::MalformedMessage => "malformed-message",
            Event::TruncatedCopy => "truncated-copy",
            Event::SendError => "send-error",
            Event::RecvError => "recv-error",
            Event::Repeated => "repeated",
            Event::NoInterface => "no-interface",
            Event::HelperError => "helper-error",
        }
    }

    /// Returns the position of this event in [`Event::ALL`].
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Packet and event counts since start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    packets: u64,
    clamped: u64,
    unchanged: [u64; Reason::ALL.len()],
    events: [u64; Event::ALL.len()],
}

impl Counters {
    /// Returns all counters at zero.
    #[must_use]
    pub const fn new() -> Counters {
        Counters {
            packets: 0,
            clamped: 0,
            unchanged: [0; Reason::ALL.len()],
            events: [0; Event::ALL.len()],
        }
    }

    /// Counts one packet the core looked at, by what it did.
    pub fn record(&mut self, outcome: Outcome) {
        self.packets = self.packets.saturating_add(1);
        let slot = match outcome {
            Outcome::Clamped { .. } => &mut self.clamped,
            Outcome::Unchanged(reason) => &mut self.unchanged[reason.index()],
        };
        *slot = slot.saturating_add(1);
    }

    /// Counts one daemon-side event (not a packet the core saw).
    pub fn count(&mut self, event: Event) {
        let slot = &mut self.events[event.index()];
        *slot = slot.saturating_add(1);
    }

    #[cfg(any(test, all(target_os = "linux", feature = "ebpf")))]
    /// Replaces the counts with totals kept elsewhere (the eBPF classifier's, in the kernel):
    /// `clamped`, `unchanged` per `Reason` at its index, and `events`.
    pub fn set_totals(
        &mut self,
        clamped: u64,
        unchanged: [u64; Reason::ALL.len()],
        events: &[(Event, u64)],
    ) {
        self.clamped = clamped;
        self.unchanged = unchanged;
        self.packets = unchanged
            .iter()
            .fold(clamped, |sum, &n| sum.saturating_add(n));
        for &(event, total) in events {
            self.events[event.index()] = total;
        }
    }

    /// Returns how many packets went through the core ([`Counters::record`]).
    #[cfg(test)]
    #[must_use]
    pub const fn packets(&self) -> u64 {
        self.packets
    }

    /// Returns how many packets were clamped.
    #[cfg(test)]
    #[must_use]
    pub const fn clamped(&self) -> u64 {
        self.clamped
    }

    /// Returns how many packets were left unchanged for `reason`.
    #[must_use]
    pub const fn unchanged(&self, reason: Reason) -> u64 {
        self.unchanged[reason.index()]
    }

    /// Returns how often `event` happened.
    #[must_use]
    pub const fn events(&self, event: Event) -> u64 {
        self.events[event.index()]
    }

    /// Logs the counters: `packets N` always, then every non-zero counter, e.g.
    /// `packets 1234, clamped 17, not-syn 1200, mss-ok 17`. More than one line when they do
    /// not fit in one.
    pub fn log_to(&self, log: &mut Log) {
        self.for_each_line(|line| info!(log; line));
    }

    /// Builds the summary lines and hands each to `emit`.
    fn for_each_line(&self, mut emit: impl FnMut(&str)) {
        let mut line = Line::new();
        put!(&mut line; "packets ", self.packets);
        let mut add = |name: &str, value: u64| {
            if value == 0 {
                return;
            }
            // Longest item: ", " + 17-byte name + " " + 20 digits = 40 bytes.
            let mut item = Line::new();
            put!(&mut item; ", ", name, " ", value);
            if line.as_str().len() + item.as_str().len() > LINE_LEN {
                emit(line.as_str());
                line.clear();
                // Syslog may interleave other lines: say this one continues the summary.
                put!(&mut line; "counters (cont.): ", name, " ", value);
            } else {
                line.push_str(item.as_str());
            }
        };
        add("clamped", self.clamped);
        for reason in Reason::ALL {
            add(reason.name(), self.unchanged(reason));
        }
        for event in Event::ALL {
            add(event.name(), self.events(event));
        }
        emit(line.as_str());
    }
}

#[cfg(test)]
mod counter_tests {
    use super::*;

    fn lines(counters: &Counters) -> Vec<String> {
        let mut out = Vec::new();
        counters.for_each_line(|line| out.push(line.to_owned()));
        out
    }

    #[test]
    fn fresh_counters_log_packets_zero() {
        assert_eq!(lines(&Counters::new()), ["packets 0"]);
    }

    #[test]
    fn record_counts_by_outcome() {
        let mut counters = Counters::new();
        counters.record(Outcome::Clamped {
            from: 1460,
            to: 1360,
        });
        counters.record(Outcome::Unchanged(Reason::NotSyn));
        counters.record(Outcome::Unchanged(Reason::NotSyn));
        counters.record(Outcome::Unchanged(Reason::MssOk));
        assert_eq!(counters.packets(), 4);
        assert_eq!(counters.clamped(), 1);
        assert_eq!(counters.unchanged(Reason::NotSyn), 2);
        assert_eq!(counters.unchanged(Reason::MssOk), 1);
        assert_eq!(counters.unchanged(Reason::NoMss), 0);
        assert_eq!(
            lines(&counters),
            ["packets 4, clamped 1, not-syn 2, mss-ok 1"]
        );
    }

    #[test]
    fn events_are_not_packets() {
        let mut counters = Counters::new();
        counters.count(Event::SkippedInbound);
        counters.count(Event::RecvError);
        counters.count(Event::RecvError);
        assert_eq!(counters.packets(), 0);
        assert_eq!(counters.events(Event::RecvError), 2);
        assert_eq!(
            lines(&counters),
            ["packets 0, skipped-inbound 1, recv-error 2"]
        );
    }

    #[test]
    fn every_reason_and_event_has_its_own_slot() {
        let mut counters = Counters::new();
        for (n, reason) in Reason::ALL.iter().enumerate() {
            for _ in 0..=n {
                counters.record(Outcome::Unchanged(*reason));
            }
        }
        for reason in Reason::ALL {
            assert_eq!(counters.unchanged(reason), reason.index() as u64 + 1);
        }
        for event in Event::ALL {
            assert_eq!(Event::ALL[event.index()], event);
        }
    }

    #[test]
    fn totals_from_the_kernel_replace_the_counts() {
        let mut counters = Counters::new();
        counters.count(Event::NoInterface);
        let mut unchanged = [0; Reason::ALL.len()];
        unchanged[Reason::NotSyn.index()] = 5;
        unchanged[Reason::MssOk.index()] = 2;
        counters.set_totals(
            3,
            unchanged,
            &[(Event::HelperError, 1), (Event::NoInterface, 4)],
        );
        assert_eq!(counters.packets(), 10);
        assert_eq!(counters.clamped(), 3);
        assert_eq!(counters.unchanged(Reason::NotSyn), 5);
        assert_eq!(counters.events(Event::NoInterface), 4);
        assert_eq!(
            lines(&counters),
            ["packets 10, clamped 3, not-syn 5, mss-ok 2, no-interface 4, helper-error 1"]
        );
        // Totals, not increments: the same totals again change nothing.
        counters.set_totals(
            3,
            unchanged,
            &[(Event::HelperError, 1), (Event::NoInterface, 4)],
        );
        assert_eq!(counters.packets(), 10);
    }

    #[test]
    fn counters_saturate_instead_of_wrapping() {
        let mut counters = Counters::new();
        counters.clamped = u64::MAX;
        counters.record(Outcome::Clamped {
            from: 9000,
            to: 1460,
        });
        assert_eq!(counters.clamped(), u64::MAX);
    }

    #[test]
    fn huge_counters_split_into_lines_without_loss() {
        let mut counters = Counters::new();
        counters.packets = u64::MAX;
        counters.clamped = u64::MAX;
        counters.unchanged = [u64::MAX; Reason::ALL.len()];
        counters.events = [u64::MAX; Event::ALL.len()];
        let out = lines(&counters);
        assert!(out.len() > 1, "{out:?}");
        for line in &out {
            assert!(line.len() <= LINE_LEN, "{line}");
            assert!(!line.ends_with("..."), "cut: {line}");
        }
        let all = out.join(", ");
        for name in Reason::ALL
            .iter()
            .map(|r| r.name())
            .chain(Event::ALL.iter().map(|e| e.name()))
        {
            assert!(all.contains(&format!("{name} {}", u64::MAX)), "{name}");
        }
        assert!(out[1].starts_with("counters (cont.): "));
    }
}
