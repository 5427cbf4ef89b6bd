//! The `happyhorse` binary, end to end (one test binary for the crate):
//! - `cases::help` — `--help` of every command, snapshotted;
//! - `cases::bad_input` — a table of bad inputs, each refused with its own error and exit code
//!   while an emulator started by the test proves that nothing reached the service;
//! - `cases::jobs` — whole jobs against an emulator the test starts: run (human and NDJSON),
//!   submit + wait, status/result/cancel, a failing job, faults, insufficient balance, `--timeout`,
//!   Ctrl-C (SIGINT sent to the child) while queued and while running, README's first command;
//! - `cases::offline` — `validate`, `schema`, `completions`, `man`, `emulator`.
//!
//! Snapshots redact ports, temporary paths and ids (see `cases::common::redact`).

mod cases;
