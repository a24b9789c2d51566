//! rustc's JSON diagnostics -> an ERROR about the user's body.
//!
//! rustc reports against the generated `user.rs`, whose lines are the body's lines (only
//! line 1 carries a prefix of ours, see `codegen`). Each error is rendered the way rustc
//! would, but with the location given as a line and column of the function body and the
//! excerpt taken from the body itself. Pure: no PostgreSQL.

use serde_json::Value;

use crate::codegen::GeneratedCrate;
use crate::error::{excerpt, BodyLocation, PlRustError};

pub fn from_rustc(stderr: &str, krate: &GeneratedCrate) -> PlRustError {
    let mut rendered = Vec::new();
    let mut summary = None;
    let mut other = Vec::new();
    for line in stderr.lines() {
        let Ok(diag) = serde_json::from_str::<Value>(line) else {
            // Not JSON: rustc itself failed (e.g. could not load a crate); keep the text.
            if !line.trim().is_empty() {
                other.push(line.to_owned());
            }
            continue;
        };
        if diag["$message_type"] != "diagnostic" || diag["level"] != "error" {
            continue;
        }
        let message = diag["message"].as_str().unwrap_or("").to_owned();
        if message.starts_with("aborting due to") {
            continue;
        }
        let code = diag["code"]["code"].as_str();
        let head = match code {
            Some(code) => format!("error[{code}]: {message}"),
            None => format!("error: {message}"),
        };
        let location = primary_location(&diag, krate);
        if summary.is_none() {
            summary = Some(match location {
                Some(loc) => format!("{head} at {loc}"),
                None => head.clone(),
            });
        }
        rendered.push(render(&diag, &head, location, krate));
    }
    let summary = summary.unwrap_or_else(|| {
        other
            .first()
            .cloned()
            .unwrap_or_else(|| "rustc failed without a diagnostic".into())
    });
    let mut text = rendered.join("\n\n");
    if !other.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&other.join("\n"));
    }
    PlRustError::Rustc {
        summary,
        rendered: text,
    }
}

/// The primary span's start, as a place in the body, if it lies in the user's code. An
/// error inside a macro from another crate (say `ereport!(FATAL, …)`, refused by the
/// trusted API's `compile_error!`) is located at the macro's use in the body: rustc's
/// `expansion` chain leads back to it.
fn primary_location(diag: &Value, krate: &GeneratedCrate) -> Option<BodyLocation> {
    let spans = diag["spans"].as_array()?;
    let mut span = spans
        .iter()
        .find(|s| s["is_primary"] == true)
        .or(spans.first())?;
    // Bounded: expansion chains are short, and the JSON is rustc's, not the user's.
    for _ in 0..32 {
        if span["file_name"].as_str()?.ends_with("user.rs") {
            return span_location(span, "line_start", "column_start", krate);
        }
        span = &span["expansion"]["span"];
    }
    None
}

fn span_location(
    span: &Value,
    line_key: &str,
    col_key: &str,
    krate: &GeneratedCrate,
) -> Option<BodyLocation> {
    if !span["file_name"].as_str()?.ends_with("user.rs") {
        return None;
    }
    let line = span[line_key].as_u64()? as usize;
    let mut column = span[col_key].as_u64()? as usize;
    if line == 1 {
        if column <= krate.line1_offset {
            // In our prefix (the signature): not a place in the body.
            return None;
        }
        column -= krate.line1_offset;
    }
    // The closing brace we add sits after the body's last line.
    if line > krate.user_code.split('\n').count() {
        return None;
    }
    let column = crate::instrument::original_column(&krate.shifts, line, column);
    Some(BodyLocation { line, column })
}

fn render(
    diag: &Value,
    head: &str,
    location: Option<BodyLocation>,
    krate: &GeneratedCrate,
) -> String {
    let mut out = head.to_owned();
    match location {
        Some(loc) => {
            out.push_str(&format!("\n --> {loc}\n"));
            out.push_str(&excerpt(&krate.user_code, loc));
            if let Some(label) = primary_label(diag) {
                out.push(' ');
                out.push_str(label);
            }
        }
        None => out.push_str("\n --> in the code PL/Rust generates around the body"),
    }
    for child in diag["children"].as_array().into_iter().flatten() {
        let level = child["level"].as_str().unwrap_or("note");
        let message = child["message"].as_str().unwrap_or("");
        if !message.is_empty() {
            // Continuation lines (lists of candidates, ...) are indented under the note.
            let message = message.replace('\n', "\n      ");
            out.push_str(&format!("\n  = {level}: {message}"));
        }
    }
    out
}

fn primary_label(diag: &Value) -> Option<&str> {
    diag["spans"]
        .as_array()?
        .iter()
        .find(|s| s["is_primary"] == true)?["label"]
        .as_str()
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    fn krate(code: &str) -> GeneratedCrate {
        GeneratedCrate {
            target: "x86_64-postgres-linux-gnu",
            dependencies: None,
            shifts: Vec::new(),
            externs: Vec::new(),
            dependency_dirs: Vec::new(),
            lib_rs: String::new(),
            user_rs: format!("PREFIX {{{code}\n}}\n"),
            line1_offset: 8,
            user_code: code.to_owned(),
        }
    }

    const MISMATCH: &str = r#"{"$message_type":"diagnostic","message":"mismatched types","code":{"code":"E0308","explanation":"..."},"level":"error","spans":[{"file_name":"user.rs","byte_start":1,"byte_end":2,"line_start":2,"line_end":2,"column_start":11,"column_end":14,"is_primary":true,"text":[],"label":"expected `i32`, found `&str`","suggested_replacement":null,"suggestion_applicability":null,"expansion":null}],"children":[{"message":"arguments to this enum variant are incorrect","code":null,"level":"note","spans":[],"children":[],"rendered":null}],"rendered":"error[E0308]: mismatched types\n"}
{"$message_type":"diagnostic","message":"aborting due to 1 previous error","code":null,"level":"error","spans":[],"children":[],"rendered":"error: aborting due to 1 previous error\n\n"}"#;

    #[test]
    fn error_is_located_in_the_body() {
        let k = krate("\n  Ok(Some(\"no\"))");
        match from_rustc(MISMATCH, &k) {
            PlRustError::Rustc { summary, rendered } => {
                assert_eq!(
                    summary,
                    "error[E0308]: mismatched types at line 2, column 11 of the function body"
                );
                assert_eq!(
                    rendered,
                    "error[E0308]: mismatched types\n --> line 2, column 11 of the function body\n\
                     2 |   Ok(Some(\"no\"))\n  |           ^ expected `i32`, found `&str`\n  \
                     = note: arguments to this enum variant are incorrect"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn line_one_columns_drop_the_prefix() {
        let k = krate(" Ok(Some(y))");
        let diag = MISMATCH
            .lines()
            .next()
            .unwrap()
            .replace("\"line_start\":2", "\"line_start\":1")
            .replace("\"column_start\":11", "\"column_start\":18");
        let PlRustError::Rustc { summary, .. } = from_rustc(&diag, &k) else {
            panic!()
        };
        assert!(
            summary.ends_with("at line 1, column 10 of the function body"),
            "{summary}"
        );
    }

    #[test]
    fn errors_inside_another_crates_macro_are_located_at_its_use() {
        let k = krate("\n  ereport!(FATAL, c, \"bye\");\n  Ok(None)");
        let diag = r#"{"$message_type":"diagnostic","message":"no FATAL","code":null,"level":"error","spans":[{"file_name":"/opt/plrust/src/lib.rs","line_start":90,"line_end":90,"column_start":9,"column_end":20,"is_primary":true,"label":null,"expansion":{"span":{"file_name":"user.rs","line_start":2,"line_end":2,"column_start":3,"column_end":30,"is_primary":false,"label":null,"expansion":null},"macro_decl_name":"ereport!","def_site_span":{}}}],"children":[]}"#;
        let PlRustError::Rustc { summary, .. } = from_rustc(diag, &k) else {
            panic!()
        };
        assert_eq!(
            summary,
            "error: no FATAL at line 2, column 3 of the function body"
        );
    }

    #[test]
    fn non_json_output_is_kept() {
        let PlRustError::Rustc { summary, .. } =
            from_rustc("error: linker `cc` not found", &krate(""))
        else {
            panic!()
        };
        assert_eq!(summary, "error: linker `cc` not found");
    }
}
