//! Where the compile stage finds what setup installed: the toolchain, the postgrestd
//! sysroot, the target specs and the prebuilt dependency closure, all under
//! `PLRUST_HOME` (fixed when the extension is built; `/opt/plrust` by default), a
//! root-owned tree the `postgres` OS user can read.
//!
//! ```text
//! $PLRUST_HOME/toolchain/bin/rustc                         pinned rustc (1.95.0)
//! $PLRUST_HOME/toolchain/gcc-ld/ld.mold                    the linker, for gcc's -B
//! $PLRUST_HOME/targets/<triple>.json                       target specs
//! $PLRUST_HOME/sysroot/lib/rustlib/<triple>/lib/           postgrestd
//! $PLRUST_HOME/closure/<triple>/runtime/libplrust_runtime.so  std and the API bodies
//!                                                          see, one Rust dylib (+ .rmeta)
//! $PLRUST_HOME/closure/<triple>/{target,host}/             its dependencies' rlibs
//! $PLRUST_HOME/BUILD_ID                                    identity of all the above
//! $PLRUST_HOME/dependencies/<triple>/<BUILD_ID>/<sha256>/  allowed crates, per allow-list
//! ```

use std::path::{Path, PathBuf};

use once_cell::sync::OnceCell;

use crate::error::PlRustError;

const HOME: &str = match option_env!("PLRUST_HOME") {
    Some(home) => home,
    None => "/opt/plrust",
};

/// Identifies the toolchain, postgrestd and dependency closure this extension was built
/// with (setup passes it at build time). Part of every artifact key, so a new toolchain
/// means new artifacts; known without the toolchain, so a standby can find artifacts.
/// Setup computes it from the inputs of every target's build (rustc's version, the
/// postgrestd patch series and target specs, the closure's sources and lockfile), never
/// from built files, so the same release on an x86_64 primary and an aarch64 replica
/// computes the same keys.
pub const BUILD_ID: &str = match option_env!("PLRUST_BUILD_ID") {
    Some(id) => id,
    None => "unset",
};

/// Where `scripts/allow-dependencies.sh` installs prebuilt dependency sets for `target`
/// (built against this extension's toolchain, postgrestd and closure).
pub fn dependency_sets_dir(target: &str) -> PathBuf {
    Path::new(HOME)
        .join("dependencies")
        .join(target)
        .join(BUILD_ID)
}

/// Every target PL/Rust builds for, by the architecture name `plrust.compilation_targets`
/// uses. Setup installs all of them, whichever the host is.
pub const TARGETS: [(&str, &str); 2] = [
    ("x86_64", "x86_64-postgres-linux-gnu"),
    ("aarch64", "aarch64-postgres-linux-gnu"),
];

/// The target triple of this machine's functions.
pub const HOST_TARGET: &str = TARGETS[if cfg!(target_arch = "aarch64") { 1 } else { 0 }].1;

/// The target triple of architecture `arch` (`x86_64`, `aarch64`), if PL/Rust has one.
pub fn target_of(arch: &str) -> Option<&'static str> {
    TARGETS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(arch))
        .map(|&(_, triple)| triple)
}

/// The installed toolchain for one target.
#[derive(Debug)]
pub struct Toolchain {
    pub target: &'static str,
    /// rustc's version, as setup recorded it (`toolchain/VERSION`).
    pub version: String,
    pub rustc: PathBuf,
    pub sysroot: PathBuf,
    pub target_spec: PathBuf,
    /// The runtime every function library links dynamically: std and the trusted API
    /// (bodies see it as `pgrx`). Its directory holds its `.rmeta` too.
    pub runtime: PathBuf,
    pub target_deps: PathBuf,
    pub host_deps: PathBuf,
    /// The C compiler driver that links for this target: Debian's `<arch>-linux-gnu-gcc`,
    /// the native gcc on the target's own architecture and the cross gcc on the other.
    pub linker: PathBuf,
    /// Where that gcc finds `ld.mold` (passed as `-B`): a cross gcc would look for
    /// `<arch>-linux-gnu-ld.mold`, which Debian does not have.
    pub linker_dir: PathBuf,
}

impl Toolchain {
    /// The toolchain for this machine's target, checked to be installed.
    pub fn host() -> Result<&'static Toolchain, PlRustError> {
        Toolchain::for_target(HOST_TARGET)
    }

    /// The toolchain for `target` (one of [`TARGETS`]), checked to be installed. Cached
    /// per backend once found.
    pub fn for_target(target: &'static str) -> Result<&'static Toolchain, PlRustError> {
        static FOUND: [OnceCell<Toolchain>; TARGETS.len()] = [OnceCell::new(), OnceCell::new()];
        let slot = TARGETS
            .iter()
            .position(|&(_, triple)| triple == target)
            .expect("toolchain asked for a target PL/Rust does not have");
        FOUND[slot].get_or_try_init(|| Toolchain::at(Path::new(HOME), target))
    }

    fn at(home: &Path, target: &'static str) -> Result<Toolchain, PlRustError> {
        let closure = home.join("closure").join(target);
        let arch = target.split('-').next().unwrap_or(target);
        let tc = Toolchain {
            target,
            version: std::fs::read_to_string(home.join("toolchain/VERSION"))
                .map(|v| v.trim().to_owned())
                .unwrap_or_default(),
            rustc: home.join("toolchain/bin/rustc"),
            sysroot: home.join("sysroot"),
            target_spec: home.join("targets").join(format!("{target}.json")),
            runtime: closure.join("runtime/libplrust_runtime.so"),
            target_deps: closure.join("target"),
            host_deps: closure.join("host"),
            linker: PathBuf::from(format!("/usr/bin/{arch}-linux-gnu-gcc")),
            linker_dir: home.join("toolchain/gcc-ld"),
        };
        let std_dir = tc.sysroot.join("lib/rustlib").join(target).join("lib");
        for path in [
            &tc.rustc,
            &tc.target_spec,
            &std_dir,
            &tc.runtime,
            &tc.target_deps,
            &tc.linker,
            &tc.linker_dir.join("ld.mold"),
        ] {
            if !path.exists() {
                return Err(PlRustError::ToolchainMissing {
                    missing: path.display().to_string(),
                });
            }
        }
        let id_file = home.join("BUILD_ID");
        let installed =
            std::fs::read_to_string(&id_file).map_err(|_| PlRustError::ToolchainMissing {
                missing: id_file.display().to_string(),
            })?;
        if installed.trim() != BUILD_ID {
            return Err(PlRustError::ToolchainMismatch {
                installed: installed.trim().to_owned(),
                expected: BUILD_ID,
            });
        }
        Ok(tc)
    }
}
