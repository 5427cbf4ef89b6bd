//! Polling-policy simulation: the real `Job` state machine against a simulated service, on a
//! manual clock. Prints requests per job and detection lag (job finished → client knows) for
//! the default policy and fixed-interval baselines.
//!
//! `cargo run --release -p happyhorse-core --example poll_sim [-- --jobs 20000 --seed 1 --json]`
//!
//! With `--json`, prints one JSON object instead of the tables (read by `cargo xtask bench`):
//! `{"jobs", "seed", "policies": [Row], "sensitivity": [{"running_time", "median_s", "sigma",
//! "jobs", "seed", "rows": [Row]}]}`, where a `Row` is `{"policy", "requests_mean",
//! "requests_p90", "lag_p50_s", "lag_p90_s", "lag_p99_s"}`.
//!
//! Workload (per job, drawn from a seeded generator):
//! - queue wait `W` ~ uniform 0–60 s; the service starts one queued job every `slot` ~ uniform
//!   5–15 s, so the reported `queue_position` is ⌈(W − t) / slot⌉ at time t;
//! - running time `T` ~ log-normal, median 100 s, σ = 0.4 (5 %–95 %: 52–193 s), matching
//!   "1–5 minutes" with one logged run at ~104 s;
//! - answers are instant (latency adds the same to every policy).

use std::time::{Duration, Instant};

use happyhorse_core::{Job, JobConfig, PollPolicy, RequestKind, Response};

#[derive(Clone, Copy)]
struct Workload {
    queue_wait: f64,
    slot: f64,
    run: f64,
}

struct Stats {
    requests: Vec<f64>,
    lags: Vec<f64>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let jobs = usize::try_from(arg("--jobs", 20_000)).unwrap_or(20_000);
    let seed = arg("--seed", 1);
    let json = args.iter().any(|a| a == "--json");

    let policies: Vec<(&str, PollPolicy)> = vec![
        ("default", PollPolicy::default()),
        ("fixed 0.5 s", PollPolicy::fixed(Duration::from_millis(500))),
        ("fixed 2 s", PollPolicy::fixed(Duration::from_secs(2))),
        ("fixed 5 s", PollPolicy::fixed(Duration::from_secs(5))),
    ];

    let sensitivity = [
        ("median 100 s, sigma 0.25", 100.0, 0.25),
        ("median 100 s, sigma 0.6", 100.0, 0.6),
        ("median 60 s, sigma 0.4", 60.0, 0.4),
        ("median 180 s, sigma 0.4", 180.0, 0.4),
        ("median 20 s, sigma 0.4 (a fast model)", 20.0, 0.4),
    ];
    if json {
        let workload = draw(jobs, seed, 100.0, 0.4);
        let rows: Vec<_> = policies
            .iter()
            .map(|(name, policy)| row_json(name, &simulate(policy, &workload)))
            .collect();
        let sensitivity: Vec<_> = sensitivity
            .iter()
            .map(|&(label, median, sigma)| {
                let workload = draw(jobs / 4, seed + 1, median, sigma);
                let rows: Vec<_> = policies
                    .iter()
                    .filter(|(name, _)| *name == "default" || *name == "fixed 2 s")
                    .map(|(name, policy)| row_json(name, &simulate(policy, &workload)))
                    .collect();
                serde_json::json!({
                    "running_time": label,
                    "median_s": median,
                    "sigma": sigma,
                    "jobs": jobs / 4,
                    "seed": seed + 1,
                    "rows": rows,
                })
            })
            .collect();
        let report = serde_json::json!({
            "jobs": jobs,
            "seed": seed,
            "policies": rows,
            "sensitivity": sensitivity,
        });
        println!("{report}");
        return;
    }

    println!(
        "Workload: {jobs} jobs, seed {seed}; queue wait U(0, 60 s), one start per U(5, 15 s);"
    );
    println!("running time log-normal, median 100 s, sigma 0.4. Requests include the submit.\n");
    let workload = draw(jobs, seed, 100.0, 0.4);
    print_table(&policies, &workload);

    println!("\nSensitivity (same queue model; running-time distribution varied):\n");
    println!("| running time | policy | requests/job | lag p50 | lag p90 | lag p99 |");
    println!("|---|---|---:|---:|---:|---:|");
    for (label, median, sigma) in sensitivity {
        let workload = draw(jobs / 4, seed + 1, median, sigma);
        for (name, policy) in policies
            .iter()
            .filter(|(name, _)| *name == "default" || *name == "fixed 2 s")
        {
            let stats = simulate(policy, &workload);
            println!(
                "| {label} | {name} | {:.1} | {:.2} s | {:.2} s | {:.2} s |",
                mean(&stats.requests),
                percentile(&stats.lags, 0.50),
                percentile(&stats.lags, 0.90),
                percentile(&stats.lags, 0.99)
            );
        }
    }
}

fn print_table(policies: &[(&str, PollPolicy)], workload: &[Workload]) {
    println!("| policy | requests/job (mean) | requests p90 | lag p50 | lag p90 | lag p99 |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, policy) in policies {
        let stats = simulate(policy, workload);
        println!(
            "| {name} | {:.1} | {:.0} | {:.2} s | {:.2} s | {:.2} s |",
            mean(&stats.requests),
            percentile(&stats.requests, 0.90),
            percentile(&stats.lags, 0.50),
            percentile(&stats.lags, 0.90),
            percentile(&stats.lags, 0.99)
        );
    }
}

/// One policy's figures as JSON (see the module docs).
fn row_json(name: &str, stats: &Stats) -> serde_json::Value {
    serde_json::json!({
        "policy": name,
        "requests_mean": mean(&stats.requests),
        "requests_p90": percentile(&stats.requests, 0.90),
        "lag_p50_s": percentile(&stats.lags, 0.50),
        "lag_p90_s": percentile(&stats.lags, 0.90),
        "lag_p99_s": percentile(&stats.lags, 0.99),
    })
}

fn draw(jobs: usize, seed: u64, median: f64, sigma: f64) -> Vec<Workload> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..jobs)
        .map(|_| {
            // Box–Muller for a standard normal.
            let (u1, u2) = (rng.f64().max(f64::MIN_POSITIVE), rng.f64());
            let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            Workload {
                queue_wait: rng.f64() * 60.0,
                slot: 5.0 + rng.f64() * 10.0,
                run: median * (sigma * normal).exp(),
            }
        })
        .collect()
}

fn simulate(policy: &PollPolicy, workload: &[Workload]) -> Stats {
    let mut stats = Stats {
        requests: Vec::new(),
        lags: Vec::new(),
    };
    for (index, job) in workload.iter().enumerate() {
        let start = Instant::now();
        let config = JobConfig::default()
            .with_poll(policy.clone().with_deadline(None))
            .with_seed(index as u64);
        let mut engine = Job::submit(
            "happyhorse/happyhorse-1.0/image-to-video",
            b"{}".to_vec(),
            config,
            start,
        );
        let mut now = start;
        let mut requests = 0u32;
        while !engine.is_terminal() {
            while let Some(transmit) = engine.poll_transmit(now) {
                requests += 1;
                let t = (now - start).as_secs_f64();
                engine.handle_response(transmit.id, answer(job, transmit.kind, t), now);
            }
            if let Some(wake) = engine.poll_timeout() {
                now = now.max(wake);
                engine.handle_timeout(now);
            }
        }
        let finished_at = job.queue_wait + job.run;
        stats.requests.push(f64::from(requests));
        stats.lags.push((now - start).as_secs_f64() - finished_at);
    }
    stats
}

/// The simulated service's answer at `t` seconds after the submit.
fn answer(job: &Workload, kind: RequestKind, t: f64) -> Response {
    let body = match kind {
        RequestKind::Submit => r#"{"request_id":"sim"}"#.to_owned(),
        _ if t < job.queue_wait => {
            let position = ((job.queue_wait - t) / job.slot).ceil();
            match kind {
                RequestKind::Status => {
                    format!(r#"{{"status":"in_queue","queue_position":{position}}}"#)
                }
                _ => r#"{"status":"in_queue"}"#.to_owned(),
            }
        }
        _ if t < job.queue_wait + job.run => r#"{"status":"in_progress"}"#.to_owned(),
        RequestKind::Status => r#"{"status":"completed"}"#.to_owned(),
        _ => r#"{"status":"succeeded","output":{"video":"https://cdn.example/v.mp4"}}"#.to_owned(),
    };
    Response::new(200, body)
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}
