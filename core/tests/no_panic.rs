//! Proves that no panic path is linked into `clamp`, `clamp_tcp`, `clamp_prefix` and its two
//! steps, `clamp_ethernet`, the `Changes` they return, or `endpoints`.
//!
//! `core/nopanic` is a freestanding release build whose panic handler calls a symbol that
//! exists nowhere; it links only if the optimiser removed every panic path. Its `canary`
//! feature adds one out-of-bounds index, and that build must fail, or the check proves nothing.
// The freestanding link (`-nostartfiles`, an ELF `_start`) is set up for Linux hosts.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MISSING_SYMBOL: &str = "tcpmssd_core_panic_is_reachable";

fn build_nopanic(features: &[&str]) -> Output {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("nopanic");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&crate_dir)
        .args(["build", "--release", "--quiet", "--target-dir"])
        .arg(target_dir(&crate_dir))
        .env_remove("CARGO_TARGET_DIR")
        // Flags meant for the outer build (coverage, sanitizers) would change what links.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    if !features.is_empty() {
        command.arg("--features").arg(features.join(","));
    }
    command.output().expect("cargo runs")
}

fn target_dir(crate_dir: &Path) -> PathBuf {
    crate_dir.join("target")
}

#[test]
fn clamp_links_without_any_panic_path() {
    let output = build_nopanic(&[]);
    assert!(
        output.status.success(),
        "a panic path is reachable from the core's entry points:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn canary_with_a_panic_path_fails_to_link() {
    let output = build_nopanic(&["canary"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains(MISSING_SYMBOL),
        "the canary build should fail to link on {MISSING_SYMBOL}; stderr:\n{stderr}"
    );
}
