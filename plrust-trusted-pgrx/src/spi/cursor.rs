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
    ///
    /// In a trigger function the cursor is closed when its connection ends all the same:
    /// its query may read the trigger's transition tables, which go with the connection.
    pub fn detach_into_name(self) -> String {
        let name = self.name();
        // Not closed on drop; the name's buffer is freed.
        let mut this = std::mem::ManuallyDrop::new(self);
        drop(std::mem::take(&mut this.name));
        name
    }
}

impl Drop for SpiCursor<'_> {
    fn drop(&mut self) {
        // Not after a PostgreSQL ERROR (the abort closes it), nor while unwinding (an
        // ERROR from closing, e.g. of an active portal, would abort).
        if crate::__glue::error_pending() || std::thread::panicking() {
            return;
        }
        if let Ok(portal) = find_portal(&self.name) {
            // SAFETY: FFI on a live portal.
            unsafe { pg_sys::SPI_cursor_close(portal.as_ptr()) };
        }
    }
}
