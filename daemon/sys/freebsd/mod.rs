//! FreeBSD sockets: divert(4) and the routing socket, and the socket option both set.

pub mod divert;
pub mod route;

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::cvt;

/// Asks for a receive buffer of `len` bytes on socket `fd` (SO_RCVBUF; FreeBSD caps it at
/// `kern.ipc.maxsockbuf`, 2 MiB by default).
pub fn set_receive_buffer(fd: BorrowedFd<'_>, len: usize) -> io::Result<()> {
    let value =
        libc::c_int::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `value` lives across the call and the length passed is the size of a c_int.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&raw const value).cast(),
            core::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })?;
    Ok(())
}
