//! A freestanding program that calls every packet entry point of `tcpmssd-core` on input the
//! optimiser cannot see, and whose panic handler refers to an undefined symbol. It links
//! only if no panic path is reachable from `clamp`, `clamp_tcp`, `clamp_prefix`,
//! `clamp_ethernet`, the `Changes` they return, `ethernet_ip_start`, `prefix_segment`,
//! `clamp_prefix_segment` (with any range) and `endpoints`.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::panic::PanicInfo;

use tcpmssd_core::{
    clamp, clamp_ethernet, clamp_prefix, clamp_prefix_segment, clamp_tcp, endpoints,
    ethernet_ip_start, prefix_segment, Changes, Limits,
};

extern "C" {
    /// Defined nowhere: any surviving reference is a link error naming this symbol.
    fn tcpmssd_core_panic_is_reachable() -> !;
}

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    // SAFETY: never runs; the program only links when this call has been optimised away.
    unsafe { tcpmssd_core_panic_is_reachable() }
}

static mut PACKET: [u8; 65536] = [0; 65536];

/// Reads everything a caller that applies the checksum itself reads.
fn use_changes(changes: Option<Changes>) {
    if let Some(changes) = changes {
        black_box(changes.segment());
        black_box(changes.checksum_at());
        for at in changes.words() {
            black_box(at);
        }
    }
}

#[no_mangle]
pub extern "C" fn _start() -> ! {
    // The length and contents are opaque to the optimiser, as a received packet's are.
    let len = black_box(60_usize);
    // SAFETY: single-threaded freestanding program; the only reference to PACKET.
    let buffer: &mut [u8; 65536] = unsafe { &mut *core::ptr::addr_of_mut!(PACKET) };
    let packet = buffer.get_mut(..len).unwrap_or_default();
    let limits = Limits::from_mtu(black_box(1400));
    black_box(clamp(black_box(&mut *packet), limits));
    black_box(clamp_tcp(black_box(&mut *packet), black_box(1360)));
    black_box(endpoints(black_box(&*packet)));
    // A prefix of a packet whose length is as opaque as the bytes.
    let (outcome, changes) = clamp_prefix(black_box(&mut *packet), black_box(1500), limits);
    black_box(outcome);
    use_changes(changes);
    let (outcome, changes) = clamp_ethernet(black_box(&mut *packet), black_box(1514), limits);
    black_box(outcome);
    use_changes(changes);
    black_box(ethernet_ip_start(black_box(&*packet), black_box(1514)));
    black_box(prefix_segment(black_box(&*packet), black_box(1500)));
    // The second step with a range no first step gave: as opaque as the bytes.
    let segment = black_box(30_usize)..black_box(20_usize);
    let (outcome, changes) =
        clamp_prefix_segment(black_box(&mut *packet), black_box(1500), segment, limits);
    black_box(outcome);
    use_changes(changes);
    #[cfg(feature = "canary")]
    black_box(packet[black_box(70_000)]);
    loop {
        core::hint::spin_loop();
    }
}
