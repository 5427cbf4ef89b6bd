//! The one loop: drives core's sans-IO [`Job`] (and, in [`call`], a one-shot
//! [`oneshot::Call`]) with real requests and the client's [`Clock`].
//!
//! Feed inputs (answers, transport failures, timeouts, commands), drain outputs (requests,
//! events), re-arm one timer from `poll_timeout`. Everything the loop learns is published on a
//! `watch` channel for [`JobHandle`](crate::JobHandle); events also go to an unbounded queue
//! for [`JobHandle::events`](crate::JobHandle::events).

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use happyhorse_core::{
    CancelStatus, Event, Job, Outcome, RequestId, Response, Transmit, TransportError, oneshot,
};
use tokio::sync::{mpsc, watch};
use tracing::Instrument;

use crate::clock::Clock;
use crate::transport::{ApiTransport, SendFailure};

/// What the handle can ask of a running job.
#[derive(Debug)]
pub(crate) enum Command {
    Cancel,
}

/// What the loop has learnt so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct Progress {
    pub(crate) request_id: Option<RequestId>,
    pub(crate) cancel: Option<CancelStatus>,
    pub(crate) outcome: Option<Outcome>,
}

/// The channels a [`JobHandle`](crate::JobHandle) holds.
pub(crate) struct Channels {
    pub(crate) commands: mpsc::UnboundedSender<Command>,
    pub(crate) events: mpsc::UnboundedReceiver<Event>,
    pub(crate) progress: watch::Receiver<Progress>,
}

/// Starts driving `job` on the current tokio runtime.
pub(crate) fn spawn(job: Job, api: ApiTransport, model_id: &str) -> Channels {
    let (commands_tx, commands_rx) = mpsc::unbounded_channel();
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let initial = Progress {
        request_id: job.request_id().cloned(),
        ..Progress::default()
    };
    let (progress_tx, progress_rx) = watch::channel(initial);
    let span = tracing::debug_span!("job", model = model_id, request_id = tracing::field::Empty);
    if let Some(id) = job.request_id() {
        span.record("request_id", id.as_str());
    }
    let driver = Driver {
        job,
        api,
        commands: commands_rx,
        events: events_tx,
        progress: progress_tx,
        span: span.clone(),
    };
    tokio::spawn(driver.run().instrument(span));
    Channels {
        commands: commands_tx,
        events: events_rx,
        progress: progress_rx,
    }
}

struct Driver {
    job: Job,
    api: ApiTransport,
    commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<Event>,
    progress: watch::Sender<Progress>,
    span: tracing::Span,
}

type Answer = (happyhorse_core::TransmitId, Result<Response, SendFailure>);

impl Driver {
    async fn run(mut self) {
        let mut in_flight = FuturesUnordered::new();
        let mut commands_open = true;
        let clock = Clock;
        loop {
            let now = clock.now();
            while let Some(transmit) = self.job.poll_transmit(now) {
                in_flight.push(send(self.api.clone(), transmit));
            }
            self.publish();
            if self.job.is_terminal() {
                break;
            }
            let wake = self.job.poll_timeout();
            tokio::select! {
                Some((id, answer)) = in_flight.next() => {
                    let now = clock.now();
                    match answer {
                        Ok(response) => self.job.handle_response(id, response, now),
                        Err(failure) => self.job.handle_transport_error(id, transport_error(failure), now),
                    }
                }
                () = clock.sleep_until(wake) => self.job.handle_timeout(clock.now()),
                command = self.commands.recv(), if commands_open => match command {
                    Some(Command::Cancel) => self.job.cancel(clock.now()),
                    // Every handle is gone: stop following once nothing is in flight. The job itself
                    // goes on at the service (a paid job is never cancelled behind the caller's back).
                    None => commands_open = false,
                },
            }
            if !commands_open && in_flight.is_empty() {
                self.publish();
                if let Some(id) = self.job.request_id() {
                    // The caller stopped listening: make sure the id is not lost with it.
                    tracing::warn!(request_id = %id, "no longer following job {id}; it continues on the service");
                    return;
                }
            }
        }
    }

    /// Forwards new events and publishes what changed.
    fn publish(&mut self) {
        while let Some(event) = self.job.poll_event() {
            log_event(&event);
            if let Event::Submitted { request_id } = &event {
                self.span.record("request_id", request_id.as_str());
            }
            // The receiver may be gone (nobody listens to events): that is fine.
            let _ = self.events.send(event);
        }
        let next = Progress {
            request_id: self.job.request_id().cloned(),
            cancel: self.job.cancel_status().cloned(),
            outcome: self.job.outcome().cloned(),
        };
        self.progress.send_if_modified(|current| {
            let changed = current.request_id != next.request_id
                || current.cancel != next.cancel
                || current.outcome != next.outcome;
            if changed {
                *current = next;
            }
            changed
        });
    }
}

async fn send(api: ApiTransport, transmit: Transmit) -> Answer {
    let id = transmit.id;
    (id, api.execute(transmit).await)
}

/// Drives a one-shot call to its answer: sends, reads (core reads), retries as core plans.
pub(crate) async fn call<T>(
    api: &ApiTransport,
    mut call: oneshot::Call<T>,
) -> Result<T, happyhorse_core::Error> {
    let clock = Clock;
    loop {
        while let Some(event) = call.poll_event() {
            log_event(&event);
        }
        if let Some(result) = call.take_result() {
            return result;
        }
        match call.poll_transmit(clock.now()) {
            Some(transmit) => {
                let id = transmit.id;
                let answer = api.execute(transmit).await;
                let now = clock.now();
                match answer {
                    Ok(response) => call.handle_response(id, response, now),
                    Err(failure) => call.handle_transport_error(id, transport_error(failure), now),
                }
            }
            None => clock.sleep_until(call.poll_timeout()).await,
        }
    }
}

fn transport_error(failure: SendFailure) -> TransportError {
    let message = failure.error.to_string();
    if failure.maybe_sent {
        TransportError::MaybeSent(message)
    } else {
        TransportError::NotSent(message)
    }
}

/// Logs an event. Fields carrying the service's text (a retry's reason, an outcome) are written
/// with `Debug` escaping, so no subscriber prints an escape sequence from the service raw.
fn log_event(event: &Event) {
    match event {
        Event::Submitted { request_id } => tracing::debug!(%request_id, "submitted"),
        Event::Queued { position } => tracing::debug!(?position, "queued"),
        Event::Running => tracing::debug!("running"),
        Event::Retrying {
            request,
            retry,
            delay,
            reason,
        } => {
            tracing::debug!(%request, retry, ?delay, reason = ?reason.to_string(), "retrying");
        }
        Event::Unrecognised { status } => tracing::debug!(status, "unrecognised status"),
        Event::Cancel(status) => tracing::debug!(?status, "cancel"),
        Event::Finished(outcome) => tracing::debug!(outcome = ?outcome.to_string(), "finished"),
        other => tracing::debug!(?other, "event"),
    }
}
