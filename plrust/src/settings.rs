//! Every `plrust.*` setting, its safe default and who may change it. One home: other
//! modules read settings only through the functions here. Documented in README.md.

use std::ffi::CString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};

use pgrx::{pg_sys, GucContext, GucFlags, GucRegistry, GucSetting};

use crate::error::PlRustError;
use crate::memory;
use crate::toolchain;

static WORK_DIR: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static COMPILATION_TARGETS: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static ALLOWED_DEPENDENCIES: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// In MB. 1 GB: room for real work (a sort of a few million rows), small enough that a
/// runaway function in each of a hundred sessions does not take the machine. Written by
/// PostgreSQL's GUC machinery (an `AtomicI32` is an `int` in memory); nothing reads it on
/// a call: its assign hook hands every new value to the memory arena.
static MAX_MEMORY: AtomicI32 = AtomicI32::new(1024);

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
    GucRegistry::define_string_guc(
        c"plrust.compilation_targets",
        c"Architectures CREATE FUNCTION also builds for, besides this server's.",
        c"A comma-separated list of x86_64 and aarch64 (the original PL/Rust's names). Each \
          function's artifact for those targets is stored too, so a replica on that \
          architecture runs it without a toolchain.",
        &COMPILATION_TARGETS,
        GucContext::Suset,
        // A list: `SET plrust.compilation_targets = x86_64, aarch64` needs no quotes.
        GucFlags::from_bits_retain(pgrx::pg_sys::GUC_LIST_INPUT as i32),
    );
    // Defined directly, not through pgrx's registry, for the assign hook.
    // SAFETY: the names and texts are static C strings; the value's storage is a static
    // int that lives as long as the process, written only by the GUC machinery.
    unsafe {
        pg_sys::DefineCustomIntVariable(
            c"plrust.max_memory".as_ptr(),
            c"Most memory the PL/Rust functions of one session may hold at once.".as_ptr(),
            c"Rust's heap in the session's \"PL/Rust\" memory context: an allocation past it \
              fails with ERROR 53200 (out of memory). Counted per session, over all functions."
                .as_ptr(),
            MAX_MEMORY.as_ptr(),
            MAX_MEMORY.load(Ordering::Relaxed),
            8,
            i32::MAX,
            pg_sys::GucContext::PGC_SUSET,
            pg_sys::GUC_UNIT_MB as i32,
            None,
            Some(assign_max_memory),
            None,
        );
    }
}

/// Hand a new `plrust.max_memory` (set, reset, or rolled back) to the arena, which applies
/// it from the next allocation on. Called at definition too, with the default. Must not
/// raise: it cannot.
unsafe extern "C-unwind" fn assign_max_memory(mb: std::ffi::c_int, _extra: *mut std::ffi::c_void) {
    memory::set_limit(usize::try_from(mb).unwrap_or(0) << 20);
}

/// The targets to build for: this server's first, then those `plrust.compilation_targets`
/// adds, each once.
pub fn compilation_targets() -> Result<Vec<&'static str>, PlRustError> {
    let listed = COMPILATION_TARGETS
        .get()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    parse_targets(&listed)
}

fn parse_targets(listed: &str) -> Result<Vec<&'static str>, PlRustError> {
    let mut targets = vec![toolchain::HOST_TARGET];
    for name in listed.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let target = toolchain::target_of(name).ok_or_else(|| PlRustError::UnknownTarget {
            name: name.to_owned(),
        })?;
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    Ok(targets)
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

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn targets_start_with_the_hosts_and_name_each_once() {
        let host = toolchain::HOST_TARGET;
        assert_eq!(parse_targets("").unwrap(), vec![host]);
        let both = parse_targets(" aarch64 , x86_64,AARCH64,").unwrap();
        assert_eq!(both[0], host);
        assert_eq!(both.len(), 2);
        assert!(both.contains(&"aarch64-postgres-linux-gnu"));
        assert!(both.contains(&"x86_64-postgres-linux-gnu"));
        match parse_targets("x86_64, riscv64") {
            Err(PlRustError::UnknownTarget { name }) => assert_eq!(name, "riscv64"),
            other => panic!("expected UnknownTarget, got {other:?}"),
        }
    }
}
