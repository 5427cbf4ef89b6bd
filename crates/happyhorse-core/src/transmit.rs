//! What crosses the boundary to the transport: requests to send ([`Transmit`]) and what came
//! back ([`Response`], or a [`TransportError`](crate::TransportError)).
//!
//! Requests carry no host and no credentials: the transport joins `path` to its base URL, adds
//! `Authorization: Bearer …`, and `Content-Type: application/json` when there is a body.

use std::fmt;

use crate::RequestId;

/// Identifies one [`Transmit`], so its answer can be matched to it (answers to requests the job
/// no longer waits for are ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransmitId(pub(crate) u64);

impl TransmitId {
    /// The id used by the one-shot helpers in [`oneshot`](crate::oneshot), which need no matching.
    pub const ONESHOT: TransmitId = TransmitId(0);

    /// The number, for logs.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TransmitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Which API call a request is: one of the four queue calls, or the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestKind {
    /// `POST /v1/models/{model_id}`: creates (and bills) a job.
    Submit,
    /// `GET /v1/requests/{id}/status`.
    Status,
    /// `GET /v1/requests/{id}/result`.
    Result,
    /// `POST /v1/requests/{id}/cancel`.
    Cancel,
    /// `GET /v1/models` or `GET /v1/models/{model_id}`: the model catalogue.
    Catalogue,
}

impl fmt::Display for RequestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Submit => "submit",
            Self::Status => "status",
            Self::Result => "result",
            Self::Cancel => "cancel",
            Self::Catalogue => "catalogue",
        })
    }
}

/// The HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
}

impl Method {
    /// The method's name, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request to send: method, path relative to the base URL (with its query), optional JSON body.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transmit {
    /// Pass it back with the answer.
    pub id: TransmitId,
    /// Which call this is.
    pub kind: RequestKind,
    /// The HTTP method.
    pub method: Method,
    /// The path and query, e.g. `/v1/requests/abc/result`.
    pub path: String,
    /// The JSON body (submit only).
    pub body: Option<Vec<u8>>,
}

impl Transmit {
    pub(crate) fn submit(id: TransmitId, model_id: &str, body: Vec<u8>) -> Self {
        Self {
            id,
            kind: RequestKind::Submit,
            method: Method::Post,
            path: submit_path(model_id),
            body: Some(body),
        }
    }

    /// `GET /v1/models` (without the schemas), or one model's entry when `model_id` is given.
    pub(crate) fn catalogue(id: TransmitId, model_id: Option<&str>) -> Self {
        Self {
            id,
            kind: RequestKind::Catalogue,
            method: Method::Get,
            path: match model_id {
                Some(model_id) => submit_path(model_id),
                None => "/v1/models?include_schema=false".to_owned(),
            },
            body: None,
        }
    }

    pub(crate) fn for_job(
        id: TransmitId,
        kind: RequestKind,
        request_id: &RequestId,
        include_cost: bool,
    ) -> Self {
        let (method, tail) = match kind {
            RequestKind::Status => (Method::Get, "status"),
            RequestKind::Result => (
                Method::Get,
                if include_cost {
                    "result?include_cost=true"
                } else {
                    "result"
                },
            ),
            RequestKind::Cancel => (Method::Post, "cancel"),
            RequestKind::Submit | RequestKind::Catalogue => {
                unreachable!("a submit or catalogue request is built by its own constructor")
            }
        };
        Self {
            id,
            kind,
            method,
            path: format!("/v1/requests/{request_id}/{tail}"),
            body: None,
        }
    }
}

// The body may be a large input with inline images: show its size, never its bytes.
impl fmt::Debug for Transmit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transmit")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("method", &self.method)
            .field("path", &self.path)
            .field(
                "body",
                &self.body.as_ref().map(|b| format!("{} bytes", b.len())),
            )
            .finish()
    }
}

impl fmt::Display for Transmit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if let Some(body) = &self.body {
            write!(f, " ({} bytes)", body.len())?;
        }
        Ok(())
    }
}

/// `/v1/models/{model_id}` (the submit's path, and the catalogue entry's): the id keeps its slashes; anything outside `A–Z a–z 0–9 - . _ ~ /`
/// is percent-encoded so an odd id cannot change the request's meaning.
fn submit_path(model_id: &str) -> String {
    let mut path = String::from("/v1/models/");
    for byte in model_id.trim_matches('/').bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
}

/// An HTTP answer, as the transport received it.
///
/// ```
/// use happyhorse_core::Response;
///
/// let response = Response::new(429, r#"{"error_message":"slow down"}"#).with_retry_after("3");
/// assert_eq!(response.status, 429);
/// assert_eq!(response.retry_after.as_deref(), Some("3"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The raw `Retry-After` header, if any (seconds or an HTTP date).
    pub retry_after: Option<String>,
    /// The raw `Date` header, if any: needed to read a `Retry-After` given as a date without
    /// reading the local clock.
    pub date: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// An answer with a status and a body, and no headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            retry_after: None,
            date: None,
            body: body.into(),
        }
    }

    /// The same answer with a `Retry-After` header.
    pub fn with_retry_after(mut self, value: impl Into<String>) -> Self {
        self.retry_after = Some(value.into());
        self
    }

    /// The same answer with a `Date` header.
    pub fn with_date(mut self, value: impl Into<String>) -> Self {
        self.date = Some(value.into());
        self
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("retry_after", &self.retry_after)
            .field("date", &self.date)
            .field(
                "body",
                &crate::validate::shorten(&String::from_utf8_lossy(&self.body)),
            )
            .finish()
    }
}
