//! Maps core's outcomes and errors onto the client's [`Error`]: one place decides each kind.
//! Core says what the service meant; this only picks the kind, and keeps core's error as the
//! `source()` so nothing of the story is lost.

use happyhorse_core::{ApiError, ApiErrorKind, Outcome, TransportError};

use crate::error::{Error, ErrorKind};

/// The error for a job that ended without succeeding: the outcome's headline, with its cause
/// (the service's refusal, the failure that stopped the client) as `source()`.
pub(crate) fn outcome_error(outcome: &Outcome) -> Error {
    let message = outcome.headline();
    let error = match outcome {
        Outcome::Failed { failure, .. } => {
            let error = Error::new(ErrorKind::JobFailed, message);
            match failure.to_json() {
                Some(reason) => error.with_service_error(reason),
                None => error,
            }
        }
        Outcome::Cancelled { .. } => Error::new(ErrorKind::Cancelled, message),
        Outcome::DeadlineExceeded { .. } => Error::new(ErrorKind::DeadlineExceeded, message),
        Outcome::SubmitOutcomeUnknown(unknown) => {
            Error::new(ErrorKind::SubmitOutcomeUnknown, message)
                .with_submit_maybe_sent(true)
                .with_source(unknown.reason.clone())
        }
        // The service answered and refused: no job exists.
        Outcome::Rejected { error } => api(error, message)
            .with_submit_maybe_sent(false)
            .with_source(error.clone()),
        Outcome::Abandoned { error, .. } => core_error(error)
            .map_message(message)
            .with_source(error.clone()),
        Outcome::Succeeded { .. } => {
            Error::new(ErrorKind::Protocol, "the job succeeded (not an error)")
        }
        other => Error::new(ErrorKind::Protocol, other.to_string()),
    };
    let error = error.resumable(outcome.can_resume());
    match outcome.request_id() {
        Some(id) => error.with_request_id(id.as_str()),
        None => error,
    }
}

/// The client error for one of core's errors: its own layer as the message, what it wraps (the
/// last failure of exhausted retries) as `source()`, the kind from the failure at its root.
pub(crate) fn core_error(error: &happyhorse_core::Error) -> Error {
    use happyhorse_core::Error as Core;
    let message = error.to_string();
    let out = match error {
        Core::Api(api_error) => api(api_error, message),
        Core::Transport(TransportError::NotSent(_)) => {
            Error::new(ErrorKind::Unavailable, message).retryable()
        }
        Core::Transport(_) => Error::new(ErrorKind::Transport, message).retryable(),
        Core::RetriesExhausted { last, .. } | Core::RetryQuotaExhausted { last, .. } => {
            core_error(last)
                .map_message(message)
                .with_source((**last).clone())
        }
        Core::Protocol { .. } | Core::UnrecognisedStatus { .. } | Core::InvalidRequestId(_) => {
            Error::new(ErrorKind::Protocol, message)
        }
        other => Error::new(ErrorKind::Protocol, other.to_string()),
    };
    out.resumable(error.is_resumable())
}

fn api(error: &ApiError, message: String) -> Error {
    let kind = match error.kind {
        ApiErrorKind::Unauthorized => ErrorKind::Auth,
        ApiErrorKind::InsufficientBalance => ErrorKind::InsufficientBalance,
        ApiErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
        ApiErrorKind::NotFound => ErrorKind::NotFound,
        ApiErrorKind::InvalidInput => ErrorKind::InvalidInput,
        ApiErrorKind::RateLimited => ErrorKind::RateLimited,
        ApiErrorKind::ServerError => ErrorKind::Unavailable,
        _ => ErrorKind::Rejected,
    };
    let mut out = Error::new(kind, message)
        .with_status(error.http_status)
        .with_detail(error)
        .without_source();
    if error.kind.is_retryable() {
        out = out.retryable();
    }
    match error.code_text() {
        Some(code) => out.with_service_code(code),
        None => out,
    }
}
