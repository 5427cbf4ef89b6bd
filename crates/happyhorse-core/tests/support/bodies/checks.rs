//! The checks of `bodies.rs`'s answers: what reading one as each call must guarantee (the
//! wire-vocabulary table of `docs/lifecycle.md`), and that every message built from it stays
//! bounded.

use std::time::{Duration, Instant};

use happyhorse_core::vocabulary::{self, JobState};
use happyhorse_core::{
    ApiErrorKind, CancelStatus, CancelVerdict, Error, Event, Job, JobConfig, Outcome, RequestId,
    RequestKind, Response, oneshot,
};
use happyhorse_types::image_to_video::ImageToVideoOutput;
use happyhorse_types::{ErrorBody, ErrorCode};
use serde_json::{Map, Value};

use super::MODEL;

/// Errors and messages built from an answer stay readable whatever the answer held: long
/// values are shortened (`docs/architecture.md`: "Messages name the field, the rule and the
/// value, shortening long values"; `Error::Protocol`: "shortened; never a whole body").
pub(crate) const MAX_MESSAGE_CHARS: usize = 2_000;

pub(crate) fn check_message(what: &str, text: &str) {
    let chars = text.chars().count();
    assert!(
        chars <= MAX_MESSAGE_CHARS,
        "{what}: a {chars}-character message (long values must be shortened): {}…",
        text.chars().take(200).collect::<String>()
    );
}

/// An error's message and each of its sources' are bounded; `Debug` does not panic.
pub(crate) fn check_error(error: &Error) {
    check_message("error", &error.to_string());
    let _ = format!("{error:?}");
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        check_message("error source", &inner.to_string());
        source = inner.source();
    }
}

/// An outcome's message (and its error's) is bounded.
pub(crate) fn check_outcome_text(outcome: &Outcome) {
    check_message("outcome", &outcome.to_string());
    let _ = format!("{outcome:?}");
    match outcome {
        Outcome::Abandoned { error, .. } => check_error(error),
        Outcome::SubmitOutcomeUnknown(unknown) => check_error(&unknown.reason),
        Outcome::Failed { failure, .. } => check_message("failure", &failure.message()),
        _ => {}
    }
}

/// Whether `id` is usable as a request id: 1 to 128 of `A-Z a-z 0-9 _ -` (the rule RunComfy's
/// own clients apply; written out here independently of `RequestId`).
pub(crate) fn valid_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `Retry-After`: delta-seconds are read as such, surrounding whitespace does not matter, and a
/// date needs the answer's own `Date` (the engine reads no clock).
pub(crate) fn check_retry_after(value: &str, date: Option<&str>) -> Option<Duration> {
    let parsed = vocabulary::parse_retry_after(value, date);
    let trimmed = value.trim();
    // Delta-seconds are digits only (RFC 9110: no sign); a value past `u64::MAX` seconds is
    // "very long", left to the policy's cap.
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let seconds = trimmed.parse::<u64>().unwrap_or(u64::MAX);
        assert_eq!(
            parsed,
            Some(Duration::from_secs(seconds)),
            "Retry-After {value:?}"
        );
    } else if trimmed.starts_with(['+', '-']) {
        assert_eq!(parsed, None, "a signed Retry-After {value:?} was read");
    } else if date.is_none() {
        assert_eq!(parsed, None, "Retry-After {value:?} read without a Date");
    }
    assert_eq!(
        vocabulary::parse_retry_after(
            &format!(" {value}\t"),
            date.map(|d| format!("\t{d} ")).as_deref()
        ),
        parsed,
        "whitespace changed how Retry-After {value:?} (Date {date:?}) reads"
    );
    parsed
}

/// What a body says, read with `serde_json` alone (independently of the wire types).
struct Read {
    json: Option<Value>,
    /// A top-level `error_code` that says "error" (not null, `0`, `""`, `"0"`, `"ok"`, `"success"`
    /// or `false`) and no `status`: an error, whatever the HTTP status.
    error_shaped: bool,
    /// A `request_id` that can name a job (a non-blank string or a number): a submit answer
    /// that carries one is that job, whatever its `error_code` says.
    names_a_job: bool,
}

impl Read {
    fn new(body: &[u8]) -> Self {
        let json: Option<Value> = serde_json::from_slice(body).ok();
        let says_error = |code: &Value| match code {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64() != Some(0.0),
            Value::String(t) => {
                !["", "0", "ok", "success"].contains(&t.trim().to_ascii_lowercase().as_str())
            }
            _ => true,
        };
        let error_shaped = json.as_ref().is_some_and(|j| {
            j.get("error_code").is_some_and(says_error) && j.get("status").is_none()
        });
        let names_a_job = json
            .as_ref()
            .and_then(|j| j.get("request_id"))
            .is_some_and(|id| id.is_number() || id.as_str().is_some_and(|t| !t.trim().is_empty()));
        Self {
            json,
            error_shaped,
            names_a_job,
        }
    }

    /// Whether the body is an error as the answer to a `kind` call.
    fn error_for(&self, kind: RequestKind) -> bool {
        self.error_shaped && !(kind == RequestKind::Submit && self.names_a_job)
    }

    /// The submit's id as the text it stands for: trimmed, a number as its digits.
    fn sent_id(&self) -> Option<String> {
        match self.object()?.get("request_id")? {
            Value::String(text) => Some(text.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The `status` word as the client knows it (see [`canonical`]).
    fn status_word(&self) -> Option<&str> {
        self.str_field("status").map(canonical)
    }

    fn object(&self) -> Option<&Map<String, Value>> {
        self.json.as_ref().and_then(Value::as_object)
    }

    fn str_field(&self, name: &str) -> Option<&str> {
        self.object()?.get(name)?.as_str()
    }

    /// Each of `names` is absent, null or a value `fits` accepts.
    fn fields_fit(&self, names: &[&str], fits: impl Fn(&Value) -> bool) -> bool {
        self.object().is_some_and(|o| {
            names
                .iter()
                .all(|n| o.get(*n).is_none_or(|v| v.is_null() || fits(v)))
        })
    }
}

/// A status word in its documented spelling, whatever its case or spacing, and the synonyms
/// official clients accept (`docs/lifecycle.md`); any other word as sent.
fn canonical(word: &str) -> &str {
    let normal = word.trim().to_lowercase().replace([' ', '-'], "_");
    for (known, synonyms) in [
        (
            "in_queue",
            &["in_queue", "queued", "pending", "waiting", "submitted"][..],
        ),
        (
            "in_progress",
            &[
                "in_progress",
                "running",
                "processing",
                "starting",
                "started",
            ],
        ),
        ("completed", &["completed", "complete"]),
        ("succeeded", &["succeeded", "success", "successful"]),
        ("failed", &["failed", "failure"]),
        ("cancelled", &["cancelled"]),
        ("canceled", &["canceled"]),
    ] {
        if synonyms.contains(&normal.as_str()) {
            return known;
        }
    }
    word
}

/// Reading an answer as a `kind` call, whatever it holds: a non-2xx is always the service's
/// error, carrying that HTTP status, the `Retry-After` and a kind consistent with its code; a 2xx
/// that is not JSON is a protocol error for that call; a 2xx with a top-level `error_code` and no
/// `status` is an error too (RunComfy sends some errors with HTTP 200).
fn check_shape<T>(
    kind: RequestKind,
    response: &Response,
    read: &Read,
    retry_after: Option<Duration>,
    result: &Result<T, Error>,
) {
    let status = response.status;
    let success = (200..300).contains(&status);
    match result {
        Ok(_) => assert!(
            success && read.json.is_some() && !read.error_for(kind),
            "{kind}: HTTP {status} {response:?} read as a success"
        ),
        Err(Error::Api(api)) => {
            assert!(
                !success || read.error_for(kind),
                "{kind}: HTTP {status} {response:?} read as an API error: {api:?}"
            );
            assert_eq!(api.http_status, status);
            assert_eq!(api.retry_after, retry_after, "{kind}: Retry-After lost");
            assert_eq!(
                api.kind,
                ApiErrorKind::classify(status, api.code.as_ref()),
                "{kind}: {api:?}"
            );
            // The code (a number or text) and a message are kept whatever else the body holds.
            let sent_code = match read.object().and_then(|o| o.get("error_code")) {
                Some(Value::Number(n)) => n.as_i64().map(ErrorCode::Number),
                Some(Value::String(t)) => Some(ErrorCode::Text(t.clone())),
                _ => None,
            };
            if sent_code.is_some() {
                assert_eq!(api.code, sent_code, "{kind}: the error code was lost");
            }
            let has_message = read.str_field("error_message").is_some()
                || read.str_field("message").is_some()
                || read
                    .object()
                    .and_then(|o| o.get("error"))
                    .is_some_and(|e| e.is_string() || e.is_object());
            if has_message {
                assert!(
                    api.message.is_some(),
                    "{kind}: the message was lost: {api:?}"
                );
            }
        }
        Err(Error::Protocol { request, .. }) => {
            assert!(
                success && !read.error_for(kind),
                "{kind}: HTTP {status} {response:?} read as a protocol error"
            );
            assert_eq!(*request, kind);
        }
        Err(Error::InvalidRequestId(_)) => assert!(kind == RequestKind::Submit && success),
        Err(other) => panic!("{kind}: unexpected error {other:?} for {response:?}"),
    }
    if !success || read.error_for(kind) {
        assert!(
            matches!(result, Err(Error::Api(_))),
            "{kind}: HTTP {status} {response:?} not read as the service's error"
        );
    } else if read.json.is_none() {
        assert!(
            matches!(result, Err(Error::Protocol { .. })),
            "{kind}: a 2xx that is not JSON was not a protocol error"
        );
    }
    if let Err(error) = result {
        check_error(error);
    }
}

/// Whether an unrecognised status as reported shows the one sent: the same, or shortened.
fn shows(reported: &str, sent: &str) -> bool {
    let prefix: String = sent.chars().take(60).collect();
    reported == sent || (sent.chars().count() > 60 && reported.starts_with(&prefix))
}

fn failure_as_sent(failure: &happyhorse_core::JobFailure) -> Value {
    failure
        .error
        .as_ref()
        .map_or(Value::Null, |e| serde_json::to_value(e).unwrap())
}

/// What core makes of a `queue_position`: a whole number (`3`, `3.0`, `-0.0`), or a string
/// holding one (`"3"`, `" 3.0 "`, `"-0"`); anything negative, fractional, huge or else is dropped.
fn queue_position(value: &Value) -> Option<u64> {
    let whole = |v: f64| {
        (v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15)
            .then_some(v as i64)
            .and_then(|i| u64::try_from(i).ok())
    };
    match value {
        Value::Number(n) if n.is_f64() => n.as_f64().and_then(whole),
        Value::Number(n) => n.as_u64(),
        Value::String(text) => {
            let text = text.trim();
            if let Ok(n) = text.parse::<u64>() {
                return Some(n);
            }
            if let Ok(n) = text.parse::<i64>() {
                return u64::try_from(n).ok();
            }
            text.parse::<f64>().ok().and_then(whole)
        }
        _ => None,
    }
}

/// The `/status` row of the vocabulary table.
fn check_status_state(state: &JobState, read: &Read) {
    let sent = read.status_word().expect("a status");
    let position = read
        .object()
        .and_then(|o| o.get("queue_position"))
        .and_then(queue_position);
    let ok = match (sent, state) {
        ("in_queue", JobState::Queued { position: p }) => *p == position,
        ("in_progress", JobState::Running) => true,
        ("completed" | "succeeded" | "failed", JobState::Finished) => true,
        ("cancelled" | "canceled", JobState::Cancelled) => true,
        (
            "in_queue" | "in_progress" | "completed" | "succeeded" | "failed" | "cancelled"
            | "canceled",
            _,
        ) => false,
        (other, JobState::Unrecognised { status }) => shows(status, other),
        _ => false,
    };
    assert!(ok, "/status {sent:?} read as {state:?}");
    assert!(!state.is_terminal() || matches!(state, JobState::Cancelled));
}

/// The `/result` rows of the vocabulary table.
fn check_result_state(state: &JobState, read: &Read) {
    let object = read.object().expect("an object");
    let sent = read.status_word().expect("a status");
    // Any JSON but null; without one, a succeeded result's other fields when they hold a URL.
    let envelope = [
        "request_id",
        "status",
        "status_url",
        "result_url",
        "cancel_url",
        "created_at",
        "finished_at",
        "cost",
        "error",
        "output",
    ];
    let lifted = || {
        let rest: Map<String, Value> = object
            .iter()
            .filter(|(k, _)| !envelope.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let rest = Value::Object(rest);
        let succeeded = matches!(sent, "succeeded" | "completed");
        (succeeded && !vocabulary::output_files(&rest).is_empty()).then_some(rest)
    };
    let output = object
        .get("output")
        .filter(|o| !o.is_null())
        .cloned()
        .or_else(lifted);
    let output = output.as_ref();
    // An `error` of another type is dropped as if absent.
    let error = object
        .get("error")
        .filter(|e| e.is_string() || e.is_object());
    let ok = match (sent, state) {
        ("in_queue", JobState::Queued { position }) => position.is_none(),
        ("in_progress", JobState::Running) => true,
        // Without output or error: waited for by a job, a success without files on one look.
        ("succeeded" | "completed", JobState::Succeeded { output: got }) => {
            Some(got) == output || (output.is_none() && error.is_none() && got.is_null())
        }
        ("succeeded" | "completed", JobState::Failed { failure }) => {
            output.is_none() && Some(&failure_as_sent(failure)) == error
        }
        ("succeeded" | "completed", JobState::Unrecognised { status }) => {
            output.is_none() && error.is_none() && status.starts_with(sent)
        }
        ("failed", JobState::Failed { failure }) => {
            failure_as_sent(failure) == error.cloned().unwrap_or(Value::Null)
        }
        ("cancelled" | "canceled", JobState::Cancelled) => true,
        (
            "in_queue" | "in_progress" | "completed" | "succeeded" | "failed" | "cancelled"
            | "canceled",
            _,
        ) => false,
        (other, JobState::Unrecognised { status }) => shows(status, other),
        _ => false,
    };
    assert!(ok, "/result {sent:?} read as {state:?}");
    if let JobState::Failed { failure } = state {
        check_message("failure", &failure.to_string());
    }
}

/// Reads `response` as the answer to each of the four calls, with the one-shot readers and
/// through a job, and checks everything the vocabulary table promises.
pub(crate) fn check_response(response: &Response) {
    let retry_after = response
        .retry_after
        .as_deref()
        .and_then(|value| check_retry_after(value, response.date.as_deref()));
    let read = Read::new(&response.body);
    let success = (200..300).contains(&response.status);
    let plain = success && read.object().is_some() && !read.error_shaped;
    let plain_submit = success && read.object().is_some() && !read.error_for(RequestKind::Submit);

    // The other raw readers the clients use: an error body on its own (the catalogue calls).
    let _ = serde_json::from_slice::<ErrorBody>(&response.body);

    // Submit: success only with a usable id; unknown fields never stand in the way.
    let submit = oneshot::read_submit(response);
    check_shape(RequestKind::Submit, response, &read, retry_after, &submit);
    let sent_id = read.sent_id();
    let sent_id = sent_id.as_deref();
    if let Ok((id, answer)) = &submit {
        assert!(valid_request_id(id.as_str()), "unusable id {id:?} accepted");
        assert_eq!(id.as_str(), answer.request_id);
        assert_eq!(Some(id.as_str()), sent_id);
    }
    // Only the essential fields must fit; any other of an unexpected type is dropped.
    if plain_submit && sent_id.is_some_and(valid_request_id) {
        assert!(submit.is_ok(), "a usable submit answer refused: {submit:?}");
    }
    if sent_id.is_some_and(|id| !valid_request_id(id)) {
        assert!(submit.is_err(), "an unusable request id accepted");
    }

    // Status.
    let status = oneshot::read_status(response);
    check_shape(RequestKind::Status, response, &read, retry_after, &status);
    if let Ok(report) = &status {
        assert_eq!(Some(report.answer.status.as_str()), read.status_word());
        assert_eq!(report.state, vocabulary::state_from_status(&report.answer));
        check_status_state(&report.state, &read);
    }
    if plain && read.str_field("status").is_some() {
        assert!(
            status.is_ok(),
            "a readable /status answer refused: {status:?}"
        );
    }

    // Result.
    let result = oneshot::read_result(response);
    check_shape(RequestKind::Result, response, &read, retry_after, &result);
    if let Ok(report) = &result {
        assert_eq!(Some(report.answer.status.as_str()), read.status_word());
        let state = vocabulary::state_from_result(&report.answer);
        match (&report.state, state) {
            // One look at a success without output: a success without files.
            (JobState::Succeeded { output }, JobState::Unrecognised { .. }) => {
                assert!(output.is_null());
                assert!(matches!(
                    read.status_word(),
                    Some("succeeded" | "completed")
                ));
            }
            (got, state) => assert_eq!(got, &state),
        }
        check_result_state(&report.state, &read);
        if let JobState::Succeeded { output } = &report.state {
            assert_eq!(report.files, vocabulary::output_files(output));
            // What the HTTP client does with it: a view as the model's output type, if it fits.
            let _ = serde_json::from_value::<ImageToVideoOutput>(output.clone());
        } else {
            assert!(report.files.is_empty());
        }
    }
    // `output` is any JSON: only the status must fit.
    if plain && read.str_field("status").is_some() {
        assert!(
            result.is_ok(),
            "a readable /result answer refused: {result:?}"
        );
    }

    // Cancel: any 2xx that is not an error is a verdict, JSON or not; so is a refusal (400, 409,
    // 410, 422) that names a known outcome.
    let cancel = oneshot::read_cancel(response);
    let refused = matches!(response.status, 400 | 409 | 410 | 422);
    let known_outcome = read
        .str_field("outcome")
        .is_some_and(|o| cancel_verdict(Some(o), None) != CancelVerdict::Unconfirmed);
    let expected = cancel_verdict(read.str_field("outcome"), read.str_field("status"));
    if success && !read.error_shaped {
        let verdict = cancel
            .as_ref()
            .expect("an accepted cancel read as an error");
        if read.json.is_some() {
            assert_eq!(*verdict, expected, "{response:?}");
        }
    } else if refused && known_outcome {
        assert_eq!(cancel.as_ref().ok(), Some(&expected), "{response:?}");
    } else if refused && read.json.is_none() && cancel.is_ok() {
        // Words picked out of a refusal that is not JSON: nothing more to model.
    } else {
        check_shape(RequestKind::Cancel, response, &read, retry_after, &cancel);
    }

    check_through_job(response, &submit, &status, &result, &cancel);
}

/// The verdict the words of a JSON cancel answer amount to (`docs/lifecycle.md`, cancel).
fn cancel_verdict(outcome: Option<&str>, status: Option<&str>) -> CancelVerdict {
    let outcome = outcome.map(|w| w.trim().to_ascii_lowercase().replace([' ', '-'], "_"));
    if matches!(outcome.as_deref(), Some("cancelled" | "canceled")) {
        return CancelVerdict::Cancelled;
    }
    let refused = matches!(
        outcome.as_deref(),
        Some("not_cancellable" | "not_cancelable" | "not_cancelled" | "not_canceled")
    );
    match status.map(canonical) {
        Some("cancelled" | "canceled") => CancelVerdict::Cancelled,
        Some("in_progress") => CancelVerdict::TooLate,
        Some("completed" | "succeeded" | "failed") => CancelVerdict::AlreadyFinished,
        Some("in_queue") if refused => CancelVerdict::Refused,
        _ if refused => CancelVerdict::NotCancellable,
        _ => CancelVerdict::Unconfirmed,
    }
}

fn events(job: &mut Job) -> Vec<Event> {
    std::iter::from_fn(|| job.poll_event()).collect()
}

fn retrying(events: &[Event], kind: RequestKind) -> bool {
    events
        .iter()
        .any(|e| matches!(e, Event::Retrying { request, .. } if *request == kind))
}

/// A job reads each answer the way the one-shot reader does, and acts as the lifecycle table
/// says: a submit succeeds only with a usable id, a 5xx or garbled answer leaves its outcome
/// unknown, a 429 is sent again, any other error is a rejection; polls end the job only on an
/// end state or an error that retrying cannot fix.
fn check_through_job(
    response: &Response,
    submit: &Result<(RequestId, happyhorse_types::SubmitResponse), Error>,
    status: &Result<oneshot::StatusReport, Error>,
    result: &Result<oneshot::ResultReport, Error>,
    cancel: &Result<CancelVerdict, Error>,
) {
    let start = Instant::now();
    let config = || JobConfig::default().with_seed(1);
    let id = RequestId::new("req_fuzz").unwrap();

    // As the answer to a submit.
    let mut job = Job::submit(MODEL, b"{}".to_vec(), config(), start);
    let transmit = job.poll_transmit(start).unwrap();
    job.handle_response(transmit.id, response.clone(), start);
    match (submit, job.outcome()) {
        // A 429 created nothing: the submit is sent again later.
        (Err(Error::Api(api)), None) if api.kind == ApiErrorKind::RateLimited => {
            assert_eq!(job.request_id(), None);
            assert!(retrying(&events(&mut job), RequestKind::Submit));
        }
        (Ok((id, _)), None) => {
            assert_eq!(job.request_id(), Some(id));
            assert_eq!(
                events(&mut job),
                vec![Event::Submitted {
                    request_id: id.clone()
                }]
            );
        }
        (Err(Error::Api(api)), Some(Outcome::Rejected { error })) => {
            assert_ne!(api.kind, ApiErrorKind::ServerError, "a 5xx submit rejected");
            assert_eq!(api, error);
        }
        (Err(Error::Api(api)), Some(Outcome::SubmitOutcomeUnknown(unknown))) => {
            assert_eq!(api.kind, ApiErrorKind::ServerError);
            assert_eq!(unknown.reason, Error::Api(api.clone()));
        }
        (
            Err(error @ (Error::Protocol { .. } | Error::InvalidRequestId(_))),
            Some(Outcome::SubmitOutcomeUnknown(unknown)),
        ) => assert_eq!(&unknown.reason, error),
        (read, outcome) => {
            panic!("submit answer {response:?} read as {read:?} but the job ended {outcome:?}")
        }
    }
    if let Some(outcome) = job.outcome() {
        assert!(outcome.request_id().is_none());
        check_outcome_text(outcome);
    }

    // As the answer to a poll of `/status` (a job just submitted polls it first).
    let mut job = Job::submit(MODEL, b"{}".to_vec(), config(), start);
    let transmit = job.poll_transmit(start).unwrap();
    job.handle_response(
        transmit.id,
        Response::new(200, r#"{"request_id":"req_fuzz"}"#),
        start,
    );
    let now = job.poll_timeout().unwrap();
    job.handle_timeout(now);
    let transmit = job.poll_transmit(now).unwrap();
    assert_eq!(transmit.kind, RequestKind::Status);
    let _ = events(&mut job);
    job.handle_response(transmit.id, response.clone(), now);
    let seen = events(&mut job);
    check_poll(
        &mut job,
        now,
        &id,
        RequestKind::Status,
        status.as_ref().map(|report| report.state.clone()),
        &seen,
    );

    // As the answer to a poll of `/result` (a resumed job reads it first).
    let mut job = Job::resume(id.clone(), config(), start);
    let transmit = job.poll_transmit(start).unwrap();
    assert_eq!(transmit.kind, RequestKind::Result);
    job.handle_response(transmit.id, response.clone(), start);
    let seen = events(&mut job);
    check_poll(
        &mut job,
        start,
        &id,
        RequestKind::Result,
        // A job waits for a missing output (the one-look reading is a success without files).
        result
            .as_ref()
            .map(|report| vocabulary::state_from_result(&report.answer)),
        &seen,
    );
    if let (Ok(report), Some(Outcome::Succeeded { output, result, .. })) = (result, job.outcome()) {
        assert_eq!(report.answer.output.as_ref(), Some(output));
        assert_eq!(&report.answer, &**result);
    }

    // As the answer to a cancel.
    let mut job = Job::resume(id.clone(), config(), start);
    job.cancel(start);
    let transmit = job.poll_transmit(start).unwrap();
    assert_eq!(transmit.kind, RequestKind::Cancel);
    let _ = events(&mut job);
    job.handle_response(transmit.id, response.clone(), start);
    let seen = events(&mut job);
    let verdict = job.cancel_status().cloned();
    match cancel {
        Ok(CancelVerdict::Cancelled) => {
            assert_eq!(verdict, Some(CancelStatus::Cancelled));
            assert_eq!(
                job.outcome(),
                Some(&Outcome::Cancelled {
                    request_id: Some(id.clone())
                })
            );
        }
        Ok(CancelVerdict::TooLate) => {
            assert_eq!(verdict, Some(CancelStatus::TooLate));
            assert!(!job.is_terminal());
        }
        Ok(CancelVerdict::Refused) => {
            assert_eq!(verdict, Some(CancelStatus::Refused));
            assert!(!job.is_terminal());
        }
        Ok(CancelVerdict::AlreadyFinished) => {
            assert_eq!(verdict, Some(CancelStatus::AlreadyFinished));
            let next = job.poll_transmit(start).expect("the result, read at once");
            assert_eq!(next.kind, RequestKind::Result);
        }
        Ok(other) => {
            // Not told enough: the next poll, sent at once, decides.
            assert!(
                matches!(
                    other,
                    CancelVerdict::NotCancellable | CancelVerdict::Unconfirmed
                ),
                "{other:?}"
            );
            assert_eq!(verdict, Some(CancelStatus::Requested));
            let next = job.poll_transmit(start).expect("a poll, at once");
            assert_eq!(next.kind, RequestKind::Result);
        }
        Err(error) if error.is_retryable() => {
            assert_eq!(verdict, Some(CancelStatus::Requested));
            assert!(retrying(&seen, RequestKind::Cancel), "{seen:?}");
            assert!(!job.is_terminal());
        }
        Err(error) => {
            assert_eq!(verdict, Some(CancelStatus::Failed(error.clone())));
            assert!(!job.is_terminal(), "a failed cancel ended the job");
        }
    }
}

/// The job after one poll answered: ended exactly when the answer says so.
fn check_poll(
    job: &mut Job,
    now: Instant,
    id: &RequestId,
    kind: RequestKind,
    read: Result<JobState, &Error>,
    seen: &[Event],
) {
    let expected_end = match &read {
        Ok(JobState::Succeeded { output }) => Some(matches!(
            job.outcome(),
            Some(Outcome::Succeeded { output: o, request_id, .. }) if o == output && request_id == id
        )),
        Ok(JobState::Failed { failure }) => Some(matches!(
            job.outcome(),
            Some(Outcome::Failed { failure: f, request_id }) if f == failure && request_id == id
        )),
        Ok(JobState::Cancelled) => Some(
            job.outcome()
                == Some(&Outcome::Cancelled {
                    request_id: Some(id.clone()),
                }),
        ),
        Ok(_) => None,
        Err(error) if error.is_retryable() => {
            assert!(
                retrying(seen, kind),
                "{kind}: no retry after {error}: {seen:?}"
            );
            None
        }
        Err(error) => Some(
            job.outcome()
                == Some(&Outcome::Abandoned {
                    request_id: Some(id.clone()),
                    error: (*error).clone(),
                }),
        ),
    };
    match expected_end {
        Some(matches) => assert!(matches, "{kind}: read {read:?}, ended {:?}", job.outcome()),
        None => assert!(
            !job.is_terminal(),
            "{kind}: read {read:?}, ended {:?}",
            job.outcome()
        ),
    }
    if let Some(outcome) = job.outcome() {
        assert_eq!(outcome.request_id(), Some(id));
        check_outcome_text(outcome);
        return;
    }
    if let Ok(JobState::Finished) = read {
        let next = job.poll_transmit(now).expect("the result, read at once");
        assert_eq!(next.kind, RequestKind::Result);
    }
    for event in seen {
        if let Event::Unrecognised { status } = event {
            check_message("unrecognised status", status);
        }
    }
}
