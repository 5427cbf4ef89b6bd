//! Opt-in (feature `ledger`, then [`ClientBuilder::ledger`](crate::ClientBuilder::ledger)): the
//! client records the jobs it submits and follows in a happyhorse job ledger — the intent before
//! the submit is sent, the id as soon as it is known, and how the job ended, with its cost — so
//! `happyhorse jobs` lists them and `happyhorse wait --last` can resume them.
//!
//! The ledger never stops a job: a write that fails or takes longer than [`WRITE_WAIT`] is
//! logged once (`tracing::warn!`) and the job goes on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use happyhorse_core::Outcome;
use happyhorse_ledger::{Intent, JobKey, JobState, Ledger, Receipt, input_digest};
use happyhorse_types::ModelSpec;
use tokio::sync::watch;

use crate::driver::Progress;
use crate::error::Error;

/// The longest a submit waits for its intent (or its id) to reach the disk.
const WRITE_WAIT: Duration = Duration::from_secs(3);

/// The origin recorded for the library's jobs.
const ORIGIN: &str = "library";

/// The client's ledger, and whether it has been warned about.
#[derive(Debug, Clone)]
pub(crate) struct Books {
    ledger: Ledger,
    troubled: Arc<AtomicBool>,
}

impl Books {
    pub(crate) fn new(ledger: Ledger) -> Self {
        Self {
            ledger,
            troubled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Records the intent to submit `input`, waiting (bounded) for the disk.
    pub(crate) async fn intent(
        &self,
        spec: &ModelSpec,
        base_url: &str,
        input: &serde_json::Value,
    ) -> JobKey {
        let intent = Intent::new(ORIGIN, spec.id, base_url).input_digest(input_digest(spec, input));
        let (key, receipt) = self.ledger.intent(intent);
        self.durable(receipt).await;
        key
    }

    /// Records the id, waiting (bounded) for the disk.
    pub(crate) async fn submitted(&self, key: &JobKey, request_id: &str) {
        self.durable(self.ledger.submitted(key, request_id)).await;
    }

    /// Records a submit that failed.
    pub(crate) fn submit_failed(&self, key: &JobKey, error: &Error) {
        let state = if error.submit_may_have_reached_server() == Some(false) {
            JobState::NotCreated
        } else {
            JobState::OutcomeUnknown
        };
        drop(self.ledger.state(key, state, Some(&error.to_string())));
    }

    /// The key of a job followed by id (added to the ledger if it is not there).
    pub(crate) fn adopt(
        &self,
        spec: &ModelSpec,
        base_url: &str,
        request_id: &str,
    ) -> Option<JobKey> {
        match self
            .ledger
            .adopt(Intent::new(ORIGIN, spec.id, base_url), request_id)
        {
            Ok((key, _)) => Some(key),
            Err(error) => {
                self.warn(&error);
                None
            }
        }
    }

    /// Records how the job ends, whenever it does (a task that lives as long as the job's driver).
    pub(crate) fn watch(&self, key: JobKey, mut progress: watch::Receiver<Progress>) {
        let books = self.clone();
        tokio::spawn(async move {
            let Ok(progress) = progress.wait_for(|p| p.outcome.is_some()).await else {
                return;
            };
            let (state, cost) = match &progress.outcome {
                Some(Outcome::Succeeded { result, .. }) => (JobState::Succeeded, result.cost),
                Some(Outcome::Failed { .. }) => (JobState::Failed, None),
                Some(Outcome::Cancelled { .. }) => (JobState::Cancelled, None),
                Some(Outcome::SubmitOutcomeUnknown(_)) => (JobState::OutcomeUnknown, None),
                Some(Outcome::Rejected { .. }) => (JobState::NotCreated, None),
                // The service does not know the id (expired, deleted): nothing more can come of it.
                Some(Outcome::Abandoned {
                    request_id: Some(_),
                    error: happyhorse_core::Error::Api(api),
                }) if api.kind == happyhorse_core::ApiErrorKind::NotFound => (JobState::Gone, None),
                // Stopped following: the job may go on; its last state stands.
                _ => return,
            };
            drop(books.ledger.state(&key, state, None));
            if let Some(usd) = cost {
                drop(books.ledger.cost(&key, usd));
            }
        });
    }

    async fn durable(&self, receipt: Receipt) {
        if self.troubled.load(Ordering::Relaxed) {
            return;
        }
        match tokio::time::timeout(WRITE_WAIT, receipt.durable()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => self.warn(&error),
            Err(_) => {
                if !self.troubled.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        ledger = %self.ledger.path().display(),
                        "a job ledger write took more than {}s; going on without waiting for it",
                        WRITE_WAIT.as_secs()
                    );
                }
            }
        }
    }

    fn warn(&self, error: &happyhorse_ledger::Error) {
        if !self.troubled.swap(true, Ordering::Relaxed) {
            tracing::warn!(%error, "the job ledger failed; jobs go on without it");
        }
    }
}
