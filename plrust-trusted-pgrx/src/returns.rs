//! How the generated entry point hands a body's result back to PostgreSQL when it is
//! not a single value: a row of OUT parameters, or a set (`SETOF`, `TABLE`). Called only
//! through `__glue`.

use pgrx::datum::IntoDatum;
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::PgSqlErrorCode;

use crate::__glue::BodyResult;
use crate::declared::{finish, return_type, Out};
use crate::iter::{Row, SetOfIterator, TableIterator};

/// Label a just-built array with its declared element type: the Rust element type fixes
/// the representation but not always the SQL type (`String` builds `text[]`, also for a
/// `varchar[]` result). `element_type` 0: not an array.
///
/// # Safety
/// `datum` was just built by `into_datum` in the current memory context, and is an array
/// whose element type has the representation of `element_type`'s.
pub(crate) unsafe fn label_array(datum: Datum, element_type: u32) -> Datum {
    if element_type != 0 {
        // SAFETY: per the caller, an array of ours to modify.
        unsafe { (*datum.cast_mut_ptr::<pg_sys::ArrayType>()).elemtype = element_type.into() };
    }
    datum
}

/// The result row's descriptor, as PostgreSQL resolved it for this call (the OUT or
/// TABLE parameters), checked against the width of the Rust row type. A TABLE of one
/// column has that column's type as its result type: a one-column descriptor of it.
unsafe fn row_descriptor(fcinfo: FunctionCallInfo, width: usize) -> pg_sys::TupleDesc {
    let mut desc: pg_sys::TupleDesc = std::ptr::null_mut();
    let mut type_oid = pg_sys::InvalidOid;
    // SAFETY: fcinfo is the live call's; the result descriptor is palloc'd for us.
    let class = unsafe { pg_sys::get_call_result_type(fcinfo, &mut type_oid, &mut desc) };
    if class == pg_sys::TypeFuncClass::TYPEFUNC_SCALAR && width == 1 {
        // SAFETY: a new one-attribute descriptor, initialised with a valid type.
        return unsafe { single_column(type_oid) };
    }
    if class != pg_sys::TypeFuncClass::TYPEFUNC_COMPOSITE || desc.is_null() {
        raise(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "function returning a row called in a context that does not say which row type",
        );
    }
    // SAFETY: a valid descriptor from get_call_result_type.
    let natts = unsafe { (*desc).natts } as usize;
    if natts != width {
        raise(
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            &format!("the function returns rows of {width} columns, the call expects {natts}"),
        );
    }
    desc
}

/// A descriptor of one column of type `type_oid`, in the current memory context.
unsafe fn single_column(type_oid: pg_sys::Oid) -> pg_sys::TupleDesc {
    // SAFETY: CreateTemplateTupleDesc(1) has room for attribute 1.
    unsafe {
        let desc = pg_sys::CreateTemplateTupleDesc(1);
        pg_sys::TupleDescInitEntry(desc, 1, c"value".as_ptr(), type_oid, -1, 0);
        desc
    }
}

/// The SQL name of a type, for messages.
pub(crate) fn type_name(oid: pg_sys::Oid) -> String {
    // SAFETY: format_type_be accepts any oid ("???" for an unknown one) and returns a
    // palloc'd C string, copied, then freed.
    unsafe {
        let name = pg_sys::format_type_be(oid);
        let text = std::ffi::CStr::from_ptr(name)
            .to_string_lossy()
            .into_owned();
        pg_sys::pfree(name.cast());
        text
    }
}

fn raise(code: PgSqlErrorCode, message: &str) -> ! {
    crate::log::raise(code, message.to_owned(), None)
}

/// Append a row's datums and null flags (to empty buffers), built in the current memory
/// context, each made a value of its column's type in `desc` as `outs` says.
///
/// # Safety
/// `desc` is the result row's descriptor; `outs` (one per column, from the generated
/// code) describe how `R`'s members map to its columns.
unsafe fn push_row<R: Row>(
    row: R,
    desc: pg_sys::TupleDesc,
    outs: &[Out],
    values: &mut Vec<Datum>,
    nulls: &mut Vec<bool>,
) {
    row.into_datums(&mut |datum| {
        let column = values.len();
        let out = outs.get(column).copied().unwrap_or(Out::PLAIN);
        // SAFETY: into_datum just built it; `outs` comes from the generated code, which
        // knows each column's SQL type. The descriptor has R::WIDTH attributes.
        let datum = unsafe {
            finish(datum, out, || {
                (*desc).attrs.as_slice((*desc).natts as usize)[column].atttypid
            })
        };
        values.push(datum.unwrap_or(Datum::from(0)));
        nulls.push(datum.is_none());
    });
}

/// `Ok(Some(row))`: a composite datum of the call's row type; `Ok(None)`: NULL (for a
/// procedure, whose CALL cannot take a NULL row, a row of NULLs); `Err`: an ERROR.
///
/// # Safety
/// `fcinfo` is the live call's, of a function whose result is a record of `R::WIDTH`
/// columns with the mapped types of `R`'s members; `outs` says how each maps (see
/// [`Out`]).
pub unsafe fn ret_row<R: Row>(
    fcinfo: FunctionCallInfo,
    result: BodyResult<R>,
    outs: &[Out],
    procedure: bool,
) -> Datum {
    let row = match result {
        Ok(row) => row,
        Err(e) => crate::__glue::raise_body_error(e),
    };
    if row.is_none() && !procedure {
        // SAFETY: fcinfo is the live call's.
        return unsafe { pgrx::fcinfo::pg_return_null(fcinfo) };
    }
    let (mut values, mut nulls) = (Vec::with_capacity(R::WIDTH), Vec::with_capacity(R::WIDTH));
    // SAFETY: fcinfo is the live call's.
    let desc = unsafe { row_descriptor(fcinfo, R::WIDTH) };
    match row {
        // SAFETY: the call's row descriptor, of R::WIDTH columns (checked).
        Some(row) => unsafe { push_row(row, desc, outs, &mut values, &mut nulls) },
        // A procedure (a function's NULL returned above).
        None => {
            values.resize(R::WIDTH, Datum::from(0));
            nulls.resize(R::WIDTH, true);
        }
    }
    // SAFETY: the descriptor has R::WIDTH attributes (checked), the arrays as many
    // entries; the tuple is formed in the current memory context, as a result must be.
    unsafe {
        let desc = pg_sys::BlessTupleDesc(desc);
        let tuple = pg_sys::heap_form_tuple(desc, values.as_mut_ptr(), nulls.as_mut_ptr());
        pg_sys::HeapTupleHeaderGetDatum((*tuple).t_data)
    }
}

/// Where a set's rows go: the call's tuplestore, in materialize mode.
struct Materialized {
    rsinfo: *mut pg_sys::ReturnSetInfo,
    store: *mut pg_sys::Tuplestorestate,
    desc: pg_sys::TupleDesc,
    /// Each row's datums are built here and forgotten once stored.
    row_context: pg_sys::MemoryContext,
    /// The row being stored, reused from row to row.
    values: Vec<Datum>,
    nulls: Vec<bool>,
}

impl Materialized {
    /// # Safety
    /// `fcinfo` is the live call's. `desc` (in any context) describes the rows.
    unsafe fn begin(fcinfo: FunctionCallInfo, desc: impl FnOnce() -> pg_sys::TupleDesc) -> Self {
        // SAFETY: fcinfo is the live call's; resultinfo is a node or null.
        let rsinfo = unsafe { (*fcinfo).resultinfo }.cast::<pg_sys::ReturnSetInfo>();
        // SAFETY: a non-null resultinfo starts with its node tag.
        let is_set_call = !rsinfo.is_null()
            && unsafe { (*rsinfo).type_ } == pg_sys::NodeTag::T_ReturnSetInfo
            && unsafe { (*rsinfo).allowedModes } as u32
                & pg_sys::SetFunctionReturnMode::SFRM_Materialize
                != 0;
        if !is_set_call {
            raise(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                "set-valued function called in context that cannot accept a set",
            );
        }
        // SAFETY: rsinfo is a ReturnSetInfo (checked). The descriptor and the store must
        // outlive this call: they go in the query's memory context.
        unsafe {
            let query_context = (*(*rsinfo).econtext).ecxt_per_query_memory;
            let old = pg_sys::CurrentMemoryContext;
            pg_sys::CurrentMemoryContext = query_context;
            let desc = pg_sys::CreateTupleDescCopy(desc());
            let random = (*rsinfo).allowedModes as u32
                & pg_sys::SetFunctionReturnMode::SFRM_Materialize_Random
                != 0;
            let store = pg_sys::tuplestore_begin_heap(random, false, pg_sys::work_mem);
            pg_sys::CurrentMemoryContext = old;
            let row_context = pg_sys::AllocSetContextCreateExtended(
                old,
                c"PL/Rust result row".as_ptr(),
                pg_sys::ALLOCSET_SMALL_MINSIZE as usize,
                pg_sys::ALLOCSET_SMALL_INITSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
            );
            Materialized {
                rsinfo,
                store,
                desc,
                row_context,
                values: Vec::new(),
                nulls: Vec::new(),
            }
        }
    }

    /// Store one row, whose datums and null flags `build` appends, in the row context.
    fn put(&mut self, build: impl FnOnce(&mut Vec<Datum>, &mut Vec<bool>)) {
        // A set of a million rows from an endless iterator must stay cancellable even
        // when the iterator is not the body's (a probe runs only in the body's code).
        crate::__glue::probe();
        // SAFETY: the row context is ours, a child of the call's context, deleted only in
        // `finish`.
        let _in = unsafe { crate::memory::InContext::enter(self.row_context) };
        self.values.clear();
        self.nulls.clear();
        build(&mut self.values, &mut self.nulls);
        // SAFETY: the descriptor has as many attributes as the row has values (the
        // caller's promise for rows; one for SETOF); putvalues copies the tuple into the
        // store's own memory, so the row context can be reset after.
        unsafe {
            pg_sys::tuplestore_putvalues(
                self.store,
                self.desc,
                self.values.as_mut_ptr(),
                self.nulls.as_mut_ptr(),
            );
        }
        // SAFETY: nothing allocated in the row context outlives this row.
        unsafe { pg_sys::MemoryContextReset(self.row_context) };
    }

    /// Hand the rows to the executor.
    fn finish(self, fcinfo: FunctionCallInfo) -> Datum {
        // SAFETY: rsinfo was checked in `begin`; fcinfo is the live call's.
        unsafe {
            (*self.rsinfo).returnMode = pg_sys::SetFunctionReturnMode::SFRM_Materialize;
            (*self.rsinfo).setResult = self.store;
            (*self.rsinfo).setDesc = self.desc;
            pg_sys::MemoryContextDelete(self.row_context);
            (*fcinfo).isnull = true;
        }
        Datum::from(0)
    }
}

/// `RETURNS SETOF T`: store every row the iterator yields. `Ok(None)`: no rows.
///
/// # Safety
/// `fcinfo` is the live call's, of a set-returning function whose element type has the
/// mapped Rust type `T`, as `out` says (see [`Out`]).
pub unsafe fn ret_set<T: IntoDatum>(
    fcinfo: FunctionCallInfo,
    result: BodyResult<SetOfIterator<'_, T>>,
    out: Out,
) -> Datum {
    let rows = match result {
        Ok(rows) => rows,
        Err(e) => crate::__glue::raise_body_error(e),
    };
    // SAFETY: fcinfo is the live call's.
    let type_oid = unsafe { return_type(fcinfo) };
    if out.composite {
        // SAFETY: fcinfo is the live call's. A set of rows is stored as their columns.
        let mut out_rows = unsafe { Materialized::begin(fcinfo, || composite_descriptor(fcinfo)) };
        let desc = out_rows.desc;
        for value in rows.into_iter().flatten() {
            out_rows.put(|values, nulls| {
                // SAFETY: just built, in the row context; checked to be of the declared
                // row type, whose descriptor `desc` is.
                unsafe {
                    match finish(value.and_then(IntoDatum::into_datum), out, || type_oid) {
                        Some(row) => deform(row, desc, values, nulls),
                        // A NULL row: all its columns NULL, as PL/pgSQL returns it.
                        None => {
                            values.resize((*desc).natts as usize, Datum::from(0));
                            nulls.resize((*desc).natts as usize, true);
                        }
                    }
                }
            });
        }
        return out_rows.finish(fcinfo);
    }
    // SAFETY: fcinfo is the live call's; a one-column descriptor of the element type.
    let mut out_rows = unsafe { Materialized::begin(fcinfo, || single_column(type_oid)) };
    for value in rows.into_iter().flatten() {
        out_rows.put(|values, nulls| {
            // SAFETY: just built, in the row context; `out` per the caller.
            let datum = unsafe { finish(value.and_then(IntoDatum::into_datum), out, || type_oid) };
            values.push(datum.unwrap_or(Datum::from(0)));
            nulls.push(datum.is_none());
        });
    }
    out_rows.finish(fcinfo)
}

/// The descriptor of the call's composite result type.
///
/// # Safety
/// `fcinfo` is the live call's.
unsafe fn composite_descriptor(fcinfo: FunctionCallInfo) -> pg_sys::TupleDesc {
    let mut desc: pg_sys::TupleDesc = std::ptr::null_mut();
    // SAFETY: fcinfo is the live call's; the result descriptor is palloc'd for us.
    let class = unsafe { pg_sys::get_call_result_type(fcinfo, std::ptr::null_mut(), &mut desc) };
    if class != pg_sys::TypeFuncClass::TYPEFUNC_COMPOSITE
        && class != pg_sys::TypeFuncClass::TYPEFUNC_COMPOSITE_DOMAIN
        || desc.is_null()
    {
        raise(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "function returning rows called in a context that does not say which row type",
        );
    }
    desc
}

/// Append the columns of composite datum `row` (of the type `desc` describes).
///
/// # Safety
/// `row` is a live composite datum of `desc`'s type.
unsafe fn deform(
    row: Datum,
    desc: pg_sys::TupleDesc,
    values: &mut Vec<Datum>,
    nulls: &mut Vec<bool>,
) {
    // SAFETY: per the caller; the datum was just built, not toasted. The deformed
    // values point into it, in the row context, until the row is stored.
    unsafe {
        let header = row.cast_mut_ptr::<pg_sys::HeapTupleHeaderData>();
        let mut tuple = pg_sys::HeapTupleData {
            t_len: pgrx::heap_tuple_header_get_datum_length(header) as u32,
            t_data: header,
            ..Default::default()
        };
        let natts = (*desc).natts as usize;
        values.resize(natts, Datum::from(0));
        nulls.resize(natts, true);
        pg_sys::heap_deform_tuple(&mut tuple, desc, values.as_mut_ptr(), nulls.as_mut_ptr());
    }
}

/// `RETURNS TABLE (...)`, or `SETOF record` with OUT parameters: store every row.
///
/// # Safety
/// As [`ret_row`], for a set-returning function.
pub unsafe fn ret_table<R: Row>(
    fcinfo: FunctionCallInfo,
    result: BodyResult<TableIterator<'_, R>>,
    outs: &[Out],
) -> Datum {
    let rows = match result {
        Ok(rows) => rows,
        Err(e) => crate::__glue::raise_body_error(e),
    };
    // SAFETY: fcinfo is the live call's.
    let mut out = unsafe { Materialized::begin(fcinfo, || row_descriptor(fcinfo, R::WIDTH)) };
    let desc = out.desc;
    for row in rows.into_iter().flatten() {
        // SAFETY: the store's copy of the row descriptor, of R::WIDTH columns.
        out.put(|values, nulls| unsafe { push_row(row, desc, outs, values, nulls) });
    }
    out.finish(fcinfo)
}
