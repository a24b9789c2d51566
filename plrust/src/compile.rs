//! Stage 4: generated crate -> built artifact (the bytes of a shared object).
//!
//! Calls rustc directly, not cargo: the dependency closure is prebuilt, so one rustc
//! invocation against it is the whole build. The crate is written to a private
//! temporary directory under `plrust.work_dir`, removed when the build ends whatever
//! its outcome, so a failed CREATE FUNCTION leaves nothing on disk.

use std::process::Command;
use std::time::Instant;

use crate::codegen::GeneratedCrate;
use crate::diagnostics;
use crate::error::PlRustError;
use crate::settings;
use crate::toolchain::Toolchain;

/// A successfully built function library.
#[derive(Debug)]
pub struct BuiltArtifact {
    pub object: Vec<u8>,
    pub target: &'static str,
    pub build_ms: i32,
}

pub fn build(krate: GeneratedCrate, toolchain: &Toolchain) -> Result<BuiltArtifact, PlRustError> {
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("plrust-")
        .tempdir_in(settings::work_dir())
        .map_err(PlRustError::WorkDir)?;
    let lib_rs = dir.path().join("lib.rs");
    std::fs::write(&lib_rs, &krate.lib_rs).map_err(PlRustError::WorkDir)?;
    std::fs::write(dir.path().join("user.rs"), &krate.user_rs).map_err(PlRustError::WorkDir)?;
    let output_path = dir.path().join("plrust_fn.so");

    let mut rustc = Command::new(&toolchain.rustc);
    rustc
        // A clean environment: nothing of the server's (or the user's) reaches the build.
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        // Custom target specs are unstable in rustc; the toolchain is pinned.
        .env("RUSTC_BOOTSTRAP", "1")
        .current_dir(dir.path())
        .arg("-Zunstable-options")
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "cdylib",
            "--crate-name",
            "plrust_fn",
        ])
        .arg("--target")
        .arg(&toolchain.target_spec)
        .arg("--sysroot")
        .arg(&toolchain.sysroot)
        .args([
            "-C",
            "opt-level=2",
            "-C",
            "panic=unwind",
            "-C",
            "codegen-units=1",
        ])
        .args(["-C", "debuginfo=0", "-C", "strip=symbols"])
        .args(["-A", "warnings", "--error-format=json"])
        .arg("-L")
        .arg(format!("dependency={}", toolchain.target_deps.display()))
        .arg("-L")
        .arg(format!("dependency={}", toolchain.host_deps.display()))
        .arg("--extern")
        .arg(format!("pgrx={}", toolchain.trusted_pgrx.display()))
        .arg("-o")
        .arg(&output_path)
        .arg(&lib_rs);

    let output = rustc.output().map_err(PlRustError::SpawnRustc)?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(diagnostics::from_rustc(&stderr, &krate));
    }
    let object = std::fs::read(&output_path).map_err(PlRustError::WorkDir)?;
    Ok(BuiltArtifact {
        object,
        target: toolchain.target,
        build_ms: started.elapsed().as_millis().try_into().unwrap_or(i32::MAX),
    })
}
