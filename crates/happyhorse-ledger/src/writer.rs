//! The writer: one thread with its own connection applies every change, batching whatever is
//! waiting into one transaction and one sync (group commit), so a batch of ten thousand jobs
//! does not pay ten thousand syncs in a row, while one job still waits for only its own.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rusqlite::{Connection, OptionalExtension as _, params};
use tokio::sync::{mpsc, oneshot};

use crate::entry::{Intent, JobKey, JobState, to_millis};
use crate::error::{Error, ErrorKind};

/// One change to the ledger.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    /// A new job, before its submit.
    Insert {
        key: JobKey,
        intent: Box<Intent>,
        state: JobState,
        request_id: Option<String>,
        at: SystemTime,
    },
    /// The service's id for the job.
    RequestId {
        key: JobKey,
        request_id: String,
        at: SystemTime,
    },
    /// A new state (a final state is never replaced by an earlier one).
    State {
        key: JobKey,
        state: JobState,
        detail: Option<String>,
        at: SystemTime,
    },
    /// Where the video is to go.
    Output { key: JobKey, path: PathBuf },
    /// No file to save after all.
    NothingToSave { key: JobKey },
    /// Where the video went.
    Saved {
        key: JobKey,
        path: PathBuf,
        bytes: u64,
    },
    /// What the service charged.
    Cost { key: JobKey, usd: f64 },
}

/// When a change (and every change before it) is in the database file.
#[derive(Debug)]
#[must_use = "a receipt does nothing unless waited for; drop it to not wait"]
pub struct Receipt {
    done: Option<oneshot::Receiver<Result<(), Error>>>,
    path: PathBuf,
}

impl Receipt {
    /// Waits until the change is committed and synced.
    ///
    /// # Errors
    /// When the commit failed (the database is locked, read-only, full …) or the ledger closed.
    pub async fn durable(self) -> Result<(), Error> {
        match self.done {
            Some(done) => done.await.unwrap_or_else(|_| Err(closed(&self.path))),
            None => Err(closed(&self.path)),
        }
    }

    /// [`Receipt::durable`] for code outside an async runtime (blocks the thread).
    ///
    /// # Errors
    /// As [`Receipt::durable`].
    pub fn wait(self) -> Result<(), Error> {
        match self.done {
            Some(done) => done
                .blocking_recv()
                .unwrap_or_else(|_| Err(closed(&self.path))),
            None => Err(closed(&self.path)),
        }
    }
}

fn closed(path: &Path) -> Error {
    Error::new(ErrorKind::Closed, path, "the ledger's writer has stopped")
}

pub(crate) enum Message {
    Change(Change, oneshot::Sender<Result<(), Error>>),
    Flush(oneshot::Sender<Result<(), Error>>),
}

/// The sending side, shared by every clone of the ledger.
#[derive(Debug)]
pub(crate) struct Writer {
    sender: Option<mpsc::UnboundedSender<Message>>,
    thread: Option<std::thread::JoinHandle<()>>,
    path: PathBuf,
}

impl Writer {
    /// Starts the writer thread on `connection`.
    pub(crate) fn start(connection: Connection, path: &Path) -> Result<Self, Error> {
        let (sender, messages) = mpsc::unbounded_channel();
        let thread_path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("happyhorse-ledger".into())
            .spawn(move || write_loop(connection, &thread_path, messages))
            .map_err(|e| {
                Error::new(ErrorKind::Io, path, format!("cannot start its writer: {e}"))
            })?;
        Ok(Self {
            sender: Some(sender),
            thread: Some(thread),
            path: path.to_path_buf(),
        })
    }

    /// Queues `change`; the receipt resolves when it is committed.
    pub(crate) fn send(&self, change: Change) -> Receipt {
        let (done, wait) = oneshot::channel();
        self.deliver(Message::Change(change, done), wait)
    }

    /// A receipt for everything queued so far.
    pub(crate) fn flush(&self) -> Receipt {
        let (done, wait) = oneshot::channel();
        self.deliver(Message::Flush(done), wait)
    }

    fn deliver(&self, message: Message, wait: oneshot::Receiver<Result<(), Error>>) -> Receipt {
        let sent = self
            .sender
            .as_ref()
            .is_some_and(|sender| sender.send(message).is_ok());
        Receipt {
            done: sent.then_some(wait),
            path: self.path.clone(),
        }
    }
}

impl Drop for Writer {
    /// Closing the channel ends the thread once it has written everything queued.
    fn drop(&mut self) {
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// At most this many changes go into one transaction.
const GROUP_LIMIT: usize = 4096;

fn write_loop(
    mut connection: Connection,
    path: &Path,
    mut messages: mpsc::UnboundedReceiver<Message>,
) {
    while let Some(first) = messages.blocking_recv() {
        let mut group = vec![first];
        while group.len() < GROUP_LIMIT {
            match messages.try_recv() {
                Ok(message) => group.push(message),
                Err(_) => break,
            }
        }
        let mut waiting = Vec::with_capacity(group.len());
        let mut changes = Vec::with_capacity(group.len());
        for message in group {
            match message {
                Message::Change(change, done) => {
                    changes.push(change);
                    waiting.push(done);
                }
                Message::Flush(done) => waiting.push(done),
            }
        }
        let result = commit(&mut connection, &changes).map_err(|e| Error::sqlite(path, &e));
        for done in waiting {
            let _ = done.send(result.clone());
        }
    }
}

/// Applies `changes` in one immediate transaction (one sync at commit).
fn commit(connection: &mut Connection, changes: &[Change]) -> rusqlite::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let transaction =
        connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for change in changes {
        apply(&transaction, change)?;
    }
    transaction.commit()
}

pub(crate) fn apply(db: &Connection, change: &Change) -> rusqlite::Result<()> {
    match change {
        Change::Insert {
            key,
            intent,
            state,
            request_id,
            at,
        } => {
            let at = to_millis(*at);
            let (journal, job) = intent
                .batch
                .as_ref()
                .map(|b| (Some(b.journal.as_str()), Some(b.job.as_str())))
                .unwrap_or_default();
            db.prepare_cached(
                "INSERT OR IGNORE INTO jobs (key, origin, model, base_url, input_digest, created_at,
                    request_id, state, updated_at, output_path, batch_journal, batch_job)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?6, ?9, ?10, ?11)",
            )?
            .execute(params![
                key.as_str(),
                intent.origin,
                intent.model,
                intent.base_url,
                intent.input_digest,
                at,
                request_id,
                state.as_str(),
                intent.output.as_ref().map(|p| p.to_string_lossy()),
                journal,
                job,
            ])?;
            event(db, key, at, *state, None)
        }
        Change::RequestId {
            key,
            request_id,
            at,
        } => {
            let at = to_millis(*at);
            // The id moves a job on from `submitting`/`unknown`, never back from a later state.
            let changed = db
                .prepare_cached(
                    "UPDATE jobs SET request_id = ?2,
                        state = CASE WHEN state IN ('submitting', 'unknown') THEN 'submitted' ELSE state END,
                        updated_at = ?3
                     WHERE key = ?1",
                )?
                .execute(params![key.as_str(), request_id, at])?;
            if changed > 0 {
                event(db, key, at, JobState::Submitted, Some(request_id))?;
            }
            Ok(())
        }
        Change::State {
            key,
            state,
            detail,
            at,
        } => {
            let current: Option<String> = db
                .prepare_cached("SELECT state FROM jobs WHERE key = ?1")?
                .query_row([key.as_str()], |row| row.get(0))
                .optional()?;
            let Some(current) = current.as_deref().and_then(JobState::parse) else {
                return Ok(());
            };
            // A final state stays: a late, out-of-order report cannot undo it, and a job that
            // ended is not "gone" because its id expired since.
            if current.is_final() && (!state.is_final() || *state == JobState::Gone) {
                return Ok(());
            }
            let at = to_millis(*at);
            db.prepare_cached(
                "UPDATE jobs SET state = ?2, updated_at = ?3, error = COALESCE(?4, error) WHERE key = ?1",
            )?
            .execute(params![
                key.as_str(),
                state.as_str(),
                at,
                detail.as_deref().filter(|_| !matches!(state, JobState::Succeeded | JobState::Queued | JobState::Running))
            ])?;
            event(db, key, at, *state, detail.as_deref())
        }
        Change::Output { key, path } => db
            .prepare_cached("UPDATE jobs SET output_path = ?2 WHERE key = ?1")?
            .execute(params![key.as_str(), path.to_string_lossy()])
            .map(drop),
        Change::NothingToSave { key } => db
            .prepare_cached("UPDATE jobs SET output_path = NULL WHERE key = ?1")?
            .execute(params![key.as_str()])
            .map(drop),
        Change::Saved { key, path, bytes } => db
            .prepare_cached("UPDATE jobs SET saved_path = ?2, saved_bytes = ?3 WHERE key = ?1")?
            .execute(params![
                key.as_str(),
                path.to_string_lossy(),
                i64::try_from(*bytes).unwrap_or(i64::MAX)
            ])
            .map(drop),
        Change::Cost { key, usd } => db
            .prepare_cached("UPDATE jobs SET cost_usd = ?2 WHERE key = ?1")?
            .execute(params![key.as_str(), usd])
            .map(drop),
    }
}

fn event(
    db: &Connection,
    key: &JobKey,
    at: i64,
    state: JobState,
    detail: Option<&str>,
) -> rusqlite::Result<()> {
    db.prepare_cached("INSERT INTO job_events (key, at, state, detail) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![key.as_str(), at, state.as_str(), detail])
        .map(drop)
}
