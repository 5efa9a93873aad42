//! Netlink sockets (filled in the next commits).
