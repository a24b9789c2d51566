//! The runtime every function library links dynamically (`scripts/build-closure.sh`
//! builds it as a Rust dylib): std and the trusted API, once per backend instead of once
//! per function. Bodies see it as `pgrx` (`--extern pgrx=<runtime>`).

pub use plrust_trusted_pgrx::*;

/// Rust's heap is PostgreSQL's memory (a context of its own, bounded by
/// `plrust.max_memory`); one allocator for every function library of a backend.
#[global_allocator]
static PLRUST_ALLOCATOR: plrust_trusted_pgrx::__glue::PallocAllocator =
    plrust_trusted_pgrx::__glue::PallocAllocator;
