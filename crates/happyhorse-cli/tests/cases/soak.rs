//! The fault soak: a batch through `happyhorse batch` with about 20 % of requests faulted across
//! every fault kind, plus model failures, rerun until nothing is left to pick up. Every job must
//! end with its video or a reported, explained failure; no submit may be repeated; the token
//! must never reach the storage host or the output; every video must be byte-identical.
//!
//! 100 jobs in the normal test run; `cargo xtask soak` runs 1,000 (`HAPPYHORSE_SOAK_JOBS`,
//! `HAPPYHORSE_SOAK_SEED`) and prints the table.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use happyhorse_emulator::{Emulator, FaultConfig, FaultKind, ProcessingTime};
use serde_json::Value;

use crate::cases::batch::{complete_videos, jobs_file, report};
use crate::cases::jobs::Emu;

const TOKEN: &str = "soak-token-canary-51d0e2";
const MAX_RUNS: usize = 6;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn soak_every_fault_kind_and_model_failures() {
    let jobs = env_number("HAPPYHORSE_SOAK_JOBS", 100) as usize;
    let seed = env_number("HAPPYHORSE_SOAK_SEED", 1);
    // Ten kinds at 2.4 % each (some apply to some endpoints only): about one request in five.
    let faults = FaultConfig {
        rates: FaultKind::ALL.iter().map(|kind| (*kind, 0.024)).collect(),
        seed,
        delay: Duration::from_secs(60),
        retry_after_secs: 1,
        ..FaultConfig::default()
    };
    let emu = Emu::start(
        Emulator::builder()
            .workers(64)
            .processing_time(ProcessingTime::Uniform {
                min: Duration::from_secs(30),
                max: Duration::from_secs(90),
            })
            .time_scale(600.0)
            .failure_rate(0.05)
            .seed(seed)
            .faults(faults),
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, bodies) = jobs_file(dir.path(), &format!("soak {seed}"), jobs);
    let started = Instant::now();
    let mut runs = Vec::new();
    let mut last = Value::Null;
    for _ in 0..MAX_RUNS {
        let output = emu
            .cli(dir.path())
            .env("RUNCOMFY_API_TOKEN", TOKEN)
            .args([
                "--json",
                "batch",
                "jobs.jsonl",
                "--out-dir",
                "out",
                "--poll-interval",
                "100ms",
                "--concurrency",
                "32",
            ])
            .output()
            .unwrap();
        for stream in [&output.stdout, &output.stderr] {
            assert!(
                !String::from_utf8_lossy(stream).contains(TOKEN),
                "the token appeared in the output"
            );
        }
        last = report(&output);
        runs.push((output.status.code(), last["counts"].clone()));
        let left = ["pending", "download_failed", "not_sent"]
            .iter()
            .any(|state| last["counts"].get(*state).is_some());
        if !left {
            break;
        }
    }
    let elapsed = started.elapsed();

    let rows = last["jobs"].as_array().unwrap();
    assert_eq!(rows.len(), jobs);
    let stats = emu.emulator().stats();
    let mut explained = 0;
    let mut unknown_created = 0;
    for row in rows {
        if row["state"] == "unknown" {
            // Did the submit the tool would not repeat in fact create a job? (It did not guess.)
            let index: usize = row["id"].as_str().unwrap()["job-".len()..].parse().unwrap();
            unknown_created += usize::from(stats.submissions_of(&bodies[index]) == 1);
        }
        let state = row["state"].as_str().unwrap();
        match state {
            "succeeded" => assert!(row["output"].is_string()),
            "failed" | "unknown" | "rejected" => {
                let error = row["error"].as_str().unwrap_or_default();
                assert!(error.len() > 10, "{row}: a failure without its explanation");
                explained += 1;
            }
            other => panic!("after {} runs a job is still {other}: {row}", runs.len()),
        }
    }
    let video = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../happyhorse-emulator/fixtures/horse.mp4"
    ))
    .unwrap();
    let videos = complete_videos(&dir.path().join("out"), &video);
    let counts: BTreeMap<String, u64> = serde_json::from_value(last["counts"].clone()).unwrap();
    assert_eq!(videos as u64, counts.get("succeeded").copied().unwrap_or(0));

    assert_eq!(stats.duplicate_submissions, 0, "a submit was repeated");
    assert!(bodies.iter().all(|body| stats.submissions_of(body) <= 1));
    assert_eq!(
        stats.storage.authorization_headers_total, 0,
        "the token reached the storage host"
    );
    let kinds = FaultKind::ALL
        .iter()
        .filter(|kind| stats.faults_of(**kind) > 0)
        .count();
    let requests = stats.requests_total;
    let minimum_kinds = if jobs >= 500 { FaultKind::ALL.len() } else { 7 };
    assert!(
        kinds >= minimum_kinds,
        "only {kinds} fault kinds were injected: {:?}",
        stats.faults
    );
    assert!(
        counts.get("succeeded").copied().unwrap_or(0) as usize > jobs / 2,
        "{counts:?}"
    );

    println!(
        "\nfault soak: {jobs} jobs, seed {seed}, {:.1} s, {} runs of `happyhorse batch`",
        elapsed.as_secs_f64(),
        runs.len()
    );
    for (i, (code, counts)) in runs.iter().enumerate() {
        println!("  run {}: exit {code:?}, {counts}", i + 1);
    }
    println!("| measure | value |\n|---|---:|");
    println!("| API and storage requests | {requests} |");
    println!(
        "| faults injected | {} ({:.1} % of requests) |",
        stats.faults_total,
        100.0 * stats.faults_total as f64 / requests.max(1) as f64
    );
    for kind in FaultKind::ALL {
        println!("| — {} | {} |", kind.as_str(), stats.faults_of(kind));
    }
    for (state, n) in &counts {
        println!("| jobs {state} | {n} |");
    }
    println!(
        "| — of the unknown, jobs that did exist (a blind retry would have paid twice) | {unknown_created} |"
    );
    println!("| failures with an explanation | {explained} of {explained} |");
    println!("| videos byte-identical to the served file | {videos} of {videos} |");
    println!(
        "| duplicate submissions | {} |",
        stats.duplicate_submissions
    );
    println!(
        "| Authorization headers at the storage host | {} |",
        stats.storage.authorization_headers_total
    );
    println!("| token in the CLI's output | 0 |");
}
