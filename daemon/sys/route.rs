//! FreeBSD routing sockets (route(4)) and the two interface look-ups the daemon needs:
//! `SIOCGIFMTU` and if_nametoindex(3). Moves bytes only; `route.rs` reads the messages.

use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::cvt;

/// `_IOWR('i', 51, struct ifreq)` (sys/sys/sockio.h), with sizeof(struct ifreq) = 32; the libc
/// crate does not define it for FreeBSD.
const SIOCGIFMTU: libc::c_ulong = 0xc020_6933;
static_assertions::const_assert_eq!(mem::size_of::<libc::ifreq>(), 32);

/// A PF_ROUTE socket, closed on drop.
#[derive(Debug)]
pub struct Socket(OwnedFd);

/// What one [`Socket::recv`] delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// Bytes in the buffer.
    pub len: usize,
    /// The read filled the whole buffer, so a message may have been cut.
    pub truncated: bool,
}

impl Socket {
    /// Opens a routing socket that hears about every address family's changes.
    pub fn open() -> io::Result<Socket> {
        // SAFETY: socket(2) takes no pointers; a non-negative return is a new descriptor.
        let fd = cvt(unsafe {
            libc::socket(
                libc::PF_ROUTE,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::AF_UNSPEC,
            )
        })?;
        // SAFETY: `fd` was just returned by socket(2) and nothing else owns it.
        Ok(Socket(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Receives what is waiting without blocking (`EAGAIN` when nothing is).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Received> {
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
        let full = usize::try_from(n).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        Ok(Received {
            len: full.min(buf.len()),
            truncated: full >= buf.len(),
        })
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// Returns the MTU of the interface called `name` (`ioctl(SIOCGIFMTU)`).
pub fn interface_mtu(name: &str) -> io::Result<u32> {
    // SAFETY: ifreq is a char array and a union of plain data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { mem::zeroed() };
    req.ifr_name = interface_name(name)?;
    // Any socket serves the interface ioctls; an AF_INET datagram socket needs no privilege.
    // SAFETY: socket(2) takes no pointers; a non-negative return is a new descriptor.
    let fd = cvt(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` was just returned by socket(2) and nothing else owns it.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: `req` is a valid ifreq the kernel reads the name from and writes the MTU into.
    cvt(unsafe { libc::ioctl(sock.as_raw_fd(), SIOCGIFMTU, &raw mut req) })?;
    // SAFETY: the union was zeroed and SIOCGIFMTU wrote `ifru_mtu`; every field is plain data.
    let mtu = unsafe { req.ifr_ifru.ifru_mtu };
    u32::try_from(mtu).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Returns the index of the interface called `name` (if_nametoindex(3)).
pub fn interface_index(name: &str) -> io::Result<u16> {
    let name = interface_name(name)?;
    // SAFETY: `name` is a NUL-terminated array alive for the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(io::Error::from_raw_os_error(libc::ENXIO));
    }
    u16::try_from(index).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Copies `name` into a NUL-terminated `IFNAMSIZ` array; longer names are `ENXIO` (the
/// kernel would cut them and might answer for another interface).
fn interface_name(name: &str) -> io::Result<[libc::c_char; libc::IFNAMSIZ]> {
    let bytes = name.as_bytes();
    if bytes.contains(&0) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ {
        return Err(io::Error::from_raw_os_error(libc::ENXIO));
    }
    let mut out = [0; libc::IFNAMSIZ];
    for (dst, &src) in out.iter_mut().zip(bytes) {
        *dst = src as libc::c_char;
    }
    Ok(out)
}
