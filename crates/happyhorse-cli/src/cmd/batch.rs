//! `happyhorse batch JOBS.jsonl --out-dir DIR`: many jobs, crash-safe. Every line is checked
//! first; the journal decides what each job needs; `Client::run_many_json` runs them; videos are
//! downloaded as their jobs succeed; the end is a summary, a report and an exit code.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use happyhorse_core::validate::ValidateOptions;
use happyhorse_types::image_to_video::SPEC;
use serde_json::json;

use crate::batch::files::BatchFiles;
use crate::batch::jobs_file::{JobLine, JobsFile};
use crate::batch::journal::{self, Journal, JournalError, Known};
use crate::batch::ledger_link::LedgerLink;
use crate::batch::plan::{Action, decide};
use crate::batch::recover;
use crate::batch::report::{self, Row};
use crate::batch::runner::Runner;
use crate::batch::state::{BatchState, UserNext};
use crate::books::Books;
use crate::budget::Quote;
use crate::cli::{BatchArgs, GlobalArgs};
use crate::exit::{self, Failure};
use crate::output::{Output, Paint, input_errors_json};
use crate::service;

/// The journal's name inside `--out-dir` when `--journal` is not given.
pub(crate) const JOURNAL_NAME: &str = "happyhorse-batch.journal";
/// The report's name inside `--out-dir`.
pub(crate) const REPORT_NAME: &str = "happyhorse-batch-report.json";

pub(crate) async fn run(
    global: &GlobalArgs,
    args: &BatchArgs,
    output: Output,
) -> anyhow::Result<u8> {
    let target = service::resolve(global, &args.service, args.timeout)?
        .allow_unknown_fields(args.allow_unknown);
    let options = ValidateOptions::default().allow_unknown_fields(args.allow_unknown);
    let jobs = Arc::new(
        JobsFile::load(&args.jobs, args.model.unwrap_or(&SPEC), options).map_err(|e| {
            Failure::new(
                exit::NO_INPUT,
                format!(
                    "{}: cannot read the jobs file ({})",
                    args.jobs.display(),
                    crate::read::io_reason(&e)
                ),
            )
        })?,
    );
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
    // A journal that is missing or empty where the ledger knows jobs of this batch was deleted
    // or emptied: starting over would pay for them again.
    let mut opened_books = None;
    let blank = match journal::is_blank(&journal_path) {
        true => {
            let books = opened_books.insert(Books::open(global));
            recover::submitted_before(&journal_path, &jobs, books).filter(|(n, _)| *n > 0)
        }
        false => None,
    };
    let (journal, mut known) = match (blank, opened_books.as_ref()) {
        (Some(known), Some(books)) if !args.rebuild_journal => {
            return Err(recover::blank_refusal(&journal_path, books, known).into());
        }
        (Some(_), Some(books)) => rebuild_journal(&journal_path, &jobs, books, output)?,
        _ => match Journal::open(&journal_path, &jobs) {
            Ok(opened) => opened,
            Err(error) if error.is_damaged() => {
                let books = opened_books.get_or_insert_with(|| Books::open(global));
                if !args.rebuild_journal {
                    return Err(recover::refusal(&error, &journal_path, books).into());
                }
                rebuild_journal(&journal_path, &jobs, books, output)?
            }
            Err(error) => return Err(journal_failure(error).into()),
        },
    };
    files.check_foreign_outputs(&jobs, &known, args.force)?;
    adopt_ids_beyond_journal(
        &journal,
        &jobs,
        &mut known,
        &mut opened_books,
        global,
        output,
    );
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
    let count = |state: BatchState| rows.iter().filter(|r| r.state == state).count();
    let (done, unknown) = (count(BatchState::Succeeded), count(BatchState::Unknown));
    let settled = rows.len() - done - unknown - count(BatchState::Invalid);
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
        if let Err(refused) = estimate(&session.client, &jobs, &to_run, args, output).await {
            session.close().await;
            return Err(refused);
        }
        let books = opened_books
            .take()
            .unwrap_or_else(|| Books::open(global))
            .unless(session.is_emulator());
        let link = LedgerLink::new(
            books,
            session.client.base_url(),
            &journal.path,
            &files.out_dir,
            &jobs,
        );
        let runner = Runner::new(
            Arc::clone(&jobs),
            &journal,
            &args.out_dir,
            output,
            &session.client,
            args,
            link,
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

/// Jobs whose journal stops at the intent but whose id the ledger took (a kill between the two
/// writes) are followed by that id, never reported `unknown` or submitted again; the journal
/// learns the id too.
fn adopt_ids_beyond_journal(
    journal: &Journal,
    jobs: &JobsFile,
    known: &mut HashMap<String, Known>,
    opened_books: &mut Option<Books>,
    global: &GlobalArgs,
    output: Output,
) {
    let cut_short = known
        .values()
        .any(|k| k.intent_at.is_some() && k.request_id.is_none() && k.ended.is_none());
    if !cut_short {
        return;
    }
    let books = opened_books.get_or_insert_with(|| Books::open(global));
    for (job, request_id) in recover::ids_beyond_journal(&journal.path, jobs, known, books) {
        output.note(&format!(
            "{job}: the journal lost its id, the job ledger has it ({request_id}): following that job"
        ));
        journal.append(&journal::Record::Submitted {
            job: job.clone(),
            request_id: request_id.clone(),
        });
        if let Some(known) = known.get_mut(&job) {
            known.request_id = Some(request_id);
        }
    }
}

/// Why a journal cannot be used, as a failure: locked is temporary, anything else is for the
/// user to sort out.
fn journal_failure(error: JournalError) -> Failure {
    let code = if matches!(error, JournalError::Locked { .. }) {
        exit::TEMPORARY
    } else {
        exit::CONFIG
    };
    Failure::new(code, error.to_string())
}

/// `--rebuild-journal`: the journal rebuilt from the ledger (and what is readable of the old
/// one), then opened.
fn rebuild_journal(
    path: &Path,
    jobs: &JobsFile,
    books: &Books,
    output: Output,
) -> anyhow::Result<(Journal, HashMap<String, Known>)> {
    let rebuilt = recover::rebuild(path, jobs, books)?;
    let kept = rebuilt.moved_to.as_ref().map_or_else(
        || "there was no old journal".to_owned(),
        |old| format!("the old journal is kept at {}", old.display()),
    );
    output.note(&format!(
        "journal rebuilt: {} jobs from the job ledger, {} from the old journal's readable lines, {} unknown \
         (a job may exist: not submitted again); {kept}",
        rebuilt.from_ledger, rebuilt.from_journal, rebuilt.unknown,
    ));
    Ok(Journal::open(path, jobs).map_err(journal_failure)?)
}

/// Shows what the jobs about to be submitted are estimated to cost (jobs followed are paid for
/// already); refuses them all, before any is submitted, when that is above `--max-cost`.
async fn estimate(
    client: &happyhorse_http::Client,
    jobs: &JobsFile,
    to_run: &[(usize, Option<String>)],
    args: &BatchArgs,
    output: Output,
) -> anyhow::Result<()> {
    let submits: Vec<(&'static happyhorse_types::ModelSpec, serde_json::Value)> = to_run
        .iter()
        .filter(|(_, request_id)| request_id.is_none())
        .map(|(index, _)| {
            let job = &jobs.jobs[*index];
            (job.model, serde_json::Value::Object(job.input.clone()))
        })
        .collect();
    if submits.is_empty() {
        return Ok(());
    }
    let quote = Quote::of(client, submits.iter().map(|(spec, input)| (*spec, input))).await;
    output.note(&quote.line());
    let mut event = quote.json();
    event["event"] = json!("estimate");
    output.json_line(&event)?;
    quote.check(args.max_cost)?;
    Ok(())
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
            state: BatchState::Invalid,
            output: None,
            error: line.errors.first().map(ToString::to_string),
            next: UserNext::FixInput,
        })
        .collect())
}

/// The row of a job this run leaves alone.
fn settled_row(job: &JobLine, action: Action, known: Option<&Known>) -> Row {
    let request_id = known.and_then(|k| k.request_id.clone());
    let (state, error, next, output) = match action {
        Action::Done { path } => (BatchState::Succeeded, None, UserNext::Nothing, Some(path)),
        Action::Final { state, error, .. } => (state, error, UserNext::Nothing, None),
        Action::Unknown { intent_at } => {
            let when = intent_at.map(|t| format!(" at {t}")).unwrap_or_default();
            let error = format!("submit sent{when} but no request id recorded: a job may exist");
            (
                BatchState::Unknown,
                Some(error),
                UserNext::CheckAccount,
                None,
            )
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
        next,
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
    let printed = output.json_line(&report);
    // A stopped batch (a signal, a lost stdout) ends with its own code, printed or not.
    if interrupted.is_none() {
        printed?;
    }
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
