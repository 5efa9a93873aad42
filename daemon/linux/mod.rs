//! Linux: packets from an NFQUEUE queue (`nfqueue.rs`), the MTU from rtnetlink (`links.rs`),
//! and giving up privilege: capabilities, `no_new_privs` and the seccomp filter
//! (`seccomp.rs`). The messages themselves are read and written by tcpmssd-wire.

// Only the tests load the eBPF program so far; the `-e` mode (issue 25) will.
#[cfg(test)]
pub mod ebpf;
pub mod links;
pub mod nfqueue;
pub mod seccomp;

use crate::cli::Config;
use crate::exit::{Fatal, EX_OSERR};
use crate::log::Log;
use crate::sys::linux::privilege as caps;
use crate::sys::privilege::{self, User};

/// Runs the daemon on this system's backend: today NFQUEUE, the only one.
pub fn run(config: &Config) -> u8 {
    crate::daemon::<nfqueue::Queue, links::Links>(config)
}

/// Keeps only CAP_NET_ADMIN (nfnetlink checks it on every verdict, `netlink_net_capable` in
/// nfnetlink_rcv), switches to `user` (`-u`) and sets `no_new_privs`.
pub fn give_up_privilege(user: Option<User>, log: &mut Log) -> Result<(), Fatal> {
    // The bounding set first: narrowing it needs CAP_SETPCAP, which the user switch clears.
    let narrowed = caps::narrow_bounding_set()
        .map_err(|e| Fatal::os(EX_OSERR, "can't narrow the capability bounding set", &e))?;
    if narrowed.bounding_set_kept {
        log.warn(format_args!(
            "no CAP_SETPCAP: the capability bounding set is left as it was"
        ));
    }
    if let Some(user) = user {
        privilege::switch_user(user)
            .map_err(|e| Fatal::os(EX_OSERR, "can't switch to the -u user", &e))?;
    }
    caps::keep_only_net_admin().map_err(|e| Fatal::os(EX_OSERR, "can't drop capabilities", &e))?;
    caps::set_no_new_privs().map_err(|e| Fatal::os(EX_OSERR, "can't set no_new_privs", &e))
}

/// Installs the seccomp filter; says so where the architecture has none.
pub fn confine(log: &mut Log) -> Result<(), Fatal> {
    match seccomp::filter() {
        Some(program) => caps::install_filter(&program)
            .map_err(|e| Fatal::os(EX_OSERR, "can't install the seccomp filter", &e)),
        None => {
            log.warn(format_args!(
                "no seccomp filter for this architecture: system calls are not restricted"
            ));
            Ok(())
        }
    }
}
