//! FreeBSD sockets: divert(4) and the routing socket, the socket options both set, and the
//! kernel's release number.

pub mod divert;
pub mod route;
// Where panics abort (the release and tiny profiles), no unwinder and no backtrace
// symbolizer: the amd64 release 335,408 -> 89,760 bytes (2026-12-07).
#[cfg(panic = "abort")]
mod unwind;

use std::os::fd::BorrowedFd;

use libc::c_int;

use super::cvt;
use crate::sys::errno::{Errno, SysResult};

/// `SO_RERROR`, "keep track of receive errors": `0x00020000` in sys/sys/socket.h (FreeBSD 13
/// and later), the bit after `SO_REUSEPORT_LB`. The libc crate does not define it; this is
/// its one definition, tied to libc's neighbour at compile time.
pub const SO_RERROR: c_int = 0x0002_0000;
static_assertions::const_assert_eq!(SO_RERROR, libc::SO_REUSEPORT_LB << 1);

/// Asks for a receive buffer of `len` bytes on socket `fd` (SO_RCVBUF; FreeBSD caps it at
/// `kern.ipc.maxsockbuf`, 2 MiB by default).
pub fn set_receive_buffer(fd: BorrowedFd<'_>, len: usize) -> SysResult<()> {
    let value = c_int::try_from(len).map_err(|_| Errno(libc::EINVAL))?;
    super::set_option(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, value)
}

/// Makes the kernel report a receive-buffer overflow on `fd` as one `ENOBUFS` from the next
/// read that finds the buffer empty (`SO_RERROR`). Without it `soroverflow_locked()`
/// (kern/uipc_sockbuf.c) drops the message and tells no one.
pub fn report_overflows(fd: BorrowedFd<'_>) -> SysResult<()> {
    super::set_option(fd, libc::SOL_SOCKET, SO_RERROR, 1)
}

/// Returns the running kernel's `__FreeBSD_version` (sysctl `kern.osreldate`), e.g. 1400097
/// for 14.0-RELEASE.
pub fn os_release() -> SysResult<i32> {
    let name = [libc::CTL_KERN, libc::KERN_OSRELDATE];
    let mut value: c_int = 0;
    let mut len = core::mem::size_of::<c_int>();
    // SAFETY: `name` holds 2 ints; `value` is writable for `len` bytes, `len` for its size;
    // nothing is written to the kernel (null new value, length 0).
    cvt(unsafe {
        libc::sysctl(
            name.as_ptr(),
            2,
            (&raw mut value).cast(),
            &mut len,
            core::ptr::null(),
            0,
        )
    })?;
    Ok(value)
}
