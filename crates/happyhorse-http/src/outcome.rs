//! Maps core's outcomes and errors onto the client's [`Error`]: one place decides each kind.

use happyhorse_core::{ApiError, ApiErrorKind, Outcome, TransportError};
use happyhorse_types::{ErrorCode, ServiceError};

use crate::error::{Error, ErrorKind};

/// The error for a job that ended without succeeding. Core's `Display` already says what
/// happened and what to do; this adds the kind, the id and the details.
pub(crate) fn outcome_error(outcome: &Outcome) -> Error {
    let message = outcome.to_string();
    let error = match outcome {
        Outcome::Failed { failure, .. } => {
            let error = Error::new(ErrorKind::JobFailed, message);
            match &failure.error {
                Some(ServiceError::Message(text)) => error.with_service_error(text.clone().into()),
                Some(ServiceError::Object(object)) => {
                    error.with_service_error(object.clone().into())
                }
                None => error,
            }
        }
        Outcome::Cancelled { .. } => Error::new(ErrorKind::Cancelled, message),
        Outcome::DeadlineExceeded { .. } => Error::new(ErrorKind::DeadlineExceeded, message),
        Outcome::SubmitOutcomeUnknown(_) => {
            Error::new(ErrorKind::SubmitOutcomeUnknown, message).with_submit_maybe_sent(true)
        }
        // The service answered and refused: no job exists.
        Outcome::Rejected { error } => api(error, message).with_submit_maybe_sent(false),
        Outcome::Abandoned { error, .. } => core_error(error).map_message(message),
        Outcome::Succeeded { .. } => {
            Error::new(ErrorKind::Protocol, "the job succeeded (not an error)")
        }
        other => Error::new(ErrorKind::Protocol, other.to_string()),
    };
    match outcome.request_id() {
        Some(id) => error.with_request_id(id.as_str()),
        None => error,
    }
}

/// The client error for one of core's errors.
pub(crate) fn core_error(error: &happyhorse_core::Error) -> Error {
    use happyhorse_core::Error as Core;
    let message = error.to_string();
    match error {
        Core::Api(api_error) => api(api_error, message),
        Core::Transport(TransportError::NotSent(_)) => {
            Error::new(ErrorKind::Unavailable, message).retryable()
        }
        Core::Transport(_) => Error::new(ErrorKind::Transport, message).retryable(),
        Core::RetriesExhausted { last, .. } | Core::RetryQuotaExhausted { last, .. } => {
            core_error(last).map_message(message)
        }
        Core::Protocol { .. } | Core::UnrecognisedStatus { .. } | Core::InvalidRequestId(_) => {
            Error::new(ErrorKind::Protocol, message)
        }
        other => Error::new(ErrorKind::Protocol, other.to_string()),
    }
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
    let mut out = Error::new(kind, message).with_status(error.http_status);
    if error.kind.is_retryable() {
        out = out.retryable();
    }
    match &error.code {
        Some(ErrorCode::Number(n)) => out.with_service_code(n.to_string()),
        Some(ErrorCode::Text(t)) => out.with_service_code(t.clone()),
        None => out,
    }
}

/// An API error from a raw answer outside a job (the catalogue endpoints), read as the job
/// reads one.
pub(crate) fn api_error(response: &happyhorse_core::Response) -> Error {
    let error = happyhorse_core::oneshot::read_error(response);
    api(&error, error.to_string())
}
