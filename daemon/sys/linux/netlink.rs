//! Linux netlink sockets (NFQUEUE, rtnetlink).
//!
//! This file moves bytes and returns `SysResult`; the messages themselves are built and read by
//! tcpmssd-wire (`netlink.rs`, `nfqueue.rs`, `rtnetlink.rs`). Socket calls follow netlink(7).

use std::io::IoSlice;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use libc::{c_int, c_void};
use static_assertions::assert_eq_size;

use crate::sys::errno::{Errno, SysResult};
use crate::sys::{cvt, set_option, socket};

// netlink(7): `struct sockaddr_nl` is 12 bytes; `bind`, `recvfrom` and `getsockname` pass its size.
assert_eq_size!(libc::sockaddr_nl, [u8; 12]);
// std documents `IoSlice` as ABI-compatible with `struct iovec` on Unix; `send_vectored` relies on it.
assert_eq_size!(IoSlice<'static>, libc::iovec);

/// Most slots one [`Socket::recv_slots`] fills: its headers and iovecs live on the stack
/// (64 × 88 bytes).
pub const MAX_SLOTS: usize = 64;

/// An `AF_NETLINK` raw socket, closed on drop.
///
/// Not `Clone`: two owners of one descriptor would close it twice (nix PR #1382).
#[derive(Debug)]
pub struct Socket(OwnedFd);

/// What one [`Socket::recv`] delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// Bytes written into the buffer (never more than its length).
    pub len: usize,
    /// The datagram was longer than the buffer; the bytes past `len` are lost.
    ///
    /// netlink(7) with `MSG_TRUNC` returns the datagram's real length; a cut NFQUEUE packet
    /// message still carries its packet id near the front, which `nfqueue::messages` recovers.
    pub truncated: bool,
    /// The datagram came from the kernel (sender port id 0), not from another process.
    pub from_kernel: bool,
}

impl Received {
    /// Nothing received: the value [`Socket::recv_slots`] overwrites.
    pub const NONE: Received = Received {
        len: 0,
        truncated: false,
        from_kernel: false,
    };
}

impl Socket {
    /// Opens an `AF_NETLINK` socket for `protocol` (`libc::NETLINK_NETFILTER`,
    /// `libc::NETLINK_ROUTE`), close-on-exec.
    pub fn open(protocol: c_int) -> SysResult<Socket> {
        socket(libc::AF_NETLINK, libc::SOCK_RAW, protocol).map(Socket)
    }

    /// Binds the socket with a kernel-assigned port id, joining the multicast `groups`
    /// (a bit mask such as `libc::RTMGRP_LINK`; 0 for none).
    pub fn bind(&self, groups: u32) -> SysResult<()> {
        let mut addr = zeroed_sockaddr_nl();
        addr.nl_family = AF_NETLINK_FAMILY;
        // nl_pid 0: the kernel picks a unique port id (netlink(7) "nl_pid").
        addr.nl_groups = groups;
        // SAFETY: `addr` is a valid, initialised `sockaddr_nl` and the length passed is its size.
        cvt(unsafe {
            libc::bind(
                self.0.as_raw_fd(),
                (&raw const addr).cast(),
                SOCKADDR_NL_LEN,
            )
        })?;
        Ok(())
    }

    /// Returns the port id the kernel assigned at [`bind`](Self::bind).
    #[cfg(test)]
    pub fn port_id(&self) -> SysResult<u32> {
        let mut addr = zeroed_sockaddr_nl();
        let mut len = SOCKADDR_NL_LEN;
        // SAFETY: `addr` is writable for `len` bytes and `len` is a valid in/out length.
        cvt(unsafe {
            libc::getsockname(self.0.as_raw_fd(), (&raw mut addr).cast(), &raw mut len)
        })?;
        Ok(addr.nl_pid)
    }

    /// Stops `recv` from failing with `ENOBUFS` after the kernel lost messages for this socket.
    ///
    /// NFQUEUE has no resync: a lost packet message is handled by fail-open, and the error would
    /// only interrupt the loop (commit 38938bfe3489, "netlink: add NETLINK_NO_ENOBUFS").
    pub fn set_no_enobufs(&self) -> SysResult<()> {
        self.set_option(libc::SOL_NETLINK, libc::NETLINK_NO_ENOBUFS, 1)
    }

    /// Sets the receive buffer to `len` bytes, beyond `net.core.rmem_max` when the process has
    /// `CAP_NET_ADMIN` (`SO_RCVBUFFORCE`), else up to that limit (`SO_RCVBUF`), as socket(7) says.
    pub fn set_receive_buffer(&self, len: usize) -> SysResult<()> {
        let value = c_int::try_from(len).map_err(|_| Errno(libc::EINVAL))?;
        match self.set_option(libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, value) {
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                self.set_option(libc::SOL_SOCKET, libc::SO_RCVBUF, value)
            }
            other => other,
        }
    }

    fn set_option(&self, level: c_int, name: c_int, value: c_int) -> SysResult<()> {
        set_option(self.0.as_fd(), level, name, value)
    }

    /// Receives one datagram (one or more netlink messages) into `buf`.
    ///
    /// With `dontwait` the call fails with `EAGAIN` instead of blocking. `EINTR` is returned, not
    /// retried: signal handlers are installed without `SA_RESTART` so the loop sees its flags.
    pub fn recv(&self, buf: &mut [u8], dontwait: bool) -> SysResult<Received> {
        // MSG_TRUNC makes netlink return the datagram's full length (netlink(7), af_netlink.c
        // netlink_recvmsg), so a cut datagram is seen instead of silently shortened.
        let flags = libc::MSG_TRUNC | if dontwait { libc::MSG_DONTWAIT } else { 0 };
        let mut from = zeroed_sockaddr_nl();
        let mut from_len = SOCKADDR_NL_LEN;
        // SAFETY: `buf` is writable for `buf.len()` bytes and `from` for `from_len` bytes for the
        // whole call; the kernel writes no more than those lengths.
        let n = cvt(unsafe {
            libc::recvfrom(
                self.0.as_raw_fd(),
                buf.as_mut_ptr().cast::<c_void>(),
                buf.len(),
                flags,
                (&raw mut from).cast(),
                &raw mut from_len,
            )
        })?;
        let full = usize::try_from(n).map_err(|_| Errno(libc::EINVAL))?;
        // Only the bytes the kernel reported are read back from `from` (STYLE.md §5).
        let from_kernel = from_len >= SOCKADDR_NL_LEN && from.nl_pid == 0;
        Ok(Received {
            len: full.min(buf.len()),
            truncated: full > buf.len(),
            from_kernel,
        })
    }

    /// Receives up to `out.len()` datagrams without blocking, in one `recvmmsg(2)`: datagram
    /// `k` into `buf` from slot `k` (slots of `slot_len` bytes from the buffer's start) to the
    /// buffer's end. Returns how many arrived; `out[k].len` is datagram `k`'s full length
    /// (`MSG_TRUNC`, as for [`recv`](Self::recv)), capped at the room it had, so a length past
    /// `slot_len` says it ran on into the slots after it, where a later datagram of the same
    /// call wrote over it.
    ///
    /// Fails with `EAGAIN` when none is waiting. Slots past the buffer, or more than
    /// [`MAX_SLOTS`], are `EINVAL`.
    pub fn recv_slots(
        &self,
        buf: &mut [u8],
        slot_len: usize,
        out: &mut [Received],
    ) -> SysResult<usize> {
        let count = out.len();
        let fits = count
            .checked_mul(slot_len)
            .is_some_and(|end| end <= buf.len())
            && count <= MAX_SLOTS;
        if !fits {
            return Err(Errno(libc::EINVAL));
        }
        let base = buf.as_mut_ptr();
        let mut iovecs = [EMPTY_IOVEC; MAX_SLOTS];
        let mut names = [zeroed_sockaddr_nl(); MAX_SLOTS];
        let mut headers = zeroed_mmsghdrs();
        for (k, ((iov, name), header)) in iovecs
            .iter_mut()
            .zip(&mut names)
            .zip(&mut headers)
            .take(count)
            .enumerate()
        {
            // In bounds: count * slot_len <= buf.len() was checked above.
            let slot = k * slot_len;
            *iov = libc::iovec {
                // SAFETY: `slot < buf.len()`, so the pointer stays inside `buf`.
                iov_base: unsafe { base.add(slot) }.cast(),
                iov_len: buf.len() - slot,
            };
            header.msg_hdr.msg_name = (&raw mut *name).cast();
            header.msg_hdr.msg_namelen = SOCKADDR_NL_LEN;
            header.msg_hdr.msg_iov = iov;
            header.msg_hdr.msg_iovlen = 1;
        }
        let vlen = libc::c_uint::try_from(count).unwrap_or(0);
        // SAFETY: the first `count` headers point at their own `sockaddr_nl` and at one iovec
        // each, from a slot of `buf` to its end, which is borrowed mutably for the whole call;
        // the kernel writes no more than those lengths. The iovecs overlap on purpose: the
        // kernel fills datagrams one after the other (net/socket.c do_recvmmsg). A null
        // timeout: the call never blocks, with MSG_DONTWAIT. MSG_TRUNC as in `recv`.
        let n = cvt(unsafe {
            libc::recvmmsg(
                self.0.as_raw_fd(),
                headers.as_mut_ptr(),
                vlen,
                // `int` in glibc's prototype, `unsigned` in musl's.
                (libc::MSG_DONTWAIT | libc::MSG_TRUNC) as _,
                core::ptr::null_mut(),
            )
        })?;
        let n = usize::try_from(n).map_or(0, |n| n.min(count));
        for (k, ((received, header), name)) in
            out.iter_mut().zip(&headers).zip(&names).take(n).enumerate()
        {
            let full = usize::try_from(header.msg_len).unwrap_or(usize::MAX);
            let room = buf.len() - k * slot_len;
            *received = Received {
                len: full.min(room),
                truncated: full > room || header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
                from_kernel: header.msg_hdr.msg_namelen >= SOCKADDR_NL_LEN && name.nl_pid == 0,
            };
        }
        Ok(n)
    }

    /// Sends `msg` (one or more netlink messages) to the kernel as one datagram.
    pub fn send(&self, msg: &[u8]) -> SysResult<usize> {
        // SAFETY: `msg` is readable for `msg.len()` bytes for the whole call.
        let n = cvt(unsafe {
            libc::send(
                self.0.as_raw_fd(),
                msg.as_ptr().cast::<c_void>(),
                msg.len(),
                0,
            )
        })?;
        usize::try_from(n).map_err(|_| Errno(libc::EINVAL))
    }

    /// Sends the concatenation of `parts` to the kernel as one datagram (sendmsg(2)), so a
    /// verdict can carry a packet straight from the receive buffer without copying it.
    pub fn send_vectored(&self, parts: &[IoSlice<'_>]) -> SysResult<usize> {
        let mut msg = zeroed_msghdr();
        // The kernel only reads through `msg_iov` (sendmsg(2)); the cast to `*mut` is the C API's.
        msg.msg_iov = parts.as_ptr().cast_mut().cast::<libc::iovec>();
        // `msg_iovlen` is `size_t` on glibc and `int` on musl: a no-op on one, a check on the other.
        #[allow(clippy::useless_conversion)]
        let iovlen = parts.len().try_into().map_err(|_| Errno(libc::EMSGSIZE))?;
        msg.msg_iovlen = iovlen;
        // msg_name stays null: an unconnected netlink socket sends to the kernel (port id 0).
        // SAFETY: `msg` points at `parts`, whose `IoSlice`s are `iovec`s (asserted above) over
        // slices that stay borrowed for the whole call.
        let n = cvt(unsafe { libc::sendmsg(self.0.as_raw_fd(), &raw const msg, 0) })?;
        usize::try_from(n).map_err(|_| Errno(libc::EINVAL))
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

// ---------------------------------------------------------------------------------------------
// Zeroed C structs: all-zero is a valid value for each (integers and null pointers), and the
// private padding fields libc declares can only be set this way.

const AF_NETLINK_FAMILY: libc::sa_family_t = libc::AF_NETLINK as libc::sa_family_t;
const SOCKADDR_NL_LEN: libc::socklen_t = mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;

fn zeroed_sockaddr_nl() -> libc::sockaddr_nl {
    // SAFETY: `sockaddr_nl` is integers only; all-zero is a valid value.
    unsafe { mem::zeroed() }
}

fn zeroed_mmsghdrs() -> [libc::mmsghdr; MAX_SLOTS] {
    // SAFETY: `mmsghdr` is integers and raw pointers; all-zero (null pointers) is a valid value.
    unsafe { mem::zeroed() }
}

const EMPTY_IOVEC: libc::iovec = libc::iovec {
    iov_base: core::ptr::null_mut(),
    iov_len: 0,
};

fn zeroed_msghdr() -> libc::msghdr {
    // SAFETY: `msghdr` is integers and raw pointers; all-zero (null pointers) is a valid value.
    unsafe { mem::zeroed() }
}

#[cfg(test)]
mod tests {
    use super::*;

    // rtnetlink needs no privilege to open, bind and read (GET requests are unprivileged).
    #[test]
    fn route_socket_binds_and_times_out_empty() {
        let sock = Socket::open(libc::NETLINK_ROUTE).unwrap();
        sock.bind(0).unwrap();
        assert_ne!(sock.port_id().unwrap(), 0);
        let mut buf = [0u8; 64];
        let err = sock.recv(&mut buf, true).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EAGAIN));
    }
}
