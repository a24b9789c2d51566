//! Panics in PL/Rust functions as PostgreSQL ERRORs, located in the user's body.
//!
//! Linked into every function library (through `plrust-trusted-pgrx`); never depends on
//! `plrust`. A panic's message becomes the ERROR's message (SQLSTATE XX000) and, when the
//! panic happened in the user's code, the DETAIL says on which line of the function body.
//! The generated `user.rs` keeps the body's line numbers, so its line is the body's line.
//!
//! Still to come with the runtime-safety work: panics that cannot unwind (a panic while
//! panicking, an abort) ending only this backend, cleanly.

use std::cell::Cell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::PgSqlErrorCode;

/// The file of the generated crate that holds the user's code.
const USER_FILE: &str = "user.rs";

thread_local! {
    /// The body line of the panic being unwound, if it was in the user's code.
    static BODY_LINE: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Install the panic hook of this function library: it records where a panic happened
/// and prints nothing (the server's stderr is not the function's).
pub fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        let line = info
            .location()
            .filter(|l| l.file().ends_with(USER_FILE))
            .map(|l| l.line());
        BODY_LINE.with(|c| c.set(line));
    }));
}

/// Run `f`; a Rust panic (a string message) leaves it as a pgrx error report carrying the
/// panic's message and its body line. Other unwinding (an ERROR PostgreSQL raised, an
/// `Err` the body returned) passes through untouched.
pub fn located<R>(f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let message = if let Some(s) = payload.downcast_ref::<&str>() {
                (*s).to_owned()
            } else if let Some(s) = payload.downcast_ref::<String>() {
                s.clone()
            } else {
                resume_unwind(payload)
            };
            let mut report =
                ErrorReport::new(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, message, "plrust");
            if let Some(line) = BODY_LINE.with(|c| c.take()) {
                report = report.set_detail(format!("panicked at line {line} of the function body"));
            }
            // pgrx's guard raises an `ErrorReport` payload at ERROR level. resume_unwind:
            // no second run of the panic hook.
            resume_unwind(Box::new(report))
        }
    }
}
