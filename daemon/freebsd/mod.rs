//! FreeBSD: packets from a divert(4) socket, the MTU from the routing socket.
//!
//! Each pair is a wire format, safe code over `&[u8]` tested with byte fixtures laid out as
//! FreeBSD 14 amd64 lays them out (on any OS), and the socket that drives it:
//! `divert_address` with `divert_path`, `route_messages` with `route_watch`. The paths reach
//! their sockets through a trait, so that their loops too run in `cargo test` on any OS,
//! against doubles that behave as FreeBSD 14's divert and routing sockets do.

pub mod divert_address;
pub mod route_messages;

// The paths' logic runs in the tests on any OS, against doubles of FreeBSD's sockets.
pub mod divert_path;
pub mod route_watch;

/// The packet path of this system.
#[cfg(target_os = "freebsd")]
pub use divert_path::DivertPort as Path;

/// The MTU watch of this system.
#[cfg(target_os = "freebsd")]
pub use route_watch::RouteWatch as Watch;

/// How the start-up line names `-p`.
#[cfg(target_os = "freebsd")]
pub const PORT_NAME: &str = "divert port";
