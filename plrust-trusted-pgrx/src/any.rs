//! Polymorphic arguments and results (`anyelement`, `anyarray`, `anynonarray`,
//! `anyenum`, `anyrange` and their `anycompatible` kin): one compiled function serves
//! every type PostgreSQL resolves them to, so a body sees a value whose SQL type it
//! learns when the call runs, and reads it as the Rust type it names (checked against
//! that SQL type, as an SPI column is).

use std::marker::PhantomData;

use pgrx::datum::{FromDatum, IntoDatum, TryFromDatumError};
use pgrx::pg_sys::{self, Datum, FunctionCallInfo, Oid};

/// A value of a polymorphic type: an argument as the call passed it, or a result made
/// with [`AnyElement::new`]. Read it with [`value`](Self::value).
pub struct AnyElement<'a> {
    datum: Option<Datum>,
    /// The SQL type of the value (for an argument: as the call resolved it; for a new
    /// value: its Rust type's).
    oid: Oid,
    /// Made by `new` (in the current memory context, ours to relabel) rather than
    /// passed in.
    built: bool,
    _call: PhantomData<&'a ()>,
}

/// The Rust type of `anyarray` and `anycompatiblearray`: a polymorphic value, as
/// [`AnyElement`]; read an array with `value::<Vec<Option<T>>>()` or
/// `value::<Array<T>>()`.
pub type AnyArray<'a> = AnyElement<'a>;

impl<'a> AnyElement<'a> {
    /// A polymorphic result holding `value` (`None`: NULL). When it is returned, its
    /// SQL type must be the one the call resolved the result to (`anyelement` is the
    /// type of the matching argument); otherwise the call fails with 42804.
    pub fn new<T: IntoDatum>(value: T) -> AnyElement<'a> {
        AnyElement {
            oid: T::type_oid(),
            datum: value.into_datum(),
            built: true,
            _call: PhantomData,
        }
    }

    /// The value's SQL type.
    pub fn oid(&self) -> Oid {
        self.oid
    }

    /// The value's SQL type, by name (as `pg_typeof` shows it).
    pub fn type_name(&self) -> String {
        crate::returns::type_name(self.oid)
    }

    /// True when the value is NULL (only a value made by `new` can be).
    pub fn is_null(&self) -> bool {
        self.datum.is_none()
    }

    /// The value as `T` (`None` for NULL); an error when the value's SQL type (a
    /// domain's base type) is not `T`'s. Borrowed types (`&'a str`) point into the
    /// call's argument.
    pub fn value<T: FromDatum + IntoDatum + 'a>(&self) -> Result<Option<T>, TryFromDatumError> {
        let Some(datum) = self.datum else {
            return Ok(None);
        };
        // SAFETY: FFI, a catalog lookup.
        let base = unsafe { pg_sys::getBaseType(self.oid) };
        // SAFETY: a live datum of type `oid` (a domain's is its base type's value);
        // try_from_datum checks `T` against the type before reading it.
        unsafe { T::try_from_datum(datum, false, base) }
    }
}

impl std::fmt::Debug for AnyElement<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnyElement")
            .field("type", &self.type_name())
            .field("is_null", &self.is_null())
            .finish()
    }
}

/// A polymorphic argument: its type is the call's (the argument expression's).
impl FromDatum for AnyElement<'_> {
    const GET_TYPOID: bool = true;

    unsafe fn from_polymorphic_datum(datum: Datum, is_null: bool, typoid: Oid) -> Option<Self> {
        if typoid == pg_sys::InvalidOid {
            crate::log::raise(
                pgrx::PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                "could not determine the actual type of a polymorphic argument".into(),
                None,
            );
        }
        (!is_null).then_some(AnyElement {
            datum: Some(datum),
            oid: typoid,
            built: false,
            _call: PhantomData,
        })
    }
}

/// A polymorphic result: the value must be of the type the call resolved it to.
///
/// # Safety
/// `fcinfo` is the live call's, of a function whose result type is polymorphic.
pub(crate) unsafe fn ret_any(
    fcinfo: FunctionCallInfo,
    value: Option<AnyElement<'_>>,
) -> Option<Datum> {
    let value = value?;
    // SAFETY: the live call's flinfo.
    let resolved = unsafe { pg_sys::get_fn_expr_rettype((*fcinfo).flinfo) };
    if resolved == pg_sys::InvalidOid {
        crate::log::raise(
            pgrx::PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            "could not determine the actual result type of a polymorphic function".into(),
            None,
        );
    }
    // SAFETY: FFI, catalog lookups.
    let same = value.oid == resolved
        || unsafe { pg_sys::getBaseType(value.oid) == pg_sys::getBaseType(resolved) };
    let fitted = if same {
        Ok(value.datum)
    } else if value.built {
        // SAFETY: `new` built the datum in the current memory context from a Rust value
        // of SQL type `oid`.
        unsafe { crate::declared::fit(value.datum, value.oid, resolved) }
    } else {
        Err(value.oid)
    };
    match fitted {
        Ok(datum) => datum,
        Err(oid) => crate::log::raise(
            pgrx::PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            format!(
                "the function returned a value of type {} where this call's result is of type {}",
                crate::returns::type_name(oid),
                crate::returns::type_name(resolved)
            ),
            None,
        ),
    }
}
