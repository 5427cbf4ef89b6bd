//! `happyhorse batch` against an emulator the test starts: a faulty 60-job batch, kill -9 at
//! seeded moments followed by reruns, and journals that must be refused without change.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use happyhorse_emulator::{Emulator, Endpoint, FaultConfig, FaultKind, ProcessingTime};
use serde_json::{Value, json};

use crate::cases::jobs::{Emu, interrupt};

/// A jobs file of `count` jobs with prompts unique to `tag`; returns (path, bodies as sent).
pub(super) fn jobs_file(dir: &Path, tag: &str, count: usize) -> (PathBuf, Vec<Value>) {
    let mut text = String::new();
    let mut bodies = Vec::new();
    for i in 0..count {
        let body = json!({"image_url": "https://example.com/horse.webp", "prompt": format!("{tag}: horse {i} trots")});
        let mut line = body.clone();
        line["id"] = json!(format!("job-{i:03}"));
        text.push_str(&format!("{line}\n"));
        bodies.push(body);
    }
    let path = dir.join("jobs.jsonl");
    std::fs::write(&path, text).unwrap();
    (path, bodies)
}

/// `happyhorse --json batch jobs.jsonl --out-dir out --poll-interval 50ms`, in `dir`.
const BATCH: [&str; 7] = [
    "--json",
    "batch",
    "jobs.jsonl",
    "--out-dir",
    "out",
    "--poll-interval",
    "50ms",
];

/// `happyhorse --json batch jobs.jsonl --out-dir out --poll-interval 50ms` and `extra`, in `dir`.
pub(super) fn batch(emu: &Emu, dir: &Path, extra: &[&str]) -> std::process::Output {
    emu.cli(dir).args(BATCH).args(extra).output().unwrap()
}

/// The same batch as a child process with piped stdout, at `concurrency`.
fn spawn_batch(emu: &Emu, dir: &Path, concurrency: &str) -> std::process::Child {
    let args: Vec<&str> = BATCH
        .iter()
        .copied()
        .chain(["--concurrency", concurrency])
        .collect();
    emu.spawn(dir, &args)
}

pub(super) fn report(output: &std::process::Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_else(|| {
        panic!(
            "no output; stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let report: Value = serde_json::from_str(last).unwrap();
    assert_eq!(report["event"], "report", "{last}");
    report
}

fn ids_in_state(report: &Value, state: &str) -> Vec<String> {
    report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|job| job["state"] == state)
        .map(|job| job["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every finished-looking video in `out` is exactly `video`; returns how many there are.
pub(super) fn complete_videos(out: &Path, video: &[u8]) -> usize {
    let mut count = 0;
    for entry in std::fs::read_dir(out).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "mp4")
            && !path.file_name().unwrap().to_string_lossy().starts_with('.')
        {
            assert!(
                std::fs::read(&path).unwrap() == video,
                "{} is not the served video",
                path.display()
            );
            count += 1;
        }
    }
    count
}

#[test]
fn a_faulty_batch_of_60_jobs_completes_with_every_video_byte_identical() {
    let faults = FaultConfig {
        rates: [
            (FaultKind::Http500, 0.03),
            (FaultKind::Http503, 0.03),
            (FaultKind::RateLimited, 0.03),
            (FaultKind::Reset, 0.03),
            (FaultKind::TruncatedBody, 0.03),
            (FaultKind::ErrorWith200, 0.02),
            (FaultKind::UnknownStatus, 0.03),
        ]
        .into(),
        endpoints: vec![Endpoint::Status, Endpoint::Result, Endpoint::Storage],
        seed: 11,
        retry_after_secs: 0,
        ..FaultConfig::default()
    };
    let emu = Emu::start(
        Emulator::builder()
            .workers(32)
            .processing_time(ProcessingTime::Fixed(Duration::from_secs(60)))
            .time_scale(600.0)
            .faults(faults),
    );
    // Refused submits (429) are safe to repeat: the batch must absorb them too.
    for _ in 0..3 {
        emu.emulator()
            .inject_fault(Endpoint::Submit, FaultKind::RateLimited);
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, bodies) = jobs_file(dir.path(), "faulty", 60);
    let output = batch(&emu, dir.path(), &["--concurrency", "20"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let report = report(&output);
    assert_eq!(report["counts"], json!({"succeeded": 60}));
    let video = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../happyhorse-emulator/fixtures/horse.mp4"
    ))
    .unwrap();
    assert_eq!(complete_videos(&dir.path().join("out"), &video), 60);
    let stats = emu.emulator().stats();
    assert!(
        stats.faults_total >= 10,
        "only {} faults",
        stats.faults_total
    );
    assert!(stats.faults_of(FaultKind::RateLimited) >= 3);
    assert_eq!(stats.duplicate_submissions, 0);
    assert!(bodies.iter().all(|body| stats.submissions_of(body) == 1));
    assert_eq!(
        stats.storage.authorization_headers_total, 0,
        "the token reached the storage host"
    );
}

/// Where a kill lands: after the `nth` NDJSON event named `event`.
fn kill_point(seed: usize, jobs: usize) -> (&'static str, usize) {
    let event = ["submitted", "running", "finished"][seed % 3];
    (event, 1 + (seed * 7) % jobs)
}

#[test]
fn kill_9_at_24_seeded_moments_then_rerunning_loses_nothing_and_pays_nothing_twice() {
    const JOBS: usize = 10;
    // A 2 MiB video makes downloads long enough to be killed in the middle of. It is laid out
    // as an MP4 (`ftyp`, `mdat`, `moov`): a download is kept only when its boxes show it whole.
    let media: Vec<u8> = (0..2u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut video = Vec::new();
    for (kind, body) in [
        (b"ftyp", &b"isom\0\0\0\0isom"[..]),
        (b"mdat", &media[..]),
        (b"moov", &[0u8; 8][..]),
    ] {
        video.extend_from_slice(&u32::try_from(8 + body.len()).unwrap().to_be_bytes());
        video.extend_from_slice(kind);
        video.extend_from_slice(body);
    }
    let mut reported_unknown = 0;
    let mut submitted_twice = 0;
    for seed in 0..24 {
        let emu = Emu::start(
            Emulator::builder()
                .workers(16)
                .processing_time(ProcessingTime::Fixed(Duration::from_secs(60)))
                .time_scale(300.0)
                .output_video(Bytes::from(video.clone())),
        );
        let dir = tempfile::tempdir().unwrap();
        let (_, bodies) = jobs_file(dir.path(), &format!("kill {seed}"), JOBS);
        let (event, nth) = kill_point(seed, JOBS);
        let mut child = spawn_batch(&emu, dir.path(), "4");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut seen = 0;
        for line in stdout.lines() {
            let line = line.unwrap();
            if line.contains(&format!("\"event\":\"{event}\"")) {
                seen += 1;
                if seen == nth {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Whatever the moment, nothing that looks finished is incomplete.
        let out = dir.path().join("out");
        complete_videos(&out, &video);

        let rerun = batch(&emu, dir.path(), &["--concurrency", "4"]);
        let unknown = ids_in_state(&report(&rerun), "unknown");
        assert!(
            rerun.status.code() == Some(0)
                || (rerun.status.code() == Some(12) && !unknown.is_empty()),
            "seed {seed}: exit {:?}: {}",
            rerun.status.code(),
            String::from_utf8_lossy(&rerun.stderr)
        );
        if !unknown.is_empty() {
            reported_unknown += unknown.len();
            let last = batch(
                &emu,
                dir.path(),
                &["--concurrency", "4", "--resubmit-unknown"],
            );
            assert_eq!(
                last.status.code(),
                Some(0),
                "seed {seed}: {}",
                String::from_utf8_lossy(&last.stderr)
            );
        }
        assert_eq!(
            complete_videos(&out, &video),
            JOBS,
            "seed {seed}: every job ends with its video"
        );
        let stats = emu.emulator().stats();
        for (i, body) in bodies.iter().enumerate() {
            let id = format!("job-{i:03}");
            let count = stats.submissions_of(body);
            let allowed = if unknown.contains(&id) { 2 } else { 1 };
            assert!(
                count >= 1 && count <= allowed,
                "seed {seed} ({event} #{nth}): {id} submitted {count} times"
            );
            submitted_twice += usize::from(count == 2);
        }
    }
    eprintln!(
        "24 kills: {reported_unknown} jobs reported as outcome unknown, {submitted_twice} of them had in fact been created (submitted twice after --resubmit-unknown)"
    );
}

#[test]
fn foreign_and_malformed_journals_are_refused_and_left_unchanged() {
    let emu = Emu::start(Emulator::builder().time_scale(1000.0));
    let dir = tempfile::tempdir().unwrap();
    jobs_file(dir.path(), "first", 2);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let journal = out.join("happyhorse-batch.journal");

    std::fs::write(&journal, "{\"not\":\"a journal\"}\n").unwrap();
    let output = batch(&emu, dir.path(), &[]);
    assert_eq!(output.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a happyhorse batch journal"));
    assert_eq!(
        std::fs::read_to_string(&journal).unwrap(),
        "{\"not\":\"a journal\"}\n"
    );

    // A real journal of another jobs file.
    std::fs::remove_file(&journal).unwrap();
    assert_eq!(batch(&emu, dir.path(), &[]).status.code(), Some(0));
    let before = std::fs::read(&journal).unwrap();
    jobs_file(dir.path(), "second", 2);
    let output = batch(&emu, dir.path(), &[]);
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("belongs to another jobs file"), "{stderr}");
    assert_eq!(std::fs::read(&journal).unwrap(), before);

    // Garbage in the middle.
    jobs_file(dir.path(), "first", 2);
    let mut broken = before.clone();
    broken.extend_from_slice(b"{\"event\":\"submitted\",\"job\":\"job-000\"}\n{\"event\":\"saved\",\"job\":\"job-001\",\"path\":\"x\",\"bytes\":1}\n");
    std::fs::write(&journal, &broken).unwrap();
    let output = batch(&emu, dir.path(), &[]);
    assert_eq!(output.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&output.stderr).contains("malformed journal at line"));
    assert_eq!(std::fs::read(&journal).unwrap(), broken);
    assert_eq!(
        emu.emulator().stats().submissions_total,
        2,
        "only the one good run submitted"
    );
}

#[test]
fn every_invalid_line_is_reported_and_nothing_is_sent() {
    let emu = Emu::start(Emulator::builder().time_scale(1000.0));
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"image_url":"https://example.com/a.png","prompt":"a horse"}"#;
    let text = format!("{good}\n{{\"prompt\":\"\"}}\n{good}\nnot json\n");
    std::fs::write(dir.path().join("jobs.jsonl"), text).unwrap();
    let output = batch(&emu, dir.path(), &[]);
    assert_eq!(output.status.code(), Some(65));
    let events: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let lines: Vec<u64> = events
        .iter()
        .filter(|e| e["event"] == "invalid_line")
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 4]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("2 of 4 lines of jobs.jsonl are invalid; nothing was sent"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 2 (line-2): image_url: is required"),
        "{stderr}"
    );
    assert_eq!(emu.emulator().stats().submissions_total, 0);
    assert!(
        !dir.path().join("out").exists(),
        "nothing was written either"
    );

    let output = batch(&emu, dir.path(), &["--skip-invalid"]);
    assert_eq!(
        output.status.code(),
        Some(10),
        "invalid lines still make the batch fail"
    );
    let report = report(&output);
    assert_eq!(report["counts"], json!({"invalid": 2, "succeeded": 2}));
    assert_eq!(emu.emulator().stats().submissions_total, 2);
}

#[test]
fn ctrl_c_cancels_queued_jobs_leaves_running_ones_and_a_rerun_collects_them() {
    // One worker: one job runs (for a while), the others wait in the service's queue.
    let emu = Emu::start(
        Emulator::builder()
            .workers(1)
            .processing_time(ProcessingTime::Fixed(Duration::from_secs(60)))
            .time_scale(60.0),
    );
    let dir = tempfile::tempdir().unwrap();
    jobs_file(dir.path(), "ctrl-c", 5);
    let mut child = spawn_batch(&emu, dir.path(), "3");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut running, mut line) = (0, String::new());
    while running == 0 {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the batch ended early"
        );
        running += usize::from(line.contains("\"event\":\"running\""));
    }
    interrupt(&child);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let interrupted: Value = serde_json::from_str(rest.lines().last().unwrap()).unwrap();
    let states: Vec<&str> = interrupted["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["state"].as_str().unwrap())
        .collect();
    // The running job goes on (pending), the two queued are cancelled, the last two never sent
    // (which of the first three runs is the service's choice).
    let mut first_three = states[..3].to_vec();
    first_three.sort_unstable();
    assert_eq!(first_three, ["cancelled", "cancelled", "pending"], "{rest}");
    assert_eq!(states[3..], ["not_sent", "not_sent"], "{rest}");
    let pending = states.iter().position(|s| *s == "pending").unwrap();
    assert_eq!(emu.emulator().stats().submissions_total, 3);

    let rerun = batch(&emu, dir.path(), &["--concurrency", "3"]);
    let collected = report(&rerun);
    let states: Vec<&str> = collected["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["state"].as_str().unwrap())
        .collect();
    let mut expected = vec!["cancelled"; 3];
    expected[pending] = "succeeded";
    expected.extend(["succeeded", "succeeded"]);
    assert_eq!(states, expected);
    assert_eq!(
        rerun.status.code(),
        Some(11),
        "cancelled jobs are reported, not retried"
    );
    assert_eq!(
        emu.emulator().stats().submissions_total,
        5,
        "the pending job was followed, not resubmitted"
    );
}
