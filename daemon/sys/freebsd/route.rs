//! FreeBSD routing sockets (route(4)): the calls of `freebsd/routes.rs`'s [`RouteSocket`],
//! which its tests make on a double. Moves bytes only; tcpmssd-wire's `route.rs` reads the
//! messages.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use crate::freebsd::routes::RouteSocket;
use crate::sys::errno::{Errno, SysResult};
use crate::sys::{cvt, socket};

/// A PF_ROUTE socket, closed on drop.
#[derive(Debug)]
pub struct Socket(OwnedFd);

impl RouteSocket for Socket {
    /// Opens a routing socket that hears about every address family's changes.
    fn open() -> SysResult<Socket> {
        socket(libc::PF_ROUTE, libc::SOCK_RAW, libc::AF_UNSPEC).map(Socket)
    }

    fn set_receive_buffer(&self, len: usize) -> SysResult<()> {
        super::set_receive_buffer(self.0.as_fd(), len)
    }

    fn report_overflows(&self) -> SysResult<()> {
        super::report_overflows(self.0.as_fd())
    }

    /// Receives one message without blocking (`EAGAIN` when none waits); returns the bytes
    /// copied into `buf` (a longer datagram is cut to it).
    fn recv(&self, buf: &mut [u8]) -> SysResult<usize> {
        // SAFETY: `buf` is writable for `buf.len()` bytes for the whole call.
        let n = cvt(unsafe {
            libc::recv(
                self.0.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                // No MSG_TRUNC: FreeBSD honours it as an input flag only recently (its test,
                // tests/sys/kern/socket_msg_trunc.c, dates from 2022).
                libc::MSG_DONTWAIT,
            )
        })?;
        usize::try_from(n).map_err(|_| Errno(libc::EINVAL))
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
