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

use pgrx::pg_sys::Oid;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::dependencies::Extern;
use crate::error::PlRustError;
use crate::instrument::{InstrumentedBody, Shift, PROBE_ENTRY};
use crate::pg_proc::ProcDef;
use crate::types::{self, Position};

/// The Rust view of a function's SQL signature.
#[derive(Debug)]
pub struct Signature {
    args: Vec<(syn::Ident, TokenStream)>,
    ret: TokenStream,
    /// For an array return type, its element type's oid.
    ret_element: Option<u32>,
    strict: bool,
}

impl Signature {
    /// Map `def`'s SQL signature to Rust; `type_name` names a type oid in messages.
    pub fn new(def: &ProcDef, type_name: impl Fn(Oid) -> String) -> Result<Signature, PlRustError> {
        if def.returns_set {
            return Err(PlRustError::Unsupported {
                what: "RETURNS SETOF / TABLE".into(),
            });
        }
        if def.has_non_in_args {
            return Err(PlRustError::Unsupported {
                what: "OUT, INOUT, VARIADIC or TABLE parameters".into(),
            });
        }
        if !matches!(def.kind, pgrx::pg_catalog::pg_proc::ProKind::Function) {
            return Err(PlRustError::Unsupported {
                what: "procedures, aggregates and window functions".into(),
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
            let ty = types::rust_type(arg.type_oid, Position::Argument).ok_or_else(|| {
                PlRustError::UnsupportedType {
                    type_name: type_name(arg.type_oid),
                    position: format!("argument {}", i + 1),
                }
            })?;
            let ty = if def.strict { ty } else { quote!(Option<#ty>) };
            args.push((ident, ty));
        }
        let ret = types::rust_type(def.return_type, Position::Return).ok_or_else(|| {
            PlRustError::UnsupportedType {
                type_name: type_name(def.return_type),
                position: "return type".into(),
            }
        })?;
        let ret_element = types::array_element(def.return_type).map(u32::from);
        Ok(Signature {
            args,
            ret,
            ret_element,
            strict: def.strict,
        })
    }
}

/// The source of a function's crate, ready to compile.
#[derive(Debug)]
pub struct GeneratedCrate {
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

pub fn generate(
    signature: &Signature,
    body: &InstrumentedBody,
    target_triple: &str,
) -> GeneratedCrate {
    let params = signature.args.iter().map(|(name, ty)| quote!(#name: #ty));
    let ret = &signature.ret;
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
    let prefix = format!("{prefix}{PROBE_ENTRY}");
    let user_rs = format!("{prefix}{}\n}}\n", body.code);

    let getter = if signature.strict {
        quote!(strict_arg)
    } else {
        quote!(arg)
    };
    let bindings = signature.args.iter().enumerate().map(|(i, _)| {
        let local = format_ident!("arg{}", i);
        quote!(let #local = ::pgrx::__glue::#getter(fcinfo, #i);)
    });
    let locals = (0..signature.args.len()).map(|i| format_ident!("arg{}", i));
    let call = quote!(user::plrust_fn(#(#locals),*));
    let ret = match signature.ret_element {
        Some(element) => quote!(::pgrx::__glue::ret_array(fcinfo, #call, #element)),
        None => quote!(::pgrx::__glue::ret(fcinfo, #call)),
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

        // Rust's heap is PostgreSQL memory: the backend's "PL/Rust" context, under
        // plrust.max_memory.
        #[cfg(target_family = "postgres")]
        #[global_allocator]
        static PLRUST_ALLOCATOR: ::pgrx::__glue::PallocAllocator = ::pgrx::__glue::PallocAllocator;

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
                ::pgrx::__glue::guard(|| {
                    #(#bindings)*
                    #ret
                })
            }
        }
    }
    .to_string();

    GeneratedCrate {
        lib_rs,
        line1_offset: prefix.chars().count(),
        user_rs,
        user_code: body.original.clone(),
        shifts: body.shifts.clone(),
        dependencies: body.dependencies.clone(),
        externs: Vec::new(),
        dependency_dirs: Vec::new(),
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
            return_type: ret,
            returns_set: false,
            strict,
            kind: ProKind::Function,
            has_non_in_args: false,
            source: String::new(),
        }
    }

    /// `haystack` contains `needle`, ignoring whitespace (token printing spaces vary).
    fn has(haystack: &str, needle: &str) -> bool {
        let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        squash(haystack).contains(&squash(needle))
    }

    fn name(_: Oid) -> String {
        "sometype".into()
    }

    #[test]
    fn user_code_keeps_its_lines() {
        let d = def(&[("x", pg_sys::INT4OID)], pg_sys::INT4OID, true);
        let sig = Signature::new(&d, name).unwrap();
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
            &Signature::new(&d, name).unwrap(),
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
            Signature::new(&d, name),
            Err(PlRustError::UnnamedArgument { position: 1 })
        ));
        let d = def(&[("x", pg_sys::INETOID)], pg_sys::INT4OID, true);
        assert!(matches!(
            Signature::new(&d, name),
            Err(PlRustError::UnsupportedType { .. })
        ));
        let d = def(&[("type", pg_sys::INT4OID)], pg_sys::INT4OID, true);
        assert!(matches!(
            Signature::new(&d, name),
            Err(PlRustError::InvalidArgumentName { .. })
        ));
    }

    #[test]
    fn set_returning_functions_are_refused_for_now() {
        let mut d = def(&[], pg_sys::INT4OID, true);
        d.returns_set = true;
        assert!(matches!(
            Signature::new(&d, name),
            Err(PlRustError::Unsupported { .. })
        ));
    }
}
