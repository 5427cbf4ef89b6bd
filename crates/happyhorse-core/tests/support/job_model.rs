//! A [`Job`] driven through a generated sequence of actions — answers with any status and body,
//! transport failures, the clock jumping, cancel — by a model driver that checks the engine's
//! promises after every step (`docs/lifecycle.md`, `src/job.rs`):
//!
//! - at most one request in flight, and a live job with nothing in flight and nothing due always
//!   has a wake-up in the future (else a driver would spin or hang);
//! - a submit is repeated only after `NotSent` or a 429 (both prove nothing was created), never
//!   after `MaybeSent` or any other answer, never before its backoff, and is never cut short:
//!   while it is in flight the job does not end;
//! - no request at or past the deadline but a cancel the caller asked for (which must still go
//!   out); a cancel is sent only while one is pending; a finished job has no cancel awaiting a verdict;
//! - exactly one `Finished` event, equal to `outcome()`, emitted exactly when the job becomes
//!   terminal; afterwards no request, no wake-up, no change, and no event but the verdict on a
//!   cancel asked for afterwards (`AlreadyFinished`);
//! - every outcome is one the last input can cause (a success only from a 2xx `/result` whose
//!   output it carries, a rejection only from a submit answer that is not a 5xx, …) and carries
//!   the right id;
//! - answers to requests not in flight change nothing;
//! - retries stay within the policy (attempts, budget, delay, `Retry-After` honoured), and with
//!   a shared [`Throttle`], no request goes out during a pause a `Retry-After` started;
//! - cancel verdicts: at most one `Requested` and then one settled verdict, mirrored by
//!   `cancel_status()`;
//! - every message is bounded whatever the service sent.
//!
//! After the generated actions, the service answers "succeeded" to everything: the job must end
//! within a few steps, and then absorb every further input.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use happyhorse_core::vocabulary::parse_retry_after;
use happyhorse_core::{
    ApiErrorKind, CancelStatus, Error, Event, Job, JobConfig, Method, Outcome, PollPolicy,
    RequestId, RequestKind, Response, RetryPolicy, Throttle, Transmit, TransmitId, TransportError,
    oneshot,
};

use super::bodies::{Answer, Body, MODEL, check_error, check_message, check_outcome_text};

/// The id a resumed job follows.
pub(crate) const RESUME_ID: &str = "req_fuzz-1";
/// The input a submitted job sends.
pub(crate) const SUBMIT_BODY: &[u8] =
    br#"{"prompt":"a horse","image_url":"https://example.com/horse.png"}"#;
/// What the service answers to everything once the generated actions are spent: readable as a
/// submit (with an id), a status (finished), a result (succeeded) and a cancel (too late).
pub(crate) const UNIVERSAL: &str = r#"{"request_id":"req_drain","status":"succeeded","outcome":"not_cancellable","output":{"video":"https://cdn.example/v.mp4"}}"#;

/// The polling policy.
#[derive(Debug, Clone)]
pub(crate) enum Poll {
    Default,
    Fixed { ms: u16 },
}

/// The retry policy.
#[derive(Debug, Clone)]
pub(crate) enum Retry {
    Default,
    None,
    Custom {
        attempts: u8,
        budget: u8,
        initial_ms: u16,
        max_ms: u32,
    },
}

/// A job's settings.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) poll: Poll,
    pub(crate) deadline_secs: Option<u16>,
    pub(crate) retry: Retry,
    pub(crate) unrecognised_count: u8,
    pub(crate) unrecognised_secs: u16,
    pub(crate) seed: Option<u64>,
    pub(crate) include_cost: bool,
    /// A throttle (capacity, cost per retry, refund per success) shared with no other job.
    pub(crate) throttle: Option<(u16, u8, u8)>,
}

impl Config {
    fn build(&self) -> JobConfig {
        let poll = match self.poll {
            Poll::Default => PollPolicy::default(),
            Poll::Fixed { ms } => PollPolicy::fixed(Duration::from_millis(ms.into())),
        }
        .with_deadline(self.deadline_secs.map(|s| Duration::from_secs(s.into())));
        let retry = match self.retry {
            Retry::Default => RetryPolicy::default(),
            Retry::None => RetryPolicy::none(),
            Retry::Custom {
                attempts,
                budget,
                initial_ms,
                max_ms,
            } => RetryPolicy::default()
                .with_max_attempts(attempts.into())
                .with_budget(budget.into())
                .with_backoff(
                    Duration::from_millis(initial_ms.into()),
                    Duration::from_millis(max_ms.into()),
                ),
        };
        let config = JobConfig::default()
            .with_poll(poll)
            .with_retry(retry)
            .with_include_cost(self.include_cost)
            .with_unrecognised_limit(
                self.unrecognised_count.into(),
                Duration::from_secs(self.unrecognised_secs.into()),
            );
        let config = match self.throttle {
            Some((capacity, cost, refund)) => config.with_throttle(
                Throttle::new(capacity.into()).with_costs(cost.into(), refund.into()),
            ),
            None => config,
        };
        match self.seed {
            Some(seed) => config.with_seed(seed),
            None => config,
        }
    }

    /// The longest delay a retry may wait: the backoff's cap, or a `Retry-After` up to its cap.
    fn max_retry_delay(&self) -> Duration {
        let backoff_cap = match self.retry {
            Retry::Default | Retry::None => Duration::from_secs(30),
            Retry::Custom {
                initial_ms, max_ms, ..
            } => Duration::from_millis(u64::from(initial_ms).max(u64::from(max_ms))),
        };
        backoff_cap.max(RETRY_AFTER_MAX)
    }
}

/// The retry policy's cap on an honoured `Retry-After` (its default; never changed here).
const RETRY_AFTER_MAX: Duration = Duration::from_secs(60);

/// One thing that happens to a job.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// The driver asks for the next request.
    Send,
    /// The request in flight is answered (an answer to nothing in flight is a stale one).
    Respond(Answer),
    /// The request in flight fails in the transport.
    Fail { not_sent: bool },
    /// An answer (or a transport failure, when `answer` is `None`) to a request that is not in
    /// flight: an old one picked by `pick`, or one the job never sent.
    Stale {
        answer: Option<Answer>,
        not_sent: bool,
        pick: u8,
    },
    /// The clock moves on by `ms` and the driver wakes up.
    Advance { ms: u32 },
    /// The clock moves to the job's wake-up (if it is later) and the driver wakes up.
    Wake,
    /// The user asks to cancel.
    Cancel,
}

/// A job (submitted or resumed), its settings and what happens to it.
#[derive(Debug, Clone)]
pub(crate) struct Scenario {
    pub(crate) resume: bool,
    pub(crate) config: Config,
    pub(crate) actions: Vec<Action>,
}

/// The last input the job handled: what may have ended it.
#[derive(Debug, Clone)]
enum Cause {
    Start,
    Answer {
        kind: RequestKind,
        response: Response,
    },
    Failure {
        kind: RequestKind,
        not_sent: bool,
    },
    Timeout,
    Cancel,
    Stale,
}

impl Cause {
    fn answered_2xx(&self, kinds: &[RequestKind]) -> bool {
        matches!(self, Cause::Answer { kind, response }
            if kinds.contains(kind) && (200..300).contains(&response.status))
    }

    /// A cancel refused with its verdict (400, 409, 410 or 422 naming an `outcome`).
    fn cancel_refused_with_outcome(&self) -> bool {
        matches!(self, Cause::Answer { kind: RequestKind::Cancel, response }
            if matches!(response.status, 400 | 409 | 410 | 422)
                && String::from_utf8_lossy(&response.body).contains("\"outcome\""))
    }

    /// A submit answered "rate limited": refused before anything was created.
    fn rate_limited_submit(&self) -> bool {
        matches!(self, Cause::Answer { kind: RequestKind::Submit, response } if rate_limited(response))
    }

    /// A failure or answer proving the submit created nothing.
    fn created_nothing(&self) -> bool {
        self.rate_limited_submit()
            || matches!(
                self,
                Cause::Failure {
                    kind: RequestKind::Submit,
                    not_sent: true
                }
            )
    }
}

macro_rules! check {
    ($model:expr, $cond:expr, $($message:tt)+) => {
        if !$cond {
            $model.fail(format!($($message)+));
        }
    };
}

struct Model<'a> {
    scenario: &'a Scenario,
    job: Job,
    start: Instant,
    now: Instant,
    deadline: Option<Duration>,
    max_attempts: u32,
    budget: u32,
    max_retry_delay: Duration,
    in_flight: Option<Transmit>,
    sent: Vec<Transmit>,
    submits: u32,
    last_submit_at: Option<Instant>,
    /// Whether a submit may be handed out: before the first, and after a `NotSent` or a 429.
    submit_may_go: bool,
    submit_not_before: Instant,
    /// With a throttle: no request before this (a `Retry-After` paused every job).
    paused_until: Instant,
    submitted: Option<RequestId>,
    polled: bool,
    cancel_called: bool,
    cancel_events: Vec<CancelStatus>,
    finished: Option<Outcome>,
    retries: u32,
    cause: Cause,
    trace: String,
}

/// Runs `scenario`, panicking (with a trace) at the first broken promise.
pub(crate) fn run(scenario: &Scenario) {
    let mut model = Model::new(scenario);
    for action in &scenario.actions {
        model.apply(action);
    }
    model.drain();
    model.absorb();
}

impl<'a> Model<'a> {
    fn new(scenario: &'a Scenario) -> Self {
        let start = Instant::now();
        let config = scenario.config.build();
        let (max_attempts, budget) = (config.retry().max_attempts(), config.retry().budget());
        let deadline = config.poll().deadline();
        let job = if scenario.resume {
            Job::resume(RequestId::new(RESUME_ID).unwrap(), config, start)
        } else {
            Job::submit(MODEL, SUBMIT_BODY.to_vec(), config, start)
        };
        let mut model = Self {
            scenario,
            job,
            start,
            now: start,
            deadline,
            max_attempts,
            budget,
            max_retry_delay: scenario.config.max_retry_delay(),
            in_flight: None,
            sent: Vec::new(),
            submits: 0,
            last_submit_at: None,
            submit_may_go: !scenario.resume,
            submit_not_before: start,
            paused_until: start,
            submitted: None,
            polled: false,
            cancel_called: false,
            cancel_events: Vec::new(),
            finished: None,
            retries: 0,
            cause: Cause::Start,
            trace: String::new(),
        };
        model.log(format_args!(
            "{} {:?}",
            if scenario.resume { "resume" } else { "submit" },
            scenario.config
        ));
        model
    }

    fn fail(&self, message: String) -> ! {
        panic!("{message}\n--- trace ---\n{}", self.trace)
    }

    fn log(&mut self, line: std::fmt::Arguments<'_>) {
        let line = line.to_string();
        let line: String = line.chars().take(400).collect();
        let elapsed = (self.now - self.start).as_secs_f64();
        let _ = writeln!(self.trace, "[{elapsed:>12.3}s] {line}");
    }

    fn expected_id(&self) -> Option<RequestId> {
        if self.scenario.resume {
            Some(RequestId::new(RESUME_ID).unwrap())
        } else {
            self.submitted.clone()
        }
    }

    fn apply(&mut self, action: &Action) {
        match action {
            Action::Send => {
                self.send();
                self.after(false);
            }
            Action::Respond(answer) => match self.in_flight.take() {
                Some(transmit) => {
                    let response = answer.to_response();
                    self.log(format_args!("<- {} {response:?}", transmit.id));
                    if transmit.kind == RequestKind::Submit && rate_limited(&response) {
                        self.submit_may_go = true;
                    }
                    self.cause = Cause::Answer {
                        kind: transmit.kind,
                        response: response.clone(),
                    };
                    self.job.handle_response(transmit.id, response, self.now);
                    self.after(false);
                }
                None => self.stale(Some(answer), false, 0),
            },
            Action::Fail { not_sent } => match self.in_flight.take() {
                Some(transmit) => {
                    self.log(format_args!(
                        "<- {} failed (not sent: {not_sent})",
                        transmit.id
                    ));
                    if transmit.kind == RequestKind::Submit && *not_sent {
                        self.submit_may_go = true;
                    }
                    self.cause = Cause::Failure {
                        kind: transmit.kind,
                        not_sent: *not_sent,
                    };
                    self.job.handle_transport_error(
                        transmit.id,
                        transport_error(*not_sent),
                        self.now,
                    );
                    self.after(false);
                }
                None => self.stale(None, *not_sent, 0),
            },
            Action::Stale {
                answer,
                not_sent,
                pick,
            } => self.stale(answer.as_ref(), *not_sent, *pick),
            Action::Advance { ms } => {
                self.now += Duration::from_millis((*ms).into());
                self.log(format_args!("timeout (+{ms} ms)"));
                self.cause = Cause::Timeout;
                self.job.handle_timeout(self.now);
                self.after(false);
            }
            Action::Wake => {
                if let Some(wake) = self.job.poll_timeout() {
                    self.now = self.now.max(wake);
                }
                self.log(format_args!("timeout (wake-up)"));
                self.cause = Cause::Timeout;
                self.job.handle_timeout(self.now);
                self.after(false);
            }
            Action::Cancel => {
                self.log(format_args!("cancel"));
                self.cancel_called = true;
                self.cause = Cause::Cancel;
                self.job.cancel(self.now);
                self.after(true);
            }
        }
    }

    fn send(&mut self) {
        let Some(transmit) = self.job.poll_transmit(self.now) else {
            if self.in_flight.is_none() && !self.job.is_terminal() {
                let wake = self.job.poll_timeout();
                check!(
                    self,
                    wake.is_some_and(|w| w > self.now),
                    "nothing in flight and nothing due, yet the wake-up is {:?} from the start (now {:?})",
                    wake.map(|w| w - self.start),
                    self.now - self.start
                );
            }
            return;
        };
        self.log(format_args!("-> {} {transmit}", transmit.id));
        check!(
            self,
            self.in_flight.is_none(),
            "{transmit} handed out while {:?} is in flight",
            self.in_flight
        );
        check!(self, self.finished.is_none(), "{transmit} after the end");
        self.on_transmit(&transmit);
        self.in_flight = Some(transmit);
        let again = self.job.poll_transmit(self.now);
        check!(self, again.is_none(), "two requests at once: {again:?}");
    }

    fn on_transmit(&mut self, transmit: &Transmit) {
        if let Some(last) = self.sent.last() {
            check!(self, transmit.id > last.id, "transmit ids not increasing");
        }
        check!(
            self,
            transmit.id != TransmitId::ONESHOT,
            "a job used the one-shot id"
        );
        check!(
            self,
            self.now >= self.paused_until,
            "{transmit} sent {:?} before the shared pause ends",
            self.paused_until - self.now
        );
        // A cancel the caller asked for still goes out past the deadline (else the job runs on).
        if let Some(deadline) = self
            .deadline
            .filter(|_| transmit.kind != RequestKind::Cancel)
        {
            check!(
                self,
                self.now < self.start + deadline,
                "{transmit} sent at or past the {deadline:?} deadline"
            );
        }
        match transmit.kind {
            RequestKind::Submit => {
                check!(self, !self.scenario.resume, "a resumed job submitted");
                check!(
                    self,
                    self.submit_may_go,
                    "a submit repeated though the previous one may have arrived"
                );
                check!(
                    self,
                    self.submitted.is_none(),
                    "a submit after the job existed"
                );
                check!(
                    self,
                    self.now >= self.submit_not_before,
                    "a submit retried {:?} before its backoff ended",
                    self.submit_not_before - self.now
                );
                check!(
                    self,
                    transmit.method == Method::Post
                        && transmit.path == "/v1/models/happyhorse/happyhorse-1.0/image-to-video"
                        && transmit.body.as_deref() == Some(SUBMIT_BODY),
                    "a malformed submit {transmit:?}"
                );
                self.submit_may_go = false;
                self.submits += 1;
                self.last_submit_at = Some(self.now);
            }
            kind => {
                let id = self.job.request_id().cloned();
                check!(
                    self,
                    id.is_some() && id == self.expected_id(),
                    "{transmit} for job {id:?}, expected {:?}",
                    self.expected_id()
                );
                let (method, tail) = match kind {
                    RequestKind::Status => (Method::Get, "status"),
                    RequestKind::Result if self.scenario.config.include_cost => {
                        (Method::Get, "result?include_cost=true")
                    }
                    RequestKind::Result => (Method::Get, "result"),
                    _ => (Method::Post, "cancel"),
                };
                let path = format!("/v1/requests/{}/{tail}", id.unwrap());
                check!(
                    self,
                    transmit.method == method && transmit.path == path && transmit.body.is_none(),
                    "a malformed {kind}: {transmit:?}"
                );
                if kind == RequestKind::Cancel {
                    check!(
                        self,
                        self.cancel_called
                            && self.job.cancel_status() == Some(&CancelStatus::Requested),
                        "a cancel sent while the cancel status is {:?}",
                        self.job.cancel_status()
                    );
                } else {
                    if self.scenario.resume && !self.polled {
                        check!(
                            self,
                            kind == RequestKind::Result,
                            "a resumed job first polled {kind}, not result"
                        );
                    }
                    self.polled = true;
                }
            }
        }
        self.sent.push(transmit.clone());
    }

    /// An answer to a request not in flight: nothing changes (but the deadline may pass).
    fn stale(&mut self, answer: Option<&Answer>, not_sent: bool, pick: u8) {
        let in_flight = self.in_flight.as_ref().map(|t| t.id);
        let old: Vec<TransmitId> = self
            .sent
            .iter()
            .map(|t| t.id)
            .filter(|id| Some(*id) != in_flight)
            .collect();
        let index = usize::from(pick) % (old.len() + 1);
        let id = old.get(index).copied().unwrap_or(TransmitId::ONESHOT);
        let was_terminal = self.job.is_terminal();
        let wake = self.job.poll_timeout();
        self.cause = Cause::Stale;
        match answer {
            Some(answer) => {
                let response = answer.to_response();
                self.log(format_args!("<- stale {id} {response:?}"));
                self.job.handle_response(id, response, self.now);
            }
            None => {
                self.log(format_args!("<- stale {id} failed (not sent: {not_sent})"));
                self.job
                    .handle_transport_error(id, transport_error(not_sent), self.now);
            }
        }
        let events = self.after(false);
        if !self.job.is_terminal() {
            check!(
                self,
                events.is_empty(),
                "a stale answer produced {events:?}"
            );
            check!(
                self,
                self.job.poll_timeout() == wake,
                "a stale answer moved the wake-up"
            );
        } else if !was_terminal {
            check!(
                self,
                matches!(self.job.outcome(), Some(Outcome::DeadlineExceeded { .. })),
                "a stale answer ended the job: {:?}",
                self.job.outcome()
            );
        }
    }

    /// Drains the events and checks what must hold after every step.
    fn after(&mut self, cancelled_now: bool) -> Vec<Event> {
        let events: Vec<Event> = std::iter::from_fn(|| self.job.poll_event()).collect();
        for event in &events {
            self.log(format_args!("event {event:?}"));
            self.on_event(event, cancelled_now);
        }
        let status = self.job.cancel_status();
        if self.job.is_terminal() {
            check!(
                self,
                status != Some(&CancelStatus::Requested),
                "the job ended with a cancel still awaiting its verdict"
            );
        }
        check!(
            self,
            status == self.cancel_events.last(),
            "cancel_status {status:?} but the last verdict event was {:?}",
            self.cancel_events.last()
        );
        match (self.job.outcome(), &self.finished) {
            (Some(outcome), Some(finished)) => check!(
                self,
                outcome == finished,
                "the outcome changed from {finished:?} to {outcome:?}"
            ),
            (None, None) => {}
            (outcome, finished) => self.fail(format!(
                "outcome {outcome:?} but Finished event {finished:?}"
            )),
        }
        if self.job.is_terminal() {
            let wake = self.job.poll_timeout();
            check!(self, wake.is_none(), "a wake-up after the end: {wake:?}");
            let id = self.job.request_id().cloned();
            check!(
                self,
                id == self.expected_id(),
                "request_id {id:?} after the end, expected {:?}",
                self.expected_id()
            );
        } else {
            let id = self.job.request_id().cloned();
            check!(
                self,
                id == self.expected_id(),
                "request_id {id:?}, expected {:?}",
                self.expected_id()
            );
        }
        if let Some(transmit) = &self.in_flight
            && transmit.kind == RequestKind::Submit
        {
            check!(
                self,
                !self.job.is_terminal(),
                "the job ended while its submit was in flight: {:?}",
                self.job.outcome()
            );
        }
        events
    }

    fn on_event(&mut self, event: &Event, cancelled_now: bool) {
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
    fn check_outcome(&self, outcome: &Outcome) {
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

    /// The service now answers "succeeded" to everything: the job ends within a few steps.
    fn drain(&mut self) {
        let universal = Answer {
            status: 200,
            retry_after: None,
            date: None,
            body: Body::Raw(UNIVERSAL.as_bytes().to_vec()),
        };
        self.log(format_args!(
            "(the service now says succeeded to everything)"
        ));
        for _ in 0..100 {
            if self.job.is_terminal() {
                return;
            }
            if self.in_flight.is_some() {
                self.apply(&Action::Respond(universal.clone()));
            } else {
                let sent = self.sent.len();
                self.apply(&Action::Send);
                if self.sent.len() == sent && !self.job.is_terminal() {
                    self.apply(&Action::Wake);
                }
            }
        }
        self.fail("a job the service says succeeded did not end".to_owned());
    }

    /// Once terminal, every input is absorbed.
    fn absorb(&mut self) {
        let outcome = self.job.outcome().cloned();
        self.now += Duration::from_secs(100_000);
        self.cause = Cause::Stale;
        for transmit in self.sent.clone() {
            self.job
                .handle_response(transmit.id, Response::new(200, UNIVERSAL), self.now);
            self.job
                .handle_transport_error(transmit.id, transport_error(true), self.now);
        }
        self.job.handle_timeout(self.now);
        self.after(false);
        self.apply(&Action::Cancel);
        let transmit = self.job.poll_transmit(self.now);
        check!(self, transmit.is_none(), "{transmit:?} after the end");
        check!(
            self,
            self.job.outcome().cloned() == outcome,
            "the outcome changed"
        );
        if let Some(CancelStatus::Failed(error)) = self.job.cancel_status() {
            check_message("cancel failure", &error.to_string());
        }
    }
}

/// Whether a submit answer says "rate limited" (429, or an error code of that class).
fn rate_limited(response: &Response) -> bool {
    matches!(oneshot::read_submit(response), Err(Error::Api(api)) if api.kind == ApiErrorKind::RateLimited)
}

fn transport_error(not_sent: bool) -> TransportError {
    if not_sent {
        TransportError::NotSent("connection refused".into())
    } else {
        TransportError::MaybeSent("connection reset after sending".into())
    }
}
