//! The fingerprint of the body stages, `PLRUST_BODY_STAGES` (see `pipeline::artifact_key`).
//!
//! A function's artifact key is computed from its source and its signature, not from the
//! crate generated from them: a call then finds its library without parsing the body.
//! So the code that turns a body's source into `user.rs` is an input of every key, and
//! changing it must change the keys. That code is the modules listed here (stages 1-3:
//! parse, trust check, instrument, and the assembly of `user.rs`), rustc's and the
//! linker's flags (`compile.rs`, stage 4), and the exact versions of the crates they
//! print tokens with (`Cargo.lock`). The glue generated from the signature is hashed as
//! generated, so `types.rs` and `pg_proc.rs` are not listed.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

const INPUTS: [&str; 6] = [
    "src/body.rs",
    "src/trust.rs",
    "src/instrument.rs",
    "src/codegen.rs",
    "src/compile.rs",
    "../Cargo.lock",
];

fn main() {
    let mut hash = Sha256::new();
    for path in INPUTS {
        println!("cargo:rerun-if-changed={path}");
        let contents = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        hash.update(path.as_bytes());
        hash.update((contents.len() as u64).to_le_bytes());
        hash.update(&contents);
    }
    let hex = hash.finalize().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    println!("cargo:rustc-env=PLRUST_BODY_STAGES={hex}");
}
