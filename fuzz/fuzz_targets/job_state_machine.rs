//! A `Job` (submitted or resumed) fed an arbitrary sequence of answers, transport failures,
//! clock jumps and cancels. Checks: crates/happyhorse-core/tests/support/job_model.rs (`run`) and
//! `job_model/events.rs` (every event and outcome).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| happyhorse_fuzz::job_state_machine(data));
