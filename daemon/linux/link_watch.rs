//! `-i` on Linux: the interface's MTU read at start (`SIOCGIFMTU`) and followed through
//! rtnetlink link notifications (RTM_NEWLINK carries IFLA_MTU; rtnetlink(7)).
//!
//! Message layouts are in `link_messages.rs`. A lost notification (the socket overflowed) or a
//! message that could not be read is answered by reading the MTU again, so the limit never
//! stays wrong.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use super::link_messages::{self, Item, LinkKind};
use crate::exit::{Fatal, EX_OSERR};
use crate::follow::{Notice, Notices, Watch};
use crate::sys::linux::netlink::Socket;

/// Follows one interface's MTU through rtnetlink.
pub type LinkWatch = Watch<Links>;

/// An rtnetlink socket subscribed to link changes.
pub struct Links(Socket);

impl AsFd for Links {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl Notices for Links {
    const READING: &'static str = "reading link changes";

    fn open() -> Result<Links, Fatal> {
        let socket = Socket::open(libc::NETLINK_ROUTE)
            .map_err(|e| Fatal::os(EX_OSERR, "can't open rtnetlink socket", &e))?;
        socket
            .bind(link_messages::GROUP_LINK)
            .map_err(|e| Fatal::os(EX_OSERR, "can't bind rtnetlink socket", &e))?;
        Ok(Links(socket))
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, bool)>> {
        let received = self.0.recv(buf, true)?;
        // Link notifications come from the kernel only; another process could forge one.
        Ok(Some((received.len, received.truncated)).filter(|_| received.from_kernel))
    }

    fn notices(datagram: &[u8], mut notice: impl FnMut(Notice<'_>)) {
        for item in link_messages::messages(datagram) {
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
