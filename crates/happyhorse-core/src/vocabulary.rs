//! The one place that knows how the service words things.
//!
//! | Wire | Meaning here |
//! |---|---|
//! | `/status` `in_queue` (+ `queue_position`) | [`JobState::Queued`] |
//! | `/status` `in_progress` | [`JobState::Running`] |
//! | `/status` `completed`, `succeeded`, `failed` | [`JobState::Finished`]: the outcome is on `/result` |
//! | `/status` or `/result` `cancelled`, `canceled` | [`JobState::Cancelled`] |
//! | `/result` `in_queue` / `in_progress` | [`JobState::Queued`] (no position) / [`JobState::Running`] |
//! | `/result` `succeeded` or `completed` with `output` | [`JobState::Succeeded`] |
//! | `/result` `succeeded` or `completed` without `output` but with `error` | [`JobState::Failed`] |
//! | `/result` `succeeded` or `completed` with neither | [`JobState::Unrecognised`] (re-polled, bounded) |
//! | `/result` `failed` (`error`: string or object, or absent) | [`JobState::Failed`] |
//! | any other status | [`JobState::Unrecognised`] (re-polled, bounded) |
//! | a body with a top-level `error_code` and no `status`, on any HTTP status | [`ApiError`] |
//! | `400004` or 401 · `400002` · `400001` · `403001` or 403 · `404001` or 404 · 429 · 5xx | [`ApiErrorKind`] |
//! | missing `*_url` fields | ignored: paths are always built from the request id |
//! | an optional field of an unexpected type (`"cost":"0.05"`, `"queue_position":"3"`) | ignored, the rest is read; only `request_id` (submit), `status` (status, result), `output` (a result that says `succeeded` or `completed`) and `outcome` (cancel) must fit |

use std::time::Duration;

use happyhorse_types::{
    ErrorBody, JobStatus, ResultResponse, ServiceError, StatusResponse, SubmitResponse,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiErrorKind, Error, JobFailure, shorten_long};
use crate::{RequestId, RequestKind, Response};

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
    /// Finished with an output (the object under `output`).
    Succeeded {
        /// The model's output object.
        output: Map<String, Value>,
    },
    /// Finished with an error.
    Failed {
        /// The service's reason.
        failure: JobFailure,
    },
    /// Cancelled.
    Cancelled,
    /// A state this client does not recognise (an unknown status, or "succeeded" with no output).
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
            (Some(output), _) => JobState::Succeeded {
                output: output.clone(),
            },
            (None, Some(error)) => JobState::Failed {
                failure: JobFailure {
                    error: Some(error.clone()),
                },
            },
            (None, None) => JobState::Unrecognised {
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

/// A submit answer reduced to what matters: the new job's checked id.
pub fn request_id_from_submit(submit: &SubmitResponse) -> Result<RequestId, Error> {
    Ok(RequestId::new(submit.request_id.clone())?)
}

/// How an answer reads, before the caller decides what to do with it.
#[derive(Debug)]
pub(crate) enum Answer<T> {
    /// A 2xx with the expected body.
    Ok(T),
    /// A well-formed error from the service.
    Api(ApiError),
    /// A 2xx whose body could not be read (or a submit without a usable id).
    Garbled(Error),
}

/// Reads `response` as an error answer, whatever its HTTP status.
pub(crate) fn read_error(response: &Response) -> ApiError {
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    api_error(
        response.status,
        json.as_ref(),
        &response.body,
        retry_after(response),
    )
}

fn retry_after(response: &Response) -> Option<Duration> {
    response
        .retry_after
        .as_deref()
        .and_then(|value| parse_retry_after(value, response.date.as_deref()))
}

/// Reads `response` as the answer to a `kind` call expecting a `T`.
pub(crate) fn read<T: DeserializeOwned>(kind: RequestKind, response: &Response) -> Answer<T> {
    let retry_after = retry_after(response);
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    if !(200..300).contains(&response.status) {
        return Answer::Api(api_error(
            response.status,
            json.as_ref(),
            &response.body,
            retry_after,
        ));
    }
    let Some(json) = json else {
        return Answer::Garbled(Error::Protocol {
            request: kind,
            what: format!("the body is not JSON: {}", body_excerpt(&response.body)),
        });
    };
    // Some RunComfy APIs answer errors with HTTP 200 and a top-level `error_code`; a body with a
    // `status` is a state report (a failed job's result may carry error fields too).
    let has_error_code = json.get("error_code").is_some_and(|code| !code.is_null());
    if has_error_code && json.get("status").is_none() {
        return Answer::Api(api_error(
            response.status,
            Some(&json),
            &response.body,
            retry_after,
        ));
    }
    match read_leniently::<T>(kind, json) {
        Ok(value) => Answer::Ok(value),
        Err(error) => Answer::Garbled(Error::Protocol {
            request: kind,
            // serde's message quotes the offending value whole: shorten it with the rest.
            what: format!("the body does not match the API: {}", shorten_long(&error)),
        }),
    }
}

/// The fields whose value decides what an answer means. Any other field of an unexpected type
/// (a `"cost":"0.05"`, a numeric `error`) is dropped rather than making the answer unreadable:
/// a finished job's video must not be lost to a field this client does not need.
/// A result's `output` is essential only when its status says the job succeeded.
fn essential_fields(kind: RequestKind, json: &Value) -> &'static [&'static str] {
    match kind {
        RequestKind::Submit => &["request_id"],
        RequestKind::Status => &["status"],
        RequestKind::Result => match json.get("status").and_then(Value::as_str) {
            Some("succeeded" | "completed") => &["status", "output"],
            _ => &["status"],
        },
        RequestKind::Cancel => &["outcome"],
    }
}

/// Deserialises `json` as a `T`, dropping top-level fields that are not essential and do not fit.
/// The error names the field at fault, when there is one.
fn read_leniently<T: DeserializeOwned>(kind: RequestKind, mut json: Value) -> Result<T, String> {
    let describe = |error: serde_path_to_error::Error<serde_json::Error>| {
        let path = error.path().to_string();
        if path == "." {
            error.into_inner().to_string()
        } else {
            format!("`{path}`: {}", error.into_inner())
        }
    };
    loop {
        let error = match serde_path_to_error::deserialize::<_, T>(&json) {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let culprit = match error.path().iter().next() {
            Some(serde_path_to_error::Segment::Map { key }) => key.clone(),
            _ => return Err(describe(error)),
        };
        let essential = essential_fields(kind, &json).contains(&culprit.as_str());
        let dropped = match json.as_object_mut() {
            Some(object) if !essential => object.shift_remove(&culprit).is_some(),
            _ => false,
        };
        if !dropped {
            return Err(describe(error));
        }
    }
}

fn api_error(
    http_status: u16,
    json: Option<&Value>,
    raw: &[u8],
    retry_after: Option<Duration>,
) -> ApiError {
    // Field by field, not as one `ErrorBody`: a field of an unexpected type (a numeric
    // `error_message`, say) must not hide the others, least of all the code that classifies it.
    let body = ErrorBody {
        error_code: field(json, "error_code"),
        error_message: field(json, "error_message"),
        message: field(json, "message"),
        error: field(json, "error"),
        detail: field(json, "detail"),
    };
    let message = body
        .error_message
        .or(body.message)
        .or_else(|| {
            body.error.map(|e| match e {
                ServiceError::Message(text) => text,
                ServiceError::Object(object) => Value::Object(object).to_string(),
            })
        })
        .or_else(|| {
            if json.is_none() && !raw.is_empty() {
                Some(body_excerpt(raw))
            } else {
                None
            }
        })
        .map(|m| shorten_long(&m));
    ApiError {
        kind: ApiErrorKind::classify(http_status, body.error_code.as_ref()),
        http_status,
        code: body.error_code,
        message,
        detail: body.detail,
        retry_after,
    }
}

/// The top-level field `name`, if it is there, not null, and of the expected type.
fn field<T: DeserializeOwned>(json: Option<&Value>, name: &str) -> Option<T> {
    let value = json?.get(name)?;
    if value.is_null() {
        return None;
    }
    serde_json::from_value(value.clone()).ok()
}

fn body_excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty)".to_owned();
    }
    crate::validate::shorten(&String::from_utf8_lossy(body))
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
