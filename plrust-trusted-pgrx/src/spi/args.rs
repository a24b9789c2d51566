//! Arguments: Rust values bound to `$1`, `$2`, ... with their SQL types.

use super::*;

/// A value to bind to a statement's parameter, with its SQL type (that of the Rust value
/// it was made from).
pub struct Datum {
    value: Box<dyn ArgValue>,
}

impl Datum {
    /// The value's SQL type.
    pub fn oid(&self) -> pg_sys::Oid {
        self.value.oid()
    }
}

impl fmt::Debug for Datum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Datum({})", type_name(self.value.oid()))
    }
}

/// A value made into a datum when its statement runs, in the statement's memory.
trait ArgValue {
    fn oid(&self) -> pg_sys::Oid;
    fn datum(&self) -> Option<pg_sys::Datum>;
}

struct Typed<T>(T);

impl<T: PgIntoDatum + Again> ArgValue for Typed<T> {
    fn oid(&self) -> pg_sys::Oid {
        T::type_oid()
    }
    fn datum(&self) -> Option<pg_sys::Datum> {
        self.0.again().into_datum()
    }
}

/// A copy of a value, to make a datum of each time its statement runs (pgrx's
/// `into_datum` consumes the value).
trait Again {
    fn again(&self) -> Self;
}

/// A Rust value that can be bound to a statement's parameter.
pub trait IntoDatum: Sized + private::Sealed {
    /// The value as a [`Datum`]; `None` for SQL NULL.
    fn into_datum(self) -> Option<Datum>;
    /// The SQL type of values of this Rust type.
    fn type_oid() -> pg_sys::Oid;
}

/// An argument for `$1`, `$2`, ...: made from any bindable value, `x.into()`, or
/// `DatumWithOid::null::<T>()` for a NULL of `T`'s type.
pub struct DatumWithOid<'a> {
    oid: pg_sys::Oid,
    value: Option<Datum>,
    _borrow: PhantomData<&'a ()>,
}

impl DatumWithOid<'_> {
    /// An SQL NULL of the type of `T`.
    pub fn null<T: IntoDatum>() -> Self {
        DatumWithOid {
            oid: T::type_oid(),
            value: None,
            _borrow: PhantomData,
        }
    }

    /// The argument's SQL type.
    pub fn oid(&self) -> pg_sys::Oid {
        self.oid
    }
}

impl<T: IntoDatum> From<T> for DatumWithOid<'_> {
    fn from(value: T) -> Self {
        DatumWithOid {
            oid: T::type_oid(),
            value: value.into_datum(),
            _borrow: PhantomData,
        }
    }
}
/// The types an argument can be: each one, with `Sealed` and `IntoDatum`.
macro_rules! bindable_as_is {
    ($($t:ty),* $(,)?) => {$(
        impl private::Sealed for $t {}
        impl IntoDatum for $t {
            fn into_datum(self) -> Option<Datum> {
                Some(Datum { value: Box::new(Typed(self)) })
            }
            fn type_oid() -> pg_sys::Oid {
                <$t as PgIntoDatum>::type_oid()
            }
        }
    )*};
}

/// A `Clone` type, and arrays of it (with or without NULLs).
macro_rules! bindable {
    ($($t:ty),* $(,)?) => {$(
        bindable_as_is!($t, Vec<$t>, Vec<Option<$t>>);
        again_by_clone!($t, Vec<$t>, Vec<Option<$t>>);
    )*};
}

macro_rules! again_by_clone {
    ($($t:ty),*) => {$(
        impl Again for $t {
            fn again(&self) -> Self {
                self.clone()
            }
        }
    )*};
}

super::sql_types!(bindable);
bindable_as_is!(Vec<u8>, crate::Json, crate::JsonB);
again_by_clone!(Vec<u8>);

// pgrx's JSON types are not `Clone`; their `serde_json::Value` is.
impl Again for crate::Json {
    fn again(&self) -> Self {
        crate::Json(self.0.clone())
    }
}
impl Again for crate::JsonB {
    fn again(&self) -> Self {
        crate::JsonB(self.0.clone())
    }
}

impl private::Sealed for &str {}
impl IntoDatum for &str {
    fn into_datum(self) -> Option<Datum> {
        <String as IntoDatum>::into_datum(self.to_owned())
    }
    fn type_oid() -> pg_sys::Oid {
        <String as IntoDatum>::type_oid()
    }
}

impl private::Sealed for &[u8] {}
impl IntoDatum for &[u8] {
    fn into_datum(self) -> Option<Datum> {
        <Vec<u8> as IntoDatum>::into_datum(self.to_vec())
    }
    fn type_oid() -> pg_sys::Oid {
        <Vec<u8> as IntoDatum>::type_oid()
    }
}

impl<T: IntoDatum> private::Sealed for Option<T> {}
impl<T: IntoDatum> IntoDatum for Option<T> {
    fn into_datum(self) -> Option<Datum> {
        self.and_then(IntoDatum::into_datum)
    }
    fn type_oid() -> pg_sys::Oid {
        T::type_oid()
    }
}

/// How many arguments [`Bound`] holds without allocating.
const INLINE: usize = 8;

/// A statement's arguments made datums, kept as the three arrays SPI takes (each
/// argument's type, value, and null flag: `'n'` for NULL, `' '` otherwise). On the stack
/// for up to [`INLINE`] arguments: a statement run on every call allocates nothing for
/// them.
pub struct Bound {
    len: usize,
    types: Spill<pg_sys::Oid>,
    values: Spill<pg_sys::Datum>,
    nulls: Spill<std::ffi::c_char>,
}

/// One of [`Bound`]'s arrays: inline, moved to the heap when it outgrows [`INLINE`].
struct Spill<T> {
    inline: [T; INLINE],
    heap: Vec<T>,
}

impl<T: Copy> Spill<T> {
    fn new(fill: T) -> Spill<T> {
        Spill {
            inline: [fill; INLINE],
            heap: Vec::new(),
        }
    }

    /// Append `value` to the `len` elements there are.
    fn push(&mut self, len: usize, value: T) {
        if len < INLINE {
            self.inline[len] = value;
        } else {
            if len == INLINE {
                self.heap.extend_from_slice(&self.inline);
            }
            self.heap.push(value);
        }
    }

    fn as_mut_slice(&mut self, len: usize) -> &mut [T] {
        if len <= INLINE {
            &mut self.inline[..len]
        } else {
            &mut self.heap
        }
    }

    fn as_slice(&self, len: usize) -> &[T] {
        if len <= INLINE {
            &self.inline[..len]
        } else {
            &self.heap
        }
    }
}

impl Bound {
    fn new() -> Bound {
        Bound {
            len: 0,
            types: Spill::new(pg_sys::Oid::INVALID),
            values: Spill::new(pg_sys::Datum::from(0usize)),
            nulls: Spill::new(b'n' as std::ffi::c_char),
        }
    }

    fn push(&mut self, oid: pg_sys::Oid, value: Option<pg_sys::Datum>) {
        self.types.push(self.len, oid);
        let (datum, null) = match value {
            Some(datum) => (datum, b' '),
            None => (pg_sys::Datum::from(0usize), b'n'),
        };
        self.values.push(self.len, datum);
        self.nulls.push(self.len, null as std::ffi::c_char);
        self.len += 1;
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Each argument's type.
    pub(super) fn types(&self) -> &[pg_sys::Oid] {
        self.types.as_slice(self.len)
    }

    /// The types, values and null flags, as SPI takes them (arrays of [`len`](Self::len)
    /// elements, alive as long as this value).
    pub(super) fn for_spi(
        &mut self,
    ) -> (
        *mut pg_sys::Oid,
        *mut pg_sys::Datum,
        *const std::ffi::c_char,
    ) {
        (
            self.types.as_mut_slice(self.len).as_mut_ptr(),
            self.values.as_mut_slice(self.len).as_mut_ptr(),
            self.nulls.as_slice(self.len).as_ptr(),
        )
    }
}

impl FromIterator<(pg_sys::Oid, Option<pg_sys::Datum>)> for Bound {
    fn from_iter<I: IntoIterator<Item = (pg_sys::Oid, Option<pg_sys::Datum>)>>(iter: I) -> Bound {
        let mut bound = Bound::new();
        for (oid, value) in iter {
            bound.push(oid, value);
        }
        bound
    }
}

/// Check `args` against a prepared plan: one per parameter, each fitting its
/// parameter's type.
pub(super) fn check_for_plan(args: &Bound, plan: &Plan) -> Result<()> {
    if args.len() != plan.types.len() {
        return Err(SpiError::PreparedStatementArgumentMismatch {
            expected: plan.types.len(),
            got: args.len(),
        });
    }
    for (i, (&oid, &expected)) in args.types().iter().zip(&plan.types).enumerate() {
        if !fits(oid, expected) {
            return Err(SpiError::ArgumentType {
                position: i + 1,
                expected: type_name(expected),
                got: type_name(oid),
            });
        }
    }
    Ok(())
}

/// The arguments of a statement: `&[DatumWithOid]` (`&[]`, `&[42.into(), "x".into()]`),
/// or, as in the original PL/Rust, `Option<Vec<(PgOid, Option<Datum>)>>` (`None`).
pub trait SpiArgs: private::Args {}

fn bind_typed<'a, 'b: 'a>(args: impl IntoIterator<Item = &'a DatumWithOid<'b>>) -> Bound {
    args.into_iter()
        .map(|a| (a.oid, a.value.as_ref().and_then(|v| v.value.datum())))
        .collect()
}

impl<'a> private::Args for &[DatumWithOid<'a>] {
    fn bind(self) -> Result<Bound> {
        Ok(bind_typed(self))
    }
}
impl<'a> SpiArgs for &[DatumWithOid<'a>] {}
impl<'a, const N: usize> private::Args for &[DatumWithOid<'a>; N] {
    fn bind(self) -> Result<Bound> {
        Ok(bind_typed(self))
    }
}
impl<'a, const N: usize> SpiArgs for &[DatumWithOid<'a>; N] {}
impl<'a> private::Args for Vec<DatumWithOid<'a>> {
    fn bind(self) -> Result<Bound> {
        Ok(bind_typed(&self))
    }
}
impl<'a> SpiArgs for Vec<DatumWithOid<'a>> {}
impl private::Args for Option<Vec<(PgOid, Option<Datum>)>> {
    fn bind(self) -> Result<Bound> {
        let mut bound = Bound::new();
        for (i, (declared, value)) in self.unwrap_or_default().into_iter().enumerate() {
            let declared = declared.value();
            if let Some(value) = &value {
                if !fits(value.oid(), declared) {
                    return Err(SpiError::ArgumentType {
                        position: i + 1,
                        expected: type_name(declared),
                        got: type_name(value.oid()),
                    });
                }
            }
            bound.push(declared, value.and_then(|v| v.value.datum()));
        }
        Ok(bound)
    }
}
impl SpiArgs for Option<Vec<(PgOid, Option<Datum>)>> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(i: u32) -> (pg_sys::Oid, Option<pg_sys::Datum>) {
        (
            pg_sys::Oid::from(i),
            (!i.is_multiple_of(3)).then(|| pg_sys::Datum::from(i as usize)),
        )
    }

    #[test]
    fn bound_arguments_keep_their_order_on_the_stack_and_past_it() {
        for n in [0, 1, INLINE - 1, INLINE, INLINE + 1, 3 * INLINE] {
            let expected: Vec<_> = (0..n as u32).map(arg).collect();
            let mut bound: Bound = (0..n as u32).map(arg).collect();
            assert_eq!(bound.len(), n);
            assert!(
                bound.types().iter().eq(expected.iter().map(|(oid, _)| oid)),
                "{n} arguments"
            );
            let (types, values, nulls) = bound.for_spi();
            for (i, (oid, value)) in expected.iter().enumerate() {
                // SAFETY: each array holds one element per argument.
                let (t, v, null) = unsafe { (*types.add(i), *values.add(i), *nulls.add(i) as u8) };
                assert_eq!(t, *oid);
                match value {
                    Some(d) => assert_eq!((v, null), (*d, b' ')),
                    None => assert_eq!(null, b'n'),
                }
            }
        }
    }
}
