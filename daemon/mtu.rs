//! `-i`: the interface's MTU, read at start and followed: by index while the interface exists,
//! by name while it is gone, because a re-created interface gets a new index. The last MTU
//! stays in use while it is gone. An interface that does not exist yet at start (a PPP or VPN
//! link that appears once it is up) is waited for the same way: there is no MTU until it
//! appears.
//!
//! Two layers: [`MtuWatch`], the same on every system, and a [`LinkEvents`] socket, what each
//! system hears interface changes on (rtnetlink on Linux, `linux/links.rs`; the routing
//! socket on FreeBSD, `freebsd/routes.rs`).

use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use crate::exit::{fatal, Fatal, EX_NOINPUT, EX_OSERR};
use crate::log::{info, warning, Log};
use crate::sys::clock::Moment;
use crate::sys::errno::SysResult;
use crate::sys::interface::{self, IFNAME_MAX};
use crate::text::{put, Line, Piece};

/// Datagrams read per wake-up at most; the rest wait for the next one.
const READS_PER_WAKE: usize = 32;

/// What a notification says about an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice<'a> {
    /// Interface `index` exists; with its name and MTU where the message carries them.
    Present {
        /// The interface index.
        index: u32,
        /// The interface name.
        name: Option<&'a str>,
        /// The interface MTU.
        mtu: Option<u32>,
    },
    /// Interface `index` is gone.
    Gone {
        /// The interface index.
        index: u32,
    },
    /// A message that could not be read: the MTU is read again, in case it held a change.
    Unreadable,
}

/// A socket that hears of interface changes, and how to ask the system about an interface.
pub trait LinkEvents: AsFd + Sized {
    /// Says what failed in the warning for a failed read ("reading link changes").
    const READING: &'static str;

    /// How often the MTU is read again even without a notification, where the system can
    /// lose one without telling the socket (FreeBSD's netisr queue); `None`: never.
    const REREAD_EVERY: Option<Duration> = None;

    /// Opens the socket, subscribed to interface changes.
    fn open() -> Result<Self, Fatal>;

    /// Returns why `name` can never be an interface's name on this system, if it cannot: such
    /// a name is refused at start rather than waited for. The command line has already refused
    /// what no system allows (see `cli.rs`).
    fn impossible_name(_name: &str) -> Option<&'static str> {
        None
    }

    /// Reads one datagram into `buf`: its length and whether it was cut, or `None` for one
    /// to ignore unread (not from the kernel).
    fn recv(&self, buf: &mut [u8]) -> SysResult<Option<(usize, bool)>>;

    /// Hands what each message of `datagram` says to `notice`.
    fn notices(datagram: &[u8], notice: impl FnMut(Notice<'_>));

    /// Looks interface `name` up: its index and MTU. The same on both systems; a trait
    /// function so that the tests can stand in for the system.
    fn look_up(name: &str) -> SysResult<(u32, u32)> {
        Ok((interface::index(name)?, interface::mtu(name)?))
    }

    /// Reads interface `name`'s MTU.
    fn mtu(name: &str) -> SysResult<u32> {
        interface::mtu(name)
    }
}

/// Follows one interface's MTU through link-event socket `E`.
pub struct MtuWatch<E> {
    socket: E,
    followed: Followed,
    /// When the MTU is next read again unasked ([`LinkEvents::REREAD_EVERY`]).
    reread_at: Option<Moment>,
    /// Notifications may have been lost (an overflow, a cut or unreadable message): the MTU is
    /// read again once the socket has been read empty.
    lost: bool,
}

impl<E: LinkEvents> MtuWatch<E> {
    /// Starts following `interface`; returns the watch and the interface's MTU now, `None`
    /// when it does not exist yet (it is then waited for).
    pub fn open(interface: &str) -> Result<(Self, Option<u32>), Fatal> {
        if let Some(why) = E::impossible_name(interface) {
            return Err(
                fatal!(EX_NOINPUT; "-i ", interface, ": cannot be an interface name: ", why),
            );
        }
        // Subscribed before the MTU is read, so that no change (nor the interface's arrival)
        // falls between the two.
        let socket = E::open()?;
        let followed = Followed::start(interface, E::look_up(interface))?;
        let mtu = followed.mtu();
        let reread_at = E::REREAD_EVERY.map(|every| Moment::now() + every);
        Ok((
            MtuWatch {
                socket,
                followed,
                reread_at,
                lost: false,
            },
            mtu,
        ))
    }

    /// Returns the descriptor to wait on.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// Reads the messages that are ready without blocking; returns the MTU when it changed
    /// (or was read for the first time). The interface going away keeps the last MTU, and says
    /// so in `log`.
    pub fn read(&mut self, buf: &mut [u8], log: &mut Log) -> Option<u32> {
        let mut latest = None;
        let mut drained = false;
        for _ in 0..READS_PER_WAKE {
            let (len, truncated) = match self.socket.recv(buf) {
                Ok(Some(received)) => received,
                Ok(None) => continue,
                Err(error) if error.raw_os_error() == Some(libc::EAGAIN) => {
                    drained = true;
                    break;
                }
                // The socket overflowed and notifications were lost (netlink(7), route(4)).
                Err(error) if error.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.lost = true;
                    continue;
                }
                Err(error) if error.raw_os_error() == Some(libc::EINTR) => break,
                Err(error) => {
                    warning!(log;
                        self.followed.name(),
                        ": ",
                        E::READING,
                        ": ",
                        error
                    );
                    // Nothing more will come from this read: the look-up is all there is.
                    self.lost = true;
                    drained = true;
                    break;
                }
            };
            self.lost |= truncated;
            let followed = &mut self.followed;
            let lost = &mut self.lost;
            E::notices(
                buf.get(..len).unwrap_or_default(),
                |notice| match followed.notice(notice, log, E::mtu) {
                    Some(mtu) => latest = Some(mtu),
                    None => *lost |= notice == Notice::Unreadable,
                },
            );
        }
        // After an overflow the kernel goes on dropping notifications, silently, until the
        // socket's queue is empty again (Linux: netlink_overrun() reports ENOBUFS once and sets
        // NETLINK_S_CONGESTED, which netlink_broadcast_deliver() drops on and netlink_rcv_wake()
        // clears only when a read leaves the queue empty). A look-up made before the socket was
        // read empty can be older than a change dropped after it: under 1,000 MTU changes that
        // kept the last ones from ever being seen. So the MTU is read again only once drained.
        if self.lost && drained {
            self.lost = false;
            latest = self
                .followed
                .looked_up(E::look_up(self.followed.name()))
                .or(latest);
        }
        self.followed.update(latest)
    }

    /// Reads the MTU again (SIGHUP); `None`, logged, when the interface is not there.
    pub fn reread(&mut self, log: &mut Log) -> Option<u32> {
        let found = E::look_up(self.followed.name());
        self.followed.reread(found, log)
    }

    /// Returns the interface's name.
    pub fn interface(&self) -> &str {
        self.followed.name()
    }

    /// Returns the interface's index while it exists. A re-created interface gets a new one
    /// (Linux allocates indexes cyclically, FreeBSD takes the lowest free one only once the
    /// old is gone), which is how the eBPF mode knows to attach again.
    pub fn index(&self) -> Option<u32> {
        self.followed.index
    }

    /// Returns when [`MtuWatch::check`] wants to run, message or not; `None`: never.
    pub fn next_check(&self) -> Option<Moment> {
        self.reread_at
    }

    /// Reads the MTU again if its time has come (a system that can lose notifications
    /// silently); returns it when it changed.
    pub fn check(&mut self, now: Moment, log: &mut Log) -> Option<u32> {
        let (at, every) = self.reread_at.zip(E::REREAD_EVERY)?;
        if now < at {
            return None;
        }
        self.reread_at = Some(now + every);
        let found = self.followed.looked_up(E::look_up(self.followed.name()));
        let changed = self.followed.update(found)?;
        warning!(log;
            self.followed.name(),
            ": MTU ",
            changed,
            " found by the periodic re-read: a notification was lost"
        );
        Some(changed)
    }
}

/// The followed interface: its name, its index while it exists, and the MTU in use (none
/// until the interface has existed).
#[derive(Debug)]
struct Followed {
    name: heapless::String<IFNAME_MAX>,
    index: Option<u32>,
    mtu: Option<u32>,
}

impl Followed {
    /// Starts following `name`: interface `index` with `mtu` when it exists, neither when it
    /// does not yet. `None` for a name longer than an interface name can be.
    fn new(name: &str, found: Option<(u32, u32)>) -> Option<Followed> {
        Some(Followed {
            name: heapless::String::try_from(name).ok()?,
            index: found.map(|(index, _)| index),
            mtu: found.map(|(_, mtu)| mtu),
        })
    }

    /// Starts following `interface` from its first look-up (index and MTU): an interface that
    /// is not there (ENODEV on Linux, ENXIO on FreeBSD) is waited for, any other failure is
    /// `EX_OSERR`.
    fn start(interface: &str, found: SysResult<(u32, u32)>) -> Result<Followed, Fatal> {
        let found = match found {
            Ok(found) => Some(found),
            Err(error) if matches!(error.raw_os_error(), Some(libc::ENODEV | libc::ENXIO)) => None,
            Err(error) => return Err(fatal!(EX_OSERR; "-i ", interface, ": ", error)),
        };
        // The command line allows no longer name; kept as the refusal it would be.
        Followed::new(interface, found).ok_or_else(
            || fatal!(EX_NOINPUT; "-i ", interface, ": cannot be an interface name: too long"),
        )
    }

    /// Returns the interface's name.
    fn name(&self) -> &str {
        &self.name
    }

    /// Returns the MTU in use; `None` until the interface has existed.
    fn mtu(&self) -> Option<u32> {
        self.mtu
    }

    /// Returns true while the interface exists.
    #[cfg(test)]
    pub fn exists(&self) -> bool {
        self.index.is_some()
    }

    /// Returns `mtu` when interface `index` is the one followed.
    fn reported(&self, index: u32, mtu: Option<u32>) -> Option<u32> {
        mtu.filter(|_| self.index == Some(index))
    }

    /// Interface `index` went away: if it is ours, keeps the last MTU and says so.
    fn departed(&mut self, index: u32, log: &mut Log) {
        if self.index == Some(index) {
            self.index = None;
            warning!(log; self.name, ": interface gone; ", Kept(self.mtu));
        }
    }

    /// An interface called `name` exists with `index`; returns true when it is ours, coming
    /// back or there for the first time (the caller then reads its MTU).
    fn arrived(&mut self, index: u32, name: Option<&str>, log: &mut Log) -> bool {
        if self.index.is_some() || name != Some(self.name.as_str()) {
            return false;
        }
        self.index = Some(index);
        let how = if self.mtu.is_some() {
            "back"
        } else {
            "appeared"
        };
        info!(log;
            self.name,
            ": interface ",
            how,
            " (index ",
            index,
            ")"
        );
        true
    }

    /// Takes one notice; returns the MTU it reports for the interface followed. `mtu` reads
    /// the MTU of an interface that came back without saying it.
    fn notice(
        &mut self,
        notice: Notice<'_>,
        log: &mut Log,
        mtu: impl FnOnce(&str) -> SysResult<u32>,
    ) -> Option<u32> {
        match notice {
            Notice::Present {
                index,
                name,
                mtu: reported,
            } => {
                if self.arrived(index, name, log) {
                    return reported.or_else(|| mtu(&self.name).ok());
                }
                self.reported(index, reported)
            }
            Notice::Gone { index } => {
                self.departed(index, log);
                None
            }
            Notice::Unreadable => None,
        }
    }

    /// Takes the result of looking the interface up by name again: index and MTU, or the
    /// error that says it is not there (then the last MTU stays).
    fn looked_up(&mut self, found: SysResult<(u32, u32)>) -> Option<u32> {
        match found {
            Ok((index, mtu)) => {
                self.index = Some(index);
                Some(mtu)
            }
            Err(_) => {
                self.index = None;
                None
            }
        }
    }

    /// Uses `latest` from now on; returns it when it differs from the MTU in use, or there
    /// was none.
    fn update(&mut self, latest: Option<u32>) -> Option<u32> {
        let mtu = latest.filter(|&mtu| Some(mtu) != self.mtu)?;
        self.mtu = Some(mtu);
        Some(mtu)
    }

    /// SIGHUP: takes the MTU read by name, or logs why there is none and keeps the last one.
    /// Returns the MTU read, changed or not, so that it is logged.
    fn reread(&mut self, found: SysResult<(u32, u32)>, log: &mut Log) -> Option<u32> {
        match found {
            Ok((index, mtu)) => {
                self.index = Some(index);
                self.mtu = Some(mtu);
                Some(mtu)
            }
            Err(error) => {
                warning!(log;
                    self.name,
                    ": ",
                    error,
                    "; ",
                    Kept(self.mtu)
                );
                None
            }
        }
    }
}

/// Says what the daemon clamps to while the interface is not there: `keeping MTU 1492`, or
/// `packets pass unchanged until it appears` when it has never been there.
struct Kept(Option<u32>);

impl Piece for Kept {
    fn put(&self, line: &mut Line) {
        match self.0 {
            Some(mtu) => put!(line; "keeping MTU ", mtu),
            None => line.push_str("packets pass unchanged until it appears"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::errno::Errno;

    #[test]
    fn follows_by_index_then_by_name() {
        let mut log = Log::stderr();
        let mut eth = Followed::new("eth0", Some((3, 1500))).unwrap();
        assert_eq!(eth.reported(3, Some(1400)), Some(1400));
        assert_eq!(eth.reported(4, Some(1400)), None, "another interface");
        assert_eq!(eth.update(Some(1400)), Some(1400));
        assert_eq!(eth.update(Some(1400)), None, "no change");
        eth.departed(4, &mut log);
        assert!(eth.exists(), "another interface went");
        eth.departed(3, &mut log);
        assert!(!eth.exists());
        assert_eq!(eth.mtu(), Some(1400), "the last MTU stays");
        assert_eq!(
            eth.reported(3, Some(9000)),
            None,
            "the old index is no longer ours"
        );
        assert!(!eth.arrived(5, Some("eth1"), &mut log));
        assert!(eth.arrived(7, Some("eth0"), &mut log));
        assert_eq!(eth.reported(7, Some(1300)), Some(1300));
        assert!(!eth.arrived(8, Some("eth0"), &mut log), "already followed");
    }

    #[test]
    fn notices_follow_the_interface() {
        let mut log = Log::stderr();
        let mut eth = Followed::new("eth0", Some((3, 1500))).unwrap();
        let unreadable = |_: &str| -> SysResult<u32> { panic!("no MTU read expected") };
        let present = |index, name, mtu| Notice::Present { index, name, mtu };
        assert_eq!(
            eth.notice(present(3, None, Some(1400)), &mut log, unreadable),
            Some(1400)
        );
        assert_eq!(
            eth.notice(present(4, Some("eth1"), Some(9000)), &mut log, unreadable),
            None
        );
        assert_eq!(
            eth.notice(Notice::Gone { index: 3 }, &mut log, unreadable),
            None
        );
        assert!(!eth.exists());
        // Back under a new index without its MTU (FreeBSD's RTM_IFANNOUNCE): it is read.
        let read = |name: &str| {
            assert_eq!(name, "eth0");
            Ok(1280)
        };
        assert_eq!(
            eth.notice(present(9, Some("eth0"), None), &mut log, read),
            Some(1280)
        );
        assert_eq!(
            eth.notice(present(9, None, Some(1300)), &mut log, unreadable),
            Some(1300)
        );
        assert_eq!(eth.notice(Notice::Unreadable, &mut log, unreadable), None);
    }

    #[test]
    fn a_missing_interface_is_waited_for_other_failures_are_fatal() {
        for errno in [libc::ENODEV, libc::ENXIO] {
            let eth =
                Followed::start("ppp0", Err(Errno(errno))).unwrap_or_else(|f| panic!("{}", f.line));
            assert_eq!((eth.exists(), eth.mtu()), (false, None), "errno {errno}");
        }
        let Err(fatal) = Followed::start("ppp0", Err(Errno(libc::EACCES))) else {
            panic!("EACCES is no missing interface");
        };
        assert_eq!(fatal.status, EX_OSERR);
        assert!(
            fatal.line.as_str().starts_with("-i ppp0: "),
            "{}",
            fatal.line
        );
        let found = Followed::start("ppp0", Ok((4, 1492))).unwrap_or_else(|f| panic!("{}", f.line));
        assert_eq!((found.exists(), found.mtu()), (true, Some(1492)));
    }

    #[test]
    fn a_waited_for_interface_appears_with_or_without_its_mtu() {
        let mut log = Log::stderr();
        let unreadable = |_: &str| -> SysResult<u32> { panic!("no MTU read expected") };
        let present = |index, name, mtu| Notice::Present { index, name, mtu };
        // rtnetlink's RTM_NEWLINK carries the MTU.
        let mut ppp = Followed::new("ppp0", None).unwrap();
        assert_eq!(
            ppp.notice(present(4, Some("ppp1"), Some(1492)), &mut log, unreadable),
            None,
            "another name"
        );
        assert_eq!(
            ppp.notice(present(5, None, Some(1492)), &mut log, unreadable),
            None,
            "an index nobody named"
        );
        let latest = ppp.notice(present(6, Some("ppp0"), Some(1492)), &mut log, unreadable);
        assert_eq!(latest, Some(1492));
        assert_eq!(ppp.update(latest), Some(1492), "the first MTU is a change");
        assert_eq!((ppp.exists(), ppp.mtu()), (true, Some(1492)));
        // FreeBSD's RTM_IFANNOUNCE does not: it is read.
        let mut tun = Followed::new("tun0", None).unwrap();
        let latest = tun.notice(present(7, Some("tun0"), None), &mut log, |name| {
            assert_eq!(name, "tun0");
            Ok(1420)
        });
        assert_eq!(tun.update(latest), Some(1420));
        // Gone again: it keeps the MTU it had.
        tun.departed(7, &mut log);
        assert_eq!((tun.exists(), tun.mtu()), (false, Some(1420)));
    }

    /// A notification socket that replays `READS` and answers look-ups from `LOOK_UP`. State
    /// is per thread, so per test.
    struct Replay(std::fs::File);

    thread_local! {
        static READS: std::cell::RefCell<Vec<SysResult<Option<Vec<Notice<'static>>>>>> =
            const { std::cell::RefCell::new(Vec::new()) };
        static LOOK_UP: std::cell::Cell<(u32, u32)> = const { std::cell::Cell::new((3, 1500)) };
        /// The interface does not exist: look-ups fail with ENODEV.
        static MISSING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        static LOOK_UPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
        static DATAGRAMS: std::cell::RefCell<Vec<Vec<Notice<'static>>>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }

    impl AsFd for Replay {
        fn as_fd(&self) -> BorrowedFd<'_> {
            self.0.as_fd()
        }
    }

    impl LinkEvents for Replay {
        const READING: &'static str = "replaying";

        fn open() -> Result<Replay, Fatal> {
            Ok(Replay(std::fs::File::open("/dev/null").unwrap()))
        }

        fn recv(&self, buf: &mut [u8]) -> SysResult<Option<(usize, bool)>> {
            // The datagram is an index into `DATAGRAMS`: one byte.
            let next = READS.with_borrow_mut(|reads| {
                if reads.is_empty() {
                    Err(Errno(libc::EAGAIN))
                } else {
                    reads.remove(0)
                }
            })?;
            let Some(notices) = next else {
                return Ok(None);
            };
            DATAGRAMS.with_borrow_mut(|datagrams| datagrams.push(notices));
            buf[0] = u8::try_from(DATAGRAMS.with_borrow(Vec::len) - 1).unwrap();
            Ok(Some((1, false)))
        }

        fn notices(datagram: &[u8], mut notice: impl FnMut(Notice<'_>)) {
            let notices = DATAGRAMS.with_borrow(|d| d[usize::from(datagram[0])].clone());
            notices.into_iter().for_each(&mut notice);
        }

        fn impossible_name(name: &str) -> Option<&'static str> {
            name.contains('!').then_some("no '!' here")
        }

        fn look_up(name: &str) -> SysResult<(u32, u32)> {
            assert_eq!(name, "eth0");
            LOOK_UPS.set(LOOK_UPS.get() + 1);
            if MISSING.get() {
                return Err(Errno(libc::ENODEV));
            }
            Ok(LOOK_UP.get())
        }

        fn mtu(name: &str) -> SysResult<u32> {
            Self::look_up(name).map(|found| found.1)
        }
    }

    fn replay(reads: Vec<SysResult<Option<Vec<Notice<'static>>>>>) {
        READS.set(reads);
    }

    #[test]
    fn watch_reads_until_the_socket_is_empty_and_keeps_the_last_mtu() {
        let mut log = Log::stderr();
        let (mut watch, mtu) =
            MtuWatch::<Replay>::open("eth0").unwrap_or_else(|f| panic!("{}", f.line));
        assert_eq!(mtu, Some(1500));
        let mut buf = [0u8; 16];
        let mtu_notice = |mtu| Notice::Present {
            index: 3,
            name: Some("eth0"),
            mtu: Some(mtu),
        };
        // Two datagrams, one from another process (skipped): the last MTU wins.
        replay(vec![
            Ok(Some(vec![mtu_notice(1400)])),
            Ok(None),
            Ok(Some(vec![mtu_notice(1300)])),
        ]);
        assert_eq!(watch.read(&mut buf, &mut log), Some(1300));
        // The same MTU again is no change.
        replay(vec![Ok(Some(vec![mtu_notice(1300)]))]);
        assert_eq!(watch.read(&mut buf, &mut log), None);
        assert_eq!(LOOK_UPS.get(), 1, "only the look-up at open");
    }

    #[test]
    fn watch_reads_the_mtu_again_after_lost_or_unreadable_notices() {
        let mut log = Log::stderr();
        let (mut watch, _) =
            MtuWatch::<Replay>::open("eth0").unwrap_or_else(|f| panic!("{}", f.line));
        let mut buf = [0u8; 16];
        let lost = || Err(Errno(libc::ENOBUFS));
        for reads in [
            vec![lost()],
            vec![Ok(Some(vec![Notice::Unreadable]))],
            vec![Err(Errno(libc::EIO))],
        ] {
            let before = LOOK_UPS.get();
            let mtu = LOOK_UP.get().1 - 8;
            LOOK_UP.set((3, mtu));
            replay(reads);
            assert_eq!(watch.read(&mut buf, &mut log), Some(mtu));
            assert_eq!(LOOK_UPS.get(), before + 1);
        }
    }

    /// After an overflow the kernel drops notifications silently until the socket is read
    /// empty, so a look-up in a wake-up that did not drain it could be older than a dropped
    /// change: the MTU is read again in the wake-up that drains the socket, not before.
    #[test]
    fn after_an_overflow_the_mtu_is_read_again_only_once_the_socket_is_empty() {
        let mut log = Log::stderr();
        let (mut watch, _) =
            MtuWatch::<Replay>::open("eth0").unwrap_or_else(|f| panic!("{}", f.line));
        let mut buf = [0u8; 16];
        let other = || {
            Ok(Some(vec![Notice::Present {
                index: 4,
                name: Some("eth1"),
                mtu: Some(9000),
            }]))
        };
        // The overflow, then more datagrams than one wake-up reads.
        let mut reads = vec![Err(Errno(libc::ENOBUFS))];
        reads.extend((0..READS_PER_WAKE).map(|_| other()));
        replay(reads);
        let before = LOOK_UPS.get();
        assert_eq!(watch.read(&mut buf, &mut log), None);
        assert_eq!(
            LOOK_UPS.get(),
            before,
            "looked up before the socket was empty"
        );
        // The change the kernel dropped meanwhile; the next wake-up reads the socket empty.
        LOOK_UP.set((3, 1280));
        replay(vec![other()]);
        assert_eq!(watch.read(&mut buf, &mut log), Some(1280));
        assert_eq!(LOOK_UPS.get(), before + 1);
        // Once taken, the loss is not looked up again.
        replay(vec![other()]);
        assert_eq!(watch.read(&mut buf, &mut log), None);
        assert_eq!(LOOK_UPS.get(), before + 1);
    }

    #[test]
    fn lookups_and_rereads() {
        let mut log = Log::stderr();
        let mut eth = Followed::new("eth0", Some((3, 1500))).unwrap();
        let gone = || Err(Errno(libc::ENODEV));
        assert_eq!(eth.looked_up(gone()), None);
        assert!(!eth.exists());
        assert_eq!(eth.reread(gone(), &mut log), None);
        assert_eq!(eth.mtu(), Some(1500));
        assert_eq!(eth.reread(Ok((9, 1492)), &mut log), Some(1492));
        assert_eq!((eth.exists(), eth.mtu()), (true, Some(1492)));
        assert_eq!(
            eth.reread(Ok((9, 1492)), &mut log),
            Some(1492),
            "logged even unchanged"
        );
        assert!(Followed::new("sixteen-bytes-xx", Some((1, 1500))).is_none());
    }

    /// Started before its interface exists: no MTU, then the MTU of the interface once a
    /// notification names it; SIGHUP meanwhile says packets pass unchanged.
    #[test]
    fn watch_opened_before_its_interface_waits_then_takes_its_mtu() {
        let mut log = Log::stderr();
        MISSING.set(true);
        let (mut watch, mtu) =
            MtuWatch::<Replay>::open("eth0").unwrap_or_else(|f| panic!("{}", f.line));
        assert_eq!(mtu, None);
        assert_eq!(watch.reread(&mut log), None, "still not there");
        let mut buf = [0u8; 16];
        replay(vec![Ok(Some(vec![Notice::Present {
            index: 4,
            name: Some("eth1"),
            mtu: Some(9000),
        }]))]);
        assert_eq!(watch.read(&mut buf, &mut log), None, "another interface");
        MISSING.set(false);
        LOOK_UP.set((5, 1300));
        replay(vec![Ok(Some(vec![Notice::Present {
            index: 5,
            name: Some("eth0"),
            mtu: Some(1300),
        }]))]);
        assert_eq!(watch.read(&mut buf, &mut log), Some(1300));
        replay(vec![Ok(Some(vec![Notice::Present {
            index: 5,
            name: None,
            mtu: Some(1280),
        }]))]);
        assert_eq!(
            watch.read(&mut buf, &mut log),
            Some(1280),
            "followed by index"
        );
    }

    #[test]
    fn a_name_the_system_cannot_have_is_refused_with_ex_noinput() {
        let Err(fatal) = MtuWatch::<Replay>::open("eth!0") else {
            panic!("an impossible name was accepted");
        };
        assert_eq!(fatal.status, EX_NOINPUT);
        assert_eq!(
            fatal.line.as_str(),
            "-i eth!0: cannot be an interface name: no '!' here"
        );
    }
}
