//! SIGTERM and SIGHUP during a submit (waited for a bounded time, so the id is known) and in a
//! batch (stopped as after Ctrl-C). The queued and running cases share their tests with Ctrl-C
//! (`jobs.rs`), and so does a second signal in a batch (`forced_exit.rs`).

use std::time::Duration;

use happyhorse_emulator::{Emulator, Endpoint, FaultConfig, FaultKind, ProcessingTime};

use crate::cases::batch::jobs_file;
use crate::cases::forced_exit::wait_for;
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

#[test]
fn a_batch_whose_stdout_goes_away_stops_as_after_a_signal_and_keeps_every_id() {
    // Submits are answered 500 ms after their jobs are created, so several are in flight when
    // the reader of the events goes away (`| head -1`); jobs run 2 s, so the batch is far from
    // done then.
    let emu = Emu::start(
        Emulator::builder()
            .time_scale(1.0)
            .processing_time(ProcessingTime::Fixed(Duration::from_secs(2)))
            .faults(FaultConfig {
                delay: Duration::from_millis(500),
                endpoints: vec![Endpoint::Submit],
                rates: [(FaultKind::Delay, 1.0)].into(),
                ..FaultConfig::default()
            }),
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, bodies) = jobs_file(dir.path(), "head", 8);
    let args = [
        "--json",
        "batch",
        "jobs.jsonl",
        "--out-dir",
        "out",
        "--concurrency",
        "4",
        "--poll-interval",
        "50ms",
    ];
    let mut child = emu.spawn(dir.path(), &args);
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    // The cost estimate comes first, then the first submitted job: the reader goes away there.
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.contains("\"estimate\""), "{first}");
    first.clear();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.contains("\"submitted\""), "{first}");
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("stdout cannot be written") && stderr.contains("rerun the same command"),
        "{stderr}"
    );
    // Every job the service created has its id in the journal: none was dropped in flight.
    let journal = std::fs::read_to_string(dir.path().join("out/happyhorse-batch.journal")).unwrap();
    let ids: std::collections::BTreeSet<&str> = journal
        .lines()
        .filter_map(|line| line.split("\"request_id\":\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let created = emu.emulator().stats().submissions_total;
    assert_eq!(ids.len() as u64, created, "{journal}");

    let rerun = emu.cli(dir.path()).args(args).output().unwrap();
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    for body in &bodies {
        assert_eq!(emu.emulator().stats().submissions_of(body), 1, "{body}");
    }
}
