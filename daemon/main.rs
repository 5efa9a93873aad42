//! tcpmssd: clamps the TCP MSS of SYN packets diverted to it by the firewall.
//!
//! Not usable yet: the packet logic is complete in `tcpmssd-core`; the daemon around it
//! (divert(4) and NFQUEUE backends) is the next piece of work. This build parses the command
//! line, answers `--help` and `--version`, and stops there.
#![deny(unsafe_code)]
// The modules below wait for the packet loop that uses them.
#![allow(dead_code)]

mod cli;
mod counters;
mod log;
mod mtu;
mod netlink;
mod nfqueue;
mod run;
mod sys;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::parse_env() {
        Ok(cli::Command::Help) => {
            print!("{}", cli::HELP);
            ExitCode::SUCCESS
        }
        Ok(cli::Command::Version) => {
            println!("{}", cli::VERSION);
            ExitCode::SUCCESS
        }
        Ok(cli::Command::Run(_)) => {
            eprintln!("tcpmssd: not implemented yet: the daemon is under construction");
            eprintln!("{}", cli::USAGE);
            ExitCode::from(cli::EX_USAGE)
        }
        Err(error) => {
            eprintln!("{error}");
            eprintln!("{}", cli::USAGE);
            ExitCode::from(cli::EX_USAGE)
        }
    }
}
