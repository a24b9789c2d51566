//! What set-returning functions return, as in the original PL/Rust:
//! `RETURNS SETOF T` is a [`SetOfIterator`] of `Option<T>` (`None` is a NULL row), and
//! `RETURNS TABLE (...)` (or `SETOF record` with OUT parameters) is a [`TableIterator`]
//! of tuples with one `Option` per column. `Ok(None)` from the body returns no rows.
//!
//! The rows are taken from the iterator when the function returns, into a tuplestore that
//! spills to disk past `work_mem` (PostgreSQL's materialize mode, as PL/pgSQL does). The
//! iterator may borrow the function's arguments.

use pgrx::datum::IntoDatum;
use pgrx::pg_sys::Datum;

/// The rows of a `RETURNS SETOF T` function: each item is one row, `None` for NULL.
pub struct SetOfIterator<'a, T> {
    iter: Box<dyn Iterator<Item = Option<T>> + 'a>,
}

impl<'a, T> SetOfIterator<'a, T> {
    /// The rows `iter` yields, in order.
    pub fn new<I>(iter: I) -> Self
    where
        I: IntoIterator<Item = Option<T>>,
        I::IntoIter: 'a,
    {
        SetOfIterator {
            iter: Box::new(iter.into_iter()),
        }
    }

    /// No rows.
    pub fn empty() -> Self
    where
        T: 'a,
    {
        Self::new(std::iter::empty())
    }

    /// One row.
    pub fn once(value: Option<T>) -> Self
    where
        T: 'a,
    {
        Self::new(std::iter::once(value))
    }
}

impl<T> Iterator for SetOfIterator<'_, T> {
    type Item = Option<T>;

    fn next(&mut self) -> Option<Self::Item> {
        self.iter.next()
    }
}

/// The rows of a `RETURNS TABLE (...)` function: each item is a tuple with one `Option`
/// per column, in the order of the columns (a 1-tuple `(Some(x),)` for one column).
pub struct TableIterator<'a, Row> {
    iter: Box<dyn Iterator<Item = Row> + 'a>,
}

impl<'a, Row> TableIterator<'a, Row> {
    /// The rows `iter` yields, in order.
    pub fn new<I>(iter: I) -> Self
    where
        I: IntoIterator<Item = Row>,
        I::IntoIter: 'a,
    {
        TableIterator {
            iter: Box::new(iter.into_iter()),
        }
    }

    /// No rows.
    pub fn empty() -> Self
    where
        Row: 'a,
    {
        Self::new(std::iter::empty())
    }

    /// One row.
    pub fn once(row: Row) -> Self
    where
        Row: 'a,
    {
        Self::new(std::iter::once(row))
    }
}

impl<Row> Iterator for TableIterator<'_, Row> {
    type Item = Row;

    fn next(&mut self) -> Option<Self::Item> {
        self.iter.next()
    }
}

/// A column's type, named: `name!(count, Option<i32>)` is `Option<i32>`. PL/Rust's
/// generated signatures do not need it; it is here for bodies written for the original
/// PL/Rust, which spelled `TableIterator` rows with it.
#[macro_export]
macro_rules! name {
    ($name:tt, $ty:ty $(,)?) => {
        $ty
    };
}

/// A result row: a tuple of `Option`s, one per column. Implemented for tuples of up to
/// 32 columns.
pub trait Row: row_sealed::Sealed {
    /// How many columns.
    const WIDTH: usize;
    /// Each column as a datum (`None`: NULL), in order.
    #[doc(hidden)]
    fn into_datums(self, each: &mut dyn FnMut(Option<Datum>));
}

mod row_sealed {
    pub trait Sealed {}
}

macro_rules! count {
    () => { 0usize };
    ($head:ident $($tail:ident)*) => { 1usize + count!($($tail)*) };
}

macro_rules! row_impls {
    ($($T:ident)+) => {
        row_impls!(@each [] $($T)+);
    };
    (@each [$($done:ident)*] $next:ident $($rest:ident)*) => {
        row_impls!(@one $($done)* $next);
        row_impls!(@each [$($done)* $next] $($rest)*);
    };
    (@each [$($done:ident)*]) => {};
    (@one $($T:ident)+) => {
        impl<$($T: IntoDatum),+> row_sealed::Sealed for ($(Option<$T>,)+) {}
        impl<$($T: IntoDatum),+> Row for ($(Option<$T>,)+) {
            const WIDTH: usize = count!($($T)+);
            #[allow(non_snake_case)]
            fn into_datums(self, each: &mut dyn FnMut(Option<Datum>)) {
                let ($($T,)+) = self;
                $( each($T.and_then(IntoDatum::into_datum)); )+
            }
        }
    };
}

row_impls!(A B C D E F G H I J K L M N O P Q R S T U V W X Y Z A1 B1 C1 D1 E1 F1);

/// The most columns a PL/Rust result row may have.
pub const MAX_COLUMNS: usize = 32;

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn set_of_iterator_yields_its_rows() {
        let rows: Vec<_> = SetOfIterator::new(vec![Some(1), None, Some(3)]).collect();
        assert_eq!(rows, vec![Some(1), None, Some(3)]);
        assert_eq!(SetOfIterator::<i32>::empty().count(), 0);
        assert_eq!(
            SetOfIterator::once(Some(7)).collect::<Vec<_>>(),
            vec![Some(7)]
        );
    }

    #[test]
    fn table_iterator_borrows_what_it_iterates() {
        let words = String::from("a b");
        let t = TableIterator::new(words.split(' ').map(|w| (Some(w.len() as i32), Some(w))));
        assert_eq!(t.count(), 2);
    }

    #[test]
    fn row_widths() {
        assert_eq!(<(Option<i32>,) as Row>::WIDTH, 1);
        assert_eq!(<(Option<i32>, Option<String>) as Row>::WIDTH, 2);
        type Widest = (
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
            Option<i8>,
        );
        assert_eq!(<Widest as Row>::WIDTH, MAX_COLUMNS);
    }

    #[test]
    fn name_is_the_type() {
        let x: name!(count, Option<i32>) = Some(1);
        assert_eq!(x, Some(1));
    }
}
