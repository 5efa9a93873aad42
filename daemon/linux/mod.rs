//! Linux: packets from an NFQUEUE queue (`nfqueue.rs`), the MTU from rtnetlink (`links.rs`),
//! and giving up privilege: capabilities, `no_new_privs` and the seccomp filter
//! (`seccomp.rs`). The messages themselves are read and written by tcpmssd-wire.

#[cfg(feature = "ebpf")]
pub mod classifier;
#[cfg(feature = "ebpf")]
pub mod ebpf;
pub mod links;
pub mod nfqueue;
pub mod seccomp;

use crate::cli::Config;
use crate::exit::{Fatal, EX_OSERR};
use crate::log::{warning, Log};
use crate::sys::linux::privilege as caps;
use crate::sys::privilege::{self, User};

/// `BPF_MAP_LOOKUP_ELEM` and `BPF_MAP_UPDATE_ELEM`: the counters read, the limits written.
const MAP_LOOKUP_ELEM: u32 = 1;
const MAP_UPDATE_ELEM: u32 = 2;

/// Runs the daemon on the backend the command line picks: NFQUEUE, or the eBPF classifier
/// with `-e`.
pub fn run(config: &Config) -> u8 {
    #[cfg(feature = "ebpf")]
    if config.ebpf.is_some() {
        return crate::daemon::<classifier::Classifier, links::Links>(config);
    }
    crate::daemon::<nfqueue::Queue, links::Links>(config)
}

/// The capabilities that stay: CAP_NET_ADMIN, which nfnetlink checks on every verdict
/// (`netlink_net_capable` in nfnetlink_rcv) and rtnetlink on every tc request (the eBPF
/// mode's attach when the interface comes back); with `-e` also CAP_BPF, which kernels
/// before 5.19 want for every `bpf(2)` command, the map reads and writes too, while
/// unprivileged BPF is off (kernel/bpf/syscall.c `__sys_bpf`, before commit c8644cd0efe7
/// "bpf: refine kernel.unprivileged_bpf_disabled behaviour"). The seccomp filter leaves it
/// nothing but those map commands.
fn kept_capabilities(config: &Config) -> &'static [u32] {
    if config.ebpf.is_some() {
        &[caps::CAP_NET_ADMIN, caps::CAP_BPF]
    } else {
        &[caps::CAP_NET_ADMIN]
    }
}

/// Keeps only the capabilities the backend needs (`kept_capabilities`), switches to `user`
/// (`-u`) and sets `no_new_privs`.
pub fn give_up_privilege(config: &Config, user: Option<User>, log: &mut Log) -> Result<(), Fatal> {
    let keep = kept_capabilities(config);
    // The bounding set first: narrowing it needs CAP_SETPCAP, which the user switch clears.
    let narrowed = caps::narrow_bounding_set(keep)
        .map_err(|e| Fatal::os(EX_OSERR, "can't narrow the capability bounding set", &e))?;
    if narrowed.bounding_set_kept {
        warning!(log;
            "no CAP_SETPCAP: the capability bounding set is left as it was"
        );
    }
    if let Some(user) = user {
        privilege::switch_user(user)
            .map_err(|e| Fatal::os(EX_OSERR, "can't switch to the -u user", &e))?;
    }
    caps::keep_only(keep).map_err(|e| Fatal::os(EX_OSERR, "can't drop capabilities", &e))?;
    caps::set_no_new_privs().map_err(|e| Fatal::os(EX_OSERR, "can't set no_new_privs", &e))
}

/// Installs the seccomp filter, with `bpf(2)` for the map commands in the eBPF mode; says so
/// where the architecture has none.
pub fn confine(config: &Config, log: &mut Log) -> Result<(), Fatal> {
    let bpf_commands: &[u32] = if config.ebpf.is_some() {
        &[MAP_LOOKUP_ELEM, MAP_UPDATE_ELEM]
    } else {
        &[]
    };
    match seccomp::filter(bpf_commands) {
        Some(program) => caps::install_filter(&program)
            .map_err(|e| Fatal::os(EX_OSERR, "can't install the seccomp filter", &e)),
        None => {
            warning!(log;
                "no seccomp filter for this architecture: system calls are not restricted"
            );
            Ok(())
        }
    }
}
