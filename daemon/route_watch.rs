//! `-i` on FreeBSD: the interface's MTU read at start (`SIOCGIFMTU`) and followed through the
//! routing socket (RTM_IFINFO after every MTU change, RTM_IFANNOUNCE when interfaces come and
//! go; route(4)). Message layouts are in `route.rs`; a lost or cut message is answered by
//! reading the MTU again.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use crate::cli::EX_OSERR;
use crate::follow::Followed;
use crate::log::{Log, OsError};
use crate::route::{self, Item};
use crate::run::{Fatal, MtuWatch};
use crate::sys::route::{self as sys_route, Socket};

/// Receive buffer asked for the routing socket.
const RECEIVE_BUFFER_LEN: usize = 256 * 1024;

/// Reads per wake-up at most; the rest wait for the next one.
const READS_PER_WAKE: usize = 32;

/// Follows one interface's MTU through a PF_ROUTE socket.
pub struct RouteWatch {
    socket: Socket,
    followed: Followed,
}

/// Looks `name` up: its index and MTU.
fn look_up(name: &str) -> io::Result<(u32, u32)> {
    let index = sys_route::interface_index(name)?;
    Ok((u32::from(index), sys_route::interface_mtu(name)?))
}

impl MtuWatch for RouteWatch {
    fn open(interface: &str) -> Result<(RouteWatch, u32), Fatal> {
        // Opened before the MTU is read, so that no change falls between the two.
        let socket =
            Socket::open().map_err(|e| Fatal::os(EX_OSERR, "can't open routing socket", &e))?;
        // Every route change on the system comes through this socket too; a larger buffer
        // keeps a burst of them from crowding out an RTM_IFINFO. Best effort: a lost message
        // is caught by the next re-read (overflow, SIGHUP).
        let _ = crate::sys::set_receive_buffer(socket.as_fd(), RECEIVE_BUFFER_LEN);
        let followed = Followed::start(interface, look_up(interface))?;
        let mtu = followed.mtu();
        Ok((RouteWatch { socket, followed }, mtu))
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    fn read(&mut self, buf: &mut [u8], log: &mut Log) -> Option<u32> {
        let mut latest = None;
        let mut resync = false;
        for _ in 0..READS_PER_WAKE {
            let received = match self.socket.recv(buf) {
                Ok(received) => received,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                // The socket overflowed and messages were lost (route(4)).
                Err(error) if error.raw_os_error() == Some(libc::ENOBUFS) => {
                    resync = true;
                    continue;
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => break,
                Err(error) => {
                    log.warn(format_args!(
                        "{}: reading the routing socket: {}",
                        self.followed.name(),
                        OsError(&error)
                    ));
                    resync = true;
                    break;
                }
            };
            resync |= received.truncated;
            for item in route::messages(buf.get(..received.len).unwrap_or_default()) {
                match item {
                    Item::Info { index, mtu } => {
                        if let Some(mtu) = self.followed.reported(u32::from(index), Some(mtu)) {
                            latest = Some(mtu);
                        }
                    }
                    Item::Departure { index } => self.followed.departed(u32::from(index), log),
                    Item::Arrival { index, name } => {
                        if self
                            .followed
                            .arrived(u32::from(index), name.as_deref(), log)
                        {
                            latest = sys_route::interface_mtu(self.followed.name()).ok();
                        }
                    }
                    Item::Malformed => resync = true,
                    Item::Other => {}
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
