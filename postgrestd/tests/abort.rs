//! Every abort path of postgrestd ends in `postgrestd_abort` when the program defines it
//! (a PL/Rust function library does: it ends the backend with FATAL). Run by
//! postgrestd/test.sh once per case, compiled with `--cfg case="<name>"` (postgrestd has
//! no program arguments): the case must reach our `postgrestd_abort`, which writes
//! "ended" to fd 3 and exits with status 0. Without the patch each case dies of SIGABRT.

use std::io::Write;
use std::os::fd::FromRawFd;

unsafe extern "C" {
    // postgrestd's process::exit panics; this is the program's own way out.
    fn _exit(status: i32) -> !;
}

#[no_mangle]
pub extern "C" fn postgrestd_abort() -> ! {
    // SAFETY: fd 3 is the report file test.sh opened for us.
    let mut report = unsafe { std::fs::File::from_raw_fd(3) };
    let _ = writeln!(report, "ended");
    // SAFETY: ends the process; nothing is left to clean up.
    unsafe { _exit(0) }
}

struct PanicsOnDrop;
impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("panic in drop");
    }
}

extern "C" fn cannot_unwind() {
    panic!("panic out of an extern \"C\" function");
}

fn main() {
    std::panic::set_hook(Box::new(|_| {}));
    #[cfg(case = "panic-in-drop-while-unwinding")]
    {
        let _guard = PanicsOnDrop;
        panic!("first panic");
    }
    #[cfg(case = "panic-in-nounwind-function")]
    cannot_unwind();
}
