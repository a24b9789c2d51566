//! Stage 6: an artifact -> a library loaded into this backend.
//!
//! Committed artifacts are also kept as files in the *object cache*, a private directory
//! under `plrust.work_dir` per database, shared by its backends (and a physical
//! standby's, if it names the same directory): one file per artifact key, named by it.
//! A backend whose function's file is there `dlopen`s it directly, without
//! reading `plrust.artifacts`, decompressing or writing anything, and backends that run
//! the same function share its pages. The file is written once, at the first load after
//! the artifact's row committed (write to a temporary name, then `rename`: no backend
//! ever opens a partial file), and removed by `plrust.cleanup_artifacts` with the row.
//!
//! Invariants:
//! - A file in the cache holds exactly the bytes of a committed row of `plrust.artifacts`
//!   with its key. Keys are SHA-256 of everything that affects the build (the toolchain
//!   included), so a file stays right for its name for as long as it exists; a row
//!   deleted or rolled back later only leaves a file nothing asks for.
//! - An artifact seen only by this transaction (its row stored by this transaction, or
//!   built where no row can be stored) never enters the cache: it is staged in a private
//!   temporary file with a random name, `dlopen`ed, and removed at once (the mapping
//!   stays). Such a name must be unique for the life of the backend, because the dynamic
//!   loader hands back an already-loaded library when asked for a path it has seen.
//! - The cache is used only if its directory is ours and private (see [`cache_dir`]): a
//!   file in it is code this server runs.
//! - The runtime (std and the trusted API, one Rust dylib every function library links
//!   dynamically) is opened, by absolute path from the server's library directory, where
//!   it is installed beside plrust.so (a standby without the toolchain has it too), before
//!   the first function library and never closed: a library's
//!   `NEEDED libplrust_runtime.so` is then satisfied by its soname, with no search path. It is opened with lazy binding, so a
//!   backend resolves only the PostgreSQL functions it calls.

use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use libloading::os::unix::{Library, RTLD_LAZY, RTLD_LOCAL, RTLD_NOW};
use pgrx::pg_sys;

use crate::codegen::{ENTRY_SYMBOL, INIT_SYMBOL};
use crate::error::PlRustError;
use crate::settings;

/// The runtime's file in the server's library directory (`scripts/install.sh` puts it
/// there). Its soname is `libplrust_runtime.so`, the name function libraries need.
const RUNTIME_FILE: &str = "plrust_runtime.so";

/// The entry point every function library exports.
pub type EntryPoint = unsafe extern "C-unwind" fn(pg_sys::FunctionCallInfo) -> pg_sys::Datum;
type InitPoint = unsafe extern "C-unwind" fn();

/// A function library mapped into this backend. Keeping it keeps the code mapped.
pub struct LoadedLibrary {
    _library: Library,
    pub entry: EntryPoint,
}

/// An artifact's shared object, as the artifact store or a build gave it.
pub struct Object {
    pub bytes: Vec<u8>,
    /// Read from a row another transaction committed, so other backends may share it
    /// through the object cache.
    pub committed: bool,
}

/// The library of artifact `key`: from the object cache, or else from the object
/// `object` finds (stored or built), which then enters the cache if it is committed.
pub fn load(
    key: &str,
    object: impl FnOnce() -> Result<Object, PlRustError>,
) -> Result<LoadedLibrary, PlRustError> {
    let cache = cache_dir();
    let cached = cache.as_deref().map(|dir| dir.join(file_name(key)));
    if let Some(path) = &cached {
        match open(path) {
            Ok(library) => return Ok(library),
            // A file that does not load (damaged, or put there by hand) is replaced below.
            Err(_) if path.exists() => {
                let _ = fs::remove_file(path);
            }
            Err(_) => {}
        }
    }
    let object = object()?;
    if let (Some(dir), Some(path), true) = (&cache, &cached, object.committed) {
        // A cache that cannot be written (a full disk) only costs the sharing.
        if publish(dir, path, &object.bytes).is_ok() {
            if let Ok(library) = open(path) {
                return Ok(library);
            }
        }
    }
    load_private(&object.bytes, key)
}

/// Remove the object cache's files of artifacts `keys`, where there are any. A backend
/// that has one loaded keeps its mapping.
pub fn evict(keys: &[String]) {
    if let Some(dir) = cache_dir() {
        for key in keys {
            let _ = fs::remove_file(dir.join(file_name(key)));
        }
    }
}

/// The object cache's directory under `plrust.work_dir`, or `None`: see [`private_dir`].
/// One per PostgreSQL major (the objects link against the server), cluster (its system
/// identifier, which a physical standby shares with its primary) and database: a file
/// stands for a row of this database's `plrust.artifacts`, so a function with no
/// artifact here (restored with `check_function_bodies = off`, say) is built and checked
/// against the allow-list here, never taken from another cluster or database that
/// shares the directory.
fn cache_dir() -> Option<PathBuf> {
    // SAFETY: reads of the backend's cluster identity and database, set before any
    // function can run.
    let (system, database) = unsafe { (pg_sys::GetSystemIdentifier(), pg_sys::MyDatabaseId) };
    private_dir(
        &settings::work_dir(),
        &format!(
            "plrust-objects-pg{}-{system}-{}",
            pg_sys::PG_MAJORVERSION_NUM,
            u32::from(database)
        ),
    )
}

/// `parent/name`, created (mode 0700) if missing, if only we can change what is in it:
/// it is a directory (not a symlink) of ours with no access for others, in a parent of
/// ours or root's that others cannot write, or only with the sticky bit (as `/tmp`), so
/// that they cannot put another directory in its place. Otherwise `None`: no cache, and
/// every load stages a private file.
fn private_dir(parent: &Path, name: &str) -> Option<PathBuf> {
    // SAFETY: reads the process's effective uid.
    let uid = unsafe { libc::geteuid() };
    let parent_meta = fs::metadata(parent).ok()?;
    let parent_safe = (parent_meta.uid() == uid || parent_meta.uid() == 0)
        && (parent_meta.mode() & 0o022 == 0 || parent_meta.mode() & 0o1000 != 0);
    if !parent_safe {
        return None;
    }
    let dir = parent.join(name);
    if let Err(e) = fs::DirBuilder::new().mode(0o700).create(&dir) {
        if e.kind() != std::io::ErrorKind::AlreadyExists {
            return None;
        }
    }
    // Not followed: a symlink in its place is refused like any other stranger's file.
    let meta = fs::symlink_metadata(&dir).ok()?;
    (meta.is_dir() && meta.uid() == uid && meta.mode() & 0o077 == 0).then_some(dir)
}

fn file_name(key: &str) -> String {
    format!("plrust-{key}.so")
}

/// Write `bytes` to `path` in `dir` so that no reader ever sees a partial file.
fn publish(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = tempfile::Builder::new()
        .prefix(".plrust-")
        .suffix(".partial")
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    // Read-only, so that nothing writes it in place (not even the server's own user,
    // through `COPY ... TO`): truncating a file that backends have mapped would kill them
    // with SIGBUS. Replacing it (a rename, as here) leaves their mappings alone.
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o400))?;
    // On disk before it has its name: after a crash, a file under a key's name is whole
    // (a cut-short one could map, then fault when its code is reached).
    file.as_file().sync_all()?;
    // Another backend may have published the same key meanwhile: the same bytes, so
    // replacing its file changes nothing for anyone.
    file.persist(path)?;
    Ok(())
}

/// Load bytes no other backend may share, through a private file removed at once.
fn load_private(object: &[u8], key: &str) -> Result<LoadedLibrary, PlRustError> {
    let mut file = tempfile::Builder::new()
        .prefix(&format!("plrust-{key}-"))
        .suffix(".so")
        .tempfile_in(settings::work_dir())
        .map_err(PlRustError::WorkDir)?;
    file.write_all(object).map_err(PlRustError::WorkDir)?;
    file.flush().map_err(PlRustError::WorkDir)?;
    let library = open(file.path())?;
    // The mapping outlives the file.
    drop(file);
    Ok(library)
}

/// Open this machine's runtime, once per process (a backend, or the postmaster when
/// plrust is preloaded, whose backends then inherit it).
pub fn open_runtime() -> Result<(), PlRustError> {
    static RUNTIME: once_cell::sync::OnceCell<Library> = once_cell::sync::OnceCell::new();
    RUNTIME
        .get_or_try_init(|| {
            // SAFETY: a NUL-terminated path PostgreSQL set at startup and never changes.
            let libdir =
                unsafe { std::ffi::CStr::from_ptr((&raw const pg_sys::pkglib_path).cast()) };
            let libdir = Path::new(std::ffi::OsStr::from_bytes(libdir.to_bytes()));
            let path = libdir.join(RUNTIME_FILE);
            // SAFETY: the runtime scripts/install.sh installed with this plrust.so; its initialisers are std's and
            // pgrx's, which do not touch the backend's state. Kept open for good.
            unsafe { Library::open(Some(&path), RTLD_LAZY | RTLD_LOCAL) }
                .map_err(|e| PlRustError::Load(format!("the PL/Rust runtime: {e}")))
        })
        .map(drop)
}

fn open(path: &Path) -> Result<LoadedLibrary, PlRustError> {
    open_runtime()?;
    // SAFETY: the object was built by PL/Rust's compile stage for this server: its
    // initialisers are std's and pgrx's, which do not touch the backend's state.
    let library = unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) }
        .map_err(|e| PlRustError::Load(e.to_string()))?;
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
    // SAFETY: right after loading, on the backend's main thread. (`cache` keeps one
    // library per key, so a mapping is initialised again only if a `dlclose` left it
    // mapped; `init` only installs the panic hook, which may be installed again.)
    unsafe { init() };
    Ok(LoadedLibrary {
        _library: library,
        entry,
    })
}

#[cfg(test)]
mod unit_tests {
    use std::fs;
    use std::os::unix::fs::{symlink, PermissionsExt};

    use super::private_dir;

    fn chmod(path: &std::path::Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn the_cache_directory_is_created_private() {
        let parent = tempfile::tempdir().unwrap();
        let dir = private_dir(parent.path(), "cache").expect("a private directory");
        assert_eq!(dir, parent.path().join("cache"));
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        // And found again.
        assert_eq!(private_dir(parent.path(), "cache"), Some(dir));
    }

    #[test]
    fn a_directory_others_can_use_is_refused() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("cache");
        fs::create_dir(&dir).unwrap();
        chmod(&dir, 0o755);
        assert_eq!(private_dir(parent.path(), "cache"), None);
        chmod(&dir, 0o700);
        assert!(private_dir(parent.path(), "cache").is_some());
        // Someone else's, however private.
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
        assert_eq!(private_dir(parent.path(), "cache"), None);
    }

    #[test]
    fn a_symlink_in_its_place_is_refused() {
        let parent = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        chmod(elsewhere.path(), 0o700);
        symlink(elsewhere.path(), parent.path().join("cache")).unwrap();
        assert_eq!(private_dir(parent.path(), "cache"), None);
    }

    #[test]
    fn a_parent_others_can_write_needs_the_sticky_bit() {
        let parent = tempfile::tempdir().unwrap();
        chmod(parent.path(), 0o777);
        assert_eq!(private_dir(parent.path(), "cache"), None);
        assert!(!parent.path().join("cache").exists());
        chmod(parent.path(), 0o1777);
        assert!(private_dir(parent.path(), "cache").is_some());
    }
}
