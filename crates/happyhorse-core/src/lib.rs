//! The sans-IO request-lifecycle engine for RunComfy's Model API. So far: input validation
//! ([`validate`]); the state machine and policies are being built (issue 3).
//!
//! Contract: this crate decides what request to send next, when, and what each answer means —
//! and does no IO. No sockets, no async runtime, no clock reads: `now` is always passed in and
//! jitter comes from a seed, so every behaviour reproduces in a test without sleeping. It holds
//! the job state machine, the polling and retry policies (a submit is resent only when the
//! transport proves it never reached the server), the one mapping of the wire vocabulary, input
//! validation, and the error model.

pub mod validate;
