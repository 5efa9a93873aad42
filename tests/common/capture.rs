//! Packet capture on one interface of one namespace, and the TCP segments in it.
//!
//! An AF_PACKET socket bound to the interface, opened before the traffic and drained after it,
//! replaces tcpdump: it is listening the moment it is bound (no start-up race to poll for), and
//! needs no pcap file. The kernel hands it each frame as the interface receives or sends it,
//! before netfilter of that namespace sees it.
//!
//! The checks here are written independently of the code under test: the MSS option walk and
//! the TCP checksum (a full recomputation over the pseudo-header) are this file's own.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, OwnedFd};

use super::netns::{in_netns, socket};

const ETH_HEADER: usize = 14;
const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
const IPPROTO_TCP: u8 = 6;
const PACKET_OUTGOING: u8 = 4; // linux/if_packet.h

/// TCP flag bits (byte 13 of the header).
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const ACK: u8 = 0x10;

/// A capture socket; every frame since it was opened waits in its receive queue.
pub struct Capture {
    fd: OwnedFd,
    what: String,
}

impl Capture {
    /// Starts capturing on `iface` inside namespace `ns`.
    pub fn open(ns: &str, iface: &str) -> Capture {
        let what = format!("{ns}/{iface}");
        let iface = iface.to_string();
        let fd = in_netns(ns, move || bind_packet_socket(&iface))
            .unwrap_or_else(|e| panic!("capture on {what}: {e}"));
        Capture { fd, what }
    }

    /// Every TCP segment captured so far (and not returned before), in order.
    pub fn tcp_segments(&self) -> Vec<Segment> {
        let mut segments = Vec::new();
        let mut frame = vec![0u8; 65536];
        loop {
            // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
            let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut from_len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            // SAFETY: the buffer and the address outlive the call, lengths are theirs.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    frame.as_mut_ptr().cast(),
                    frame.len(),
                    libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                    (&mut from as *mut libc::sockaddr_ll).cast(),
                    &mut from_len,
                )
            };
            if n < 0 {
                let error = io::Error::last_os_error();
                match error.kind() {
                    io::ErrorKind::WouldBlock => return segments,
                    io::ErrorKind::Interrupted => continue,
                    _ => panic!("capture on {}: recvfrom: {error}", self.what),
                }
            }
            let n = n as usize;
            assert!(
                n <= frame.len(),
                "{}: frame of {n} bytes truncated",
                self.what
            );
            if let Some(segment) = Segment::parse(&frame[..n], from.sll_pkttype != PACKET_OUTGOING)
            {
                segments.push(segment);
            }
        }
    }

    /// The SYNs (not SYN-ACKs) received on the interface since the last call.
    pub fn received_syns(&self) -> Vec<Segment> {
        self.received_with_flags(SYN)
    }

    /// The SYN-ACKs received on the interface since the last call.
    pub fn received_syn_acks(&self) -> Vec<Segment> {
        self.received_with_flags(SYN | ACK)
    }

    fn received_with_flags(&self, flags: u8) -> Vec<Segment> {
        self.tcp_segments()
            .into_iter()
            .filter(|s| s.incoming && s.flags() & (SYN | RST | ACK) == flags)
            .collect()
    }
}

fn bind_packet_socket(iface: &str) -> io::Result<OwnedFd> {
    let name = std::ffi::CString::new(iface).expect("no NUL in an interface name");
    // SAFETY: a NUL-terminated name that outlives the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(io::Error::last_os_error());
    }
    // Protocol 0 receives nothing until bind names the protocol and the interface, so no
    // frame of another interface slips in between.
    let fd = socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?;
    // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
    let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    address.sll_family = libc::AF_PACKET as u16;
    address.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    address.sll_ifindex = index as i32;
    // SAFETY: the address is a sockaddr_ll of the length given.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&address as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // A 8 MiB transfer passes while some captures are open; a big queue keeps the SYNs that
    // came first from being pushed out (the kernel drops new frames, not old ones, anyway).
    let size: libc::c_int = 4 << 20;
    // SAFETY: an int option value of its own size.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    Ok(fd)
}

/// One captured TCP segment with its addresses.
#[derive(Clone, Debug)]
pub struct Segment {
    /// Received by the interface (false: sent by it).
    pub incoming: bool,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The TCP header, options and payload, as captured.
    pub tcp: Vec<u8>,
}

impl Segment {
    /// An Ethernet frame carrying IPv4 or IPv6 and TCP (directly after the fixed IPv6 header;
    /// the tests send no extension headers); anything else is `None`.
    pub fn parse(frame: &[u8], incoming: bool) -> Option<Segment> {
        let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
        let ip = frame.get(ETH_HEADER..)?;
        let (src, dst, tcp) = match ethertype {
            ETH_P_IP => {
                let header_len = usize::from(ip.first()? & 0x0f) * 4;
                let total_len = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
                let fragment = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]) & 0x3fff;
                if ip[0] >> 4 != 4 || ip[9] != IPPROTO_TCP || fragment != 0 {
                    return None;
                }
                let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
                let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
                (
                    IpAddr::V4(Ipv4Addr::from(src)),
                    IpAddr::V4(Ipv4Addr::from(dst)),
                    ip.get(header_len..total_len)?,
                )
            }
            ETH_P_IPV6 => {
                let payload_len = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
                if ip[0] >> 4 != 6 || ip[6] != IPPROTO_TCP {
                    return None;
                }
                let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
                let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
                (
                    IpAddr::V6(Ipv6Addr::from(src)),
                    IpAddr::V6(Ipv6Addr::from(dst)),
                    ip.get(40..40 + payload_len)?,
                )
            }
            _ => return None,
        };
        if tcp.len() < 20 || usize::from(tcp[12] >> 4) * 4 > tcp.len() {
            return None;
        }
        Some(Segment {
            incoming,
            src,
            dst,
            tcp: tcp.to_vec(),
        })
    }

    pub fn src_port(&self) -> u16 {
        u16::from_be_bytes([self.tcp[0], self.tcp[1]])
    }

    pub fn dst_port(&self) -> u16 {
        u16::from_be_bytes([self.tcp[2], self.tcp[3]])
    }

    pub fn flags(&self) -> u8 {
        self.tcp[13]
    }

    /// The value of every MSS option (kind 2, length 4), in order. The walk stops at
    /// end-of-options or at an option whose length does not fit.
    pub fn mss_values(&self) -> Vec<u16> {
        let options = &self.tcp[20..usize::from(self.tcp[12] >> 4) * 4];
        let mut values = Vec::new();
        let mut at = 0;
        while at < options.len() {
            match options[at] {
                0 => break,
                1 => at += 1,
                kind => {
                    let Some(&len) = options.get(at + 1) else {
                        break;
                    };
                    let len = usize::from(len);
                    if len < 2 || at + len > options.len() {
                        break;
                    }
                    if kind == 2 && len == 4 {
                        values.push(u16::from_be_bytes([options[at + 2], options[at + 3]]));
                    }
                    at += len;
                }
            }
        }
        values
    }

    /// The single MSS option's value; panics (naming the segment) unless there is exactly one.
    pub fn mss(&self) -> u16 {
        match self.mss_values()[..] {
            [mss] => mss,
            ref other => panic!("expected one MSS option, found {other:?} in {self}"),
        }
    }

    /// Whether the TCP checksum equals a full recomputation over pseudo-header and segment.
    pub fn checksum_valid(&self) -> bool {
        let mut pseudo = Vec::with_capacity(40);
        match (self.src, self.dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                pseudo.extend_from_slice(&src.octets());
                pseudo.extend_from_slice(&dst.octets());
                pseudo.extend_from_slice(&[0, IPPROTO_TCP]);
                pseudo.extend_from_slice(&(self.tcp.len() as u16).to_be_bytes());
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                pseudo.extend_from_slice(&src.octets());
                pseudo.extend_from_slice(&dst.octets());
                pseudo.extend_from_slice(&(self.tcp.len() as u32).to_be_bytes());
                pseudo.extend_from_slice(&[0, 0, 0, IPPROTO_TCP]);
            }
            _ => unreachable!("one IP header has one family"),
        }
        // Summing the segment with its checksum field in place gives 0xffff when it is right.
        ones_complement_sum(&[&pseudo, &self.tcp]) == 0xffff
    }
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}:{} -> {}:{} flags {:#04x} MSS {:?} checksum {:#06x} ({})",
            if self.incoming { "in" } else { "out" },
            self.src,
            self.src_port(),
            self.dst,
            self.dst_port(),
            self.flags(),
            self.mss_values(),
            u16::from_be_bytes([self.tcp[16], self.tcp[17]]),
            if self.checksum_valid() {
                "valid"
            } else {
                "INVALID"
            },
        )
    }
}

/// The 16-bit one's complement sum (RFC 1071) of the concatenated parts, each of even length
/// except possibly the last.
fn ones_complement_sum(parts: &[&[u8]]) -> u16 {
    let mut sum: u64 = 0;
    for part in parts {
        for word in part.chunks(2) {
            let high = u64::from(word[0]) << 8;
            sum += high | word.get(1).copied().map_or(0, u64::from);
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}
