//! Cursors.

use super::*;

/// A cursor: a query whose rows are fetched a few at a time. It is closed when dropped,
/// unless [`SpiCursor::detach_into_name`] leaves it open for a later connection of the
/// transaction.
pub struct SpiCursor<'c> {
    pub(super) name: CString,
    pub(super) conn: Conn<'c>,
}

impl<'c> SpiCursor<'c> {
    /// The next `count` rows (fewer at the end; none past it).
    pub fn fetch(&mut self, count: i64) -> Result<SpiTupleTable<'c>> {
        self.conn.ready()?;
        // Found by name each time: SQL (`CLOSE`) or another handle may have closed it.
        let portal = find_portal(&self.name)?;
        // SAFETY: FFI on a live portal; no stale result is mistaken for this one's.
        unsafe {
            pg_sys::SPI_tuptable = std::ptr::null_mut();
            pg_sys::SPI_cursor_fetch(portal.as_ptr(), true, count.max(0));
        }
        SpiTupleTable::after(pg_sys::SPI_OK_FETCH as i32, self.conn)
    }

    /// The cursor's name.
    pub fn name(&self) -> String {
        self.name.to_string_lossy().into_owned()
    }

    /// Leave the cursor open (until the transaction ends) and return its name, for
    /// [`SpiClient::find_cursor`] in a later connection.
    pub fn detach_into_name(self) -> String {
        let name = self.name();
        std::mem::forget(self);
        name
    }
}

impl Drop for SpiCursor<'_> {
    fn drop(&mut self) {
        if crate::__glue::error_pending() {
            return;
        }
        if let Ok(portal) = find_portal(&self.name) {
            // SAFETY: FFI on a live portal.
            unsafe { pg_sys::SPI_cursor_close(portal.as_ptr()) };
        }
    }
}
