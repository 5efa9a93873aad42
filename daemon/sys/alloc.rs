//! The global allocator: the system's, with a count of allocations, so that "no heap
//! allocation per packet" is checked on the running daemon (the counters report it, the
//! end-to-end tests assert it) rather than promised. A feature, not a size lever: it costs 112
//! bytes of the firmware build (measured 2026-12-07 by leaving it out).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

// Pointer-sized: 32-bit MIPS has no 64-bit atomics (no AtomicU64 on mipsel-unknown-linux-musl),
// and a count that only grows at start-up stays far below 2^32.
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

/// `System`, counting every allocation and reallocation.
struct Counting;

// SAFETY: every call is passed unchanged to `System`, which upholds the `GlobalAlloc` contract;
// the count is an atomic add that neither allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's guarantees for `layout` are `System::alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by this allocator, that is by `System`, with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Returns how many allocations and reallocations the process has made since it started.
pub fn allocations() -> u64 {
    u64::try_from(ALLOCATIONS.load(Ordering::Relaxed)).unwrap_or(u64::MAX)
}
