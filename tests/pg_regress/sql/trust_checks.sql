-- The trust checks: each case names the attack it tries and shows the exact ERROR
-- (check name, line and column of the body) and SQLSTATE 42501. Nothing is compiled:
-- the checks run on the body's tokens, including inside macro arguments and
-- macro_rules! bodies, before rustc sees it. Like the sandbox and dependency suites
-- after it, it runs as an ordinary role (dropped at the end of dependencies.sql).

CREATE ROLE plrust_attacker;
GRANT CREATE ON SCHEMA public TO plrust_attacker;
SET ROLE plrust_attacker;

-- Attack: read the build environment through env! nested in another macro's arguments
-- (this returns the build's PATH in the original PL/Rust).
CREATE FUNCTION attack_nested_env() RETURNS text LANGUAGE plrust AS $$
    Ok(Some(format!("{}", env!("PATH"))))
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: option_env! inside the body of a local macro.
CREATE FUNCTION attack_macro_env() RETURNS text LANGUAGE plrust AS $$
    macro_rules! sneaky { () => { option_env!("HOME") } }
    Ok(sneaky!().map(String::from))
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: rename the env! macro so its name does not appear at the call.
CREATE FUNCTION attack_renamed_env() RETURNS text LANGUAGE plrust AS $$
    use std::env as e;
    Ok(Some(e!("PATH").into()))
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: read a server file at compile time.
CREATE FUNCTION attack_include_str() RETURNS text LANGUAGE plrust AS $$
    Ok(Some(include_str!("/etc/passwd").into()))
$$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION attack_include_bytes() RETURNS bytea LANGUAGE plrust AS $$
    Ok(Some(vec![0u8; include_bytes!("/var/lib/postgresql/.pgpass").len()]))
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: make rustc read another file as a module.
CREATE FUNCTION attack_out_of_line_mod() RETURNS int LANGUAGE plrust AS $$
    #[path = "/etc/passwd"]
    mod passwd {}
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: unsafe code, directly and smuggled through a macro argument.
CREATE FUNCTION attack_unsafe_deref(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    let p = 0x10 as *const i32;
    Ok(Some(unsafe { *p }))
$$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION attack_unsafe_via_macro() RETURNS int LANGUAGE plrust AS $$
    macro_rules! m { ($kw:tt) => { $kw { *(0x10 as *const i32) } } }
    Ok(Some(m!(unsafe)))
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: declare a libc/PostgreSQL symbol and call it.
CREATE FUNCTION attack_extern_block() RETURNS int LANGUAGE plrust AS $$
    extern "C" { fn getpid() -> i32; }
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION attack_extern_crate() RETURNS int LANGUAGE plrust AS $$
    extern crate libc;
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: override the extension's own _PG_init by exporting a symbol of that name.
CREATE FUNCTION attack_no_mangle_pg_init() RETURNS int LANGUAGE plrust AS $$
    #[no_mangle]
    pub extern "C" fn _PG_init() {}
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: override the server's malloc by exporting a symbol.
CREATE FUNCTION attack_no_mangle() RETURNS int LANGUAGE plrust AS $$
    #[no_mangle]
    pub fn malloc(_size: usize) -> usize { 0 }
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: run code at load time from a constructor section.
CREATE FUNCTION attack_init_array() RETURNS int LANGUAGE plrust AS $$
    #[link_section = ".init_array"]
    static INIT: u8 = 0;
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: allow unsafe code with an inner attribute at the top of the body.
CREATE FUNCTION attack_allow_unsafe() RETURNS int LANGUAGE plrust AS $$
    #![allow(unsafe_code)]
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: change lints for the surrounding code with an inner attribute.
CREATE FUNCTION attack_inner_attribute() RETURNS int LANGUAGE plrust AS $$
    fn f() { #![allow(unsafe_code)] }
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: reach std's internals under another name.
CREATE FUNCTION attack_extern_crate_std() RETURNS int LANGUAGE plrust AS $$
    extern crate std as s;
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: inline assembly.
CREATE FUNCTION attack_asm() RETURNS int LANGUAGE plrust AS $$
    std::arch::asm!("int3");
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: write to the server's stdout/stderr.
CREATE FUNCTION attack_println() RETURNS int LANGUAGE plrust AS $$
    println!("into the server log");
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION attack_eprintln() RETURNS int LANGUAGE plrust AS $$
    eprintln!("into the server log");
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION attack_stderr() RETURNS int LANGUAGE plrust AS $$
    use std::io::Write;
    std::io::stderr().write_all(b"x")?;
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: get a 'static reference into memory that a memory context reset frees.
CREATE FUNCTION attack_leak() RETURNS text LANGUAGE plrust AS $$
    let s: &'static str = Box::leak(String::from("x").into_boxed_str());
    Ok(Some(s.into()))
$$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION attack_forget() RETURNS int LANGUAGE plrust AS $$
    std::mem::forget(vec![0u8; 1024]);
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: async desugaring.
CREATE FUNCTION attack_async() RETURNS int LANGUAGE plrust AS $$
    async fn f() -> i32 { 1 }
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: rust-lang/rust#25860, extending a lifetime through fn-pointer implied bounds
-- (a use-after-free in safe code).
CREATE FUNCTION attack_implied_bounds() RETURNS text LANGUAGE plrust AS $$
    static UNIT: &'static &'static () = &&();
    fn foo<'a, 'b, T>(_: &'a &'b (), v: &'b T) -> &'a T { v }
    fn bad<'a, T>(x: &'a T) -> &'static T {
        let f: fn(_, &'a T) -> &'static T = foo;
        f(UNIT, x)
    }
    let s = bad(&String::from("freed"));
    Ok(Some(s.clone()))
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: cve-rs's lifetime expansion (the same hole, as that crate writes it).
CREATE FUNCTION attack_cve_rs() RETURNS text LANGUAGE plrust AS $$
    const STATIC_UNIT: &&() = &&();
    fn lifetime_translator<'a, 'b, T: ?Sized>(_val_a: &'a &'b (), val_b: &'b T) -> &'a T { val_b }
    fn expand<'a, 'b, T: ?Sized>(x: &'a T) -> &'b T {
        let f: for<'x> fn(_, &'x T) -> &'b T = lifetime_translator;
        f(STATIC_UNIT, x)
    }
    let dangling: &String = expand(&String::from("freed"));
    Ok(Some(dangling.clone()))
$$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION attack_dyn_fn() RETURNS int LANGUAGE plrust AS $$
    let f: Box<dyn Fn() -> i32> = Box::new(|| 1);
    Ok(Some(f()))
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: traits with lifetime parameters (rust-lang/rust#85099 shape).
CREATE FUNCTION attack_lifetime_trait() RETURNS int LANGUAGE plrust AS $$
    trait Extend<'a> { fn get(self) -> &'a str; }
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: impls on &'static types (rust-lang/rust#104005 shape).
CREATE FUNCTION attack_static_impl() RETURNS int LANGUAGE plrust AS $$
    trait Tr { fn f(&self); }
    impl Tr for &'static str { fn f(&self) {} }
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: manual auto-trait impls.
CREATE FUNCTION attack_unpin_impl() RETURNS int LANGUAGE plrust AS $$
    struct S;
    impl Unpin for S {}
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: impls bounded on closures (rust-lang/rust#84366 shape).
CREATE FUNCTION attack_closure_impl() RETURNS int LANGUAGE plrust AS $$
    trait Tr {}
    impl<F: Fn()> Tr for F {}
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: dyn in a turbofish (rust-lang/rust#57893 shape).
CREATE FUNCTION attack_turbofish_dyn() RETURNS int LANGUAGE plrust AS $$
    let b = Box::<dyn std::any::Any>::new(1);
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE

-- Attack: make rustc itself run away. Each ends in an ERROR within rustc's limits
-- (README, "The sandbox"); the server is unharmed.
-- A const evaluation that never ends: rustc gives up.
CREATE FUNCTION attack_const_eval_loop() RETURNS int8 LANGUAGE plrust AS $$
    const X: u64 = { let mut i = 0u64; loop { i = i.wrapping_add(1); } };
    Ok(Some(X as i64))
$$;
\echo :LAST_ERROR_SQLSTATE
-- A macro that expands itself twice per level: rustc's recursion limit.
CREATE FUNCTION attack_macro_recursion() RETURNS int LANGUAGE plrust AS $$
    macro_rules! bomb { () => { bomb!(); bomb!(); }; }
    bomb!();
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- A macro that doubles its input per level: rustc's memory limit.
CREATE FUNCTION attack_macro_memory_bomb() RETURNS int LANGUAGE plrust AS $$
    macro_rules! bomb { ($($t:tt)*) => { bomb!($($t)* $($t)*); }; }
    bomb!(x);
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
SELECT 1 AS server_unharmed;

-- None of the refused functions exist, and nothing was built for them.
RESET ROLE;
SELECT count(*) AS attack_functions_created FROM pg_proc WHERE proname LIKE 'attack\_%';
-- Nothing in plrust.work_dir, and the object cache holds committed artifacts only.
SELECT * FROM test_work_dir_leftovers();

-- Ordinary code that merely looks like the above is accepted.
CREATE FUNCTION lookalikes(env text) RETURNS text STRICT LANGUAGE plrust AS $$
    // unsafe { } extern env!() in a comment, and in a string:
    let note = "unsafe extern env!(\"PATH\") include_str!";
    let stdout_len = env.len() + note.len();
    macro_rules! twice { ($e:expr) => { $e * 2 } }
    fn apply(f: impl Fn(usize) -> usize, v: usize) -> usize { f(v) }
    Ok(Some(format!("{}", apply(|v| twice!(v), stdout_len))))
$$;
SELECT lookalikes('abc');
