//! How the HTTP client's errors become exit codes: one match over `happyhorse_http::ErrorKind`.

use happyhorse_http::{Error, ErrorKind};

use crate::exit;

/// The exit code of a client error.
pub(crate) fn code_for(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput | ErrorKind::Rejected => exit::INVALID_INPUT,
        ErrorKind::Config => exit::CONFIG,
        ErrorKind::Auth | ErrorKind::PermissionDenied | ErrorKind::InsufficientBalance => {
            exit::AUTH
        }
        ErrorKind::NotFound => exit::NOT_FOUND,
        ErrorKind::RateLimited
        | ErrorKind::Timeout
        | ErrorKind::DeadlineExceeded
        | ErrorKind::Detached => exit::TEMPORARY,
        ErrorKind::Unavailable | ErrorKind::Transport => exit::UNAVAILABLE,
        ErrorKind::Protocol => exit::PROTOCOL,
        ErrorKind::JobFailed => exit::JOB_FAILED,
        ErrorKind::Cancelled => exit::JOB_CANCELLED,
        ErrorKind::SubmitOutcomeUnknown => exit::SUBMIT_OUTCOME_UNKNOWN,
        ErrorKind::Download => exit::DOWNLOAD,
        // `ErrorKind` is non-exhaustive: a kind added later is an unclassified error until mapped.
        _ => exit::GENERIC,
    }
}

/// A client error as a [`crate::exit::Failure`] with its exit code, about `request_id` when known:
/// the whole chain of causes, then the service's `detail`, one item per line (bounded by core).
pub(crate) fn failure(error: &Error, request_id: Option<&str>) -> exit::Failure {
    let mut failure = exit::Failure::new(code_for(error.kind()), describe(error));
    if let Some(detail) = error.detail() {
        failure.extra().detail = Some(detail.clone());
    }
    match request_id.or(error.request_id()) {
        Some(id) => failure.with_request_id(id),
        None => failure,
    }
}

/// What people are told about `error`: its chain of causes on one line, then the service's
/// `detail`, one item per line.
pub(crate) fn describe(error: &Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    let lines = error.detail_lines();
    if !lines.is_empty() {
        text.push_str("\n  detail:");
        for line in lines {
            text.push_str(&format!("\n    {line}"));
        }
    }
    text
}

/// The exit code of the first client error in `error`'s chain, if there is one.
pub(crate) fn code_in_chain(error: &anyhow::Error) -> Option<u8> {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<Error>())
        .map(|e| code_for(e.kind()))
}
