//! [`Job`]: one request's whole life as a sans-IO state machine.
//!
//! Inputs are fed with `handle_*` (answers, transport failures, timeouts) and commands
//! ([`Job::cancel`]); outputs are drained with `poll_*`, one item per call: the next request
//! ([`Job::poll_transmit`]), the next wake-up ([`Job::poll_timeout`]) and progress events
//! ([`Job::poll_event`]). `now` is always an argument; the job never reads a clock.
//!
//! A driver has one loop:
//! 1. send every [`Transmit`] from `poll_transmit(now)` (one at a time: the job has at most one
//!    request in flight) and feed back its answer with `handle_response` or
//!    `handle_transport_error`;
//! 2. drain `poll_event`;
//! 3. stop once `is_terminal`; otherwise sleep until `poll_timeout()` (or a cancel command),
//!    then call `handle_timeout(now)` and start again.

mod follow;
pub(crate) mod state;
mod submit;

use std::collections::VecDeque;
use std::time::Instant;

use crate::event::{CancelStatus, Event};
use crate::retrying::{self, Failure, Plan, Retries};
use crate::{JobConfig, Outcome, RequestId, Response, Transmit, TransmitId, TransportError};
use state::{CancelStep, Follow, Phase, State, Submit};

/// One job, from submit (or resume) to its [`Outcome`].
///
/// ```
/// use std::time::{Duration, Instant};
/// use happyhorse_core::{Event, Job, JobConfig, Outcome, RequestKind, Response};
///
/// let start = Instant::now();
/// let mut job = Job::submit("happyhorse/happyhorse-1.0/image-to-video", br#"{"prompt":"a horse"}"#.to_vec(), JobConfig::default(), start);
///
/// let submit = job.poll_transmit(start).unwrap();
/// assert_eq!((submit.kind, submit.path.as_str()), (RequestKind::Submit, "/v1/models/happyhorse/happyhorse-1.0/image-to-video"));
/// assert!(job.poll_transmit(start).is_none(), "one request at a time");
/// job.handle_response(submit.id, Response::new(200, r#"{"request_id":"abc"}"#), start);
///
/// // Nothing to send until the policy's wake-up.
/// let wake = job.poll_timeout().unwrap();
/// assert!(job.poll_transmit(start).is_none());
/// job.handle_timeout(wake);
/// let status = job.poll_transmit(wake).unwrap();
/// assert_eq!(status.path, "/v1/requests/abc/status");
/// job.handle_response(status.id, Response::new(200, r#"{"status":"in_progress"}"#), wake);
///
/// let later = wake + Duration::from_secs(90);
/// job.handle_timeout(later);
/// let result = job.poll_transmit(later).unwrap();
/// assert_eq!(result.path, "/v1/requests/abc/result");
/// job.handle_response(result.id, Response::new(200, r#"{"status":"succeeded","output":{"video":"https://x/v.mp4"}}"#), later);
///
/// assert!(job.is_terminal());
/// let Some(Outcome::Succeeded { output, .. }) = job.outcome() else { panic!() };
/// assert_eq!(output["video"], "https://x/v.mp4");
/// let events: Vec<Event> = std::iter::from_fn(|| job.poll_event()).collect();
/// assert!(matches!(events.first(), Some(Event::Submitted { .. })));
/// assert!(matches!(events.last(), Some(Event::Finished(Outcome::Succeeded { .. }))));
/// ```
pub struct Job {
    /// The model submitted to; `None` for a resumed job.
    model_id: Option<String>,
    config: JobConfig,
    rng: fastrand::Rng,
    started: Instant,
    deadline: Option<Instant>,
    next_transmit: u64,
    state: State,
    events: VecDeque<Event>,
    cancel: Option<CancelStatus>,
    /// What the whole job spent on retries.
    retries: Retries,
}

impl Job {
    /// A new job that will submit `body` (the input JSON) to `model_id`.
    pub fn submit(model_id: &str, body: Vec<u8>, config: JobConfig, now: Instant) -> Job {
        let seed = config
            .seed()
            .unwrap_or_else(|| fnv1a(model_id.as_bytes()) ^ fnv1a(&body));
        let submit = Submit {
            body,
            attempts: 0,
            failures: 0,
            not_before: now,
            in_flight: None,
            last_sent_at: None,
            cancel_requested: false,
            deadline_passed: false,
        };
        Self::new(
            Some(model_id.to_owned()),
            config,
            seed,
            State::Submit(submit),
            now,
        )
    }

    /// Follows an existing job from its id (for `wait`, batch resume, a restarted process).
    /// The first poll is due immediately and reads `/result`, so a finished job costs one request.
    pub fn resume(request_id: RequestId, config: JobConfig, now: Instant) -> Job {
        let seed = config
            .seed()
            .unwrap_or_else(|| fnv1a(request_id.as_str().as_bytes()));
        let follow = Follow::new(request_id, Phase::Unknown, None, now);
        Self::new(None, config, seed, State::Follow(follow), now)
    }

    fn new(
        model_id: Option<String>,
        config: JobConfig,
        seed: u64,
        state: State,
        now: Instant,
    ) -> Job {
        let deadline = config.poll().deadline().map(|d| now + d);
        Job {
            model_id,
            rng: fastrand::Rng::with_seed(seed),
            config,
            started: now,
            deadline,
            next_transmit: 1,
            state,
            events: VecDeque::new(),
            cancel: None,
            retries: Retries::default(),
        }
    }

    /// The next request to send, if one is due at `now`. At most one request is in flight:
    /// this returns `None` until the previous one is answered.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        self.check_deadline(now);
        if self.is_paused(now) {
            return None;
        }
        let id = TransmitId(self.next_transmit);
        let include_cost = self.config.include_cost();
        let transmit = match &mut self.state {
            State::Done(_) => None,
            State::Submit(submit) => submit::next_transmit(
                submit,
                self.model_id.as_deref().unwrap_or_default(),
                id,
                now,
            ),
            State::Follow(follow) => follow::next_transmit(follow, id, include_cost, now),
        };
        if transmit.is_some() {
            self.next_transmit += 1;
        }
        transmit
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next: the next poll, retry or the
    /// deadline. `None` when terminal, or when only an answer can move the job on.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let scheduled = match &self.state {
            State::Done(_) => return None,
            // The deadline cannot cut an in-flight submit short: its answer may carry the only
            // copy of the new job's id.
            State::Submit(submit) if submit.in_flight.is_some() => return None,
            State::Submit(submit) => Some(submit.not_before),
            State::Follow(follow) if follow.in_flight.is_some() => None,
            State::Follow(follow) => match follow.cancel {
                CancelStep::Wanted { not_before } if follow.polls_stopped => Some(not_before),
                CancelStep::Wanted { not_before } => Some(not_before.min(follow.next_poll)),
                _ => Some(follow.next_poll),
            },
        };
        // A pause shared with other jobs holds the next request, never the deadline.
        let scheduled = scheduled.map(|at| self.resume_at(at));
        // While a cancel is under way the deadline waits for it (see `check_deadline`).
        let deadline = self.deadline.filter(|_| !self.cancel_under_way());
        match (scheduled, deadline) {
            (Some(at), Some(deadline)) => Some(at.min(deadline)),
            (at, deadline) => at.or(deadline),
        }
    }

    /// Time has reached (at least) the instant [`poll_timeout`](Self::poll_timeout) gave:
    /// ends the job if the deadline passed; due requests then come from `poll_transmit`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.check_deadline(now);
    }

    /// The answer to the transmit `id`. Answers to anything but the request in flight are ignored.
    pub fn handle_response(&mut self, id: TransmitId, response: Response, now: Instant) {
        match &mut self.state {
            State::Submit(submit) if submit.in_flight.is_some_and(|f| f.id == id) => {
                submit.in_flight = None;
                self.on_submit_response(response, now);
            }
            State::Follow(follow) if follow.in_flight.is_some_and(|f| f.id == id) => {
                let in_flight = follow.in_flight.take();
                if let Some(in_flight) = in_flight {
                    self.on_follow_response(in_flight.kind, response, now);
                }
            }
            _ => {}
        }
        self.check_deadline(now);
    }

    /// The transmit `id` got no (complete) answer. Say whether it may have reached the service:
    /// that decides whether a submit may be repeated.
    pub fn handle_transport_error(&mut self, id: TransmitId, error: TransportError, now: Instant) {
        match &mut self.state {
            State::Submit(submit) if submit.in_flight.is_some_and(|f| f.id == id) => {
                submit.in_flight = None;
                self.on_submit_transport_error(error, now);
            }
            State::Follow(follow) if follow.in_flight.is_some_and(|f| f.id == id) => {
                let in_flight = follow.in_flight.take();
                if let Some(in_flight) = in_flight {
                    self.on_follow_failure(
                        in_flight.kind,
                        crate::Error::Transport(error),
                        None,
                        now,
                    );
                }
            }
            _ => {}
        }
        self.check_deadline(now);
    }

    /// Asks to cancel the job. Before the submit is sent, nothing is sent and the job ends
    /// cancelled; while the submit is in flight, the cancel follows as soon as the id arrives;
    /// afterwards the service is asked. The verdict arrives as [`Event::Cancel`] and stays
    /// readable from [`cancel_status`](Self::cancel_status). Asking twice changes nothing.
    pub fn cancel(&mut self, now: Instant) {
        if self.cancel.is_some() {
            return;
        }
        match &mut self.state {
            State::Done(_) => self.settle_cancel(CancelStatus::AlreadyFinished),
            State::Submit(submit) if submit.in_flight.is_some() => {
                submit.cancel_requested = true;
                self.settle_cancel(CancelStatus::Requested);
            }
            State::Submit(_) => {
                self.settle_cancel(CancelStatus::NothingToCancel);
                self.finish(Outcome::Cancelled { request_id: None });
            }
            State::Follow(follow) => {
                follow.cancel = CancelStep::Wanted { not_before: now };
                self.settle_cancel(CancelStatus::Requested);
            }
        }
    }

    /// The next progress event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The job's id, once the service gave one.
    pub fn request_id(&self) -> Option<&RequestId> {
        match &self.state {
            State::Submit(_) => None,
            State::Follow(follow) => Some(&follow.request_id),
            State::Done(outcome) => outcome.request_id(),
        }
    }

    /// How the job ended; `Some` once terminal.
    pub fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            State::Done(outcome) => Some(outcome),
            _ => None,
        }
    }

    /// Whether the job has ended: it will send nothing more and ignore every input.
    pub fn is_terminal(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    /// Where a cancel request stands, if one was made.
    pub fn cancel_status(&self) -> Option<&CancelStatus> {
        self.cancel.as_ref()
    }

    /// The instant the job was created (submit or resume); the deadline counts from it.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The config the job runs with.
    pub fn config(&self) -> &JobConfig {
        &self.config
    }

    fn check_deadline(&mut self, now: Instant) {
        let Some(deadline) = self.deadline else {
            return;
        };
        // A cancel the caller asked for goes out (and is answered) before the deadline ends the
        // job: stopping first would leave a job the caller wanted gone running, and billed.
        if now < deadline {
            return;
        }
        if self.cancel_under_way() {
            if let State::Follow(follow) = &mut self.state {
                follow.polls_stopped = true;
            }
            return;
        }
        match &mut self.state {
            State::Done(_) => {}
            State::Submit(submit) if submit.in_flight.is_some() => submit.deadline_passed = true,
            State::Submit(_) => self.finish(self.deadline_exceeded(None, None)),
            State::Follow(follow) => {
                let (request_id, phase) = (follow.request_id.clone(), follow.poll_phase(now));
                self.finish(self.deadline_exceeded(Some(request_id), Some(phase)));
            }
        }
    }

    /// The outcome of a job whose deadline passed: built here only.
    fn deadline_exceeded(
        &self,
        request_id: Option<RequestId>,
        last_phase: Option<crate::PollPhase>,
    ) -> Outcome {
        Outcome::DeadlineExceeded {
            request_id,
            deadline: self.deadline.map(|d| d - self.started).unwrap_or_default(),
            last_phase,
        }
    }

    fn finish(&mut self, outcome: Outcome) {
        if self.cancel_pending() {
            // Every cancel gets a verdict, however the job ends; this is the one place it is given.
            self.settle_cancel(cancel_verdict(&outcome));
        }
        self.events.push_back(Event::Finished(outcome.clone()));
        self.state = State::Done(outcome);
    }

    /// Records a cancel verdict (or the request itself) and reports it.
    fn settle_cancel(&mut self, status: CancelStatus) {
        if let State::Follow(follow) = &mut self.state
            && status.is_settled()
        {
            follow.cancel = CancelStep::Idle;
        }
        self.cancel = Some(status.clone());
        self.events.push_back(Event::Cancel(status));
    }

    /// Whether a shared pause holds requests at `now` (a finished job has none to hold).
    fn is_paused(&self, now: Instant) -> bool {
        !matches!(self.state, State::Done(_)) && retrying::is_paused(&self.config, now)
    }

    /// `at`, or the end of a shared pause that outlasts it.
    fn resume_at(&self, at: Instant) -> Instant {
        retrying::resume_at(&self.config, at)
    }

    /// Plans the retry of a failed call (see [`Retries::plan`]).
    fn plan_retry(&mut self, failure: Failure, now: Instant) -> Plan {
        self.retries
            .plan(&self.config, &mut self.rng, failure, now, &mut self.events)
    }

    fn record_success(&mut self) {
        self.retries.record_success(&self.config);
    }

    /// Whether a cancel is still to be sent or answered by the service.
    fn cancel_under_way(&self) -> bool {
        matches!(&self.state, State::Follow(follow)
            if matches!(follow.cancel, CancelStep::Wanted { .. } | CancelStep::InFlight))
    }

    /// Whether a cancel request awaits its verdict.
    fn cancel_pending(&self) -> bool {
        matches!(self.cancel, Some(CancelStatus::Requested))
    }
}

/// What a cancel still awaiting its verdict amounts to once the job ends with `outcome`.
fn cancel_verdict(outcome: &Outcome) -> CancelStatus {
    match outcome {
        Outcome::Succeeded { .. } | Outcome::Failed { .. } => CancelStatus::AlreadyFinished,
        Outcome::Cancelled {
            request_id: Some(_),
        } => CancelStatus::Cancelled,
        // No job was created: there is nothing to cancel.
        Outcome::Cancelled { request_id: None }
        | Outcome::Rejected { .. }
        | Outcome::DeadlineExceeded {
            request_id: None, ..
        }
        | Outcome::Abandoned {
            request_id: None, ..
        } => CancelStatus::NothingToCancel,
        Outcome::Abandoned { error, .. } => CancelStatus::Failed(error.clone()),
        Outcome::SubmitOutcomeUnknown(unknown) => CancelStatus::Failed(unknown.reason.clone()),
        other => CancelStatus::Failed(crate::Error::Protocol {
            request: crate::RequestKind::Cancel,
            what: format!("the job ended ({other}) before the cancel was answered"),
        }),
    }
}

impl std::fmt::Debug for Job {
    // The submit body may be large: the state is summarised, never dumped.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("model_id", &self.model_id)
            .field("request_id", &self.request_id())
            .field("outcome", &self.outcome())
            .field("cancel", &self.cancel)
            .finish_non_exhaustive()
    }
}

/// FNV-1a: a stable, dependency-free hash for deriving jitter seeds.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
