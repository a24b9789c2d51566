//! Stage 2: parsed body -> checked body. The trust checks run on the syntax tree before
//! anything is compiled. Pure functions over syntax: no PostgreSQL, no IO.
//!
//! Each check has a name (used in its ERROR), one home (this file) and a unit test.
//! This is the start of the list; the sandbox issue completes it (and makes the checks
//! see inside macro arguments). The generated crate additionally compiles the body
//! under `#![forbid(unsafe_code)]`, so `unsafe` is refused twice.

use syn::visit::Visit;

use crate::body::ParsedBody;
use crate::error::{excerpt, BodyLocation, PlRustError};

/// The code of a body every trust check accepted. Only `check` makes one.
#[derive(Debug)]
pub struct CheckedBody {
    code: String,
}

impl CheckedBody {
    pub fn code(&self) -> &str {
        &self.code
    }
}

pub fn check(body: ParsedBody) -> Result<CheckedBody, PlRustError> {
    if body.has_dependencies() {
        return Err(PlRustError::DependenciesNotAllowed);
    }
    let mut finder = Finder { found: None };
    for stmt in &body.stmts {
        finder.visit_stmt(stmt);
    }
    if let Some((check, message, span)) = finder.found {
        let start = span.start();
        let location = BodyLocation {
            line: start.line.max(1),
            column: start.column + 1,
        };
        return Err(PlRustError::TrustCheck {
            check,
            message,
            location,
            excerpt: excerpt(&body.code, location),
        });
    }
    Ok(CheckedBody {
        code: body.code.clone(),
    })
}

struct Finder {
    found: Option<(&'static str, String, proc_macro2::Span)>,
}

impl Finder {
    fn flag(&mut self, check: &'static str, message: &str, span: proc_macro2::Span) {
        if self.found.is_none() {
            self.found = Some((check, message.to_owned(), span));
        }
    }
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_expr_unsafe(&mut self, e: &'ast syn::ExprUnsafe) {
        self.flag(
            "unsafe_code",
            "`unsafe` blocks are not allowed",
            e.unsafe_token.span,
        );
    }

    fn visit_signature(&mut self, sig: &'ast syn::Signature) {
        if let Some(token) = sig.unsafety {
            self.flag("unsafe_code", "`unsafe fn` is not allowed", token.span);
        }
        syn::visit::visit_signature(self, sig);
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if let Some(token) = item.unsafety {
            self.flag("unsafe_code", "`unsafe impl` is not allowed", token.span);
        }
        syn::visit::visit_item_impl(self, item);
    }

    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        if let Some(token) = item.unsafety {
            self.flag("unsafe_code", "`unsafe trait` is not allowed", token.span);
        }
        syn::visit::visit_item_trait(self, item);
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use crate::body::parse;

    fn refused(src: &str) -> (&'static str, BodyLocation) {
        match check(parse(src).unwrap()) {
            Err(PlRustError::TrustCheck {
                check, location, ..
            }) => (check, location),
            other => panic!("expected a trust check to refuse, got {other:?}"),
        }
    }

    #[test]
    fn safe_body_passes() {
        assert!(check(parse("let v = vec![1, 2];\nOk(Some(v.len() as i32))").unwrap()).is_ok());
    }

    #[test]
    fn unsafe_block_is_refused_at_its_line() {
        let (name, loc) =
            refused("\nlet p = 0usize;\n  unsafe { core::hint::unreachable_unchecked() }");
        assert_eq!(name, "unsafe_code");
        assert_eq!(loc, BodyLocation { line: 3, column: 3 });
    }

    #[test]
    fn unsafe_fn_impl_and_trait_are_refused() {
        assert_eq!(refused("unsafe fn f() {}\nOk(None)").0, "unsafe_code");
        assert_eq!(
            refused("struct S; unsafe impl Send for S {}\nOk(None)").0,
            "unsafe_code"
        );
        assert_eq!(refused("unsafe trait T {}\nOk(None)").0, "unsafe_code");
    }

    #[test]
    fn listed_dependencies_are_refused_by_default() {
        let body = parse("[dependencies]\nrand = \"0.8\"\n[code]\nOk(None)").unwrap();
        assert!(matches!(
            check(body),
            Err(PlRustError::DependenciesNotAllowed)
        ));
    }
}
