//! Values whose SQL type the Rust type does not fix, so the glue finds it in the
//! function's declaration when the call runs: enums and the other types a body sees in
//! their text form (`name`, `inet`, `cidr`, `macaddr`, `macaddr8`), domains (whose
//! constraints a result must meet), and arrays of these.
//!
//! The generated code names no user-defined type's oid: a dump restored elsewhere gives
//! an enum or a domain another oid, and the same library must serve it (artifacts are
//! keyed by the generated code). Built-in oids are the same everywhere.

use pgrx::datum::FromDatum;
use pgrx::pg_sys::{self, Datum, FunctionCallInfo, Oid};

/// How a result value of one column (or the one result) becomes a datum of its declared
/// type, once `into_datum` has built it from the Rust value. Spelled out by the
/// generated code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Out {
    /// The built-in element type to label a built array with (`String` builds `text[]`,
    /// also for a `varchar[]` result); 0 when not an array or when `reparse` is set.
    pub element: u32,
    /// The Rust value is the text form (or an array whose elements need their own input
    /// function, such as an array of a domain): turn it into the declared type through
    /// the type's input function, which checks it (an unknown enum label is 22P02).
    pub reparse: bool,
    /// The declared type is a domain: check its constraints (`NOT NULL`, `CHECK`) on the
    /// value, NULL included, as PL/pgSQL does on return.
    pub domain: bool,
    /// The value is a row (`PgHeapTuple`): it must be of the declared composite type, or
    /// PostgreSQL would read it with another type's descriptor.
    pub composite: bool,
    /// The value is an array of rows (built as an array of `record`): each row must be of
    /// the declared element type, which then labels the array.
    pub rows: bool,
}

impl Out {
    /// A column that needs nothing of the declaration.
    pub const PLAIN: Out = Out {
        element: 0,
        reparse: false,
        domain: false,
        composite: false,
        rows: false,
    };

    /// True when the declared type must be looked up to finish the value.
    fn needs_declaration(&self) -> bool {
        self.reparse || self.domain || self.composite || self.rows
    }
}

/// Make `datum` (built from the Rust value in the current memory context; `None` for
/// NULL) a value of its declared type, which `declared` finds when it is needed.
///
/// # Safety
/// `datum` was just built by `into_datum` from the Rust type PL/Rust maps the declared
/// type to, as `out` describes.
pub(crate) unsafe fn finish(
    datum: Option<Datum>,
    out: Out,
    declared: impl FnOnce() -> Oid,
) -> Option<Datum> {
    if !out.needs_declaration() {
        // SAFETY: per the caller: an array of ours when `element` is set.
        return datum.map(|d| unsafe { crate::returns::label_array(d, out.element) });
    }
    let declared = declared();
    // SAFETY: FFI, catalog lookups of a type the function is declared with.
    let base = unsafe { pg_sys::getBaseType(declared) };
    let datum = match datum {
        // SAFETY: per the caller.
        Some(d) if out.reparse => Some(unsafe { reparse(d, base) }),
        // SAFETY: per the caller.
        Some(d) => Some(unsafe { crate::returns::label_array(d, out.element) }),
        None => None,
    };
    let checked = match datum {
        // SAFETY: a composite datum just built from a row (heap_copy_tuple_as_datum).
        Some(d) if out.composite => unsafe { check_row(d, base) },
        // SAFETY: an array of rows just built by into_datum (not toasted); the declared
        // type is an array type (or a domain over one).
        Some(d) if out.rows => unsafe { check_rows(d, pg_sys::get_element_type(base)) },
        _ => Ok(()),
    };
    if let Err(row_type) = checked {
        let name = crate::returns::type_name;
        crate::log::raise(
            pgrx::PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            format!(
                "the function returned a row of type {} where {} is declared",
                name(row_type),
                name(declared)
            ),
            None,
        );
    }
    if out.domain {
        // SAFETY: the value (or NULL) has the domain's base type.
        unsafe { check_domain(datum, declared) };
    }
    datum
}

/// Built-in types a body reads and writes in their text form; the list is
/// `plrust::types::TEXT_FORM`'s (enums are seen so too).
const TEXT_FORM: [Oid; 5] = [
    pg_sys::NAMEOID,
    pg_sys::INETOID,
    pg_sys::CIDROID,
    pg_sys::MACADDROID,
    pg_sys::MACADDR8OID,
];

/// True when a body sees values of `base` (not a domain) as text.
fn is_text_form(base: Oid) -> bool {
    // SAFETY: FFI, a catalog lookup.
    TEXT_FORM.contains(&base) || unsafe { pg_sys::type_is_enum(base) }
}

/// Make `datum`, just built by `into_datum` from a Rust value whose type maps to SQL type
/// `rust`, a value of SQL type `target`, where a column or a polymorphic result says
/// which type it must be. `Err(a type)`: it cannot be (the value's type, or the type of
/// a row in it); a domain's failed constraint is an ERROR.
///
/// Fits: the same type; `text` as `varchar` (the same representation; arrays relabelled);
/// a row, or an array of rows, of the target's row type; text as an enum or another text
/// form type (through its input function, which checks it); and any of these as a domain
/// over the type, whose constraints are then checked.
///
/// # Safety
/// `datum` was just built in the current memory context by `into_datum` of a Rust type
/// whose `type_oid()` is `rust`.
pub(crate) unsafe fn fit(
    datum: Option<Datum>,
    rust: Oid,
    target: Oid,
) -> Result<Option<Datum>, Oid> {
    if rust == target {
        // The common case, without a catalog lookup.
        return Ok(datum);
    }
    // SAFETY: FFI, catalog lookups.
    let (base, element) = unsafe {
        let base = pg_sys::getBaseType(target);
        (base, pg_sys::get_element_type(base))
    };
    // SAFETY: FFI, catalog lookups.
    let is_row = |oid| oid != pg_sys::InvalidOid && unsafe { pg_sys::type_is_rowtype(oid) };
    let text_form_array = element != pg_sys::InvalidOid && is_text_form(element);
    enum How {
        AsIs,
        Label,
        Row,
        Rows,
        Reparse,
    }
    let how = if rust == base || (rust == pg_sys::TEXTOID && base == pg_sys::VARCHAROID) {
        How::AsIs
    } else if rust == pg_sys::TEXTARRAYOID && base == pg_sys::VARCHARARRAYOID {
        How::Label
    } else if rust == pg_sys::RECORDOID && is_row(base) {
        How::Row
    } else if rust == pg_sys::RECORDARRAYOID && is_row(element) {
        How::Rows
    } else if (rust == pg_sys::TEXTOID && is_text_form(base))
        || (rust == pg_sys::TEXTARRAYOID && text_form_array)
    {
        How::Reparse
    } else {
        return Err(rust);
    };
    let fitted = match datum {
        None => None,
        // SAFETY (all arms): per the caller, `d` was just built in the current memory
        // context from a Rust value of SQL type `rust`, and is ours to relabel.
        Some(d) => Some(match how {
            How::AsIs => d,
            How::Label => unsafe { crate::returns::label_array(d, pg_sys::VARCHAROID.into()) },
            How::Row => unsafe { check_row(d, base) }.map(|()| d)?,
            How::Rows => unsafe { check_rows(d, element) }.map(|()| d)?,
            How::Reparse => unsafe { reparse(d, base) },
        }),
    };
    if base != target {
        // SAFETY: the value (or NULL) has the domain's base type.
        unsafe { check_domain(fitted, target) };
    }
    Ok(fitted)
}

/// Check domain `domain`'s constraints on `value` (NULL included), as PL/pgSQL does on
/// return: a failed one is an ERROR (23502, 23514).
///
/// # Safety
/// `value` is a live value of the domain's base type.
unsafe fn check_domain(value: Option<Datum>, domain: Oid) {
    // SAFETY: FFI per the caller; the check's cache goes in the current memory context.
    unsafe {
        pg_sys::domain_check(
            value.unwrap_or(Datum::from(0)),
            value.is_none(),
            domain,
            std::ptr::null_mut(),
            pg_sys::CurrentMemoryContext,
        )
    };
}

/// `Err(its type)` unless composite datum `row` is of row type `expected`.
///
/// # Safety
/// `row` is a composite datum, not toasted.
pub(crate) unsafe fn check_row(row: Datum, expected: Oid) -> Result<(), Oid> {
    // SAFETY: per the caller, a heap tuple header whose type id is set.
    let row_type = unsafe {
        pgrx::heap_tuple_header_get_type_id(row.cast_mut_ptr::<pg_sys::HeapTupleHeaderData>())
    };
    if row_type == expected {
        Ok(())
    } else {
        Err(row_type)
    }
}

/// Check every row of `array` (an array of `record` built from `PgHeapTuple`s) to be of
/// row type `element` (`Err(the first other type)`), then label the array with it, so it
/// is a value of `element[]`.
///
/// # Safety
/// `array` was just built by `makeArrayResult` in the current memory context (not
/// toasted, writable); `element` is a composite type.
pub(crate) unsafe fn check_rows(array: Datum, element: Oid) -> Result<(), Oid> {
    let array = array.cast_mut_ptr::<pg_sys::ArrayType>();
    // SAFETY: FFI on the live array per the caller; the element arrays are palloc'd in
    // the current memory context and freed here.
    unsafe {
        let (mut len, mut byval, mut align) = (0i16, false, 0 as std::ffi::c_char);
        pg_sys::get_typlenbyvalalign((*array).elemtype, &mut len, &mut byval, &mut align);
        let mut rows: *mut Datum = std::ptr::null_mut();
        let mut nulls: *mut bool = std::ptr::null_mut();
        let mut count = 0;
        pg_sys::deconstruct_array(
            array,
            (*array).elemtype,
            len.into(),
            byval,
            align,
            &mut rows,
            &mut nulls,
            &mut count,
        );
        let checked = (0..count as usize)
            .filter(|&i| !*nulls.add(i))
            .try_for_each(|i| check_row(*rows.add(i), element));
        pg_sys::pfree(rows.cast());
        pg_sys::pfree(nulls.cast());
        if checked.is_ok() {
            (*array).elemtype = element;
        }
        checked
    }
}

/// A text (or array) datum built from the Rust value, as a value of `base` by way of its
/// text form. An array's text form (`array_out`) quotes elements so that `array_in`
/// reads them back exactly, each through its element type's input function.
///
/// # Safety
/// `datum` is a `text` value, or an array, just built in the current memory context.
unsafe fn reparse(datum: Datum, base: Oid) -> Datum {
    // SAFETY: FFI on a live datum of the kind the caller promises; the results are
    // palloc'd in the current memory context.
    unsafe {
        let is_array = pg_sys::get_element_type(base) != pg_sys::InvalidOid;
        let text = if is_array {
            pg_sys::OidOutputFunctionCall(Oid::from(pg_sys::F_ARRAY_OUT), datum)
        } else {
            pg_sys::text_to_cstring(datum.cast_mut_ptr())
        };
        let (mut input, mut ioparam) = (pg_sys::InvalidOid, pg_sys::InvalidOid);
        pg_sys::getTypeInputInfo(base, &mut input, &mut ioparam);
        let value = pg_sys::OidInputFunctionCall(input, text, ioparam, -1);
        pg_sys::pfree(text.cast());
        value
    }
}

/// The declared SQL type of argument `n`: from the call expression when there is one,
/// else from the catalog.
///
/// # Safety
/// `fcinfo` is the live call's; `n` is in range.
unsafe fn arg_type(fcinfo: FunctionCallInfo, n: usize) -> Oid {
    // SAFETY: the live call's flinfo.
    unsafe {
        let flinfo = (*fcinfo).flinfo;
        let from_call = pg_sys::get_fn_expr_argtype(flinfo, n as i32);
        if from_call != pg_sys::InvalidOid {
            return from_call;
        }
        let mut types: *mut Oid = std::ptr::null_mut();
        let mut count = 0;
        pg_sys::get_func_signature((*flinfo).fn_oid, &mut types, &mut count);
        assert!(n < count as usize, "argument {n} of a function of {count}");
        let declared = *types.add(n);
        pg_sys::pfree(types.cast());
        declared
    }
}

/// The declared result type of the call's function (for a set, its element type).
///
/// # Safety
/// `fcinfo` is the live call's.
pub(crate) unsafe fn return_type(fcinfo: FunctionCallInfo) -> Oid {
    // SAFETY: the live call's flinfo; a syscache lookup of the function itself.
    unsafe { pg_sys::get_func_rettype((*(*fcinfo).flinfo).fn_oid) }
}

/// Argument `n`, whose Rust type is its text form (`&'a str`, or `Array<'a, &'a str>`
/// for an array): the value's output function makes it `text` (or `text[]`) in the
/// call's memory, which the Rust value borrows.
///
/// # Safety
/// `fcinfo` is the live call's; `n` is in range, and `T` reads a text (or text array)
/// datum.
pub unsafe fn arg_text<'a, T: FromDatum + 'a>(fcinfo: FunctionCallInfo, n: usize) -> Option<T> {
    // SAFETY: the live call's arguments; `n` is in range.
    let arg = unsafe { pgrx::fcinfo::pg_get_nullable_datum(fcinfo, n) };
    if arg.isnull {
        return None;
    }
    let datum = arg.value;
    // SAFETY: FFI on the live argument of its declared type; the text is palloc'd in the
    // current (the call's) memory context.
    let text = unsafe {
        let declared = arg_type(fcinfo, n);
        let base = pg_sys::getBaseType(declared);
        let (mut output, mut varlena) = (pg_sys::InvalidOid, false);
        pg_sys::getTypeOutputInfo(base, &mut output, &mut varlena);
        let form = pg_sys::OidOutputFunctionCall(output, datum);
        let text = if pg_sys::get_element_type(base) != pg_sys::InvalidOid {
            pg_sys::OidInputFunctionCall(Oid::from(pg_sys::F_ARRAY_IN), form, pg_sys::TEXTOID, -1)
        } else {
            Datum::from(pg_sys::cstring_to_text(form))
        };
        pg_sys::pfree(form.cast());
        text
    };
    // SAFETY: a text or text[] datum, as `T` reads.
    unsafe { T::from_datum(text, false) }
}
