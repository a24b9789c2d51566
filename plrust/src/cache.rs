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
use std::rc::Rc;

use pgrx::pg_sys;

use crate::error::PlRustError;
use crate::loader::{self, EntryPoint, LoadedLibrary};
use crate::memory;
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
}

/// A loaded library and the `EPOCH` it was last loaded or run (as a DO block) in.
struct Library {
    loaded: LoadedLibrary,
    last_used: Cell<u64>,
}

thread_local! {
    static ENTRIES: RefCell<HashMap<pg_sys::Oid, &'static FnEntry>> = RefCell::new(HashMap::new());
    static LIBRARIES: RefCell<HashMap<String, Rc<Library>>> = RefCell::new(HashMap::new());
    /// How many top-level transactions this backend has ended, plus one.
    static EPOCH: Cell<u64> = const { Cell::new(1) };
    /// The epoch `release_unused` last ran in.
    static RELEASE_CHECKED: Cell<u64> = const { Cell::new(1) };
    /// Set when a library may have become unused: an entry emptied, a DO block run.
    static RELEASE_PENDING: Cell<bool> = const { Cell::new(false) };
}

/// Call the PL/Rust function `fcinfo` is for.
///
/// # Safety
/// `fcinfo` is a live call of a PL/Rust function, from the function manager.
pub unsafe fn call(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: the function manager gives a valid fcinfo with a valid flinfo.
    let flinfo = unsafe { &mut *(*fcinfo).flinfo };
    let entry: &'static FnEntry = if flinfo.fn_extra.is_null() {
        let entry = entry_for(flinfo.fn_oid);
        flinfo.fn_extra = (entry as *const FnEntry).cast_mut().cast();
        entry
    } else {
        // SAFETY: fn_extra of a PL/Rust call is only ever set to a leaked FnEntry above.
        unsafe { &*flinfo.fn_extra.cast::<FnEntry>() }
    };
    entry.last_call.set(transaction_epoch());
    memory::before_call();
    let function = match entry.entry.get() {
        Some(function) => function,
        None => resolve(entry).unwrap_or_else(|e| e.report()),
    };
    // The function library raises its ERRORs with longjmp: `run` catches them, turns
    // them into a Rust panic that unwinds our frames, and #[pg_guard] re-raises them.
    // SAFETY: the closure holds nothing with a destructor; fcinfo is the live call's.
    unsafe { overflow::run(entry.fn_oid, || function(fcinfo)) }
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
    }));
    ENTRIES.with(|e| e.borrow_mut().insert(fn_oid, entry));
    entry
}

/// Find (load, or build) the function's current code and remember its entry point.
fn resolve(entry: &'static FnEntry) -> Result<EntryPoint, PlRustError> {
    loop {
        let generation = entry.generation.get();
        let def = ProcDef::load(entry.fn_oid)?;
        let krate = pipeline::generate(&def, toolchain::HOST_TARGET)?;
        let key = pipeline::artifact_key(&krate);
        let library = library(key, |key| {
            pipeline::object_for(krate, key).map_err(|e| match e {
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
    object: impl FnOnce(&str) -> Result<Vec<u8>, PlRustError>,
) -> Result<Rc<Library>, PlRustError> {
    let library = match LIBRARIES.with(|l| l.borrow().get(&key).cloned()) {
        Some(library) => library,
        None => {
            let library = Rc::new(Library {
                loaded: loader::load(&object(&key)?, &key)?,
                last_used: Cell::new(0),
            });
            LIBRARIES.with(|l| l.borrow_mut().insert(key, library.clone()));
            library
        }
    };
    library.last_used.set(EPOCH.get());
    Ok(library)
}

/// The current `EPOCH`; at the first PL/Rust call or DO block of a transaction, first
/// unload what earlier transactions left unused. Per call: two thread-local reads.
fn transaction_epoch() -> u64 {
    let epoch = EPOCH.get();
    if RELEASE_CHECKED.get() != epoch {
        release_unused(epoch);
    }
    epoch
}

/// Unload the libraries nothing needs any more (see the module comment). Runs at the
/// first PL/Rust call or DO block of each transaction; does work only after an
/// invalidation or a DO block.
fn release_unused(epoch: u64) {
    RELEASE_CHECKED.set(epoch);
    if !RELEASE_PENDING.replace(false) {
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
    RELEASE_PENDING.set(waiting);
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

/// Run a `DO` block's code once. Identical blocks share one artifact: the second run in
/// this backend finds the library loaded, in another backend finds it stored.
pub fn run_do_block(source: String) -> Result<(), PlRustError> {
    transaction_epoch();
    let krate = pipeline::generate(&ProcDef::do_block(source), toolchain::HOST_TARGET)?;
    let key = pipeline::artifact_key(&krate);
    let library = library(key, |key| pipeline::object_for(krate, key))?;
    // Unloaded in a later transaction, unless an identical block runs again.
    RELEASE_PENDING.set(true);
    // The entry point takes a call's fcinfo: a call without arguments, whose result (void)
    // is dropped. Nothing in it needs the function's oid.
    // SAFETY: plain C structs, for which all zeroes is a valid (empty) value.
    let mut flinfo: pg_sys::FmgrInfo = unsafe { std::mem::zeroed() };
    // SAFETY: as above; the trailing argument array is empty (nargs 0).
    let mut fcinfo: pg_sys::FunctionCallInfoBaseData = unsafe { std::mem::zeroed() };
    fcinfo.flinfo = &mut flinfo;
    memory::before_call();
    let entry = library.loaded.entry;
    // SAFETY: the closure holds nothing with a destructor (the library stays in
    // LIBRARIES, for this transaction at least); fcinfo lives on this frame for the
    // whole call.
    unsafe { overflow::run(pg_sys::InvalidOid, || entry(&mut fcinfo)) };
    Ok(())
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
        EPOCH.set(EPOCH.get() + 1);
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
                RELEASE_PENDING.set(true);
            }
        }
    });
}
