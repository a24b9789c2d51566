//! Stage 7: the per-backend cache and the call path.
//!
//! Each function called in this backend gets one `FnEntry`, allocated once and never
//! freed (a few dozen bytes per function), so `flinfo->fn_extra` can point at it for
//! the life of the backend. The entry holds the function's entry point, or nothing when
//! it must be (re)resolved. A syscache callback on `pg_proc` empties the entries of
//! changed functions (CREATE OR REPLACE, DROP, ALTER, here or in another session), so a
//! call never reads the catalog to find out whether its code is current.
//!
//! Invariant: after the first call, the per-call path is: read `fn_extra`, stamp the
//! entry with the transaction's epoch, read the entry point, call it. No catalog
//! access, no hashing, no allocation.
//!
//! Loaded libraries are kept by artifact key: a function replaced by an identical body,
//! or two functions with the same body, share one mapping.
//!
//! A library no function needs any more (its functions dropped or replaced) is unloaded
//! (`dlclose`) at the first PL/Rust call of a later transaction, never sooner: until its
//! transaction ends, a frame of the old version may still be on the stack, or memory of
//! the transaction may hold a callback into its code (an aggregate's state, say); at
//! transaction end PostgreSQL has run and freed all of those. So a library is unloaded
//! only if no entry holds it and neither it nor a function using it ran in the current
//! transaction (`EPOCH`, bumped as each top-level transaction ends).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use pgrx::pg_sys;

use crate::error::PlRustError;
use crate::loader::{self, EntryPoint, LoadedLibrary};
use crate::overflow;
use crate::pg_proc::{self, ProcDef};
use crate::pipeline;
use crate::toolchain;

struct FnEntry {
    fn_oid: pg_sys::Oid,
    /// The function's entry point; `None` until resolved and after an invalidation.
    entry: Cell<Option<EntryPoint>>,
    /// The pg_proc syscache hash of `fn_oid`, to match invalidation messages.
    hash_value: u32,
    /// Bumped by every invalidation, so a resolve that raced one is redone.
    generation: Cell<u64>,
    /// The library `entry` is in. Kept after an invalidation until `release_unused`
    /// finds the function was not called in the current transaction.
    library: RefCell<Option<Rc<Library>>>,
    /// `EPOCH` at the function's latest call.
    last_call: Cell<u64>,
    /// The function is STABLE or IMMUTABLE, so its SQL runs read-only; read with the
    /// entry point (an ALTER FUNCTION empties both), for [`plrust_call_read_only`].
    read_only: Cell<bool>,
}

/// A loaded library and the `EPOCH` it was last loaded or run (as a DO block) in.
struct Library {
    loaded: LoadedLibrary,
    last_used: Cell<u64>,
}

thread_local! {
    static ENTRIES: RefCell<HashMap<pg_sys::Oid, &'static FnEntry>> = RefCell::new(HashMap::new());
    static LIBRARIES: RefCell<HashMap<String, Rc<Library>>> = RefCell::new(HashMap::new());
}

// Read on every call: plain statics, not thread-locals, which in a dlopen'ed library
// cost a call into the dynamic loader each. The backend is single-threaded; the atomics
// (Relaxed: plain loads and stores) only make the statics `Sync`.
/// How many top-level transactions this backend has ended, plus one.
static EPOCH: AtomicU64 = AtomicU64::new(1);
/// The epoch `release_unused` last ran in.
static RELEASE_CHECKED: AtomicU64 = AtomicU64::new(1);
/// Set when a library may have become unused: an entry emptied, a DO block run.
static RELEASE_PENDING: AtomicBool = AtomicBool::new(false);

/// Call the PL/Rust function `fcinfo` is for.
///
/// The hot path (the function resolved, the transaction's unused libraries already
/// released) reads `fn_extra` and two atomics and jumps into the library under the trap:
/// no Rust panic can start on it, so it needs no panic guard. Everything else goes
/// through [`call_slow`], under pgrx's guard.
///
/// # Safety
/// `fcinfo` is a live call of a PL/Rust function, from the function manager, whose
/// recovery point is PostgreSQL's: the frames between it and here are plain (see
/// [`overflow::run`]).
#[inline(always)]
pub unsafe fn call(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: the function manager gives a valid fcinfo with a valid flinfo; fn_extra of
    // a PL/Rust call is null or a leaked FnEntry (set below, in `call_slow`).
    let entry = unsafe { (*(*fcinfo).flinfo).fn_extra.cast::<FnEntry>().as_ref() };
    let epoch = EPOCH.load(Ordering::Relaxed);
    let resolved = match entry {
        Some(entry) if RELEASE_CHECKED.load(Ordering::Relaxed) == epoch => {
            entry.entry.get().map(|function| {
                entry.last_call.set(epoch);
                (entry.fn_oid, function)
            })
        }
        _ => None,
    };
    // SAFETY: as above.
    let (fn_oid, function) = resolved.unwrap_or_else(|| unsafe { call_slow(fcinfo) });
    // The function library raises its ERRORs with longjmp; `run` is their recovery point
    // and raises them again to PostgreSQL's, over our (plain) frames.
    // SAFETY: the closure holds nothing with a destructor; fcinfo is the live call's.
    unsafe { overflow::run(fn_oid, || function(fcinfo)) }
}

/// The first call through this `flinfo`, the first PL/Rust call of a transaction, or a
/// call of a function that must be (re)resolved: find the entry, release what earlier
/// transactions left unused, resolve. Under pgrx's guard: a panic here becomes an ERROR.
///
/// # Safety
/// As for [`call`].
#[cold]
#[inline(never)]
unsafe fn call_slow(fcinfo: pg_sys::FunctionCallInfo) -> (pg_sys::Oid, EntryPoint) {
    // SAFETY: as for `call`; an ERROR raised inside leaves through the guard's own
    // reporting, and the frames it skips (ours, the handler's) are plain.
    unsafe {
        pgrx::pg_sys::panic::pgrx_extern_c_guard(|| {
            let flinfo = &mut *(*fcinfo).flinfo;
            let entry: &'static FnEntry = match flinfo.fn_extra.cast::<FnEntry>().as_ref() {
                Some(entry) => entry,
                None => {
                    let entry = entry_for(flinfo.fn_oid);
                    flinfo.fn_extra = ptr::from_ref(entry).cast_mut().cast();
                    entry
                }
            };
            entry.last_call.set(transaction_epoch());
            let function = match entry.entry.get() {
                Some(function) => function,
                None => resolve(entry).unwrap_or_else(|e| e.report()),
            };
            (entry.fn_oid, function)
        })
    }
}

fn entry_for(fn_oid: pg_sys::Oid) -> &'static FnEntry {
    if let Some(entry) = ENTRIES.with(|e| e.borrow().get(&fn_oid).copied()) {
        return entry;
    }
    // SAFETY: computes a hash of a plain oid key for the PROCOID cache.
    let hash_value = unsafe {
        pg_sys::GetSysCacheHashValue(
            pg_sys::SysCacheIdentifier::PROCOID as i32,
            pg_sys::Datum::from(fn_oid),
            pg_sys::Datum::from(0),
            pg_sys::Datum::from(0),
            pg_sys::Datum::from(0),
        )
    };
    let entry: &'static FnEntry = Box::leak(Box::new(FnEntry {
        fn_oid,
        entry: Cell::new(None),
        hash_value,
        generation: Cell::new(0),
        library: RefCell::new(None),
        last_call: Cell::new(0),
        read_only: Cell::new(false),
    }));
    ENTRIES.with(|e| e.borrow_mut().insert(fn_oid, entry));
    entry
}

/// Find (load, or build) the function's current code and remember its entry point.
fn resolve(entry: &'static FnEntry) -> Result<EntryPoint, PlRustError> {
    loop {
        let generation = entry.generation.get();
        let def = ProcDef::load(entry.fn_oid)?;
        entry.read_only.set(def.read_only);
        let key = pipeline::key(&def, toolchain::HOST_TARGET)?;
        let library = library(key, |key| {
            pipeline::object_for(&def, key).map_err(|e| match e {
                // No artifact and no toolchain (a standby, typically): say what to do.
                PlRustError::ToolchainMissing { .. } | PlRustError::ToolchainMismatch { .. } => {
                    PlRustError::NotBuilt {
                        function: pg_proc::function_name(entry.fn_oid),
                        target: toolchain::HOST_TARGET,
                        cause: Box::new(e),
                    }
                }
                e => e,
            })
        })?;
        // Catalog reads above may have processed an invalidation of this very function;
        // then what we resolved may be stale: go again.
        if entry.generation.get() == generation {
            let function = library.loaded.entry;
            entry.entry.set(Some(function));
            entry.library.replace(Some(library));
            return Ok(function);
        }
    }
}

/// The library with artifact `key`: already loaded in this backend, or loaded now from
/// the object `object` finds (stored or built).
fn library(
    key: String,
    object: impl FnOnce(&str) -> Result<loader::Object, PlRustError>,
) -> Result<Rc<Library>, PlRustError> {
    let library = match LIBRARIES.with(|l| l.borrow().get(&key).cloned()) {
        Some(library) => library,
        None => {
            let library = Rc::new(Library {
                loaded: loader::load(&key, || object(&key))?,
                last_used: Cell::new(0),
            });
            LIBRARIES.with(|l| l.borrow_mut().insert(key, library.clone()));
            library
        }
    };
    library.last_used.set(EPOCH.load(Ordering::Relaxed));
    Ok(library)
}

/// The current `EPOCH`; at the first PL/Rust call or DO block of a transaction, first
/// unload what earlier transactions left unused. (`call`'s hot path makes the same
/// comparison inline and comes here only when it fails.)
fn transaction_epoch() -> u64 {
    let epoch = EPOCH.load(Ordering::Relaxed);
    if RELEASE_CHECKED.load(Ordering::Relaxed) != epoch {
        release_unused(epoch);
    }
    epoch
}

/// Unload the libraries nothing needs any more (see the module comment). Runs at the
/// first PL/Rust call or DO block of each transaction; does work only after an
/// invalidation or a DO block.
fn release_unused(epoch: u64) {
    RELEASE_CHECKED.store(epoch, Ordering::Relaxed);
    if !RELEASE_PENDING.swap(false, Ordering::Relaxed) {
        return;
    }
    let mut waiting = false;
    ENTRIES.with(|entries| {
        for entry in entries.borrow().values() {
            if entry.entry.get().is_some() || entry.library.borrow().is_none() {
                continue;
            }
            if entry.last_call.get() < epoch {
                entry.library.replace(None);
            } else {
                waiting = true;
            }
        }
    });
    LIBRARIES.with(|libraries| {
        libraries.borrow_mut().retain(|_, library| {
            let held = Rc::strong_count(library) > 1;
            let recent = library.last_used.get() >= epoch;
            waiting |= !held && recent;
            // Dropping the last Rc unloads the library.
            held || recent
        })
    });
    RELEASE_PENDING.store(waiting, Ordering::Relaxed);
}

/// Whether the running PL/Rust call `fcinfo` runs its SQL read-only: its function is
/// STABLE or IMMUTABLE, as in PL/pgSQL (false for a DO block). Function libraries link to
/// this symbol, as to `plrust_arena`, and ask it when an SPI connection opens: the answer
/// is the entry's, read when the function was resolved, so no call reads the catalog.
///
/// # Safety
/// `fcinfo` is a call that PL/Rust's call or inline handler is running.
#[no_mangle]
pub unsafe extern "C" fn plrust_call_read_only(fcinfo: pg_sys::FunctionCallInfo) -> bool {
    // SAFETY: the handler's live call: fn_extra is null (a DO block's zeroed flinfo) or
    // the entry `call_slow` set.
    unsafe {
        (*(*fcinfo).flinfo)
            .fn_extra
            .cast::<FnEntry>()
            .as_ref()
            .is_some_and(|entry| entry.read_only.get())
    }
}

/// The libraries loaded in this backend, by artifact key, with how many of this
/// backend's functions use each (`plrust.loaded_libraries()`).
pub fn loaded_libraries() -> Vec<(String, i32)> {
    LIBRARIES.with(|libraries| {
        libraries
            .borrow()
            .iter()
            .map(|(key, library)| (key.clone(), Rc::strong_count(library) as i32 - 1))
            .collect()
    })
}

/// Load (or build) a `DO` block's code, for [`run_do_block`]. Identical blocks share one
/// artifact: the second run in this backend finds the library loaded, in another backend
/// finds it stored.
pub fn load_do_block(source: String) -> Result<EntryPoint, PlRustError> {
    transaction_epoch();
    let def = ProcDef::do_block(source);
    let key = pipeline::key(&def, toolchain::HOST_TARGET)?;
    let library = library(key, |key| pipeline::object_for(&def, key))?;
    // Unloaded in a later transaction, unless an identical block runs again; until then
    // LIBRARIES keeps it mapped.
    RELEASE_PENDING.store(true, Ordering::Relaxed);
    Ok(library.loaded.entry)
}

/// Run a `DO` block's code once.
///
/// # Safety
/// `entry` is from [`load_do_block`] in this transaction; as for [`call`], the caller's
/// frames up to PostgreSQL's recovery point are plain.
pub unsafe fn run_do_block(entry: EntryPoint) {
    // The entry point takes a call's fcinfo: a call without arguments, whose result (void)
    // is dropped. Nothing in it needs the function's oid.
    // SAFETY: plain C structs, for which all zeroes is a valid (empty) value.
    let mut flinfo: pg_sys::FmgrInfo = unsafe { std::mem::zeroed() };
    // SAFETY: as above; the trailing argument array is empty (nargs 0).
    let mut fcinfo: pg_sys::FunctionCallInfoBaseData = unsafe { std::mem::zeroed() };
    fcinfo.flinfo = &mut flinfo;
    // SAFETY: the closure holds nothing with a destructor; fcinfo lives on this frame for
    // the whole call.
    unsafe { overflow::run(pg_sys::InvalidOid, || entry(&mut fcinfo)) };
}

/// Register the pg_proc invalidation callback and the transaction-end callback; once
/// per backend, from `_PG_init`.
pub fn register_callbacks() {
    // SAFETY: registering callbacks with 'static function pointers.
    unsafe {
        pg_sys::CacheRegisterSyscacheCallback(
            pg_sys::SysCacheIdentifier::PROCOID as i32,
            Some(on_pg_proc_invalidation),
            pg_sys::Datum::from(0),
        );
        pg_sys::RegisterXactCallback(Some(on_transaction_end), std::ptr::null_mut());
    }
}

/// Count ended top-level transactions: everything a transaction allocated is freed by
/// the time the next one runs a PL/Rust function. Must not error.
#[pgrx::pg_guard]
extern "C-unwind" fn on_transaction_end(
    event: pg_sys::XactEvent::Type,
    _arg: *mut std::ffi::c_void,
) {
    use pg_sys::XactEvent::*;
    if matches!(
        event,
        XACT_EVENT_COMMIT
            | XACT_EVENT_PARALLEL_COMMIT
            | XACT_EVENT_ABORT
            | XACT_EVENT_PARALLEL_ABORT
            | XACT_EVENT_PREPARE
    ) {
        EPOCH.fetch_add(1, Ordering::Relaxed);
    }
}

/// Forget the entry points of functions whose pg_proc row changed. Runs inside
/// invalidation processing: must not error, allocate or touch the catalog.
#[pgrx::pg_guard]
extern "C-unwind" fn on_pg_proc_invalidation(_arg: pg_sys::Datum, _cache_id: i32, hash_value: u32) {
    ENTRIES.with(|entries| {
        // The map is borrowed mutably only by `entry_for`'s insert, which calls nothing
        // that could process invalidations, so this borrow always succeeds.
        let Ok(entries) = entries.try_borrow() else {
            return;
        };
        for entry in entries.values() {
            if hash_value == 0 || entry.hash_value == hash_value {
                entry.entry.set(None);
                entry.generation.set(entry.generation.get() + 1);
                RELEASE_PENDING.store(true, Ordering::Relaxed);
            }
        }
    });
}
