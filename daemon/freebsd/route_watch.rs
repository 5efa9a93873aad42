//! `-i` on FreeBSD: the interface's MTU read at start (`SIOCGIFMTU`) and followed through the
//! routing socket (RTM_IFINFO after every MTU change, RTM_IFANNOUNCE when interfaces come and
//! go; route(4)). Message layouts are in `route_messages.rs`; a lost or cut message is answered by
//! reading the MTU again.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use super::route_messages::{self, Item};
use crate::exit::{Fatal, EX_OSERR};
use crate::follow::{Notice, Notices, Watch};
use crate::sys::freebsd::route::Socket;

/// Receive buffer asked for the routing socket.
const RECEIVE_BUFFER_LEN: usize = 256 * 1024;

/// Follows one interface's MTU through a PF_ROUTE socket.
pub type RouteWatch = Watch<Routes>;

/// A routing socket: it hears of every interface and route change.
pub struct Routes(Socket);

impl AsFd for Routes {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl Notices for Routes {
    const READING: &'static str = "reading the routing socket";

    fn open() -> Result<Routes, Fatal> {
        let socket =
            Socket::open().map_err(|e| Fatal::os(EX_OSERR, "can't open routing socket", &e))?;
        // Every route change on the system comes through this socket too; a larger buffer
        // keeps a burst of them from crowding out an RTM_IFINFO. Best effort: a lost message
        // is caught by the next re-read (overflow, SIGHUP).
        let _ = crate::sys::freebsd::set_receive_buffer(socket.as_fd(), RECEIVE_BUFFER_LEN);
        Ok(Routes(socket))
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, bool)>> {
        // Only the kernel writes to a routing socket's readers.
        let received = self.0.recv(buf)?;
        Ok(Some((received.len, received.truncated)))
    }

    fn notices(datagram: &[u8], mut notice: impl FnMut(Notice<'_>)) {
        for item in route_messages::messages(datagram) {
            match item {
                Item::Info { index, mtu } => notice(Notice::Present {
                    index: u32::from(index),
                    name: None,
                    mtu: Some(mtu),
                }),
                Item::Arrival { index, name } => notice(Notice::Present {
                    index: u32::from(index),
                    name: name.as_deref(),
                    mtu: None,
                }),
                Item::Departure { index } => notice(Notice::Gone {
                    index: u32::from(index),
                }),
                Item::Malformed => notice(Notice::Unreadable),
                Item::Other => {}
            }
        }
    }
}
