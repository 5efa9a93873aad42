//! Test oracles written independently of the core: a full Internet checksum, an MSS-option
//! lister, and builders of valid IPv4/IPv6 TCP packets (documentation addresses only).
#![allow(dead_code)]

pub const SRC_V4: [u8; 4] = [198, 51, 100, 1];
pub const DST_V4: [u8; 4] = [203, 0, 113, 1];
/// 2001:db8::1
pub const SRC_V6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
/// 2001:db8:1::1
pub const DST_V6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

/// RFC 1071: ones' complement sum of 16-bit big-endian words, odd byte padded with zero.
pub fn ones_complement_sum(chunks: &[&[u8]]) -> u16 {
    let mut sum: u64 = 0;
    for chunk in chunks {
        // Every chunk but the last has an even length here (pseudo-headers are 12 or 40 bytes).
        for pair in chunk.chunks(2) {
            let high = u64::from(pair[0]);
            let low = u64::from(*pair.get(1).unwrap_or(&0));
            sum += (high << 8) | low;
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Where a TCP segment lies in a packet and the pseudo-header that covers it.
pub struct Located {
    pub start: usize,
    pub end: usize,
    pub pseudo: Vec<u8>,
}

/// Finds the TCP segment of a packet built by this module (trusts the packet).
pub fn locate(packet: &[u8]) -> Located {
    match packet[0] >> 4 {
        4 => {
            let start = usize::from(packet[0] & 0x0f) * 4;
            let end = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
            let mut pseudo = packet[12..20].to_vec();
            pseudo.extend_from_slice(&[0, 6]);
            pseudo.extend_from_slice(&u16::try_from(end - start).unwrap().to_be_bytes());
            Located { start, end, pseudo }
        }
        6 => {
            let end = 40 + usize::from(u16::from_be_bytes([packet[4], packet[5]]));
            let mut next = packet[6];
            let mut start = 40;
            while next != 6 {
                let len = if next == 44 {
                    8
                } else {
                    (usize::from(packet[start + 1]) + 1) * 8
                };
                next = packet[start];
                start += len;
            }
            let mut pseudo = packet[8..40].to_vec();
            pseudo.extend_from_slice(&u32::try_from(end - start).unwrap().to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, 6]);
            Located { start, end, pseudo }
        }
        version => panic!("not an IP packet: version {version}"),
    }
}

/// Returns the TCP checksum a full recomputation gives (the checksum field read as zero).
pub fn full_tcp_checksum(packet: &[u8]) -> u16 {
    let located = locate(packet);
    let mut segment = packet[located.start..located.end].to_vec();
    segment[16] = 0;
    segment[17] = 0;
    !ones_complement_sum(&[&located.pseudo, &segment])
}

/// Returns the TCP checksum stored in the packet.
pub fn stored_tcp_checksum(packet: &[u8]) -> u16 {
    let start = locate(packet).start;
    u16::from_be_bytes([packet[start + 16], packet[start + 17]])
}

/// Returns the ones' complement sum of pseudo-header and segment, stored checksum included:
/// 0xffff when the checksum verifies, and otherwise off by as much as the packet is damaged.
pub fn tcp_sum(packet: &[u8]) -> u16 {
    let located = locate(packet);
    ones_complement_sum(&[&located.pseudo, &packet[located.start..located.end]])
}

/// True when the stored TCP checksum verifies (the whole sum is 0xffff).
pub fn tcp_checksum_verifies(packet: &[u8]) -> bool {
    tcp_sum(packet) == 0xffff
}

/// What a walk of the TCP options finds, as RFC 9293 section 3.1 describes them: EOL ends
/// the list, NOP is one byte, every other kind has a length byte counting kind and length.
pub struct OptionWalk {
    /// (offset of the value from the TCP header start, value) of every MSS option (kind 2,
    /// length 4) met before the walk ended.
    pub mss: Vec<(usize, u16)>,
    /// True when the walk stopped on a bad option (no room for its length byte, a length
    /// below 2, or a length past the header) rather than at EOL or the header's end.
    pub stopped: bool,
}

/// Walks the options of a TCP segment whose data offset fits in it.
pub fn option_walk(segment: &[u8]) -> OptionWalk {
    let header_len = usize::from(segment[12] >> 4) * 4;
    let mut mss = Vec::new();
    let mut at = 20;
    while at < header_len {
        match segment[at] {
            0 => break,
            1 => at += 1,
            kind => {
                let len = if at + 1 < header_len {
                    usize::from(segment[at + 1])
                } else {
                    0
                };
                if len < 2 || at + len > header_len {
                    return OptionWalk { mss, stopped: true };
                }
                if kind == 2 && len == 4 {
                    mss.push((
                        at + 2,
                        u16::from_be_bytes([segment[at + 2], segment[at + 3]]),
                    ));
                }
                at += len;
            }
        }
    }
    OptionWalk {
        mss,
        stopped: false,
    }
}

/// Returns (offset of the value from the TCP header start, value) of every MSS option
/// (kind 2, length 4) the option walk meets.
pub fn mss_options(segment: &[u8]) -> Vec<(usize, u16)> {
    option_walk(segment).mss
}

/// Builds a TCP header (checksum zero) with the given flags, options and payload.
pub fn tcp(flags: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    assert_eq!(options.len() % 4, 0, "options must fill whole words");
    let data_offset = u8::try_from((20 + options.len()) / 4).unwrap();
    let mut segment = vec![
        0x9c,
        0x40,
        0x00,
        0x50, // ports 40000 -> 80
        0x4a,
        0x3b,
        0x2c,
        0x1d, // sequence
        0x00,
        0x00,
        0x00,
        0x00, // acknowledgment
        data_offset << 4,
        flags,
        0xfa,
        0xf0, // data offset, flags, window 64240
        0x00,
        0x00,
        0x00,
        0x00, // checksum (filled in later), urgent pointer
    ];
    if flags & 0x10 != 0 {
        segment[8..12].copy_from_slice(&[0x11, 0x22, 0x33, 0x44]);
    }
    segment.extend_from_slice(options);
    segment.extend_from_slice(payload);
    segment
}

/// Wraps a TCP segment in IPv4 (with `ip_options`, don't-fragment set), filling both
/// checksums.
pub fn ipv4(ip_options: &[u8], segment: &[u8]) -> Vec<u8> {
    ipv4_with_flags(ip_options, 0x4000, segment)
}

/// Wraps a TCP segment in IPv4 with this flags/fragment-offset word (RFC 791 section 3.1:
/// 0x4000 don't fragment, 0x2000 more fragments), filling both checksums over the bytes
/// given, as if they were the whole datagram.
pub fn ipv4_with_flags(ip_options: &[u8], flags_fragment: u16, segment: &[u8]) -> Vec<u8> {
    assert_eq!(ip_options.len() % 4, 0);
    let header_len = 20 + ip_options.len();
    let total = u16::try_from(header_len + segment.len()).unwrap();
    let ihl = u8::try_from(header_len / 4).unwrap();
    let mut packet = vec![0x40 | ihl, 0x00];
    packet.extend_from_slice(&total.to_be_bytes());
    packet.extend_from_slice(&[0x8a, 0x1c]);
    packet.extend_from_slice(&flags_fragment.to_be_bytes());
    packet.extend_from_slice(&[0x40, 0x06, 0x00, 0x00]);
    packet.extend_from_slice(&SRC_V4);
    packet.extend_from_slice(&DST_V4);
    packet.extend_from_slice(ip_options);
    let header_checksum = !ones_complement_sum(&[&packet]);
    packet[10..12].copy_from_slice(&header_checksum.to_be_bytes());
    packet.extend_from_slice(segment);
    fill_tcp_checksum(&mut packet);
    packet
}

/// An IPv6 extension header: (its protocol number, its bytes after next-header).
pub struct Extension {
    pub kind: u8,
    pub body: Vec<u8>,
}

impl Extension {
    /// Hop-by-hop (0), routing (43) or destination options (60) of `8 * (units + 1)` bytes.
    pub fn options(kind: u8, units: u8) -> Extension {
        let mut body = vec![units];
        body.resize(usize::from(units) * 8 + 7, 0);
        if kind != 43 {
            // PadN covering the rest, so the options area is valid (RFC 8200 section 4.2).
            body[1] = 1;
            body[2] = u8::try_from(usize::from(units) * 8 + 7 - 3).unwrap();
        }
        Extension { kind, body }
    }

    /// A fragment header with this offset (in 8-byte units) and more-fragments flag.
    pub fn fragment(offset: u16, more: bool) -> Extension {
        let offset_flags = (offset << 3) | u16::from(more);
        let mut body = vec![0];
        body.extend_from_slice(&offset_flags.to_be_bytes());
        body.extend_from_slice(&[0x12, 0x34, 0x56, 0x78]);
        Extension { kind: 44, body }
    }
}

/// Wraps a TCP segment in IPv6 behind `extensions`, filling the TCP checksum.
pub fn ipv6(extensions: &[Extension], segment: &[u8]) -> Vec<u8> {
    let mut chain = Vec::new();
    for (index, extension) in extensions.iter().enumerate() {
        let next = extensions.get(index + 1).map_or(6, |e| e.kind);
        chain.push(next);
        chain.extend_from_slice(&extension.body);
    }
    let first = extensions.first().map_or(6, |e| e.kind);
    let payload_len = u16::try_from(chain.len() + segment.len()).unwrap();
    let mut packet = vec![0x60, 0x00, 0x00, 0x00];
    packet.extend_from_slice(&payload_len.to_be_bytes());
    packet.extend_from_slice(&[first, 64]);
    packet.extend_from_slice(&SRC_V6);
    packet.extend_from_slice(&DST_V6);
    packet.extend_from_slice(&chain);
    packet.extend_from_slice(segment);
    fill_tcp_checksum(&mut packet);
    packet
}

/// Writes the correct TCP checksum into a packet.
pub fn fill_tcp_checksum(packet: &mut [u8]) {
    let checksum = full_tcp_checksum(packet);
    let start = locate(packet).start;
    packet[start + 16..start + 18].copy_from_slice(&checksum.to_be_bytes());
}
