//! Stage 2: parsed body -> checked body. The trust checks run before anything is
//! compiled. Pure functions over tokens: no PostgreSQL, no IO.
//!
//! Every check looks at the body's *token stream*, not only its syntax tree: the
//! arguments of a macro call (`format!(..)`, `vec![..]`, a local macro's custom syntax)
//! and the bodies of `macro_rules!` are token streams the parser never expands, and
//! whatever they contain ends up compiled. Scanning every token at every nesting depth
//! means `format!("{}", env!("PATH"))` or a local macro cannot smuggle in what a check
//! forbids. The checks are therefore written as token patterns, and each is
//! deliberately conservative: it refuses a construct wherever it appears.
//!
//! `CHECKS` is the one list of checks (name, what it forbids, why); each has unit tests
//! below. The generated crate additionally compiles the body under
//! `#![forbid(unsafe_code, ...)]` (see `codegen`), so `unsafe` is refused twice.

use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};

use crate::body::ParsedBody;
use crate::error::{excerpt, BodyLocation, PlRustError};

/// A named trust check.
#[derive(Debug)]
pub struct TrustCheck {
    pub name: &'static str,
    /// What it refuses, as the ERROR says it.
    pub forbids: &'static str,
    /// Why: the escape or soundness hole it closes.
    pub why: &'static str,
}

macro_rules! checks {
    ($($id:ident = $name:literal, $forbids:literal, $why:literal;)*) => {
        $(pub(crate) const $id: &TrustCheck = &TrustCheck { name: $name, forbids: $forbids, why: $why };)*
        /// Every trust check, in the order they are documented.
        pub const CHECKS: &[&TrustCheck] = &[$($id),*];
    };
}

checks! {
    UNSAFE = "unsafe_code", "`unsafe` is not allowed",
        "unsafe code can do anything the server process can";
    EXTERN = "extern", "`extern` blocks, `extern crate` and `extern` functions are not allowed",
        "declaring foreign symbols reaches PostgreSQL's internals and libc directly";
    INNER_ATTRIBUTES = "inner_attributes", "inner attributes (`#![...]`) are not allowed",
        "they change how the crate or module around the body is compiled";
    LINKAGE_ATTRIBUTES = "linkage_attributes",
        "linkage attributes (`#[no_mangle]`, `#[export_name]`, `#[link_section]`, `#[link]`, `#[used]`, ...) are not allowed",
        "they place or export symbols, which can override other code's symbols";
    PATH_ATTRIBUTE = "out_of_line_module", "out-of-line modules (`mod x;`, `#[path]`) are not allowed",
        "they make rustc read other files";
    INCLUDE_MACROS = "include_macros", "`include!`, `include_str!` and `include_bytes!` are not allowed",
        "they read files of the server at compile time";
    ENV_MACROS = "env_macros", "`env!` and `option_env!` are not allowed",
        "they read the compiling process's environment";
    ASM = "asm", "inline assembly is not allowed",
        "assembly is outside every Rust guarantee";
    CONST_FN = "const_fn", "`const fn` is not allowed",
        "a const fn also runs at run time, where PL/Rust cannot make its loops cancellable";
    ASYNC = "async", "`async` and `.await` are not allowed",
        "there is no executor in a backend, and async desugaring has had soundness holes";
    LEAKY = "leaky", "`mem::forget` and `leak` are not allowed",
        "leaked memory outlives the memory context it belongs to and yields `'static` references to it";
    PANIC_HOOKS = "panic_hooks", "`set_hook`, `take_hook` and `update_hook` are not allowed",
        "PL/Rust's panic hook records every PostgreSQL ERROR so that a body cannot swallow it with `catch_unwind`; without it, a caught ERROR (a failed unique check, one raised holding a buffer lock) would let the transaction commit in a broken state";
    PRINT_MACROS = "print_macros", "`print!`, `println!`, `eprint!`, `eprintln!` and `dbg!` are not allowed",
        "the server's stdout and stderr are not the function's; use the logging API";
    STDIO = "stdio", "`stdin`, `stdout` and `stderr` are not allowed",
        "the server's standard streams are not the function's";
    FN_POINTERS = "fn_pointers", "function pointer types and `dyn Fn`/`FnMut`/`FnOnce` are not allowed",
        "implied bounds on them let safe code extend lifetimes (rust-lang/rust#25860)";
    LIFETIME_TRAITS = "lifetime_parameterized_traits", "traits with lifetime parameters are not allowed",
        "they reach soundness holes in trait object lifetimes (rust-lang/rust#85099)";
    STATIC_IMPLS = "static_impls", "impls involving `'static` references are not allowed",
        "impls on `&'static` types let safe code forge `'static` lifetimes (rust-lang/rust#104005)";
    AUTOTRAIT_IMPLS = "autotrait_impls", "impls of auto traits (`Send`, `Sync`, `Unpin`, `UnwindSafe`, `RefUnwindSafe`) are not allowed",
        "manual auto-trait impls break the invariants the compiler relies on (rust-lang/rust#84857)";
    CLOSURE_TRAIT_IMPLS = "closure_trait_impls", "impls bounded on `Fn`, `FnMut` or `FnOnce` are not allowed",
        "they reach a coherence hole (rust-lang/rust#84366)";
    SUSPICIOUS_TRAIT_OBJECTS = "suspicious_trait_objects", "`dyn` types in turbofish or generic defaults are not allowed",
        "they reach an unsoundness in trait object coercion (rust-lang/rust#57893)";
    MACRO_RENAMES = "macro_renames", "renaming a forbidden macro with `use ... as` is not allowed",
        "a renamed macro would be invisible to the checks above";
    UNINSTRUMENTABLE_MACRO = "uninstrumentable_macro",
        "loops, closures and functions inside macro code that is not Rust syntax are not allowed",
        "PL/Rust makes loops cancellable by instrumenting them (see instrument.rs), which needs to parse them";
}

/// The code of a body every trust check accepted. Only `check` makes one.
#[derive(Debug)]
pub struct CheckedBody {
    code: String,
    dependencies: Option<String>,
}

impl CheckedBody {
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The `[dependencies]` section, when it names at least one crate.
    pub fn dependencies(&self) -> Option<&str> {
        self.dependencies.as_deref()
    }
}

pub fn check(body: ParsedBody) -> Result<CheckedBody, PlRustError> {
    if let Some((check, span)) = first_violation(&body.tokens) {
        return Err(violation(check, span, &body.code));
    }
    let dependencies = body
        .has_dependencies()
        .then(|| body.dependencies.clone().unwrap_or_default());
    Ok(CheckedBody {
        code: body.code.clone(),
        dependencies,
    })
}

/// For a body that lexes but does not parse: its first trust violation, if any, so that
/// what a check forbids is refused as such (`#![allow(unsafe_code)]` at the top of a body
/// is not even valid syntax there) rather than as a syntax error.
pub fn violation_in_unparsable(source: &str) -> Option<PlRustError> {
    let (code, tokens) = crate::body::lex(source)?;
    let found = first_violation(&tokens).map(|(check, span)| violation(check, span, &code));
    proc_macro2::extra::invalidate_current_thread_spans();
    found
}

fn violation(check: &TrustCheck, span: Span, code: &str) -> PlRustError {
    let start = span.start();
    let location = BodyLocation {
        line: start.line.max(1),
        column: start.column + 1,
    };
    PlRustError::TrustCheck {
        check: check.name,
        message: check.forbids.to_owned(),
        location,
        excerpt: excerpt(code, location),
    }
}

/// The first forbidden construct in `tokens`, in source order, at any depth.
pub fn first_violation(tokens: &TokenStream) -> Option<(&'static TrustCheck, Span)> {
    let tokens: Vec<TokenTree> = tokens.clone().into_iter().collect();
    scan(&tokens, true)
}

const LINKAGE_ATTRS: &[&str] = &[
    "no_mangle",
    "export_name",
    "link_section",
    "link",
    "link_name",
    "link_ordinal",
    "used",
    "linkage",
    "naked",
    "global_allocator",
    "panic_handler",
    "ffi_const",
    "ffi_pure",
    "target_feature",
    "instruction_set",
    "thread_local",
    "no_builtins",
    "rustc_std_internal_symbol",
];
const INCLUDE: &[&str] = &["include", "include_str", "include_bytes"];
const ENV: &[&str] = &["env", "option_env"];
const ASM_MACROS: &[&str] = &["asm", "global_asm", "naked_asm", "llvm_asm"];
const PRINT: &[&str] = &["print", "println", "eprint", "eprintln", "dbg"];
const FN_TRAITS: &[&str] = &["Fn", "FnMut", "FnOnce"];
const AUTO_TRAITS: &[&str] = &["Send", "Sync", "Unpin", "UnwindSafe", "RefUnwindSafe"];

fn ident_is(tt: Option<&TokenTree>, name: &str) -> bool {
    matches!(tt, Some(TokenTree::Ident(i)) if i == name)
}

fn ident_in(tt: Option<&TokenTree>, names: &[&str]) -> bool {
    matches!(tt, Some(TokenTree::Ident(i)) if names.iter().any(|n| i == n))
}

fn punct_is(tt: Option<&TokenTree>, ch: char) -> bool {
    matches!(tt, Some(TokenTree::Punct(p)) if p.as_char() == ch)
}

fn group(tt: Option<&TokenTree>, delimiter: Delimiter) -> Option<&proc_macro2::Group> {
    match tt {
        Some(TokenTree::Group(g)) if g.delimiter() == delimiter => Some(g),
        _ => None,
    }
}

/// A lifetime `'name` starts at `i`: a joint `'` punct followed by an identifier.
fn lifetime_at(tokens: &[TokenTree], i: usize) -> Option<String> {
    match (tokens.get(i), tokens.get(i + 1)) {
        (Some(TokenTree::Punct(p)), Some(TokenTree::Ident(name)))
            if p.as_char() == '\'' && p.spacing() == Spacing::Joint =>
        {
            Some(name.to_string())
        }
        _ => None,
    }
}

/// True if any token in `tokens`, at any depth, satisfies `pred`.
fn any_deep(tokens: &[TokenTree], pred: &dyn Fn(&[TokenTree], usize) -> bool) -> bool {
    (0..tokens.len()).any(|i| {
        pred(tokens, i)
            || match &tokens[i] {
                TokenTree::Group(g) => {
                    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                    any_deep(&inner, pred)
                }
                _ => false,
            }
    })
}

/// Scan `tokens` and every group in them. `items_may_start` says whether an item can
/// begin at the start of `tokens` (top level and `{...}`), not in `(...)` or `[...]`.
fn scan(tokens: &[TokenTree], items_may_start: bool) -> Option<(&'static TrustCheck, Span)> {
    for i in 0..tokens.len() {
        if let Some(found) = check_at(tokens, i, items_may_start) {
            return Some(found);
        }
        if let TokenTree::Group(g) = &tokens[i] {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            let items = matches!(g.delimiter(), Delimiter::Brace | Delimiter::None);
            if let Some(found) = scan(&inner, items) {
                return Some(found);
            }
        }
    }
    None
}

/// The check the construct starting at `tokens[i]` violates, if any.
fn check_at(
    tokens: &[TokenTree],
    i: usize,
    items_may_start: bool,
) -> Option<(&'static TrustCheck, Span)> {
    let tt = &tokens[i];
    let span = tt.span();
    let next = tokens.get(i + 1);
    let next2 = tokens.get(i + 2);
    let prev = i.checked_sub(1).and_then(|p| tokens.get(p));
    let found = |check: &'static TrustCheck| Some((check, span));

    match tt {
        TokenTree::Ident(ident) => {
            let name = ident.to_string();
            let is_macro_call = punct_is(next, '!')
                && matches!(next2, Some(TokenTree::Group(_)))
                && !matches!(next, Some(TokenTree::Punct(p)) if p.spacing() == Spacing::Joint);
            match name.as_str() {
                "unsafe" => return found(UNSAFE),
                "extern" => return found(EXTERN),
                "async" | "await" => return found(ASYNC),
                "const" if ident_is(next, "fn") => return found(CONST_FN),
                "forget" | "leak" => return found(LEAKY),
                "set_hook" | "take_hook" | "update_hook" => return found(PANIC_HOOKS),
                "mod" if matches!(next, Some(TokenTree::Ident(_))) && punct_is(next2, ';') => {
                    return found(PATH_ATTRIBUTE)
                }
                "fn" if group(next, Delimiter::Parenthesis).is_some() => return found(FN_POINTERS),
                "dyn" if dyn_names_fn_trait(&tokens[i + 1..]) => return found(FN_POINTERS),
                "trait"
                    if matches!(next, Some(TokenTree::Ident(_)))
                        && punct_is(next2, '<')
                        && lifetime_at(tokens, i + 3).is_some() =>
                {
                    return found(LIFETIME_TRAITS)
                }
                // An impl block, not `impl Trait` in a type.
                "impl" if starts_item(prev, items_may_start) => {
                    if let Some(check) = impl_header_violation(&tokens[i + 1..]) {
                        return found(check);
                    }
                }
                "use" if use_renames_forbidden_macro(&tokens[i + 1..]) => {
                    return found(MACRO_RENAMES)
                }
                "stdin" | "stdout" | "stderr"
                    if punct_is(prev, ':') || group(next, Delimiter::Parenthesis).is_some() =>
                {
                    return found(STDIO)
                }
                _ => {}
            }
            if is_macro_call {
                if INCLUDE.contains(&name.as_str()) {
                    return found(INCLUDE_MACROS);
                }
                if ENV.contains(&name.as_str()) {
                    return found(ENV_MACROS);
                }
                if ASM_MACROS.contains(&name.as_str()) {
                    return found(ASM);
                }
                if PRINT.contains(&name.as_str()) {
                    return found(PRINT_MACROS);
                }
            }
            None
        }
        TokenTree::Punct(p) if p.as_char() == '#' => {
            // `#![...]`: an inner attribute. `#[...]`: check the attribute's path.
            if punct_is(next, '!') && group(next2, Delimiter::Bracket).is_some() {
                return found(INNER_ATTRIBUTES);
            }
            // Any forbidden name anywhere in the attribute: also behind `cfg_attr(.., no_mangle)`
            // or edition 2024's `unsafe(no_mangle)`.
            let attr = group(next, Delimiter::Bracket)?;
            let inner: Vec<TokenTree> = attr.stream().into_iter().collect();
            if any_deep(&inner, &|t, j| ident_in(t.get(j), LINKAGE_ATTRS)) {
                return found(LINKAGE_ATTRIBUTES);
            }
            if any_deep(&inner, &|t, j| ident_is(t.get(j), "path")) {
                return found(PATH_ATTRIBUTE);
            }
            None
        }
        TokenTree::Punct(p) if p.as_char() == ':' && p.spacing() == Spacing::Joint => {
            // `::<` opens a turbofish: no `dyn` inside it.
            if punct_is(next, ':') && punct_is(next2, '<') && turbofish_has_dyn(&tokens[i + 3..]) {
                return found(SUSPICIOUS_TRAIT_OBJECTS);
            }
            None
        }
        TokenTree::Punct(p) if p.as_char() == '=' && p.spacing() == Spacing::Alone => {
            // `= dyn ...` inside generics is a `dyn` generic default. (Also refuses
            // `type A = dyn T;`, which is never needed in a body.)
            let prev_joint =
                matches!(prev, Some(TokenTree::Punct(q)) if q.spacing() == Spacing::Joint);
            if !prev_joint && ident_is(next, "dyn") {
                return found(SUSPICIOUS_TRAIT_OBJECTS);
            }
            None
        }
        _ => None,
    }
}

/// Can an item (an `impl` block) start after `prev`? Yes at the start of a block, after
/// `;`, after a `{...}` block or an attribute's `[...]`, or after `unsafe`/`default`.
/// In a type (`impl Trait`), `impl` follows `:`, `->`, `<`, `,`, `&` or `=` instead.
fn starts_item(prev: Option<&TokenTree>, items_may_start: bool) -> bool {
    match prev {
        None => items_may_start,
        Some(TokenTree::Punct(p)) => p.as_char() == ';',
        Some(TokenTree::Group(g)) => g.delimiter() != Delimiter::Parenthesis,
        Some(TokenTree::Ident(i)) => i == "unsafe" || i == "default",
        Some(TokenTree::Literal(_)) => false,
    }
}

/// After `dyn`: does the trait path (possibly behind `for<'a>`, a path prefix or
/// parentheses) end in `Fn`, `FnMut` or `FnOnce`?
fn dyn_names_fn_trait(rest: &[TokenTree]) -> bool {
    let mut i = 0;
    if let Some(g) = group(rest.first(), Delimiter::Parenthesis) {
        let inner: Vec<TokenTree> = g.stream().into_iter().collect();
        return dyn_names_fn_trait(&inner);
    }
    if ident_is(rest.first(), "for") && punct_is(rest.get(1), '<') {
        i = 2;
        let mut depth = 1;
        while depth > 0 && i < rest.len() {
            if punct_is(rest.get(i), '<') {
                depth += 1;
            } else if punct_is(rest.get(i), '>') {
                depth -= 1;
            }
            i += 1;
        }
    }
    let mut last = None;
    while let Some(tt) = rest.get(i) {
        match tt {
            TokenTree::Ident(id) => last = Some(id.to_string()),
            TokenTree::Punct(p) if p.as_char() == ':' => {}
            _ => break,
        }
        i += 1;
    }
    last.is_some_and(|l| FN_TRAITS.contains(&l.as_str()))
}

/// The tokens of an impl header: from after `impl` to its `{ ... }` body (or `;`).
fn impl_header_violation(rest: &[TokenTree]) -> Option<&'static TrustCheck> {
    let end = rest
        .iter()
        .position(|tt| group(Some(tt), Delimiter::Brace).is_some() || punct_is(Some(tt), ';'))
        .unwrap_or(rest.len());
    let header = &rest[..end];
    if any_deep(header, &|t, i| {
        lifetime_at(t, i).is_some_and(|l| l == "static")
    }) {
        return Some(STATIC_IMPLS);
    }
    if any_deep(header, &|t, i| ident_in(t.get(i), FN_TRAITS)) {
        return Some(CLOSURE_TRAIT_IMPLS);
    }
    // `impl<..> path::AutoTrait for Type`: the trait is what precedes the first `for`
    // that does not open a `for<'a>` binder.
    let for_at = (0..header.len())
        .find(|&i| ident_is(header.get(i), "for") && !punct_is(header.get(i + 1), '<'));
    if let Some(for_at) = for_at {
        if header[..for_at]
            .iter()
            .any(|tt| ident_in(Some(tt), AUTO_TRAITS))
        {
            return Some(AUTOTRAIT_IMPLS);
        }
    }
    None
}

/// After `::<`: is there a `dyn` before the matching `>`?
fn turbofish_has_dyn(rest: &[TokenTree]) -> bool {
    let mut depth = 1;
    for (i, tt) in rest.iter().enumerate() {
        match tt {
            TokenTree::Punct(p) if p.as_char() == '<' => depth += 1,
            TokenTree::Punct(p) if p.as_char() == '>' => {
                let arrow = i > 0 && punct_is(rest.get(i - 1), '-');
                if !arrow {
                    depth -= 1;
                    if depth == 0 {
                        return false;
                    }
                }
            }
            TokenTree::Ident(id) if id == "dyn" => return true,
            TokenTree::Group(g) => {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                if any_deep(&inner, &|t, j| ident_is(t.get(j), "dyn")) {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// In a `use` item (up to `;`): is a forbidden macro imported under another name?
fn use_renames_forbidden_macro(rest: &[TokenTree]) -> bool {
    let end = rest
        .iter()
        .position(|tt| punct_is(Some(tt), ';'))
        .unwrap_or(rest.len());
    let forbidden: Vec<&str> = INCLUDE
        .iter()
        .chain(ENV)
        .chain(ASM_MACROS)
        .chain(PRINT)
        .copied()
        .collect();
    any_deep(&rest[..end], &|t, i| {
        ident_in(t.get(i), &forbidden) && ident_is(t.get(i + 1), "as")
    })
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use crate::body::parse;

    /// The check that refuses `src`, and where.
    fn refused(src: &str) -> (&'static str, BodyLocation) {
        match check(parse(src).unwrap()) {
            Err(PlRustError::TrustCheck {
                check, location, ..
            }) => (check, location),
            other => panic!("expected a trust check to refuse {src:?}, got {other:?}"),
        }
    }

    fn name(src: &str) -> &'static str {
        refused(src).0
    }

    fn accepted(src: &str) {
        if let Err(e) = check(parse(src).unwrap()) {
            panic!("expected {src:?} to pass the trust checks, got {e:?}");
        }
    }

    #[test]
    fn every_check_is_listed_once() {
        let mut names: Vec<&str> = CHECKS.iter().map(|c| c.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CHECKS.len());
    }

    #[test]
    fn ordinary_bodies_pass() {
        accepted("let v = vec![1, 2];\nOk(Some(v.len() as i32))");
        accepted("fn helper(s: &str) -> String { format!(\"{s}!\") }\nOk(Some(helper(\"x\")))");
        accepted("let env = 3; let stdout_lines = env + 1; Ok(Some(stdout_lines))");
        accepted("struct S<'a> { s: &'a str }\nimpl<'a> S<'a> { fn get(&self) -> &'a str { self.s } }\nOk(None)");
        accepted("let f = |x: i32| x + 1; Ok(Some(f(1)))");
        accepted("fn apply(f: impl Fn(i32) -> i32) -> i32 { f(1) }\nOk(Some(apply(|x| x)))");
        accepted("fn make() -> impl Fn(i32) -> i32 { |x| x }\nOk(Some(make()(1)))");
        accepted("fn pair() -> (impl Fn() -> i32, i32) { (|| 1, 2) }\nOk(Some(pair().1))");
        accepted("let s: &'static str = \"unsafe env!() extern\"; Ok(Some(s.len() as i32))");
        accepted("// unsafe { } in a comment\nOk(Some(1))");
        accepted("let v: Vec<i32> = \"1,2\".split(',').map(|s| s.parse::<i32>().unwrap()).collect(); Ok(Some(v[0]))");
        accepted("if 1 != 2 { return Ok(None) } Ok(Some(1))");
        accepted("macro_rules! double { ($e:expr) => { $e * 2 } }\nOk(Some(double!(21)))");
        accepted("#[derive(Debug, Clone)] struct P { x: i32 }\nOk(Some(format!(\"{:?}\", P { x: 1 }.clone())))");
    }

    #[test]
    fn unsafe_is_refused_at_its_location() {
        let (check, loc) =
            refused("\nlet p = 0usize;\n  unsafe { core::hint::unreachable_unchecked() }");
        assert_eq!(check, "unsafe_code");
        assert_eq!(loc, BodyLocation { line: 3, column: 3 });
        assert_eq!(name("unsafe fn f() {}\nOk(None)"), "unsafe_code");
        assert_eq!(
            name("struct S; unsafe impl Send for S {}\nOk(None)"),
            "unsafe_code"
        );
        assert_eq!(
            name("#[unsafe(no_mangle)] fn f() {}\nOk(None)"),
            "linkage_attributes"
        );
    }

    #[test]
    fn unsafe_inside_macro_arguments_and_macro_rules_is_refused() {
        assert_eq!(name("let v = vec![unsafe { 1 }]; Ok(None)"), "unsafe_code");
        assert_eq!(
            name("macro_rules! m { () => { unsafe { 0 } } }\nOk(Some(m!()))"),
            "unsafe_code"
        );
        assert_eq!(
            name("macro_rules! m { ($t:tt) => { $t { 0 } } }\nOk(Some(m!(unsafe)))"),
            "unsafe_code"
        );
    }

    #[test]
    fn extern_is_refused() {
        assert_eq!(
            name("extern \"C\" { fn getpid() -> i32; }\nOk(None)"),
            "extern"
        );
        assert_eq!(name("extern crate alloc;\nOk(None)"), "extern");
        assert_eq!(name("extern \"C\" fn cb() {}\nOk(None)"), "extern");
    }

    #[test]
    fn inner_and_linkage_attributes_are_refused() {
        assert_eq!(
            name("fn f() { #![allow(unused)] }\nOk(None)"),
            "inner_attributes"
        );
        assert_eq!(
            name("#[no_mangle] fn malloc() {}\nOk(None)"),
            "linkage_attributes"
        );
        assert_eq!(
            name("#[export_name = \"free\"] fn f() {}\nOk(None)"),
            "linkage_attributes"
        );
        assert_eq!(
            name("#[link_section = \".init_array\"] static S: u8 = 0;\nOk(None)"),
            "linkage_attributes"
        );
        assert_eq!(
            name("#[used] static S: u8 = 0;\nOk(None)"),
            "linkage_attributes"
        );
        assert_eq!(
            name("#[link(name = \"c\")] fn f() {}\nOk(None)"),
            "linkage_attributes"
        );
    }

    #[test]
    fn out_of_line_modules_are_refused() {
        assert_eq!(name("mod secrets;\nOk(None)"), "out_of_line_module");
        assert_eq!(
            name("#[path = \"/etc/passwd\"] mod p {}\nOk(None)"),
            "out_of_line_module"
        );
        accepted("mod inline { pub fn f() -> i32 { 1 } }\nOk(Some(inline::f()))");
    }

    #[test]
    fn file_and_environment_macros_are_refused_even_nested() {
        assert_eq!(
            name("Ok(Some(include_str!(\"/etc/passwd\").into()))"),
            "include_macros"
        );
        assert_eq!(
            name("let b = include_bytes!(\"/etc/shadow\"); Ok(None)"),
            "include_macros"
        );
        assert_eq!(
            name("Ok(Some(format!(\"{}\", env!(\"PATH\"))))"),
            "env_macros"
        );
        assert_eq!(
            name("Ok(option_env!(\"HOME\").map(String::from))"),
            "env_macros"
        );
        assert_eq!(name("Ok(Some(std::env!(\"PATH\").into()))"), "env_macros");
        assert_eq!(
            name("Ok(Some(concat!(\"a\", env!(\"PATH\")).into()))"),
            "env_macros"
        );
        assert_eq!(
            name("macro_rules! e { () => { env!(\"PATH\") } }\nOk(Some(e!().into()))"),
            "env_macros"
        );
    }

    #[test]
    fn renaming_a_forbidden_macro_is_refused() {
        assert_eq!(
            name("use std::env as e;\nOk(Some(e!(\"PATH\").into()))"),
            "macro_renames"
        );
        assert_eq!(
            name("use std::{include_str as inc};\nOk(None)"),
            "macro_renames"
        );
        accepted(
            "use std::collections::HashMap as Map;\nOk(Some(Map::<i32, i32>::new().len() as i32))",
        );
    }

    #[test]
    fn asm_async_leaks_and_printing_are_refused() {
        assert_eq!(name("std::arch::asm!(\"nop\"); Ok(None)"), "asm");
        assert_eq!(name("async fn f() {}\nOk(None)"), "async");
        assert_eq!(name("const fn spin() { loop {} }\nOk(None)"), "const_fn");
        accepted("const N: usize = 3;\nOk(Some(N as i32))");
        assert_eq!(name("let f = async { 1 }; Ok(None)"), "async");
        assert_eq!(
            name("let v = vec![1]; std::mem::forget(v); Ok(None)"),
            "leaky"
        );
        assert_eq!(
            name("let s: &'static mut str = String::from(\"x\").leak(); Ok(None)"),
            "leaky"
        );
        assert_eq!(name("let b = Box::leak(Box::new(1)); Ok(None)"), "leaky");
        assert_eq!(
            name("let _ = std::panic::take_hook(); Ok(None)"),
            "panic_hooks"
        );
        assert_eq!(
            name("use std::panic::set_hook as h; h(Box::new(|_| {})); Ok(None)"),
            "panic_hooks"
        );
        assert_eq!(name("println!(\"hi\"); Ok(None)"), "print_macros");
        assert_eq!(name("let x = dbg!(1); Ok(Some(x))"), "print_macros");
        assert_eq!(
            name("use std::io::Write; std::io::stdout().flush()?; Ok(None)"),
            "stdio"
        );
    }

    #[test]
    fn soundness_hole_shapes_are_refused() {
        // rust-lang/rust#25860: implied bounds through fn pointers.
        assert_eq!(
            name("fn extend<'a, 'b, T>(x: &'a T) -> &'b T { let f: fn(&'static &'a (), &'a T) -> &'b T = |_, v| v; f(&&(), x) }\nOk(None)"),
            "fn_pointers"
        );
        assert_eq!(
            name("let f: Box<dyn Fn() -> i32> = Box::new(|| 1); Ok(Some(f()))"),
            "fn_pointers"
        );
        assert_eq!(
            name("fn g(f: &dyn for<'a> FnMut(&'a str)) {}\nOk(None)"),
            "fn_pointers"
        );
        assert_eq!(
            name("fn g(f: &dyn std::ops::FnOnce()) {}\nOk(None)"),
            "fn_pointers"
        );
        assert_eq!(
            name("trait T<'a> { fn get(&self) -> &'a str; }\nOk(None)"),
            "lifetime_parameterized_traits"
        );
        accepted("trait T { fn get(&self) -> i32; }\nOk(None)");
        assert_eq!(name("struct S; impl Clone for &'static S { fn clone(&self) -> Self { self } }\nOk(None)"), "static_impls");
        assert_eq!(
            name("struct S; impl Unpin for S {}\nOk(None)"),
            "autotrait_impls"
        );
        assert_eq!(
            name("struct S; impl std::panic::UnwindSafe for S {}\nOk(None)"),
            "autotrait_impls"
        );
        assert_eq!(
            name("trait Tr {} impl<F: Fn()> Tr for F {}\nOk(None)"),
            "closure_trait_impls"
        );
        assert_eq!(
            name("let b = Box::new(1) as Box::<dyn std::any::Any>; Ok(None)"),
            "suspicious_trait_objects"
        );
        assert_eq!(
            name("struct S<T: ?Sized = dyn std::any::Any>(Box<T>);\nOk(None)"),
            "suspicious_trait_objects"
        );
    }

    #[test]
    fn unparsable_bodies_are_refused_by_the_check_first() {
        let src = "#![allow(unsafe_code)]\nOk(None)";
        assert!(matches!(parse(src), Err(PlRustError::BodySyntax { .. })));
        match violation_in_unparsable(src) {
            Some(PlRustError::TrustCheck {
                check, location, ..
            }) => {
                assert_eq!(check, "inner_attributes");
                assert_eq!(location, BodyLocation { line: 1, column: 1 });
            }
            other => panic!("{other:?}"),
        }
        assert!(violation_in_unparsable("let a = ;").is_none());
        assert!(violation_in_unparsable("Ok(Some(\"unterminated)").is_none());
    }

    #[test]
    fn the_dependency_section_is_carried_through() {
        let body =
            check(parse("[dependencies]\nrand = \"0.8\"\n[code]\nOk(None)").unwrap()).unwrap();
        assert_eq!(body.dependencies(), Some("rand = \"0.8\"\n"));
        let none = check(parse("[dependencies]\n# nothing\n[code]\nOk(None)").unwrap()).unwrap();
        assert_eq!(none.dependencies(), None);
    }
}
