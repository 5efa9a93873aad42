//! How the daemon ends when it cannot run: the exit statuses of sysexits(3), and the start-up
//! failure that carries one with its message.

use crate::sys::errno::Errno;
use crate::text::Line;

/// Exit status for a bad command line (sysexits(3) `EX_USAGE`).
pub const EX_USAGE: u8 = 64;
/// Exit status for a missing input, such as an unknown interface (`EX_NOINPUT`).
pub const EX_NOINPUT: u8 = 66;
/// Exit status when a service is unavailable: the queue or divert port is taken, another
/// instance runs (`EX_UNAVAILABLE`).
pub const EX_UNAVAILABLE: u8 = 69;
/// Exit status for an unknown `-u` user (`EX_NOUSER`).
pub const EX_NOUSER: u8 = 67;
/// Exit status for a failed system call (`EX_OSERR`).
pub const EX_OSERR: u8 = 71;
/// Exit status when the pidfile cannot be created (`EX_CANTCREAT`).
pub const EX_CANTCREAT: u8 = 73;
/// Exit status for missing privileges (`EX_NOPERM`).
pub const EX_NOPERM: u8 = 77;

/// A start-up failure: the line to print and the exit status (sysexits(3)).
pub struct Fatal {
    /// The exit status, one of the `EX_*` above.
    pub status: u8,
    /// What went wrong, without the `tcpmssd: ` prefix. Boxed: a failure happens once, and
    /// a `Result` of 16 bytes is passed on by every `?` of start-up without copying 264.
    pub line: Box<Line>,
}

/// Returns a [`Fatal`] with exit status `status` and a line built from pieces as
/// [`crate::text::put!`] appends them: `fatal!(EX_OSERR; "-i ", name, ": ", e)`.
macro_rules! fatal {
    ($status:expr; $($piece:expr),* $(,)?) => {{
        let mut fatal = $crate::exit::Fatal::empty($status);
        $crate::text::put!(&mut fatal.line; $($piece),*);
        fatal
    }};
}
pub(crate) use fatal;

impl Fatal {
    /// Returns a failure with an empty line, for [`fatal!`] to fill.
    // Out of line and cold: start-up has dozens of failures, each then a call.
    #[cold]
    #[inline(never)]
    pub fn empty(status: u8) -> Fatal {
        Fatal {
            status,
            line: Box::new(Line::new()),
        }
    }

    /// Returns a failure of the system call `step`: `<step>: <strerror> (errno N)`.
    #[cold]
    #[inline(never)]
    pub fn os(status: u8, step: &str, error: &Errno) -> Fatal {
        fatal!(status; step, ": ", error)
    }
}
