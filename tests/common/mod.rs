//! The end-to-end harness: namespaces a — r — b, packet capture, real TCP, and the clamper on r.
//!
//! Linux only, as root. Everything a test creates lives in namespaces named after the test
//! process and is removed when the test's guards drop, whether it passed or not.

pub mod capture;
pub mod clamper;
pub mod flood;
pub mod handshake;
pub mod netns;
pub mod raw_syn;
pub mod transfer;

mod binary;

use std::time::{Duration, Instant};

pub use binary::binary;

/// Polls `f` every 20 ms until it returns something; `None` once `timeout` has passed.
pub fn wait_until<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(value) = f() {
            return Some(value);
        }
        if start.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Returns from the calling test (after saying why) where it cannot run: not root, or no
/// `ip netns`. Nothing else is a reason to skip.
#[macro_export]
macro_rules! require_netns {
    () => {
        if let Some(reason) = $crate::common::netns::skip_reason() {
            eprintln!("skipped: {reason}");
            return;
        }
    };
}
