//! The sans-IO brain of every happyhorse client: input validation, the request-lifecycle state
//! machine ([`Job`]), its policies ([`PollPolicy`], [`RetryPolicy`]) and its errors ([`Error`]).
//!
//! **Contract.** This crate performs no IO: no sockets, no async runtime, no clock reads, no OS
//! randomness. Time is passed in as [`std::time::Instant`]; jitter comes from a seeded generator.
//! Given the same inputs a [`Job`] makes the same decisions, so every behaviour is testable in
//! milliseconds with a scripted server and a manual clock.
//!
//! - [`validate`]: raw input JSON against the model's checked-in schema plus the rules a schema
//!   cannot say (the Chinese prompt limit, image bytes).
//! - [`Job`]: submit (or resume) → queued → running → an [`Outcome`]; drained as [`Transmit`]s,
//!   wake-ups and [`Event`]s; fed [`Response`]s, [`TransportError`]s, timeouts and cancel.
//! - [`vocabulary`]: the one place that maps the service's words (`completed` vs `succeeded`,
//!   errors on HTTP 200, string-or-object errors) to [`vocabulary::JobState`] and [`Error`].
//! - [`oneshot`]: single status / result / cancel calls with the same mapping.
//!
//! The lifecycle, the mapping table and the policies' defaults are explained in
//! `docs/lifecycle.md`.

// Errors here carry the service's whole answer (code, message, detail) so callers can act on
// it; they are built once per failed request, never on a hot path, so their size is no concern.
#![allow(clippy::result_large_err)]

mod config;
mod error;
mod event;
mod job;
pub mod oneshot;
mod outcome;
mod policy;
mod request_id;
mod transmit;
pub mod validate;
pub mod vocabulary;

pub use config::JobConfig;
pub use error::{ApiError, ApiErrorKind, Error, JobFailure, TransportError};
pub use event::{CancelStatus, Event};
pub use job::Job;
pub use outcome::{Outcome, SubmitUnknown};
pub use policy::{PollContext, PollPhase, PollPolicy, RetryPolicy, Throttle, ThrottleStats};
pub use request_id::{InvalidRequestId, RequestId};
pub use transmit::{Method, RequestKind, Response, Transmit, TransmitId};

#[cfg(test)]
mod tests;
