//! FreeBSD: packets from a divert(4) socket (`divert.rs`), the MTU from the routing socket
//! (`routes.rs`), and what giving up privilege means here.
//!
//! Both reach their sockets through a trait, so that their loops run in `cargo test` on any OS
//! against doubles that behave as FreeBSD 14's divert and routing sockets do; the messages
//! themselves are read by tcpmssd-wire (`divert.rs`, `route.rs`).

pub mod divert;
pub mod routes;

#[cfg(target_os = "freebsd")]
pub use system::*;

#[cfg(target_os = "freebsd")]
mod system {
    use crate::cli::Config;
    use crate::exit::{Fatal, EX_OSERR};
    use crate::log::Log;
    use crate::sys::freebsd::{divert::Socket as DivertSocket, route::Socket as RouteSocket};
    use crate::sys::privilege::{self, User};

    /// Runs the daemon on this system's one backend, divert(4).
    pub fn run(config: &Config) -> u8 {
        crate::daemon::<super::divert::Divert<DivertSocket>, super::routes::Routes<RouteSocket>>(
            config,
        )
    }

    /// With `-u`: chroots to /var/empty, then switches to the user. No privilege stays: the
    /// sockets are open and sending on them needs none; Capsicum cannot be used, because
    /// reinjection is `sendto` with an address.
    pub fn give_up_privilege(
        _config: &Config,
        user: Option<User>,
        _log: &mut Log,
    ) -> Result<(), Fatal> {
        if let Some(user) = user {
            privilege::chroot_to(c"/var/empty")
                .map_err(|e| Fatal::os(EX_OSERR, "can't chroot to /var/empty", &e))?;
            privilege::switch_user(user)
                .map_err(|e| Fatal::os(EX_OSERR, "can't switch to the -u user", &e))?;
        }
        Ok(())
    }

    /// FreeBSD has no seccomp; Capsicum does not fit divert (see above).
    pub fn confine(_config: &Config, _log: &mut Log) -> Result<(), Fatal> {
        Ok(())
    }
}
