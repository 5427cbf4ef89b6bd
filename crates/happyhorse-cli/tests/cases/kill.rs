//! The kill test: `run` and `batch` are stopped by SIGKILL, SIGTERM or SIGHUP at seeded random
//! moments, against `happyhorse emulator` running as a separate process (so jobs outlive the
//! client), then resumed the way a user would (`wait --last`, or the same batch command). For
//! every moment: each job ends with its complete video or an explained state, no input is
//! submitted twice (the emulator's own count), and every job the emulator created is in the
//! ledger — with its request id, or listed as a submit whose outcome is unknown.
//!
//! The moments come from the seed; the assertions do not depend on where they fell.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use happyhorse_emulator::StatsSnapshot;
use happyhorse_ledger::{Filter, JobEntry, JobState, Ledger};
use serde_json::Value;

use crate::cases::batch::complete_videos;
use crate::cases::common::{happyhorse, isolate_state, ledger_path, served_video};

/// `happyhorse emulator` as a child process, stopped on drop.
pub(super) struct EmulatorProcess {
    child: Child,
    pub(super) base_url: String,
    stats_url: String,
}

impl EmulatorProcess {
    /// Jobs of 60 simulated seconds at 60×: one real second each, with the fixture video.
    pub(super) fn start() -> Self {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("happyhorse"))
            .args([
                "--json",
                "emulator",
                "--workers",
                "64",
                "--processing-time",
                "60s",
                "--time-scale",
                "60",
                // The kills are the subject, not the video: no preview renders (seconds of CPU
                // each) competing with the moments the signals are sent at.
                "--fixture-video",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let listening: Value = serde_json::from_str(&line).unwrap();
        Self {
            child,
            base_url: listening["base_url"].as_str().unwrap().to_owned(),
            stats_url: listening["stats_url"].as_str().unwrap().to_owned(),
        }
    }

    /// `/__emulator/stats`.
    pub(super) fn stats(&self) -> StatsSnapshot {
        let (_, body) = get(&self.stats_url);
        serde_json::from_slice(&body).unwrap()
    }

    /// Whether the emulator knows the job `request_id` (its status answers 200).
    pub(super) fn knows(&self, request_id: &str) -> bool {
        let url = format!("{}/v1/requests/{request_id}/status", self.base_url);
        get(&url).0 == 200
    }

    /// `happyhorse --base-url <emulator> …` with a token, in `dir`.
    pub(super) fn cli(&self, dir: &Path) -> assert_cmd::Command {
        let mut command = happyhorse(dir);
        command
            .env("RUNCOMFY_API_TOKEN", "test-token")
            .args(["--base-url", &self.base_url]);
        command
    }

    /// The same as a child process, for signals.
    pub(super) fn spawn(&self, dir: &Path, args: &[&str]) -> Child {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("happyhorse"));
        isolate_state(&mut command, dir);
        command
            .env("RUNCOMFY_API_TOKEN", "test-token")
            .env("NO_COLOR", "1")
            .args(["--base-url", &self.base_url])
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }
}

/// A plain HTTP/1.0 GET with the test token: (status, body).
fn get(url: &str) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nAuthorization: Bearer test-token\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let head_end = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = String::from_utf8_lossy(&answer[..head_end])
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap();
    (status, answer[head_end + 4..].to_vec())
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The signal and the moment (milliseconds after the start) for `seed`.
pub(super) fn moment(seed: u64) -> (&'static str, u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let signal = ["KILL", "TERM", "HUP"][(seed % 3) as usize];
    (signal, rng.u64(0..2_500))
}

/// Sends `SIG<name>` to `child` after `delay`, then waits for it.
pub(super) fn stop_at(child: &mut Child, signal: &str, delay: Duration) {
    std::thread::sleep(delay);
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status();
    child.wait().unwrap();
}

/// Whether a ledger entry explains a job without a video: a submit whose outcome is unknown, a
/// job that ended without one, or nothing created.
pub(super) fn explained_without_video(entry: &JobEntry) -> bool {
    match entry.state {
        JobState::Submitting | JobState::OutcomeUnknown => entry.request_id.is_none(),
        JobState::Cancelled | JobState::Failed | JobState::NotCreated => true,
        _ => false,
    }
}

const BATCH_JOBS: usize = 6;

#[test]
fn batches_stopped_at_24_seeded_moments_resume_without_loss_or_double_payment() {
    let emulator = EmulatorProcess::start();
    let video = served_video();
    let mut tally = std::collections::BTreeMap::<String, usize>::new();
    for seed in 0..24 {
        let (signal, at) = moment(seed);
        let dir = tempfile::tempdir().unwrap();
        let tag = format!("kill batch {seed}");
        let (_, bodies) = crate::cases::batch::jobs_file(dir.path(), &tag, BATCH_JOBS);
        let args = [
            "batch",
            "jobs.jsonl",
            "--out-dir",
            "out",
            "--concurrency",
            "3",
            "--poll-interval",
            "50ms",
        ];
        let mut child = emulator.spawn(dir.path(), &args);
        stop_at(&mut child, signal, Duration::from_millis(at));

        let rerun = emulator
            .cli(dir.path())
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        let context = format!("seed {seed} (SIG{signal} at {at} ms)");
        let code = rerun.status.code();
        assert!(
            code == Some(0) || code == Some(12),
            "{context}: exit {code:?}: {}",
            String::from_utf8_lossy(&rerun.stderr)
        );
        let report = crate::cases::batch::report(&rerun);
        let saved = complete_videos(&dir.path().join("out"), &video);

        let ledger = Ledger::open(ledger_path(dir.path())).unwrap();
        let journal =
            std::fs::canonicalize(dir.path().join("out/happyhorse-batch.journal")).unwrap();
        let recorded = ledger.batch_jobs(&journal.display().to_string()).unwrap();
        let stats = emulator.stats();
        for (i, body) in bodies.iter().enumerate() {
            let id = format!("job-{i:03}");
            let created = stats.submissions_of(body);
            assert!(
                created <= 1,
                "{context}: {id} was submitted {created} times"
            );
            let row = report["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|row| row["id"] == id.as_str())
                .unwrap();
            let entries: Vec<&JobEntry> = recorded
                .iter()
                .filter(|e| e.batch.as_ref().is_some_and(|b| b.job == id))
                .collect();
            match row["state"].as_str().unwrap() {
                "succeeded" => {
                    assert!(dir.path().join("out").join(format!("{id}.mp4")).is_file());
                    let last = entries
                        .last()
                        .unwrap_or_else(|| panic!("{context}: {id} not in the ledger"));
                    assert_eq!(
                        last.request_id.as_deref(),
                        row["request_id"].as_str(),
                        "{context}: {id}"
                    );
                }
                "unknown" => {
                    // Explained: the ledger lists it as a submit without an id, never resubmitted.
                    assert!(row["request_id"].is_null(), "{context}: {row}");
                    assert!(
                        entries.iter().any(|e| explained_without_video(e)),
                        "{context}: {id} unknown but not listed so in the ledger: {entries:?}"
                    );
                }
                other => panic!("{context}: {id} ended {other}: {row}"),
            }
            if created == 1 {
                assert!(
                    entries
                        .iter()
                        .any(|e| e.request_id.is_some() || explained_without_video(e)),
                    "{context}: {id} exists at the service but the ledger does not know it: {entries:?}"
                );
                if signal != "KILL" {
                    // A signal lets the submits in flight bring their ids home.
                    assert_eq!(row["state"], "succeeded", "{context}: {id}: {row}");
                }
            }
            *tally
                .entry(row["state"].as_str().unwrap_or("?").to_owned())
                .or_default() += 1;
        }
        assert_eq!(
            saved,
            report["counts"]["succeeded"].as_u64().unwrap_or(0) as usize,
            "{context}"
        );
        // Every id the ledger holds is a job the emulator knows.
        for entry in ledger.jobs(&Filter::default()).unwrap() {
            if let Some(request_id) = &entry.request_id {
                assert!(
                    emulator.knows(request_id),
                    "{context}: {request_id} is unknown to the service"
                );
            }
        }
    }
    assert_eq!(emulator.stats().duplicate_submissions, 0);
    eprintln!(
        "batch kill test: 24 seeded stops of a {BATCH_JOBS}-job batch; jobs after the rerun: {tally:?}"
    );
}

#[test]
fn runs_stopped_at_24_seeded_moments_resume_without_loss_or_double_payment() {
    let emulator = EmulatorProcess::start();
    let video = served_video();
    let mut tally = std::collections::BTreeMap::<String, usize>::new();
    for seed in 100..124 {
        let (signal, at) = moment(seed);
        let dir = tempfile::tempdir().unwrap();
        let prompt = format!("kill run {seed}");
        let body =
            serde_json::json!({"image_url": "https://example.com/horse.webp", "prompt": prompt});
        let mut child = emulator.spawn(
            dir.path(),
            &[
                "run",
                "--image",
                "https://example.com/horse.webp",
                "--prompt",
                &prompt,
                "-o",
                "out.mp4",
                "--poll-interval",
                "50ms",
            ],
        );
        stop_at(&mut child, signal, Duration::from_millis(at));
        let context = format!("seed {seed} (SIG{signal} at {at} ms)");

        // Resume the way a user would: the last unfinished job, into the file it was started with.
        let resumed = emulator
            .cli(dir.path())
            .args(["wait", "--last", "--poll-interval", "50ms"])
            .output()
            .unwrap();
        let code = resumed.status.code();
        assert!(
            code == Some(0) || code == Some(14),
            "{context}: wait exited {code:?}: {}",
            String::from_utf8_lossy(&resumed.stderr)
        );

        let ledger = Ledger::open(ledger_path(dir.path())).unwrap();
        let entries = ledger.jobs(&Filter::default()).unwrap();
        assert!(entries.len() <= 1, "{context}: {entries:?}");
        let created = emulator.stats().submissions_of(&body);
        assert!(created <= 1, "{context}: submitted {created} times");
        let has_video = complete_videos(dir.path(), &video) == 1;
        let outcome = match entries.first() {
            _ if has_video => {
                let entry = &entries[0];
                assert_eq!(entry.state, JobState::Succeeded, "{context}");
                assert!(entry.saved.is_some(), "{context}: {entry:?}");
                "video"
            }
            // Stopped before the intent was recorded: then nothing was sent either.
            None => {
                assert_eq!(
                    created, 0,
                    "{context}: a job exists that the ledger does not know"
                );
                "nothing sent"
            }
            Some(entry) => {
                assert!(
                    explained_without_video(entry),
                    "{context}: no video and no explanation: {entry:?}"
                );
                entry.state.as_str()
            }
        };
        if created == 1 {
            let entry = entries
                .first()
                .unwrap_or_else(|| panic!("{context}: not in the ledger"));
            assert!(
                entry.request_id.is_some() || explained_without_video(entry),
                "{context}: {entry:?}"
            );
        }
        // Only SIGKILL can leave a job without its id: SIGTERM and SIGHUP wait for the submit's
        // answer (the emulator gives it at once), and one that came first sends nothing.
        if signal != "KILL" {
            for entry in &entries {
                assert!(!entry.state.may_exist_without_id(), "{context}: {entry:?}");
            }
        }
        for entry in &entries {
            if let Some(request_id) = &entry.request_id {
                assert!(
                    emulator.knows(request_id),
                    "{context}: {request_id} unknown to the service"
                );
            }
        }
        *tally.entry(outcome.to_owned()).or_default() += 1;
    }
    assert_eq!(emulator.stats().duplicate_submissions, 0);
    eprintln!("run kill test: 24 seeded stops, then `wait --last`: {tally:?}");
}
