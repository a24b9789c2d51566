//! Rows: a table's row in a trigger (`trigger.new()`, `trigger.old()`), a composite
//! argument (a named composite type, a table's row type, or `record`), and a composite
//! result (`PgHeapTuple::new_composite_type("dog")`). Read columns with `get_by_name`,
//! change them with `set_by_name`: a value goes in only when its Rust type's SQL type is
//! exactly the column's.

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
        let column = self.check_type::<T>(index)?;
        self.row = match std::mem::replace(&mut self.row, Row::Copying) {
            Row::Postgres(row) => Row::Rust(row.into_owned()),
            row => row,
        };
        let Row::Rust(row) = &mut self.row else {
            unreachable!("copied above")
        };
        let mut datum = value.into_datum();
        if let Some(d) = datum.filter(|_| column == pg_sys::VARCHARARRAYOID) {
            // SAFETY: into_datum just built this text[] in the current memory context.
            datum = Some(unsafe { crate::returns::label_array(d, pg_sys::VARCHAROID.into()) });
        }
        // A row (or an array of rows) goes into a column of a row type only when it is a
        // row of that type: the column's readers use that type's descriptor.
        let checked = match datum {
            // SAFETY: into_datum of a `PgHeapTuple` just built this composite datum.
            Some(d) if T::type_oid() == pg_sys::RECORDOID => unsafe {
                crate::declared::check_row(d, column)
            },
            // SAFETY: into_datum of a `Vec` of rows just built this array of record;
            // `check_type` made sure the column is an array of a composite type.
            Some(d) if T::type_oid() == pg_sys::RECORDARRAYOID => unsafe {
                crate::declared::check_rows(d, pg_sys::get_element_type(column))
            },
            _ => Ok(()),
        };
        if let Err(row_type) = checked {
            return Err(incompatible::<T>(row_type, column));
        }
        // SAFETY: `check_type` made sure the datum has the column's exact type (or text
        // for varchar, the same representation): pgrx's own check would refuse a
        // `varchar[]` column for a `Vec<Option<String>>` and accept an `i64` for `int4`.
        unsafe { row.set_by_index_unchecked(index, datum) };
        Ok(())
    }

    /// Column `index`'s type, checked against `T` exactly (pgrx would also store an `i64`
    /// into an `int4` column, cutting it).
    fn check_type<T: IntoDatum>(
        &self,
        index: NonZeroUsize,
    ) -> Result<pg_sys::Oid, TryFromDatumError> {
        let column = self.column_type(index)?;
        let rust = T::type_oid();
        // SAFETY: FFI, catalog lookups of the column's type.
        let composite =
            |oid| unsafe { pg_sys::get_typtype(oid) } == pg_sys::TYPTYPE_COMPOSITE as i8;
        // A Rust `String` is a text datum, the representation of varchar too. A row (or an
        // array of them) is `record` to Rust; `set_by_index` checks its own type.
        let same = rust == column
            || (rust == pg_sys::TEXTOID && column == pg_sys::VARCHAROID)
            || (rust == pg_sys::TEXTARRAYOID && column == pg_sys::VARCHARARRAYOID)
            || (rust == pg_sys::RECORDOID && composite(column))
            || (rust == pg_sys::RECORDARRAYOID
                // SAFETY: FFI, a catalog lookup of the column's type.
                && composite(unsafe { pg_sys::get_element_type(column) }));
        if same {
            return Ok(column);
        }
        Err(incompatible::<T>(rust, column))
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
