//! `happyhorse batch JOBS.jsonl --out-dir DIR`: many jobs, crash-safe. Every line is checked
//! first; the journal decides what each job needs; `Client::run_many` runs them; videos are
//! downloaded as their jobs succeed; the end is a summary, a report and an exit code.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt as _;
use happyhorse_core::validate::ValidateOptions;
use happyhorse_http::{
    BatchEvent, BatchItem, BatchJob, BatchOptions, DownloadOptions, Event, NextStep, OutputFile,
    RunningOnCancel,
};
use happyhorse_types::image_to_video::{ImageToVideo, SPEC};
use serde_json::json;
use tokio::sync::{Semaphore, mpsc};

use crate::batch::files::BatchFiles;
use crate::batch::jobs_file::{JobLine, JobsFile};
use crate::batch::journal::{Journal, Known, Record, now};
use crate::batch::plan::{Action, decide};
use crate::batch::progress::Progress;
use crate::batch::report::{self, Row};
use crate::cli::{BatchArgs, GlobalArgs};
use crate::exit::{self, Failure};
use crate::interrupt::{Interrupts, say};
use crate::output::{Output, Paint, input_errors_json, terminal_safe};
use crate::service;

/// The journal's name inside `--out-dir` when `--journal` is not given.
pub(crate) const JOURNAL_NAME: &str = "happyhorse-batch.journal";
/// The report's name inside `--out-dir`.
pub(crate) const REPORT_NAME: &str = "happyhorse-batch-report.json";
/// Downloads running at once, whatever the job concurrency.
const MAX_DOWNLOADS: usize = 8;

pub(crate) async fn run(
    global: &GlobalArgs,
    args: &BatchArgs,
    output: Output,
) -> anyhow::Result<u8> {
    let target = service::resolve(global, &args.service, args.timeout)?
        .allow_unknown_fields(args.allow_unknown);
    let options = ValidateOptions::default().allow_unknown_fields(args.allow_unknown);
    let jobs = Arc::new(JobsFile::load(&args.jobs, &SPEC, options).map_err(|e| {
        Failure::new(
            exit::NOT_FOUND,
            format!(
                "{}: cannot read the jobs file ({})",
                args.jobs.display(),
                crate::read::io_reason(&e)
            ),
        )
    })?);
    let mut rows = report_invalid(&jobs, args, output)?;
    let journal_path = args
        .journal
        .clone()
        .unwrap_or_else(|| args.out_dir.join(JOURNAL_NAME));
    let files = BatchFiles::check(
        &jobs,
        &args.out_dir,
        &journal_path,
        &args.out_dir.join(REPORT_NAME),
    )?;
    let (journal, known) = Journal::open(&journal_path, &jobs).map_err(|e| {
        let code = if matches!(e, crate::batch::journal::JournalError::Locked { .. }) {
            exit::TEMPORARY
        } else {
            exit::CONFIG
        };
        Failure::new(code, e.to_string())
    })?;
    files.check_foreign_outputs(&jobs, &known, args.force)?;
    if journal.dropped_torn_tail {
        output.note("note: the journal's last record was cut short by a crash; it was dropped (it was never acted on)");
    }

    // (index in the jobs file, the request id to follow; `None`: submit it).
    let mut to_run: Vec<(usize, Option<String>)> = Vec::new();
    for (index, job) in jobs.jobs.iter().enumerate() {
        match decide(
            job,
            known.get(&job.id),
            &args.out_dir,
            args.resubmit_unknown,
        ) {
            Action::Submit => to_run.push((index, None)),
            Action::Resume { request_id } => to_run.push((index, Some(request_id))),
            other => rows.push(settled_row(job, other, known.get(&job.id))),
        }
    }
    let count = |state: &str| rows.iter().filter(|r| r.state == state).count();
    let (done, unknown) = (count("succeeded"), count("unknown"));
    let settled = rows.len() - done - unknown - count("invalid");
    let submits = to_run.iter().filter(|(_, id)| id.is_none()).count();
    output.note(&format!(
        "{} jobs: {done} done, {} to submit, {} to follow, {unknown} outcome unknown, {settled} ended earlier; journal {}",
        jobs.jobs.len(),
        submits,
        to_run.len() - submits,
        journal.path.display(),
    ));
    let mut interrupted = None;
    if !to_run.is_empty() {
        let session = target.connect().await?;
        let runner = Runner::new(
            Arc::clone(&jobs),
            &journal,
            &args.out_dir,
            output,
            &session.client,
            args,
        );
        let (ran, was_interrupted) = runner.run(to_run).await?;
        rows.extend(ran);
        interrupted = was_interrupted;
        session.close().await;
    }
    journal
        .flush()
        .await
        .map_err(|e| Failure::new(exit::DOWNLOAD, e))?;
    finish(rows, &jobs, &journal.path, args, output, interrupted)
}

/// Reports every invalid line; refuses to go on unless `--skip-invalid`.
fn report_invalid(jobs: &JobsFile, args: &BatchArgs, output: Output) -> anyhow::Result<Vec<Row>> {
    if jobs.invalid.is_empty() {
        return Ok(Vec::new());
    }
    let mut text = String::new();
    for line in &jobs.invalid {
        let id = line
            .id
            .as_deref()
            .map(|id| format!(" ({id})"))
            .unwrap_or_default();
        for error in &line.errors {
            text.push_str(&format!("  line {}{id}: {error}\n", line.line));
        }
        output.json_line(&json!({
            "event": "invalid_line",
            "line": line.line,
            "job": line.id,
            "errors": input_errors_json(&line.errors),
        }))?;
    }
    let total = jobs.invalid.len() + jobs.jobs.len();
    if !args.skip_invalid {
        let message = format!(
            "{} of {total} lines of {} are invalid; nothing was sent (fix them, or pass --skip-invalid):\n{}",
            jobs.invalid.len(),
            args.jobs.display(),
            text.trim_end()
        );
        return Err(Failure::new(exit::INVALID_INPUT, message).into());
    }
    output.note(&format!(
        "skipping {} invalid lines of {total}:\n{}",
        jobs.invalid.len(),
        text.trim_end()
    ));
    Ok(jobs
        .invalid
        .iter()
        .map(|line| Row {
            id: line
                .id
                .clone()
                .unwrap_or_else(|| format!("line-{}", line.line)),
            line: line.line,
            request_id: None,
            state: "invalid".into(),
            output: None,
            error: line.errors.first().map(ToString::to_string),
            next: "fix_input".into(),
        })
        .collect())
}

/// The row of a job this run leaves alone.
fn settled_row(job: &JobLine, action: Action, known: Option<&Known>) -> Row {
    let request_id = known.and_then(|k| k.request_id.clone());
    let (state, error, next, output) = match action {
        Action::Done { path } => ("succeeded".to_owned(), None, "nothing", Some(path)),
        Action::Final { state, error, .. } => (state, error, "nothing", None),
        Action::Unknown { intent_at } => {
            let when = intent_at.map(|t| format!(" at {t}")).unwrap_or_default();
            let error = format!("submit sent{when} but no request id recorded: a job may exist");
            ("unknown".to_owned(), Some(error), "check_account", None)
        }
        Action::Submit | Action::Resume { .. } => unreachable!("only settled jobs get a row here"),
    };
    Row {
        id: job.id.clone(),
        line: job.line,
        request_id,
        state,
        output,
        error,
        next: next.into(),
    }
}

/// Prints the summary and the report; returns the exit code.
fn finish(
    mut rows: Vec<Row>,
    jobs: &JobsFile,
    journal: &Path,
    args: &BatchArgs,
    output: Output,
    interrupted: Option<u8>,
) -> anyhow::Result<u8> {
    rows.sort_by_key(|r| r.line);
    let report = report::report_json(&rows, &jobs.path, journal);
    let report_path = args.out_dir.join(REPORT_NAME);
    report::write_report(&report_path, &report).map_err(|e| {
        Failure::new(
            exit::DOWNLOAD,
            format!("{}: cannot write the report: {e}", report_path.display()),
        )
    })?;
    let code = report::exit_code(&rows, interrupted);
    output.json_line(&report)?;
    if !output.json {
        let summary = report::summary(&rows, 50);
        let paint = if code == exit::OK {
            Paint::Green
        } else {
            Paint::Yellow
        };
        let (head, rest) = summary.split_once('\n').unwrap_or((&summary, ""));
        output.always(&format!("{}\n{rest}", output.paint(head, paint)));
        output.note(&format!("report: {}", report_path.display()));
        if code == exit::OK {
            output.result(&args.out_dir.display().to_string())?;
        }
    }
    Ok(code)
}

/// One run of the jobs that need the service.
struct Runner<'a> {
    journal: &'a Journal,
    out_dir: &'a Path,
    output: Output,
    client: &'a happyhorse_http::Client,
    options: BatchOptions,
    jobs: Arc<JobsFile>,
}

/// A finished download: (job index, saved path and size, or the error).
type Saved = (usize, Result<(PathBuf, u64), String>);

impl<'a> Runner<'a> {
    fn new(
        jobs: Arc<JobsFile>,
        journal: &'a Journal,
        out_dir: &'a Path,
        output: Output,
        client: &'a happyhorse_http::Client,
        args: &BatchArgs,
    ) -> Self {
        let mut options = BatchOptions::default()
            .concurrency(args.concurrency)
            .on_cancel(RunningOnCancel::Detach);
        if let Some(deadline) = args.timeout {
            options = options.deadline(deadline);
        }
        Self {
            journal,
            out_dir,
            output,
            client,
            options,
            jobs,
        }
    }

    /// Runs `to_run` (indexes into the jobs file); returns their rows and, when a signal
    /// stopped the batch, its exit code.
    async fn run(
        self,
        to_run: Vec<(usize, Option<String>)>,
    ) -> anyhow::Result<(Vec<Row>, Option<u8>)> {
        let order: Vec<usize> = to_run.iter().map(|(index, _)| *index).collect();
        let order = Arc::new(order);
        let hook_journal = self.journal.handle();
        let (hook_order, hook_jobs) = (Arc::clone(&order), Arc::clone(&self.jobs));
        let options = self.options.clone().before_submit(move |position| {
            let journal = hook_journal.clone();
            let job = hook_jobs.jobs[hook_order[position]].id.clone();
            async move {
                journal
                    .append_durable(Record::Intent { job, at: now() })
                    .await
            }
        });
        // Bodies are built (and local images inlined) only as each job is admitted.
        let bodies = Arc::clone(&self.jobs);
        let batch_jobs = to_run
            .into_iter()
            .map(move |(index, request_id)| match request_id {
                Some(id) => BatchJob::Resume(id),
                None => BatchJob::Submit(bodies.submit_body(&bodies.jobs[index])),
            });
        let mut batch = self.client.run_many::<ImageToVideo>(batch_jobs, options);
        let canceller = batch.canceller();
        let mut interrupts = Interrupts::install()?;
        // A weak handle: the hook lives as long as the signal task, the journal must not.
        let (journal, path) = (self.journal.handle().downgrade(), self.journal.path.clone());
        interrupts.on_forced_exit(move || {
            let (journal, path) = (journal.clone(), path.display().to_string());
            Box::pin(async move {
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
                    Some(BatchEvent::Progress { index, event }) => self.on_progress(order[index], &event, &mut progress)?,
                    Some(BatchEvent::Finished(item)) => {
                        let index = order[item.index];
                        let (row, files) = self.on_finished(index, item, &mut progress)?;
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
                    self.on_saved(index, row, saved, &mut progress)?;
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
        }
        progress.finish();
        Ok((rows.into_values().collect(), interrupted))
    }

    fn on_progress(
        &self,
        index: usize,
        event: &Event,
        progress: &mut Progress,
    ) -> anyhow::Result<()> {
        let job = &self.jobs.jobs[index].id;
        let line = match event {
            Event::Submitted { request_id } => {
                self.journal.append(&Record::Submitted {
                    job: job.clone(),
                    request_id: request_id.to_string(),
                });
                progress.submitted(index);
                json!({"event": "submitted", "job": job, "request_id": request_id.as_str()})
            }
            Event::Queued { position } => {
                json!({"event": "queued", "job": job, "position": position})
            }
            Event::Running => {
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
            _ => return Ok(()),
        };
        self.output.json_line(&line)?;
        Ok(())
    }

    /// Journals a job's end; returns its row and the files to download, if it succeeded.
    fn on_finished(
        &self,
        index: usize,
        item: BatchItem<ImageToVideo>,
        progress: &mut Progress,
    ) -> anyhow::Result<(Row, Vec<OutputFile>)> {
        let job = &self.jobs.jobs[index];
        let (state, error, files) = match &item.result {
            Ok(result) if result.files.is_empty() => (
                "succeeded_without_files",
                Some(format!(
                    "the job succeeded, but its output holds no file URL: {}",
                    happyhorse_core::validate::shorten(&result.output_json().to_string())
                )),
                Vec::new(),
            ),
            Ok(result) => ("succeeded", None, result.files.clone()),
            Err(error) => (
                state_of(error.kind(), item.next_step),
                Some(crate::exit_http::describe(error)),
                Vec::new(),
            ),
        };
        let next = match item.next_step {
            NextStep::Nothing => "nothing",
            NextStep::Resume => "resume",
            NextStep::Resubmit => "resubmit",
            NextStep::CheckAccount => "check_account",
            _ => "check_account",
        };
        self.journal.append(&Record::Ended {
            job: job.id.clone(),
            state: state.into(),
            next: next.into(),
            request_id: item.request_id.clone(),
            error: error.clone(),
        });
        let mut line = json!({"event": "finished", "job": job.id, "state": state, "request_id": item.request_id});
        if let Some(error) = &error {
            line["error"] = json!(error);
        }
        self.output.json_line(&line)?;
        if files.is_empty() {
            progress.finished(index, state);
        }
        let row_next = match (state, item.next_step) {
            ("succeeded" | "succeeded_without_files", _) => "nothing",
            (_, NextStep::CheckAccount) => "check_account",
            (_, NextStep::Nothing) => "nothing",
            _ => "rerun",
        };
        let row = Row {
            id: job.id.clone(),
            line: job.line,
            request_id: item.request_id,
            state: state.into(),
            output: None,
            error,
            next: row_next.into(),
        };
        Ok((row, files))
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
        let paths = crate::files::destinations(&job.id, Some(&first), &files);
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
    ) -> anyhow::Result<()> {
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
                self.output.json_line(&json!({"event": "saved", "job": row.id, "path": path.display().to_string(), "bytes": bytes}))?;
                row.output = Some(path.display().to_string());
                progress.finished(index, "succeeded");
            }
            Err(error) => {
                self.journal.append(&Record::DownloadFailed {
                    job: row.id.clone(),
                    error: error.clone(),
                });
                self.output.json_line(
                    &json!({"event": "download_failed", "job": row.id, "error": error}),
                )?;
                row.state = "download_failed".into();
                row.next = "rerun".into();
                row.error = Some(error);
                progress.finished(index, "download_failed");
            }
        }
        Ok(())
    }
}

/// The report's state for a job that ended without a video.
fn state_of(kind: happyhorse_http::ErrorKind, next: NextStep) -> &'static str {
    use happyhorse_http::ErrorKind;
    match (kind, next) {
        (_, NextStep::CheckAccount) => "unknown",
        (ErrorKind::JobFailed, _) => "failed",
        (ErrorKind::Cancelled, NextStep::Resubmit) => "not_sent",
        (ErrorKind::Cancelled, _) => "cancelled",
        (_, NextStep::Resume) => "pending",
        (
            ErrorKind::Unavailable | ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Config,
            NextStep::Resubmit,
        ) => "not_sent",
        (_, NextStep::Resubmit) => "rejected",
        _ => "failed",
    }
}
