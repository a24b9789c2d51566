//! PL/Rust: Rust as a procedural language for PostgreSQL.
//!
//! The entry points PostgreSQL calls live here (see `sql/plrust.sql` for the SQL that
//! binds them): the validator compiles a function at `CREATE FUNCTION`, the call
//! handler runs it, the inline handler serves `DO` blocks. Everything else is a stage
//! of the data flow, one module each, in this order:
//!
//! `pg_proc` (catalog row) -> `body` (parsed) -> `trust` (checked) -> `instrument`
//! (probes in place) -> `codegen` (generated crate, `dependencies` resolved) -> `compile` (built artifact) -> `artifact_store` (stored) ->
//! `loader` (loaded library) -> `cache` (per-backend, per-call pointer).

use pgrx::prelude::*;

mod artifact_store;
mod body;
mod cache;
mod codegen;
mod compile;
mod dependencies;
mod diagnostics;
mod elf;
mod error;
mod instrument;
mod loader;
mod maintenance;
mod memory;
mod overflow;
mod pg_proc;
mod pipeline;
mod settings;
mod toolchain;
mod trust;
mod types;

pgrx::pg_module_magic!(name, version);

pgrx::extension_sql_file!("../../sql/plrust.sql", name = "plrust_language", finalize);

/// Runs once per backend, when the library is first loaded (by `CREATE EXTENSION`
/// or by the first call of a PL/Rust function): no `shared_preload_libraries` needed.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    settings::register();
    memory::init();
    overflow::init();
    cache::register_callbacks();
    // SAFETY: a flag PostgreSQL sets while it loads shared_preload_libraries, read on
    // the process's only thread.
    if unsafe { pg_sys::process_shared_preload_libraries_in_progress } {
        // Opened in the postmaster, the runtime is mapped in every backend it forks. A
        // missing runtime is reported by the first call that needs it instead.
        let _ = loader::open_runtime();
    }
}

/// The call handler: runs a PL/Rust function.
///
/// No `#[pg_guard]`: the hot path cannot panic, and its ERRORs are PostgreSQL's, raised
/// again from the call's own recovery point; the rest runs under pgrx's guard inside
/// [`cache::call`].
///
/// # Safety
/// Called by PostgreSQL's function manager with a valid `fcinfo`.
#[no_mangle]
pub unsafe extern "C-unwind" fn plrust_call_handler(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // SAFETY: fcinfo is the live call's, as the function manager promises; this frame
    // holds nothing to drop.
    unsafe { cache::call(fcinfo) }
}

/// The validator: compiles the function at `CREATE FUNCTION` / `CREATE OR REPLACE`.
///
/// # Safety
/// Called by PostgreSQL's function manager with a valid `fcinfo`.
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn plrust_validator(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // SAFETY: fcinfo is the live call's; the validator's one argument is an oid.
    let fn_oid: pg_sys::Oid = unsafe { pgrx::fcinfo::pg_getarg(fcinfo, 0) }
        .unwrap_or_else(|| error!("plrust_validator called with a NULL function oid"));
    // SAFETY: fcinfo and its flinfo are valid for the duration of the call.
    let validator_oid = unsafe { (*(*fcinfo).flinfo).fn_oid };
    // SAFETY: plain catalog check; raises an ERROR itself when access is denied.
    if !unsafe { pg_sys::CheckFunctionValidatorAccess(validator_oid, fn_oid) } {
        return pg_sys::Datum::from(0);
    }
    pipeline::validate(fn_oid).unwrap_or_else(|e| e.report());
    pg_sys::Datum::from(0)
}

/// The inline handler for `DO $$ ... $$ LANGUAGE plrust`: the block is built like a
/// function without arguments returning `void` (once: identical blocks share their
/// artifact), in the same sandbox, and run.
///
/// Loading runs under pgrx's guard; the run itself, like a function call, from a frame
/// holding nothing to drop, so that its ERRORs can go on as PostgreSQL raised them.
///
/// # Safety
/// Called by PostgreSQL's function manager with a valid `fcinfo`.
#[no_mangle]
pub unsafe extern "C-unwind" fn plrust_inline_handler(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // SAFETY: the inline handler's one argument is an InlineCodeBlock node, whose
    // source_text is a NUL-terminated string owned by the caller for this call. Inside
    // the guard, a panic or an ERROR leaves as an ERROR.
    let entry = unsafe {
        pg_sys::panic::pgrx_extern_c_guard(|| {
            let block = (*fcinfo).args.as_slice(1)[0]
                .value
                .cast_mut_ptr::<pg_sys::InlineCodeBlock>();
            let source = std::ffi::CStr::from_ptr((*block).source_text)
                .to_string_lossy()
                .into_owned();
            cache::load_do_block(source).unwrap_or_else(|e| e.report())
        })
    };
    // SAFETY: loaded just now; this frame holds nothing to drop.
    unsafe { cache::run_do_block(entry) };
    pg_sys::Datum::from(0)
}

/// `plrust.session_builds()`: how many times this session has run rustc (for CREATE,
/// a first call, or a DO block), whether the build succeeded or not. A function or
/// block whose artifact is stored runs without one.
#[pg_extern(volatile, parallel_unsafe)]
fn session_builds() -> i64 {
    compile::builds_started() as i64
}

/// `plrust.loaded_libraries()`: the function libraries this session has loaded, by
/// artifact key, and how many of its functions use each (0: waiting to be unloaded at
/// the next transaction's first PL/Rust call, or a DO block's).
#[pg_extern(volatile, parallel_unsafe)]
fn loaded_libraries() -> TableIterator<'static, (name!(key, String), name!(functions, i32))> {
    TableIterator::new(cache::loaded_libraries())
}

/// `plrust.artifact_key(regprocedure)`: the content hash a function's shared object for
/// this server's target is stored under in `plrust.artifacts`.
#[pg_extern(stable, strict)]
fn artifact_key(function: pg_sys::Oid) -> String {
    pipeline::function_keys(function, &[toolchain::HOST_TARGET])
        .map(|mut keys| keys.remove(0))
        .unwrap_or_else(|e| e.report())
}

/// `plrust.generated_crate(regprocedure)`: what PL/Rust compiles for a function: its
/// `lib.rs` (the FFI glue), `user.rs` (the body, instrumented) and the arguments of the
/// rustc run (one per line; add `-o <output> lib.rs`). For debugging and benchmarks.
#[pg_extern(stable, strict)]
fn generated_crate(
    function: pg_sys::Oid,
) -> TableIterator<'static, (name!(file, &'static str), name!(contents, String))> {
    let def = pg_proc::ProcDef::load(function).unwrap_or_else(|e| e.report());
    let mut krate = pipeline::generate(&def, toolchain::HOST_TARGET).unwrap_or_else(|e| e.report());
    pipeline::resolve_dependencies(&mut krate).unwrap_or_else(|e| e.report());
    let toolchain = toolchain::Toolchain::host().unwrap_or_else(|e| e.report());
    let args = std::iter::once(toolchain.rustc.as_os_str().to_owned())
        .chain(compile::rustc_args(&krate, toolchain))
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("\n");
    TableIterator::new(vec![
        ("lib.rs", krate.lib_rs),
        ("user.rs", krate.user_rs),
        ("rustc", args),
    ])
}

/// `plrust.artifact_target(bytea)`: the target triple recorded in a PL/Rust shared
/// object's `.plrust_target` ELF section, which the generated code only emits when
/// rustc compiled it for a `target_family = "postgres"` target.
#[pg_extern(immutable, strict)]
fn artifact_target(object: &[u8]) -> Option<String> {
    elf::section(object, ".plrust_target").map(|s| String::from_utf8_lossy(s).into_owned())
}

/// `plrust.trust_checks()`: every check a function body must pass before it is compiled,
/// what it forbids and why.
#[pg_extern(immutable, parallel_safe)]
fn trust_checks() -> TableIterator<
    'static,
    (
        name!(name, &'static str),
        name!(forbids, &'static str),
        name!(why, &'static str),
    ),
> {
    TableIterator::new(trust::CHECKS.iter().map(|c| (c.name, c.forbids, c.why)))
}

/// `plrust.allowed_dependencies()`: the crates bodies may list in `[dependencies]`, as
/// the allow-list file named by `plrust.allowed_dependencies` states them, and whether
/// they have been built (`scripts/allow-dependencies.sh`).
#[pg_extern(stable)]
fn allowed_dependencies() -> TableIterator<
    'static,
    (
        name!(name, String),
        name!(version, String),
        name!(features, Vec<String>),
        name!(default_features, bool),
        name!(built, bool),
    ),
> {
    let Some(path) = settings::allowed_dependencies() else {
        return TableIterator::new(Vec::new());
    };
    let sets = toolchain::dependency_sets_dir(toolchain::HOST_TARGET);
    let (allowed, built) = match dependencies::load_dependency_set(&path, &sets) {
        Ok((allowed, _)) => (allowed, true),
        Err(error::PlRustError::DependenciesNotBuilt { .. }) => {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            (
                dependencies::parse_allow_list(&text).unwrap_or_default(),
                false,
            )
        }
        Err(e) => e.report(),
    };
    let rows = dependencies::rows(&allowed)
        .into_iter()
        .map(|(n, v, f, d)| (n, v, f, d, built));
    TableIterator::new(rows.collect::<Vec<_>>())
}

macro_rules! finfo_v1 {
    ($($name:ident),*) => {$(
        /// Tells the function manager the entry point uses the version-1 convention.
        #[no_mangle]
        pub extern "C" fn $name() -> &'static pg_sys::Pg_finfo_record {
            const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
            &V1
        }
    )*};
}
finfo_v1!(
    pg_finfo_plrust_call_handler,
    pg_finfo_plrust_validator,
    pg_finfo_plrust_inline_handler
);

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
