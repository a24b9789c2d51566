//! The stages in order: what `CREATE FUNCTION` and a first call do. Each stage's output
//! type is the next one's input, so the order cannot be got wrong:
//! `ProcDef` -> `ParsedBody` -> `CheckedBody` (+ `Signature`) -> `GeneratedCrate` ->
//! `BuiltArtifact` -> row in `plrust.artifacts` -> `LoadedLibrary`.

use sha2::{Digest, Sha256};

use crate::artifact_store;
use crate::body;
use crate::codegen::{self, GeneratedCrate, Glue, Signature};
use crate::compile;
use crate::dependencies;
use crate::error::PlRustError;
use crate::instrument;
use crate::loader::Object;
use crate::pg_proc::{self, ProcDef, SysCatalog};
use crate::settings;
use crate::toolchain::{self, Toolchain};
use crate::trust;

/// What the validator does for `CREATE [OR REPLACE] FUNCTION`.
pub fn validate(fn_oid: pgrx::pg_sys::Oid) -> Result<(), PlRustError> {
    // SAFETY: reading a GUC variable of the backend.
    if !unsafe { pgrx::pg_sys::check_function_bodies } {
        // pg_dump/restore sets check_function_bodies = off: the function is then built
        // at its first call (or by plrust.compile), unless its artifact is already
        // stored, as it is after a restore of plrust.artifacts.
        return Ok(());
    }
    compile_function(fn_oid).map(|_| ())
}

/// Check, build and store a function's artifacts, for this server's target and those
/// `plrust.compilation_targets` adds, unless they are already stored; true if any was
/// built now. What CREATE does, and `plrust.compile` / `plrust.recompile_all`.
pub fn compile_function(fn_oid: pgrx::pg_sys::Oid) -> Result<bool, PlRustError> {
    let def = ProcDef::load(fn_oid)?;
    let checked = check(&def)?;
    let mut built_any = false;
    for target in settings::compilation_targets()? {
        let glue = codegen::glue(&checked.signature, target);
        let key = artifact_key(&glue, &def.source, target);
        let mut krate = codegen::assemble(glue, &checked.body, target);
        // Checked at every CREATE, even when the artifact exists: a crate taken off the
        // allow-list cannot come back by re-creating an identical function.
        resolve_dependencies(&mut krate)?;
        if artifact_store::hold(&key, target) {
            continue;
        }
        let built = compile::build(krate, Toolchain::for_target(target)?)?;
        artifact_store::store(&key, &built, toolchain::BUILD_ID);
        built_any = true;
    }
    Ok(built_any)
}

/// A function's body through stages 1-2 (parsed, trust-checked, instrumented) with its
/// signature: everything but the target. No IO, so any machine can generate any
/// target's crate.
pub struct Checked {
    signature: Signature,
    body: instrument::InstrumentedBody,
}

impl Checked {
    /// Stage 3: the crate for `target`.
    pub fn generate(&self, target: &'static str) -> GeneratedCrate {
        codegen::generate(&self.signature, &self.body, target)
    }
}

/// Stages 1-2: parse, check and instrument the body, and resolve the signature.
pub fn check(def: &ProcDef) -> Result<Checked, PlRustError> {
    let parsed = body::parse(&def.source).map_err(|e| match e {
        PlRustError::BodySyntax { .. } => trust::violation_in_unparsable(&def.source).unwrap_or(e),
        e => e,
    })?;
    let checked = trust::check(parsed)?;
    let body = instrument::instrument(checked)?;
    let signature = Signature::new(def, &pg_proc::SysCatalog)?;
    Ok(Checked { signature, body })
}

/// Stages 1-3 for one target.
pub fn generate(def: &ProcDef, target: &'static str) -> Result<GeneratedCrate, PlRustError> {
    Ok(check(def)?.generate(target))
}

/// Check the body's `[dependencies]` against the allow-list named by
/// `plrust.allowed_dependencies` and point the build at the prebuilt crates.
pub fn resolve_dependencies(krate: &mut GeneratedCrate) -> Result<(), PlRustError> {
    let Some(section) = &krate.dependencies else {
        return Ok(());
    };
    let allow_list = settings::allowed_dependencies().ok_or(PlRustError::DependenciesNotAllowed)?;
    let sets = toolchain::dependency_sets_dir(krate.target);
    let (allowed, set) = dependencies::load_dependency_set(&allow_list, &sets)?;
    krate.externs = dependencies::resolve(section, &allowed, &set)?;
    krate.dependency_dirs = vec![set.target_dir(), set.host_dir()];
    Ok(())
}

/// The object with artifact `key` of function (or DO block) `def`, for this server's
/// target: stored (built at CREATE, by an identical function or block, or restored), or
/// built now and stored for the next time, unless this transaction cannot write (a
/// read-only transaction, a parallel worker, a standby): then only this backend has it.
/// Only a build runs the body's stages (parse, trust check, instrument): a stored object
/// was built from the same source by the same stages (they are part of the key). The row
/// goes with the transaction: a DO block that fails leaves no artifact behind (this
/// backend keeps it loaded, see `cache`). Only a stored object another transaction
/// committed may enter the object cache (see `loader`).
pub fn object_for(def: &ProcDef, key: &str) -> Result<Object, PlRustError> {
    if let Some(object) = artifact_store::fetch(key, toolchain::HOST_TARGET) {
        return Ok(object);
    }
    let mut krate = generate(def, toolchain::HOST_TARGET)?;
    resolve_dependencies(&mut krate)?;
    let toolchain = Toolchain::for_target(krate.target)?;
    let built = compile::build(krate, toolchain)?;
    // SAFETY: reads of the backend's transaction state.
    let read_only = unsafe {
        pgrx::pg_sys::XactReadOnly
            || pgrx::pg_sys::IsInParallelMode()
            || pgrx::pg_sys::RecoveryInProgress()
    };
    if !read_only {
        artifact_store::store(key, &built, toolchain::BUILD_ID);
    }
    Ok(Object {
        bytes: built.object,
        committed: false,
    })
}

/// The artifact key of function `fn_oid` for each of `targets`, as it is now. What
/// `plrust.artifact_key`, `plrust.functions` and the cleanup's live set are made of.
pub fn function_keys(
    fn_oid: pgrx::pg_sys::Oid,
    targets: &[&'static str],
) -> Result<Vec<String>, PlRustError> {
    let def = ProcDef::load(fn_oid)?;
    targets.iter().map(|&target| key(&def, target)).collect()
}

/// The artifact key of function (or DO block) `def` for `target`: from its catalog row
/// and its signature, the body not parsed. What a call or a DO block looks up (for
/// `toolchain::HOST_TARGET`).
pub fn key(def: &ProcDef, target: &'static str) -> Result<String, PlRustError> {
    let signature = Signature::new(def, &SysCatalog)?;
    Ok(artifact_key(
        &codegen::glue(&signature, target),
        &def.source,
        target,
    ))
}

/// The keys of the artifacts the functions of this database use, for every target
/// PL/Rust has (whether or not this session's `plrust.compilation_targets` names it):
/// the live set that `plrust.cleanup_artifacts` keeps. A function whose signature no
/// longer maps (a type it names was changed) has none.
pub fn live_keys(functions: &[pgrx::pg_sys::Oid]) -> Vec<String> {
    let targets = toolchain::TARGETS.map(|(_, target)| target);
    functions
        .iter()
        .filter_map(|&oid| function_keys(oid, &targets).ok())
        .flatten()
        .collect()
}

/// The fingerprint of the code that turns a body's source into `user.rs`, and of the
/// flags rustc builds it with (`build.rs`).
const BODY_STAGES: &str = env!("PLRUST_BODY_STAGES");

/// The content hash a function's shared object is stored under, computed from what the
/// object is built from: the body's source, the glue generated from its signature for
/// `target`, the code of the stages that turn the source into `user.rs`
/// ([`BODY_STAGES`]) and the exact toolchain, postgrestd and closure (`BUILD_ID`), for
/// the target. Identical functions share one artifact; any change to what is compiled
/// makes a new one.
///
/// Not a hash of the generated crate: computing that would parse, check and instrument
/// the body at every session's first call of every function, paging in syn (the first
/// call after `LOAD 'plrust'` went from 0.78 to 0.70 ms without it, docs/benchmarks.md).
/// The glue is cheap to generate (`quote`, no parsing), and hashing it rather
/// than the signature keeps what the tests rely on: a signature that generates the same
/// glue (an enum type dropped and made again, with a new oid) keeps its artifact.
/// Invariant: whatever changes how a source becomes `user.rs`, or how rustc builds the
/// crate, is in [`BODY_STAGES`].
pub fn artifact_key(glue: &Glue, source: &str, target: &str) -> String {
    let mut h = Sha256::new();
    let mut field = |name: &str, value: &[u8]| {
        h.update(name.as_bytes());
        h.update((value.len() as u64).to_le_bytes());
        h.update(value);
    };
    field("format", b"plrust-artifact-2");
    field("build_id", toolchain::BUILD_ID.as_bytes());
    field("body_stages", BODY_STAGES.as_bytes());
    field("target", target.as_bytes());
    field("lib.rs", glue.lib_rs.as_bytes());
    field("user.rs prefix", glue.user_prefix.as_bytes());
    // The body as written, its `[dependencies]` section included (resolved against the
    // allow-list at CREATE): the key must be computable at a call without the allow-list.
    field("source", source.as_bytes());
    let digest = h.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    fn key(lib: &str, prefix: &str, source: &str, target: &str) -> String {
        let glue = Glue {
            lib_rs: lib.into(),
            user_prefix: prefix.into(),
        };
        artifact_key(&glue, source, target)
    }

    #[test]
    fn key_is_a_sha256_of_what_is_built_from() {
        let t = "x86_64-postgres-linux-gnu";
        let a = key("lib", "fn f() {", "Ok(None)", t);
        assert_eq!(a.len(), 64);
        assert_eq!(a, key("lib", "fn f() {", "Ok(None)", t));
        assert_ne!(a, key("lib", "fn f() {", "Ok(None) ", t));
        assert_ne!(a, key("lib ", "fn f() {", "Ok(None)", t));
        assert_ne!(a, key("lib", "fn g() {", "Ok(None)", t));
        assert_ne!(
            a,
            key("lib", "fn f() {", "Ok(None)", "aarch64-postgres-linux-gnu")
        );
        // Field boundaries count: moving text between the fields changes the key.
        assert_ne!(key("ab", "c", "d", t), key("a", "bc", "d", t));
        assert_ne!(key("a", "bc", "d", t), key("a", "b", "cd", t));
    }

    #[test]
    fn body_stages_fingerprint_is_a_sha256() {
        assert_eq!(BODY_STAGES.len(), 64);
        assert!(BODY_STAGES.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
