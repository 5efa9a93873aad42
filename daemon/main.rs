//! tcpmssd: clamps the TCP MSS of SYN packets diverted to it by the firewall.
//!
//! The daemon is not usable yet: this build only prints its usage.
#![deny(unsafe_code)]
// Modules are being filled in by separate work; main wires them up last.
#![allow(dead_code)]

mod cli;
mod counters;
mod log;
mod mtu;
mod nfqueue;
mod run;
mod sys;

use std::process::ExitCode;

const USAGE: &str = "usage: tcpmssd [-bv] -p port {-i iface | -m mtu}";

fn main() -> ExitCode {
    eprintln!("{USAGE}");
    eprintln!("tcpmssd: the daemon is not implemented yet; the packet logic is the tcpmssd-core crate");
    ExitCode::from(64)
}
