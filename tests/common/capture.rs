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
    /// Frames start with an Ethernet header (false: with the IP header, as on tunnels).
    ethernet: bool,
}

impl Capture {
    /// Starts capturing on `iface` inside namespace `ns`.
    pub fn open(ns: &str, iface: &str) -> Capture {
        let what = format!("{ns}/{iface}");
        let iface = iface.to_string();
        let fd = in_netns(ns, move || bind_packet_socket(&iface))
            .unwrap_or_else(|e| panic!("capture on {what}: {e}"));
        Capture {
            fd,
            what,
            ethernet: true,
        }
    }

    /// Starts capturing on `iface`, a device without a link header (a tunnel), in `ns`.
    pub fn open_ip(ns: &str, iface: &str) -> Capture {
        Capture {
            ethernet: false,
            ..Capture::open(ns, iface)
        }
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
            let incoming = from.sll_pkttype != PACKET_OUTGOING;
            let segment = if self.ethernet {
                Segment::parse(&frame[..n], incoming)
            } else {
                Segment::parse_ip(&frame[..n], incoming)
            };
            segments.extend(segment);
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
        match (ethertype, ip.first()? >> 4) {
            (ETH_P_IP, 4) | (ETH_P_IPV6, 6) => Segment::parse_ip(ip, incoming),
            _ => None,
        }
    }

    /// An IPv4 or IPv6 packet carrying TCP, as [`Segment::parse`] reads it behind Ethernet.
    pub fn parse_ip(ip: &[u8], incoming: bool) -> Option<Segment> {
        let (src, dst, tcp) = match ip.first()? >> 4 {
            4 => {
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
            6 => {
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
        let pseudo = tcp_pseudo_header(self.src, self.dst, self.tcp.len());
        // Summing the segment with its checksum field in place gives 0xffff when it is right.
        ones_complement_sum(&[&pseudo, &self.tcp]) == 0xffff
    }
}

/// The pseudo-header a TCP checksum covers (RFC 793 for IPv4, RFC 8200 section 8.1 for IPv6).
fn tcp_pseudo_header(src: IpAddr, dst: IpAddr, tcp_len: usize) -> Vec<u8> {
    let mut pseudo = Vec::with_capacity(40);
    match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            pseudo.extend_from_slice(&src.octets());
            pseudo.extend_from_slice(&dst.octets());
            pseudo.extend_from_slice(&[0, IPPROTO_TCP]);
            pseudo.extend_from_slice(&(tcp_len as u16).to_be_bytes());
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            pseudo.extend_from_slice(&src.octets());
            pseudo.extend_from_slice(&dst.octets());
            pseudo.extend_from_slice(&(tcp_len as u32).to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, IPPROTO_TCP]);
        }
        _ => panic!("mixed address families: {src} -> {dst}"),
    }
    pseudo
}

/// The checksum to write into `tcp`, a segment from `src` to `dst` whose checksum field holds
/// zero: the same sum [`Segment::checksum_valid`] checks, so packets the tests build are
/// checked by the code the captured-frame fixtures below pin down.
pub fn tcp_checksum(src: IpAddr, dst: IpAddr, tcp: &[u8]) -> u16 {
    !ones_complement_sum(&[&tcp_pseudo_header(src, dst, tcp.len()), tcp])
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

/// The parser and the checksum oracle against frames tcpdump decoded. Captured on a veth whose
/// sender offloads the checksum, so the field holds the pseudo-header sum: tcpdump -vv reports
/// it "incorrect" and prints the right value, which the second fixture of each pair carries.
#[cfg(test)]
mod tests {
    use super::*;

    // tcpdump -vv: 198.51.100.1.55342 > 198.51.100.2.http: Flags [S], cksum 0x5499
    // (incorrect -> 0x25bf), options [mss 1460,sackOK,TS val 3930233692 ecr 0,nop,wscale 10]
    #[rustfmt::skip]
    const SYN_V4_OFFLOADED: [u8; 74] = [
        0x62, 0xeb, 0x0a, 0xd8, 0x77, 0x9f, // Ethernet destination
        0xc2, 0x9b, 0xf8, 0xc0, 0xc1, 0x24, // Ethernet source
        0x08, 0x00,                         // ethertype IPv4
        0x45, 0x00, 0x00, 0x3c,             // IPv4, IHL 5, total length 60
        0x2d, 0xc7, 0x40, 0x00,             // id, DF, offset 0
        0x40, 0x06, 0xb8, 0x8a,             // TTL 64, TCP, header checksum
        0xc6, 0x33, 0x64, 0x01,             // source 198.51.100.1
        0xc6, 0x33, 0x64, 0x02,             // destination 198.51.100.2
        0xd8, 0x2e, 0x00, 0x50,             // ports 55342 -> 80
        0xd7, 0xfe, 0x9c, 0xc5,             // sequence number
        0x00, 0x00, 0x00, 0x00,             // acknowledgment number
        0xa0, 0x02, 0xfa, 0xf0,             // data offset 10, SYN, window 64240
        0x54, 0x99, 0x00, 0x00,             // checksum (pseudo-header sum only), urgent
        0x02, 0x04, 0x05, 0xb4,             // MSS 1460
        0x04, 0x02,                         // SACK permitted
        0x08, 0x0a, 0xea, 0x42, 0x9b, 0x5c, // timestamps: value
        0x00, 0x00, 0x00, 0x00,             //   echo reply 0
        0x01,                               // NOP
        0x03, 0x03, 0x0a,                   // window scale 10
    ];

    // tcpdump -vv: 2001:db8:1::1.60078 > 2001:db8:1::2.http: Flags [S], cksum 0x5ba5
    // (incorrect -> 0xf882), options [mss 1440,sackOK,TS val 3953267222 ecr 0,nop,wscale 10]
    #[rustfmt::skip]
    const SYN_V6_OFFLOADED: [u8; 94] = [
        0x62, 0xeb, 0x0a, 0xd8, 0x77, 0x9f, // Ethernet destination
        0xc2, 0x9b, 0xf8, 0xc0, 0xc1, 0x24, // Ethernet source
        0x86, 0xdd,                         // ethertype IPv6
        0x60, 0x0c, 0xc5, 0x92,             // IPv6, flow label 0xcc592
        0x00, 0x28, 0x06, 0x40,             // payload length 40, TCP, hop limit 64
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, // source 2001:db8:1::1
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, // destination 2001:db8:1::2
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
        0xea, 0xae, 0x00, 0x50,             // ports 60078 -> 80
        0x53, 0x86, 0xba, 0xb8,             // sequence number
        0x00, 0x00, 0x00, 0x00,             // acknowledgment number
        0xa0, 0x02, 0xfd, 0x20,             // data offset 10, SYN, window 64800
        0x5b, 0xa5, 0x00, 0x00,             // checksum (pseudo-header sum only), urgent
        0x02, 0x04, 0x05, 0xa0,             // MSS 1440
        0x04, 0x02,                         // SACK permitted
        0x08, 0x0a, 0xeb, 0xa2, 0x12, 0x16, // timestamps: value
        0x00, 0x00, 0x00, 0x00,             //   echo reply 0
        0x01,                               // NOP
        0x03, 0x03, 0x0a,                   // window scale 10
    ];

    /// Byte offset of the TCP checksum in the IPv4 / IPv6 frame.
    const CHECKSUM_V4: usize = 14 + 20 + 16;
    const CHECKSUM_V6: usize = 14 + 40 + 16;

    fn with_checksum<const N: usize>(frame: [u8; N], at: usize, checksum: u16) -> [u8; N] {
        let mut frame = frame;
        frame[at..at + 2].copy_from_slice(&checksum.to_be_bytes());
        frame
    }

    #[test]
    fn captured_ipv4_syn_parsed_addresses_ports_flags_mss() {
        let segment = Segment::parse(&SYN_V4_OFFLOADED, true).expect("a TCP segment");
        assert_eq!(segment.src, "198.51.100.1".parse::<IpAddr>().unwrap());
        assert_eq!(segment.dst, "198.51.100.2".parse::<IpAddr>().unwrap());
        assert_eq!((segment.src_port(), segment.dst_port()), (55342, 80));
        assert_eq!(segment.flags(), SYN);
        assert_eq!(segment.mss_values(), [1460]);
        assert_eq!(segment.tcp.len(), 40);
    }

    #[test]
    fn captured_ipv6_syn_parsed_addresses_ports_flags_mss() {
        let segment = Segment::parse(&SYN_V6_OFFLOADED, true).expect("a TCP segment");
        assert_eq!(segment.src, "2001:db8:1::1".parse::<IpAddr>().unwrap());
        assert_eq!(segment.dst, "2001:db8:1::2".parse::<IpAddr>().unwrap());
        assert_eq!((segment.src_port(), segment.dst_port()), (60078, 80));
        assert_eq!(segment.flags(), SYN);
        assert_eq!(segment.mss_values(), [1440]);
    }

    #[test]
    fn offloaded_checksum_invalid_tcpdump_value_valid_ipv4() {
        let offloaded = Segment::parse(&SYN_V4_OFFLOADED, true).unwrap();
        assert!(!offloaded.checksum_valid());
        let fixed = with_checksum(SYN_V4_OFFLOADED, CHECKSUM_V4, 0x25bf);
        assert!(Segment::parse(&fixed, true).unwrap().checksum_valid());
        let off_by_one = with_checksum(SYN_V4_OFFLOADED, CHECKSUM_V4, 0x25be);
        assert!(!Segment::parse(&off_by_one, true).unwrap().checksum_valid());
    }

    #[test]
    fn offloaded_checksum_invalid_tcpdump_value_valid_ipv6() {
        let offloaded = Segment::parse(&SYN_V6_OFFLOADED, true).unwrap();
        assert!(!offloaded.checksum_valid());
        let fixed = with_checksum(SYN_V6_OFFLOADED, CHECKSUM_V6, 0xf882);
        assert!(Segment::parse(&fixed, true).unwrap().checksum_valid());
        let off_by_one = with_checksum(SYN_V6_OFFLOADED, CHECKSUM_V6, 0xf883);
        assert!(!Segment::parse(&off_by_one, true).unwrap().checksum_valid());
    }

    #[test]
    fn mss_walk_finds_every_mss_after_nops_and_stops_at_end_of_options() {
        let mut frame = with_checksum(SYN_V4_OFFLOADED, CHECKSUM_V4, 0x25bf);
        // Options become: NOP, MSS 1000 (odd offset), MSS 1460, end of options, junk that
        // would read as MSS 9999 if the walk went on.
        #[rustfmt::skip]
        let options = [
            0x01,                   // NOP
            0x02, 0x04, 0x03, 0xe8, // MSS 1000
            0x02, 0x04, 0x05, 0xb4, // MSS 1460
            0x00,                   // end of options
            0x02, 0x04, 0x27, 0x0f, // not an option any more
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        frame[54..74].copy_from_slice(&options);
        let segment = Segment::parse(&frame, true).unwrap();
        assert_eq!(segment.mss_values(), [1000, 1460]);
    }

    #[test]
    fn non_tcp_frame_not_parsed() {
        let mut frame = SYN_V4_OFFLOADED;
        frame[14 + 9] = 17; // UDP
        assert!(Segment::parse(&frame, true).is_none());
    }
}
