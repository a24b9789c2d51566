//! Queries and prepared statements.

use super::*;

/// What can be run: a query's text (`&str`, `&String`, `String`), or a prepared
/// statement.
pub trait Query<'c>: private::AsSource<'c> {}

/// What can be prepared: a query's text.
pub trait PreparableQuery: private::Text {}

macro_rules! text_query {
    ($($t:ty),*) => {$(
        impl private::Text for $t {
            fn text(&self) -> &str {
                self
            }
        }
        impl<'c> private::AsSource<'c> for $t {
            fn source(&self) -> Result<Source<'_>> {
                // Borrowed: a NUL-terminated copy is made only where SPI needs one (a
                // text first seen, or run one-shot), not for a kept plan's every run.
                Ok(Source::Str(private::Text::text(self)))
            }
        }
        impl<'c> Query<'c> for $t {}
        impl PreparableQuery for $t {}
    )*};
}

text_query!(&str, &String, String);

impl<'c> private::AsSource<'c> for &CStr {
    fn source(&self) -> Result<Source<'_>> {
        Ok(Source::Text(self))
    }
}
impl<'c> Query<'c> for &CStr {}

/// A prepared plan, freed when dropped if kept.
#[doc(hidden)]
pub struct Plan {
    plan: NonNull<pg_sys::_SPI_plan>,
    /// The parameters' types, read once.
    pub(super) types: Vec<pg_sys::Oid>,
    kept: bool,
}

impl Plan {
    pub(super) fn new(plan: NonNull<pg_sys::_SPI_plan>) -> Plan {
        // SAFETY: FFI on a live plan.
        let n = unsafe { pg_sys::SPI_getargcount(plan.as_ptr()) }.max(0);
        let types = (0..n)
            // SAFETY: as above, for each parameter index.
            .map(|i| unsafe { pg_sys::SPI_getargtypeid(plan.as_ptr(), i) })
            .collect();
        Plan {
            plan,
            types,
            kept: false,
        }
    }

    /// Keep the plan beyond its connection (and call); it is then freed when dropped.
    pub(super) fn keep(&mut self) {
        if !self.kept {
            // SAFETY: FFI on a live plan of the current connection, which moves to its
            // own memory context under CacheMemoryContext; kept once (the flag).
            unsafe { pg_sys::SPI_keepplan(self.plan.as_ptr()) };
            self.kept = true;
        }
    }

    pub(super) fn as_ptr(&self) -> *mut pg_sys::_SPI_plan {
        self.plan.as_ptr()
    }
}

impl Drop for Plan {
    fn drop(&mut self) {
        // A connection's plans go with its memory; kept ones are freed here (not after a
        // PostgreSQL ERROR: the failed transaction may be half-way through them).
        if self.kept && !crate::__glue::error_pending() && !std::thread::panicking() {
            // SAFETY: FFI on a kept plan this value owns.
            unsafe { pg_sys::SPI_freeplan(self.plan.as_ptr()) };
        }
    }
}

/// A statement prepared on a connection, valid as long as the connection.
pub struct PreparedStatement<'c> {
    pub(super) plan: Plan,
    pub(super) _conn: PhantomData<fn(&'c ()) -> &'c ()>,
}

impl PreparedStatement<'_> {
    /// Keep the statement beyond this connection (and this call), e.g. in a `static`,
    /// to run it again without parsing and planning it again. It is freed when dropped.
    pub fn keep(mut self) -> OwnedPreparedStatement {
        self.plan.keep();
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
