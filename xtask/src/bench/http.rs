//! happyhorse-http's two benchmarks, both run by `crates/happyhorse-http/examples/bench_report.rs`
//! (every client its own process under `/usr/bin/time`): downloads against `curl -o`, and many
//! concurrent jobs against an asyncio + httpx client.

use anyhow::{Context, Result};
use serde::Deserialize;

use super::table::{Table, mib, ratio, secs, size, thousands};
use super::tools::Tool;
use super::{Ctx, Section};

pub(crate) const DOWNLOAD_TITLE: &str = "Downloads versus curl (happyhorse-http)";
pub(crate) const JOBS_TITLE: &str =
    "Concurrent jobs: client CPU versus Python asyncio + httpx (happyhorse-http)";

/// `bench_report` and its client examples, and the emulator binary it starts.
const BUILD: [&str; 7] = [
    "-p",
    "happyhorse-emulator",
    "-p",
    "happyhorse-http",
    "--bin",
    "happyhorse-emulator",
    "--examples",
];

/// Median and range over rounds, as `bench_report --json` prints them.
#[derive(Clone, Copy, Debug, Deserialize)]
struct Stat {
    median: f64,
    min: f64,
    max: f64,
}

#[derive(Debug, Deserialize)]
struct Client {
    name: String,
    wall_s: Stat,
    cpu_s: Stat,
    max_rss_mib: Stat,
    #[serde(default)]
    work_cpu_s: Option<Stat>,
    #[serde(default)]
    requests: Option<Requests>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
struct Requests {
    submit: u64,
    status: u64,
    result: u64,
}

#[derive(Debug, Deserialize)]
struct Download {
    sizes: Vec<SizeRun>,
    /// The parallel rows' connections.
    #[serde(default)]
    connections: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct SizeRun {
    bytes: u64,
    clients: Vec<Client>,
}

#[derive(Debug, Deserialize)]
struct Jobs {
    jobs: u64,
    poll_ms: u64,
    clients: Vec<Client>,
    #[serde(default)]
    skipped: Vec<String>,
}

const RUST: &str = "happyhorse-http";
const CURL: &str = "curl -o";
const CURL_SYNC: &str = "curl -o && sync FILE";
/// The start of the parallel rows' names: ours, then aria2c's.
const PARALLEL: &str = "happyhorse-http, ";
const ARIA2: &str = "aria2c -x ";

fn build(ctx: &Ctx<'_>, section: &mut Section) -> Result<()> {
    section.command(ctx.ws.build(&BUILD)?);
    Ok(())
}

fn find<'a>(clients: &'a [Client], name: &str) -> Result<&'a Client> {
    clients
        .iter()
        .find(|c| c.name == name)
        .with_context(|| format!("bench_report reported no {name:?} client"))
}

pub(crate) fn run_download(ctx: &mut Ctx<'_>) -> Result<Section> {
    let mut section = Section::new(DOWNLOAD_TITLE);
    let needed = ctx
        .tools
        .require(Tool::Time)
        .and_then(|_| ctx.tools.require(Tool::Curl));
    let curl = match needed {
        Ok(version) => version,
        Err(skipped) => {
            section.skip(&skipped);
            return Ok(section);
        }
    };
    // aria2c is a baseline for the parallel rows only: without it those rows stand alone.
    let aria2 = ctx.tools.require(Tool::Aria2);
    build(ctx, &mut section)?;
    let program = ctx.ws.release("examples/bench_report");
    let (rounds, sizes) = ctx.pick(("5", "134217728,1073741824"), ("3", "67108864"));
    let mut destinations = vec![("on disk", "`/tmp`", None)];
    if std::path::Path::new("/dev/shm").is_dir() {
        destinations.push(("in RAM", "`/dev/shm`", Some("/dev/shm")));
    }
    let mut tables = Vec::new();
    for (place, path, dir) in &destinations {
        let mut args: Vec<String> = ["--rounds", rounds, "--only", "download", "--sizes", sizes]
            .map(String::from)
            .to_vec();
        if let Some(dir) = dir {
            args.extend(["--dest-dir".into(), (*dir).into()]);
        }
        args.push("--json".into());
        section.command(ctx.ws.command_line(&program, &args));
        let report = ctx.ws.run_json(&program, &args)?;
        let download: Download = serde_json::from_value(report["download"].clone())
            .context("reading bench_report's download JSON")?;
        tables.push((*place, *path, download));
    }
    section.text(format!(
        "The emulator's storage host serves a synthetic body of the given size \
         (`/synthetic/<bytes>`) from a separate `happyhorse-emulator` process; each client runs \
         as its own process under `/usr/bin/time`, in rotating order; medians of {rounds} rounds \
         with [min..max]. Wall time is taken around each process, so start-up counts for all.\n\
         The baseline is `curl -o` ({curl}). `Client::download` fsyncs before it renames (so a \
         crash cannot leave a truncated file that looks finished); `curl -o` does not, so \
         `curl -o && sync FILE` is the like-for-like row on a real disk. Its writer starts the \
         kernel's write-back every 8 MiB as it goes, so the final fsync has little left.\n\
         The parallel rows split the file into ranges fetched over several connections at once: \
         a prototype written in the benchmark program (`bench_download --connections N`, not in \
         the library), against {}.",
        match &aria2 {
            Ok(version) => format!("`aria2c -x N -s N -k 1M && sync FILE` ({version})"),
            Err(why) => format!("aria2c, which is missing here ({why})"),
        }
    ));
    for (place, path, download) in &tables {
        section.text(format!("Destination {place} ({path}):"));
        section.table(&download_table(download)?);
    }
    section.text(download_verdict(&tables)?);
    Ok(section)
}

fn download_table(download: &Download) -> Result<Table> {
    let mut table = Table::new(&[
        "size",
        "<client",
        "wall",
        "vs curl -o",
        "vs curl && sync",
        "CPU",
        "CPU vs curl -o",
        "peak RSS",
    ]);
    for run in &download.sizes {
        let curl = find(&run.clients, CURL)?;
        let synced = find(&run.clients, CURL_SYNC)?.wall_s.median;
        for client in &run.clients {
            let name = match client.name.as_str() {
                CURL => "curl -o (baseline)".to_owned(),
                other => other.to_owned(),
            };
            table.row([
                size(run.bytes),
                name,
                range(client.wall_s),
                ratio(client.wall_s.median, curl.wall_s.median),
                ratio(client.wall_s.median, synced),
                secs(client.cpu_s.median),
                ratio(client.cpu_s.median, curl.cpu_s.median),
                mib(client.max_rss_mib.median),
            ]);
        }
    }
    Ok(table)
}

/// `0.220 s [0.157..0.302]`.
fn range(stat: Stat) -> String {
    if stat.min == stat.max {
        return secs(stat.median);
    }
    let bare = |v: f64| secs(v).trim_end_matches(" s").to_owned();
    format!(
        "{} [{}..{}]",
        secs(stat.median),
        bare(stat.min),
        bare(stat.max)
    )
}

/// One target: what it says, and whether it was met.
fn target(text: String, met: bool) -> String {
    format!("{text} ({})", if met { "met" } else { "**missed**" })
}

/// The targets, judged on disk: ≤ 1.05× `curl -o && sync` and ≤ 1.3× `curl -o` from
/// 1 GiB up, ≤ 1.5× `curl -o` below; CPU no more than curl's; peak memory ≤ 32 MiB everywhere.
fn download_verdict(tables: &[(&str, &str, Download)]) -> Result<String> {
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    let mut rss = Vec::new();
    let mut parallel = Vec::new();
    for (place, _, download) in tables {
        for run in &download.sizes {
            let ours = find(&run.clients, RUST)?;
            let curl = find(&run.clients, CURL)?;
            let synced = find(&run.clients, CURL_SYNC)?.wall_s.median;
            rss.push(ours.max_rss_mib.median);
            let at = format!("{place} at {}", size(run.bytes));
            if let Some(ours_n) = run.clients.iter().find(|c| c.name.starts_with(PARALLEL)) {
                let aria2 = run.clients.iter().find(|c| c.name.starts_with(ARIA2));
                parallel.push(format!(
                    "{} one connection's time{} {at}",
                    ratio(ours_n.wall_s.median, ours.wall_s.median),
                    aria2.map_or(String::new(), |a| format!(
                        " and {} aria2c's",
                        ratio(ours_n.wall_s.median, a.wall_s.median)
                    )),
                ));
            }
            if *place != "on disk" {
                continue;
            }
            let (against_curl, against_sync) = (
                ours.wall_s.median / curl.wall_s.median,
                ours.wall_s.median / synced,
            );
            if run.bytes >= 1 << 30 {
                wall.push(target(
                    format!(
                        "{} `curl -o && sync` (≤ 1.05×) and {} `curl -o` (≤ 1.3×) {at}",
                        ratio(ours.wall_s.median, synced),
                        ratio(ours.wall_s.median, curl.wall_s.median)
                    ),
                    against_sync <= 1.05 && against_curl <= 1.3,
                ));
            } else {
                wall.push(target(
                    format!(
                        "{} `curl -o` (≤ 1.5×) {at}",
                        ratio(ours.wall_s.median, curl.wall_s.median)
                    ),
                    against_curl <= 1.5,
                ));
            }
            cpu.push(target(
                format!(
                    "{} curl's CPU {at}",
                    ratio(ours.cpu_s.median, curl.cpu_s.median)
                ),
                ours.cpu_s.median <= curl.cpu_s.median,
            ));
        }
    }
    let (low, high) = rss
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let rss = if mib(low) == mib(high) {
        mib(high)
    } else {
        format!("{}–{}", mib(low).trim_end_matches(" MiB"), mib(high))
    };
    let mut text = format!(
        "Targets on disk — time: {}. CPU no more than curl's: {}.\n\
         Peak memory of happyhorse-http: {} (target ≤ 32 MiB, flat in the file's size).",
        wall.join("; "),
        cpu.join("; "),
        target(rss, high <= 32.0)
    );
    if !parallel.is_empty() {
        let connections = tables
            .first()
            .and_then(|(_, _, d)| d.connections)
            .unwrap_or(4);
        text.push_str(&format!(
            "\nParallel ranges ({connections} connections) took {}.",
            parallel.join("; ")
        ));
    }
    Ok(text)
}

pub(crate) fn run_jobs(ctx: &mut Ctx<'_>) -> Result<Section> {
    let mut section = Section::new(JOBS_TITLE);
    if let Err(skipped) = ctx.tools.require(Tool::Time) {
        section.skip(&skipped);
        return Ok(section);
    }
    // The baseline: without httpx the Rust client still runs, and the section says why the
    // Python rows are missing.
    let python = ctx
        .tools
        .require(Tool::Python)
        .and_then(|python| Ok(format!("{python}, {}", ctx.tools.require(Tool::Httpx)?)));
    build(ctx, &mut section)?;
    let program = ctx.ws.release("examples/bench_report");
    let (rounds, jobs) = ctx.pick(("3", "1000"), ("1", "250"));
    let args: Vec<String> = [
        "--rounds",
        rounds,
        "--only",
        "jobs",
        "--jobs",
        jobs,
        "--poll-ms",
        "250",
        "--processing-time",
        "100s",
        "--time-scale",
        "20",
        "--json",
    ]
    .map(String::from)
    .to_vec();
    section.command(ctx.ws.command_line(&program, &args));
    let report = ctx.ws.run_json(&program, &args)?;
    let jobs: Jobs = serde_json::from_value(report["jobs"].clone())
        .context("reading bench_report's jobs JSON")?;
    section.text(format!(
        "{} jobs submitted at once through one client, each of 100 s at emulator time scale 20 \
         (5 s of wall time), {}. A fresh emulator process (one worker \
         per job) per run; both clients poll every {} ms (ours `/status` while queued then \
         `/result`; the Python one `/result` only, as the straightforward version would) and stop \
         at success; no download.\n\
         The baseline is `crates/happyhorse-http/examples/httpx_jobs.py`, asyncio + httpx \
         ({}), once without a cap on connections (every job its own connection, as with ours) and \
         once with httpx's default pool of 100.",
        thousands(jobs.jobs as f64),
        if rounds == "1" {
            "one round".to_owned()
        } else {
            format!("medians of {rounds} rounds")
        },
        jobs.poll_ms,
        python.as_deref().unwrap_or_else(|skipped| skipped)
    ));
    section.table(&jobs_table(&jobs)?);
    let mut skipped = jobs.skipped.clone();
    if let Err(why) = &python {
        skipped.insert(0, why.clone());
    }
    if !skipped.is_empty() {
        section.text(format!("Baseline **{}**.", skipped.join("; ")));
    }
    section.text(jobs_verdict(&jobs)?);
    section.text(
        "The request counts show whether a client kept to the interval: a CPU-bound client falls \
         behind, finds most jobs already finished and makes fewer requests, so its CPU per \
         request is the fairer comparison.\n\
         An earlier profile of the Python client (by hand, not rerun by this harness) put ~85 % \
         of its CPU in httpx's connection-pool bookkeeping, which grows with the square of open \
         connections; a leaner Python client would narrow the gap (not tried).",
    );
    Ok(section)
}

fn jobs_table(jobs: &Jobs) -> Result<Table> {
    let ours = find(&jobs.clients, RUST)?;
    let mut table = Table::new(&[
        "client",
        "wall",
        "CPU (process)",
        "CPU vs happyhorse-http",
        "CPU (jobs only)",
        "CPU µs per request",
        "peak RSS",
        "<requests submit / status / result",
    ]);
    for client in &jobs.clients {
        let requests = client.requests.context("no request counts")?;
        let work = client.work_cpu_s.map_or(f64::NAN, |s| s.median);
        let total = (requests.submit + requests.status + requests.result) as f64;
        let name = if client.name == RUST {
            client.name.clone()
        } else {
            format!("{} (baseline)", client.name)
        };
        table.row([
            name,
            secs(client.wall_s.median),
            secs(client.cpu_s.median),
            ratio(client.cpu_s.median, ours.cpu_s.median),
            secs(work),
            thousands(work * 1e6 / total),
            mib(client.max_rss_mib.median),
            format!(
                "{} / {} / {}",
                requests.submit, requests.status, requests.result
            ),
        ]);
    }
    Ok(table)
}

fn jobs_verdict(jobs: &Jobs) -> Result<String> {
    let ours = find(&jobs.clients, RUST)?;
    let others: Vec<&Client> = jobs.clients.iter().filter(|c| c.name != RUST).collect();
    if others.is_empty() {
        return Ok(
            "Target ≥ 10× less CPU than the Python client: not judged (no baseline).".into(),
        );
    }
    let ratios: Vec<(f64, &str)> = others
        .iter()
        .map(|c| (c.cpu_s.median / ours.cpu_s.median, c.name.as_str()))
        .collect();
    let met = ratios.iter().all(|(r, _)| *r >= 10.0);
    let parts: Vec<String> = ratios
        .iter()
        .map(|(r, name)| format!("{r:.1}× less than {name}"))
        .collect();
    Ok(format!(
        "Target ≥ 10× less CPU: **{}** — {}.",
        if met { "met" } else { "missed" },
        parts.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(median: f64) -> serde_json::Value {
        serde_json::json!({"median": median, "min": median * 0.9, "max": median * 1.1})
    }

    #[test]
    fn download_ratios_are_against_curl_measured_in_the_same_report() {
        let download: Download = serde_json::from_value(serde_json::json!({
            "dest_dir": "/tmp",
            "sizes": [{"bytes": 1073741824u64, "clients": [
                {"name": "happyhorse-http", "wall_s": stat(0.901), "cpu_s": stat(0.8),
                 "max_rss_mib": stat(9.1), "call_wall_s": stat(0.88)},
                {"name": "curl -o", "wall_s": stat(0.832), "cpu_s": stat(0.9), "max_rss_mib": stat(10.8)},
                {"name": "curl -o && sync FILE", "wall_s": stat(0.95), "cpu_s": stat(0.9), "max_rss_mib": stat(10.7)},
                {"name": "happyhorse-http, 4 connections (prototype)", "wall_s": stat(1.0812), "cpu_s": stat(1.2), "max_rss_mib": stat(12.0)},
                {"name": "aria2c -x 4 && sync FILE", "wall_s": stat(1.2013), "cpu_s": stat(1.5), "max_rss_mib": stat(14.0)}
            ]}]
        }))
        .unwrap();
        let table = download_table(&download).unwrap().to_markdown();
        assert!(
            table.contains(
                "| 1 GiB | happyhorse-http | 0.901 s [0.811..0.991] | 1.08× | 0.95× | 0.800 s | 0.89× |"
            ),
            "{table}"
        );
        assert!(table.contains("| 1 GiB | curl -o (baseline) | 0.832 s [0.749..0.915] | 1.00× |"));
        let verdict = download_verdict(&[("on disk", "`/tmp`", download)]).unwrap();
        assert!(
            verdict.contains("0.95× `curl -o && sync` (≤ 1.05×) and 1.08× `curl -o` (≤ 1.3×) on disk at 1 GiB (met)"),
            "{verdict}"
        );
        assert!(
            verdict.contains("0.89× curl's CPU on disk at 1 GiB (met)"),
            "{verdict}"
        );
        assert!(
            verdict.contains("happyhorse-http: 9.1 MiB (met) (target ≤ 32 MiB"),
            "{verdict}"
        );
        assert!(
            verdict.contains("1.20× one connection's time and 0.90× aria2c's on disk at 1 GiB"),
            "{verdict}"
        );
    }

    #[test]
    fn jobs_verdict_needs_ten_times_against_every_baseline() {
        let client = |name: &str, cpu: f64| {
            serde_json::json!({"name": name, "wall_s": stat(5.0), "cpu_s": stat(cpu),
                "work_cpu_s": stat(cpu), "max_rss_mib": stat(50.0),
                "requests": {"submit": 1000, "status": 1000, "result": 19000}})
        };
        let jobs: Jobs = serde_json::from_value(serde_json::json!({
            "jobs": 1000, "poll_ms": 250, "processing_time": "100s", "time_scale": 20.0,
            "clients": [client("happyhorse-http", 0.77), client("httpx, no pool cap", 30.3),
                        client("httpx, default pool (100)", 6.0)],
            "skipped": []
        }))
        .unwrap();
        let verdict = jobs_verdict(&jobs).unwrap();
        assert!(verdict.contains("**missed**"), "{verdict}");
        assert!(
            verdict.contains("39.4× less than httpx, no pool cap"),
            "{verdict}"
        );
        let table = jobs_table(&jobs).unwrap().to_markdown();
        assert!(table.contains("| httpx, no pool cap (baseline) | 5.000 s | 30.3 s | 39.4× |"));
        // 0.77 s of CPU over 21,000 requests.
        assert!(
            table.contains("| 0.770 s | 37 | 50.0 MiB | 1000 / 1000 / 19000 |"),
            "{table}"
        );
    }
}
