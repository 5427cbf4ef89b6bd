//! Shared by the fuzz targets in `fuzz/` (through `#[path]`) and their proptest mirrors in
//! `tests/fuzz_mirrors.rs`: the inputs (response bodies, job scenarios) and the invariants they
//! are checked against. Both sides build the same input types (the fuzz targets with
//! `arbitrary`, the mirrors with proptest strategies) and call the same checkers, so CI
//! exercises exactly what the fuzzers check.
//!
//! Only public API is used, and nothing but `happyhorse-core`, `happyhorse-types` and
//! `serde_json`, so the fuzz crate can include these files as they are.

// Each fuzz target uses only part of this module.
#![allow(dead_code)]

pub(crate) mod bodies;
pub(crate) mod job_model;
