//! Whole jobs against an emulator the test starts: run, submit + wait, status/result/cancel,
//! a failing job, faults, Ctrl-C while queued and while running, `--emulator`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Child;
use std::time::Duration;

use happyhorse_emulator::{
    Emulator, EmulatorBuilder, Endpoint, FaultKind, ProcessingTime, RunningEmulator,
};
use serde_json::Value;

use crate::cases::common::{happyhorse, horse_png, redact, redact_ids_and_times, spawn_against};

pub(super) struct Emu {
    runtime: tokio::runtime::Runtime,
    emulator: Option<RunningEmulator>,
}

impl Emu {
    pub(super) fn start(builder: EmulatorBuilder) -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let emulator = runtime.block_on(builder.start()).unwrap();
        Self {
            runtime,
            emulator: Some(emulator),
        }
    }

    /// Jobs of 60 simulated seconds that take 60 ms.
    pub(super) fn fast() -> Self {
        Self::start(
            Emulator::builder()
                .processing_time(ProcessingTime::Fixed(Duration::from_secs(60)))
                .time_scale(1000.0),
        )
    }

    /// One worker and jobs of 10 real minutes: the second job stays queued.
    pub(super) fn slow() -> Self {
        Self::start(
            Emulator::builder()
                .workers(1)
                .processing_time(ProcessingTime::Fixed(Duration::from_secs(600))),
        )
    }

    pub(super) fn emulator(&self) -> &RunningEmulator {
        self.emulator.as_ref().unwrap()
    }

    /// `happyhorse --base-url … --poll-interval 50ms` with a token, in `dir`.
    pub(super) fn cli(&self, dir: &Path) -> assert_cmd::Command {
        let mut command = happyhorse(dir);
        command
            .env("RUNCOMFY_API_TOKEN", "test-token")
            .args(["--base-url", self.emulator().base_url()]);
        command
    }

    /// The same, as a child process with piped stdout (for Ctrl-C tests).
    pub(super) fn spawn(&self, dir: &Path, args: &[&str]) -> Child {
        spawn_against(self.emulator().base_url(), dir, args)
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.shutdown());
        }
    }
}

pub(super) fn horse() -> String {
    horse_png().display().to_string()
}

fn events(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// Checks the exit code, showing the command's stderr when it is not the expected one.
fn assert_exit(output: &std::process::Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn names(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect()
}

#[test]
fn run_downloads_the_video_and_says_where() {
    // A job of one real second: every poll-interval of 50 ms sees it running, however loaded
    // the machine (with `fast`, a busy CI machine could miss the state the snapshot shows).
    let emu = Emu::start(
        Emulator::builder()
            .processing_time(ProcessingTime::Fixed(Duration::from_secs(60)))
            .time_scale(60.0),
    );
    let dir = tempfile::tempdir().unwrap();
    let output = emu
        .cli(dir.path())
        .args([
            "run",
            "--poll-interval",
            "50ms",
            "--image",
            &horse(),
            "--prompt",
            "The horse trots",
            "-o",
            "out.mp4",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "out.mp4\n");
    let video = std::fs::read(dir.path().join("out.mp4")).unwrap();
    assert_eq!(&video[4..8], b"ftyp", "an MP4 was saved");
    // The emulator's fixture video belongs to another crate: its size is not this test's business.
    let stderr_shown = redact(&stderr, dir.path()).replace(&video.len().to_string(), "[BYTES]");
    insta::assert_snapshot!(redact_ids_and_times(&stderr_shown));
    let stats = emu.emulator().stats();
    assert_eq!(stats.submissions_total, 1);
    assert_eq!(stats.jobs.succeeded, 1);
    assert!(!stderr.contains("test-token"));
}

#[test]
fn run_json_streams_events_with_the_request_id_and_saved_path() {
    let emu = Emu::fast();
    let dir = tempfile::tempdir().unwrap();
    let output = emu
        .cli(dir.path())
        .args([
            "--json",
            "run",
            "--poll-interval",
            "50ms",
            "--image",
            &horse(),
            "--prompt",
            "x",
        ])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let events = events(&output.stdout);
    let names = names(&events);
    assert_eq!(names.first(), Some(&"submitted"));
    assert_eq!(names.last(), Some(&"succeeded"));
    let id = events[0]["request_id"].as_str().unwrap().to_owned();
    assert!(
        events.iter().all(|e| e["request_id"] == id.as_str()),
        "every event names the job"
    );
    let last = events.last().unwrap();
    let default_path = format!("{id}.mp4");
    assert_eq!(last["saved"], serde_json::json!([default_path]));
    assert!(
        dir.path().join(&default_path).is_file(),
        "default path is <request_id>.mp4"
    );
    assert_eq!(
        last["bytes"].as_u64(),
        Some(
            std::fs::metadata(dir.path().join(&default_path))
                .unwrap()
                .len()
        )
    );
    assert!(last["video_url"].as_str().unwrap().contains(&id));
    // The estimate before paying rides on `submitted`; the actual cost on `succeeded`.
    let estimate = &events[0]["estimate"];
    assert!(
        estimate["usd"].as_f64().is_some_and(|usd| usd > 0.0),
        "{estimate}"
    );
    assert!(
        last["cost_usd"].as_f64().is_some_and(|usd| usd > 0.0),
        "{last}"
    );
}

#[test]
fn submit_prints_the_id_and_wait_finishes_the_job() {
    let emu = Emu::fast();
    let dir = tempfile::tempdir().unwrap();
    let submitted = emu
        .cli(dir.path())
        .args(["submit", "--image", &horse(), "--prompt", "x"])
        .output()
        .unwrap();
    assert!(submitted.status.success());
    let id = String::from_utf8(submitted.stdout)
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(emu.emulator().stats().submissions_total, 1);

    let waited = emu
        .cli(dir.path())
        .args(["wait", &id, "--poll-interval", "50ms", "-o", "w.mp4"])
        .output()
        .unwrap();
    assert!(
        waited.status.success(),
        "{}",
        String::from_utf8_lossy(&waited.stderr)
    );
    assert!(dir.path().join("w.mp4").is_file());
    assert_eq!(
        emu.emulator().stats().submissions_total,
        1,
        "wait never submits"
    );

    let result = emu
        .cli(dir.path())
        .args(["--json", "result", &id])
        .output()
        .unwrap();
    assert!(result.status.success());
    let result: Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(result["status"], "succeeded");
}

#[test]
fn status_result_and_cancel_of_a_queued_and_a_running_job() {
    let emu = Emu::slow();
    let dir = tempfile::tempdir().unwrap();
    let submit = |emu: &Emu| {
        let out = emu
            .cli(dir.path())
            .args(["submit", "--image", &horse(), "--prompt", "x"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let running = submit(&emu);
    let queued = submit(&emu);

    let status = emu
        .cli(dir.path())
        .args(["--json", "status", &queued])
        .output()
        .unwrap();
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["status"], "in_queue");
    assert!(status["queue_position"].is_u64());

    let cancel = emu
        .cli(dir.path())
        .args(["--json", "cancel", &queued])
        .output()
        .unwrap();
    assert!(cancel.status.success());
    let cancel: Value = serde_json::from_slice(&cancel.stdout).unwrap();
    assert_eq!(cancel["outcome"], "cancelled");

    let result = emu
        .cli(dir.path())
        .args(["result", &queued])
        .output()
        .unwrap();
    assert_eq!(
        result.status.code(),
        Some(11),
        "a cancelled job's result exits 11"
    );

    // Wait until the first job runs, then cancelling it is too late.
    let mut state = String::new();
    for _ in 0..100 {
        let out = emu
            .cli(dir.path())
            .args(["--json", "status", &running])
            .output()
            .unwrap();
        let value: Value = serde_json::from_slice(&out.stdout).unwrap();
        state = value["status"].as_str().unwrap().to_owned();
        if state == "in_progress" {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(state, "in_progress");
    let cancel = emu
        .cli(dir.path())
        .args(["--json", "cancel", &running])
        .output()
        .unwrap();
    let cancel: Value = serde_json::from_slice(&cancel.stdout).unwrap();
    assert_eq!(cancel["outcome"], "too_late");
    assert_eq!(emu.emulator().stats().jobs.cancelled, 1);
}

#[test]
fn an_unknown_request_id_exits_14_not_sysexits_66_which_means_a_missing_input_file() {
    let emu = Emu::fast();
    let dir = tempfile::tempdir().unwrap();
    let output = emu
        .cli(dir.path())
        .args(["--json", "status", "no-such-request"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(14));
    let error: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(error["event"], "error");
    assert_eq!(error["kind"], "not_found");
    assert_eq!(error["request_id"], "no-such-request");
}

#[test]
fn a_failing_job_exits_10_with_the_service_error() {
    let emu = Emu::start(
        Emulator::builder()
            .processing_time(ProcessingTime::Fixed(Duration::from_secs(60)))
            .time_scale(1000.0)
            .failure_rate(1.0),
    );
    let dir = tempfile::tempdir().unwrap();
    let output = emu
        .cli(dir.path())
        .args([
            "--json",
            "run",
            "--poll-interval",
            "50ms",
            "--image",
            &horse(),
            "--prompt",
            "x",
        ])
        .output()
        .unwrap();
    assert_exit(&output, 10);
    let events = events(&output.stdout);
    let last = events.last().unwrap();
    assert_eq!(last["event"], "failed");
    assert!(
        last["error"].is_object(),
        "the service's error object, verbatim: {last}"
    );
    // Nothing saved (the test's own ledger aside).
    let saved: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|name| !name.to_string_lossy().starts_with(".test-ledger"))
        .collect();
    assert!(saved.is_empty(), "nothing saved: {saved:?}");
}

#[test]
fn transient_faults_are_retried_and_reported() {
    let emu = Emu::fast();
    emu.emulator()
        .inject_fault(Endpoint::Status, FaultKind::Http503);
    emu.emulator()
        .inject_fault(Endpoint::Status, FaultKind::RateLimited);
    let dir = tempfile::tempdir().unwrap();
    let output = emu
        .cli(dir.path())
        .args([
            "--json",
            "run",
            "--poll-interval",
            "50ms",
            "--image",
            &horse(),
            "--prompt",
            "x",
            "--no-download",
        ])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let events = events(&output.stdout);
    let retries = events.iter().filter(|e| e["event"] == "retrying").count();
    assert!(retries >= 1, "{:?}", names(&events));
    assert_eq!(names(&events).last(), Some(&"succeeded"));
    assert_eq!(
        emu.emulator().stats().submissions_total,
        1,
        "faults never cause a second submit"
    );
}

#[test]
fn insufficient_balance_exits_77_and_creates_no_job() {
    let emu = Emu::start(Emulator::builder().insufficient_balance(true));
    let dir = tempfile::tempdir().unwrap();
    let output = emu
        .cli(dir.path())
        .args(["run", "--image", &horse(), "--prompt", "x"])
        .output()
        .unwrap();
    assert_exit(&output, 77);
    assert_eq!(
        emu.emulator().stats().jobs.in_queue + emu.emulator().stats().jobs.in_progress,
        0
    );
}

/// Reads NDJSON events from the child until one named `name`; returns them all.
pub(super) fn read_until(
    child: &mut Child,
    name: &str,
) -> (BufReader<std::process::ChildStdout>, Vec<Value>) {
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line).unwrap();
        assert!(n > 0, "stdout closed before {name}: {seen:?}");
        let event: Value = serde_json::from_str(&line).unwrap();
        let done = event["event"] == name;
        seen.push(event);
        if done {
            return (reader, seen);
        }
    }
}

pub(super) fn interrupt(child: &Child) {
    send_signal(child, "INT");
}

/// Sends `SIG<name>` to `child` (`INT`, `TERM`, `HUP`, `KILL`).
pub(super) fn send_signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

pub(super) fn rest(mut reader: BufReader<std::process::ChildStdout>) -> Vec<Value> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut reader, &mut text).unwrap();
    events(text.as_bytes())
}

/// Ctrl-C, and SIGTERM with its own exit code, while the job waits in the queue: cancelled.
#[test]
fn ctrl_c_or_sigterm_while_queued_cancels_the_job() {
    let emu = Emu::slow();
    let dir = tempfile::tempdir().unwrap();
    // Occupy the only worker.
    let first = emu
        .cli(dir.path())
        .args(["submit", "--image", &horse(), "--prompt", "x"])
        .output()
        .unwrap();
    assert!(first.status.success());

    for (round, (signal, code)) in [("INT", 130), ("TERM", 143)].into_iter().enumerate() {
        let prompt = format!("queued {signal}");
        let mut child = emu.spawn(
            dir.path(),
            &[
                "--json",
                "run",
                "--poll-interval",
                "50ms",
                "--image",
                &horse(),
                "--prompt",
                &prompt,
            ],
        );
        let (reader, seen) = read_until(&mut child, "queued");
        send_signal(&child, signal);
        let after = rest(reader);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "SIG{signal}");
        let last = after.last().unwrap();
        assert_eq!(last["event"], "interrupted");
        assert_eq!(last["cancel"], "cancelled");
        assert_eq!(last["request_id"], seen[0]["request_id"]);
        assert_eq!(emu.emulator().stats().jobs.cancelled, round as u64 + 1);
    }
}

/// Ctrl-C, and SIGHUP with its own exit code, while the job runs: it goes on, and the command
/// says how to resume it.
#[test]
fn ctrl_c_or_sighup_while_running_says_it_cannot_cancel_and_how_to_resume() {
    for (signal, code) in [("INT", 130), ("HUP", 129)] {
        let emu = Emu::slow();
        let dir = tempfile::tempdir().unwrap();
        let mut child = emu.spawn(
            dir.path(),
            &[
                "--json",
                "run",
                "--poll-interval",
                "50ms",
                "--image",
                &horse(),
                "--prompt",
                "x",
                "-o",
                "later.mp4",
            ],
        );
        let (reader, seen) = read_until(&mut child, "running");
        send_signal(&child, signal);
        let after = rest(reader);
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(code), "SIG{signal}");
        let id = seen[0]["request_id"].as_str().unwrap();
        let last = after.last().unwrap();
        assert_eq!(last["event"], "interrupted");
        assert_eq!(last["cancel"], "too_late");
        assert_eq!(
            last["resume"],
            format!(
                "happyhorse --base-url {} wait {id} -o later.mp4",
                emu.emulator().base_url()
            )
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("cannot be cancelled") && stderr.contains(&format!("wait {id}")),
            "{stderr}"
        );
        assert_eq!(
            emu.emulator().stats().jobs.in_progress,
            1,
            "the job goes on"
        );
    }
}

#[test]
fn models_lists_the_catalogue_with_prices() {
    let emu = Emu::fast();
    let dir = tempfile::tempdir().unwrap();
    let output = emu.cli(dir.path()).arg("models").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("happyhorse/happyhorse-1.0/image-to-video") && text.contains("/second"),
        "{text}"
    );
    let get = emu
        .cli(dir.path())
        .args([
            "--json",
            "models",
            "get",
            "happyhorse/happyhorse-1.0/image-to-video",
        ])
        .output()
        .unwrap();
    assert!(get.status.success());
    let model: Value = serde_json::from_slice(&get.stdout).unwrap();
    assert!(model["base_price_usd"].is_number());

    // An unknown model's entry: the service's code (404001: no such resource; a submit to it is
    // 400001) and message, read as a job's errors are.
    let unknown = emu
        .cli(dir.path())
        .args(["models", "get", "nobody/nothing"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("(HTTP 404, code 404001)")
            && stderr.contains("no model \"nobody/nothing\""),
        "{stderr}"
    );
}

#[test]
fn readme_first_command_runs_offline_with_the_built_in_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let output = happyhorse(dir.path())
        .args(["run", "--emulator", "--image", &horse()])
        .args([
            "--prompt",
            "The horse trots across the meadow, mane in the wind",
            "-o",
            "horse.mp4",
        ])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let video = std::fs::read(dir.path().join("horse.mp4")).unwrap();
    assert_eq!(&video[4..8], b"ftyp");
}

#[test]
fn timeout_leaves_the_job_running_and_says_how_to_resume() {
    let emu = Emu::slow();
    let dir = tempfile::tempdir().unwrap();
    let output = emu
        .cli(dir.path())
        .args([
            "--json",
            "run",
            "--poll-interval",
            "50ms",
            "--timeout",
            "300ms",
        ])
        .args(["--image", &horse(), "--prompt", "x"])
        .output()
        .unwrap();
    assert_exit(&output, 75);
    let events = events(&output.stdout);
    let last = events.last().unwrap();
    assert_eq!(last["event"], "timeout");
    let id = events[0]["request_id"].as_str().unwrap();
    assert_eq!(
        last["resume"],
        format!(
            "happyhorse --base-url {} wait {id}",
            emu.emulator().base_url()
        )
    );
    assert_eq!(
        emu.emulator().stats().jobs.cancelled,
        0,
        "a timeout never cancels"
    );
}
