//! Stage 3: instrumented body + signature -> a generated crate (two source files).
//!
//! `user.rs` holds the user's code (verbatim but for the probes of `instrument`), inside
//! the function PL/Rust calls; the module is compiled under `#![forbid(unsafe_code)]`.
//! Everything on line 1 before the user's first line is ours (the imports, the signature
//! and the entry probe), so every line of the body keeps its number and only line 1's
//! columns shift, by the prefix length recorded in `GeneratedCrate::line1_offset`.
//!
//! `lib.rs` is the FFI glue, generated with `quote`: the exported entry point that reads
//! the arguments from `fcinfo`, calls the body and converts its result. It is the only
//! place with `unsafe`, and it only calls the trusted API's hidden `__glue` runtime.

use pgrx::pg_sys::{self, Oid};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::dependencies::Extern;
use crate::error::PlRustError;
use crate::instrument::{InstrumentedBody, Shift, PROBE_ENTRY};
use crate::pg_proc::ProcDef;
use crate::types::{self, Kind};

/// The Rust view of a function's SQL signature.
#[derive(Debug)]
pub struct Signature {
    args: Vec<Arg>,
    returns: Returns,
    strict: bool,
}

/// What the body evaluates to (inside `Result<Option<_>, _>`) and how the entry point
/// hands it to PostgreSQL.
#[derive(Debug)]
enum Returns {
    /// One value of a mapped type (`void` is `()`).
    Value(Column),
    /// A record of the OUT/INOUT parameters: a tuple of `Option`s, one per column.
    Row {
        columns: Vec<Column>,
        procedure: bool,
    },
    /// `RETURNS SETOF T`: a `SetOfIterator` of `Option<T>`.
    SetOf(Column),
    /// `RETURNS TABLE (...)` or `SETOF record` with OUT parameters: a `TableIterator`
    /// of rows.
    Table(Vec<Column>),
    /// `RETURNS trigger`: the row to go on with (`trigger.new()`, or a modified copy),
    /// as in the original PL/Rust. The body's one argument is `trigger: &PgTrigger`. One
    /// concrete row type (not the original's `impl WhoAllocated`), so that a body
    /// returning only `Ok(None)` compiles.
    Trigger,
}

/// An argument: its name, its Rust type, and whether the body sees it in its text form.
#[derive(Debug)]
struct Arg {
    name: syn::Ident,
    ty: TokenStream,
    text: bool,
}

/// A value in the result: its Rust type and how the glue makes it a value of its SQL type.
#[derive(Debug)]
struct Column {
    ty: TokenStream,
    out: types::Out,
    /// Of a polymorphic type: only a plain result may be (`ret_any`).
    polymorphic: bool,
}

/// What codegen asks the catalog: a type's name (for messages) and kind.
pub trait Catalog {
    fn type_name(&self, oid: Oid) -> String;
    fn type_kind(&self, oid: Oid) -> Kind;
}

impl Column {
    fn new(type_oid: Oid, position: &str, catalog: &impl Catalog) -> Result<Column, PlRustError> {
        let m = types::map(type_oid, &|oid| catalog.type_kind(oid)).ok_or_else(|| {
            PlRustError::UnsupportedType {
                type_name: catalog.type_name(type_oid),
                position: position.to_owned(),
            }
        })?;
        Ok(Column {
            ty: m.ret,
            out: m.out,
            polymorphic: m.polymorphic,
        })
    }

    /// True when a plain `ret` does: nothing to label, check or reparse.
    fn plain(&self) -> bool {
        self.out == types::Out::default()
    }

    /// The glue's description of the column (`__glue::Out`).
    fn out(&self) -> TokenStream {
        let element = self.out.element.map(u32::from).unwrap_or(0);
        let types::Out {
            reparse,
            domain,
            composite,
            rows,
            ..
        } = self.out;
        quote!(::pgrx::__glue::Out {
            element: #element,
            reparse: #reparse,
            domain: #domain,
            composite: #composite,
            rows: #rows
        })
    }
}

impl Signature {
    /// Map `def`'s SQL signature to Rust, asking `catalog` about types not built in.
    pub fn new(def: &ProcDef, catalog: &impl Catalog) -> Result<Signature, PlRustError> {
        use pgrx::pg_catalog::pg_proc::ProKind;
        let procedure = match def.kind {
            ProKind::Function => false,
            ProKind::Procedure => true,
            ProKind::Window => {
                return Err(PlRustError::Unsupported {
                    what: "WINDOW functions (an aggregate whose functions are PL/Rust works as a window function)".into(),
                })
            }
            // Aggregates, and whatever kind a later PostgreSQL adds.
            _ => {
                return Err(PlRustError::Unsupported {
                    what: "aggregates written in PL/Rust (write their state and final functions in PL/Rust)".into(),
                })
            }
        };
        if def.return_type == pg_sys::EVENT_TRIGGEROID {
            return Err(PlRustError::Unsupported {
                what: "event triggers".into(),
            });
        }
        if def.return_type == pg_sys::TRIGGEROID {
            // PostgreSQL refuses declared arguments for trigger functions (TG_ARGV are
            // `trigger.extra_args()`).
            return Ok(Signature {
                args: vec![Arg {
                    name: format_ident!("trigger"),
                    ty: quote!(&'a ::pgrx::PgTrigger<'a>),
                    text: false,
                }],
                returns: Returns::Trigger,
                strict: false,
            });
        }
        let mut args = Vec::with_capacity(def.args.len());
        for (i, arg) in def.args.iter().enumerate() {
            let name = arg
                .name
                .as_deref()
                .filter(|n| !n.is_empty())
                .ok_or(PlRustError::UnnamedArgument { position: i + 1 })?;
            let ident = syn::parse_str::<syn::Ident>(name).map_err(|_| {
                PlRustError::InvalidArgumentName {
                    name: name.to_owned(),
                }
            })?;
            let m = types::map(arg.type_oid, &|oid| catalog.type_kind(oid))
                .filter(|_| arg.type_oid != pg_sys::VOIDOID)
                .ok_or_else(|| PlRustError::UnsupportedType {
                    type_name: catalog.type_name(arg.type_oid),
                    position: format!("argument {}", i + 1),
                })?;
            let ty = m.arg;
            let ty = if def.strict { ty } else { quote!(Option<#ty>) };
            args.push(Arg {
                name: ident,
                ty,
                text: m.text,
            });
        }

        // PostgreSQL says the result is a record of the OUT/INOUT/TABLE parameters when
        // there are several (a procedure: any); one OUT parameter of a function is its
        // plain return type. RETURNS TABLE is a table even with one column, as in the
        // original PL/Rust.
        let row =
            def.return_type == pg_sys::RECORDOID && !def.outputs.is_empty() || def.returns_table;
        let polymorphic_set = || {
            PlRustError::Unsupported {
            what: "polymorphic types (anyelement, anyarray, ...) as SETOF, TABLE or OUT results (a plain result may be one)".into(),
        }
        };
        let returns = if row {
            if def.outputs.len() > MAX_COLUMNS {
                return Err(PlRustError::Unsupported {
                    what: format!("more than {MAX_COLUMNS} result columns"),
                });
            }
            let columns = def
                .outputs
                .iter()
                .enumerate()
                .map(|(i, out)| {
                    let position = match &out.name {
                        Some(name) if !name.is_empty() => format!("result column \"{name}\""),
                        _ => format!("result column {}", i + 1),
                    };
                    Column::new(out.type_oid, &position, catalog)
                })
                .collect::<Result<Vec<_>, _>>()?;
            if columns.iter().any(|c| c.polymorphic) {
                return Err(polymorphic_set());
            }
            if def.returns_set {
                Returns::Table(columns)
            } else {
                Returns::Row { columns, procedure }
            }
        } else if def.return_type == pg_sys::RECORDOID {
            return Err(PlRustError::Unsupported {
                what: "RETURNS record without OUT parameters (declare OUT parameters or RETURNS TABLE)".into(),
            });
        } else {
            let column = Column::new(def.return_type, "return type", catalog)?;
            if def.returns_set && column.polymorphic {
                return Err(polymorphic_set());
            }
            if def.returns_set {
                Returns::SetOf(column)
            } else {
                Returns::Value(column)
            }
        };
        Ok(Signature {
            args,
            returns,
            strict: def.strict,
        })
    }

    /// The Rust type inside the body's `Result<Option<_>, _>`.
    fn body_type(&self) -> TokenStream {
        let row = |columns: &[Column]| {
            let tys = columns.iter().map(|c| &c.ty);
            quote!((#(Option<#tys>,)*))
        };
        match &self.returns {
            Returns::Value(c) => c.ty.clone(),
            Returns::Row { columns, .. } => row(columns),
            Returns::SetOf(c) => {
                let ty = &c.ty;
                quote!(::pgrx::iter::SetOfIterator<'a, #ty>)
            }
            Returns::Table(columns) => {
                let row = row(columns);
                quote!(::pgrx::iter::TableIterator<'a, #row>)
            }
            Returns::Trigger => quote!(::pgrx::PgHeapTuple<'a, ::pgrx::AllocatedByRust>),
        }
    }

    /// The entry point's hand-over of `call`'s result to PostgreSQL.
    fn return_glue(&self, call: TokenStream) -> TokenStream {
        let outs = |columns: &[Column]| {
            let outs = columns.iter().map(Column::out);
            quote!(&[#(#outs),*])
        };
        match &self.returns {
            Returns::Value(c) if c.polymorphic => quote!(::pgrx::__glue::ret_any(fcinfo, #call)),
            Returns::Value(c) if c.plain() => quote!(::pgrx::__glue::ret(fcinfo, #call)),
            Returns::Value(c) => {
                let out = c.out();
                quote!(::pgrx::__glue::ret_declared(fcinfo, #call, #out))
            }
            Returns::Row { columns, procedure } => {
                let outs = outs(columns);
                quote!(::pgrx::__glue::ret_row(fcinfo, #call, #outs, #procedure))
            }
            Returns::SetOf(c) => {
                let out = c.out();
                quote!(::pgrx::__glue::ret_set(fcinfo, #call, #out))
            }
            Returns::Table(columns) => {
                let outs = outs(columns);
                quote!(::pgrx::__glue::ret_table(fcinfo, #call, #outs))
            }
            Returns::Trigger => quote!(::pgrx::__glue::ret_trigger(#call)),
        }
    }
}

/// The most result columns a row may have (the trusted API's tuples go that far).
pub const MAX_COLUMNS: usize = 32;

/// The source of a function's crate, ready to compile.
#[derive(Debug)]
pub struct GeneratedCrate {
    /// The target triple it is generated (and compiled) for.
    pub target: &'static str,
    /// The body's `[dependencies]` section, if it names crates.
    pub dependencies: Option<String>,
    /// The dependencies resolved against the allow-list (`pipeline::resolve_dependencies`):
    /// `--extern` flags and the dirs of their closure.
    pub externs: Vec<Extern>,
    pub dependency_dirs: Vec<std::path::PathBuf>,
    pub lib_rs: String,
    pub user_rs: String,
    /// How many characters of ours precede the user's text on line 1 of `user.rs`.
    pub line1_offset: usize,
    /// The user's code as written, for rendering diagnostics against it.
    pub user_code: String,
    /// Where the instrumentation inserted text into the user's lines.
    pub shifts: Vec<Shift>,
}

/// The name of the ELF section whose contents name the target a library was built for.
pub const TARGET_SECTION: &str = ".plrust_target";
/// The exported symbols of every function library.
pub const ENTRY_SYMBOL: &str = "plrust_entry";
pub const INIT_SYMBOL: &str = "plrust_init";

/// The parts of a crate that come from the signature and the target alone: all of
/// `lib.rs`, and `user.rs` up to the body's text. What an artifact key hashes for the
/// signature (`pipeline::artifact_key`).
pub struct Glue {
    pub lib_rs: String,
    pub user_prefix: String,
}

/// Stage 3: the crate for `target_triple`, the glue around the instrumented body.
pub fn generate(
    signature: &Signature,
    body: &InstrumentedBody,
    target_triple: &'static str,
) -> GeneratedCrate {
    assemble(glue(signature, target_triple), body, target_triple)
}

/// The crate made of `glue` (generated for `target_triple`) around the instrumented body.
pub fn assemble(
    glue: Glue,
    body: &InstrumentedBody,
    target_triple: &'static str,
) -> GeneratedCrate {
    let Glue {
        lib_rs,
        user_prefix,
    } = glue;
    let user_rs = format!("{user_prefix}{}\n}}\n", body.code);
    GeneratedCrate {
        target: target_triple,
        lib_rs,
        line1_offset: user_prefix.chars().count(),
        user_rs,
        user_code: body.original.clone(),
        shifts: body.shifts.clone(),
        dependencies: body.dependencies.clone(),
        externs: Vec::new(),
        dependency_dirs: Vec::new(),
    }
}

/// The glue of `signature`'s crate for `target_triple`. Cheap: no parsing, only `quote`.
pub fn glue(signature: &Signature, target_triple: &'static str) -> Glue {
    let params = signature
        .args
        .iter()
        .map(|Arg { name, ty, .. }| quote!(#name: #ty));
    let ret = signature.body_type();
    let prefix = quote! {
        use pgrx::prelude::*;
        pub fn plrust_fn<'a>(#(#params),*) -> ::std::result::Result<
            ::std::option::Option<#ret>,
            ::std::boxed::Box<dyn ::std::error::Error + Send + Sync + 'static>,
        >
    }
    .to_string()
        + " {";
    // The user's text follows on the same line: keep line numbers, shift only line 1.
    // The function itself starts with an entry probe (interrupts, stack depth).
    let user_prefix = format!("{prefix}{PROBE_ENTRY}");

    let ret = if matches!(signature.returns, Returns::Trigger) {
        // The event lives on the entry point's frame; the row the body returns borrows it.
        let ret = signature.return_glue(quote!(user::plrust_fn(&trigger)));
        quote! {
            let trigger = ::pgrx::__glue::trigger(fcinfo);
            #ret
        }
    } else {
        let bindings = signature.args.iter().enumerate().map(|(i, arg)| {
            let local = format_ident!("arg{}", i);
            let getter = match (signature.strict, arg.text) {
                (true, false) => quote!(strict_arg),
                (true, true) => quote!(strict_arg_text),
                (false, false) => quote!(arg),
                (false, true) => quote!(arg_text),
            };
            quote!(let #local = ::pgrx::__glue::#getter(fcinfo, #i);)
        });
        let locals = (0..signature.args.len()).map(|i| format_ident!("arg{}", i));
        let ret = signature.return_glue(quote!(user::plrust_fn(#(#locals),*)));
        quote! {
            #(#bindings)*
            #ret
        }
    };
    let triple = proc_macro2::Literal::byte_string(target_triple.as_bytes());
    let triple_len = target_triple.len();
    let section = TARGET_SECTION;
    let entry = format_ident!("{}", ENTRY_SYMBOL);
    let init = format_ident!("{}", INIT_SYMBOL);

    let lib_rs = quote! {
        #[cfg(not(target_family = "postgres"))]
        compile_error!("PL/Rust functions are built only for <arch>-postgres-linux-gnu targets");

        // The user's code. `forbid`: nothing inside can re-allow these.
        #[forbid(unsafe_code, deprecated, soft_unstable)]
        mod user;

        /// Names the target this library was built for. Exported, so the linker keeps it;
        /// compiled only when rustc's target is a postgres one.
        #[cfg(target_family = "postgres")]
        #[no_mangle]
        #[link_section = #section]
        pub static PLRUST_TARGET: [u8; #triple_len] = *#triple;

        // Rust's heap (PostgreSQL memory: the backend's "PL/Rust" context, under
        // plrust.max_memory) is the runtime's global allocator, shared by every library.

        #[no_mangle]
        pub unsafe extern "C-unwind" fn #init() {
            // SAFETY: called once by PL/Rust's loader, on the backend's main thread.
            unsafe { ::pgrx::__glue::init() }
        }

        #[no_mangle]
        pub unsafe extern "C-unwind" fn #entry(
            fcinfo: ::pgrx::__glue::FunctionCallInfo,
        ) -> ::pgrx::__glue::Datum {
            // SAFETY: PL/Rust's call handler passes the live call's fcinfo, with the
            // argument types this crate was generated for; it is the outermost Rust frame.
            unsafe {
                ::pgrx::__glue::guard(fcinfo, || {
                    #ret
                })
            }
        }
    }
    .to_string();

    Glue {
        lib_rs,
        user_prefix,
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use crate::body::parse;
    use crate::instrument::instrument;
    use crate::pg_proc::ProcArg;
    use crate::trust::check;
    use pgrx::pg_catalog::pg_proc::ProKind;
    use pgrx::pg_sys;

    fn def(args: &[(&str, Oid)], ret: Oid, strict: bool) -> ProcDef {
        ProcDef {
            args: args
                .iter()
                .map(|(n, t)| ProcArg {
                    name: Some((*n).into()),
                    type_oid: *t,
                })
                .collect(),
            outputs: Vec::new(),
            returns_table: false,
            return_type: ret,
            returns_set: false,
            strict,
            read_only: false,
            kind: ProKind::Function,
            source: String::new(),
        }
    }

    /// `haystack` contains `needle`, ignoring whitespace (token printing spaces vary).
    fn has(haystack: &str, needle: &str) -> bool {
        let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        squash(haystack).contains(&squash(needle))
    }

    /// A catalog without user-defined types.
    struct Builtin;
    impl Catalog for Builtin {
        fn type_name(&self, _: Oid) -> String {
            "sometype".into()
        }
        fn type_kind(&self, _: Oid) -> Kind {
            Kind::Other
        }
    }
    const PLAIN: &str =
        "::pgrx::__glue::Out { element: 0u32, reparse: false, domain: false, composite: false, rows: false }";

    #[test]
    fn user_code_keeps_its_lines() {
        let d = def(&[("x", pg_sys::INT4OID)], pg_sys::INT4OID, true);
        let sig = Signature::new(&d, &Builtin).unwrap();
        let body = instrument(check(parse("\n  Ok(Some(x + 1))\n").unwrap()).unwrap()).unwrap();
        let g = generate(&sig, &body, "x86_64-postgres-linux-gnu");
        let lines: Vec<&str> = g.user_rs.lines().collect();
        assert_eq!(lines[1], "  Ok(Some(x + 1))");
        assert!(
            has(lines[0], "pub fn plrust_fn<'a>(x: i32)"),
            "{}",
            lines[0]
        );
        assert_eq!(g.line1_offset, lines[0].chars().count());
        assert!(has(&g.lib_rs, "strict_arg(fcinfo, 0usize)"), "{}", g.lib_rs);
    }

    #[test]
    fn non_strict_arguments_are_options() {
        let d = def(
            &[("a", pg_sys::TEXTOID), ("b", pg_sys::INT8ARRAYOID)],
            pg_sys::TEXTOID,
            false,
        );
        let g = generate(
            &Signature::new(&d, &Builtin).unwrap(),
            &instrument(check(parse("Ok(None)").unwrap()).unwrap()).unwrap(),
            "t",
        );
        assert!(has(&g.user_rs, "a: Option<&'a str>"), "{}", g.user_rs);
        assert!(
            has(&g.user_rs, "b: Option<Array<'a, i64>>"),
            "{}",
            g.user_rs
        );
        assert!(
            has(&g.lib_rs, "::pgrx::__glue::arg(fcinfo, 1usize)"),
            "{}",
            g.lib_rs
        );
    }

    #[test]
    fn unnamed_and_unmapped_arguments_are_refused() {
        let mut d = def(&[("x", pg_sys::INT4OID)], pg_sys::INT4OID, true);
        d.args[0].name = None;
        assert!(matches!(
            Signature::new(&d, &Builtin),
            Err(PlRustError::UnnamedArgument { position: 1 })
        ));
        let d = def(&[("x", pg_sys::TSVECTOROID)], pg_sys::INT4OID, true);
        assert!(matches!(
            Signature::new(&d, &Builtin),
            Err(PlRustError::UnsupportedType { .. })
        ));
        let d = def(&[("type", pg_sys::INT4OID)], pg_sys::INT4OID, true);
        assert!(matches!(
            Signature::new(&d, &Builtin),
            Err(PlRustError::InvalidArgumentName { .. })
        ));
    }

    fn out(name: &str, type_oid: Oid) -> ProcArg {
        ProcArg {
            name: Some(name.into()),
            type_oid,
        }
    }

    fn generated(d: &ProcDef) -> GeneratedCrate {
        let body = instrument(check(parse("Ok(None)").unwrap()).unwrap()).unwrap();
        generate(&Signature::new(d, &Builtin).unwrap(), &body, "t")
    }

    /// The artifact key hashes the glue and the source instead of the generated crate,
    /// so the crate must be exactly the glue around the instrumented source.
    #[test]
    fn a_crate_is_its_glue_around_the_body() {
        let d = def(&[("x", pg_sys::INT4OID)], pg_sys::INT4OID, true);
        let signature = Signature::new(&d, &Builtin).unwrap();
        let body = instrument(check(parse("let y = x; Ok(y)").unwrap()).unwrap()).unwrap();
        let krate = generate(&signature, &body, "t");
        let glue = glue(&signature, "t");
        assert_eq!(krate.lib_rs, glue.lib_rs);
        assert_eq!(
            krate.user_rs,
            format!("{}{}\n}}\n", glue.user_prefix, body.code)
        );
        assert_eq!(krate.line1_offset, glue.user_prefix.chars().count());
        // The target is in the glue (a section naming it), so each target has its key.
        assert_ne!(glue.lib_rs, super::glue(&signature, "u").lib_rs);
    }

    #[test]
    fn setof_is_a_set_of_iterator_of_the_element() {
        let mut d = def(&[], pg_sys::TEXTARRAYOID, true);
        d.returns_set = true;
        let g = generated(&d);
        assert!(
            has(
                &g.user_rs,
                "Option<::pgrx::iter::SetOfIterator<'a, Vec<Option<String>>>>"
            ),
            "{}",
            g.user_rs
        );
        assert!(
            has(
                &g.lib_rs,
                "ret_set(fcinfo, user::plrust_fn(), ::pgrx::__glue::Out { element: 25u32, reparse: false, domain: false, composite: false, rows: false })"
            ),
            "{}",
            g.lib_rs
        );
    }

    #[test]
    fn table_columns_are_a_tuple_of_options_even_for_one_column() {
        let mut d = def(&[], pg_sys::INT4OID, true);
        d.returns_set = true;
        d.returns_table = true;
        d.outputs = vec![out("n", pg_sys::INT4OID)];
        let g = generated(&d);
        assert!(
            has(
                &g.user_rs,
                "::pgrx::iter::TableIterator<'a, (Option<i32>,)>"
            ),
            "{}",
            g.user_rs
        );
        assert!(
            has(
                &g.lib_rs,
                &format!("ret_table(fcinfo, user::plrust_fn(), &[{PLAIN}])")
            ),
            "{}",
            g.lib_rs
        );
    }

    #[test]
    fn out_parameters_are_a_row_and_inout_ones_also_arguments() {
        let mut d = def(&[("a", pg_sys::INT4OID)], pg_sys::RECORDOID, false);
        d.outputs = vec![out("a", pg_sys::INT4OID), out("b", pg_sys::TEXTOID)];
        let g = generated(&d);
        assert!(has(&g.user_rs, "(a: Option<i32>)"), "{}", g.user_rs);
        assert!(
            has(&g.user_rs, "Option<(Option<i32>, Option<String>,)>"),
            "{}",
            g.user_rs
        );
        assert!(
            has(
                &g.lib_rs,
                &format!("ret_row(fcinfo, user::plrust_fn(arg0), &[{PLAIN}, {PLAIN}], false)")
            ),
            "{}",
            g.lib_rs
        );

        // One OUT parameter of a function: PostgreSQL's return type is its type.
        let mut d = def(&[], pg_sys::INT8OID, false);
        d.outputs = vec![out("n", pg_sys::INT8OID)];
        assert!(has(&generated(&d).lib_rs, "::pgrx::__glue::ret(fcinfo"));

        // A procedure's one INOUT parameter: a record of one column.
        let mut d = def(&[("n", pg_sys::INT8OID)], pg_sys::RECORDOID, false);
        d.kind = ProKind::Procedure;
        d.outputs = vec![out("n", pg_sys::INT8OID)];
        let g = generated(&d);
        assert!(has(&g.user_rs, "Option<(Option<i64>,)>"), "{}", g.user_rs);
        assert!(
            has(&g.lib_rs, &format!("&[{PLAIN}], true)")),
            "{}",
            g.lib_rs
        );
    }

    #[test]
    fn triggers_see_the_event_and_return_a_row() {
        let g = generated(&def(&[], pg_sys::TRIGGEROID, false));
        assert!(
            has(
                &g.user_rs,
                "pub fn plrust_fn<'a>(trigger: &'a ::pgrx::PgTrigger<'a>)"
            ),
            "{}",
            g.user_rs
        );
        assert!(
            has(
                &g.user_rs,
                "Option<::pgrx::PgHeapTuple<'a, ::pgrx::AllocatedByRust>>"
            ),
            "{}",
            g.user_rs
        );
        assert!(
            has(&g.lib_rs, "let trigger = ::pgrx::__glue::trigger(fcinfo); ::pgrx::__glue::ret_trigger(user::plrust_fn(&trigger))"),
            "{}",
            g.lib_rs
        );
        assert!(matches!(
            Signature::new(&def(&[], pg_sys::EVENT_TRIGGEROID, false), &Builtin),
            Err(PlRustError::Unsupported { .. })
        ));
    }

    #[test]
    fn record_without_out_parameters_and_wide_rows_are_refused() {
        let d = def(&[], pg_sys::RECORDOID, true);
        assert!(matches!(
            Signature::new(&d, &Builtin),
            Err(PlRustError::Unsupported { .. })
        ));
        let mut d = def(&[], pg_sys::RECORDOID, true);
        d.outputs = (0..=MAX_COLUMNS)
            .map(|i| out(&format!("c{i}"), pg_sys::INT4OID))
            .collect();
        assert!(matches!(
            Signature::new(&d, &Builtin),
            Err(PlRustError::Unsupported { .. })
        ));
        let mut d = def(&[], pg_sys::RECORDOID, true);
        d.outputs = vec![out("x", pg_sys::TSVECTOROID), out("y", pg_sys::INT4OID)];
        match Signature::new(&d, &Builtin) {
            Err(PlRustError::UnsupportedType { position, .. }) => {
                assert_eq!(position, "result column \"x\"")
            }
            other => panic!("{other:?}"),
        }
    }
}
