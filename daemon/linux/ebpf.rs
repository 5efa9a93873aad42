//! The eBPF classifier (ebpf/, built by `ebpf/build.sh` into the committed objects in
//! `linux/ebpf/`) and its loading: maps created from the object's definitions, their fds
//! patched into the `ld_imm64` instructions that name them, the program handed to the
//! verifier. The object is read by tcpmssd-wire (`elf.rs`); `bpf(2)` is in
//! `sys/linux/bpf.rs`.
//!
//! The program's contract with its loader, mirrored here from ebpf/src/main.rs (the tests
//! below check the object agrees): map `LIMITS` (array, one entry: IPv4 and IPv6 MSS as
//! native-endian `u16`, 0 = not set) and map `COUNTERS` (per-CPU array of `u64`: one per
//! `Reason` at its index, then [`CLAMPED`], [`NO_LIMITS`], [`HELPER_FAILED`]); both
//! programs also have `PACKET`, their own (per-CPU working memory).

use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use tcpmssd_core::{Limits, Reason};
use tcpmssd_wire::elf::{self, Object, R_BPF_64_64};

use crate::sys::errno::{Errno, SysResult};
use crate::sys::linux::bpf;
use crate::text::{put, Line, Piece};

/// The object for this machine's byte order.
#[cfg(target_endian = "little")]
pub const OBJECT: &[u8] = include_bytes!("ebpf/tcpmssd-bpfel.o");
/// The object for this machine's byte order.
#[cfg(target_endian = "big")]
pub const OBJECT: &[u8] = include_bytes!("ebpf/tcpmssd-bpfeb.o");

/// The program for Ethernet devices (`clamp_ethernet`).
pub const SECTION_ETHERNET: &str = "classifier/ethernet";
/// The program for devices without a link header (`clamp_prefix`).
pub const SECTION_L3: &str = "classifier/l3";

/// Bytes of the packet the program copies and hands to the core (`PREFIX_LEN`).
#[cfg(test)]
pub const PREFIX_LEN: usize = 192;
/// Counter slot of the packets clamped.
pub const CLAMPED: usize = Reason::ALL.len();
/// Counter slot of the packets seen while a limit was still 0.
pub const NO_LIMITS: usize = CLAMPED + 1;
/// Counter slot of the packets a helper call failed on.
pub const HELPER_FAILED: usize = NO_LIMITS + 1;
/// Counter slots in all.
pub const COUNTER_SLOTS: usize = HELPER_FAILED + 1;

/// Why a program could not be loaded.
#[derive(Debug)]
pub enum Error {
    /// The object is not what this loader reads: which part.
    Object(&'static str),
    /// Creating a map failed.
    Map(Errno),
    /// The verifier (or the kernel before it) refused the program.
    Load(Errno),
}

impl Piece for Error {
    fn put(&self, line: &mut Line) {
        match self {
            Error::Object(what) => put!(line; "the eBPF object: ", what),
            Error::Map(error) => put!(line; "bpf(BPF_MAP_CREATE): ", error),
            Error::Load(error) => put!(line; "bpf(BPF_PROG_LOAD): ", error),
        }
    }
}

// The tests of the programs name a load failure in their panic messages.
#[cfg(test)]
impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&crate::text::shown!(self))
    }
}

/// The maps a program uses, created on the first reference and shared by every program
/// loaded with them: the Ethernet and the L3 program count into one `COUNTERS` and clamp to
/// one `LIMITS`.
#[derive(Debug, Default)]
pub struct Maps {
    limits: Option<OwnedFd>,
    counters: Option<OwnedFd>,
    packet: Option<OwnedFd>,
}

impl Maps {
    /// Writes the limits the programs clamp to; `None`: 0, nothing is clamped.
    pub fn set_limits(&self, limits: Option<Limits>) -> SysResult<()> {
        let map = self.limits.as_ref().ok_or(Errno::NO_ERRNO)?;
        let (ipv4_mss, ipv6_mss) = limits.map_or((0, 0), |l| (l.ipv4_mss(), l.ipv6_mss()));
        let mut value = [0u8; 4];
        let (ipv4, ipv6) = value.split_at_mut(2);
        ipv4.copy_from_slice(&ipv4_mss.to_ne_bytes());
        ipv6.copy_from_slice(&ipv6_mss.to_ne_bytes());
        bpf::map_update(map.as_fd(), &0u32.to_ne_bytes(), &value)
    }

    /// Returns each counter summed over `cpus` possible CPUs, read through `buf` (8 bytes a
    /// CPU; `EINVAL` when it is shorter).
    pub fn counters(&self, cpus: usize, buf: &mut [u8]) -> SysResult<[u64; COUNTER_SLOTS]> {
        let map = self.counters.as_ref().ok_or(Errno::NO_ERRNO)?;
        let values = cpus
            .checked_mul(8)
            .and_then(|len| buf.get_mut(..len))
            .ok_or(Errno(libc::EINVAL))?;
        let mut sums = [0u64; COUNTER_SLOTS];
        for (slot, sum) in (0u32..).zip(sums.iter_mut()) {
            bpf::map_lookup(map.as_fd(), &slot.to_ne_bytes(), values)?;
            *sum = values
                .chunks_exact(8)
                .filter_map(|value| value.try_into().ok())
                .map(u64::from_ne_bytes)
                .fold(0, u64::wrapping_add);
        }
        Ok(sums)
    }
}

/// A loaded program and its own maps (the tests' way to load one).
#[cfg(test)]
#[derive(Debug)]
pub struct Program {
    /// The program (`BPF_PROG_TYPE_SCHED_CLS`).
    pub fd: OwnedFd,
    /// Its maps.
    pub maps: Maps,
}

#[cfg(test)]
impl Program {
    /// Writes the limits the program clamps to.
    pub fn set_limits(&self, limits: Limits) -> SysResult<()> {
        self.maps.set_limits(Some(limits))
    }

    /// Returns each counter summed over `cpus` possible CPUs.
    pub fn counters(&self, cpus: usize) -> SysResult<[u64; COUNTER_SLOTS]> {
        self.maps.counters(cpus, &mut vec![0u8; cpus * 8])
    }
}

/// Loads the program in `section` of `object` with fresh maps; the verifier's log at
/// `log_level` goes into `log` (see [`bpf::prog_load`]).
#[cfg(test)]
pub fn load(
    object: &[u8],
    section: &str,
    log_level: u32,
    log: &mut [u8],
) -> Result<Program, Error> {
    let mut maps = Maps::default();
    let fd = load_with(object, section, &mut maps, log_level, log)?;
    Ok(Program { fd, maps })
}

/// Loads the program in `section` of `object` with `maps`, creating those it needs that do
/// not exist yet; the verifier's log at `log_level` goes into `log`.
pub fn load_with(
    object: &[u8],
    section: &str,
    maps: &mut Maps,
    log_level: u32,
    log: &mut [u8],
) -> Result<OwnedFd, Error> {
    let object = Object::parse(object).ok_or(Error::Object("not an eBPF ELF64 object"))?;
    let mut insns = object
        .section_data(section)
        .ok_or(Error::Object("no such program section"))?
        .to_vec();
    let license = object
        .section_data("license")
        .and_then(|bytes| CStr::from_bytes_until_nul(bytes).ok())
        .ok_or(Error::Object("no license section"))?;
    let maps_section = object
        .section_index("maps")
        .ok_or(Error::Object("no maps section"))?;
    let relocations = object
        .relocations(section)
        .ok_or(Error::Object("unreadable relocations"))?;
    for relocation in &relocations {
        // Only map references: the core is inlined on BPF, so the program calls no
        // subprograms and reads no global data.
        if relocation.kind != R_BPF_64_64 || relocation.symbol_section != maps_section {
            return Err(Error::Object("a relocation other than a map reference"));
        }
        let slot = match relocation.symbol {
            "LIMITS" => &mut maps.limits,
            "COUNTERS" => &mut maps.counters,
            "PACKET" => &mut maps.packet,
            _ => return Err(Error::Object("an unknown map")),
        };
        if slot.is_none() {
            let def = object
                .map_def(relocation.symbol_value)
                .ok_or(Error::Object("unreadable map definition"))?;
            let fd = bpf::map_create(
                def.map_type,
                def.key_size,
                def.value_size,
                def.max_entries,
                def.map_flags,
                relocation.symbol,
            )
            .map_err(Error::Map)?;
            *slot = Some(fd);
        }
        let fd = slot.as_ref().map_or(-1, AsRawFd::as_raw_fd);
        elf::patch_map_fd(&mut insns, relocation.at, fd as u32, object.big_endian())
            .ok_or(Error::Object("a map reference that is not ld_imm64"))?;
    }
    if maps.limits.is_none() || maps.counters.is_none() {
        return Err(Error::Object("a map is not referenced"));
    }
    bpf::prog_load(
        bpf::PROG_TYPE_SCHED_CLS,
        &insns,
        license,
        "tcpmssd",
        log_level,
        log,
    )
    .map_err(Error::Load)
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]
mod tests;
