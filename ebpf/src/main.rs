//! tcpmssd-core as a TC classifier: clamps the MSS of SYNs and SYN-ACKs in the kernel.
//!
//! Two programs, one per kind of link header, each in its own ELF section:
//! - `classifier/ethernet` for Ethernet devices (veth, physical ports, bridges): the frame
//!   is clamped as `clamp_ethernet` does it, up to two VLAN tags in front of IP, in that
//!   function's steps (`ethernet_ip_start`, then `clamp_prefix` as its two steps
//!   `prefix_segment` and `clamp_prefix_segment`; [`clamp_frame`] and [`clamp_loaded`] say
//!   why);
//! - `classifier/l3` for devices without a link header (PPP, WireGuard, ipip, tun): the
//!   packet goes through the same two steps of `clamp_prefix`.
//!
//! Each copies the first bytes of the frame or packet (the link header and [`PREFIX_LEN`]
//! bytes of IP packet) into a per-CPU buffer with one
//! `bpf_skb_load_bytes`, lets the core clamp the copy, writes back only the 16-bit words
//! the core says it changed (`bpf_skb_store_bytes`) and has the kernel apply each change
//! to the TCP checksum (`bpf_l4_csum_replace`, size 2, no `BPF_F_PSEUDO_HDR`). The core's
//! own updated checksum in the copy is never written: for a CHECKSUM_PARTIAL skb (locally
//! generated, veth) the field holds only the pseudo-header sum, and the kernel, which knows
//! `ip_summed`, leaves it alone where it must (research/ebpf.md, "the one real trap").
//!
//! Maps (legacy `maps` section, `struct bpf_map_def` layout; the daemon creates them and
//! patches their fds into the `ld_imm64` instructions that name them):
//! - `LIMITS`: an array of one entry, the IPv4 and the IPv6 MSS limit as two native-endian
//!   `u16`. A limit of 0 means "not set yet": nothing is clamped.
//! - `COUNTERS`: a per-CPU array of `u64`, one per [`Reason`] at `Reason::index()`, then
//!   [`CLAMPED`], [`NO_LIMITS`] and [`HELPER_FAILED`].
//! - `PACKET`: a per-CPU array of one [`PACKET_LEN`]-byte [`Buffer`]: where the prefix is
//!   copied, and a word where [`opaque`] hides numbers from the verifier.
//!
//! Every program returns `TC_ACT_UNSPEC` (-1; `TCX_NEXT` on a tcx link): it never drops
//! or redirects, and the next classifier, if any, still sees the packet.
//!
//! All `unsafe` here is the helper-call boundary (`helpers` below) and the context read.
#![no_std]
#![no_main]
#![deny(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block
)]

use tcpmssd_core::{
    clamp_prefix, clamp_prefix_segment, ethernet_ip_start, prefix_segment, Changes, Limits,
    Outcome, Reason,
};

/// Bytes of the packet copied to the stack: Ethernet with two tags (22), an IPv6 header
/// (40) with a few extension headers, and a TCP header with 40 bytes of options (60) fit.
/// A packet whose headers run past it is left alone as `short-prefix`.
const PREFIX_LEN: usize = 192;
// `clamp_packet` passes a segment start of at most PREFIX_LEN + 1 in one byte.
const _: () = assert!(PREFIX_LEN < 0xff);

/// Bytes of the `PACKET` buffer: the prefix and room after it, never handed to the core. The
/// verifier bounds each register on its own, so it checks the core's reads as if a whole TCP
/// header could start at the prefix's last byte (research/ebpf.md, rejection 4), and 6.1's
/// as if up to 16 KiB of IPv6 extension headers came first. The most a per-CPU map value
/// may hold (PCPU_MIN_UNIT_SIZE).
const PACKET_LEN: usize = 32 * 1024;

/// The `PACKET` map's value: the prefix's room, and a word [`opaque`] passes numbers through.
/// One map lookup per packet for both: each helper call is time on every packet.
#[repr(C)]
pub struct Buffer {
    bytes: [u8; PACKET_LEN - 8],
    hidden: u64,
}
const _: () = assert!(core::mem::size_of::<Buffer>() == PACKET_LEN);

/// The TCP header without options, and the most options it may have (RFC 9293 3.1).
const TCP_HEADER_LEN: usize = 20;
const OPTIONS_MAX: usize = 40;

/// Bytes of the longest link header `ethernet_ip_start` reads: Ethernet and two tags.
const LINK_HEADER_MAX: usize = 22;

/// Counter slot of the packets clamped.
pub const CLAMPED: u32 = Reason::ALL.len() as u32;
/// Counter slot of the packets seen while a limit was still 0.
pub const NO_LIMITS: u32 = CLAMPED + 1;
/// Counter slot of the packets a helper call failed on (load, store or checksum).
pub const HELPER_FAILED: u32 = NO_LIMITS + 1;
/// Counter slots in all.
const COUNTER_SLOTS: u32 = HELPER_FAILED + 1;

/// `TC_ACT_UNSPEC`: this program does not decide the packet's fate.
const TC_ACT_UNSPEC: i32 = -1;

/// `BPF_MAP_TYPE_ARRAY`.
const BPF_MAP_TYPE_ARRAY: u32 = 2;
/// `BPF_MAP_TYPE_PERCPU_ARRAY`.
const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;

/// `struct bpf_map_def` of libbpf's legacy `maps` section: the loader reads it to create
/// the map.
#[repr(C)]
pub struct MapDef {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
}

/// The IPv4 and IPv6 limit, as the daemon writes them.
#[no_mangle]
#[link_section = "maps"]
static LIMITS: MapDef = MapDef {
    map_type: BPF_MAP_TYPE_ARRAY,
    key_size: 4,
    value_size: 4,
    max_entries: 1,
    map_flags: 0,
};

/// The packet's prefix, one buffer per CPU: [`PACKET_LEN`] bytes, more than any offset the
/// verifier may think the core reads at. Linux 6.1's verifier does not narrow a register by
/// a comparison with another non-constant one (the core's `offset < len` checks), so it
/// bounds the core's offsets only by their arithmetic: up to 8 IPv6 extension headers of
/// 2,048 bytes each, then a TCP header. On the stack the buffer could be a few hundred bytes
/// ("invalid variable-offset read from stack"); a map value is checked against its own
/// size, and a per-CPU value may be 32 KiB.
#[no_mangle]
#[link_section = "maps"]
static PACKET: MapDef = MapDef {
    map_type: BPF_MAP_TYPE_PERCPU_ARRAY,
    key_size: 4,
    value_size: PACKET_LEN as u32,
    max_entries: 1,
    map_flags: 0,
};

/// One `u64` per outcome, per CPU.
#[no_mangle]
#[link_section = "maps"]
static COUNTERS: MapDef = MapDef {
    map_type: BPF_MAP_TYPE_PERCPU_ARRAY,
    key_size: 4,
    value_size: 8,
    max_entries: COUNTER_SLOTS,
    map_flags: 0,
};

/// The kernel checks that a program using GPL-only helpers says it is GPL-compatible;
/// BSD-2-Clause is. The helpers used here are not GPL-only, but the string is required.
#[no_mangle]
#[link_section = "license"]
static LICENSE: [u8; 13] = *b"Dual BSD/GPL\0";

/// The start of `struct __sk_buff`, as far as this program reads it.
#[repr(C)]
pub struct SkBuff {
    /// The packet's length from its first byte (`skb->len`).
    len: u32,
}

/// The helpers, called by number (include/uapi/linux/bpf.h, `___BPF_FUNC_MAPPER`): the
/// kernel's verifier rewrites `call <id>` into the helper's address.
mod helpers {
    use core::ffi::c_void;

    use super::SkBuff;

    /// `bpf_map_lookup_elem`.
    const MAP_LOOKUP_ELEM: usize = 1;
    /// `bpf_skb_store_bytes`.
    const SKB_STORE_BYTES: usize = 9;
    /// `bpf_l4_csum_replace`.
    const L4_CSUM_REPLACE: usize = 11;
    /// `bpf_skb_load_bytes`.
    const SKB_LOAD_BYTES: usize = 26;

    /// Returns a pointer to the value at `key` in the map `map`, or null.
    ///
    /// The verifier checks that `map` is a map reference and that the caller tests the
    /// result for null before it dereferences it.
    #[inline(always)]
    pub fn map_lookup(map: *const c_void, key: &u32) -> *mut c_void {
        // SAFETY: helper 1 has this signature; the call instruction it becomes takes its
        // arguments in R1-R2 as this ABI passes them. `key` lives across the call.
        let f: extern "C" fn(*const c_void, *const u32) -> *mut c_void =
            unsafe { core::mem::transmute(MAP_LOOKUP_ELEM) };
        f(map, key)
    }

    /// Copies `len` bytes of the packet from `offset` to the start of `buf`; negative on
    /// failure, and -1 without a call when `len` is 0 or more than `N`.
    #[inline(always)]
    pub fn skb_load_bytes<const N: usize>(
        skb: *mut SkBuff,
        offset: u32,
        buf: &mut [u8; N],
        len: usize,
    ) -> i64 {
        // The verifier must see 0 < len <= N on the very register it is handed. One unsigned
        // comparison of len - 1, and len rebuilt from it: Linux before 6.8 learns nothing
        // from `len != 0` (its JNE narrows no range), so `len == 0 || len > N` left 0 in the
        // range on 6.1 ("invalid zero-sized read"). Opaque to LLVM, so that it neither drops
        // the check as implied by the caller's nor hands the helper the unchecked register
        // (research/ebpf.md, rejection 2).
        let below = core::hint::black_box(len.wrapping_sub(1));
        if below >= N {
            return -1;
        }
        let len = below + 1;
        // SAFETY: helper 26 has this signature; `buf` is valid for `len` <= N writable
        // bytes across the call, which the verifier checks again.
        let f: extern "C" fn(*mut SkBuff, u32, *mut c_void, u64) -> i64 =
            unsafe { core::mem::transmute(SKB_LOAD_BYTES) };
        f(skb, offset, buf.as_mut_ptr().cast(), len as u64)
    }

    /// Writes two bytes into the packet at `offset`; negative on failure.
    #[inline(always)]
    pub fn skb_store_word(skb: *mut SkBuff, offset: u32, word: &[u8; 2]) -> i64 {
        // SAFETY: helper 9 has this signature; `word` is valid for 2 readable bytes across
        // the call. Flags 0: no checksum work in this helper.
        let f: extern "C" fn(*mut SkBuff, u32, *const c_void, u32, u64) -> i64 =
            unsafe { core::mem::transmute(SKB_STORE_BYTES) };
        f(skb, offset, word.as_ptr().cast(), 2, 0)
    }

    /// Has the kernel update the TCP checksum at `offset` for one 16-bit word changed from
    /// `from` to `to` (both as they sit in the packet); negative on failure.
    #[inline(always)]
    pub fn l4_csum_replace(skb: *mut SkBuff, offset: u32, from: u16, to: u16) -> i64 {
        // SAFETY: helper 11 has this signature and takes no pointer but the context.
        // Flags 2 = size of the changed field, no BPF_F_PSEUDO_HDR: the pseudo-header does
        // not change, and for a CHECKSUM_PARTIAL skb the kernel leaves the field alone.
        let f: extern "C" fn(*mut SkBuff, u32, u64, u64, u64) -> i64 =
            unsafe { core::mem::transmute(L4_CSUM_REPLACE) };
        f(skb, offset, u64::from(from), u64::from(to), 2)
    }
}

/// Clamps an Ethernet frame: the steps of `clamp_ethernet`, with the IP packet copied
/// apart from its link header (see [`clamp_frame`]).
#[no_mangle]
#[link_section = "classifier/ethernet"]
pub extern "C" fn tcpmssd_ethernet(skb: *mut SkBuff) -> i32 {
    // The buffer is looked up only once the limits are there: with both lookups made side
    // by side (a tuple), LLVM 22 read R1 after the second helper call, which clobbers it,
    // and the verifier refused that ("R1 !read_ok").
    let slot = match limits() {
        Some(limits) => buffer().map_or(HELPER_FAILED, |buffer| clamp_frame(skb, buffer, limits)),
        None => NO_LIMITS,
    };
    count(slot);
    TC_ACT_UNSPEC
}

/// Clamps an IP packet on a device without a link header (`clamp_prefix`).
#[no_mangle]
#[link_section = "classifier/l3"]
pub extern "C" fn tcpmssd_l3(skb: *mut SkBuff) -> i32 {
    let slot = match limits() {
        Some(limits) => buffer().map_or(HELPER_FAILED, |buffer| {
            clamp_packet(skb, buffer, skb_len(skb), limits)
        }),
        None => NO_LIMITS,
    };
    count(slot);
    TC_ACT_UNSPEC
}

/// Returns this CPU's `PACKET` buffer.
#[inline(always)]
fn buffer() -> Option<&'static mut Buffer> {
    let key = core::hint::black_box(0u32);
    let value = helpers::map_lookup((&raw const PACKET).cast(), &key).cast::<Buffer>();
    if value.is_null() {
        return None;
    }
    // SAFETY: a non-null lookup result points to this CPU's PACKET_LEN-byte value, aligned
    // for u64. TC programs run with bottom halves off: no other run on this CPU uses it
    // meanwhile, and this run takes the one reference.
    Some(unsafe { &mut *value })
}

/// Reads the limits; `None` while either is 0 (the daemon has not written them).
#[inline(always)]
fn limits() -> Option<Limits> {
    // A key on the stack: `&0` would be a constant in .rodata, a map of its own to load.
    let key = core::hint::black_box(0u32);
    let value = helpers::map_lookup((&raw const LIMITS).cast(), &key).cast::<[u16; 2]>();
    if value.is_null() {
        return None;
    }
    // SAFETY: a non-null lookup result points to the entry's 4 bytes, aligned for u16.
    let [ipv4, ipv6] = unsafe { value.read() };
    (ipv4 != 0 && ipv6 != 0).then(|| Limits::new(ipv4, ipv6))
}

/// Returns the packet's length from its first byte.
#[inline(always)]
fn skb_len(skb: *mut SkBuff) -> usize {
    // SAFETY: the context pointer is the skb's `struct __sk_buff`; reading `len` (offset 0,
    // 4 bytes) is a context access the verifier allows for TC programs.
    unsafe { (*skb).len as usize }
}

/// `clamp_ethernet` in its two steps over one copy of the frame's first bytes: the link
/// header (at most 22 bytes) to find the IP packet (`ethernet_ip_start`), then the packet
/// from there, clamped as `clamp_ethernet` does it (`clamp_loaded`). The root test in
/// daemon/linux/ebpf/tests.rs checks the bytes against `clamp_ethernet` itself.
///
/// The packet's start behind the tags goes through memory the verifier does not follow:
/// with it a constant (no tag, one, two) the verifier, which compares pointers exactly
/// when it prunes, walked all the IP and TCP code once for each, past its limit of a
/// million instructions on 6.18. One `bpf_skb_load_bytes` for both steps: each call costs
/// about 18 ns (`BPF_PROG_TEST_RUN`, 6.18, x86_64).
#[inline(always)]
fn clamp_frame(skb: *mut SkBuff, buffer: &mut Buffer, limits: Limits) -> u32 {
    let frame_len = skb_len(skb);
    let held = frame_len.min(LINK_HEADER_MAX + PREFIX_LEN);
    if held == 0 {
        return Reason::TruncatedFrame.index() as u32;
    }
    let Buffer { bytes, hidden } = buffer;
    if helpers::skb_load_bytes(skb, 0, bytes, held) < 0 {
        return HELPER_FAILED;
    }
    let Some(header) = bytes.get(..held.min(LINK_HEADER_MAX)) else {
        return HELPER_FAILED;
    };
    let (ip_start, version) = match ethernet_ip_start(header, frame_len) {
        Ok(found) => found,
        Err(reason) => return reason.index() as u32,
    };
    let opaque = opaque(hidden, ip_start as u64 | u64::from(version) << 8);
    let ip_start = (opaque & 0xff) as usize;
    let version = (opaque >> 8) as u8;
    if ip_start > LINK_HEADER_MAX {
        return HELPER_FAILED;
    }
    let Some(packet) = bytes.get_mut(ip_start..) else {
        return HELPER_FAILED;
    };
    clamp_loaded(
        skb,
        packet,
        hidden,
        ip_start,
        frame_len.saturating_sub(ip_start),
        limits,
        Some(version),
    )
}

/// Returns `value` after a round trip through `hidden`, a word of a map value: the same
/// number, but one the verifier knows nothing about (it does not track what a map value
/// holds).
#[inline(always)]
fn opaque(hidden: &mut u64, value: u64) -> u64 {
    let hidden = core::ptr::from_mut(hidden);
    // SAFETY: `hidden` comes from a reference, so it is valid and aligned for the write.
    unsafe { hidden.write_volatile(value) };
    // SAFETY: as above; volatile, so that LLVM does not forward the value just written.
    unsafe { hidden.read_volatile() }
}

/// Copies the first bytes of the IP packet of `packet_len` bytes at the skb's start and
/// clamps them (`clamp_loaded`); returns the counter slot.
#[inline(always)]
fn clamp_packet(skb: *mut SkBuff, buffer: &mut Buffer, packet_len: usize, limits: Limits) -> u32 {
    let copy_len = packet_len.min(PREFIX_LEN);
    if copy_len == 0 {
        return clamp_loaded(
            skb,
            &mut [],
            &mut buffer.hidden,
            0,
            packet_len,
            limits,
            None,
        );
    }
    let Buffer { bytes, hidden } = buffer;
    if helpers::skb_load_bytes(skb, 0, bytes, copy_len) < 0 {
        return HELPER_FAILED;
    }
    clamp_loaded(skb, bytes, hidden, 0, packet_len, limits, None)
}

/// Clamps the IP packet of `packet_len` bytes at `ip_start` in the skb, whose first bytes
/// (up to PREFIX_LEN) `window` starts with: `clamp_prefix` (first, when `version` is given,
/// the check that the version nibble is the EtherType's, as `clamp_ethernet` makes it), and
/// writes the changes back; returns the counter slot. The window runs on past the prefix,
/// through the map value, so that reads at the options always find bytes.
#[inline(always)]
fn clamp_loaded(
    skb: *mut SkBuff,
    window: &mut [u8],
    hidden: &mut u64,
    ip_start: usize,
    packet_len: usize,
    limits: Limits,
    version: Option<u8>,
) -> u32 {
    let copy_len = packet_len.min(PREFIX_LEN);
    if copy_len == 0 {
        // Nothing was copied (the helper refuses a length of 0); the core says why.
        let (outcome, _) = clamp_prefix(&mut [], packet_len, limits);
        return match outcome {
            Outcome::Unchanged(reason) => reason.index() as u32,
            Outcome::Clamped { .. } => HELPER_FAILED,
        };
    }
    let Some(prefix) = window.get_mut(..copy_len) else {
        return HELPER_FAILED;
    };
    if let (Some(version), Some(first)) = (version, prefix.first()) {
        if first >> 4 != version {
            return Reason::NotIp.index() as u32;
        }
    }
    // `clamp_prefix` in its two steps, the segment's place passed between them through
    // memory the verifier does not follow: it then checks the TCP code once, not once for
    // each way out of the IPv6 extension walk, each with its own range of offsets (on Linux
    // 6.1 that was past its million instructions).
    let segment = match prefix_segment(prefix, packet_len) {
        Ok(segment) => segment,
        Err(reason) => return reason.index() as u32,
    };
    // A start past the prefix is one the second step gives up on as `short-prefix`, at
    // PREFIX_LEN + 1 as much as anywhere further: so it fits a byte (asserted at
    // PREFIX_LEN). Its bound comes from masking what is read back, not from a comparison
    // afterwards: Linux 6.1 narrows only the compared register, not the copy LLVM may have
    // spilled to the stack before it.
    let start = segment.start.min(PREFIX_LEN + 1) as u64;
    // The end is at most 40 + 65535 (IPv6's payload length).
    let opaque = opaque(hidden, start | (segment.end as u64) << 8);
    let start = (opaque & 0xff) as usize;
    let end = (opaque >> 8) as usize;
    // The options as they were, for the checksum update's old words: a copy of 40 bytes
    // costs less than a `bpf_skb_load_bytes` per changed word. From the whole buffer, which
    // holds them wherever the start lies (at most 255 + 60 bytes in).
    let options_at = start.wrapping_add(TCP_HEADER_LEN);
    let Some(&original) = window
        .get(options_at..)
        .and_then(<[u8]>::first_chunk::<OPTIONS_MAX>)
    else {
        return HELPER_FAILED;
    };
    let Some(prefix) = window.get_mut(..copy_len) else {
        return HELPER_FAILED;
    };
    match clamp_prefix_segment(prefix, packet_len, start..end, limits) {
        (Outcome::Clamped { .. }, Some(changes)) => {
            write_back(skb, ip_start, prefix, &changes, &original, options_at)
        }
        (Outcome::Unchanged(reason), _) => reason.index() as u32,
        (Outcome::Clamped { .. }, None) => HELPER_FAILED,
    }
}

/// Writes each changed word of `prefix` into the packet (which starts at `ip_start` in the
/// skb) and has the kernel apply it to the checksum, the old word taken from `original`,
/// the options (at `options_at` in `prefix`) before the clamp; returns the counter slot.
#[inline(always)]
fn write_back(
    skb: *mut SkBuff,
    ip_start: usize,
    prefix: &[u8],
    changes: &Changes,
    original: &[u8; OPTIONS_MAX],
    options_at: usize,
) -> u32 {
    let checksum_at = ip_start.wrapping_add(changes.checksum_at()) as u32;
    for at in changes.words() {
        let (Some(&[high, low]), Some(&[old_high, old_low])) = (
            prefix.get(at..at.wrapping_add(2)),
            // Changed words are option words: `at` is at least `options_at`.
            original.get(at.wrapping_sub(options_at)..at.wrapping_sub(options_at).wrapping_add(2)),
        ) else {
            return HELPER_FAILED;
        };
        let new = [high, low];
        let in_skb = ip_start.wrapping_add(at) as u32;
        if helpers::skb_store_word(skb, in_skb, &new) < 0
            || helpers::l4_csum_replace(
                skb,
                checksum_at,
                u16::from_ne_bytes([old_high, old_low]),
                u16::from_ne_bytes(new),
            ) < 0
        {
            return HELPER_FAILED;
        }
    }
    CLAMPED
}

/// Adds one to this CPU's counter `slot`.
#[inline(always)]
fn count(slot: u32) {
    let counter = helpers::map_lookup((&raw const COUNTERS).cast(), &slot).cast::<u64>();
    if !counter.is_null() {
        // SAFETY: a non-null lookup result points to this CPU's 8-byte value, aligned; no
        // other program runs on this CPU meanwhile (TC programs run with preemption off).
        unsafe { *counter = (*counter).wrapping_add(1) };
    }
}

/// No panic path is reachable (the core proves it for itself; this program only uses
/// `get`); the handler exists because `no_std` needs one.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
