//! tcpmssd: clamps the TCP MSS of SYN packets diverted to it by the firewall.
//!
//! Not usable yet: the packet logic is complete in `tcpmssd-core`; the daemon around it
//! (divert(4) and NFQUEUE backends) is the next piece of work. This build parses no
//! arguments and prints its usage.
#![deny(unsafe_code)]
// The NFQUEUE and rtnetlink modules wait for the packet loop that uses them.
#![allow(dead_code)]

mod mtu;
mod nfqueue;
mod sys;

use std::process::ExitCode;

const USAGE: &str = "usage: tcpmssd [-bv] -p port {-i iface | -m mtu}";

/// EX_USAGE from sysexits(3).
const EX_USAGE: u8 = 64;

fn main() -> ExitCode {
    eprintln!("tcpmssd: not implemented yet: the daemon is under construction");
    eprintln!("{USAGE}");
    ExitCode::from(EX_USAGE)
}
