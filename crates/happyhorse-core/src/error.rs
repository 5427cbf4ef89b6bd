//! Errors: what went wrong, in terms a user can act on.
//!
//! [`Error`] is the one enum every fallible step returns. Its `Display` never repeats its
//! `source()` (print the chain with `{:#}` in `anyhow` or walk `source()`), and nothing in it
//! can hold the API token: this crate never sees it.

use std::fmt;
use std::time::Duration;

use happyhorse_types::{ErrorCode, ServiceError};

use crate::validate::shorten;
use crate::{InvalidRequestId, RequestKind};

/// Why a request, or following a job, failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service answered with an error (any HTTP status, including 200 with a top-level
    /// `error_code`). See [`ApiError::kind`] for what to do.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The request failed on the way: no answer was received.
    /// Check the network, a proxy, or the service's status page.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The service answered something this client cannot understand (a body that is not the
    /// expected JSON, a missing `request_id`, …). Usually a service change or a proxy in the way;
    /// upgrading the client may help.
    #[error("unexpected answer to {request}: {what}")]
    Protocol {
        /// The call that got the answer.
        request: RequestKind,
        /// What was wrong with it (shortened; never a whole body).
        what: String,
    },
    /// A call kept failing with retryable errors (429, 5xx, transport failures) until the
    /// [`RetryPolicy`](crate::RetryPolicy)'s attempts or budget ran out; `source()` is the last
    /// failure. The job itself may be fine: resume it later.
    #[error("gave up on {request} after {attempts} attempts")]
    RetriesExhausted {
        /// The call that kept failing.
        request: RequestKind,
        /// How many attempts were made in a row.
        attempts: u32,
        /// The last failure.
        #[source]
        last: Box<Error>,
    },
    /// A call failed with a retryable error, but the [`Throttle`](crate::Throttle) this job shares
    /// with others had no retries left: many calls of the batch have been failing, so retrying
    /// would only add load. `source()` is the failure. The job itself may be fine: resume it later.
    #[error(
        "gave up on {request}: the retries shared by the batch are spent (the service has been failing for many jobs)"
    )]
    RetryQuotaExhausted {
        /// The call that failed.
        request: RequestKind,
        /// The failure.
        #[source]
        last: Box<Error>,
    },
    /// The service kept reporting a job status this client does not know, past the configured
    /// limit. The job may still finish: resume it with a newer client or check the dashboard.
    #[error(
        "the service reported the unrecognised status {status:?} {count} times over {:.0?}; this client may be too old",
        elapsed
    )]
    UnrecognisedStatus {
        /// The status, as sent.
        status: String,
        /// How many answers in a row carried an unrecognised status.
        count: u32,
        /// For how long.
        elapsed: Duration,
    },
    /// The service returned a request id that cannot be used in a URL.
    #[error(transparent)]
    InvalidRequestId(#[from] InvalidRequestId),
}

impl Error {
    /// Whether trying the same call again later may succeed (429, 408, 5xx, transport
    /// failures, garbled answers). For a submit, see [`TransportError::NotSent`]: only that is
    /// safe to repeat.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api(api) => api.kind.is_retryable() || api.http_status == 408,
            Self::Transport(_) | Self::Protocol { .. } => true,
            _ => false,
        }
    }

    /// The delay the service asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api(api) => api.retry_after,
            _ => None,
        }
    }

    /// For an error that gave up on retries, the last failure; `None` for any other error.
    pub fn last(&self) -> Option<&Error> {
        match self {
            Self::RetriesExhausted { last, .. } | Self::RetryQuotaExhausted { last, .. } => {
                Some(last)
            }
            _ => None,
        }
    }

    /// The error at the root of this one: itself, or the last failure of exhausted retries.
    pub fn root(&self) -> &Error {
        let mut error = self;
        while let Some(last) = error.last() {
            error = last;
        }
        error
    }

    /// Whether following the job again later (by its id) may succeed after this error stopped
    /// it: not when the service says the id is unknown or expired (404), belongs to another
    /// account (403), or the request itself was refused as invalid.
    pub fn is_resumable(&self) -> bool {
        match self.root() {
            Self::Api(api) => !matches!(
                api.kind,
                ApiErrorKind::NotFound
                    | ApiErrorKind::PermissionDenied
                    | ApiErrorKind::InvalidInput
                    | ApiErrorKind::InvalidResource
            ),
            Self::InvalidRequestId(_) => false,
            _ => true,
        }
    }
}

/// A transport failure, classified by whether the request may have reached the service —
/// which decides whether a submit may be sent again (there is no idempotency key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Provably never reached the service: DNS failure, connection refused, TLS handshake
    /// failure before any request byte was written. Safe to retry, even a submit.
    #[error("request not sent: {0}")]
    NotSent(String),
    /// May have reached the service: a timeout after the request was written, a connection
    /// reset mid-answer, a truncated body. A submit in this state may have created a job.
    #[error("no complete answer (the request may have reached the service): {0}")]
    MaybeSent(String),
}

impl TransportError {
    /// Whether the request provably never reached the service.
    pub fn is_not_sent(&self) -> bool {
        matches!(self, Self::NotSent(_))
    }
}

/// The service's answer to a request it refused or could not serve.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// What kind of error this is, from the error code or else the HTTP status.
    pub kind: ApiErrorKind,
    /// The call that got it, when known: a failed submit is advised differently (a 5xx may
    /// have created a job, so "try again" would be bad advice).
    pub request: Option<RequestKind>,
    /// The HTTP status (200 when the error came with a top-level `error_code` on a 200).
    pub http_status: u16,
    /// RunComfy's error code, e.g. `400004`.
    pub code: Option<ErrorCode>,
    /// The service's message (`error_message`, `message` or `error`), shortened.
    pub message: Option<String>,
    /// The `detail` field, as sent (e.g. every schema violation).
    pub detail: Option<serde_json::Value>,
    /// The `Retry-After` delay, if the service sent one.
    pub retry_after: Option<Duration>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (HTTP {}", self.kind.summary(), self.http_status)?;
        if let Some(code) = &self.code {
            match code {
                ErrorCode::Number(n) => write!(f, ", code {n}")?,
                ErrorCode::Text(t) => write!(f, ", code {}", shorten(t))?,
            }
        }
        f.write_str(")")?;
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(hint) = self.hint() {
            write!(f, " — {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// At most this many items of a `detail` are shown ([`ApiError::detail_lines`]).
pub const DETAIL_MAX_ITEMS: usize = 20;
/// Each shown item of a `detail` is cut after this many characters.
pub const DETAIL_MAX_CHARS: usize = 300;

impl ApiError {
    /// RunComfy's error code as text (`"400004"`), whether it was sent as a number or a string.
    pub fn code_text(&self) -> Option<String> {
        self.code.as_ref().map(|code| match code {
            ErrorCode::Number(n) => n.to_string(),
            ErrorCode::Text(t) => t.clone(),
        })
    }

    /// What the user can do about it, in this error's context. A submit that failed with a 5xx may
    /// have created a job: it gets no "try again".
    pub fn hint(&self) -> Option<&'static str> {
        if self.request == Some(RequestKind::Submit) && self.kind == ApiErrorKind::ServerError {
            return None;
        }
        // "Check the input" means nothing for a status, result or cancel: they send none.
        if self.kind == ApiErrorKind::InvalidInput
            && !matches!(self.request, None | Some(RequestKind::Submit))
        {
            return None;
        }
        self.kind.hint()
    }

    /// The service's `detail`, one item per line, for people: a string is split at its line
    /// breaks; a list gives one line per item (FastAPI's `{"loc": […], "msg": "…"}` as
    /// `loc.path: msg`); anything else is one line of JSON. At most [`DETAIL_MAX_ITEMS`] lines of
    /// at most [`DETAIL_MAX_CHARS`] characters, then a line saying how many more there were.
    /// The text is as sent: make it safe before it reaches a terminal.
    ///
    /// ```
    /// use happyhorse_core::{oneshot, Response};
    ///
    /// let error = oneshot::read_error(&Response::new(422, r#"{"detail":[
    ///     {"loc":["body","duration"],"msg":"must be at most 15","type":"value_error"},
    ///     "seed: too large"]}"#));
    /// assert_eq!(error.detail_lines(), ["body.duration: must be at most 15", "seed: too large"]);
    /// ```
    pub fn detail_lines(&self) -> Vec<String> {
        let lines: Vec<String> = match &self.detail {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(serde_json::Value::String(text)) => text
                .lines()
                .filter(|line| !line.trim().is_empty())
                .map(str::to_owned)
                .collect(),
            Some(serde_json::Value::Array(items)) => items.iter().map(detail_item).collect(),
            Some(other) => vec![detail_item(other)],
        };
        // One item, one line: line breaks inside an item would pass for other items.
        let mut lines: Vec<String> = lines
            .into_iter()
            .map(|line| line.replace(['\r', '\n'], " "))
            .collect();
        let total = lines.len();
        lines.truncate(DETAIL_MAX_ITEMS);
        let mut lines: Vec<String> = lines
            .iter()
            .map(|l| shorten_to(l, DETAIL_MAX_CHARS))
            .collect();
        if total > DETAIL_MAX_ITEMS {
            lines.push(format!("… and {} more", total - DETAIL_MAX_ITEMS));
        }
        lines
    }
}

fn detail_item(item: &serde_json::Value) -> String {
    use serde_json::Value;
    match item {
        Value::String(text) => text.clone(),
        Value::Object(object) => {
            let message = ["msg", "message", "error_message", "error"]
                .iter()
                .find_map(|key| object.get(*key)?.as_str());
            let location = object.get("loc").map(|loc| match loc {
                Value::Array(parts) => parts
                    .iter()
                    .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join("."),
                Value::String(text) => text.clone(),
                other => other.to_string(),
            });
            match (location, message) {
                (Some(location), Some(message)) => format!("{location}: {message}"),
                (None, Some(message)) => message.to_owned(),
                _ => item.to_string(),
            }
        }
        other => other.to_string(),
    }
}

/// The kinds of service error, from RunComfy's documented codes and HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// `400004` or HTTP 401: the token is missing, expired or revoked.
    Unauthorized,
    /// `400002`: the account has no balance left.
    InsufficientBalance,
    /// `400001`: an unknown resource, e.g. a model id the service does not know.
    InvalidResource,
    /// `403001` or HTTP 403: the request belongs to another user.
    PermissionDenied,
    /// `404001` or HTTP 404: an unknown, deleted or expired request id.
    NotFound,
    /// HTTP 400 or 422 without a known code: the input was refused (see `detail`).
    InvalidInput,
    /// HTTP 429: too many requests.
    RateLimited,
    /// HTTP 5xx: the service failed.
    ServerError,
    /// Anything else.
    Other,
}

impl ApiErrorKind {
    /// Classifies by RunComfy's code first, then by HTTP status.
    pub fn classify(http_status: u16, code: Option<&ErrorCode>) -> Self {
        let numeric = match code {
            Some(ErrorCode::Number(n)) => Some(*n),
            Some(ErrorCode::Text(t)) => t.trim().parse().ok(),
            None => None,
        };
        match (numeric, http_status) {
            (Some(400_004), _) | (_, 401) => Self::Unauthorized,
            (Some(400_002), _) | (_, 402) => Self::InsufficientBalance,
            (Some(400_001), _) => Self::InvalidResource,
            (Some(403_001), _) | (_, 403) => Self::PermissionDenied,
            (Some(404_001), _) | (_, 404) => Self::NotFound,
            (_, 429) => Self::RateLimited,
            (_, 500..=599) => Self::ServerError,
            (_, 400 | 422) => Self::InvalidInput,
            // RunComfy's codes carry the HTTP class (`400001`, `404001`): an error sent with a
            // 2xx status is classified by its code's class instead.
            (Some(code), 200..=299) if code / 1000 == 429 => Self::RateLimited,
            (Some(code), 200..=299) if (500..=599).contains(&(code / 1000)) => Self::ServerError,
            _ => Self::Other,
        }
    }

    /// Whether this kind is transient (rate limiting, server failures).
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::RateLimited | Self::ServerError)
    }

    fn summary(self) -> &'static str {
        match self {
            Self::Unauthorized => "the API token was refused",
            Self::InsufficientBalance => "the account has insufficient balance",
            Self::InvalidResource => "the service does not know this resource",
            Self::PermissionDenied => "permission denied",
            Self::NotFound => "no such request",
            Self::InvalidInput => "the service refused the input",
            Self::RateLimited => "rate limited",
            Self::ServerError => "the service failed",
            Self::Other => "the service answered with an error",
        }
    }

    /// What the user can do about it, when there is something.
    pub fn hint(self) -> Option<&'static str> {
        Some(match self {
            Self::Unauthorized => "check that the token is set, current and not revoked",
            Self::InsufficientBalance => "top up the account's balance",
            Self::InvalidResource => "check the model id",
            Self::PermissionDenied => "the request belongs to another account; check the token",
            Self::NotFound => "check the request id; results expire after a while",
            Self::InvalidInput => "check the input against the model's schema",
            Self::RateLimited => "wait a little and try again",
            Self::ServerError => "try again later",
            Self::Other => return None,
        })
    }
}

/// Why a job failed, as the service said it (`error` on `/result`: a string or any object).
#[derive(Debug, Clone, PartialEq)]
pub struct JobFailure {
    /// The service's `error`, as sent; `None` when a failed job came without one.
    pub error: Option<ServiceError>,
}

impl JobFailure {
    /// The service's `error` as JSON (a string or an object), as sent; `None` when absent.
    pub fn to_json(&self) -> Option<serde_json::Value> {
        self.error.as_ref().map(|error| match error {
            ServiceError::Message(text) => serde_json::Value::String(text.clone()),
            ServiceError::Object(object) => serde_json::Value::Object(object.clone()),
        })
    }

    /// A one-line description: the string, or an object's `message`/`error_message`/`detail`
    /// (with its `type`/`code` when present), or the object as JSON — shortened.
    pub fn message(&self) -> String {
        let Some(error) = &self.error else {
            return "the service gave no reason".to_owned();
        };
        let text = match error {
            ServiceError::Message(text) => text.clone(),
            ServiceError::Object(object) => {
                let field =
                    |name: &str| object.get(name).and_then(|v| v.as_str().map(str::to_owned));
                let message = field("message")
                    .or_else(|| field("error_message"))
                    .or_else(|| field("detail"));
                let label = field("type").or_else(|| object.get("code").map(|c| c.to_string()));
                match (label, message) {
                    (Some(label), Some(message)) => format!("{label}: {message}"),
                    (None, Some(message)) => message,
                    _ => serde_json::Value::Object(object.clone()).to_string(),
                }
            }
        };
        shorten_long(&text)
    }
}

impl fmt::Display for JobFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// `error` and its sources, joined with `: ` (as `anyhow` prints `{:#}`).
pub(crate) fn chain(error: &Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text
}

/// Service messages are useful in full up to a point; past 300 characters they are noise.
pub(crate) fn shorten_long(text: &str) -> String {
    shorten_to(text, 300)
}

fn shorten_to(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}… ({} characters)", &text[..cut], text.chars().count()),
    }
}

#[cfg(test)]
mod classify_tests {
    use super::*;

    #[test]
    fn errors_sent_with_http_200_are_classified_by_their_codes_class() {
        let code = |n| Some(ErrorCode::Number(n));
        assert_eq!(
            ApiErrorKind::classify(200, code(500_000).as_ref()),
            ApiErrorKind::ServerError
        );
        assert_eq!(
            ApiErrorKind::classify(200, code(503_001).as_ref()),
            ApiErrorKind::ServerError
        );
        assert_eq!(
            ApiErrorKind::classify(200, code(429_000).as_ref()),
            ApiErrorKind::RateLimited
        );
        assert_eq!(
            ApiErrorKind::classify(200, code(400_004).as_ref()),
            ApiErrorKind::Unauthorized
        );
        assert_eq!(
            ApiErrorKind::classify(200, code(400_123).as_ref()),
            ApiErrorKind::Other
        );
        assert_eq!(
            ApiErrorKind::classify(400, code(500_000).as_ref()),
            ApiErrorKind::InvalidInput
        );
    }
}
