//! Every error PL/Rust itself raises, each with the SQLSTATE it reports.
//!
//! Errors raised by a function body at run time do not pass through here: they are
//! raised inside the function's own library (see `plrust-trusted-pgrx`).

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

/// A place in the user's function body, 1-based, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLocation {
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for BodyLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {} of the function body",
            self.line, self.column
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlRustError {
    #[error("syntax error at {location}: {message}")]
    BodySyntax {
        location: BodyLocation,
        message: String,
        /// The offending line with a caret under the location.
        excerpt: String,
    },

    #[error("PL/Rust does not support {what} yet")]
    Unsupported { what: String },

    #[error("PL/Rust does not support the type {type_name} (used as {position})")]
    UnsupportedType { type_name: String, position: String },

    #[error("argument {position} has no name: PL/Rust arguments must be named")]
    UnnamedArgument { position: usize },

    #[error("argument name \"{name}\" is not a valid Rust identifier")]
    InvalidArgumentName { name: String },

    #[error("dependencies are not allowed: the [dependencies] section lists crates, but plrust.allowed_dependencies is not set")]
    DependenciesNotAllowed,

    #[error("dependency refused: {message}")]
    DependencyRefused { message: String },

    #[error("plrust.allowed_dependencies: {message}")]
    AllowList { message: String },

    #[error("the dependencies allowed by {file} have not been built")]
    DependenciesNotBuilt { file: String },

    #[error("{check}: {message} at {location}")]
    TrustCheck {
        check: &'static str,
        message: String,
        location: BodyLocation,
        excerpt: String,
    },

    #[error("rustc: {summary}")]
    Rustc {
        summary: String,
        /// All of rustc's errors, rendered against the user's body.
        rendered: String,
    },

    #[error("compiling the function exceeded rustc's {limit} limit")]
    CompileLimit { limit: &'static str },

    #[error("a function in this body needs a stack frame of {bytes} bytes; PL/Rust allows at most {max} (put large data in a Vec or a Box)")]
    FrameTooLarge { bytes: u64, max: u64 },

    #[error("the PL/Rust toolchain is not installed: {missing} does not exist")]
    ToolchainMissing { missing: String },

    #[error("the PL/Rust toolchain at this server ({installed}) is not the one this extension was built for ({expected})")]
    ToolchainMismatch {
        installed: String,
        expected: &'static str,
    },

    #[error("could not run rustc: {0}")]
    SpawnRustc(std::io::Error),

    #[error("PL/Rust work directory: {0}")]
    WorkDir(std::io::Error),

    #[error("could not load the function's shared object: {0}")]
    Load(String),

    #[error("function with OID {0} does not exist")]
    NoSuchFunction(pgrx::pg_sys::Oid),

    #[error("{function} is not a PL/Rust function")]
    NotPlRust { function: String },

    #[error("{function} has no compiled artifact for {target}, and this server cannot build one")]
    NotBuilt {
        function: String,
        target: &'static str,
        cause: Box<PlRustError>,
    },

    #[error("{what} must run at READ COMMITTED isolation")]
    NeedsReadCommitted { what: &'static str },

    #[error("plrust.compilation_targets names an unknown architecture \"{name}\"")]
    UnknownTarget { name: String },
}

impl PlRustError {
    pub fn sqlstate(&self) -> PgSqlErrorCode {
        use PgSqlErrorCode::*;
        match self {
            Self::BodySyntax { .. } => ERRCODE_SYNTAX_ERROR,
            Self::Unsupported { .. }
            | Self::UnsupportedType { .. }
            | Self::DependenciesNotAllowed => ERRCODE_FEATURE_NOT_SUPPORTED,
            Self::DependencyRefused { .. } => ERRCODE_INSUFFICIENT_PRIVILEGE,
            Self::AllowList { .. } => ERRCODE_CONFIG_FILE_ERROR,
            Self::DependenciesNotBuilt { .. } => ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            Self::UnnamedArgument { .. }
            | Self::InvalidArgumentName { .. }
            | Self::Rustc { .. } => ERRCODE_INVALID_FUNCTION_DEFINITION,
            Self::TrustCheck { .. } => ERRCODE_INSUFFICIENT_PRIVILEGE,
            Self::ToolchainMissing { .. } => ERRCODE_UNDEFINED_FILE,
            Self::ToolchainMismatch { .. } => ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            Self::SpawnRustc(_) | Self::Load(_) => ERRCODE_SYSTEM_ERROR,
            Self::CompileLimit { .. } | Self::FrameTooLarge { .. } => {
                ERRCODE_PROGRAM_LIMIT_EXCEEDED
            }
            Self::WorkDir(_) => ERRCODE_IO_ERROR,
            Self::NoSuchFunction(_) => ERRCODE_UNDEFINED_FUNCTION,
            Self::NotPlRust { .. } => ERRCODE_WRONG_OBJECT_TYPE,
            Self::NotBuilt { .. } => ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            Self::NeedsReadCommitted { .. } => ERRCODE_INVALID_TRANSACTION_STATE,
            Self::UnknownTarget { .. } => ERRCODE_INVALID_PARAMETER_VALUE,
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            Self::BodySyntax { excerpt, .. } | Self::TrustCheck { excerpt, .. } => {
                Some(excerpt.clone())
            }
            Self::Rustc { rendered, .. } => Some(rendered.clone()),
            Self::NotBuilt { cause, .. } => Some(cause.to_string()),
            _ => None,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::UnsupportedType { .. } => Some(format!(
                "The types PL/Rust supports, and their arrays: {}; enums; domains over any of these; composite types and record; anyelement, anyarray and the other polymorphic types.",
                crate::types::supported().collect::<Vec<_>>().join(", ")
            )),
            Self::ToolchainMissing { .. } | Self::ToolchainMismatch { .. } => {
                Some("Run the PL/Rust setup (scripts/setup.sh) on this machine.".into())
            }
            Self::DependenciesNotBuilt { file } => Some(format!(
                "An administrator builds them ahead of time: scripts/allow-dependencies.sh {file}"
            )),
            Self::DependenciesNotAllowed => Some(
                "A superuser can allow crates by naming an allow-list file in plrust.allowed_dependencies.".into(),
            ),
            Self::NotBuilt { function, .. } => Some(format!(
                "Build it where the toolchain is installed (on the primary, for a standby): SELECT plrust.compile('{function}'::regprocedure);"
            )),
            Self::NeedsReadCommitted { .. } => Some(
                "At REPEATABLE READ or SERIALIZABLE the transaction's snapshot can miss functions created since it began.".into(),
            ),
            Self::UnknownTarget { .. } => {
                Some("Architectures are x86_64 and aarch64, separated by commas.".into())
            }
            Self::UnnamedArgument { .. } => {
                Some("Give every argument a name; the body refers to arguments by name.".into())
            }
            _ => None,
        }
    }

    /// Raise this error as a PostgreSQL ERROR.
    pub fn report(self) -> ! {
        let mut report = ErrorReport::new(self.sqlstate(), self.to_string(), "plrust");
        if let Some(detail) = self.detail() {
            report = report.set_detail(detail);
        }
        if let Some(hint) = self.hint() {
            report = report.set_hint(hint);
        }
        report.report(PgLogLevel::ERROR);
        unreachable!("an ERROR does not return")
    }
}

/// The line of `source` that `location` points into, with a caret under the column:
/// what PL/Rust shows as the DETAIL of an error located in the body.
pub fn excerpt(source: &str, location: BodyLocation) -> String {
    let line = source
        .lines()
        .nth(location.line.saturating_sub(1))
        .unwrap_or("");
    let gutter = location.line.to_string();
    let pad = " ".repeat(gutter.len());
    let caret_at: String = line
        .chars()
        .take(location.column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!("{gutter} | {line}\n{pad} | {caret_at}^")
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn excerpt_points_at_the_column() {
        let src = "let a = 1;\n  let b = ;\n";
        let got = excerpt(
            src,
            BodyLocation {
                line: 2,
                column: 11,
            },
        );
        assert_eq!(got, "2 |   let b = ;\n  |           ^");
    }

    #[test]
    fn excerpt_keeps_tabs_aligned() {
        let got = excerpt("\tx y", BodyLocation { line: 1, column: 4 });
        assert_eq!(got, "1 | \tx y\n  | \t  ^");
    }
}
