//! Stage 5: built artifact -> a row of `plrust.artifacts`, and back.
//!
//! Shared objects live in the database (WAL-logged, transactional, dumped by pg_dump),
//! keyed by a content hash of everything the build is made from (`pipeline::artifact_key`)
//! and the target triple. Identical functions share one row. A rolled-back CREATE
//! rolls back its row with it.
//!
//! The table is not readable by ordinary roles; PL/Rust reads and writes it as the
//! bootstrap superuser with every name schema-qualified, so a caller's `search_path`
//! cannot substitute objects of its own.

use pgrx::prelude::*;
use pgrx::spi::Spi;

use crate::compile::BuiltArtifact;
use crate::loader::{self, Object};

/// The stored shared object for `key` on `target`, if any, and whether another
/// transaction committed it (rather than this one, which may still roll it back).
///
/// A function's first call in each backend comes here, so this reads the table with one
/// index scan of its primary key instead of a query through SPI: in a fresh backend,
/// parsing and planning the query (and the catalog lookups that takes) cost more than
/// the read itself (0.6 ms of a 2 ms first call, measured). The snapshot is the latest
/// one: an artifact is immutable and named by its content, so seeing one committed after
/// the caller's snapshot is harmless and saves a build.
pub fn fetch(key: &str, target: &str) -> Option<Object> {
    // SAFETY: catalog lookups by name, an index scan of a table opened and locked here,
    // with a registered snapshot; the tuple and the detoasted value are read before the
    // scan ends, and copied out. An ERROR from any call unwinds through the guards.
    unsafe {
        let namespace = pg_sys::get_namespace_oid(c"plrust".as_ptr(), false);
        let table = pg_sys::get_relname_relid(c"artifacts".as_ptr(), namespace);
        let index = pg_sys::get_relname_relid(c"artifacts_pkey".as_ptr(), namespace);
        if table == pg_sys::InvalidOid || index == pg_sys::InvalidOid {
            error!("plrust.artifacts or its primary key is missing");
        }
        let relation = pg_sys::table_open(table, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        let descriptor = (*relation).rd_att;
        // The columns read, by position: checked against the names, so that a changed
        // table definition fails loudly instead of reading the wrong column.
        for (attnum, name) in [(1, "key"), (2, "target"), (3, "object")] {
            let attribute = &*(*descriptor).attrs.as_ptr().add(attnum - 1);
            if std::ffi::CStr::from_ptr(attribute.attname.data.as_ptr()).to_bytes()
                != name.as_bytes()
            {
                error!("plrust.artifacts column {attnum} is not \"{name}\"");
            }
        }
        let mut keys: [pg_sys::ScanKeyData; 2] = std::mem::zeroed();
        for (i, value) in [key, target].into_iter().enumerate() {
            let text = pg_sys::cstring_to_text_with_len(value.as_ptr().cast(), value.len() as i32);
            pg_sys::ScanKeyInit(
                &mut keys[i],
                (i + 1) as pg_sys::AttrNumber,
                pg_sys::BTEqualStrategyNumber as pg_sys::StrategyNumber,
                pg_sys::Oid::from(pg_sys::F_TEXTEQ),
                pg_sys::Datum::from(text),
            );
        }
        // A parallel worker may not take a new snapshot; it reads with the leader's.
        let snapshot = pg_sys::RegisterSnapshot(if pg_sys::IsInParallelMode() {
            pg_sys::GetActiveSnapshot()
        } else {
            pg_sys::GetLatestSnapshot()
        });
        let scan =
            pg_sys::systable_beginscan(relation, index, true, snapshot, 2, keys.as_mut_ptr());
        let tuple = pg_sys::systable_getnext(scan);
        let object = (!tuple.is_null()).then(|| {
            let mut isnull = false;
            let datum = pg_sys::heap_getattr(tuple, 3, descriptor, &mut isnull);
            if isnull {
                error!("plrust.artifacts has a NULL object");
            }
            let value = pg_sys::pg_detoast_datum_packed(datum.cast_mut_ptr());
            let bytes = std::slice::from_raw_parts(
                pgrx::varlena::vardata_any(value).cast::<u8>(),
                pgrx::varlena::varsize_any_exhdr(value),
            )
            .to_vec();
            if value.cast() != datum.cast_mut_ptr::<u8>() {
                pg_sys::pfree(value.cast());
            }
            // Visible in the latest snapshot and not ours: committed.
            let xmin = pg_sys::HeapTupleHeaderGetXmin((*tuple).t_data);
            let committed = !pg_sys::TransactionIdIsCurrentTransactionId(xmin);
            Object { bytes, committed }
        });
        pg_sys::systable_endscan(scan);
        pg_sys::UnregisterSnapshot(snapshot);
        pg_sys::table_close(relation, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        object
    }
}

/// Make sure no sweep (`sweep_except`) can remove `key`'s artifact for `target` before
/// this transaction ends, and say whether it is stored. The table lock is taken first and
/// the row looked up after it, in a fresh snapshot: a sweep that committed while we
/// waited for the lock is seen, and one that starts later waits for us.
pub fn hold(key: &str, target: &str) -> bool {
    as_plrust_owner(|| {
        Spi::connect_mut(|client| {
            // `update` takes a new snapshot per statement (see `sweep_except`).
            client.update(
                "LOCK TABLE plrust.artifacts IN ROW EXCLUSIVE MODE",
                None,
                &[],
            )?;
            client
                .update(
                    "SELECT EXISTS (SELECT FROM plrust.artifacts \
                     WHERE key OPERATOR(pg_catalog.=) $1 AND target OPERATOR(pg_catalog.=) $2)",
                    Some(1),
                    &[key.into(), target.into()],
                )?
                .first()
                .get_one::<bool>()
        })
    })
    .unwrap_or_else(|e| error!("reading plrust.artifacts: {e}"))
    .unwrap_or(false)
}

/// Store `artifact` under `key`; a concurrent or earlier identical build wins.
pub fn store(key: &str, artifact: &BuiltArtifact, build_id: &str) {
    as_plrust_owner(|| {
        Spi::run_with_args(
            "INSERT INTO plrust.artifacts (key, target, object, build_id, build_ms, toolchain) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key, target) DO NOTHING",
            &[
                key.into(),
                artifact.target.into(),
                artifact.object.as_slice().into(),
                build_id.into(),
                artifact.build_ms.into(),
                artifact.toolchain.as_str().into(),
            ],
        )
    })
    .unwrap_or_else(|e| error!("writing plrust.artifacts: {e}"))
}

/// Delete every artifact whose key `live` does not return, and say how many went.
///
/// `live` runs after the table is locked against every transaction that stores or holds
/// an artifact (SHARE ROW EXCLUSIVE conflicts with their ROW EXCLUSIVE), in a snapshot
/// taken after the lock (the caller checks for READ COMMITTED): what it reads includes
/// every function whose creator committed before the sweep, and no later creator can
/// reuse an artifact the sweep deletes (`hold` waits, then sees the deletion). The lock
/// is held until the transaction ends, so that the deletions commit before anyone looks.
pub fn sweep_except(live: impl FnOnce() -> Vec<String>) -> i64 {
    as_plrust_owner(|| {
        Spi::connect_mut(|client| {
            // `update` marks the transaction as writing, so pgrx runs each statement
            // with a new snapshot rather than the caller's.
            client.update(
                "LOCK TABLE plrust.artifacts IN SHARE ROW EXCLUSIVE MODE",
                None,
                &[],
            )?;
            let live = live();
            let deleted = client.update(
                "DELETE FROM plrust.artifacts \
                 WHERE NOT (key OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])) \
                 RETURNING key",
                None,
                &[live.into()],
            )?;
            let keys = deleted
                .map(|row| row.get::<String>(1))
                .collect::<Result<Vec<_>, _>>()?;
            let keys = keys.into_iter().flatten().collect::<Vec<_>>();
            // The object cache's files go too. Should this transaction roll back, the
            // next load writes them again from the rows.
            loader::evict(&keys);
            Ok::<_, pgrx::spi::SpiError>(keys.len() as i64)
        })
    })
    .unwrap_or_else(|e| error!("cleaning plrust.artifacts: {e}"))
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

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::compile::BuiltArtifact;

    #[pg_test]
    fn a_missing_artifact_is_none() {
        assert!(super::fetch("no-such-key", "x86_64-postgres-linux-gnu").is_none());
        assert!(!super::hold("no-such-key", "x86_64-postgres-linux-gnu"));
    }

    #[pg_test]
    fn a_stored_artifact_round_trips_and_the_first_store_wins() {
        let first = BuiltArtifact {
            object: vec![1, 2, 3],
            target: "t",
            build_ms: 5,
            toolchain: "1.95.0".into(),
        };
        let second = BuiltArtifact {
            object: vec![9],
            target: "t",
            build_ms: 1,
            toolchain: "1.95.0".into(),
        };
        super::store("k", &first, "b");
        super::store("k", &second, "b");
        assert!(super::hold("k", "t"));
        let fetched = super::fetch("k", "t").expect("stored");
        assert_eq!(fetched.bytes, vec![1, 2, 3]);
        // Stored by this (test) transaction, which may still roll back: not for the
        // object cache.
        assert!(!fetched.committed);
        assert!(super::fetch("k", "other-target").is_none());
    }

    #[pg_test]
    fn the_callers_identity_is_restored_even_when_the_work_unwinds() {
        Spi::run("CREATE ROLE plrust_store_test").unwrap();
        Spi::run("SET ROLE plrust_store_test").unwrap();
        // SAFETY: plain reads of the backend's current user.
        let caller = unsafe { pg_sys::GetUserId() };
        let inside = super::as_plrust_owner(|| unsafe { pg_sys::GetUserId() });
        assert_eq!(inside, pg_sys::Oid::from(pg_sys::BOOTSTRAP_SUPERUSERID));
        let unwound =
            std::panic::catch_unwind(|| super::as_plrust_owner(|| panic!("fails inside")));
        assert!(unwound.is_err());
        assert_eq!(unsafe { pg_sys::GetUserId() }, caller);
    }
}
