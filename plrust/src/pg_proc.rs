//! Stage 0: a function's catalog row -> `ProcDef`, everything later stages need to
//! know about the function, read once (at CREATE, or at the first call in a backend).

use pgrx::pg_catalog::pg_proc::{PgProc, ProArgMode, ProKind};
use pgrx::pg_sys::{self, Oid};

use crate::error::PlRustError;

/// One argument as declared in `CREATE FUNCTION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcArg {
    pub name: Option<String>,
    pub type_oid: Oid,
}

/// What PL/Rust needs from `pg_proc` to build and run a function.
#[derive(Debug, Clone)]
pub struct ProcDef {
    pub args: Vec<ProcArg>,
    pub return_type: Oid,
    pub returns_set: bool,
    pub strict: bool,
    pub kind: ProKind,
    /// True if any argument is OUT, INOUT, VARIADIC or TABLE.
    pub has_non_in_args: bool,
    /// `pg_proc.prosrc`: exactly what the user wrote.
    pub source: String,
}

impl ProcDef {
    pub fn load(oid: Oid) -> Result<ProcDef, PlRustError> {
        let proc = PgProc::new(oid).ok_or(PlRustError::NoSuchFunction(oid))?;
        let names = proc.proargnames();
        let args = proc
            .proargtypes()
            .into_iter()
            .enumerate()
            .map(|(i, type_oid)| ProcArg {
                name: names.get(i).cloned().flatten(),
                type_oid,
            })
            .collect();
        let has_non_in_args = proc
            .proargmodes()
            .iter()
            .any(|m| !matches!(m, ProArgMode::In));
        Ok(ProcDef {
            args,
            return_type: proc.prorettype(),
            returns_set: proc.proretset(),
            strict: proc.proisstrict(),
            kind: proc.prokind(),
            has_non_in_args,
            source: proc.prosrc(),
        })
    }
}

/// The SQL name of a type, for messages.
pub fn type_name(oid: Oid) -> String {
    // SAFETY: format_type_be accepts any oid and returns a palloc'd C string.
    unsafe {
        let text = pg_sys::format_type_be(oid);
        let owned = std::ffi::CStr::from_ptr(text)
            .to_string_lossy()
            .into_owned();
        pg_sys::pfree(text.cast());
        owned
    }
}
