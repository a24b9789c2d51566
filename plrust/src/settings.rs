//! Every `plrust.*` setting, its safe default and who may change it. One home: other
//! modules read settings only through the functions here. Documented in README.md.

use std::ffi::CString;
use std::path::PathBuf;

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

static WORK_DIR: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

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
