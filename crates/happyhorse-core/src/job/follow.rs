//! Following an existing job: polls, their answers, and the cancel call.

use std::time::{Duration, Instant};

use happyhorse_types::{JobStatus, ResultResponse, StatusResponse};

use super::Job;
use super::state::{CancelStep, Follow, InFlight, Phase, State, Unrecognised};
use crate::error::Error;
use crate::event::{CancelStatus, Event};
use crate::retrying::{Failure, Plan};
use crate::vocabulary::{self, Answer, CancelVerdict, JobState};
use crate::{Outcome, PollContext, RequestKind, Response, Transmit, TransmitId};

pub(super) fn next_transmit(
    follow: &mut Follow,
    id: TransmitId,
    include_cost: bool,
    now: Instant,
) -> Option<Transmit> {
    if follow.in_flight.is_some() {
        return None;
    }
    let kind = match follow.cancel {
        CancelStep::Wanted { not_before } if now >= not_before => {
            follow.cancel = CancelStep::InFlight;
            RequestKind::Cancel
        }
        _ if now >= follow.next_poll && !follow.polls_stopped => follow.poll_kind(),
        _ => return None,
    };
    follow.in_flight = Some(InFlight { id, kind });
    Some(Transmit::for_job(
        id,
        kind,
        &follow.request_id,
        include_cost,
    ))
}

impl Job {
    fn follow(&mut self) -> Option<&mut Follow> {
        match &mut self.state {
            State::Follow(follow) => Some(follow),
            _ => None,
        }
    }

    pub(super) fn on_follow_response(
        &mut self,
        kind: RequestKind,
        response: Response,
        now: Instant,
    ) {
        if kind == RequestKind::Cancel {
            return self.on_cancel_response(&response, now);
        }
        let (answer, retry_after) = if kind == RequestKind::Status {
            let read = vocabulary::read::<StatusResponse>(kind, &response);
            let answer = read
                .answer
                .map(|status| (vocabulary::state_from_status(&status), None));
            (answer, read.retry_after)
        } else {
            let read = vocabulary::read::<ResultResponse>(kind, &response);
            let answer = read
                .answer
                .map(|result| (vocabulary::state_from_result(&result), Some(result)));
            (answer, read.retry_after)
        };
        match answer {
            Answer::Ok((state, result)) => {
                self.record_success();
                if let Some(follow) = self.follow() {
                    follow.poll_failures = 0;
                }
                self.apply_state(state, result, retry_after, now);
            }
            Answer::Api(error) if !Error::Api(error.clone()).is_retryable() => {
                let request_id = self.request_id().cloned();
                self.finish(Outcome::Abandoned {
                    request_id,
                    error: Error::Api(error),
                });
            }
            Answer::Api(error) => self.on_follow_failure(kind, Error::Api(error), retry_after, now),
            Answer::Garbled(error) => self.on_follow_failure(kind, error, retry_after, now),
        }
    }

    /// A retryable failure of a poll or cancel call.
    pub(super) fn on_follow_failure(
        &mut self,
        kind: RequestKind,
        reason: Error,
        retry_after: Option<Duration>,
        now: Instant,
    ) {
        let Some(follow) = self.follow() else { return };
        let failures = if kind == RequestKind::Cancel {
            &mut follow.cancel_failures
        } else {
            &mut follow.poll_failures
        };
        *failures += 1;
        let failure = Failure {
            request: kind,
            attempts: *failures,
            reason,
            retry_after,
        };
        match self.plan_retry(failure, now) {
            Plan::After(delay) => {
                let Some(follow) = self.follow() else { return };
                if kind == RequestKind::Cancel {
                    follow.cancel = CancelStep::Wanted {
                        not_before: now + delay,
                    };
                } else {
                    follow.next_poll = now + delay;
                }
            }
            // The job itself may be fine: report the failed cancel and keep following.
            Plan::GiveUp(error) if kind == RequestKind::Cancel => {
                self.settle_cancel(CancelStatus::Failed(error));
            }
            Plan::GiveUp(error) => {
                let request_id = self.request_id().cloned();
                self.finish(Outcome::Abandoned { request_id, error });
            }
        }
    }

    fn on_cancel_response(&mut self, response: &Response, now: Instant) {
        let read = vocabulary::read_cancel(response);
        let verdict = match read.answer {
            Answer::Ok(verdict) => verdict,
            Answer::Api(error) if !Error::Api(error.clone()).is_retryable() => {
                return self.settle_cancel(CancelStatus::Failed(Error::Api(error)));
            }
            Answer::Api(error) => {
                return self.on_follow_failure(
                    RequestKind::Cancel,
                    Error::Api(error),
                    read.retry_after,
                    now,
                );
            }
            Answer::Garbled(error) => {
                return self.on_follow_failure(RequestKind::Cancel, error, read.retry_after, now);
            }
        };
        let Some(follow) = self.follow() else { return };
        follow.cancel_failures = 0;
        match verdict {
            CancelVerdict::Cancelled => self.cancelled_by_service(),
            CancelVerdict::TooLate => self.settle_cancel(CancelStatus::TooLate),
            CancelVerdict::Refused => self.settle_cancel(CancelStatus::Refused),
            CancelVerdict::AlreadyFinished => {
                self.settle_cancel(CancelStatus::AlreadyFinished);
                if let Some(follow) = self.follow() {
                    follow.phase = Phase::Finishing;
                    follow.next_poll = now;
                }
            }
            // Not told (enough): the next poll, right away, decides.
            _ => {
                follow.cancel = CancelStep::Verify {
                    refused: verdict == CancelVerdict::NotCancellable,
                };
                follow.next_poll = now;
            }
        }
    }

    fn cancelled_by_service(&mut self) {
        let request_id = self.request_id().cloned();
        self.finish(Outcome::Cancelled { request_id });
    }

    fn apply_state(
        &mut self,
        state: JobState,
        result: Option<ResultResponse>,
        retry_after: Option<Duration>,
        now: Instant,
    ) {
        if !matches!(state, JobState::Unrecognised { .. })
            && let Some(follow) = self.follow()
        {
            follow.unrecognised = None;
        }
        let verdict_pending = self.cancel_pending();
        let Some(follow) = self.follow() else { return };
        let awaiting_verdict = match follow.cancel {
            CancelStep::Verify { refused } => Some(refused),
            _ => None,
        };
        let request_id = follow.request_id.clone();
        let previous = follow.phase;
        let next_phase = match state {
            JobState::Succeeded { output } => {
                let result = result.unwrap_or_else(|| ResultResponse {
                    request_id: Some(request_id.to_string()),
                    status: JobStatus::Succeeded,
                    output: Some(output.clone()),
                    error: None,
                    created_at: None,
                    finished_at: None,
                    cost: None,
                });
                return self.finish(Outcome::Succeeded {
                    request_id,
                    output,
                    result: Box::new(result),
                });
            }
            JobState::Failed { failure } => {
                return self.finish(Outcome::Failed {
                    request_id,
                    failure,
                });
            }
            JobState::Cancelled => return self.cancelled_by_service(),
            JobState::Finished => {
                if verdict_pending {
                    // Do not send a cancel for a finished job; the result comes next.
                    self.settle_cancel(CancelStatus::AlreadyFinished);
                }
                Phase::Finishing
            }
            JobState::Queued { position } => {
                match awaiting_verdict {
                    Some(true) => self.settle_cancel(CancelStatus::Refused),
                    // Accepted, not confirmed, and still queued: say so rather than guess.
                    Some(false) => self.settle_cancel(CancelStatus::Unconfirmed),
                    None => {}
                }
                let Some(follow) = self.follow() else { return };
                follow.last_not_running = Some(now);
                follow.running_since = None;
                if previous != (Phase::Queued { position }) {
                    self.events.push_back(Event::Queued { position });
                }
                Phase::Queued { position }
            }
            JobState::Running => {
                if awaiting_verdict.is_some() {
                    self.settle_cancel(CancelStatus::TooLate);
                }
                let Some(follow) = self.follow() else { return };
                if previous != Phase::Running {
                    // It started somewhere between the last time it was seen waiting and now.
                    follow.running_since = follow
                        .last_not_running
                        .map(|waiting| waiting + (now - waiting) / 2);
                    self.events.push_back(Event::Running);
                }
                Phase::Running
            }
            JobState::Unrecognised { status } => {
                if !self.track_unrecognised(status, result, now) {
                    return;
                }
                Phase::Unknown
            }
        };
        let Some(follow) = self.follow() else { return };
        if std::mem::discriminant(&next_phase) == std::mem::discriminant(&previous) {
            follow.polls_in_phase += 1;
        } else {
            follow.phase_since = now;
            follow.polls_in_phase = 1;
        }
        follow.phase = next_phase;
        let delay = if next_phase == Phase::Finishing {
            Duration::ZERO
        } else {
            let context = PollContext::new(
                follow.poll_phase(now),
                follow.polls_in_phase,
                now.saturating_duration_since(follow.phase_since),
                now.saturating_duration_since(self.started),
            );
            let policy = self.config.poll();
            let planned = policy.next_delay(&context, &mut self.rng);
            match retry_after {
                Some(asked) => planned.max(asked.min(policy.retry_after_max())),
                None => planned,
            }
        };
        if let State::Follow(follow) = &mut self.state {
            follow.next_poll = now + delay;
        }
    }

    /// Counts an unrecognised status; ends the job once the limit is passed — as a success
    /// without files when the last result said the job succeeded (it is paid for and will not
    /// change: "resume" or "this client may be too old" would mislead). Returns whether the job
    /// goes on.
    fn track_unrecognised(
        &mut self,
        status: String,
        result: Option<ResultResponse>,
        now: Instant,
    ) -> bool {
        let (max_count, max_time) = self.config.unrecognised_limit();
        let Some(follow) = self.follow() else {
            return false;
        };
        let first_of_streak = follow.unrecognised.is_none();
        let streak = follow.unrecognised.get_or_insert(Unrecognised {
            status: status.clone(),
            first_at: now,
            count: 0,
        });
        streak.count += 1;
        streak.status.clone_from(&status);
        let (count, elapsed) = (streak.count, streak.elapsed(now));
        if first_of_streak {
            self.events.push_back(Event::Unrecognised {
                status: status.clone(),
            });
        }
        if count > max_count || elapsed > max_time {
            let request_id = self.request_id().cloned();
            if let (Some(request_id), Some(result)) = (request_id.clone(), result)
                && let Some(output) = vocabulary::succeeded_without_output(&result)
            {
                self.finish(Outcome::Succeeded {
                    request_id,
                    output,
                    result: Box::new(result),
                });
                return false;
            }
            let error = Error::UnrecognisedStatus {
                status,
                count,
                elapsed,
            };
            self.finish(Outcome::Abandoned { request_id, error });
            return false;
        }
        true
    }
}
