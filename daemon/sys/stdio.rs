//! The standard descriptors: reopened on /dev/null when the program starts with one closed,
//! and written whole.

use std::os::fd::BorrowedFd;

use super::file;
use crate::sys::errno::SysResult;

/// Opens /dev/null on each of descriptors 0, 1 and 2 that is closed: otherwise the first socket
/// or the pidfile would take its number, and lines meant for standard error would be written
/// into it. Aborts, as std does, when even that fails.
#[cfg(not(test))]
pub fn open_standard_descriptors() {
    for fd in 0..=2 {
        // SAFETY: F_GETFD only reads the descriptor's flags.
        let closed = unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1
            && super::errno::errno().raw_os_error() == Some(libc::EBADF);
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

/// Writes `bytes` to standard output in as few writes as the kernel allows.
pub fn write_stdout(bytes: &[u8]) -> SysResult<()> {
    // SAFETY: descriptor 1 stays open for the life of the process (at worst on /dev/null).
    file::write_all(
        unsafe { BorrowedFd::borrow_raw(libc::STDOUT_FILENO) },
        bytes,
    )
}

/// Writes `bytes` to standard error in as few writes as the kernel allows: one for a log
/// line, so that lines are not torn apart by another writer.
pub fn write_stderr(bytes: &[u8]) -> SysResult<()> {
    // SAFETY: descriptor 2 stays open for the life of the process (at worst on /dev/null).
    file::write_all(
        unsafe { BorrowedFd::borrow_raw(libc::STDERR_FILENO) },
        bytes,
    )
}
