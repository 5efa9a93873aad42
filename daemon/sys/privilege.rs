//! Giving up privilege once the sockets are open: the user to run as (`-u`), and on FreeBSD a
//! chroot to an empty directory before the user switch. Linux's capability sets,
//! `no_new_privs` and seccomp filter are in `linux/privilege.rs`.
//!
//! On FreeBSD no privilege stays: the divert and routing sockets are already open, and sending
//! on them needs none; Capsicum cannot be used, because reinjection is `sendto` with an
//! address.

use std::ffi::CString;

use super::cvt;
use crate::sys::errno::{Errno, SysResult};

/// A user to switch to, looked up at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct User {
    /// The user id.
    pub uid: libc::uid_t,
    /// The user's primary group: it becomes the only group.
    pub gid: libc::gid_t,
}

/// Looks `name` up in the password database; `Ok(None)` when there is no such user.
pub fn lookup_user(name: &str) -> SysResult<Option<User>> {
    let name = CString::new(name).map_err(|_| Errno(libc::EINVAL))?;
    // Start-up only: the buffer may grow (ERANGE), so it lives on the heap.
    let mut buf = vec![0 as libc::c_char; 1024];
    loop {
        // SAFETY: passwd is plain data (integers and pointers); all zeroes is a valid value.
        let mut entry: libc::passwd = unsafe { core::mem::zeroed() };
        let mut found: *mut libc::passwd = core::ptr::null_mut();
        // SAFETY: `name` is NUL-terminated; `entry`, `buf` (for `buf.len()` bytes) and `found`
        // are writable for the whole call. getpwnam_r returns the error number.
        let ret = unsafe {
            libc::getpwnam_r(
                name.as_ptr(),
                &mut entry,
                buf.as_mut_ptr(),
                buf.len(),
                &mut found,
            )
        };
        match ret {
            0 if found.is_null() => return Ok(None),
            0 => {
                return Ok(Some(User {
                    uid: entry.pw_uid,
                    gid: entry.pw_gid,
                }))
            }
            libc::ERANGE if buf.len() < 1 << 20 => buf.resize(buf.len() * 4, 0),
            errno => return Err(Errno(errno)),
        }
    }
}

/// Makes `user` the process's only identity: supplementary groups, group, user (in that
/// order, while the process may still change them). On Linux the permitted capabilities
/// survive the switch (`PR_SET_KEEPCAPS`), so that `keep_only` can keep some.
pub fn switch_user(user: User) -> SysResult<()> {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) })?;
    let groups = [user.gid];
    // SAFETY: `groups` holds one gid for the whole call.
    cvt(unsafe { libc::setgroups(1, groups.as_ptr()) })?;
    // SAFETY: no pointers.
    cvt(unsafe { libc::setgid(user.gid) })?;
    // SAFETY: no pointers.
    cvt(unsafe { libc::setuid(user.uid) })?;
    Ok(())
}

/// Changes the root directory to `dir` (an empty, root-owned directory such as /var/empty),
/// so that nothing in the file system is reachable after the user switch.
#[cfg(target_os = "freebsd")]
pub fn chroot_to(dir: &std::ffi::CStr) -> SysResult<()> {
    // SAFETY: `dir` is NUL-terminated and alive for the call.
    cvt(unsafe { libc::chroot(dir.as_ptr()) })?;
    super::file::chdir_root()
}
