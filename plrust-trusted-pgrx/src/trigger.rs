//! Trigger functions, as in the original PL/Rust: a function `RETURNS trigger` sees
//! `trigger: &PgTrigger` (the event, the table, `TG_ARGV`, the `OLD` and `NEW` rows) and
//! returns `Ok(Some(row))` to go on with that row, or `Ok(None)` to skip the operation
//! for this row (BEFORE and INSTEAD OF row triggers; the result of other triggers is
//! ignored).

use pgrx::pg_sys;

use crate::heap_tuple::{AllocatedByPostgres, PgHeapTuple, WhoAllocated};

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
        Ok(Some(row)) => {
            // A row of another type (`PgHeapTuple::new_composite_type`) would be read
            // with the table's descriptor: refused.
            let table = crate::__glue::call_trigger_data()
                // SAFETY: the live trigger call's data and relation.
                .map(|data| unsafe { (*(*(*data).tg_relation).rd_att).tdtypeid });
            if table != Some(row.row_type_oid()) {
                crate::log::raise(
                    pgrx::PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                    format!(
                        "a trigger returned a row of type {}, not of its table's type {}",
                        crate::returns::type_name(row.row_type_oid()),
                        table.map_or_else(|| "?".into(), crate::returns::type_name),
                    ),
                    None,
                );
            }
            row.into_trigger_datum().unwrap_or(pg_sys::Datum::from(0))
        }
        Ok(None) => pg_sys::Datum::from(0),
        Err(e) => crate::__glue::raise_body_error(e),
    }
}
