//! The one rule for a failed call that may be tried again — shared by a job's submit (only after a
//! failure that provably sent nothing), its polls and cancel, and every one-shot call: the
//! `Retry-After` pause, the per-call limit, the per-job budget, the shared quota, the delay and
//! the [`Event::Retrying`] are decided here and nowhere else.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::{Error, Event, JobConfig, RequestKind};

/// What one machine (a job, or a one-shot call) has spent on retries.
#[derive(Debug, Default)]
pub(crate) struct Retries {
    /// Retries spent in total, against the retry policy's budget.
    spent: u32,
    /// Whether the shared throttle paid for a retry of the call now under way.
    paid: bool,
}

/// A call that failed with an error worth retrying.
pub(crate) struct Failure {
    /// The call.
    pub(crate) request: RequestKind,
    /// How many times in a row it has now failed (1 after the first failure).
    pub(crate) attempts: u32,
    /// Why.
    pub(crate) reason: Error,
    /// The delay the service asked for, if any.
    pub(crate) retry_after: Option<Duration>,
}

/// What to do about a failure.
#[derive(Debug)]
pub(crate) enum Plan {
    /// Send the call again after this delay.
    After(Duration),
    /// Stop: the attempts, the budget or the shared quota are spent. The error wraps the reason.
    GiveUp(Error),
}

impl Retries {
    /// Decides about `failure` at `now`: honours `Retry-After` (pausing every job that shares the
    /// throttle), checks the attempts, the budget and the quota, and on a retry reports it as an
    /// [`Event::Retrying`] on `events`.
    pub(crate) fn plan(
        &mut self,
        config: &JobConfig,
        rng: &mut fastrand::Rng,
        failure: Failure,
        now: Instant,
        events: &mut VecDeque<Event>,
    ) -> Plan {
        let retry = config.retry();
        if let (Some(asked), Some(throttle)) = (failure.retry_after, config.throttle()) {
            throttle.pause_until(now + asked.min(retry.retry_after_max()));
        }
        let Failure {
            request,
            attempts,
            reason,
            retry_after,
        } = failure;
        let last = Box::new(reason);
        if attempts >= retry.max_attempts() || self.spent >= retry.budget() {
            return Plan::GiveUp(Error::RetriesExhausted {
                request,
                attempts,
                last,
            });
        }
        if !self.may_retry(config) {
            return Plan::GiveUp(Error::RetryQuotaExhausted { request, last });
        }
        self.spent += 1;
        let delay = retry.delay(attempts, retry_after, rng);
        events.push_back(Event::Retrying {
            request,
            retry: attempts,
            delay,
            reason: *last,
        });
        Plan::After(delay)
    }

    /// A call succeeded: the shared quota (if any) gets its refund.
    pub(crate) fn record_success(&mut self, config: &JobConfig) {
        if let Some(throttle) = config.throttle() {
            throttle.record_success(self.paid);
        }
        self.paid = false;
    }

    /// Whether the shared quota (if any) pays for one more retry.
    fn may_retry(&mut self, config: &JobConfig) -> bool {
        match config.throttle() {
            Some(throttle) if throttle.try_spend_retry() => {
                self.paid = true;
                true
            }
            Some(_) => false,
            None => true,
        }
    }
}

/// `at`, or the end of a shared pause that outlasts it.
pub(crate) fn resume_at(config: &JobConfig, at: Instant) -> Instant {
    config
        .throttle()
        .and_then(|t| t.paused_until(at))
        .unwrap_or(at)
}

/// Whether a shared pause holds requests at `now`.
pub(crate) fn is_paused(config: &JobConfig, now: Instant) -> bool {
    config
        .throttle()
        .is_some_and(|t| t.paused_until(now).is_some())
}
