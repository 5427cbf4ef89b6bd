//! One run of a batch's jobs that need the service: `Client::run_many_json` submits or resumes them;
//! each submit's intent is journalled durably before it is sent, each id and end as soon as
//! known; videos are downloaded as their jobs succeed; a signal stops it as Ctrl-C does.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt as _;
use happyhorse_http::AnyModel;
use happyhorse_http::{
    BatchEvent, BatchItem, BatchJob, BatchOptions, DownloadOptions, Event, NextStep, OutputFile,
    RunningOnCancel,
};
use happyhorse_ledger::JobState;
use serde_json::json;
use tokio::sync::{Semaphore, mpsc};

use super::jobs_file::JobsFile;
use super::journal::{Journal, Record, now};
use super::ledger_link::LedgerLink;
use super::progress::Progress;
use super::report::Row;
use super::state::{BatchState, Next, UserNext};
use crate::cli::BatchArgs;
use crate::exit;
use crate::interrupt::{Interrupts, say};
use crate::output::{Output, terminal_safe};

/// Downloads running at once, whatever the job concurrency.
const MAX_DOWNLOADS: usize = 8;

/// One run of the jobs that need the service.
pub(crate) struct Runner<'a> {
    journal: &'a Journal,
    out_dir: &'a Path,
    output: Output,
    client: &'a happyhorse_http::Client,
    options: BatchOptions,
    jobs: Arc<JobsFile>,
    link: LedgerLink,
    /// Why stdout could not take an event, the first time it could not.
    stdout_lost: std::sync::Mutex<Option<String>>,
    /// Every path the batch writes or reads: each job's video, the extra files named so far, the
    /// journal, the report and the jobs file. A job's extra files skip them (see `files.rs`).
    claimed: std::sync::Mutex<HashSet<PathBuf>>,
}

/// A finished download: (job index, saved path and size, or the error).
type Saved = (usize, Result<(PathBuf, u64), String>);

impl<'a> Runner<'a> {
    pub(crate) fn new(
        jobs: Arc<JobsFile>,
        journal: &'a Journal,
        out_dir: &'a Path,
        output: Output,
        client: &'a happyhorse_http::Client,
        args: &BatchArgs,
        link: LedgerLink,
    ) -> Self {
        let mut options = BatchOptions::default()
            .concurrency(args.concurrency)
            .on_cancel(RunningOnCancel::Detach);
        if let Some(deadline) = args.timeout {
            options = options.deadline(deadline);
        }
        let mut claimed: HashSet<PathBuf> = jobs
            .jobs
            .iter()
            .map(|job| out_dir.join(&job.output))
            .collect();
        claimed.extend([
            journal.path.clone(),
            out_dir.join(crate::cmd::batch::REPORT_NAME),
            args.jobs.clone(),
        ]);
        Self {
            journal,
            out_dir,
            output,
            client,
            options,
            jobs,
            link,
            stdout_lost: std::sync::Mutex::new(None),
            claimed: std::sync::Mutex::new(claimed),
        }
    }

    /// Runs `to_run` (indexes into the jobs file); returns their rows and, when a signal
    /// stopped the batch, its exit code.
    pub(crate) async fn run(
        self,
        to_run: Vec<(usize, Option<String>)>,
    ) -> anyhow::Result<(Vec<Row>, Option<u8>)> {
        let order: Vec<usize> = to_run.iter().map(|(index, _)| *index).collect();
        let order = Arc::new(order);
        for (index, request_id) in &to_run {
            if let Some(id) = request_id {
                self.link.resume(*index, &self.jobs, id);
            }
        }
        let hook_journal = self.journal.handle();
        let (hook_order, hook_jobs) = (Arc::clone(&order), Arc::clone(&self.jobs));
        let hook_link = self.link.clone();
        let options = self.options.clone().before_submit(move |position| {
            let (journal, link, jobs) = (
                hook_journal.clone(),
                hook_link.clone(),
                Arc::clone(&hook_jobs),
            );
            let index = hook_order[position];
            async move {
                let job = jobs.jobs[index].id.clone();
                // Both durable before the submit is sent; the journal's failure stops the
                // submit, the ledger's is only warned about. The ledger first: a job the journal
                // holds (a rerun reports it `unknown` when it has no id) is then one `happyhorse
                // jobs` lists too, whenever the process is killed.
                link.intent(index, &jobs).await;
                journal
                    .append_durable(Record::Intent { job, at: now() })
                    .await
            }
        });
        // Bodies are built (and local images inlined) only as each job is admitted.
        let (bodies, body_link) = (Arc::clone(&self.jobs), self.link.clone());
        let batch_jobs = to_run
            .into_iter()
            .map(move |(index, request_id)| match request_id {
                Some(id) => BatchJob::Resume(id),
                None => {
                    let job = &bodies.jobs[index];
                    let body = bodies.submit_body(job);
                    body_link.body(index, &bodies, &body);
                    BatchJob::SubmitTo(job.model, body)
                }
            });
        // Listening before the batch starts: `run_many` submits at once, on another thread, and
        // a SIGTERM or SIGHUP with no one listening ends the process where it stands — between a
        // job's intent and its submit, or with a submit in flight whose id it never learns.
        let mut interrupts = Interrupts::install()?;
        let mut batch = self.client.run_many_any(batch_jobs, options);
        let canceller = batch.canceller();
        // A weak handle: the hook lives as long as the signal task, the journal must not.
        let (journal, path) = (self.journal.handle().downgrade(), self.journal.path.clone());
        let books = self.link.books().clone();
        interrupts.on_forced_exit(move || {
            let (journal, path, books) = (journal.clone(), path.display().to_string(), books.clone());
            Box::pin(async move {
                books.flush().await;
                let said = match journal.flush().await {
                    Ok(()) => format!(
                        "journal {path} saved: rerun the same command to pick up every job where it stopped"
                    ),
                    Err(error) => format!(
                        "journal {path} could not be saved ({error}): a rerun reports jobs submitted since its last save as outcome unknown"
                    ),
                };
                say(&terminal_safe(&said, false));
            })
        });
        let mut progress = Progress::new(self.output, order.len());
        let (saved_tx, mut saved_rx) = mpsc::unbounded_channel::<Saved>();
        let downloads = Arc::new(Semaphore::new(MAX_DOWNLOADS));
        let mut rows: HashMap<usize, Row> = HashMap::new();
        let (mut pending_downloads, mut batch_open, mut interrupted) = (0usize, true, None);
        while batch_open || pending_downloads > 0 {
            tokio::select! {
                event = batch.next(), if batch_open => match event {
                    Some(BatchEvent::Progress { index, event }) => self.on_progress(order[index], &event, &mut progress),
                    Some(BatchEvent::Finished(item)) => {
                        let index = order[item.index];
                        let (row, files) = self.on_finished(index, item, &mut progress);
                        if !files.is_empty() {
                            pending_downloads += 1;
                            self.spawn_download(index, files, &downloads, saved_tx.clone());
                        }
                        rows.insert(index, row);
                    }
                    Some(_) => {}
                    None => batch_open = false,
                },
                Some((index, saved)) = saved_rx.recv() => {
                    pending_downloads -= 1;
                    let row = rows.get_mut(&index).expect("a download belongs to a finished job");
                    self.on_saved(index, row, saved, &mut progress);
                }
                () = interrupts.recv(), if interrupted.is_none() => {
                    interrupted = Some(interrupts.exit_code());
                    canceller.cancel();
                    let name = interrupts.name();
                    progress.suspend(|| self.output.note(&format!(
                        "{name}: stopping: nothing new is submitted, queued jobs are cancelled, running jobs go on at the \
                         service; rerun the same command to pick them up ({name} again exits at once)",
                    )));
                }
            }
            // A reader of the events that went away (`| head`) is a stop, as SIGPIPE would be —
            // but one that lets the submits in flight bring their ids home to the journal.
            if interrupted.is_none()
                && let Some(why) = self.stdout_lost()
            {
                interrupted = Some(exit::GENERIC);
                canceller.cancel();
                progress.suspend(|| say(&format!(
                    "error: stdout cannot be written ({why}): stopping as after a signal: nothing new is submitted, \
                     queued jobs are cancelled, running jobs go on at the service; rerun the same command to pick \
                     them up (the report is in the output directory)"
                )));
            }
        }
        progress.finish();
        // On disk while the signals are still ours: once `interrupts` is dropped, a signal ends
        // the process at once, and records still queued would be lost (a job's id among them).
        // A failure is reported by the caller's own flush.
        self.link.flush().await;
        let _ = self.journal.flush().await;
        Ok((rows.into_values().collect(), interrupted))
    }

    fn on_progress(&self, index: usize, event: &Event, progress: &mut Progress) {
        let job = &self.jobs.jobs[index].id;
        let line = match event {
            Event::Submitted { request_id } => {
                self.journal.append(&Record::Submitted {
                    job: job.clone(),
                    request_id: request_id.to_string(),
                });
                self.link.submitted(index, request_id.as_str());
                progress.submitted(index);
                json!({"event": "submitted", "job": job, "request_id": request_id.as_str()})
            }
            Event::Queued { position } => {
                self.link.state(index, JobState::Queued);
                json!({"event": "queued", "job": job, "position": position})
            }
            Event::Running => {
                self.link.state(index, JobState::Running);
                progress.running(index);
                json!({"event": "running", "job": job})
            }
            Event::Retrying {
                request,
                retry,
                delay,
                reason,
            } => json!({
                "event": "retrying", "job": job, "request": request.to_string(), "retry": retry,
                "delay_ms": delay.as_millis() as u64, "reason": reason.to_string(),
            }),
            // Never dropped: said to people too, the job is still followed (for a bounded time).
            Event::Unrecognised { status } => {
                progress.suspend(|| {
                    self.output.note(&format!(
                        "{job}: the service reports a status this client does not know, {status:?}; still following"
                    ));
                });
                json!({"event": "unrecognised_status", "job": job, "status": status})
            }
            _ => return,
        };
        self.emit(&line);
    }

    /// Prints an NDJSON event; a stdout that cannot take it is noted (the loop stops the batch),
    /// never a reason to drop what the event was about.
    fn emit(&self, line: &serde_json::Value) {
        if let Err(error) = self.output.json_line(line) {
            let mut lost = self
                .stdout_lost
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            lost.get_or_insert_with(|| crate::read::io_reason(&error));
        }
    }

    /// Why stdout could not be written, once it could not.
    fn stdout_lost(&self) -> Option<String> {
        self.stdout_lost
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Journals a job's end; returns its row and the files to download, if it succeeded.
    fn on_finished(
        &self,
        index: usize,
        item: BatchItem<AnyModel>,
        progress: &mut Progress,
    ) -> (Row, Vec<OutputFile>) {
        let job = &self.jobs.jobs[index];
        let (state, error, files) = match &item.result {
            Ok(result) if result.files.is_empty() => (
                BatchState::SucceededWithoutFiles,
                Some(format!(
                    "the job succeeded, but its output holds no file URL: {}",
                    happyhorse_core::validate::shorten(&result.output_json().to_string())
                )),
                Vec::new(),
            ),
            Ok(result) => (BatchState::Succeeded, None, result.files.clone()),
            Err(error) => (
                state_of(error.kind(), item.next_step),
                Some(crate::exit_http::describe(error)),
                Vec::new(),
            ),
        };
        let next = match item.next_step {
            NextStep::Nothing => Next::Nothing,
            NextStep::Resume => Next::Resume,
            NextStep::Resubmit => Next::Resubmit,
            // Anything newer is treated as the careful case.
            _ => Next::CheckAccount,
        };
        let cost = item.result.as_ref().ok().and_then(|result| result.raw.cost);
        self.link.ended(index, state, error.as_deref(), cost);
        self.journal.append(&Record::Ended {
            job: job.id.clone(),
            state,
            next,
            request_id: item.request_id.clone(),
            error: error.clone(),
        });
        let mut line = json!({"event": "finished", "job": job.id, "state": state.as_str(), "request_id": item.request_id});
        if let Some(error) = &error {
            line["error"] = json!(error);
        }
        self.emit(&line);
        if files.is_empty() {
            progress.finished(index, state.as_str());
        }
        let row_next = match (state, next) {
            (BatchState::Succeeded | BatchState::SucceededWithoutFiles, _) | (_, Next::Nothing) => {
                UserNext::Nothing
            }
            (_, Next::CheckAccount) => UserNext::CheckAccount,
            (_, Next::Resume | Next::Resubmit) => UserNext::Rerun,
        };
        let row = Row {
            id: job.id.clone(),
            line: job.line,
            request_id: item.request_id,
            state,
            output: None,
            error,
            next: row_next,
        };
        (row, files)
    }

    /// Downloads every file of a job: the first to the job's `output` name (journaled, and checked
    /// on a rerun), any others beside it as `<stem>-2.<ext>`, … (see `files.rs`).
    fn spawn_download(
        &self,
        index: usize,
        files: Vec<OutputFile>,
        slots: &Arc<Semaphore>,
        done: mpsc::UnboundedSender<Saved>,
    ) {
        let client = self.client.clone();
        let job = &self.jobs.jobs[index];
        let first = self.out_dir.join(&job.output);
        let paths = crate::files::destinations_avoiding(
            &job.id,
            Some(&first),
            &files,
            &mut self.claimed.lock().expect("never poisoned"),
        );
        let slots = Arc::clone(slots);
        tokio::spawn(async move {
            let _slot = slots.acquire_owned().await;
            let mut first_saved = None;
            for (file, path) in files.iter().zip(&paths) {
                match client
                    .download(&file.url, path, DownloadOptions::default())
                    .await
                {
                    Ok(report) => {
                        first_saved.get_or_insert((report.path, report.bytes));
                    }
                    Err(error) => {
                        let _ = done.send((index, Err(crate::exit_http::describe(&error))));
                        return;
                    }
                }
            }
            let saved = first_saved.ok_or_else(|| "nothing to download".to_owned());
            let _ = done.send((index, saved));
        });
    }

    fn on_saved(
        &self,
        index: usize,
        row: &mut Row,
        saved: Result<(PathBuf, u64), String>,
        progress: &mut Progress,
    ) {
        match saved {
            Ok((path, bytes)) => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                self.journal.append(&Record::Saved {
                    job: row.id.clone(),
                    path: name.clone(),
                    bytes,
                });
                self.link.saved(index, &path, bytes);
                self.emit(&json!({"event": "saved", "job": row.id, "path": path.display().to_string(), "bytes": bytes}));
                row.output = Some(path.display().to_string());
                progress.finished(index, "succeeded");
            }
            Err(error) => {
                self.journal.append(&Record::DownloadFailed {
                    job: row.id.clone(),
                    error: error.clone(),
                });
                self.emit(&json!({"event": "download_failed", "job": row.id, "error": error}));
                row.state = BatchState::DownloadFailed;
                row.next = UserNext::Rerun;
                row.error = Some(error);
                progress.finished(index, "download_failed");
            }
        }
    }
}

/// The report's state for a job that ended without a video.
fn state_of(kind: happyhorse_http::ErrorKind, next: NextStep) -> BatchState {
    use happyhorse_http::ErrorKind;
    match (kind, next) {
        (_, NextStep::CheckAccount) => BatchState::Unknown,
        (ErrorKind::JobFailed, _) => BatchState::Failed,
        (ErrorKind::Cancelled, NextStep::Resubmit) => BatchState::NotSent,
        (ErrorKind::Cancelled, _) => BatchState::Cancelled,
        (_, NextStep::Resume) => BatchState::Pending,
        (
            ErrorKind::Unavailable | ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Config,
            NextStep::Resubmit,
        ) => BatchState::NotSent,
        (_, NextStep::Resubmit) => BatchState::Rejected,
        _ => BatchState::Failed,
    }
}
