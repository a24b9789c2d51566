//! Rows: a table's row in a trigger (`trigger.new()`, `trigger.old()`), a composite
//! argument (a named composite type, a table's row type, or `record`), and a composite
//! result (`PgHeapTuple::new_composite_type("dog")`). Read columns with `get_by_name`,
//! change them with `set_by_name`: a value goes in only when it fits the column's type as
//! a result fits a declared type (the same type; a row of the column's row type; a label
//! of its enum; a domain's constraints met; see `declared::fit`).

use std::num::NonZeroUsize;

use pgrx::datum::{FromDatum, IntoDatum, TryFromDatumError, UnboxDatum};
use pgrx::pg_sys;

pub use pgrx::heap_tuple::PgHeapTupleError;

/// Who allocated a row: kept for the original PL/Rust's spelling
/// (`PgHeapTuple<'_, AllocatedByRust>`, `impl WhoAllocated`). In PL/Rust both names are
/// the same type: a row copies itself when it is first modified, so a trigger body that
/// returns `trigger.new()`, a modified copy, or `None` has one return type.
pub trait WhoAllocated: who_allocated::Sealed {}

mod who_allocated {
    pub trait Sealed {}
}

/// The one [`WhoAllocated`] type; see there.
#[doc(hidden)]
pub struct Allocated;
impl who_allocated::Sealed for Allocated {}
impl WhoAllocated for Allocated {}

/// A row as PostgreSQL gave it (the original PL/Rust's name; the same type as
/// [`AllocatedByRust`] here).
pub type AllocatedByPostgres = Allocated;
/// A row PL/Rust copied (the original PL/Rust's name; the same type as
/// [`AllocatedByPostgres`] here).
pub type AllocatedByRust = Allocated;

/// A row: read columns with [`get_by_name`](Self::get_by_name), change them with
/// [`set_by_name`](Self::set_by_name) (the first change copies the row; PostgreSQL's
/// stays as it was).
pub struct PgHeapTuple<'a, A: WhoAllocated = Allocated> {
    row: Row<'a>,
    _allocated: std::marker::PhantomData<A>,
}

enum Row<'a> {
    Postgres(pgrx::heap_tuple::PgHeapTuple<'a, pgrx::AllocatedByPostgres>),
    Rust(pgrx::heap_tuple::PgHeapTuple<'a, pgrx::AllocatedByRust>),
    /// Only while `set_by_index` copies the row.
    Copying,
}

/// Both kinds of row, for reading.
macro_rules! with_row {
    ($self:expr, $row:ident => $e:expr) => {
        match &$self.row {
            Row::Postgres($row) => $e,
            Row::Rust($row) => $e,
            Row::Copying => unreachable!("a row is seen only after it is copied"),
        }
    };
}

impl<'a> PgHeapTuple<'a, AllocatedByRust> {
    /// A new row of composite type `type_name` (as `CREATE TYPE dog AS (...)` or a
    /// table's name, schema-qualified or found on the `search_path`), every column NULL.
    pub fn new_composite_type(type_name: &str) -> Result<Self, PgHeapTupleError> {
        pgrx::heap_tuple::PgHeapTuple::new_composite_type(type_name).map(Self::from_rust)
    }

    /// A new row of the composite type with oid `type_oid`, every column NULL.
    pub fn new_composite_type_by_oid(type_oid: pg_sys::Oid) -> Result<Self, PgHeapTupleError> {
        pgrx::heap_tuple::PgHeapTuple::new_composite_type_by_oid(type_oid).map(Self::from_rust)
    }
}

impl<'a, A: WhoAllocated> PgHeapTuple<'a, A> {
    fn from_rust(row: pgrx::heap_tuple::PgHeapTuple<'a, pgrx::AllocatedByRust>) -> Self {
        PgHeapTuple {
            row: Row::Rust(row),
            _allocated: std::marker::PhantomData,
        }
    }

    /// The row's composite type (for a trigger's row, its table's row type).
    pub fn row_type_oid(&self) -> pg_sys::Oid {
        with_row!(self, row => row.composite_type_oid()).unwrap_or(pg_sys::RECORDOID)
    }

    pub(crate) fn into_trigger_datum(self) -> Option<pg_sys::Datum> {
        match self.row {
            Row::Postgres(row) => row.into_trigger_datum(),
            Row::Rust(row) => row.into_trigger_datum(),
            Row::Copying => None,
        }
    }

    pub(crate) fn from_postgres(
        row: pgrx::heap_tuple::PgHeapTuple<'a, pgrx::AllocatedByPostgres>,
    ) -> Self {
        PgHeapTuple {
            row: Row::Postgres(row),
            _allocated: std::marker::PhantomData,
        }
    }

    /// A copy of the row that can be modified (every row can be; this only copies it now
    /// rather than at the first change).
    pub fn into_owned(self) -> PgHeapTuple<'a, AllocatedByRust> {
        PgHeapTuple {
            row: match self.row {
                Row::Postgres(row) => Row::Rust(row.into_owned()),
                row => row,
            },
            _allocated: std::marker::PhantomData,
        }
    }

    /// A copy of the row in the current memory context, which the body's values live no
    /// longer than (it is the call's, also inside `Spi::connect`), so it may take any
    /// lifetime a value of the body can have.
    pub(crate) fn detach<'b>(self) -> PgHeapTuple<'b, A> {
        let datum = self
            .into_datum()
            .expect("a row is seen only after it is copied");
        // SAFETY: a composite datum into_datum just copied into the current memory context.
        let row = unsafe { pgrx::heap_tuple::PgHeapTuple::from_composite_datum(datum) };
        PgHeapTuple::from_rust(row)
    }

    /// How many columns the row has (dropped columns included).
    pub fn len(&self) -> usize {
        with_row!(self, row => row.len())
    }

    /// True when the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The names of the row's columns, in order (dropped columns left out).
    pub fn column_names(&self) -> Vec<String> {
        with_row!(self, row => row
            .attributes()
            .filter(|(_, att)| !att.attisdropped)
            .map(|(_, att)| att.name().to_owned())
            .collect())
    }

    /// The value of column `name`: `Ok(None)` when it is NULL; an error when there is no
    /// such column or its SQL type is not `T`'s.
    pub fn get_by_name<'tup, T>(&'tup self, name: &str) -> Result<Option<T>, TryFromDatumError>
    where
        T: FromDatum + IntoDatum + UnboxDatum<As<'tup> = T> + 'tup,
    {
        let index = with_row!(self, row => row.get_attribute_by_name(name).map(|(i, _)| i));
        let Some(index) = index else {
            return Err(TryFromDatumError::NoSuchAttributeName(name.to_owned()));
        };
        self.get_by_index(index)
    }

    /// The value of column `index` (the first column is 1), as [`get_by_name`](Self::get_by_name).
    pub fn get_by_index<'tup, T>(
        &'tup self,
        index: NonZeroUsize,
    ) -> Result<Option<T>, TryFromDatumError>
    where
        T: FromDatum + IntoDatum + UnboxDatum<As<'tup> = T> + 'tup,
    {
        if T::type_oid() == pg_sys::RECORDOID {
            // pgrx reads any column as a row when asked for one (a row's type is in its
            // header): an `int4` would be taken for a pointer. Only a row column is.
            let column = self.column_type(index)?;
            // SAFETY: FFI, a catalog lookup of the column's type.
            if !unsafe { pg_sys::type_is_rowtype(column) } {
                return Err(incompatible::<T>(T::type_oid(), column));
            }
        }
        with_row!(self, row => row.get_by_index(index))
    }

    /// The type of column `index`, which must be one the row has (not dropped).
    fn column_type(&self, index: NonZeroUsize) -> Result<pg_sys::Oid, TryFromDatumError> {
        with_row!(self, row => row
            .get_attribute_by_index(index)
            .filter(|att| !att.attisdropped)
            .map(|att| att.atttypid))
        .ok_or(TryFromDatumError::NoSuchAttributeNumber(index))
    }

    /// Set column `name` to `value` (`None`: NULL); an error when there is no such column
    /// or its SQL type is not `T`'s.
    pub fn set_by_name<T: IntoDatum>(
        &mut self,
        name: &str,
        value: T,
    ) -> Result<(), TryFromDatumError> {
        let index = with_row!(self, row => row.get_attribute_by_name(name).map(|(i, _)| i));
        let Some(index) = index else {
            return Err(TryFromDatumError::NoSuchAttributeName(name.to_owned()));
        };
        self.set_by_index(index, value)
    }

    /// Set column `index` (the first column is 1), as [`set_by_name`](Self::set_by_name).
    pub fn set_by_index<T: IntoDatum>(
        &mut self,
        index: NonZeroUsize,
        value: T,
    ) -> Result<(), TryFromDatumError> {
        let column = self.column_type(index)?;
        // SAFETY: into_datum just built the datum in the current memory context from a
        // `T`, whose SQL type is `T::type_oid()`.
        let datum = unsafe { crate::declared::fit(value.into_datum(), T::type_oid(), column) }
            .map_err(|rust| incompatible::<T>(rust, column))?;
        self.row = match std::mem::replace(&mut self.row, Row::Copying) {
            Row::Postgres(row) => Row::Rust(row.into_owned()),
            row => row,
        };
        let Row::Rust(row) = &mut self.row else {
            unreachable!("copied above")
        };
        // SAFETY: `fit` made the datum a value of the column's type: pgrx's own check
        // would refuse a `varchar[]` column for a `Vec<Option<String>>` and accept an
        // `i64` for `int4`.
        unsafe { row.set_by_index_unchecked(index, datum) };
        Ok(())
    }
}

/// The error for a value of Rust type `T` (SQL type `rust`) where `column` is.
fn incompatible<T>(rust: pg_sys::Oid, column: pg_sys::Oid) -> TryFromDatumError {
    TryFromDatumError::IncompatibleTypes {
        rust_type: std::any::type_name::<T>(),
        rust_oid: rust,
        datum_type: crate::returns::type_name(column),
        datum_oid: column,
    }
}

/// A composite argument: the row as the call passed it (copied at its first change).
impl<A: WhoAllocated> FromDatum for PgHeapTuple<'_, A> {
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _: pg_sys::Oid,
    ) -> Option<Self> {
        // SAFETY: per FromDatum's contract, a composite datum (its header names its type,
        // whose descriptor pgrx looks up and keeps a reference to).
        (!is_null).then(|| {
            Self::from_rust(unsafe { pgrx::heap_tuple::PgHeapTuple::from_composite_datum(datum) })
        })
    }
}

/// A row in an array (`Array<'a, PgHeapTuple<'a>>`, an array of rows argument) or in
/// another row's column.
// SAFETY: `unbox` reads a composite datum, as the array or row holding it promises.
unsafe impl UnboxDatum for PgHeapTuple<'_, Allocated> {
    type As<'src>
        = PgHeapTuple<'src, Allocated>
    where
        Self: 'src;

    unsafe fn unbox<'src>(datum: pgrx::datum::Datum<'src>) -> Self::As<'src>
    where
        Self: 'src,
    {
        // SAFETY: per the trait's contract, a non-NULL composite datum.
        let row =
            unsafe { pgrx::heap_tuple::PgHeapTuple::from_composite_datum(datum.sans_lifetime()) };
        PgHeapTuple::from_rust(row)
    }
}

/// A composite result: a datum of the row's own type (the glue checks it against the
/// declared type).
impl<A: WhoAllocated> IntoDatum for PgHeapTuple<'_, A> {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        match self.row {
            Row::Postgres(row) => row.into_composite_datum(),
            Row::Rust(row) => row.into_composite_datum(),
            Row::Copying => None,
        }
    }

    fn type_oid() -> pg_sys::Oid {
        pg_sys::RECORDOID
    }

    /// Any row type: a row's type is in its header, and each path that reads or stores
    /// one checks it against the declared type.
    fn is_compatible_with(other: pg_sys::Oid) -> bool {
        // SAFETY: FFI, a catalog lookup.
        other == pg_sys::RECORDOID || unsafe { pg_sys::type_is_rowtype(other) }
    }
}
