//! State of a function library that lives as long as the backend, in a plain `static`.
//!
//! `thread_local!` is the usual home for it, but in a library PostgreSQL loads with
//! `dlopen` every access to a thread-local is a call into the dynamic loader
//! (`__tls_get_addr`), which on a per-call path costs more than the work around it.

use std::ops::Deref;

/// A value only the backend's main thread ever touches.
pub(crate) struct BackendLocal<T>(T);

impl<T> BackendLocal<T> {
    pub(crate) const fn new(value: T) -> Self {
        BackendLocal(value)
    }
}

// SAFETY: a function library runs on the backend's main thread only: postgrestd refuses
// to spawn threads, and PostgreSQL calls a library from its one thread. So the value is
// never shared between threads, whatever its type.
unsafe impl<T> Sync for BackendLocal<T> {}

impl<T> Deref for BackendLocal<T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        &self.0
    }
}
