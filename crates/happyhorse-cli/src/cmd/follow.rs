//! Following a job to its end (`run`, `wait`): events, Ctrl-C, `--timeout`, the downloads (every
//! file of the output; see `files.rs` for their names).

use std::path::PathBuf;

use futures::StreamExt as _;
use happyhorse_http::AnyModel;
use happyhorse_http::{CancelResult, DownloadOptions, ErrorKind, Event, JobHandle, PollPolicy};
use serde_json::json;

use crate::cli::DownloadArgs;
use crate::exit::{self, Failure};
use crate::exit_http;
use crate::files;
use crate::interrupt::Interrupts;
use crate::paths::{self, Existing};
use crate::recorder::Recorder;
use crate::report::Reporter;
use crate::service::Session;

/// Follows `handle` until it ends, then downloads the video; returns the exit code.
///
/// With `interrupted` set (Ctrl-C came while the submit was in flight) the job is cancelled at once.
pub(super) async fn follow(
    session: &Session,
    mut handle: JobHandle<AnyModel>,
    download: &DownloadArgs,
    reporter: &mut Reporter,
    interrupts: &mut Interrupts,
    mut interrupted: bool,
    recorder: &Recorder,
) -> anyhow::Result<u8> {
    // `--timeout` (default: the poll policy's 30 minutes) covers the downloads too.
    let deadline = download
        .timeout
        .or(PollPolicy::default().deadline())
        .map(|timeout| std::time::Instant::now() + timeout);
    let request_id = handle.request_id().to_owned();
    let resume = resume_command(session, &request_id, download);
    interrupts.note_on_forced_exit(match &resume {
        Some(resume) => format!(
            "job {request_id} goes on at the service and may finish and be billed; resume with: {resume}"
        ),
        None => format!("job {request_id} stops with the in-process emulator"),
    });
    let mut events = handle.events();
    while !interrupted {
        tokio::select! {
            event = events.next() => match event.inspect(|e| recorder.event(e)) {
                Some(Event::Queued { position }) => reporter.queued(position),
                Some(Event::Running) => reporter.running(),
                Some(Event::Retrying { request, retry, delay, reason }) => {
                    reporter.retrying(&request.to_string(), retry, delay, &reason.to_string());
                }
                Some(Event::Unrecognised { status }) => reporter.unrecognised(&status),
                Some(Event::Finished(_)) | None => break,
                Some(_) => {}
            },
            () = interrupts.recv() => interrupted = true,
        }
    }
    drop(events);
    if interrupted {
        return interrupt(
            session,
            &mut handle,
            &request_id,
            resume.as_deref(),
            reporter,
            interrupts,
            recorder,
        )
        .await;
    }

    let result = match handle.wait().await {
        Ok(result) => {
            recorder.ended(Ok(result.raw.cost));
            result
        }
        Err(error) => {
            recorder.ended(Err(&error));
            return Ok(ended_badly(
                &error,
                &request_id,
                resume.as_deref(),
                reporter,
            )?);
        }
    };
    // Done and paid for: a forced exit from here on leaves files to fetch, not a job to wait for.
    interrupts.note_on_forced_exit(match &resume {
        Some(resume) => format!(
            "job {request_id} succeeded, but its files were not all saved; download them with: {resume}"
        ),
        None => format!("job {request_id} succeeded; its files go with the in-process emulator"),
    });
    let output = result.output_json().clone();
    let urls: Vec<String> = result.urls().map(str::to_owned).collect();
    if urls.is_empty() {
        // Paid and over: say exactly that, show what came instead, and do not suggest waiting
        // (nor let `wait --last` pick it up again).
        recorder.nothing_to_save();
        let message = format!(
            "job {request_id} succeeded, but its output holds no file URL; nothing to download"
        );
        reporter.succeeded_without_files(&output, &message);
        return Err(Failure::new(exit::SUCCEEDED_WITHOUT_FILES, message)
            .with_request_id(&request_id)
            .reported()
            .into());
    }
    if download.no_download {
        reporter.succeeded(&output, &urls, &[], result.raw.cost);
        label_emulator_video(session, reporter.output())?;
        reporter.output().result(&urls.join("\n"))?;
        return Ok(exit::OK);
    }

    let paths = files::destinations(&request_id, download.output.as_deref(), &result.files);
    if let Some(first) = paths.first() {
        recorder.output(first);
    }
    // Names made of the request id (no `-o`, or `-o DIR`) can only be this job's own files.
    let named_by_user = download
        .output
        .as_deref()
        .is_some_and(|output| !files::is_directory(output));
    let existing = if download.force || !named_by_user {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    let mut saved: Vec<(PathBuf, u64)> = Vec::new();
    for (url, path) in urls.iter().zip(&paths) {
        if let Err(why) = paths::still_free(path, existing) {
            let failure = Failure::new(exit::DOWNLOAD, why).with_request_id(&request_id);
            return Err(not_saved(failure, resume.as_deref(), &saved).into());
        }
        // A Ctrl-C stops the download (its partial file stays, and resumes) and says how to
        // fetch the rest: the job itself is over and paid for.
        let saving = tokio::select! {
            // A download that has finished wins over a signal that arrived meanwhile.
            biased;
            saving = save(session, url, path, deadline, reporter) => Some(saving),
            () = interrupts.recv() => None,
        };
        let Some(saving) = saving else {
            let code = interrupts.exit_code();
            if let Some((path, bytes)) = saved.first() {
                recorder.saved(path, *bytes);
            }
            return Err(interrupted_download(code, &request_id, &saved, resume.as_deref()).into());
        };
        match saving {
            Ok(report) => saved.push(report),
            Err(error) => {
                let mut failure = exit_http::failure(&error, Some(&request_id));
                // Out of time (the deadline or a stalling host): temporary, and `wait` resumes
                // the partial file. Anything else is a download failure.
                failure.code = match error.kind() {
                    ErrorKind::Timeout => exit::TEMPORARY,
                    _ => exit::DOWNLOAD,
                };
                return Err(not_saved(failure, resume.as_deref(), &saved).into());
            }
        }
    }
    if let Some((path, bytes)) = saved.first() {
        recorder.saved(path, *bytes);
    }
    reporter.succeeded(&output, &urls, &saved, result.raw.cost);
    label_emulator_video(session, reporter.output())?;
    let lines: Vec<String> = saved.iter().map(|(p, _)| p.display().to_string()).collect();
    reporter.output().result(&lines.join("\n"))?;
    Ok(exit::OK)
}

/// A succeeded job whose files could not all be saved (exit 74, or 75 when out of time, as
/// `failure` says): what was saved, and how to download them again.
fn not_saved(mut failure: Failure, resume: Option<&str>, saved: &[(PathBuf, u64)]) -> Failure {
    let done: Vec<String> = saved.iter().map(|(p, _)| p.display().to_string()).collect();
    if !done.is_empty() {
        failure.message = format!("{} (already saved: {})", failure.message, done.join(", "));
    }
    if let Some(resume) = resume {
        failure.message = format!(
            "{} — the job succeeded; download its files again with: {resume}",
            failure.message
        );
        failure.extra().resume = Some(resume.to_owned());
    }
    failure
}

/// With `--emulator`, says (to people and in `--json`) that the video is the emulator's offline
/// preview, not a generated one; the emulator's result says so too (its `emulator` field).
fn label_emulator_video(session: &Session, output: crate::output::Output) -> std::io::Result<()> {
    if !session.is_emulator() {
        return Ok(());
    }
    let note = "this video is an offline preview made by the emulator from your input (its \
                framing, duration and size, with a camera drift), not a generated video; leave \
                out --emulator to generate one on RunComfy";
    output.json_line(&json!({"event": "preview", "preview": true, "note": note}))?;
    output.note(&format!("note: {note}"));
    Ok(())
}

/// A Ctrl-C (or SIGTERM, SIGHUP) during the downloads: what is saved, and how to fetch the rest;
/// `code` is the signal's exit code.
fn interrupted_download(
    code: u8,
    request_id: &str,
    saved: &[(PathBuf, u64)],
    resume: Option<&str>,
) -> Failure {
    let mut message = format!(
        "interrupted while saving the files of job {request_id}, which succeeded (it is paid for)"
    );
    if !saved.is_empty() {
        let done: Vec<String> = saved.iter().map(|(p, _)| p.display().to_string()).collect();
        message.push_str(&format!("; already saved: {}", done.join(", ")));
    }
    let mut failure = Failure::new(code, message).with_request_id(request_id);
    if let Some(resume) = resume {
        failure.message = format!("{}; download them with: {resume}", failure.message);
        failure.extra().resume = Some(resume.to_owned());
    }
    failure
}

/// Downloads one file, with a progress bar on a terminal.
async fn save(
    session: &Session,
    url: &str,
    path: &std::path::Path,
    deadline: Option<std::time::Instant>,
    reporter: &mut Reporter,
) -> Result<(PathBuf, u64), happyhorse_http::Error> {
    let bar = reporter.download_bar();
    let mut options = DownloadOptions::default();
    if let Some(deadline) = deadline {
        options = options.deadline(deadline);
    }
    if let Some(bar) = bar.clone() {
        options = options.on_progress(move |p| {
            if let Some(total) = p.total {
                bar.set_length(total);
            }
            bar.set_position(p.bytes);
        });
    }
    let saved = session.client.download(url, path, options).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    saved.map(|report| (report.path, report.bytes))
}

/// The job ended without a video: report it as its own event and pick the exit code. "Resume"
/// is offered only when waiting can still succeed (never after an expired id or a finished job).
fn ended_badly(
    error: &happyhorse_http::Error,
    request_id: &str,
    resume: Option<&str>,
    reporter: &mut Reporter,
) -> Result<u8, Failure> {
    let message = exit_http::describe(error);
    let resume = resume.filter(|_| error.can_resume());
    match error.kind() {
        ErrorKind::JobFailed => {
            reporter.failed(error.service_error(), &message);
            Err(Failure::new(exit::JOB_FAILED, message)
                .with_request_id(request_id)
                .reported())
        }
        ErrorKind::Cancelled => {
            reporter.cancelled(&message);
            Err(Failure::new(exit::JOB_CANCELLED, message)
                .with_request_id(request_id)
                .reported())
        }
        ErrorKind::DeadlineExceeded => {
            reporter.timed_out(&message, resume);
            Err(Failure::new(exit::TEMPORARY, message)
                .with_request_id(request_id)
                .reported())
        }
        _ => {
            let mut failure = exit_http::failure(error, Some(request_id));
            if let Some(resume) = resume {
                failure.message = format!(
                    "{} — the job may still be running; resume with: {resume}",
                    failure.message
                );
                failure.extra().resume = Some(resume.to_owned());
            }
            Err(failure)
        }
    }
}

/// Ctrl-C: cancel a queued job; a running one cannot be cancelled, so say how to resume. Exit 130.
async fn interrupt(
    session: &Session,
    handle: &mut JobHandle<AnyModel>,
    request_id: &str,
    resume: Option<&str>,
    reporter: &mut Reporter,
    interrupts: &Interrupts,
    recorder: &Recorder,
) -> anyhow::Result<u8> {
    let name = interrupts.name();
    reporter.say(&format!(
        "interrupted ({name}): asking the service to cancel {request_id} ({name} again to quit at once)"
    ));
    interrupts.note_on_forced_exit(match resume {
        Some(_) => format!(
            "the cancel of job {request_id} was sent but not answered: the job may still run and be billed; \
             check with: {}",
            session.command(&["status", request_id])
        ),
        None => format!("job {request_id} stops with the in-process emulator"),
    });
    let cancelled = handle.cancel().await;
    // The answer is in: what is left is said below, the same with or without another Ctrl-C.
    interrupts.clear_on_forced_exit();
    let (cancel, message, resume) = match cancelled {
        Ok(CancelResult::Cancelled) => (
            {
                recorder.cancelled();
                "cancelled"
            },
            format!("job {request_id} was queued and is now cancelled; nothing will be billed"),
            None,
        ),
        Ok(CancelResult::TooLate) => (
            "too_late",
            format!(
                "job {request_id} is already running and cannot be cancelled: it will finish and be billed"
            ),
            resume,
        ),
        Ok(CancelResult::AlreadyFinished) => (
            "already_finished",
            format!("job {request_id} had already finished"),
            resume,
        ),
        Ok(other) => (
            other.name(),
            format!("job {request_id}: {}", other.describe()),
            resume,
        ),
        Err(error) => (
            "failed",
            format!("cancelling job {request_id} failed ({error}); it may still run"),
            resume,
        ),
    };
    reporter.interrupted(cancel, &message, resume);
    Err(Failure::new(interrupts.exit_code(), message)
        .with_request_id(request_id)
        .reported()
        .into())
}

/// The command that picks the job up again, or `None` when nothing can (an in-process emulator).
fn resume_command(session: &Session, request_id: &str, download: &DownloadArgs) -> Option<String> {
    if session.is_emulator() {
        return None;
    }
    let path = download
        .output
        .as_ref()
        .map(|path| path.to_string_lossy().into_owned());
    let mut args = vec!["wait", request_id];
    if let Some(path) = &path {
        args.extend(["-o", path]);
    }
    if download.no_download {
        args.push("--no-download");
    }
    Some(session.command(&args))
}
