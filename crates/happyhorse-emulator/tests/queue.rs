//! The queue over HTTP: positions, workers, processing time, failures, cancel, expiry, cost,
//! timestamps, time scaling and shutdown.

mod common;

use std::time::Duration;

use common::{Client, seed_body};
use happyhorse_emulator::{Emulator, EmulatorBuilder, ErrorShape, ProcessingTime};
use happyhorse_types::{CancelResponse, ResultResponse, StatusResponse, SubmitResponse};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn manual(workers: usize, secs: u64) -> EmulatorBuilder {
    Emulator::builder()
        .manual_clock(true)
        .workers(workers)
        .processing_time(ProcessingTime::Fixed(Duration::from_secs(secs)))
}

#[tokio::test]
async fn jobs_queue_run_and_complete_with_documented_shapes() {
    let emulator = manual(1, 100).start().await.unwrap();
    let client = Client::new(emulator.base_url());

    let submitted: SubmitResponse =
        serde_json::from_value(client.submit(&seed_body()).await.json()).unwrap();
    let a = submitted.request_id.clone();
    assert_eq!(
        submitted.status_url.as_deref(),
        Some(format!("{}/v1/requests/{a}/status", emulator.base_url()).as_str())
    );
    assert_eq!(
        submitted.cancel_url.as_deref(),
        Some(format!("{}/v1/requests/{a}/cancel", emulator.base_url()).as_str())
    );
    let b = client.submit_ok().await;
    let c = client.submit_ok().await;

    // One worker: a runs, b and c wait with true positions; queue_position only while queued.
    let status_a = client.status(&a).await.json();
    assert_eq!(status_a["status"], "in_progress");
    assert!(status_a.get("queue_position").is_none(), "{status_a}");
    let status_b: StatusResponse = serde_json::from_value(client.status(&b).await.json()).unwrap();
    assert_eq!(
        (status_b.status.as_str(), status_b.queue_position),
        ("in_queue", Some(0))
    );
    let status_c = client.status(&c).await.json();
    assert_eq!(
        (
            status_c["status"].as_str(),
            status_c["queue_position"].as_u64()
        ),
        (Some("in_queue"), Some(1))
    );
    let result_b = client.result(&b).await.json();
    assert_eq!(result_b["status"], "in_queue");
    assert!(result_b.get("output").is_none() && result_b.get("finished_at").is_none());

    emulator.advance(Duration::from_secs(100));
    // /status says completed, /result says succeeded, with the output on the storage origin.
    assert_eq!(client.status(&a).await.json()["status"], "completed");
    let result: ResultResponse = serde_json::from_value(client.result(&a).await.json()).unwrap();
    assert_eq!(result.status.as_str(), "succeeded");
    let video = result.output.as_ref().unwrap()["video"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(video.starts_with(emulator.storage_url()), "{video}");
    assert_ne!(emulator.storage_url(), emulator.base_url());
    let created = OffsetDateTime::parse(result.created_at.as_deref().unwrap(), &Rfc3339).unwrap();
    let finished = OffsetDateTime::parse(result.finished_at.as_deref().unwrap(), &Rfc3339).unwrap();
    assert_eq!(finished - created, time::Duration::seconds(100));
    assert!(result.created_at.unwrap().ends_with('Z'));
    assert!(result.error.is_none() && result.cost.is_none());

    // b moved up and runs; c is now first in line.
    assert_eq!(client.status(&b).await.json()["status"], "in_progress");
    assert_eq!(client.status(&c).await.json()["queue_position"], 0);
    let counts = emulator.stats().jobs;
    assert_eq!(
        (counts.in_queue, counts.in_progress, counts.succeeded),
        (1, 1, 1)
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn cancel_works_only_while_queued() {
    let emulator = manual(1, 100).start().await.unwrap();
    let client = Client::new(emulator.base_url());
    let running = client.submit_ok().await;
    let queued = client.submit_ok().await;

    let reply = client.cancel(&queued).await;
    assert_eq!(reply.status, 202);
    let cancelled: CancelResponse = serde_json::from_value(reply.json()).unwrap();
    assert_eq!(cancelled.outcome.as_str(), "cancelled");
    assert_eq!(cancelled.status.unwrap().as_str(), "cancelled");
    assert_eq!(client.status(&queued).await.json()["status"], "cancelled");
    assert_eq!(client.result(&queued).await.json()["status"], "cancelled");

    let reply = client.cancel(&running).await;
    assert_eq!(reply.status, 202);
    assert_eq!(
        reply.json(),
        json!({"request_id": running, "status": "in_progress", "outcome": "not_cancellable"})
    );

    // Cancelling a finished job is a no-op.
    emulator.advance(Duration::from_secs(100));
    let reply = client.cancel(&running).await;
    assert_eq!(reply.status, 202);
    assert_eq!(reply.json()["outcome"], "not_cancellable");
    assert_eq!(reply.json()["status"], "completed");
    assert_eq!(client.result(&running).await.json()["status"], "succeeded");
    // ...and cancelling a cancelled job again still reads cancelled.
    assert_eq!(client.cancel(&queued).await.json()["outcome"], "cancelled");
    emulator.shutdown().await;
}

#[tokio::test]
async fn failed_jobs_read_completed_on_status_and_failed_on_result() {
    for (shape, is_object) in [(ErrorShape::Object, true), (ErrorShape::String, false)] {
        let emulator = manual(1, 10)
            .failure_rate(1.0)
            .error_shape(shape)
            .start()
            .await
            .unwrap();
        let client = Client::new(emulator.base_url());
        let id = client.submit_ok().await;
        emulator.advance(Duration::from_secs(10));
        assert_eq!(client.status(&id).await.json()["status"], "completed");
        let result = client.result(&id).await.json();
        assert_eq!(result["status"], "failed");
        assert!(result.get("output").is_none(), "{result}");
        assert_eq!(result["error"].is_object(), is_object, "{result}");
        if is_object {
            assert!(
                result["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("failed")
            );
        }
        assert_eq!(emulator.stats().jobs.failed, 1);
        emulator.shutdown().await;
    }
}

#[tokio::test]
async fn include_cost_bills_succeeded_jobs_per_second() {
    let emulator = manual(2, 10).start().await.unwrap();
    let client = Client::new(emulator.base_url());
    let mut body = seed_body();
    body["duration"] = json!(8);
    let reply = client.submit(&body).await;
    let id = reply.json()["request_id"].as_str().unwrap().to_owned();
    assert!(
        client
            .get(&format!("/v1/requests/{id}/result?include_cost=true"))
            .await
            .json()
            .get("cost")
            .is_none()
    );
    emulator.advance(Duration::from_secs(10));
    let with_cost = client
        .get(&format!("/v1/requests/{id}/result?include_cost=true"))
        .await
        .json();
    let price = client
        .get(&format!("/v1/models/{}", common::I2V))
        .await
        .json()["base_price_usd"]
        .as_f64()
        .unwrap();
    assert!(
        (with_cost["cost"].as_f64().unwrap() - 8.0 * price).abs() < 1e-9,
        "{with_cost}"
    );
    assert!(client.result(&id).await.json().get("cost").is_none());
    emulator.shutdown().await;
}

#[tokio::test]
async fn finished_jobs_expire_into_404001() {
    let emulator = manual(1, 10)
        .expire_after(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let client = Client::new(emulator.base_url());
    let id = client.submit_ok().await;
    emulator.advance(Duration::from_secs(10 + 59));
    assert_eq!(client.result(&id).await.status, 200);
    emulator.advance(Duration::from_secs(1));
    for reply in [
        client.status(&id).await,
        client.result(&id).await,
        client.cancel(&id).await,
    ] {
        assert_eq!(reply.status, 404);
        assert_eq!(reply.json()["error_code"], 404001);
    }
    assert_eq!(emulator.stats().jobs.expired, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn time_scale_makes_minutes_pass_in_milliseconds() {
    // A 100 s job at scale 2000 takes 50 ms of real time.
    let emulator = Emulator::builder()
        .processing_time(ProcessingTime::Fixed(Duration::from_secs(100)))
        .time_scale(2000.0)
        .start()
        .await
        .unwrap();
    let client = Client::new(emulator.base_url());
    let id = client.submit_ok().await;
    let finished = client.wait_finished(&id, 500).await;
    assert_eq!(finished["status"], "completed");
    let result = client.result(&id).await.json();
    let created = OffsetDateTime::parse(result["created_at"].as_str().unwrap(), &Rfc3339).unwrap();
    let done = OffsetDateTime::parse(result["finished_at"].as_str().unwrap(), &Rfc3339).unwrap();
    // Wall-clock timestamps: the job read as 100 s to its poller but took 50 ms of real time,
    // and the stamps say when it really happened (never in the future, as the `Date` header).
    assert!(
        done - created >= time::Duration::milliseconds(50),
        "{result}"
    );
    assert!(done - created < time::Duration::seconds(100), "{result}");
    assert!(done <= OffsetDateTime::now_utc(), "{result}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn seeded_processing_times_repeat() {
    let processing = |seed| async move {
        let emulator = Emulator::builder()
            .manual_clock(true)
            .seed(seed)
            .processing_time(ProcessingTime::Uniform {
                min: Duration::from_secs(60),
                max: Duration::from_secs(180),
            })
            .start()
            .await
            .unwrap();
        let client = Client::new(emulator.base_url());
        let mut times = Vec::new();
        for _ in 0..4 {
            let id = client.submit_ok().await;
            let job = client.get(&format!("/__emulator/jobs/{id}")).await.json();
            times.push(job["processing_seconds"].as_f64().unwrap());
        }
        emulator.shutdown().await;
        times
    };
    let first = processing(5).await;
    assert_eq!(first, processing(5).await);
    assert_ne!(first, processing(6).await);
    assert!(
        first.iter().all(|t| (60.0..=180.0).contains(t)),
        "{first:?}"
    );
}

#[tokio::test]
async fn job_log_says_when_a_remote_image_was_accepted_unchecked() {
    let emulator = manual(1, 10).start().await.unwrap();
    let client = Client::new(emulator.base_url());
    let id = client.submit_ok().await;
    let job = client.get(&format!("/__emulator/jobs/{id}")).await.json();
    let log = job["log"].to_string();
    assert!(log.contains("accepted unchecked"), "{job}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_the_listeners() {
    let emulator = manual(1, 10).start().await.unwrap();
    let (api, storage) = (emulator.addr(), emulator.storage_addr());
    let client = Client::new(emulator.base_url());
    client.submit_ok().await;
    emulator.shutdown().await;
    assert!(tokio::net::TcpStream::connect(api).await.is_err());
    assert!(tokio::net::TcpStream::connect(storage).await.is_err());
}

#[tokio::test]
async fn duplicate_submissions_are_counted_per_body() {
    let emulator = manual(4, 10).start().await.unwrap();
    let client = Client::new(emulator.base_url());
    let one = seed_body();
    let mut two = seed_body();
    two["seed"] = json!(7);
    client.submit(&one).await;
    client.submit(&two).await;
    // Same body, different key order and whitespace: still a duplicate.
    let reordered = format!(
        "{{ \"prompt\": {},\n \"image_url\": {} }}",
        one["prompt"], one["image_url"]
    );
    client.submit_raw(common::I2V, reordered.into_bytes()).await;
    let stats = emulator.stats();
    assert_eq!(stats.submissions_total, 3);
    assert_eq!(stats.duplicate_submissions, 1);
    assert_eq!(stats.submissions_of(&one), 2);
    assert_eq!(stats.submissions_of(&two), 1);
    // The HTTP endpoint serves the same snapshot.
    let served: happyhorse_emulator::StatsSnapshot =
        serde_json::from_value(client.get("/__emulator/stats").await.json()).unwrap();
    assert_eq!(served.submissions_by_body, stats.submissions_by_body);
    assert_eq!(
        served.requests_with(happyhorse_emulator::Endpoint::Submit, "200"),
        3
    );
    emulator.shutdown().await;
}
