//! The measurements of issue 5, as tables: every program runs as its own process under
//! `/usr/bin/time`, so each client's CPU time and peak memory are its own (the emulator, a
//! separate `happyhorse-emulator` process, is never counted).
//!
//! ```text
//! cargo build --release -p happyhorse-emulator --bin happyhorse-emulator
//! cargo build --release -p happyhorse-http --examples
//! target/release/examples/bench_report [--rounds 5] [--only download|jobs]
//!     [--sizes 134217728,1073741824] [--dest-dir DIR]
//!     [--jobs 1000] [--poll-ms 250] [--processing-time 100s] [--time-scale 20] [--json]
//! ```
//!
//! **Download**: `Client::download` (example `bench_download`) versus `curl -o` and
//! `curl -o && sync FILE`, and a parallel-range prototype (`bench_download --connections 4`)
//! versus `aria2c -x 4 && sync FILE` when aria2c is installed; the order rotates each round, from
//! the emulator's storage host (`/synthetic/<bytes>`). Wall time is measured around each process
//! (start-up included for all).
//!
//! **Jobs**: `--jobs` concurrent jobs through one `Client` (example `bench_jobs`) versus asyncio +
//! httpx (`examples/httpx_jobs.py`), same fixed poll interval, each against a fresh emulator with
//! one worker per job. The emulator's request counters show both did the same protocol work.
//!
//! Every figure is the median over `--rounds`, with the range beside it.
//!
//! With `--json`, the last line of standard output is one JSON object with every figure (read by
//! `cargo xtask bench`): `{"rounds", "cores", "download": {"dest_dir", "aria2c", "connections",
//! "sizes": [{"bytes",
//! "clients": [C]}]}, "jobs": {"jobs", "poll_ms", "processing_time", "time_scale", "clients": [C],
//! "skipped": [reason]}}`, where `C` is `{"name", "wall_s", "cpu_s", "max_rss_mib", ...}`, each
//! figure `{"median", "min", "max"}`; a section that did not run is absent.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const TOKEN: &str = "bench-token";

#[derive(Debug, Clone)]
struct Options {
    rounds: usize,
    only: Option<String>,
    sizes: Vec<u64>,
    dest_dir: Option<PathBuf>,
    jobs: usize,
    poll_ms: u64,
    processing_time: String,
    time_scale: f64,
    json: bool,
}

fn options() -> Result<Options> {
    let mut options = Options {
        rounds: 5,
        only: None,
        sizes: vec![128 << 20, 1 << 30],
        dest_dir: None,
        jobs: 1000,
        poll_ms: 250,
        processing_time: "100s".into(),
        time_scale: 20.0,
        json: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--rounds" => options.rounds = value()?.parse::<usize>()?.max(1),
            "--only" => options.only = Some(value()?),
            "--sizes" => {
                options.sizes = value()?
                    .split(',')
                    .map(str::parse)
                    .collect::<std::result::Result<_, _>>()?
            }
            "--dest-dir" => options.dest_dir = Some(value()?.into()),
            "--jobs" => options.jobs = value()?.parse()?,
            "--poll-ms" => options.poll_ms = value()?.parse()?,
            "--processing-time" => options.processing_time = value()?,
            "--time-scale" => options.time_scale = value()?.parse()?,
            "--json" => options.json = true,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    Ok(options)
}

fn main() -> Result<()> {
    let options = options()?;
    if !Path::new("/usr/bin/time").exists() {
        return Err("/usr/bin/time is needed to read child processes' CPU and peak memory (apt-get install time)".into());
    }
    let bins = std::env::current_exe()?
        .parent()
        .ok_or("no examples directory")?
        .to_path_buf();
    let emulator_bin = bins
        .parent()
        .ok_or("no target directory")?
        .join("happyhorse-emulator");
    if !emulator_bin.exists() {
        return Err(format!(
            "{} is missing: cargo build --release -p happyhorse-emulator --bin happyhorse-emulator",
            emulator_bin.display()
        )
        .into());
    }
    println!(
        "machine: {} cores; rounds: {} (median, [min..max])",
        std::thread::available_parallelism()?,
        options.rounds
    );
    let mut report = serde_json::json!({
        "rounds": options.rounds,
        "cores": std::thread::available_parallelism()?.get(),
    });
    if options.only.as_deref() != Some("jobs") {
        report["download"] = download_bench(&options, &bins, &emulator_bin)?;
    }
    if options.only.as_deref() != Some("download") {
        report["jobs"] = jobs_bench(&options, &bins, &emulator_bin)?;
    }
    if options.json {
        println!("{report}");
    }
    Ok(())
}

/// What `/usr/bin/time` and a stopwatch saw of one child process.
#[derive(Debug, Clone, Default)]
struct Run {
    wall: f64,
    cpu: f64,
    max_rss_kib: f64,
    stdout: String,
}

impl Run {
    /// A `key=value` field of the child's one-line report.
    fn field(&self, key: &str) -> Option<f64> {
        self.stdout
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
    }
}

fn timed(program: &Path, args: &[&str]) -> Result<Run> {
    let report = tempfile::NamedTempFile::new()?;
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%U %S %M", "-o"])
        .arg(report.path())
        .arg(program)
        .args(args)
        .stderr(Stdio::inherit())
        .output()?;
    let wall = started.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(format!("{} {args:?} failed: {}", program.display(), output.status).into());
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
        stdout: String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    })
}

/// An emulator process on 127.0.0.1 with OS-chosen ports, killed on drop.
struct Emulator {
    child: Child,
    base_url: String,
    storage_url: String,
}

impl Emulator {
    fn start(bin: &Path, extra: &[&str]) -> Result<Self> {
        let mut child = Command::new(bin)
            .args(["--addr", "127.0.0.1:0", "--storage-addr", "127.0.0.1:0"])
            .args(["--token", TOKEN])
            .args(extra)
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no emulator stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut url = |label: &str| -> Result<String> {
            let line = lines.next().ok_or("the emulator exited early")??;
            Ok(line
                .strip_prefix(label)
                .ok_or_else(|| format!("unexpected emulator line {line:?}"))?
                .trim()
                .to_owned())
        };
        let (base_url, storage_url) = (url("base URL:")?, url("storage URL:")?);
        // Keep reading: the emulator prints more, and a closed pipe would kill it.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self {
            child,
            base_url,
            storage_url,
        })
    }

    /// Requests the emulator answered per endpoint, from `/__emulator/stats`.
    fn requests(&self, endpoint: &str) -> Result<u64> {
        let stats: serde_json::Value =
            serde_json::from_str(&http_get(&format!("{}/__emulator/stats", self.base_url))?)?;
        let by_outcome = stats["requests"][endpoint].as_object();
        Ok(by_outcome.map_or(0, |m| m.values().filter_map(|v| v.as_u64()).sum()))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of a plain-HTTP GET on loopback (HTTP/1.0, so no chunked body to decode; curl is not
/// needed for the jobs bench).
fn http_get(url: &str) -> Result<String> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").ok_or("not an http:// URL")?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = std::net::TcpStream::connect(host)?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").ok_or("no end of headers")?;
    if head.split_whitespace().nth(1) != Some("200") {
        return Err(format!("GET {url}: {}", head.lines().next().unwrap_or("")).into());
    }
    Ok(body.to_owned())
}

/// Connections of the parallel-range rows (ours and aria2c's).
const CONNECTIONS: usize = 4;

/// Builds the command (program, arguments) that downloads URL to DEST.
type CommandFor = Box<dyn Fn(&str, &str) -> (PathBuf, Vec<String>)>;

/// One client of the download bench: its name and the command that downloads URL to DEST.
struct DownloadClient {
    name: String,
    command: CommandFor,
    runs: Vec<Run>,
}

fn download_clients(bins: &Path) -> Vec<DownloadClient> {
    let client = |name: &str, command: CommandFor| DownloadClient {
        name: name.to_owned(),
        command,
        runs: Vec::new(),
    };
    let rust_bin = bins.join("bench_download");
    let parallel_bin = rust_bin.clone();
    let shell = |script: String| (PathBuf::from("/bin/sh"), vec!["-c".to_owned(), script]);
    let mut clients = vec![
        client(
            "happyhorse-http",
            Box::new(move |url, dest| (rust_bin.clone(), vec![url.into(), dest.into()])),
        ),
        client(
            "curl -o",
            Box::new(|url, dest| {
                let args = ["-sS", "--fail", "-o", dest, url].map(String::from);
                (PathBuf::from("/usr/bin/curl"), args.to_vec())
            }),
        ),
        // happyhorse-http fsyncs before its atomic rename; curl does not, so curl + `sync FILE`
        // (an fsync of the file) is shown too: on a real disk that is the like-for-like figure.
        client(
            "curl -o && sync FILE",
            Box::new(move |url, dest| {
                shell(format!(
                    "/usr/bin/curl -sS --fail -o '{dest}' '{url}' && sync '{dest}'"
                ))
            }),
        ),
        client(
            &format!("happyhorse-http, {CONNECTIONS} connections (prototype)"),
            Box::new(move |url, dest| {
                let args = ["--connections", &CONNECTIONS.to_string(), url, dest];
                (parallel_bin.clone(), args.map(String::from).to_vec())
            }),
        ),
    ];
    if aria2c_version().is_some() {
        clients.push(client(
            &format!("aria2c -x {CONNECTIONS} && sync FILE"),
            Box::new(move |url, dest| {
                let path = Path::new(dest);
                let (dir, name) = (
                    path.parent()
                        .unwrap_or(Path::new("."))
                        .display()
                        .to_string(),
                    path.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned(),
                );
                shell(format!(
                    "aria2c -q -x {CONNECTIONS} -s {CONNECTIONS} -k 1M --file-allocation=none \
                     --allow-overwrite=true --auto-file-renaming=false -d '{dir}' -o '{name}' \
                     '{url}' && sync '{dest}'"
                ))
            }),
        ));
    }
    clients
}

/// `aria2c --version`'s first line, when aria2c is installed.
fn aria2c_version() -> Option<String> {
    let output = Command::new("aria2c").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    Some(text.lines().next()?.trim().to_owned())
}

fn download_bench(
    options: &Options,
    bins: &Path,
    emulator_bin: &Path,
) -> Result<serde_json::Value> {
    let dir = match &options.dest_dir {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    let dest = dir.path().join("download.bin");
    let dest_text = dest.to_str().ok_or("non-UTF-8 temp path")?;
    let emulator = Emulator::start(emulator_bin, &[])?;
    println!(
        "\n## Download: Client::download vs curl -o (destination {})",
        dir.path().display()
    );
    println!(
        "\n| size | client | wall s | MiB/s | CPU s | CPU ns/byte | peak RSS MiB |\n|---|---|---|---|---|---|---|"
    );
    let mut sizes_json = Vec::new();
    for &size in &options.sizes {
        let url = format!("{}/synthetic/{size}", emulator.storage_url);
        let mut clients = download_clients(bins);
        let count = clients.len();
        for round in 0..options.rounds {
            // Rotate who goes first, so page-cache and neighbour noise hit all alike.
            for turn in 0..count {
                let client = &mut clients[(turn + round) % count];
                let (program, args) = (client.command)(&url, dest_text);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let run = timed(&program, &args)?;
                let len = std::fs::metadata(&dest)?.len();
                if len != size {
                    return Err(format!("{}: {len} bytes, expected {size}", client.name).into());
                }
                std::fs::remove_file(&dest)?;
                client.runs.push(run);
            }
        }
        let mib = size as f64 / f64::from(1 << 20);
        let mut clients_json = Vec::new();
        for client in &clients {
            let runs = &client.runs;
            let wall = stat(runs, |r| r.wall);
            let cpu = stat(runs, |r| r.cpu);
            println!(
                "| {} | {} | {wall} | {:.0} | {cpu} | {:.2} | {} |",
                human_size(size),
                client.name,
                mib / wall.median,
                cpu.median * 1e9 / size as f64,
                stat(runs, |r| r.max_rss_kib / 1024.0),
            );
            let mut json = with_name(&client.name, runs_json(runs));
            if client.name == "happyhorse-http" {
                json["call_wall_s"] =
                    stat(runs, |r| r.field("wall_s").unwrap_or(f64::NAN)).to_json();
            }
            clients_json.push(json);
        }
        sizes_json.push(serde_json::json!({"bytes": size, "clients": clients_json}));
    }
    Ok(serde_json::json!({
        "dest_dir": dir.path().parent().unwrap_or(dir.path()).display().to_string(),
        "aria2c": aria2c_version(),
        "connections": CONNECTIONS,
        "sizes": sizes_json,
    }))
}

/// Wall, CPU and peak memory over runs, as JSON.
fn runs_json(runs: &[Run]) -> serde_json::Value {
    serde_json::json!({
        "wall_s": stat(runs, |r| r.wall).to_json(),
        "cpu_s": stat(runs, |r| r.cpu).to_json(),
        "max_rss_mib": stat(runs, |r| r.max_rss_kib / 1024.0).to_json(),
    })
}

/// `figures` with `"name"` first.
fn with_name(name: &str, figures: serde_json::Value) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    object.insert("name".into(), name.into());
    object.extend(
        figures
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    object.into()
}

/// One client program of the jobs bench and the runs it made.
struct JobsClient {
    name: &'static str,
    /// Program and the arguments that go before BASE_URL TOKEN JOBS POLL_MS.
    command: Vec<String>,
    /// Arguments after them.
    tail: Vec<String>,
    runs: Vec<(Run, [u64; 3])>,
}

fn jobs_bench(options: &Options, bins: &Path, emulator_bin: &Path) -> Result<serde_json::Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/httpx_jobs.py");
    let script = script.to_str().ok_or("non-UTF-8 path")?.to_owned();
    let httpx = Command::new("python3")
        .args(["-c", "import httpx"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let (jobs, poll) = (options.jobs.to_string(), options.poll_ms.to_string());
    let time_scale = options.time_scale.to_string();
    let emulator_args = [
        "--workers",
        jobs.as_str(),
        "--processing-time",
        options.processing_time.as_str(),
        "--time-scale",
        time_scale.as_str(),
    ];
    println!(
        "\n## {} concurrent jobs, one client, poll every {} ms, jobs of {} at time scale {}",
        options.jobs, options.poll_ms, options.processing_time, options.time_scale
    );
    let rust_bin = bins
        .join("bench_jobs")
        .to_str()
        .ok_or("non-UTF-8 path")?
        .to_owned();
    let python = |name, cap: &str| JobsClient {
        name,
        command: vec!["python3".into(), script.clone()],
        tail: vec![cap.into()],
        runs: Vec::new(),
    };
    let mut clients = vec![JobsClient {
        name: "happyhorse-http",
        command: vec![rust_bin],
        tail: Vec::new(),
        runs: Vec::new(),
    }];
    let mut skipped = Vec::new();
    if httpx {
        clients.push(python("httpx, no pool cap", "none"));
        clients.push(python("httpx, default pool (100)", "100"));
    } else {
        skipped.push("python3 httpx: `python3 -c 'import httpx'` failed");
        println!(
            "\n(python httpx: SKIPPED — `python3 -c 'import httpx'` failed; pip install httpx)"
        );
    }
    for round in 0..options.rounds {
        for turn in 0..clients.len() {
            // Rotate the order each round, so a noisy neighbour hits every client alike.
            let count = clients.len();
            let client = &mut clients[(turn + round) % count];
            let emulator = Emulator::start(emulator_bin, &emulator_args)?;
            let mut args: Vec<&str> = client.command[1..].iter().map(String::as_str).collect();
            args.extend([emulator.base_url.as_str(), TOKEN, &jobs, &poll]);
            args.extend(client.tail.iter().map(String::as_str));
            let run = timed(Path::new(&client.command[0]), &args)?;
            if run.field("succeeded") != Some(options.jobs as f64) {
                return Err(
                    format!("{}: not every job succeeded: {}", client.name, run.stdout).into(),
                );
            }
            eprintln!("round {round}: {}: {}", client.name, run.stdout);
            let counts = [
                emulator.requests("submit")?,
                emulator.requests("status")?,
                emulator.requests("result")?,
            ];
            client.runs.push((run, counts));
        }
    }
    println!(
        "\n| client | wall s | CPU s (process) | CPU s (jobs only) | peak RSS MiB | requests submit / status / result | CPU µs per request |\n|---|---|---|---|---|---|---|"
    );
    let mut medians = Vec::new();
    let mut clients_json = Vec::new();
    for client in &clients {
        let median_count = |i: usize| stat_u64(client.runs.iter().map(|(_, c)| c[i]).collect());
        let runs: Vec<Run> = client.runs.iter().map(|(r, _)| r.clone()).collect();
        let per_request: Vec<Run> = client
            .runs
            .iter()
            .map(|(r, c)| Run {
                cpu: r.field("work_cpu_s").unwrap_or(f64::NAN) * 1e6 / c.iter().sum::<u64>() as f64,
                ..Run::default()
            })
            .collect();
        let (cpu, work, rss) = (
            stat(&runs, |r| r.cpu),
            stat(&runs, |r| r.field("work_cpu_s").unwrap_or(f64::NAN)),
            stat(&runs, |r| r.max_rss_kib / 1024.0),
        );
        println!(
            "| {} | {} | {cpu} | {work} | {rss} | {} / {} / {} | {:.0} |",
            client.name,
            stat(&runs, |r| r.wall),
            median_count(0),
            median_count(1),
            median_count(2),
            stat(&per_request, |r| r.cpu).median,
        );
        medians.push((client.name, cpu.median, work.median, rss.median));
        let mut json = with_name(client.name, runs_json(&runs));
        json["work_cpu_s"] = work.to_json();
        json["requests"] = serde_json::json!({
            "submit": median_count(0),
            "status": median_count(1),
            "result": median_count(2),
        });
        clients_json.push(json);
    }
    if let Some((_, rust_cpu, rust_work, rust_rss)) = medians.first().copied() {
        for (name, cpu, work, rss) in &medians[1..] {
            println!(
                "\n{name} / happyhorse-http (target ≥ 10× CPU): CPU {:.1}× whole process, {:.1}× jobs only; peak RSS {:.1}×",
                cpu / rust_cpu,
                work / rust_work,
                rss / rust_rss,
            );
        }
    }
    Ok(serde_json::json!({
        "jobs": options.jobs,
        "poll_ms": options.poll_ms,
        "processing_time": options.processing_time,
        "time_scale": options.time_scale,
        "clients": clients_json,
        "skipped": skipped,
    }))
}

/// Median and range of one figure over runs.
#[derive(Debug, Clone, Copy)]
struct Stat {
    median: f64,
    min: f64,
    max: f64,
}

impl Stat {
    fn to_json(self) -> serde_json::Value {
        serde_json::json!({"median": self.median, "min": self.min, "max": self.max})
    }
}

impl std::fmt::Display for Stat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = if self.median < 10.0 { 3 } else { 1 };
        write!(
            f,
            "{:.digits$} [{:.digits$}..{:.digits$}]",
            self.median, self.min, self.max
        )
    }
}

fn stat(runs: &[Run], figure: impl Fn(&Run) -> f64) -> Stat {
    let mut values: Vec<f64> = runs.iter().map(figure).collect();
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    Stat {
        median,
        min: values[0],
        max: values[n - 1],
    }
}

fn stat_u64(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    values[values.len() / 2]
}

fn human_size(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else {
        format!("{} MiB", bytes as f64 / f64::from(1 << 20))
    }
}
