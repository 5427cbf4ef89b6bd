//! How `run` and `wait` tell what happens to a job: NDJSON events with `--json`; otherwise a
//! spinner with the state and elapsed time on a terminal, or one line per change when stderr is
//! not a terminal. The request id is shown the moment it is known. See docs/cli.md for the events.

use std::path::Path;
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
        }
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
        let _ = self.output.json_line(&object);
    }

    /// A permanent line on stderr for people (above the spinner when there is one).
    pub(crate) fn say(&self, text: &str) {
        match &self.spinner {
            Some(spinner) => spinner.println(text),
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
        spinner.set_message(text.to_owned());
    }

    fn stop_spinner(&mut self) {
        if let Some(spinner) = self.spinner.take() {
            spinner.finish_and_clear();
        }
    }

    /// The job exists: its id, at once.
    pub(crate) fn submitted(&mut self, request_id: &str, model_id: &str) {
        self.request_id = Some(request_id.to_owned());
        self.emit("submitted", json!({"model_id": model_id}));
        let id = self.output.paint(request_id, Paint::Bold);
        self.say(&format!("submitted: request id {id}"));
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

    /// The job succeeded; `saved` is the file and its size when it was downloaded.
    pub(crate) fn succeeded(
        &mut self,
        output: &Value,
        video_url: Option<&str>,
        saved: Option<(&Path, u64)>,
    ) {
        self.stop_spinner();
        let (paths, bytes) = match saved {
            Some((path, bytes)) => (vec![path.display().to_string()], Some(bytes)),
            None => (Vec::new(), None),
        };
        self.emit(
            "succeeded",
            json!({"output": output, "video_url": video_url, "saved": paths, "bytes": bytes}),
        );
        let done = self.output.paint("succeeded", Paint::Green);
        match saved {
            Some((path, bytes)) => self.say(&format!(
                "{done} in {:.1}s: saved {} ({bytes} bytes)",
                self.started.elapsed().as_secs_f64(),
                path.display()
            )),
            None => self.say(&format!(
                "{done} in {:.1}s",
                self.started.elapsed().as_secs_f64()
            )),
        }
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
        eprintln!("{} {message}", self.output.paint("error:", Paint::Red));
    }

    fn resume_hint(&self, resume: &str) {
        eprintln!("resume with: {}", self.output.paint(resume, Paint::Yellow));
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.stop_spinner();
    }
}
