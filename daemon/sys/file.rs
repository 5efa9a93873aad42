//! Files by descriptor and C path, without `std::fs`: the daemon opens two files in its life
//! (the pidfile and /dev/null), and std's file layer (statx probing, `Path` conversions,
//! growable read buffers) costs more than this file does. Measured 2026-12-07 (x86_64, the
//! pidfile, detach and stdio on `std::fs`/`File` with this file gone, same tests passing):
//! 8,416 bytes more of the firmware build (56,512 → 64,928), 2,848 of the release build.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::cvt;
use crate::sys::errno::{Errno, SysResult};

/// Opens `path` with `flags` (`O_CLOEXEC` always added) and, with `O_CREAT`, `mode`.
pub fn open(path: &CStr, flags: libc::c_int, mode: libc::mode_t) -> SysResult<OwnedFd> {
    // SAFETY: `path` is NUL-terminated and alive for the call; the mode is passed as the
    // variadic unsigned int open(2) reads only with O_CREAT.
    let fd = cvt(unsafe {
        libc::open(
            path.as_ptr(),
            flags | libc::O_CLOEXEC,
            libc::c_uint::from(mode),
        )
    })?;
    // SAFETY: open succeeded, so `fd` is a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reads at most `buf.len()` bytes; retries on EINTR.
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> SysResult<usize> {
    loop {
        // SAFETY: `buf` is valid for `buf.len()` writable bytes for the whole call.
        match cvt(unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) }) {
            // Non-negative: read never returns more than it was given room for.
            Ok(n) => return Ok(n.unsigned_abs()),
            Err(error) if error.raw_os_error() == Some(libc::EINTR) => {}
            Err(error) => return Err(error),
        }
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
pub fn read_to_fill<'a>(fd: BorrowedFd<'_>, buf: &'a mut [u8]) -> SysResult<&'a [u8]> {
    let mut filled = 0;
    while let Some(room) = buf.get_mut(filled..).filter(|room| !room.is_empty()) {
        match read(fd, room)? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(&buf[..filled])
}

/// Writes all of `bytes` at the descriptor's offset; retries on EINTR and short writes.
pub fn write_all(fd: BorrowedFd<'_>, mut bytes: &[u8]) -> SysResult<()> {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is valid for `bytes.len()` readable bytes for the whole call.
        match cvt(unsafe { libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) }) {
            Ok(0) => return Err(Errno::WRITE_ZERO),
            Ok(n) => bytes = bytes.get(n.unsigned_abs()..).unwrap_or_default(),
            Err(error) if error.raw_os_error() == Some(libc::EINTR) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Replaces the whole contents of the file with `bytes`.
pub fn replace_contents(fd: BorrowedFd<'_>, bytes: &[u8]) -> SysResult<()> {
    truncate(fd)?;
    // SAFETY: no pointers.
    cvt(unsafe { libc::lseek(fd.as_raw_fd(), 0, libc::SEEK_SET) })?;
    write_all(fd, bytes)
}

/// Empties the file.
pub fn truncate(fd: BorrowedFd<'_>) -> SysResult<()> {
    // SAFETY: no pointers.
    cvt(unsafe { libc::ftruncate(fd.as_raw_fd(), 0) })?;
    Ok(())
}

/// What a file is and which one: enough to tell a regular file, and whether two names reach
/// the same file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The file is a regular file.
    pub regular: bool,
    device: libc::dev_t,
    inode: libc::ino_t,
}

impl Identity {
    fn of(stat: &libc::stat) -> Identity {
        Identity {
            regular: stat.st_mode & libc::S_IFMT == libc::S_IFREG,
            device: stat.st_dev,
            inode: stat.st_ino,
        }
    }

    /// Returns true when both name the same file.
    #[must_use]
    pub fn same_file(self, other: Identity) -> bool {
        self.device == other.device && self.inode == other.inode
    }
}

/// The open file's identity (fstat).
pub fn identity(fd: BorrowedFd<'_>) -> SysResult<Identity> {
    // SAFETY: all-zero is a valid `stat` (integers only).
    let mut stat: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: `stat` is a valid, writable struct stat.
    cvt(unsafe { libc::fstat(fd.as_raw_fd(), &mut stat) })?;
    Ok(Identity::of(&stat))
}

/// The identity of what `path` names, not following a symbolic link (lstat).
pub fn path_identity(path: &CStr) -> SysResult<Identity> {
    // SAFETY: all-zero is a valid `stat` (integers only).
    let mut stat: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: `path` is NUL-terminated; `stat` is a valid, writable struct stat.
    cvt(unsafe { libc::lstat(path.as_ptr(), &mut stat) })?;
    Ok(Identity::of(&stat))
}

/// Removes the name `path`.
pub fn unlink(path: &CStr) -> SysResult<()> {
    // SAFETY: `path` is NUL-terminated and alive for the call.
    cvt(unsafe { libc::unlink(path.as_ptr()) })?;
    Ok(())
}

/// Takes an exclusive `flock` on the open file without waiting (`EAGAIN` when another open
/// file holds it).
pub fn lock_exclusive(fd: BorrowedFd<'_>) -> SysResult<()> {
    // SAFETY: `fd` is an open descriptor for the duration of the call.
    cvt(unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) })?;
    Ok(())
}

/// Makes `/` the working directory, so that the daemon keeps no mount point busy.
pub fn chdir_root() -> SysResult<()> {
    // SAFETY: a literal C string.
    cvt(unsafe { libc::chdir(c"/".as_ptr()) })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::os::fd::AsFd;
    use std::os::unix::ffi::OsStrExt;

    fn temp_path(name: &str) -> CString {
        let path = std::env::temp_dir().join(format!("tcpmssd-file-{}-{name}", std::process::id()));
        CString::new(path.as_os_str().as_bytes()).unwrap()
    }

    #[test]
    fn replace_contents_then_read_back_whole_file() {
        let path = temp_path("replace");
        let fd = open(&path, libc::O_RDWR | libc::O_CREAT, 0o644).unwrap();
        replace_contents(fd.as_fd(), b"a longer first text\n").unwrap();
        replace_contents(fd.as_fd(), b"12\n").unwrap();
        let reader = open(&path, libc::O_RDONLY, 0).unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(read_to_fill(reader.as_fd(), &mut buf).unwrap(), b"12\n");
        unlink(&path).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn read_to_fill_stops_when_the_buffer_is_full() {
        let fd = open(c"/proc/self/status", libc::O_RDONLY, 0).unwrap();
        let mut buf = [0u8; 8];
        let read = read_to_fill(fd.as_fd(), &mut buf).unwrap();
        // The name after "Name:" is the emulator's under qemu-user (the 32-bit and big-endian
        // test runs), not "tcpmssd-…".
        assert_eq!(read.len(), 8);
        assert_eq!(read[..6], *b"Name:\t");
    }

    #[test]
    fn identity_tells_regular_files_and_same_files() {
        let path = temp_path("identity");
        let fd = open(&path, libc::O_RDWR | libc::O_CREAT, 0o600).unwrap();
        let opened = identity(fd.as_fd()).unwrap();
        assert!(opened.regular);
        assert!(opened.same_file(path_identity(&path).unwrap()));
        unlink(&path).unwrap();
        let directory = path_identity(c"/").unwrap();
        assert!(!directory.regular);
        assert!(!opened.same_file(directory));
    }
}
