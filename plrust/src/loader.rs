//! Stage 6: stored artifact bytes -> a library loaded into this backend.
//!
//! The bytes are written to a private temporary file with a random name (under
//! `plrust.work_dir`), `dlopen`ed, and the file is removed at once: the mapping stays.
//! The name must be unique for the life of the backend, because the dynamic loader
//! hands back an already-loaded library when asked for a path it has seen, even if the
//! file behind the path changed (a reused `/proc/self/fd/N` would do exactly that).

use std::io::Write;

use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
use pgrx::pg_sys;

use crate::codegen::{ENTRY_SYMBOL, INIT_SYMBOL};
use crate::error::PlRustError;
use crate::settings;

/// The entry point every function library exports.
pub type EntryPoint = unsafe extern "C-unwind" fn(pg_sys::FunctionCallInfo) -> pg_sys::Datum;
type InitPoint = unsafe extern "C-unwind" fn();

/// A function library mapped into this backend. Keeping it keeps the code mapped.
pub struct LoadedLibrary {
    _library: Library,
    pub entry: EntryPoint,
}

pub fn load(object: &[u8], key: &str) -> Result<LoadedLibrary, PlRustError> {
    let mut file = tempfile::Builder::new()
        .prefix(&format!("plrust-{}-", &key[..key.len().min(16)]))
        .suffix(".so")
        .tempfile_in(settings::work_dir())
        .map_err(PlRustError::WorkDir)?;
    file.write_all(object).map_err(PlRustError::WorkDir)?;
    file.flush().map_err(PlRustError::WorkDir)?;

    // SAFETY: the object was built by PL/Rust's compile stage for this server: its
    // initialisers are std's and pgrx's, which do not touch the backend's state.
    let library = unsafe { Library::open(Some(file.path()), RTLD_NOW | RTLD_LOCAL) }
        .map_err(|e| PlRustError::Load(e.to_string()))?;
    // The mapping outlives the file.
    drop(file);

    // SAFETY: the generated crate exports both symbols with exactly these signatures.
    let (init, entry) = unsafe {
        let init = *library
            .get::<InitPoint>(INIT_SYMBOL.as_bytes())
            .map_err(|e| PlRustError::Load(e.to_string()))?;
        let entry = *library
            .get::<EntryPoint>(ENTRY_SYMBOL.as_bytes())
            .map_err(|e| PlRustError::Load(e.to_string()))?;
        (init, entry)
    };
    // SAFETY: called once, right after loading, on the backend's main thread.
    unsafe { init() };
    Ok(LoadedLibrary {
        _library: library,
        entry,
    })
}
