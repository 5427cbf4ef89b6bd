//! The `happyhorse` binary, end to end (one test binary for the crate):
//! - `cases::help` — `--help` of every command, snapshotted;
//! - `cases::bad_input` — a table of bad inputs, each refused with its own error and exit code
//!   while an emulator started by the test proves that nothing reached the service;
//! - `cases::jobs` — whole jobs against an emulator the test starts: run (human and NDJSON),
//!   submit + wait, status/result/cancel, a failing job, faults, insufficient balance, `--timeout`,
//!   Ctrl-C or SIGTERM while queued, Ctrl-C or SIGHUP while running, README's first command;
//! - `cases::offline` — `validate`, `schema`, `completions`, `man`, `emulator`;
//! - `cases::signals`, `cases::forced_exit` — signals during a submit, in a batch, twice;
//!   `cases::submit_edges` — a signal just before a submit is sent and just after its answer;
//! - `cases::paths` — output paths refused before paying; `cases::journal_recovery` — damaged
//!   and foreign journals rebuilt from the ledger; `cases::ledger` — `happyhorse jobs` and a
//!   ledger that cannot be opened; `cases::resume` — `run --once`, `wait --last`, `submit`'s
//!   stdout; `cases::kill` — SIGKILL/SIGTERM/SIGHUP at seeded moments against a separate
//!   emulator process, then resumed.
//!
//! Every command a test runs keeps its job ledger in the test's own directory
//! (`cases::common::isolate_state`), never the user's. Snapshots redact ports, temporary paths
//! and ids (see `cases::common::redact`).

mod cases;
