//! The global allocator of PL/Rust function libraries: Rust's heap in PostgreSQL memory.
//!
//! Every allocation of a function library is a `palloc` chunk in one long-lived memory
//! context per backend, "PL/Rust" (a child of `TopMemoryContext`, so it shows in
//! `pg_backend_memory_contexts`), under a per-backend limit (`plrust.max_memory`) checked
//! against what the context holds (its own `mem_allocated`, which PostgreSQL keeps, so
//! the allocator counts nothing itself). The context and the limit live in one [`Arena`],
//! which `plrust.so` defines under the symbol `plrust_arena` and every function library
//! of the backend shares: the limit is for the backend, not per function.
//!
//! Invariant: the allocator never raises a PostgreSQL ERROR (a `longjmp` out of
//! `GlobalAlloc::alloc` would skip Rust frames that hold locks on the heap). It uses
//! `MemoryContextAllocExtended` with `MCXT_ALLOC_NO_OOM`, checks the size itself first
//! (so palloc's "invalid memory alloc request size" cannot happen), and answers failure
//! with a null pointer. Function libraries are compiled with `-Zoom=panic`, so Rust turns
//! that null into a panic, which PL/Rust reports as ERROR 53200 (see [`take_failure`]).
//!
//! This crate has no dependencies: the few PostgreSQL functions it calls are declared
//! here and resolved against the server when a library is loaded. The same crate is
//! built for the host (`plrust.so` uses [`Arena`] to define the shared state) and for
//! the postgres targets (function libraries use [`PallocAllocator`]).

#![deny(unsafe_op_in_unsafe_fn)]
// The allocator itself is compiled only for the postgres targets; on the host (for
// plrust.so) this crate is the shared `Arena`.
#![cfg_attr(not(target_family = "postgres"), allow(dead_code, unused_imports))]

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// palloc's guaranteed alignment (MAXIMUM_ALIGNOF on every platform PostgreSQL supports
/// that we build for). Larger alignments are made by over-allocating.
const PALLOC_ALIGN: usize = 8;

// From utils/palloc.h; unchanged since PostgreSQL 9.5.
const MCXT_ALLOC_HUGE: i32 = 0x01;
const MCXT_ALLOC_NO_OOM: i32 = 0x02;
const MCXT_ALLOC_ZERO: i32 = 0x04;

/// While a panic unwinds after the limit refused a request, allocations may go this far
/// past it: the panic's message and payload, and the error report made of them, allocate,
/// and a refusal there would turn an ERROR into an abort. Only while unwinding, so the
/// body itself cannot spend it.
pub const HEADROOM: usize = 1 << 20;

/// What the limit stopped, or palloc refused, last: the size of that request, so the
/// panic it becomes can be reported as "out of memory" with the numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The size the Rust code asked for.
    pub size: usize,
    /// True when `plrust.max_memory` refused it; false when palloc found no memory.
    pub over_limit: bool,
    /// Bytes the context held when it was refused.
    pub used: usize,
    /// The limit at that moment.
    pub limit: usize,
}

/// The per-backend state every function library's allocator shares.
///
/// The backend is single-threaded (postgrestd refuses to spawn threads); atomics with
/// `Relaxed` ordering make the shared static `Sync` at the cost of plain loads and
/// stores.
#[repr(C)]
pub struct Arena {
    /// The "PL/Rust" memory context; null until `plrust.so` creates it.
    context: AtomicPtr<c_void>,
    /// The context's own count of the memory it holds (`mem_allocated`: its blocks, with
    /// palloc's rounding and headers and the free chunks it keeps for reuse): what the
    /// limit is checked against, so small allocations cannot hide their real cost.
    allocated: AtomicPtr<usize>,
    /// `plrust.max_memory` in bytes, set by `plrust.so` whenever the setting changes.
    limit: AtomicUsize,
    /// Nonzero while an error report is being made: the limit does not apply (reports
    /// are bounded: messages are cut at 64 KiB).
    reporting: AtomicUsize,
    /// The last refused request: its size + 1 (0 when none), whether it was the limit,
    /// and the numbers at that moment.
    failed_size: AtomicUsize,
    failed_over_limit: AtomicUsize,
    failed_used: AtomicUsize,
    failed_limit: AtomicUsize,
    /// What the headroom is counted from after a refusal: the larger of the limit and
    /// what the context held at the first refusal since the call started. Fixed at that
    /// first refusal, so later refusals cannot move it up.
    headroom_base: AtomicUsize,
}

impl Arena {
    /// An arena with no context yet and a limit of zero (every request refused).
    pub const fn new() -> Arena {
        Arena {
            context: AtomicPtr::new(std::ptr::null_mut()),
            allocated: AtomicPtr::new(std::ptr::null_mut()),
            limit: AtomicUsize::new(0),
            reporting: AtomicUsize::new(0),
            failed_size: AtomicUsize::new(0),
            failed_over_limit: AtomicUsize::new(0),
            failed_used: AtomicUsize::new(0),
            failed_limit: AtomicUsize::new(0),
            headroom_base: AtomicUsize::new(0),
        }
    }

    /// Give the arena its memory context (a `MemoryContext` that lives as long as the
    /// backend) and the address of the context's `mem_allocated` counter. Called once, by
    /// `plrust.so`, before any function library is loaded.
    ///
    /// # Safety
    /// `allocated` stays valid, and is only written by PostgreSQL's memory manager, for
    /// the life of the backend.
    pub unsafe fn set_context(&self, context: *mut c_void, allocated: *mut usize) {
        self.context.store(context, Ordering::Relaxed);
        self.allocated.store(allocated, Ordering::Relaxed);
    }

    /// Set the limit in bytes.
    pub fn set_limit(&self, bytes: usize) {
        self.limit.store(bytes, Ordering::Relaxed);
    }

    /// What the context holds, which the limit is checked against (0 before it exists).
    fn held(&self) -> usize {
        let allocated = self.allocated.load(Ordering::Relaxed);
        if allocated.is_null() {
            0
        } else {
            // SAFETY: set_context's contract: PostgreSQL's counter, alive and only
            // written by the memory manager on this (the only) thread.
            unsafe { allocated.read_volatile() }
        }
    }

    /// Let allocations past the limit through while an error report is made, or stop.
    pub fn set_reporting(&self, on: bool) {
        self.reporting.store(usize::from(on), Ordering::Relaxed);
    }

    /// At the start of every call: no earlier failure, not reporting.
    #[inline]
    pub fn clear_failure(&self) {
        self.clear_failure_only();
        self.reporting.store(0, Ordering::Relaxed);
    }

    #[inline]
    fn clear_failure_only(&self) {
        self.failed_size.store(0, Ordering::Relaxed);
    }

    /// The last refused request since [`Arena::clear_failure`], if any.
    pub fn failure(&self) -> Option<Failure> {
        match self.failed_size.load(Ordering::Relaxed) {
            0 => None,
            n => Some(Failure {
                size: n - 1,
                over_limit: self.failed_over_limit.load(Ordering::Relaxed) != 0,
                used: self.failed_used.load(Ordering::Relaxed),
                limit: self.failed_limit.load(Ordering::Relaxed),
            }),
        }
    }

    fn record_failure(&self, size: usize, over_limit: bool) {
        if self.failed_size.load(Ordering::Relaxed) == 0 {
            let limit = self.limit.load(Ordering::Relaxed);
            self.headroom_base
                .store(limit.max(self.held()), Ordering::Relaxed);
        }
        self.failed_size
            .store(size.saturating_add(1), Ordering::Relaxed);
        self.failed_over_limit
            .store(usize::from(over_limit), Ordering::Relaxed);
        self.failed_used.store(self.held(), Ordering::Relaxed);
        self.failed_limit
            .store(self.limit.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// Whether `bytes` more fit under the limit; `unwinding` says a panic is in flight
    /// (then, after a refusal, the headroom applies).
    #[inline]
    fn fits(&self, bytes: usize, unwinding: impl FnOnce() -> bool) -> bool {
        let held = self.held();
        let limit = self.limit.load(Ordering::Relaxed);
        if bytes <= limit.saturating_sub(held) || self.reporting.load(Ordering::Relaxed) != 0 {
            return true;
        }
        // The headroom is counted from the limit, or from what the context held at the
        // first refusal when that was more (the limit was lowered below what the context
        // already keeps): the unwinding must fit either way.
        let base = self.headroom_base.load(Ordering::Relaxed);
        self.failed_size.load(Ordering::Relaxed) != 0
            && bytes <= base.saturating_add(HEADROOM).saturating_sub(held)
            && unwinding()
    }
}

impl Default for Arena {
    fn default() -> Self {
        Arena::new()
    }
}

/// How many bytes to ask palloc for to serve `layout`, alignment padding included.
#[inline]
fn padded_size(layout: Layout) -> Option<usize> {
    if layout.align() <= PALLOC_ALIGN {
        Some(layout.size())
    } else {
        // Room to move the start up to the alignment, with a word before it to remember
        // palloc's pointer: the aligned address is at most `align` past palloc's.
        layout.size().checked_add(layout.align())
    }
}

/// Where an over-aligned block starts inside the palloc chunk at `raw`: the first
/// `align`-aligned address at least one word past `raw`.
#[inline]
fn aligned_start(raw: usize, align: usize) -> usize {
    (raw + PALLOC_ALIGN + align - 1) & !(align - 1)
}

/// The global allocator of function libraries. Declared `#[global_allocator]` by the
/// runtime they all link (`plrust-trusted-pgrx/runtime.rs`); only meaningful inside a
/// backend where `plrust.so` is loaded.
pub struct PallocAllocator;

#[cfg(target_family = "postgres")]
mod backend {
    use super::*;

    unsafe extern "C" {
        /// Defined by plrust.so, which the server loaded (RTLD_GLOBAL) before any function
        /// library: one arena per backend, shared by all function libraries.
        static plrust_arena: Arena;
        fn MemoryContextAllocExtended(context: *mut c_void, size: usize, flags: i32)
            -> *mut c_void;
        fn pfree(pointer: *mut c_void);
    }

    #[inline]
    pub fn arena() -> &'static Arena {
        // SAFETY: a static of plrust.so, alive as long as the backend.
        unsafe { &plrust_arena }
    }

    /// palloc `size` bytes in the arena's context; null if the limit or palloc refuses.
    /// Never raises: `size` is checked against the limit (far below palloc's own
    /// MaxAllocHugeSize) before palloc sees it, and NO_OOM makes palloc return null.
    #[inline]
    pub fn palloc(arena: &Arena, requested: usize, size: usize, zero: bool) -> *mut u8 {
        let context = arena.context.load(Ordering::Relaxed);
        if context.is_null() || !arena.fits(size, std::thread::panicking) {
            arena.record_failure(requested, !context.is_null());
            return std::ptr::null_mut();
        }
        let flags = MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM | if zero { MCXT_ALLOC_ZERO } else { 0 };
        // SAFETY: a live context; size is non-zero and within MaxAllocHugeSize (checked
        // against the limit above, which plrust bounds far below it).
        let p = unsafe { MemoryContextAllocExtended(context, size, flags) };
        if p.is_null() {
            arena.record_failure(requested, false);
        }
        p.cast()
    }

    fn alloc_impl(layout: Layout, zero: bool) -> *mut u8 {
        let arena = arena();
        let Some(size) = padded_size(layout) else {
            arena.record_failure(layout.size(), true);
            return std::ptr::null_mut();
        };
        let raw = palloc(arena, layout.size(), size, zero);
        if raw.is_null() || layout.align() <= PALLOC_ALIGN {
            return raw;
        }
        let start = aligned_start(raw as usize, layout.align());
        let aligned = raw.wrapping_add(start - raw as usize);
        // SAFETY: `aligned` is at least a word past `raw` and the chunk has `align` bytes
        // of slack, so the word before it is inside the chunk and suitably aligned.
        unsafe { aligned.cast::<*mut u8>().sub(1).write(raw) };
        aligned
    }

    // SAFETY: every block is a palloc chunk (or inside one, for large alignments) that
    // stays valid until freed here; the returned pointers honour the layout's alignment.
    unsafe impl GlobalAlloc for PallocAllocator {
        #[inline]
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            alloc_impl(layout, false)
        }

        #[inline]
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            alloc_impl(layout, true)
        }

        #[inline]
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            let raw = if layout.align() <= PALLOC_ALIGN {
                ptr
            } else {
                // SAFETY: alloc_impl stored palloc's pointer in the word before `ptr`.
                unsafe { ptr.cast::<*mut u8>().sub(1).read() }
            };
            // SAFETY: `raw` is a chunk this allocator got from palloc.
            unsafe { pfree(raw.cast()) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // PostgreSQL 15 has no repalloc that returns null instead of raising, so move
            // the block: allocate, copy, free. (Growth is amortised by Vec and String.)
            // SAFETY: GlobalAlloc's contract: `layout.align()` with `new_size` is valid.
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            let new = alloc_impl(new_layout, false);
            if !new.is_null() {
                // SAFETY: both blocks are live and at least min(old, new) bytes long.
                unsafe {
                    std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
            }
            new
        }
    }
}

/// The last allocation the limit or palloc refused in this backend since
/// [`clear_failure`], if any: the panic Rust makes of it is reported as out of memory.
/// (Outside a function library, where this crate only provides [`Arena`]: `None`.)
pub fn take_failure() -> Option<Failure> {
    #[cfg(target_family = "postgres")]
    {
        let arena = backend::arena();
        let failure = arena.failure();
        arena.clear_failure_only();
        failure
    }
    #[cfg(not(target_family = "postgres"))]
    None
}

/// Forget earlier failures (and end any reporting); at the start of every call.
/// Inlined into each function library's entry point: two stores, where a call into the
/// shared runtime cost about 2% of `add_one`'s time (`perf record`, docs/benchmarks.md).
#[inline]
pub fn clear_failure() {
    #[cfg(target_family = "postgres")]
    backend::arena().clear_failure();
}

/// Let allocations past the limit through while an error report is made (the report
/// must not fail half-way: PostgreSQL may already have started it). Bounded: every
/// message is cut at 64 KiB. Ends with the call, or with `set_reporting(false)`.
pub fn set_reporting(on: bool) {
    #[cfg(target_family = "postgres")]
    backend::arena().set_reporting(on);
    #[cfg(not(target_family = "postgres"))]
    let _ = on;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_alignments_fit_in_the_padding() {
        for align in [16usize, 32, 64, 4096] {
            for raw in (0..2 * align).step_by(PALLOC_ALIGN).map(|o| 0x10_0000 + o) {
                let start = aligned_start(raw, align);
                assert_eq!(start % align, 0);
                assert!(start >= raw + PALLOC_ALIGN, "no room for the back pointer");
                assert!(start - raw <= align, "block would overrun the chunk");
            }
        }
        let layout = Layout::from_size_align(100, 64).unwrap();
        assert_eq!(padded_size(layout), Some(164));
        let layout = Layout::from_size_align(100, 8).unwrap();
        assert_eq!(padded_size(layout), Some(100));
    }

    /// An arena whose context "holds" what the test writes through the returned pointer.
    fn arena_holding(limit: usize) -> (Arena, *mut usize) {
        let arena = Arena::new();
        let held = Box::into_raw(Box::new(0usize));
        // SAFETY: the counter is leaked, so it outlives the arena.
        unsafe { arena.set_context(std::ptr::null_mut(), held) };
        arena.set_limit(limit);
        (arena, held)
    }

    #[test]
    fn the_limit_is_checked_against_what_the_context_holds() {
        let (arena, held) = arena_holding(1000);
        assert!(arena.fits(1000, || false));
        // SAFETY: the test's own counter.
        unsafe { *held = 900 };
        assert!(!arena.fits(200, || false), "900 held + 200 is over 1000");
        assert!(arena.fits(100, || false));
        assert!(!arena.fits(usize::MAX, || false));
    }

    #[test]
    fn reporting_ignores_the_limit() {
        let arena = Arena::new();
        arena.set_limit(10);
        arena.set_reporting(true);
        assert!(arena.fits(64 * 1024, || false));
        arena.clear_failure();
        assert!(
            !arena.fits(64 * 1024, || false),
            "a new call starts without it"
        );
    }

    #[test]
    fn failures_are_remembered_until_cleared() {
        let arena = Arena::new();
        arena.set_limit(10);
        assert_eq!(arena.failure(), None);
        arena.record_failure(0, true);
        assert_eq!(
            arena.failure(),
            Some(Failure {
                size: 0,
                over_limit: true,
                used: 0,
                limit: 10
            })
        );
        arena.clear_failure();
        assert_eq!(arena.failure(), None);
    }

    /// After a refusal: the body gets nothing, the unwinding gets the headroom, counted
    /// from `base`, and no more (the counter is left at `base` + the headroom).
    fn assert_unwinding_headroom(arena: &Arena, held: *mut usize, base: usize) {
        assert!(
            !arena.fits(16, || false),
            "the body itself cannot spend the headroom"
        );
        assert!(
            arena.fits(HEADROOM, || true),
            "the report's allocations fit"
        );
        // SAFETY: the test's own counter.
        unsafe { *held = base + HEADROOM };
        assert!(!arena.fits(1, || true), "but the headroom is bounded");
    }

    #[test]
    fn after_a_failure_the_headroom_serves_only_the_unwinding() {
        let (arena, held) = arena_holding(1000);
        // SAFETY: the test's own counter.
        unsafe { *held = 1000 };
        assert!(!arena.fits(16, || true), "no failure yet: no headroom");
        arena.record_failure(16, true);
        assert_unwinding_headroom(&arena, held, 1000);
        arena.clear_failure();
        // SAFETY: as above.
        unsafe { *held = 1000 };
        assert!(
            !arena.fits(16, || true),
            "a new call starts at the plain limit"
        );
    }

    #[test]
    fn a_limit_lowered_below_what_is_held_still_leaves_headroom_to_unwind() {
        // The context keeps 300 (freed chunks included) when the limit drops to 100.
        let (arena, held) = arena_holding(100);
        // SAFETY: the test's own counter.
        unsafe { *held = 300 };
        assert!(!arena.fits(16, || true), "over the limit: refused");
        arena.record_failure(16, true);
        assert_unwinding_headroom(&arena, held, 300);
        arena.record_failure(1, true);
        assert!(
            !arena.fits(1, || true),
            "and a second refusal does not move the bound"
        );
    }
}
