//! The ceiling of the peer benchmark (`scripts/bench-peers.sh`): the kernels of
//! `bench/peers.sql` written as a C extension would be, with pgrx and no sandbox. The
//! bodies are the PL/Rust ones, so a ratio to these is the cost of the language alone.
//! The SPI lookup prepares its statement once and keeps it, as a careful C extension
//! does.

use std::cell::OnceCell;

use pgrx::prelude::*;
use pgrx::spi::OwnedPreparedStatement;

pgrx::pg_module_magic!();

#[pg_extern(immutable, strict, parallel_safe)]
fn add_one_native(x: i32) -> i32 {
    x + 1
}

#[pg_extern(immutable, strict, parallel_safe)]
fn fib_native(n: i32) -> i32 {
    fn fib(n: i32) -> i32 {
        if n < 2 {
            n
        } else {
            fib(n - 1) + fib(n - 2)
        }
    }
    fib(n)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn arr_sum_native(a: Array<f64>) -> f64 {
    let mut s = 0.0;
    for v in a.iter().flatten() {
        s += v;
    }
    s
}

#[pg_extern(immutable, strict, parallel_safe)]
fn vowels_native(t: &str) -> i32 {
    t.bytes().filter(|b| b"aeiouAEIOU".contains(b)).count() as i32
}

thread_local! {
    /// The lookup's statement, prepared on the first call and kept for the backend.
    static LOOKUP: OnceCell<OwnedPreparedStatement> = const { OnceCell::new() };
}

#[pg_extern(stable, strict)]
fn lookup_native(key: i32) -> Option<i32> {
    Spi::connect(|client| {
        LOOKUP.with(|plan| {
            let plan = match plan.get() {
                Some(plan) => plan,
                None => {
                    let prepared = client
                        .prepare(
                            c"SELECT v FROM bench_kv WHERE k = $1",
                            &[PgBuiltInOids::INT4OID.into()],
                        )
                        .expect("prepare the lookup")
                        .keep();
                    plan.get_or_init(|| prepared)
                }
            };
            client
                .select(plan, Some(1), &[key.into()])
                .and_then(|rows| rows.first().get_one::<i32>())
                .expect("run the lookup")
        })
    })
}
