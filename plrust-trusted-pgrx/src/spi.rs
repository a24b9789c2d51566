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

use crate::TryFromDatumError;

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
            SpiError::ColumnNotFound(_) | SpiError::ColumnOutOfRange(_) => {
                ERRCODE_UNDEFINED_COLUMN
            }
            SpiError::NulByte => ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
            SpiError::NotInnermost => ERRCODE_INVALID_TRANSACTION_STATE,
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

thread_local! {
    /// How many `Spi::connect` closures of this library are running.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

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
    // Invariant: one connection's results cannot pass for another's.
    _conn: PhantomData<fn(&'c ()) -> &'c ()>,
}

impl Conn<'_> {
    /// Before a statement runs: an ERROR PostgreSQL already raised in this call is raised
    /// again (the transaction is failed; nothing more can run), and only the innermost
    /// connection runs statements (its results must live in its own memory).
    fn ready(&self) -> Result<()> {
        crate::__glue::reraise_pending();
        if DEPTH.with(Cell::get) == self.depth {
            Ok(())
        } else {
            Err(SpiError::NotInnermost)
        }
    }
}

fn connected<R>(f: impl for<'c> FnOnce(Conn<'c>) -> R) -> R {
    crate::__glue::reraise_pending();
    let read_only = crate::__glue::call_is_read_only();
    // SAFETY: FFI. SPI_connect succeeds or raises an ERROR (a panic here).
    let status = unsafe { pg_sys::SPI_connect() };
    if status != pg_sys::SPI_OK_CONNECT as i32 {
        panic!("SPI_connect failed with status {status}");
    }
    let depth = DEPTH.with(|d| {
        d.set(d.get() + 1);
        d.get()
    });
    let finish = Finish { depth };
    if let Some(trigger) = crate::__glue::call_trigger_data() {
        // SAFETY: the call's own TriggerData, alive for the call; makes its transition
        // tables visible to this connection's queries by name, as in PL/pgSQL.
        unsafe { pg_sys::SPI_register_trigger_data(trigger) };
    }
    // SAFETY: reading the backend's current memory context (SPI_connect just made it the
    // connection's "SPI Proc" context), on its only thread.
    let memory = unsafe { pg_sys::CurrentMemoryContext };
    let result = f(Conn { depth, memory, read_only, _conn: PhantomData });
    drop(finish);
    result
}

/// Ends a connection, also when its closure unwinds.
struct Finish {
    depth: u32,
}

impl Drop for Finish {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(self.depth - 1));
        // After a PostgreSQL ERROR the failing transaction's abort closes the connection;
        // SPI_finish would run in the state the error left half-done.
        if !crate::__glue::error_pending() {
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
        self.conn.ready()?;
        let args = args.bind()?;
        let limit = limit.unwrap_or(0).max(0);
        let status = match query.source()? {
            Source::Text(text) => {
                let (mut types, mut values, nulls) = unzip_with_types(&args);
                // SAFETY: FFI with arrays of args.len() elements that outlive the call;
                // each value is of its type (bind() made it from a Rust value of that
                // type). No stale result is mistaken for this one's.
                unsafe {
                    pg_sys::SPI_tuptable = std::ptr::null_mut();
                    pg_sys::SPI_execute_with_args(
                        text.as_ptr(),
                        args.len() as i32,
                        types.as_mut_ptr(),
                        values.as_mut_ptr(),
                        nulls.as_ptr(),
                        self.conn.read_only,
                        limit,
                    )
                }
            }
            Source::Plan(plan) => {
                let (mut values, nulls) = for_plan(&args, plan)?;
                // SAFETY: FFI; plan is alive (borrowed from a statement of this
                // connection, or kept); for_plan checked the values against its types.
                unsafe {
                    pg_sys::SPI_tuptable = std::ptr::null_mut();
                    pg_sys::SPI_execute_plan(
                        plan.as_ptr(),
                        values.as_mut_ptr(),
                        nulls.as_ptr(),
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
        let mut types = args.oids();
        // SAFETY: FFI with a NUL-terminated query and an array of types.len() types.
        // SPI_prepare raises an ERROR for a bad query (a panic here).
        let plan = unsafe {
            pg_sys::SPI_prepare(query.as_ptr(), types.len() as i32, types.as_mut_ptr())
        };
        match NonNull::new(plan) {
            Some(plan) => Ok(PreparedStatement { plan: Plan::new(plan), _conn: PhantomData }),
            // SAFETY: reading SPI's status global on the backend's thread.
            None => Err(error_status(unsafe { pg_sys::SPI_result })),
        }
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
        self.conn.ready()?;
        let args = args.bind()?;
        let portal = match query.source()? {
            Source::Text(text) => {
                let (mut types, mut values, nulls) = unzip_with_types(&args);
                // SAFETY: as in execute(); PostgreSQL names the cursor, and raises an
                // ERROR (a panic here) rather than return null.
                unsafe {
                    pg_sys::SPI_cursor_open_with_args(
                        std::ptr::null(),
                        text.as_ptr(),
                        args.len() as i32,
                        types.as_mut_ptr(),
                        values.as_mut_ptr(),
                        nulls.as_ptr(),
                        self.conn.read_only,
                        0,
                    )
                }
            }
            Source::Plan(plan) => {
                let (mut values, nulls) = for_plan(&args, plan)?;
                // SAFETY: as in execute().
                unsafe {
                    pg_sys::SPI_cursor_open(
                        std::ptr::null(),
                        plan.as_ptr(),
                        values.as_mut_ptr(),
                        nulls.as_ptr(),
                        self.conn.read_only,
                    )
                }
            }
        };
        // SAFETY: SPI_cursor_open* returns a live portal (or raised an ERROR); its name
        // is a NUL-terminated string it owns, copied here.
        let name = unsafe { CStr::from_ptr((*portal).name) }.to_owned();
        Ok(SpiCursor { name, conn: self.conn })
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
        Ok(SpiCursor { name, conn: self.conn })
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

/// The SQL name of a type, for messages.
fn type_name(oid: pg_sys::Oid) -> String {
    // SAFETY: FFI; format_type_be names unknown oids ("???") rather than fail.
    let name = unsafe { pg_sys::format_type_be(oid) };
    // SAFETY: a NUL-terminated palloc'd string, copied, then freed.
    unsafe {
        let text = CStr::from_ptr(name).to_string_lossy().into_owned();
        pg_sys::pfree(name.cast());
        text
    }
}

/// Can a value of type `from` be passed where `to` is expected, as it is (same
/// representation)?
fn fits(from: pg_sys::Oid, to: pg_sys::Oid) -> bool {
    // SAFETY: FFI; a catalog lookup.
    from == to || unsafe { pg_sys::IsBinaryCoercible(from, to) }
}

// ---------------------------------------------------------------------------------------
// Queries and prepared statements

/// What can be run: a query's text (`&str`, `&String`, `String`), or a prepared
/// statement.
pub trait Query<'c>: private::AsSource<'c> {}

/// What can be prepared: a query's text.
pub trait PreparableQuery: private::Text {}

mod private {
    use super::*;

    /// A query as SPI runs it.
    pub enum Source<'s> {
        Text(std::borrow::Cow<'s, CStr>),
        Plan(&'s super::Plan),
    }

    pub trait AsSource<'c> {
        fn source(&self) -> Result<Source<'_>>;
    }

    pub trait Text {
        fn text(&self) -> &str;
    }

    /// Arguments as SPI takes them: each value's type, and the value (made in the
    /// current memory context, the connection's) or NULL.
    pub trait Args {
        fn bind(self) -> Result<Vec<(pg_sys::Oid, Option<pg_sys::Datum>)>>;
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

macro_rules! text_query {
    ($($t:ty),*) => {$(
        impl private::Text for $t {
            fn text(&self) -> &str {
                self
            }
        }
        impl<'c> private::AsSource<'c> for $t {
            fn source(&self) -> Result<Source<'_>> {
                CString::new(private::Text::text(self))
                    .map(|s| Source::Text(std::borrow::Cow::Owned(s)))
                    .map_err(|_| SpiError::NulByte)
            }
        }
        impl<'c> Query<'c> for $t {}
        impl PreparableQuery for $t {}
    )*};
}

text_query!(&str, &String, String);

impl<'c> private::AsSource<'c> for &CStr {
    fn source(&self) -> Result<Source<'_>> {
        Ok(Source::Text(std::borrow::Cow::Borrowed(self)))
    }
}
impl<'c> Query<'c> for &CStr {}

/// A prepared plan, freed when dropped if kept.
#[doc(hidden)]
pub struct Plan {
    plan: NonNull<pg_sys::_SPI_plan>,
    /// The parameters' types, read once.
    types: Vec<pg_sys::Oid>,
    kept: bool,
}

impl Plan {
    fn new(plan: NonNull<pg_sys::_SPI_plan>) -> Plan {
        // SAFETY: FFI on a live plan.
        let n = unsafe { pg_sys::SPI_getargcount(plan.as_ptr()) }.max(0);
        let types = (0..n)
            // SAFETY: as above, for each parameter index.
            .map(|i| unsafe { pg_sys::SPI_getargtypeid(plan.as_ptr(), i) })
            .collect();
        Plan { plan, types, kept: false }
    }

    fn as_ptr(&self) -> *mut pg_sys::_SPI_plan {
        self.plan.as_ptr()
    }
}

impl Drop for Plan {
    fn drop(&mut self) {
        // A connection's plans go with its memory; kept ones are freed here (not after a
        // PostgreSQL ERROR: the failed transaction may be half-way through them).
        if self.kept && !crate::__glue::error_pending() {
            // SAFETY: FFI on a kept plan this value owns.
            unsafe { pg_sys::SPI_freeplan(self.plan.as_ptr()) };
        }
    }
}

/// A statement prepared on a connection, valid as long as the connection.
pub struct PreparedStatement<'c> {
    plan: Plan,
    _conn: PhantomData<fn(&'c ()) -> &'c ()>,
}

impl PreparedStatement<'_> {
    /// Keep the statement beyond this connection (and this call), e.g. in a `static`,
    /// to run it again without parsing and planning it again. It is freed when dropped.
    pub fn keep(mut self) -> OwnedPreparedStatement {
        // SAFETY: FFI on this connection's live plan, which moves to a long-lived memory
        // context; it is kept once (self is consumed).
        unsafe { pg_sys::SPI_keepplan(self.plan.as_ptr()) };
        self.plan.kept = true;
        OwnedPreparedStatement(self.plan)
    }

    /// How many parameters the statement has.
    pub fn arg_count(&self) -> usize {
        self.plan.types.len()
    }
}

/// A prepared statement kept with [`PreparedStatement::keep`]: usable from any connection
/// of later calls.
pub struct OwnedPreparedStatement(Plan);

impl OwnedPreparedStatement {
    /// How many parameters the statement has.
    pub fn arg_count(&self) -> usize {
        self.0.types.len()
    }
}

// A kept plan lives in its own memory context and holds no pointer into a call's; the
// backend is single-threaded, and a library's statics are only touched from its thread.
// SAFETY: see above; a `static` holding one can only be used from the backend's thread.
unsafe impl Send for OwnedPreparedStatement {}
// SAFETY: as above.
unsafe impl Sync for OwnedPreparedStatement {}

impl<'c> private::AsSource<'c> for &PreparedStatement<'c> {
    fn source(&self) -> Result<Source<'_>> {
        Ok(Source::Plan(&self.plan))
    }
}
impl<'c> Query<'c> for &PreparedStatement<'c> {}
impl<'c> private::AsSource<'c> for PreparedStatement<'c> {
    fn source(&self) -> Result<Source<'_>> {
        Ok(Source::Plan(&self.plan))
    }
}
impl<'c> Query<'c> for PreparedStatement<'c> {}
impl<'c> private::AsSource<'c> for &OwnedPreparedStatement {
    fn source(&self) -> Result<Source<'_>> {
        Ok(Source::Plan(&self.0))
    }
}
impl<'c> Query<'c> for &OwnedPreparedStatement {}
impl<'c> private::AsSource<'c> for OwnedPreparedStatement {
    fn source(&self) -> Result<Source<'_>> {
        Ok(Source::Plan(&self.0))
    }
}
impl<'c> Query<'c> for OwnedPreparedStatement {}

/// The parameter types of a statement to prepare: `&[PgOid]` or, as in the original
/// PL/Rust, `Option<Vec<PgOid>>`.
pub trait ParamTypes: private::Types {}

impl private::Types for &[PgOid] {
    fn oids(self) -> Vec<pg_sys::Oid> {
        self.iter().map(|t| t.value()).collect()
    }
}
impl ParamTypes for &[PgOid] {}
impl<const N: usize> private::Types for &[PgOid; N] {
    fn oids(self) -> Vec<pg_sys::Oid> {
        self.iter().map(|t| t.value()).collect()
    }
}
impl<const N: usize> ParamTypes for &[PgOid; N] {}
impl private::Types for Vec<PgOid> {
    fn oids(self) -> Vec<pg_sys::Oid> {
        self.iter().map(|t| t.value()).collect()
    }
}
impl ParamTypes for Vec<PgOid> {}
impl private::Types for Option<Vec<PgOid>> {
    fn oids(self) -> Vec<pg_sys::Oid> {
        self.unwrap_or_default().iter().map(|t| t.value()).collect()
    }
}
impl ParamTypes for Option<Vec<PgOid>> {}

// ---------------------------------------------------------------------------------------
// Arguments

/// A value to bind to a statement's parameter, with its SQL type (that of the Rust value
/// it was made from).
pub struct Datum {
    value: Box<dyn ArgValue>,
}

impl Datum {
    /// The value's SQL type.
    pub fn oid(&self) -> pg_sys::Oid {
        self.value.oid()
    }
}

impl fmt::Debug for Datum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Datum({})", type_name(self.value.oid()))
    }
}

/// A value made into a datum when its statement runs, in the statement's memory.
trait ArgValue {
    fn oid(&self) -> pg_sys::Oid;
    fn datum(&self) -> Option<pg_sys::Datum>;
}

struct Typed<T>(T);

impl<T: PgIntoDatum + Again> ArgValue for Typed<T> {
    fn oid(&self) -> pg_sys::Oid {
        T::type_oid()
    }
    fn datum(&self) -> Option<pg_sys::Datum> {
        self.0.again().into_datum()
    }
}

/// A copy of a value, to make a datum of each time its statement runs (pgrx's
/// `into_datum` consumes the value).
trait Again {
    fn again(&self) -> Self;
}

/// A Rust value that can be bound to a statement's parameter.
pub trait IntoDatum: Sized + private::Sealed {
    /// The value as a [`Datum`]; `None` for SQL NULL.
    fn into_datum(self) -> Option<Datum>;
    /// The SQL type of values of this Rust type.
    fn type_oid() -> pg_sys::Oid;
}

/// An argument for `$1`, `$2`, ...: made from any bindable value, `x.into()`, or
/// `DatumWithOid::null::<T>()` for a NULL of `T`'s type.
pub struct DatumWithOid<'a> {
    oid: pg_sys::Oid,
    value: Option<Datum>,
    _borrow: PhantomData<&'a ()>,
}

impl DatumWithOid<'_> {
    /// An SQL NULL of the type of `T`.
    pub fn null<T: IntoDatum>() -> Self {
        DatumWithOid { oid: T::type_oid(), value: None, _borrow: PhantomData }
    }

    /// The argument's SQL type.
    pub fn oid(&self) -> pg_sys::Oid {
        self.oid
    }
}

impl<T: IntoDatum> From<T> for DatumWithOid<'_> {
    fn from(value: T) -> Self {
        DatumWithOid { oid: T::type_oid(), value: value.into_datum(), _borrow: PhantomData }
    }
}

macro_rules! bindable_as_is {
    ($($t:ty),* $(,)?) => {$(
        impl Again for $t {
            fn again(&self) -> Self {
                self.clone()
            }
        }
        impl private::Sealed for $t {}
        impl IntoDatum for $t {
            fn into_datum(self) -> Option<Datum> {
                Some(Datum { value: Box::new(Typed(self)) })
            }
            fn type_oid() -> pg_sys::Oid {
                <$t as PgIntoDatum>::type_oid()
            }
        }
    )*};
}

/// A type, and arrays of it (with or without NULLs).
macro_rules! bindable {
    ($($t:ty),* $(,)?) => {$(
        bindable_as_is!($t, Vec<$t>, Vec<Option<$t>>);
    )*};
}

bindable!(
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
bindable_as_is!(Vec<u8>);

impl Again for crate::Json {
    fn again(&self) -> Self {
        crate::Json(self.0.clone())
    }
}
impl Again for crate::JsonB {
    fn again(&self) -> Self {
        crate::JsonB(self.0.clone())
    }
}
macro_rules! bindable_json {
    ($($t:ty),*) => {$(
        impl private::Sealed for $t {}
        impl IntoDatum for $t {
            fn into_datum(self) -> Option<Datum> {
                Some(Datum { value: Box::new(Typed(self)) })
            }
            fn type_oid() -> pg_sys::Oid {
                <$t as PgIntoDatum>::type_oid()
            }
        }
    )*};
}
bindable_json!(crate::Json, crate::JsonB);

impl private::Sealed for &str {}
impl IntoDatum for &str {
    fn into_datum(self) -> Option<Datum> {
        <String as IntoDatum>::into_datum(self.to_owned())
    }
    fn type_oid() -> pg_sys::Oid {
        <String as IntoDatum>::type_oid()
    }
}

impl private::Sealed for &[u8] {}
impl IntoDatum for &[u8] {
    fn into_datum(self) -> Option<Datum> {
        <Vec<u8> as IntoDatum>::into_datum(self.to_vec())
    }
    fn type_oid() -> pg_sys::Oid {
        <Vec<u8> as IntoDatum>::type_oid()
    }
}

impl<T: IntoDatum> private::Sealed for Option<T> {}
impl<T: IntoDatum> IntoDatum for Option<T> {
    fn into_datum(self) -> Option<Datum> {
        self.and_then(IntoDatum::into_datum)
    }
    fn type_oid() -> pg_sys::Oid {
        T::type_oid()
    }
}

/// A statement's arguments, made into datums: each one's SQL type and value (`None`: NULL).
type Bound = Vec<(pg_sys::Oid, Option<pg_sys::Datum>)>;

/// Types, values and null flags for a statement given as text: the parameters take the
/// arguments' types.
fn unzip_with_types(args: &Bound) -> (Vec<pg_sys::Oid>, Vec<pg_sys::Datum>, Vec<std::ffi::c_char>) {
    let types = args.iter().map(|(oid, _)| *oid).collect();
    let (values, nulls) = values(args);
    (types, values, nulls)
}

fn values(args: &Bound) -> (Vec<pg_sys::Datum>, Vec<std::ffi::c_char>) {
    args.iter()
        .map(|(_, value)| match value {
            Some(datum) => (*datum, b' ' as std::ffi::c_char),
            None => (pg_sys::Datum::from(0usize), b'n' as std::ffi::c_char),
        })
        .unzip()
}

/// Values and null flags for a prepared plan, after checking that there is one per
/// parameter and that each fits its parameter's type.
fn for_plan(args: &Bound, plan: &Plan) -> Result<(Vec<pg_sys::Datum>, Vec<std::ffi::c_char>)> {
    if args.len() != plan.types.len() {
        return Err(SpiError::PreparedStatementArgumentMismatch {
            expected: plan.types.len(),
            got: args.len(),
        });
    }
    for (i, ((oid, _), &expected)) in args.iter().zip(&plan.types).enumerate() {
        if !fits(*oid, expected) {
            return Err(SpiError::ArgumentType {
                position: i + 1,
                expected: type_name(expected),
                got: type_name(*oid),
            });
        }
    }
    Ok(values(args))
}

/// The arguments of a statement: `&[DatumWithOid]` (`&[]`, `&[42.into(), "x".into()]`),
/// or, as in the original PL/Rust, `Option<Vec<(PgOid, Option<Datum>)>>` (`None`).
pub trait SpiArgs: private::Args {}

fn bind_typed<'a, 'b: 'a>(args: impl IntoIterator<Item = &'a DatumWithOid<'b>>) -> Bound {
    args.into_iter()
        .map(|a| (a.oid, a.value.as_ref().and_then(|v| v.value.datum())))
        .collect()
}

impl<'a> private::Args for &[DatumWithOid<'a>] {
    fn bind(self) -> Result<Bound> {
        Ok(bind_typed(self))
    }
}
impl<'a> SpiArgs for &[DatumWithOid<'a>] {}
impl<'a, const N: usize> private::Args for &[DatumWithOid<'a>; N] {
    fn bind(self) -> Result<Bound> {
        Ok(bind_typed(self))
    }
}
impl<'a, const N: usize> SpiArgs for &[DatumWithOid<'a>; N] {}
impl<'a> private::Args for Vec<DatumWithOid<'a>> {
    fn bind(self) -> Result<Bound> {
        Ok(bind_typed(&self))
    }
}
impl<'a> SpiArgs for Vec<DatumWithOid<'a>> {}
impl private::Args for Option<Vec<(PgOid, Option<Datum>)>> {
    fn bind(self) -> Result<Bound> {
        let mut bound = Vec::new();
        for (i, (declared, value)) in self.unwrap_or_default().into_iter().enumerate() {
            let declared = declared.value();
            if let Some(value) = &value {
                if !fits(value.oid(), declared) {
                    return Err(SpiError::ArgumentType {
                        position: i + 1,
                        expected: type_name(declared),
                        got: type_name(value.oid()),
                    });
                }
            }
            bound.push((declared, value.and_then(|v| v.value.datum())));
        }
        Ok(bound)
    }
}
impl SpiArgs for Option<Vec<(PgOid, Option<Datum>)>> {}

// ---------------------------------------------------------------------------------------
// Results

/// The rows a statement returned, positioned before the first; an iterator of rows.
pub struct SpiTupleTable<'c> {
    table: Option<NonNull<pg_sys::SPITupleTable>>,
    size: usize,
    current: isize,
    status: SpiOkCodes,
    conn: Conn<'c>,
}

impl<'c> SpiTupleTable<'c> {
    fn after(status: i32, conn: Conn<'c>) -> Result<Self> {
        let status = check_status(status)?;
        // SAFETY: SPI's result globals, just set by the statement that returned `status`
        // (SPI_tuptable was cleared before it ran), on the backend's thread. The table
        // lives in the connection's memory.
        let (table, size) = unsafe {
            let table = NonNull::new(pg_sys::SPI_tuptable);
            let size = match table {
                Some(t) => t.as_ref().numvals as usize,
                None => pg_sys::SPI_processed as usize,
            };
            (table, size)
        };
        Ok(SpiTupleTable { table, size, current: -1, status, conn })
    }

    /// Position on the first row.
    pub fn first(mut self) -> Self {
        self.current = 0;
        self
    }

    /// Position before the first row again, to iterate once more.
    pub fn rewind(mut self) -> Self {
        self.current = -1;
        self
    }

    /// How many rows the statement returned (or, without `RETURNING`, changed).
    pub fn len(&self) -> usize {
        self.size
    }

    /// True when [`SpiTupleTable::len`] is 0.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// What kind of statement ran (`SpiOkCodes::Select`, `Insert`, ...).
    pub fn status(&self) -> &SpiOkCodes {
        &self.status
    }

    /// Column 1 of the current row.
    pub fn get_one<A: FromSql<'c>>(&self) -> Result<Option<A>> {
        self.get(1)
    }

    /// Columns 1 and 2 of the current row.
    pub fn get_two<A: FromSql<'c>, B: FromSql<'c>>(&self) -> Result<(Option<A>, Option<B>)> {
        Ok((self.get(1)?, self.get(2)?))
    }

    /// Columns 1 to 3 of the current row.
    pub fn get_three<A: FromSql<'c>, B: FromSql<'c>, C: FromSql<'c>>(
        &self,
    ) -> Result<(Option<A>, Option<B>, Option<C>)> {
        Ok((self.get(1)?, self.get(2)?, self.get(3)?))
    }

    /// The current row.
    pub fn get_heap_tuple(&self) -> Result<Option<SpiHeapTupleData<'c>>> {
        match self.table {
            None => Ok(None),
            Some(_) if self.size == 0 => Ok(None),
            Some(table) => {
                if self.current < 0 || self.current as usize >= self.size {
                    return Err(SpiError::InvalidPosition);
                }
                Ok(Some(self.row(table, self.current as usize)))
            }
        }
    }

    fn row(&self, table: NonNull<pg_sys::SPITupleTable>, index: usize) -> SpiHeapTupleData<'c> {
        // SAFETY: the table is alive (the connection is); index < size = numvals.
        unsafe {
            let table = table.as_ref();
            let tuple = *table.vals.add(index);
            SpiHeapTupleData::new(table.tupdesc, tuple, self.conn)
        }
    }

    /// Column `ordinal` (from 1) of the current row.
    pub fn get<T: FromSql<'c>>(&self, ordinal: usize) -> Result<Option<T>> {
        match self.get_heap_tuple()? {
            Some(row) => row.get(ordinal),
            None => Err(SpiError::InvalidPosition),
        }
    }

    /// The named column of the current row.
    pub fn get_by_name<T: FromSql<'c>, S: AsRef<str>>(&self, name: S) -> Result<Option<T>> {
        match self.get_heap_tuple()? {
            Some(row) => row.get_by_name(name),
            None => Err(SpiError::InvalidPosition),
        }
    }

    fn tupdesc(&self) -> Result<pg_sys::TupleDesc> {
        // SAFETY: the table is alive.
        self.table.map(|t| unsafe { t.as_ref().tupdesc }).ok_or(SpiError::NoTupleTable)
    }

    /// How many columns the result has.
    pub fn columns(&self) -> Result<usize> {
        // SAFETY: a live tuple descriptor.
        Ok(unsafe { (*self.tupdesc()?).natts } as usize)
    }

    fn check_column(&self, ordinal: usize) -> Result<pg_sys::TupleDesc> {
        let tupdesc = self.tupdesc()?;
        if ordinal == 0 || ordinal > self.columns()? {
            return Err(SpiError::ColumnOutOfRange(ordinal));
        }
        Ok(tupdesc)
    }

    /// The SQL type of column `ordinal` (from 1).
    pub fn column_type_oid(&self, ordinal: usize) -> Result<PgOid> {
        let tupdesc = self.check_column(ordinal)?;
        // SAFETY: FFI on a live descriptor, in range.
        Ok(PgOid::from(unsafe { pg_sys::SPI_gettypeid(tupdesc, ordinal as i32) }))
    }

    /// The name of column `ordinal` (from 1).
    pub fn column_name(&self, ordinal: usize) -> Result<String> {
        let tupdesc = self.check_column(ordinal)?;
        // SAFETY: FFI on a live descriptor, in range; the name is a palloc'd copy.
        unsafe {
            let name = pg_sys::SPI_fname(tupdesc, ordinal as i32);
            let text = CStr::from_ptr(name).to_string_lossy().into_owned();
            pg_sys::pfree(name.cast());
            Ok(text)
        }
    }

    /// The position (from 1) of the named column.
    pub fn column_ordinal<S: AsRef<str>>(&self, name: S) -> Result<usize> {
        column_number(self.tupdesc()?, name.as_ref())
    }
}

impl<'c> Iterator for SpiTupleTable<'c> {
    type Item = SpiHeapTupleData<'c>;

    fn next(&mut self) -> Option<Self::Item> {
        let table = self.table?;
        let next = self.current + 1;
        if next as usize >= self.size {
            self.current = self.size as isize;
            return None;
        }
        self.current = next;
        Some(self.row(table, next as usize))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.size.saturating_sub((self.current + 1).max(0) as usize);
        (left, Some(left))
    }
}

fn column_number(tupdesc: pg_sys::TupleDesc, name: &str) -> Result<usize> {
    let cname = CString::new(name).map_err(|_| SpiError::NulByte)?;
    // SAFETY: FFI on a live descriptor with a NUL-terminated name.
    let n = unsafe { pg_sys::SPI_fnumber(tupdesc, cname.as_ptr()) };
    if n <= 0 {
        Err(SpiError::ColumnNotFound(name.to_owned()))
    } else {
        Ok(n as usize)
    }
}

/// One row of a result.
pub struct SpiHeapTupleData<'c> {
    tupdesc: NonNull<pg_sys::TupleDescData>,
    entries: Vec<SpiHeapTupleDataEntry<'c>>,
}

impl<'c> SpiHeapTupleData<'c> {
    /// # Safety
    /// `tupdesc` and `tuple` are alive as long as `conn`, and describe each other.
    unsafe fn new(
        tupdesc: pg_sys::TupleDesc,
        tuple: pg_sys::HeapTuple,
        conn: Conn<'c>,
    ) -> SpiHeapTupleData<'c> {
        // SAFETY: per the caller.
        let natts = unsafe { (*tupdesc).natts };
        let entries = (1..=natts)
            .map(|i| {
                let mut is_null = false;
                // SAFETY: per the caller; i is in range.
                let (datum, oid) = unsafe {
                    (
                        pg_sys::SPI_getbinval(tuple, tupdesc, i, &mut is_null),
                        pg_sys::SPI_gettypeid(tupdesc, i),
                    )
                };
                SpiHeapTupleDataEntry { datum: (!is_null).then_some(datum), oid, conn }
            })
            .collect();
        SpiHeapTupleData { tupdesc: NonNull::new(tupdesc).expect("a row has a descriptor"), entries }
    }

    /// Column `ordinal` (from 1).
    pub fn get<T: FromSql<'c>>(&self, ordinal: usize) -> Result<Option<T>> {
        self.get_datum_by_ordinal(ordinal)?.value()
    }

    /// The named column.
    pub fn get_by_name<T: FromSql<'c>, S: AsRef<str>>(&self, name: S) -> Result<Option<T>> {
        self.get_datum_by_name(name)?.value()
    }

    /// Column `ordinal` (from 1), to read with [`SpiHeapTupleDataEntry::value`].
    pub fn get_datum_by_ordinal(&self, ordinal: usize) -> Result<&SpiHeapTupleDataEntry<'c>> {
        ordinal
            .checked_sub(1)
            .and_then(|i| self.entries.get(i))
            .ok_or(SpiError::ColumnOutOfRange(ordinal))
    }

    /// The named column, to read with [`SpiHeapTupleDataEntry::value`].
    pub fn get_datum_by_name<S: AsRef<str>>(&self, name: S) -> Result<&SpiHeapTupleDataEntry<'c>> {
        let n = column_number(self.tupdesc.as_ptr(), name.as_ref())?;
        self.get_datum_by_ordinal(n)
    }

    /// How many columns the row has.
    pub fn columns(&self) -> usize {
        self.entries.len()
    }
}

/// `row[1]`: column 1; panics (an ERROR) when there is none.
impl<'c> Index<usize> for SpiHeapTupleData<'c> {
    type Output = SpiHeapTupleDataEntry<'c>;

    fn index(&self, ordinal: usize) -> &Self::Output {
        match self.get_datum_by_ordinal(ordinal) {
            Ok(entry) => entry,
            Err(e) => panic!("{e}"),
        }
    }
}

/// `row["name"]`: the named column; panics (an ERROR) when there is none.
impl<'c> Index<&str> for SpiHeapTupleData<'c> {
    type Output = SpiHeapTupleDataEntry<'c>;

    fn index(&self, name: &str) -> &Self::Output {
        match self.get_datum_by_name(name) {
            Ok(entry) => entry,
            Err(e) => panic!("{e}"),
        }
    }
}

/// One column of a row.
pub struct SpiHeapTupleDataEntry<'c> {
    datum: Option<pg_sys::Datum>,
    oid: pg_sys::Oid,
    conn: Conn<'c>,
}

impl<'c> SpiHeapTupleDataEntry<'c> {
    /// The value as `T`: `None` for NULL, an error when the column's type is not `T`'s.
    pub fn value<T: FromSql<'c>>(&self) -> Result<Option<T>> {
        match self.datum {
            None => Ok(None),
            Some(datum) => T::read(datum, self.oid, self.conn.memory),
        }
    }

    /// The column's SQL type.
    pub fn oid(&self) -> pg_sys::Oid {
        self.oid
    }
}

/// A Rust type a column can be read as, for as long as the connection `'c`: owned types
/// (`i32`, `String`, `Vec<Option<i64>>`, ...) and borrowed ones (`&'c str`, `&'c [u8]`).
pub trait FromSql<'c>: Sized + private::Read<'c> {}

/// A Rust type that owns its value, so it can outlive the connection it was read on (what
/// `Spi::get_one` and its kin return).
pub trait Owned: for<'c> FromSql<'c> {}
impl<T: for<'c> FromSql<'c>> Owned for T {}

mod read {
    use super::*;

    /// Switches to a memory context until dropped (also when unwinding).
    struct InContext(pg_sys::MemoryContext);

    impl InContext {
        fn enter(memory: pg_sys::MemoryContext) -> InContext {
            // SAFETY: the backend's current context, on its thread; `memory` is alive.
            unsafe {
                let old = pg_sys::CurrentMemoryContext;
                pg_sys::CurrentMemoryContext = memory;
                InContext(old)
            }
        }
    }

    impl Drop for InContext {
        fn drop(&mut self) {
            // SAFETY: restores the context current before enter().
            unsafe { pg_sys::CurrentMemoryContext = self.0 };
        }
    }

    /// Read a non-NULL datum of type `oid` as `T`, after checking that `T` is that type
    /// (or one it is binary-coercible to). Anything the conversion allocates in
    /// PostgreSQL memory (a detoasted copy) goes to the connection's memory, which
    /// borrowed results point into.
    pub fn read<T: FromDatum + PgIntoDatum>(
        datum: pg_sys::Datum,
        oid: pg_sys::Oid,
        memory: pg_sys::MemoryContext,
    ) -> Result<Option<T>> {
        let _in = InContext::enter(memory);
        // SAFETY: the datum is a live, non-null value of type `oid` from a row of this
        // connection; try_from_datum checks `T` against `oid` before reading it.
        unsafe { T::try_from_datum(datum, false, oid) }.map_err(SpiError::DatumError)
    }
}

impl<'c> FromSql<'c> for &'c str {}
impl<'c> FromSql<'c> for &'c [u8] {}

macro_rules! readable {
    ($($t:ty),* $(,)?) => {$(
        impl<'c> FromSql<'c> for $t {}
        impl<'c> FromSql<'c> for Vec<$t> {}
        impl<'c> FromSql<'c> for Vec<Option<$t>> {}
    )*};
}

readable!(
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
    crate::Json,
    crate::JsonB,
    crate::Point,
    crate::BOX,
    crate::Range<i32>,
    crate::Range<i64>,
    crate::Range<crate::AnyNumeric>,
    crate::Range<crate::Date>,
    crate::Range<crate::Timestamp>,
    crate::Range<crate::TimestampWithTimeZone>,
);

impl<'c> FromSql<'c> for Vec<u8> {}

// ---------------------------------------------------------------------------------------
// Cursors

/// A cursor: a query whose rows are fetched a few at a time. It is closed when dropped,
/// unless [`SpiCursor::detach_into_name`] leaves it open for a later connection of the
/// transaction.
pub struct SpiCursor<'c> {
    name: CString,
    conn: Conn<'c>,
}

impl<'c> SpiCursor<'c> {
    /// The next `count` rows (fewer at the end; none past it).
    pub fn fetch(&mut self, count: i64) -> Result<SpiTupleTable<'c>> {
        self.conn.ready()?;
        // Found by name each time: SQL (`CLOSE`) or another handle may have closed it.
        let portal = find_portal(&self.name)?;
        // SAFETY: FFI on a live portal; no stale result is mistaken for this one's.
        unsafe {
            pg_sys::SPI_tuptable = std::ptr::null_mut();
            pg_sys::SPI_cursor_fetch(portal.as_ptr(), true, count.max(0));
        }
        SpiTupleTable::after(pg_sys::SPI_OK_FETCH as i32, self.conn)
    }

    /// The cursor's name.
    pub fn name(&self) -> String {
        self.name.to_string_lossy().into_owned()
    }

    /// Leave the cursor open (until the transaction ends) and return its name, for
    /// [`SpiClient::find_cursor`] in a later connection.
    pub fn detach_into_name(self) -> String {
        let name = self.name();
        std::mem::forget(self);
        name
    }
}

impl Drop for SpiCursor<'_> {
    fn drop(&mut self) {
        if crate::__glue::error_pending() {
            return;
        }
        if let Ok(portal) = find_portal(&self.name) {
            // SAFETY: FFI on a live portal.
            unsafe { pg_sys::SPI_cursor_close(portal.as_ptr()) };
        }
    }
}

impl<'c, T: FromDatum + PgIntoDatum> private::Read<'c> for T {
    fn read(
        datum: pg_sys::Datum,
        oid: pg_sys::Oid,
        memory: pg_sys::MemoryContext,
    ) -> Result<Option<Self>> {
        read::read(datum, oid, memory)
    }
}
