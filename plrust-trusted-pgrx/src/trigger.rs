//! Trigger functions, as in the original PL/Rust: a function `RETURNS trigger` sees
//! `trigger: &PgTrigger` (the event, the table, `TG_ARGV`, the `OLD` and `NEW` rows) and
//! returns `Ok(Some(row))` to go on with that row, or `Ok(None)` to skip the operation
//! for this row (BEFORE and INSTEAD OF row triggers; the result of other triggers is
//! ignored).

use std::num::NonZeroUsize;

use pgrx::datum::{FromDatum, IntoDatum, TryFromDatumError, UnboxDatum};
use pgrx::pg_sys;

pub use pgrx::{PgTriggerError, PgTriggerLevel, PgTriggerOperation, PgTriggerWhen};

/// The trigger event a trigger function was called for.
pub struct PgTrigger<'a>(pgrx::PgTrigger<'a>);

impl<'a> PgTrigger<'a> {
    /// # Safety
    /// `fcinfo` is the live call's, of a function called by the trigger manager.
    #[doc(hidden)]
    pub(crate) unsafe fn from_fcinfo(fcinfo: pg_sys::FunctionCallInfo) -> Self {
        // SAFETY: forwarded; pgrx checks that the call is a trigger call.
        match unsafe { pgrx::PgTrigger::from_fcinfo(fcinfo.as_ref().expect("fcinfo")) } {
            Ok(trigger) => PgTrigger(trigger),
            // PL/pgSQL's words for a trigger function called from SQL.
            Err(PgTriggerError::NotTrigger) => crate::log::raise(
                pgrx::PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                "trigger functions can only be called as triggers".into(),
                None,
            ),
            Err(e) => crate::log::raise(
                pgrx::PgSqlErrorCode::ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                format!("trigger function called with incomplete trigger data: {e}"),
                None,
            ),
        }
    }

    /// The row being inserted, or the new version of an updated row (`NEW`); `None` for
    /// DELETE and for statement-level triggers.
    // `new` is the original PL/Rust's (and SQL's) name for this row.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(&self) -> Option<PgHeapTuple<'_, AllocatedByPostgres>> {
        self.0.new().map(PgHeapTuple::from_postgres)
    }

    /// The row being deleted, or the old version of an updated row (`OLD`); `None` for
    /// INSERT and for statement-level triggers.
    pub fn old(&self) -> Option<PgHeapTuple<'_, AllocatedByPostgres>> {
        self.0.old().map(PgHeapTuple::from_postgres)
    }

    /// The trigger's name (`TG_NAME`).
    pub fn name(&self) -> Result<&str, PgTriggerError> {
        self.0.name()
    }

    /// BEFORE, AFTER or INSTEAD OF (`TG_WHEN`).
    pub fn when(&self) -> Result<PgTriggerWhen, PgTriggerError> {
        self.0.when()
    }

    /// ROW or STATEMENT (`TG_LEVEL`).
    pub fn level(&self) -> PgTriggerLevel {
        self.0.level()
    }

    /// INSERT, UPDATE, DELETE or TRUNCATE (`TG_OP`).
    pub fn op(&self) -> Result<PgTriggerOperation, PgTriggerError> {
        self.0.op()
    }

    /// The oid of the table the trigger is on (`TG_RELID`).
    pub fn relid(&self) -> Result<pg_sys::Oid, PgTriggerError> {
        self.0.relid()
    }

    /// The name of the table the trigger is on (`TG_TABLE_NAME`).
    pub fn table_name(&self) -> Result<String, PgTriggerError> {
        self.0.table_name()
    }

    /// The schema of the table the trigger is on (`TG_TABLE_SCHEMA`).
    pub fn table_schema(&self) -> Result<String, PgTriggerError> {
        self.0.table_schema()
    }

    /// The arguments given in `CREATE TRIGGER ... EXECUTE FUNCTION f('a', 'b')` (`TG_ARGV`).
    pub fn extra_args(&self) -> Result<Vec<String>, PgTriggerError> {
        self.0.extra_args()
    }

    /// The name `REFERENCING OLD TABLE AS` gave the transition table, if any.
    pub fn old_transition_table_name(&self) -> Result<Option<&str>, PgTriggerError> {
        self.0.old_transition_table_name()
    }

    /// The name `REFERENCING NEW TABLE AS` gave the transition table, if any.
    pub fn new_transition_table_name(&self) -> Result<Option<&str>, PgTriggerError> {
        self.0.new_transition_table_name()
    }
}

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

/// A row of the trigger's table: read columns with [`get_by_name`](Self::get_by_name),
/// change them with [`set_by_name`](Self::set_by_name) (the first change copies the row;
/// PostgreSQL's stays as it was).
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

impl<'a, A: WhoAllocated> PgHeapTuple<'a, A> {
    fn from_postgres(row: pgrx::heap_tuple::PgHeapTuple<'a, pgrx::AllocatedByPostgres>) -> Self {
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
        with_row!(self, row => row.get_by_name(name))
    }

    /// The value of column `index` (the first column is 1), as [`get_by_name`](Self::get_by_name).
    pub fn get_by_index<'tup, T>(
        &'tup self,
        index: NonZeroUsize,
    ) -> Result<Option<T>, TryFromDatumError>
    where
        T: FromDatum + IntoDatum + UnboxDatum<As<'tup> = T> + 'tup,
    {
        with_row!(self, row => row.get_by_index(index))
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
        let column = with_row!(self, row => row
            .get_attribute_by_index(index)
            .filter(|att| !att.attisdropped)
            .map(|att| att.atttypid));
        let Some(column) = column else {
            return Err(TryFromDatumError::NoSuchAttributeNumber(index));
        };
        let rust = T::type_oid();
        // A Rust `String` is a text datum, the representation of varchar too.
        let same = rust == column
            || (rust == pg_sys::TEXTOID && column == pg_sys::VARCHAROID)
            || (rust == pg_sys::TEXTARRAYOID && column == pg_sys::VARCHARARRAYOID);
        if same {
            return Ok(column);
        }
        Err(TryFromDatumError::IncompatibleTypes {
            rust_type: std::any::type_name::<T>(),
            rust_oid: rust,
            datum_type: crate::returns::type_name(column),
            datum_oid: column,
        })
    }
}

/// The trigger event of the live call.
///
/// # Safety
/// `fcinfo` is the live call's; the event outlives no part of the call.
#[doc(hidden)]
pub unsafe fn trigger<'a>(fcinfo: pg_sys::FunctionCallInfo) -> PgTrigger<'a> {
    // SAFETY: forwarded from the caller.
    unsafe { PgTrigger::from_fcinfo(fcinfo) }
}

/// The trigger's result: the row to go on with, or NULL (a null pointer, which the trigger
/// manager reads as "skip this row"; never an SQL NULL, which it refuses).
///
/// # Safety
/// Called for a trigger call, with the result of its body.
#[doc(hidden)]
pub unsafe fn ret_trigger<A: WhoAllocated>(
    result: crate::__glue::BodyResult<PgHeapTuple<'_, A>>,
) -> pg_sys::Datum {
    match result {
        Ok(Some(row)) => match row.row {
            Row::Postgres(row) => row.into_trigger_datum(),
            Row::Rust(row) => row.into_trigger_datum(),
            Row::Copying => None,
        }
        .unwrap_or(pg_sys::Datum::from(0)),
        Ok(None) => pg_sys::Datum::from(0),
        Err(e) => crate::__glue::raise_body_error(e),
    }
}
