//! SYNs built by hand and sent from a raw IP socket: the e2e suite's flood (`flood.rs`) and the
//! SYN sender the router VMs run (`tests/vm/syn`) share them, so this file needs nothing but
//! libc and the capture's checksum (`super::capture`), which both include beside it.

use std::net::IpAddr;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::capture::tcp_checksum;

/// A Linux-like SYN (SACK permitted, timestamps, window scale; options as Linux lays them out)
/// from `src:src_port` to `dst:dst_port` with MSS `mss`: the whole IPv4 packet, or for IPv6 the
/// TCP segment (the kernel adds the IPv6 header). Addresses of two families give the segment.
pub fn syn(
    src: IpAddr,
    dst: IpAddr,
    mss: u16,
    (src_port, dst_port): (u16, u16),
    seq: u32,
) -> Vec<u8> {
    let mut tcp = Vec::with_capacity(40);
    tcp.extend_from_slice(&src_port.to_be_bytes());
    tcp.extend_from_slice(&dst_port.to_be_bytes());
    tcp.extend_from_slice(&seq.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 0]); // acknowledgment number
    tcp.extend_from_slice(&[0xa0, 0x02, 0xfa, 0xf0]); // data offset 10, SYN, window 64240
    tcp.extend_from_slice(&[0, 0, 0, 0]); // checksum (below), urgent pointer
    tcp.extend_from_slice(&[0x02, 0x04]);
    tcp.extend_from_slice(&mss.to_be_bytes()); // MSS
    tcp.extend_from_slice(&[0x04, 0x02, 0x08, 0x0a]); // SACK permitted, timestamps...
    tcp.extend_from_slice(&seq.rotate_left(7).to_be_bytes()); // ...TSval
    tcp.extend_from_slice(&[0, 0, 0, 0]); // ...TSecr
    tcp.extend_from_slice(&[0x01, 0x03, 0x03, 0x07]); // NOP, window scale 7
    let checksum = tcp_checksum(src, dst, &tcp);
    tcp[16..18].copy_from_slice(&checksum.to_be_bytes());
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut packet = vec![
                0x45, 0, 0, 60, // IPv4, IHL 5, total length 60
                0, 0, 0x40, 0, // id 0 (the kernel fills it in), DF
                64, 6, 0, 0, // TTL 64, TCP, checksum (the kernel fills it in, raw(7))
            ];
            packet.extend_from_slice(&s.octets());
            packet.extend_from_slice(&d.octets());
            packet.extend_from_slice(&tcp);
            packet
        }
        _ => tcp,
    }
}

/// A xorshift64 generator: source ports and sequence numbers need variety, not quality.
pub struct XorShift(pub u64);

impl XorShift {
    /// Returns the next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Sends `packet` on raw socket `fd` to `to` (from [`sockaddr`]); returns the bytes sent.
pub fn send_raw(
    fd: BorrowedFd<'_>,
    packet: &[u8],
    (addr, addr_len): &(libc::sockaddr_storage, libc::socklen_t),
) -> std::io::Result<usize> {
    // SAFETY: `packet` and `addr` are alive and sized as passed for the whole call.
    let n = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            packet.as_ptr().cast(),
            packet.len(),
            0,
            (&raw const *addr).cast(),
            *addr_len,
        )
    };
    usize::try_from(n).map_err(|_| std::io::Error::last_os_error())
}

/// The raw socket's destination `to`; for raw IPv4 and IPv6 sockets there is no port.
pub fn sockaddr(to: IpAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match to {
        IpAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            let sin = unsafe { &mut *(&raw mut storage).cast::<libc::sockaddr_in>() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_addr.s_addr = u32::from_ne_bytes(v4.octets());
            std::mem::size_of::<libc::sockaddr_in>()
        }
        IpAddr::V6(v6) => {
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            let sin6 = unsafe { &mut *(&raw mut storage).cast::<libc::sockaddr_in6>() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_addr.s6_addr = v6.octets();
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}
