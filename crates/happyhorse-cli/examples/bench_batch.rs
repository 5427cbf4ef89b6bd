//! Batch at scale: `happyhorse batch` with `--jobs` jobs at `--concurrency` through a separate
//! emulator process, under `/usr/bin/time` (so CPU and peak memory are the CLI's alone), then
//! the same command again to measure resuming from the finished journal, then the same batch
//! with the job ledger off (`--ledger off`) to measure what the ledger costs. Baseline, in the
//! same run: `Client::run_many` over the same jobs in a bare process (no journal, no downloads).
//! The ledger is always a file in the temporary work directory, never the user's.
//!
//! ```text
//! cargo build --release -p happyhorse-cli -p happyhorse-emulator --bins --examples
//! target/release/examples/bench_batch [--jobs 10000] [--concurrency 1000] [--poll-ms 500]
//!     [--processing-time 60s] [--time-scale 30] [--dest-dir DIR]
//! ```
//!
//! The last line of standard output is one JSON object: `{"jobs", "concurrency", "wall_s",
//! "cpu_s", "max_rss_mib", "journal_bytes", "ledger_bytes", "resume_wall_s", "resume_cpu_s",
//! "resume_max_rss_mib", "requests", "no_ledger": {"wall_s", "cpu_s", "max_rss_mib"},
//! "baseline": {"name", "wall_s", "cpu_s", "max_rss_mib"}}`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use futures::StreamExt;
use happyhorse_http::{BatchEvent, BatchJob, BatchOptions, Client, PollPolicy};
use happyhorse_types::image_to_video::ImageToVideo;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const TOKEN: &str = "bench-token";

struct Options {
    jobs: usize,
    concurrency: usize,
    poll_ms: u64,
    processing_time: String,
    time_scale: String,
    dest_dir: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--baseline-child") {
        return baseline_child(&args[1..]);
    }
    let mut options = Options {
        jobs: 10_000,
        concurrency: 1_000,
        poll_ms: 500,
        processing_time: "60s".into(),
        time_scale: "30".into(),
        dest_dir: None,
    };
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--jobs" => options.jobs = value()?.parse()?,
            "--concurrency" => options.concurrency = value()?.parse()?,
            "--poll-ms" => options.poll_ms = value()?.parse()?,
            "--processing-time" => options.processing_time = value()?,
            "--time-scale" => options.time_scale = value()?,
            "--dest-dir" => options.dest_dir = Some(value()?.into()),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    run(&options)
}

fn run(options: &Options) -> Result<()> {
    let examples = std::env::current_exe()?
        .parent()
        .ok_or("no examples dir")?
        .to_path_buf();
    let bins = examples.parent().ok_or("no target dir")?.to_path_buf();
    let (cli, emulator) = (bins.join("happyhorse"), bins.join("happyhorse-emulator"));
    for bin in [&cli, &emulator] {
        if !bin.exists() {
            return Err(format!("{} is missing: cargo build --release -p happyhorse-cli -p happyhorse-emulator --bins", bin.display()).into());
        }
    }
    let work = match &options.dest_dir {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    let jobs = work.path().join("jobs.jsonl");
    let mut text = String::new();
    for i in 0..options.jobs {
        text.push_str(&format!(
            "{{\"id\":\"job-{i:05}\",\"image_url\":\"https://example.com/p/{i}.webp\",\"prompt\":\"product {i} turns slowly\"}}\n"
        ));
    }
    std::fs::write(&jobs, text)?;
    let workers = options.concurrency.to_string();
    let emulator_args = [
        "--workers",
        &workers,
        "--processing-time",
        &options.processing_time,
        "--time-scale",
        &options.time_scale,
    ];
    let poll = format!("{}ms", options.poll_ms);
    let concurrency = options.concurrency.to_string();

    let service = Emulator::start(&emulator, &emulator_args)?;
    let out = work.path().join("out");
    let ledger = work.path().join("ledger.sqlite3");
    let batch_args = |base_url: &str, out: &Path, ledger: &str| -> Vec<String> {
        [
            "--quiet",
            "--ledger",
            ledger,
            "--base-url",
            base_url,
            "batch",
            &jobs.display().to_string(),
            "--out-dir",
            &out.display().to_string(),
            "--concurrency",
            &concurrency,
            "--poll-interval",
            &poll,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let ledger_arg = ledger.display().to_string();
    let with_ledger = batch_args(&service.base_url, &out, &ledger_arg);
    eprintln!(
        "batch: {} jobs at concurrency {}…",
        options.jobs, options.concurrency
    );
    let first = timed(&cli, &with_ledger)?;
    let requests = service.total_requests()?;
    let journal_bytes = std::fs::metadata(out.join("happyhorse-batch.journal"))?.len();
    // The database and its write-ahead log, as the batch left them.
    let ledger_bytes: u64 = ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", ledger.display())).ok())
        .map(|m| m.len())
        .sum();
    let videos = std::fs::read_dir(&out)?
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "mp4"))
        })
        .count();
    if videos != options.jobs {
        return Err(format!("only {videos} of {} videos were saved", options.jobs).into());
    }
    eprintln!("resume from the finished journal…");
    let resume = timed(&cli, &with_ledger)?;
    drop(service);

    eprintln!("the same batch with the ledger off…");
    let service = Emulator::start(&emulator, &emulator_args)?;
    let no_ledger = timed(
        &cli,
        &batch_args(&service.base_url, &work.path().join("out-no-ledger"), "off"),
    )?;
    drop(service);

    eprintln!("baseline: Client::run_many alone…");
    let service = Emulator::start(&emulator, &emulator_args)?;
    let me = std::env::current_exe()?;
    let baseline_args: Vec<String> = [
        "--baseline-child",
        &service.base_url,
        &options.jobs.to_string(),
        &concurrency,
        &options.poll_ms.to_string(),
    ]
    .map(str::to_owned)
    .to_vec();
    let baseline = timed(&me, &baseline_args)?;
    drop(service);

    let mib = |kib: f64| kib / 1024.0;
    println!("| program | wall | CPU | peak RSS |\n|---|---:|---:|---:|");
    println!(
        "| happyhorse batch | {:.1} s | {:.2} s | {:.1} MiB |",
        first.wall,
        first.cpu,
        mib(first.max_rss_kib)
    );
    println!(
        "| happyhorse batch --ledger off | {:.1} s | {:.2} s | {:.1} MiB |",
        no_ledger.wall,
        no_ledger.cpu,
        mib(no_ledger.max_rss_kib)
    );
    println!(
        "| rerun (resume, all done) | {:.2} s | {:.2} s | {:.1} MiB |",
        resume.wall,
        resume.cpu,
        mib(resume.max_rss_kib)
    );
    println!(
        "| baseline: Client::run_many | {:.1} s | {:.2} s | {:.1} MiB |",
        baseline.wall,
        baseline.cpu,
        mib(baseline.max_rss_kib)
    );
    println!(
        "journal: {journal_bytes} bytes ({:.0} per job); ledger: {ledger_bytes} bytes ({:.0} per job); {requests} API requests",
        journal_bytes as f64 / options.jobs as f64,
        ledger_bytes as f64 / options.jobs as f64
    );
    let report = serde_json::json!({
        "jobs": options.jobs,
        "concurrency": options.concurrency,
        "wall_s": first.wall,
        "cpu_s": first.cpu,
        "max_rss_mib": mib(first.max_rss_kib),
        "journal_bytes": journal_bytes,
        "ledger_bytes": ledger_bytes,
        "no_ledger": {
            "wall_s": no_ledger.wall,
            "cpu_s": no_ledger.cpu,
            "max_rss_mib": mib(no_ledger.max_rss_kib),
        },
        "resume_wall_s": resume.wall,
        "resume_cpu_s": resume.cpu,
        "resume_max_rss_mib": mib(resume.max_rss_kib),
        "requests": requests,
        "baseline": {
            "name": "Client::run_many without the CLI, journal or downloads",
            "wall_s": baseline.wall,
            "cpu_s": baseline.cpu,
            "max_rss_mib": mib(baseline.max_rss_kib),
        },
    });
    println!("{report}");
    Ok(())
}

/// The baseline process: the same jobs through `Client::run_many`, nothing else.
fn baseline_child(args: &[String]) -> Result<()> {
    let [base_url, jobs, concurrency, poll_ms] = args else {
        return Err("--baseline-child BASE_URL JOBS CONCURRENCY POLL_MS".into());
    };
    let (jobs, concurrency, poll_ms): (usize, usize, u64) =
        (jobs.parse()?, concurrency.parse()?, poll_ms.parse()?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = Client::builder()
            .token(TOKEN)
            .base_url(base_url.as_str())
            .poll_policy(PollPolicy::fixed(std::time::Duration::from_millis(poll_ms)))
            .build()?;
        let inputs = (0..jobs).map(|i| {
            BatchJob::Submit(serde_json::json!({
                "image_url": format!("https://example.com/p/{i}.webp"),
                "prompt": format!("product {i} turns slowly"),
            }))
        });
        let mut batch = client
            .run_many::<ImageToVideo>(inputs, BatchOptions::default().concurrency(concurrency));
        let mut ok = 0;
        while let Some(event) = batch.next().await {
            if let BatchEvent::Finished(item) = event {
                ok += usize::from(item.result.is_ok());
            }
        }
        if ok != jobs {
            return Err(format!("baseline: only {ok} of {jobs} succeeded").into());
        }
        Ok(())
    })
}

/// What `/usr/bin/time` and a stopwatch saw of one child process.
struct Run {
    wall: f64,
    cpu: f64,
    max_rss_kib: f64,
}

fn timed(program: &Path, args: &[String]) -> Result<Run> {
    let report = tempfile::NamedTempFile::new()?;
    let started = Instant::now();
    let status = Command::new("/usr/bin/time")
        .args(["-f", "%U %S %M", "-o"])
        .arg(report.path())
        .arg(program)
        .args(args)
        .env("RUNCOMFY_API_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .status()?;
    let wall = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("{} {args:?} failed: {status}", program.display()).into());
    }
    let text = std::fs::read_to_string(report.path())?;
    let numbers: Vec<f64> = text
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .map(str::parse)
        .collect::<std::result::Result<_, _>>()?;
    let [user, sys, rss] = numbers[..] else {
        return Err(format!("unexpected /usr/bin/time output {text:?}").into());
    };
    Ok(Run {
        wall,
        cpu: user + sys,
        max_rss_kib: rss,
    })
}

/// An emulator process on 127.0.0.1 with OS-chosen ports, killed on drop.
struct Emulator {
    child: Child,
    base_url: String,
}

impl Emulator {
    fn start(bin: &Path, extra: &[&str]) -> Result<Self> {
        let mut child = Command::new(bin)
            .args([
                "--addr",
                "127.0.0.1:0",
                "--storage-addr",
                "127.0.0.1:0",
                "--token",
                TOKEN,
            ])
            .args(extra)
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut lines = BufReader::new(child.stdout.take().ok_or("no emulator stdout")?).lines();
        let line = lines.next().ok_or("the emulator exited early")??;
        let base_url = line
            .strip_prefix("base URL:")
            .ok_or_else(|| format!("unexpected emulator line {line:?}"))?
            .trim()
            .to_owned();
        // Keep reading: a closed pipe would kill the emulator.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self { child, base_url })
    }

    /// Every request the emulator answered, from `/__emulator/stats`.
    fn total_requests(&self) -> Result<u64> {
        let output = Command::new("curl")
            .args(["-s", &format!("{}/__emulator/stats", self.base_url)])
            .output();
        let Ok(output) = output else { return Ok(0) };
        let stats: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
        let total = stats["requests"].as_object().map_or(0, |endpoints| {
            endpoints
                .values()
                .filter_map(|m| m.as_object())
                .flat_map(|m| m.values())
                .filter_map(|v| v.as_u64())
                .sum()
        });
        Ok(total)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
