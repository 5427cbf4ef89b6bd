//! The job ledger: every job happyhorse submits, recorded durably on the user's machine, so that
//! a request id cannot be lost and an input is not paid for twice by accident.
//!
//! An embedded SQLite database (bundled, WAL, a busy timeout, full sync) in the per-user state
//! directory (see [`Location`]), safe for several processes at once. For each job it holds the
//! **intent** (model, input digest, time) written before the submit is sent, the **request id**
//! the moment it is known, then every **state** change, the **output** path, where the video was
//! **saved** and the **cost**. Its queries answer `happyhorse jobs`, `wait --last`, `wait ID`
//! (with the output path the job was started with), `run --once` (an identical input submitted
//! before) and a batch's recovery when its journal is damaged.
//!
//! Writes go to one background thread that commits whatever is waiting in one transaction
//! (group commit); each write returns a [`Receipt`] that resolves once it is on disk.
//!
//! **Invariant:** the ledger never stops a paid job. Every error here is for the caller to warn
//! about and go on without the ledger (a read-only home, a damaged file, a lock held too long).
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use happyhorse_ledger::{Intent, JobState, Ledger, input_digest};
//! use happyhorse_types::image_to_video::SPEC;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let ledger = Ledger::open(dir.path().join("ledger.sqlite3"))?;
//! let input = serde_json::json!({"image_url": "https://example.com/h.png", "prompt": "a horse"});
//! let digest = input_digest(&SPEC, &input);
//! let base = "https://model-api.runcomfy.net";
//!
//! // Before the submit is sent:
//! let (key, receipt) = ledger.intent(Intent::new("run", SPEC.id, base).input_digest(&digest).output("h.mp4"));
//! receipt.wait()?;
//! // The moment the service answers:
//! ledger.submitted(&key, "9a082d01-7be7-a6d9-8177-bd6acc68bbbb").wait()?;
//! ledger.state(&key, JobState::Running, None).wait()?;
//!
//! let last = ledger.last_unfinished(base)?.expect("the job is running");
//! assert_eq!(last.request_id.as_deref(), Some("9a082d01-7be7-a6d9-8177-bd6acc68bbbb"));
//! assert_eq!(last.output.as_deref(), Some("h.mp4".as_ref()));
//! let day_ago = SystemTime::now() - Duration::from_secs(24 * 3600);
//! assert_eq!(ledger.identical(base, SPEC.id, &digest, day_ago)?.len(), 1);
//! # Ok(()) }
//! ```

mod digest;
mod entry;
mod error;
mod location;
mod query;
mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use rusqlite::Connection;

pub use digest::input_digest;
pub use entry::{BatchRef, Claim, Filter, Intent, JobEntry, JobKey, JobState};
pub use error::{Error, ErrorKind};
pub use location::{FILE_NAME, LEDGER_ENV_VAR, Location};
pub use writer::Receipt;

use writer::{Change, Writer};

/// How long a write or an open waits for another process's lock by default.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An open ledger. Cheap to clone; every clone shares one writer thread and one reader.
#[derive(Clone, Debug)]
pub struct Ledger {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    path: PathBuf,
    writer: Writer,
    reader: Mutex<Connection>,
}

impl Ledger {
    /// Opens (creating if needed) the ledger at `path`, with [`DEFAULT_BUSY_TIMEOUT`].
    ///
    /// # Errors
    /// [`ErrorKind::ReadOnly`], [`ErrorKind::Corrupt`], [`ErrorKind::Foreign`],
    /// [`ErrorKind::TooNew`], [`ErrorKind::Locked`] or [`ErrorKind::Io`]; the file is left as it was.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::open_with(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// [`Ledger::open`], waiting at most `busy_timeout` for another process's lock on each
    /// open and each write.
    ///
    /// # Errors
    /// As [`Ledger::open`].
    pub fn open_with(path: impl AsRef<Path>, busy_timeout: Duration) -> Result<Self, Error> {
        let path = path.as_ref();
        let writing = schema::open(path, busy_timeout)?;
        let reader = schema::open(path, busy_timeout)?;
        let writer = Writer::start(writing, path)?;
        Ok(Self {
            shared: Arc::new(Shared {
                path: path.to_path_buf(),
                writer,
                reader: Mutex::new(reader),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Records the intent to submit, before the submit is sent; returns the job's key.
    pub fn intent(&self, intent: Intent) -> (JobKey, Receipt) {
        let key = JobKey::new();
        let receipt = self.shared.writer.send(Change::Insert {
            key: key.clone(),
            intent: Box::new(intent),
            state: JobState::Submitting,
            request_id: None,
            at: SystemTime::now(),
        });
        (key, receipt)
    }

    /// Records the request id the service gave the job.
    pub fn submitted(&self, key: &JobKey, request_id: &str) -> Receipt {
        self.shared.writer.send(Change::RequestId {
            key: key.clone(),
            request_id: request_id.to_owned(),
            at: SystemTime::now(),
        })
    }

    /// Records a state change, with an error or note for people (kept for failures).
    pub fn state(&self, key: &JobKey, state: JobState, detail: Option<&str>) -> Receipt {
        self.shared.writer.send(Change::State {
            key: key.clone(),
            state,
            detail: detail.map(str::to_owned),
            at: SystemTime::now(),
        })
    }

    /// Records where the job's video is to be saved.
    pub fn output(&self, key: &JobKey, path: &Path) -> Receipt {
        self.shared.writer.send(Change::Output {
            key: key.clone(),
            path: path.to_path_buf(),
        })
    }

    /// Records that the job, although it succeeded, has no file to save (its output held no
    /// file URL): its output path is forgotten, so it no longer counts as unfinished.
    pub fn nothing_to_save(&self, key: &JobKey) -> Receipt {
        self.shared
            .writer
            .send(Change::NothingToSave { key: key.clone() })
    }

    /// Records that the video was saved at `path`, `bytes` long.
    pub fn saved(&self, key: &JobKey, path: &Path, bytes: u64) -> Receipt {
        self.shared.writer.send(Change::Saved {
            key: key.clone(),
            path: path.to_path_buf(),
            bytes,
        })
    }

    /// Records what the service charged for the job, in USD.
    pub fn cost(&self, key: &JobKey, usd: f64) -> Receipt {
        self.shared.writer.send(Change::Cost {
            key: key.clone(),
            usd,
        })
    }

    /// The key of the job `request_id` at `base_url`; a job this ledger has not seen (submitted
    /// elsewhere, or before the ledger existed) is added, as `origin`, in state `submitted`.
    ///
    /// # Errors
    /// When the ledger cannot be read.
    pub fn adopt(
        &self,
        intent: Intent,
        request_id: &str,
    ) -> Result<(JobKey, Option<Receipt>), Error> {
        if let Some(known) = self.job(Some(&intent.base_url), request_id)? {
            return Ok((known.key, None));
        }
        let key = JobKey::new();
        let receipt = self.shared.writer.send(Change::Insert {
            key: key.clone(),
            intent: Box::new(intent),
            state: JobState::Submitted,
            request_id: Some(request_id.to_owned()),
            at: SystemTime::now(),
        });
        Ok((key, Some(receipt)))
    }

    /// Records `intent` unless an identical input (the same service, model and input digest,
    /// recorded since `since`) is already recorded in a state that may have paid for it (any
    /// but failed, cancelled and not created; `gone` too, since the service may have billed the
    /// job before it forgot its id). The look and the record are one transaction, so
    /// of several processes claiming one input at once exactly one gets it; the others get the
    /// claimant's entry, whose submit may still be in flight (`submitting`, without an id yet).
    /// An intent without a digest is always recorded. The intent is on disk when this returns.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use happyhorse_ledger::{Claim, Intent, Ledger};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let ledger = Ledger::open(dir.path().join("ledger.sqlite3"))?;
    /// let intent = Intent::new("run", "m", "https://example.com").input_digest("sha256:1");
    /// let Claim::Claimed(key) = ledger.claim(intent.clone(), SystemTime::UNIX_EPOCH)? else {
    ///     unreachable!("the ledger is new")
    /// };
    /// // A second claim of the same input finds the first, still submitting:
    /// let Claim::Taken(earlier) = ledger.claim(intent, SystemTime::UNIX_EPOCH)? else {
    ///     unreachable!("claimed above")
    /// };
    /// assert_eq!(earlier.key, key);
    /// assert!(earlier.request_id.is_none());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// When the ledger cannot be read or written (nothing is recorded then).
    pub fn claim(&self, intent: Intent, since: SystemTime) -> Result<Claim, Error> {
        let path = &self.shared.path;
        let sqlite = |e: rusqlite::Error| Error::sqlite(path, &e);
        let mut connection = self
            .shared
            .reader
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let transaction = connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        if let Some(digest) = &intent.input_digest {
            let earlier =
                query::identical(&transaction, &intent.base_url, &intent.model, digest, since)
                    .map_err(sqlite)?
                    .into_iter()
                    .find(|entry| {
                        !matches!(
                            entry.state,
                            JobState::Failed | JobState::Cancelled | JobState::NotCreated
                        )
                    });
            if let Some(entry) = earlier {
                return Ok(Claim::Taken(Box::new(entry)));
            }
        }
        let key = JobKey::new();
        writer::apply(
            &transaction,
            &Change::Insert {
                key: key.clone(),
                intent: Box::new(intent),
                state: JobState::Submitting,
                request_id: None,
                at: SystemTime::now(),
            },
        )
        .map_err(sqlite)?;
        transaction.commit().map_err(sqlite)?;
        Ok(Claim::Claimed(key))
    }

    /// A receipt for every write sent so far.
    pub fn flush(&self) -> Receipt {
        self.shared.writer.flush()
    }

    /// Jobs matching `filter`, the most recent first.
    ///
    /// # Errors
    /// When the ledger cannot be read.
    pub fn jobs(&self, filter: &Filter) -> Result<Vec<JobEntry>, Error> {
        self.read(|db| query::jobs(db, filter))
    }

    /// The job `request_id` (at `base_url`, when given).
    ///
    /// # Errors
    /// When the ledger cannot be read.
    pub fn job(&self, base_url: Option<&str>, request_id: &str) -> Result<Option<JobEntry>, Error> {
        self.read(|db| query::by_request_id(db, base_url, request_id))
    }

    /// The job the ledger knows as `key`.
    ///
    /// # Errors
    /// When the ledger cannot be read.
    pub fn entry(&self, key: &JobKey) -> Result<Option<JobEntry>, Error> {
        self.read(|db| query::by_key(db, key))
    }

    /// The most recent job at `base_url` that following can still give something
    /// ([`JobEntry::is_unfinished`]).
    ///
    /// # Errors
    /// When the ledger cannot be read.
    pub fn last_unfinished(&self, base_url: &str) -> Result<Option<JobEntry>, Error> {
        self.read(|db| query::last_unfinished(db, base_url))
    }

    /// Jobs of `model` at `base_url` with the input digest `digest` submitted since `since`, the
    /// most recent first.
    ///
    /// # Errors
    /// When the ledger cannot be read.
    pub fn identical(
        &self,
        base_url: &str,
        model: &str,
        digest: &str,
        since: SystemTime,
    ) -> Result<Vec<JobEntry>, Error> {
        self.read(|db| query::identical(db, base_url, model, digest, since))
    }

    /// Every job recorded for the batch whose journal is `journal`, the oldest first.
    ///
    /// # Errors
    /// When the ledger cannot be read.
    pub fn batch_jobs(&self, journal: &str) -> Result<Vec<JobEntry>, Error> {
        self.read(|db| query::batch(db, journal))
    }

    fn read<T>(&self, query: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, Error> {
        let reader = self
            .shared
            .reader
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        query(&reader).map_err(|e| Error::sqlite(&self.shared.path, &e))
    }
}
