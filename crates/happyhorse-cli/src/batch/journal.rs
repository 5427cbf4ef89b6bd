//! The crash-safe journal: append-only JSON lines, fsynced. The intent to submit is durable
//! before the submit is sent; the request id, each end and each saved file follow as soon as
//! they are known. Replaying it tells a rerun what is done, what to follow, what to submit, and
//! what may exist at the service without our knowing its id.
//!
//! Records are written by one thread that batches whatever is waiting into one write and one
//! `fdatasync` (group commit), so a thousand jobs do not pay a thousand fsyncs in a row.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::jobs_file::JobsFile;
use super::state::{BatchState, Next};

const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    happyhorse_batch_journal: u32,
    jobs_file: String,
    jobs_sha256: String,
    jobs: usize,
    created: String,
}

/// One journal line after the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Record {
    /// The submit is about to be sent (written and fsynced first).
    Intent { job: String, at: String },
    /// The service gave the job its id.
    Submitted { job: String, request_id: String },
    /// The batch is done with the job for this run.
    Ended {
        job: String,
        state: BatchState,
        next: Next,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// The video is complete at `path` (renamed into place after an fsync).
    Saved {
        job: String,
        path: String,
        bytes: u64,
    },
    /// The job succeeded but its video could not be saved.
    DownloadFailed { job: String, error: String },
}

impl Record {
    /// The job the record is about.
    pub(crate) fn job(&self) -> &str {
        match self {
            Record::Intent { job, .. }
            | Record::Submitted { job, .. }
            | Record::Ended { job, .. }
            | Record::Saved { job, .. }
            | Record::DownloadFailed { job, .. } => job,
        }
    }
}

/// What the journal knows about one job: its latest records, folded.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Known {
    /// When the last submit was about to be sent, if one was.
    pub(crate) intent_at: Option<String>,
    pub(crate) request_id: Option<String>,
    /// The last end: (state, next step, error).
    pub(crate) ended: Option<(BatchState, Next, Option<String>)>,
    pub(crate) saved: Option<(String, u64)>,
}

impl Known {
    fn apply(&mut self, record: Record) {
        match record {
            Record::Intent { at, .. } => {
                *self = Known {
                    intent_at: Some(at),
                    ..Known::default()
                }
            }
            Record::Submitted { request_id, .. } => self.request_id = Some(request_id),
            Record::Ended {
                state,
                next,
                request_id,
                error,
                ..
            } => {
                if request_id.is_some() {
                    self.request_id = request_id;
                }
                self.ended = Some((state, next, error));
                self.saved = None;
            }
            Record::Saved { path, bytes, .. } => self.saved = Some((path, bytes)),
            Record::DownloadFailed { error, .. } => {
                self.ended = Some((BatchState::DownloadFailed, Next::Resume, Some(error)));
            }
        }
    }
}

/// Why a journal cannot be used; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JournalError {
    #[error("{path}: cannot open the journal: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: another `happyhorse batch` is using this journal right now")]
    Locked { path: PathBuf },
    #[error("{path}: not a happyhorse batch journal (line 1: {reason}); nothing was changed")]
    NotAJournal { path: PathBuf, reason: String },
    #[error(
        "{path}: this journal belongs to another jobs file ({their_file}, sha256 {their_sha}); {our_file} has sha256 {our_sha}. \
         Nothing was changed (rerunning with the original file would use it as it is)"
    )]
    Foreign {
        path: PathBuf,
        their_file: String,
        their_sha: String,
        our_file: String,
        our_sha: String,
    },
    #[error("{path}: malformed journal at line {line}: {reason}; nothing was changed")]
    Malformed {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// Whether the journal at `path` holds nothing yet: missing, empty, or its header cut short
/// (what a new batch starts with, and what a deleted or emptied journal looks like).
pub(crate) fn is_blank(path: &Path) -> bool {
    match std::fs::read(path) {
        Ok(text) => !text.contains(&b'\n'),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// An open journal: replayed, locked, and appending.
pub(crate) struct Journal {
    writer: mpsc::UnboundedSender<Message>,
    thread: Option<std::thread::JoinHandle<()>>,
    pub(crate) path: PathBuf,
    /// A torn last record from a crash was dropped.
    pub(crate) dropped_torn_tail: bool,
}

enum Message {
    Write(Vec<u8>, Option<oneshot::Sender<Result<(), String>>>),
    Flush(oneshot::Sender<Result<(), String>>),
}

impl JournalError {
    /// Whether the journal itself is the trouble (not a journal, another batch's, damaged
    /// inside): `--rebuild-journal` can recover from it.
    pub(crate) fn is_damaged(&self) -> bool {
        matches!(
            self,
            JournalError::NotAJournal { .. }
                | JournalError::Foreign { .. }
                | JournalError::Malformed { .. }
        )
    }
}

impl Journal {
    /// Opens (or creates) the journal at `path` for `jobs`, and replays it. Refuses, changing
    /// nothing, a journal that is locked, foreign, or malformed anywhere but a torn last line.
    pub(crate) fn open(
        path: &Path,
        jobs: &JobsFile,
    ) -> Result<(Journal, HashMap<String, Known>), JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(JournalError::Locked {
                    path: path.to_path_buf(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let mut text = Vec::new();
        file.read_to_end(&mut text).map_err(io)?;
        let complete = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let dropped_torn_tail = complete < text.len();
        let known = if complete == 0 {
            HashMap::new()
        } else {
            replay(path, &text[..complete], jobs)?
        };
        // Only now, with everything checked, may the file change.
        if dropped_torn_tail {
            file.set_len(complete as u64).map_err(io)?;
        }
        if complete == 0 {
            file.write_all(&header_line(jobs)).map_err(io)?;
            file.sync_all().map_err(io)?;
            sync_parent(path);
        }
        let (writer, messages) = mpsc::unbounded_channel();
        let thread = std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || write_loop(file, messages))
            .map_err(io)?;
        let journal = Journal {
            writer,
            thread: Some(thread),
            path: path.to_path_buf(),
            dropped_torn_tail,
        };
        Ok((journal, known))
    }

    /// Appends `record`; it reaches the disk with the next group commit.
    pub(crate) fn append(&self, record: &Record) {
        let _ = self.writer.send(Message::Write(encode(record), None));
    }

    /// Waits until everything appended so far is on disk.
    pub(crate) async fn flush(&self) -> Result<(), String> {
        self.handle().flush().await
    }

    /// A clone of the sender, for the before-submit hook.
    pub(crate) fn handle(&self) -> JournalHandle {
        JournalHandle {
            writer: self.writer.clone(),
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // Closing the channel ends the writer after it has written everything queued.
        let (closed, _) = mpsc::unbounded_channel();
        self.writer = closed;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A cheap handle that can append durably from any task.
#[derive(Clone)]
pub(crate) struct JournalHandle {
    writer: mpsc::UnboundedSender<Message>,
}

impl JournalHandle {
    /// Appends `record` and waits until it is on disk.
    pub(crate) async fn append_durable(&self, record: Record) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.writer
            .send(Message::Write(encode(&record), Some(done)))
            .map_err(|_| "the journal writer stopped".to_owned())?;
        wait.await
            .map_err(|_| "the journal writer stopped".to_owned())?
    }

    /// A handle that does not keep the writer alive: the journal still closes when dropped.
    pub(crate) fn downgrade(&self) -> WeakJournalHandle {
        WeakJournalHandle {
            writer: self.writer.downgrade(),
        }
    }

    /// Waits until everything appended so far, from any handle, is on disk.
    pub(crate) async fn flush(&self) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.writer
            .send(Message::Flush(done))
            .map_err(|_| "the journal writer stopped".to_owned())?;
        wait.await
            .map_err(|_| "the journal writer stopped".to_owned())?
    }
}

/// A [`JournalHandle`] for code that may outlive the journal (a second Ctrl-C's last words).
#[derive(Clone)]
pub(crate) struct WeakJournalHandle {
    writer: mpsc::WeakUnboundedSender<Message>,
}

impl WeakJournalHandle {
    /// Waits until everything appended so far is on disk; an error once the journal is closed
    /// (closing wrote everything).
    pub(crate) async fn flush(&self) -> Result<(), String> {
        let writer = self
            .writer
            .upgrade()
            .ok_or_else(|| "the journal is already closed".to_owned())?;
        JournalHandle { writer }.flush().await
    }
}

pub(crate) fn encode(record: &Record) -> Vec<u8> {
    let mut line = serde_json::to_vec(record).expect("a record always serialises");
    line.push(b'\n');
    line
}

fn write_loop(mut file: File, mut messages: mpsc::UnboundedReceiver<Message>) {
    let mut failed: Option<String> = None;
    while let Some(first) = messages.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < 4096 {
            match messages.try_recv() {
                Ok(message) => batch.push(message),
                Err(_) => break,
            }
        }
        let mut buffer = Vec::new();
        let mut waiting = Vec::new();
        for message in batch {
            match message {
                Message::Write(line, done) => {
                    buffer.extend_from_slice(&line);
                    waiting.extend(done);
                }
                Message::Flush(done) => waiting.push(done),
            }
        }
        if failed.is_none()
            && let Err(e) = file.write_all(&buffer).and_then(|()| file.sync_data())
        {
            failed = Some(format!("writing the journal failed: {e}"));
        }
        for done in waiting {
            let _ = done.send(failed.clone().map_or(Ok(()), Err));
        }
    }
}

fn replay(
    path: &Path,
    text: &[u8],
    jobs: &JobsFile,
) -> Result<HashMap<String, Known>, JournalError> {
    let text = String::from_utf8_lossy(text);
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let header: Header = serde_json::from_str(first).map_err(|e| JournalError::NotAJournal {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if header.happyhorse_batch_journal != FORMAT {
        return Err(JournalError::NotAJournal {
            path: path.to_path_buf(),
            reason: format!(
                "format {} (this version reads {FORMAT})",
                header.happyhorse_batch_journal
            ),
        });
    }
    if header.jobs_sha256 != jobs.sha256 {
        return Err(JournalError::Foreign {
            path: path.to_path_buf(),
            their_file: header.jobs_file,
            their_sha: header.jobs_sha256,
            our_file: jobs.path.display().to_string(),
            our_sha: jobs.sha256.clone(),
        });
    }
    let ids: std::collections::HashSet<&str> = jobs.jobs.iter().map(|j| j.id.as_str()).collect();
    let mut known: HashMap<String, Known> = HashMap::new();
    for (index, line) in lines.enumerate() {
        let malformed = |reason: String| JournalError::Malformed {
            path: path.to_path_buf(),
            line: index + 2,
            reason,
        };
        let record: Record = serde_json::from_str(line).map_err(|e| malformed(e.to_string()))?;
        if !ids.contains(record.job()) {
            return Err(malformed(format!(
                "job {:?} is not in the jobs file",
                record.job()
            )));
        }
        known
            .entry(record.job().to_owned())
            .or_default()
            .apply(record);
    }
    Ok(known)
}

/// The first line of a new journal for `jobs`.
pub(crate) fn header_line(jobs: &JobsFile) -> Vec<u8> {
    let header = Header {
        happyhorse_batch_journal: FORMAT,
        jobs_file: jobs.path.display().to_string(),
        jobs_sha256: jobs.sha256.clone(),
        jobs: jobs.jobs.len() + jobs.invalid.len(),
        created: now(),
    };
    let mut line = serde_json::to_vec(&header).expect("a header always serialises");
    line.push(b'\n');
    line
}

/// What can still be read from a journal that cannot be used as it is.
#[derive(Debug, Default)]
pub(crate) struct Salvage {
    /// The header is readable and names this jobs file: its records can be trusted.
    pub(crate) ours: bool,
    /// Every line that reads as a record, in order.
    pub(crate) records: Vec<Record>,
}

/// Reads what it can of a damaged or foreign journal's `text`.
pub(crate) fn salvage(text: &[u8], jobs: &JobsFile) -> Salvage {
    let text = String::from_utf8_lossy(text);
    let mut lines = text.lines();
    let ours = lines
        .next()
        .and_then(|first| serde_json::from_str::<Header>(first).ok())
        .is_some_and(|h| h.happyhorse_batch_journal == FORMAT && h.jobs_sha256 == jobs.sha256);
    let records = lines
        .filter_map(|line| serde_json::from_str::<Record>(line).ok())
        .collect();
    Salvage { ours, records }
}

/// Makes a new file's directory entry durable (best effort: not every filesystem allows it).
pub(crate) fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent()
        && let Ok(dir) = File::open(if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        })
    {
        let _ = dir.sync_all();
    }
}

/// The current time, as an HTTP date (UTC, to the second).
pub(crate) fn now() -> String {
    httpdate::fmt_http_date(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests;
