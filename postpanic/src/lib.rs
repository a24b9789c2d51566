//! Panics in PL/Rust functions as PostgreSQL ERRORs located in the user's body, and the
//! panics that cannot unwind as a FATAL that ends only this backend.
//!
//! Linked into every function library (through `plrust-trusted-pgrx`); never depends on
//! `plrust`. A panic's message becomes the ERROR's message (SQLSTATE XX000) and, when the
//! panic happened in the user's code, the DETAIL says on which line of the function body.
//! The generated `user.rs` keeps the body's line numbers, so its line is the body's line.
//! A panic that is Rust's answer to a refused allocation (the function libraries are
//! built with `-Zoom=panic`) becomes "out of memory", SQLSTATE 53200.
//!
//! What cannot unwind (a panic in a destructor during unwinding, a panic out of a
//! function that cannot unwind, std's internal aborts) ends in postgrestd's
//! `abort_internal`, which calls [`postgrestd_abort`]: FATAL, i.e. PostgreSQL's orderly
//! `proc_exit(1)`. SIGABRT instead would make the postmaster restart the whole server.

use std::cell::RefCell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use pgrx::pg_sys::panic::{CaughtError, ErrorReport, ErrorReportWithLevel};
use pgrx::PgSqlErrorCode;

/// The file of the generated crate that holds the user's code.
const USER_FILE: &str = "user.rs";

/// Messages longer than this (in bytes) are cut, in ERRORs and in what the hook keeps: a
/// body can panic with 100 MB, and the client and the server log should not get it all.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// How much of a panic's message the hook keeps for a later FATAL (it runs on every
/// panic, so it copies little).
const KEPT_MESSAGE: usize = 1024;

/// One panic, as the hook saw it.
#[derive(Clone, Default)]
#[cfg_attr(not(target_family = "postgres"), allow(dead_code))]
struct Seen {
    message: String,
    /// The body line, if the panic was in the user's code.
    line: Option<u32>,
}

thread_local! {
    /// The last two panics: the one being unwound, and the one before it (when a second
    /// panic cannot unwind, the first is usually what the user wants to know about).
    static SEEN: RefCell<[Option<Seen>; 2]> = const { RefCell::new([None, None]) };
}

/// `message` cut to at most `max` bytes on a character boundary, saying so when cut.
pub fn truncate(message: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if message.len() <= max {
        return message.into();
    }
    let mut end = max;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}... (truncated: {} bytes in all)",
        &message[..end],
        message.len()
    )
    .into()
}

/// Install the panic hook of this function library: it records what panicked where, and
/// prints nothing (the server's stderr is not the function's). `on_postgres_error` sees
/// every PostgreSQL ERROR as it enters the library (pgrx's boundary re-raises each one as
/// a panic), before anything in the library can catch it.
pub fn install_hook(on_postgres_error: fn(&ErrorReportWithLevel)) {
    std::panic::set_hook(Box::new(move |info| {
        if let Some(CaughtError::PostgresError(e)) = info.payload().downcast_ref::<CaughtError>() {
            on_postgres_error(e);
        }
        let line = info
            .location()
            .filter(|l| l.file().ends_with(USER_FILE))
            .map(|l| l.line());
        // An ERROR unwinding as a panic (PostgreSQL's, or one the body raised) has its
        // message inside the pgrx report it carries.
        let payload = info.payload();
        let message = match info.payload_as_str() {
            Some(message) => message,
            None => match payload.downcast_ref::<CaughtError>() {
                Some(CaughtError::PostgresError(e) | CaughtError::ErrorReport(e)) => e.message(),
                _ => match payload.downcast_ref::<ErrorReportWithLevel>() {
                    Some(e) => e.message(),
                    None => "a panic with a value that is not a message",
                },
            },
        };
        let message = truncate(message, KEPT_MESSAGE).into_owned();
        SEEN.with(|seen| {
            if let Ok(mut seen) = seen.try_borrow_mut() {
                seen[1] = seen[0].take();
                seen[0] = Some(Seen { message, line });
            }
        });
    }));
}

fn last_line() -> Option<u32> {
    SEEN.with(|seen| seen.try_borrow().ok().and_then(|s| s[0].as_ref()?.line))
}

/// Run `f`; a Rust panic leaves it as a pgrx error report carrying the panic's message and
/// its body line (or "out of memory", when it was an allocation the limit refused). An
/// ERROR PostgreSQL raised, or one the glue raised for an `Err`, passes through untouched.
pub fn located<R>(f: impl FnOnce() -> R) -> R {
    pallocator::clear_failure();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            // From here on the call only reports: that must not fail at the memory limit
            // (pgrx's guard copies the report's strings after PostgreSQL started it).
            pallocator::set_reporting(true);
            if payload.is::<CaughtError>() || payload.is::<ErrorReportWithLevel>() {
                resume_unwind(payload)
            }
            let message = if let Some(s) = payload.downcast_ref::<&str>() {
                *s
            } else if let Some(s) = payload.downcast_ref::<String>() {
                s.as_str()
            } else {
                "panicked with a value that is not a message (std::panic::panic_any)"
            };
            let report = out_of_memory(message).unwrap_or_else(|| {
                ErrorReport::new(
                    PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                    truncate(message, MAX_MESSAGE).into_owned(),
                    "plrust",
                )
            });
            let report = match last_line() {
                Some(line) if report.detail().is_none() => {
                    report.set_detail(format!("panicked at line {line} of the function body"))
                }
                _ => report,
            };
            drop(payload);
            // pgrx's guard raises an `ErrorReport` payload at ERROR level. resume_unwind:
            // no second run of the panic hook.
            resume_unwind(Box::new(report))
        }
    }
}

/// The report for a panic that is Rust's answer to an allocation pallocator refused
/// (`-Zoom=panic` panics with exactly this message), if it is one.
fn out_of_memory(message: &str) -> Option<ErrorReport> {
    let failure = pallocator::take_failure()?;
    if message != format!("memory allocation of {} bytes failed", failure.size) {
        return None;
    }
    const MB: usize = 1 << 20;
    let (detail, hint) = if failure.over_limit {
        (
            format!(
                "A PL/Rust function asked for {} bytes with {} MB of plrust.max_memory ({} MB) in use in this session.",
                failure.size,
                failure.used / MB,
                failure.limit / MB
            ),
            Some("A superuser can raise plrust.max_memory."),
        )
    } else {
        (
            format!(
                "A PL/Rust function asked for {} bytes and the server could not provide them.",
                failure.size
            ),
            None,
        )
    };
    let report = ErrorReport::new(
        PgSqlErrorCode::ERRCODE_OUT_OF_MEMORY,
        "out of memory",
        "plrust",
    )
    .set_detail(detail);
    Some(match hint {
        Some(hint) => report.set_hint(hint),
        None => report,
    })
}

/// End the process at once if PostgreSQL's `proc_exit` has begun. By then the backend has
/// deregistered from the postmaster and shared memory, so `_exit` is clean, while
/// reporting or calling `exit()` again inside `exit()` would not be.
pub fn exit_if_exiting() {
    unsafe extern "C" {
        fn _exit(status: std::ffi::c_int) -> !;
    }
    // SAFETY: a flag of the backend, read on its main thread; `_exit` ends the process.
    unsafe {
        if pgrx::pg_sys::proc_exit_inprogress {
            _exit(1)
        }
    }
}

/// Where postgrestd's `abort_internal` goes in a function library: end this backend with
/// FATAL, through PostgreSQL's `proc_exit`, so that the postmaster sees an orderly exit
/// and the rest of the server carries on.
///
/// # Safety
/// Only for postgrestd's abort path, on the backend's main thread. Never returns.
#[cfg(target_family = "postgres")]
#[no_mangle]
pub unsafe extern "C" fn postgrestd_abort() -> ! {
    use std::sync::atomic::{AtomicBool, Ordering};

    use pgrx::{pg_sys, PgLogLevel};

    unsafe extern "C" {
        // Called directly, not through pgrx's guard: an ERROR raised by an exit callback
        // is PostgreSQL's to handle (with no recovery point, or once exiting, it is
        // FATAL), where the guard would turn it into a panic inside this `extern "C"`
        // function. The guard's error path is also 6 KiB of every function library.
        fn proc_exit(code: std::ffi::c_int) -> !;
    }

    // An abort in a Rust thread-local destructor run by exit(), say: end it there.
    exit_if_exiting();
    static ENTERED: AtomicBool = AtomicBool::new(false);
    if ENTERED.swap(true, Ordering::Relaxed) {
        // An abort while reporting the first one: run the exit callbacks without a message.
        // SAFETY: ends the process through PostgreSQL's orderly exit.
        unsafe {
            pg_sys::PG_exception_stack = std::ptr::null_mut();
            proc_exit(1)
        }
    }
    // SAFETY: the backend's error-recovery point. Without one, an ERROR raised while this
    // report is made (in errstart, or palloc) is promoted to FATAL instead of jumping
    // into the frames this abort abandons. Reporting ignores the memory limit.
    unsafe { pg_sys::PG_exception_stack = std::ptr::null_mut() };
    pallocator::set_reporting(true);
    let [last, before] = SEEN
        .try_with(|seen| seen.try_borrow().map(|s| s.clone()).unwrap_or_default())
        .unwrap_or_default();
    let message = match &last {
        Some(seen) => format!(
            "a PL/Rust function could not recover from a panic: {}",
            seen.message
        ),
        None => "a PL/Rust function aborted".to_owned(),
    };
    let detail = before.map(|seen| match seen.line {
        Some(line) => format!(
            "The panic before it: \"{}\" at line {line} of the function body.",
            seen.message
        ),
        None => format!("The panic before it: \"{}\".", seen.message),
    });
    let mut report = ErrorReport::new(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, message, "plrust")
        .set_hint("The session ended; the server and other sessions are not affected.");
    if let Some(detail) = detail {
        report = report.set_detail(detail);
    }
    // FATAL is reported directly (no unwinding): errfinish sends it to the client and
    // calls proc_exit(1).
    report.report(PgLogLevel::FATAL);
    // SAFETY: not reached; if it were, ending the process is all that is left.
    unsafe { proc_exit(1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("short", 10), "short");
        let cut = truncate("ééééé", 3);
        assert_eq!(cut, "é... (truncated: 10 bytes in all)");
    }
}
