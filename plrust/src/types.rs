//! The one table mapping SQL types to the Rust types a body sees. Pure: the catalog is
//! asked through a closure (codegen passes the system catalogs).
//!
//! Arguments borrow where the original PL/Rust did (zero-copy `&str`, `&[u8]`, `Array`;
//! `varchar` is an owned `String` there, and here), returns are owned; types pgrx
//! implements are named through `pgrx::` as the original names them. `void` is a return
//! type only (codegen refuses it as an argument). An array argument of element type `T`
//! is `Array<'a, T>` (iterating yields `Option<T>`, `None` for a NULL element, in
//! row-major order for a multi-dimensional array); an array return is `Vec<Option<T>>`.
//!
//! Beyond the table: enums and a few built-in types (`name`, `inet`, ...) are seen in
//! their text form; a domain is its base type's Rust type, its constraints checked on
//! return; arrays of these work alike. How the glue finishes such a value is [`Out`].

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
        sql: "oid",
        oid: pg_sys::OIDOID,
        array_oid: pg_sys::OIDARRAYOID,
        // As in pgrx and the original PL/Rust: a returned `Oid::INVALID` (0) is NULL.
        arg: "pgrx::Oid",
        ret: "pgrx::Oid",
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

/// Built-in types a body sees in their text form (`&'a str` arguments, `String`
/// results), as PostgreSQL prints them: the trusted API has no Rust type of its own for
/// them, and their text form is what a user works with. Enums are seen the same way.
const TEXT_FORM: &[(&str, Oid, Oid)] = &[
    ("name", pg_sys::NAMEOID, pg_sys::NAMEARRAYOID),
    ("inet", pg_sys::INETOID, pg_sys::INETARRAYOID),
    ("cidr", pg_sys::CIDROID, pg_sys::CIDRARRAYOID),
    ("macaddr", pg_sys::MACADDROID, pg_sys::MACADDRARRAYOID),
    ("macaddr8", pg_sys::MACADDR8OID, pg_sys::MACADDR8ARRAYOID),
];

/// Polymorphic pseudo-types: one compiled function serves every type a call resolves them
/// to, so the body sees a value of its call's type (`AnyElement`, read with `value::<T>()`).
const POLYMORPHIC: &[(Oid, &str)] = &[
    (pg_sys::ANYELEMENTOID, "AnyElement"),
    (pg_sys::ANYNONARRAYOID, "AnyElement"),
    (pg_sys::ANYENUMOID, "AnyElement"),
    (pg_sys::ANYRANGEOID, "AnyElement"),
    (pg_sys::ANYCOMPATIBLEOID, "AnyElement"),
    (pg_sys::ANYCOMPATIBLENONARRAYOID, "AnyElement"),
    (pg_sys::ANYCOMPATIBLERANGEOID, "AnyElement"),
    (pg_sys::ANYARRAYOID, "AnyArray"),
    (pg_sys::ANYCOMPATIBLEARRAYOID, "AnyArray"),
];

/// What the catalog says about a type that is not a built-in one of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Domain {
        base: Oid,
    },
    Enum,
    /// A named composite type or a table's row type.
    Composite,
    /// An array of a user-defined type (an enum, a domain).
    Array {
        element: Oid,
    },
    Other,
}

/// How the glue hands a result value to PostgreSQL (the trusted API's `__glue::Out`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Out {
    /// A built-in array's element type, to label the built array with.
    pub element: Option<Oid>,
    /// The value goes through the declared type's input function (text form types, and
    /// arrays whose elements are checked by theirs).
    pub reparse: bool,
    /// The declared type is a domain: its constraints are checked on the value.
    pub domain: bool,
    /// The value is a row, checked to be of the declared composite type.
    pub composite: bool,
    /// The value is an array of rows, each checked to be of the declared element type.
    pub rows: bool,
}

/// The Rust side of one SQL type.
#[derive(Debug, Clone)]
pub struct Mapped {
    /// The Rust type of an argument (may borrow for `'a`).
    pub arg: TokenStream,
    /// The Rust type of a result.
    pub ret: TokenStream,
    /// An argument is read in its text form (through the type's output function).
    pub text: bool,
    /// A polymorphic type: the value's SQL type is known only when the call runs.
    pub polymorphic: bool,
    pub out: Out,
}

impl Mapped {
    fn new(arg: &str, ret: &str) -> Mapped {
        let parse = |t: &str| t.parse().expect("the type table holds valid Rust types");
        Mapped {
            arg: parse(arg),
            ret: parse(ret),
            text: false,
            polymorphic: false,
            out: Out::default(),
        }
    }

    fn array_of(element: &Mapped) -> Mapped {
        let (arg, ret) = (&element.arg, &element.ret);
        Mapped {
            arg: quote::quote!(Array<'a, #arg>),
            ret: quote::quote!(Vec<Option<#ret>>),
            text: element.text,
            polymorphic: false,
            out: Out {
                element: None,
                // Each element needs its own input function (an enum label) or its
                // constraints checked (a domain): array_in does both.
                reparse: element.text || element.out.domain,
                rows: element.out.composite,
                ..Out::default()
            },
        }
    }

    fn row() -> Mapped {
        Mapped {
            out: Out {
                composite: true,
                ..Out::default()
            },
            ..Mapped::new(
                "pgrx::PgHeapTuple<'a, pgrx::AllocatedByRust>",
                "pgrx::PgHeapTuple<'a, pgrx::AllocatedByRust>",
            )
        }
    }

    fn text_form() -> Mapped {
        Mapped {
            text: true,
            out: Out {
                reparse: true,
                ..Out::default()
            },
            ..Mapped::new("&'a str", "String")
        }
    }
}

/// The Rust side of SQL type `oid`, or `None` if PL/Rust cannot map it; `kind` asks the
/// catalog about types not built in. `void` maps as a result type only (`()`).
pub fn map(oid: Oid, kind: &impl Fn(Oid) -> Kind) -> Option<Mapped> {
    if oid == pg_sys::VOIDOID {
        return Some(Mapped::new("()", "()"));
    }
    if let Some(m) = TYPES.iter().find(|m| m.oid == oid) {
        return Some(Mapped::new(m.arg, m.ret));
    }
    if let Some((_, name)) = POLYMORPHIC.iter().find(|p| p.0 == oid) {
        let ty = format!("pgrx::{name}<'a>");
        return Some(Mapped {
            polymorphic: true,
            ..Mapped::new(&ty, &ty)
        });
    }
    if let Some(m) = TYPES.iter().find(|m| m.array_oid == oid) {
        let mut array = Mapped::array_of(&Mapped::new(m.arg, m.ret));
        array.out.element = Some(m.oid);
        return Some(array);
    }
    if TEXT_FORM.iter().any(|t| t.1 == oid) {
        return Some(Mapped::text_form());
    }
    if TEXT_FORM.iter().any(|t| t.2 == oid) {
        return Some(Mapped::array_of(&Mapped::text_form()));
    }
    if oid == pg_sys::RECORDOID {
        // An argument of any row type; a result needs to say which (refused by codegen).
        return Some(Mapped::row());
    }
    match kind(oid) {
        Kind::Enum => Some(Mapped::text_form()),
        Kind::Composite => Some(Mapped::row()),
        Kind::Domain { base } => {
            let mut m = map(base, kind)?;
            m.out.domain = true;
            Some(m)
        }
        Kind::Array { element } => {
            let e = map(element, kind)?;
            // An element that is itself an array (a domain over one) is not a Rust type
            // PL/Rust has; nor is an array of a domain over rows (its elements would
            // be checked through their text form, which cannot tell two row types apart).
            if e.out.element.is_some()
                || (e.out.composite && e.out.domain)
                || matches!(kind(element), Kind::Array { .. })
            {
                return None;
            }
            Some(Mapped::array_of(&e))
        }
        _ => None,
    }
}

/// The SQL names of every mapped built-in type, for documentation and error hints.
pub fn supported() -> impl Iterator<Item = &'static str> {
    TYPES
        .iter()
        .map(|m| m.sql)
        .chain(TEXT_FORM.iter().map(|t| t.0))
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[derive(Clone, Copy)]
    enum Position {
        Argument,
        Return,
    }

    fn show(oid: Oid, position: Position) -> syn::Type {
        let m = map(oid, &|_| Kind::Other).expect("mapped");
        let ty = match position {
            Position::Argument => m.arg,
            Position::Return => m.ret,
        };
        syn::parse2(ty).expect("a Rust type")
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
    fn built_in_arrays_are_labelled_with_their_element() {
        let m = map(pg_sys::VARCHARARRAYOID, &|_| Kind::Other).unwrap();
        assert_eq!(m.out.element, Some(pg_sys::VARCHAROID));
        assert_eq!(
            map(pg_sys::VARCHAROID, &|_| Kind::Other).unwrap().out,
            Out::default()
        );
    }

    #[test]
    fn unmapped_types_are_none() {
        assert!(map(pg_sys::TSVECTOROID, &|_| Kind::Other).is_none());
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
        assert_eq!(supported().count(), TYPES.len() + TEXT_FORM.len());
    }

    fn catalog(oid: Oid) -> Kind {
        match u32::from(oid) {
            // An enum, a domain over int4, a domain over that enum, arrays of them, and
            // a domain over int4[].
            90001 => Kind::Enum,
            90002 => Kind::Domain {
                base: pg_sys::INT4OID,
            },
            90003 => Kind::Domain {
                base: Oid::from(90001),
            },
            90011 => Kind::Array {
                element: Oid::from(90001),
            },
            90012 => Kind::Array {
                element: Oid::from(90002),
            },
            90005 => Kind::Composite,
            90015 => Kind::Array {
                element: Oid::from(90005),
            },
            90006 => Kind::Domain {
                base: Oid::from(90005),
            },
            90016 => Kind::Array {
                element: Oid::from(90006),
            },
            90004 => Kind::Domain {
                base: pg_sys::INT4ARRAYOID,
            },
            90014 => Kind::Array {
                element: Oid::from(90004),
            },
            _ => Kind::Other,
        }
    }

    fn mapped(oid: u32) -> Mapped {
        map(Oid::from(oid), &catalog).expect("mapped")
    }

    #[test]
    fn enums_and_text_form_types_are_text() {
        for m in [mapped(90001), map(pg_sys::INETOID, &catalog).unwrap()] {
            assert_eq!(syn::parse2::<syn::Type>(m.arg).unwrap(), ty("&'a str"));
            assert_eq!(syn::parse2::<syn::Type>(m.ret).unwrap(), ty("String"));
            assert!(m.text);
            assert_eq!(
                m.out,
                Out {
                    reparse: true,
                    ..Out::default()
                }
            );
        }
        let names = mapped(u32::from(pg_sys::NAMEARRAYOID));
        assert_eq!(
            syn::parse2::<syn::Type>(names.arg).unwrap(),
            ty("Array<'a, &'a str>")
        );
        assert!(names.text && names.out.reparse);
    }

    #[test]
    fn domains_map_as_their_base_and_are_checked() {
        let d = mapped(90002);
        assert_eq!(syn::parse2::<syn::Type>(d.ret).unwrap(), ty("i32"));
        assert_eq!(
            d.out,
            Out {
                domain: true,
                ..Out::default()
            }
        );
        let over_enum = mapped(90003);
        assert!(over_enum.text && over_enum.out.reparse && over_enum.out.domain);
        let over_array = mapped(90004);
        assert_eq!(over_array.out.element, Some(pg_sys::INT4OID));
        assert!(over_array.out.domain && !over_array.out.reparse);
    }

    #[test]
    fn arrays_of_user_types_reparse_each_element() {
        let enums = mapped(90011);
        assert_eq!(
            syn::parse2::<syn::Type>(enums.ret).unwrap(),
            ty("Vec<Option<String>>")
        );
        assert!(enums.text && enums.out.reparse && !enums.out.domain);
        let domains = mapped(90012);
        assert_eq!(
            syn::parse2::<syn::Type>(domains.arg).unwrap(),
            ty("Array<'a, i32>")
        );
        assert!(!domains.text && domains.out.reparse);
        // An array of a domain over an array: no Rust type.
        assert!(map(Oid::from(90014), &catalog).is_none());
        assert!(map(pg_sys::TSVECTORARRAYOID, &catalog).is_none());
    }

    #[test]
    fn polymorphic_types_are_any_element() {
        let element = map(pg_sys::ANYELEMENTOID, &catalog).unwrap();
        assert_eq!(
            syn::parse2::<syn::Type>(element.arg).unwrap(),
            ty("pgrx::AnyElement<'a>")
        );
        assert!(element.polymorphic && element.out == Out::default());
        let array = map(pg_sys::ANYCOMPATIBLEARRAYOID, &catalog).unwrap();
        assert_eq!(
            syn::parse2::<syn::Type>(array.ret).unwrap(),
            ty("pgrx::AnyArray<'a>")
        );
        assert!(!map(pg_sys::INT4OID, &catalog).unwrap().polymorphic);
        // `any` (C functions only) is not one of them.
        assert!(map(pg_sys::ANYOID, &catalog).is_none());
    }

    #[test]
    fn rows_are_heap_tuples_checked_for_their_type() {
        for m in [mapped(90005), map(pg_sys::RECORDOID, &catalog).unwrap()] {
            assert_eq!(
                syn::parse2::<syn::Type>(m.ret).unwrap(),
                ty("pgrx::PgHeapTuple<'a, pgrx::AllocatedByRust>")
            );
            assert!(m.out.composite && !m.text);
        }
        let rows = mapped(90015);
        assert_eq!(
            syn::parse2::<syn::Type>(rows.arg).unwrap(),
            ty("Array<'a, pgrx::PgHeapTuple<'a, pgrx::AllocatedByRust>>")
        );
        assert_eq!(
            syn::parse2::<syn::Type>(rows.ret).unwrap(),
            ty("Vec<Option<pgrx::PgHeapTuple<'a, pgrx::AllocatedByRust>>>")
        );
        assert!(rows.out.rows && !rows.out.composite && !rows.out.reparse);
        // A domain over a row is a row; an array of such domains is refused.
        assert!(mapped(90006).out.composite && mapped(90006).out.domain);
        assert!(map(Oid::from(90016), &catalog).is_none());
    }
}
