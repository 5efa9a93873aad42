//! The process around the packet loop: its entry point, signal flags, waiting without losing
//! a signal, detaching from the terminal, the pidfile lock, syslog and `strerror`.
//!
//! Signals: handlers only store to an `AtomicBool` and are installed without `SA_RESTART`.
//! The loop blocks the handled signals ([`block_signals`]) and sleeps only in [`wait_readable`]
//! (`ppoll(2)` with those signals unblocked), so a signal that arrives after the loop read the
//! flags stays pending until `ppoll` starts, then interrupts it at once. Everything else the
//! loop does (`recv` with `MSG_DONTWAIT`, `send`) runs with the signals blocked and never
//! sleeps.

use core::fmt;
use core::fmt::Write as _;
use core::ptr;
use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use libc::c_int;

use super::{cvt, file};

// ---------------------------------------------------------------------------------------------
// Signals

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
fn empty_sigset() -> io::Result<libc::sigset_t> {
    // SAFETY: sigset_t is a plain bit array; all zeroes is a valid value, and sigemptyset
    // below gives it its defined empty state.
    let mut set: libc::sigset_t = unsafe { core::mem::zeroed() };
    // SAFETY: `set` is a valid, writable sigset_t.
    cvt(unsafe { libc::sigemptyset(&mut set) })?;
    Ok(set)
}

/// Installs the flag-setting handler for every handled signal, without `SA_RESTART`, so a
/// blocking call the signal interrupts returns `EINTR` instead of resuming.
pub fn install_signal_handlers() -> io::Result<()> {
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
pub fn block_signals() -> io::Result<WaitMask> {
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
        return Err(io::Error::from_raw_os_error(ret));
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
) -> io::Result<Ready> {
    if fds.len() > MAX_WAIT_FDS {
        return Err(io::ErrorKind::InvalidInput.into());
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
    let nfds = libc::nfds_t::try_from(fds.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
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
pub fn poll_readable(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<bool> {
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
fn take_pending_signals(mask: &WaitMask) -> io::Result<()> {
    let mut pending = empty_sigset()?;
    // SAFETY: `pending` is a valid, writable sigset_t.
    cvt(unsafe { libc::sigpending(&mut pending) })?;
    // SAFETY (each): `pending` is a valid sigset_t and `signal` a valid signal number.
    let any = HANDLED
        .iter()
        .any(|&signal| unsafe { libc::sigismember(&pending, signal) } == 1);
    if any {
        // With a handled signal pending and unblocked by `mask`, sigsuspend runs its handler
        // and returns at once (POSIX); it always "fails" with EINTR.
        // SAFETY: `mask.0` is a valid sigset_t.
        unsafe { libc::sigsuspend(&mask.0) };
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Detaching

/// A child process detached from the terminal that has not yet told its parent it runs.
///
/// Until [`Detached::ready`], stdin/stdout/stderr are still the terminal's, so start-up errors
/// (unknown interface, no permission, queue in use) print there and the child's exit status
/// becomes the parent's.
#[derive(Debug)]
pub struct Detached {
    ready: OwnedFd,
}

/// Forks; the parent waits until the child calls [`Detached::ready`] (then exits 0) or exits
/// (then exits with the child's status). Returns only in the child, which has its own
/// session (`setsid`) and `/` as its working directory.
///
/// Call it while the process has one thread: after `fork` only the calling thread exists.
pub fn daemonize() -> io::Result<Detached> {
    let mut ends = [-1 as c_int; 2];
    // SAFETY: `ends` has room for the two descriptors pipe2 writes.
    cvt(unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 succeeded, so both are open descriptors that nothing else owns.
    let read_end = unsafe { OwnedFd::from_raw_fd(ends[0]) };
    // SAFETY: as above.
    let write_end = unsafe { OwnedFd::from_raw_fd(ends[1]) };

    // SAFETY: the daemon is single-threaded at this point (see above), so the child may run
    // any code, not only async-signal-safe functions.
    let pid = cvt(unsafe { libc::fork() })?;
    if pid > 0 {
        drop(write_end);
        let status = wait_for_child(pid, read_end);
        // libc's exit, not std's, which would first flush a std stdout the daemon never uses
        // and bring that code along (see `main`).
        // SAFETY: this process only waited for its child; nothing of it needs tearing down.
        unsafe { libc::exit(status) };
    }
    drop(read_end);
    // SAFETY: no arguments; fails only if the child already leads a process group, which a
    // fresh fork does not.
    cvt(unsafe { libc::setsid() })?;
    file::chdir_root()?;
    Ok(Detached { ready: write_end })
}

/// In the parent: returns the exit status for the parent once the child is ready or gone.
fn wait_for_child(pid: libc::pid_t, read_end: OwnedFd) -> i32 {
    let mut byte = [0u8; 1];
    // Anything but the byte (end of file: the child exited or closed the pipe without saying
    // it was ready) means waiting for the child's status.
    if let Ok(1) = file::read(read_end.as_fd(), &mut byte) {
        return 0;
    }
    let mut status: c_int = 0;
    loop {
        // SAFETY: `status` is a valid, writable int; `pid` is our child.
        match cvt(unsafe { libc::waitpid(pid, &mut status, 0) }) {
            Ok(_) => break,
            Err(error) if error.raw_os_error() == Some(libc::EINTR) => {}
            Err(_) => return 71, // EX_OSERR
        }
    }
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        // Killed by a signal: report it as a shell would.
        128 + libc::WTERMSIG(status)
    }
}

impl Detached {
    /// Points stdin, stdout and stderr at `/dev/null` and lets the parent exit 0.
    ///
    /// Call it once start-up succeeded, the pidfile holds this pid and the log goes to syslog.
    pub fn ready(self) -> io::Result<()> {
        let null = file::open(c"/dev/null", libc::O_RDWR, 0)?;
        for target in [libc::STDIN_FILENO, libc::STDOUT_FILENO, libc::STDERR_FILENO] {
            // SAFETY: `null` is an open descriptor; dup2 onto 0..2 replaces the terminal
            // descriptors, which std's handles keep using by number, not by ownership.
            cvt(unsafe { libc::dup2(null.as_raw_fd(), target) })?;
        }
        // A parent killed meanwhile gives EPIPE (std ignores SIGPIPE); the daemon runs on.
        let _ = file::write_all(self.ready.as_fd(), &[1]);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Pidfile

/// A locked pidfile; removed when dropped.
///
/// The lock (`flock`, as pidfile(3)) lives as long as the open file, so a file left behind by
/// an instance that died is unlocked and taken over, while a running instance refuses a
/// second one. Create it in the process that stays ([`daemonize`] first): dropping it in any
/// other process would remove the running daemon's file.
#[derive(Debug)]
pub struct Pidfile<'a> {
    file: OwnedFd,
    path: &'a CStr,
}

/// Why a pidfile could not be taken.
#[derive(Debug)]
pub enum PidfileError {
    /// Another process holds the lock; its pid, when the file holds one.
    Running {
        /// The pid written in the file.
        pid: Option<u32>,
    },
    /// The path names something other than a regular file.
    NotAFile,
    /// open, fstat or flock failed (a symbolic link gives `ELOOP`, `EMLINK` on FreeBSD).
    Io(io::Error),
}

impl fmt::Display for PidfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PidfileError::Running { pid: Some(pid) } => {
                write!(f, "locked: tcpmssd already running, pid {pid}")
            }
            PidfileError::Running { pid: None } => f.write_str("locked by another tcpmssd"),
            PidfileError::NotAFile => f.write_str("not a regular file"),
            PidfileError::Io(error) => crate::log::OsError(error).fmt(f),
        }
    }
}

impl From<io::Error> for PidfileError {
    fn from(error: io::Error) -> Self {
        PidfileError::Io(error)
    }
}

/// Takes an exclusive `flock` without waiting.
fn lock_exclusive(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: `fd` is an open descriptor for the duration of the call.
    cvt(unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) })?;
    Ok(())
}

/// Opens `path` without following a symbolic link and without blocking on a FIFO.
fn open_no_follow(path: &CStr, flags: c_int, mode: libc::mode_t) -> io::Result<OwnedFd> {
    file::open(path, flags | libc::O_NOFOLLOW | libc::O_NONBLOCK, mode)
}

/// Returns the pid written in the pidfile at `path`, if there is a plausible one.
fn read_pid(path: &CStr) -> Option<u32> {
    let fd = open_no_follow(path, libc::O_RDONLY, 0).ok()?;
    let mut buf = [0u8; 16];
    let digits = file::read_to_fill(fd.as_fd(), &mut buf).ok()?.trim_ascii();
    let pid = crate::cli::decimal(digits)?;
    u32::try_from(pid).ok().filter(|&pid| pid != 0)
}

impl<'a> Pidfile<'a> {
    /// How often to retry when the file is replaced between our open and our lock.
    const ATTEMPTS: usize = 3;

    /// Opens or creates `path` (mode 0644, no symbolic link followed) and locks it.
    ///
    /// The file keeps its contents until [`Pidfile::write_pid`], so a refused second instance
    /// can still read the running one's pid.
    pub fn create(path: &'a CStr) -> Result<Pidfile<'a>, PidfileError> {
        for _ in 0..Self::ATTEMPTS {
            let file = open_no_follow(path, libc::O_WRONLY | libc::O_CREAT, 0o644)?;
            let opened = file::identity(file.as_fd())?;
            if !opened.regular {
                return Err(PidfileError::NotAFile);
            }
            match lock_exclusive(file.as_fd()) {
                Ok(()) => {}
                Err(error) if error.raw_os_error() == Some(libc::EAGAIN) => {
                    return Err(PidfileError::Running {
                        pid: read_pid(path),
                    });
                }
                Err(error) => return Err(error.into()),
            }
            // An exiting instance removes its file before it closes it: if that happened
            // between our open and our lock, we hold a lock on a file no one else will open.
            match file::path_identity(path) {
                Ok(now) if now.same_file(opened) => return Ok(Pidfile { file, path }),
                _ => continue,
            }
        }
        Err(PidfileError::Running {
            pid: read_pid(path),
        })
    }

    /// Replaces the file's contents with this process's pid and a newline.
    pub fn write_pid(&mut self) -> io::Result<()> {
        let mut text = heapless::String::<16>::new();
        // A u32 and a newline take at most 11 bytes.
        let _ = writeln!(text, "{}", std::process::id());
        file::replace_contents(self.file.as_fd(), text.as_bytes())
    }

    /// Returns the path the file was created at.
    #[must_use]
    pub fn path(&self) -> &CStr {
        self.path
    }
}

impl Drop for Pidfile<'_> {
    fn drop(&mut self) {
        // Removed before the descriptor closes, so no other instance can lock this file
        // and then lose it; see the identity check in `create`. After `-u` the directory
        // may no longer be writable for us: then the file is emptied, and its lock, which
        // goes with this process, tells the next instance it is stale.
        if file::unlink(self.path).is_err() {
            let _ = file::truncate(self.file.as_fd());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Entry point

/// Where the C runtime enters the program (`#![no_main]` in main.rs).
///
/// In place of std's start-up, `lang_start`, which also installs a stack-overflow handler,
/// registers the main thread and flushes std's stdout at exit: none of which the daemon uses,
/// and together 22 KB of a hello world of the release profile (287,504 bytes with it,
/// 265,424 without; 14.6 KB of the daemon, 5 KB more with libc's `exit` in `daemonize`). What the daemon does rely on is done here as std does it: closed
/// standard descriptors reopened on /dev/null, and SIGPIPE ignored, so that a write to a
/// closed pipe fails with EPIPE rather than killing the process. The arguments come from
/// `argv` itself, which on FreeBSD std learns only in `lang_start`.
#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const libc::c_char) -> c_int {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    open_standard_descriptors();
    // SAFETY: SIG_IGN is a valid disposition for SIGPIPE, set before any other thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let count = usize::try_from(argc).unwrap_or(0);
    // Borrowed where they lie, not copied.
    let args = (1..count).map(|at| {
        // SAFETY: the C runtime passes `argc` valid NUL-terminated strings in `argv`, which
        // live as long as the process and are not written to.
        let arg: &'static CStr = unsafe { CStr::from_ptr(*argv.add(at)) };
        OsStr::from_bytes(arg.to_bytes())
    });
    c_int::from(crate::tcpmssd(args))
}

/// Opens /dev/null on each of descriptors 0, 1 and 2 that is closed: otherwise the first socket
/// or the pidfile would take its number, and lines meant for standard error would be written
/// into it. Aborts, as std does, when even that fails.
#[cfg(not(test))]
fn open_standard_descriptors() {
    for fd in 0..=2 {
        // SAFETY: F_GETFD only reads the descriptor's flags.
        let closed = unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1
            && super::errno().raw_os_error() == Some(libc::EBADF);
        if closed {
            // The lower descriptors are open by now, so this one is the lowest free.
            // SAFETY: a valid NUL-terminated path; the descriptor is kept for the process.
            let null = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
            if null != fd {
                std::process::abort();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Standard output and error

/// Writes `bytes` to standard output in as few writes as the kernel allows.
pub fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    // SAFETY: descriptor 1 stays open for the life of the process (at worst on /dev/null).
    file::write_all(
        unsafe { BorrowedFd::borrow_raw(libc::STDOUT_FILENO) },
        bytes,
    )
}

/// Writes `bytes` to standard error in as few writes as the kernel allows: one for a log
/// line, so that lines are not torn apart by another writer.
pub fn write_stderr(bytes: &[u8]) -> io::Result<()> {
    // SAFETY: descriptor 2 stays open for the life of the process (at worst on /dev/null).
    file::write_all(
        unsafe { BorrowedFd::borrow_raw(libc::STDERR_FILENO) },
        bytes,
    )
}

// ---------------------------------------------------------------------------------------------
// syslog and strerror

/// Opens the connection to syslogd; `ident` must outlive every later `syslog` call, hence
/// `'static`.
pub fn openlog(ident: &'static CStr, option: c_int, facility: c_int) {
    // SAFETY: `ident` is NUL-terminated and lives for the rest of the program, as openlog
    // keeps the pointer.
    unsafe { libc::openlog(ident.as_ptr(), option, facility) }
}

/// Sends one line to syslogd; the line is passed through `"%s"`, never as the format.
pub fn syslog(priority: c_int, line: &CStr) {
    // SAFETY: the format is a literal consuming exactly one C string argument, and `line` is
    // NUL-terminated.
    unsafe { libc::syslog(priority, c"%s".as_ptr(), line.as_ptr()) }
}

/// Closes the connection to syslogd.
pub fn closelog() {
    // SAFETY: no arguments; harmless when syslog was never opened.
    unsafe { libc::closelog() }
}

/// A reading of `CLOCK_MONOTONIC`: std's `Instant` without the 2 KB of code its `now` brings
/// along (an `unwrap` of the clock's result, and with it the `Debug` of `io::Error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Moment(Duration);

impl Moment {
    /// Returns the current time on the monotonic clock.
    #[must_use]
    pub fn now() -> Moment {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is writable for the call. CLOCK_MONOTONIC exists on every system the
        // daemon runs on, so the call cannot fail (clock_gettime(2)); were it to, time would
        // stand still at zero and rate limits would only admit less.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
        let seconds = u64::try_from(now.tv_sec).unwrap_or(0);
        let nanos = u32::try_from(now.tv_nsec).unwrap_or(0) % 1_000_000_000;
        Moment(Duration::new(seconds, nanos))
    }

    /// Returns the time from `earlier` to this moment, zero when `earlier` is later.
    #[must_use]
    pub fn saturating_duration_since(self, earlier: Moment) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl core::ops::Add<Duration> for Moment {
    type Output = Moment;

    fn add(self, duration: Duration) -> Moment {
        Moment(self.0.saturating_add(duration))
    }
}

/// Returns the C library's description of `errno`, written into `buf` (128 bytes is ample).
///
/// Unknown numbers and a too-small buffer give `"unknown error"`.
pub fn strerror(errno: i32, buf: &mut [u8]) -> &str {
    // The libc crate binds the XSI strerror_r on glibc (`__xpg_strerror_r`), musl and FreeBSD:
    // it returns 0 on success and writes a NUL-terminated string into `buf`.
    // SAFETY: `buf` is valid for `buf.len()` writable bytes for the whole call.
    let ret = unsafe { libc::strerror_r(errno, buf.as_mut_ptr().cast(), buf.len()) };
    if ret != 0 {
        return "unknown error";
    }
    CStr::from_bytes_until_nul(buf)
        .ok()
        .and_then(|text| text.to_str().ok())
        .unwrap_or("unknown error")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::fs;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::net::UnixDatagram;
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    #[test]
    fn moment_follows_the_monotonic_clock() {
        let (start, std_start) = (Moment::now(), Instant::now());
        std::thread::sleep(Duration::from_millis(20));
        let std_elapsed = std_start.elapsed();
        let end = Moment::now();
        let elapsed = end.saturating_duration_since(start);
        // Both read CLOCK_MONOTONIC; ours is read first at the start and last at the end. The
        // upper bound only has to hold across a preemption between two reads.
        assert!(elapsed >= Duration::from_millis(20), "{elapsed:?}");
        assert!(elapsed >= std_elapsed, "{elapsed:?} < {std_elapsed:?}");
        assert!(
            elapsed < std_elapsed + Duration::from_secs(1),
            "{elapsed:?}"
        );
        assert_eq!(start.saturating_duration_since(end), Duration::ZERO);
        assert_eq!(
            (start + Duration::from_secs(1)).saturating_duration_since(start),
            Duration::from_secs(1)
        );
    }

    fn c_path(path: &Path) -> CString {
        CString::new(path.as_os_str().as_bytes()).unwrap()
    }

    /// A directory under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let path =
                std::env::temp_dir().join(format!("tcpmssd-test-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir(&path).unwrap();
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn pid_read_only_when_plausible() {
        let dir = TempDir::new("read-pid");
        let path = dir.0.join("pid");
        let cases: [(&[u8], Option<u32>); 9] = [
            (b"123\n", Some(123)),
            (b" 42 ", Some(42)),
            (b"4294967295", Some(u32::MAX)),
            (b"4294967296", None),
            (b"12345678901", None),
            (b"0\n", None),
            (b"12a", None),
            (b"-1", None),
            (b"", None),
        ];
        for (text, expected) in cases {
            fs::write(&path, text).unwrap();
            assert_eq!(read_pid(&c_path(&path)), expected, "{text:?}");
        }
        fs::remove_file(&path).unwrap();
        assert_eq!(read_pid(&c_path(&path)), None, "no file");
    }

    #[test]
    fn pidfile_second_instance_refused_with_pid() {
        let dir = TempDir::new("second");
        let path = dir.0.join("tcpmssd.pid");
        let c_path = c_path(&path);
        let mut first = Pidfile::create(&c_path).unwrap();
        first.write_pid().unwrap();
        // flock locks belong to the open file description, so a second open in this
        // process conflicts as another process would.
        match Pidfile::create(&c_path) {
            Err(PidfileError::Running { pid }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Running, got {other:?}"),
        }
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        drop(first);
        assert!(!path.exists(), "dropping the pidfile removes it");
    }

    #[test]
    fn pidfile_stale_file_taken_over_and_truncated() {
        let dir = TempDir::new("stale");
        let path = dir.0.join("tcpmssd.pid");
        fs::write(&path, "4294967295\nleftover\n").unwrap();
        let c_path = c_path(&path);
        let mut pidfile = Pidfile::create(&c_path).unwrap();
        pidfile.write_pid().unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        assert_eq!(pidfile.path(), c_path.as_c_str());
    }

    #[test]
    fn pidfile_directory_refused_as_not_a_file() {
        let dir = TempDir::new("directory");
        let c_path = c_path(&dir.0);
        // O_WRONLY on a directory fails with EISDIR before fstat can look.
        let result = Pidfile::create(&c_path);
        match result {
            Err(PidfileError::Io(error)) => assert_eq!(error.raw_os_error(), Some(libc::EISDIR)),
            other => panic!("expected EISDIR, got {other:?}"),
        }
        assert!(dir.0.is_dir(), "the directory stays");
    }

    #[test]
    fn pidfile_fifo_refused_without_blocking() {
        let dir = TempDir::new("fifo");
        let c_path = c_path(&dir.0.join("tcpmssd.pid"));
        // SAFETY: a NUL-terminated path alive for the call.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        // O_NONBLOCK|O_WRONLY on a FIFO nobody reads fails with ENXIO instead of hanging.
        let result = Pidfile::create(&c_path);
        match result {
            Err(PidfileError::Io(error)) => assert_eq!(error.raw_os_error(), Some(libc::ENXIO)),
            other => panic!("expected ENXIO, got {other:?}"),
        }
    }

    #[test]
    fn pidfile_symlink_refused_target_untouched() {
        let dir = TempDir::new("symlink");
        let target = dir.0.join("target");
        let link = dir.0.join("tcpmssd.pid");
        fs::write(&target, "keep\n").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        match Pidfile::create(&c_path(&link)) {
            Err(PidfileError::Io(error)) => {
                let expected = if cfg!(target_os = "freebsd") {
                    libc::EMLINK
                } else {
                    libc::ELOOP
                };
                assert_eq!(error.raw_os_error(), Some(expected));
            }
            other => panic!("expected an open error, got {other:?}"),
        }
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep\n");
    }

    #[test]
    fn pidfile_error_names_running_pid() {
        let text = PidfileError::Running { pid: Some(4321) }.to_string();
        assert_eq!(text, "locked: tcpmssd already running, pid 4321");
    }

    #[test]
    fn strerror_describes_known_errno() {
        let mut buf = [0u8; 128];
        let text = strerror(libc::EACCES, &mut buf);
        assert_eq!(text, "Permission denied");
    }

    #[test]
    fn strerror_small_buffer_falls_back() {
        let mut buf = [0u8; 4];
        assert_eq!(strerror(libc::EACCES, &mut buf), "unknown error");
    }

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
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
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
