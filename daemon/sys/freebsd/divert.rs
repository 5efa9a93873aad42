//! FreeBSD divert(4) sockets: open, bind to a port, receive a packet with its address, send
//! it back with the same address: the calls of `freebsd/divert.rs`'s [`DivertSocket`], which
//! its tests make on a double. Moves bytes only; tcpmssd-wire's `divert.rs` reads the address.

use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use libc::c_int;

use crate::freebsd::divert::DivertSocket;
use crate::sys::errno::{Errno, SysResult};
use crate::sys::{cvt, socket};

/// Bytes of the `struct sockaddr_in` divert(4) binds to and returns with every packet; the
/// wire format (tcpmssd-wire's `divert.rs`) checks the same 16 against its field layout.
pub const SOCKADDR_IN_LEN: usize = mem::size_of::<libc::sockaddr_in>();

/// PF_DIVERT (sys/sys/socket.h, FreeBSD 14+); the libc crate does not define it.
const PF_DIVERT: c_int = 44;

/// A bound divert socket, closed on drop.
#[derive(Debug)]
pub struct Socket(OwnedFd);

impl DivertSocket for Socket {
    /// Opens a divert socket the FreeBSD 14 way, `socket(PF_DIVERT, SOCK_RAW, 0)` (divert(4)).
    /// `EAFNOSUPPORT` where the family does not exist: ipdivert.ko is not loaded, or the
    /// kernel is older than 14.
    fn open() -> SysResult<Socket> {
        socket(PF_DIVERT, libc::SOCK_RAW, 0).map(Socket)
    }

    /// Opens a divert socket the way kernels before 14 know,
    /// `socket(PF_INET, SOCK_RAW, IPPROTO_DIVERT)`. FreeBSD 14's `socreate()`
    /// (kern/uipc_socket.c) still maps it to PF_DIVERT, but prints "uses obsolete way to
    /// create divert(4) socket" on the console: the caller uses it on older kernels only.
    fn open_legacy() -> SysResult<Socket> {
        socket(libc::PF_INET, libc::SOCK_RAW, libc::IPPROTO_DIVERT).map(Socket)
    }

    fn os_release() -> SysResult<i32> {
        super::os_release()
    }

    fn set_receive_buffer(&self, len: usize) -> SysResult<()> {
        super::set_receive_buffer(self.0.as_fd(), len)
    }

    fn report_overflows(&self) -> SysResult<()> {
        super::report_overflows(self.0.as_fd())
    }

    /// Binds to divert `port` (div_bind: an AF_INET address of length 16; only the port
    /// counts).
    fn bind(&self, port: u16) -> SysResult<()> {
        // SAFETY: sockaddr_in is plain data; all-zero is a valid value.
        let mut addr: libc::sockaddr_in = unsafe { mem::zeroed() };
        addr.sin_len = SOCKADDR_IN_LEN as u8;
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_port = port.to_be();
        // SAFETY: `addr` is a valid sockaddr_in and the length passed is its size.
        cvt(unsafe {
            libc::bind(
                self.0.as_raw_fd(),
                (&raw const addr).cast(),
                SOCKADDR_IN_LEN as libc::socklen_t,
            )
        })?;
        Ok(())
    }

    /// Receives one packet into `buf` and its address into `address` without blocking
    /// (`EAGAIN` when none is waiting); returns the bytes copied into `buf` (a datagram longer
    /// than `buf` is cut to it) and how many bytes of `address` the kernel wrote.
    fn recv(
        &self,
        buf: &mut [u8],
        address: &mut [u8; SOCKADDR_IN_LEN],
    ) -> SysResult<(usize, usize)> {
        let mut address_len = SOCKADDR_IN_LEN as libc::socklen_t;
        // SAFETY: `buf` is writable for `buf.len()` bytes and `address` for `address_len`
        // bytes for the whole call; the kernel writes no more than those lengths.
        let n = cvt(unsafe {
            libc::recvfrom(
                self.0.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                // No MSG_TRUNC: FreeBSD honours it as an input flag only recently (its test,
                // tests/sys/kern/socket_msg_trunc.c, dates from 2022).
                libc::MSG_DONTWAIT,
                address.as_mut_ptr().cast(),
                &raw mut address_len,
            )
        })?;
        let len = usize::try_from(n).map_err(|_| Errno(libc::EINVAL))?;
        let address_len = usize::try_from(address_len).unwrap_or(0);
        Ok((len, address_len.min(SOCKADDR_IN_LEN)))
    }

    /// Sends `packet` back to the kernel with `address`, the bytes it was received with.
    fn send(&self, packet: &[u8], address: &[u8]) -> SysResult<usize> {
        let address_len =
            libc::socklen_t::try_from(address.len()).map_err(|_| Errno(libc::EINVAL))?;
        // SAFETY: `packet` and `address` are readable for their lengths for the whole call.
        let n = cvt(unsafe {
            libc::sendto(
                self.0.as_raw_fd(),
                packet.as_ptr().cast(),
                packet.len(),
                0,
                address.as_ptr().cast(),
                address_len,
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
