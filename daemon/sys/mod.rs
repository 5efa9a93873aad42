//! The only `unsafe` in the daemon: thin wrappers over libc system calls.
//!
//! Everything here moves bytes and returns `io::Result`; nothing interprets them. What both
//! systems share is at the top; what only one has is in `linux/` or `freebsd/`.
#![allow(unsafe_code)]

pub mod address;
pub mod alloc;
pub mod clock;
pub mod detach;
// Not in the test harness, which brings its own `main`.
#[cfg(not(test))]
mod entry;
pub mod errno;
pub mod file;
#[cfg(target_os = "freebsd")]
pub mod freebsd;
pub mod interface;
#[cfg(target_os = "linux")]
pub mod linux;
pub mod privilege;
pub mod signals;
pub mod stdio;
pub mod syslog;

pub use errno::cvt;
