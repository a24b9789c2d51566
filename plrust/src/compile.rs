//! Stage 4: generated crate -> built artifact (the bytes of a shared object).
//!
//! Calls rustc directly, not cargo: the dependency closure is prebuilt, so one rustc
//! invocation against it is the whole build. The crate is written to a private
//! temporary directory under `plrust.work_dir`, removed when the build ends whatever
//! its outcome, so a failed CREATE FUNCTION leaves nothing on disk.
//!
//! A body is hostile input to rustc too (exponential macro or type expansion): the build
//! honours query cancellation and `statement_timeout` (rustc is killed), and rustc runs
//! with limits on its memory and CPU time, so it cannot exhaust the machine.

use std::ffi::{OsStr, OsString};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

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
    /// The rustc version that built it, for `plrust.functions`.
    pub toolchain: String,
}

thread_local! {
    /// How many builds this backend started (`plrust.session_builds()`).
    static BUILDS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many times this backend has started rustc, successful or not.
pub fn builds_started() -> u64 {
    BUILDS.get()
}

pub fn build(krate: GeneratedCrate, toolchain: &Toolchain) -> Result<BuiltArtifact, PlRustError> {
    BUILDS.set(BUILDS.get() + 1);
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
        .args(rustc_args(&krate, toolchain));
    rustc.arg("-o").arg(&output_path).arg(&lib_rs);

    // rustc's diagnostics go to a file: a pipe could fill while we wait.
    let diagnostics_path = dir.path().join("rustc.json");
    let diagnostics_file =
        std::fs::File::create(&diagnostics_path).map_err(PlRustError::WorkDir)?;
    rustc
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(diagnostics_file);
    let status = run_cancellable(&mut rustc)?;
    if !status.success() {
        let stderr = std::fs::read(&diagnostics_path).map_err(PlRustError::WorkDir)?;
        let stderr = String::from_utf8_lossy(&stderr);
        return Err(match limit_hit(&status) {
            Some(limit) => PlRustError::CompileLimit { limit },
            None => diagnostics::from_rustc(&stderr, &krate),
        });
    }
    let object = std::fs::read(&output_path).map_err(PlRustError::WorkDir)?;
    check_stack_frames(&object)?;
    Ok(BuiltArtifact {
        object,
        target: toolchain.target,
        build_ms: started.elapsed().as_millis().try_into().unwrap_or(i32::MAX),
        toolchain: toolchain.version.clone(),
    })
}

/// rustc's arguments for `krate`, except the output (`-o`) and the input (`lib.rs`, with
/// `user.rs` beside it). Run with `RUSTC_BOOTSTRAP=1` (custom target specs are unstable).
pub fn rustc_args(krate: &GeneratedCrate, toolchain: &Toolchain) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |a: &dyn AsRef<OsStr>| args.push(a.as_ref().to_owned());
    push(&"-Zunstable-options");
    for a in [
        "--edition",
        "2021",
        "--crate-type",
        "cdylib",
        "--crate-name",
        "plrust_fn",
    ] {
        push(&a);
    }
    push(&"--target");
    push(&toolchain.target_spec);
    push(&"--sysroot");
    push(&toolchain.sysroot);
    // Named here rather than in the target spec: the spec is an input of postgrestd and
    // the closure, and the same spec must link on either architecture.
    push(&"-C");
    push(&format!("linker={}", toolchain.linker.display()));
    push(&"-C");
    push(&format!("link-arg=-B{}/", toolchain.linker_dir.display()));
    // mold folds identical functions (each crate of the closure has its own copy of
    // pgrx's inlined FFI wrappers), which Rust allows (its functions are `unnamed_addr`):
    // add_one 165 -> 162 KiB, at no cost in build time. (Packed relative relocations,
    // `-z pack-relative-relocs`, would save 7 KiB more, but mold 1.10 omits the
    // GLIBC_ABI_DT_RELR version glibc requires of them: dlopen refuses the library.)
    push(&"-C");
    push(&"link-arg=-Wl,--icf=all");
    for a in [
        "-C",
        "opt-level=2",
        "-C",
        "panic=unwind",
        "-C",
        "codegen-units=1",
        "-C",
        "debuginfo=0",
        "-C",
        "strip=symbols",
        // Every function's frame size, checked after the build (`check_stack_frames`).
        "-Z",
        "emit-stack-sizes",
        "-A",
        "warnings",
        "--error-format=json",
    ] {
        push(&a);
    }
    push(&"-L");
    push(&format!("dependency={}", toolchain.target_deps.display()));
    push(&"-L");
    push(&format!("dependency={}", toolchain.host_deps.display()));
    // The runtime, by path (rustc reads its .rmeta beside it); its own dependencies by
    // search, in target_deps.
    if let Some(dir) = toolchain.runtime.parent() {
        push(&"-L");
        push(&format!("dependency={}", dir.display()));
    }
    push(&"--extern");
    push(&format!("pgrx={}", toolchain.runtime.display()));
    for dir in &krate.dependency_dirs {
        push(&"-L");
        push(&format!("dependency={}", dir.display()));
    }
    for e in &krate.externs {
        push(&"--extern");
        push(&format!("{}={}", e.name, e.rlib.display()));
    }
    args
}

/// The largest stack frame a function of a body may have. A frame is allocated before
/// the function's entry probe checks the stack depth, so the depth can overshoot
/// `max_stack_depth` by one frame; PostgreSQL keeps 512 kB between `max_stack_depth` and
/// the real stack size, and this stays well inside it.
pub const MAX_STACK_FRAME: u64 = 256 * 1024;

/// Refuse a library with a frame larger than [`MAX_STACK_FRAME`] (rustc lists every
/// frame of the crate's code, monomorphized std code included, with
/// `-Z emit-stack-sizes`).
fn check_stack_frames(object: &[u8]) -> Result<(), PlRustError> {
    let Some(section) = crate::elf::section(object, ".stack_sizes") else {
        return Err(PlRustError::Load(
            "the built library has no .stack_sizes section".into(),
        ));
    };
    let largest = crate::elf::largest_stack_frame(section)
        .ok_or_else(|| PlRustError::Load("the built library's .stack_sizes is malformed".into()))?;
    if largest > MAX_STACK_FRAME {
        return Err(PlRustError::FrameTooLarge {
            bytes: largest,
            max: MAX_STACK_FRAME,
        });
    }
    Ok(())
}

/// rustc may use at most this much heap (RLIMIT_DATA) ...
const RUSTC_MEMORY_LIMIT: u64 = 4 << 30;
/// ... and this much CPU time (RLIMIT_CPU), whatever the session's statement_timeout.
const RUSTC_CPU_SECONDS: u64 = 300;

/// Kills the child if the wait is abandoned (an ERROR from a cancel unwinds through us).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Run `command` to completion, answering the backend's interrupts (cancel, terminate,
/// statement_timeout) while waiting: an interrupt raises its ERROR and rustc is killed.
fn run_cancellable(command: &mut Command) -> Result<ExitStatus, PlRustError> {
    let mut child = KillOnDrop(command.spawn().map_err(PlRustError::SpawnRustc)?);
    limit_resources(child.0.id());
    loop {
        if let Some(status) = child.0.try_wait().map_err(PlRustError::SpawnRustc)? {
            return Ok(status);
        }
        pgrx::check_for_interrupts!();
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn limit_resources(pid: u32) {
    let limits = [
        (libc::RLIMIT_DATA, RUSTC_MEMORY_LIMIT),
        (libc::RLIMIT_CPU, RUSTC_CPU_SECONDS),
    ];
    for (resource, value) in limits {
        let limit = libc::rlimit {
            rlim_cur: value,
            rlim_max: value,
        };
        // SAFETY: prlimit on our own child with a valid rlimit; failure leaves it unlimited,
        // which only loses the backstop (the child may also have exited already).
        unsafe { libc::prlimit(pid as libc::pid_t, resource, &limit, std::ptr::null_mut()) };
    }
}

/// Which limit killed rustc, if one did: SIGXCPU for CPU time; for memory, rustc aborts
/// (SIGABRT) or is killed when an allocation fails.
fn limit_hit(status: &ExitStatus) -> Option<&'static str> {
    use std::os::unix::process::ExitStatusExt;
    match status.signal()? {
        libc::SIGXCPU | libc::SIGKILL => Some("CPU time"),
        libc::SIGABRT | libc::SIGSEGV => Some("memory"),
        _ => None,
    }
}
