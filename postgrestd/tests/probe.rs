//! Runs every way we know for safe Rust to reach the OS through std, compiled against
//! postgrestd for <arch>-postgres-linux-gnu, and checks each one is refused. Run by
//! postgrestd/test.sh; prints one line per probe and a final "N passed, N failed".
//! (Outside a backend, as a plain executable: the refusals are std's, not PostgreSQL's.)

use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn refused<T: std::fmt::Debug>(r: std::io::Result<T>) -> Result<(), String> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => Ok(()),
        Err(e) => Err(format!("failed, but not as Unsupported: {e:?}")),
        Ok(v) => Err(format!("succeeded: {v:?}")),
    }
}

fn panics(f: impl FnOnce()) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Err(_) => Ok(()),
        Ok(()) => Err("returned".into()),
    }
}

fn main() {
    // No panic output on the server's stderr: postgrestd has none.
    std::panic::set_hook(Box::new(|_| {}));
    let probes: Vec<(&str, Box<dyn Fn() -> Result<(), String>>)> = vec![
        ("fs: File::open", Box::new(|| refused(std::fs::File::open("/etc/passwd")))),
        ("fs: read_to_string", Box::new(|| refused(std::fs::read_to_string("/etc/hostname")))),
        ("fs: File::create", Box::new(|| refused(std::fs::File::create("/tmp/postgrestd-probe")))),
        ("fs: write", Box::new(|| refused(std::fs::write("/tmp/postgrestd-probe", b"x")))),
        ("fs: metadata", Box::new(|| refused(std::fs::metadata("/")))),
        ("fs: exists is false", Box::new(|| if std::path::Path::new("/").exists() { Err("/ exists".into()) } else { Ok(()) })),
        ("fs: read_dir", Box::new(|| refused(std::fs::read_dir("/").map(|_| ())))),
        ("fs: create_dir", Box::new(|| refused(std::fs::create_dir("/tmp/postgrestd-probe-dir")))),
        ("fs: remove_file", Box::new(|| refused(std::fs::remove_file("/tmp/postgrestd-probe")))),
        ("fs: rename", Box::new(|| refused(std::fs::rename("/tmp/a", "/tmp/b")))),
        ("fs: canonicalize", Box::new(|| refused(std::fs::canonicalize(".")))),
        ("fs: read_link", Box::new(|| refused(std::fs::read_link("/proc/self/exe")))),
        ("fs: copy", Box::new(|| refused(std::fs::copy("/etc/passwd", "/tmp/postgrestd-probe")))),
        ("fs: symlink", Box::new(|| refused(std::os::unix::fs::symlink("/etc/passwd", "/tmp/postgrestd-link")))),
        ("fs: chown", Box::new(|| refused(std::os::unix::fs::chown("/tmp", Some(0), None)))),
        ("fs: fchown on stdout", Box::new(|| refused(std::os::unix::fs::fchown(std::io::stdout(), Some(0), None)))),
        ("net: TcpStream::connect", Box::new(|| refused(std::net::TcpStream::connect("127.0.0.1:5432")))),
        ("net: TcpListener::bind", Box::new(|| refused(std::net::TcpListener::bind("127.0.0.1:0")))),
        ("net: UdpSocket::bind", Box::new(|| refused(std::net::UdpSocket::bind("127.0.0.1:0")))),
        ("net: DNS lookup", Box::new(|| refused(std::net::ToSocketAddrs::to_socket_addrs("localhost:80").map(|_| ())))),
        ("net: UnixStream::connect", Box::new(|| refused(std::os::unix::net::UnixStream::connect("/var/run/postgresql/.s.PGSQL.5432")))),
        ("net: UnixStream::pair", Box::new(|| refused(std::os::unix::net::UnixStream::pair()))),
        ("net: UnixDatagram::unbound", Box::new(|| refused(std::os::unix::net::UnixDatagram::unbound()))),
        ("process: Command::output", Box::new(|| refused(std::process::Command::new("/bin/true").output().map(|_| ())))),
        ("process: Command::spawn", Box::new(|| refused(std::process::Command::new("/bin/sh").spawn().map(|_| ())))),
        ("process: CommandExt::exec", Box::new(|| {
            let e = std::os::unix::process::CommandExt::exec(&mut std::process::Command::new("/bin/true"));
            if e.kind() == std::io::ErrorKind::Unsupported { Ok(()) } else { Err(format!("{e:?}")) }
        })),
        ("process: exit panics", Box::new(|| panics(|| std::process::exit(0)))),
        ("process: abort panics", Box::new(|| panics(|| std::process::abort()))),
        ("env: var(PATH) is absent", Box::new(|| match std::env::var_os("PATH") { None => Ok(()), Some(v) => Err(format!("{v:?}")) })),
        ("env: vars is empty", Box::new(|| if std::env::vars_os().count() == 0 { Ok(()) } else { Err("not empty".into()) })),
        ("env: set_var panics", Box::new(|| panics(|| unsafe { std::env::set_var("PLRUST_PROBE", "1") }))),
        ("env: remove_var panics", Box::new(|| panics(|| unsafe { std::env::remove_var("HOME") }))),
        ("env: current_dir", Box::new(|| refused(std::env::current_dir()))),
        ("env: set_current_dir", Box::new(|| refused(std::env::set_current_dir("/")))),
        ("env: current_exe", Box::new(|| refused(std::env::current_exe()))),
        ("env: home_dir is None", Box::new(|| match std::env::home_dir() { None => Ok(()), Some(h) => Err(format!("{h:?}")) })),
        ("env: temp_dir is the default", Box::new(|| if std::env::temp_dir() == std::path::Path::new("/tmp") { Ok(()) } else { Err("TMPDIR leaked".into()) })),
        ("env: args is empty", Box::new(|| if std::env::args_os().count() == 0 { Ok(()) } else { Err("argv leaked".into()) })),
        ("stdio: read stdin", Box::new(|| refused(std::io::stdin().read(&mut [0u8; 8])))),
        // stdout is line-buffered: the refusal shows when the line is written out.
        ("stdio: write stdout", Box::new(|| refused(std::io::stdout().write_all(b"x\n").and_then(|()| std::io::stdout().flush())))),
        ("stdio: write stderr", Box::new(|| refused(std::io::stderr().write(b"x")))),
        ("stdio: println panics", Box::new(|| panics(|| println!("leak")))),
        ("stdio: dup of stdout", Box::new(|| refused(std::os::fd::AsFd::as_fd(&std::io::stdout()).try_clone_to_owned()))),
        ("stdio: io::copy stdin to stdout", Box::new(|| {
            match std::io::copy(&mut std::io::stdin().lock(), &mut std::io::stdout().lock()) {
                Err(e) if e.kind() == std::io::ErrorKind::Unsupported => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })),
        ("fd: io::pipe", Box::new(|| refused(std::io::pipe()))),
        ("thread: Builder::spawn", Box::new(|| refused(std::thread::Builder::new().spawn(|| ()).map(|_| ())))),
        ("thread: spawn panics", Box::new(|| panics(|| { std::thread::spawn(|| ()); }))),
        ("thread: scope spawn panics", Box::new(|| panics(|| std::thread::scope(|s| { s.spawn(|| ()); })))),
        // Unwinds instead of aborting: PL/Rust reports it as out of memory.
        ("alloc: a refused allocation panics", Box::new(|| panics(|| {
            std::hint::black_box(Vec::<u8>::with_capacity(isize::MAX as usize / 2));
        }))),
        // One thread: a wait nothing can end is a panic, not a hang.
        ("sync: a Mutex locked twice panics", Box::new(|| {
            let m = std::sync::Mutex::new(0);
            let _held = m.lock();
            panics(|| drop(std::hint::black_box(m.lock())))
        })),
        ("sync: a Condvar wait panics", Box::new(|| {
            let m = std::sync::Mutex::new(false);
            let c = std::sync::Condvar::new();
            let guard = m.lock().unwrap();
            panics(move || drop(c.wait(guard)))
        })),
        // (Twice: an earlier probe may have left a token, which the first park takes.)
        ("sync: park panics (nothing could unpark it)", Box::new(|| panics(|| {
            std::thread::park();
            std::thread::park();
        }))),
        ("sync: park_timeout and wait_timeout return", Box::new(|| {
            std::thread::park_timeout(std::time::Duration::from_millis(1));
            let m = std::sync::Mutex::new(false);
            let c = std::sync::Condvar::new();
            let (_g, r) = c.wait_timeout(m.lock().unwrap(), std::time::Duration::from_millis(1)).unwrap();
            if r.timed_out() { Ok(()) } else { Err("not timed out".into()) }
        })),
        ("backtrace: force_capture captures nothing", Box::new(|| {
            let bt = std::backtrace::Backtrace::force_capture();
            match (bt.status(), bt.to_string(), format!("{bt:?}")) {
                (std::backtrace::BacktraceStatus::Unsupported, d, g)
                    if d == "unsupported backtrace" && g == "<unsupported>" => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })),
        ("time and randomness still work", Box::new(|| {
            let t = std::time::Instant::now();
            let _ = std::collections::HashMap::<u8, u8>::new();
            if t.elapsed().as_secs() < 5 { Ok(()) } else { Err("clock".into()) }
        })),
    ];
    let (mut passed, mut failed) = (0, 0);
    let mut out = String::new();
    for (name, probe) in &probes {
        match probe() {
            Ok(()) => { passed += 1; out.push_str(&format!("ok    {name}\n")); }
            Err(why) => { failed += 1; out.push_str(&format!("FAIL  {name}: {why}\n")); }
        }
    }
    out.push_str(&format!("{passed} passed, {failed} failed\n"));
    report(&out, failed);
}

/// postgrestd refuses stdout, so the report is written with libc directly to fd 3 (which
/// the harness redirects), and the outcome is the exit status.
fn report(text: &str, failed: usize) {
    extern "C" {
        fn write(fd: i32, buf: *const u8, count: usize) -> isize;
        fn _exit(code: i32) -> !;
    }
    unsafe {
        write(3, text.as_ptr(), text.len());
        _exit(if failed == 0 { 0 } else { 1 });
    }
}
