//! SQL from a function body: PostgreSQL's Server Programming Interface (SPI), safely.
//!
//! The API is spelled as pgrx's, and so as the original PL/Rust's: `Spi::connect`,
//! `client.select(query, limit, args)`, `SpiTupleTable` (an iterator of rows),
//! `row["column"].value::<T>()`, `Spi::get_one`, prepared statements and cursors. It is
//! our own code over `pg_sys`, because pgrx's accepts things a trusted language cannot:
//!
//! - pgrx binds an argument with whatever type the caller names, and executes a prepared
//!   statement with values of any type: PostgreSQL then reads a value of one type as
//!   another (an `int8` as a `text` pointer is a crash or a read of arbitrary memory).
//!   Here every argument carries the type of the Rust value it was made from, and each is
//!   checked against the statement's parameter types before anything runs.
//! - pgrx lets a value read from a result borrow memory that `SPI_finish` frees, with a
//!   lifetime nothing bounds (`&'static str`). Here a borrowed value (`&str`, `&[u8]`)
//!   lives as long as the connection, and the connection cannot leave `Spi::connect`;
//!   reading them into owned types (`String`, `Vec<u8>`) copies out of SPI's memory.
//! - A pgrx cursor is a pointer to a portal that SQL (`CLOSE`) or a second handle can
//!   free. Here a cursor is its name, found again at each fetch.
//! - A connection used inside another `Spi::connect` would run its query in the inner
//!   connection, whose memory goes first; here that is an error.
//!
//! As in PL/pgSQL, a statement run by its text is parsed and planned once per backend,
//! and its plan kept for the function's later calls (see `plan_cache`).
//!
//! As in PL/pgSQL, the commands of a STABLE or IMMUTABLE function run read-only (they see
//! the snapshot of the calling query, and a change is ERROR 0A000); those of a VOLATILE
//! function, a procedure or a DO block each see the changes made before them. A trigger
//! function's queries can read its transition tables by name.
//!
//! Errors: PostgreSQL's own (syntax, a constraint, a permission) end the call with their
//! SQLSTATE, whatever the body does with them. An [`SpiError`] is a mistake on the Rust
//! side (a value read as the wrong type, an unknown column, a missing cursor); the body
//! may handle it, and when it returns one as its `Err` the ERROR carries a SQLSTATE that
//! fits (see [`SpiError::sqlstate`]).

use std::cell::Cell;
use std::ffi::{CStr, CString};
use std::fmt;
use std::marker::PhantomData;
use std::ops::Index;
use std::ptr::NonNull;

use pgrx::datum::{FromDatum, IntoDatum as PgIntoDatum};
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode;

pub use pgrx::pg_sys::{PgBuiltInOids, PgOid};
pub use pgrx::spi::{SpiErrorCodes, SpiOkCodes};

use crate::{BackendLocal, TryFromDatumError};

/// Calls `$callback!` with the SQL value types SPI binds and reads, each also as an
/// array (`Vec<T>`, `Vec<Option<T>>`): one list for both directions. (JSON and bytea are
/// added by each side: their arrays and copies differ.)
macro_rules! sql_types {
    ($callback:ident) => {
        $callback!(
            bool,
            i8,
            i16,
            i32,
            i64,
            f32,
            f64,
            String,
            crate::AnyNumeric,
            crate::Date,
            crate::Time,
            crate::TimeWithTimeZone,
            crate::Timestamp,
            crate::TimestampWithTimeZone,
            crate::Interval,
            crate::Uuid,
            crate::Point,
            crate::BOX,
            crate::Range<i32>,
            crate::Range<i64>,
            crate::Range<crate::AnyNumeric>,
            crate::Range<crate::Date>,
            crate::Range<crate::Timestamp>,
            crate::Range<crate::TimestampWithTimeZone>,
        );
    };
}
use sql_types;

mod args;
mod cursor;
mod plan_cache;
mod query;
mod results;

pub use args::{Datum, DatumWithOid, IntoDatum, SpiArgs};
pub use cursor::SpiCursor;
pub use query::{OwnedPreparedStatement, ParamTypes, PreparableQuery, PreparedStatement, Query};
pub use results::{FromSql, Owned, SpiHeapTupleData, SpiHeapTupleDataEntry, SpiTupleTable};

use args::check_for_plan;
use query::Plan;

/// What SPI operations return.
pub type Result<T> = std::result::Result<T, SpiError>;

/// pgrx's name for [`SpiError`].
pub type Error = SpiError;

/// A mistake on the Rust side of an SPI operation. PostgreSQL's own errors are not
/// returned: they end the call as ERRORs.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum SpiError {
    /// SPI refused the statement (e.g. `COMMIT` or `COPY ... FROM STDIN`).
    SpiError(SpiErrorCodes),
    /// A value could not be read as the Rust type asked for.
    DatumError(TryFromDatumError),
    /// A prepared statement was given the wrong number of arguments.
    PreparedStatementArgumentMismatch {
        /// Parameters the statement has.
        expected: usize,
        /// Arguments given.
        got: usize,
    },
    /// An argument's type does not fit the statement's parameter.
    ArgumentType {
        /// The argument's position, from 1.
        position: usize,
        /// The parameter's SQL type.
        expected: String,
        /// The SQL type of the argument's Rust value.
        got: String,
    },
    /// The result is not positioned on a row: it is empty, or was read past its end.
    InvalidPosition,
    /// No cursor of this name is open in the transaction.
    CursorNotFound(String),
    /// The statement returns no rows (e.g. an `INSERT` without `RETURNING`).
    NoTupleTable,
    /// The result has no column of this name.
    ColumnNotFound(String),
    /// The result has no column at this position (columns count from 1).
    ColumnOutOfRange(usize),
    /// A query or name contains a NUL byte.
    NulByte,
    /// A connection was used inside another `Spi::connect` closure, where only the
    /// innermost one may run statements.
    NotInnermost,
    /// PostgreSQL raised an ERROR earlier in this call: the transaction is failed and no
    /// statement can run (returned instead of raising it again while unwinding).
    Aborted,
}

impl SpiError {
    /// The SQLSTATE of the ERROR this becomes when a body returns it as its `Err`.
    pub fn sqlstate(&self) -> PgSqlErrorCode {
        use PgSqlErrorCode::*;
        match self {
            SpiError::SpiError(SpiErrorCodes::Transaction | SpiErrorCodes::Copy) => {
                ERRCODE_FEATURE_NOT_SUPPORTED
            }
            SpiError::SpiError(SpiErrorCodes::NoAttribute) => ERRCODE_UNDEFINED_COLUMN,
            SpiError::SpiError(_) => ERRCODE_INTERNAL_ERROR,
            SpiError::DatumError(_) | SpiError::ArgumentType { .. } => ERRCODE_DATATYPE_MISMATCH,
            SpiError::PreparedStatementArgumentMismatch { .. } => ERRCODE_SYNTAX_ERROR,
            SpiError::InvalidPosition => ERRCODE_NO_DATA_FOUND,
            SpiError::CursorNotFound(_) => ERRCODE_INVALID_CURSOR_NAME,
            SpiError::NoTupleTable => ERRCODE_NO_DATA_FOUND,
            SpiError::ColumnNotFound(_) | SpiError::ColumnOutOfRange(_) => ERRCODE_UNDEFINED_COLUMN,
            SpiError::NulByte => ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
            SpiError::NotInnermost => ERRCODE_INVALID_TRANSACTION_STATE,
            SpiError::Aborted => ERRCODE_IN_FAILED_SQL_TRANSACTION,
        }
    }
}

impl fmt::Display for SpiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpiError::SpiError(SpiErrorCodes::Transaction) => f.write_str(
                "transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT) cannot run through SPI here",
            ),
            SpiError::SpiError(SpiErrorCodes::Copy) => {
                f.write_str("COPY to or from the client cannot run through SPI")
            }
            SpiError::SpiError(code) => write!(f, "SPI error: {code:?}"),
            SpiError::DatumError(e) => write!(f, "{e}"),
            SpiError::PreparedStatementArgumentMismatch { expected, got } => write!(
                f,
                "the prepared statement has {expected} parameter(s) but was given {got} argument(s)"
            ),
            SpiError::ArgumentType { position, expected, got } => write!(
                f,
                "argument {position} is of type {got} but the statement's parameter ${position} is of type {expected}"
            ),
            SpiError::InvalidPosition => f.write_str(
                "the result is not positioned on a row (it has no rows, or was read past its end)",
            ),
            SpiError::CursorNotFound(name) => write!(f, "cursor \"{name}\" does not exist"),
            SpiError::NoTupleTable => f.write_str("the statement returned no rows"),
            SpiError::ColumnNotFound(name) => {
                write!(f, "column \"{name}\" is not in the result")
            }
            SpiError::ColumnOutOfRange(n) => {
                write!(f, "column {n} is not in the result (columns count from 1)")
            }
            SpiError::NulByte => f.write_str("a query or name contains a NUL byte"),
            SpiError::Aborted => {
                f.write_str("an earlier ERROR in this call aborted the transaction")
            }
            SpiError::NotInnermost => f.write_str(
                "this SPI connection is used inside another Spi::connect: only the innermost connection can run statements",
            ),
        }
    }
}

impl std::error::Error for SpiError {}

impl From<TryFromDatumError> for SpiError {
    fn from(e: TryFromDatumError) -> Self {
        SpiError::DatumError(e)
    }
}

/// How many `Spi::connect` closures of this library are running.
static DEPTH: BackendLocal<Cell<u32>> = BackendLocal::new(Cell::new(0));

/// Entry to SPI.
pub struct Spi;

impl Spi {
    /// Run `f` with a connection to SPI; the connection, and the memory of its results,
    /// end when `f` returns.
    pub fn connect<R, F>(f: F) -> R
    where
        F: for<'c> FnOnce(SpiClient<'c>) -> R,
    {
        connected(|conn| f(SpiClient { conn }))
    }

    /// As [`Spi::connect`], for code written for pgrx's `connect_mut`.
    pub fn connect_mut<R, F>(f: F) -> R
    where
        F: for<'c> FnOnce(&mut SpiClient<'c>) -> R,
    {
        connected(|conn| f(&mut SpiClient { conn }))
    }

    /// The first column of the first row of `query`'s result.
    pub fn get_one<A: Owned>(query: &str) -> Result<Option<A>> {
        Spi::get_one_with_args(query, NO_ARGS)
    }

    /// The first two columns of the first row.
    pub fn get_two<A: Owned, B: Owned>(query: &str) -> Result<(Option<A>, Option<B>)> {
        Spi::get_two_with_args(query, NO_ARGS)
    }

    /// The first three columns of the first row.
    pub fn get_three<A: Owned, B: Owned, C: Owned>(
        query: &str,
    ) -> Result<(Option<A>, Option<B>, Option<C>)> {
        Spi::get_three_with_args(query, NO_ARGS)
    }

    /// [`Spi::get_one`] with arguments for `$1`, `$2`, ...
    pub fn get_one_with_args<A: Owned>(query: &str, args: impl SpiArgs) -> Result<Option<A>> {
        Spi::connect(|client| client.select(query, Some(1), args)?.first().get_one())
    }

    /// [`Spi::get_two`] with arguments.
    pub fn get_two_with_args<A: Owned, B: Owned>(
        query: &str,
        args: impl SpiArgs,
    ) -> Result<(Option<A>, Option<B>)> {
        Spi::connect(|client| client.select(query, Some(1), args)?.first().get_two())
    }

    /// [`Spi::get_three`] with arguments.
    pub fn get_three_with_args<A: Owned, B: Owned, C: Owned>(
        query: &str,
        args: impl SpiArgs,
    ) -> Result<(Option<A>, Option<B>, Option<C>)> {
        Spi::connect(|client| client.select(query, Some(1), args)?.first().get_three())
    }

    /// Run a statement, ignoring any rows it returns.
    pub fn run(query: &str) -> Result<()> {
        Spi::run_with_args(query, NO_ARGS)
    }

    /// [`Spi::run`] with arguments.
    pub fn run_with_args(query: &str, args: impl SpiArgs) -> Result<()> {
        Spi::connect(|client| client.update(query, None, args).map(drop))
    }

    /// `EXPLAIN (FORMAT JSON)` of a query.
    pub fn explain(query: &str) -> Result<crate::Json> {
        Spi::explain_with_args(query, NO_ARGS)
    }

    /// [`Spi::explain`] with arguments.
    pub fn explain_with_args(query: &str, args: impl SpiArgs) -> Result<crate::Json> {
        let explain = format!("EXPLAIN (FORMAT JSON) {query}");
        Spi::connect(|client| client.select(&explain, None, args)?.first().get_one())?
            .ok_or(SpiError::NoTupleTable)
    }
}

/// No arguments (for the `_with_args` forms' plain counterparts).
const NO_ARGS: &[DatumWithOid<'static>; 0] = &[];

/// One `Spi::connect`: the innermost connection of this library, `depth` deep, whose
/// results live in `memory`.
#[derive(Clone, Copy)]
struct Conn<'c> {
    depth: u32,
    memory: pg_sys::MemoryContext,
    read_only: bool,
    /// A trigger's transition tables are registered (their memory is the connection's).
    trigger: bool,
    // Invariant: one connection's results cannot pass for another's.
    _conn: PhantomData<fn(&'c ()) -> &'c ()>,
}

impl Conn<'_> {
    /// Before a statement runs: an ERROR PostgreSQL already raised in this call is raised
    /// again (the transaction is failed; nothing more can run), and only the innermost
    /// connection runs statements (its results must live in its own memory).
    fn ready(&self) -> Result<()> {
        pending_error()?;
        if DEPTH.get() == self.depth {
            Ok(())
        } else {
            Err(SpiError::NotInnermost)
        }
    }

    /// Ready to run a statement ([`ready`](Self::ready)), with `args` made datums in
    /// the connection's memory, which frees them.
    fn bind(&self, args: impl SpiArgs) -> Result<args::Bound> {
        self.ready()?;
        // SAFETY: the connection's memory, alive while the connection is.
        let _in = unsafe { crate::memory::InContext::enter(self.memory) };
        args.bind()
    }
}

/// An ERROR PostgreSQL raised earlier in this call, raised again; while unwinding (a
/// destructor using SPI), returned instead: a panic there would abort.
fn pending_error() -> Result<()> {
    if !crate::__glue::error_pending() {
        Ok(())
    } else if std::thread::panicking() {
        Err(SpiError::Aborted)
    } else {
        crate::__glue::reraise_pending();
        Ok(())
    }
}

/// Cursors opened by connections that registered a trigger's transition tables, with
/// the connection's depth: closed when it ends, since their queries may read those
/// tables through memory that goes with the connection.
static TRIGGER_CURSORS: BackendLocal<std::cell::RefCell<Vec<(u32, CString)>>> =
    BackendLocal::new(std::cell::RefCell::new(Vec::new()));

fn connected<R>(f: impl for<'c> FnOnce(Conn<'c>) -> R) -> R {
    if crate::__glue::error_pending() && !std::thread::panicking() {
        crate::__glue::reraise_pending();
    }
    let read_only = crate::__glue::call_is_read_only();
    // SAFETY: reading the backend's current memory context, on its only thread.
    let caller = unsafe { pg_sys::CurrentMemoryContext };
    // SAFETY: FFI. SPI_connect succeeds or raises an ERROR (a panic here).
    let status = unsafe { pg_sys::SPI_connect() };
    if status != pg_sys::SPI_OK_CONNECT as i32 {
        panic!("SPI_connect failed with status {status}");
    }
    let depth = DEPTH.get() + 1;
    DEPTH.set(depth);
    let finish = Finish { depth };
    let trigger = crate::__glue::call_trigger_data();
    if let Some(trigger) = trigger {
        // SAFETY: the call's own TriggerData, alive for the call; makes its transition
        // tables visible to this connection's queries by name, as in PL/pgSQL.
        unsafe { pg_sys::SPI_register_trigger_data(trigger) };
    }
    // SAFETY: SPI_connect just made the connection's "SPI Proc" context current; we make
    // the caller's current again. What the body makes inside the closure in the current
    // memory context (a row it changes, an array a row column detoasts) may outlive the
    // connection, whose memory SPI_finish deletes; what borrows the connection is made
    // in `memory` by name. SPI's own functions switch contexts themselves, and
    // SPI_finish makes `caller` current again.
    let memory = unsafe {
        let memory = pg_sys::CurrentMemoryContext;
        pg_sys::CurrentMemoryContext = caller;
        memory
    };
    let result = f(Conn {
        depth,
        memory,
        read_only,
        trigger: trigger.is_some(),
        _conn: PhantomData,
    });
    drop(finish);
    result
}

/// Ends a connection, also when its closure unwinds.
struct Finish {
    depth: u32,
}

impl Drop for Finish {
    fn drop(&mut self) {
        DEPTH.set(self.depth - 1);
        let cursors: Vec<CString> = {
            let mut c = TRIGGER_CURSORS.borrow_mut();
            if c.is_empty() {
                Vec::new()
            } else {
                let (mine, others) = c.drain(..).partition(|(depth, _)| *depth == self.depth);
                *c = others;
                mine.into_iter().map(|(_, name)| name).collect()
            }
        };
        // After a PostgreSQL ERROR the failing transaction's abort closes the connection
        // and its cursors; SPI would run in the state the error left half-done.
        if !crate::__glue::error_pending() {
            for name in cursors {
                if let Ok(portal) = find_portal(&name) {
                    // SAFETY: FFI on a live portal, before its connection's memory goes.
                    unsafe { pg_sys::SPI_cursor_close(portal.as_ptr()) };
                }
            }
            // SAFETY: FFI; this connection is SPI's innermost (nested ones have finished).
            unsafe { pg_sys::SPI_finish() };
        }
    }
}

/// A connection to SPI, valid inside the [`Spi::connect`] closure it was given to.
pub struct SpiClient<'c> {
    conn: Conn<'c>,
}

impl<'c> SpiClient<'c> {
    /// Run a query; rows come back as an [`SpiTupleTable`]. `limit` caps how many rows
    /// are fetched (`None`: all); `args` binds `$1`, `$2`, ... (`None` or `&[]` for none).
    pub fn select<Q: Query<'c>>(
        &self,
        query: Q,
        limit: Option<i64>,
        args: impl SpiArgs,
    ) -> Result<SpiTupleTable<'c>> {
        self.execute(query, limit, args)
    }

    /// Run a statement that changes data (`INSERT`, `UPDATE`, DDL, ...). The same as
    /// [`SpiClient::select`]: whether changes are allowed depends on the function's
    /// volatility, as in PL/pgSQL.
    pub fn update<Q: Query<'c>>(
        &self,
        query: Q,
        limit: Option<i64>,
        args: impl SpiArgs,
    ) -> Result<SpiTupleTable<'c>> {
        self.execute(query, limit, args)
    }

    fn execute<Q: Query<'c>>(
        &self,
        query: Q,
        limit: Option<i64>,
        args: impl SpiArgs,
    ) -> Result<SpiTupleTable<'c>> {
        let mut args = self.conn.bind(args)?;
        let limit = limit.unwrap_or(0).max(0);
        let source = query.source()?;
        // A text worth keeping runs as its kept plan (see plan_cache), held for the
        // execution: a nested call evicting it does not free it under us.
        let kept = match source.text_bytes() {
            Some(text) => plan_cache::lookup(text, args.types())?,
            None => None,
        };
        let source = match &kept {
            Some(plan) => Source::Plan(plan),
            None => source,
        };
        let status = match source {
            Source::Str(_) | Source::Text(_) => {
                let text = source.c_text()?;
                let (types, values, nulls) = args.for_spi();
                // SAFETY: FFI with arrays of args.len() elements that outlive the call;
                // each value is of its type (bind() made it from a Rust value of that
                // type). No stale result is mistaken for this one's.
                unsafe {
                    pg_sys::SPI_tuptable = std::ptr::null_mut();
                    pg_sys::SPI_execute_with_args(
                        text.as_ptr(),
                        args.len() as i32,
                        types,
                        values,
                        nulls,
                        self.conn.read_only,
                        limit,
                    )
                }
            }
            Source::Plan(plan) => {
                check_for_plan(&args, plan)?;
                let (_, values, nulls) = args.for_spi();
                // SAFETY: FFI; plan is alive (borrowed from a statement of this
                // connection, or kept); the values were checked against its types.
                unsafe {
                    pg_sys::SPI_tuptable = std::ptr::null_mut();
                    pg_sys::SPI_execute_plan(
                        plan.as_ptr(),
                        values,
                        nulls,
                        self.conn.read_only,
                        limit,
                    )
                }
            }
        };
        SpiTupleTable::after(status, self.conn)
    }

    /// Prepare a statement with parameters of the given types (`&[PgOid]`, or
    /// `Option<Vec<PgOid>>` as in the original PL/Rust). It lives as long as this
    /// connection; [`PreparedStatement::keep`] keeps it for later calls.
    pub fn prepare<Q: PreparableQuery>(
        &self,
        query: Q,
        args: impl ParamTypes,
    ) -> Result<PreparedStatement<'c>> {
        self.conn.ready()?;
        let query = CString::new(query.text()).map_err(|_| SpiError::NulByte)?;
        Ok(PreparedStatement {
            plan: prepare_plan(&query, args.oids())?,
            _conn: PhantomData,
        })
    }

    /// As [`SpiClient::prepare`] (pgrx's name for a statement that changes data).
    pub fn prepare_mut<Q: PreparableQuery>(
        &self,
        query: Q,
        args: impl ParamTypes,
    ) -> Result<PreparedStatement<'c>> {
        self.prepare(query, args)
    }

    /// Open a cursor on a query, to fetch its rows a few at a time. Panics (an ERROR)
    /// where [`SpiClient::try_open_cursor`] returns an error.
    pub fn open_cursor<Q: Query<'c>>(&self, query: Q, args: impl SpiArgs) -> SpiCursor<'c> {
        match self.try_open_cursor(query, args) {
            Ok(cursor) => cursor,
            Err(e) => panic!("{e}"),
        }
    }

    /// Open a cursor on a query.
    pub fn try_open_cursor<Q: Query<'c>>(
        &self,
        query: Q,
        args: impl SpiArgs,
    ) -> Result<SpiCursor<'c>> {
        let mut args = self.conn.bind(args)?;
        let source = query.source()?;
        let portal = match source {
            Source::Str(_) | Source::Text(_) => {
                let text = source.c_text()?;
                let (types, values, nulls) = args.for_spi();
                // SAFETY: as in execute(); PostgreSQL names the cursor, and raises an
                // ERROR (a panic here) rather than return null.
                unsafe {
                    pg_sys::SPI_cursor_open_with_args(
                        std::ptr::null(),
                        text.as_ptr(),
                        args.len() as i32,
                        types,
                        values,
                        nulls,
                        self.conn.read_only,
                        0,
                    )
                }
            }
            Source::Plan(plan) => {
                check_for_plan(&args, plan)?;
                let (_, values, nulls) = args.for_spi();
                // SAFETY: as in execute().
                unsafe {
                    pg_sys::SPI_cursor_open(
                        std::ptr::null(),
                        plan.as_ptr(),
                        values,
                        nulls,
                        self.conn.read_only,
                    )
                }
            }
        };
        // SAFETY: SPI_cursor_open* returns a live portal (or raised an ERROR); its name
        // is a NUL-terminated string it owns, copied here.
        let name = unsafe { CStr::from_ptr((*portal).name) }.to_owned();
        if self.conn.trigger {
            TRIGGER_CURSORS
                .borrow_mut()
                .push((self.conn.depth, name.clone()));
        }
        Ok(SpiCursor {
            name,
            conn: self.conn,
        })
    }

    /// As [`SpiClient::open_cursor`] (pgrx's name for a cursor on a statement that
    /// changes data).
    pub fn open_cursor_mut<Q: Query<'c>>(&self, query: Q, args: impl SpiArgs) -> SpiCursor<'c> {
        self.open_cursor(query, args)
    }

    /// As [`SpiClient::try_open_cursor`].
    pub fn try_open_cursor_mut<Q: Query<'c>>(
        &self,
        query: Q,
        args: impl SpiArgs,
    ) -> Result<SpiCursor<'c>> {
        self.try_open_cursor(query, args)
    }

    /// A cursor open in this transaction, by name: one left open with
    /// [`SpiCursor::detach_into_name`], or one SQL opened (`DECLARE`).
    pub fn find_cursor(&self, name: &str) -> Result<SpiCursor<'c>> {
        self.conn.ready()?;
        let name = CString::new(name).map_err(|_| SpiError::NulByte)?;
        find_portal(&name)?;
        Ok(SpiCursor {
            name,
            conn: self.conn,
        })
    }
}

/// Prepare `query` with parameters of `types` on the current connection, whose memory
/// holds the plan until it is kept.
fn prepare_plan(query: &CStr, mut types: Vec<pg_sys::Oid>) -> Result<Plan> {
    // SAFETY: FFI with a NUL-terminated query and an array of types.len() types.
    // SPI_prepare raises an ERROR for a bad query (a panic here).
    let plan =
        unsafe { pg_sys::SPI_prepare(query.as_ptr(), types.len() as i32, types.as_mut_ptr()) };
    match NonNull::new(plan) {
        Some(plan) => Ok(Plan::new(plan)),
        // SAFETY: reading SPI's status global on the backend's thread.
        None => Err(error_status(unsafe { pg_sys::SPI_result })),
    }
}

/// The portal of an open cursor.
fn find_portal(name: &CStr) -> Result<NonNull<pg_sys::PortalData>> {
    // SAFETY: FFI with a NUL-terminated name; a hash lookup.
    NonNull::new(unsafe { pg_sys::SPI_cursor_find(name.as_ptr()) })
        .ok_or_else(|| SpiError::CursorNotFound(name.to_string_lossy().into_owned()))
}

/// SPI's answer for a statement: success, or the SPI error it is.
fn check_status(status: i32) -> Result<SpiOkCodes> {
    SpiOkCodes::try_from(status).map_err(|_| error_status(status))
}

fn error_status(status: i32) -> SpiError {
    match SpiErrorCodes::try_from(status) {
        Ok(code) => SpiError::SpiError(code),
        Err(_) => SpiError::SpiError(SpiErrorCodes::OpUnknown),
    }
}

use crate::returns::type_name;

/// Can a value of type `from` be passed where `to` is expected, as it is (same
/// representation)? Never to a pseudo-type: PostgreSQL counts everything binary-coercible
/// to `any`/`anyelement`, but a parameter of such a type tells its readers nothing true
/// about the value.
fn fits(from: pg_sys::Oid, to: pg_sys::Oid) -> bool {
    from == to
        // SAFETY: FFI; catalog lookups (an unknown oid is an ERROR, a panic here).
        || unsafe {
            pg_sys::get_typtype(to) != pg_sys::TYPTYPE_PSEUDO as std::ffi::c_char
                && pg_sys::IsBinaryCoercible(from, to)
        }
}

mod private {
    use super::*;

    /// A query as SPI runs it.
    pub enum Source<'s> {
        /// A text as the body wrote it (`&str`, `String`): not NUL-terminated.
        Str(&'s str),
        Text(&'s CStr),
        Plan(&'s super::Plan),
    }

    impl Source<'_> {
        /// The text, if this is one, as bytes without a NUL.
        pub fn text_bytes(&self) -> Option<&[u8]> {
            match self {
                Source::Str(s) => Some(s.as_bytes()),
                Source::Text(c) => Some(c.to_bytes()),
                Source::Plan(_) => None,
            }
        }

        /// The text, NUL-terminated, for SPI; `NulByte` if it has a NUL inside.
        pub fn c_text(&self) -> Result<std::borrow::Cow<'_, CStr>> {
            match self {
                Source::Str(s) => CString::new(*s)
                    .map(std::borrow::Cow::Owned)
                    .map_err(|_| SpiError::NulByte),
                Source::Text(c) => Ok(std::borrow::Cow::Borrowed(c)),
                Source::Plan(_) => unreachable!("a plan has no text"),
            }
        }
    }

    pub trait AsSource<'c> {
        fn source(&self) -> Result<Source<'_>>;
    }

    pub trait Text {
        fn text(&self) -> &str;
    }

    /// Arguments as SPI takes them: each value's type, and the value (made in the
    /// current memory context, which the caller makes the connection's) or NULL.
    pub trait Args {
        fn bind(self) -> Result<super::args::Bound>;
    }

    pub trait Types {
        fn oids(self) -> Vec<pg_sys::Oid>;
    }

    pub trait Sealed {}

    pub trait Read<'c>: Sized {
        fn read(
            datum: pg_sys::Datum,
            oid: pg_sys::Oid,
            memory: pg_sys::MemoryContext,
        ) -> Result<Option<Self>>;
    }
}

use private::Source;
