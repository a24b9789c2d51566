//! Panics in PL/Rust functions as PostgreSQL ERRORs, with the location mapped back to
//! the line of the user's body, and the non-unwindable cases confined to one backend.
//!
//! Not built yet: it lands with the runtime-safety issue. Until then a panic becomes an
//! ERROR through pgrx's own guard (see `plrust-trusted-pgrx`'s `__glue::guard`), with
//! the panic's message and SQLSTATE XX000.
