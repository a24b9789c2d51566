//! Stage 0: a function's catalog row -> `ProcDef`, everything later stages need to
//! know about the function, read once (at CREATE, or at the first call in a backend).

use pgrx::pg_catalog::pg_proc::{PgProc, ProArgMode, ProKind, ProVolatile};
use pgrx::pg_sys::{self, Oid};

use crate::codegen::Catalog;
use crate::error::PlRustError;
use crate::types::Kind;

/// One parameter as declared in `CREATE FUNCTION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcArg {
    pub name: Option<String>,
    pub type_oid: Oid,
}

/// What PL/Rust needs from `pg_proc` to build and run a function.
#[derive(Debug, Clone)]
pub struct ProcDef {
    /// The parameters a call passes (IN, INOUT and VARIADIC), in order: `proargtypes`.
    pub args: Vec<ProcArg>,
    /// The parameters that make up the result row (OUT, INOUT and TABLE), in order.
    /// PostgreSQL's `prorettype` is `record` when there are several (or, for a
    /// procedure, any), and the one output's type when a function has only one.
    pub outputs: Vec<ProcArg>,
    /// True for `RETURNS TABLE (...)`, whose outputs are TABLE parameters.
    pub returns_table: bool,
    pub return_type: Oid,
    pub returns_set: bool,
    pub strict: bool,
    /// STABLE or IMMUTABLE: its SQL runs read-only, as in PL/pgSQL.
    pub read_only: bool,
    pub kind: ProKind,
    /// `pg_proc.prosrc`: exactly what the user wrote.
    pub source: String,
}

impl ProcDef {
    pub fn load(oid: Oid) -> Result<ProcDef, PlRustError> {
        let proc = PgProc::new(oid).ok_or(PlRustError::NoSuchFunction(oid))?;
        let names = proc.proargnames();
        let modes = proc.proargmodes();
        let name = |i: usize| names.get(i).cloned().flatten();
        let (args, outputs, returns_table) = if modes.iter().all(|m| matches!(m, ProArgMode::In)) {
            // No OUT/INOUT/VARIADIC/TABLE parameter: PostgreSQL leaves proargmodes and
            // proallargtypes NULL (pgrx reports all IN), and proargtypes has them all.
            let args = proc
                .proargtypes()
                .into_iter()
                .enumerate()
                .map(|(i, type_oid)| ProcArg {
                    name: name(i),
                    type_oid,
                })
                .collect();
            (args, Vec::new(), false)
        } else {
            // Names and modes are indexed like proallargtypes: all parameters in order.
            let (mut args, mut outputs) = (Vec::new(), Vec::new());
            for (i, (type_oid, mode)) in proc.proallargtypes().into_iter().zip(&modes).enumerate() {
                let arg = ProcArg {
                    name: name(i),
                    type_oid,
                };
                match mode {
                    ProArgMode::In | ProArgMode::Variadic => args.push(arg),
                    ProArgMode::InOut => {
                        args.push(arg.clone());
                        outputs.push(arg);
                    }
                    // Out and Table; a mode a later PostgreSQL adds would be an output too.
                    _ => outputs.push(arg),
                }
            }
            let returns_table = modes.iter().any(|m| matches!(m, ProArgMode::Table));
            (args, outputs, returns_table)
        };
        Ok(ProcDef {
            args,
            outputs,
            returns_table,
            return_type: proc.prorettype(),
            returns_set: proc.proretset(),
            strict: proc.proisstrict(),
            read_only: !matches!(proc.provolatile(), ProVolatile::Volatile),
            kind: proc.prokind(),
            source: proc.prosrc(),
        })
    }
}

impl ProcDef {
    /// A `DO` block: built and run as a function without arguments returning `void`
    /// (its body ends with `Ok(None)` or `Ok(Some(()))`, as such a function's does).
    pub fn do_block(source: String) -> ProcDef {
        ProcDef {
            args: Vec::new(),
            outputs: Vec::new(),
            returns_table: false,
            return_type: pg_sys::VOIDOID,
            returns_set: false,
            strict: false,
            read_only: false,
            kind: ProKind::Function,
            source,
        }
    }
}

/// The SQL name of a type, for messages.
pub fn type_name(oid: Oid) -> String {
    // SAFETY: format_type_be accepts any oid and returns a palloc'd C string.
    unsafe { take_palloc_string(pg_sys::format_type_be(oid)) }
}

/// A function's name and argument types as `regprocedure` shows them, for messages.
pub fn function_name(oid: Oid) -> String {
    // SAFETY: format_procedure accepts any oid and returns a palloc'd C string.
    unsafe { take_palloc_string(pg_sys::format_procedure(oid)) }
}

/// Copy a palloc'd C string into a `String` and free it.
///
/// # Safety
/// `text` is a NUL-terminated string palloc'd in the current memory context.
unsafe fn take_palloc_string(text: *mut std::ffi::c_char) -> String {
    // SAFETY: as the caller promises; the copy is made before the pfree.
    unsafe {
        let owned = std::ffi::CStr::from_ptr(text)
            .to_string_lossy()
            .into_owned();
        pg_sys::pfree(text.cast());
        owned
    }
}

/// The system catalogs, as codegen asks them about types.
pub struct SysCatalog;

impl Catalog for SysCatalog {
    fn type_name(&self, oid: Oid) -> String {
        type_name(oid)
    }

    fn type_kind(&self, oid: Oid) -> Kind {
        // SAFETY: FFI; syscache lookups, which answer for unknown oids too (typtype 0,
        // element InvalidOid).
        unsafe {
            match pg_sys::get_typtype(oid) as u8 {
                pg_sys::TYPTYPE_ENUM => Kind::Enum,
                pg_sys::TYPTYPE_COMPOSITE => Kind::Composite,
                pg_sys::TYPTYPE_DOMAIN => Kind::Domain {
                    base: pg_sys::getBaseType(oid),
                },
                pg_sys::TYPTYPE_BASE => match pg_sys::get_element_type(oid) {
                    pg_sys::InvalidOid => Kind::Other,
                    element => Kind::Array { element },
                },
                _ => Kind::Other,
            }
        }
    }
}
