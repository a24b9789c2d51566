//! Stage 5: built artifact -> a row of `plrust.artifacts`, and back.
//!
//! Shared objects live in the database (WAL-logged, transactional, dumped by pg_dump),
//! keyed by a content hash of everything that affects the build (`pipeline::artifact_key`)
//! and the target triple. Identical functions share one row. A rolled-back CREATE
//! rolls back its row with it.
//!
//! The table is not readable by ordinary roles; PL/Rust reads and writes it as the
//! bootstrap superuser with every name schema-qualified, so a caller's `search_path`
//! cannot substitute objects of its own.

use pgrx::prelude::*;
use pgrx::spi::Spi;

use crate::compile::BuiltArtifact;

/// The stored shared object for `key` on `target`, if any.
pub fn fetch(key: &str, target: &str) -> Option<Vec<u8>> {
    as_plrust_owner(|| {
        Spi::connect(|client| {
            let rows = client.select(
                "SELECT object FROM plrust.artifacts \
                 WHERE key OPERATOR(pg_catalog.=) $1 AND target OPERATOR(pg_catalog.=) $2",
                Some(1),
                &[key.into(), target.into()],
            )?;
            if rows.is_empty() {
                return Ok(None);
            }
            rows.first().get_one::<Vec<u8>>()
        })
    })
    .unwrap_or_else(|e: pgrx::spi::SpiError| error!("reading plrust.artifacts: {e}"))
}

/// True if `key` has an artifact for `target`.
pub fn exists(key: &str, target: &str) -> bool {
    as_plrust_owner(|| {
        Spi::get_one_with_args::<bool>(
            "SELECT EXISTS (SELECT FROM plrust.artifacts \
             WHERE key OPERATOR(pg_catalog.=) $1 AND target OPERATOR(pg_catalog.=) $2)",
            &[key.into(), target.into()],
        )
    })
    .unwrap_or_else(|e| error!("reading plrust.artifacts: {e}"))
    .unwrap_or(false)
}

/// Store `artifact` under `key`; a concurrent or earlier identical build wins.
pub fn store(key: &str, artifact: &BuiltArtifact, build_id: &str) {
    as_plrust_owner(|| {
        Spi::run_with_args(
            "INSERT INTO plrust.artifacts (key, target, object, build_id, build_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key, target) DO NOTHING",
            &[
                key.into(),
                artifact.target.into(),
                artifact.object.as_slice().into(),
                build_id.into(),
                artifact.build_ms.into(),
            ],
        )
    })
    .unwrap_or_else(|e| error!("writing plrust.artifacts: {e}"))
}

/// Run `f` with the bootstrap superuser as the current user, restoring the caller's
/// identity afterwards, also when `f` unwinds.
fn as_plrust_owner<R>(f: impl FnOnce() -> R) -> R {
    struct Restore {
        user: pg_sys::Oid,
        context: i32,
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: a plain write of the backend's current-user state.
            unsafe { pg_sys::SetUserIdAndSecContext(self.user, self.context) };
        }
    }
    let mut saved = Restore {
        user: pg_sys::InvalidOid,
        context: 0,
    };
    // SAFETY: plain reads/writes of the backend's current-user state.
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut saved.user, &mut saved.context);
        pg_sys::SetUserIdAndSecContext(
            pg_sys::Oid::from(pg_sys::BOOTSTRAP_SUPERUSERID),
            saved.context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32,
        );
    }
    let result = f();
    drop(saved);
    result
}
