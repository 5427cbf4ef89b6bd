//! Polling policies: happyhorse-core's default against fixed intervals, RunComfy's CLI's 2 s the
//! baseline (`crates/happyhorse-core/examples/poll_sim.rs`).

use anyhow::{Context, Result};
use serde::Deserialize;

use super::table::{Table, ratio, secs2};
use super::{Ctx, Section};

pub(crate) const TITLE: &str = "Polling policies (happyhorse-core)";

const BASELINE: &str = "fixed 2 s";

#[derive(Debug, Deserialize)]
struct Report {
    jobs: u64,
    seed: u64,
    policies: Vec<Row>,
    sensitivity: Vec<Sensitivity>,
}

#[derive(Debug, Deserialize)]
struct Sensitivity {
    running_time: String,
    jobs: u64,
    seed: u64,
    rows: Vec<Row>,
}

#[derive(Debug, Deserialize)]
struct Row {
    policy: String,
    requests_mean: f64,
    requests_p90: f64,
    lag_p50_s: f64,
    lag_p90_s: f64,
    lag_p99_s: f64,
}

const WORKLOAD: &str = "\
The real `Job` state machine runs against a simulated service on a manual clock, so these figures \
depend only on the seed, not on the machine.
Workload: queue wait U(0, 60 s), the service starting one queued job every U(5, 15 s) so \
`queue_position` = ⌈(W − t)/slot⌉; running time log-normal, median 100 s, σ 0.4 (HappyHorse takes \
1–5 minutes); instant answers.
Requests include the submit. Lag = time from the job finishing to the client knowing.
All policies use the same endpoints (`/status` while queued, `/result` while running), so the \
comparison isolates timing; a `/status`-only loop like RunComfy's CLI needs one more request per job.
The baseline is a fixed 2 s interval, what RunComfy's CLI does.";

const ADVICE: &str = "\
The default suits HappyHorse-like run times; for fast or highly variable models use \
`PollPolicy::fixed` or `.with_quiet_period(Duration::ZERO)`.";

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<Section> {
    let mut section = Section::new(TITLE);
    section.command(
        ctx.ws
            .build(&["-p", "happyhorse-core", "--example", "poll_sim"])?,
    );
    // The simulation takes seconds and is deterministic: quick runs it in full too.
    let program = ctx.ws.release("examples/poll_sim");
    let args: Vec<String> = ["--jobs", "20000", "--seed", "1", "--json"]
        .map(String::from)
        .to_vec();
    section.command(ctx.ws.command_line(&program, &args));
    let report: Report = serde_json::from_value(ctx.ws.run_json(&program, &args)?)
        .context("reading poll_sim's JSON")?;
    render(&mut section, &report)?;
    Ok(section)
}

fn render(section: &mut Section, report: &Report) -> Result<()> {
    section.text(WORKLOAD);
    section.text(format!(
        "{} jobs, seed {}:",
        super::table::thousands(report.jobs as f64),
        report.seed
    ));
    let baseline = find(&report.policies, BASELINE)?;
    let mut table = Table::new(&[
        "policy",
        "requests/job (mean)",
        "requests p90",
        "requests vs fixed 2 s",
        "lag p50",
        "lag p90",
        "lag p99",
    ]);
    for row in &report.policies {
        let name = if row.policy == BASELINE {
            "fixed 2 s (RunComfy's CLI; baseline)".to_owned()
        } else {
            row.policy.clone()
        };
        table.row([
            name,
            format!("{:.1}", row.requests_mean),
            format!("{:.0}", row.requests_p90),
            ratio(row.requests_mean, baseline.requests_mean),
            secs2(row.lag_p50_s),
            secs2(row.lag_p90_s),
            secs2(row.lag_p99_s),
        ]);
    }
    section.table(&table);

    let default = find(&report.policies, "default")?;
    let share = default.requests_mean / baseline.requests_mean;
    let met = share <= 0.5 && default.lag_p90_s <= baseline.lag_p90_s;
    section.text(format!(
        "Target: at most half the requests of fixed 2 s with no worse p90 lag — **{}**: {:.1} % of \
         the requests, p90 lag {} against {}.\n\
         The price is a long p99 ({} against {}): jobs that finish within their first running \
         minute are seen late.",
        if met { "met" } else { "missed" },
        100.0 * share,
        secs2(default.lag_p90_s),
        secs2(baseline.lag_p90_s),
        secs2(default.lag_p99_s),
        secs2(baseline.lag_p99_s),
    ));

    if let Some(first) = report.sensitivity.first() {
        section.text(format!(
            "Sensitivity ({} jobs each, seed {}; the same queue model, the running-time \
             distribution varied):",
            super::table::thousands(first.jobs as f64),
            first.seed
        ));
        let mut table = Table::new(&[
            "running time",
            "requests/job default",
            "requests/job fixed 2 s",
            "ratio",
            "lag p50 default / fixed 2 s",
            "lag p90 default / fixed 2 s",
            "lag p99 default / fixed 2 s",
        ]);
        for case in &report.sensitivity {
            let (ours, base) = (find(&case.rows, "default")?, find(&case.rows, BASELINE)?);
            let pair = |a: f64, b: f64| format!("{} / {}", secs2(a), secs2(b));
            table.row([
                case.running_time.replace("sigma", "σ"),
                format!("{:.1}", ours.requests_mean),
                format!("{:.1}", base.requests_mean),
                ratio(ours.requests_mean, base.requests_mean),
                pair(ours.lag_p50_s, base.lag_p50_s),
                pair(ours.lag_p90_s, base.lag_p90_s),
                pair(ours.lag_p99_s, base.lag_p99_s),
            ]);
        }
        section.table(&table);
        section.text(ADVICE);
    }
    Ok(())
}

fn find<'a>(rows: &'a [Row], policy: &str) -> Result<&'a Row> {
    rows.iter()
        .find(|r| r.policy == policy)
        .with_context(|| format!("poll_sim reported no {policy:?} policy"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_ratio_and_the_verdict_from_poll_sim_json() {
        let json = serde_json::json!({
            "jobs": 20000, "seed": 1,
            "policies": [
                {"policy": "default", "requests_mean": 34.9, "requests_p90": 67.0,
                 "lag_p50_s": 0.98, "lag_p90_s": 1.77, "lag_p99_s": 19.48},
                {"policy": "fixed 2 s", "requests_mean": 70.7, "requests_p90": 102.0,
                 "lag_p50_s": 1.01, "lag_p90_s": 1.80, "lag_p99_s": 1.98}
            ],
            "sensitivity": [{"running_time": "median 60 s, sigma 0.4", "median_s": 60.0,
                "sigma": 0.4, "jobs": 5000, "seed": 2, "rows": [
                {"policy": "default", "requests_mean": 14.0, "requests_p90": 20.0,
                 "lag_p50_s": 1.62, "lag_p90_s": 22.57, "lag_p99_s": 33.63},
                {"policy": "fixed 2 s", "requests_mean": 49.0, "requests_p90": 60.0,
                 "lag_p50_s": 0.99, "lag_p90_s": 1.80, "lag_p99_s": 1.98}]}]
        });
        let report: Report = serde_json::from_value(json).unwrap();
        let mut section = Section::new(TITLE);
        render(&mut section, &report).unwrap();
        let text = section.to_markdown();
        assert!(
            text.contains("| default | 34.9 | 67 | 0.49× | 0.98 s | 1.77 s | 19.48 s |"),
            "{text}"
        );
        assert!(text.contains("| fixed 2 s (RunComfy's CLI; baseline) | 70.7 | 102 | 1.00× |"));
        assert!(text.contains("**met**: 49.4 % of the requests"));
        assert!(text.contains("| median 60 s, σ 0.4 | 14.0 | 49.0 | 0.29× | 1.62 s / 0.99 s |"));
    }

    #[test]
    fn a_missing_baseline_is_an_error_not_a_blank() {
        let report: Report = serde_json::from_value(serde_json::json!({
            "jobs": 1, "seed": 1, "sensitivity": [],
            "policies": [{"policy": "default", "requests_mean": 1.0, "requests_p90": 1.0,
                "lag_p50_s": 1.0, "lag_p90_s": 1.0, "lag_p99_s": 1.0}]
        }))
        .unwrap();
        let err = render(&mut Section::new(TITLE), &report).unwrap_err();
        assert!(err.to_string().contains("fixed 2 s"), "{err}");
    }
}
