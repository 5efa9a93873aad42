//! Refuses targets that have no packet backend, with a clear message instead of a wall of
//! unresolved names; the backend itself is picked in daemon/main.rs (`os`) and the system's
//! `run`.

use std::env;

fn main() {
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os != "linux" && os != "freebsd" {
        println!(
            "cargo::error=tcpmssd runs on FreeBSD (divert(4)) and Linux (NFQUEUE); \
             target OS `{os}` has no packet backend. The no_std packet logic builds \
             anywhere: depend on the tcpmssd-core crate instead."
        );
    }
}
