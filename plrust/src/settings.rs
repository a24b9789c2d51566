//! Every `plrust.*` setting, its safe default and who may change it. One home: other
//! modules read settings only through the functions here. Documented in README.md.

use std::ffi::CString;
use std::path::PathBuf;

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

static WORK_DIR: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static ALLOWED_DEPENDENCIES: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// In MB. 1 GB: room for real work (a sort of a few million rows), small enough that a
/// runaway function in each of a hundred sessions does not take the machine.
static MAX_MEMORY: GucSetting<i32> = GucSetting::<i32>::new(1024);

pub fn register() {
    GucRegistry::define_string_guc(
        c"plrust.work_dir",
        c"Directory where PL/Rust writes a function's crate while compiling it.",
        c"Each build uses a private temporary directory inside it, removed when the build \
          ends. Empty (the default) means the server's temporary directory ($TMPDIR or /tmp).",
        &WORK_DIR,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"plrust.allowed_dependencies",
        c"TOML file listing the crates function bodies may use in [dependencies].",
        c"The original PL/Rust's format. Empty (the default) allows no dependencies. The listed \
          crates must be built ahead of time with scripts/allow-dependencies.sh <file>.",
        &ALLOWED_DEPENDENCIES,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"plrust.max_memory",
        c"Most memory the PL/Rust functions of one session may hold at once.",
        c"Rust's heap in the session's \"PL/Rust\" memory context: an allocation past it \
          fails with ERROR 53200 (out of memory). Counted per session, over all functions.",
        &MAX_MEMORY,
        8,
        i32::MAX,
        GucContext::Suset,
        GucFlags::UNIT_MB,
    );
}

/// `plrust.max_memory` in bytes.
pub fn max_memory_bytes() -> usize {
    usize::try_from(MAX_MEMORY.get()).unwrap_or(0) << 20
}

/// The allow-list file, if one is set.
pub fn allowed_dependencies() -> Option<PathBuf> {
    match ALLOWED_DEPENDENCIES.get() {
        Some(path) if !path.as_bytes().is_empty() => {
            Some(PathBuf::from(path.to_string_lossy().into_owned()))
        }
        _ => None,
    }
}

/// Where builds make their temporary directories.
pub fn work_dir() -> PathBuf {
    match WORK_DIR.get() {
        Some(dir) if !dir.as_bytes().is_empty() => {
            PathBuf::from(dir.to_string_lossy().into_owned())
        }
        _ => std::env::temp_dir(),
    }
}
