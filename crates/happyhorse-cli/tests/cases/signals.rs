//! SIGTERM and SIGHUP get the care Ctrl-C gets, with their own exit codes (143, 129): a queued
//! job is cancelled, a running one is left and the way to resume it said, a submit in flight is
//! waited for (a bounded time) so its id is known, a batch stops like after Ctrl-C, and a second
//! signal of any kind forces the exit with its own code after the last words.

use std::io::BufReader;
use std::time::Duration;

use happyhorse_emulator::{Emulator, Endpoint, FaultConfig, FaultKind, ProcessingTime};

use crate::cases::batch::{jobs_file, report};
use crate::cases::forced_exit::{stderr_until, wait_for};
use crate::cases::jobs::{Emu, horse, read_until, rest, send_signal};

fn run_args(prompt: &str) -> Vec<String> {
    [
        "--json",
        "run",
        "--poll-interval",
        "50ms",
        "--image",
        &horse(),
        "--prompt",
        prompt,
        "-o",
        "later.mp4",
    ]
    .map(String::from)
    .to_vec()
}

fn spawn(emu: &Emu, dir: &std::path::Path, args: &[String]) -> std::process::Child {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    emu.spawn(dir, &args)
}

#[test]
fn sigterm_while_queued_cancels_the_job_and_exits_143() {
    let emu = Emu::slow();
    let dir = tempfile::tempdir().unwrap();
    // Occupy the only worker.
    let first = emu
        .cli(dir.path())
        .args(["submit", "--image", &horse(), "--prompt", "first"])
        .output()
        .unwrap();
    assert!(first.status.success());

    let mut child = spawn(&emu, dir.path(), &run_args("second"));
    let (reader, seen) = read_until(&mut child, "queued");
    send_signal(&child, "TERM");
    let after = rest(reader);
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let last = after.last().unwrap();
    assert_eq!(last["event"], "interrupted");
    assert_eq!(last["cancel"], "cancelled");
    assert_eq!(last["request_id"], seen[0]["request_id"]);
    assert_eq!(emu.emulator().stats().jobs.cancelled, 1);
}

#[test]
fn sighup_while_running_leaves_the_job_says_how_to_resume_and_exits_129() {
    let emu = Emu::slow();
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn(&emu, dir.path(), &run_args("x"));
    let (reader, seen) = read_until(&mut child, "running");
    send_signal(&child, "HUP");
    let after = rest(reader);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(129));
    let id = seen[0]["request_id"].as_str().unwrap();
    let last = after.last().unwrap();
    assert_eq!(last["event"], "interrupted");
    assert_eq!(last["cancel"], "too_late");
    assert_eq!(last["resume"], format!("happyhorse wait {id} -o later.mp4"));
    assert_eq!(
        emu.emulator().stats().jobs.in_progress,
        1,
        "the job goes on"
    );
}

/// An emulator whose one worker is busy for ten minutes (so a new job stays queued) and that
/// holds the next submit's answer for `delay` after creating the job.
fn held_submit(delay: Duration) -> Emu {
    let emu = Emu::start(
        Emulator::builder()
            .workers(1)
            .processing_time(ProcessingTime::Fixed(Duration::from_secs(600)))
            .time_scale(1.0)
            .faults(FaultConfig {
                delay,
                ..FaultConfig::default()
            }),
    );
    let dir = tempfile::tempdir().unwrap();
    let busy = emu
        .cli(dir.path())
        .args(["submit", "--image", &horse(), "--prompt", "busy"])
        .output()
        .unwrap();
    assert!(busy.status.success());
    emu.emulator()
        .inject_fault(Endpoint::Submit, FaultKind::Delay);
    emu
}

#[test]
fn sigterm_during_a_submit_waits_for_the_id_then_cancels_the_job() {
    // The answer comes 3 s after the job is created: within SIGTERM's grace.
    let emu = held_submit(Duration::from_secs(3));
    let dir = tempfile::tempdir().unwrap();
    let child = spawn(&emu, dir.path(), &run_args("held"));
    wait_for("the job is created", || {
        emu.emulator().stats().submissions_total == 2
    });
    send_signal(&child, "TERM");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let submitted = stdout.lines().next().unwrap_or_default();
    assert!(
        submitted.contains("\"submitted\""),
        "the id was printed: {stdout}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.contains("\"interrupted\"") && last.contains("\"cancelled\""),
        "{stdout}"
    );
    let stats = emu.emulator().stats();
    assert_eq!(stats.submissions_total, 2);
    assert_eq!(stats.jobs.cancelled, 1, "the queued job was cancelled");
}

#[test]
fn sigterm_during_a_submit_held_past_the_grace_says_a_job_may_exist() {
    let emu = held_submit(Duration::from_secs(120));
    let dir = tempfile::tempdir().unwrap();
    let horse = horse();
    let child = emu.spawn(dir.path(), &["submit", "--image", &horse, "--prompt", "x"]);
    wait_for("the job is created", || {
        emu.emulator().stats().submissions_total == 2
    });
    send_signal(&child, "TERM");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    assert!(
        stderr.contains("was not answered within 7s")
            && stderr.contains("a job may have been created")
            && stderr.contains("check the account's requests"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "no id was received");
}

#[test]
fn sigterm_stops_a_batch_as_ctrl_c_does_and_a_second_sighup_forces_the_exit() {
    // As in the forced-exit test of Ctrl-C: one worker, the cancel's answer held long, so the
    // batch is still stopping when the second signal comes.
    let emu = Emu::start(
        Emulator::builder()
            .workers(1)
            .processing_time(ProcessingTime::Fixed(Duration::from_secs(60)))
            .time_scale(15.0)
            .faults(FaultConfig {
                delay: Duration::from_secs(300),
                ..FaultConfig::default()
            }),
    );
    emu.emulator()
        .inject_fault(Endpoint::Cancel, FaultKind::Delay);
    let dir = tempfile::tempdir().unwrap();
    let (_, bodies) = jobs_file(dir.path(), "signals", 3);
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
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    send_signal(&child, "TERM");
    let mut seen = stderr_until(&mut stderr, "SIGTERM: stopping:");
    send_signal(&child, "HUP");
    std::io::Read::read_to_string(&mut stderr, &mut seen).unwrap();
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(129), "the second signal's code: {seen}");
    assert!(
        seen.contains("interrupted again: exiting now (SIGHUP)")
            && seen.contains("saved: rerun the same command"),
        "{seen}"
    );

    let rerun = emu
        .cli(dir.path())
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let report = report(&rerun);
    assert_eq!(
        report["counts"],
        serde_json::json!({"cancelled": 1, "succeeded": 2}),
        "{report}"
    );
    let stats = emu.emulator().stats();
    assert_eq!(
        (stats.submissions_total, stats.duplicate_submissions),
        (bodies.len() as u64, 0)
    );
}

#[test]
fn one_sigterm_ends_a_batch_with_143_and_its_report() {
    let emu = Emu::slow();
    let dir = tempfile::tempdir().unwrap();
    jobs_file(dir.path(), "term", 2);
    let mut child = emu.spawn(
        dir.path(),
        &[
            "--json",
            "batch",
            "jobs.jsonl",
            "--out-dir",
            "out",
            "--poll-interval",
            "50ms",
        ],
    );
    let (reader, _) = read_until(&mut child, "running");
    send_signal(&child, "TERM");
    let after = rest(reader);
    assert_eq!(child.wait().unwrap().code(), Some(143));
    let report = after.last().unwrap();
    assert_eq!(report["event"], "report");
    // One job runs (left to finish: pending), the other was queued and is cancelled.
    assert_eq!(
        report["counts"],
        serde_json::json!({"cancelled": 1, "pending": 1}),
        "{report}"
    );
}
