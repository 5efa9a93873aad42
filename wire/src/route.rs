//! FreeBSD routing-socket messages about interfaces: RTM_IFINFO (its MTU, after every
//! `SIOCSIFMTU`) and RTM_IFANNOUNCE (an interface arriving or departing); safe code over
//! `&[u8]`, tested with byte fixtures laid out as FreeBSD 14 amd64 lays them out.
//!
//! Layouts from route(4) and sys/net/if.h, sys/net/route.h; all fields host byte order. Every
//! routing message starts with its length (u16), version (u8) and type (u8); a reader steps
//! over messages by the length and skips versions it does not know, as the C tcpmssd does.

use static_assertions::const_assert_eq;

// The header every routing message starts with (rt_msghdr, if_msghdr, if_announcemsghdr).
mod common {
    use core::ops::Range;
    pub const MSGLEN: Range<usize> = 0..2;
    pub const VERSION: usize = 2;
    pub const TYPE: usize = 3;
}
const COMMON_LEN: usize = common::TYPE + 1;

// struct if_msghdr (sys/net/if.h), amd64:
//  0        2     3     4           8           12          14      16
// +--------+-----+-----+-----------+-----------+-----------+-------+------------ - -
// | msglen | ver | type| addrs     | flags     | index     | spare | struct if_data
// +--------+-----+-----+-----------+-----------+-----------+-------+------------ - -
// struct if_data: six u8, u16 datalen, then u32 ifi_mtu at offset 8: absolute offset 24.
mod ifinfo {
    use core::ops::Range;
    pub const INDEX: Range<usize> = 12..14;
    pub const MTU: Range<usize> = 24..28;
}
/// Bytes of an if_msghdr this reader needs (the whole is 168 on amd64).
const IFINFO_MIN_LEN: usize = ifinfo::MTU.end;

// struct if_announcemsghdr (sys/net/if.h):
//  0        2     3     4       6                                  22
// +--------+-----+-----+-------+----------------------------------+------+
// | msglen | ver | type| index | name[IFNAMSIZ 16], NUL-terminated| what |
// +--------+-----+-----+-------+----------------------------------+------+
mod announce {
    use core::ops::Range;
    pub const INDEX: Range<usize> = 4..6;
    pub const NAME: Range<usize> = 6..22;
    pub const WHAT: Range<usize> = 22..24;
}
const ANNOUNCE_LEN: usize = announce::WHAT.end;
const_assert_eq!(ANNOUNCE_LEN, 24);

/// RTM_VERSION: messages of other versions are skipped.
const RTM_VERSION: u8 = 5;
/// RTM_IFINFO: interface state, with its `if_data`.
const RTM_IFINFO: u8 = 0xe;
/// RTM_IFANNOUNCE: an interface arrived or departed.
const RTM_IFANNOUNCE: u8 = 0x11;
/// IFAN_ARRIVAL and IFAN_DEPARTURE (sys/net/if.h).
const IFAN_ARRIVAL: u16 = 0;
const IFAN_DEPARTURE: u16 = 1;

#[cfg(target_os = "freebsd")]
#[allow(clippy::arithmetic_side_effects)] // constant offsets, checked at compile time
mod values_match_libc {
    use core::mem::{offset_of, size_of};
    use static_assertions::const_assert_eq;
    const_assert_eq!(
        offset_of!(libc::if_msghdr, ifm_index),
        super::ifinfo::INDEX.start
    );
    const_assert_eq!(
        offset_of!(libc::if_msghdr, ifm_data) + offset_of!(libc::if_data, ifi_mtu),
        super::ifinfo::MTU.start
    );
    const_assert_eq!(size_of::<libc::if_announcemsghdr>(), super::ANNOUNCE_LEN);
    const_assert_eq!(
        offset_of!(libc::if_announcemsghdr, ifan_name),
        super::announce::NAME.start
    );
    const_assert_eq!(
        offset_of!(libc::if_announcemsghdr, ifan_what),
        super::announce::WHAT.start
    );
    const_assert_eq!(libc::RTM_VERSION, super::RTM_VERSION as i32);
    const_assert_eq!(libc::RTM_IFINFO, super::RTM_IFINFO as i32);
    const_assert_eq!(libc::RTM_IFANNOUNCE, super::RTM_IFANNOUNCE as i32);
}

/// One message about an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// RTM_IFINFO: interface `index` now has this MTU.
    Info {
        /// `ifm_index`.
        index: u16,
        /// `ifm_data.ifi_mtu`.
        mtu: u32,
    },
    /// RTM_IFANNOUNCE IFAN_ARRIVAL: an interface appeared.
    Arrival {
        /// `ifan_index`.
        index: u16,
        /// `ifan_name`, when valid UTF-8 of at most 15 bytes.
        name: Option<heapless::String<{ crate::IFNAME_MAX }>>,
    },
    /// RTM_IFANNOUNCE IFAN_DEPARTURE: an interface went away.
    Departure {
        /// `ifan_index`.
        index: u16,
    },
    /// Any other message, or another version: nothing to do.
    Other,
    /// A message too short for its type or for its own length, or a length that does not step
    /// forward; nothing after it in the buffer is read.
    Malformed,
}

/// Returns the messages in `buf` (what one read of the routing socket returned).
pub fn messages(buf: &[u8]) -> Messages<'_> {
    Messages { rest: buf }
}

/// Iterator over the messages of one read; see [`messages`].
pub struct Messages<'a> {
    rest: &'a [u8],
}

impl Iterator for Messages<'_> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.rest.is_empty() {
            return None;
        }
        let rest = core::mem::take(&mut self.rest);
        let Some(head) = rest.first_chunk::<COMMON_LEN>() else {
            return Some(Item::Malformed);
        };
        let len = usize::from(u16::from_ne_bytes([
            head[common::MSGLEN.start],
            head[common::MSGLEN.end - 1],
        ]));
        // A length below the common header would never step forward.
        let Some(message) = rest.get(..len).filter(|_| len >= COMMON_LEN) else {
            return Some(Item::Malformed);
        };
        self.rest = rest.get(len..).unwrap_or_default();
        if head[common::VERSION] != RTM_VERSION {
            return Some(Item::Other);
        }
        let item = match head[common::TYPE] {
            RTM_IFINFO => info(message),
            RTM_IFANNOUNCE => announcement(message),
            _ => Item::Other,
        };
        if item == Item::Malformed {
            // A message shorter than its type says is no kernel's; trust nothing after it
            // either (the watch reads the MTU again instead).
            self.rest = &[];
        }
        Some(item)
    }
}

fn info(message: &[u8]) -> Item {
    let Some(m) = message.first_chunk::<IFINFO_MIN_LEN>() else {
        return Item::Malformed;
    };
    Item::Info {
        index: u16::from_ne_bytes([m[ifinfo::INDEX.start], m[ifinfo::INDEX.end - 1]]),
        mtu: u32::from_ne_bytes([
            m[ifinfo::MTU.start],
            m[ifinfo::MTU.start + 1],
            m[ifinfo::MTU.start + 2],
            m[ifinfo::MTU.end - 1],
        ]),
    }
}

fn announcement(message: &[u8]) -> Item {
    let Some(m) = message.first_chunk::<ANNOUNCE_LEN>() else {
        return Item::Malformed;
    };
    let index = u16::from_ne_bytes([m[announce::INDEX.start], m[announce::INDEX.end - 1]]);
    match u16::from_ne_bytes([m[announce::WHAT.start], m[announce::WHAT.end - 1]]) {
        IFAN_ARRIVAL => Item::Arrival {
            index,
            name: m.get(announce::NAME).and_then(crate::interface_name),
        },
        IFAN_DEPARTURE => Item::Departure { index },
        _ => Item::Other,
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::cast_possible_truncation
)]
mod tests {
    use super::*;
    use crate::fixture::{cat, set_u16};

    // `ifconfig em0 mtu 1400` on FreeBSD 14 amd64 (em0 is index 1): the RTM_IFINFO that
    // rt_ifmsg() sends, laid out per sys/net/if.h (if_msghdr, if_data); the fields wider than a
    // byte are in host byte order (little-endian there), built for the host the test runs on.
    // The if_data counters after ifi_mtu are left zero.
    fn ifinfo_em0_mtu_1400() -> [u8; 168] {
        let mut m = [0u8; 168];
        m[0..2].copy_from_slice(&168u16.to_ne_bytes()); // ifm_msglen
        m[2] = 5; // ifm_version RTM_VERSION
        m[3] = 0x0e; // ifm_type RTM_IFINFO
        m[4..8].copy_from_slice(&0i32.to_ne_bytes()); // ifm_addrs
        m[8..12].copy_from_slice(&0x8843i32.to_ne_bytes()); // ifm_flags UP|BROADCAST|RUNNING|...
        m[12..14].copy_from_slice(&1u16.to_ne_bytes()); // ifm_index 1
        m[16] = 6; // ifi_type IFT_ETHER
        m[18] = 6; // ifi_addrlen
        m[19] = 14; // ifi_hdrlen
        m[20] = 2; // ifi_link_state LINK_STATE_UP
        m[22..24].copy_from_slice(&152u16.to_ne_bytes()); // ifi_datalen sizeof(if_data)
        m[24..28].copy_from_slice(&1400u32.to_ne_bytes()); // ifi_mtu
        m
    }

    // `ifconfig tun0 destroy` (index 5): RTM_IFANNOUNCE, IFAN_DEPARTURE (if_announcemsghdr;
    // the 16-bit fields in host byte order).
    #[rustfmt::skip]
    const DEPARTURE_TUN0: [u8; 24] = cat(&[
        &24u16.to_ne_bytes(), // ifan_msglen 24
        &[0x05],              // ifan_version
        &[0x11],              // ifan_type RTM_IFANNOUNCE
        &5u16.to_ne_bytes(),  // ifan_index 5
        b"tun0",              // ifan_name "tun0", NUL-padded to 16
        &[0; 12],
        &1u16.to_ne_bytes(),  // ifan_what IFAN_DEPARTURE
    ]);

    #[test]
    fn ifinfo_reports_index_and_mtu() {
        let m = ifinfo_em0_mtu_1400();
        assert_eq!(
            messages(&m).collect::<Vec<_>>(),
            [Item::Info {
                index: 1,
                mtu: 1400
            }]
        );
    }

    #[test]
    fn announcements_departure_and_arrival() {
        assert_eq!(
            messages(&DEPARTURE_TUN0).collect::<Vec<_>>(),
            [Item::Departure { index: 5 }]
        );
        let mut arrival = DEPARTURE_TUN0;
        set_u16(&mut arrival, 4, 7); // a re-created interface gets a new index
        set_u16(&mut arrival, 22, 0); // IFAN_ARRIVAL
        assert_eq!(
            messages(&arrival).collect::<Vec<_>>(),
            [Item::Arrival {
                index: 7,
                name: heapless::String::try_from("tun0").ok()
            }]
        );
    }

    #[test]
    fn several_messages_other_types_and_versions() {
        let mut buf = Vec::new();
        // An RTM_NEWADDR (0xc) the reader skips by its length.
        let mut newaddr = [0u8; 20];
        set_u16(&mut newaddr, 0, 20);
        newaddr[2] = 5;
        newaddr[3] = 0x0c;
        buf.extend_from_slice(&newaddr);
        buf.extend_from_slice(&ifinfo_em0_mtu_1400());
        // An RTM_IFINFO of a future version: skipped, not misread.
        let mut future = ifinfo_em0_mtu_1400();
        future[2] = 6;
        buf.extend_from_slice(&future);
        buf.extend_from_slice(&DEPARTURE_TUN0);
        assert_eq!(
            messages(&buf).collect::<Vec<_>>(),
            [
                Item::Other,
                Item::Info {
                    index: 1,
                    mtu: 1400
                },
                Item::Other,
                Item::Departure { index: 5 },
            ]
        );
    }

    #[test]
    fn short_and_broken_messages_end_the_walk() {
        // Cut inside the common header, inside the declared length, and a length too small.
        assert_eq!(
            messages(&DEPARTURE_TUN0[..3]).collect::<Vec<_>>(),
            [Item::Malformed]
        );
        assert_eq!(
            messages(&DEPARTURE_TUN0[..20]).collect::<Vec<_>>(),
            [Item::Malformed]
        );
        let mut zero_len = DEPARTURE_TUN0;
        set_u16(&mut zero_len, 0, 0);
        assert_eq!(messages(&zero_len).collect::<Vec<_>>(), [Item::Malformed]);
        // An RTM_IFINFO whose declared length ends before ifi_mtu.
        let mut short = ifinfo_em0_mtu_1400();
        set_u16(&mut short, 0, 24);
        assert_eq!(
            messages(&short[..24]).collect::<Vec<_>>(),
            [Item::Malformed]
        );
        // A name without its NUL is no name.
        let mut unterminated = DEPARTURE_TUN0;
        set_u16(&mut unterminated, 22, 0); // IFAN_ARRIVAL
        unterminated[6..22].copy_from_slice(b"0123456789abcdef");
        assert_eq!(
            messages(&unterminated).collect::<Vec<_>>(),
            [Item::Arrival {
                index: 5,
                name: None
            }]
        );
        assert!(messages(&[]).next().is_none());
    }

    use proptest::collection::vec;
    use proptest::prelude::*;

    /// A routing message the walk must skip (another type or version), with its bytes.
    fn other_message() -> impl Strategy<Value = Vec<u8>> {
        (4usize..64, 1u8..=0x20, any::<u8>(), any::<[u8; 64]>()).prop_map(
            |(len, kind, version, fill)| {
                let mut m = fill[..len].to_vec();
                m[0..2].copy_from_slice(&(len as u16).to_ne_bytes());
                // Not the types read here unless the version is foreign.
                m[2] = if kind == RTM_IFINFO || kind == RTM_IFANNOUNCE {
                    version.max(6)
                } else {
                    RTM_VERSION
                };
                m[3] = kind;
                m
            },
        )
    }

    /// An RTM_IFINFO (any length from the 28 bytes read to 256) or RTM_IFANNOUNCE, and the
    /// item it must read as.
    fn interface_message() -> impl Strategy<Value = (Vec<u8>, Item)> {
        prop_oneof![
            (28usize..256, any::<u16>(), any::<u32>(), any::<[u8; 256]>()).prop_map(
                |(len, index, mtu, fill)| {
                    let mut m = fill[..len].to_vec();
                    m[0..2].copy_from_slice(&(len as u16).to_ne_bytes());
                    m[2] = RTM_VERSION;
                    m[3] = RTM_IFINFO;
                    m[12..14].copy_from_slice(&index.to_ne_bytes());
                    m[24..28].copy_from_slice(&mtu.to_ne_bytes());
                    (m, Item::Info { index, mtu })
                }
            ),
            (any::<u16>(), "[a-z][a-z0-9]{0,14}", any::<bool>()).prop_map(
                |(index, name, arrival)| {
                    let mut m = vec![0u8; ANNOUNCE_LEN];
                    m[0..2].copy_from_slice(&(ANNOUNCE_LEN as u16).to_ne_bytes());
                    m[2] = RTM_VERSION;
                    m[3] = RTM_IFANNOUNCE;
                    m[4..6].copy_from_slice(&index.to_ne_bytes());
                    m[6..6 + name.len()].copy_from_slice(name.as_bytes());
                    let what = if arrival {
                        IFAN_ARRIVAL
                    } else {
                        IFAN_DEPARTURE
                    };
                    m[22..24].copy_from_slice(&what.to_ne_bytes());
                    let item = if arrival {
                        Item::Arrival {
                            index,
                            name: heapless::String::try_from(name.as_str()).ok(),
                        }
                    } else {
                        Item::Departure { index }
                    };
                    (m, item)
                }
            ),
        ]
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

        // Interface messages among others, in any order, read back as themselves.
        #[test]
        fn generated_messages_read_back(
            parts in vec((interface_message(), vec(other_message(), 0..3)), 1..5)
        ) {
            let mut read = Vec::new();
            let mut expected = Vec::new();
            for ((bytes, item), others) in parts {
                for other in others {
                    read.extend_from_slice(&other);
                    expected.push(Item::Other);
                }
                read.extend_from_slice(&bytes);
                expected.push(item);
            }
            prop_assert_eq!(messages(&read).collect::<Vec<_>>(), expected);
        }

        // Cut anywhere, an interface message is never misread: it reads as malformed.
        #[test]
        fn generated_message_cut_anywhere_is_malformed((bytes, _) in interface_message()) {
            for len in 1..bytes.len() {
                prop_assert_eq!(
                    messages(&bytes[..len]).collect::<Vec<_>>(),
                    vec![Item::Malformed],
                    "cut at {}",
                    len
                );
            }
        }

        // The divert address: outbound exactly when INADDR_ANY, whatever port and name.
        #[test]
        fn divert_direction_is_the_address(
            port in any::<[u8; 2]>(), addr in any::<[u8; 4]>(), zero in any::<[u8; 8]>()
        ) {
            let mut sin = vec![16u8, 2];
            sin.extend_from_slice(&port);
            sin.extend_from_slice(&addr);
            sin.extend_from_slice(&zero);
            let expected = if addr == [0; 4] {
                super::super::divert::Direction::Outbound
            } else {
                super::super::divert::Direction::Inbound
            };
            prop_assert_eq!(super::super::divert::direction(&sin), Ok(expected));
        }
    }

    // Found by the fuzz target freebsd_messages: an RTM_IFANNOUNCE whose length (16) is too
    // short for its type, followed by more bytes; the walk used to go on after it.
    #[test]
    fn a_message_short_for_its_type_ends_the_walk() {
        #[rustfmt::skip]
        let buf: [u8; 24] = cat(&[
            &16u16.to_ne_bytes(), // msglen 16 (host byte order)
            &[0x05, 0x11],        // RTM_VERSION, RTM_IFANNOUNCE
            &5u16.to_ne_bytes(),  // index 5
            &[b't', b'u', b'n', 0, 0, 0, 0, 0, 0, 0],
            &[0x00, b'n', b'0', 0x00, 0x00, 0x00, 0x00, 0x00], // what would be a second message
        ]);
        assert_eq!(messages(&buf).collect::<Vec<_>>(), [Item::Malformed]);
    }
}
