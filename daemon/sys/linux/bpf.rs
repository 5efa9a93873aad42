//! The `bpf(2)` commands that load tcpmssd's eBPF program and reach its maps.
//!
//! One `union bpf_attr` member per command, laid out as include/uapi/linux/bpf.h has it and
//! passed with its own size: the kernel reads that many bytes and takes the rest as zero
//! (`bpf_check_uarg_tail_zero`). This file moves bytes; the object is read by tcpmssd-wire
//! (`elf.rs`) and assembled in `daemon/linux/ebpf.rs`.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use static_assertions::assert_eq_size;

use crate::sys::cvt;
use crate::sys::errno::{Errno, SysResult};

/// `BPF_MAP_CREATE`.
const MAP_CREATE: libc::c_int = 0;
/// `BPF_MAP_LOOKUP_ELEM`.
pub const MAP_LOOKUP_ELEM: libc::c_int = 1;
/// `BPF_MAP_UPDATE_ELEM`.
pub const MAP_UPDATE_ELEM: libc::c_int = 2;
/// `BPF_PROG_LOAD`.
const PROG_LOAD: libc::c_int = 5;
/// `BPF_PROG_TEST_RUN`.
#[cfg(test)]
const PROG_TEST_RUN: libc::c_int = 10;
/// `BPF_OBJ_GET_INFO_BY_FD`.
const OBJ_GET_INFO_BY_FD: libc::c_int = 15;

/// `BPF_PROG_TYPE_SCHED_CLS`: a TC classifier.
pub const PROG_TYPE_SCHED_CLS: u32 = 3;

/// `bpf_attr` for `BPF_MAP_CREATE`, up to `map_name`.
#[repr(C)]
struct MapCreate {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; 16],
}
assert_eq_size!(MapCreate, [u8; 44]);

/// `bpf_attr` for the element commands.
#[repr(C)]
struct MapElem {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}
assert_eq_size!(MapElem, [u8; 32]);

/// `bpf_attr` for `BPF_PROG_LOAD`, up to `prog_name`.
#[repr(C)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
}
assert_eq_size!(ProgLoad, [u8; 64]);

/// `bpf_attr` for `BPF_PROG_TEST_RUN` (`test`), up to `duration`: no context in or out.
#[cfg(test)]
#[repr(C)]
struct TestRun {
    prog_fd: u32,
    retval: u32,
    data_size_in: u32,
    data_size_out: u32,
    data_in: u64,
    data_out: u64,
    repeat: u32,
    duration: u32,
}
#[cfg(test)]
assert_eq_size!(TestRun, [u8; 40]);

/// `bpf_attr` for `BPF_OBJ_GET_INFO_BY_FD` (`info`).
#[repr(C)]
struct GetInfo {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}
assert_eq_size!(GetInfo, [u8; 16]);

/// The `bpf(2)` system call on one attribute struct of type `T`.
///
/// # Safety
/// `attr` must be the member of `union bpf_attr` that `cmd` reads, and every pointer in it
/// valid for what the kernel does with it for the whole call.
unsafe fn bpf<T>(cmd: libc::c_int, attr: &mut T) -> SysResult<libc::c_long> {
    let size = core::mem::size_of::<T>() as libc::c_uint;
    // SAFETY: the caller vouches for `attr`'s pointers; `attr` itself is valid for `size`
    // bytes, read and written, for the call.
    cvt(unsafe { libc::syscall(libc::SYS_bpf, cmd, core::ptr::from_mut(attr), size) })
}

/// Wraps a descriptor the kernel just returned.
fn owned(fd: libc::c_long) -> SysResult<OwnedFd> {
    let fd = libc::c_int::try_from(fd).map_err(|_| Errno::NO_ERRNO)?;
    // SAFETY: `fd` was just returned by bpf(2) as a new descriptor nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Copies `name` into a `BPF_OBJ_NAME_LEN` array, cut to 15 bytes and NUL-terminated.
fn object_name(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (slot, byte) in out.iter_mut().zip(name.bytes().take(15)) {
        *slot = byte;
    }
    out
}

/// Lifts this process's RLIMIT_MEMLOCK, so that kernels before 5.11 create its maps and load
/// its program: they charge both against the limit of locked memory, summed over the user's
/// processes (one daemon 56 KiB, against Debian 11's default of 64 KiB: a second daemon, or a
/// new one while a killed one's program stays attached, got EPERM from BPF_MAP_CREATE on 5.10).
/// Since 5.11 the memory cgroup is charged instead ("bpf: switch to memcg-based memory
/// accounting", 3ac1f01b43b6), and the limit is not read. As libbpf, bcc and cilium/ebpf do.
/// Needs CAP_SYS_RESOURCE to raise the hard limit; without it the loads say what failed.
pub fn lift_memlock_limit() -> SysResult<()> {
    let unlimited = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: setrlimit only reads the struct, which lives across the call.
    cvt(unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &unlimited) }).map(drop)
}

/// Creates a map (`BPF_MAP_CREATE`); bpf(2) descriptors are always close-on-exec.
pub fn map_create(
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    name: &str,
) -> SysResult<OwnedFd> {
    let mut attr = MapCreate {
        map_type,
        key_size,
        value_size,
        max_entries,
        map_flags,
        inner_map_fd: 0,
        numa_node: 0,
        map_name: object_name(name),
    };
    // SAFETY: MAP_CREATE reads this member, which holds no pointers.
    let fd = unsafe { bpf(MAP_CREATE, &mut attr) }?;
    owned(fd)
}

/// Writes `value` at `key` (`BPF_MAP_UPDATE_ELEM`, `BPF_ANY`). Both must be the map's key
/// and value sizes (for a per-CPU map, the value once per possible CPU, each 8-aligned):
/// the kernel reads that many bytes.
pub fn map_update(map: BorrowedFd<'_>, key: &[u8], value: &[u8]) -> SysResult<()> {
    let mut attr = MapElem {
        map_fd: map.as_raw_fd() as u32,
        _pad: 0,
        key: key.as_ptr() as u64,
        value: value.as_ptr() as u64,
        flags: 0,
    };
    // SAFETY: `key` and `value` are readable for the map's sizes (the caller's contract,
    // documented above) and live across the call.
    unsafe { bpf(MAP_UPDATE_ELEM, &mut attr) }?;
    Ok(())
}

/// Reads the value at `key` into `value` (`BPF_MAP_LOOKUP_ELEM`), sized as for
/// [`map_update`].
pub fn map_lookup(map: BorrowedFd<'_>, key: &[u8], value: &mut [u8]) -> SysResult<()> {
    let mut attr = MapElem {
        map_fd: map.as_raw_fd() as u32,
        _pad: 0,
        key: key.as_ptr() as u64,
        value: value.as_mut_ptr() as u64,
        flags: 0,
    };
    // SAFETY: `key` is readable and `value` writable for the map's sizes (the caller's
    // contract) and both live across the call.
    unsafe { bpf(MAP_LOOKUP_ELEM, &mut attr) }?;
    Ok(())
}

/// Loads a program of `prog_type` from its instructions (`BPF_PROG_LOAD`); the verifier's
/// log at `log_level` (1: the checks, 4: statistics only; 0 with an empty `log`) goes into
/// `log`, NUL-terminated.
pub fn prog_load(
    prog_type: u32,
    insns: &[u8],
    license: &CStr,
    name: &str,
    log_level: u32,
    log: &mut [u8],
) -> SysResult<OwnedFd> {
    let insn_cnt = u32::try_from(insns.len() / 8).map_err(|_| Errno::INVALID_INPUT)?;
    let log_size = u32::try_from(log.len()).map_err(|_| Errno::INVALID_INPUT)?;
    let mut attr = ProgLoad {
        prog_type,
        insn_cnt,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level,
        log_size,
        // Null without a log: the kernel refuses a buffer with level 0 (EINVAL), and an empty
        // slice's pointer is not null.
        log_buf: if log.is_empty() {
            0
        } else {
            log.as_mut_ptr() as u64
        },
        kern_version: 0,
        prog_flags: 0,
        prog_name: object_name(name),
    };
    // SAFETY: `insns` is readable for `insn_cnt` 8-byte instructions, `license` is a C
    // string and `log` writable for `log_size` bytes, all across the call.
    let fd = unsafe { bpf(PROG_LOAD, &mut attr) }?;
    owned(fd)
}

/// Returns the id of program `prog` (`BPF_OBJ_GET_INFO_BY_FD`), the number tc(8) and the
/// kernel's filter messages name it by.
pub fn prog_id(prog: BorrowedFd<'_>) -> SysResult<u32> {
    // The first two fields of `struct bpf_prog_info`, type and id: the kernel copies no more
    // than `info_len` bytes in either direction (bpf_prog_get_info_by_fd).
    let mut info = [0u32; 2];
    let mut attr = GetInfo {
        bpf_fd: prog.as_raw_fd() as u32,
        info_len: core::mem::size_of_val(&info) as u32,
        info: info.as_mut_ptr() as u64,
    };
    // SAFETY: `info` is writable for `info_len` bytes across the call.
    unsafe { bpf(OBJ_GET_INFO_BY_FD, &mut attr) }?;
    Ok(info[1])
}

/// Runs the program once on `data_in` (`BPF_PROG_TEST_RUN`) and copies the packet it leaves
/// into `data_out`; returns the program's return value and the packet's length (which may
/// exceed `data_out.len()`: the kernel then fails with `ENOSPC`).
#[cfg(test)]
pub fn prog_test_run(
    prog: BorrowedFd<'_>,
    data_in: &[u8],
    data_out: &mut [u8],
) -> SysResult<(u32, usize)> {
    let too_long = |_| Errno::INVALID_INPUT;
    let mut attr = TestRun {
        prog_fd: prog.as_raw_fd() as u32,
        retval: 0,
        data_size_in: u32::try_from(data_in.len()).map_err(too_long)?,
        data_size_out: u32::try_from(data_out.len()).map_err(too_long)?,
        data_in: data_in.as_ptr() as u64,
        data_out: data_out.as_mut_ptr() as u64,
        repeat: 1,
        duration: 0,
    };
    // SAFETY: `data_in` is readable and `data_out` writable for the sizes given, across
    // the call.
    unsafe { bpf(PROG_TEST_RUN, &mut attr) }?;
    Ok((attr.retval, attr.data_size_out as usize))
}
