//! Linux: netlink sockets, the capability and seccomp calls of giving up privilege, and
//! `bpf(2)`.

#[cfg(feature = "ebpf")]
pub mod bpf;
pub mod netlink;
pub mod privilege;
