//! Reading one HTTP answer: an error (on any HTTP status, 200 included) or the expected body,
//! read liberally — the one place that decides what an answer says before anyone acts on it.

use std::time::Duration;

use happyhorse_types::{ErrorBody, ServiceError};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::output::has_url;
use crate::error::{ApiError, ApiErrorKind, Error, shorten_long};
use crate::{RequestKind, Response};

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

impl<T> Answer<T> {
    /// The same answer with its body turned into something else.
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Answer<U> {
        match self {
            Self::Ok(value) => Answer::Ok(f(value)),
            Self::Api(error) => Answer::Api(error),
            Self::Garbled(error) => Answer::Garbled(error),
        }
    }

    /// The answer as a `Result`, for callers that do not retry.
    pub(crate) fn into_result(self) -> Result<T, Error> {
        match self {
            Self::Ok(value) => Ok(value),
            Self::Api(error) => Err(Error::Api(error)),
            Self::Garbled(error) => Err(error),
        }
    }
}

/// An answer and the `Retry-After` it carried: the header is parsed here, once, for every caller.
#[derive(Debug)]
pub(crate) struct Read<T> {
    pub(crate) answer: Answer<T>,
    pub(crate) retry_after: Option<Duration>,
}

/// Reads `response` as an error answer, whatever its HTTP status.
pub(crate) fn read_error(kind: RequestKind, response: &Response) -> ApiError {
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    api_error(
        kind,
        response.status,
        json.as_ref(),
        &response.body,
        retry_after_of(response),
    )
}

pub(crate) fn retry_after_of(response: &Response) -> Option<Duration> {
    response
        .retry_after
        .as_deref()
        .and_then(|value| super::parse_retry_after(value, response.date.as_deref()))
}

/// The JSON of a 2xx answer, or what it says instead: an error sent with HTTP 200 (or any
/// non-2xx status), or a body that is not JSON. `Err` carries the finished [`Answer`].
pub(crate) fn json_body<T>(
    kind: RequestKind,
    response: &Response,
    retry_after: Option<Duration>,
) -> Result<Value, Answer<T>> {
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    if !(200..300).contains(&response.status) {
        return Err(Answer::Api(api_error(
            kind,
            response.status,
            json.as_ref(),
            &response.body,
            retry_after,
        )));
    }
    let Some(json) = json else {
        return Err(Answer::Garbled(Error::Protocol {
            request: kind,
            what: format!("the body is not JSON: {}", body_excerpt(&response.body)),
        }));
    };
    // Some RunComfy APIs answer errors with HTTP 200 and a top-level `error_code`; a body with a
    // `status` is a state report (a failed job's result may carry error fields too). A code that
    // says "no error" (`0`, `"0"`, `"ok"`) is not an error, and a submit answer that carries a
    // request id created that job: calling it refused would invite paying for it twice.
    let has_error_code = json.get("error_code").is_some_and(is_error_code);
    let names_a_job = kind == RequestKind::Submit && json.get("request_id").is_some_and(is_an_id);
    if has_error_code && json.get("status").is_none() && !names_a_job {
        return Err(Answer::Api(api_error(
            kind,
            response.status,
            Some(&json),
            &response.body,
            retry_after,
        )));
    }
    Ok(json)
}

/// Whether an `error_code` value says something went wrong (not `null`, `0`, `""`, `"0"`, `"ok"`,
/// `"success"` or `false`).
fn is_error_code(code: &Value) -> bool {
    match code {
        Value::Null => false,
        Value::Bool(is_error) => *is_error,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(text) => {
            let text = text.trim();
            !(text.is_empty()
                || text == "0"
                || text.eq_ignore_ascii_case("ok")
                || text.eq_ignore_ascii_case("success"))
        }
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Whether a `request_id` value can name a job: a non-blank string, or a number.
fn is_an_id(id: &Value) -> bool {
    match id {
        Value::String(text) => !text.trim().is_empty(),
        Value::Number(_) => true,
        _ => false,
    }
}

/// A submit's `request_id` as the text it stands for: trimmed, and a number as its digits (the
/// id is the only handle on a job that may already be billed; it is not lost to its spelling).
fn tidy_request_id(json: &mut Value) {
    if let Some(id) = json.get_mut("request_id") {
        let tidy = match id {
            Value::String(text) if text.trim() != text => text.trim().to_owned(),
            Value::Number(number) => number.to_string(),
            _ => return,
        };
        *id = Value::String(tidy);
    }
}

/// Reads `response` as the answer to a `kind` call expecting a `T`.
pub(crate) fn read<T: DeserializeOwned>(kind: RequestKind, response: &Response) -> Read<T> {
    let retry_after = retry_after_of(response);
    let answer = match json_body(kind, response, retry_after) {
        Err(answer) => answer,
        Ok(json) => match read_leniently::<T>(kind, json) {
            Ok(value) => Answer::Ok(value),
            Err(error) => Answer::Garbled(Error::Protocol {
                request: kind,
                // serde's message quotes the offending value whole: shorten it with the rest.
                what: format!("the body does not match the API: {}", shorten_long(&error)),
            }),
        },
    };
    Read {
        answer,
        retry_after,
    }
}

/// Whether `status` is a word for "finished successfully" on `/result`.
pub(crate) fn says_succeeded(status: Option<&str>) -> bool {
    matches!(
        status.map(canonical_status),
        Some("succeeded" | "completed")
    )
}

/// A status word as this client knows it: the documented spelling of any plausible variant —
/// other case or spacing (`SUCCEEDED`, ` Completed `, `in-progress`) and the words official
/// clients also accept (`pending`, `waiting`, `starting`, `processing`, …). A word it does not
/// know comes back as sent (and is reported as unrecognised).
///
/// A paid job must not be given up on because the service capitalised a word: each of these was
/// read as an unknown status, and a job reported as `processing` for a minute was abandoned.
pub(crate) fn canonical_status(word: &str) -> &str {
    let normal: String = word
        .trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    match normal.as_str() {
        "in_queue" | "queued" | "pending" | "waiting" | "submitted" => "in_queue",
        "in_progress" | "running" | "processing" | "starting" | "started" => "in_progress",
        "completed" | "complete" => "completed",
        "succeeded" | "success" | "successful" => "succeeded",
        "failed" | "failure" => "failed",
        "cancelled" => "cancelled",
        "canceled" => "canceled",
        _ => word,
    }
}

/// Rewrites a `status` string field to its [`canonical_status`] before it is read.
fn canonicalise_status(json: &mut Value) {
    if let Some(status) = json.get_mut("status")
        && let Some(word) = status.as_str()
    {
        let canonical = canonical_status(word);
        if canonical != word {
            *status = Value::String(canonical.to_owned());
        }
    }
}

/// The fields whose value decides what an answer means. Any other field of an unexpected type
/// (a `"cost":"cheap"`, a numeric `error`) is dropped rather than making the answer unreadable:
/// a finished job's video must not be lost to a field this client does not need.
fn essential_fields(kind: RequestKind) -> &'static [&'static str] {
    match kind {
        RequestKind::Submit => &["request_id"],
        RequestKind::Status | RequestKind::Result => &["status"],
        RequestKind::Cancel | RequestKind::Catalogue => &[],
    }
}

/// The fields of a result that say what the job is, not what it made: what is left of a
/// succeeded result without `output` is searched for the files instead.
const RESULT_ENVELOPE: [&str; 9] = [
    "request_id",
    "status",
    "status_url",
    "result_url",
    "cancel_url",
    "created_at",
    "finished_at",
    "cost",
    "error",
];

/// Deserialises `json` as a `T`. A top-level field that does not fit and is not essential is
/// read as a number when it is a numeric string (`"queue_position":"3"`), else dropped.
/// The error names the field at fault, when there is one.
fn read_leniently<T: DeserializeOwned>(kind: RequestKind, mut json: Value) -> Result<T, String> {
    if matches!(kind, RequestKind::Status | RequestKind::Result) {
        canonicalise_status(&mut json);
    }
    if kind == RequestKind::Submit {
        tidy_request_id(&mut json);
    }
    if kind == RequestKind::Result {
        lift_output(&mut json);
    }
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
        let essential = essential_fields(kind).contains(&culprit.as_str());
        let mended = match json.as_object_mut() {
            Some(object) if !essential => mend(object, &culprit),
            _ => false,
        };
        if !mended {
            return Err(describe(error));
        }
    }
}

/// Makes the field `name` fit: a numeric string becomes its number, a whole number written as a
/// fraction (`3.0`, `"1e3"`) becomes an integer, anything else is dropped. Returns whether
/// anything changed (each step strictly simplifies the value, so mending ends).
fn mend(object: &mut Map<String, Value>, name: &str) -> bool {
    let Some(value) = object.get_mut(name) else {
        return false;
    };
    if let Some(number) = value.as_str().and_then(lenient_number) {
        *value = Value::Number(number);
        return true;
    }
    if let Some(whole) = value.as_number().and_then(whole_number) {
        *value = Value::Number(whole);
        return true;
    }
    object.shift_remove(name).is_some()
}

/// A fraction with nothing after the point (`3.0`) as the integer it is; `None` for anything
/// else, an integer included.
fn whole_number(number: &serde_json::Number) -> Option<serde_json::Number> {
    if !number.is_f64() {
        return None;
    }
    let value = number.as_f64()?;
    let whole = value.fract() == 0.0 && value.abs() < 9.0e15;
    if !whole {
        return None;
    }
    // Exact: |value| < 2^53, so the conversion loses nothing.
    let integer = value as i64;
    Some(match u64::try_from(integer) {
        Ok(unsigned) => unsigned.into(),
        Err(_) => integer.into(),
    })
}

/// A number sent as a string: `"3"`, `" 0.05 "`, `"-1"`. `None` for anything else.
pub(crate) fn lenient_number(text: &str) -> Option<serde_json::Number> {
    let text = text.trim();
    if let Ok(n) = text.parse::<u64>() {
        return Some(n.into());
    }
    if let Ok(n) = text.parse::<i64>() {
        return Some(n.into());
    }
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
}

/// A succeeded result without `output` whose other fields hold URLs (say `"videos": […]` at the
/// top level) is read as if those fields were the output: a paid job's files are not dropped
/// because they sit one level higher than documented.
fn lift_output(json: &mut Value) {
    let Some(object) = json.as_object_mut() else {
        return;
    };
    if !says_succeeded(object.get("status").and_then(Value::as_str))
        || object.get("output").is_some_and(|o| !o.is_null())
    {
        return;
    }
    let rest: Map<String, Value> = object
        .iter()
        .filter(|(key, _)| !RESULT_ENVELOPE.contains(&key.as_str()) && key.as_str() != "output")
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let rest = Value::Object(rest);
    if has_url(&rest) {
        object.insert("output".to_owned(), rest);
    }
}

fn api_error(
    kind: RequestKind,
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
        request: Some(kind),
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

pub(crate) fn body_excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty)".to_owned();
    }
    crate::validate::shorten(&String::from_utf8_lossy(body))
}
