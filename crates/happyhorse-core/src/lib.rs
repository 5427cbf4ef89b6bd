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
//! - [`vocabulary`]: the one place that reads the service's answers, liberally: its words
//!   (`completed` vs `succeeded`), errors on HTTP 200, string-or-object errors, numbers sent as
//!   strings, a cancel answer that is not JSON, and a result's files whatever the output's shape
//!   ([`vocabulary::output_files`]) — mapped to [`vocabulary::JobState`], [`CancelVerdict`] and [`Error`].
//! - [`cost`]: a job's cost estimated from the catalogue's price before it is paid for.
//! - [`oneshot`]: status, result, cancel and catalogue calls outside a job, read the same way and
//!   retried by the same rule ([`oneshot::Call`]).
//! - [`download`]: what a storage host's answers mean for a download, and when a downloaded
//!   file is provably whole (a declared length, its own structure).
//! - [`media`]: whether a file's own structure shows it complete (MP4/MOV boxes, image endings),
//!   read through any `Read + Seek` the caller opens.
//!
//! The lifecycle, the mapping table and the policies' defaults are explained in
//! `docs/lifecycle.md`.

// Errors here carry the service's whole answer (code, message, detail) so callers can act on
// it; they are built once per failed request, never on a hot path, so their size is no concern.
#![allow(clippy::result_large_err)]

mod config;
pub mod cost;
pub mod download;
mod error;
mod event;
mod job;
pub mod media;
pub mod oneshot;
mod outcome;
mod policy;
mod request_id;
mod retrying;
mod transmit;
pub mod validate;
pub mod vocabulary;

pub use config::JobConfig;
pub use error::{
    ApiError, ApiErrorKind, DETAIL_MAX_CHARS, DETAIL_MAX_ITEMS, Error, JobFailure, TransportError,
};
pub use event::{CancelStatus, Event};
pub use job::Job;
pub use outcome::{Outcome, SubmitUnknown};
pub use policy::{PollContext, PollPhase, PollPolicy, RetryPolicy, Throttle, ThrottleStats};
pub use request_id::{InvalidRequestId, RequestId};
pub use transmit::{Method, RequestKind, Response, Transmit, TransmitId};
pub use vocabulary::CancelVerdict;

#[cfg(test)]
mod tests;
