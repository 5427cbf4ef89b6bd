//! What each event and outcome of a [`Job`](happyhorse_core::Job) may be, checked by the model
//! driver of `job_model.rs` after every step: the events' order and count, cancel verdicts, and
//! every outcome against the input that caused it.

use happyhorse_core::vocabulary::parse_retry_after;
use happyhorse_core::{
    ApiErrorKind, CancelStatus, Error, Event, Outcome, RequestKind, TransportError,
};

use super::super::bodies::{MODEL, check_error, check_outcome_text};
use super::{Cause, Model, RETRY_AFTER_MAX, SUBMIT_BODY};

impl Model<'_> {
    pub(super) fn on_event(&mut self, event: &Event, cancelled_now: bool) {
        if self.finished.is_some() {
            check!(
                self,
                matches!(event, Event::Cancel(CancelStatus::AlreadyFinished))
                    && cancelled_now
                    && self.cancel_events.is_empty(),
                "event {event:?} after the end"
            );
        }
        match event {
            Event::Submitted { request_id } => {
                check!(
                    self,
                    !self.scenario.resume,
                    "a resumed job reported a submit"
                );
                check!(self, self.submitted.is_none(), "a second Submitted event");
                check!(
                    self,
                    self.cause.answered_2xx(&[RequestKind::Submit]),
                    "Submitted after {:?}",
                    self.cause
                );
                self.submitted = Some(request_id.clone());
            }
            Event::Queued { .. } | Event::Running | Event::Unrecognised { .. } => {
                check!(
                    self,
                    self.cause
                        .answered_2xx(&[RequestKind::Status, RequestKind::Result]),
                    "{event:?} after {:?}",
                    self.cause
                );
            }
            Event::Retrying {
                request,
                retry,
                delay,
                reason,
            } => {
                self.retries += 1;
                check!(
                    self,
                    self.retries <= self.budget,
                    "retry {} over the budget of {}",
                    self.retries,
                    self.budget
                );
                check!(
                    self,
                    *retry >= 1 && *retry < self.max_attempts,
                    "retry {retry} of {} attempts",
                    self.max_attempts
                );
                check!(
                    self,
                    *delay <= self.max_retry_delay,
                    "a {delay:?} retry delay, over {:?}",
                    self.max_retry_delay
                );
                match &self.cause {
                    Cause::Answer { kind, response } => {
                        check!(
                            self,
                            kind == request,
                            "a {request} retry after a {kind} answer"
                        );
                        let asked = response
                            .retry_after
                            .as_deref()
                            .and_then(|value| parse_retry_after(value, response.date.as_deref()));
                        if let Some(asked) = asked {
                            let asked = asked.min(RETRY_AFTER_MAX);
                            check!(
                                self,
                                *delay >= asked,
                                "Retry-After {asked:?} not honoured: {delay:?}"
                            );
                            if self.scenario.config.throttle.is_some() {
                                self.paused_until = self.paused_until.max(self.now + asked);
                            }
                        }
                    }
                    Cause::Failure { kind, .. } => {
                        check!(
                            self,
                            kind == request,
                            "a {request} retry after a {kind} failure"
                        );
                    }
                    other => self.fail(format!("a retry after {other:?}")),
                }
                if *request == RequestKind::Submit {
                    check!(
                        self,
                        self.cause.created_nothing()
                            && match reason {
                                Error::Transport(TransportError::NotSent(_)) => true,
                                Error::Api(api) => api.kind == ApiErrorKind::RateLimited,
                                _ => false,
                            },
                        "a submit retried after {reason:?}"
                    );
                    self.submit_not_before = self.now + *delay;
                }
                check_error(reason);
            }
            Event::Cancel(status) => {
                check!(
                    self,
                    self.cancel_called,
                    "a cancel verdict nobody asked for"
                );
                match self.cancel_events.last() {
                    None => {}
                    Some(CancelStatus::Requested) => {
                        check!(self, status.is_settled(), "Requested reported twice")
                    }
                    Some(settled) => self.fail(format!("verdict {status:?} after {settled:?}")),
                }
                if let CancelStatus::Failed(error) = status {
                    check_error(error);
                }
                self.cancel_events.push(status.clone());
            }
            Event::Finished(outcome) => {
                check!(self, self.finished.is_none(), "a second Finished event");
                check!(
                    self,
                    self.job.outcome() == Some(outcome),
                    "Finished {outcome:?} but outcome() is {:?}",
                    self.job.outcome()
                );
                self.finished = Some(outcome.clone());
                self.check_outcome(outcome);
            }
            _ => {}
        }
    }

    /// The outcome is one the last input can cause.
    pub(super) fn check_outcome(&self, outcome: &Outcome) {
        check_outcome_text(outcome);
        let cause = &self.cause;
        let no_job_yet = !self.scenario.resume && self.submitted.is_none();
        match outcome {
            Outcome::Succeeded { output, result, .. } => {
                let body = match cause {
                    Cause::Answer { response, .. } => {
                        serde_json::from_slice::<serde_json::Value>(&response.body).ok()
                    }
                    _ => None,
                };
                // The `output` sent, or (none sent) other fields of the body holding its URLs.
                let sent = body
                    .as_ref()
                    .and_then(|b| b.get("output"))
                    .filter(|o| !o.is_null());
                // Or, after waiting for a missing output long enough, a success without files.
                let fits = sent.map_or_else(
                    || {
                        !happyhorse_core::vocabulary::output_files(output).is_empty()
                            || output.is_null()
                    },
                    |sent| sent == output,
                );
                check!(
                    self,
                    cause.answered_2xx(&[RequestKind::Result]) && fits,
                    "succeeded with {output:?} after {cause:?}"
                );
                check!(
                    self,
                    result.output.as_ref() == Some(output)
                        || (output.is_null() && result.output.is_none()),
                    "result and output differ"
                );
            }
            Outcome::Failed { .. } => check!(
                self,
                cause.answered_2xx(&[RequestKind::Result]),
                "failed after {cause:?}"
            ),
            Outcome::Cancelled { request_id: None } => check!(
                self,
                no_job_yet
                    && self.cancel_called
                    && (matches!(cause, Cause::Cancel) || cause.created_nothing()),
                "cancelled without a job after {cause:?}"
            ),
            Outcome::Cancelled {
                request_id: Some(_),
            } => check!(
                self,
                cause.answered_2xx(&[
                    RequestKind::Status,
                    RequestKind::Result,
                    RequestKind::Cancel
                ]) || cause.cancel_refused_with_outcome(),
                "cancelled after {cause:?}"
            ),
            Outcome::DeadlineExceeded { deadline, .. } => {
                check!(
                    self,
                    self.deadline == Some(*deadline) && self.now >= self.start + *deadline,
                    "deadline {deadline:?} exceeded at {:?} (configured {:?})",
                    self.now - self.start,
                    self.deadline
                );
            }
            Outcome::SubmitOutcomeUnknown(unknown) => {
                check!(self, no_job_yet, "submit outcome unknown for a known job");
                check!(
                    self,
                    matches!(
                        cause,
                        Cause::Answer {
                            kind: RequestKind::Submit,
                            ..
                        } | Cause::Failure {
                            kind: RequestKind::Submit,
                            not_sent: false
                        }
                    ),
                    "submit outcome unknown after {cause:?}"
                );
                check!(
                    self,
                    unknown.attempts == self.submits
                        && unknown.body_bytes == SUBMIT_BODY.len()
                        && unknown.model_id == MODEL
                        && Some(unknown.sent_at) == self.last_submit_at
                        && unknown.sent_after == unknown.sent_at - self.start
                        && unknown.cancel_requested == self.cancel_called,
                    "{unknown:?}: {} submits, last at {:?}, cancel asked: {}",
                    self.submits,
                    self.last_submit_at.map(|at| at - self.start),
                    self.cancel_called
                );
            }
            Outcome::Rejected { error } => {
                check!(self, no_job_yet, "rejected after the job existed");
                check!(
                    self,
                    matches!(
                        cause,
                        Cause::Answer {
                            kind: RequestKind::Submit,
                            ..
                        }
                    ) && error.kind != ApiErrorKind::ServerError,
                    "rejected ({error}) after {cause:?}"
                );
            }
            Outcome::Abandoned {
                request_id: None,
                error,
            } => check!(
                self,
                no_job_yet
                    && matches!(
                        cause,
                        Cause::Failure {
                            kind: RequestKind::Submit,
                            not_sent: true
                        }
                    )
                    && matches!(
                        error,
                        Error::RetriesExhausted {
                            request: RequestKind::Submit,
                            ..
                        } | Error::RetryQuotaExhausted {
                            request: RequestKind::Submit,
                            ..
                        }
                    ),
                "abandoned without a job ({error:?}) after {cause:?}"
            ),
            Outcome::Abandoned {
                request_id: Some(_),
                error,
            } => {
                let kind = match cause {
                    Cause::Answer { kind, .. } | Cause::Failure { kind, .. } => Some(*kind),
                    _ => None,
                };
                check!(
                    self,
                    matches!(kind, Some(RequestKind::Status | RequestKind::Result)),
                    "abandoned ({error:?}) after {cause:?}"
                );
                let (max_count, max_time) = self.job.config().unrecognised_limit();
                match error {
                    Error::UnrecognisedStatus { count, elapsed, .. } => check!(
                        self,
                        *count > max_count || *elapsed > max_time,
                        "gave up on an unrecognised status after {count} answers over {elapsed:?}"
                    ),
                    Error::RetriesExhausted {
                        request, attempts, ..
                    } => check!(
                        self,
                        Some(*request) == kind && *attempts >= 1 && *attempts <= self.max_attempts,
                        "gave up on {request} after {attempts} attempts"
                    ),
                    Error::RetryQuotaExhausted { request, .. } => check!(
                        self,
                        Some(*request) == kind && self.scenario.config.throttle.is_some(),
                        "out of a shared quota on {request} (throttle {:?})",
                        self.scenario.config.throttle
                    ),
                    Error::Api(api) => check!(
                        self,
                        !Error::Api(api.clone()).is_retryable(),
                        "gave up after a retryable {api:?}"
                    ),
                    other => self.fail(format!("abandoned with {other:?}")),
                }
            }
            other => self.fail(format!("an unknown outcome {other:?}")),
        }
        let id = outcome.request_id().cloned();
        check!(
            self,
            id == self.expected_id(),
            "outcome for {id:?}, expected {:?}",
            self.expected_id()
        );
    }
}
