//! `-i` on Linux: the interface's MTU read at start (`SIOCGIFMTU`) and followed through
//! rtnetlink link notifications (RTM_NEWLINK carries IFLA_MTU; rtnetlink(7)).
//!
//! Message layouts are in tcpmssd-wire's `rtnetlink.rs`. A lost notification (the socket overflowed) or a
//! message that could not be read is answered by reading the MTU again, so the limit never
//! stays wrong.

use std::os::fd::{AsFd, BorrowedFd};

use tcpmssd_wire::rtnetlink::{self, Item, LinkKind};

use crate::exit::{Fatal, EX_OSERR};
use crate::mtu::{LinkEvents, Notice};
use crate::sys::errno::SysResult;
use crate::sys::linux::netlink::Socket;

/// An rtnetlink socket subscribed to link changes.
pub struct Links(Socket);

impl AsFd for Links {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl LinkEvents for Links {
    const READING: &'static str = "reading link changes";

    fn open() -> Result<Links, Fatal> {
        let socket = Socket::open(libc::NETLINK_ROUTE)
            .map_err(|e| Fatal::os(EX_OSERR, "can't open rtnetlink socket", &e))?;
        socket
            .bind(rtnetlink::GROUP_LINK)
            .map_err(|e| Fatal::os(EX_OSERR, "can't bind rtnetlink socket", &e))?;
        Ok(Links(socket))
    }

    /// The kernel's `dev_valid_name()` (net/core/dev.c) refuses, beyond what the command line
    /// refuses: "." and "..", ':' and byte 0xA0, which its `isspace()` counts as white space
    /// (lib/ctype.c). SIOCGIFMTU would answer for "eth0:1" as for eth0 (dev_ioctl() cuts the
    /// name at ':'), but no link notification ever carries that name.
    fn impossible_name(name: &str) -> Option<&'static str> {
        if name == "." || name == ".." {
            Some("Linux names no interface \".\" or \"..\"")
        } else if name.contains(':') {
            Some("':' marks an address label on Linux; name the interface itself")
        } else if name.as_bytes().contains(&0xa0) {
            Some("Linux takes byte 0xA0 for white space in interface names")
        } else {
            None
        }
    }

    fn recv(&self, buf: &mut [u8]) -> SysResult<Option<(usize, bool)>> {
        let received = self.0.recv(buf, true)?;
        // Link notifications come from the kernel only; another process could forge one.
        Ok(Some((received.len, received.truncated)).filter(|_| received.from_kernel))
    }

    fn notices(datagram: &[u8], mut notice: impl FnMut(Notice<'_>)) {
        for item in rtnetlink::messages(datagram) {
            match item {
                Item::Link(event) => {
                    // Kernel indexes are positive; anything else is no interface of ours.
                    let Ok(index) = u32::try_from(event.index) else {
                        continue;
                    };
                    notice(match event.kind {
                        LinkKind::Deleted => Notice::Gone { index },
                        LinkKind::New => Notice::Present {
                            index,
                            name: event.name.as_deref(),
                            mtu: event.mtu,
                        },
                    });
                }
                Item::Malformed(_) => notice(Notice::Unreadable),
                Item::Error { .. } | Item::Other => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tcpmssd_wire::rtnetlink::{get_link_request, messages, Item, LinkKind};

    use super::Links;
    use crate::mtu::LinkEvents;

    use crate::sys::interface;
    use crate::sys::linux::netlink::Socket;

    // The kernel itself: rtnetlink GETLINK needs no privilege. Loopback is index 1.
    #[test]
    fn kernel_answers_getlink_for_loopback() {
        let sock = Socket::open(libc::NETLINK_ROUTE).unwrap();
        sock.bind(0).unwrap();
        sock.send(&get_link_request(1, 5)).unwrap();
        let mut buf = [0u8; 16384];
        let mut seen_link = None;
        let mut acked = false;
        while !acked {
            let got = sock.recv(&mut buf, false).unwrap();
            assert!(!got.truncated);
            for item in messages(&buf[..got.len]) {
                match item {
                    Item::Link(event) => seen_link = Some(event),
                    Item::Error { errno: 0, seq: 5 } => acked = true,
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        let lo = seen_link.unwrap();
        assert_eq!((lo.kind, lo.index), (LinkKind::New, 1));
        assert_eq!(lo.name.as_deref(), Some("lo"));
        assert_eq!(lo.mtu, Some(interface::mtu("lo").unwrap()));
        // An index no interface has.
        sock.send(&get_link_request(i32::MAX, 6)).unwrap();
        let got = sock.recv(&mut buf, false).unwrap();
        assert_eq!(
            messages(&buf[..got.len]).next(),
            Some(Item::Error {
                errno: libc::ENODEV,
                seq: 6
            })
        );
    }

    /// What `ip link add NAME type veth ...` refuses with EINVAL (checked by hand on Linux
    /// 6.x), and what it takes.
    #[test]
    fn names_the_kernel_refuses_are_impossible_others_are_not() {
        for name in [".", "..", "eth0:1", ":", "a\u{e0}"] {
            assert!(Links::impossible_name(name).is_some(), "{name:?}");
        }
        for name in [
            "ppp0",
            "pppoe-wan",
            "wg0",
            "...",
            "a.b",
            "a\u{e1}",
            "eth0.1",
        ] {
            assert_eq!(Links::impossible_name(name), None, "{name:?}");
        }
    }
}
