//! Picks the packet backend for the target OS and refuses targets that have none.

use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tcpmssd_backend, values(\"divert\", \"nfqueue\"))");
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let backend = match os.as_str() {
        "linux" => "nfqueue",
        "freebsd" => "divert",
        other => {
            println!(
                "cargo::error=tcpmssd runs on FreeBSD (divert(4)) and Linux (NFQUEUE); \
                 target OS `{other}` has no packet backend. The no_std packet logic builds \
                 anywhere: depend on the tcpmssd-core crate instead."
            );
            return;
        }
    };
    println!("cargo::rustc-cfg=tcpmssd_backend=\"{backend}\"");
}
