//! The one table mapping SQL types to the Rust types a body sees. Pure: no server calls.
//!
//! Arguments borrow where the original PL/Rust did (zero-copy `&str`, `&[u8]`, `Array`;
//! `varchar` is an owned `String` there, and here), returns are owned; types pgrx
//! implements are named through `pgrx::` as the original names them. `void` is a return
//! type only (it has no array type, so it is not a row). An array argument of element type `T` is
//! `Array<'a, T>` (iterating yields `Option<T>`, `None` for a NULL element); an array
//! return is `Vec<Option<T>>`.

use pgrx::pg_sys::{self, Oid};
use proc_macro2::TokenStream;

/// One row of the mapping: a SQL base type and its array type.
struct Mapping {
    sql: &'static str,
    oid: Oid,
    array_oid: Oid,
    /// The Rust type of an argument (may borrow for `'a`).
    arg: &'static str,
    /// The Rust type of a return value.
    ret: &'static str,
}

const TYPES: &[Mapping] = &[
    Mapping {
        sql: "bool",
        oid: pg_sys::BOOLOID,
        array_oid: pg_sys::BOOLARRAYOID,
        arg: "bool",
        ret: "bool",
    },
    Mapping {
        sql: "int2",
        oid: pg_sys::INT2OID,
        array_oid: pg_sys::INT2ARRAYOID,
        arg: "i16",
        ret: "i16",
    },
    Mapping {
        sql: "int4",
        oid: pg_sys::INT4OID,
        array_oid: pg_sys::INT4ARRAYOID,
        arg: "i32",
        ret: "i32",
    },
    Mapping {
        sql: "int8",
        oid: pg_sys::INT8OID,
        array_oid: pg_sys::INT8ARRAYOID,
        arg: "i64",
        ret: "i64",
    },
    Mapping {
        sql: "float4",
        oid: pg_sys::FLOAT4OID,
        array_oid: pg_sys::FLOAT4ARRAYOID,
        arg: "f32",
        ret: "f32",
    },
    Mapping {
        sql: "float8",
        oid: pg_sys::FLOAT8OID,
        array_oid: pg_sys::FLOAT8ARRAYOID,
        arg: "f64",
        ret: "f64",
    },
    Mapping {
        sql: "text",
        oid: pg_sys::TEXTOID,
        array_oid: pg_sys::TEXTARRAYOID,
        arg: "&'a str",
        ret: "String",
    },
    Mapping {
        sql: "varchar",
        oid: pg_sys::VARCHAROID,
        array_oid: pg_sys::VARCHARARRAYOID,
        // Owned, as in the original PL/Rust (bodies written for it may consume it).
        arg: "String",
        ret: "String",
    },
    Mapping {
        sql: "bytea",
        oid: pg_sys::BYTEAOID,
        array_oid: pg_sys::BYTEAARRAYOID,
        arg: "&'a [u8]",
        ret: "Vec<u8>",
    },
    Mapping {
        sql: "\"char\"",
        oid: pg_sys::CHAROID,
        array_oid: pg_sys::CHARARRAYOID,
        arg: "i8",
        ret: "i8",
    },
    Mapping {
        sql: "numeric",
        oid: pg_sys::NUMERICOID,
        array_oid: pg_sys::NUMERICARRAYOID,
        arg: "pgrx::AnyNumeric",
        ret: "pgrx::AnyNumeric",
    },
    Mapping {
        sql: "bpchar",
        oid: pg_sys::BPCHAROID,
        array_oid: pg_sys::BPCHARARRAYOID,
        arg: "&'a str",
        ret: "String",
    },
    Mapping {
        sql: "date",
        oid: pg_sys::DATEOID,
        array_oid: pg_sys::DATEARRAYOID,
        arg: "pgrx::Date",
        ret: "pgrx::Date",
    },
    Mapping {
        sql: "time",
        oid: pg_sys::TIMEOID,
        array_oid: pg_sys::TIMEARRAYOID,
        arg: "pgrx::Time",
        ret: "pgrx::Time",
    },
    Mapping {
        sql: "timetz",
        oid: pg_sys::TIMETZOID,
        array_oid: pg_sys::TIMETZARRAYOID,
        arg: "pgrx::TimeWithTimeZone",
        ret: "pgrx::TimeWithTimeZone",
    },
    Mapping {
        sql: "timestamp",
        oid: pg_sys::TIMESTAMPOID,
        array_oid: pg_sys::TIMESTAMPARRAYOID,
        arg: "pgrx::Timestamp",
        ret: "pgrx::Timestamp",
    },
    Mapping {
        sql: "timestamptz",
        oid: pg_sys::TIMESTAMPTZOID,
        array_oid: pg_sys::TIMESTAMPTZARRAYOID,
        arg: "pgrx::TimestampWithTimeZone",
        ret: "pgrx::TimestampWithTimeZone",
    },
    Mapping {
        sql: "interval",
        oid: pg_sys::INTERVALOID,
        array_oid: pg_sys::INTERVALARRAYOID,
        arg: "pgrx::Interval",
        ret: "pgrx::Interval",
    },
    Mapping {
        sql: "uuid",
        oid: pg_sys::UUIDOID,
        array_oid: pg_sys::UUIDARRAYOID,
        arg: "pgrx::Uuid",
        ret: "pgrx::Uuid",
    },
    Mapping {
        sql: "json",
        oid: pg_sys::JSONOID,
        array_oid: pg_sys::JSONARRAYOID,
        arg: "pgrx::Json",
        ret: "pgrx::Json",
    },
    Mapping {
        sql: "jsonb",
        oid: pg_sys::JSONBOID,
        array_oid: pg_sys::JSONBARRAYOID,
        arg: "pgrx::JsonB",
        ret: "pgrx::JsonB",
    },
    Mapping {
        sql: "point",
        oid: pg_sys::POINTOID,
        array_oid: pg_sys::POINTARRAYOID,
        arg: "pgrx::Point",
        ret: "pgrx::Point",
    },
    Mapping {
        sql: "box",
        oid: pg_sys::BOXOID,
        array_oid: pg_sys::BOXARRAYOID,
        arg: "pgrx::BOX",
        ret: "pgrx::BOX",
    },
    Mapping {
        sql: "int4range",
        oid: pg_sys::INT4RANGEOID,
        array_oid: pg_sys::INT4RANGEARRAYOID,
        arg: "pgrx::Range<i32>",
        ret: "pgrx::Range<i32>",
    },
    Mapping {
        sql: "int8range",
        oid: pg_sys::INT8RANGEOID,
        array_oid: pg_sys::INT8RANGEARRAYOID,
        arg: "pgrx::Range<i64>",
        ret: "pgrx::Range<i64>",
    },
    Mapping {
        sql: "numrange",
        oid: pg_sys::NUMRANGEOID,
        array_oid: pg_sys::NUMRANGEARRAYOID,
        arg: "pgrx::Range<pgrx::AnyNumeric>",
        ret: "pgrx::Range<pgrx::AnyNumeric>",
    },
    Mapping {
        sql: "daterange",
        oid: pg_sys::DATERANGEOID,
        array_oid: pg_sys::DATERANGEARRAYOID,
        arg: "pgrx::Range<pgrx::Date>",
        ret: "pgrx::Range<pgrx::Date>",
    },
    Mapping {
        sql: "tsrange",
        oid: pg_sys::TSRANGEOID,
        array_oid: pg_sys::TSRANGEARRAYOID,
        arg: "pgrx::Range<pgrx::Timestamp>",
        ret: "pgrx::Range<pgrx::Timestamp>",
    },
    Mapping {
        sql: "tstzrange",
        oid: pg_sys::TSTZRANGEOID,
        array_oid: pg_sys::TSTZRANGEARRAYOID,
        arg: "pgrx::Range<pgrx::TimestampWithTimeZone>",
        ret: "pgrx::Range<pgrx::TimestampWithTimeZone>",
    },
];

/// Where a type appears, for choosing between the borrowed and the owned mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Argument,
    Return,
}

/// The Rust type for SQL type `oid` in `position`, or `None` if PL/Rust cannot map it.
pub fn rust_type(oid: Oid, position: Position) -> Option<TokenStream> {
    let pick = |m: &Mapping| match position {
        Position::Argument => m.arg,
        Position::Return => m.ret,
    };
    if oid == pg_sys::VOIDOID && position == Position::Return {
        return Some(quote::quote!(()));
    }
    let text = if let Some(m) = TYPES.iter().find(|m| m.oid == oid) {
        pick(m).to_owned()
    } else {
        let m = TYPES.iter().find(|m| m.array_oid == oid)?;
        match position {
            Position::Argument => format!("Array<'a, {}>", pick(m)),
            Position::Return => format!("Vec<Option<{}>>", pick(m)),
        }
    };
    Some(text.parse().expect("the type table holds valid Rust types"))
}

/// The element type of a mapped array type, `None` for anything else.
pub fn array_element(oid: Oid) -> Option<Oid> {
    TYPES.iter().find(|m| m.array_oid == oid).map(|m| m.oid)
}

/// The SQL names of every mapped type, for documentation and error hints.
pub fn supported() -> impl Iterator<Item = &'static str> {
    TYPES.iter().map(|m| m.sql)
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    fn show(oid: Oid, position: Position) -> syn::Type {
        syn::parse2(rust_type(oid, position).expect("mapped")).expect("a Rust type")
    }

    fn ty(text: &str) -> syn::Type {
        syn::parse_str(text).unwrap()
    }

    #[test]
    fn scalars_map_to_primitives() {
        assert_eq!(show(pg_sys::INT4OID, Position::Argument), ty("i32"));
        assert_eq!(show(pg_sys::INT8OID, Position::Return), ty("i64"));
        assert_eq!(show(pg_sys::BOOLOID, Position::Return), ty("bool"));
    }

    #[test]
    fn varlena_arguments_borrow_and_returns_own() {
        assert_eq!(show(pg_sys::TEXTOID, Position::Argument), ty("& 'a str"));
        assert_eq!(show(pg_sys::TEXTOID, Position::Return), ty("String"));
        assert_eq!(show(pg_sys::BYTEAOID, Position::Argument), ty("& 'a [u8]"));
        assert_eq!(show(pg_sys::BYTEAOID, Position::Return), ty("Vec < u8 >"));
    }

    #[test]
    fn arrays_map_to_array_and_vec_of_option() {
        assert_eq!(
            show(pg_sys::INT4ARRAYOID, Position::Argument),
            ty("Array < 'a , i32 >")
        );
        assert_eq!(
            show(pg_sys::TEXTARRAYOID, Position::Return),
            ty("Vec < Option < String > >")
        );
    }

    #[test]
    fn library_types_and_ranges_are_named_through_pgrx() {
        assert_eq!(
            show(pg_sys::NUMERICOID, Position::Argument),
            ty("pgrx::AnyNumeric")
        );
        assert_eq!(
            show(pg_sys::TSTZRANGEARRAYOID, Position::Return),
            ty("Vec<Option<pgrx::Range<pgrx::TimestampWithTimeZone>>>")
        );
        assert_eq!(show(pg_sys::VOIDOID, Position::Return), ty("()"));
    }

    #[test]
    fn array_elements() {
        assert_eq!(
            array_element(pg_sys::VARCHARARRAYOID),
            Some(pg_sys::VARCHAROID)
        );
        assert_eq!(array_element(pg_sys::VARCHAROID), None);
    }

    #[test]
    fn unmapped_types_are_none() {
        assert!(rust_type(pg_sys::VOIDOID, Position::Argument).is_none());
        assert!(rust_type(pg_sys::INETOID, Position::Argument).is_none());
        assert!(rust_type(pg_sys::RECORDOID, Position::Return).is_none());
    }

    #[test]
    fn every_type_has_distinct_oids() {
        let mut oids: Vec<u32> = TYPES
            .iter()
            .flat_map(|m| [m.oid, m.array_oid])
            .map(u32::from)
            .collect();
        oids.sort();
        oids.dedup();
        assert_eq!(oids.len(), TYPES.len() * 2);
        assert_eq!(supported().count(), TYPES.len());
    }
}
