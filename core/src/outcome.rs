//! Every way a packet can leave the core: clamped, or unchanged for a named reason.

/// What [`clamp`](crate::clamp), [`clamp_tcp`](crate::clamp_tcp),
/// [`clamp_prefix`](crate::clamp_prefix) or [`clamp_ethernet`](crate::clamp_ethernet) did to
/// one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// At least one MSS option was lowered; only MSS bytes and the TCP checksum changed.
    ///
    /// `from` is the value of the first option lowered (a SYN normally has one), `to` the limit.
    Clamped {
        /// The original MSS value.
        from: u16,
        /// The MSS value written.
        to: u16,
    },
    /// The packet was left byte-for-byte unchanged, for this reason.
    Unchanged(Reason),
}

impl Outcome {
    /// Returns true when the packet was modified.
    #[must_use]
    pub const fn is_clamped(self) -> bool {
        matches!(self, Outcome::Clamped { .. })
    }

    /// Returns the reason a packet was left alone, or `None` when it was clamped.
    #[must_use]
    pub const fn reason(self) -> Option<Reason> {
        match self {
            Outcome::Clamped { .. } => None,
            Outcome::Unchanged(reason) => Some(reason),
        }
    }
}

/// Why a packet was left unchanged.
///
/// `Truncated…` reasons mean a length field or header points past the bytes at hand (past
/// the packet, for the prefix entries); `Malformed…` reasons mean a field holds a value no
/// valid packet can have; [`ShortPrefix`](Reason::ShortPrefix) means the packet may be fine
/// but the bytes at hand end before its headers do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The version nibble is neither 4 nor 6, or (in an Ethernet frame) not the version
    /// the EtherType names.
    NotIp,
    /// The buffer ends before the IP header, an IPv6 extension header, or the length the
    /// IP header claims.
    TruncatedIp,
    /// An impossible IP header: IPv4 IHL below 5 or total length below the header length,
    /// or an IPv6 hop-by-hop header that is not the first.
    MalformedIp,
    /// A fragment other than the first: it carries no TCP header.
    Fragment,
    /// The TCP header is behind AH or ESP: authenticated or encrypted, not to be touched.
    Ipsec,
    /// More IPv6 extension headers than the walk follows (8).
    Ipv6ExtLimit,
    /// The transport protocol is not TCP (including IPv6 "no next header").
    NotTcp,
    /// The segment ends before the 20-byte TCP header or before its data offset.
    TruncatedTcp,
    /// The TCP data offset is below 5.
    MalformedTcp,
    /// SYN is not set: the MSS option only means something on SYN and SYN-ACK.
    NotSyn,
    /// SYN and RST are both set.
    Rst,
    /// The options hold no MSS option of length 4.
    NoMss,
    /// The option walk stopped on a length below 2 or past the header, and no MSS option
    /// before that point was above the limit.
    MalformedOptions,
    /// Every MSS option is already within the limit.
    MssOk,
    /// The prefix at hand ends before the TCP options do, though the packet goes on:
    /// [`clamp_prefix`](crate::clamp_prefix) and [`clamp_ethernet`](crate::clamp_ethernet)
    /// need every header in the prefix.
    ShortPrefix,
    /// The frame ends before its Ethernet header or a VLAN tag.
    TruncatedFrame,
    /// The frame's EtherType is neither IPv4 (0x0800) nor IPv6 (0x86dd): ARP, MPLS,
    /// PPPoE and the like.
    OtherEthertype,
    /// More VLAN tags than the frame walk follows (2: an 802.1ad tag and an 802.1Q tag).
    VlanLimit,
}

impl Reason {
    /// Every reason, in declaration order; `ALL[r.index()] == r`.
    pub const ALL: [Reason; 18] = [
        Reason::NotIp,
        Reason::TruncatedIp,
        Reason::MalformedIp,
        Reason::Fragment,
        Reason::Ipsec,
        Reason::Ipv6ExtLimit,
        Reason::NotTcp,
        Reason::TruncatedTcp,
        Reason::MalformedTcp,
        Reason::NotSyn,
        Reason::Rst,
        Reason::NoMss,
        Reason::MalformedOptions,
        Reason::MssOk,
        Reason::ShortPrefix,
        Reason::TruncatedFrame,
        Reason::OtherEthertype,
        Reason::VlanLimit,
    ];

    /// Returns the short name used in counters and log lines.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Reason::NotIp => "not-ip",
            Reason::TruncatedIp => "truncated-ip",
            Reason::MalformedIp => "malformed-ip",
            Reason::Fragment => "fragment",
            Reason::Ipsec => "ipsec",
            Reason::Ipv6ExtLimit => "ipv6-ext-limit",
            Reason::NotTcp => "not-tcp",
            Reason::TruncatedTcp => "truncated-tcp",
            Reason::MalformedTcp => "malformed-tcp",
            Reason::NotSyn => "not-syn",
            Reason::Rst => "rst",
            Reason::NoMss => "no-mss",
            Reason::MalformedOptions => "malformed-options",
            Reason::MssOk => "mss-ok",
            Reason::ShortPrefix => "short-prefix",
            Reason::TruncatedFrame => "truncated-frame",
            Reason::OtherEthertype => "other-ethertype",
            Reason::VlanLimit => "vlan-limit",
        }
    }

    /// Returns why a header ending `end` bytes into a packet of `packet_len` bytes is not
    /// at hand: it runs past the packet (`truncated`), or only past the prefix held.
    pub(crate) const fn missing(truncated: Reason, end: usize, packet_len: usize) -> Reason {
        if end > packet_len {
            truncated
        } else {
            Reason::ShortPrefix
        }
    }

    /// Returns the position of this reason in [`Reason::ALL`], for arrays of counters.
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl core::fmt::Display for Reason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
