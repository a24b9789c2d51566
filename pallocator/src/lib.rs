//! The global allocator of PL/Rust function libraries: `alloc`/`dealloc`/`realloc`
//! mapped to `palloc`/`pfree`/`repalloc` in a dedicated memory context.
//!
//! Not built yet: it lands with the runtime-safety issue. Until then function
//! libraries use std's default (malloc-backed) allocator, and this crate is empty so
//! that nothing pretends otherwise.
