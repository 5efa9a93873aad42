//! Linux: packets from an NFQUEUE queue, the MTU from rtnetlink, and the seccomp filter.
//!
//! Each pair is a wire format, safe code over `&[u8]` tested with byte fixtures on any OS,
//! and the socket that drives it: `nfqueue_messages` with `nfqueue_path`, `link_messages`
//! with `link_watch`; `netlink` is the framing both formats share.

// The wire formats are built on every OS so that their fixture tests run everywhere; some of
// their builders and walkers serve only the tests and the fuzz targets (GETLINK requests, the
// whole-buffer iterator, single verdicts).
#[allow(dead_code)]
pub mod link_messages;
#[allow(dead_code)]
pub mod netlink;
#[allow(dead_code)]
pub mod nfqueue_messages;

#[cfg(target_os = "linux")]
pub mod link_watch;
#[cfg(target_os = "linux")]
pub mod nfqueue_path;
#[cfg(target_os = "linux")]
pub mod seccomp;

/// The packet path of this system.
#[cfg(target_os = "linux")]
pub use nfqueue_path::Queue as Path;

/// The MTU watch of this system.
#[cfg(target_os = "linux")]
pub use link_watch::LinkWatch as Watch;

/// How the start-up line names `-p`.
#[cfg(target_os = "linux")]
pub const PORT_NAME: &str = "NFQUEUE";
