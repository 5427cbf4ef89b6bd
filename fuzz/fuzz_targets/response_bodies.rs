//! Every answer the client reads — any HTTP status, `Retry-After`, `Date` and body — read as a
//! submit, status, result and cancel answer, by the one-shot readers and through a `Job`.
//! Checks: crates/happyhorse-core/tests/support/bodies/checks.rs (`check_response`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| happyhorse_fuzz::response_bodies(data));
