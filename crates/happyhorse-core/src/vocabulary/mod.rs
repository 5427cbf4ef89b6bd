//! The one place that knows how the service words things: every answer — submit, status, result,
//! cancel, the catalogue, and errors on any HTTP status — is read here, liberally, and nowhere else.
//!
//! | Wire | Meaning here |
//! |---|---|
//! | a status word in any case or spacing (`SUCCEEDED`, `in-progress`), or `pending`, `waiting`, `queued`, `submitted`, `processing`, `starting`, `started`, `running`, `complete`, `success`, `failure` | the documented word it stands for |
//! | `/status` `in_queue` (+ `queue_position`) | [`JobState::Queued`] |
//! | `/status` `in_progress` | [`JobState::Running`] |
//! | `/status` `completed`, `succeeded`, `failed` | [`JobState::Finished`]: the outcome is on `/result` |
//! | `/status` or `/result` `cancelled`, `canceled` | [`JobState::Cancelled`] |
//! | `/result` `in_queue` / `in_progress` | [`JobState::Queued`] (no position) / [`JobState::Running`] |
//! | `/result` `succeeded` or `completed` with `output` (any JSON: object, URL, list, nesting) | [`JobState::Succeeded`]; its files are [`output_files`] |
//! | `/result` `succeeded` or `completed` without `output`, with URLs in other fields | [`JobState::Succeeded`], those fields read as the output |
//! | `/result` `succeeded` or `completed` without `output` but with `error` | [`JobState::Failed`] |
//! | `/result` `succeeded` or `completed` with none of these | [`JobState::Unrecognised`] (re-polled, bounded; then a success without files) |
//! | `/result` `failed` (`error`: string or object, or absent) | [`JobState::Failed`] |
//! | any other status | [`JobState::Unrecognised`] (reported as an event, re-polled, bounded) |
//! | cancel: any 2xx, JSON or not (the documented example is not), or a 400/409/410/422 naming a known `outcome` | a [`CancelVerdict`] from its `outcome` and `status` words, never an error |
//! | a body with a top-level `error_code` (not `0`, `"ok"`, …) and no `status`, on any HTTP status (200 included); not a 2xx submit carrying a `request_id` | [`ApiError`](crate::ApiError) |
//! | `400004` or 401 · `400002` · `400001` · `403001` or 403 · `404001` or 404 · 429 · 5xx | [`ApiErrorKind`](crate::ApiErrorKind) |
//! | `detail`: a string, a list (FastAPI's `{"loc","msg"}` items included) or any JSON | [`ApiError::detail_lines`](crate::ApiError::detail_lines) |
//! | missing `*_url` fields | ignored: paths are always built from the request id |
//! | a number sent as a string (`"queue_position":"3"`, `"cost":"0.05"`, `"base_price_usd":"0.1"`), a whole number as a fraction (`3.0`), a submit's id as a number or padded | read as the number / the id |
//! | an optional field of an unexpected type (`"cost":"cheap"`) | ignored, the rest is read; only `request_id` (submit) and `status` (status, result) must fit |
//!
//! `docs/lifecycle.md` has the same table with the shapes of `output` that are accepted.

mod answer;
mod cancel;
mod catalogue;
mod output;

use std::fmt;
use std::time::Duration;

use happyhorse_types::{JobStatus, ResultResponse, StatusResponse, SubmitResponse};
use serde_json::Value;

use crate::RequestId;
use crate::error::{Error, JobFailure};

pub(crate) use answer::{Answer, Read, read, read_error};
pub use cancel::CancelVerdict;
pub(crate) use cancel::read_cancel;
pub use catalogue::{Catalogue, ModelEntry};
pub(crate) use catalogue::{read_catalogue, read_model};
pub use output::{OutputFile, output_files};

/// A job's state as the service reports it, in one vocabulary for both `/status` and `/result`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum JobState {
    /// Waiting for a worker; `position` is the number of jobs ahead (only `/status` says it).
    Queued {
        /// Jobs ahead of this one, when known.
        position: Option<u64>,
    },
    /// Running: it will finish and be billed.
    Running,
    /// `/status` says it finished, without saying how: ask `/result`.
    Finished,
    /// Finished with an output: the JSON under `output`, any shape (see [`output_files`]).
    Succeeded {
        /// The model's output, as sent.
        output: Value,
    },
    /// Finished with an error.
    Failed {
        /// The service's reason.
        failure: JobFailure,
    },
    /// Cancelled.
    Cancelled,
    /// A state this client does not recognise (an unknown status, or "succeeded" with no output:
    /// a job waits for the output a bounded while, then ends as a success without files).
    Unrecognised {
        /// The status as sent (shortened when long: it ends up in events and error messages),
        /// with a note when the status itself was known.
        status: String,
    },
}

impl JobState {
    /// Whether the job will not change any more (`Finished` is not: its outcome is still to be read).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Succeeded { .. } | Self::Failed { .. } | Self::Cancelled
        )
    }
}

impl fmt::Display for JobState {
    /// For people: `queued (position 3)`, `running`, `finished`, `succeeded`, `failed: …`,
    /// `cancelled`, or `unrecognised status "…"`. Service text in it is not made terminal-safe here.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Queued {
                position: Some(position),
            } => write!(f, "queued (position {position})"),
            Self::Queued { position: None } => f.write_str("queued"),
            Self::Running => f.write_str("running"),
            Self::Finished => f.write_str("finished (the result tells how)"),
            Self::Succeeded { .. } => f.write_str("succeeded"),
            Self::Failed { failure } => write!(f, "failed: {failure}"),
            Self::Cancelled => f.write_str("cancelled"),
            Self::Unrecognised { status } => write!(f, "unrecognised status {status:?}"),
        }
    }
}

/// The state a `/status` answer reports.
pub fn state_from_status(status: &StatusResponse) -> JobState {
    match &status.status {
        JobStatus::InQueue => JobState::Queued {
            position: status.queue_position,
        },
        JobStatus::InProgress => JobState::Running,
        JobStatus::Completed | JobStatus::Succeeded | JobStatus::Failed => JobState::Finished,
        JobStatus::Cancelled | JobStatus::Canceled => JobState::Cancelled,
        JobStatus::Unknown(other) => JobState::Unrecognised {
            status: crate::validate::shorten(other),
        },
    }
}

/// The state a `/result` answer reports.
pub fn state_from_result(result: &ResultResponse) -> JobState {
    match &result.status {
        JobStatus::InQueue => JobState::Queued { position: None },
        JobStatus::InProgress => JobState::Running,
        JobStatus::Succeeded | JobStatus::Completed => match (&result.output, &result.error) {
            (Some(output), _) if !output.is_null() => JobState::Succeeded {
                output: output.clone(),
            },
            (_, Some(error)) => JobState::Failed {
                failure: JobFailure {
                    error: Some(error.clone()),
                },
            },
            (_, None) => JobState::Unrecognised {
                status: format!("{} (without output)", result.status),
            },
        },
        JobStatus::Failed => JobState::Failed {
            failure: JobFailure {
                error: result.error.clone(),
            },
        },
        JobStatus::Cancelled | JobStatus::Canceled => JobState::Cancelled,
        JobStatus::Unknown(other) => JobState::Unrecognised {
            status: crate::validate::shorten(other),
        },
    }
}

/// The output of a result that says the job succeeded without sending one (`null` when absent):
/// `None` when the result does not say it succeeded. A job reads this way only once waiting
/// for its output is over (see [`JobState::Unrecognised`]).
pub(crate) fn succeeded_without_output(result: &ResultResponse) -> Option<Value> {
    answer::says_succeeded(Some(result.status.as_str()))
        .then(|| result.output.clone().unwrap_or(Value::Null))
}

/// A submit answer reduced to what matters: the new job's checked id.
pub fn request_id_from_submit(submit: &SubmitResponse) -> Result<RequestId, Error> {
    Ok(RequestId::new(submit.request_id.clone())?)
}

/// Reads a `Retry-After` value: delta-seconds, or an HTTP date measured against the answer's own
/// `Date` header (this crate reads no clock; without `Date`, a date is ignored).
///
/// ```
/// use std::time::Duration;
/// use happyhorse_core::vocabulary::parse_retry_after;
///
/// assert_eq!(parse_retry_after(" 7 ", None), Some(Duration::from_secs(7)));
/// assert_eq!(
///     parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", Some("Wed, 21 Oct 2015 07:28:00 GMT")),
///     Some(Duration::from_secs(30))
/// );
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", None), None);
/// assert_eq!(parse_retry_after("soon", None), None);
/// assert_eq!(parse_retry_after("+2", None), None);
/// ```
pub fn parse_retry_after(value: &str, date: Option<&str>) -> Option<Duration> {
    let value = value.trim();
    // RFC 9110: delay-seconds = 1*DIGIT (`parse` alone would also take a sign).
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More seconds than a u64 holds is "a very long time": the policy's cap applies.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let now = httpdate::parse_http_date(date?.trim()).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}
