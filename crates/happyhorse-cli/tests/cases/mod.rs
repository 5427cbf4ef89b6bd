//! The test cases of `tests.rs`, one module per area (see its list).

mod bad_input;
mod batch;
mod common;
mod forced_exit;
mod help;
mod hostile_input;
mod jobs;
mod offline;
mod quirks;
mod runcomfy;
mod secrets;
mod soak;
mod stranger;
