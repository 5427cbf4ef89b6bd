//! Many jobs at once: [`Client::run_many`] submits (or resumes) a list of jobs with bounded
//! concurrency, one shared retry quota and one shared pause, and reports every job's end on a
//! stream — with what to do next about it, so nothing paid for is ever lost track of.

mod coordinator;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use happyhorse_core::{Event, Outcome, Throttle};
use happyhorse_types::{Model, ModelSpec};
use tokio::sync::{mpsc, watch};

use crate::client::Client;
use crate::error::Error;
use crate::job::{AnyModel, JobModel, JobResult};

/// One job of a batch: a new input to submit, or a job submitted earlier to follow again.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchJob {
    /// Validate this input object and submit it, to the batch's model ([`Client::run_many`]).
    Submit(serde_json::Value),
    /// Validate this input object by this model's rules and submit it to that model: a batch
    /// may mix models ([`Client::run_many_any`], or any batch).
    SubmitTo(&'static ModelSpec, serde_json::Value),
    /// Follow the job with this request id (submitted earlier, e.g. by a run that crashed).
    Resume(String),
}

/// What a batch does with its running jobs when it is cancelled (jobs not yet submitted are
/// never submitted, and jobs still queued at the service are always cancelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RunningOnCancel {
    /// Keep following them to their end; they are billed and their results reported.
    #[default]
    Follow,
    /// Stop following them at once; they go on at the service and are reported with their
    /// request id and [`NextStep::Resume`].
    Detach,
    /// Ask the service to cancel them too (it may answer that it is too late).
    Cancel,
}

type BeforeSubmit =
    Arc<dyn Fn(usize) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// How a batch runs: see [`Client::run_many`].
///
/// ```
/// use std::time::Duration;
/// use happyhorse_http::{BatchOptions, RunningOnCancel, Throttle};
///
/// let options = BatchOptions::default()
///     .concurrency(8)
///     .deadline(Duration::from_secs(30 * 60))
///     .throttle(Throttle::new(200))
///     .on_cancel(RunningOnCancel::Detach);
/// assert_eq!(options.get_concurrency(), 8);
/// ```
#[derive(Clone)]
#[must_use]
pub struct BatchOptions {
    concurrency: usize,
    deadline: Option<Duration>,
    throttle: Throttle,
    on_cancel: RunningOnCancel,
    before_submit: Option<BeforeSubmit>,
    channel_capacity: usize,
}

/// The default number of jobs alive at once: conservative, since RunComfy documents no limit.
pub const DEFAULT_CONCURRENCY: usize = 4;

impl Default for BatchOptions {
    /// [`DEFAULT_CONCURRENCY`] jobs at a time, the client's deadline, a fresh
    /// [`Throttle::default`], running jobs followed when cancelled.
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            deadline: None,
            throttle: Throttle::default(),
            on_cancel: RunningOnCancel::Follow,
            before_submit: None,
            channel_capacity: 1024,
        }
    }
}

impl std::fmt::Debug for BatchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchOptions")
            .field("concurrency", &self.concurrency)
            .field("deadline", &self.deadline)
            .field("throttle", &self.throttle)
            .field("on_cancel", &self.on_cancel)
            .field("before_submit", &self.before_submit.is_some())
            .finish()
    }
}

impl BatchOptions {
    /// At most `jobs` jobs alive at once (being submitted, queued or running); at least 1.
    pub fn concurrency(mut self, jobs: usize) -> Self {
        self.concurrency = jobs.max(1);
        self
    }

    /// Every job's deadline, from its own start (submit or resume). A job past it is reported
    /// with [`NextStep::Resume`]: it is not cancelled and may still finish.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The retry quota and pause the batch's jobs share (pass a clone to read its stats later).
    pub fn throttle(mut self, throttle: Throttle) -> Self {
        self.throttle = throttle;
        self
    }

    /// What cancelling the batch does to running jobs.
    pub fn on_cancel(mut self, running: RunningOnCancel) -> Self {
        self.on_cancel = running;
        self
    }

    /// Awaited before each submit is sent, with the job's index; an error stops that job
    /// before anything is sent. A journal records its intent here, so that a crash after the
    /// send can never leave a paid job nobody knows about.
    pub fn before_submit<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.before_submit = Some(Arc::new(move |index| Box::pin(hook(index))));
        self
    }

    /// The configured concurrency.
    pub fn get_concurrency(&self) -> usize {
        self.concurrency
    }
}

/// What to do about a job once the batch is done with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NextStep {
    /// Nothing: it succeeded, or it ended at the service (failed or cancelled) for good.
    Nothing,
    /// The job exists and may still finish: follow it again by its request id.
    Resume,
    /// No job was created (refused, never sent, cancelled before sending): submitting again
    /// cannot bill twice — after fixing the cause, if it was refused.
    Resubmit,
    /// The submit may have created a job whose id never arrived: look at the account's
    /// requests before submitting again, or the job may be billed twice.
    CheckAccount,
}

impl NextStep {
    /// The next step after a job ended with `outcome`.
    pub fn after(outcome: &Outcome) -> Self {
        match outcome {
            Outcome::Succeeded { .. } | Outcome::Failed { .. } => Self::Nothing,
            Outcome::Cancelled { request_id } => match request_id {
                Some(_) => Self::Nothing,
                None => Self::Resubmit,
            },
            Outcome::DeadlineExceeded { request_id, .. }
            | Outcome::Abandoned { request_id, .. } => match request_id {
                Some(_) => Self::Resume,
                None => Self::Resubmit,
            },
            Outcome::SubmitOutcomeUnknown(_) => Self::CheckAccount,
            Outcome::Rejected { .. } => Self::Resubmit,
            _ => Self::CheckAccount,
        }
    }
}

/// How one job of a batch ended.
#[derive(Debug)]
#[non_exhaustive]
pub struct BatchItem<M: JobModel> {
    /// The job's position in the list given to [`Client::run_many`].
    pub index: usize,
    /// The job's id, when one exists.
    pub request_id: Option<String>,
    /// The result, or why there is none.
    pub result: Result<JobResult<M>, Error>,
    /// What to do next about this job.
    pub next_step: NextStep,
    /// Whether the batch stopped following the job while it ran (see [`RunningOnCancel::Detach`]).
    pub detached: bool,
}

/// What a batch reports, job by job.
#[derive(Debug)]
#[non_exhaustive]
pub enum BatchEvent<M: JobModel> {
    /// Job `index` was admitted: its submit (or resume) starts now.
    Started {
        /// The job's position.
        index: usize,
    },
    /// Job `index` made progress (submitted, queued, running, retrying, cancel verdicts).
    Progress {
        /// The job's position.
        index: usize,
        /// What happened ([`Event::Finished`] is reported as [`BatchEvent::Finished`] instead).
        event: Event,
    },
    /// Job `index` is done with: every job of the batch ends with exactly one of these.
    Finished(BatchItem<M>),
}

/// A running batch: a [`Stream`] of [`BatchEvent`]s that ends after every job's
/// [`BatchEvent::Finished`]. Dropping it stops following the jobs (they are never cancelled
/// behind the caller's back) and starts no new ones.
pub struct Batch<M: JobModel> {
    events: mpsc::Receiver<BatchEvent<M>>,
    cancel: BatchCanceller,
    model: &'static str,
}

impl<M: JobModel> std::fmt::Debug for Batch<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("model", &self.model).finish()
    }
}

impl<M: JobModel> Batch<M> {
    /// A handle that cancels the batch from anywhere (a Ctrl-C handler, another task).
    pub fn canceller(&self) -> BatchCanceller {
        self.cancel.clone()
    }
}

impl<M: JobModel> Stream for Batch<M> {
    type Item = BatchEvent<M>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.events.poll_recv(cx)
    }
}

/// Cancels a [`Batch`]: no new job starts, queued jobs are cancelled, running jobs are treated
/// as its [`RunningOnCancel`] says. Every job is still reported.
#[derive(Debug, Clone)]
pub struct BatchCanceller {
    cancel: Arc<watch::Sender<bool>>,
}

impl BatchCanceller {
    /// Cancels the batch (again is a no-op).
    pub fn cancel(&self) {
        self.cancel.send_replace(true);
    }

    /// Whether the batch was cancelled.
    pub fn is_cancelled(&self) -> bool {
        *self.cancel.borrow()
    }
}

impl Client {
    /// Runs many jobs of model `M`, at most [`BatchOptions::concurrency`] at once, and reports
    /// each job's progress and end on the returned stream. Inputs are validated just before
    /// their submit (an invalid one ends with [`ErrorKind::InvalidInput`](crate::ErrorKind) and
    /// nothing sent); a submit is never repeated unless it provably created nothing; every job
    /// shares the options' [`Throttle`], so retries stop for all when the service is failing
    /// for many, and a `Retry-After` given to one job holds them all.
    ///
    /// Must be called inside a tokio runtime.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// use happyhorse_http::{BatchEvent, BatchJob, BatchOptions, Client, NextStep};
    /// use happyhorse_types::image_to_video::ImageToVideo;
    /// use serde_json::json;
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::from_env()?;
    /// let jobs = ["red", "blue"].map(|colour| {
    ///     BatchJob::Submit(json!({
    ///         "image_url": format!("https://example.com/{colour}.png"),
    ///         "prompt": "The horse trots towards the camera",
    ///     }))
    /// });
    /// let mut batch = client.run_many::<ImageToVideo>(jobs, BatchOptions::default().concurrency(2));
    /// while let Some(event) = batch.next().await {
    ///     if let BatchEvent::Finished(item) = event {
    ///         match (&item.result, item.next_step) {
    ///             (Ok(result), _) => println!("{}: {:?}", item.index, result.video_url()),
    ///             (Err(e), NextStep::Resume) => println!("{}: resume {:?} later: {e}", item.index, item.request_id),
    ///             (Err(e), _) => println!("{}: {e}", item.index),
    ///         }
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn run_many<M: Model>(
        &self,
        jobs: impl IntoIterator<Item = BatchJob, IntoIter: Send + 'static>,
        options: BatchOptions,
    ) -> Batch<M> {
        self.start_batch(Some(M::SPEC), M::SPEC.id, jobs, options)
    }

    /// Like [`run_many`](Self::run_many), for jobs of models chosen at run time: each job is a
    /// [`BatchJob::SubmitTo`] naming its model (or a [`BatchJob::Resume`]); a plain
    /// [`BatchJob::Submit`] names none and ends as [`ErrorKind::InvalidInput`](crate::ErrorKind)
    /// with nothing sent. Results carry the output as JSON.
    ///
    /// ```no_run
    /// use happyhorse_http::{BatchJob, BatchOptions, Client};
    /// use happyhorse_types::find_model;
    /// use serde_json::json;
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::from_env()?;
    /// let (t2v, i2v) = (find_model("t2v").unwrap(), find_model("1.1/i2v").unwrap());
    /// let jobs = vec![
    ///     BatchJob::SubmitTo(t2v, json!({"prompt": "A foal takes its first steps", "aspect_ratio": "9:16"})),
    ///     BatchJob::SubmitTo(i2v, json!({"image_url": "https://example.com/horse.png", "prompt": "The horse trots"})),
    /// ];
    /// let batch = client.run_many_any(jobs, BatchOptions::default());
    /// # drop(batch); Ok(()) }
    /// ```
    pub fn run_many_any(
        &self,
        jobs: impl IntoIterator<Item = BatchJob, IntoIter: Send + 'static>,
        options: BatchOptions,
    ) -> Batch<AnyModel> {
        self.start_batch(None, "(any)", jobs, options)
    }

    fn start_batch<M: JobModel>(
        &self,
        default_model: Option<&'static ModelSpec>,
        label: &'static str,
        jobs: impl IntoIterator<Item = BatchJob, IntoIter: Send + 'static>,
        options: BatchOptions,
    ) -> Batch<M> {
        let (events_tx, events_rx) = mpsc::channel(options.channel_capacity);
        let (cancel_tx, cancel_rx) = watch::channel(false);
        let coordinator = coordinator::Coordinator::<M>::new(
            self.clone(),
            default_model,
            options,
            events_tx,
            cancel_rx,
        );
        tokio::spawn(coordinator.run(jobs.into_iter()));
        Batch {
            events: events_rx,
            cancel: BatchCanceller {
                cancel: Arc::new(cancel_tx),
            },
            model: label,
        }
    }
}
