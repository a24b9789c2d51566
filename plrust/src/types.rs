//! The one table mapping SQL types to the Rust types a body sees. Pure: no server calls.
//!
//! Arguments borrow where they can (zero-copy `&str`, `&[u8]`, `Array`), returns are
//! owned, as in the original PL/Rust. An array argument of element type `T` is
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
        arg: "&'a str",
        ret: "String",
    },
    Mapping {
        sql: "bytea",
        oid: pg_sys::BYTEAOID,
        array_oid: pg_sys::BYTEAARRAYOID,
        arg: "&'a [u8]",
        ret: "Vec<u8>",
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
    fn array_elements() {
        assert_eq!(
            array_element(pg_sys::VARCHARARRAYOID),
            Some(pg_sys::VARCHAROID)
        );
        assert_eq!(array_element(pg_sys::VARCHAROID), None);
    }

    #[test]
    fn unmapped_types_are_none() {
        assert!(rust_type(pg_sys::NUMERICOID, Position::Argument).is_none());
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
