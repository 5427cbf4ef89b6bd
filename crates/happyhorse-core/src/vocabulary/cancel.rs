//! The answer to a cancel, read for its verdict — by the job and by a one-shot cancel alike.
//!
//! Documented: HTTP 202 with `{"request_id", "status", "outcome": "cancelled" | "not_cancellable"}`;
//! the documentation's own example is not valid JSON (a comma is missing). A 2xx means the service
//! accepted the request, so a 2xx is never an error here: its `outcome` and `status` words are read
//! from the JSON, or picked out of the text when it is not JSON, and what they do not say is
//! reported as unconfirmed.

use std::fmt;

use happyhorse_types::JobStatus;
use serde_json::Value;

use super::answer::{Answer, Read, canonical_status, json_body};
use crate::{RequestKind, Response};

/// What a cancel request achieved, as far as the service said. Shared by
/// [`Job::cancel`](crate::Job::cancel) (through [`CancelStatus`](crate::CancelStatus)) and a
/// one-shot cancel ([`oneshot::Call::cancel`](crate::oneshot::Call::cancel)), so the two never
/// disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CancelVerdict {
    /// The job is cancelled; nothing will be billed.
    Cancelled,
    /// The job is already running: it cannot be cancelled, will finish, and will be billed.
    TooLate,
    /// The job had already finished; cancelling did nothing.
    AlreadyFinished,
    /// No job exists (the submit was never sent, or was refused): nothing to cancel, nothing billed.
    NothingToCancel,
    /// The service refused to cancel a job it reports as still queued.
    Refused,
    /// The service said the job cannot be cancelled (`not_cancellable`) without saying its state:
    /// most likely it is running (and will be billed) or finished.
    NotCancellable,
    /// The service accepted the request (HTTP 2xx) without a readable verdict: the job may or may
    /// not be cancelled. Its status tells.
    Unconfirmed,
}

impl CancelVerdict {
    /// A sentence for people.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Cancelled => "cancelled; nothing will be billed",
            Self::TooLate => {
                "not cancelled: the job is already running and will be billed when it finishes"
            }
            Self::AlreadyFinished => "the job had already finished; nothing to cancel",
            Self::NothingToCancel => "no job was created, so there was nothing to cancel",
            Self::Refused => "not cancelled: the service refused to cancel the queued job",
            Self::NotCancellable => {
                "not cancelled: the service says the job cannot be cancelled (it is probably running, \
                 and will be billed, or finished); its status tells which"
            }
            Self::Unconfirmed => {
                "the service accepted the cancel without saying whether the job was cancelled; \
                 its status tells"
            }
        }
    }

    /// A stable name for machines (`--json`, logs): `cancelled`, `too_late`, `already_finished`,
    /// `nothing_to_cancel`, `refused`, `not_cancellable`, `unconfirmed`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cancelled => "cancelled",
            Self::TooLate => "too_late",
            Self::AlreadyFinished => "already_finished",
            Self::NothingToCancel => "nothing_to_cancel",
            Self::Refused => "refused",
            Self::NotCancellable => "not_cancellable",
            Self::Unconfirmed => "unconfirmed",
        }
    }
}

impl fmt::Display for CancelVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Reads a cancel answer: a verdict for any 2xx, an error otherwise (or for an error sent with
/// HTTP 200).
pub(crate) fn read_cancel(response: &Response) -> Read<CancelVerdict> {
    let retry_after = super::answer::retry_after_of(response);
    let answer = match json_body::<CancelVerdict>(RequestKind::Cancel, response, retry_after) {
        Ok(json) => Answer::Ok(verdict(word(&json, "outcome"), word(&json, "status"))),
        // Accepted, but not JSON (the documented example itself): pick the words out of the text.
        Err(Answer::Garbled(_)) => {
            let text = String::from_utf8_lossy(&response.body);
            Answer::Ok(verdict(
                scan_word(&text, "outcome"),
                scan_word(&text, "status"),
            ))
        }
        // Refused with a verdict (a 409 `not_cancellable`, say): the service said what became
        // of the job, and that is the answer — not "check the input".
        Err(Answer::Api(error)) => match refusal_verdict(response) {
            Some(verdict) => Answer::Ok(verdict),
            None => Answer::Api(error),
        },
        Err(other) => other,
    };
    Read {
        answer,
        retry_after,
    }
}

/// The verdict of a cancel refused as conflicting with the job's state (HTTP 400, 409, 410 or
/// 422) that names its `outcome`, JSON or not. Other refusals (401, 403, 404, 429, …) mean what
/// they always mean.
fn refusal_verdict(response: &Response) -> Option<CancelVerdict> {
    if !matches!(response.status, 400 | 409 | 410 | 422) {
        return None;
    }
    let (outcome, status) = match serde_json::from_slice::<Value>(&response.body) {
        Ok(json) => (word(&json, "outcome"), word(&json, "status")),
        Err(_) => {
            let text = String::from_utf8_lossy(&response.body);
            (scan_word(&text, "outcome"), scan_word(&text, "status"))
        }
    };
    // Only an outcome this client knows: an error body's `status` alone says nothing of the job.
    let outcome =
        outcome.filter(|o| verdict(Some(o.clone()), None) != CancelVerdict::Unconfirmed)?;
    Some(verdict(Some(outcome), status))
}

fn word(json: &Value, name: &str) -> Option<String> {
    json.get(name)?.as_str().map(|w| w.trim().to_owned())
}

/// The value of `"name": "…"` in text that is not quite JSON.
fn scan_word(text: &str, name: &str) -> Option<String> {
    let key = format!("\"{name}\"");
    text.match_indices(&key).find_map(|(at, _)| {
        let rest = text[at + key.len()..].trim_start();
        let rest = rest.strip_prefix(':')?.trim_start();
        let rest = rest.strip_prefix('"')?;
        let end = rest.find('"')?;
        Some(rest[..end].trim().to_owned())
    })
}

/// The verdict the words `outcome` and `status` amount to.
fn verdict(outcome: Option<String>, status: Option<String>) -> CancelVerdict {
    // The same tolerance of case and spacing as a status word (`Not-Cancellable`, `CANCELLED`).
    let outcome = outcome.map(|w| w.trim().to_ascii_lowercase().replace([' ', '-'], "_"));
    let cancelled = matches!(outcome.as_deref(), Some("cancelled" | "canceled"));
    let refused = matches!(
        outcome.as_deref(),
        Some("not_cancellable" | "not_cancelable" | "not_cancelled" | "not_canceled")
    );
    if cancelled {
        return CancelVerdict::Cancelled;
    }
    match status.map(|word| JobStatus::from(canonical_status(&word))) {
        Some(JobStatus::Cancelled | JobStatus::Canceled) => CancelVerdict::Cancelled,
        Some(JobStatus::InProgress) => CancelVerdict::TooLate,
        Some(JobStatus::Completed | JobStatus::Succeeded | JobStatus::Failed) => {
            CancelVerdict::AlreadyFinished
        }
        Some(JobStatus::InQueue) if refused => CancelVerdict::Refused,
        _ if refused => CancelVerdict::NotCancellable,
        _ => CancelVerdict::Unconfirmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(status: u16, body: &str) -> Result<CancelVerdict, crate::Error> {
        read_cancel(&Response::new(status, body))
            .answer
            .into_result()
    }

    #[test]
    fn the_documented_example_without_its_comma_is_read() {
        let body =
            "{\"request_id\": \"abc\", \"status\": \"cancelled\"\n \"outcome\": \"cancelled\"}";
        assert_eq!(read(202, body).unwrap(), CancelVerdict::Cancelled);
        let body = "{\"request_id\": \"abc\" \"status\": \"in_progress\" \"outcome\" : \"not_cancellable\"}";
        assert_eq!(read(202, body).unwrap(), CancelVerdict::TooLate);
    }

    #[test]
    fn every_combination_of_words_has_a_verdict() {
        let cases = [
            (r#"{"outcome":"cancelled"}"#, CancelVerdict::Cancelled),
            (
                r#"{"outcome":"canceled","status":"in_queue"}"#,
                CancelVerdict::Cancelled,
            ),
            (
                r#"{"outcome":"not_cancellable","status":"in_queue"}"#,
                CancelVerdict::Refused,
            ),
            (
                r#"{"outcome":"not_cancellable","status":"completed"}"#,
                CancelVerdict::AlreadyFinished,
            ),
            (
                r#"{"outcome":"not_cancellable","status":"succeeded"}"#,
                CancelVerdict::AlreadyFinished,
            ),
            (
                r#"{"outcome":"not_cancellable"}"#,
                CancelVerdict::NotCancellable,
            ),
            (
                r#"{"outcome":"not_cancellable","status":"weird"}"#,
                CancelVerdict::NotCancellable,
            ),
            (r#"{"status":"cancelled"}"#, CancelVerdict::Cancelled),
            (r#"{"status":"in_queue"}"#, CancelVerdict::Unconfirmed),
            (r#"{"outcome":42}"#, CancelVerdict::Unconfirmed),
            ("{}", CancelVerdict::Unconfirmed),
            ("", CancelVerdict::Unconfirmed),
            ("accepted", CancelVerdict::Unconfirmed),
        ];
        for (body, expected) in cases {
            assert_eq!(read(202, body).unwrap(), expected, "{body}");
            assert_eq!(read(200, body).unwrap(), expected, "{body}");
        }
    }

    #[test]
    fn errors_stay_errors_even_with_http_200() {
        let error = read(200, r#"{"error_code":404001,"error_message":"gone"}"#).unwrap_err();
        assert!(
            matches!(error, crate::Error::Api(ref e) if e.kind == crate::ApiErrorKind::NotFound)
        );
        assert!(read(503, "oops").unwrap_err().is_retryable());
    }
}
