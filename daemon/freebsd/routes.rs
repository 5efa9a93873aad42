//! `-i` on FreeBSD: the interface's MTU read at start (`SIOCGIFMTU`) and followed through the
//! routing socket (RTM_IFINFO after every MTU change, RTM_IFANNOUNCE when interfaces come and
//! go; route(4)). Message layouts are in tcpmssd-wire's `route.rs`; a lost or cut message is
//! answered by reading the MTU again.
//!
//! Two ways a message is lost, both in sys/net/rtsock.c: `rts_append_data()` drops it when
//! the socket's buffer is full (`soroverflow()`: an `ENOBUFS` only with `SO_RERROR`, which is
//! set), and `rt_dispatch()` drops it when the netisr queue is full (`netisr_queue()`,
//! `net.route.netisr_maxqlen`) without telling any socket; for that one the MTU is also read
//! again every [`REREAD_EVERY`].
//!
//! The socket calls go through [`RouteSocket`], so that the watch runs in the tests below on
//! any OS against a double that behaves as FreeBSD's routing socket.

use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use tcpmssd_wire::route::{self, Item};

use crate::exit::{Fatal, EX_OSERR};
use crate::mtu::{LinkEvents, Notice};
use crate::sys::errno::SysResult;
use crate::sys::interface;

/// Receive buffer asked for the routing socket (the default, `net.rtsock.recvspace`, is
/// 8 KiB: 48 RTM_IFINFO messages of 168 bytes, a burst of route changes fills it).
const RECEIVE_BUFFER_LEN: usize = 256 * 1024;

/// How often the MTU is read again without a message: bounds how long a message lost in the
/// netisr queue leaves the limits stale. One `if_nametoindex` and one ioctl each time.
const REREAD_EVERY: Duration = Duration::from_secs(60);

/// The calls the watch makes on its routing socket (`sys/freebsd/route.rs` on FreeBSD, a double
/// in the tests) and about interfaces.
pub trait RouteSocket: AsFd + Sized {
    /// Opens a PF_ROUTE socket that hears of every address family.
    fn open() -> SysResult<Self>;
    /// Asks for a receive buffer of `len` bytes (`SO_RCVBUF`).
    fn set_receive_buffer(&self, len: usize) -> SysResult<()>;
    /// Asks for receive-buffer overflows to be reported as `ENOBUFS` (`SO_RERROR`).
    fn report_overflows(&self) -> SysResult<()>;
    /// Receives one datagram without blocking; returns the bytes copied into `buf` (a longer
    /// one is cut to it).
    fn recv(&self, buf: &mut [u8]) -> SysResult<usize>;

    /// Looks interface `name` up: its index and MTU.
    fn look_up(name: &str) -> SysResult<(u32, u32)> {
        Ok((interface::index(name)?, interface::mtu(name)?))
    }

    /// Reads interface `name`'s MTU.
    fn mtu(name: &str) -> SysResult<u32> {
        interface::mtu(name)
    }
}

/// A routing socket: it hears of every interface and route change.
pub struct Routes<S>(S);

impl<S: RouteSocket> AsFd for Routes<S> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl<S: RouteSocket> LinkEvents for Routes<S> {
    const READING: &'static str = "reading the routing socket";
    const REREAD_EVERY: Option<Duration> = Some(REREAD_EVERY);

    fn open() -> Result<Routes<S>, Fatal> {
        let socket = S::open().map_err(|e| Fatal::os(EX_OSERR, "can't open routing socket", &e))?;
        // Every route change on the system comes through this socket too; a larger buffer
        // keeps a burst of them from crowding out an RTM_IFINFO. SO_RERROR makes an overflow
        // an ENOBUFS, answered by reading the MTU again. Both best effort: the periodic
        // re-read catches what they miss.
        let _ = socket.set_receive_buffer(RECEIVE_BUFFER_LEN);
        let _ = socket.report_overflows();
        Ok(Routes(socket))
    }

    fn recv(&self, buf: &mut [u8]) -> SysResult<Option<(usize, bool)>> {
        // Only the kernel writes to a routing socket's readers.
        let len = self.0.recv(buf)?;
        Ok(Some((len, len >= buf.len())))
    }

    fn notices(datagram: &[u8], mut notice: impl FnMut(Notice<'_>)) {
        for item in route::messages(datagram) {
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

    fn look_up(name: &str) -> SysResult<(u32, u32)> {
        S::look_up(name)
    }

    fn mtu(name: &str) -> SysResult<u32> {
        S::mtu(name)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    //! The watch against [`Rtsock`], a double of FreeBSD 14's routing socket (sys/net/rtsock.c,
    //! kern/uipc_sockbuf.c, kern/uipc_socket.c); messages laid out as amd64 lays them out
    //! (host byte order), so these tests run on little-endian hosts only.

    use super::*;
    use crate::freebsd::divert::tests::SYN_V4;
    use crate::log::Log;
    use crate::mtu::MtuWatch;
    use crate::run::{Event, Handler};
    use crate::sys::clock::Moment;
    use crate::sys::errno::Errno;
    use std::cell::RefCell;
    use std::collections::VecDeque;

    /// `net.rtsock.recvspace` (rtsock.c `rts_recvspace`): the buffer `rts_attach()` reserves.
    const RTS_RECVSPACE: usize = 8192;
    /// sa_len of `route_src`, the address `rts_append_data()` queues with every message
    /// (rtsock.c: `{ .sa_len = 2, .sa_family = PF_ROUTE }`); sbappendaddr() charges it.
    const ROUTE_SRC_LEN: usize = 2;

    /// The routing socket and the interfaces, per test thread.
    struct Kernel {
        /// name, index, MTU.
        interfaces: Vec<(&'static str, u16, u32)>,
        hiwat: usize,
        rerror_option: bool,
        rerror: bool,
        queue: VecDeque<Vec<u8>>,
        queued: usize,
        look_ups: usize,
    }

    thread_local! {
        static KERNEL: RefCell<Kernel> = RefCell::new(Kernel {
            interfaces: vec![("em0", 1, 1500), ("ng0", 2, 1492)],
            hiwat: RTS_RECVSPACE,
            rerror_option: false,
            rerror: false,
            queue: VecDeque::new(),
            queued: 0,
            look_ups: 0,
        });
    }

    /// `rt_ifmsg()`: the RTM_IFINFO after `ifconfig <index> mtu <mtu>`, a 168-byte if_msghdr
    /// (sys/net/if.h, amd64) with ifm_index at 12 and if_data's ifi_mtu at 24; the wider fields
    /// in host byte order, as the kernel writes them.
    fn rtm_ifinfo(index: u16, mtu: u32) -> Vec<u8> {
        let mut m = vec![0u8; 168];
        m[0..2].copy_from_slice(&168u16.to_ne_bytes()); // ifm_msglen
        m[2] = 5; // RTM_VERSION
        m[3] = 0x0e; // RTM_IFINFO
        m[12..14].copy_from_slice(&index.to_ne_bytes()); // ifm_index
        m[22..24].copy_from_slice(&152u16.to_ne_bytes()); // ifi_datalen
        m[24..28].copy_from_slice(&mtu.to_ne_bytes()); // ifi_mtu
        m
    }

    /// The MTU of interface `name` changes to `mtu`; `rt_ifmsg()` reports it, and the message
    /// goes `how`.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Delivery {
        /// rts_input() → rts_append_data(): queued, or dropped on a full buffer.
        Socket,
        /// rt_dispatch() → netisr_queue() failed: dropped before any socket sees it.
        NetisrDrop,
    }

    /// `ifconfig <name> create` (a cloned tun, ng or wg interface): `if_attach_internal()`
    /// announces it with `rt_ifannouncemsg(ifp, IFAN_ARRIVAL)`, a 24-byte if_announcemsghdr
    /// (sys/net/if.h) that names it but carries no MTU; the message goes `how`.
    fn create(name: &'static str, index: u16, mtu: u32, how: Delivery) {
        let mut m = vec![0u8; 24];
        m[0..2].copy_from_slice(&24u16.to_le_bytes()); // ifan_msglen
        m[2] = 5; // RTM_VERSION
        m[3] = 0x11; // RTM_IFANNOUNCE
        m[4..6].copy_from_slice(&index.to_le_bytes()); // ifan_index
        m[6..6 + name.len()].copy_from_slice(name.as_bytes()); // ifan_name, NUL-padded
        m[22..24].copy_from_slice(&0u16.to_le_bytes()); // ifan_what IFAN_ARRIVAL
        KERNEL.with_borrow_mut(|k| {
            k.interfaces.push((name, index, mtu));
            if how == Delivery::Socket {
                k.append(m);
            }
        });
    }

    fn set_mtu(name: &str, mtu: u32, how: Delivery) {
        KERNEL.with_borrow_mut(|k| {
            let entry = k.interfaces.iter_mut().find(|i| i.0 == name).unwrap();
            entry.2 = mtu;
            let message = rtm_ifinfo(entry.1, mtu);
            if how == Delivery::Socket {
                k.append(message);
            }
        });
    }

    impl Kernel {
        /// rts_append_data(): sbappendaddr() or soroverflow().
        fn append(&mut self, message: Vec<u8>) -> bool {
            let space = ROUTE_SRC_LEN + message.len();
            if self.queued + space > self.hiwat {
                if self.rerror_option {
                    self.rerror = true;
                }
                return false;
            }
            self.queued += space;
            self.queue.push_back(message);
            true
        }
    }

    struct Rtsock(std::fs::File);

    impl AsFd for Rtsock {
        fn as_fd(&self) -> BorrowedFd<'_> {
            self.0.as_fd()
        }
    }

    impl RouteSocket for Rtsock {
        fn open() -> SysResult<Rtsock> {
            Ok(Rtsock(std::fs::File::open("/dev/null")?))
        }

        fn set_receive_buffer(&self, len: usize) -> SysResult<()> {
            KERNEL.with_borrow_mut(|k| k.hiwat = len);
            Ok(())
        }

        fn report_overflows(&self) -> SysResult<()> {
            KERNEL.with_borrow_mut(|k| k.rerror_option = true);
            Ok(())
        }

        fn recv(&self, buf: &mut [u8]) -> SysResult<usize> {
            KERNEL.with_borrow_mut(|k| match k.queue.pop_front() {
                Some(message) => {
                    k.queued -= ROUTE_SRC_LEN + message.len();
                    let copied = message.len().min(buf.len());
                    buf[..copied].copy_from_slice(&message[..copied]);
                    Ok(copied)
                }
                // soreceive_generic(): so_rerror once the buffer is read empty.
                None if k.rerror => {
                    k.rerror = false;
                    Err(Errno(libc::ENOBUFS))
                }
                None => Err(Errno(libc::EAGAIN)),
            })
        }

        fn look_up(name: &str) -> SysResult<(u32, u32)> {
            KERNEL.with_borrow_mut(|k| {
                k.look_ups += 1;
                k.interfaces
                    .iter()
                    .find(|i| i.0 == name)
                    .map(|i| (u32::from(i.1), i.2))
                    .ok_or(Errno(libc::ENXIO))
            })
        }

        fn mtu(name: &str) -> SysResult<u32> {
            Self::look_up(name).map(|found| found.1)
        }
    }

    fn watch() -> MtuWatch<Routes<Rtsock>> {
        let (watch, mtu) =
            MtuWatch::<Routes<Rtsock>>::open("ng0").unwrap_or_else(|f| panic!("{}", f.line));
        assert_eq!(mtu, Some(1492));
        watch
    }

    fn look_ups() -> usize {
        KERNEL.with_borrow(|k| k.look_ups)
    }

    #[test]
    fn rtm_ifinfo_for_the_interface_changes_the_mtu_others_do_not() {
        let mut watch = watch();
        let mut log = Log::stderr();
        let mut buf = vec![0u8; 2048];
        set_mtu("em0", 9000, Delivery::Socket);
        assert_eq!(watch.read(&mut buf, &mut log), None, "another interface");
        set_mtu("ng0", 1400, Delivery::Socket);
        assert_eq!(watch.read(&mut buf, &mut log), Some(1400));
        assert_eq!(
            look_ups(),
            1,
            "the message said it: no look-up but the first"
        );
    }

    /// A burst of messages fills the buffer and ng0's RTM_IFINFO is dropped: SO_RERROR,
    /// set at open, turns the loss into ENOBUFS, and the MTU is read again.
    #[test]
    fn a_message_lost_to_a_full_buffer_is_reported_and_the_mtu_read_again() {
        let mut watch = watch();
        assert!(
            KERNEL.with_borrow(|k| k.rerror_option),
            "SO_RERROR set at open"
        );
        assert_eq!(KERNEL.with_borrow(|k| k.hiwat), RECEIVE_BUFFER_LEN);
        let mut log = Log::stderr();
        let mut buf = vec![0u8; 2048];
        while KERNEL.with_borrow_mut(|k| k.append(rtm_ifinfo(1, 1500))) {}
        set_mtu("ng0", 1400, Delivery::Socket);
        assert!(
            KERNEL.with_borrow(|k| k.rerror),
            "the RTM_IFINFO was dropped"
        );
        let mut seen = None;
        for _ in 0..RECEIVE_BUFFER_LEN / 170 / 32 + 2 {
            seen = seen.or(watch.read(&mut buf, &mut log));
        }
        assert_eq!(seen, Some(1400), "the lost change was found by a look-up");
    }

    /// rt_dispatch() lost the message in the netisr queue: no socket hears of it; the
    /// periodic re-read finds the change, and only once its time has come.
    #[test]
    fn a_message_lost_in_the_netisr_queue_is_caught_by_the_periodic_reread() {
        let before = Moment::now();
        let mut watch = watch();
        let opened = Moment::now();
        let mut log = Log::stderr();
        let mut buf = vec![0u8; 2048];
        let due = watch.next_check().expect("a periodic re-read is scheduled");
        assert!(due >= before + REREAD_EVERY && due <= opened + REREAD_EVERY);
        set_mtu("ng0", 1400, Delivery::NetisrDrop);
        assert_eq!(watch.read(&mut buf, &mut log), None, "nothing arrived");
        assert_eq!(watch.check(opened, &mut log), None, "not due yet");
        let later = opened + REREAD_EVERY + Duration::from_secs(1);
        assert_eq!(watch.check(later, &mut log), Some(1400));
        assert!(watch.next_check().unwrap() >= later + REREAD_EVERY);
        assert_eq!(watch.check(later, &mut log), None, "rescheduled");
        // Due again, unchanged: no new MTU to report.
        let much_later = later + REREAD_EVERY + Duration::from_secs(1);
        assert_eq!(watch.check(much_later, &mut log), None);
    }

    /// A datagram cut by the buffer may have held the change: the MTU is read again.
    #[test]
    fn a_cut_rtm_ifinfo_means_reading_the_mtu_again() {
        let mut watch = watch();
        let mut log = Log::stderr();
        let mut buf = vec![0u8; 100];
        set_mtu("ng0", 1300, Delivery::Socket);
        let before = look_ups();
        assert_eq!(watch.read(&mut buf, &mut log), Some(1300));
        assert_eq!(look_ups(), before + 1);
    }

    /// `-i tun0` before tun0 exists (a VPN whose device is created once it connects): the
    /// daemon starts without an MTU, and a SYN passes unchanged, counted as `no-interface`;
    /// `ifconfig tun0 create` announces it (RTM_IFANNOUNCE, no MTU in it), the watch reads its
    /// MTU, and the next SYN is clamped to it.
    #[cfg(target_endian = "little")]
    #[test]
    fn an_interface_created_after_start_is_waited_for_then_clamped_to() {
        let (mut watch, mtu) =
            MtuWatch::<Routes<Rtsock>>::open("tun0").unwrap_or_else(|f| panic!("{}", f.line));
        assert_eq!(mtu, None, "tun0 does not exist yet");
        let mut handler = Handler::new(None, false, false, Log::stderr());
        let mut syn = SYN_V4;
        assert!(
            !handler.packet(&mut syn, true),
            "no MTU: nothing to clamp to"
        );
        assert_eq!(syn, SYN_V4, "passed byte for byte");
        assert_eq!(handler.counters().events(Event::NoInterface), 1);

        let mut buf = vec![0u8; 2048];
        let mut log = Log::stderr();
        set_mtu("em0", 9000, Delivery::Socket);
        assert_eq!(watch.read(&mut buf, &mut log), None, "another interface");
        create("tun0", 7, 1420, Delivery::Socket);
        let mtu = watch
            .read(&mut buf, &mut log)
            .expect("tun0's MTU, read on arrival");
        assert_eq!(mtu, 1420);
        handler.set_mtu(watch.interface(), mtu);
        assert!(handler.packet(&mut syn, true));
        assert_eq!(
            u16::from_be_bytes([syn[42], syn[43]]),
            1380,
            "MSS 1460 -> 1420 - 40"
        );
        assert_eq!(handler.counters().events(Event::NoInterface), 1);
        // From now on it is followed by index, as any interface.
        set_mtu("tun0", 1400, Delivery::Socket);
        assert_eq!(watch.read(&mut buf, &mut log), Some(1400));
    }

    /// The announcement of the awaited interface lost in the netisr queue: the periodic
    /// re-read finds the interface and its MTU.
    #[test]
    fn an_arrival_lost_in_the_netisr_queue_is_caught_by_the_periodic_reread() {
        let (mut watch, mtu) =
            MtuWatch::<Routes<Rtsock>>::open("wg0").unwrap_or_else(|f| panic!("{}", f.line));
        assert_eq!(mtu, None);
        let opened = Moment::now();
        let mut log = Log::stderr();
        let mut buf = vec![0u8; 2048];
        create("wg0", 8, 1420, Delivery::NetisrDrop);
        assert_eq!(watch.read(&mut buf, &mut log), None, "nothing arrived");
        let later = opened + REREAD_EVERY + Duration::from_secs(1);
        assert_eq!(watch.check(later, &mut log), Some(1420));
    }
}
