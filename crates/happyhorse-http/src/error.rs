//! The client's one error type: opaque, with predicates, and never carrying the API token.

use std::fmt;

use happyhorse_core::validate::{InputError, InputErrors};

/// A cause kept as [`Error::source`]: core's errors, the service's refusal.
type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, broadly; decides what a caller (or the CLI's exit code) does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input breaks a rule; nothing was sent.
    InvalidInput,
    /// The client is misconfigured (base URL, token); nothing was sent.
    Config,
    /// The token is missing, expired or revoked (RunComfy `400004`, or HTTP 401).
    Auth,
    /// The request belongs to another account (`403001`).
    PermissionDenied,
    /// Unknown, deleted or expired request id (`404001`).
    NotFound,
    /// The account's balance cannot pay for the job (`400002`).
    InsufficientBalance,
    /// The service refused the request for another reason (e.g. `400001`, a schema violation).
    Rejected,
    /// Too many requests (HTTP 429), still after the retry budget.
    RateLimited,
    /// The service failed (5xx) or could not be reached, still after the retry budget.
    Unavailable,
    /// A request timed out.
    Timeout,
    /// The connection failed in another way.
    Transport,
    /// The service answered something this client cannot read (malformed or oversized body).
    Protocol,
    /// The job ran and failed; [`Error::service_error`] has the service's reason.
    JobFailed,
    /// The job was cancelled.
    Cancelled,
    /// The job did not finish before the client's deadline; it may still finish on the service.
    DeadlineExceeded,
    /// The submit may have reached the service but its answer was lost: a job may exist (and be
    /// billed) without this client knowing its id. Check before resubmitting.
    SubmitOutcomeUnknown,
    /// Downloading or saving the output failed.
    Download,
    /// The client stopped following the job while it ran (a batch cancelled with
    /// [`RunningOnCancel::Detach`](crate::RunningOnCancel::Detach)); it goes on at the service.
    Detached,
}

impl ErrorKind {
    /// A stable name for machines and logs: `invalid_input`, `auth`, `not_found`, …
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::Config => "config",
            Self::Auth => "auth",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "not_found",
            Self::InsufficientBalance => "insufficient_balance",
            Self::Rejected => "rejected",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Timeout => "timeout",
            Self::Transport => "transport",
            Self::Protocol => "protocol",
            Self::JobFailed => "job_failed",
            Self::Cancelled => "cancelled",
            Self::DeadlineExceeded => "deadline_exceeded",
            Self::SubmitOutcomeUnknown => "submit_outcome_unknown",
            Self::Download => "download",
            Self::Detached => "detached",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error from the client.
///
/// Opaque by design: inspect it with [`kind`](Self::kind), [`is_retryable`](Self::is_retryable),
/// [`status`](Self::status), [`request_id`](Self::request_id),
/// [`submit_may_have_reached_server`](Self::submit_may_have_reached_server),
/// [`can_resume`](Self::can_resume) and [`detail_lines`](Self::detail_lines). Its `Display` never
/// includes the API token.
///
/// `Display` is this error's own layer; what caused it is its `source()` chain (core's
/// [`happyhorse_core::Error`], the service's [`happyhorse_core::ApiError`]), so print it with
/// `{:#}` in `anyhow`, or walk `source()`, to see the whole story — or downcast a source to act
/// on it.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    status: Option<u16>,
    request_id: Option<String>,
    service_code: Option<String>,
    service_error: Option<serde_json::Value>,
    submit_maybe_sent: Option<bool>,
    retryable: bool,
    input_errors: Option<InputErrors>,
    resumable: bool,
    detail: Option<serde_json::Value>,
    detail_lines: Vec<String>,
    source: Option<Source>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                status: None,
                request_id: None,
                service_code: None,
                service_error: None,
                submit_maybe_sent: None,
                retryable: false,
                input_errors: None,
                resumable: false,
                detail: None,
                detail_lines: Vec::new(),
                source: None,
            }),
        }
    }

    /// A reqwest failure while doing `what`. The URL reqwest may mention never holds the token
    /// (it travels in a header).
    pub(crate) fn transport(what: &str, err: reqwest::Error) -> Self {
        let kind = if err.is_timeout() {
            ErrorKind::Timeout
        } else {
            ErrorKind::Transport
        };
        // The message carries reqwest's whole account (and its causes), so it is not also kept as
        // `source()`: printing an error chain must not say the same thing twice.
        let err = err.without_url();
        let mut message = format!("{what}: {err}");
        let mut cause = std::error::Error::source(&err);
        while let Some(inner) = cause {
            message.push_str(&format!(": {inner}"));
            cause = inner.source();
        }
        let mut error = Self::new(kind, message);
        error.inner.retryable = true;
        error
    }

    pub(crate) fn map_message(mut self, message: String) -> Self {
        self.inner.message = message;
        self
    }

    pub(crate) fn retryable(mut self) -> Self {
        self.inner.retryable = true;
        self
    }

    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.inner.status = Some(status);
        self
    }

    pub(crate) fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.inner.request_id = Some(request_id.into());
        self
    }

    pub(crate) fn with_service_code(mut self, code: impl Into<String>) -> Self {
        self.inner.service_code = Some(code.into());
        self
    }

    pub(crate) fn with_service_error(mut self, error: serde_json::Value) -> Self {
        self.inner.service_error = Some(error);
        self
    }

    pub(crate) fn with_submit_maybe_sent(mut self, maybe_sent: bool) -> Self {
        self.inner.submit_maybe_sent = Some(maybe_sent);
        self
    }

    pub(crate) fn resumable(mut self, resumable: bool) -> Self {
        self.inner.resumable = resumable;
        self
    }

    pub(crate) fn with_detail(mut self, api: &happyhorse_core::ApiError) -> Self {
        self.inner.detail.clone_from(&api.detail);
        self.inner.detail_lines = api.detail_lines();
        self
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.inner.source = Some(Box::new(source));
        self
    }

    pub(crate) fn without_source(mut self) -> Self {
        self.inner.source = None;
        self
    }

    /// What went wrong, broadly.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Whether trying the same thing again later may succeed. A failed submit is retryable only
    /// when it provably never reached the service.
    pub fn is_retryable(&self) -> bool {
        self.inner.retryable
    }

    /// The HTTP status the service (or the storage host) answered, if any.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// The job's id, when the error concerns a job the service knows.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// RunComfy's error code (`"400004"`, …), when the service sent one.
    pub fn service_code(&self) -> Option<&str> {
        self.inner.service_code.as_deref()
    }

    /// The service's own account of a failed job (a string or an object), when it sent one.
    pub fn service_error(&self) -> Option<&serde_json::Value> {
        self.inner.service_error.as_ref()
    }

    /// The broken rules, one per field and rule, for an [`ErrorKind::InvalidInput`] error that
    /// came from validation (the model's rules, a local image, a file that could not be read):
    /// what the `Display` text says, in structured form.
    ///
    /// ```
    /// use happyhorse_http::{ErrorKind, ImageSource};
    ///
    /// let error = ImageSource::Bytes(b"GIF89a\x01\x00\x01\x00\x00\x00".to_vec())
    ///     .into_field_value_blocking("image_url")
    ///     .unwrap_err();
    /// assert_eq!(error.kind(), ErrorKind::InvalidInput);
    /// let rules = error.input_errors().unwrap();
    /// assert_eq!(rules.errors()[0].field, "image_url");
    /// assert_eq!(rules.errors()[0].rule, "image_format");
    /// assert_eq!(rules.errors()[0].value, "GIF");
    /// ```
    pub fn input_errors(&self) -> Option<&InputErrors> {
        self.inner.input_errors.as_ref()
    }

    /// For a failed submit: `Some(true)` if the request may have reached the service (so a job
    /// may exist and be billed), `Some(false)` if it provably did not; `None` for other requests.
    pub fn submit_may_have_reached_server(&self) -> Option<bool> {
        self.inner.submit_maybe_sent
    }

    /// Whether following the job again by its id ([`Client::job`](crate::Client::job)) may still
    /// get its result: `false` once it ended (failed, cancelled), and after an error waiting cannot
    /// fix (an unknown or expired id, another account's request, no job at all).
    pub fn can_resume(&self) -> bool {
        self.inner.resumable && self.inner.request_id.is_some()
    }

    /// The service's `detail` (e.g. every schema violation of a refused input), as sent.
    pub fn detail(&self) -> Option<&serde_json::Value> {
        self.inner.detail.as_ref()
    }

    /// The service's `detail` for people: one item per line, at most
    /// [`DETAIL_MAX_ITEMS`](happyhorse_core::DETAIL_MAX_ITEMS) lines of at most
    /// [`DETAIL_MAX_CHARS`](happyhorse_core::DETAIL_MAX_CHARS) characters (see
    /// [`ApiError::detail_lines`](happyhorse_core::ApiError::detail_lines)). As sent: make it
    /// safe before it reaches a terminal.
    pub fn detail_lines(&self) -> &[String] {
        &self.inner.detail_lines
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)?;
        if let Some(id) = self
            .inner
            .request_id
            .as_ref()
            .filter(|id| !self.inner.message.contains(id.as_str()))
        {
            write!(f, " (request {id})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .field("status", &self.inner.status)
            .field("request_id", &self.inner.request_id)
            .field("service_code", &self.inner.service_code)
            .field("submit_maybe_sent", &self.inner.submit_maybe_sent)
            .field("retryable", &self.inner.retryable)
            .field("input_errors", &self.inner.input_errors)
            .field("resumable", &self.inner.resumable)
            .field("detail_lines", &self.inner.detail_lines.len())
            .field("source", &self.inner.source)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

impl From<InputErrors> for Error {
    fn from(errors: InputErrors) -> Self {
        let mut error = Self::new(ErrorKind::InvalidInput, errors.to_string());
        error.inner.input_errors = Some(errors);
        error
    }
}

impl From<InputError> for Error {
    fn from(error: InputError) -> Self {
        InputErrors::from(error).into()
    }
}
