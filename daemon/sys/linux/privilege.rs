//! What Linux adds to giving up privilege: the capability sets, `no_new_privs` and the
//! seccomp filter (capabilities(7), prctl(2), seccomp(2)).
//!
//! What stays, and why: CAP_NET_ADMIN, because nfnetlink checks it on every verdict
//! (`netlink_net_capable` in nfnetlink_rcv), for the daemon's whole life; in the eBPF mode
//! also CAP_BPF (see `linux/mod.rs`).

use crate::sys::cvt;
use crate::sys::errno::{Errno, SysResult};

/// linux/capability.h CAP_NET_ADMIN.
pub const CAP_NET_ADMIN: u32 = 12;
/// linux/capability.h CAP_BPF (Linux 5.8).
pub const CAP_BPF: u32 = 39;
/// linux/capability.h _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// struct __user_cap_header_struct.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// struct __user_cap_data_struct.
#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// How a narrowing went where the process could not do all of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Narrowed {
    /// The bounding set could not be narrowed: the process lacks CAP_SETPCAP (started
    /// with CAP_NET_ADMIN alone, not as root). It cannot regain what it dropped anyway.
    pub bounding_set_kept: bool,
}

/// Leaves only the capabilities `keep` (numbers) in the bounding set and empties the
/// ambient set. Call it first: it needs CAP_SETPCAP in the effective set, which a user
/// switch clears.
pub fn narrow_bounding_set(keep: &[u32]) -> SysResult<Narrowed> {
    let mut narrowed = Narrowed::default();
    for cap in 0..64u32 {
        if keep.contains(&cap) {
            continue;
        }
        // SAFETY: prctl with integer arguments only.
        match cvt(unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) }) {
            Ok(_) => {}
            // Past the last capability this kernel knows (cap_last_cap).
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => break,
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                narrowed.bounding_set_kept = true;
                break;
            }
            Err(e) => return Err(e),
        }
    }
    // SAFETY: prctl with integer arguments only. EINVAL: a kernel before ambient sets.
    match cvt(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    }) {
        Ok(_) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
        Err(e) => return Err(e),
    }
    Ok(narrowed)
}

/// Leaves only the capabilities `keep` in the permitted and effective sets and empties the
/// inheritable set (after a user switch, it raises them back into the effective set from
/// the permitted set that PR_SET_KEEPCAPS kept).
pub fn keep_only(keep: &[u32]) -> SysResult<()> {
    let header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let set = keep
        .iter()
        .filter(|&&cap| cap < 64)
        .fold(0u64, |set, &cap| set | 1 << cap);
    // Version 3 splits each 64-bit set into two 32-bit words, low first.
    let low = CapData {
        effective: set as u32,
        permitted: set as u32,
        inheritable: 0,
    };
    let high = CapData {
        effective: (set >> 32) as u32,
        permitted: (set >> 32) as u32,
        inheritable: 0,
    };
    let data = [low, high];
    // SAFETY: capset(2) reads one header and, for version 3, two data structs, both alive
    // for the call; libc has no wrapper, hence syscall(2).
    cvt(unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) })?;
    Ok(())
}

/// Returns whether the process has CAP_NET_ADMIN in its effective set (capget(2)).
pub fn has_net_admin() -> SysResult<bool> {
    let header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let empty = CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    };
    let mut data = [empty; 2];
    // SAFETY: capget(2) reads one header and, for version 3, writes two data structs, all
    // alive for the call; libc has no wrapper, hence syscall(2).
    cvt(unsafe { libc::syscall(libc::SYS_capget, &header, data.as_mut_ptr()) })?;
    Ok(data[0].effective & (1 << CAP_NET_ADMIN) != 0)
}

/// Sets `no_new_privs`: no exec could ever gain privilege (prctl(2)); also required for an
/// unprivileged seccomp filter.
pub fn set_no_new_privs() -> SysResult<()> {
    // SAFETY: prctl with integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })?;
    Ok(())
}

/// Installs the seccomp `program` for the process (one thread: no TSYNC needed).
pub fn install_filter(program: &[libc::sock_filter]) -> SysResult<()> {
    let len = u16::try_from(program.len()).map_err(|_| Errno(libc::EINVAL))?;
    let fprog = libc::sock_fprog {
        len,
        // The kernel only reads the program; the cast to `*mut` is the C API's.
        filter: program.as_ptr().cast_mut(),
    };
    // SAFETY: `fprog` points at `program`, alive and `len` instructions long for the call.
    cvt(unsafe { libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &fprog) })?;
    Ok(())
}

#[cfg(all(
    test,
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "mips"
    )
))]
mod tests {
    use super::*;

    /// Forks; the child installs the daemon's filter, makes system call `nr` without
    /// arguments, then exits 0 through exit_group (99 if the filter could not be installed).
    /// Returns the child's wait status.
    fn child_status_after(nr: libc::c_long) -> libc::c_int {
        let program = crate::linux::seccomp::filter(&[]).unwrap();
        // SAFETY: the child runs only prctl, syscall and _exit, all async-signal-safe, so
        // forking the multi-threaded test process is sound.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", crate::sys::errno::errno());
        if pid == 0 {
            if set_no_new_privs()
                .and_then(|()| install_filter(&program))
                .is_err()
            {
                // SAFETY: ends the child without running the parent's atexit handlers.
                unsafe { libc::_exit(99) };
            }
            // SAFETY: a system call without arguments (getpid, getppid read nothing).
            unsafe { libc::syscall(nr) };
            // SAFETY: as above; exit_group is allowed by the filter.
            unsafe { libc::_exit(0) };
        }
        let mut status = 0;
        // SAFETY: waits for our own child; `status` is writable.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        status
    }

    #[test]
    fn net_admin_as_proc_reports_it() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let mask = status
            .lines()
            .find_map(|line| line.strip_prefix("CapEff:"))
            .unwrap()
            .trim();
        let mask = u64::from_str_radix(mask, 16).unwrap();
        assert_eq!(
            has_net_admin().unwrap(),
            mask & (1 << CAP_NET_ADMIN) != 0,
            "CapEff {mask:#x}"
        );
    }

    // qemu-user, which runs the 32-bit tests in CI, refuses PR_SET_SECCOMP (EINVAL: a filter
    // would apply to the emulator's own calls); on those CPUs these run with --ignored on
    // Debian's armhf and mipsel kernels (tests/vm/kernel-32.sh).
    #[cfg_attr(
        any(target_arch = "arm", target_arch = "mips"),
        ignore = "needs a kernel of this CPU: qemu-user refuses seccomp filters"
    )]
    #[test]
    fn a_forbidden_call_kills_the_process_with_sigsys() {
        let status = child_status_after(libc::SYS_getppid);
        assert!(
            libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSYS,
            "status {status:#x}"
        );
    }

    // As above.
    #[cfg_attr(
        any(target_arch = "arm", target_arch = "mips"),
        ignore = "needs a kernel of this CPU: qemu-user refuses seccomp filters"
    )]
    #[test]
    fn an_allowed_call_returns() {
        let status = child_status_after(libc::SYS_getpid);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "status {status:#x}"
        );
    }

    /// An nsec of 10^9 is invalid in any timespec: the kernel refuses it (EINVAL) where it reads
    /// one, and finds a valid zero in the same bytes read as the 32-bit timespec of the old
    /// calls (their first 8 bytes, both words 0 here in either byte order).
    #[cfg(any(target_arch = "arm", target_arch = "mips"))]
    const BAD_TIMESPEC64: [i64; 2] = [0, 1_000_000_000];

    /// Returns the errno of a failed raw system call, 0 on success.
    #[cfg(any(target_arch = "arm", target_arch = "mips"))]
    fn errno_of(ret: libc::c_long) -> i32 {
        if ret == -1 {
            crate::sys::errno::errno().raw_os_error().unwrap()
        } else {
            0
        }
    }

    /// The seccomp list's time64 numbers name those calls: each, made here, does what that
    /// call does, which neither its old variant nor a missing call (ENOSYS) would.
    #[cfg(any(target_arch = "arm", target_arch = "mips"))]
    #[test]
    fn time64_numbers_make_the_time64_calls() {
        use crate::linux::seccomp::time64::*;

        // clock_gettime64 writes two 64-bit words; the old call would write two 32-bit ones
        // over the first, leaving the second at -1.
        let mut now = [-1i64; 2];
        // SAFETY: `now` is writable for the 16 bytes a __kernel_timespec takes.
        let ret =
            unsafe { libc::syscall(SYS_CLOCK_GETTIME64, libc::CLOCK_MONOTONIC, now.as_mut_ptr()) };
        assert_eq!(errno_of(ret), 0, "clock_gettime64");
        assert!((0..1_000_000_000).contains(&now[1]), "{now:?}");
        let mut old = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `old` is writable for the call.
        let ret = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut old) };
        assert_eq!(ret, 0);
        assert!((i64::from(old.tv_sec) - now[0]).abs() <= 1, "{now:?}");

        // ppoll_time64 on no descriptor: EINVAL for the timespec (ppoll would time out: 0).
        let mut unused = libc::pollfd {
            fd: -1,
            events: 0,
            revents: 0,
        };
        // SAFETY: one pollfd and one timespec, alive for the call; no signal mask.
        let ret = unsafe {
            libc::syscall(
                SYS_PPOLL_TIME64,
                &mut unused,
                1,
                BAD_TIMESPEC64.as_ptr(),
                core::ptr::null::<u8>(),
                0,
            )
        };
        assert_eq!(errno_of(ret), libc::EINVAL, "ppoll_time64");

        // futex_time64 waiting on a word that holds the expected value: EINVAL for the timespec
        // (futex would time out at once: ETIMEDOUT).
        let word = 0u32;
        // SAFETY: `word` and the timespec are alive for the call; FUTEX_WAIT reads the word.
        let ret = unsafe {
            libc::syscall(
                SYS_FUTEX_TIME64,
                &word,
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                0,
                BAD_TIMESPEC64.as_ptr(),
            )
        };
        assert_eq!(errno_of(ret), libc::EINVAL, "futex_time64");
    }

    /// As above for recvmmsg_time64, which qemu-user 7.2 does not know (ENOSYS: musl falls back
    /// to recvmmsg there, as on a kernel before 5.1).
    #[cfg(any(target_arch = "arm", target_arch = "mips"))]
    #[ignore = "needs a kernel of this CPU: qemu-user answers ENOSYS"]
    #[test]
    fn recvmmsg_time64_number_makes_recvmmsg_time64() {
        use crate::linux::seccomp::time64::SYS_RECVMMSG_TIME64;

        // recvmmsg_time64 checks the timespec before the descriptor (do_recvmmsg): EINVAL
        // rather than recvmmsg's EBADF.
        // SAFETY: no messages (vlen 0); the timespec is alive for the call.
        let ret = unsafe {
            libc::syscall(
                SYS_RECVMMSG_TIME64,
                -1,
                core::ptr::null_mut::<libc::mmsghdr>(),
                0,
                0,
                BAD_TIMESPEC64.as_ptr(),
            )
        };
        assert_eq!(errno_of(ret), libc::EINVAL, "recvmmsg_time64");
    }
}
