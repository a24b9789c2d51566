//! Stage 1: the function's source text (`pg_proc.prosrc`) -> a parsed body.
//!
//! A body is either just Rust code (the statements and final expression of a function
//! block) or, as in the original PL/Rust, a `[dependencies]` TOML section followed by
//! a `[code]` section. Pure: no PostgreSQL, no IO.
//!
//! Invariant: `ParsedBody::code` has exactly the lines of the original source, with the
//! section headers and the dependency table blanked out, so a line number in the code
//! (in a syntax error, a rustc diagnostic, a panic location) is the line the user wrote.

use crate::error::{excerpt, BodyLocation, PlRustError};

/// A body whose Rust code parsed as the contents of a block.
#[derive(Debug)]
pub struct ParsedBody {
    /// The text of the `[dependencies]` section, if there was one.
    pub dependencies: Option<String>,
    /// The Rust code, line-aligned with the user's source (see the module invariant).
    pub code: String,
    /// The code's tokens (known to parse as the contents of a block), which the trust
    /// checks scan.
    pub tokens: proc_macro2::TokenStream,
}

/// The syntax tree's spans point into proc-macro2's per-thread source map, which
/// otherwise grows with every body a long-lived backend parses: forget it once the tree
/// (and with it every span) is gone.
impl Drop for ParsedBody {
    fn drop(&mut self) {
        proc_macro2::extra::invalidate_current_thread_spans();
    }
}

impl ParsedBody {
    /// True when the `[dependencies]` section names at least one crate.
    pub fn has_dependencies(&self) -> bool {
        self.dependencies.as_deref().is_some_and(|deps| {
            deps.lines().any(|l| {
                let l = l.trim();
                !l.is_empty() && !l.starts_with('#')
            })
        })
    }
}

pub fn parse(source: &str) -> Result<ParsedBody, PlRustError> {
    let (dependencies, code) = split_sections(source);
    let tokens = parse_code(&code)?;
    Ok(ParsedBody {
        dependencies,
        code,
        tokens,
    })
}

/// Just lex `source`'s code (no parse): the code, line-aligned, and its tokens. The
/// caller owns the span state (see `ParsedBody`'s Drop).
pub fn lex(source: &str) -> Option<(String, proc_macro2::TokenStream)> {
    let (_, code) = split_sections(source);
    let tokens = code.parse().ok()?;
    Some((code, tokens))
}

/// Separate `[dependencies]` and `[code]`. Lines that are not code become empty lines in
/// the returned code so that line numbers are preserved.
fn split_sections(source: &str) -> (Option<String>, String) {
    #[derive(PartialEq)]
    enum Section {
        Preamble,
        Dependencies,
        Code,
    }
    let has_header = source.lines().any(|l| {
        let t = l.trim();
        t == "[dependencies]" || t == "[code]"
    });
    if !has_header {
        return (None, source.to_owned());
    }

    let mut section = Section::Preamble;
    let mut deps: Option<String> = None;
    let mut code = String::with_capacity(source.len());
    for (i, line) in source.split('\n').enumerate() {
        if i > 0 {
            code.push('\n');
        }
        let trimmed = line.trim();
        if section != Section::Code && trimmed == "[dependencies]" {
            section = Section::Dependencies;
            deps.get_or_insert_with(String::new);
            continue;
        }
        if section != Section::Code && trimmed == "[code]" {
            section = Section::Code;
            continue;
        }
        match section {
            Section::Code => code.push_str(line),
            Section::Dependencies => {
                let d = deps.get_or_insert_with(String::new);
                d.push_str(line);
                d.push('\n');
            }
            // Before any header: code, as the original accepts a body whose code comes
            // first and has no `[code]` header only when there are no sections at all.
            Section::Preamble => code.push_str(line),
        }
    }
    (deps, code)
}

/// Lex and parse `code` as the contents of a block; the tokens if it parses.
fn parse_code(code: &str) -> Result<proc_macro2::TokenStream, PlRustError> {
    code.parse::<proc_macro2::TokenStream>()
        .map_err(|e| {
            // proc-macro2's lexer says only "cannot parse string into token stream".
            let message = "unbalanced delimiter or malformed literal starting here".to_owned();
            syntax_error(code, e.span().start(), message)
        })
        .and_then(|tokens| {
            syn::parse::Parser::parse2(syn::Block::parse_within, tokens.clone())
                .map(|_| tokens)
                .map_err(|e| syntax_error(code, e.span().start(), e.to_string()))
        })
        .inspect_err(|_| proc_macro2::extra::invalidate_current_thread_spans())
}

fn syntax_error(code: &str, start: proc_macro2::LineColumn, message: String) -> PlRustError {
    // proc-macro2 lines are 1-based, columns 0-based (in chars).
    let location = BodyLocation {
        line: start.line.max(1),
        column: start.column + 1,
    };
    PlRustError::BodySyntax {
        location,
        message,
        excerpt: excerpt(code, location),
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    fn location_of(src: &str) -> (BodyLocation, String) {
        match parse(src) {
            Err(PlRustError::BodySyntax {
                location, message, ..
            }) => (location, message),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn plain_body_parses() {
        let body = parse(" Ok(Some(x + 1)) ").unwrap();
        assert_eq!(body.tokens.to_string(), "Ok (Some (x + 1))");
        assert!(body.dependencies.is_none());
    }

    #[test]
    fn items_and_statements_parse() {
        let src =
            "\n    fn helper(a: i32) -> i32 { a * 2 }\n    let y = helper(x);\n    Ok(Some(y))\n";
        assert!(parse(src).is_ok());
    }

    #[test]
    fn syntax_error_points_at_the_body_line_and_column() {
        let (loc, _) = location_of("\n    let a = 1;\n    let b = ;\n    Ok(Some(a))\n");
        assert_eq!(
            loc,
            BodyLocation {
                line: 3,
                column: 13
            }
        );
    }

    #[test]
    fn unbalanced_delimiter_is_a_located_error() {
        let (loc, _) = location_of("\n\n  Ok(Some(x)\n");
        assert_eq!(loc.line, 3);
    }

    #[test]
    fn sections_keep_line_numbers() {
        let src = "\n[dependencies]\n# none\n[code]\nlet a = 1;\nlet b = ;\n";
        let (loc, _) = location_of(src);
        assert_eq!(loc, BodyLocation { line: 6, column: 9 });
        let ok = parse("\n[dependencies]\n[code]\nOk(Some(1))\n").unwrap();
        assert_eq!(ok.code, "\n\n\nOk(Some(1))\n");
        assert!(!ok.has_dependencies());
    }

    #[test]
    fn dependency_section_is_kept() {
        let body = parse("[dependencies]\nrand = \"0.8\"\n[code]\nOk(None)").unwrap();
        assert!(body.has_dependencies());
        assert_eq!(body.dependencies.as_deref(), Some("rand = \"0.8\"\n"));
    }
}
