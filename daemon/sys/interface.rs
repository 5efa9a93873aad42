//! The two interface look-ups `-i` needs, alike on Linux and FreeBSD: the MTU
//! (`ioctl(SIOCGIFMTU)`; netdevice(7), FreeBSD netintro(4)) and the index (if_nametoindex(3)).

use std::mem;
use std::os::fd::AsRawFd;

use super::{cvt, socket};
use crate::sys::errno::{Errno, SysResult};

/// Longest interface name: `IFNAMSIZ` (16 on Linux and FreeBSD) less the terminating NUL.
pub const IFNAME_MAX: usize = libc::IFNAMSIZ - 1;
static_assertions::const_assert_eq!(IFNAME_MAX, 15);

// glibc declares the request `unsigned long`, musl `int`; `libc::Ioctl` is whichever applies.
#[cfg(target_os = "linux")]
const SIOCGIFMTU: libc::Ioctl = libc::SIOCGIFMTU as libc::Ioctl;
// netdevice(7): `struct ifreq` is a 16-byte name and a union; 40 bytes on LP64, 32 on ILP32.
#[cfg(target_os = "linux")]
static_assertions::const_assert!(
    mem::size_of::<libc::ifreq>() >= libc::IFNAMSIZ + mem::size_of::<libc::c_int>()
);

/// `_IOWR('i', 51, struct ifreq)` (sys/sys/sockio.h), with sizeof(struct ifreq) = 32; the libc
/// crate does not define it for FreeBSD.
#[cfg(target_os = "freebsd")]
const SIOCGIFMTU: libc::c_ulong = 0xc020_6933;
#[cfg(target_os = "freebsd")]
static_assertions::const_assert_eq!(mem::size_of::<libc::ifreq>(), 32);

/// The errno of a look-up of an interface that does not exist, as the kernel answers
/// SIOCGIFMTU: ENODEV on Linux, ENXIO on FreeBSD.
#[cfg(target_os = "linux")]
pub const NO_SUCH_INTERFACE: i32 = libc::ENODEV;
/// The errno of a look-up of an interface that does not exist, as the kernel answers
/// SIOCGIFMTU: ENODEV on Linux, ENXIO on FreeBSD.
#[cfg(target_os = "freebsd")]
pub const NO_SUCH_INTERFACE: i32 = libc::ENXIO;

/// Returns the MTU of the interface called `name`.
pub fn mtu(name: &str) -> SysResult<u32> {
    // SAFETY: `ifreq` is a char array and a union of integers, pointers and sockaddrs; all-zero
    // is a valid value for each.
    let mut req: libc::ifreq = unsafe { mem::zeroed() };
    req.ifr_name = c_name(name)?;
    // Any socket serves the interface ioctls; an AF_INET datagram socket needs no privilege.
    let socket = socket(libc::AF_INET, libc::SOCK_DGRAM, 0)?;
    // SAFETY: `req` is a valid `ifreq` that the kernel reads the name from and writes the MTU into.
    cvt(unsafe { libc::ioctl(socket.as_raw_fd(), SIOCGIFMTU, &raw mut req) })?;
    // SAFETY: every field of the union is plain data; SIOCGIFMTU wrote `ifru_mtu`, and the union
    // was zeroed before, so the bytes are initialised whatever the kernel did.
    let mtu = unsafe { req.ifr_ifru.ifru_mtu };
    u32::try_from(mtu).map_err(|_| Errno(libc::EINVAL))
}

/// Returns the link type of the interface called `name`: its `ARPHRD_*` number
/// (`ioctl(SIOCGIFHWADDR)` reports it as the hardware address's family; netdevice(7)).
#[cfg(all(target_os = "linux", feature = "ebpf"))]
pub fn link_type(name: &str) -> SysResult<u16> {
    // SAFETY: as in `mtu`: all-zero is a valid `ifreq`.
    let mut req: libc::ifreq = unsafe { mem::zeroed() };
    req.ifr_name = c_name(name)?;
    let socket = socket(libc::AF_INET, libc::SOCK_DGRAM, 0)?;
    // SAFETY: `req` is a valid `ifreq` that the kernel reads the name from and writes the
    // hardware address into.
    cvt(unsafe {
        libc::ioctl(
            socket.as_raw_fd(),
            libc::SIOCGIFHWADDR as libc::Ioctl,
            &raw mut req,
        )
    })?;
    // SAFETY: every field of the union is plain data, zeroed before the call.
    Ok(unsafe { req.ifr_ifru.ifru_hwaddr.sa_family })
}

/// Returns the index of the interface called `name`: positive, and within the kernel's types
/// (`int` in rtnetlink's `ifinfomsg`, `u_short` in FreeBSD's routing messages).
pub fn index(name: &str) -> SysResult<u32> {
    let name = c_name(name)?;
    // SAFETY: `name` is a NUL-terminated array (checked by `c_name`) alive for the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        // Both libcs set errno: glibc ENODEV (its SIOCGIFINDEX ioctl) for a missing interface;
        // FreeBSD's ENXIO for a name it finds neither by SIOCGIFINDEX nor in getifaddrs(3),
        // else the error of the failed call (lib/libc/net/if_nametoindex.c, after RFC 2553
        // 4.1: "errno is set to ENXIO").
        return Err(super::errno::errno());
    }
    #[cfg(target_os = "linux")]
    let largest = i32::MAX as u32;
    #[cfg(target_os = "freebsd")]
    let largest = u32::from(u16::MAX);
    if index > largest {
        return Err(Errno(libc::EINVAL));
    }
    Ok(index)
}

/// Copies `name` into a NUL-terminated `IFNAMSIZ` array.
///
/// The kernel would cut a longer name to 15 bytes and could then answer for another interface,
/// so it is refused as no such interface (as glibc's if_nametoindex does); an inner NUL is
/// `EINVAL`.
fn c_name(name: &str) -> SysResult<[libc::c_char; libc::IFNAMSIZ]> {
    let bytes = name.as_bytes();
    if bytes.contains(&0) {
        return Err(Errno(libc::EINVAL));
    }
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ {
        return Err(Errno(NO_SUCH_INTERFACE));
    }
    let mut out = [0; libc::IFNAMSIZ];
    for (dst, &src) in out.iter_mut().zip(bytes) {
        *dst = src as libc::c_char;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_long_empty_and_with_nul_refused() {
        let errno = |name| c_name(name).unwrap_err().raw_os_error();
        assert_eq!(errno("sixteen-chars-xx"), Some(NO_SUCH_INTERFACE));
        assert_eq!(errno(""), Some(NO_SUCH_INTERFACE));
        assert_eq!(errno("lo\0x"), Some(libc::EINVAL));
        let name = c_name("fifteen-chars-x").unwrap();
        assert_eq!(name[14], b'x' as libc::c_char);
        assert_eq!(name[15], 0);
    }

    // Every Linux system has a loopback interface, index 1, MTU 65536 by default (drivers/net/
    // loopback.c); the MTU is only checked to be plausible because it can be changed.
    #[cfg(target_os = "linux")]
    #[test]
    fn loopback_index_and_mtu() {
        assert_eq!(index("lo").unwrap(), 1);
        assert!(mtu("lo").unwrap() >= 68);
        let missing = "tcpmssd-none0";
        assert_eq!(
            index(missing).unwrap_err().raw_os_error(),
            Some(NO_SUCH_INTERFACE)
        );
        assert_eq!(
            mtu(missing).unwrap_err().raw_os_error(),
            Some(NO_SUCH_INTERFACE)
        );
    }
}
