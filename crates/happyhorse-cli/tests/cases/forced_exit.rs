//! Ctrl-C never orphans a job silently. A first one during a submit waits for the id and prints
//! it; a second one exits at once, but first says what it leaves behind and saves what it can:
//! a submit in flight is reported as a job that may exist, and a batch's journal is flushed so
//! a rerun picks every job up.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStderr};
use std::time::{Duration, Instant};

use happyhorse_emulator::{Emulator, Endpoint, FaultConfig, FaultKind, ProcessingTime};

use crate::cases::batch::{complete_videos, jobs_file, report};
use crate::cases::common::{horse_png, spawn_against};
use crate::cases::jobs::{Emu, interrupt, send_signal};
use crate::cases::stranger::Stranger;

pub(super) const SUBMIT: &str = "POST /v1/models/happyhorse/happyhorse-1.0/image-to-video";

/// `happyhorse ARGS…` against `stranger`, in `dir`, with stdout and stderr piped.
pub(super) fn spawn_at(stranger: &Stranger, dir: &Path, args: &[&str]) -> Child {
    spawn_against(&stranger.base, dir, args)
}

/// Reads stderr until a line contains `needle`; returns everything read.
pub(super) fn stderr_until(stderr: &mut BufReader<ChildStderr>, needle: &str) -> String {
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "stderr closed before {needle:?}:\n{seen}"
        );
        seen.push_str(&line);
        if line.contains(needle) {
            return seen;
        }
    }
}

/// Waits (up to a minute, for slow machines) until `ready` holds.
pub(super) fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < Duration::from_secs(60), "never: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The first Ctrl-C, then — once the command has said it got it, so the two cannot merge into
/// one signal — the second; returns (exit code, all of stderr).
fn interrupt_twice(child: &mut Child, first_reaction: &str) -> (Option<i32>, String) {
    signal_twice(child, ["INT", "INT"], first_reaction, || {})
}

/// `signals[0]`; once the command has reacted (`first_reaction` on stderr) and `settled` has
/// returned, `signals[1]`; (exit code, all of stderr).
fn signal_twice(
    child: &mut Child,
    signals: [&str; 2],
    first_reaction: &str,
    settled: impl FnOnce(),
) -> (Option<i32>, String) {
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    send_signal(child, signals[0]);
    let mut seen = stderr_until(&mut stderr, first_reaction);
    settled();
    send_signal(child, signals[1]);
    std::io::Read::read_to_string(&mut stderr, &mut seen).unwrap();
    (child.wait().unwrap().code(), seen)
}

#[test]
fn a_second_ctrl_c_during_the_submit_says_a_job_may_exist() {
    // The submit arrives (the job is created) and its answer is held for good.
    let stranger = Stranger::start();
    stranger
        .on(SUBMIT, &[(200, r#"{"request_id":"req-1"}"#)])
        .hold(SUBMIT);
    let dir = tempfile::tempdir().unwrap();
    let horse = horse_png().display().to_string();
    let mut child = spawn_at(
        &stranger,
        dir.path(),
        &["run", "--image", &horse, "--prompt", "x"],
    );
    wait_for("the submit arrives", || stranger.hits(SUBMIT) == 1);

    let (code, stderr) = interrupt_twice(&mut child, "waiting for the submit's answer");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted again: exiting now")
            && stderr.contains("a job may have been created (and billed)")
            && stderr.contains("request list on RunComfy")
            && stderr.contains("may bill twice"),
        "{stderr}"
    );
    assert_eq!(stranger.hits(SUBMIT), 1);
}

#[test]
fn a_ctrl_c_during_submit_waits_for_the_id_and_says_how_to_cancel() {
    // The submit's answer is held until the test lets it go, once the Ctrl-C was taken: however
    // slow the machine, the Ctrl-C lands while the submit is in flight.
    let stranger = Stranger::start();
    stranger
        .on(SUBMIT, &[(200, r#"{"request_id":"req-1"}"#)])
        .hold(SUBMIT);
    let dir = tempfile::tempdir().unwrap();
    let horse = horse_png().display().to_string();
    let mut child = spawn_at(
        &stranger,
        dir.path(),
        &["submit", "--image", &horse, "--prompt", "x"],
    );
    wait_for("the submit arrives", || stranger.hits(SUBMIT) == 1);
    interrupt(&child);
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = stderr_until(&mut stderr, "waiting for the submit's answer");
    stranger.release(SUBMIT);
    std::io::Read::read_to_string(&mut stderr, &mut seen).unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{seen}");
    assert_eq!(stdout.trim(), "req-1", "the id is printed: {seen}");
    assert!(
        seen.contains(&format!(
            "happyhorse --base-url {} cancel req-1",
            stranger.base
        )),
        "{seen}"
    );
    assert_eq!(stranger.hits(SUBMIT), 1);
}

/// Ctrl-C twice, and SIGTERM then SIGHUP (the second signal's code wins): the journal is saved
/// and a rerun picks every job up.
#[test]
fn a_second_signal_in_a_batch_saves_the_journal_and_a_rerun_loses_nothing() {
    for (signals, code, forced) in [
        (
            ["INT", "INT"],
            130,
            "interrupted again: exiting now (Ctrl-C)",
        ),
        (
            ["TERM", "HUP"],
            129,
            "interrupted again: exiting now (SIGHUP)",
        ),
    ] {
        second_signal_in_a_batch(signals, code, forced);
    }
}

fn second_signal_in_a_batch(signals: [&str; 2], code: i32, forced: &str) {
    // One worker and a clock that moves only when the test says: the first job runs and the
    // second waits in the service's queue for as long as the test needs, however slow the
    // machine. After the first signal the batch cancels what it has not seen running (at least
    // the queued job); the first cancel's answer is held (until the emulator stops), so the batch
    // is still there for the second signal.
    let emu = Emu::start(
        Emulator::builder()
            .workers(1)
            .processing_time(ProcessingTime::Fixed(Duration::from_secs(60)))
            .manual_clock(true)
            .time_scale(1.0)
            .faults(FaultConfig {
                delay: Duration::from_secs(3600),
                ..FaultConfig::default()
            }),
    );
    emu.emulator()
        .inject_fault(Endpoint::Cancel, FaultKind::Delay);
    let dir = tempfile::tempdir().unwrap();
    let (_, bodies) = jobs_file(dir.path(), "forced", 3);
    let args = [
        "batch",
        "jobs.jsonl",
        "--out-dir",
        "out",
        "--concurrency",
        "2",
        "--poll-interval",
        "50ms",
    ];
    let mut child = emu.spawn(dir.path(), &args);
    let journal = dir.path().join("out/happyhorse-batch.journal");
    wait_for("two jobs' ids are in the journal", || {
        std::fs::read_to_string(&journal)
            .is_ok_and(|text| text.matches("\"submitted\"").count() == 2)
    });

    let (exit, stderr) = signal_twice(&mut child, signals, "stopping:", || {
        // The queued job is cancelled at the service and a cancel's answer is being held: the
        // rerun below has something to find, and the batch something to wait for.
        wait_for(
            "the queued job is cancelled and a cancel answer held",
            || {
                let stats = emu.emulator().stats();
                stats.jobs.cancelled == 1 && stats.faults_of(FaultKind::Delay) == 1
            },
        );
    });
    assert_eq!(exit, Some(code), "{signals:?}: {stderr}");
    assert!(
        stderr.contains(forced) && stderr.contains("saved: rerun the same command"),
        "{stderr}"
    );

    // The rerun follows both submitted jobs (the queued one was cancelled at the service) and
    // submits the third; once it has, the clock runs both remaining jobs to their end. Nothing
    // is submitted twice.
    let rerun = emu.spawn(dir.path(), &[&["--json"], &args[..]].concat());
    wait_for("the rerun submits the third job", || {
        emu.emulator().stats().submissions_total >= bodies.len() as u64
    });
    emu.emulator().advance(Duration::from_secs(600));
    let rerun = rerun.wait_with_output().unwrap();
    let report = report(&rerun);
    assert_eq!(
        report["counts"],
        serde_json::json!({"cancelled": 1, "succeeded": 2}),
        "{report}"
    );
    let stats = emu.emulator().stats();
    assert_eq!(
        (stats.submissions_total, stats.duplicate_submissions),
        (bodies.len() as u64, 0),
        "the jobs known at the exit were followed, not resubmitted"
    );
    let served = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../happyhorse-emulator/fixtures/horse.mp4"
    ))
    .unwrap();
    assert_eq!(complete_videos(&dir.path().join("out"), &served), 2);
}
