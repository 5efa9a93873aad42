//! The interface `-i` names, as both MTU watches (rtnetlink on Linux, the routing socket on
//! FreeBSD) follow it: by index while it exists, by name while it is gone, because a
//! re-created interface gets a new index. The last MTU stays in use while it is gone.

use std::io;

use crate::cli::{EX_NOINPUT, EX_OSERR, IFNAME_MAX};
use crate::log::{Log, OsError};
use crate::run::Fatal;

/// The followed interface: its name, its index while it exists, and the MTU in use.
#[derive(Debug)]
pub struct Followed {
    name: heapless::String<IFNAME_MAX>,
    index: Option<u32>,
    mtu: u32,
}

impl Followed {
    /// Starts following `name`, now interface `index` with `mtu`; `None` for a name longer
    /// than an interface name can be.
    pub fn new(name: &str, index: u32, mtu: u32) -> Option<Followed> {
        Some(Followed {
            name: heapless::String::try_from(name).ok()?,
            index: Some(index),
            mtu,
        })
    }

    /// Starts following `interface` from its first look-up (index and MTU): an interface that
    /// is not there (ENODEV on Linux, ENXIO on FreeBSD) is `EX_NOINPUT`, any other failure
    /// `EX_OSERR`.
    pub fn start(interface: &str, found: io::Result<(u32, u32)>) -> Result<Followed, Fatal> {
        let no_such = || {
            Fatal::new(
                EX_NOINPUT,
                format_args!("-i {interface}: no such interface"),
            )
        };
        let (index, mtu) = found.map_err(|error| match error.raw_os_error() {
            Some(libc::ENODEV | libc::ENXIO) => no_such(),
            _ => Fatal::new(
                EX_OSERR,
                format_args!("-i {interface}: {}", OsError(&error)),
            ),
        })?;
        Followed::new(interface, index, mtu).ok_or_else(no_such)
    }

    /// Returns the interface's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the MTU in use.
    pub fn mtu(&self) -> u32 {
        self.mtu
    }

    /// Returns true while the interface exists.
    #[cfg(test)]
    pub fn exists(&self) -> bool {
        self.index.is_some()
    }

    /// Returns `mtu` when interface `index` is the one followed.
    pub fn reported(&self, index: u32, mtu: Option<u32>) -> Option<u32> {
        mtu.filter(|_| self.index == Some(index))
    }

    /// Interface `index` went away: if it is ours, keeps the last MTU and says so.
    pub fn departed(&mut self, index: u32, log: &mut Log) {
        if self.index == Some(index) {
            self.index = None;
            log.warn(format_args!(
                "{}: interface gone; keeping MTU {}",
                self.name, self.mtu
            ));
        }
    }

    /// An interface called `name` exists with `index`; returns true when it is ours coming
    /// back (the caller then reads its MTU).
    pub fn arrived(&mut self, index: u32, name: Option<&str>, log: &mut Log) -> bool {
        if self.index.is_some() || name != Some(self.name.as_str()) {
            return false;
        }
        self.index = Some(index);
        log.info(format_args!(
            "{}: interface back (index {index})",
            self.name
        ));
        true
    }

    /// Takes the result of looking the interface up by name again: index and MTU, or the
    /// error that says it is not there (then the last MTU stays).
    pub fn looked_up(&mut self, found: io::Result<(u32, u32)>) -> Option<u32> {
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

    /// Uses `latest` from now on; returns it when it differs from the MTU in use.
    pub fn update(&mut self, latest: Option<u32>) -> Option<u32> {
        let mtu = latest.filter(|&mtu| mtu != self.mtu)?;
        self.mtu = mtu;
        Some(mtu)
    }

    /// SIGHUP: takes the MTU read by name, or logs why there is none and keeps the last one.
    /// Returns the MTU read, changed or not, so that it is logged.
    pub fn reread(&mut self, found: io::Result<(u32, u32)>, log: &mut Log) -> Option<u32> {
        match found {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_by_index_then_by_name() {
        let mut log = Log::stderr();
        let mut eth = Followed::new("eth0", 3, 1500).unwrap();
        assert_eq!(eth.reported(3, Some(1400)), Some(1400));
        assert_eq!(eth.reported(4, Some(1400)), None, "another interface");
        assert_eq!(eth.update(Some(1400)), Some(1400));
        assert_eq!(eth.update(Some(1400)), None, "no change");
        eth.departed(4, &mut log);
        assert!(eth.exists(), "another interface went");
        eth.departed(3, &mut log);
        assert!(!eth.exists());
        assert_eq!(eth.mtu(), 1400, "the last MTU stays");
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
    fn lookups_and_rereads() {
        let mut log = Log::stderr();
        let mut eth = Followed::new("eth0", 3, 1500).unwrap();
        let gone = || Err(io::Error::from_raw_os_error(libc::ENODEV));
        assert_eq!(eth.looked_up(gone()), None);
        assert!(!eth.exists());
        assert_eq!(eth.reread(gone(), &mut log), None);
        assert_eq!(eth.mtu(), 1500);
        assert_eq!(eth.reread(Ok((9, 1492)), &mut log), Some(1492));
        assert_eq!((eth.exists(), eth.mtu()), (true, 1492));
        assert_eq!(
            eth.reread(Ok((9, 1492)), &mut log),
            Some(1492),
            "logged even unchanged"
        );
        assert!(Followed::new("sixteen-bytes-xx", 1, 1500).is_none());
    }
}
