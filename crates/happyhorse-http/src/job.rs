//! Jobs: submit, follow, wait, cancel, resume — and the one-shot status, result and cancel calls.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use happyhorse_core::oneshot::{self, ResultReport, StatusReport};
use happyhorse_core::validate::{media_rule, validate_input_with, validate_media_ref};
use happyhorse_core::vocabulary::{OutputFile, output_files};
use happyhorse_core::{CancelStatus, Event, Job, JobConfig, Outcome, RequestId};
use happyhorse_types::{Model, ModelSpec, ResultResponse};
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, watch};

use crate::client::Client;
use crate::clock::Clock;
use crate::driver::{self, Command, Progress};
use crate::error::{Error, ErrorKind};
use crate::outcome::{core_error, outcome_error};

/// What a job is for, as its handle and result are typed: a generated model (every `M:`
/// [`Model`], whose result's output is `M::Output`), or [`AnyModel`], a model chosen at run time
/// (by id or short name, as the CLI does), whose output is any JSON.
pub trait JobModel: Send + Sync + 'static {
    /// The type of the result's `output` object.
    type Output: DeserializeOwned + Clone + std::fmt::Debug + Send + Sync + 'static;
}

impl<M: Model> JobModel for M {
    type Output = M::Output;
}

/// A model chosen at run time: [`Client::submit_any`], [`Client::job_any`],
/// [`Client::run_many_any`]. Its result's output is the JSON as sent.
///
/// Every model's input is still validated by its own schema and rules: only the Rust type of the
/// output is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnyModel;

impl JobModel for AnyModel {
    type Output = serde_json::Value;
}

/// A job the client is following. Created by [`Client::submit`] (once the service has given the
/// job its id) or [`Client::job`] (to follow an existing job).
///
/// Dropping a handle stops following the job; it never cancels it: a paid job keeps running at
/// the service and can be picked up again with [`Client::job`].
pub struct JobHandle<M: JobModel> {
    request_id: RequestId,
    model_id: &'static str,
    commands: mpsc::UnboundedSender<Command>,
    events: Option<mpsc::UnboundedReceiver<Event>>,
    progress: watch::Receiver<Progress>,
    _model: PhantomData<M>,
}

impl<M: JobModel> std::fmt::Debug for JobHandle<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobHandle")
            .field("model", &self.model_id)
            .field("request_id", &self.request_id)
            .finish()
    }
}

/// A finished, successful job.
///
/// A paid, succeeded job always yields its files: [`files`](Self::files) lists every http(s) URL
/// of the output whatever its shape (core's [`output_files`]), and the typed
/// [`output`](Self::output) is only a view of the same JSON that may not fit the model's schema.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JobResult<M: JobModel> {
    /// The job's id.
    pub request_id: String,
    /// The model's output as its typed struct, when the output fits the model's output schema;
    /// `None` when it came in another shape (its files are still in [`files`](Self::files)).
    pub output: Option<M::Output>,
    /// Every file of the output (URLs on the storage host), videos first, each once. Empty when
    /// the service sent a success without any URL (see [`output_json`](Self::output_json)).
    pub files: Vec<OutputFile>,
    /// The `/result` answer as the service sent it (timestamps, cost when asked for).
    pub raw: ResultResponse,
}

impl<M: JobModel> JobResult<M> {
    /// The first file's URL: a video when the output has one (videos come first).
    pub fn video_url(&self) -> Option<&str> {
        self.files.first().map(|file| file.url.as_str())
    }

    /// Every file's URL, videos first.
    pub fn urls(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|file| file.url.as_str())
    }

    /// The `output` as sent (any JSON; `null` when absent).
    pub fn output_json(&self) -> &serde_json::Value {
        self.raw.output.as_ref().unwrap_or(&serde_json::Value::Null)
    }
}

/// What asking to cancel did: core's verdict, the same for [`JobHandle::cancel`] and
/// [`Client::cancel`]. `Display` says it in a sentence.
pub use happyhorse_core::CancelVerdict as CancelResult;

impl<M: JobModel> JobHandle<M> {
    fn new(request_id: RequestId, model_id: &'static str, channels: driver::Channels) -> Self {
        Self {
            request_id,
            model_id,
            commands: channels.commands,
            events: Some(channels.events),
            progress: channels.progress,
            _model: PhantomData,
        }
    }

    /// The job's id at the service.
    pub fn request_id(&self) -> &str {
        self.request_id.as_str()
    }

    /// The model's id (`happyhorse/happyhorse-1.0/image-to-video`), or `(any)` for a job
    /// followed by [`Client::job_any`] without knowing its model.
    pub fn model_id(&self) -> &'static str {
        self.model_id
    }

    /// The job's events as they happen (queued with position, running, retrying, finished …),
    /// starting with those that happened before this call. Can be taken once; later calls give
    /// an empty stream. The stream keeps the job followed even if the handle is dropped.
    pub fn events(&mut self) -> EventStream {
        EventStream {
            events: self.events.take(),
            _keep_following: self.commands.clone(),
        }
    }

    /// Waits for the job to end.
    ///
    /// # Errors
    /// [`ErrorKind::JobFailed`] (with the service's reason), [`ErrorKind::Cancelled`],
    /// [`ErrorKind::DeadlineExceeded`] (the job may still finish: resume with [`Client::job`]),
    /// or the error that made the client give up following it.
    pub async fn wait(mut self) -> Result<JobResult<M>, Error> {
        let outcome = self
            .progress
            .wait_for(|p| p.outcome.is_some())
            .await
            .map_err(|_| Error::new(ErrorKind::Protocol, "the job's driver stopped unexpectedly"))?
            .outcome
            .clone();
        match outcome {
            Some(outcome) => job_result(outcome),
            None => Err(Error::new(
                ErrorKind::Protocol,
                "the job ended without an outcome",
            )),
        }
    }

    /// Asks the service to cancel the job and says honestly what happened.
    ///
    /// # Errors
    /// When the cancel request itself failed (after retries) or the service refused it.
    pub async fn cancel(&mut self) -> Result<CancelResult, Error> {
        self.commands
            .send(Command::Cancel)
            .map_err(|_| Error::new(ErrorKind::Protocol, "the job is no longer followed"))?;
        let progress = self
            .progress
            .wait_for(|p| p.cancel.as_ref().is_some_and(CancelStatus::is_settled))
            .await;
        let status = progress
            .map_err(|_| {
                Error::new(
                    ErrorKind::Protocol,
                    "the job's driver stopped before the cancel settled",
                )
            })?
            .cancel
            .clone();
        cancel_result(status, Some(self.request_id.as_str()))
    }
}

/// The typed result of a finished job, or the error its outcome amounts to.
pub(crate) fn job_result<M: JobModel>(outcome: Outcome) -> Result<JobResult<M>, Error> {
    match outcome {
        Outcome::Succeeded {
            request_id,
            output,
            result,
        } => {
            let files = output_files(&output);
            // Only an object is a view of the typed output: serde would read a list positionally.
            let typed = match output {
                serde_json::Value::Object(_) => serde_json::from_value(output).map_err(|error| {
                    tracing::debug!(%request_id, error = ?error.to_string(), "the output does not fit the model's output type; using its URLs");
                }).ok(),
                _ => None,
            };
            Ok(JobResult {
                request_id: request_id.to_string(),
                output: typed,
                files,
                raw: *result,
            })
        }
        other => Err(outcome_error(&other)),
    }
}

fn cancel_result(
    status: Option<CancelStatus>,
    request_id: Option<&str>,
) -> Result<CancelResult, Error> {
    let with_id = |e: Error| match request_id {
        Some(id) => e.with_request_id(id),
        None => e,
    };
    match status.as_ref().and_then(CancelStatus::verdict) {
        Some(Ok(verdict)) => Ok(verdict),
        Some(Err(error)) => Err(with_id(core_error(error))),
        None => Err(with_id(Error::new(
            ErrorKind::Protocol,
            "the cancel did not settle",
        ))),
    }
}

/// The events of one job, as a [`Stream`].
pub struct EventStream {
    events: Option<mpsc::UnboundedReceiver<Event>>,
    _keep_following: mpsc::UnboundedSender<Command>,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventStream")
    }
}

impl Stream for EventStream {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        match self.events.as_mut() {
            Some(events) => events.poll_recv(cx),
            None => Poll::Ready(None),
        }
    }
}

impl Client {
    pub(crate) fn job_config(&self) -> JobConfig {
        JobConfig::default()
            .with_poll(self.inner.poll_policy.clone())
            .with_retry(self.inner.retry_policy.clone())
            .with_seed(fastrand::u64(..))
            .with_include_cost(self.inner.include_cost)
    }

    /// Validates `input` against the model's schema (and the rules a schema cannot hold), then
    /// submits it. Returns as soon as the service has given the job its id.
    ///
    /// A submit is resent only when it provably never reached the service; otherwise the error is
    /// [`ErrorKind::SubmitOutcomeUnknown`], because a blind retry could create and bill a second job.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] before anything is sent; the service's refusal (auth, balance,
    /// …); or [`ErrorKind::SubmitOutcomeUnknown`].
    pub async fn submit<M: Model>(&self, input: &M::Input) -> Result<JobHandle<M>, Error> {
        let body = serde_json::to_value(input)
            .map_err(|e| Error::new(ErrorKind::InvalidInput, e.to_string()))?;
        self.submit_json::<M>(&body).await
    }

    /// Like [`submit`](Self::submit), for an input held as raw JSON (as the CLI reads it).
    ///
    /// # Errors
    /// As [`submit`](Self::submit).
    pub async fn submit_json<M: Model>(
        &self,
        input: &serde_json::Value,
    ) -> Result<JobHandle<M>, Error> {
        self.submit_to(M::SPEC, input).await
    }

    /// Like [`submit_json`](Self::submit_json), for a model chosen at run time — by id or short
    /// name with [`happyhorse_types::find_model`] — as the CLI does. The input is validated by
    /// that model's own schema and rules; the result's output is untyped JSON.
    ///
    /// ```no_run
    /// use happyhorse_http::Client;
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::from_env()?;
    /// let model = happyhorse_types::find_model("1.1/t2v").ok_or("no such model")?;
    /// let input = serde_json::json!({"prompt": "A horse gallops along a beach at dawn", "ratio": "9:16"});
    /// let job = client.submit_any(model, &input).await?;
    /// println!("submitted {} to {}", job.request_id(), job.model_id());
    /// let result = job.wait().await?;
    /// println!("{:?}", result.video_url());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`submit`](Self::submit).
    pub async fn submit_any(
        &self,
        model: &'static ModelSpec,
        input: &serde_json::Value,
    ) -> Result<JobHandle<AnyModel>, Error> {
        self.submit_to(model, input).await
    }

    async fn submit_to<M: JobModel>(
        &self,
        spec: &'static ModelSpec,
        input: &serde_json::Value,
    ) -> Result<JobHandle<M>, Error> {
        validate_input_with(spec, input, self.inner.validate)?;
        self.preflight(spec, input).await?;
        let body = serde_json::to_vec(input)
            .map_err(|e| Error::new(ErrorKind::InvalidInput, e.to_string()))?;
        // The intent is in the ledger (when there is one) before the submit is sent.
        #[cfg(feature = "ledger")]
        let recorded = match &self.inner.books {
            Some(books) => Some((books, books.intent(spec, &self.base_url(), input).await)),
            None => None,
        };
        let job = Job::submit(spec.id, body, self.job_config(), Clock.now());
        let mut channels = driver::spawn(job, self.inner.api.clone(), spec.id);
        let progress = channels
            .progress
            .wait_for(|p| p.request_id.is_some() || p.outcome.is_some())
            .await
            .map_err(|_| Error::new(ErrorKind::Protocol, "the job's driver stopped unexpectedly"))?
            .clone();
        match (progress.request_id, progress.outcome) {
            (Some(request_id), _) => {
                #[cfg(feature = "ledger")]
                if let Some((books, key)) = &recorded {
                    books.submitted(key, request_id.as_str()).await;
                    books.watch(key.clone(), channels.progress.clone());
                }
                Ok(JobHandle::new(request_id, spec.id, channels))
            }
            (None, Some(outcome)) => {
                let error = outcome_error(&outcome);
                #[cfg(feature = "ledger")]
                if let Some((books, key)) = &recorded {
                    books.submit_failed(key, &error);
                }
                Err(error)
            }
            (None, None) => unreachable!("wait_for returned without its condition"),
        }
    }

    /// Fetches and checks remote images first, when configured to (videos are not fetched: a
    /// download of up to 100 MB before every submit costs more than it saves).
    async fn preflight(
        &self,
        spec: &happyhorse_types::ModelSpec,
        input: &serde_json::Value,
    ) -> Result<(), Error> {
        if !self.inner.preflight_images {
            return Ok(());
        }
        let Some(fields) = input.as_object() else {
            return Ok(());
        };
        for (field, value) in fields {
            let Some(rule) = media_rule(spec, field) else {
                continue;
            };
            let Some(image) = rule.image() else { continue };
            if let Some(url) = value.as_str().filter(|u| !u.starts_with("data:")) {
                validate_media_ref(field, rule, url)
                    .map_err(happyhorse_core::validate::InputErrors::new)?;
                crate::image::preflight(&self.inner.storage, field, image, url).await?;
            }
        }
        Ok(())
    }

    /// Submits `input` and waits for the job to end: [`submit`](Self::submit) then [`JobHandle::wait`].
    ///
    /// # Errors
    /// As [`submit`](Self::submit) and [`JobHandle::wait`].
    pub async fn run<M: Model>(&self, input: &M::Input) -> Result<JobResult<M>, Error> {
        self.submit::<M>(input).await?.wait().await
    }

    /// Follows an existing job by its id: after a restart, from another process, or after a
    /// deadline passed. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when `request_id` is not a valid id.
    pub fn job<M: Model>(&self, request_id: &str) -> Result<JobHandle<M>, Error> {
        self.follow(M::SPEC.id, request_id)
    }

    /// Like [`job`](Self::job) when the job's model is not known here (a job id alone: status
    /// and result do not need it). Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// As [`job`](Self::job).
    pub fn job_any(&self, request_id: &str) -> Result<JobHandle<AnyModel>, Error> {
        self.follow("(any)", request_id)
    }

    fn follow<M: JobModel>(
        &self,
        model_id: &'static str,
        request_id: &str,
    ) -> Result<JobHandle<M>, Error> {
        let id = parse_id(request_id)?;
        let job = Job::resume(id.clone(), self.job_config(), Clock.now());
        let channels = driver::spawn(job, self.inner.api.clone(), model_id);
        #[cfg(feature = "ledger")]
        if let Some(books) = &self.inner.books
            && let Some(spec) = happyhorse_types::model_spec(model_id)
            && let Some(key) = books.adopt(spec, &self.base_url(), id.as_str())
        {
            books.watch(key, channels.progress.clone());
        }
        Ok(JobHandle::new(id, model_id, channels))
    }

    /// `GET /v1/requests/{id}/status`, read by core (numbers sent as strings included), retried
    /// like a job's polls (429, 408, 5xx, garbled answers, transport failures).
    ///
    /// # Errors
    /// The service's error ([`ErrorKind::NotFound`] for an unknown or expired id, …) or a
    /// transport error, once retries are spent.
    pub async fn status(&self, request_id: &str) -> Result<StatusReport, Error> {
        let id = parse_id(request_id)?;
        let call = oneshot::Call::status(&id, self.job_config(), Clock.now());
        driver::call(&self.inner.api, call)
            .await
            .map_err(|e| core_error(&e).with_request_id(request_id))
    }

    /// `GET /v1/requests/{id}/result` (with the cost when `include_cost`): its state and, for a
    /// succeeded job, every file of its output whatever the output's shape. Retried like
    /// [`status`](Self::status).
    ///
    /// # Errors
    /// As [`status`](Self::status).
    pub async fn result(
        &self,
        request_id: &str,
        include_cost: bool,
    ) -> Result<ResultReport, Error> {
        let id = parse_id(request_id)?;
        let call = oneshot::Call::result(&id, include_cost, self.job_config(), Clock.now());
        driver::call(&self.inner.api, call)
            .await
            .map_err(|e| core_error(&e).with_request_id(request_id))
    }

    /// `POST /v1/requests/{id}/cancel`, with the honest verdict. Any 2xx is a verdict, even a body
    /// that is not JSON; retried like [`status`](Self::status) (cancelling twice is a no-op on the
    /// service).
    ///
    /// # Errors
    /// As [`status`](Self::status); an accepted cancel is never an error.
    pub async fn cancel(&self, request_id: &str) -> Result<CancelResult, Error> {
        let id = parse_id(request_id)?;
        let call = oneshot::Call::cancel(&id, self.job_config(), Clock.now());
        driver::call(&self.inner.api, call)
            .await
            .map_err(|e| core_error(&e).with_request_id(request_id))
    }
}

fn parse_id(request_id: &str) -> Result<RequestId, Error> {
    RequestId::new(request_id).map_err(|e| Error::new(ErrorKind::InvalidInput, e.to_string()))
}
