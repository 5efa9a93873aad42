//! The pidfile: created and locked as pidfile(3) does, so that a second instance refuses to
//! start while a stale file from a dead one is taken over; removed (or, once the directory is
//! no longer writable after `-u`, emptied) at exit.

use std::ffi::CStr;
use std::os::fd::{AsFd, OwnedFd};

use libc::c_int;

use crate::sys::errno::{Errno, SysResult};
use crate::sys::file;
use crate::text::{decimal, put, Line, Piece};

/// A locked pidfile; removed when dropped.
///
/// The lock (`flock`, as pidfile(3)) lives as long as the open file, so a file left behind by
/// an instance that died is unlocked and taken over, while a running instance refuses a
/// second one. Create it in the process that stays ([`crate::sys::detach::daemonize`] first):
/// dropping it in any other process would remove the running daemon's file.
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
    Io(Errno),
}

impl Piece for PidfileError {
    fn put(&self, line: &mut Line) {
        match self {
            PidfileError::Running { pid: Some(pid) } => {
                put!(line; "locked: tcpmssd already running, pid ", pid);
            }
            PidfileError::Running { pid: None } => line.push_str("locked by another tcpmssd"),
            PidfileError::NotAFile => line.push_str("not a regular file"),
            PidfileError::Io(error) => error.put(line),
        }
    }
}

impl From<Errno> for PidfileError {
    fn from(error: Errno) -> Self {
        PidfileError::Io(error)
    }
}

/// Opens `path` without following a symbolic link and without blocking on a FIFO.
fn open_no_follow(path: &CStr, flags: c_int, mode: libc::mode_t) -> SysResult<OwnedFd> {
    file::open(path, flags | libc::O_NOFOLLOW | libc::O_NONBLOCK, mode)
}

/// Returns the pid written in the pidfile at `path`, if there is a plausible one.
fn read_pid(path: &CStr) -> Option<u32> {
    let fd = open_no_follow(path, libc::O_RDONLY, 0).ok()?;
    let mut buf = [0u8; 16];
    let digits = file::read_to_fill(fd.as_fd(), &mut buf).ok()?.trim_ascii();
    let pid = decimal(digits)?;
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
            match file::lock_exclusive(file.as_fd()) {
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
    pub fn write_pid(&mut self) -> SysResult<()> {
        // A u32 and a newline take at most 11 bytes.
        let mut pid = Line::new();
        put!(&mut pid; std::process::id(), "\n");
        file::replace_contents(self.file.as_fd(), pid.as_str().as_bytes())
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::{CString, OsStr};
    use std::fs;
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};

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
        let made = std::process::Command::new("mkfifo")
            .arg(OsStr::from_bytes(c_path.to_bytes()))
            .status()
            .unwrap();
        assert!(made.success());
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
        let text = crate::text::shown!(PidfileError::Running { pid: Some(4321) });
        assert_eq!(text, "locked: tcpmssd already running, pid 4321");
    }
}
