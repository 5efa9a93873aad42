//! `-i` on Linux: the interface's MTU read at start (`SIOCGIFMTU`) and followed through
//! rtnetlink link notifications (RTM_NEWLINK carries IFLA_MTU; rtnetlink(7)).
//!
//! Message layouts are in `mtu.rs`. A lost notification (the socket overflowed) or a message
//! that could not be read is answered by reading the MTU again, so the limit never stays wrong.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use crate::cli::{EX_NOINPUT, EX_OSERR, IFNAME_MAX};
use crate::log::{Log, OsError};
use crate::mtu::{self, Item, LinkEvent, LinkKind};
use crate::run::{Fatal, MtuWatch};
use crate::sys::netlink::{self, Socket};

/// Datagrams read per wake-up at most; the rest wait for the next one.
const READS_PER_WAKE: usize = 32;

/// Follows one interface: by index while it exists, by name while it is gone (a re-created
/// interface gets a new index).
pub struct LinkWatch {
    socket: Socket,
    name: heapless::String<IFNAME_MAX>,
    /// The interface's index; `None` while it is gone.
    index: Option<i32>,
    /// The MTU in use: the interface's last known one.
    mtu: u32,
}

impl LinkWatch {
    /// Handles one link message; returns the MTU it reports for the interface followed.
    fn follow(&mut self, event: &LinkEvent, log: &mut Log) -> Option<u32> {
        let ours = Some(event.index) == self.index;
        match event.kind {
            LinkKind::Deleted => {
                if ours {
                    self.index = None;
                    log.warn(format_args!(
                        "{}: interface gone; keeping MTU {}",
                        self.name, self.mtu
                    ));
                }
                None
            }
            LinkKind::New if ours => event.mtu,
            LinkKind::New => {
                let our_name = event.name.as_deref() == Some(self.name.as_str());
                if self.index.is_some() || !our_name {
                    return None;
                }
                self.index = Some(event.index);
                log.info(format_args!(
                    "{}: interface back (index {})",
                    self.name, event.index
                ));
                event
                    .mtu
                    .or_else(|| netlink::interface_mtu(&self.name).ok())
            }
        }
    }

    /// Reads index and MTU by name again, after notifications may have been lost.
    fn resync(&mut self) -> Option<u32> {
        self.index = netlink::interface_index(&self.name).ok();
        self.index?;
        netlink::interface_mtu(&self.name).ok()
    }
}

impl MtuWatch for LinkWatch {
    fn open(interface: &str) -> Result<(LinkWatch, u32), Fatal> {
        let no_such = || {
            Fatal::new(
                EX_NOINPUT,
                format_args!("-i {interface}: no such interface"),
            )
        };
        let name = heapless::String::try_from(interface).map_err(|()| no_such())?;
        // Subscribed before the MTU is read, so that no change falls between the two.
        let socket = Socket::open(libc::NETLINK_ROUTE)
            .map_err(|e| Fatal::os(EX_OSERR, "can't open rtnetlink socket", &e))?;
        socket
            .bind(mtu::GROUP_LINK)
            .map_err(|e| Fatal::os(EX_OSERR, "can't bind rtnetlink socket", &e))?;
        let lookup = |error: io::Error| match error.raw_os_error() {
            Some(libc::ENODEV | libc::ENXIO) => no_such(),
            _ => Fatal::new(
                EX_OSERR,
                format_args!("-i {interface}: {}", OsError(&error)),
            ),
        };
        let index = netlink::interface_index(interface).map_err(lookup)?;
        let mtu = netlink::interface_mtu(interface).map_err(lookup)?;
        let watch = LinkWatch {
            socket,
            name,
            index: Some(index),
            mtu,
        };
        Ok((watch, mtu))
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
                        self.name,
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
            latest = self.resync().or(latest);
        }
        match latest {
            Some(mtu) if mtu != self.mtu => {
                self.mtu = mtu;
                Some(mtu)
            }
            _ => None,
        }
    }

    fn reread(&mut self, log: &mut Log) -> Option<u32> {
        let looked_up = netlink::interface_index(&self.name)
            .and_then(|index| Ok((index, netlink::interface_mtu(&self.name)?)));
        match looked_up {
            Ok((index, mtu)) => {
                self.index = Some(index);
                self.mtu = mtu;
                Some(mtu)
            }
            Err(error) => {
                log.warn(format_args!(
                    "{}: {}; keeping MTU {}",
                    self.name,
                    OsError(&error),
                    self.mtu
                ));
                None
            }
        }
    }

    fn interface(&self) -> &str {
        &self.name
    }
}
