//! A batch's jobs in the job ledger: each job's intent before its submit (beside the journal's),
//! its id, states, end, cost and saved video, keyed by the batch's journal and the job's id, so
//! a batch whose journal is lost can be rebuilt from the ledger without paying twice.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use happyhorse_ledger::{Intent, JobKey, JobState, input_digest};
use serde_json::Value;

use super::jobs_file::JobsFile;
use super::state::BatchState;
use crate::books::Books;

/// The origin the ledger records for a batch's jobs.
const ORIGIN: &str = "batch";

/// What the ledger needs to know of one batch run; cheap to clone into hooks.
#[derive(Clone)]
pub(crate) struct LedgerLink {
    books: Books,
    base_url: String,
    /// The journal, absolute: the batch's name in the ledger.
    journal: String,
    out_dir: PathBuf,
    /// Per job of the jobs file: its key in the ledger, once it has one.
    keys: Arc<Vec<OnceLock<JobKey>>>,
    /// Per job: the digest of the body it was submitted with.
    digests: Arc<Vec<OnceLock<String>>>,
}

impl LedgerLink {
    pub(crate) fn new(
        books: Books,
        base_url: String,
        journal: &Path,
        out_dir: &Path,
        jobs: &JobsFile,
    ) -> Self {
        let count = jobs.jobs.len();
        Self {
            books,
            base_url,
            journal: journal_name(journal),
            out_dir: out_dir.to_path_buf(),
            keys: Arc::new((0..count).map(|_| OnceLock::new()).collect()),
            digests: Arc::new((0..count).map(|_| OnceLock::new()).collect()),
        }
    }

    /// Notes the body job `index` is about to be submitted with (before its intent).
    pub(crate) fn body(&self, index: usize, jobs: &JobsFile, body: &Value) {
        if self.books.ledger().is_some() {
            let _ = self.digests[index].set(input_digest(jobs.jobs[index].model, body));
        }
    }

    /// Records job `index`'s intent (waiting, bounded, for the disk).
    pub(crate) async fn intent(&self, index: usize, jobs: &JobsFile) {
        let job = &jobs.jobs[index];
        let mut intent = Intent::new(ORIGIN, job.model.id, &self.base_url)
            .batch(&self.journal, &job.id)
            .output(self.out_dir.join(&job.output));
        if let Some(digest) = self.digests[index].get() {
            intent = intent.input_digest(digest);
        }
        if let Some(key) = self.books.intent(intent).await {
            let _ = self.keys[index].set(key);
        }
    }

    /// Finds (or adds) job `index`, followed again by its id.
    pub(crate) fn resume(&self, index: usize, jobs: &JobsFile, request_id: &str) {
        let job = &jobs.jobs[index];
        let intent = Intent::new(ORIGIN, job.model.id, &self.base_url)
            .batch(&self.journal, &job.id)
            .output(self.out_dir.join(&job.output));
        if let Some((key, receipt)) = self.books.read(|ledger| ledger.adopt(intent, request_id)) {
            drop(receipt);
            let _ = self.keys[index].set(key);
        }
    }

    fn key(&self, index: usize) -> Option<&JobKey> {
        self.keys[index].get()
    }

    pub(crate) fn submitted(&self, index: usize, request_id: &str) {
        self.books.write(self.key(index), |ledger, key| {
            ledger.submitted(key, request_id)
        });
    }

    pub(crate) fn state(&self, index: usize, state: JobState) {
        self.books.write(self.key(index), |ledger, key| {
            ledger.state(key, state, None)
        });
    }

    /// Records how the batch saw the job end, and its cost.
    pub(crate) fn ended(
        &self,
        index: usize,
        state: BatchState,
        error: Option<&str>,
        cost: Option<f64>,
    ) {
        let batch_state = state;
        let state = match state {
            BatchState::Succeeded
            | BatchState::SucceededWithoutFiles
            | BatchState::DownloadFailed => JobState::Succeeded,
            BatchState::Failed => JobState::Failed,
            BatchState::Cancelled => JobState::Cancelled,
            BatchState::Rejected | BatchState::NotSent | BatchState::Invalid => {
                JobState::NotCreated
            }
            BatchState::Unknown => JobState::OutcomeUnknown,
            // Still at the service: its last state stands.
            BatchState::Pending => return,
        };
        self.books.write(self.key(index), |ledger, key| {
            ledger.state(key, state, error)
        });
        if batch_state == BatchState::SucceededWithoutFiles {
            self.books
                .write(self.key(index), |ledger, key| ledger.nothing_to_save(key));
        }
        if let Some(usd) = cost {
            self.books
                .write(self.key(index), |ledger, key| ledger.cost(key, usd));
        }
    }

    pub(crate) fn saved(&self, index: usize, path: &Path, bytes: u64) {
        let path = crate::books::absolute(path);
        self.books.write(self.key(index), |ledger, key| {
            ledger.saved(key, &path, bytes)
        });
    }

    /// Waits (bounded) until everything is on disk.
    pub(crate) async fn flush(&self) {
        self.books.flush().await;
    }

    /// The books, for last words.
    pub(crate) fn books(&self) -> &Books {
        &self.books
    }
}

/// How the ledger names a batch: its journal's absolute path.
pub(crate) fn journal_name(journal: &Path) -> String {
    let dir = journal.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| crate::books::absolute(dir));
    dir.join(journal.file_name().unwrap_or_default())
        .display()
        .to_string()
}
