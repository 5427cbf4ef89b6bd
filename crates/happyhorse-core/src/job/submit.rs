//! The submit: sent once, repeated only when the transport proves it never left.

use std::time::{Duration, Instant};

use happyhorse_types::SubmitResponse;

use super::Job;
use super::state::{CancelStep, Follow, InFlight, Phase, State, Submit};
use crate::error::{ApiErrorKind, Error};
use crate::event::Event;
use crate::outcome::SubmitUnknown;
use crate::retrying::{Failure, Plan};
use crate::vocabulary::{self, Answer};
use crate::{
    Outcome, PollContext, PollPhase, RequestId, RequestKind, Response, Transmit, TransmitId,
    TransportError,
};

pub(super) fn next_transmit(
    submit: &mut Submit,
    model_id: &str,
    id: TransmitId,
    now: Instant,
) -> Option<Transmit> {
    if submit.in_flight.is_some() || now < submit.not_before {
        return None;
    }
    submit.in_flight = Some(InFlight {
        id,
        kind: RequestKind::Submit,
    });
    submit.last_sent_at = Some(now);
    submit.attempts += 1;
    Some(Transmit::submit(id, model_id, submit.body.clone()))
}

impl Job {
    pub(super) fn on_submit_response(&mut self, response: Response, now: Instant) {
        let read = vocabulary::read::<SubmitResponse>(RequestKind::Submit, &response);
        match read.answer {
            Answer::Ok(submitted) => {
                self.record_success();
                match RequestId::new(submitted.request_id) {
                    Ok(request_id) => self.submitted(request_id, now),
                    Err(invalid) => self.submit_unknown(Error::InvalidRequestId(invalid)),
                }
            }
            // A 5xx may come after the job was created: its fate is unknown.
            Answer::Api(error) if error.kind == ApiErrorKind::ServerError => {
                self.submit_unknown(Error::Api(error))
            }
            // A 429 refuses the request before anything is created: repeating it is safe.
            Answer::Api(error) if error.kind == ApiErrorKind::RateLimited => {
                self.retry_submit(Error::Api(error), read.retry_after, now);
            }
            Answer::Api(error) => self.reject(error),
            Answer::Garbled(error) => self.submit_unknown(error),
        }
    }

    pub(super) fn on_submit_transport_error(&mut self, error: TransportError, now: Instant) {
        if !error.is_not_sent() {
            self.submit_unknown(Error::Transport(error));
            return;
        }
        self.retry_submit(Error::Transport(error), None, now);
    }

    /// The submit provably created nothing: send it again later, unless the job must end first.
    fn retry_submit(&mut self, reason: Error, retry_after: Option<Duration>, now: Instant) {
        let State::Submit(submit) = &mut self.state else {
            return;
        };
        if submit.cancel_requested {
            return self.finish(Outcome::Cancelled { request_id: None });
        }
        if submit.deadline_passed {
            return self.finish(self.deadline_exceeded(None, None));
        }
        submit.failures += 1;
        let failure = Failure {
            request: RequestKind::Submit,
            attempts: submit.failures,
            reason,
            retry_after,
        };
        match self.plan_retry(failure, now) {
            Plan::After(delay) => {
                if let State::Submit(submit) = &mut self.state {
                    submit.not_before = now + delay;
                }
            }
            Plan::GiveUp(error) => match error.last() {
                // Rate limited to the end: the service refused the job, and said so.
                Some(Error::Api(refusal)) => self.reject(refusal.clone()),
                _ => self.finish(Outcome::Abandoned {
                    request_id: None,
                    error,
                }),
            },
        }
    }

    fn reject(&mut self, error: crate::ApiError) {
        self.finish(Outcome::Rejected { error });
    }

    fn submitted(&mut self, request_id: RequestId, now: Instant) {
        let State::Submit(submit) = &self.state else {
            return;
        };
        let (cancel_requested, deadline_passed) = (submit.cancel_requested, submit.deadline_passed);
        // The job cannot have started before the submit was sent.
        let sent_at = submit.last_sent_at.unwrap_or(now);
        self.events.push_back(Event::Submitted {
            request_id: request_id.clone(),
        });
        // A cancel asked for while the submit was in flight is sent even past the deadline.
        if deadline_passed && !cancel_requested {
            let outcome = self.deadline_exceeded(Some(request_id), Some(PollPhase::Submitted));
            self.finish(outcome);
            return;
        }
        let mut follow = Follow::new(request_id, Phase::Submitted, Some(sent_at), now);
        let context = PollContext::new(
            PollPhase::Submitted,
            0,
            std::time::Duration::ZERO,
            now - self.started,
        );
        follow.next_poll = now + self.config.poll().next_delay(&context, &mut self.rng);
        if cancel_requested {
            follow.cancel = CancelStep::Wanted { not_before: now };
        }
        self.state = State::Follow(follow);
    }

    fn submit_unknown(&mut self, reason: Error) {
        let State::Submit(submit) = &self.state else {
            return;
        };
        let sent_at = submit.last_sent_at.unwrap_or(self.started);
        let unknown = SubmitUnknown {
            model_id: self.model_id.clone().unwrap_or_default(),
            sent_at,
            sent_after: sent_at - self.started,
            attempts: submit.attempts,
            body_bytes: submit.body.len(),
            reason,
            cancel_requested: submit.cancel_requested,
        };
        self.finish(Outcome::SubmitOutcomeUnknown(Box::new(unknown)));
    }
}
