//! Looking after the artifact store over a database's life: build on demand
//! (`plrust.compile`, `plrust.recompile_all`), see what is built (`plrust.functions`,
//! through `plrust.function_keys`), and remove what no function uses any more
//! (`plrust.cleanup_artifacts`). SQL wrappers and grants are in `sql/plrust.sql`.
//!
//! Which artifact a function uses is never recorded: it is computed from the function's
//! catalog row (`pipeline::artifact_key`: its source and the glue of its signature), so
//! it cannot go stale after ALTER FUNCTION, a restore, or a toolchain upgrade.

use pgrx::prelude::*;
use pgrx::spi::Spi;

use crate::artifact_store;
use crate::error::PlRustError;
use crate::pg_proc;
use crate::pipeline;
use crate::settings;
use crate::toolchain;

/// Every PL/Rust function of this database, in oid order.
fn plrust_functions() -> Vec<pg_sys::Oid> {
    Spi::connect(|client| {
        client
            .select(
                "SELECT p.oid FROM pg_catalog.pg_proc p \
                 JOIN pg_catalog.pg_language l ON l.oid OPERATOR(pg_catalog.=) p.prolang \
                 WHERE l.lanname OPERATOR(pg_catalog.=) 'plrust' ORDER BY p.oid",
                None,
                &[],
            )?
            .map(|row| row.get::<pg_sys::Oid>(1))
            .filter_map(Result::transpose)
            .collect::<Result<Vec<_>, _>>()
    })
    .unwrap_or_else(|e| error!("listing PL/Rust functions: {e}"))
}

/// `plrust.compile(regprocedure)`: build the function's artifact now if it is not
/// stored (a function restored or created with `check_function_bodies = off`, or one
/// whose artifact predates the toolchain). True if it was built. Needs EXECUTE on it.
#[pg_extern(volatile, strict, parallel_unsafe)]
fn compile(function: pg_sys::Oid) -> bool {
    let name = pg_proc::function_name(function);
    // Both NULL for an oid that is no function.
    let (language, may_execute) = Spi::get_two_with_args::<String, bool>(
        "SELECT (SELECT l.lanname::pg_catalog.text FROM pg_catalog.pg_proc p \
                 JOIN pg_catalog.pg_language l ON l.oid OPERATOR(pg_catalog.=) p.prolang \
                 WHERE p.oid OPERATOR(pg_catalog.=) $1), \
                pg_catalog.has_function_privilege($1, 'EXECUTE')",
        &[function.into()],
    )
    .unwrap_or_else(|e| error!("reading pg_proc: {e}"));
    if language.is_none() {
        PlRustError::NoSuchFunction(function).report();
    }
    if language.as_deref() != Some("plrust") {
        PlRustError::NotPlRust { function: name }.report();
    }
    if may_execute != Some(true) {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("permission denied for function {name}")
        );
    }
    pipeline::compile_function(function).unwrap_or_else(|e| e.report())
}

/// `plrust.recompile_all()` (see `sql/plrust.sql`): build every function's artifact that
/// is not stored. A function that fails to build is reported in its row, and the others
/// still get built.
#[pg_extern(volatile, parallel_unsafe)]
fn recompile_all_functions() -> TableIterator<
    'static,
    (
        name!(function, pg_sys::Oid),
        name!(built, bool),
        name!(error, Option<String>),
    ),
> {
    let rows = plrust_functions()
        .into_iter()
        .map(|oid| match pipeline::compile_function(oid) {
            Ok(built) => (oid, built, None),
            Err(e) => (oid, false, Some(e.to_string())),
        })
        .collect::<Vec<_>>();
    TableIterator::new(rows)
}

/// `plrust.cleanup_artifacts()`: delete the artifacts no function of this database uses
/// (those of dropped and replaced functions, of DO blocks, of an earlier toolchain),
/// and return how many went. Waits for transactions that are storing artifacts.
#[pg_extern(volatile, parallel_unsafe)]
fn cleanup_artifacts() -> i64 {
    // SAFETY: reading a variable of the backend's transaction state.
    if unsafe { pg_sys::XactIsoLevel } >= pg_sys::XACT_REPEATABLE_READ as i32 {
        PlRustError::NeedsReadCommitted {
            what: "plrust.cleanup_artifacts()",
        }
        .report();
    }
    artifact_store::sweep_except(|| pipeline::live_keys(&plrust_functions()))
}

/// `plrust.function_keys()`: for every PL/Rust function of this database and every
/// target PL/Rust has, the artifact key (NULL when its body does not generate), and
/// whether this session builds for that target (this server's, or named by
/// `plrust.compilation_targets`). The rows of `plrust.functions`.
#[pg_extern(stable, parallel_safe)]
fn function_keys() -> TableIterator<
    'static,
    (
        name!(function, pg_sys::Oid),
        name!(target, &'static str),
        name!(key, Option<String>),
        name!(configured, bool),
    ),
> {
    let configured = settings::compilation_targets().unwrap_or_else(|e| e.report());
    let targets = toolchain::TARGETS.map(|(_, target)| target);
    let rows = plrust_functions()
        .into_iter()
        .flat_map(|oid| {
            let keys = match pipeline::function_keys(oid, &targets) {
                Ok(keys) => keys.into_iter().map(Some).collect(),
                Err(_) => vec![None; targets.len()],
            };
            targets
                .into_iter()
                .zip(keys)
                .map(|(target, key)| (oid, target, key, configured.contains(&target)))
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>();
    TableIterator::new(rows)
}
