//! `happyhorse jobs`: the jobs in the ledger, the most recent first, with their state, id, age,
//! output and cost — and, for each that needs it, what to do next. A submit whose answer never
//! came is listed as `unknown`: a job may exist (and be billed) without its id being known.

use std::time::{Duration, SystemTime};

use happyhorse_ledger::{Filter, JobEntry, JobState};
use serde_json::{Value, json};

use crate::books::Books;
use crate::cli::{GlobalArgs, JobsArgs};
use crate::exit::{self, Failure};
use crate::output::{Output, Paint};

/// A `submitting` entry older than this has no process behind it any more (a submit's request
/// gives up long before): its outcome is unknown.
const SUBMIT_ABANDONED_AFTER: Duration = Duration::from_secs(10 * 60);

pub(super) fn run(global: &GlobalArgs, args: &JobsArgs, output: Output) -> anyhow::Result<u8> {
    let books = Books::open(global);
    let Some(ledger) = books.ledger() else {
        return Err(Failure::new(
            exit::CONFIG,
            "the job ledger is off or cannot be opened (see the warning above); nothing to list",
        )
        .into());
    };
    let now = SystemTime::now();
    let wanted: Vec<JobState> = args.state.iter().map(|s| s.0).collect();
    // `unknown` also means the abandoned `submitting` ones, which are told apart only here.
    let mut states = wanted.clone();
    if wanted.contains(&JobState::OutcomeUnknown) && !wanted.contains(&JobState::Submitting) {
        states.push(JobState::Submitting);
    }
    let filter = Filter {
        states,
        since: args
            .since
            .map(|ago| now.checked_sub(ago).unwrap_or(SystemTime::UNIX_EPOCH)),
        base_url: None,
        limit: (!args.all).then_some(args.limit),
    };
    let entries: Vec<JobEntry> = books
        .read(|ledger| ledger.jobs(&filter))
        .unwrap_or_default()
        .into_iter()
        .filter(|entry| wanted.is_empty() || wanted.contains(&shown_state(entry, now)))
        .collect();
    output.json_line(&json!({
        "ledger": ledger.path().display().to_string(),
        "jobs": entries.iter().map(|e| entry_json(e, now)).collect::<Vec<_>>(),
    }))?;
    if !output.json {
        output.result(&table(&entries, now, output))?;
    }
    Ok(exit::OK)
}

/// The state as listed: an abandoned `submitting` is `unknown`.
fn shown_state(entry: &JobEntry, now: SystemTime) -> JobState {
    let abandoned = now
        .duration_since(entry.updated_at)
        .is_ok_and(|age| age > SUBMIT_ABANDONED_AFTER);
    if entry.state == JobState::Submitting && abandoned {
        JobState::OutcomeUnknown
    } else {
        entry.state
    }
}

/// What to do about a job, or `None` when nothing is to be done.
fn next_step(entry: &JobEntry, now: SystemTime) -> Option<String> {
    match (shown_state(entry, now), &entry.request_id) {
        (JobState::OutcomeUnknown, _) => Some(
            "its submit may have created a job (and a bill) whose id never arrived: check the account's \
             requests before submitting this input again"
                .to_owned(),
        ),
        (JobState::Submitting, _) => Some(
            "its submit is in flight (or was cut off moments ago): if no happyhorse is running, a job may \
             exist; check the account's requests before submitting this input again"
                .to_owned(),
        ),
        (_, Some(id)) if entry.is_unfinished() => Some(format!(
            "resume with: {}",
            wait_command(&entry.base_url, id, entry.output.as_deref())
        )),
        _ => None,
    }
}

/// `happyhorse [--base-url URL] wait ID [-o PATH]`, every argument quoted for a POSIX shell so
/// the command works pasted as printed (`-o 'my videos/a.mp4'`).
fn wait_command(base_url: &str, id: &str, output: Option<&std::path::Path>) -> String {
    let output = output.map(|p| p.to_string_lossy().into_owned());
    let mut args = vec!["wait", id];
    if let Some(output) = &output {
        args.extend(["-o", output]);
    }
    format!(
        "happyhorse{} {}",
        service_flag(base_url),
        crate::service::quoted(&args)
    )
}

/// `--base-url URL` for a job at a service other than the default, so the command works as is.
fn service_flag(base_url: &str) -> String {
    let default = happyhorse_http::DEFAULT_BASE_URL.trim_end_matches('/');
    if base_url.trim_end_matches('/') == default {
        String::new()
    } else {
        format!(" --base-url {}", crate::service::quoted(&[base_url]))
    }
}

fn entry_json(entry: &JobEntry, now: SystemTime) -> Value {
    json!({
        "key": entry.key.as_str(),
        "request_id": entry.request_id,
        "state": shown_state(entry, now).as_str(),
        "origin": entry.origin,
        "model_id": entry.model,
        "base_url": entry.base_url,
        "created_at": httpdate::fmt_http_date(entry.created_at),
        "age_s": age(entry, now).as_secs(),
        "output": entry.output.as_ref().map(|p| p.display().to_string()),
        "saved": entry.saved.as_ref().map(|(p, _)| p.display().to_string()),
        "bytes": entry.saved.as_ref().map(|(_, bytes)| bytes),
        "cost_usd": entry.cost_usd,
        "error": entry.error,
        "batch": entry.batch.as_ref().map(|b| json!({"journal": b.journal, "job": b.job})),
        "next": next_step(entry, now),
    })
}

fn age(entry: &JobEntry, now: SystemTime) -> Duration {
    now.duration_since(entry.created_at).unwrap_or_default()
}

/// `45s`, `12m`, `5h`, `3d`.
fn short_age(age: Duration) -> String {
    let seconds = age.as_secs();
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m", seconds / 60),
        3600..86_400 => format!("{}h", seconds / 3600),
        _ => format!("{}d", seconds / 86_400),
    }
}

fn table(entries: &[JobEntry], now: SystemTime, output: Output) -> String {
    if entries.is_empty() {
        return "no jobs in the ledger match".to_owned();
    }
    let rows: Vec<[String; 5]> = entries
        .iter()
        .map(|entry| {
            let id = entry
                .request_id
                .clone()
                .unwrap_or_else(|| format!("(no id; ledger key {})", entry.key.short()));
            let shown_output = match (&entry.saved, &entry.output) {
                (Some((path, _)), _) => path.display().to_string(),
                (None, Some(path)) => format!("{} (not saved)", path.display()),
                (None, None) => "-".to_owned(),
            };
            let cost = entry
                .cost_usd
                .map_or_else(|| "-".to_owned(), |usd| format!("${usd:.2}"));
            [
                shown_state(entry, now).as_str().to_owned(),
                id,
                short_age(age(entry, now)),
                shown_output,
                cost,
            ]
        })
        .collect();
    let headers = ["state", "request id", "age", "output", "cost"];
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([headers[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 5]| {
        format!(
            "{:<w0$}  {:<w1$}  {:>w2$}  {:<w3$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
        )
        .trim_end()
        .to_owned()
    };
    let mut text = output.paint(&line(headers), Paint::Bold);
    for (entry, row) in entries.iter().zip(&rows) {
        text.push('\n');
        text.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
        if let Some(next) = next_step(entry, now) {
            text.push_str(&format!("\n  ↳ {}", output.paint(&next, Paint::Yellow)));
        }
    }
    text
}

/// A `--state` value: one of the ledger's states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StateArg(pub(crate) JobState);

/// Parses a `--state` value.
pub(crate) fn parse_state(text: &str) -> Result<StateArg, String> {
    JobState::parse(text.trim()).map(StateArg).ok_or_else(|| {
        let names: Vec<&str> = JobState::ALL.iter().map(|s| s.as_str()).collect();
        format!("expected one of {}, got {text:?}", names.join(", "))
    })
}

/// Parses a `--since` value with the CLI's one duration parser (`30m`, `12h`, `7d`, `2w`,
/// `1h 30m`; a bare number is seconds), up to ten years.
pub(crate) fn parse_since(text: &str) -> Result<Duration, String> {
    happyhorse_core::validate::parse_duration(text, Duration::from_secs(3650 * 86_400))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_since_read_and_print_in_the_same_units() {
        assert_eq!(short_age(Duration::from_secs(59)), "59s");
        assert_eq!(short_age(Duration::from_secs(3599)), "59m");
        assert_eq!(short_age(Duration::from_secs(7200)), "2h");
        assert_eq!(short_age(Duration::from_secs(3 * 86_400)), "3d");
        assert_eq!(parse_since("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_since("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_since("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_since("soon").is_err());
        assert!(
            parse_since("99999999999999999999w")
                .unwrap_err()
                .contains("too long")
        );
        assert_eq!(parse_state("unknown").unwrap().0, JobState::OutcomeUnknown);
        assert!(parse_state("in_queue").unwrap_err().contains("running"));
    }

    #[test]
    fn the_default_service_needs_no_flag() {
        assert_eq!(service_flag("https://model-api.runcomfy.net/"), "");
        assert_eq!(
            service_flag("http://127.0.0.1:9"),
            " --base-url http://127.0.0.1:9"
        );
    }

    #[test]
    fn the_resume_command_pastes_as_printed() {
        let output = "my videos/it's \"here\".mp4";
        let command = wait_command(
            "http://127.0.0.1:9/a b",
            "req-1",
            Some(std::path::Path::new(output)),
        );
        assert_eq!(
            shlex::split(&command).unwrap(),
            [
                "happyhorse",
                "--base-url",
                "http://127.0.0.1:9/a b",
                "wait",
                "req-1",
                "-o",
                output
            ],
            "{command}"
        );
    }
}
