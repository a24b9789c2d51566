//! Stage 2b: checked body -> instrumented body. Pure: no PostgreSQL, no IO.
//!
//! A backend must stay cancellable (`statement_timeout`, `pg_cancel_backend`,
//! `pg_terminate_backend`) and must not overflow its stack, whatever the body does. So
//! every place where user code can repeat gets a probe, which costs a load and a branch
//! when nothing is pending:
//!
//! - every loop body (`loop`, `while`, `for`) starts with `probe()`;
//! - every closure body starts with `probe()` (iterator chains run user closures);
//! - every function body starts with `probe_entry()`, which also checks the stack depth
//!   against `max_stack_depth` (recursion, mutual recursion).
//!
//! Probes are inserted as text on the line where the block opens, so every line keeps its
//! number; the columns they shift are recorded (`Shift`) for locating diagnostics. Code
//! inside macro arguments is instrumented too when it parses as Rust; `macro_rules!`
//! transcribers are parsed with their metavariables stood in for; anything that cannot
//! be instrumented but could repeat is refused. Const contexts (const/static
//! initializers, array lengths, const generic arguments) are left alone: rustc bounds
//! them at compile time.

use proc_macro2::{Delimiter, Group, LineColumn, Span, TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::error::{excerpt, BodyLocation, PlRustError};
use crate::trust::CheckedBody;

/// Called at loop heads and closure entry: checks for a pending interrupt.
pub const PROBE: &str = "::pgrx::__glue::probe();";
/// Called at function entry: `PROBE` plus the stack depth check.
pub const PROBE_ENTRY: &str = "::pgrx::__glue::probe_entry();";

/// Text inserted at `column` (1-based, in the original line) of `line`, `width` chars wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    pub line: usize,
    pub column: usize,
    pub width: usize,
}

/// A checked body with its probes in place.
#[derive(Debug)]
pub struct InstrumentedBody {
    pub code: String,
    pub original: String,
    pub dependencies: Option<String>,
    pub shifts: Vec<Shift>,
}

/// Map a column of the instrumented `line` back to the original line.
pub fn original_column(shifts: &[Shift], line: usize, column: usize) -> usize {
    let mut col = column;
    for s in shifts.iter().filter(|s| s.line == line) {
        if col > s.column + s.width {
            col -= s.width;
        } else if col > s.column {
            // Inside inserted text: point at where it was inserted.
            col = s.column + 1;
        }
    }
    col
}

pub fn instrument(body: CheckedBody) -> Result<InstrumentedBody, PlRustError> {
    let code = body.code().to_owned();
    let dependencies = body.dependencies().map(String::from);
    let result = insertions(&code);
    proc_macro2::extra::invalidate_current_thread_spans();
    let mut points = result?;
    // Apply from the end so earlier byte offsets stay valid.
    points.sort_by_key(|(at, _)| (at.line, at.column));
    points.dedup();
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(code.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut out = code.clone();
    let mut shifts = Vec::with_capacity(points.len());
    for (at, text) in points.iter().rev() {
        let line_start = line_starts[at.line - 1];
        let offset = line_start
            + code[line_start..]
                .char_indices()
                .nth(at.column)
                .map_or(code.len() - line_start, |(i, _)| i);
        out.insert_str(offset, text);
        shifts.push(Shift {
            line: at.line,
            column: at.column,
            width: text.chars().count(),
        });
    }
    shifts.reverse();
    Ok(InstrumentedBody {
        code: out,
        original: code,
        dependencies,
        shifts,
    })
}

type Points = Vec<(LineColumn, &'static str)>;

fn insertions(code: &str) -> Result<Points, PlRustError> {
    let tokens: TokenStream = code.parse().expect("a checked body lexes");
    let stmts = syn::parse::Parser::parse2(syn::Block::parse_within, tokens)
        .expect("a checked body parses");
    let mut v = Instrumenter {
        code,
        points: Vec::new(),
        error: None,
        in_macro: false,
    };
    for stmt in &stmts {
        v.visit_stmt(stmt);
    }
    match v.error {
        Some(e) => Err(e),
        None => Ok(v.points),
    }
}

struct Instrumenter<'c> {
    code: &'c str,
    points: Points,
    error: Option<PlRustError>,
    /// Inside a macro's arguments: `static` initializers there may run at run time
    /// (`thread_local!`), so they are instrumented.
    in_macro: bool,
}

impl Instrumenter<'_> {
    fn after_open(&mut self, brace: &syn::token::Brace, text: &'static str) {
        self.points.push((brace.span.open().end(), text));
    }

    fn refuse(&mut self, span: Span, what: &str) {
        if self.error.is_none() {
            let start = span.start();
            let location = BodyLocation {
                line: start.line.max(1),
                column: start.column + 1,
            };
            let check = crate::trust::UNINSTRUMENTABLE_MACRO;
            self.error = Some(PlRustError::TrustCheck {
                check: check.name,
                message: format!("{} ({what})", check.forbids),
                location,
                excerpt: excerpt(self.code, location),
            });
        }
    }

    /// Instrument the code inside a macro invocation's arguments, if it parses as Rust.
    fn macro_arguments(&mut self, mac: &syn::Macro) {
        let tokens = mac.tokens.clone();
        let outer = self.in_macro;
        self.in_macro = true;
        if let Ok(exprs) = syn::parse::Parser::parse2(
            Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
            tokens.clone(),
        ) {
            for e in &exprs {
                self.visit_expr(e);
            }
        } else if let Ok(stmts) =
            syn::parse::Parser::parse2(syn::Block::parse_within, tokens.clone())
        {
            for s in &stmts {
                self.visit_stmt(s);
            }
        } else if may_repeat(&tokens) {
            self.refuse(mac.span(), "a macro call whose arguments are not Rust expressions contains a loop, closure or function");
        }
        self.in_macro = outer;
    }

    /// `macro_rules! name { (matcher) => { transcriber }; ... }`: instrument each
    /// transcriber, parsed with its metavariables replaced by placeholders.
    fn macro_rules(&mut self, mac: &syn::Macro) {
        let rules: Vec<TokenTree> = mac.tokens.clone().into_iter().collect();
        let mut i = 0;
        while i < rules.len() {
            // matcher group, `=`, `>`, transcriber group, optional `;`
            if let (
                Some(TokenTree::Group(_)),
                Some(TokenTree::Punct(eq)),
                Some(TokenTree::Punct(gt)),
                Some(TokenTree::Group(body)),
            ) = (
                rules.get(i),
                rules.get(i + 1),
                rules.get(i + 2),
                rules.get(i + 3),
            ) {
                if eq.as_char() == '=' && gt.as_char() == '>' {
                    self.transcriber(body);
                    i += 4;
                    continue;
                }
            }
            i += 1;
        }
    }

    fn transcriber(&mut self, body: &Group) {
        let stand_in = substitute_metavariables(body.stream());
        let outer = self.in_macro;
        self.in_macro = true;
        if let Ok(stmts) = syn::parse::Parser::parse2(syn::Block::parse_within, stand_in.clone()) {
            for s in &stmts {
                self.visit_stmt(s);
            }
        } else if let Ok(file) = syn::parse2::<syn::File>(stand_in.clone()) {
            self.visit_file(&file);
        } else if let Ok(expr) = syn::parse2::<syn::Expr>(stand_in.clone()) {
            self.visit_expr(&expr);
        } else if may_repeat(&stand_in) {
            self.refuse(body.span(), "a macro_rules! body that is not Rust statements, items or an expression contains a loop, closure or function");
        }
        self.in_macro = outer;
    }
}

/// `$name` -> an identifier; `$( ... ) sep rep` -> its contents once. Spans are kept, so
/// probe positions found in the result are positions in the user's source.
fn substitute_metavariables(stream: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        match (&tokens[i], tokens.get(i + 1)) {
            (TokenTree::Punct(p), Some(TokenTree::Ident(name))) if p.as_char() == '$' => {
                out.push(TokenTree::Ident(proc_macro2::Ident::new(
                    "__plrust_metavar",
                    name.span(),
                )));
                i += 2;
            }
            (TokenTree::Punct(p), Some(TokenTree::Group(g)))
                if p.as_char() == '$' && g.delimiter() == Delimiter::Parenthesis =>
            {
                out.extend(substitute_metavariables(g.stream()));
                i += 2;
                // separator and/or repetition operator
                while let Some(TokenTree::Punct(q)) = tokens.get(i) {
                    if matches!(q.as_char(), '*' | '+' | '?') {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
            }
            (TokenTree::Group(g), _) => {
                let mut group = Group::new(g.delimiter(), substitute_metavariables(g.stream()));
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
                i += 1;
            }
            (tt, _) => {
                out.push(tt.clone());
                i += 1;
            }
        }
    }
    out.into_iter().collect()
}

/// Could these tokens, somewhere, repeat user code: a loop, a closure or a function?
fn may_repeat(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => i == "loop" || i == "while" || i == "for" || i == "fn",
        TokenTree::Punct(p) => p.as_char() == '|',
        TokenTree::Group(g) => may_repeat(&g.stream()),
        TokenTree::Literal(_) => false,
    })
}

impl<'ast> Visit<'ast> for Instrumenter<'_> {
    fn visit_expr_loop(&mut self, e: &'ast syn::ExprLoop) {
        self.after_open(&e.body.brace_token, PROBE);
        syn::visit::visit_expr_loop(self, e);
    }

    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        self.after_open(&e.body.brace_token, PROBE);
        syn::visit::visit_expr_while(self, e);
    }

    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.after_open(&e.body.brace_token, PROBE);
        syn::visit::visit_expr_for_loop(self, e);
    }

    fn visit_expr_closure(&mut self, e: &'ast syn::ExprClosure) {
        match &*e.body {
            syn::Expr::Block(b) if b.label.is_none() => {
                self.after_open(&b.block.brace_token, PROBE)
            }
            body => {
                // `|x| expr` becomes `|x| {probe(); expr }`.
                let span = body.span();
                self.points
                    .push((span.start(), "{::pgrx::__glue::probe(); "));
                self.points.push((span.end(), " }"));
            }
        }
        syn::visit::visit_expr_closure(self, e);
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.after_open(&f.block.brace_token, PROBE_ENTRY);
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.after_open(&f.block.brace_token, PROBE_ENTRY);
        syn::visit::visit_impl_item_fn(self, f);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(block) = &f.default {
            self.after_open(&block.brace_token, PROBE_ENTRY);
        }
        syn::visit::visit_trait_item_fn(self, f);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if mac.path.is_ident("macro_rules") {
            self.macro_rules(mac);
        } else {
            self.macro_arguments(mac);
        }
    }

    // Const contexts: evaluated by rustc at compile time, where a probe cannot be called.
    fn visit_item_const(&mut self, _: &'ast syn::ItemConst) {}
    fn visit_impl_item_const(&mut self, _: &'ast syn::ImplItemConst) {}
    fn visit_trait_item_const(&mut self, _: &'ast syn::TraitItemConst) {}
    fn visit_expr_const(&mut self, _: &'ast syn::ExprConst) {}

    fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
        if self.in_macro {
            syn::visit::visit_item_static(self, s);
        }
    }

    fn visit_expr_repeat(&mut self, e: &'ast syn::ExprRepeat) {
        self.visit_expr(&e.expr);
    }

    fn visit_generic_argument(&mut self, a: &'ast syn::GenericArgument) {
        if !matches!(a, syn::GenericArgument::Const(_)) {
            syn::visit::visit_generic_argument(self, a);
        }
    }

    fn visit_variant(&mut self, v: &'ast syn::Variant) {
        self.visit_fields(&v.fields);
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use crate::body::parse;
    use crate::trust::check;

    fn inst(src: &str) -> String {
        instrument(check(parse(src).unwrap()).unwrap())
            .unwrap()
            .code
    }

    fn refused(src: &str) -> String {
        match instrument(check(parse(src).unwrap()).unwrap()) {
            Err(PlRustError::TrustCheck { check, message, .. }) => format!("{check}: {message}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    const P: &str = "::pgrx::__glue::probe();";
    const E: &str = "::pgrx::__glue::probe_entry();";

    #[test]
    fn loops_get_a_probe_at_their_head_and_keep_their_lines() {
        let src = "let mut n = 0;\nloop {\n  n += 1;\n}\nwhile n > 0 { n -= 1; }\nfor i in 0..3 { n += i; }\nOk(Some(n))";
        let out = inst(src);
        assert_eq!(out.lines().count(), src.lines().count());
        assert_eq!(out.lines().nth(1).unwrap(), format!("loop {{{P}"));
        assert_eq!(
            out.lines().nth(4).unwrap(),
            format!("while n > 0 {{{P} n -= 1; }}")
        );
        assert_eq!(
            out.lines().nth(5).unwrap(),
            format!("for i in 0..3 {{{P} n += i; }}")
        );
    }

    #[test]
    fn functions_get_an_entry_probe_and_closures_a_probe() {
        let out = inst("fn f(x: i32) -> i32 { if x > 0 { f(x - 1) } else { 0 } }\nlet g = |x: i32| x + 1;\nlet h = |x: i32| { x };\nOk(Some(f(g(h(1)))))");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            format!("fn f(x: i32) -> i32 {{{E} if x > 0 {{ f(x - 1) }} else {{ 0 }} }}")
        );
        assert_eq!(lines[1], format!("let g = |x: i32| {{{P} x + 1 }};"));
        assert_eq!(lines[2], format!("let h = |x: i32| {{{P} x }};"));
    }

    #[test]
    fn code_in_macro_arguments_and_macro_rules_is_instrumented() {
        let out = inst("let v = vec![(0..3).map(|x| x * 2).sum::<i32>()];\nmacro_rules! spin { ($e:expr) => { loop { $e; } } }\nOk(Some(v[0]))");
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].contains(&format!("|x| {{{P} x * 2 }}")),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains(&format!("loop {{{P} $e; }}")),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn const_contexts_are_left_alone() {
        let src = "const N: usize = { let mut i = 0; while i < 3 { i += 1; } i };\nlet a = [0u8; { let mut j = 0; while j < 2 { j += 1; } j }];\nOk(Some(a.len() as i32 + N as i32))";
        assert_eq!(inst(src), src);
    }

    #[test]
    fn uninstrumentable_macros_that_could_loop_are_refused() {
        let msg =
            refused("macro_rules! m { ($($t:tt)*) => { $($t)* } }\nm!(loop {} => );\nOk(None)");
        assert!(msg.starts_with("uninstrumentable_macro"), "{msg}");
        // Macros without repeating code are fine even when their arguments are not Rust.
        inst("macro_rules! m { ($a:ident => $b:ident) => { 1 } }\nOk(Some(m!(a => b)))");
    }

    #[test]
    fn columns_map_back_through_the_inserted_probes() {
        let body =
            instrument(check(parse("let x = 1;\nloop { let y: i32 = \"no\"; }").unwrap()).unwrap())
                .unwrap();
        assert_eq!(body.shifts.len(), 1);
        let s = body.shifts[0];
        assert_eq!((s.line, s.column, s.width), (2, 6, P.len()));
        // rustc's column of `"no"` in the instrumented line maps to its original column.
        let instrumented_col = body.code.lines().nth(1).unwrap().find("\"no\"").unwrap() + 1;
        assert_eq!(original_column(&body.shifts, 2, instrumented_col), 21);
        assert_eq!(original_column(&body.shifts, 1, 5), 5);
    }
}
