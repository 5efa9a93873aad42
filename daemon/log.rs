//! Log lines: built in a fixed stack buffer ([`Line`]), written to stderr (foreground `-v`) or
//! syslog.
//!
//! Nothing here allocates, so the packet loop may log. Overlong lines are cut, never refused:
//! a log line must not be able to fail. Lines that packets cause go through a [`RateLimit`]
//! so that a flood of odd packets cannot fill the disk behind syslogd.

use std::ffi::CStr;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::sys::address::{address_text, ADDRESS_TEXT_LEN};
use crate::sys::clock::Moment;
use crate::sys::{stdio, syslog};
use crate::text::{put, Line, Piece, LINE_LEN};

/// How serious a line is; it picks the syslog priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Normal operation: start, stop, counters, clamps in verbose mode.
    Info,
    /// Something went wrong with one packet or one message; the daemon carries on.
    Warn,
    /// The daemon cannot carry on.
    Err,
}

impl Level {
    fn syslog_priority(self) -> libc::c_int {
        match self {
            Level::Info => libc::LOG_INFO,
            Level::Warn => libc::LOG_WARNING,
            Level::Err => libc::LOG_ERR,
        }
    }
}

/// Where lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sink {
    Stderr,
    Syslog,
}

// A held line always fits: the 9-byte prefix, the line and its newline.
static_assertions::const_assert!(HELD_LEN >= "tcpmssd: ".len() + LINE_LEN + "\n".len());

/// Bytes of stderr lines held for one write: PIPE_BUF, the most a write to a pipe puts in it
/// whole, never interleaved with another writer's (pipe(7)). 58 clamp lines of 70 bytes.
const HELD_LEN: usize = 4096;

/// Logs one line at `level`, built from pieces as [`put!`] appends them:
/// `log_line!(log, Level::Warn; "MSS ", from)`, `log` a `&mut Log`.
macro_rules! log_line {
    ($log:expr, $level:expr; $($piece:expr),* $(,)?) => {{
        let log: &mut $crate::log::Log = $log;
        $crate::text::put!(log.begin(); $($piece),*);
        log.end($level);
    }};
}
pub(crate) use log_line;

/// Logs one informational line: `info!(log; "MSS ", from, " -> ", to)`.
macro_rules! info {
    ($log:expr; $($piece:expr),* $(,)?) => {
        $crate::log::log_line!($log, $crate::log::Level::Info; $($piece),*)
    };
}
pub(crate) use info;

/// Logs one warning line.
macro_rules! warning {
    ($log:expr; $($piece:expr),* $(,)?) => {
        $crate::log::log_line!($log, $crate::log::Level::Warn; $($piece),*)
    };
}
pub(crate) use warning;

/// Logs one error line.
macro_rules! err {
    ($log:expr; $($piece:expr),* $(,)?) => {
        $crate::log::log_line!($log, $crate::log::Level::Err; $($piece),*)
    };
}
pub(crate) use err;

/// The daemon's one logger: stderr in the foreground, syslog (`LOG_DAEMON`) once detached.
pub struct Log {
    sink: Sink,
    /// Between [`Log::hold`] and [`Log::release`]: stderr lines are gathered in `held`.
    holding: bool,
    held: Held,
    /// The line being built, between [`Log::begin`] and [`Log::end`].
    line: Line,
}

/// Whole lines waiting for their write, in `bytes[..len]`.
#[derive(Debug)]
struct Held {
    bytes: [u8; HELD_LEN],
    len: usize,
}

impl Held {
    /// Appends `line` (at most [`HELD_LEN`] bytes), first writing what is held if it would not
    /// fit: every write holds whole lines.
    fn push(&mut self, line: &[u8], write: &mut impl FnMut(&[u8])) {
        if self.len + line.len() > HELD_LEN {
            self.flush(write);
        }
        let end = (self.len + line.len()).min(HELD_LEN);
        self.bytes[self.len..end].copy_from_slice(&line[..end - self.len]);
        self.len = end;
    }

    /// Writes what is held, if anything.
    fn flush(&mut self, write: &mut impl FnMut(&[u8])) {
        if self.len > 0 {
            write(&self.bytes[..self.len]);
            self.len = 0;
        }
    }
}

/// Writes to stderr. Errors have nowhere to go; the lines are lost, as with warn(3).
fn to_stderr(bytes: &[u8]) {
    let _ = stdio::write_stderr(bytes);
}

impl Log {
    /// Returns a logger that writes `tcpmssd: <line>` to stderr.
    #[must_use]
    pub const fn stderr() -> Log {
        Log::to(Sink::Stderr)
    }

    const fn to(sink: Sink) -> Log {
        Log {
            sink,
            holding: false,
            held: Held {
                bytes: [0; HELD_LEN],
                len: 0,
            },
            line: Line::new(),
        }
    }

    /// Gathers the stderr lines logged from now on, to write them together at
    /// [`Log::release`]: with `-v` under a flood, the lines of one wake-up's clamps then cost
    /// one `write` instead of one each (a full buffer is written as it fills). Syslog lines are
    /// not held.
    pub fn hold(&mut self) {
        self.holding = self.sink == Sink::Stderr;
    }

    /// Writes the lines gathered since [`Log::hold`] and stops gathering.
    pub fn release(&mut self) {
        self.holding = false;
        self.held.flush(&mut to_stderr);
    }

    /// Opens syslog with ident `tcpmssd`, `LOG_PID` and facility `LOG_DAEMON`.
    ///
    /// Call it in the process that will log (after [`crate::sys::detach::daemonize`]), so that
    /// `LOG_PID` names the daemon and not its exited parent.
    #[must_use]
    pub fn syslog() -> Log {
        syslog::openlog(
            c"tcpmssd",
            libc::LOG_PID | libc::LOG_NDELAY,
            libc::LOG_DAEMON,
        );
        Log::to(Sink::Syslog)
    }

    /// Starts a line: returns it empty, to append pieces to ([`log_line!`] does).
    // Out of line: one call at each of the forty-odd places that log (576 bytes inlined).
    #[inline(never)]
    pub fn begin(&mut self) -> &mut Line {
        self.line.clear();
        &mut self.line
    }

    /// Writes the line built since [`Log::begin`] at `level`.
    pub fn end(&mut self, level: Level) {
        let text = self.line.as_str();
        match self.sink {
            Sink::Stderr => {
                // Whole lines in one write (with others while held): lines of one write are
                // not torn apart by another writer.
                const PREFIX: &[u8] = b"tcpmssd: ";
                let mut out = [0u8; PREFIX.len() + LINE_LEN + 1];
                let len = text.len().min(LINE_LEN);
                let end = PREFIX.len() + len;
                out[..PREFIX.len()].copy_from_slice(PREFIX);
                out[PREFIX.len()..end].copy_from_slice(&text.as_bytes()[..len]);
                out[end] = b'\n';
                let line = &out[..=end];
                if self.holding {
                    self.held.push(line, &mut to_stderr);
                } else {
                    to_stderr(line);
                }
            }
            Sink::Syslog => {
                // syslog(3) takes a C string: copy to a stack buffer and stop at the first NUL,
                // which no line the daemon builds contains.
                let mut c_line = [0u8; LINE_LEN + 1];
                let len = text.len().min(LINE_LEN);
                c_line[..len].copy_from_slice(&text.as_bytes()[..len]);
                if let Ok(c_text) = CStr::from_bytes_until_nul(&c_line) {
                    syslog::syslog(level.syslog_priority(), c_text);
                }
            }
        }
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        self.release();
        if self.sink == Sink::Syslog {
            syslog::closelog();
        }
    }
}

/// Shows a packet's address and port as std does (`198.51.100.1:80`, `[2001:db8::1]:80`),
/// with the C library's address formatter (see [`address_text`]).
pub struct Endpoint(pub SocketAddr);

impl Piece for Endpoint {
    fn put(&self, line: &mut Line) {
        match self.0 {
            // Dotted quad written here: with -v under a flood this runs per clamp, and the C
            // library's inet_ntop formats IPv4 with sprintf, 6 % of the daemon's CPU time then
            // (perf, benches/throughput.sh --perf; 1.11 x the clamped rate with -v, 9 paired
            // rounds). For speed, not size: it cost 160 bytes of the firmware build more than
            // inet_ntop would, and std's Display of the address 960 more (2026-12-07). IPv6
            // keeps its RFC 5952 text from inet_ntop.
            SocketAddr::V4(v4) => {
                for (i, octet) in v4.ip().octets().into_iter().enumerate() {
                    if i > 0 {
                        line.push_str(".");
                    }
                    line.push_decimal(u64::from(octet));
                }
            }
            SocketAddr::V6(v6) => {
                let mut buf = [0; ADDRESS_TEXT_LEN];
                put!(line;
                    "[",
                    address_text(IpAddr::V6(*v6.ip()), &mut buf),
                    "]"
                );
            }
        }
        put!(line; ":", self.0.port());
    }
}

/// Lets at most `per_second` lines of one kind through per second, and counts the rest.
///
/// When a new second starts after lines were held back, the next admitted line is preceded by
/// `<kind>: <n> messages suppressed`; [`RateLimit::flush`] reports them without waiting for
/// another line (the loop calls it when it wakes up, and before exit).
#[derive(Debug)]
pub struct RateLimit {
    kind: &'static str,
    per_second: u32,
    window_start: Option<Moment>,
    used: u32,
    suppressed: u64,
}

impl RateLimit {
    const WINDOW: Duration = Duration::from_secs(1);

    /// Returns a limiter for lines of `kind` (named in the "suppressed" line).
    #[must_use]
    pub const fn new(kind: &'static str, per_second: u32) -> RateLimit {
        RateLimit {
            kind,
            per_second,
            window_start: None,
            used: 0,
            suppressed: 0,
        }
    }

    /// Returns how many lines were held back and not yet reported.
    #[must_use]
    pub const fn suppressed(&self) -> u64 {
        self.suppressed
    }

    /// Returns true when one more line may be written at `now`, and counts it.
    ///
    /// Reports lines held back in an earlier second to `log` first.
    pub fn admit(&mut self, log: &mut Log, now: Moment) -> bool {
        let new_window = match self.window_start {
            Some(start) => now.saturating_duration_since(start) >= Self::WINDOW,
            None => true,
        };
        if new_window {
            self.report(log);
            self.window_start = Some(now);
            self.used = 0;
        }
        if self.used < self.per_second {
            self.used += 1;
            true
        } else {
            self.suppressed = self.suppressed.saturating_add(1);
            false
        }
    }

    /// Reports lines held back once their second is over, so a flood that stops is still
    /// accounted for.
    pub fn flush(&mut self, log: &mut Log, now: Moment) {
        let window_over = self
            .window_start
            .is_none_or(|start| now.saturating_duration_since(start) >= Self::WINDOW);
        if window_over {
            self.report(log);
        }
    }

    fn report(&mut self, log: &mut Log) {
        if self.suppressed > 0 {
            warning!(log;
                self.kind,
                ": ",
                self.suppressed,
                " messages suppressed"
            );
            self.suppressed = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::shown;

    // Held lines leave in as few writes as fit, each of whole lines, in order.
    #[test]
    fn held_lines_go_in_few_whole_writes() {
        let mut held = Held {
            bytes: [0; HELD_LEN],
            len: 0,
        };
        let mut writes: Vec<Vec<u8>> = Vec::new();
        let mut expected = Vec::new();
        for n in 0..200u32 {
            let line = format!("tcpmssd: MSS 1460 -> 1360 198.51.100.1:{n} -> 203.0.113.1:9\n");
            expected.extend_from_slice(line.as_bytes());
            held.push(line.as_bytes(), &mut |w| writes.push(w.to_vec()));
        }
        held.flush(&mut |w| writes.push(w.to_vec()));
        held.flush(&mut |w| writes.push(w.to_vec()));
        assert_eq!(writes.concat(), expected);
        let needed = expected.len().div_ceil(HELD_LEN);
        assert!(
            (needed..=needed + 1).contains(&writes.len()),
            "{} writes for {} bytes",
            writes.len(),
            expected.len()
        );
        for write in &writes {
            assert!(write.len() <= HELD_LEN);
            assert_eq!(write.last(), Some(&b'\n'));
        }
    }

    #[test]
    fn endpoint_reads_as_std_shows_it() {
        let endpoints = [
            "198.51.100.1:80",
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "[2001:db8::1]:443",
            "[::]:1",
            "[::1]:22",
            "[2001:db8:0:1:1:1:1:1]:9",
            "[2001:db8::1:0:0:1]:9",
            "[2001:0:0:1::1]:9",
            "[fe80::1:2:3:4]:8",
            "[::ffff:203.0.113.7]:80",
            "[2001:db8:85a3:8d3:1319:8a2e:370:7348]:65535",
        ];
        for text in endpoints {
            let address: SocketAddr = text.parse().unwrap();
            assert_eq!(shown!(Endpoint(address)), address.to_string(), "{text}");
        }
    }

    #[test]
    fn rate_limit_admits_per_second_then_counts() {
        let mut log = Log::stderr();
        let mut limit = RateLimit::new("test", 3);
        let t0 = Moment::now();
        let admitted = (0..10).filter(|_| limit.admit(&mut log, t0)).count();
        assert_eq!(admitted, 3);
        assert_eq!(limit.suppressed(), 7);
        // Still the same second: nothing more, nothing reported yet.
        assert!(!limit.admit(&mut log, t0 + Duration::from_millis(999)));
        limit.flush(&mut log, t0 + Duration::from_millis(999));
        assert_eq!(limit.suppressed(), 8);
        // A new second reports the held-back lines and admits again.
        assert!(limit.admit(&mut log, t0 + Duration::from_secs(1)));
        assert_eq!(limit.suppressed(), 0);
    }

    #[test]
    fn rate_limit_flush_reports_after_the_second() {
        let mut log = Log::stderr();
        let mut limit = RateLimit::new("test", 0);
        let t0 = Moment::now();
        assert!(!limit.admit(&mut log, t0));
        limit.flush(&mut log, t0 + Duration::from_secs(2));
        assert_eq!(limit.suppressed(), 0);
    }
}
