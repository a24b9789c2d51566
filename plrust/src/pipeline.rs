//! The stages in order: what `CREATE FUNCTION` and a first call do. Each stage's output
//! type is the next one's input, so the order cannot be got wrong:
//! `ProcDef` -> `ParsedBody` -> `CheckedBody` (+ `Signature`) -> `GeneratedCrate` ->
//! `BuiltArtifact` -> row in `plrust.artifacts` -> `LoadedLibrary`.

use sha2::{Digest, Sha256};

use crate::artifact_store;
use crate::body;
use crate::codegen::{self, Signature};
use crate::compile;
use crate::error::PlRustError;
use crate::pg_proc::{self, ProcDef};
use crate::toolchain::{self, Toolchain};
use crate::trust;

/// What the validator does for `CREATE [OR REPLACE] FUNCTION`.
pub fn validate(fn_oid: pgrx::pg_sys::Oid) -> Result<(), PlRustError> {
    // SAFETY: reading a GUC variable of the backend.
    if !unsafe { pgrx::pg_sys::check_function_bodies } {
        // pg_dump/restore sets check_function_bodies = off: the function is then built
        // at its first call, unless its artifact is already stored.
        return Ok(());
    }
    let def = ProcDef::load(fn_oid)?;
    ensure_artifact(&def).map(|_| ())
}

/// The stored shared object of `def` for this machine's target, building and storing it
/// first if there is none. Returns the artifact key and the object if it was read or
/// built here (`None` when it already existed and `want_object` was false).
pub fn ensure_artifact(def: &ProcDef) -> Result<(String, Option<Vec<u8>>), PlRustError> {
    let key = artifact_key(def)?;
    let target = toolchain::HOST_TARGET;
    if artifact_store::exists(&key, target) {
        return Ok((key, None));
    }
    let toolchain = Toolchain::host()?;
    let parsed = body::parse(&def.source)?;
    let checked = trust::check(parsed)?;
    let signature = Signature::new(def, pg_proc::type_name)?;
    let krate = codegen::generate(&signature, &checked, target);
    let built = compile::build(krate, toolchain)?;
    artifact_store::store(&key, &built, toolchain::BUILD_ID);
    Ok((key, Some(built.object)))
}

/// The object to load for `def`: stored, or built now (a function created with
/// `check_function_bodies = off`, or whose artifact predates the toolchain).
pub fn object_for_call(def: &ProcDef) -> Result<(String, Vec<u8>), PlRustError> {
    let (key, built) = ensure_artifact(def)?;
    let object = match built {
        Some(object) => object,
        None => artifact_store::fetch(&key, toolchain::HOST_TARGET).ok_or_else(|| {
            PlRustError::Load(format!("artifact {key} vanished from plrust.artifacts"))
        })?,
    };
    Ok((key, object))
}

/// The content hash `def`'s shared object is stored under: everything that affects the
/// build, so that identical functions share one artifact and any change makes a new one.
pub fn artifact_key(def: &ProcDef) -> Result<String, PlRustError> {
    let mut h = Sha256::new();
    let mut field = |name: &str, value: &[u8]| {
        h.update(name.as_bytes());
        h.update((value.len() as u64).to_le_bytes());
        h.update(value);
    };
    field("format", b"plrust-artifact-1");
    field("plrust", env!("CARGO_PKG_VERSION").as_bytes());
    field("build_id", toolchain::BUILD_ID.as_bytes());
    field("target", toolchain::HOST_TARGET.as_bytes());
    field("source", def.source.as_bytes());
    for arg in &def.args {
        field("arg_name", arg.name.as_deref().unwrap_or("").as_bytes());
        field("arg_type", &u32::from(arg.type_oid).to_le_bytes());
    }
    field("return_type", &u32::from(def.return_type).to_le_bytes());
    field("returns_set", &[def.returns_set as u8]);
    field("strict", &[def.strict as u8]);
    let digest = h.finalize();
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}
