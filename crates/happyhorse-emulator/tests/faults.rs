//! Every fault kind does what it says, is counted, and the dice repeat for the same seed.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Client, send, send_with_timeout};
use happyhorse_emulator::{
    Emulator, Endpoint, FaultConfig, FaultKind, ProcessingTime, RunningEmulator, VIDEO_FIXTURE,
};
use happyhorse_types::{JobStatus, StatusResponse};
use http::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn emulator(faults: FaultConfig) -> RunningEmulator {
    Emulator::builder()
        .manual_clock(true)
        .processing_time(ProcessingTime::Fixed(Duration::from_secs(1)))
        .faults(faults)
        .start()
        .await
        .unwrap()
}

/// Sends a raw request and reads until the server closes: `Err` if it reset the connection.
async fn raw(addr: std::net::SocketAddr, path: &str) -> std::io::Result<Vec<u8>> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\nconnection: close\r\n\r\n",
        common::TOKEN
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(answer)
}

#[tokio::test]
async fn http_error_faults_answer_as_documented() {
    let emulator = emulator(FaultConfig {
        retry_after_secs: 7,
        ..FaultConfig::default()
    })
    .await;
    let client = Client::new(emulator.base_url());
    let id = client.submit_ok().await;
    let cases = [
        (FaultKind::Http500, 500),
        (FaultKind::Http502, 502),
        (FaultKind::Http503, 503),
        (FaultKind::RateLimited, 429),
        (FaultKind::ErrorWith200, 200),
    ];
    for (kind, status) in cases {
        emulator.inject_fault(Endpoint::Status, kind);
        let reply = client.status(&id).await;
        assert_eq!(reply.status, status, "{kind:?}");
        match kind {
            FaultKind::Http502 => assert_eq!(reply.header("content-type"), Some("text/html")),
            _ => assert!(reply.json()["error_code"].is_number(), "{kind:?}"),
        }
        if kind == FaultKind::RateLimited {
            assert_eq!(reply.header("retry-after"), Some("7"));
        }
        // The next request is normal again.
        assert_eq!(client.status(&id).await.json()["status"], "in_progress");
    }
    let stats = emulator.stats();
    for (kind, _) in cases {
        assert_eq!(stats.faults_of(kind), 1, "{kind:?}");
    }
    assert_eq!(stats.faults_total, 5);
    assert_eq!(stats.requests_with(Endpoint::Status, "429"), 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn reset_drops_the_connection_with_rst_before_any_byte() {
    let emulator = emulator(FaultConfig::default()).await;
    let client = Client::new(emulator.base_url());
    let id = client.submit_ok().await;
    emulator.inject_fault(Endpoint::Status, FaultKind::Reset);
    let error = raw(emulator.addr(), &format!("/v1/requests/{id}/status"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");
    let normal = raw(emulator.addr(), &format!("/v1/requests/{id}/status"))
        .await
        .unwrap();
    assert!(normal.starts_with(b"HTTP/1.1 200"));
    assert_eq!(emulator.stats().requests_with(Endpoint::Status, "reset"), 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn lost_submit_creates_the_job_but_the_client_never_hears_of_it() {
    let emulator = emulator(FaultConfig::default()).await;
    let client = Client::new(emulator.base_url());
    emulator.inject_fault(Endpoint::Submit, FaultKind::LostSubmit);
    let lost = client
        .try_submit_raw(common::I2V, common::seed_body().to_string().into_bytes())
        .await;
    assert!(lost.is_err(), "{lost:?}");
    let stats = emulator.stats();
    assert_eq!(stats.submissions_total, 1);
    assert_eq!(stats.jobs.in_queue + stats.jobs.in_progress, 1);
    assert_eq!(stats.faults_of(FaultKind::LostSubmit), 1);
    // A retry creates (and bills) a second job: the duplicate shows in the stats.
    client.submit_ok().await;
    assert_eq!(emulator.stats().duplicate_submissions, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn truncated_bodies_cut_json_and_video_short() {
    let emulator = emulator(FaultConfig::default()).await;
    let client = Client::new(emulator.base_url());
    let id = client.submit_ok().await;
    emulator.inject_fault(Endpoint::Result, FaultKind::TruncatedBody);
    let cut = client.try_get(&format!("/v1/requests/{id}/result")).await;
    assert!(cut.is_err(), "{cut:?}");
    // The raw bytes show a Content-Length longer than what arrived.
    emulator.inject_fault(Endpoint::Result, FaultKind::TruncatedBody);
    let raw_answer = raw(emulator.addr(), &format!("/v1/requests/{id}/result"))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&raw_answer);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("raw answer: {text:?}"));
    let declared: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("{text}"));
    assert!(body.len() < declared, "{text}");

    emulator.advance(Duration::from_secs(1));
    let result = client.result(&id).await.json();
    let video = result["output"]["video"]
        .as_str()
        .unwrap_or_else(|| panic!("{result}"))
        .to_owned();
    emulator.inject_fault(Endpoint::Storage, FaultKind::TruncatedBody);
    assert!(send(Method::GET, &video, &[], None).await.is_err());
    assert_eq!(
        send(Method::GET, &video, &[], None).await.unwrap().body,
        VIDEO_FIXTURE
    );
    assert_eq!(emulator.stats().faults_of(FaultKind::TruncatedBody), 3);
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_status_is_a_value_no_documentation_mentions() {
    let emulator = emulator(FaultConfig::default()).await;
    let client = Client::new(emulator.base_url());
    let id = client.submit_ok().await;
    emulator.inject_fault(Endpoint::Status, FaultKind::UnknownStatus);
    let reply: StatusResponse = serde_json::from_value(client.status(&id).await.json()).unwrap();
    assert!(matches!(reply.status, JobStatus::Unknown(_)), "{reply:?}");
    emulator.inject_fault(Endpoint::Result, FaultKind::UnknownStatus);
    let result = client.result(&id).await.json();
    assert!(
        !JobStatus::KNOWN.contains(&result["status"].as_str().unwrap()),
        "{result}"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn delay_holds_the_answer_past_a_client_timeout() {
    let emulator = emulator(FaultConfig {
        delay: Duration::from_secs(3600),
        ..FaultConfig::default()
    })
    .await;
    let client = Client::new(emulator.base_url());
    let id = client.submit_ok().await;
    emulator.inject_fault(Endpoint::Status, FaultKind::Delay);
    let url = format!("{}/v1/requests/{id}/status", emulator.base_url());
    let auth = format!("Bearer {}", common::TOKEN);
    let late = send_with_timeout(
        Duration::from_millis(300),
        Method::GET,
        &url,
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(late.unwrap_err(), "timed out");
    // Shutdown ends the held request instead of waiting an hour.
    emulator.shutdown().await;

    // A short delay still answers, normally.
    let emulator = emulator_with_delay(Duration::from_millis(20)).await;
    let client = Client::new(emulator.base_url());
    let id = client.submit_ok().await;
    emulator.inject_fault(Endpoint::Status, FaultKind::Delay);
    assert_eq!(client.status(&id).await.json()["status"], "in_progress");
    assert_eq!(emulator.stats().faults_of(FaultKind::Delay), 1);
    emulator.shutdown().await;
}

async fn emulator_with_delay(delay: Duration) -> RunningEmulator {
    emulator(FaultConfig {
        delay,
        ..FaultConfig::default()
    })
    .await
}

/// What a sequence of status requests saw: the HTTP status, or "transport error".
async fn outcomes(config: FaultConfig) -> (Vec<String>, Vec<(u64, FaultKind)>) {
    let emulator = emulator(config).await;
    // The configs below fault only /status, so this submit always goes through.
    let client = Client::new(emulator.base_url());
    let id = client.submit_ok().await;
    let mut seen = Vec::new();
    for _ in 0..60 {
        seen.push(
            match client.try_get(&format!("/v1/requests/{id}/status")).await {
                Ok(reply) => {
                    let body: serde_json::Value =
                        serde_json::from_slice(&reply.body).unwrap_or_default();
                    format!("{} {} {}", reply.status, body["status"], body["error_code"])
                }
                Err(_) => "transport error".to_owned(),
            },
        );
    }
    let log = emulator
        .stats()
        .fault_log
        .iter()
        .map(|record| (record.request_seq, record.kind))
        .collect();
    emulator.shutdown().await;
    (seen, log)
}

#[tokio::test]
async fn same_seed_same_faults_other_seed_other_faults() {
    let config = |seed| FaultConfig {
        rate: 0.5,
        seed,
        endpoints: vec![Endpoint::Status],
        delay: Duration::from_millis(1),
        ..FaultConfig::default()
    };
    let (first, first_log) = outcomes(config(11)).await;
    let (again, again_log) = outcomes(config(11)).await;
    assert_eq!(first, again);
    assert_eq!(first_log, again_log);
    let (other, other_log) = outcomes(config(12)).await;
    assert_ne!(first_log, other_log);
    assert_ne!(first, other);
    // About half the requests were faulted, with several kinds.
    let kinds: BTreeMap<FaultKind, usize> =
        first_log.iter().fold(BTreeMap::new(), |mut m, (_, k)| {
            *m.entry(*k).or_default() += 1;
            m
        });
    assert!((15..=45).contains(&first_log.len()), "{first_log:?}");
    assert!(kinds.len() >= 4, "{kinds:?}");
    assert!(kinds.keys().all(|k| k.applies_to(Endpoint::Status)));
}

#[tokio::test]
async fn scope_and_the_stats_endpoint_are_respected() {
    let emulator = emulator(FaultConfig {
        rate: 1.0,
        endpoints: vec![Endpoint::Cancel],
        ..FaultConfig::default()
    })
    .await;
    let client = Client::new(emulator.base_url());
    let id = client.submit_ok().await;
    for _ in 0..10 {
        assert_eq!(client.status(&id).await.status, 200);
        assert_eq!(client.get("/__emulator/stats").await.status, 200);
    }
    assert_eq!(emulator.stats().faults_total, 0);
    emulator.shutdown().await;

    // At rate 1 every faultable request to a scoped endpoint is faulted, the stats endpoint never.
    let emulator = emulator_all_faults().await;
    let client = Client::new(emulator.base_url());
    for _ in 0..10 {
        assert_eq!(client.get("/__emulator/stats").await.status, 200);
    }
    assert_eq!(emulator.stats().faults_total, 0);
    emulator.shutdown().await;
}

async fn emulator_all_faults() -> RunningEmulator {
    emulator(FaultConfig {
        rate: 1.0,
        delay: Duration::from_millis(1),
        ..FaultConfig::default()
    })
    .await
}
