//! How `run` and `wait` tell what happens to a job: NDJSON events with `--json`; otherwise a
//! spinner with the state and elapsed time on a terminal, or one line per change when stderr is
//! not a terminal. The request id is shown the moment it is known. See docs/cli.md for the events.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use crate::output::{Output, Paint};

/// Reports one job's progress.
pub(crate) struct Reporter {
    output: Output,
    started: Instant,
    request_id: Option<String>,
    spinner: Option<ProgressBar>,
    last_queue_position: Option<Option<u64>>,
    /// Why stdout could not take an event, the first time it could not.
    stdout_lost: std::sync::Mutex<Option<String>>,
    /// The estimate shown before the submit, for the `submitted` event.
    estimate: Option<Value>,
}

impl Reporter {
    /// A reporter; the elapsed time counts from now.
    pub(crate) fn new(output: Output) -> Self {
        Self {
            output,
            started: Instant::now(),
            request_id: None,
            spinner: None,
            last_queue_position: None,
            stdout_lost: std::sync::Mutex::new(None),
            estimate: None,
        }
    }

    /// Why stdout could not take an event, if it could not (`run --no-wait` then fails loudly:
    /// the event held the only copy of the id).
    pub(crate) fn stdout_lost(&self) -> Option<String> {
        self.stdout_lost
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The output settings.
    pub(crate) fn output(&self) -> Output {
        self.output
    }

    fn emit(&self, event: &str, fields: Value) {
        let mut object = json!({
            "event": event,
            "request_id": self.request_id,
            "elapsed_s": (self.started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        });
        if let (Some(object), Value::Object(fields)) = (object.as_object_mut(), fields) {
            object.extend(fields);
        }
        // A closed stdout (`| head`) must not stop the job from being followed.
        if let Err(error) = self.output.json_line(&object) {
            self.stdout_lost
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get_or_insert_with(|| crate::read::io_reason(&error));
        }
    }

    /// A permanent line on stderr for people (above the spinner when there is one), made
    /// terminal-safe like every human line.
    pub(crate) fn say(&self, text: &str) {
        match &self.spinner {
            Some(spinner) => spinner.println(self.output.safe(text)),
            None => self.output.note(text),
        }
    }

    /// The current state: the spinner's message on a terminal, else a line.
    fn state(&mut self, text: &str) {
        if !self.output.progress() {
            self.output.note(text);
            return;
        }
        let spinner = self.spinner.get_or_insert_with(|| {
            let spinner = ProgressBar::new_spinner();
            spinner.set_style(
                ProgressStyle::with_template("{spinner} {msg} · {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            spinner.enable_steady_tick(Duration::from_millis(120));
            spinner
        });
        spinner.set_message(self.output.safe(text).into_owned());
    }

    fn stop_spinner(&mut self) {
        if let Some(spinner) = self.spinner.take() {
            spinner.finish_and_clear();
        }
    }

    /// The job exists: its id, at once.
    pub(crate) fn submitted(&mut self, request_id: &str, model_id: &str) {
        self.request_id = Some(request_id.to_owned());
        let estimate = self.estimate.take();
        self.emit(
            "submitted",
            json!({"model_id": model_id, "estimate": estimate}),
        );
        let id = self.output.paint(request_id, Paint::Bold);
        self.say(&format!("submitted: request id {id}"));
    }

    /// What the job about to be submitted is estimated to cost: a line now; with `--json`, the
    /// `submitted` event carries it (the first event stays the one with the request id).
    pub(crate) fn estimate(&mut self, quote: &crate::budget::Quote) {
        self.estimate = Some(quote.json());
        self.say(&quote.line());
    }

    /// Following an existing job (`wait`).
    pub(crate) fn resumed(&mut self, request_id: &str) {
        self.request_id = Some(request_id.to_owned());
        self.emit("resumed", json!({}));
        let id = self.output.paint(request_id, Paint::Bold);
        self.say(&format!("following request {id}"));
    }

    /// Queued, when the position changed.
    pub(crate) fn queued(&mut self, position: Option<u64>) {
        if self.last_queue_position == Some(position) {
            return;
        }
        self.last_queue_position = Some(position);
        self.emit("queued", json!({"position": position}));
        match position {
            Some(position) => self.state(&format!("queued (position {position})")),
            None => self.state("queued"),
        }
    }

    /// Running.
    pub(crate) fn running(&mut self) {
        self.last_queue_position = None;
        self.emit("running", json!({}));
        self.state("running");
    }

    /// A call failed transiently and will be retried.
    pub(crate) fn retrying(&mut self, request: &str, retry: u32, delay: Duration, reason: &str) {
        self.emit(
            "retrying",
            json!({"request": request, "attempt": retry, "delay_s": delay.as_secs_f64(), "reason": reason}),
        );
        self.say(&format!(
            "retrying {request} (retry {retry}) in {:.1}s: {reason}",
            delay.as_secs_f64()
        ));
    }

    /// The service reported a status this client does not know: said, never dropped (it is
    /// still followed, for a bounded time).
    pub(crate) fn unrecognised(&mut self, status: &str) {
        self.emit("unrecognised_status", json!({"status": status}));
        self.say(&format!(
            "the service reports a status this client does not know, {status:?}; still following"
        ));
    }

    /// A download progress bar, on a terminal.
    pub(crate) fn download_bar(&mut self) -> Option<ProgressBar> {
        self.stop_spinner();
        if !self.output.progress() {
            return None;
        }
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "downloading {wide_bar} {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(bar)
    }

    /// The job succeeded: its files' URLs, and each file saved with its size (none with
    /// `--no-download`).
    pub(crate) fn succeeded(
        &mut self,
        output: &Value,
        urls: &[String],
        saved: &[(PathBuf, u64)],
        cost: Option<f64>,
    ) {
        self.stop_spinner();
        let paths: Vec<String> = saved.iter().map(|(p, _)| p.display().to_string()).collect();
        let bytes: u64 = saved.iter().map(|(_, b)| b).sum();
        self.emit(
            "succeeded",
            json!({
                "output": output,
                "video_url": urls.first(),
                "urls": urls,
                "saved": paths,
                "bytes": (!saved.is_empty()).then_some(bytes),
                "cost_usd": cost,
            }),
        );
        let done = self.output.paint("succeeded", Paint::Green);
        let elapsed = self.started.elapsed().as_secs_f64();
        if let Some(cost) = cost {
            self.say(&format!("cost: ${cost:.2} (the service's own figure)"));
        }
        match saved {
            [] => self.say(&format!("{done} in {elapsed:.1}s")),
            [(path, bytes)] => self.say(&format!(
                "{done} in {elapsed:.1}s: saved {} ({bytes} bytes)",
                path.display()
            )),
            several => {
                self.say(&format!(
                    "{done} in {elapsed:.1}s: saved {} files",
                    several.len()
                ));
                for (path, bytes) in several {
                    self.say(&format!("  {} ({bytes} bytes)", path.display()));
                }
            }
        }
    }

    /// The job succeeded without any file URL: say so and show the output as sent (bounded).
    pub(crate) fn succeeded_without_files(&mut self, output: &Value, message: &str) {
        self.stop_spinner();
        self.emit(
            "succeeded_without_files",
            json!({"output": output, "message": message}),
        );
        self.error_line(message);
        let shown = serde_json::to_string_pretty(output).unwrap_or_default();
        self.output.always(&format!(
            "the output, as sent:\n{}",
            bounded(&shown, OUTPUT_SHOWN_CHARS)
        ));
    }

    /// The job failed on the service.
    pub(crate) fn failed(&mut self, error: Option<&Value>, message: &str) {
        self.stop_spinner();
        self.emit("failed", json!({"error": error, "message": message}));
        self.error_line(message);
    }

    /// The job was cancelled (not by this command's Ctrl-C).
    pub(crate) fn cancelled(&mut self, message: &str) {
        self.stop_spinner();
        self.emit("cancelled", json!({"message": message}));
        self.error_line(message);
    }

    /// Ctrl-C: what became of the cancel, and how to resume.
    pub(crate) fn interrupted(&mut self, cancel: &str, message: &str, resume: Option<&str>) {
        self.stop_spinner();
        self.emit(
            "interrupted",
            json!({"cancel": cancel, "message": message, "resume": resume}),
        );
        self.error_line(message);
        if let Some(resume) = resume {
            self.resume_hint(resume);
        }
    }

    /// `--timeout` passed: the job goes on at the service.
    pub(crate) fn timed_out(&mut self, message: &str, resume: Option<&str>) {
        self.stop_spinner();
        self.emit("timeout", json!({"message": message, "resume": resume}));
        self.error_line(message);
        if let Some(resume) = resume {
            self.resume_hint(resume);
        }
    }

    fn error_line(&self, message: &str) {
        // Shown even with --json or -q: stderr is where people look when the exit code is not 0.
        let label = self.output.paint("error:", Paint::Red);
        self.output.always(&format!("{label} {message}"));
    }

    fn resume_hint(&self, resume: &str) {
        let command = self.output.paint(resume, Paint::Yellow);
        self.output.always(&format!("resume with: {command}"));
    }
}

/// How much of an output without files is shown to people (`--json` has it whole).
const OUTPUT_SHOWN_CHARS: usize = 2_000;

/// `text`, cut after `max` characters with a note saying how long it was.
fn bounded(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => format!(
            "{}\n… ({} characters in all)",
            &text[..cut],
            text.chars().count()
        ),
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.stop_spinner();
    }
}
