//! Cross-cutting: the last defence against a stack overflow the probes cannot see.
//!
//! A body's own functions check the stack on entry (ERROR 54001 at `max_stack_depth`),
//! but code PL/Rust does not instrument can still recurse past the end of the stack: the
//! drop glue of a very long `Box` list, derived impls on deeply recursive types, a
//! dependency. Unchecked, that is a SIGSEGV, and the postmaster answers a backend killed
//! by a signal by restarting the whole server.
//!
//! So every call runs under a trap. `_PG_init` installs a SIGSEGV handler that runs on
//! its own small stack (`sigaltstack`: the overflowed stack has no room for a signal
//! frame). When a fault lands next to the stack pointer while a PL/Rust call is running,
//! the handler jumps back to the call's landing pad in [`run`], on the part of the stack
//! that is still good, and the call ends the session with FATAL 54001 through
//! PostgreSQL's orderly `proc_exit`: the server and the other sessions carry on.
//!
//! FATAL, not ERROR: the jump skipped the body's frames without running their
//! destructors, so the function library's state (a `RefCell` left borrowed, a
//! half-updated static) cannot be trusted by a later call in this session.
//!
//! Any other SIGSEGV is not ours: the handler gives it to the handler that was installed
//! before, or puts back the default action and returns, so the fault happens again and
//! the process dies of it as it would have without PL/Rust.
//!
//! Invariant: [`TARGET`] is null outside a PL/Rust call and points at the innermost
//! running call's landing pad inside one; [`run`] restores it however the call ends.

use std::ffi::{c_int, c_void};
use std::mem::{ManuallyDrop, MaybeUninit};
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use cee_scape::SigJmpBufFields;
use pgrx::pg_sys;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

/// The landing pad of the innermost running PL/Rust call; null outside one.
static TARGET: AtomicPtr<SigJmpBufFields> = AtomicPtr::new(ptr::null_mut());

/// The highest stack address this process's main stack is known to reach (an address in
/// `_PG_init`'s frame: every call runs below it).
static STACK_TOP: AtomicUsize = AtomicUsize::new(0);

/// How far below [`STACK_TOP`] the stack may reach: the stack size limit, plus the gap
/// the kernel keeps below it; `usize::MAX` when the limit is unlimited.
static STACK_SPAN: AtomicUsize = AtomicUsize::new(usize::MAX);

/// A fault this close to the stack pointer is the stack growing: a `call` or `push`
/// writes just below it, a stack probe or a frame's stores just above it. Rust frames
/// over 256 KiB are refused at CREATE; C frames that large are rare.
const NEAR_STACK_POINTER: usize = 1 << 20;

/// The gap Linux keeps between the stack's limit and the next mapping (`stack_guard_gap`,
/// 256 pages by default), with room to spare.
const GUARD_GAP: usize = 4 << 20;

/// The handler's own stack. It only reads a few atomics and jumps (or chains to the
/// previous handler), but glibc asks for at least `MINSIGSTKSZ`, and more is cheap.
const ALT_STACK_SIZE: usize = 64 << 10;

/// The SIGSEGV action that was installed before ours.
static mut PREVIOUS: MaybeUninit<libc::sigaction> = MaybeUninit::zeroed();

/// Install the alternate signal stack and the SIGSEGV handler; once per process, from
/// `_PG_init` (children forked from a postmaster that preloaded PL/Rust inherit both).
pub fn init() {
    let here = 0u8;
    STACK_TOP.store(ptr::addr_of!(here) as usize, Ordering::Relaxed);
    let mut limit = MaybeUninit::<libc::rlimit>::zeroed();
    // SAFETY: getrlimit writes one rlimit into the buffer we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_STACK, limit.as_mut_ptr()) } == 0 {
        // SAFETY: getrlimit succeeded, so it initialised the buffer.
        let limit = unsafe { limit.assume_init() };
        if limit.rlim_cur != libc::RLIM_INFINITY {
            let span = usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX);
            STACK_SPAN.store(span.saturating_add(GUARD_GAP), Ordering::Relaxed);
        }
    }
    install_alt_stack();
    // SAFETY: installs a handler for a synchronous signal; PREVIOUS is written here, once,
    // before the handler can run, and only read by the handler afterwards.
    unsafe {
        let mut action: libc::sigaction = MaybeUninit::zeroed().assume_init();
        action.sa_sigaction = on_sigsegv as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut action.sa_mask);
        let previous = ptr::addr_of_mut!(PREVIOUS).cast::<libc::sigaction>();
        if libc::sigaction(libc::SIGSEGV, &action, previous) != 0 {
            pgrx::warning!("PL/Rust could not install its stack overflow handler");
        }
    }
}

/// Give this thread an alternate signal stack, unless it already has one.
fn install_alt_stack() {
    let mut current = MaybeUninit::<libc::stack_t>::zeroed();
    // SAFETY: with a null new stack, sigaltstack only reports the current one.
    if unsafe { libc::sigaltstack(ptr::null(), current.as_mut_ptr()) } == 0 {
        // SAFETY: sigaltstack succeeded, so it filled the buffer.
        let current = unsafe { current.assume_init() };
        if current.ss_flags & libc::SS_DISABLE == 0 {
            return;
        }
    }
    // SAFETY: maps fresh anonymous memory for the handler's stack, kept for the life of
    // the process (it is the thread's signal stack from now on).
    let stack = unsafe {
        libc::mmap(
            ptr::null_mut(),
            ALT_STACK_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if stack == libc::MAP_FAILED {
        pgrx::warning!("PL/Rust could not map a signal stack for its stack overflow handler");
        return;
    }
    let alt = libc::stack_t {
        ss_sp: stack,
        ss_flags: 0,
        ss_size: ALT_STACK_SIZE,
    };
    // SAFETY: `alt` describes the mapping just made, which is never unmapped.
    if unsafe { libc::sigaltstack(&alt, ptr::null_mut()) } != 0 {
        pgrx::warning!("PL/Rust could not install a signal stack for its stack overflow handler");
    }
}

/// The value the SIGSEGV handler jumps to a landing pad with. PostgreSQL's own
/// `siglongjmp` for an ERROR uses 1.
const OVERFLOWED: c_int = 2;

unsafe extern "C" {
    /// PostgreSQL's `PG_RE_THROW()`: raise the current ERROR again, at the enclosing
    /// recovery point. Declared here, not taken from pgrx, whose bindings would catch the
    /// jump at a boundary of their own and turn it into a Rust panic.
    fn pg_re_throw() -> !;
}

/// Run one PL/Rust call under the trap, which is also the call's PostgreSQL
/// error-recovery point (`PG_TRY`): `call` returns normally; or raises a PostgreSQL
/// ERROR, which is raised again at once (`PG_RE_THROW`: the ERROR goes on with all its
/// data, as PostgreSQL made it); or overflows the stack, which ends the session with
/// FATAL. One `sigsetjmp` per call serves both.
///
/// # Safety
/// On the backend's main thread. `call` must not unwind (a function library catches its
/// own panics) and must hold nothing that needs dropping: an ERROR or an overflow skips
/// its frames. So must every frame of the caller's up to PostgreSQL's recovery point
/// (plain old frames): an ERROR jumps over them.
#[inline(always)]
pub unsafe fn run(fn_oid: pg_sys::Oid, call: impl FnOnce() -> pg_sys::Datum) -> pg_sys::Datum {
    let enclosing = TARGET.load(Ordering::Relaxed);
    // SAFETY: plain reads of the backend's error-recovery state, on its main thread.
    let (exception_stack, context_stack) =
        unsafe { (pg_sys::PG_exception_stack, pg_sys::error_context_stack) };
    let mut result = MaybeUninit::uninit();
    // No signal mask is saved: that would cost a system call on every call; the landing
    // path unblocks SIGSEGV itself (PostgreSQL's PG_TRY saves none either).
    let mut body = ManuallyDrop::new(|landing: *mut SigJmpBufFields| {
        // SAFETY: the landing pad lives until this closure returns or is jumped to; both
        // pointers to it are put back below before anything else runs.
        unsafe { pg_sys::PG_exception_stack = landing.cast() };
        TARGET.store(landing, Ordering::Relaxed);
        result.write(call());
        0
    });
    // SAFETY: the closure does not unwind (`call` does not, by the contract) and owns
    // nothing with a destructor.
    let landed = unsafe { with_landing(&mut body) };
    TARGET.store(enclosing, Ordering::Relaxed);
    // SAFETY: as above. After a jump, the skipped frames may have pushed error-context
    // callbacks that lived in them: drop those.
    unsafe {
        pg_sys::PG_exception_stack = exception_stack;
        pg_sys::error_context_stack = context_stack;
    }
    match landed {
        // SAFETY: the closure returned normally, so it wrote the result.
        0 => unsafe { result.assume_init() },
        OVERFLOWED => {
            // SAFETY: back on the good part of the stack, on the main thread.
            unsafe { unblock_sigsegv() };
            overflowed(fn_oid)
        }
        // SAFETY: an ERROR is being raised (PostgreSQL jumped here from errfinish); the
        // enclosing recovery point is back in place; our callers' frames are plain.
        _ => unsafe { pg_re_throw() },
    }
}

/// `sigsetjmp(landing, 0)`, then `body(landing)` from a frame that stays live while it
/// runs: 0 when `body` returns, or the value of a `siglongjmp` to `landing`. `body` is
/// taken out of its `ManuallyDrop` when it runs, and left there when it does not.
///
/// cee-scape's `call_with_sigsetjmp` does the same, but zeroes the 200-byte buffer first,
/// 13 stores on every call (`perf annotate`, docs/benchmarks.md). `sigsetjmp` writes
/// every field a `siglongjmp` reads, so the buffer is left uninitialised here. Other
/// architectures keep cee-scape's.
///
/// # Safety
/// `body` must not unwind, and must own nothing with a destructor: a jump skips it.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
unsafe fn with_landing<F>(body: &mut ManuallyDrop<F>) -> c_int
where
    F: FnOnce(*mut SigJmpBufFields) -> c_int,
{
    // Called by the assembly below with the caller's closure, where the caller built it.
    // Moving it into this frame first made a call about 4 ns slower than cee-scape's
    // (2,000,000 calls of add_one, interleaved A/B), where leaving it saves about 1.5 ns.
    // The likely cause is the move's 16-byte store, read back as two 8-byte loads, not
    // forwarded on this AMD EPYC (unverified: the VM exposes no hardware counters).
    extern "C" fn trampoline<F>(landing: *mut SigJmpBufFields, body: *mut ManuallyDrop<F>) -> c_int
    where
        F: FnOnce(*mut SigJmpBufFields) -> c_int,
    {
        // SAFETY: `body` is the caller's, taken exactly once (here) and never dropped.
        unsafe { ManuallyDrop::take(&mut *body)(landing) }
    }
    unsafe extern "C" {
        // glibc's name for sigsetjmp, which is a macro.
        fn __sigsetjmp(env: *mut SigJmpBufFields, savemask: c_int) -> c_int;
    }
    let mut landing = MaybeUninit::<SigJmpBufFields>::uninit();
    let landed: c_int;
    // SAFETY: sigsetjmp and then the trampoline are called from this block, so the frame
    // sigsetjmp saved is this function's, live until the trampoline returns; a
    // siglongjmp to it comes back to the label with its value in eax. r12-r14 are
    // callee-saved, so they survive both calls (and sigsetjmp restores them on a jump);
    // rdi is written before the call, so the function pointer cannot be allocated to it.
    unsafe {
        std::arch::asm!(
            "mov rdi, r12",
            "call {sigsetjmp}",
            "test eax, eax",
            "jne 2f",
            "mov rdi, r12",
            "mov rsi, r13",
            "call r14",
            "2:",
            sigsetjmp = in(reg) __sigsetjmp as unsafe extern "C" fn(_, _) -> _,
            in("rsi") 0_usize,
            in("r12") landing.as_mut_ptr(),
            in("r13") ptr::from_mut(body),
            in("r14") trampoline::<F> as extern "C" fn(_, _) -> _,
            out("rax") landed,
            out("rdi") _,
            clobber_abi("sysv64"),
        );
    }
    landed
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn with_landing<F>(body: &mut ManuallyDrop<F>) -> c_int
where
    F: FnOnce(*mut SigJmpBufFields) -> c_int,
{
    cee_scape::call_with_sigsetjmp(false, |landing| {
        // SAFETY: taken exactly once, when the body runs.
        unsafe { ManuallyDrop::take(body)(ptr::from_ref(landing).cast_mut()) }
    })
}

/// End the session: the body overflowed the stack where no probe could stop it. `fn_oid`
/// is invalid for a DO block.
fn overflowed(fn_oid: pg_sys::Oid) -> ! {
    // An ERROR raised while this report is made becomes FATAL rather than jumping into
    // the abandoned frames; the report ignores the memory limit.
    // SAFETY: the backend's error-recovery point, on its main thread.
    unsafe { pg_sys::PG_exception_stack = ptr::null_mut() };
    crate::memory::plrust_arena.set_reporting(true);
    let function_name = if fn_oid == pg_sys::InvalidOid {
        "in a DO block".to_owned()
    } else {
        // SAFETY: format_procedure returns a palloc'd C string (or the oid, if there is
        // no such function); a catalog ERROR here would be FATAL, where we are going.
        let name = unsafe { std::ffi::CStr::from_ptr(pg_sys::format_procedure(fn_oid)) };
        format!("function {}", name.to_string_lossy())
    };
    ErrorReport::new(
        PgSqlErrorCode::ERRCODE_STATEMENT_TOO_COMPLEX,
        "stack depth limit exceeded",
        "plrust",
    )
    .set_detail(format!(
        "PL/Rust {function_name} overflowed the stack in code that has no stack \
         check (such as the drop of a deeply nested value); it cannot be unwound, so the \
         session ends."
    ))
    .set_hint(
        "The server and other sessions are not affected. Avoid recursion this deep, for \
         example by dropping long linked structures iteratively.",
    )
    .report(PgLogLevel::FATAL);
    // SAFETY: not reached (FATAL exits); if it were, ending the process is all that is left.
    unsafe { pg_sys::proc_exit(1) }
}

/// The handler was entered with SIGSEGV blocked, and the jump out of it did not restore
/// the mask (no mask was saved): unblock it, so a later fault is delivered, not fatal.
///
/// # Safety
/// Changes this thread's signal mask.
unsafe fn unblock_sigsegv() {
    // SAFETY: builds a one-signal set on our stack and removes it from the mask.
    unsafe {
        let mut set = MaybeUninit::<libc::sigset_t>::zeroed();
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigaddset(set.as_mut_ptr(), libc::SIGSEGV);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, set.as_ptr(), ptr::null_mut());
    }
}

/// Whether a fault at `address`, with the stack pointer at `sp`, is the main stack
/// running out: the stack pointer is on the main stack, and the fault right next to it.
fn is_stack_overflow(address: usize, sp: usize, stack_top: usize, span: usize) -> bool {
    let on_main_stack = sp < stack_top && stack_top - sp <= span;
    on_main_stack && address < stack_top && address.abs_diff(sp) <= NEAR_STACK_POINTER
}

/// The stack pointer at the fault, from the signal's machine context.
///
/// # Safety
/// `context` is the `ucontext_t` the kernel passed to an SA_SIGINFO handler.
unsafe fn faulting_sp(context: *mut c_void) -> Option<usize> {
    let context = context.cast::<libc::ucontext_t>();
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the caller passes the kernel's context; REG_RSP indexes its register file.
    return Some(unsafe { (*context).uc_mcontext.gregs[libc::REG_RSP as usize] } as usize);
    #[cfg(target_arch = "aarch64")]
    // SAFETY: the caller passes the kernel's context.
    return Some(unsafe { (*context).uc_mcontext.sp } as usize);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = context;
        None
    }
}

extern "C" fn on_sigsegv(signal: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    let target = TARGET.load(Ordering::Relaxed);
    if !target.is_null() {
        // SAFETY: the kernel passes a valid siginfo and context to an SA_SIGINFO handler.
        let (address, sp) = unsafe { ((*info).si_addr() as usize, faulting_sp(context)) };
        let top = STACK_TOP.load(Ordering::Relaxed);
        let span = STACK_SPAN.load(Ordering::Relaxed);
        if sp.is_some_and(|sp| is_stack_overflow(address, sp, top, span)) {
            // SAFETY: `target` is the landing pad of a call still running (run() resets
            // it before its frame goes away), higher up the main stack than the fault.
            unsafe { cee_scape::siglongjmp(target, OVERFLOWED) }
        }
    }
    // SAFETY: PREVIOUS was filled by init() before this handler was installed.
    unsafe { chain(signal, info, context) }
}

/// Hand a fault that is not ours to the action installed before us.
///
/// # Safety
/// From the SIGSEGV handler, with the kernel's arguments.
unsafe fn chain(signal: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    // SAFETY: PREVIOUS is only written by init(), before the handler was installed.
    let previous = unsafe { ptr::addr_of!(PREVIOUS).cast::<libc::sigaction>().read() };
    match previous.sa_sigaction {
        libc::SIG_DFL | libc::SIG_IGN => {
            // Put the default back and return: the instruction faults again and the
            // process dies of the signal, as it would have without PL/Rust.
            // SAFETY: installs the default action for SIGSEGV.
            unsafe { libc::signal(libc::SIGSEGV, libc::SIG_DFL) };
        }
        handler if previous.sa_flags & libc::SA_SIGINFO != 0 => {
            // SAFETY: the previous handler was installed as an SA_SIGINFO handler.
            let handler: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                unsafe { std::mem::transmute(handler) };
            handler(signal, info, context);
        }
        handler => {
            // SAFETY: the previous handler was installed as a plain handler.
            let handler: extern "C" fn(c_int) = unsafe { std::mem::transmute(handler) };
            handler(signal);
        }
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    const TOP: usize = 0x7fff_0000_0000;
    const SPAN: usize = (8 << 20) + GUARD_GAP;

    #[test]
    fn a_fault_just_below_a_deep_stack_pointer_is_an_overflow() {
        let sp = TOP - (8 << 20);
        assert!(is_stack_overflow(sp - 8, sp, TOP, SPAN));
        assert!(is_stack_overflow(sp - 4096, sp, TOP, SPAN));
    }

    #[test]
    fn a_fault_inside_a_large_frame_is_an_overflow() {
        let sp = TOP - (8 << 20) - 200_000;
        assert!(is_stack_overflow(sp + 150_000, sp, TOP, SPAN));
    }

    #[test]
    fn a_fault_far_from_the_stack_pointer_is_not() {
        let sp = TOP - (1 << 20);
        assert!(!is_stack_overflow(0x10, sp, TOP, SPAN));
        assert!(!is_stack_overflow(sp - (64 << 20), sp, TOP, SPAN));
    }

    #[test]
    fn a_fault_on_another_stack_is_not() {
        // The stack pointer is on the signal stack or a thread's stack, far below.
        let sp = TOP - (512 << 20);
        assert!(!is_stack_overflow(sp - 8, sp, TOP, SPAN));
        // Or above the main stack's top.
        let sp = TOP + 4096;
        assert!(!is_stack_overflow(sp - 8, sp, TOP, SPAN));
    }

    #[test]
    fn an_unlimited_stack_has_no_lower_bound() {
        let sp = TOP - (512 << 20);
        assert!(is_stack_overflow(sp - 8, sp, TOP, usize::MAX));
    }

    #[test]
    fn a_landing_returns_what_the_body_returns() {
        let mut ran = 0;
        // SAFETY: the body neither unwinds nor owns anything to drop.
        let landed = unsafe {
            with_landing(&mut ManuallyDrop::new(|_| {
                ran += 1;
                0
            }))
        };
        assert_eq!((landed, ran), (0, 1));
    }

    #[test]
    fn a_jump_to_the_landing_comes_back_with_its_value() {
        // What the SIGSEGV handler and PostgreSQL's ERRORs do: jump from deep inside the
        // body, over its frames, to the landing pad. Done twice, so a landing pad made in
        // the same place again (an uninitialised buffer this time) works as the first.
        fn deep(landing: *mut SigJmpBufFields, depth: u32, value: c_int) -> c_int {
            if depth == 0 {
                // SAFETY: `landing` is the pad of the with_landing call below, still live.
                unsafe { cee_scape::siglongjmp(landing, value) }
            }
            std::hint::black_box(deep(landing, depth - 1, value)) + 1
        }
        for value in [OVERFLOWED, 1] {
            // SAFETY: the body owns nothing to drop; the jump skips only plain frames.
            let mut body = ManuallyDrop::new(|landing| deep(landing, 50, value));
            let landed = unsafe { with_landing(&mut body) };
            assert_eq!(landed, value);
        }
    }
}
