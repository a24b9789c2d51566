//! Plans kept across calls for the statements a body runs by their text.
//!
//! PL/pgSQL parses and plans each statement of a function once per backend and keeps the
//! plan; a query run with `SPI_execute_with_args` is parsed, analysed and planned again at
//! every execution, which for an index lookup is three quarters of its cost. So a body's
//! `Spi::get_one_with_args(query, args)` (any statement run by its text through
//! `select`/`update`/`run`/`get_*`; a cursor opened on a text stays one-shot) is prepared
//! once and kept here, keyed by the query's text and its arguments'
//! types, and later executions only bind and run it. Existing bodies get this unchanged.
//!
//! What is kept, and why it stays correct:
//! - Only a text that is exactly one `SELECT`, `INSERT`, `UPDATE`, `DELETE` or `MERGE`.
//!   A text of several statements is analysed statement by statement when run once (the
//!   second may use a table the first creates), but all at once when prepared; a utility
//!   statement (DDL, `EXPLAIN`, ...) gains nothing. Those keep running one-shot; that a
//!   text is one of them is remembered, so it is parsed to find out only once.
//! - PostgreSQL's plan cache revalidates a kept plan before each execution: it is planned
//!   again when a table, type or function it depends on changes, when `search_path` is
//!   not the one it was made under, and for row-level security when the role differs.
//!   Until a generic plan proves no costlier, each execution gets a custom plan for its
//!   values, as one-shot execution does (`plan_cache_mode` applies as for PL/pgSQL).
//! - The cache lives in the runtime, one per backend, and its keys name the function
//!   running the text: each function has its own plans, as in PL/pgSQL, at most
//!   [`CAPACITY`] texts in all; the least recently used plan is freed when a new one needs
//!   the room.
//! - A plan running in a call is never freed under it: the cache and every running
//!   execution hold a reference, and the plan is freed when the last goes (a recursive
//!   call through SQL may evict a plan an outer call is still running).
//! - The cache is never dropped at backend exit (a static has no destructor): freeing
//!   plans while the backend shuts down would be work at best.
//! - A hit on the text the last lookup found (a function running one statement per call)
//!   costs one comparison of the text, the types and the function. Any other hit costs a
//!   hash of the text and its types (word at a time, not SipHash: the texts are the
//!   function's own, there is no one to flood it) and one comparison.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

use super::*;

/// How many query texts a function keeps plans for.
pub const CAPACITY: usize = 64;

/// A text and the types of its arguments, and what is known of it.
struct Entry {
    /// The function that runs the text.
    function: pg_sys::Oid,
    text: Rc<[u8]>,
    types: Rc<[pg_sys::Oid]>,
    /// `None`: the text is run one-shot.
    plan: Option<Rc<Plan>>,
    last_used: u64,
}

struct Cache {
    /// Entries by the hash of (text, types); a bucket holds the rare collisions.
    buckets: HashMap<u64, Vec<Entry>, BuildHasherDefault<KeyHashed>>,
    len: usize,
    clock: u64,
    /// The entry of the last lookup, found again without hashing: a function running
    /// one statement per call looks up the same text every time. Its `last_used` is
    /// brought up to date when another text is looked up (before any eviction).
    recent: Option<Recent>,
}

/// A copy of an entry's key (sharing its text), its hash, and its plan.
struct Recent {
    function: pg_sys::Oid,
    text: Rc<[u8]>,
    types: Rc<[pg_sys::Oid]>,
    hash: u64,
    plan: Option<Rc<Plan>>,
}

impl Recent {
    fn is(&self, function: pg_sys::Oid, text: &[u8], types: &[pg_sys::Oid]) -> bool {
        self.function == function && *self.text == *text && *self.types == *types
    }
}

static CACHE: BackendLocal<RefCell<Cache>> = BackendLocal::new(RefCell::new(Cache {
    buckets: HashMap::with_hasher(BuildHasherDefault::new()),
    len: 0,
    clock: 0,
    recent: None,
}));

/// The hash of a text and its argument types: FxHash's word-at-a-time mixing, with
/// MurmurHash3's finaliser so that every bit of the result depends on every input bit
/// (the map takes its bucket from the low bits and its tag from the high ones).
fn key_hash(text: &[u8], types: impl Iterator<Item = pg_sys::Oid>) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let add = |h: u64, word: u64| (h.rotate_left(5) ^ word).wrapping_mul(K);
    let mut h = text.len() as u64;
    let mut words = text.chunks_exact(8);
    for word in words.by_ref() {
        h = add(h, u64::from_le_bytes(word.try_into().expect("8 bytes")));
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    h = add(h, u64::from_le_bytes(tail));
    for t in types {
        h = add(h, u64::from(t.to_u32()));
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The map's hasher: its keys are [`key_hash`]es already.
#[derive(Default)]
struct KeyHashed(u64);

impl Hasher for KeyHashed {
    fn write(&mut self, _: &[u8]) {
        unreachable!("the plan cache's keys are u64 hashes")
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The kept plan for `text` run with arguments of `types`, prepared now if it is the
/// text's first run; `None` when the text runs one-shot. Raises the query's ERROR (a
/// panic) if it does not parse or analyse; `NulByte` for a text with a NUL inside. A hit
/// allocates nothing.
pub(super) fn lookup(text: &[u8], types: &[pg_sys::Oid]) -> Result<Option<Rc<Plan>>> {
    let function = crate::__glue::call_function_oid();
    {
        let c = CACHE.borrow();
        if let Some(recent) = &c.recent {
            if recent.is(function, text, types) {
                return Ok(recent.plan.clone());
            }
        }
    }
    let hash = key_hash(text, std::iter::once(function).chain(types.iter().copied()));
    let found = {
        let mut c = CACHE.borrow_mut();
        c.forget_recent();
        c.clock += 1;
        let now = c.clock;
        let found = c
            .buckets
            .get_mut(&hash)
            .and_then(|bucket| {
                bucket
                    .iter_mut()
                    .find(|e| e.function == function && &*e.text == text && *e.types == *types)
            })
            .map(|entry| {
                entry.last_used = now;
                Recent {
                    function,
                    text: entry.text.clone(),
                    types: entry.types.clone(),
                    hash,
                    plan: entry.plan.clone(),
                }
            });
        found.map(|recent| {
            let plan = recent.plan.clone();
            c.recent = Some(recent);
            plan
        })
    };
    if let Some(plan) = found {
        return Ok(plan);
    }
    // Not known: prepare it if it is worth keeping (outside the cache's borrow: a
    // query may call this function again through SQL).
    let c_text = CString::new(text).map_err(|_| SpiError::NulByte)?;
    let types: Rc<[pg_sys::Oid]> = types.into();
    let plan = if looks_plannable(text) {
        prepare_kept(&c_text, &types)?.map(Rc::new)
    } else {
        None
    };
    let mut c = CACHE.borrow_mut();
    // A call the statement's preparation made through SQL may have looked up texts too.
    c.forget_recent();
    if c.len >= CAPACITY {
        c.evict_oldest();
    }
    let last_used = c.clock;
    let text: Rc<[u8]> = text.into();
    let entry = Entry {
        function,
        text: text.clone(),
        types: types.clone(),
        plan: plan.clone(),
        last_used,
    };
    c.buckets.entry(hash).or_default().push(entry);
    c.len += 1;
    c.recent = Some(Recent {
        function,
        text,
        types,
        hash,
        plan: plan.clone(),
    });
    Ok(plan)
}

impl Cache {
    /// Stop finding the recent entry without hashing, marking it used now (its hits
    /// did not): before another text is looked up, and so before any eviction, which
    /// must not leave `recent` holding a plan the cache no longer has.
    fn forget_recent(&mut self) {
        if let Some(recent) = self.recent.take() {
            self.clock += 1;
            let now = self.clock;
            if let Some(entry) = self.buckets.get_mut(&recent.hash).and_then(|bucket| {
                bucket
                    .iter_mut()
                    .find(|e| Rc::ptr_eq(&e.text, &recent.text) && e.function == recent.function)
            }) {
                entry.last_used = now;
            }
        }
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .buckets
            .iter()
            .flat_map(|(hash, bucket)| {
                bucket
                    .iter()
                    .enumerate()
                    .map(move |(i, e)| (e.last_used, *hash, i))
            })
            .min();
        if let Some((_, hash, i)) = oldest {
            let bucket = self.buckets.get_mut(&hash).expect("the bucket just found");
            // Dropping the cache's reference frees the plan unless an execution holds one.
            bucket.swap_remove(i);
            if bucket.is_empty() {
                self.buckets.remove(&hash);
            }
            self.len -= 1;
        }
    }
}

/// Does `text` read as exactly one statement that starts with a word a planned statement
/// starts with? Decided on the text's tokens (quotes, dollar quotes and comments skipped)
/// rather than by PostgreSQL's parser, so that a syntax error is raised where running the
/// text raises it, with SPI's context. A text this misreads is either run one-shot
/// (always correct) or caught by [`plannable`] after it is prepared.
pub(super) fn looks_plannable(text: &[u8]) -> bool {
    let mut words = Tokens { text, at: 0 };
    let first = match words.next() {
        Some(Token::Word(w)) => w.to_ascii_lowercase(),
        Some(Token::Other(b'(')) => b"(".to_vec(),
        _ => return false,
    };
    if !matches!(
        &first[..],
        b"select"
            | b"insert"
            | b"update"
            | b"delete"
            | b"merge"
            | b"with"
            | b"values"
            | b"table"
            | b"("
    ) {
        return false;
    }
    // One statement: nothing but `;` after the first `;`.
    let mut ended = false;
    for token in words.by_ref() {
        match token {
            Token::Other(b';') => ended = true,
            _ if ended => return false,
            _ => {}
        }
    }
    !words.broken()
}

/// A lexical token of SQL, as far as telling statements apart needs.
#[derive(Debug, PartialEq)]
enum Token<'t> {
    Word(&'t [u8]),
    /// A quoted literal or identifier, a dollar-quoted string, a parameter, a number.
    Literal,
    Other(u8),
}

struct Tokens<'t> {
    text: &'t [u8],
    at: usize,
}

impl Tokens<'_> {
    /// Did the text end inside a quote or comment?
    fn broken(&self) -> bool {
        self.at > self.text.len()
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.text.get(self.at + ahead).copied()
    }

    /// Skip past the closing `quote` of a quoted string or identifier (a doubled quote
    /// is one inside it; with `backslash`, so is one after a backslash).
    fn close_quote(&mut self, quote: u8, backslash: bool) {
        while let Some(c) = self.peek(0) {
            self.at += 1;
            if backslash && c == b'\\' {
                self.at += 1;
            } else if c == quote {
                if self.peek(0) == Some(quote) {
                    self.at += 1;
                } else {
                    return;
                }
            }
        }
        self.at = self.text.len() + 1;
    }
}

fn is_word_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_word_char(c: u8) -> bool {
    is_word_start(c) || c.is_ascii_digit() || c == b'$'
}

impl<'t> Iterator for Tokens<'t> {
    type Item = Token<'t>;

    fn next(&mut self) -> Option<Token<'t>> {
        loop {
            let c = self.peek(0)?;
            match c {
                c if c.is_ascii_whitespace() => self.at += 1,
                b'-' if self.peek(1) == Some(b'-') => {
                    while self.peek(0).is_some_and(|c| c != b'\n') {
                        self.at += 1;
                    }
                }
                b'/' if self.peek(1) == Some(b'*') => {
                    // Block comments nest.
                    let mut depth = 0usize;
                    loop {
                        match (self.peek(0), self.peek(1)) {
                            (Some(b'/'), Some(b'*')) => {
                                depth += 1;
                                self.at += 2;
                            }
                            (Some(b'*'), Some(b'/')) => {
                                depth -= 1;
                                self.at += 2;
                                if depth == 0 {
                                    break;
                                }
                            }
                            (Some(_), _) => self.at += 1,
                            (None, _) => {
                                self.at = self.text.len() + 1;
                                return None;
                            }
                        }
                    }
                }
                b'\'' => {
                    // E'...' strings take backslash escapes; the E was read as a word
                    // just before (see below), so plain strings land here.
                    self.at += 1;
                    self.close_quote(b'\'', false);
                    return Some(Token::Literal);
                }
                b'"' => {
                    self.at += 1;
                    self.close_quote(b'"', false);
                    return Some(Token::Literal);
                }
                b'$' => {
                    // $1 is a parameter; $tag$ or $$ opens a dollar-quoted string.
                    let tag_len = self.text[self.at + 1..]
                        .iter()
                        .take_while(|&&c| is_word_char(c) && c != b'$')
                        .count();
                    let tag_end = self.at + 1 + tag_len;
                    let is_quote = self.text.get(tag_end) == Some(&b'$')
                        && self
                            .text
                            .get(self.at + 1)
                            .is_none_or(|&c| !c.is_ascii_digit());
                    if !is_quote {
                        self.at += 1;
                        while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                            self.at += 1;
                        }
                        return Some(Token::Literal);
                    }
                    let tag = &self.text[self.at..=tag_end];
                    let body = tag_end + 1;
                    match self.text[body..].windows(tag.len()).position(|w| w == tag) {
                        Some(end) => self.at = body + end + tag.len(),
                        None => self.at = self.text.len() + 1,
                    }
                    return Some(Token::Literal);
                }
                c if is_word_start(c) => {
                    let start = self.at;
                    while self.peek(0).is_some_and(is_word_char) {
                        self.at += 1;
                    }
                    let word = &self.text[start..self.at];
                    if self.peek(0) == Some(b'\'') && word.eq_ignore_ascii_case(b"e") {
                        self.at += 1;
                        self.close_quote(b'\'', true);
                        return Some(Token::Literal);
                    }
                    return Some(Token::Word(word));
                }
                c if c.is_ascii_digit() => {
                    while self
                        .peek(0)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.')
                    {
                        self.at += 1;
                    }
                    return Some(Token::Literal);
                }
                c => {
                    self.at += 1;
                    return Some(Token::Other(c));
                }
            }
        }
    }
}

/// Is the prepared `plan` one statement the planner plans (not a utility statement)?
fn plannable(plan: &Plan) -> bool {
    // SAFETY: FFI on a live plan: a List of its CachedPlanSources, which hold their raw
    // parse trees, all alive while the plan is.
    unsafe {
        let sources = pg_sys::SPI_plan_get_plan_sources(plan.as_ptr());
        if sources.is_null() || (*sources).length != 1 {
            return false;
        }
        let source = (*(*sources).elements).ptr_value as *mut pg_sys::CachedPlanSource;
        let raw = (*source).raw_parse_tree;
        if raw.is_null() || (*raw).stmt.is_null() {
            return false;
        }
        planned_tag((*(*raw).stmt).type_)
    }
}

fn planned_tag(tag: pg_sys::NodeTag) -> bool {
    use pg_sys::NodeTag::*;
    #[cfg(not(any(feature = "pg13", feature = "pg14")))]
    if tag == T_MergeStmt {
        return true;
    }
    matches!(
        tag,
        T_SelectStmt | T_InsertStmt | T_UpdateStmt | T_DeleteStmt
    )
}

/// Prepare `text` with parameters of `types`, kept beyond the connection; `None` (and
/// nothing kept) if it is not one planned statement after all.
fn prepare_kept(text: &CStr, types: &[pg_sys::Oid]) -> Result<Option<Plan>> {
    let mut plan = prepare_plan(text, types.to_vec())?;
    // A plan not kept goes with the connection's memory.
    if !plannable(&plan) {
        return Ok(None);
    }
    plan.keep();
    Ok(Some(plan))
}

#[cfg(test)]
mod tests {
    use super::{key_hash, looks_plannable};
    use pgrx::pg_sys::Oid;

    #[test]
    fn the_key_hash_tells_texts_and_argument_types_apart() {
        let int4 = Oid::from(23u32);
        let int8 = Oid::from(20u32);
        let mut seen = std::collections::HashSet::new();
        // Every length around the 8-byte words (the tail word is zero-padded; the length
        // is hashed first), and texts differing only in their last byte.
        for len in 0..=24 {
            for last in [b'a', b'b'] {
                let mut text = vec![b'x'; len];
                if len > 0 {
                    text[len - 1] = last;
                }
                for types in [&[][..], &[int4][..], &[int8][..], &[int4, int4][..]] {
                    seen.insert(key_hash(&text, types.iter().copied()));
                }
            }
        }
        // 25 lengths, 2 last bytes (the same text at length 0), 4 type lists.
        assert_eq!(seen.len(), (24 * 2 + 1) * 4);
    }

    #[test]
    fn one_planned_statement_is_kept() {
        for text in [
            "SELECT v FROM kv WHERE k = $1",
            "  select 1;",
            "SELECT 1; ;  -- done",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "(SELECT 1) UNION (SELECT 2)",
            "INSERT INTO t VALUES ($1, 'a;b')",
            "UPDATE t SET s = $$;DROP TABLE t;$$",
            "DELETE FROM t WHERE s = $tag$ ; $x$ ; $tag$",
            "VALUES (1), (2)",
            "TABLE t",
            "/* a; /* nested; */ comment; */ SELECT 1",
            "SELECT E'it\\'s; fine'",
            "SELECT \"a;b\" FROM t",
            "SELECT 'it''s; fine'",
            "MERGE INTO t USING s ON t.k = s.k WHEN MATCHED THEN DELETE",
        ] {
            assert!(looks_plannable(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn others_run_one_shot() {
        for text in [
            "CREATE TEMP TABLE s (x int); INSERT INTO s VALUES (7)",
            "SELECT 1; SELECT 2",
            "SELECT 1; -- c\n SELECT 2",
            "CREATE TABLE t (x int)",
            "EXPLAIN SELECT 1",
            "COMMIT",
            "",
            "-- only a comment",
            "SELECT 'unterminated",
            "SELECT $$unterminated",
            "/* unterminated SELECT 1",
            "SELECT E'\\\\'; SELECT 2",
            "SELECT E'\\'; SELECT 2'; SELECT 3",
            "SELECT $1; SELECT $2",
        ] {
            assert!(!looks_plannable(text.as_bytes()), "{text}");
        }
    }
}
