//! One-shot calls outside a [`Job`](crate::Job) — status, result, cancel and the catalogue — read
//! with the same vocabulary and retried with the same rule as a job's calls.
//!
//! [`Call`] is a small sans-IO machine (the same `poll_*`/`handle_*` shape as a job): it sends its
//! request, reads the answer, and retries what is worth retrying (429, 408, 5xx, garbled answers,
//! transport failures) with the [`RetryPolicy`](crate::RetryPolicy) and the
//! [`Throttle`](crate::Throttle) of its [`JobConfig`]. Every call here is idempotent: a cancel
//! sent twice is a no-op on the service. A submit is never one of them.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use happyhorse_core::{oneshot::Call, JobConfig, RequestId, Response, RetryPolicy};
//! use happyhorse_core::vocabulary::JobState;
//!
//! let now = Instant::now();
//! let id = RequestId::new("abc")?;
//! let mut call = Call::status(&id, JobConfig::default().with_seed(1), now);
//! let request = call.poll_transmit(now).unwrap();
//! assert_eq!(request.path, "/v1/requests/abc/status");
//! call.handle_response(request.id, Response::new(503, "busy"), now);
//!
//! // Retried after a backoff.
//! let wake = call.poll_timeout().unwrap();
//! assert!(call.poll_transmit(now).is_none());
//! let again = call.poll_transmit(wake).unwrap();
//! call.handle_response(again.id, Response::new(200, r#"{"status":"in_queue","queue_position":"2"}"#), wake);
//! let report = call.take_result().unwrap()?;
//! assert_eq!(report.state, JobState::Queued { position: Some(2) });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use happyhorse_types::{ResultResponse, StatusResponse, SubmitResponse};

use crate::error::{ApiError, Error};
use crate::retrying::{self, Failure, Plan, Retries};
use crate::vocabulary::{
    self, Answer, CancelVerdict, Catalogue, JobState, ModelEntry, OutputFile, Read,
};
use crate::{
    Event, JobConfig, RequestId, RequestKind, Response, Transmit, TransmitId, TransportError,
};

/// `POST /v1/models/{model_id}` with `body`. Sending it creates (and may bill) a job: never
/// repeat it after a failure that may have reached the service (a [`Job`](crate::Job) knows when).
pub fn submit(model_id: &str, body: Vec<u8>) -> Transmit {
    Transmit::submit(TransmitId::ONESHOT, model_id, body)
}

/// Reads a submit answer; the id is checked.
pub fn read_submit(response: &Response) -> Result<(RequestId, SubmitResponse), Error> {
    let submitted: SubmitResponse = vocabulary::read(RequestKind::Submit, response)
        .answer
        .into_result()?;
    Ok((vocabulary::request_id_from_submit(&submitted)?, submitted))
}

/// Reads an error answer from any call: the service's code, message, `detail` and
/// `Retry-After`, field by field, so one field of an unexpected type hides none of the others.
///
/// ```
/// use happyhorse_core::{oneshot, ApiErrorKind, Response};
///
/// let error = oneshot::read_error(&Response::new(404, r#"{"error_code":404001,"error_message":42}"#));
/// assert_eq!(error.kind, ApiErrorKind::NotFound);
/// assert_eq!(error.message, None);
/// ```
pub fn read_error(response: &Response) -> ApiError {
    vocabulary::read_error(RequestKind::Catalogue, response)
}

/// A `/status` answer: what it means, and the answer as read.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StatusReport {
    /// What the answer means.
    pub state: JobState,
    /// The answer (unknown fields dropped, numeric strings read as numbers).
    pub answer: StatusResponse,
}

/// A `/result` answer: what it means, its files, and the answer as read.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ResultReport {
    /// What the answer means.
    pub state: JobState,
    /// Every file of a succeeded job's output, videos first (empty otherwise).
    pub files: Vec<OutputFile>,
    /// The answer (unknown fields dropped, numeric strings read as numbers).
    pub answer: ResultResponse,
}

/// Reads one `/status` answer (no retries: see [`Call::status`] for those).
///
/// ```
/// use happyhorse_core::{oneshot, Response};
/// use happyhorse_core::vocabulary::JobState;
///
/// let report = oneshot::read_status(&Response::new(200, r#"{"status":"in_queue","queue_position":2}"#))?;
/// assert_eq!(report.state, JobState::Queued { position: Some(2) });
///
/// let error = oneshot::read_status(&Response::new(400, r#"{"error_code":400004,"error_message":"bad token"}"#)).unwrap_err();
/// assert!(error.to_string().starts_with("the API token was refused (HTTP 400, code 400004): bad token"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_status(response: &Response) -> Result<StatusReport, Error> {
    status_answer(response).answer.into_result()
}

/// Reads one `/result` answer (no retries: see [`Call::result`] for those).
pub fn read_result(response: &Response) -> Result<ResultReport, Error> {
    result_answer(response).answer.into_result()
}

/// Reads one cancel answer: a verdict for any 2xx, JSON or not (no retries: see [`Call::cancel`]).
///
/// ```
/// use happyhorse_core::{oneshot, CancelVerdict, Response};
///
/// // The documentation's own example, with its missing comma.
/// let body = "{\"request_id\": \"abc\", \"status\": \"in_queue\" \"outcome\": \"cancelled\"}";
/// assert_eq!(oneshot::read_cancel(&Response::new(202, body))?, CancelVerdict::Cancelled);
/// # Ok::<(), happyhorse_core::Error>(())
/// ```
pub fn read_cancel(response: &Response) -> Result<CancelVerdict, Error> {
    vocabulary::read_cancel(response).answer.into_result()
}

/// Reads one `GET /v1/models` answer.
pub fn read_models(response: &Response) -> Result<Catalogue, Error> {
    vocabulary::read_catalogue(response).answer.into_result()
}

/// Reads one `GET /v1/models/{id}` answer.
pub fn read_model(response: &Response) -> Result<ModelEntry, Error> {
    vocabulary::read_model(response).answer.into_result()
}

fn status_answer(response: &Response) -> Read<StatusReport> {
    let read = vocabulary::read::<StatusResponse>(RequestKind::Status, response);
    Read {
        answer: read.answer.map(|answer| StatusReport {
            state: vocabulary::state_from_status(&answer),
            answer,
        }),
        retry_after: read.retry_after,
    }
}

fn result_answer(response: &Response) -> Read<ResultReport> {
    let read = vocabulary::read::<ResultResponse>(RequestKind::Result, response);
    Read {
        answer: read.answer.map(|answer| {
            // One look, no waiting: a result that says it succeeded without an output is a
            // success without files (a job waits a little for the output first).
            let state = match vocabulary::state_from_result(&answer) {
                JobState::Unrecognised { status } => {
                    match vocabulary::succeeded_without_output(&answer) {
                        Some(output) => JobState::Succeeded { output },
                        None => JobState::Unrecognised { status },
                    }
                }
                state => state,
            };
            let files = match &state {
                JobState::Succeeded { output } => vocabulary::output_files(output),
                _ => Vec::new(),
            };
            ResultReport {
                state,
                files,
                answer,
            }
        }),
        retry_after: read.retry_after,
    }
}

/// One idempotent call and its retries, as a sans-IO machine: drain [`poll_transmit`](Self::poll_transmit),
/// feed back [`handle_response`](Self::handle_response) or
/// [`handle_transport_error`](Self::handle_transport_error), sleep until
/// [`poll_timeout`](Self::poll_timeout), and stop once [`take_result`](Self::take_result) gives
/// the answer. Retries are reported as [`Event::Retrying`] by [`poll_event`](Self::poll_event).
pub struct Call<T> {
    request: Transmit,
    read: fn(&Response) -> Read<T>,
    config: JobConfig,
    rng: fastrand::Rng,
    retries: Retries,
    failures: u32,
    next_id: u64,
    not_before: Instant,
    in_flight: Option<TransmitId>,
    done: bool,
    result: Option<Result<T, Error>>,
    events: VecDeque<Event>,
}

impl<T> std::fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("request", &self.request)
            .field("failures", &self.failures)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Call<StatusReport> {
    /// `GET /v1/requests/{id}/status`.
    pub fn status(request_id: &RequestId, config: JobConfig, now: Instant) -> Self {
        let request =
            Transmit::for_job(TransmitId::ONESHOT, RequestKind::Status, request_id, false);
        Self::new(request, status_answer, config, now)
    }
}

impl Call<ResultReport> {
    /// `GET /v1/requests/{id}/result`, with `?include_cost=true` when `include_cost`.
    pub fn result(
        request_id: &RequestId,
        include_cost: bool,
        config: JobConfig,
        now: Instant,
    ) -> Self {
        let request = Transmit::for_job(
            TransmitId::ONESHOT,
            RequestKind::Result,
            request_id,
            include_cost,
        );
        Self::new(request, result_answer, config, now)
    }
}

impl Call<CancelVerdict> {
    /// `POST /v1/requests/{id}/cancel`: any 2xx is a verdict, never an error.
    pub fn cancel(request_id: &RequestId, config: JobConfig, now: Instant) -> Self {
        let request =
            Transmit::for_job(TransmitId::ONESHOT, RequestKind::Cancel, request_id, false);
        Self::new(request, vocabulary::read_cancel, config, now)
    }
}

impl Call<Catalogue> {
    /// `GET /v1/models`.
    pub fn models(config: JobConfig, now: Instant) -> Self {
        let request = Transmit::catalogue(TransmitId::ONESHOT, None);
        Self::new(request, vocabulary::read_catalogue, config, now)
    }
}

impl Call<ModelEntry> {
    /// `GET /v1/models/{model_id}`.
    pub fn model(model_id: &str, config: JobConfig, now: Instant) -> Self {
        let request = Transmit::catalogue(TransmitId::ONESHOT, Some(model_id));
        Self::new(request, vocabulary::read_model, config, now)
    }
}

impl<T> Call<T> {
    fn new(
        request: Transmit,
        read: fn(&Response) -> Read<T>,
        config: JobConfig,
        now: Instant,
    ) -> Self {
        let seed = config.seed().unwrap_or(0x5eed);
        Self {
            request,
            read,
            rng: fastrand::Rng::with_seed(seed),
            config,
            retries: Retries::default(),
            failures: 0,
            next_id: 1,
            not_before: now,
            in_flight: None,
            done: false,
            result: None,
            events: VecDeque::new(),
        }
    }

    /// Which call this is.
    pub fn kind(&self) -> RequestKind {
        self.request.kind
    }

    /// The request to send, when one is due at `now` (one at a time).
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        if self.done
            || self.in_flight.is_some()
            || now < self.not_before
            || retrying::is_paused(&self.config, now)
        {
            return None;
        }
        let mut request = self.request.clone();
        request.id = TransmitId(self.next_id);
        self.next_id += 1;
        self.in_flight = Some(request.id);
        Some(request)
    }

    /// When to call [`poll_transmit`](Self::poll_transmit) again: the end of a backoff or of a
    /// shared pause. `None` while a request is in flight or once done.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.done || self.in_flight.is_some() {
            return None;
        }
        Some(retrying::resume_at(&self.config, self.not_before))
    }

    /// The answer to request `id`.
    pub fn handle_response(&mut self, id: TransmitId, response: Response, now: Instant) {
        if self.in_flight != Some(id) {
            return;
        }
        self.in_flight = None;
        let read = (self.read)(&response);
        match read.answer {
            Answer::Ok(value) => {
                self.retries.record_success(&self.config);
                self.finish(Ok(value));
            }
            Answer::Api(error) => self.failed(Error::Api(error), read.retry_after, now),
            Answer::Garbled(error) => self.failed(error, read.retry_after, now),
        }
    }

    /// Request `id` got no (complete) answer. Every one-shot call is idempotent, so it is retried
    /// whether or not it may have reached the service.
    pub fn handle_transport_error(&mut self, id: TransmitId, error: TransportError, now: Instant) {
        if self.in_flight != Some(id) {
            return;
        }
        self.in_flight = None;
        self.failed(Error::Transport(error), None, now);
    }

    fn failed(&mut self, reason: Error, retry_after: Option<Duration>, now: Instant) {
        if !reason.is_retryable() {
            return self.finish(Err(reason));
        }
        self.failures += 1;
        let failure = Failure {
            request: self.request.kind,
            attempts: self.failures,
            reason,
            retry_after,
        };
        match self
            .retries
            .plan(&self.config, &mut self.rng, failure, now, &mut self.events)
        {
            Plan::After(delay) => self.not_before = now + delay,
            Plan::GiveUp(error) => self.finish(Err(error)),
        }
    }

    fn finish(&mut self, result: Result<T, Error>) {
        self.done = true;
        self.result = Some(result);
    }

    /// The next event (only [`Event::Retrying`]), oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether the call has its answer (or gave up).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The answer, once done (taken: later calls give `None`).
    pub fn take_result(&mut self) -> Option<Result<T, Error>> {
        self.result.take()
    }
}
