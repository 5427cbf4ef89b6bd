//! What the ledger decides for `run` and `wait` before anything is sent: whether `run --once`
//! follows an identical earlier job instead of paying again — or waits for another process's
//! identical submit in flight — (and the note without `--once`), and which job `wait` follows
//! and where its video goes.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use happyhorse_ledger::{Claim, Intent, JobEntry, JobState};
use happyhorse_types::ModelSpec;

use crate::books::Books;
use crate::cli::{DownloadArgs, WaitArgs};
use crate::exit::{self, Failure};
use crate::interrupt::Interrupts;
use crate::output::Output;
use crate::paths::{self, Existing};
use crate::recorder::{Earlier, IDENTICAL_NOTE_WINDOW, Recorder, earlier};

/// How long `run --once` waits for an identical submit that another happyhorse has in flight to
/// get its id: longer than a submit takes (its 30 s request timeout, a few connection
/// retries), and an intent older than this is not waited for (its process is gone).
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(120);
/// How often the ledger is read meanwhile.
const IN_FLIGHT_POLL: Duration = Duration::from_millis(200);

/// What `run` (or `submit`) does with its input.
pub(super) enum RunPlan {
    /// Submit it; its intent is recorded.
    Submit(Recorder),
    /// `--once`: follow the earlier job with this id.
    Follow(Box<JobEntry>),
}

/// Records the intent to submit, or with `once` follows an identical input recorded before
/// instead: looked for and recorded in one ledger transaction, so of two `run --once` started
/// together only one pays, and the other waits for its id and follows the same job. Without
/// `once`, a one-line note names an identical input submitted within 24 h.
pub(super) async fn run_plan(
    books: &Books,
    spec: &ModelSpec,
    intent: Intent,
    once: bool,
    interrupts: &mut Interrupts,
    output: Output,
) -> Result<RunPlan, Failure> {
    if once {
        return once_plan(books, intent, interrupts, output).await;
    }
    let (base_url, digest) = (&intent.base_url, intent.input_digest.as_deref());
    let since = SystemTime::now() - IDENTICAL_NOTE_WINDOW;
    match earlier(books, spec, base_url, digest.unwrap_or_default(), since) {
        Earlier::Job(entry) => output.note(&format!(
            "note: an identical input was submitted {} ago as {} ({}); --once would follow it instead of paying again",
            ago(&entry),
            entry.request_id.as_deref().unwrap_or("?"),
            entry.state
        )),
        Earlier::Unknown(entry) => output.note(&format!(
            "note: an identical input was submitted {} ago and its outcome is unknown (see `happyhorse jobs`)",
            ago(&entry)
        )),
        Earlier::Nothing => {}
    }
    Ok(RunPlan::Submit(
        Recorder::record(books.clone(), intent).await,
    ))
}

/// `--once`: claims the input in the ledger, or follows the identical job that has it —
/// waiting, when its submit is in flight in another process, for its id.
async fn once_plan(
    books: &Books,
    intent: Intent,
    interrupts: &mut Interrupts,
    output: Output,
) -> Result<RunPlan, Failure> {
    let mut deadline = None;
    loop {
        let entry = match books.claim(intent.clone(), SystemTime::UNIX_EPOCH) {
            Some(Claim::Claimed(key)) => {
                return Ok(RunPlan::Submit(Recorder::claimed(books.clone(), key)));
            }
            // No ledger (or it failed, warned): nothing to follow, the intent as best it can be.
            None => {
                return Ok(RunPlan::Submit(
                    Recorder::record(books.clone(), intent).await,
                ));
            }
            Some(Claim::Taken(entry)) => entry,
        };
        if let (Some(id), JobState::Gone) = (&entry.request_id, entry.state) {
            return Err(gone_refusal(&entry, id));
        }
        if let Some(id) = &entry.request_id {
            output.note(&format!(
                "--once: an identical input was submitted {} ago as {id}; following it instead of submitting again",
                ago(&entry),
            ));
            return Ok(RunPlan::Follow(entry));
        }
        let in_flight = entry.state == JobState::Submitting
            && SystemTime::now()
                .duration_since(entry.created_at)
                .unwrap_or(Duration::ZERO)
                < IN_FLIGHT_WAIT;
        let deadline = *deadline.get_or_insert_with(|| {
            if in_flight {
                output.note(&format!(
                    "--once: another happyhorse is submitting an identical input right now (ledger key {}); \
                     waiting for its id to follow that job instead of paying again",
                    entry.key.short()
                ));
            }
            tokio::time::Instant::now() + IN_FLIGHT_WAIT
        });
        if !in_flight || tokio::time::Instant::now() >= deadline {
            return Err(unknown_refusal(&entry));
        }
        // Until its submit has an answer; then claim again (it may have created nothing).
        loop {
            tokio::select! {
                () = tokio::time::sleep(IN_FLIGHT_POLL) => {}
                () = interrupts.recv() => return Err(Failure::new(
                    interrupts.exit_code(),
                    format!(
                        "interrupted ({}) while waiting for another happyhorse's identical submit: nothing was sent",
                        interrupts.name()
                    ),
                )),
            }
            let now = books.read(|ledger| ledger.entry(&entry.key)).flatten();
            let settled = now
                .as_ref()
                .is_none_or(|e| e.request_id.is_some() || e.state != JobState::Submitting);
            if settled || tokio::time::Instant::now() >= deadline {
                break;
            }
        }
    }
}

/// `--once` found an identical job the service no longer knows: it cannot be followed, and it
/// may have been billed (a transient 404 right after a submit, or an id that expired before
/// its video was saved), so paying again is left to the user's explicit choice.
fn gone_refusal(entry: &JobEntry, id: &str) -> Failure {
    Failure::new(
        exit::NOT_FOUND,
        format!(
            "--once: an identical input was submitted {} ago as {id}, but the service no longer knows that id \
             (expired or deleted): it cannot be followed, and it may have been billed. Nothing was sent. \
             Running without --once submits this input again",
            ago(entry),
        ),
    )
}

/// `--once` found an identical submit whose answer never reached the ledger.
fn unknown_refusal(entry: &JobEntry) -> Failure {
    Failure::new(
        exit::SUBMIT_OUTCOME_UNKNOWN,
        format!(
            "--once: an identical input was submitted {} ago (ledger key {}) but its id never reached the job \
             ledger: a job may exist and be billed without its id being known. Nothing was sent. Look for it in \
             the account's requests on RunComfy: if it is there, follow it with happyhorse wait REQUEST_ID; only \
             if it is not, running without --once submits this input again",
            ago(entry),
            entry.key.short()
        ),
    )
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
            // Checked again before the download: its own video may be replaced then too.
            download.force |= ours;
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
