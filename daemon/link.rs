//! `-i` on Linux: the interface's MTU read at start (`SIOCGIFMTU`) and followed through
//! rtnetlink link notifications (RTM_NEWLINK carries IFLA_MTU; rtnetlink(7)).
//!
//! Message layouts are in `mtu.rs`. A lost notification (the socket overflowed) or a message
//! that could not be read is answered by reading the MTU again, so the limit never stays wrong.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use crate::cli::EX_OSERR;
use crate::follow::Followed;
use crate::log::{Log, OsError};
use crate::mtu::{self, Item, LinkEvent, LinkKind};
use crate::run::{Fatal, MtuWatch};
use crate::sys::netlink::{self, Socket};

/// Datagrams read per wake-up at most; the rest wait for the next one.
const READS_PER_WAKE: usize = 32;

/// Follows one interface's MTU through rtnetlink.
pub struct LinkWatch {
    socket: Socket,
    followed: Followed,
}

/// Looks `name` up: its index and MTU.
fn look_up(name: &str) -> io::Result<(u32, u32)> {
    let index = netlink::interface_index(name)?;
    let index = u32::try_from(index).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    Ok((index, netlink::interface_mtu(name)?))
}

impl MtuWatch for LinkWatch {
    fn open(interface: &str) -> Result<(LinkWatch, u32), Fatal> {
        // Subscribed before the MTU is read, so that no change falls between the two.
        let socket = Socket::open(libc::NETLINK_ROUTE)
            .map_err(|e| Fatal::os(EX_OSERR, "can't open rtnetlink socket", &e))?;
        socket
            .bind(mtu::GROUP_LINK)
            .map_err(|e| Fatal::os(EX_OSERR, "can't bind rtnetlink socket", &e))?;
        let followed = Followed::start(interface, look_up(interface))?;
        let mtu = followed.mtu();
        Ok((LinkWatch { socket, followed }, mtu))
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    fn read(&mut self, buf: &mut [u8], log: &mut Log) -> Option<u32> {
        let mut latest = None;
        let mut resync = false;
        for _ in 0..READS_PER_WAKE {
            let received = match self.socket.recv(buf, true) {
                Ok(received) => received,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                // The kernel dropped notifications for us (netlink(7) ENOBUFS).
                Err(error) if error.raw_os_error() == Some(libc::ENOBUFS) => {
                    resync = true;
                    continue;
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => break,
                Err(error) => {
                    log.warn(format_args!(
                        "{}: reading link changes: {}",
                        self.followed.name(),
                        OsError(&error)
                    ));
                    resync = true;
                    break;
                }
            };
            // Link notifications come from the kernel only; another process could forge one.
            if !received.from_kernel {
                continue;
            }
            resync |= received.truncated;
            for item in mtu::messages(buf.get(..received.len).unwrap_or_default()) {
                match item {
                    Item::Link(event) => {
                        if let Some(mtu) = self.follow(&event, log) {
                            latest = Some(mtu);
                        }
                    }
                    Item::Malformed(_) => resync = true,
                    Item::Error { .. } | Item::Other => {}
                }
            }
        }
        if resync {
            latest = self
                .followed
                .looked_up(look_up(self.followed.name()))
                .or(latest);
        }
        self.followed.update(latest)
    }

    fn reread(&mut self, log: &mut Log) -> Option<u32> {
        let found = look_up(self.followed.name());
        self.followed.reread(found, log)
    }

    fn interface(&self) -> &str {
        self.followed.name()
    }
}

impl LinkWatch {
    /// Handles one link message; returns the MTU it reports for the interface followed.
    fn follow(&mut self, event: &LinkEvent, log: &mut Log) -> Option<u32> {
        // Kernel indexes are positive; anything else is no interface of ours.
        let index = u32::try_from(event.index).ok()?;
        match event.kind {
            LinkKind::Deleted => {
                self.followed.departed(index, log);
                None
            }
            LinkKind::New => {
                if self.followed.arrived(index, event.name.as_deref(), log) {
                    return event
                        .mtu
                        .or_else(|| netlink::interface_mtu(self.followed.name()).ok());
                }
                self.followed.reported(index, event.mtu)
            }
        }
    }
}
