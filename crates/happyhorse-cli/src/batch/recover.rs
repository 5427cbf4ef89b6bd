//! A batch whose journal is damaged or another batch's: the refusal, and the way out that never
//! pays twice. `--rebuild-journal` moves the journal aside and writes a new one from what the
//! job ledger knows of this batch's jobs (their ids and ends, matched by the job's id *and* the
//! digest of its input, so an edited line is a new job), plus what can still be read of the old
//! journal. A job the old journal says was submitted but the ledger does not know (it was off,
//! or another jobs file's journal used the same id) is written as an intent without an id: the
//! rerun reports it `unknown` and does not submit it again.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use happyhorse_ledger::{JobEntry, JobState, input_digest};

use super::jobs_file::{JobLine, JobsFile};
use super::journal::{JournalError, Record, encode, header_line, salvage, sync_parent};
use super::ledger_link::journal_name;
use super::state::{BatchState, Next};
use crate::books::Books;
use crate::exit::{self, Failure};

/// The refusal of a damaged journal, with the recovery `--rebuild-journal` offers (or why it
/// cannot be offered).
pub(crate) fn refusal(error: &JournalError, journal: &Path, books: &Books) -> Failure {
    let known = books.read(|ledger| ledger.batch_jobs(&journal_name(journal)));
    let advice = match (books.path(), known) {
        (Some(ledger), Some(entries)) => {
            let with_id = entries.iter().filter(|e| e.request_id.is_some()).count();
            format!(
                "To go on without paying twice, add --rebuild-journal: the journal is moved aside and rebuilt \
                 from the job ledger {} ({} jobs recorded for this journal, {with_id} with a request id), so \
                 jobs already submitted are followed, not submitted again. (Another --journal or --out-dir \
                 would submit every job again.)",
                ledger.display(),
                entries.len()
            )
        }
        _ => "The job ledger is off or cannot be read, so no rebuilt journal could tell which jobs were \
              already submitted: check the account's requests before running these jobs again."
            .to_owned(),
    };
    Failure::new(exit::CONFIG, format!("{error}.\n{advice}"))
}

/// The request ids the ledger holds for jobs whose journal stops at the intent (`known` has no
/// id and no end): a kill can land after the ledger took a job's id and before the journal did.
/// Keyed by the job's id; only the ledger's latest entry of the job (same input) counts, and
/// not when it is cancelled or never created (an earlier attempt's end, not this submit's).
pub(crate) fn ids_beyond_journal(
    journal: &Path,
    jobs: &JobsFile,
    known: &HashMap<String, super::journal::Known>,
    books: &Books,
) -> HashMap<String, String> {
    let cut_short: Vec<&JobLine> = jobs
        .jobs
        .iter()
        .filter(|job| {
            known.get(&job.id).is_some_and(|k| {
                k.intent_at.is_some() && k.request_id.is_none() && k.ended.is_none()
            })
        })
        .collect();
    if cut_short.is_empty() {
        return HashMap::new();
    }
    let Some(entries) = books.read(|ledger| ledger.batch_jobs(&journal_name(journal))) else {
        return HashMap::new();
    };
    let mut ids = HashMap::new();
    for job in cut_short {
        let digest = input_digest(job.model, &jobs.submit_body(job));
        let latest = entries.iter().rfind(|entry| {
            entry.batch.as_ref().is_some_and(|b| b.job == job.id)
                && entry.input_digest.as_deref() == Some(digest.as_str())
        });
        if let Some(entry) = latest
            && let Some(id) = &entry.request_id
            && !matches!(entry.state, JobState::Cancelled | JobState::NotCreated)
        {
            ids.insert(job.id.clone(), id.clone());
        }
    }
    ids
}

/// How many of `jobs` (same job id, same input) the ledger holds as submitted for the journal at
/// `journal`, and how many of those with a request id; `None` without a readable ledger.
pub(crate) fn submitted_before(
    journal: &Path,
    jobs: &JobsFile,
    books: &Books,
) -> Option<(usize, usize)> {
    let entries = books.read(|ledger| ledger.batch_jobs(&journal_name(journal)))?;
    let mut digests: HashMap<&str, String> = HashMap::new();
    let (mut submitted, mut with_id) = (0, 0);
    for job in &jobs.jobs {
        let ours = entries.iter().filter(|entry| {
            entry.batch.as_ref().is_some_and(|b| b.job == job.id)
                && entry.state != JobState::NotCreated
                && entry.input_digest.as_deref()
                    == Some(
                        digests
                            .entry(job.id.as_str())
                            .or_insert_with(|| input_digest(job.model, &jobs.submit_body(job)))
                            .as_str(),
                    )
        });
        let ours: Vec<&JobEntry> = ours.collect();
        if !ours.is_empty() {
            submitted += 1;
            with_id += usize::from(ours.iter().any(|e| e.request_id.is_some()));
        }
    }
    Some((submitted, with_id))
}

/// The refusal of a missing or empty journal when the ledger knows jobs of this batch already
/// submitted: starting over would submit them again.
pub(crate) fn blank_refusal(
    journal: &Path,
    books: &Books,
    (submitted, with_id): (usize, usize),
) -> Failure {
    Failure::new(
        exit::CONFIG,
        format!(
            "{}: the journal is missing or empty, but the job ledger {} has {submitted} jobs of this batch \
             already submitted ({with_id} with a request id); nothing was sent.\nTo go on without paying twice, \
             add --rebuild-journal: the journal is rebuilt from the job ledger, so jobs already submitted are \
             followed (their videos downloaded again if missing), not submitted again. (Another --journal or \
             --out-dir would submit every job again.)",
            journal.display(),
            books
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
    )
}

/// What a rebuild did, for a note.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Rebuilt {
    /// Where the old journal now is (`None`: there was none).
    pub(crate) moved_to: Option<PathBuf>,
    /// Jobs matched in the ledger.
    pub(crate) from_ledger: usize,
    /// Jobs taken from the readable part of the old journal.
    pub(crate) from_journal: usize,
    /// Jobs written as unknown: mentioned but not matched.
    pub(crate) unknown: usize,
}

/// Moves the journal at `path` aside and writes a new one for `jobs` from the ledger and what
/// can be read of the old one. Refused without a ledger.
pub(crate) fn rebuild(path: &Path, jobs: &JobsFile, books: &Books) -> Result<Rebuilt, Failure> {
    let failure = |what: &str, e: std::io::Error| {
        Failure::new(
            exit::CONFIG,
            format!(
                "{}: cannot {what}: {e}; nothing was changed",
                path.display()
            ),
        )
    };
    let Some(entries) = books.read(|ledger| ledger.batch_jobs(&journal_name(path))) else {
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "{}: --rebuild-journal needs the job ledger, which is off or cannot be read; \
                 nothing was changed",
                path.display()
            ),
        ));
    };
    // Held locked through the move, so no other batch writes to it meanwhile. (A journal that
    // was deleted is rebuilt from the ledger alone.)
    let old = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(old) => Some(old),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(failure("open the journal", e)),
    };
    if let Some(old) = &old {
        old.try_lock().map_err(|_| {
            Failure::new(
                exit::TEMPORARY,
                format!(
                    "{}: another `happyhorse batch` is using this journal right now",
                    path.display()
                ),
            )
        })?;
    }
    let text = match old {
        Some(_) => std::fs::read(path).map_err(|e| failure("read the journal", e))?,
        None => Vec::new(),
    };
    let (lines, rebuilt) = plan(jobs, &entries, &text);

    let moved_to = match old {
        Some(_) => {
            let moved_to = aside(path);
            std::fs::rename(path, &moved_to).map_err(|e| failure("move the journal aside", e))?;
            Some(moved_to)
        }
        None => None,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| failure("create the new journal", e))?;
    let mut bytes = header_line(jobs);
    for record in &lines {
        bytes.extend(encode(record));
    }
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| failure("write the new journal", e))?;
    sync_parent(path);
    drop(old);
    Ok(Rebuilt {
        moved_to,
        ..rebuilt
    })
}

/// The records of the new journal.
fn plan(jobs: &JobsFile, entries: &[JobEntry], old: &[u8]) -> (Vec<Record>, Rebuilt) {
    // The latest ledger entry per job id (entries come oldest first).
    let mut by_job: HashMap<&str, Vec<&JobEntry>> = HashMap::new();
    for entry in entries {
        if let Some(batch) = &entry.batch {
            by_job.entry(batch.job.as_str()).or_default().push(entry);
        }
    }
    let salvaged = salvage(old, jobs);
    let mut records = Vec::new();
    let mut rebuilt = Rebuilt::default();
    for job in &jobs.jobs {
        let candidates = by_job
            .get(job.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let digest =
            (!candidates.is_empty()).then(|| input_digest(job.model, &jobs.submit_body(job)));
        let matched = candidates
            .iter()
            .rev()
            .find(|entry| entry.input_digest.is_some() && entry.input_digest == digest);
        if let Some(entry) = matched {
            rebuilt.from_ledger += 1;
            records.extend(from_ledger(job, entry));
            continue;
        }
        if !candidates.is_empty() {
            // Every submit of this id the ledger saw was of another input: the line changed,
            // and this input was never sent.
            continue;
        }
        let mentioned: Vec<&Record> = salvaged
            .records
            .iter()
            .filter(|record| record.job() == job.id)
            .collect();
        if mentioned.is_empty() {
            continue;
        }
        if salvaged.ours {
            rebuilt.from_journal += 1;
            records.extend(mentioned.into_iter().cloned());
        } else if mentioned
            .iter()
            .any(|r| matches!(r, Record::Intent { .. } | Record::Submitted { .. }))
        {
            // Another jobs file's journal: whatever it submitted under this id may have been
            // another input. Not followed, not submitted: the user checks.
            rebuilt.unknown += 1;
            records.push(Record::Intent {
                job: job.id.clone(),
                at: "an earlier run (journal rebuilt)".into(),
            });
        }
    }
    (records, rebuilt)
}

/// A ledger entry as journal records.
fn from_ledger(job: &JobLine, entry: &JobEntry) -> Vec<Record> {
    let id = || job.id.clone();
    let mut records = vec![Record::Intent {
        job: id(),
        at: httpdate::fmt_http_date(entry.created_at),
    }];
    if let Some(request_id) = &entry.request_id {
        records.push(Record::Submitted {
            job: id(),
            request_id: request_id.clone(),
        });
    }
    let ended = |state, next| Record::Ended {
        job: id(),
        state,
        next,
        request_id: entry.request_id.clone(),
        error: entry.error.clone(),
    };
    match entry.state {
        JobState::Succeeded => {
            // Saved and still there: done. Otherwise the rerun fetches the result again.
            if let Some((path, bytes)) = &entry.saved
                && std::fs::metadata(path).is_ok_and(|m| m.len() == *bytes)
            {
                records.push(ended(BatchState::Succeeded, Next::Nothing));
                records.push(Record::Saved {
                    job: id(),
                    path: job.output.clone(),
                    bytes: *bytes,
                });
            }
        }
        // The service no longer knows the id: following it again can only fail as this did.
        JobState::Failed | JobState::Gone => records.push(ended(BatchState::Failed, Next::Nothing)),
        JobState::Cancelled => records.push(ended(BatchState::Cancelled, Next::Nothing)),
        JobState::NotCreated => records.push(ended(BatchState::NotSent, Next::Resubmit)),
        // No id: the intent alone makes it `unknown`. With an id: followed.
        _ => {}
    }
    records
}

/// `<journal>.damaged-<unix seconds>`, not yet taken.
fn aside(path: &Path) -> PathBuf {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    (0..)
        .map(|n| {
            let suffix = if n == 0 {
                String::new()
            } else {
                format!("-{n}")
            };
            path.with_file_name(format!("{name}.damaged-{seconds}{suffix}"))
        })
        .find(|candidate| !candidate.exists())
        .expect("some name is free")
}
