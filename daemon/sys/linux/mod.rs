//! Linux: netlink sockets, and the capability and seccomp calls of giving up privilege.

pub mod netlink;
pub mod privilege;
