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

/// One argument made a datum: its SQL type and value (`None`: NULL).
type BoundArg = (pg_sys::Oid, Option<pg_sys::Datum>);

/// A statement's arguments, made into datums: on the stack for up to [`INLINE`] of them
/// (a statement run on every call then allocates nothing for its arguments).
pub struct Bound {
    len: usize,
    inline: [BoundArg; INLINE],
    more: Vec<BoundArg>,
}

impl Bound {
    fn new() -> Bound {
        Bound {
            len: 0,
            inline: [(pg_sys::Oid::INVALID, None); INLINE],
            more: Vec::new(),
        }
    }

    fn push(&mut self, arg: BoundArg) {
        if self.len < INLINE {
            self.inline[self.len] = arg;
        } else {
            if self.len == INLINE {
                self.more.extend_from_slice(&self.inline);
            }
            self.more.push(arg);
        }
        self.len += 1;
    }
}

impl std::ops::Deref for Bound {
    type Target = [BoundArg];

    fn deref(&self) -> &[BoundArg] {
        if self.len <= INLINE {
            &self.inline[..self.len]
        } else {
            &self.more
        }
    }
}

impl FromIterator<BoundArg> for Bound {
    fn from_iter<I: IntoIterator<Item = BoundArg>>(iter: I) -> Bound {
        let mut bound = Bound::new();
        for arg in iter {
            bound.push(arg);
        }
        bound
    }
}

/// Types, values and null flags for a statement given as text: the parameters take the
/// arguments' types.
pub(super) fn unzip_with_types(
    args: &Bound,
) -> (Vec<pg_sys::Oid>, Vec<pg_sys::Datum>, Vec<std::ffi::c_char>) {
    let types = args.iter().map(|(oid, _)| *oid).collect();
    let (values, nulls) = values(args);
    (types, values, nulls)
}

fn values(args: &Bound) -> (Vec<pg_sys::Datum>, Vec<std::ffi::c_char>) {
    args.iter()
        .map(|(_, value)| match value {
            Some(datum) => (*datum, b' ' as std::ffi::c_char),
            None => (pg_sys::Datum::from(0usize), b'n' as std::ffi::c_char),
        })
        .unzip()
}

/// Values and null flags for a prepared plan, after checking that there is one per
/// parameter and that each fits its parameter's type.
pub(super) fn for_plan(args: &Bound, plan: &Plan) -> Result<Values> {
    if args.len() != plan.types.len() {
        return Err(SpiError::PreparedStatementArgumentMismatch {
            expected: plan.types.len(),
            got: args.len(),
        });
    }
    for (i, ((oid, _), &expected)) in args.iter().zip(&plan.types).enumerate() {
        if !fits(*oid, expected) {
            return Err(SpiError::ArgumentType {
                position: i + 1,
                expected: type_name(expected),
                got: type_name(*oid),
            });
        }
    }
    Ok(Values::of(args))
}

/// How many arguments fit in [`Bound`] and [`Values`] without allocating.
const INLINE: usize = 8;

/// The values and null flags of a plan's arguments, as `SPI_execute_plan` takes them: on
/// the stack for up to [`INLINE`] arguments, since a kept plan's run otherwise allocates
/// nothing else.
pub(super) enum Values {
    Inline {
        values: [pg_sys::Datum; INLINE],
        nulls: [std::ffi::c_char; INLINE],
    },
    Heap {
        values: Vec<pg_sys::Datum>,
        nulls: Vec<std::ffi::c_char>,
    },
}

impl Values {
    fn of(args: &Bound) -> Values {
        if args.len() > INLINE {
            let (values, nulls) = values(args);
            return Values::Heap { values, nulls };
        }
        let mut values = [pg_sys::Datum::from(0usize); INLINE];
        let mut nulls = [b'n' as std::ffi::c_char; INLINE];
        for (i, (_, value)) in args.iter().enumerate() {
            if let Some(datum) = value {
                values[i] = *datum;
                nulls[i] = b' ' as std::ffi::c_char;
            }
        }
        Values::Inline { values, nulls }
    }

    /// The values, one per argument (for SPI, which takes them as `Datum *`).
    pub(super) fn values(&mut self) -> *mut pg_sys::Datum {
        match self {
            Values::Inline { values, .. } => values.as_mut_ptr(),
            Values::Heap { values, .. } => values.as_mut_ptr(),
        }
    }

    /// The null flags, one per argument: `'n'` for NULL, `' '` otherwise.
    pub(super) fn nulls(&self) -> *const std::ffi::c_char {
        match self {
            Values::Inline { nulls, .. } => nulls.as_ptr(),
            Values::Heap { nulls, .. } => nulls.as_ptr(),
        }
    }
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
            bound.push((declared, value.and_then(|v| v.value.datum())));
        }
        Ok(bound)
    }
}
impl SpiArgs for Option<Vec<(PgOid, Option<Datum>)>> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(i: u32) -> BoundArg {
        (
            pg_sys::Oid::from(i),
            (!i.is_multiple_of(3)).then(|| pg_sys::Datum::from(i as usize)),
        )
    }

    #[test]
    fn bound_arguments_keep_their_order_on_the_stack_and_past_it() {
        for n in [0, 1, INLINE - 1, INLINE, INLINE + 1, 3 * INLINE] {
            let expected: Vec<BoundArg> = (0..n as u32).map(arg).collect();
            let bound: Bound = (0..n as u32).map(arg).collect();
            assert_eq!(bound.len(), n);
            assert!(bound.iter().eq(expected.iter()), "{n} arguments");
        }
    }

    #[test]
    fn plan_values_flag_nulls_as_spi_expects() {
        for n in [0, 2, INLINE, INLINE + 2] {
            let bound: Bound = (0..n as u32).map(arg).collect();
            let mut values = Values::of(&bound);
            let (values, nulls) = (values.values(), values.nulls());
            for (i, (_, value)) in bound.iter().enumerate() {
                // SAFETY: both arrays hold one element per argument.
                let (v, null) = unsafe { (*values.add(i), *nulls.add(i) as u8) };
                match value {
                    Some(d) => assert_eq!((v, null), (*d, b' ')),
                    None => assert_eq!(null, b'n'),
                }
            }
        }
    }
}
