//! Conformance: the model page's five `curl` examples (the seed pages, copied verbatim into
//! `tests/fixtures/`), replayed with only the base URL (and the placeholders) changed, answer
//! with the documented status codes and shapes.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Reply, TOKEN, send};
use happyhorse_emulator::{Emulator, ProcessingTime, RunningEmulator, VIDEO_FIXTURE};
use happyhorse_types::{CancelResponse, ResultResponse, StatusResponse, SubmitResponse};
use http::Method;
use serde_json::Value;

const SERVICE: &str = "https://model-api.runcomfy.net";
const SEEDS: [&str; 2] = [
    include_str!("fixtures/seed-000_03dca370f707dfa1.txt"),
    include_str!("fixtures/seed-001_79aeaa0e591d1f13.txt"),
];

/// One `curl` command of the page.
#[derive(Debug, Clone)]
struct Curl {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    data: Option<String>,
}

/// Splits a command into words the way a POSIX shell would for what the page uses: single and
/// double quotes, and backslash-newline continuations; an unquoted newline ends the command.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'\n') => {
                chars.next();
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\n' => break,
            c if c.is_whitespace() => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    w.push(c);
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        c => w.push(c),
                    }
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

fn curl_commands(page: &str) -> Vec<Curl> {
    page.match_indices("curl ")
        .filter(|(at, _)| *at == 0 || page.as_bytes()[at - 1] == b'\n')
        .map(|(at, _)| {
            let words = shell_words(&page[at..]);
            let mut curl = Curl {
                method: "GET".into(),
                url: String::new(),
                headers: Vec::new(),
                data: None,
            };
            let mut words = words.into_iter().skip(1);
            while let Some(flag) = words.next() {
                let value = words
                    .next()
                    .unwrap_or_else(|| panic!("{flag} without a value"));
                match flag.as_str() {
                    "--request" | "-X" => curl.method = value,
                    "--url" => curl.url = value,
                    "--header" | "-H" => {
                        let (name, value) = value.split_once(':').unwrap();
                        curl.headers
                            .push((name.trim().to_owned(), value.trim().to_owned()));
                    }
                    "--data" | "-d" => curl.data = Some(value),
                    other => panic!("unexpected curl flag {other}"),
                }
            }
            curl
        })
        .collect()
}

/// Runs a command against the emulator: the service's base URL becomes the emulator's, `<token>`
/// becomes a test token and `{request_id}` the given id. Nothing else changes.
async fn replay(curl: &Curl, emulator: &RunningEmulator, request_id: Option<&str>) -> Reply {
    let mut url = curl.url.replacen(SERVICE, emulator.base_url(), 1);
    assert!(url.starts_with(emulator.base_url()), "{}", curl.url);
    if let Some(id) = request_id {
        url = url.replace("{request_id}", id);
    }
    let headers: Vec<(String, String)> = curl
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), value.replace("<token>", TOKEN)))
        .collect();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let method = Method::from_bytes(curl.method.as_bytes()).unwrap();
    send(
        method,
        &url,
        &headers,
        curl.data.clone().map(String::into_bytes),
    )
    .await
    .unwrap()
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

fn set<'a>(items: &[&'a str]) -> BTreeSet<&'a str> {
    items.iter().copied().collect()
}

#[test]
fn the_pages_have_the_five_documented_examples() {
    for page in SEEDS {
        let commands = curl_commands(page);
        let shapes: Vec<(&str, &str)> = commands
            .iter()
            .map(|c| (c.method.as_str(), c.url.trim_start_matches(SERVICE)))
            .collect();
        assert_eq!(
            shapes,
            [
                (
                    "POST",
                    "/v1/models/happyhorse/happyhorse-1.0/image-to-video"
                ),
                (
                    "POST",
                    "/v1/models/happyhorse/happyhorse-1.0/image-to-video"
                ),
                ("GET", "/v1/requests/{request_id}/status"),
                ("GET", "/v1/requests/{request_id}/result"),
                ("POST", "/v1/requests/{request_id}/cancel"),
            ]
        );
        let body: Value = serde_json::from_str(commands[0].data.as_deref().unwrap()).unwrap();
        assert_eq!(body, common::seed_body());
        assert!(commands.iter().all(|c| {
            c.headers
                .contains(&("Authorization".into(), "Bearer <token>".into()))
        }));
    }
}

#[tokio::test]
async fn the_seed_examples_replay_against_the_emulator() {
    for page in SEEDS {
        replay_page(page).await;
    }
}

async fn replay_page(page: &str) {
    let commands = curl_commands(page);
    let (submit_intro, submit, status, result, cancel) = (
        &commands[0],
        &commands[1],
        &commands[2],
        &commands[3],
        &commands[4],
    );
    let emulator = Emulator::builder()
        .manual_clock(true)
        .workers(1)
        .processing_time(ProcessingTime::Fixed(Duration::from_secs(104)))
        .start()
        .await
        .unwrap();
    let base = emulator.base_url().to_owned();

    // Submit (twice: the intro and the reference show the same request).
    let first = replay(submit_intro, &emulator, None).await;
    assert_eq!(first.status, 200);
    assert_eq!(
        keys(&first.json()),
        set(&["request_id", "status_url", "result_url", "cancel_url"])
    );
    let first: SubmitResponse = serde_json::from_value(first.json()).unwrap();
    let a = first.request_id;
    assert!(
        a.len() <= 128
            && a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(
        first.status_url.unwrap(),
        format!("{base}/v1/requests/{a}/status")
    );
    assert_eq!(
        first.result_url.unwrap(),
        format!("{base}/v1/requests/{a}/result")
    );
    assert_eq!(
        first.cancel_url.unwrap(),
        format!("{base}/v1/requests/{a}/cancel")
    );
    let second = replay(submit, &emulator, None).await;
    assert_eq!(second.status, 200);
    let b = second.json()["request_id"].as_str().unwrap().to_owned();
    assert_ne!(a, b, "no idempotency: the same body makes a second job");
    assert_eq!(emulator.stats().duplicate_submissions, 1);

    // Status: one worker, so a runs and b waits first in line.
    let running = replay(status, &emulator, Some(&a)).await;
    assert_eq!(running.status, 200);
    assert_eq!(
        keys(&running.json()),
        set(&["request_id", "status", "status_url", "result_url"])
    );
    let queued = replay(status, &emulator, Some(&b)).await.json();
    assert_eq!(
        keys(&queued),
        set(&[
            "request_id",
            "status",
            "queue_position",
            "status_url",
            "result_url"
        ])
    );
    let queued: StatusResponse = serde_json::from_value(queued).unwrap();
    assert_eq!(
        (queued.status.as_str(), queued.queue_position),
        ("in_queue", Some(0))
    );
    assert_eq!(
        queued.result_url.unwrap(),
        format!("{base}/v1/requests/{b}/result")
    );

    // Result of an unfinished job: 200 with the current state, nothing else yet.
    let pending = replay(result, &emulator, Some(&a)).await;
    assert_eq!(pending.status, 200);
    assert_eq!(
        keys(&pending.json()),
        set(&["request_id", "status", "created_at"])
    );
    assert_eq!(pending.json()["status"], "in_progress");

    // Cancel: 202 both times; only the queued job is cancelled.
    let cancelled = replay(cancel, &emulator, Some(&b)).await;
    assert_eq!(cancelled.status, 202);
    let cancelled: CancelResponse = serde_json::from_value(cancelled.json()).unwrap();
    assert_eq!(cancelled.outcome.as_str(), "cancelled");
    let refused = replay(cancel, &emulator, Some(&a)).await;
    assert_eq!(refused.status, 202);
    assert_eq!(
        keys(&refused.json()),
        set(&["request_id", "status", "outcome"])
    );
    assert_eq!(refused.json()["outcome"], "not_cancellable");
    assert_eq!(refused.json()["status"], "in_progress");

    // A logged run took ~104 s; afterwards /status says completed and /result succeeded.
    emulator.advance(Duration::from_secs(104));
    assert_eq!(
        replay(status, &emulator, Some(&a)).await.json()["status"],
        "completed"
    );
    let done = replay(result, &emulator, Some(&a)).await;
    assert_eq!(done.status, 200);
    // The logged answer's keys, plus the emulator's own label (docs/emulator.md, "The label").
    assert_eq!(
        keys(&done.json()),
        set(&[
            "request_id",
            "status",
            "output",
            "created_at",
            "finished_at",
            "emulator"
        ])
    );
    assert_eq!(done.json()["emulator"]["preview"], false);
    let done: ResultResponse = serde_json::from_value(done.json()).unwrap();
    assert_eq!(done.status.as_str(), "succeeded");
    let video = done.output.unwrap()["video"].as_str().unwrap().to_owned();
    assert!(
        video.starts_with(emulator.storage_url()) && video.ends_with(".mp4"),
        "{video}"
    );
    let download = send(Method::GET, &video, &[], None).await.unwrap();
    assert_eq!(download.status, 200);
    assert_eq!(download.body, VIDEO_FIXTURE);
    assert_eq!(
        replay(result, &emulator, Some(&b)).await.json()["status"],
        "cancelled"
    );
    emulator.shutdown().await;
}
