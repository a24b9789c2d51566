//! Results: rows, and columns read as Rust types.

use super::*;

/// The rows a statement returned, positioned before the first; an iterator of rows.
pub struct SpiTupleTable<'c> {
    table: Option<NonNull<pg_sys::SPITupleTable>>,
    size: usize,
    current: isize,
    status: SpiOkCodes,
    conn: Conn<'c>,
}

impl<'c> SpiTupleTable<'c> {
    pub(super) fn after(status: i32, conn: Conn<'c>) -> Result<Self> {
        let status = check_status(status)?;
        // SAFETY: SPI's result globals, just set by the statement that returned `status`
        // (SPI_tuptable was cleared before it ran), on the backend's thread. The table
        // lives in the connection's memory.
        let (table, size) = unsafe {
            let table = NonNull::new(pg_sys::SPI_tuptable);
            let size = match table {
                Some(t) => t.as_ref().numvals as usize,
                None => pg_sys::SPI_processed as usize,
            };
            (table, size)
        };
        Ok(SpiTupleTable {
            table,
            size,
            current: -1,
            status,
            conn,
        })
    }

    /// Position on the first row.
    pub fn first(mut self) -> Self {
        self.current = 0;
        self
    }

    /// Position before the first row again, to iterate once more.
    pub fn rewind(mut self) -> Self {
        self.current = -1;
        self
    }

    /// How many rows the statement returned (or, without `RETURNING`, changed).
    pub fn len(&self) -> usize {
        self.size
    }

    /// True when [`SpiTupleTable::len`] is 0.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// What kind of statement ran (`SpiOkCodes::Select`, `Insert`, ...).
    pub fn status(&self) -> &SpiOkCodes {
        &self.status
    }

    /// Column 1 of the current row.
    pub fn get_one<A: FromSql<'c>>(&self) -> Result<Option<A>> {
        self.get(1)
    }

    /// Columns 1 and 2 of the current row.
    pub fn get_two<A: FromSql<'c>, B: FromSql<'c>>(&self) -> Result<(Option<A>, Option<B>)> {
        Ok((self.get(1)?, self.get(2)?))
    }

    /// Columns 1 to 3 of the current row.
    pub fn get_three<A: FromSql<'c>, B: FromSql<'c>, C: FromSql<'c>>(
        &self,
    ) -> Result<(Option<A>, Option<B>, Option<C>)> {
        Ok((self.get(1)?, self.get(2)?, self.get(3)?))
    }

    /// The current row.
    pub fn get_heap_tuple(&self) -> Result<Option<SpiHeapTupleData<'c>>> {
        Ok(self.current()?.map(|(table, index)| self.row(table, index)))
    }

    /// The table and the index of the current row; `None` when there are no rows.
    fn current(&self) -> Result<Option<(NonNull<pg_sys::SPITupleTable>, usize)>> {
        match self.table {
            None => Ok(None),
            Some(_) if self.size == 0 => Ok(None),
            Some(table) => {
                if self.current < 0 || self.current as usize >= self.size {
                    return Err(SpiError::InvalidPosition);
                }
                Ok(Some((table, self.current as usize)))
            }
        }
    }

    fn row(&self, table: NonNull<pg_sys::SPITupleTable>, index: usize) -> SpiHeapTupleData<'c> {
        // SAFETY: the table is alive (the connection is); index < size = numvals.
        unsafe {
            let table = table.as_ref();
            let tuple = *table.vals.add(index);
            SpiHeapTupleData::new(table.tupdesc, tuple, self.conn)
        }
    }

    /// Column `ordinal` (from 1) of the current row.
    pub fn get<T: FromSql<'c>>(&self, ordinal: usize) -> Result<Option<T>> {
        // Only the one column is read (`get_one` on every call of a lookup): building the
        // whole row would read every column and allocate for them.
        let (table, index) = self.current()?.ok_or(SpiError::InvalidPosition)?;
        // SAFETY: the table is alive (the connection is); index < size = numvals; the
        // tuple and the table's descriptor describe each other.
        let entry = unsafe {
            let table = table.as_ref();
            let natts = (*table.tupdesc).natts as usize;
            if ordinal == 0 || ordinal > natts {
                return Err(SpiError::ColumnOutOfRange(ordinal));
            }
            column(
                table.tupdesc,
                *table.vals.add(index),
                ordinal - 1,
                self.conn,
            )
        };
        entry.value()
    }

    /// The named column of the current row.
    pub fn get_by_name<T: FromSql<'c>, S: AsRef<str>>(&self, name: S) -> Result<Option<T>> {
        match self.get_heap_tuple()? {
            Some(row) => row.get_by_name(name),
            None => Err(SpiError::InvalidPosition),
        }
    }

    fn tupdesc(&self) -> Result<pg_sys::TupleDesc> {
        // SAFETY: the table is alive.
        self.table
            .map(|t| unsafe { t.as_ref().tupdesc })
            .ok_or(SpiError::NoTupleTable)
    }

    /// How many columns the result has.
    pub fn columns(&self) -> Result<usize> {
        // SAFETY: a live tuple descriptor.
        Ok(unsafe { (*self.tupdesc()?).natts } as usize)
    }

    fn check_column(&self, ordinal: usize) -> Result<pg_sys::TupleDesc> {
        let tupdesc = self.tupdesc()?;
        if ordinal == 0 || ordinal > self.columns()? {
            return Err(SpiError::ColumnOutOfRange(ordinal));
        }
        Ok(tupdesc)
    }

    /// The SQL type of column `ordinal` (from 1).
    pub fn column_type_oid(&self, ordinal: usize) -> Result<PgOid> {
        let tupdesc = self.check_column(ordinal)?;
        // SAFETY: FFI on a live descriptor, in range.
        Ok(PgOid::from(unsafe {
            pg_sys::SPI_gettypeid(tupdesc, ordinal as i32)
        }))
    }

    /// The name of column `ordinal` (from 1).
    pub fn column_name(&self, ordinal: usize) -> Result<String> {
        let tupdesc = self.check_column(ordinal)?;
        // SAFETY: FFI on a live descriptor, in range; the name is a palloc'd copy.
        unsafe {
            let name = pg_sys::SPI_fname(tupdesc, ordinal as i32);
            let text = CStr::from_ptr(name).to_string_lossy().into_owned();
            pg_sys::pfree(name.cast());
            Ok(text)
        }
    }

    /// The position (from 1) of the named column.
    pub fn column_ordinal<S: AsRef<str>>(&self, name: S) -> Result<usize> {
        column_number(self.tupdesc()?, name.as_ref())
    }
}

impl<'c> Iterator for SpiTupleTable<'c> {
    type Item = SpiHeapTupleData<'c>;

    fn next(&mut self) -> Option<Self::Item> {
        let table = self.table?;
        let next = self.current + 1;
        if next as usize >= self.size {
            self.current = self.size as isize;
            return None;
        }
        self.current = next;
        Some(self.row(table, next as usize))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.size.saturating_sub((self.current + 1).max(0) as usize);
        (left, Some(left))
    }
}

fn column_number(tupdesc: pg_sys::TupleDesc, name: &str) -> Result<usize> {
    let cname = CString::new(name).map_err(|_| SpiError::NulByte)?;
    // SAFETY: FFI on a live descriptor with a NUL-terminated name.
    let n = unsafe { pg_sys::SPI_fnumber(tupdesc, cname.as_ptr()) };
    if n <= 0 {
        Err(SpiError::ColumnNotFound(name.to_owned()))
    } else {
        Ok(n as usize)
    }
}

/// Column `i` (from 0) of a row.
///
/// # Safety
/// `tupdesc` and `tuple` are alive as long as `conn`, and describe each other;
/// `i < natts`.
unsafe fn column<'c>(
    tupdesc: pg_sys::TupleDesc,
    tuple: pg_sys::HeapTuple,
    i: usize,
    conn: Conn<'c>,
) -> SpiHeapTupleDataEntry<'c> {
    let mut is_null = false;
    // SAFETY: per the caller. The value and its type are read as SPI_getbinval and
    // SPI_gettypeid read them, but inline: pgrx's heap_getattr calls PostgreSQL only for
    // a column past a NULL or a variable-length one (each call into PostgreSQL goes
    // through pgrx's error boundary, a sigsetjmp).
    let (datum, oid) = unsafe {
        (
            pg_sys::heap_getattr(tuple, i as i32 + 1, tupdesc, &mut is_null),
            (*(*tupdesc).attrs.as_ptr().add(i)).atttypid,
        )
    };
    SpiHeapTupleDataEntry {
        datum: (!is_null).then_some(datum),
        oid,
        conn,
    }
}

/// One row of a result.
pub struct SpiHeapTupleData<'c> {
    tupdesc: NonNull<pg_sys::TupleDescData>,
    entries: Vec<SpiHeapTupleDataEntry<'c>>,
}

impl<'c> SpiHeapTupleData<'c> {
    /// # Safety
    /// `tupdesc` and `tuple` are alive as long as `conn`, and describe each other.
    unsafe fn new(
        tupdesc: pg_sys::TupleDesc,
        tuple: pg_sys::HeapTuple,
        conn: Conn<'c>,
    ) -> SpiHeapTupleData<'c> {
        // SAFETY: per the caller.
        let natts = unsafe { (*tupdesc).natts };
        let entries = (0..natts.max(0) as usize)
            // SAFETY: per the caller; i is in range.
            .map(|i| unsafe { column(tupdesc, tuple, i, conn) })
            .collect();
        SpiHeapTupleData {
            tupdesc: NonNull::new(tupdesc).expect("a row has a descriptor"),
            entries,
        }
    }

    /// Column `ordinal` (from 1).
    pub fn get<T: FromSql<'c>>(&self, ordinal: usize) -> Result<Option<T>> {
        self.get_datum_by_ordinal(ordinal)?.value()
    }

    /// The named column.
    pub fn get_by_name<T: FromSql<'c>, S: AsRef<str>>(&self, name: S) -> Result<Option<T>> {
        self.get_datum_by_name(name)?.value()
    }

    /// Column `ordinal` (from 1), to read with [`SpiHeapTupleDataEntry::value`].
    pub fn get_datum_by_ordinal(&self, ordinal: usize) -> Result<&SpiHeapTupleDataEntry<'c>> {
        ordinal
            .checked_sub(1)
            .and_then(|i| self.entries.get(i))
            .ok_or(SpiError::ColumnOutOfRange(ordinal))
    }

    /// The named column, to read with [`SpiHeapTupleDataEntry::value`].
    pub fn get_datum_by_name<S: AsRef<str>>(&self, name: S) -> Result<&SpiHeapTupleDataEntry<'c>> {
        let n = column_number(self.tupdesc.as_ptr(), name.as_ref())?;
        self.get_datum_by_ordinal(n)
    }

    /// How many columns the row has.
    pub fn columns(&self) -> usize {
        self.entries.len()
    }
}

/// `row[1]`: column 1; panics (an ERROR) when there is none.
impl<'c> Index<usize> for SpiHeapTupleData<'c> {
    type Output = SpiHeapTupleDataEntry<'c>;

    fn index(&self, ordinal: usize) -> &Self::Output {
        match self.get_datum_by_ordinal(ordinal) {
            Ok(entry) => entry,
            Err(e) => panic!("{e}"),
        }
    }
}

/// `row["name"]`: the named column; panics (an ERROR) when there is none.
impl<'c> Index<&str> for SpiHeapTupleData<'c> {
    type Output = SpiHeapTupleDataEntry<'c>;

    fn index(&self, name: &str) -> &Self::Output {
        match self.get_datum_by_name(name) {
            Ok(entry) => entry,
            Err(e) => panic!("{e}"),
        }
    }
}

/// One column of a row.
pub struct SpiHeapTupleDataEntry<'c> {
    datum: Option<pg_sys::Datum>,
    oid: pg_sys::Oid,
    conn: Conn<'c>,
}

impl<'c> SpiHeapTupleDataEntry<'c> {
    /// The value as `T`: `None` for NULL, an error when the column's type is not `T`'s.
    pub fn value<T: FromSql<'c>>(&self) -> Result<Option<T>> {
        // Reading may detoast, which a failed transaction must not do.
        pending_error()?;
        match self.datum {
            None => Ok(None),
            Some(datum) => T::read(datum, self.oid, self.conn.memory),
        }
    }

    /// The column's SQL type.
    pub fn oid(&self) -> pg_sys::Oid {
        self.oid
    }
}

/// A Rust type a column can be read as, for as long as the connection `'c`: owned types
/// (`i32`, `String`, `Vec<Option<i64>>`, ...) and borrowed ones (`&'c str`, `&'c [u8]`,
/// a row `PgHeapTuple<'c>` and an `Array<'c, PgHeapTuple<'c>>` of rows).
pub trait FromSql<'c>: Sized + private::Read<'c> {}

/// A Rust type that owns its value, so it can outlive the connection it was read on (what
/// `Spi::get_one` and its kin return).
pub trait Owned: for<'c> FromSql<'c> {}
impl<T: for<'c> FromSql<'c>> Owned for T {}

mod read {
    use super::*;

    use crate::memory::InContext;

    /// Read a non-NULL datum of type `oid` as a borrowed `T` (`&'c str`, `&'c [u8]`),
    /// after checking that `T` is that type (or one it is binary-coercible to). A
    /// detoasted copy goes to the connection's memory, which the result points into.
    pub fn borrowed<T: FromDatum + PgIntoDatum>(
        datum: pg_sys::Datum,
        oid: pg_sys::Oid,
        memory: pg_sys::MemoryContext,
    ) -> Result<Option<T>> {
        // SAFETY: the connection's memory, alive while the connection is.
        let _in = unsafe { InContext::enter(memory) };
        // SAFETY: the datum is a live, non-null value of type `oid` from a row of this
        // connection; try_from_datum checks `T` against `oid` before reading it.
        unsafe { T::try_from_datum(datum, false, oid) }.map_err(SpiError::DatumError)
    }

    /// A memory context that lives while one owned value is read, then goes with
    /// everything the read left in it.
    struct Scratch(pg_sys::MemoryContext);

    impl Scratch {
        fn new(parent: pg_sys::MemoryContext) -> Scratch {
            // SAFETY: FFI; `parent` is the live connection's memory, so PostgreSQL frees
            // the scratch context with it even if we never get to.
            Scratch(unsafe {
                pg_sys::AllocSetContextCreateInternal(
                    parent,
                    c"PL/Rust SPI read".as_ptr(),
                    pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
                    pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
                    pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
                )
            })
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            // While unwinding from an ERROR, leave it to its parent: PostgreSQL's memory
            // is not to be touched before the error is handled.
            if !std::thread::panicking() {
                // SAFETY: our own context, no longer current (InContext dropped first).
                unsafe { pg_sys::MemoryContextDelete(self.0) };
            }
        }
    }

    /// Read a non-NULL datum of type `oid` as an owned `T`, as [`borrowed`] does; but
    /// the conversion runs in a scratch context freed right after, so a detoasted copy
    /// does not stay in the connection's memory (outside `plrust.max_memory`) until the
    /// connection ends. Every owned `T` copies its value into the Rust heap.
    pub fn owned<T: FromDatum + PgIntoDatum>(
        datum: pg_sys::Datum,
        oid: pg_sys::Oid,
        memory: pg_sys::MemoryContext,
    ) -> Result<Option<T>> {
        if fixed_size(oid) {
            // Nothing to detoast, so nothing for a scratch context to catch: making and
            // deleting one was a third of the PostgreSQL calls of an `i32` lookup.
            return borrowed(datum, oid, memory);
        }
        let scratch = Scratch::new(memory);
        let value = {
            // SAFETY: the scratch context, deleted only after this guard is dropped.
            let _in = unsafe { InContext::enter(scratch.0) };
            // SAFETY: as in `borrowed`.
            unsafe { T::try_from_datum(datum, false, oid) }.map_err(SpiError::DatumError)
        };
        drop(scratch);
        value
    }

    /// Is a value of type `oid` fixed-size, never toasted: a built-in type whose
    /// conversion to Rust copies the value out and allocates nothing?
    #[inline]
    fn fixed_size(oid: pg_sys::Oid) -> bool {
        use pg_sys::BuiltinOid::*;
        [
            BOOLOID,
            CHAROID,
            INT2OID,
            INT4OID,
            INT8OID,
            FLOAT4OID,
            FLOAT8OID,
            OIDOID,
            DATEOID,
            TIMEOID,
            TIMESTAMPOID,
            TIMESTAMPTZOID,
            TIMETZOID,
            INTERVALOID,
            UUIDOID,
            POINTOID,
            BOXOID,
        ]
        .iter()
        .any(|fixed| fixed.value() == oid)
    }
}

/// Implements reading `$t` with `read::$how` (`owned`: copied out through a scratch
/// context; `borrowed`: pointing into the connection's memory).
macro_rules! read_as {
    ($how:ident: $($t:ty),* $(,)?) => {$(
        impl<'c> FromSql<'c> for $t {}
        impl<'c> private::Read<'c> for $t {
            fn read(
                datum: pg_sys::Datum,
                oid: pg_sys::Oid,
                memory: pg_sys::MemoryContext,
            ) -> Result<Option<Self>> {
                read::$how(datum, oid, memory)
            }
        }
    )*};
}

read_as!(borrowed: &'c str, &'c [u8]);
// A row, or an array of rows, points into the result (read its columns before the
// connection ends).
read_as!(borrowed: crate::PgHeapTuple<'c, crate::AllocatedByRust>, crate::datum::Array<'c, crate::PgHeapTuple<'c, crate::AllocatedByRust>>);

macro_rules! readable {
    ($($t:ty),* $(,)?) => {$(
        read_as!(owned: $t, Vec<$t>, Vec<Option<$t>>);
    )*};
}

super::sql_types!(readable);
readable!(crate::Json, crate::JsonB);
read_as!(owned: Vec<u8>);
