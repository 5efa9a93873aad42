//! Signal flags, and waiting without losing a signal.
//!
//! Handlers only store to an `AtomicBool` and are installed without `SA_RESTART`. The loop
//! blocks the handled signals ([`block_signals`]) and sleeps only in [`wait_readable`]
//! (`ppoll(2)` with those signals unblocked), so a signal that arrives after the loop read the
//! flags stays pending until `ppoll` starts, then interrupts it at once. Everything else the
//! loop does (`recv` with `MSG_DONTWAIT`, `send`) runs with the signals blocked and never
//! sleeps.

use core::ptr;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use libc::c_int;

use super::cvt;
use crate::sys::errno::{Errno, SysResult};

static TERMINATE: AtomicBool = AtomicBool::new(false);
static RELOAD_MTU: AtomicBool = AtomicBool::new(false);
static REPORT_COUNTERS: AtomicBool = AtomicBool::new(false);

/// The signals the daemon handles: SIGTERM and SIGINT end it, SIGHUP re-reads the MTU,
/// SIGUSR1 (and SIGINFO, ^T on a BSD terminal) logs the counters.
#[cfg(target_os = "freebsd")]
const HANDLED: [c_int; 5] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGUSR1,
    libc::SIGINFO,
];
/// The signals the daemon handles: SIGTERM and SIGINT end it, SIGHUP re-reads the MTU,
/// SIGUSR1 logs the counters.
#[cfg(not(target_os = "freebsd"))]
const HANDLED: [c_int; 4] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGUSR1];

/// Sets the flag for `signal`. Only atomic stores: nothing else is async-signal-safe here.
extern "C" fn on_signal(signal: c_int) {
    let flag = match signal {
        libc::SIGTERM | libc::SIGINT => &TERMINATE,
        libc::SIGHUP => &RELOAD_MTU,
        _ => &REPORT_COUNTERS,
    };
    flag.store(true, Ordering::SeqCst);
}

/// What signals asked for since the last [`take_requests`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Requests {
    /// SIGTERM or SIGINT: log the counters, remove the pidfile, exit 0.
    pub terminate: bool,
    /// SIGHUP: read the interface MTU again.
    pub reload_mtu: bool,
    /// SIGUSR1 (SIGINFO on FreeBSD): log the counters.
    pub report_counters: bool,
}

/// Returns the requests signals made since the last call, and clears them.
pub fn take_requests() -> Requests {
    Requests {
        terminate: TERMINATE.swap(false, Ordering::SeqCst),
        reload_mtu: RELOAD_MTU.swap(false, Ordering::SeqCst),
        report_counters: REPORT_COUNTERS.swap(false, Ordering::SeqCst),
    }
}

/// Returns an empty signal set.
fn empty_sigset() -> SysResult<libc::sigset_t> {
    // SAFETY: sigset_t is a plain bit array; all zeroes is a valid value, and sigemptyset
    // below gives it its defined empty state.
    let mut set: libc::sigset_t = unsafe { core::mem::zeroed() };
    // SAFETY: `set` is a valid, writable sigset_t.
    cvt(unsafe { libc::sigemptyset(&mut set) })?;
    Ok(set)
}

/// Installs the flag-setting handler for every handled signal, without `SA_RESTART`, so a
/// blocking call the signal interrupts returns `EINTR` instead of resuming.
pub fn install_signal_handlers() -> SysResult<()> {
    for signal in HANDLED {
        // SAFETY: sigaction is plain data (integers, a bit set, a function pointer that may be
        // null); all zeroes is a valid value. The fields that matter are set below.
        let mut action: libc::sigaction = unsafe { core::mem::zeroed() };
        action.sa_sigaction = on_signal as extern "C" fn(c_int) as libc::sighandler_t;
        action.sa_mask = empty_sigset()?;
        action.sa_flags = 0;
        // SAFETY: `action` is a valid sigaction whose handler only performs atomic stores;
        // the old action is not wanted (null).
        cvt(unsafe { libc::sigaction(signal, &action, ptr::null_mut()) })?;
    }
    Ok(())
}

/// The signal mask [`wait_readable`] sleeps with: the mask from before [`block_signals`], with
/// the handled signals unblocked.
pub struct WaitMask(libc::sigset_t);

/// Blocks the handled signals for the calling thread and returns the mask to sleep with.
///
/// From here on a handled signal is delivered only while the thread sleeps in
/// [`wait_readable`]. Call it once, after [`install_signal_handlers`] and before the loop.
pub fn block_signals() -> SysResult<WaitMask> {
    let mut block = empty_sigset()?;
    for signal in HANDLED {
        // SAFETY: `block` is a valid sigset_t and `signal` a valid signal number.
        cvt(unsafe { libc::sigaddset(&mut block, signal) })?;
    }
    let mut previous = empty_sigset()?;
    // pthread_sigmask, not sigprocmask: the latter is unspecified in a process with threads
    // (the test harness has several). It returns the error number instead of setting errno.
    // SAFETY: both sets are valid; `previous` is writable.
    let ret = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut previous) };
    if ret != 0 {
        return Err(Errno(ret));
    }
    // Whoever started us may have blocked these signals; the daemon must still see them.
    for signal in HANDLED {
        // SAFETY: `previous` is a valid sigset_t and `signal` a valid signal number.
        cvt(unsafe { libc::sigdelset(&mut previous, signal) })?;
    }
    Ok(WaitMask(previous))
}

/// How many descriptors [`wait_readable`] watches at most: the packet socket and the MTU
/// (routing / rtnetlink) socket, with room to spare.
pub const MAX_WAIT_FDS: usize = 4;

/// Which of the descriptors given to [`wait_readable`] are ready, by index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ready(u8);

impl Ready {
    /// No descriptor is ready: the timeout passed or a signal arrived.
    pub const NONE: Ready = Ready(0);

    /// Returns true when the descriptor at `index` can be read without blocking (or has an
    /// error or hang-up that the next read reports).
    #[must_use]
    pub const fn contains(self, index: usize) -> bool {
        index < MAX_WAIT_FDS && self.0 & (1 << index) != 0
    }
}

/// Sleeps until one of `fds` is readable, `timeout` passes (`None`: no timeout), or a
/// handled signal arrives; only here are the handled signals unblocked (`ppoll(2)`).
///
/// A signal returns `Ok(Ready::NONE)`, as a timeout does: the caller reads the flags with
/// [`take_requests`] on every return anyway. More than [`MAX_WAIT_FDS`] descriptors is
/// `InvalidInput`.
pub fn wait_readable(
    fds: &[BorrowedFd<'_>],
    timeout: Option<Duration>,
    mask: &WaitMask,
) -> SysResult<Ready> {
    if fds.len() > MAX_WAIT_FDS {
        return Err(Errno::INVALID_INPUT);
    }
    let unused = libc::pollfd {
        fd: -1,
        events: 0,
        revents: 0,
    };
    let mut polls = [unused; MAX_WAIT_FDS];
    for (poll, fd) in polls.iter_mut().zip(fds) {
        poll.fd = fd.as_raw_fd();
        poll.events = libc::POLLIN;
    }
    let nfds = libc::nfds_t::try_from(fds.len()).map_err(|_| Errno::INVALID_INPUT)?;
    let timespec = timeout.map(|t| {
        // Below 10^9, so it fits every c_long; c_long is 32 bits on 32-bit targets, where
        // `From<u32>` does not exist.
        #[allow(clippy::unnecessary_fallible_conversions)]
        let nanos = libc::c_long::try_from(t.subsec_nanos()).unwrap_or(0);
        // `time_t` is not named: libc deprecates it on musl, whose 32-bit targets moved it to
        // 64 bits in musl 1.2 while libc still binds the 32-bit layout (rust-lang/libc#1848).
        // Capped at i32::MAX seconds (68 years; the loop waits 1 s at most), the value fits
        // either width, and `into` takes the field's own type.
        let seconds = i32::try_from(t.as_secs()).unwrap_or(i32::MAX);
        // The identity where time_t is 32 bits (armv7, mipsel).
        #[allow(clippy::useless_conversion)]
        libc::timespec {
            tv_sec: seconds.into(),
            tv_nsec: nanos,
        }
    });
    let timespec_ptr = timespec.as_ref().map_or(ptr::null(), ptr::from_ref);
    // SAFETY: `polls` holds at least `nfds` valid pollfd entries for the whole call;
    // `timespec_ptr` is null or points to `timespec`, alive until the end of this function;
    // `mask.0` is a valid sigset_t.
    match cvt(unsafe { libc::ppoll(polls.as_mut_ptr(), nfds, timespec_ptr, &mask.0) }) {
        Ok(_) => {}
        Err(error) if error.raw_os_error() == Some(libc::EINTR) => return Ok(Ready::NONE),
        Err(error) => return Err(error),
    }
    // ppoll delivers a pending signal only when it returns EINTR, and with a descriptor ready
    // it returns that instead, leaving the signal pending and blocked again: under a flood the
    // flags would never be set. Take such signals now.
    take_pending_signals(mask)?;
    let wake = libc::POLLIN | libc::POLLERR | libc::POLLHUP | libc::POLLNVAL;
    let mut ready = 0u8;
    for (index, poll) in polls.iter().take(fds.len()).enumerate() {
        if poll.revents & wake != 0 {
            ready |= 1 << index;
        }
    }
    Ok(Ready(ready))
}

/// Waits up to `timeout` for `fd` to become readable, with the signal mask as it is; returns
/// false on timeout or when a signal interrupted the wait.
///
/// For short waits outside the loop (an acknowledgement the kernel owes), where the flags are
/// not read.
#[cfg(target_os = "linux")]
pub fn poll_readable(fd: BorrowedFd<'_>, timeout: Duration) -> SysResult<bool> {
    let mut poll = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = c_int::try_from(timeout.as_millis()).unwrap_or(c_int::MAX);
    // SAFETY: `poll` is one valid pollfd, alive for the whole call.
    match cvt(unsafe { libc::poll(&mut poll, 1, millis) }) {
        Ok(n) => Ok(n > 0),
        Err(error) if error.raw_os_error() == Some(libc::EINTR) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Runs the handlers of handled signals that are pending (blocked outside the wait), if any.
fn take_pending_signals(mask: &WaitMask) -> SysResult<()> {
    let mut pending = empty_sigset()?;
    // SAFETY: `pending` is a valid, writable sigset_t.
    cvt(unsafe { libc::sigpending(&mut pending) })?;
    let any = HANDLED.iter().any(|&signal| {
        // SAFETY: `pending` is a valid sigset_t and `signal` a valid signal number.
        unsafe { libc::sigismember(&pending, signal) == 1 }
    });
    if any {
        // With a handled signal pending and unblocked by `mask`, sigsuspend runs its handler
        // and returns at once (POSIX); it always "fails" with EINTR.
        // SAFETY: `mask.0` is a valid sigset_t.
        unsafe { libc::sigsuspend(&mask.0) };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixDatagram;
    use std::time::Instant;

    #[test]
    fn wait_readable_reports_ready_descriptor() {
        let (a, b) = UnixDatagram::pair().unwrap();
        let mask = block_signals().unwrap();
        b.send(b"x").unwrap();
        let ready =
            wait_readable(&[b.as_fd(), a.as_fd()], Some(Duration::from_secs(5)), &mask).unwrap();
        assert!(!ready.contains(0));
        assert!(ready.contains(1));
    }

    #[test]
    fn wait_readable_times_out() {
        let (a, _b) = UnixDatagram::pair().unwrap();
        let mask = block_signals().unwrap();
        let start = Instant::now();
        let ready = wait_readable(&[a.as_fd()], Some(Duration::from_millis(20)), &mask).unwrap();
        assert_eq!(ready, Ready::NONE);
        assert!(start.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn wait_readable_refuses_too_many_fds() {
        let (a, _b) = UnixDatagram::pair().unwrap();
        let mask = block_signals().unwrap();
        let fds = [a.as_fd(); MAX_WAIT_FDS + 1];
        let error = wait_readable(&fds, Some(Duration::ZERO), &mask).unwrap_err();
        assert_eq!(error, Errno::INVALID_INPUT);
    }

    /// The race the design closes: a signal that arrives after the flags were read stays
    /// pending, and the next wait returns at once instead of sleeping through it.
    #[test]
    fn signal_pending_before_wait_wakes_it() {
        install_signal_handlers().unwrap();
        // Only this test thread blocks the signals; the mask is per thread.
        let mask = block_signals().unwrap();
        let _ = take_requests();
        // raise() directs the signal at the calling thread, where it is blocked: it stays
        // pending and the handler has not run yet.
        // SAFETY: SIGUSR1 has the flag-setting handler installed above.
        cvt(unsafe { libc::raise(libc::SIGUSR1) }).unwrap();
        assert_eq!(take_requests(), Requests::default());
        let (a, _b) = UnixDatagram::pair().unwrap();
        let start = Instant::now();
        let ready = wait_readable(&[a.as_fd()], Some(Duration::from_secs(5)), &mask).unwrap();
        assert_eq!(ready, Ready::NONE);
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "the wait slept through the signal"
        );
        let requests = take_requests();
        assert!(requests.report_counters);
        assert!(!requests.terminate);
        assert!(!requests.reload_mtu);

        // Under a flood the descriptor is always readable: the signal must still be taken
        // (ppoll alone returns the ready descriptor and leaves the signal pending).
        let (c, d) = UnixDatagram::pair().unwrap();
        d.send(b"x").unwrap();
        // SAFETY: SIGHUP has the flag-setting handler installed above.
        cvt(unsafe { libc::raise(libc::SIGHUP) }).unwrap();
        let ready = wait_readable(&[c.as_fd()], Some(Duration::from_secs(5)), &mask).unwrap();
        assert!(ready.contains(0));
        let requests = take_requests();
        assert!(
            requests.reload_mtu,
            "a signal pending while a descriptor is ready was lost"
        );
    }
}
