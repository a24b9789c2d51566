//! The API a PL/Rust function body sees under the name `pgrx`.
//!
//! A body is compiled as its own crate with `--extern pgrx=<this crate>`, so
//! `use pgrx::prelude::*;` (which the generated code does for you) brings in exactly
//! what is re-exported here: a curated, safe subset of [pgrx](https://docs.rs/pgrx).
//! Nothing here takes or returns a raw pointer and `pg_sys` is not exposed.
//!
//! The `__glue` module is the runtime the generated FFI wrapper calls. Every item in it
//! is `unsafe`, and bodies are compiled under `#![forbid(unsafe_code)]`, so a body cannot
//! call it.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

/// Everything a function body usually needs, imported by the generated code.
pub mod prelude {
    pub use crate::any::{AnyArray, AnyElement};
    pub use crate::datum::Array;
    pub use crate::heap_tuple::{
        AllocatedByPostgres, AllocatedByRust, PgHeapTuple, PgHeapTupleError, WhoAllocated,
    };
    pub use crate::iter::{SetOfIterator, TableIterator};
    pub use crate::log::{PgLogLevel, PgSqlErrorCode};
    pub use crate::name;
    pub use crate::spi::{
        self, Datum, DatumWithOid, IntoDatum, OwnedPreparedStatement, PgBuiltInOids, PgOid,
        PreparedStatement, Spi, SpiClient, SpiCursor, SpiError, SpiHeapTupleData,
        SpiHeapTupleDataEntry, SpiTupleTable,
    };
    pub use crate::trigger::{
        PgTrigger, PgTriggerError, PgTriggerLevel, PgTriggerOperation, PgTriggerWhen,
    };
    pub use crate::TryFromDatumError;
    pub use crate::{
        debug1, debug2, debug3, debug4, debug5, ereport, error, info, log, notice, warning,
    };
    pub use crate::{
        AnyNumeric, Date, Interval, Json, JsonB, Numeric, Oid, Point, Range, RangeBound, Time,
        TimeWithTimeZone, Timestamp, TimestampWithTimeZone, Uuid, BOX,
    };
}

pub use any::{AnyArray, AnyElement};
pub use iter::{SetOfIterator, TableIterator};
pub use log::{PgLogLevel, PgSqlErrorCode};
pub use spi::{PgBuiltInOids, PgOid, Spi};

pub use heap_tuple::{
    AllocatedByPostgres, AllocatedByRust, PgHeapTuple, PgHeapTupleError, WhoAllocated,
};
pub use trigger::{PgTrigger, PgTriggerError, PgTriggerLevel, PgTriggerOperation, PgTriggerWhen};

/// Why a value could not be read from or written to a row's column.
pub use pgrx::datum::TryFromDatumError;

use backend_local::BackendLocal;

pub mod any;
mod backend_local;
mod declared;
pub mod heap_tuple;
pub mod iter;
mod memory;
mod returns;
pub mod spi;
pub mod trigger;

// SQL types as pgrx represents them (see PL/Rust's type table for which SQL type is
// which): plain values with safe methods; those that compute through PostgreSQL (numeric
// arithmetic, date and time conversions) raise its ERRORs, which a body cannot swallow.
pub use pgrx::datum::{
    AnyNumeric, Date, Interval, Json, JsonB, Numeric, Range, RangeBound, Time, TimeWithTimeZone,
    Timestamp, TimestampWithTimeZone, Uuid,
};
pub use pgrx::pg_sys::{Oid, Point, BOX};

/// Messages and errors, as pgrx spells them: `notice!("...")`, `error!("...")`,
/// `ereport!(ERROR, PgSqlErrorCode::ERRCODE_..., "message", "detail")`.
///
/// Unlike pgrx, a body cannot end its session or the server: `FATAL` and `PANIC` are
/// refused at compile time when written as a level name, and reported as `ERROR` when
/// they come as a value.
pub mod log {
    pub use pgrx::{PgLogLevel, PgSqlErrorCode};

    use std::borrow::Cow;

    use pgrx::pg_sys::panic::ErrorReport;

    /// What the macros call. Not an API.
    #[doc(hidden)]
    pub fn report(
        level: PgLogLevel,
        code: PgSqlErrorCode,
        message: String,
        detail: Option<String>,
    ) {
        let level = match level {
            PgLogLevel::FATAL | PgLogLevel::PANIC => PgLogLevel::ERROR,
            level => level,
        };
        let build = move || {
            // A message within bounds is sent as it is, not copied.
            let cut = match postpanic::truncate(&message, postpanic::MAX_MESSAGE) {
                Cow::Owned(cut) => Some(cut),
                Cow::Borrowed(_) => None,
            };
            let mut report = ErrorReport::new(code, cut.unwrap_or(message), "plrust");
            if let Some(detail) = detail {
                report = report.set_detail(postpanic::truncate(&detail, postpanic::MAX_MESSAGE));
            }
            report
        };
        // ERROR unwinds (a panic carrying the report, raised by the call's guard); the
        // other levels are sent at once and return, and their report is built inside the
        // sending (its allocations must not fail half-way for a body at its memory limit).
        if level == PgLogLevel::ERROR {
            build().report(level);
        } else {
            crate::__glue::send_report(level, build);
        }
    }

    /// As [`report`] at ERROR.
    #[doc(hidden)]
    pub fn raise(code: PgSqlErrorCode, message: String, detail: Option<String>) -> ! {
        report(PgLogLevel::ERROR, code, message, detail);
        unreachable!("an ERROR report unwinds")
    }

    /// The text of a message argument: a `&str`, a `String` or `format_args!`.
    #[doc(hidden)]
    pub fn text(message: impl std::fmt::Display) -> String {
        message.to_string()
    }
}

/// Report a message or raise an error with a SQLSTATE:
/// `ereport!(ERROR, PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, "bad input", "the detail")`.
/// The level is a name (`ERROR`, `WARNING`, `NOTICE`, `INFO`, `LOG`, `DEBUG1`..`DEBUG5`)
/// or a `PgLogLevel` value; at `ERROR` the call ends with that error.
#[macro_export]
macro_rules! ereport {
    (FATAL, $($rest:tt)*) => {
        ::std::compile_error!("PL/Rust functions cannot end the session: report at ERROR instead of FATAL")
    };
    (PANIC, $($rest:tt)*) => {
        ::std::compile_error!("PL/Rust functions cannot stop the server: report at ERROR instead of PANIC")
    };
    (ERROR, $code:expr, $message:expr $(, $detail:expr)? $(,)?) => {
        $crate::log::raise($code, $crate::log::text($message), $crate::__detail!($($detail)?))
    };
    ($level:ident, $code:expr, $message:expr $(, $detail:expr)? $(,)?) => {
        $crate::log::report($crate::log::PgLogLevel::$level, $code, $crate::log::text($message), $crate::__detail!($($detail)?))
    };
    ($level:expr, $code:expr, $message:expr $(, $detail:expr)? $(,)?) => {
        $crate::log::report($level, $code, $crate::log::text($message), $crate::__detail!($($detail)?))
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __detail {
    () => {
        ::std::option::Option::None
    };
    ($detail:expr) => {
        ::std::option::Option::Some($crate::log::text($detail))
    };
}

/// Raise an ERROR (SQLSTATE XX000) with a formatted message; the call ends.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => {
        $crate::log::raise($crate::log::PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, ::std::format!($($arg)*), ::std::option::Option::None)
    };
}

/// Send a WARNING with a formatted message.
#[macro_export]
macro_rules! warning {
    ($($arg:tt)*) => { $crate::__message!(WARNING, ERRCODE_WARNING, $($arg)*) };
}

/// What the message macros below expand to. Not an API.
#[doc(hidden)]
#[macro_export]
macro_rules! __message {
    ($level:ident, $code:ident, $($arg:tt)*) => {
        $crate::log::report($crate::log::PgLogLevel::$level, $crate::log::PgSqlErrorCode::$code, ::std::format!($($arg)*), ::std::option::Option::None)
    };
}

/// Send a NOTICE with a formatted text.
#[macro_export]
macro_rules! notice {
    ($($arg:tt)*) => { $crate::__message!(NOTICE, ERRCODE_SUCCESSFUL_COMPLETION, $($arg)*) };
}

/// Send an INFO message with a formatted text.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::__message!(INFO, ERRCODE_SUCCESSFUL_COMPLETION, $($arg)*) };
}

/// Write a LOG message to the server log with a formatted text.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => { $crate::__message!(LOG, ERRCODE_SUCCESSFUL_COMPLETION, $($arg)*) };
}

/// Send a DEBUG1 message with a formatted text.
#[macro_export]
macro_rules! debug1 {
    ($($arg:tt)*) => { $crate::__message!(DEBUG1, ERRCODE_SUCCESSFUL_COMPLETION, $($arg)*) };
}

/// Send a DEBUG2 message with a formatted text.
#[macro_export]
macro_rules! debug2 {
    ($($arg:tt)*) => { $crate::__message!(DEBUG2, ERRCODE_SUCCESSFUL_COMPLETION, $($arg)*) };
}

/// Send a DEBUG3 message with a formatted text.
#[macro_export]
macro_rules! debug3 {
    ($($arg:tt)*) => { $crate::__message!(DEBUG3, ERRCODE_SUCCESSFUL_COMPLETION, $($arg)*) };
}

/// Send a DEBUG4 message with a formatted text.
#[macro_export]
macro_rules! debug4 {
    ($($arg:tt)*) => { $crate::__message!(DEBUG4, ERRCODE_SUCCESSFUL_COMPLETION, $($arg)*) };
}

/// Send a DEBUG5 message with a formatted text.
#[macro_export]
macro_rules! debug5 {
    ($($arg:tt)*) => { $crate::__message!(DEBUG5, ERRCODE_SUCCESSFUL_COMPLETION, $($arg)*) };
}

/// SQL values as Rust types.
pub mod datum {
    use pgrx::datum::{FromDatum, UnboxDatum};
    use pgrx::pg_sys;

    pub use pgrx::datum::{ArrayIntoIterator, ArrayIterator, ArrayTypedIterator};

    /// The error [`Array::as_slice`] returns when the array contains NULLs.
    pub use pgrx::datum::ArraySliceError;

    /// A PostgreSQL array (`int4[]`, `text[]`, ...) passed as an argument, borrowed from
    /// the call's memory.
    ///
    /// Iterating yields `Option<T>`: `None` for a NULL element. [`Array::as_slice`] gives
    /// a zero-copy `&[T]` of an array of fixed-size primitives without NULLs.
    ///
    /// A safe view of pgrx's `Array`: nothing here exposes a raw pointer.
    pub struct Array<'mcx, T>(pgrx::datum::Array<'mcx, T>);

    impl<'mcx, T: UnboxDatum> Array<'mcx, T> {
        /// The elements in order, `None` for each NULL.
        pub fn iter(&self) -> ArrayIterator<'_, T> {
            self.0.iter()
        }

        /// The elements in order; panics at the first NULL. Checks for NULLs once, up
        /// front, when the array has none.
        pub fn iter_deny_null(&self) -> ArrayTypedIterator<'_, T> {
            self.0.iter_deny_null()
        }

        /// Element `index` (0-based): `None` past the end, `Some(None)` for a NULL.
        pub fn get<'arr>(&'arr self, index: usize) -> Option<Option<T::As<'arr>>> {
            self.0.get(index)
        }
    }

    impl<T> Array<'_, T> {
        /// How many elements the array has, NULLs included.
        pub fn len(&self) -> usize {
            self.0.len()
        }

        /// True when the array has no elements.
        pub fn is_empty(&self) -> bool {
            self.0.is_empty()
        }

        /// True when at least one element is NULL.
        pub fn contains_nulls(&self) -> bool {
            self.0.contains_nulls()
        }
    }

    impl<'mcx> Array<'mcx, crate::PgHeapTuple<'mcx, crate::AllocatedByRust>> {
        /// The rows of an array of rows, `None` for each NULL, each copied out of the
        /// array so that it can be kept, changed and returned (`iter` lends rows that
        /// live only as long as the array).
        pub fn to_rows(&self) -> Vec<Option<crate::PgHeapTuple<'mcx, crate::AllocatedByRust>>> {
            self.0
                .iter()
                .map(|row| row.map(crate::PgHeapTuple::detach))
                .collect()
        }
    }

    impl<T: pgrx::array::Scalar> Array<'_, T> {
        /// The elements as a slice, without copying; an error if any element is NULL.
        pub fn as_slice(&self) -> Result<&[T], ArraySliceError> {
            self.0.as_slice()
        }
    }

    impl<'mcx, T> IntoIterator for Array<'mcx, T>
    where
        for<'arr> T: UnboxDatum<As<'arr> = T> + 'static,
    {
        type Item = Option<T>;
        type IntoIter = ArrayIntoIterator<'mcx, T>;

        fn into_iter(self) -> Self::IntoIter {
            self.0.into_iter()
        }
    }

    impl<T: UnboxDatum> std::fmt::Debug for Array<'_, T>
    where
        for<'arr> T::As<'arr>: std::fmt::Debug,
    {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            std::fmt::Debug::fmt(&self.0, f)
        }
    }

    // SAFETY: pgrx's own array unboxing, wrapped.
    unsafe impl<T: FromDatum + UnboxDatum> UnboxDatum for Array<'_, T> {
        type As<'src>
            = Array<'src, T>
        where
            Self: 'src;

        unsafe fn unbox<'src>(datum: pgrx::datum::Datum<'src>) -> Array<'src, T>
        where
            Self: 'src,
        {
            // SAFETY: forwarded unchanged from our caller, who upholds the contract.
            Array(unsafe { pgrx::datum::Array::<T>::unbox(datum) })
        }
    }

    /// An array read from a row's column (`get_by_name`), or stored in one
    /// (`set_by_name`): the stored value is a copy.
    impl<T: pgrx::datum::IntoDatum> pgrx::datum::IntoDatum for Array<'_, T> {
        fn into_datum(self) -> Option<pg_sys::Datum> {
            let datum = self.0.into_datum()?;
            // SAFETY: FFI on a live array datum; the copy (flat, not toasted) is palloc'd
            // in the current memory context, so the glue may label it as its own.
            Some(pg_sys::Datum::from(unsafe {
                pg_sys::pg_detoast_datum_copy(datum.cast_mut_ptr())
            }))
        }

        fn type_oid() -> pg_sys::Oid {
            // SAFETY: FFI, a catalog lookup.
            unsafe { pg_sys::get_array_type(T::type_oid()) }
        }

        /// The array of `T`'s type; an array of rows is compatible with any array of a
        /// row type (each row's type is in its header).
        fn is_compatible_with(other: pg_sys::Oid) -> bool {
            if other == Self::type_oid() {
                return true;
            }
            // SAFETY: FFI, catalog lookups.
            T::type_oid() == pg_sys::RECORDOID
                && unsafe { pg_sys::type_is_rowtype(pg_sys::get_element_type(other)) }
        }
    }

    impl<'a, T: UnboxDatum> FromDatum for Array<'a, T> {
        unsafe fn from_polymorphic_datum(
            datum: pg_sys::Datum,
            is_null: bool,
            typoid: pg_sys::Oid,
        ) -> Option<Self> {
            // SAFETY: forwarded unchanged from our caller, who upholds FromDatum's contract.
            unsafe { pgrx::datum::Array::from_polymorphic_datum(datum, is_null, typoid) }.map(Array)
        }
    }
}

#[doc(hidden)]
pub mod __glue {
    //! Called only by the FFI wrapper PL/Rust generates around a body. Not an API.

    use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

    use pgrx::datum::{FromDatum, IntoDatum};
    use pgrx::pg_sys;

    pub use crate::declared::{arg_text, Out};
    pub use crate::returns::{ret_row, ret_set, ret_table};
    pub use crate::trigger::{ret_trigger, trigger};
    pub use pallocator::PallocAllocator;
    pub use pgrx::pg_sys::{Datum, FunctionCallInfo};

    /// What a body evaluates to: the original PL/Rust's convention.
    pub type BodyResult<T> = Result<Option<T>, Box<dyn std::error::Error + Send + Sync + 'static>>;

    /// Prepare this function library after it is loaded into a backend.
    ///
    /// # Safety
    /// Call once, from the backend's main thread, before any call through `guard`.
    pub unsafe fn init() {
        // Record panic locations instead of printing them to the server's stderr; the
        // guard turns the panic into an ERROR that carries the message and body line.
        postpanic::install_hook(sticky::remember);
        // postgrestd finds `postgrestd_abort` and `postgrestd_sleep` through weak
        // references, which do not pull them into the link by themselves: name them here.
        #[cfg(target_family = "postgres")]
        {
            std::hint::black_box(postpanic::postgrestd_abort as unsafe extern "C" fn() -> !);
            std::hint::black_box(postgrestd_sleep as extern "C-unwind" fn(u64, u32));
        }
    }

    /// Run the body's wrapper so that a panic or a Rust-raised error becomes a
    /// PostgreSQL ERROR (raised with `ereport`, i.e. a `longjmp` out of this library).
    ///
    /// An ERROR PostgreSQL raised during the call (a cancel, a timeout, the stack depth
    /// check) ends the call with that ERROR even if the body caught the unwinding and
    /// carried on: see [`probe`].
    ///
    /// # Safety
    /// Must be the outermost frame of the exported entry point: the frames above it are
    /// PostgreSQL's (or PL/Rust's FFI boundary) and hold nothing with a destructor.
    pub unsafe fn guard<F: FnOnce() -> Datum>(fcinfo: FunctionCallInfo, f: F) -> Datum {
        sticky::clear();
        stack::set_limit();
        // SAFETY: the caller guarantees only trivially-deallocated frames above us.
        unsafe {
            pg_sys::panic::pgrx_extern_c_guard(|| {
                // Every exit from here is a return or an unwind (an ERROR is a panic
                // until pgrx's boundary), so the scope always ends.
                let _call = call::Scope::enter(fcinfo);
                postpanic::located(|| match catch_unwind(AssertUnwindSafe(f)) {
                    Ok(datum) => {
                        sticky::reraise();
                        datum
                    }
                    // An ERROR PostgreSQL raised in this call wins over whatever the body
                    // made of it afterwards (an Err, its own ereport!, a panic).
                    Err(payload) => {
                        if sticky::raised() {
                            discard(payload);
                            sticky::reraise();
                            unreachable!("a recorded ERROR is raised again");
                        }
                        resume_unwind(payload)
                    }
                })
            })
        }
    }

    /// Drop a caught panic's payload when its destructor cannot be the body's (which could
    /// panic again, or loop); otherwise leak it.
    fn discard(payload: Box<dyn std::any::Any + Send>) {
        use pgrx::pg_sys::panic::{CaughtError, ErrorReportWithLevel};
        if payload.is::<CaughtError>()
            || payload.is::<ErrorReportWithLevel>()
            || payload.is::<String>()
            || payload.is::<&'static str>()
        {
            drop(payload);
        } else {
            std::mem::forget(payload);
        }
    }

    /// Send a report below ERROR (NOTICE, WARNING, ...) for the trusted API's macros.
    ///
    /// PostgreSQL's `errfinish` ends with `CHECK_FOR_INTERRUPTS()`: interrupts are held
    /// off meanwhile (the next probe answers them), so no cancel can `longjmp` through
    /// the body's frames from here; any other ERROR becomes a Rust panic at the boundary.
    /// The report is built, and sent, ignoring the memory limit: it is bounded (texts are
    /// cut at 64 KiB), and a body at its limit must still be able to send a NOTICE.
    pub(crate) fn send_report(
        level: pgrx::PgLogLevel,
        build: impl FnOnce() -> pgrx::pg_sys::panic::ErrorReport,
    ) {
        struct Resume;
        impl Drop for Resume {
            fn drop(&mut self) {
                pallocator::set_reporting(false);
                // SAFETY: undoes the increment below, on the backend's main thread.
                unsafe { pg_sys::InterruptHoldoffCount -= 1 };
            }
        }
        // SAFETY: HOLD_INTERRUPTS(), on the backend's main thread.
        unsafe { pg_sys::InterruptHoldoffCount += 1 };
        let _resume = Resume;
        pallocator::set_reporting(true);
        let report = build();
        // SAFETY: the closure owns nothing with a destructor when PostgreSQL could
        // longjmp (pgrx drops the report before calling errfinish).
        unsafe { pg_sys::ffi::pg_guard_ffi_boundary(|| report.report(level)) }
    }

    /// At every loop head and closure entry of a body (inserted by PL/Rust): answer a
    /// pending interrupt (cancel, `statement_timeout`, terminate) by raising its ERROR.
    /// A load and a branch when nothing is pending: a sticky ERROR needs no second check,
    /// because recording it also sets `InterruptPending` (see [`sticky::remember`]).
    #[inline(always)]
    pub fn probe() {
        if interrupt_pending() {
            interrupted();
        }
    }

    /// Send every probe to the slow path: `InterruptPending` set by us is harmless to
    /// PostgreSQL, whose next `CHECK_FOR_INTERRUPTS` finds nothing to do and clears it.
    fn arm_probes() {
        // SAFETY: a plain volatile write of the backend's flag, on its main thread, as a
        // signal handler makes it.
        unsafe { std::ptr::write_volatile(&raw mut pg_sys::InterruptPending, 1) };
    }

    /// At every function entry of a body: answer a pending interrupt (as [`probe`]) and
    /// check the stack depth against `max_stack_depth` (ERROR 54001 instead of overflowing
    /// the stack). Two loads and two compares: `InterruptPending`, and the stack pointer
    /// against a limit computed once per call. A sticky ERROR needs no third check here:
    /// recording it sets the limit so high that every entry takes the slow path.
    #[inline(always)]
    pub fn probe_entry() {
        if interrupt_pending() || stack::beyond_limit() {
            entry_slow_path_local::<()>();
        }
    }

    /// The entry probe's way to its slow path. Generic, so that it is instantiated in
    /// the function library itself: the probe then makes a direct call. A call to the
    /// runtime goes through the GOT, and in a recursive function LLVM keeps that address
    /// in a callee-saved register, which every call then saves and restores.
    #[cold]
    #[inline(never)]
    #[allow(clippy::extra_unused_type_parameters)] // the parameter is the point (above)
    fn entry_slow_path_local<T>() {
        entry_slow_path();
    }

    #[cold]
    #[inline(never)]
    fn entry_slow_path() {
        interrupted();
        // A destructor running while the stack-depth ERROR unwinds is itself at the limit:
        // give it some room (PostgreSQL keeps max_stack_depth at least 512 kB below the
        // real stack size), or raising again there would be a panic during cleanup.
        let margin = if std::thread::panicking() {
            UNWIND_STACK_MARGIN
        } else {
            0
        };
        if stack::beyond(margin) {
            too_deep();
        }
    }

    /// Stack a destructor may use past the limit while unwinding.
    const UNWIND_STACK_MARGIN: usize = 256 * 1024;

    /// The stack limit, as PostgreSQL's `check_stack_depth()` computes it: the backend's
    /// stack base minus `max_stack_depth`. The stack grows down on every platform we build for.
    mod stack {
        use std::sync::atomic::{AtomicUsize, Ordering};

        use pgrx::pg_sys;

        static BASE: AtomicUsize = AtomicUsize::new(0);
        /// What entry probes compare with: the limit, or `usize::MAX` once an ERROR is
        /// sticky (so that they all take the slow path, which raises it again).
        static GUARD: AtomicUsize = AtomicUsize::new(0);
        /// The limit itself.
        static LIMIT: AtomicUsize = AtomicUsize::new(0);

        unsafe extern "C" {
            // Plain C, never raise: called directly, without pgrx's setjmp boundary.
            fn set_stack_base() -> *mut std::ffi::c_char;
            fn restore_stack_base(base: *mut std::ffi::c_char);
        }

        /// Recompute the limit (max_stack_depth may have changed since the last call).
        #[inline(always)]
        pub fn set_limit() {
            let mut base = BASE.load(Ordering::Relaxed);
            if base == 0 {
                // SAFETY: reads the backend's stack base by setting it and putting it back.
                base = unsafe {
                    let old = set_stack_base();
                    restore_stack_base(old);
                    old as usize
                };
                BASE.store(base, Ordering::Relaxed);
            }
            // SAFETY: a GUC variable of the backend.
            let depth = unsafe { pg_sys::max_stack_depth } as usize * 1024;
            let limit = base.saturating_sub(depth);
            LIMIT.store(limit, Ordering::Relaxed);
            GUARD.store(limit, Ordering::Relaxed);
        }

        /// Send every entry probe to the slow path until the next call starts.
        pub fn trip() {
            GUARD.store(usize::MAX, Ordering::Relaxed);
        }

        /// The stack pointer. Read with one instruction where we know it: taking the
        /// address of a local instead would give the function a stack slot whose address
        /// escapes, which stops LLVM from turning tail recursion into a loop.
        #[inline(always)]
        fn pointer() -> usize {
            let sp: usize;
            // SAFETY: copies the stack pointer into a register; touches no memory.
            #[cfg(target_arch = "x86_64")]
            unsafe {
                std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags))
            };
            // SAFETY: as above.
            #[cfg(target_arch = "aarch64")]
            unsafe {
                std::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags))
            };
            #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
            {
                let marker = 0u8;
                sp = std::ptr::addr_of!(marker) as usize;
            }
            sp
        }

        #[inline(always)]
        pub fn beyond_limit() -> bool {
            pointer() < GUARD.load(Ordering::Relaxed)
        }

        /// Beyond the limit itself, less `margin` bytes.
        pub fn beyond(margin: usize) -> bool {
            pointer() < LIMIT.load(Ordering::Relaxed).saturating_sub(margin)
        }
    }

    #[cold]
    #[inline(never)]
    fn interrupted() {
        // While unwinding (a destructor runs during the unwinding of the very ERROR that is
        // sticky, or of a panic), raising again would be a panic inside a destructor
        // during cleanup, which cannot unwind: the sticky ERROR waits for the next probe
        // after the unwinding (or for the end of the call). A new interrupt is still
        // answered, so a destructor that loops forever can be cancelled; that ends the
        // session (FATAL), as any panic escaping a destructor during unwinding does.
        // A Rust thread-local destructor looping inside exit(), after PostgreSQL's exit
        // callbacks ran (interrupts are held off for good by then): end it.
        postpanic::exit_if_exiting();
        // A sticky ERROR keeps every probe on this path until the call ends (PostgreSQL's
        // interrupt processing below, or a probe before it, may have cleared the flag).
        if sticky::raised() {
            arm_probes();
        }
        // SAFETY: a flag of the backend, read on its main thread.
        let terminating = unsafe { pg_sys::ProcDiePending != 0 };
        if !std::thread::panicking() {
            sticky::reraise();
        } else if !terminating {
            // While unwinding, a cancel waits (raising it here would end the session): the
            // next probe after the unwinding answers it. A terminate is answered at once;
            // it ends the session anyway.
            return;
        }
        if interrupt_pending() {
            // SAFETY: PostgreSQL's CHECK_FOR_INTERRUPTS(), on the backend's main thread;
            // its ERROR (cancel, timeout, terminate) becomes a Rust panic at the boundary.
            unsafe { guarded(&mut || raw::ProcessInterrupts()) };
        }
    }

    /// Where postgrestd's `std::thread::sleep` (and `sleep_until`, `park_timeout`, timed
    /// waits) goes in a function library: wait on the backend's latch, in slices of at
    /// most a second, answering interrupts like a probe, as `pg_sleep` does. A cancel or
    /// `statement_timeout` ends the sleep with its ERROR.
    #[cfg(target_family = "postgres")]
    #[no_mangle]
    pub extern "C-unwind" fn postgrestd_sleep(secs: u64, nanos: u32) {
        use std::time::{Duration, Instant};

        let deadline = Instant::now().checked_add(Duration::new(secs, nanos));
        loop {
            if interrupt_pending() || sticky::raised() {
                interrupted();
            }
            let remaining = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(1),
            };
            if remaining.is_zero() {
                return;
            }
            let ms = remaining.as_millis().clamp(1, 1000) as std::ffi::c_long;
            // SAFETY: the backend's own latch, on its main thread. WaitLatch raises only
            // if the wait itself fails; the guard makes that a panic.
            unsafe {
                guarded(&mut || {
                    raw::WaitLatch(
                        pg_sys::MyLatch,
                        (pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH)
                            as i32,
                        ms,
                        pg_sys::PG_WAIT_EXTENSION,
                    );
                    raw::ResetLatch(pg_sys::MyLatch);
                })
            };
        }
    }

    /// PostgreSQL functions the runtime calls through [`guarded`] rather than through
    /// pgrx's wrappers: each wrapper call site inlines pgrx's whole error path (the
    /// `sigsetjmp`, copying the ErrorData, the panic), about 1.5 KiB of every function
    /// library per call site.
    mod raw {
        unsafe extern "C-unwind" {
            pub fn check_stack_depth();
            pub fn ProcessInterrupts();
        }

        #[cfg(target_family = "postgres")]
        unsafe extern "C-unwind" {
            pub fn WaitLatch(
                latch: *mut pgrx::pg_sys::Latch,
                events: std::ffi::c_int,
                timeout: std::ffi::c_long,
                info: u32,
            ) -> std::ffi::c_int;
            pub fn ResetLatch(latch: *mut pgrx::pg_sys::Latch);
        }
    }

    /// Run `f`, which calls PostgreSQL, with pgrx's boundary around it: an ERROR raised
    /// inside becomes a Rust panic here. One instance for every runtime call (`dyn`),
    /// so the boundary's code is in each library once.
    ///
    /// # Safety
    /// On the backend's main thread; `f` owns nothing with a destructor while it is in
    /// PostgreSQL (an ERROR's longjmp skips its frames).
    #[inline(never)]
    unsafe fn guarded(f: &mut dyn FnMut()) {
        // SAFETY: the caller's contract.
        unsafe { pg_sys::ffi::pg_guard_ffi_boundary(f) }
    }

    /// `InterruptPending`: a sig_atomic_t set by the backend's signal handlers.
    #[inline(always)]
    fn interrupt_pending() -> bool {
        // SAFETY: a plain volatile read, which is what CHECK_FOR_INTERRUPTS() does.
        unsafe { std::ptr::read_volatile(&raw const pg_sys::InterruptPending) != 0 }
    }

    #[cold]
    #[inline(never)]
    fn too_deep() {
        // SAFETY: raises the backend's own "stack depth limit exceeded" ERROR, which
        // the boundary turns into a Rust panic.
        unsafe { guarded(&mut || raw::check_stack_depth()) };
    }

    /// The first ERROR PostgreSQL raised during the current call, kept so that every later
    /// probe and the end of the call raise it again: a body cannot swallow it.
    mod sticky {
        use std::cell::RefCell;
        use std::sync::atomic::{AtomicBool, Ordering};

        use pgrx::pg_sys::panic::{ErrorReport, ErrorReportWithLevel};
        use pgrx::{PgLogLevel, PgSqlErrorCode};

        /// What is kept of the ERROR to raise it again.
        #[derive(Clone)]
        struct Saved {
            code: PgSqlErrorCode,
            message: String,
            detail: Option<String>,
            hint: Option<String>,
        }

        // The backend is single-threaded: the flag is read on every probe, the report
        // only once an error happened.
        static RAISED: AtomicBool = AtomicBool::new(false);
        thread_local! {
            static REPORT: RefCell<Option<Saved>> = const { RefCell::new(None) };
        }

        /// At the start of every call; touches the thread-local only after an error.
        #[inline(always)]
        pub fn clear() {
            // A load first: a swap would be a locked instruction on every call.
            if RAISED.load(Ordering::Relaxed) {
                RAISED.store(false, Ordering::Relaxed);
                REPORT.with(|r| r.borrow_mut().take());
            }
        }

        #[inline(always)]
        pub fn raised() -> bool {
            RAISED.load(Ordering::Relaxed)
        }

        /// Remember the first ERROR PostgreSQL raises during a call; from the panic hook, as
        /// the ERROR enters the library (every call into PostgreSQL goes through pgrx's
        /// boundary, which re-raises it as a panic), so no `catch_unwind` in the body sees
        /// it first. The copy is made with fallible allocations: a body at its memory
        /// limit still gets its ERROR raised again (with a generic text if need be).
        pub fn remember(e: &ErrorReportWithLevel) {
            if RAISED.swap(true, Ordering::Relaxed) {
                return;
            }
            // Every later probe takes its slow path, which raises this ERROR again.
            super::stack::trip();
            super::arm_probes();
            let saved = Saved {
                code: e.sql_error_code(),
                message: try_copy(e.message()).unwrap_or_default(),
                detail: e.detail().and_then(try_copy),
                hint: e.hint().and_then(try_copy),
            };
            let _ = REPORT.try_with(|r| {
                if let Ok(mut r) = r.try_borrow_mut() {
                    *r = Some(saved);
                }
            });
        }

        fn try_copy(text: &str) -> Option<String> {
            let text = postpanic::truncate(text, postpanic::MAX_MESSAGE);
            let mut copy = String::new();
            copy.try_reserve_exact(text.len()).ok()?;
            copy.push_str(&text);
            Some(copy)
        }

        /// If an ERROR was raised during this call, raise it again. The check is inlined
        /// (it runs at the end of every call); the raising is not.
        #[inline(always)]
        pub fn reraise() {
            if raised() {
                raise_saved();
            }
        }

        #[cold]
        #[inline(never)]
        fn raise_saved() -> ! {
            let saved = REPORT.with(|r| r.borrow().clone()).unwrap_or(Saved {
                code: PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                message: String::new(),
                detail: None,
                hint: None,
            });
            let message = if saved.message.is_empty() {
                "an earlier error in this call".to_owned()
            } else {
                saved.message
            };
            let mut report = ErrorReport::new(saved.code, message, "plrust");
            if let Some(detail) = saved.detail {
                report = report.set_detail(detail);
            }
            if let Some(hint) = saved.hint {
                report = report.set_hint(hint);
            }
            report.report(PgLogLevel::ERROR);
            unreachable!("an ERROR does not return")
        }
    }

    /// Argument `n` of the call, `None` when it is SQL NULL.
    ///
    /// # Safety
    /// `fcinfo` is the live call's; `n` is in range and `T` is the mapped Rust type of
    /// the argument's SQL type.
    pub unsafe fn arg<'a, T: FromDatum + 'a>(fcinfo: FunctionCallInfo, n: usize) -> Option<T> {
        // SAFETY: forwarded from the caller.
        unsafe { pgrx::fcinfo::pg_getarg::<T>(fcinfo, n) }
    }

    /// Argument `n` of a STRICT function, which PostgreSQL never calls with NULL.
    ///
    /// # Safety
    /// As [`arg`].
    pub unsafe fn strict_arg<'a, T: FromDatum + 'a>(fcinfo: FunctionCallInfo, n: usize) -> T {
        // SAFETY: forwarded from the caller.
        not_null(unsafe { arg::<T>(fcinfo, n) }, n)
    }

    /// As [`strict_arg`], for an argument a body sees in its text form.
    ///
    /// # Safety
    /// As [`arg_text`].
    pub unsafe fn strict_arg_text<'a, T: FromDatum + 'a>(fcinfo: FunctionCallInfo, n: usize) -> T {
        // SAFETY: forwarded from the caller.
        not_null(unsafe { arg_text::<T>(fcinfo, n) }, n)
    }

    fn not_null<T>(value: Option<T>, n: usize) -> T {
        match value {
            Some(value) => value,
            None => {
                pgrx::ereport!(
                    ERROR,
                    pgrx::PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
                    format!("argument {} of a STRICT function is NULL", n + 1)
                );
            }
        }
    }

    /// As [`ret`], for a result whose declared type needs more than the Rust type says
    /// (an enum, a domain, an array of one; see [`Out`]).
    ///
    /// # Safety
    /// As [`ret`]; `out` describes how the Rust type maps to the declared return type.
    pub unsafe fn ret_declared<T: IntoDatum>(
        fcinfo: FunctionCallInfo,
        result: BodyResult<T>,
        out: Out,
    ) -> Datum {
        let datum = match result {
            Ok(value) => value.and_then(IntoDatum::into_datum),
            Err(e) => raise_body_error(e),
        };
        // SAFETY: just built from the body's value; fcinfo is the live call's.
        match unsafe {
            crate::declared::finish(datum, out, || crate::declared::return_type(fcinfo))
        } {
            Some(datum) => datum,
            // SAFETY: fcinfo is the live call's (caller's promise).
            None => unsafe { pgrx::fcinfo::pg_return_null(fcinfo) },
        }
    }

    /// As [`ret`], for a polymorphic result (`anyelement`, ...): the value must be of
    /// the type the call resolved the result to (42804).
    ///
    /// # Safety
    /// As [`ret`]; the function's result type is polymorphic.
    pub unsafe fn ret_any(
        fcinfo: FunctionCallInfo,
        result: BodyResult<crate::AnyElement<'_>>,
    ) -> Datum {
        let value = match result {
            Ok(value) => value,
            Err(e) => raise_body_error(e),
        };
        // SAFETY: fcinfo is the live call's, of a polymorphic function.
        match unsafe { crate::any::ret_any(fcinfo, value) } {
            Some(datum) => datum,
            // SAFETY: fcinfo is the live call's (caller's promise).
            None => unsafe { pgrx::fcinfo::pg_return_null(fcinfo) },
        }
    }

    /// Turn what the body returned into the call's result: `Ok(Some(v))` is `v`,
    /// `Ok(None)` is SQL NULL, `Err(e)` raises an ERROR with `e`'s message.
    ///
    /// # Safety
    /// `fcinfo` is the live call's and `T` is the mapped Rust type of the return type.
    pub unsafe fn ret<T: IntoDatum>(fcinfo: FunctionCallInfo, result: BodyResult<T>) -> Datum {
        match result {
            Ok(value) => match value.and_then(IntoDatum::into_datum) {
                Some(datum) => datum,
                // SAFETY: fcinfo is the live call's (caller's promise).
                None => unsafe { pgrx::fcinfo::pg_return_null(fcinfo) },
            },
            Err(e) => raise_body_error(e),
        }
    }

    /// The ERROR for a body's `Err(e)`, whatever the function returns: `e`'s message,
    /// with the SQLSTATE of an SPI or datum error (a wrong type is 42804, a missing
    /// column 42703, ...) and XX000 for any other error.
    pub(crate) fn raise_body_error(e: Box<dyn std::error::Error + Send + Sync + 'static>) -> ! {
        let code = if let Some(e) = e.downcast_ref::<crate::spi::SpiError>() {
            e.sqlstate()
        } else if e.is::<pgrx::datum::TryFromDatumError>() {
            pgrx::PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH
        } else {
            pgrx::PgSqlErrorCode::ERRCODE_INTERNAL_ERROR
        };
        // Cut like a panic's message: an Err of 100 MB is not for the server log.
        let message = postpanic::truncate(&e.to_string(), postpanic::MAX_MESSAGE).into_owned();
        pgrx::ereport!(ERROR, code, message);
    }

    /// An ERROR PostgreSQL raised earlier in this call, if any, raised again.
    pub(crate) fn reraise_pending() {
        sticky::reraise();
    }

    /// True once PostgreSQL raised an ERROR in this call: the transaction is failed.
    pub(crate) fn error_pending() -> bool {
        sticky::raised()
    }

    pub(crate) use call::{call_function_oid, call_is_read_only, call_trigger_data};

    /// The call running in this library, for what SPI needs of it.
    mod call {
        use std::sync::atomic::{AtomicPtr, Ordering};

        use pgrx::pg_sys;

        /// The innermost running call of this library. A plain static, not a thread-local
        /// (which in a dlopen'ed library costs a call into the dynamic loader per use):
        /// the backend is single-threaded, and Relaxed atomics are plain loads and stores.
        static CALL: AtomicPtr<pg_sys::FunctionCallInfoBaseData> =
            AtomicPtr::new(std::ptr::null_mut());

        /// Makes a call the current one until dropped; calls nest (a body's query can
        /// call a function of the same library).
        pub struct Scope(pg_sys::FunctionCallInfo);

        impl Scope {
            #[inline(always)]
            pub fn enter(fcinfo: pg_sys::FunctionCallInfo) -> Scope {
                // A load and a store, not a swap: a swap is a locked instruction.
                let enclosing = CALL.load(Ordering::Relaxed);
                CALL.store(fcinfo, Ordering::Relaxed);
                Scope(enclosing)
            }
        }

        impl Drop for Scope {
            #[inline(always)]
            fn drop(&mut self) {
                CALL.store(self.0, Ordering::Relaxed);
            }
        }

        /// Whether the current call's SQL runs read-only: in a STABLE or IMMUTABLE
        /// function, as in PL/pgSQL. Asked of PL/Rust's handler, which read it with the
        /// function's entry point (not fixed when the library was built: identical
        /// bodies share a library, and ALTER FUNCTION changes the volatility without
        /// rebuilding it).
        #[cfg(target_family = "postgres")]
        pub fn call_is_read_only() -> bool {
            unsafe extern "C" {
                /// plrust.so's; see its `cache::plrust_call_read_only`.
                fn plrust_call_read_only(fcinfo: pg_sys::FunctionCallInfo) -> bool;
            }
            let fcinfo = CALL.load(Ordering::Relaxed);
            // SAFETY: fcinfo, when set, is the live call PL/Rust's handler is running (the
            // scope ends with it).
            !fcinfo.is_null() && unsafe { plrust_call_read_only(fcinfo) }
        }

        /// Outside a backend (unit tests of this crate): never read-only.
        #[cfg(not(target_family = "postgres"))]
        pub fn call_is_read_only() -> bool {
            false
        }

        /// The OID of the function the current call runs (`InvalidOid` outside a call, or
        /// for a DO block).
        pub fn call_function_oid() -> pg_sys::Oid {
            let fcinfo = CALL.load(Ordering::Relaxed);
            // SAFETY: as above; flinfo is the call's, set by the function manager.
            unsafe {
                if fcinfo.is_null() || (*fcinfo).flinfo.is_null() {
                    return pg_sys::InvalidOid;
                }
                (*(*fcinfo).flinfo).fn_oid
            }
        }

        /// The current call's trigger data when it is a trigger call.
        pub fn call_trigger_data() -> Option<*mut pg_sys::TriggerData> {
            let fcinfo = CALL.load(Ordering::Relaxed);
            // SAFETY: as above; a context node's tag says what it is.
            unsafe {
                if fcinfo.is_null() || (*fcinfo).context.is_null() {
                    return None;
                }
                let context = (*fcinfo).context;
                ((*context).type_ == pg_sys::NodeTag::T_TriggerData).then_some(context.cast())
            }
        }
    }
}
