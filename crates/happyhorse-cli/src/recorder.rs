//! One job of `run`, `submit` or `wait` in the ledger: its intent before the submit, its id
//! before anything prints it, then its states, end, cost and saved video. A recorder without a
//! ledger (turned off, in trouble, or an in-process emulator's job) does nothing.

use std::path::Path;
use std::time::{Duration, SystemTime};

use happyhorse_http::{ErrorKind, Event};
use happyhorse_ledger::{Intent, JobEntry, JobKey, JobState, input_digest};
use happyhorse_types::ModelSpec;
use serde_json::Value;

use crate::books::{Books, absolute};

/// How far back an identical input earns a note when submitted again.
pub(crate) const IDENTICAL_NOTE_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// The ledger's view of one job.
#[derive(Clone)]
pub(crate) struct Recorder {
    books: Books,
    key: Option<JobKey>,
}

impl Recorder {
    /// Records `intent` (waiting, bounded, for the disk).
    pub(crate) async fn record(books: Books, intent: Intent) -> Self {
        let key = books.intent(intent).await;
        Self { books, key }
    }

    /// The job whose intent [`Books::claim`] recorded as `key`.
    pub(crate) fn claimed(books: Books, key: JobKey) -> Self {
        Self {
            books,
            key: Some(key),
        }
    }

    /// The job `request_id`, found in the ledger or added to it as `origin`.
    pub(crate) fn adopt(
        books: Books,
        origin: &str,
        spec: &ModelSpec,
        base_url: &str,
        request_id: &str,
        output: Option<&Path>,
    ) -> Self {
        let mut intent = Intent::new(origin, spec.id, base_url);
        if let Some(path) = output {
            intent = intent.output(absolute(path));
        }
        let key = books
            .read(|ledger| ledger.adopt(intent, request_id))
            .map(|(key, receipt)| {
                drop(receipt);
                key
            });
        Self { books, key }
    }

    /// Records the service's id for the job, waiting (bounded) until it is on disk: call it
    /// before anything prints the id.
    pub(crate) async fn submitted(&self, request_id: &str) {
        self.books
            .write_durably(self.key.as_ref(), |ledger, key| {
                ledger.submitted(key, request_id)
            })
            .await;
    }

    /// Records a submit that failed: nothing created, or an unknown outcome.
    pub(crate) async fn submit_failed(&self, error: &happyhorse_http::Error) {
        let state = if error.submit_may_have_reached_server() == Some(false) {
            JobState::NotCreated
        } else {
            JobState::OutcomeUnknown
        };
        let detail = error.to_string();
        self.books
            .write_durably(self.key.as_ref(), |ledger, key| {
                ledger.state(key, state, Some(&detail))
            })
            .await;
    }

    /// Records a submit that was never sent (a signal came first).
    pub(crate) async fn not_sent(&self, detail: &str) {
        self.books
            .write_durably(self.key.as_ref(), |ledger, key| {
                ledger.state(key, JobState::NotCreated, Some(detail))
            })
            .await;
    }

    /// Records a submit whose answer the command stopped waiting for.
    pub(crate) async fn submit_abandoned(&self, detail: &str) {
        self.books
            .write_durably(self.key.as_ref(), |ledger, key| {
                ledger.state(key, JobState::OutcomeUnknown, Some(detail))
            })
            .await;
    }

    /// Records what an event says of the job's state.
    pub(crate) fn event(&self, event: &Event) {
        let state = match event {
            Event::Queued { .. } => JobState::Queued,
            Event::Running => JobState::Running,
            _ => return,
        };
        self.state(state, None);
    }

    /// Records how the job ended at the service.
    pub(crate) fn ended(&self, outcome: Result<Option<f64>, &happyhorse_http::Error>) {
        match outcome {
            Ok(cost) => {
                self.state(JobState::Succeeded, None);
                if let Some(usd) = cost {
                    self.books
                        .write(self.key.as_ref(), |ledger, key| ledger.cost(key, usd));
                }
            }
            Err(error) => {
                let state = match error.kind() {
                    ErrorKind::JobFailed => JobState::Failed,
                    ErrorKind::Cancelled => JobState::Cancelled,
                    // Expired, deleted, or never its job: `wait --last` must not come back to it.
                    ErrorKind::NotFound => JobState::Gone,
                    // Stopped following (a deadline, retries run out): its last state stands.
                    _ => return,
                };
                self.state(state, Some(&error.to_string()));
            }
        }
    }

    /// Records a cancel the service confirmed.
    pub(crate) fn cancelled(&self) {
        self.state(JobState::Cancelled, Some("cancelled by this command"));
    }

    /// Records where the video is to go (once the default name is known).
    pub(crate) fn output(&self, path: &Path) {
        let path = absolute(path);
        self.books
            .write(self.key.as_ref(), |ledger, key| ledger.output(key, &path));
    }

    /// Records that the job succeeded without any file to save.
    pub(crate) fn nothing_to_save(&self) {
        self.books
            .write(self.key.as_ref(), |ledger, key| ledger.nothing_to_save(key));
    }

    /// Records the saved video.
    pub(crate) fn saved(&self, path: &Path, bytes: u64) {
        let path = absolute(path);
        self.books.write(self.key.as_ref(), |ledger, key| {
            ledger.saved(key, &path, bytes)
        });
    }

    fn state(&self, state: JobState, detail: Option<&str>) {
        self.books.write(self.key.as_ref(), |ledger, key| {
            ledger.state(key, state, detail)
        });
    }
}

/// The intent to submit an input whose digest is `digest` to `base_url`, its video to go to
/// `output`.
pub(crate) fn intent(
    origin: &str,
    spec: &ModelSpec,
    base_url: &str,
    digest: &str,
    output: Option<&Path>,
) -> Intent {
    let intent = Intent::new(origin, spec.id, base_url).input_digest(digest);
    match output {
        Some(path) => intent.output(absolute(path)),
        None => intent,
    }
}

/// What the ledger says of an identical input submitted before.
#[derive(Debug)]
pub(crate) enum Earlier {
    /// Nothing to say.
    Nothing,
    /// A job with an id that may still give its video: `--once` follows it.
    Job(JobEntry),
    /// A submit whose outcome is unknown: `--once` refuses to pay again blindly.
    Unknown(JobEntry),
}

/// The input's digest, as the ledger records it.
pub(crate) fn digest(spec: &ModelSpec, body: &Value) -> String {
    input_digest(spec, body)
}

/// The most recent identical input at `base_url` worth mentioning (`since`: how far back).
pub(crate) fn earlier(
    books: &Books,
    spec: &ModelSpec,
    base_url: &str,
    digest: &str,
    since: SystemTime,
) -> Earlier {
    let entries = books
        .read(|ledger| ledger.identical(base_url, spec.id, digest, since))
        .unwrap_or_default();
    for entry in entries {
        match entry.state {
            // Nothing was paid for these, or (gone) nothing can be followed any more: the note's
            // "--once would follow it" would be false; `--once` itself refuses a gone job.
            JobState::Failed | JobState::Cancelled | JobState::NotCreated | JobState::Gone => {
                continue;
            }
            _ if entry.request_id.is_some() => return Earlier::Job(entry),
            _ => return Earlier::Unknown(entry),
        }
    }
    Earlier::Nothing
}
