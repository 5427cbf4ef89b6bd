//! The cost before paying: `run`, `submit` and `batch` show the estimate from the catalogue's
//! price, `--max-cost` refuses above it (or when it cannot be made) with nothing submitted —
//! counted by a stranger that records every request — and the job's actual cost is shown after.

use serde_json::Value;

use super::common::{happyhorse, horse_png, text};
use super::jobs::Emu;
use super::stranger::Stranger;

const SUBMIT: &str = "POST /v1/models/happyhorse/happyhorse-1.0/image-to-video";
const PRICE: &str = "GET /v1/models/happyhorse/happyhorse-1.0/image-to-video";

/// A stranger pricing image-to-video its own way (a string, a capitalised unit), accepting
/// submits if any came.
fn priced() -> Stranger {
    let stranger = Stranger::start();
    stranger.on(
        PRICE,
        &[(
            200,
            r#"{"model_id":"happyhorse/happyhorse-1.0/image-to-video","base_price_usd":"0.10","price_unit":"Second"}"#,
        )],
    );
    stranger.on(SUBMIT, &[(200, r#"{"request_id":"req-1"}"#)]);
    stranger
}

#[test]
fn max_cost_refuses_run_and_submit_above_the_estimate_with_nothing_submitted() {
    let stranger = priced();
    let dir = tempfile::tempdir().unwrap();
    let image = horse_png().display().to_string();
    for command in ["run", "submit"] {
        let args = [
            command,
            "--image",
            &image,
            "--prompt",
            "The horse trots",
            "--duration",
            "10",
            "--max-cost",
            "$0.99",
        ];
        let refused = stranger.cli(dir.path(), &args);
        let stderr = text(&refused.stderr);
        assert_eq!(refused.status.code(), Some(65), "{stderr}");
        assert!(
            stderr.contains("estimated cost ≈ $1.00: 10 s × $0.10/s, catalogue base price")
                && stderr.contains("above --max-cost $0.99; nothing was submitted"),
            "{stderr}"
        );
        assert!(
            refused.stdout.is_empty(),
            "no request id: {}",
            text(&refused.stdout)
        );
    }
    assert_eq!(stranger.hits(SUBMIT), 0, "{:?}", stranger.routes());
    // The price was the only request; nothing was recorded as submitted either.
    assert!(
        stranger.routes().iter().all(|r| r == PRICE),
        "{:?}",
        stranger.routes()
    );
    let jobs = happyhorse(dir.path()).args(["jobs"]).output().unwrap();
    assert!(
        !text(&jobs.stdout).contains("req-1"),
        "{}",
        text(&jobs.stdout)
    );
}

#[test]
fn max_cost_refuses_when_the_price_is_unknown_and_bad_input_sends_nothing_at_all() {
    let stranger = Stranger::start(); // no catalogue: every GET is a 404
    stranger.on(SUBMIT, &[(200, r#"{"request_id":"req-1"}"#)]);
    let dir = tempfile::tempdir().unwrap();
    let image = horse_png().display().to_string();
    let unknown = stranger.cli(
        dir.path(),
        &[
            "run",
            "--image",
            &image,
            "--prompt",
            "The horse trots",
            "--max-cost",
            "100",
        ],
    );
    let stderr = text(&unknown.stderr);
    assert_eq!(unknown.status.code(), Some(65), "{stderr}");
    assert!(
        stderr.contains("--max-cost $100.00 cannot be checked: estimated cost unknown; cost unknown: the catalogue's price of happyhorse/happyhorse-1.0/image-to-video could not be read"),
        "{stderr}"
    );
    assert_eq!(stranger.hits(SUBMIT), 0);

    let before = stranger.routes().len();
    let invalid = stranger.cli(
        dir.path(),
        &[
            "run",
            "--image",
            &image,
            "--prompt",
            "x",
            "--duration",
            "99",
            "--max-cost",
            "100",
        ],
    );
    assert_eq!(invalid.status.code(), Some(65), "{}", text(&invalid.stderr));
    assert_eq!(
        stranger.routes().len(),
        before,
        "bad input asked the service: {:?}\n{}",
        stranger.routes(),
        text(&invalid.stderr)
    );
}

#[test]
fn max_cost_refuses_a_whole_batch_above_the_sum_before_any_submit() {
    let stranger = priced();
    let dir = tempfile::tempdir().unwrap();
    let mut lines = String::new();
    for (i, duration) in [5, 10, 15].into_iter().enumerate() {
        lines.push_str(&format!(
            "{{\"id\":\"j{i}\",\"image_url\":\"https://example.com/h.webp\",\"prompt\":\"horse {i}\",\"duration\":{duration}}}\n"
        ));
    }
    std::fs::write(dir.path().join("jobs.jsonl"), lines).unwrap();
    let args = [
        "batch",
        "jobs.jsonl",
        "--out-dir",
        "out",
        "--max-cost",
        "2.99",
    ];
    let refused = stranger.cli(dir.path(), &args);
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(65), "{stderr}");
    assert!(
        stderr.contains("estimated cost ≈ $3.00 for 3 jobs, catalogue base price for the 3 jobs to submit is above --max-cost $2.99; nothing was submitted"),
        "{stderr}"
    );
    assert_eq!(stranger.hits(SUBMIT), 0);
    assert_eq!(
        stranger.hits(PRICE),
        1,
        "one price fetch for the whole batch"
    );

    // Within budget, the same batch goes ahead (its submits are the stranger's to answer).
    let mut json_args = vec!["--json"];
    json_args.extend(&args[..args.len() - 1]);
    json_args.push("3");
    let within = stranger.cli(dir.path(), &json_args);
    let estimate: Value = text(&within.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "estimate")
        .unwrap_or_else(|| panic!("no estimate event: {}", text(&within.stdout)));
    assert_eq!(estimate["usd"], 3.0, "{estimate}");
    assert!(stranger.hits(SUBMIT) > 0, "{}", text(&within.stderr));
}

#[test]
fn run_shows_the_estimate_before_submitting_and_the_actual_cost_after() {
    let emu = Emu::fast();
    let dir = tempfile::tempdir().unwrap();
    let image = horse_png().display().to_string();
    let run = emu
        .cli(dir.path())
        .args([
            "run",
            "--image",
            &image,
            "--prompt",
            "The horse trots",
            "--duration",
            "3",
        ])
        .args(["--poll-interval", "50ms", "--output", "horse.mp4"])
        .output()
        .unwrap();
    let stderr = text(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let estimate = stderr.find("estimated cost ≈ $").expect(&stderr);
    let submitted = stderr.find("submitted: request id").expect(&stderr);
    assert!(estimate < submitted, "{stderr}");
    assert!(stderr.contains(": 3 s × $"), "{stderr}");
    assert!(stderr.contains("cost: $"), "{stderr}");
    // Recorded too: the ledger lists it.
    let jobs = emu
        .cli(dir.path())
        .args(["--json", "jobs"])
        .output()
        .unwrap();
    let listed: Value = serde_json::from_str(text(&jobs.stdout).lines().next().unwrap()).unwrap();
    let cost = &listed["jobs"][0]["cost_usd"];
    assert!(cost.as_f64().is_some_and(|c| c > 0.0), "{listed}");
}
