//! What the ledger decides for `run` and `wait` before anything is sent: whether `run --once`
//! follows an identical earlier job instead of paying again (and the note without `--once`),
//! and which job `wait` follows and where its video goes.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use happyhorse_ledger::{JobEntry, JobState};
use happyhorse_types::ModelSpec;

use crate::books::Books;
use crate::cli::{DownloadArgs, WaitArgs};
use crate::exit::{self, Failure};
use crate::output::Output;
use crate::paths::{self, Existing};
use crate::recorder::{Earlier, IDENTICAL_NOTE_WINDOW, earlier};

/// What `run` does with its input.
pub(super) enum RunPlan {
    /// Submit it.
    Submit,
    /// `--once`: follow the earlier job with this id.
    Follow(Box<JobEntry>),
}

/// Looks for an identical input: with `once`, an earlier job to follow (or a refusal when its
/// submit's outcome is unknown); without, a one-line note when one was submitted within 24 h.
pub(super) fn run_plan(
    books: &Books,
    spec: &ModelSpec,
    base_url: &str,
    digest: &str,
    once: bool,
    output: Output,
) -> Result<RunPlan, Failure> {
    let since = if once {
        SystemTime::UNIX_EPOCH
    } else {
        SystemTime::now() - IDENTICAL_NOTE_WINDOW
    };
    match (earlier(books, spec, base_url, digest, since), once) {
        (Earlier::Job(entry), true) => {
            output.note(&format!(
                "--once: an identical input was submitted {} ago as {}; following it instead of submitting again",
                ago(&entry),
                entry.request_id.as_deref().unwrap_or("?"),
            ));
            Ok(RunPlan::Follow(Box::new(entry)))
        }
        (Earlier::Unknown(entry), true) => Err(Failure::new(
            exit::SUBMIT_OUTCOME_UNKNOWN,
            format!(
                "--once: an identical input was submitted {} ago (ledger key {}) but its answer never came: a job \
                 may exist and be billed without its id being known. Nothing was sent; check the account's \
                 requests, and run without --once to submit it anyway",
                ago(&entry),
                entry.key.short()
            ),
        )),
        (Earlier::Job(entry), false) => {
            output.note(&format!(
                "note: an identical input was submitted {} ago as {} ({}); --once would follow it instead of paying again",
                ago(&entry),
                entry.request_id.as_deref().unwrap_or("?"),
                entry.state
            ));
            Ok(RunPlan::Submit)
        }
        (Earlier::Unknown(entry), false) => {
            output.note(&format!(
                "note: an identical input was submitted {} ago and its outcome is unknown (see `happyhorse jobs`)",
                ago(&entry)
            ));
            Ok(RunPlan::Submit)
        }
        (Earlier::Nothing, _) => Ok(RunPlan::Submit),
    }
}

/// The job `wait` follows: the id given, else (or with `--last`) the most recent unfinished
/// job at this service in the ledger; with its ledger entry when it has one.
pub(super) fn wait_target(
    books: &Books,
    base_url: &str,
    args: &WaitArgs,
) -> Result<(String, Option<JobEntry>), Failure> {
    match (&args.request_id, args.last) {
        (Some(id), false) => {
            let entry = books
                .read(|ledger| ledger.job(Some(base_url), id))
                .flatten();
            Ok((id.clone(), entry))
        }
        _ => {
            let entry = books
                .read(|ledger| ledger.last_unfinished(base_url))
                .flatten()
                .ok_or_else(|| {
                    let why = if books.ledger().is_some() {
                        format!("the job ledger has no unfinished job at {base_url}")
                    } else {
                        "the job ledger is off or cannot be read".to_owned()
                    };
                    Failure::new(
                        exit::NOT_FOUND,
                        format!("{why}; name the job: happyhorse wait REQUEST_ID (`happyhorse jobs` lists them)"),
                    )
                })?;
            let id = entry
                .request_id
                .clone()
                .expect("unfinished jobs have an id");
            Ok((id, Some(entry)))
        }
    }
}

/// Where `wait` saves the video, checked before anything is asked: `-o`, else the path the job
/// was started with, else `<id>.mp4`. A file already there is replaced only with `--force`, or
/// when the ledger says it is this job's own video.
pub(super) fn wait_download(
    download: &DownloadArgs,
    entry: Option<&JobEntry>,
) -> Result<DownloadArgs, Failure> {
    let mut download = download.clone();
    if download.no_download {
        return Ok(download);
    }
    if download.output.is_none() {
        download.output = entry.and_then(|e| e.output.clone());
    }
    match &download.output {
        Some(path) => {
            let resolved = crate::books::absolute(path);
            let ours = entry.is_some_and(|entry| {
                let saved = entry
                    .saved
                    .as_ref()
                    .is_some_and(|(saved, _)| *saved == resolved);
                // Killed between the rename and the ledger's record: the file is this job's
                // video, whole, and the download's own leftovers say it was put there by it.
                let renamed = entry.state == JobState::Succeeded
                    && entry.output.as_ref() == Some(&resolved)
                    && happyhorse_http::renamed_by_a_stopped_download(&resolved);
                saved || renamed
            });
            let existing = if download.force || ours {
                Existing::Replace
            } else {
                Existing::Refuse
            };
            paths::destination(path, existing)?;
        }
        None => {
            paths::output_dir(&PathBuf::from("."))?;
        }
    }
    Ok(download)
}

fn ago(entry: &JobEntry) -> String {
    let age = SystemTime::now()
        .duration_since(entry.created_at)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    match age {
        0..60 => format!("{age}s"),
        60..3600 => format!("{}m", age / 60),
        3600..86_400 => format!("{}h", age / 3600),
        _ => format!("{}d", age / 86_400),
    }
}
