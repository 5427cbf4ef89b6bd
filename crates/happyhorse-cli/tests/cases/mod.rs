//! The test cases of `tests.rs`, one module per area (see its list).

mod bad_input;
mod batch;
mod common;
mod cost;
mod downloads;
mod family;
mod forced_exit;
mod help;
mod hostile_input;
mod hostile_server;
mod jobs;
mod journal_recovery;
mod kill;
mod ledger;
mod offline;
mod paths;
mod preview;
mod quirks;
mod resume;
mod runcomfy;
mod secrets;
mod signals;
mod soak;
mod stranger;
mod submit_edges;
