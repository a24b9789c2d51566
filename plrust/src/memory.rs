//! Cross-cutting: the memory of function libraries, as `plrust.so` provides it.
//!
//! Every function library's global allocator is `pallocator`, which takes its memory
//! context, byte count and limit from one [`Arena`] per backend. This module owns it:
//! `plrust.so` exports it under the symbol `plrust_arena` (function libraries link to it
//! when loaded: the server loads `plrust.so` with RTLD_GLOBAL, always before them),
//! creates its memory context at load time, and sets the limit from `plrust.max_memory`
//! whenever the setting changes (its assign hook), so a call does no work for it.
//!
//! Invariant: the context is a child of `TopMemoryContext`, created once and never reset
//! or deleted: a function library's statics and thread-locals may hold its memory for the
//! life of the backend.

use pallocator::Arena;
use pgrx::pg_sys;

/// The arena of this backend. The name is the ABI function libraries link against.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static plrust_arena: Arena = Arena::new();

/// The largest block the context asks malloc for. The limit is checked against the
/// blocks the context holds, so this is its granularity (the default, 8 MB, would make a
/// small allocation near the limit fail for want of a whole new 8 MB block).
const MAX_BLOCK_SIZE: usize = 1 << 20;

/// The memory context's name, as `pg_backend_memory_contexts` shows it.
pub const CONTEXT_NAME: &std::ffi::CStr = c"PL/Rust";

/// Create the memory context; once per process, from `_PG_init`.
pub fn init() {
    // SAFETY: creates a child of TopMemoryContext, which exists in every backend once
    // libraries can be loaded; the name is a static string as PostgreSQL requires.
    let context = unsafe {
        pg_sys::AllocSetContextCreateInternal(
            pg_sys::TopMemoryContext,
            CONTEXT_NAME.as_ptr(),
            pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
            pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
            MAX_BLOCK_SIZE,
        )
    };
    // SAFETY: the context was just created and is never deleted; `mem_allocated` is its
    // own count of the memory it holds, kept by PostgreSQL's memory manager.
    unsafe {
        let allocated = std::ptr::addr_of_mut!((*context).mem_allocated);
        plrust_arena.set_context(context.cast(), allocated.cast());
    }
}

/// Set the limit, in bytes: from `plrust.max_memory`'s assign hook, whenever the setting
/// changes, so no call has to read it.
pub fn set_limit(bytes: usize) {
    plrust_arena.set_limit(bytes);
}
