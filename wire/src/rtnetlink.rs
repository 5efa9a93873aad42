//! rtnetlink link messages: the request for an interface's MTU and the RTM_NEWLINK/RTM_DELLINK
//! messages that report it and its changes; safe code over `&[u8]`, tested with byte fixtures.
//!
//! Layouts from rtnetlink(7) and `include/uapi/linux/rtnetlink.h`, `if_link.h`; all fields host
//! byte order. The kernel broadcasts RTM_NEWLINK to RTNLGRP_LINK on every NETDEV_CHANGEMTU, and on
//! many events that leave the MTU alone (net/core/rtnetlink.c `rtnetlink_event`), so the caller
//! compares before acting.

use static_assertions::const_assert_eq;

use crate::netlink::{
    bytes4, error, put_nlmsghdr, Attrs, Frame, Frames, Malformed, NLMSG_ERROR, NLMSG_HDR_LEN,
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};

// struct ifinfomsg (rtnetlink.h), host byte order:
//  0        1     2          4             8             12            16
// +--------+-----+----------+-------------+-------------+-------------+
// | family | pad | type     | index (i32) | flags       | change      |
// +--------+-----+----------+-------------+-------------+-------------+
mod ifinfomsg {
    use core::ops::Range;
    pub const FAMILY: usize = 0;
    pub const INDEX: Range<usize> = 4..8;
    pub const CHANGE: Range<usize> = 12..16;
}
const IFINFOMSG_LEN: usize = ifinfomsg::CHANGE.end;
const_assert_eq!(IFINFOMSG_LEN, 16);

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
/// if_link.h IFLA_IFNAME: the name, NUL-terminated.
const IFLA_IFNAME: u16 = 3;
/// if_link.h IFLA_MTU: u32 in host byte order (`nla_put_u32(skb, IFLA_MTU, dev->mtu)` in
/// rtnl_fill_ifinfo).
const IFLA_MTU: u16 = 4;
/// AF_UNSPEC: a GETLINK for every address family's view of the link.
const FAMILY_UNSPEC: u8 = 0;

/// Multicast group mask for `Socket::bind` that delivers link changes (rtnetlink.h RTMGRP_LINK).
pub const GROUP_LINK: u32 = 1;

#[cfg(target_os = "linux")]
mod values_match_libc {
    use static_assertions::const_assert_eq;
    const_assert_eq!(super::RTM_NEWLINK, libc::RTM_NEWLINK);
    const_assert_eq!(super::RTM_DELLINK, libc::RTM_DELLINK);
    const_assert_eq!(super::RTM_GETLINK, libc::RTM_GETLINK);
    const_assert_eq!(super::IFLA_IFNAME, libc::IFLA_IFNAME);
    const_assert_eq!(super::IFLA_MTU, libc::IFLA_MTU);
    const_assert_eq!(super::GROUP_LINK as i32, libc::RTMGRP_LINK);
}

/// Length of the messages [`get_link_request`] and [`dump_links_request`] build.
pub const REQUEST_LEN: usize = NLMSG_HDR_LEN + IFINFOMSG_LEN;

/// Builds an RTM_GETLINK request for the interface with `index`; the kernel answers with one
/// RTM_NEWLINK (or an NLMSG_ERROR, `ENODEV` for an unknown index). Needs no privilege
/// (rtnetlink_rcv_msg checks CAP_NET_ADMIN only for requests that change something).
pub fn get_link_request(index: i32, seq: u32) -> [u8; REQUEST_LEN] {
    request(index, NLM_F_REQUEST | NLM_F_ACK, seq)
}

/// Builds an RTM_GETLINK dump request: one RTM_NEWLINK per interface, in as many datagrams as it
/// takes, then NLMSG_DONE.
pub fn dump_links_request(seq: u32) -> [u8; REQUEST_LEN] {
    request(0, NLM_F_REQUEST | NLM_F_DUMP, seq)
}

fn request(index: i32, flags: u16, seq: u32) -> [u8; REQUEST_LEN] {
    let mut msg = [0u8; REQUEST_LEN];
    let (header, body) = msg.split_at_mut(NLMSG_HDR_LEN);
    if let Ok(header) = <&mut [u8; NLMSG_HDR_LEN]>::try_from(header) {
        let len = u32::try_from(REQUEST_LEN).unwrap_or(u32::MAX);
        put_nlmsghdr(header, len, RTM_GETLINK, flags, seq);
    }
    if let Ok(info) = <&mut [u8; IFINFOMSG_LEN]>::try_from(body) {
        info[ifinfomsg::FAMILY] = FAMILY_UNSPEC;
        info[ifinfomsg::INDEX].copy_from_slice(&index.to_ne_bytes());
    }
    msg
}
const_assert_eq!(REQUEST_LEN, 32);

/// Whether the link appeared or changed, or went away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// RTM_NEWLINK: a new link, a change, or an answer to RTM_GETLINK.
    New,
    /// RTM_DELLINK: the link is gone.
    Deleted,
}

/// One link message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkEvent {
    /// New or deleted.
    pub kind: LinkKind,
    /// The interface index (`ifi_index`); compare with the index of the interface followed.
    pub index: i32,
    /// `IFLA_MTU`, when the message carries it.
    pub mtu: Option<u32>,
    /// `IFLA_IFNAME`, when present and valid UTF-8 of at most 15 bytes (IFNAMSIZ with its NUL).
    pub name: Option<heapless::String<{ crate::IFNAME_MAX }>>,
}

/// One message from an rtnetlink socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// An RTM_NEWLINK or RTM_DELLINK.
    Link(LinkEvent),
    /// An NLMSG_ERROR: errno 0 acknowledges request `seq`, else the positive errno it failed with.
    Error {
        /// 0 or a positive errno.
        errno: i32,
        /// The sequence number of the request it answers.
        seq: u32,
    },
    /// Any other message (NLMSG_DONE ends a dump, other rtnetlink types).
    Other,
    /// A message that could not be read. After a broken frame (`TruncatedMessage`,
    /// `BadMessageLength`) nothing else in the buffer is read; after a broken body the walk goes
    /// on with the next message, which the frame's length still locates.
    Malformed(Malformed),
}

/// Returns the messages in `buf` (what one read of an rtnetlink socket wrote).
pub fn messages(buf: &[u8]) -> impl Iterator<Item = Item> + '_ {
    Frames::new(buf).map(|frame| match frame {
        Ok(frame) => read(&frame),
        Err(why) => Item::Malformed(why),
    })
}

/// Reads one message the framing walk found.
fn read(frame: &Frame<'_>) -> Item {
    if frame.cut {
        // An rtnetlink datagram cut by a small buffer: its MTU may be among the lost bytes.
        return Item::Malformed(Malformed::TruncatedMessage);
    }
    let kind = match frame.kind {
        RTM_NEWLINK => LinkKind::New,
        RTM_DELLINK => LinkKind::Deleted,
        NLMSG_ERROR => {
            return match error(frame) {
                Ok((errno, seq)) => Item::Error { errno, seq },
                Err(why) => Item::Malformed(why),
            }
        }
        _ => return Item::Other,
    };
    let Some((info, attrs)) = frame.body.split_first_chunk::<IFINFOMSG_LEN>() else {
        return Item::Malformed(Malformed::TruncatedBody);
    };
    let mut event = LinkEvent {
        kind,
        index: i32::from_ne_bytes(bytes4!(info, ifinfomsg::INDEX)),
        mtu: None,
        name: None,
    };
    let attrs_start = frame.body_start.wrapping_add(IFINFOMSG_LEN);
    for attr in Attrs::new(attrs, attrs_start) {
        let attr = match attr {
            Ok(attr) => attr,
            // A broken attribute list could hide or fake the MTU: trust none of it.
            Err(why) => return Item::Malformed(why),
        };
        match attr.kind {
            IFLA_MTU => match attr.value.first_chunk::<4>() {
                Some(mtu) => event.mtu = Some(u32::from_ne_bytes(*mtu)),
                None => return Item::Malformed(Malformed::TruncatedAttribute),
            },
            IFLA_IFNAME => event.name = crate::interface_name(attr.value),
            _ => {}
        }
    }
    Item::Link(event)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::fixture::{cat, nla, set_u16, set_u32};

    // From a capture on Linux 6.18 (x86_64): `ip link set d0 mtu 1400` on a veth (index 3, peer
    // down) in a network namespace, read from a socket bound to RTMGRP_LINK (1492 bytes). Header
    // and the attributes below are as captured, in the kernel's order; the others (statistics,
    // qdisc, ...) are left out and nlmsg_len adjusted. Every field but the single bytes and the
    // name is in host byte order (little-endian there), so each is built with to_ne_bytes.
    #[rustfmt::skip]
    const NEWLINK_MTU_1400: [u8; 80] = cat(&[
        &80u32.to_ne_bytes(),      // nlmsg_len 80
        &16u16.to_ne_bytes(),      // nlmsg_type RTM_NEWLINK
        &0u16.to_ne_bytes(),       // nlmsg_flags 0
        &0u32.to_ne_bytes(),       // nlmsg_seq 0: a notification
        &0u32.to_ne_bytes(),       // nlmsg_pid 0
        &[0x00],                   // ifi_family AF_UNSPEC
        &[0x00],                   // padding
        &1u16.to_ne_bytes(),       // ifi_type ARPHRD_ETHER
        &3i32.to_ne_bytes(),       // ifi_index 3
        &0x1002u32.to_ne_bytes(),  // ifi_flags BROADCAST|MULTICAST
        &0x41u32.to_ne_bytes(),    // ifi_change
        &nla(7, 3),                // rta_len 7, IFLA_IFNAME
        &[0x64, 0x30, 0x00, 0x00], //   "d0\0", padding
        &nla(8, 13),               // rta_len 8, IFLA_TXQLEN
        &1000u32.to_ne_bytes(),    //   1000
        &nla(5, 16),               // rta_len 5, IFLA_OPERSTATE
        &[0x02, 0x00, 0x00, 0x00], //   IF_OPER_LOWERLAYERDOWN, padding
        &nla(8, 4),                // rta_len 8, IFLA_MTU
        &1400u32.to_ne_bytes(),    //   1400
        &nla(8, 50),               // rta_len 8, IFLA_MIN_MTU
        &68u32.to_ne_bytes(),      //   68
        &nla(8, 51),               // rta_len 8, IFLA_MAX_MTU
        &65535u32.to_ne_bytes(),   //   65535
    ]);

    // Same capture, `ip link del d0`: RTM_DELLINK for index 3 (680 bytes; header as captured,
    // attributes cut to the name). The real one also carries IFLA_MTU. Host byte order as above.
    #[rustfmt::skip]
    const DELLINK: [u8; 40] = cat(&[
        &40u32.to_ne_bytes(),      // nlmsg_len 40
        &17u16.to_ne_bytes(),      // RTM_DELLINK
        &0u16.to_ne_bytes(),       // flags
        &0u32.to_ne_bytes(),       // seq
        &0u32.to_ne_bytes(),       // pid
        &[0x00, 0x00],             // AF_UNSPEC, pad
        &1u16.to_ne_bytes(),       // ifi_type ARPHRD_ETHER
        &3i32.to_ne_bytes(),       // ifi_index 3
        &0x1002u32.to_ne_bytes(),  // ifi_flags BROADCAST|MULTICAST
        &u32::MAX.to_ne_bytes(),   // ifi_change: all
        &nla(7, 3),                // rta_len 7, IFLA_IFNAME
        &[0x64, 0x30, 0x00, 0x00], //   "d0\0", padding
    ]);

    fn link(item: Option<Item>) -> LinkEvent {
        match item {
            Some(Item::Link(event)) => event,
            other => panic!("expected a link event, got {other:?}"),
        }
    }

    #[test]
    fn newlink_with_mtu() {
        let mut it = messages(&NEWLINK_MTU_1400);
        let event = link(it.next());
        assert_eq!(event.kind, LinkKind::New);
        assert_eq!(event.index, 3);
        assert_eq!(event.mtu, Some(1400));
        assert_eq!(event.name.as_deref(), Some("d0"));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn dellink_and_several_per_buffer() {
        let mut buf = NEWLINK_MTU_1400.to_vec();
        buf.extend_from_slice(&DELLINK);
        // Another interface's change, index 7.
        let mut other = NEWLINK_MTU_1400;
        set_u32(&mut other, 20, 7); // ifi_index
        buf.extend_from_slice(&other);
        let mut it = messages(&buf);
        assert_eq!(link(it.next()).mtu, Some(1400));
        let gone = link(it.next());
        assert_eq!(
            (gone.kind, gone.index, gone.mtu),
            (LinkKind::Deleted, 3, None)
        );
        assert_eq!(link(it.next()).index, 7);
        assert_eq!(it.next(), None);
    }

    #[test]
    fn newlink_without_mtu() {
        let mut m = DELLINK;
        set_u16(&mut m, 4, 0x10); // RTM_NEWLINK
        let event = link(messages(&m).next());
        assert_eq!((event.kind, event.mtu), (LinkKind::New, None));
    }

    #[test]
    fn truncated_rtattr() {
        // IFLA_MTU with rta_len 6: two bytes of value.
        let mut m = NEWLINK_MTU_1400;
        set_u16(&mut m, 56, 6);
        assert_eq!(
            messages(&m).next(),
            Some(Item::Malformed(Malformed::TruncatedAttribute))
        );
        // The last attribute runs past the message.
        let mut m = NEWLINK_MTU_1400;
        set_u16(&mut m, 72, 12);
        assert_eq!(
            messages(&m).next(),
            Some(Item::Malformed(Malformed::TruncatedAttribute))
        );
        // rta_len 2.
        let mut m = NEWLINK_MTU_1400;
        set_u16(&mut m, 32, 2);
        assert_eq!(
            messages(&m).next(),
            Some(Item::Malformed(Malformed::BadAttributeLength))
        );
    }

    #[test]
    fn cut_datagram_and_short_body() {
        assert_eq!(
            messages(&NEWLINK_MTU_1400[..60]).next(),
            Some(Item::Malformed(Malformed::TruncatedMessage))
        );
        let mut m = NEWLINK_MTU_1400[..24].to_vec();
        set_u32(&mut m, 0, 24); // nlmsg_len
        assert_eq!(
            messages(&m).next(),
            Some(Item::Malformed(Malformed::TruncatedBody))
        );
    }

    #[test]
    fn names() {
        use crate::interface_name;
        assert_eq!(interface_name(b"eth0\0").as_deref(), Some("eth0"));
        assert_eq!(interface_name(b"eth0").as_deref(), Some("eth0"));
        assert_eq!(
            interface_name(b"fifteen-chars-x\0").as_deref(),
            Some("fifteen-chars-x")
        );
        assert_eq!(interface_name(b"sixteen-chars-xx"), None);
        assert_eq!(interface_name(b"\xff\0"), None);
    }

    #[test]
    fn request_fields() {
        #[rustfmt::skip]
        let expected: [u8; 32] = cat(&[
            &32u32.to_ne_bytes(),     // nlmsg_len
            &18u16.to_ne_bytes(),     // RTM_GETLINK
            &0x0005u16.to_ne_bytes(), // NLM_F_REQUEST | NLM_F_ACK
            &9u32.to_ne_bytes(),      // seq 9
            &0u32.to_ne_bytes(),      // pid 0
            &[0, 0, 0, 0],            // AF_UNSPEC, pad, type
            &3i32.to_ne_bytes(),      // ifi_index 3
            &0u32.to_ne_bytes(),      // flags
            &0u32.to_ne_bytes(),      // change
        ]);
        assert_eq!(get_link_request(3, 9), expected);
        let dump = dump_links_request(1);
        assert_eq!(dump[6..8], 0x0301u16.to_ne_bytes()); // NLM_F_REQUEST | NLM_F_DUMP
        assert_eq!(dump[20..24], [0; 4]);
    }
}

// Generated link messages: every attribute order, flag bits, padding bytes and cut length.
#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::arithmetic_side_effects
)]
mod properties {
    use super::*;
    use crate::netlink::build::{attr, foreign_attr, message, type_flags};
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::Index;

    prop_compose! {
        fn link_message()(
            deleted in any::<bool>(),
            index in any::<i32>(),
            mtu in any::<u32>(),
            name in "[a-z][a-z0-9.-]{0,14}",
            with_name in any::<bool>(),
            others in vec(foreign_attr(&[IFLA_MTU, IFLA_IFNAME]), 0..8),
            mtu_at in any::<Index>(),
            name_at in any::<Index>(),
            flags in (type_flags(), type_flags()),
            paddings in any::<([u8; 3], [u8; 3])>(),
            info_rest in any::<[u8; 12]>(),
            seq in any::<u32>(),
        ) -> (Vec<u8>, LinkEvent) {
            let mut attrs = others;
            let mtu_attr = attr(IFLA_MTU | flags.0, &mtu.to_ne_bytes(), paddings.0);
            attrs.insert(mtu_at.index(attrs.len() + 1), mtu_attr);
            if with_name {
                let mut value = name.as_bytes().to_vec();
                value.push(0);
                let name_attr = attr(IFLA_IFNAME | flags.1, &value, paddings.1);
                attrs.insert(name_at.index(attrs.len() + 1), name_attr);
            }
            // ifinfomsg: family, pad and type at random, the index, flags and change at random.
            let mut body = info_rest[..4].to_vec();
            body.extend_from_slice(&index.to_ne_bytes());
            body.extend_from_slice(&info_rest[4..]);
            body.extend(attrs.concat());
            let kind = if deleted { RTM_DELLINK } else { RTM_NEWLINK };
            let event = LinkEvent {
                kind: if deleted { LinkKind::Deleted } else { LinkKind::New },
                index,
                mtu: Some(mtu),
                name: with_name.then(|| name.as_str().try_into().unwrap()),
            };
            (message(kind, seq, &body), event)
        }
    }

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: 1000,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn generated_links_keep_their_mtu(links in vec(link_message(), 1..4)) {
            let datagram: Vec<u8> = links.iter().flat_map(|(bytes, _)| bytes.clone()).collect();
            let items: Vec<Item> = messages(&datagram).collect();
            let expected: Vec<Item> =
                links.into_iter().map(|(_, event)| Item::Link(event)).collect();
            prop_assert_eq!(items, expected);
        }

        // A cut message might have lost its MTU: it is never reported as a link.
        #[test]
        fn generated_link_cut_anywhere_is_malformed((bytes, _) in link_message()) {
            for len in 1..bytes.len() {
                let items: Vec<Item> = messages(&bytes[..len]).collect();
                prop_assert_eq!(
                    items,
                    vec![Item::Malformed(Malformed::TruncatedMessage)],
                    "cut at {}",
                    len
                );
            }
        }
    }
}
