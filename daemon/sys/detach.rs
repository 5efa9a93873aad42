//! Detaching from the terminal: fork, a new session, `/` as the working directory, and a
//! pipe on which the child tells the waiting parent that start-up succeeded.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use libc::c_int;

use super::{cvt, file};
use crate::sys::errno::SysResult;

/// A child process detached from the terminal that has not yet told its parent it runs.
///
/// Until [`Detached::ready`], stdin/stdout/stderr are still the terminal's, so start-up errors
/// (unknown interface, no permission, queue in use) print there and the child's exit status
/// becomes the parent's.
#[derive(Debug)]
pub struct Detached {
    ready: OwnedFd,
    /// `/dev/null`, opened at once: after `-u`'s chroot to /var/empty (empty and immutable on
    /// FreeBSD: `empty mode=0555 flags=schg` in etc/mtree/BSD.var.dist) or the user switch it
    /// may no longer be reachable.
    null: OwnedFd,
}

/// Forks; the parent waits until the child calls [`Detached::ready`] (then exits 0) or exits
/// (then exits with the child's status). Returns only in the child, which has its own
/// session (`setsid`), `/` as its working directory, and `/dev/null` open for `ready`.
///
/// Call it while the process has one thread: after `fork` only the calling thread exists.
pub fn daemonize() -> SysResult<Detached> {
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
    let null = file::open(c"/dev/null", libc::O_RDWR, 0)?;
    Ok(Detached {
        ready: write_end,
        null,
    })
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
    /// Points stdin, stdout and stderr at the `/dev/null` opened by [`daemonize`] and lets
    /// the parent exit 0. Opens nothing, so it works after a chroot or a user switch.
    ///
    /// Call it once start-up succeeded, the pidfile holds this pid and the log goes to syslog.
    pub fn ready(self) -> SysResult<()> {
        for target in [libc::STDIN_FILENO, libc::STDOUT_FILENO, libc::STDERR_FILENO] {
            // SAFETY: `self.null` is an open descriptor; dup2 onto 0..2 replaces the terminal
            // descriptors, which std's handles keep using by number, not by ownership. dup2
            // clears O_CLOEXEC on the copies.
            cvt(unsafe { libc::dup2(self.null.as_raw_fd(), target) })?;
        }
        // A parent killed meanwhile gives EPIPE (std ignores SIGPIPE); the daemon runs on.
        let _ = file::write_all(self.ready.as_fd(), &[1]);
        Ok(())
    }
}
