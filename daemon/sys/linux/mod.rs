//! Linux: netlink sockets, the capability and seccomp calls of giving up privilege, and
//! `bpf(2)`.

// Only the tests load the eBPF program so far; the `-e` mode (issue 25) will.
#[cfg(test)]
pub mod bpf;
pub mod netlink;
pub mod privilege;
