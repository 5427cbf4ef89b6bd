//! The batch loop: admits jobs up to the concurrency, forwards their events, applies a cancel,
//! and reports every job exactly once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use happyhorse_core::validate::validate_input_with;
use happyhorse_core::{Event, Job, RequestId};
use happyhorse_types::ModelSpec;
use tokio::sync::{mpsc, watch};

use super::{BatchEvent, BatchItem, BatchJob, BatchOptions, NextStep, RunningOnCancel};
use crate::client::Client;
use crate::clock::Clock;
use crate::driver::{self, Command};
use crate::error::{Error, ErrorKind};
use crate::job::{JobModel, job_result};

/// Where a job is, as far as a cancel is concerned.
const SUBMITTING: u8 = 0;
const QUEUED: u8 = 1;
const RUNNING: u8 = 2;

/// The coordinator's grip on one admitted job: dropping `control` detaches it.
struct Admitted {
    control: Option<mpsc::UnboundedSender<Command>>,
    phase: Arc<AtomicU8>,
}

pub(super) struct Coordinator<M: JobModel> {
    client: Client,
    /// The model of a [`BatchJob::Submit`]; `None` for a batch of any model.
    default_model: Option<&'static ModelSpec>,
    options: BatchOptions,
    events: mpsc::Sender<BatchEvent<M>>,
    cancel: watch::Receiver<bool>,
}

impl<M: JobModel> Coordinator<M> {
    pub(super) fn new(
        client: Client,
        default_model: Option<&'static ModelSpec>,
        options: BatchOptions,
        events: mpsc::Sender<BatchEvent<M>>,
        cancel: watch::Receiver<bool>,
    ) -> Self {
        Self {
            client,
            default_model,
            options,
            events,
            cancel,
        }
    }

    pub(super) async fn run(mut self, mut jobs: impl Iterator<Item = BatchJob>) {
        let mut running = FuturesUnordered::new();
        let mut admitted: HashMap<usize, Admitted> = HashMap::new();
        let mut next_index = 0;
        let (mut cancelled, mut cancel_open, mut listener_gone) = (false, true, false);
        loop {
            while !cancelled && !listener_gone && running.len() < self.options.concurrency {
                let Some(job) = jobs.next() else { break };
                let (control, commands) = mpsc::unbounded_channel();
                let phase = Arc::new(AtomicU8::new(match job {
                    BatchJob::Submit(_) | BatchJob::SubmitTo(..) => SUBMITTING,
                    BatchJob::Resume(_) => QUEUED,
                }));
                admitted.insert(
                    next_index,
                    Admitted {
                        control: Some(control),
                        phase: Arc::clone(&phase),
                    },
                );
                let one = OneJob {
                    client: self.client.clone(),
                    default_model: self.default_model,
                    options: self.options.clone(),
                    index: next_index,
                    events: self.events.clone(),
                    phase,
                };
                running.push(one.run(job, commands));
                next_index += 1;
            }
            if running.is_empty() {
                break;
            }
            tokio::select! {
                Some(item) = running.next() => {
                    admitted.remove(&item.index);
                    if self.events.send(BatchEvent::Finished(item)).await.is_err() && !listener_gone {
                        // Nobody listens any more: stop following (never cancel) and start nothing.
                        listener_gone = true;
                        admitted.values_mut().for_each(|a| a.control = None);
                    }
                }
                changed = self.cancel.changed(), if cancel_open && !cancelled => match changed {
                    Ok(()) if *self.cancel.borrow() => {
                        cancelled = true;
                        self.cancel_admitted(&mut admitted);
                    }
                    Ok(()) => {}
                    Err(_) => cancel_open = false,
                },
            }
        }
        if cancelled {
            for index in next_index.. {
                if jobs.next().is_none() {
                    break;
                }
                let item = BatchItem {
                    index,
                    request_id: None,
                    result: Err(not_submitted()),
                    next_step: NextStep::Resubmit,
                    detached: false,
                };
                if self.events.send(BatchEvent::Finished(item)).await.is_err() {
                    break;
                }
            }
        }
    }

    fn cancel_admitted(&self, admitted: &mut HashMap<usize, Admitted>) {
        for job in admitted.values_mut() {
            let running = job.phase.load(Ordering::Relaxed) == RUNNING;
            match (running, self.options.on_cancel) {
                (true, RunningOnCancel::Follow) => {}
                (true, RunningOnCancel::Detach) => job.control = None,
                _ => {
                    if let Some(control) = &job.control {
                        let _ = control.send(Command::Cancel);
                    }
                }
            }
        }
    }
}

/// One admitted job, from its submit (or resume) to its [`BatchItem`].
struct OneJob<M: JobModel> {
    client: Client,
    default_model: Option<&'static ModelSpec>,
    options: BatchOptions,
    index: usize,
    events: mpsc::Sender<BatchEvent<M>>,
    phase: Arc<AtomicU8>,
}

impl<M: JobModel> OneJob<M> {
    async fn run(
        self,
        job: BatchJob,
        mut commands: mpsc::UnboundedReceiver<Command>,
    ) -> BatchItem<M> {
        let index = self.index;
        let _ = self.events.send(BatchEvent::Started { index }).await;
        let model_id = match &job {
            BatchJob::SubmitTo(spec, _) => spec.id,
            _ => self.default_model.map_or("(any)", |spec| spec.id),
        };
        let job = match self.start(job, &mut commands).await {
            Ok(job) => job,
            Err((error, next_step)) => return self.item(None, Err(error), next_step, false),
        };
        let channels = driver::spawn(job, self.client.inner.api.clone(), model_id);
        let (mut driver_events, progress) = (channels.events, channels.progress);
        let mut driver_commands = Some(channels.commands);
        let mut commands_open = true;
        loop {
            tokio::select! {
                event = driver_events.recv() => match event {
                    // The outcome is read from `progress` once the driver is done.
                    Some(Event::Finished(_)) => {}
                    Some(event) => {
                        self.track(&event);
                        let _ = self.events.send(BatchEvent::Progress { index, event }).await;
                    }
                    None => break,
                },
                command = commands.recv(), if commands_open => match command {
                    Some(command) => {
                        if let Some(driver) = &driver_commands {
                            let _ = driver.send(command);
                        }
                    }
                    // Detached: the driver stops following once the job has an id.
                    None => {
                        commands_open = false;
                        driver_commands = None;
                    }
                },
            }
        }
        let progress = progress.borrow().clone();
        match progress.outcome {
            Some(outcome) => {
                let next_step = NextStep::after(&outcome);
                let request_id = outcome.request_id().map(|id| id.to_string());
                self.item(request_id, job_result(outcome), next_step, false)
            }
            None => {
                let request_id = progress.request_id.map(|id| id.to_string());
                let mut error = Error::new(
                    ErrorKind::Detached,
                    "no longer followed: the job goes on at the service; resume it by its request id",
                );
                if let Some(id) = &request_id {
                    error = error.with_request_id(id);
                }
                self.item(request_id, Err(error), NextStep::Resume, true)
            }
        }
    }

    /// The core job to drive, once the input is valid and the intent to submit is recorded.
    async fn start(
        &self,
        job: BatchJob,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Result<Job, (Error, NextStep)> {
        let mut config = self
            .client
            .job_config()
            .with_throttle(self.options.throttle.clone());
        if let Some(deadline) = self.options.deadline {
            let poll = config.poll().clone().with_deadline(Some(deadline));
            config = config.with_poll(poll);
        }
        match job {
            BatchJob::Resume(id) => {
                let id = RequestId::new(id).map_err(|e| {
                    let error = Error::new(ErrorKind::InvalidInput, e.to_string());
                    (error, NextStep::Nothing)
                })?;
                Ok(Job::resume(id, config, Clock.now()))
            }
            BatchJob::Submit(input) => {
                let spec = self.default_model.ok_or_else(|| {
                    let error = Error::new(
                        ErrorKind::InvalidInput,
                        "a batch of any model needs each job's model (BatchJob::SubmitTo); nothing was sent",
                    );
                    (error, NextStep::Resubmit)
                })?;
                self.submit(spec, input, commands, config).await
            }
            BatchJob::SubmitTo(spec, input) => self.submit(spec, input, commands, config).await,
        }
    }

    /// Validates `input` by `spec`'s rules, records the intent (the hook), and makes the job.
    async fn submit(
        &self,
        spec: &'static ModelSpec,
        input: serde_json::Value,
        commands: &mut mpsc::UnboundedReceiver<Command>,
        config: happyhorse_core::JobConfig,
    ) -> Result<Job, (Error, NextStep)> {
        {
            {
                validate_input_with(spec, &input, self.client.inner.validate)
                    .map_err(|e| (e.into(), NextStep::Resubmit))?;
                let body = serde_json::to_vec(&input).map_err(|e| {
                    let error = Error::new(ErrorKind::InvalidInput, e.to_string());
                    (error, NextStep::Resubmit)
                })?;
                if let Some(hook) = &self.options.before_submit {
                    hook(self.index).await.map_err(|reason| {
                        let error = Error::new(
                            ErrorKind::Config,
                            format!("not submitted (nothing was sent): {reason}"),
                        );
                        (error, NextStep::Resubmit)
                    })?;
                }
                // A cancel (or detach) that came while the intent was being recorded.
                if !matches!(commands.try_recv(), Err(mpsc::error::TryRecvError::Empty)) {
                    return Err((not_submitted(), NextStep::Resubmit));
                }
                Ok(Job::submit(spec.id, body, config, Clock.now()))
            }
        }
    }

    fn track(&self, event: &Event) {
        let phase = match event {
            Event::Submitted { .. } | Event::Queued { .. } => QUEUED,
            Event::Running => RUNNING,
            _ => return,
        };
        self.phase.store(phase, Ordering::Relaxed);
    }

    fn item(
        &self,
        request_id: Option<String>,
        result: Result<crate::JobResult<M>, Error>,
        next_step: NextStep,
        detached: bool,
    ) -> BatchItem<M> {
        BatchItem {
            index: self.index,
            request_id,
            result,
            next_step,
            detached,
        }
    }
}

/// The error of a job the batch was cancelled before submitting.
fn not_submitted() -> Error {
    Error::new(
        ErrorKind::Cancelled,
        "the batch was cancelled before this job was submitted; nothing was sent",
    )
}
