//! Every answer the client reads, and what reading it must guarantee.
//!
//! An answer is an HTTP status, the `Retry-After` and `Date` headers, and a body. Bodies are
//! either raw bytes or one of [`TEMPLATES`]: valid-looking JSON with holes for a string, a
//! status word and a number, so generated inputs reach past the JSON parser into the
//! classification. [`check_response`] reads one answer as each of the four calls, with the same
//! public entry points the clients use (`oneshot::read_*`, `vocabulary::state_from_*`,
//! `vocabulary::parse_retry_after`), and through a [`Job`] (`handle_response`), and checks the
//! result against the wire-vocabulary table in `docs/lifecycle.md`.

use happyhorse_core::Response;

/// The model every generated job submits to.
pub(crate) const MODEL: &str = "happyhorse/happyhorse-1.0/image-to-video";

/// Valid-looking bodies; `{s}` is replaced by a JSON string, `{k}` by a word from [`WORDS`],
/// `{n}` by a number-like token.
pub(crate) const TEMPLATES: &[&str] = &[
    r#"{"request_id":{s}}"#,
    r#"{"request_id":{k},"status_url":{s},"result_url":{s},"cancel_url":{n}}"#,
    r#"{"request_id":"req_1","status":{k}}"#,
    r#"{"status":{k}}"#,
    r#"{"status":{s}}"#,
    r#"{"status":{k},"queue_position":{n}}"#,
    r#"{"status":"in_queue","queue_position":{n},"request_id":{s}}"#,
    r#"{"status":{k},"output":{"video":{s}}}"#,
    r#"{"status":{k},"output":{n}}"#,
    r#"{"status":{k},"error":{s}}"#,
    r#"{"status":{k},"error":{"type":{s},"message":{s},"code":{n}}}"#,
    r#"{"status":{k},"output":{"video":{s}},"error":{s},"cost":{n},"created_at":{s},"finished_at":{n}}"#,
    r#"{"outcome":{k}}"#,
    r#"{"outcome":{s},"status":{k}}"#,
    r#"{"outcome":{k},"status":{s},"request_id":{n}}"#,
    r#"{"error_code":{n},"error_message":{s}}"#,
    r#"{"error_code":{s},"message":{s}}"#,
    r#"{"error_code":{n},"status":{k}}"#,
    r#"{"error_code":{n},"error":{s},"detail":{n}}"#,
    r#"{"error_code":{n},"error":{"type":{s},"message":{s}}}"#,
    r#"{"detail":[{"loc":["body",{s}],"msg":{s}}]}"#,
    r#"{"error_message":{s}}"#,
    r#"{s}"#,
    r#"{n}"#,
    r#"{"status":{k},"queue_position":{n},"output":{"video":{s},"videos":[{s}]},"request_id":{s}}"#,
    r#""#,
    r#"{"status":{k}"#,
    r#"{"status":{k},"status":{s}}"#,
    r#"{"status":"succeeded","output":{"video":{s}},"cost":{s}}"#,
    r#"{"status":{k},"created_at":{n}}"#,
    r#"{"request_id":{s},"status":{k},"outcome":{k},"output":{"video":{s}},"queue_position":{n}}"#,
    r#"{"status":{k},"output":{s}}"#,
    r#"{"status":{k},"output":[{s},{"url":{s}},{n}]}"#,
    r#"{"status":{k},"videos":[{s}],"result_url":{s}}"#,
    r#"{"request_id":{s} "status":{k} "outcome":{k}}"#,
    r#"{"status":{k},"queue_position":"{n}"}"#,
    r#"{"error_code":{n},"error_message":{s},"request_id":{s}}"#,
    r#"{"error_code":{n},"request_id":{n},"outcome":{k}}"#,
];

/// Status and outcome words (as JSON), the known ones and a few near misses.
pub(crate) const WORDS: &[&str] = &[
    r#""in_queue""#,
    r#""in_progress""#,
    r#""completed""#,
    r#""succeeded""#,
    r#""failed""#,
    r#""cancelled""#,
    r#""canceled""#,
    r#""not_cancellable""#,
    r#""""#,
    r#""IN_PROGRESS""#,
    r#""running""#,
    r#"" Succeeded ""#,
    r#""Processing""#,
    r#""pending""#,
    r#""Not-Cancellable""#,
    r#""req_1""#,
    "null",
    "7",
    "{}",
];

/// Number-like tokens, some of them not numbers at all.
pub(crate) const NUMBER_TOKENS: &[&str] = &[
    "0",
    "1",
    "-1",
    "3",
    "400001",
    "400002",
    "400004",
    "\"400004\"",
    "\" 404001 \"",
    "403001",
    "404001",
    "429000",
    "500000",
    "503001",
    "1e400",
    "1.5",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "null",
    "true",
    "[]",
    "{}",
    "\"\"",
];

/// `Date` and `Retry-After` dates, in the three HTTP formats and at the edges.
pub(crate) const DATES: &[&str] = &[
    "Wed, 21 Oct 2015 07:28:00 GMT",
    "Wed, 21 Oct 2015 07:28:30 GMT",
    "Sunday, 06-Nov-94 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Mon, 01 Jan 2024 00:00:00 GMT",
];

/// Realistic whole answers (mostly from the API reference), so generated jobs get somewhere.
pub(crate) const CANNED: &[&str] = &[
    r#"{"request_id":"req_1"}"#,
    r#"{"request_id":"req_1","status_url":"https://model-api.runcomfy.net/v1/requests/req_1/status","result_url":"https://model-api.runcomfy.net/v1/requests/req_1/result","cancel_url":"https://model-api.runcomfy.net/v1/requests/req_1/cancel"}"#,
    r#"{"status":"in_queue","queue_position":3}"#,
    r#"{"status":"in_queue","queue_position":0}"#,
    r#"{"status":"in_queue"}"#,
    r#"{"status":"in_progress"}"#,
    r#"{"status":"completed"}"#,
    r#"{"status":"succeeded","output":{"video":"https://cdn.example/v.mp4"}}"#,
    r#"{"status":"failed","error":"out of memory"}"#,
    r#"{"status":"failed","error":{"type":"ValidationError","message":"bad image"}}"#,
    r#"{"status":"cancelled"}"#,
    r#"{"status":"mystery"}"#,
    r#"{"status":"succeeded"}"#,
    r#"{"request_id":"req_1","outcome":"cancelled","status":"cancelled"}"#,
    r#"{"request_id":"req_1","outcome":"not_cancellable","status":"in_progress"}"#,
    r#"{"outcome":"not_cancellable","status":"completed"}"#,
    r#"{"outcome":"not_cancellable"}"#,
    r#"{"error_code":400004,"error_message":"invalid token"}"#,
    r#"{"error_code":"404001","message":"request not found"}"#,
    r#"{"error_code":500000,"error_message":"internal error"}"#,
    r#"{"detail":[{"loc":["body","prompt"],"msg":"field required"}]}"#,
    "<html>502 Bad Gateway</html>",
];

/// HTTP statuses the service uses or might, plus the odd ones.
pub(crate) const STATUSES: &[u16] = &[
    200, 200, 200, 201, 202, 204, 301, 302, 400, 401, 402, 403, 404, 408, 409, 422, 429, 500, 502,
    503, 504,
];

/// A number-like token.
#[derive(Debug, Clone)]
pub(crate) enum Number {
    /// One of [`NUMBER_TOKENS`] (index taken modulo its length).
    Listed(u8),
    Int(i64),
    Unsigned(u64),
    Float(f64),
}

impl Number {
    fn render(&self) -> String {
        match self {
            Self::Listed(i) => NUMBER_TOKENS[usize::from(*i) % NUMBER_TOKENS.len()].to_owned(),
            Self::Int(n) => n.to_string(),
            Self::Unsigned(n) => n.to_string(),
            // `NaN` and `inf` are not JSON: fine, that is a garbled body.
            Self::Float(x) => x.to_string(),
        }
    }
}

/// A body: raw bytes, or a template with its holes filled.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Raw(Vec<u8>),
    /// One of [`CANNED`] (index taken modulo its length).
    Canned(u8),
    Template {
        /// Index into [`TEMPLATES`], modulo its length.
        template: u8,
        s: String,
        /// Index into [`WORDS`], modulo its length.
        k: u8,
        n: Number,
    },
}

impl Body {
    pub(crate) fn render(&self) -> Vec<u8> {
        match self {
            Self::Raw(bytes) => bytes.clone(),
            Self::Canned(i) => CANNED[usize::from(*i) % CANNED.len()].as_bytes().to_vec(),
            Self::Template { template, s, k, n } => {
                let template = TEMPLATES[usize::from(*template) % TEMPLATES.len()];
                let s = serde_json::to_string(s).unwrap();
                let k = WORDS[usize::from(*k) % WORDS.len()];
                let n = n.render();
                // One pass over the template, so a filled-in value is never re-read as a hole.
                let mut out = String::with_capacity(template.len() + s.len());
                let mut rest = template;
                while let Some(at) = rest.find('{') {
                    out.push_str(&rest[..at]);
                    let tail = &rest[at..];
                    let (fill, len) = if tail.starts_with("{s}") {
                        (s.as_str(), 3)
                    } else if tail.starts_with("{k}") {
                        (k, 3)
                    } else if tail.starts_with("{n}") {
                        (n.as_str(), 3)
                    } else {
                        ("{", 1)
                    };
                    out.push_str(fill);
                    rest = &tail[len..];
                }
                out.push_str(rest);
                out.into_bytes()
            }
        }
    }
}

/// A header value: delta-seconds, one of [`DATES`], or any text.
#[derive(Debug, Clone)]
pub(crate) enum Header {
    Seconds(u64),
    Date(u8),
    Text(String),
}

impl Header {
    pub(crate) fn render(&self) -> String {
        match self {
            Self::Seconds(s) => s.to_string(),
            Self::Date(i) => DATES[usize::from(*i) % DATES.len()].to_owned(),
            Self::Text(text) => text.clone(),
        }
    }
}

/// One answer as the transport hands it to the engine.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Header>,
    pub(crate) date: Option<Header>,
    pub(crate) body: Body,
}

impl Answer {
    pub(crate) fn to_response(&self) -> Response {
        let mut response = Response::new(self.status, self.body.render());
        if let Some(value) = &self.retry_after {
            response = response.with_retry_after(value.render());
        }
        if let Some(value) = &self.date {
            response = response.with_date(value.render());
        }
        response
    }
}

mod checks;

pub(crate) use checks::{check_error, check_message, check_outcome_text, check_response};
