//! A global allocator that counts allocations, to report allocations per invocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use lambda_middleware::Context;

use super::{Workload, run_loop};

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting every `alloc`, `alloc_zeroed` and `realloc`.
pub struct Counting;

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations so far, in this process.
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Invocations left out of the count, then counted, by [`per_invocation`].
pub const WARM_UP: u64 = 10;
pub const INVOCATIONS: u64 = 1000;

/// Allocations per invocation, after a warm-up invocation (lazy initialisation,
/// buffers that grow once) is left out.
pub fn per_invocation<P, W: Workload<P>>(workload: &mut W, payload: P, ctx: &Context) -> (f64, P) {
    let payload = run_loop(workload, payload, ctx, WARM_UP);
    let before = allocations();
    let payload = run_loop(workload, payload, ctx, INVOCATIONS);
    let count = allocations() - before;
    (count as f64 / INVOCATIONS as f64, payload)
}

#[global_allocator]
static GLOBAL: Counting = Counting;
