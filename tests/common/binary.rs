//! Which tcpmssd the tests run; `tests/cli.rs` and `tests/startup.rs` include this file alone.

use std::path::PathBuf;

/// The daemon under test: this build's, or another build of the same sources named by
/// `TCPMSSD_BIN` (CI runs the tests against the `cargo +nightly tiny` build too).
pub fn binary() -> PathBuf {
    std::env::var_os("TCPMSSD_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_tcpmssd")),
        PathBuf::from,
    )
}
