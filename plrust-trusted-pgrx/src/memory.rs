//! Switching PostgreSQL's current memory context for a while.

use pgrx::pg_sys;

/// Makes a memory context current until dropped (also when unwinding), then puts back
/// the one that was.
pub(crate) struct InContext(pg_sys::MemoryContext);

impl InContext {
    /// # Safety
    /// `memory` is a live context that outlives the guard.
    pub(crate) unsafe fn enter(memory: pg_sys::MemoryContext) -> InContext {
        // SAFETY: the backend's current context, on its thread; `memory` per the caller.
        unsafe {
            let old = pg_sys::CurrentMemoryContext;
            pg_sys::CurrentMemoryContext = memory;
            InContext(old)
        }
    }
}

impl Drop for InContext {
    fn drop(&mut self) {
        // SAFETY: restores the context current before enter().
        unsafe { pg_sys::CurrentMemoryContext = self.0 };
    }
}
