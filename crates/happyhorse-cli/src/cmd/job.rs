//! The commands that talk to the service: `run`, `submit`, `status`, `result`, `cancel`, `wait`,
//! `models`.
//!
//! Everything that can be checked locally is checked first — the token, the base URL, the whole
//! input — so bad input never reaches the service, let alone costs money.

use std::path::{Path, PathBuf};

use happyhorse_http::{AnyModel, JobHandle, JobState, ModelEntry};
use happyhorse_types::ModelSpec;
use serde_json::{Value, json};

use super::follow::follow;
use super::ledgered::{self, RunPlan};
use crate::books::Books;
use crate::budget::Quote;
use crate::cli::{
    DownloadArgs, GlobalArgs, JobArgs, ModelsArgs, ModelsCommand, RunArgs, SubmitArgs, WaitArgs,
};
use crate::exit::{self, Failure};
use crate::exit_http;
use crate::input;
use crate::interrupt::{Interrupts, Signal};
use crate::output::{Output, Paint};
use crate::paths::{self, Existing};
use crate::recorder::{self, Recorder};
use crate::report::Reporter;
use crate::service::{self, Session};

/// `happyhorse run`.
pub(super) async fn run(global: &GlobalArgs, args: &RunArgs, output: Output) -> anyhow::Result<u8> {
    let target = service::resolve(global, &args.service, args.download.timeout)?
        .allow_unknown_fields(args.input.allow_unknown);
    let spec = args.input.spec();
    let body = validated_input(&args.input)?;
    let destination = if args.no_wait {
        None
    } else {
        checked_destination(&args.download)?
    };
    let mut interrupts = Interrupts::install()?;
    let session = target.connect().await?;
    if session.is_emulator() && (args.no_wait || args.download.no_download) {
        let message = "the in-process emulator stops when this command ends: the request id and \
                       the video URL it prints lead nowhere afterwards (use `happyhorse emulator` \
                       for a server that stays up)";
        output.json_line(&json!({"event": "warning", "message": message}))?;
        output.note(&format!("warning: {message}"));
    }
    let books = open_books(global, &session);
    let base_url = session.client.base_url();
    let digest = recorder::digest(spec, &body);
    let mut reporter = Reporter::new(output);
    let outcome = async {
        // The estimate comes before the intent, so a refusal by --max-cost leaves nothing in the
        // ledger; with --once the claim comes first, since following an earlier job pays nothing.
        if !args.once {
            estimate(&session, spec, &body, &mut reporter, args.max_cost).await?;
        }
        let intent = recorder::intent("run", spec, &base_url, &digest, destination.as_deref());
        let plan =
            ledgered::run_plan(&books, spec, intent, args.once, &mut interrupts, output).await?;
        let (handle, interrupted, recorder) = match plan {
            RunPlan::Follow(entry) => {
                let id = entry.request_id.clone().unwrap_or_default();
                let handle = session
                    .client
                    .job_any(&id)
                    .map_err(|e| exit_http::failure(&e, Some(&id)))?;
                reporter.resumed(handle.request_id());
                let recorder = Recorder::adopt(books.clone(), "run", spec, &base_url, &id, None);
                (handle, false, recorder)
            }
            RunPlan::Submit(recorder) => {
                if args.once {
                    let estimated =
                        estimate(&session, spec, &body, &mut reporter, args.max_cost).await;
                    if let Err(refusal) = estimated {
                        recorder
                            .not_sent("refused before the submit: over --max-cost")
                            .await;
                        return Err(refusal.into());
                    }
                }
                let (handle, interrupted) = submit(
                    &session,
                    spec,
                    &body,
                    &mut reporter,
                    &mut interrupts,
                    &recorder,
                )
                .await?;
                (handle, interrupted, recorder)
            }
        };
        if args.no_wait {
            // As `submit`: the id must reach stdout (with --json, in the `submitted` event).
            let id = handle.request_id();
            let printed = if crate::stdio::stdout_discards() {
                Err("stdout is closed or /dev/null".to_owned())
            } else if let Some(why) = reporter.stdout_lost() {
                Err(why)
            } else {
                reporter
                    .output()
                    .result(id)
                    .map_err(|e| crate::read::io_reason(&e))
            };
            return match printed {
                Ok(()) => Ok(exit::OK),
                Err(why) => Err(id_not_written(&session, id, &why)),
            };
        }
        follow(
            &session,
            handle,
            &args.download,
            &mut reporter,
            &mut interrupts,
            interrupted,
            &recorder,
        )
        .await
    }
    .await;
    drop(reporter);
    books.flush().await;
    session.close().await;
    outcome
}

/// `happyhorse submit`: the request id on stdout at once (recorded in the ledger first). A
/// stdout that cannot take it (closed, a broken pipe, a full disk) fails the command, with the
/// id on stderr.
pub(super) async fn submit_command(
    global: &GlobalArgs,
    args: &SubmitArgs,
    output: Output,
) -> anyhow::Result<u8> {
    let target = service::resolve(global, &args.service, None)?
        .allow_unknown_fields(args.input.allow_unknown);
    let spec = args.input.spec();
    let body = validated_input(&args.input)?;
    let mut interrupts = Interrupts::install()?;
    let session = target.connect().await?;
    if session.is_emulator() {
        output
            .note("note: the in-process emulator stops when this command ends; the id is for show");
    }
    let books = open_books(global, &session);
    let base_url = session.client.base_url();
    let digest = recorder::digest(spec, &body);
    let outcome = async {
        let quote = Quote::of(&session.client, [(spec, &body)]).await;
        output.note(&quote.line());
        quote.check(args.max_cost)?;
        let intent = recorder::intent("submit", spec, &base_url, &digest, None);
        let RunPlan::Submit(recorder) =
            ledgered::run_plan(&books, spec, intent, false, &mut interrupts, output).await?
        else {
            unreachable!("only --once follows an earlier job")
        };
        let (handle, interrupted) = submit_past_ctrl_c(
            &session,
            spec,
            &body,
            &mut interrupts,
            |text| output.note(text),
            &recorder,
        )
        .await?;
        let id = handle.request_id();
        let printed = if crate::stdio::stdout_discards() {
            Err(std::io::Error::other("stdout is closed or /dev/null"))
        } else {
            output
                .json_line(&json!({"request_id": id, "model_id": spec.id}))
                .and_then(|()| output.result(id))
        };
        if let Err(error) = printed {
            return Err(id_not_written(&session, id, &crate::read::io_reason(&error)));
        }
        if interrupted {
            let message = format!(
                "interrupted: job {id} was created and will run (and be billed) unless cancelled: {}",
                session.command(&["cancel", id])
            );
            return Err(Failure::new(interrupts.exit_code(), message)
                .with_request_id(id)
                .into());
        }
        Ok(exit::OK)
    }
    .await;
    books.flush().await;
    session.close().await;
    outcome
}

/// A job was created but stdout could not take its id (`why`): exit 1, the id on stderr.
fn id_not_written(session: &service::Session, id: &str, why: &str) -> anyhow::Error {
    Failure::new(
        exit::GENERIC,
        format!(
            "job {id} was created, but its id could not be written to stdout ({why}); it is in the job \
             ledger (`happyhorse jobs`): follow it with {}, or cancel it with {}",
            session.command(&["wait", id]),
            session.command(&["cancel", id])
        ),
    )
    .with_request_id(id)
    .into()
}

/// `happyhorse wait [ID | --last]`.
pub(super) async fn wait(
    global: &GlobalArgs,
    args: &WaitArgs,
    output: Output,
) -> anyhow::Result<u8> {
    let target = service::resolve(global, &args.service, args.download.timeout)?;
    if let Some(id) = &args.request_id {
        happyhorse_core::RequestId::new(id.as_str())
            .map_err(|e| Failure::new(exit::INVALID_INPUT, e.to_string()))?;
    }
    let mut interrupts = Interrupts::install()?;
    // Connecting sends nothing; the service is needed to know which ledger entries are its own.
    let session = target.connect().await?;
    let books = open_books(global, &session);
    let base_url = session.client.base_url();
    let mut reporter = Reporter::new(output);
    let outcome = async {
        let (request_id, entry) = ledgered::wait_target(&books, &base_url, args)?;
        let download = ledgered::wait_download(&args.download, entry.as_ref())?;
        let handle = session
            .client
            .job_any(&request_id)
            .map_err(|e| exit_http::failure(&e, Some(&request_id)))?;
        // The ledger knows the model of a job it recorded; a bare id is recorded as image-to-video's.
        let spec = entry
            .as_ref()
            .and_then(|entry| happyhorse_types::find_model(&entry.model))
            .unwrap_or(&happyhorse_types::image_to_video::SPEC);
        let recorder = Recorder::adopt(
            books.clone(),
            "wait",
            spec,
            &base_url,
            &request_id,
            download.output.as_deref(),
        );
        reporter.resumed(handle.request_id());
        follow(
            &session,
            handle,
            &download,
            &mut reporter,
            &mut interrupts,
            false,
            &recorder,
        )
        .await
    }
    .await;
    drop(reporter);
    books.flush().await;
    session.close().await;
    outcome
}

/// The ledger, unless the jobs die with the command (the in-process emulator).
fn open_books(global: &GlobalArgs, session: &Session) -> Books {
    if session.is_emulator() {
        Books::off()
    } else {
        Books::open(global)
    }
}

/// `happyhorse status|result|cancel ID`.
pub(super) async fn one_shot(
    global: &GlobalArgs,
    args: &JobArgs,
    which: OneShot,
    output: Output,
) -> anyhow::Result<u8> {
    let target = service::resolve(global, &args.service, None)?;
    let session = target.connect().await?;
    let id = args.request_id.as_str();
    let outcome = async {
        let failure = |e: happyhorse_http::Error| exit_http::failure(&e, Some(id));
        match which {
            OneShot::Status => {
                let report = session.client.status(id).await.map_err(failure)?;
                output.json_line(&serde_json::to_value(&report.answer)?)?;
                output.result(&format!("{id}: {}", report.state))?;
                Ok(exit::OK)
            }
            OneShot::Result => {
                let report = session.client.result(id, true).await.map_err(failure)?;
                output.json_line(&serde_json::to_value(&report.answer)?)?;
                let mut lines = vec![format!("{id}: {}", report.state)];
                for file in &report.files {
                    let label = if file.is_video { "video" } else { "file" };
                    lines.push(format!("{label}: {}", file.url));
                }
                if let Some(cost) = report.answer.cost {
                    lines.push(format!("cost: ${cost:.2}"));
                }
                let code = match &report.state {
                    JobState::Failed { .. } => exit::JOB_FAILED,
                    JobState::Cancelled => exit::JOB_CANCELLED,
                    JobState::Succeeded { output } if report.files.is_empty() => {
                        let shown = serde_json::to_string_pretty(output)?;
                        lines.push(format!(
                            "the job succeeded, but its output holds no file URL; the output, as sent:\n{shown}"
                        ));
                        exit::SUCCEEDED_WITHOUT_FILES
                    }
                    _ => exit::OK,
                };
                output.result(&lines.join("\n"))?;
                Ok(code)
            }
            OneShot::Cancel => {
                // Any answer the service accepted is a verdict, and the command did its job.
                let verdict = session.client.cancel(id).await.map_err(failure)?;
                output.json_line(&json!({
                    "request_id": id,
                    "outcome": verdict.name(),
                    "message": verdict.describe(),
                }))?;
                output.result(&format!("{id}: {verdict}"))?;
                Ok(exit::OK)
            }
        }
    }
    .await;
    session.close().await;
    outcome
}

/// Which one-request command.
#[derive(Debug, Clone, Copy)]
pub(super) enum OneShot {
    Status,
    Result,
    Cancel,
}

/// `happyhorse models [list|get ID]`.
pub(super) async fn models(
    global: &GlobalArgs,
    args: &ModelsArgs,
    output: Output,
) -> anyhow::Result<u8> {
    let target = service::resolve(global, &args.service, None)?;
    let session = target.connect().await?;
    let outcome = async {
        match &args.command {
            None | Some(ModelsCommand::List) => {
                let catalogue = session
                    .client
                    .models()
                    .await
                    .map_err(|e| exit_http::failure(&e, None))?;
                output.json_line(&catalogue.raw)?;
                let lines: Vec<String> = catalogue
                    .models
                    .iter()
                    .map(|m| model_line(m, output))
                    .collect();
                output.result(&lines.join("\n"))?;
            }
            Some(ModelsCommand::Get { id }) => {
                // A short name is resolved here; any other id is asked for as it is.
                let id = happyhorse_types::find_model(id).map_or(id.as_str(), |spec| spec.id);
                let model = session
                    .client
                    .model(id)
                    .await
                    .map_err(|e| exit_http::failure(&e, None))?;
                output.json_line(&model.raw)?;
                let mut text = model_line(&model, output);
                for extra in [&model.description, &model.pricing_note]
                    .into_iter()
                    .flatten()
                {
                    text.push_str(&format!("\n{extra}"));
                }
                output.result(&text)?;
            }
        }
        Ok(exit::OK)
    }
    .await;
    session.close().await;
    outcome
}

/// `t2v  happyhorse/happyhorse-1.0/text-to-video  HappyHorse 1.0 T2V  $0.10/second`: the short
/// name `--model` takes first (`-` for a model this version does not know).
fn model_line(model: &ModelEntry, output: Output) -> String {
    let text = |value: &Option<String>| value.clone().unwrap_or_else(|| "?".to_owned());
    let price = match model.base_price_usd {
        Some(price) => format!("${price:.2}/{}", text(&model.price_unit)),
        None => "price unknown".to_owned(),
    };
    let short = model
        .model_id
        .as_deref()
        .and_then(happyhorse_types::find_model)
        .map_or("-", |spec| spec.short_name);
    format!(
        "{short:<8} {}  {}  {price}",
        output.paint(&text(&model.model_id), Paint::Bold),
        text(&model.display_name)
    )
}

/// Where the video goes, checked before anything is sent: `-o` must be a file that can be
/// written (an existing one only with `--force`); without it, the video becomes
/// `<request_id>.mp4` in the current directory, which must be writable. Returns the `-o` path
/// made absolute.
fn checked_destination(download: &DownloadArgs) -> Result<Option<PathBuf>, Failure> {
    if download.no_download {
        return Ok(None);
    }
    match &download.output {
        Some(path) => {
            let existing = if download.force {
                Existing::Replace
            } else {
                Existing::Refuse
            };
            paths::destination(path, existing).map(Some)
        }
        None => paths::output_dir(Path::new(".")).map(|_| None),
    }
}

/// The input, assembled and validated: nothing is sent when it is not valid.
fn validated_input(args: &crate::cli::InputArgs) -> Result<Value, Failure> {
    input::assemble_and_validate(args.spec(), args, &mut std::io::stdin().lock())
        .map_err(Failure::invalid_input)
}

/// Sends the submit and waits for its answer even past a first Ctrl-C (which it reports with
/// `say`): the answer may hold the only copy of a new, billable job's id. A Ctrl-C that came
/// before sending (while connecting) sends nothing; a second Ctrl-C during the submit exits
/// saying a job may exist. Returns the job and whether a Ctrl-C came.
async fn submit_past_ctrl_c(
    session: &Session,
    spec: &'static ModelSpec,
    body: &Value,
    interrupts: &mut Interrupts,
    say: impl FnOnce(&str),
    recorder: &Recorder,
) -> anyhow::Result<(JobHandle<AnyModel>, bool)> {
    if interrupts.pending() {
        // Its intent is recorded: say it paid nothing, or the ledger would call it unknown.
        recorder
            .not_sent(&format!(
                "interrupted ({}) before the submit was sent",
                interrupts.name()
            ))
            .await;
        return Err(Failure::new(
            interrupts.exit_code(),
            format!(
                "interrupted ({}) before the submit was sent: nothing was sent",
                interrupts.name()
            ),
        )
        .into());
    }
    interrupts.note_on_forced_exit(
        "the submit was in flight: a job may have been created (and billed) with an id this command \
         never received; look for it in the account's request list on RunComfy before submitting again, which may bill twice"
            .to_owned(),
    );
    let submitting = session.client.submit_any(spec, body);
    tokio::pin!(submitting);
    let (submitted, interrupted) = tokio::select! {
        submitted = &mut submitting => (submitted, false),
        () = interrupts.recv() => {
            let name = interrupts.name();
            say(&format!("interrupted ({name}): waiting for the submit's answer so the job is not orphaned ({name} again to quit at once)"));
            // SIGTERM and SIGHUP wait a bounded time: SIGKILL usually follows.
            let grace = interrupts.signal().and_then(Signal::submit_grace);
            let answer = match grace {
                None => Some(submitting.await),
                Some(grace) => tokio::time::timeout(grace, &mut submitting).await.ok(),
            };
            let Some(answer) = answer else {
                interrupts.clear_on_forced_exit();
                recorder
                    .submit_abandoned(&format!("interrupted ({name}) before the submit's answer came"))
                    .await;
                return Err(Failure::new(
                    interrupts.exit_code(),
                    format!(
                        "interrupted ({name}): the submit was not answered within {}s: a job may have been created \
                         (and billed) with an id this command never received; check the account's requests before submitting again",
                        grace.unwrap_or_default().as_secs()
                    ),
                )
                .into());
            };
            (answer, true)
        }
    };
    let handle = match submitted {
        Ok(handle) => handle,
        Err(e) => {
            // The error says what is known of the job; nothing more to add on a second signal.
            interrupts.clear_on_forced_exit();
            recorder.submit_failed(&e).await;
            return Err(exit_http::failure(&e, None).into());
        }
    };
    let id = handle.request_id();
    // A second signal from now on names the id, even while the ledger is slow to take it.
    interrupts.note_on_forced_exit(if session.is_emulator() {
        format!("job {id} stops with the in-process emulator")
    } else {
        format!(
            "job {id} goes on at the service and may be billed; cancel it with: {}",
            session.command(&["cancel", id])
        )
    });
    tracing::debug!(
        request_id = id,
        "recording the request id in the job ledger"
    );
    // In the ledger before anything prints it.
    recorder.submitted(id).await;
    Ok((handle, interrupted))
}

/// Submits; the request id is reported the moment it is known. A Ctrl-C during the submit does
/// not abandon it (the job would be orphaned): it waits for the id, then asks to cancel.
async fn submit(
    session: &Session,
    spec: &'static ModelSpec,
    body: &Value,
    reporter: &mut Reporter,
    interrupts: &mut Interrupts,
    recorder: &Recorder,
) -> anyhow::Result<(JobHandle<AnyModel>, bool)> {
    let (handle, interrupted) = submit_past_ctrl_c(
        session,
        spec,
        body,
        interrupts,
        |text| reporter.say(text),
        recorder,
    )
    .await?;
    reporter.submitted(handle.request_id(), spec.id);
    Ok((handle, interrupted))
}

/// Shows the estimated cost and refuses it when over `max_cost` (nothing is submitted then).
async fn estimate(
    session: &Session,
    spec: &'static ModelSpec,
    body: &Value,
    reporter: &mut Reporter,
    max_cost: Option<f64>,
) -> Result<(), Failure> {
    let quote = Quote::of(&session.client, [(spec, body)]).await;
    reporter.estimate(&quote);
    quote.check(max_cost)
}
