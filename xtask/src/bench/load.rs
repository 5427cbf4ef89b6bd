//! Emulator load: `GET /v1/requests/{id}/status` on the emulator against a minimal hyper server
//! returning the same bytes (the ceiling, the baseline), measured by the hyper load generator of
//! `crates/happyhorse-emulator/examples/load.rs` and cross-checked with `wrk` when it is there.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;

use super::env::shell_quote;
use super::table::{Table, ms, percent, thousands};
use super::tools::Tool;
use super::{Ctx, Section};

pub(crate) const TITLE: &str = "Emulator load (happyhorse-emulator)";

const PROSE: &str = "\
`GET /v1/requests/{id}/status` on loopback against a minimal hyper server returning the same bytes \
(the baseline: the ceiling on this machine), measured in alternating rounds by a keep-alive load \
generator written on hyper; server and generator one tokio worker thread each.
Both servers share one process and take turns, so a busy neighbour hits whichever runs at that \
moment: the swings between rounds are the machine's, and the ratio is the figure to compare.";

/// The targets of issue 3: rate, share of the ceiling, tail latency.
const MIN_RATE: f64 = 50_000.0;
const MIN_SHARE: f64 = 0.5;
const MAX_P99_MS: f64 = 5.0;

#[derive(Debug, Deserialize)]
struct Report {
    rounds: Vec<Round>,
}

#[derive(Debug, Deserialize)]
struct Round {
    ceiling: Measured,
    emulator: Measured,
}

/// One target's figures in one round (the shape `load --json` prints).
#[derive(Clone, Debug, Deserialize, PartialEq)]
struct Measured {
    requests: u64,
    errors: u64,
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<Section> {
    let mut section = Section::new(TITLE);
    section.command(
        ctx.ws
            .build(&["-p", "happyhorse-emulator", "--example", "load"])?,
    );
    let program = ctx.ws.release("examples/load");
    let (seconds, rounds) = (ctx.pick("5", "2"), ctx.pick("5", "3"));
    let args: Vec<String> = [
        "--connections",
        "32",
        "--seconds",
        seconds,
        "--rounds",
        rounds,
        "--json",
    ]
    .map(String::from)
    .to_vec();
    section.command(ctx.ws.command_line(&program, &args));
    let report: Report =
        serde_json::from_value(ctx.ws.run_json(&program, &args)?).context("reading load's JSON")?;
    section.text(PROSE);
    let pairs: Vec<(Measured, Measured)> = report
        .rounds
        .into_iter()
        .map(|r| (r.ceiling, r.emulator))
        .collect();
    section.text(format!(
        "32 keep-alive connections, {seconds} s per target and round after 0.5 s of warm-up:"
    ));
    section.table(&rounds_table(&pairs));
    section.text(verdict(&pairs));

    // The cross-check: the same two servers, measured by wrk instead.
    let wrk_seconds = ctx.pick(5, 2);
    let wrk_rounds = ctx.pick(3, 1);
    match ctx.tools.require(Tool::Wrk) {
        Err(skipped) => section.text(format!("Cross-check with `wrk`: **{skipped}**.")),
        Ok(version) => {
            let pin = ctx.tools.require(Tool::Taskset).is_ok() && cores() >= 2;
            let (server, wrk) = wrk_commands(&program, pin, wrk_seconds);
            section.command(format!(
                "{}{} --serve &",
                if pin { "taskset -c 0 " } else { "" },
                ctx.ws.show(&program)
            ));
            let shown: Vec<String> = wrk.iter().map(|a| shell_quote(a)).collect();
            section.command(shown.join(" ") + " http://CEILING_OR_EMULATOR/v1/requests/ID/status");
            let pairs = cross_check(&server, &wrk, wrk_rounds)?;
            section.text(format!(
                "Cross-check with {version} from Debian's packages{}: `load --serve` runs both \
                 servers, `wrk -t1 -c32 -d{wrk_seconds}s --latency` measures each in turn:",
                if pin {
                    " (servers pinned to core 0, wrk to core 1)"
                } else {
                    " (not pinned: taskset or a second core is missing)"
                }
            ));
            section.table(&rounds_table(&pairs));
        }
    }
    Ok(section)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

type Argv = (std::path::PathBuf, Vec<String>);

/// The server (`load --serve`) and the wrk command line before its URL, pinned when asked.
fn wrk_commands(load: &Path, pin: bool, seconds: u32) -> (Argv, Vec<String>) {
    let wrk: Vec<String> = [
        "wrk",
        "-t1",
        "-c32",
        &format!("-d{seconds}s"),
        "--latency",
        "-H",
        "authorization: Bearer load-test-token",
    ]
    .map(String::from)
    .to_vec();
    if pin {
        let server = (
            "taskset".into(),
            ["-c", "0", &load.display().to_string(), "--serve"]
                .map(String::from)
                .to_vec(),
        );
        let wrk = ["taskset", "-c", "1"]
            .map(String::from)
            .into_iter()
            .chain(wrk)
            .collect();
        (server, wrk)
    } else {
        ((load.to_path_buf(), vec!["--serve".into()]), wrk)
    }
}

/// A `load --serve` process, killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cross_check(server: &Argv, wrk: &[String], rounds: u32) -> Result<Vec<(Measured, Measured)>> {
    eprintln!("bench: {} {}", server.0.display(), server.1.join(" "));
    let mut child = Server(
        Command::new(&server.0)
            .args(&server.1)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting load --serve")?,
    );
    let stdout = child.0.stdout.take().context("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let targets: serde_json::Value =
        serde_json::from_str(&line).with_context(|| format!("load --serve said {line:?}"))?;
    let url = |name: &str| -> Result<String> {
        Ok(format!(
            "http://{}{}",
            targets[name].as_str().context("no address")?,
            targets["path"].as_str().context("no path")?
        ))
    };
    let (ceiling_url, emulator_url) = (url("ceiling")?, url("emulator")?);
    let mut pairs = Vec::new();
    for round in 0..rounds {
        let measure = |url: &str| -> Result<Measured> {
            let args: Vec<String> = wrk[1..].iter().cloned().chain([url.to_owned()]).collect();
            let shown: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
            eprintln!("bench: {} {}", wrk[0], shown.join(" "));
            let output = Command::new(&wrk[0])
                .args(&args)
                .stdin(Stdio::null())
                .output()
                .with_context(|| format!("running {}", wrk[0]))?;
            let text = String::from_utf8_lossy(&output.stdout);
            ensure!(output.status.success(), "wrk failed: {text}");
            parse_wrk(&text)
        };
        // Alternate who goes first.
        let (ceiling, emulator) = if round % 2 == 0 {
            let c = measure(&ceiling_url)?;
            (c, measure(&emulator_url)?)
        } else {
            let e = measure(&emulator_url)?;
            (measure(&ceiling_url)?, e)
        };
        pairs.push((ceiling, emulator));
    }
    drop(child.0.stdin.take()); // closing stdin ends `load --serve`
    let _ = child.0.wait();
    Ok(pairs)
}

/// The figures of `wrk --latency`'s report.
fn parse_wrk(text: &str) -> Result<Measured> {
    let mut measured = Measured {
        requests: 0,
        errors: 0,
        requests_per_s: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
    };
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", value] => measured.p50_ms = wrk_ms(value)?,
            ["99%", value] => measured.p99_ms = wrk_ms(value)?,
            ["Requests/sec:", value] => measured.requests_per_s = value.parse()?,
            [count, "requests", "in", ..] => measured.requests = count.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => {
                measured.errors += count.parse::<u64>()?;
            }
            ["Socket", "errors:", rest @ ..] => {
                for count in rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                {
                    measured.errors += count;
                }
            }
            _ => {}
        }
    }
    if measured.requests_per_s.is_nan() || measured.p99_ms.is_nan() || measured.p50_ms.is_nan() {
        bail!("unexpected wrk output (was --latency given?): {text}");
    }
    Ok(measured)
}

/// `278.00us` / `3.71ms` / `1.02s` → milliseconds.
fn wrk_ms(value: &str) -> Result<f64> {
    let (number, scale) = if let Some(n) = value.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = value.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = value.strip_suffix('s') {
        (n, 1000.0)
    } else {
        bail!("a wrk latency without a unit: {value:?}")
    };
    Ok(number.parse::<f64>()? * scale)
}

fn rounds_table(pairs: &[(Measured, Measured)]) -> Table {
    let mut table = Table::new(&[
        "round",
        "ceiling req/s (baseline)",
        "ceiling p99",
        "emulator req/s",
        "emulator p50",
        "emulator p99",
        "emulator / ceiling",
    ]);
    for (round, (ceiling, emulator)) in pairs.iter().enumerate() {
        table.row([
            (round + 1).to_string(),
            thousands(ceiling.requests_per_s),
            ms(ceiling.p99_ms),
            thousands(emulator.requests_per_s),
            ms(emulator.p50_ms),
            ms(emulator.p99_ms),
            percent(emulator.requests_per_s, ceiling.requests_per_s),
        ]);
    }
    table
}

fn verdict(pairs: &[(Measured, Measured)]) -> String {
    let met = pairs
        .iter()
        .filter(|(c, e)| {
            e.requests_per_s >= MIN_RATE
                && e.requests_per_s >= MIN_SHARE * c.requests_per_s
                && e.p99_ms < MAX_P99_MS
        })
        .count();
    let ratios: Vec<f64> = pairs
        .iter()
        .map(|(c, e)| e.requests_per_s / c.requests_per_s)
        .collect();
    let errors: u64 = pairs.iter().map(|(_, e)| e.errors).sum();
    let requests: u64 = pairs.iter().map(|(_, e)| e.requests).sum();
    let when = match met {
        m if m == pairs.len() => "met in every round".to_owned(),
        0 => "**missed in every round**".to_owned(),
        m => format!("**met in {m} of {} rounds**", pairs.len()),
    };
    format!(
        "Targets (≥ {} requests/s, ≥ {:.0} % of the ceiling, p99 < {MAX_P99_MS:.0} ms): {when}; \
         median ratio {:.0} %; {} errors in {} requests to the emulator.",
        thousands(MIN_RATE),
        100.0 * MIN_SHARE,
        100.0 * super::table::median(&ratios),
        thousands(errors as f64),
        thousands(requests as f64),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK: &str = "\
Running 5s test @ http://127.0.0.1:4000/v1/requests/abc/status
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   310.12us  400.00us   8.00ms   95.00%
    Req/Sec   110.00k     5.00k  120.00k    80.00%
  Latency Distribution
     50%  278.00us
     75%  350.00us
     90%  500.00us
     99%    3.71ms
  551380 requests in 5.00s, 120.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec: 110276.00
Transfer/sec:     24.00MB
";

    #[test]
    fn parses_wrk_latency_report() {
        let m = parse_wrk(WRK).unwrap();
        assert_eq!(m.requests, 551_380);
        assert_eq!(m.errors, 7);
        assert!((m.requests_per_s - 110_276.0).abs() < 1e-9);
        assert!((m.p50_ms - 0.278).abs() < 1e-9);
        assert!((m.p99_ms - 3.71).abs() < 1e-9);
        assert!(parse_wrk("Requests/sec: 5\n").is_err());
        assert!(wrk_ms("12").is_err());
        assert!((wrk_ms("1.5s").unwrap() - 1500.0).abs() < 1e-9);
    }

    fn m(rate: f64, p99: f64) -> Measured {
        Measured {
            requests: 100,
            errors: 0,
            requests_per_s: rate,
            p50_ms: p99 / 2.0,
            p99_ms: p99,
        }
    }

    #[test]
    fn judges_each_round_against_its_own_ceiling() {
        let all = [
            (m(120_000.0, 0.5), m(100_000.0, 0.6)),
            (m(100_000.0, 0.5), m(60_000.0, 0.7)),
        ];
        assert!(verdict(&all).contains("met in every round; median ratio 72 %"));
        // Fast enough in absolute terms but under half its ceiling: missed.
        let one = [
            (m(120_000.0, 0.5), m(100_000.0, 0.6)),
            (m(140_000.0, 0.5), m(60_000.0, 0.7)),
        ];
        assert!(
            verdict(&one).contains("**met in 1 of 2 rounds**"),
            "{}",
            verdict(&one)
        );
        let table = rounds_table(&one).to_markdown();
        assert!(table.contains("| 2 | 140,000 | 0.500 ms | 60,000 | 0.350 ms | 0.700 ms | 43 % |"));
    }
}
