//! The client's waits on tokio's paused clock: the driver, one-shot calls and the batch read time
//! only through the client's clock, so a minute of backoff or `Retry-After` takes no real time
//! and every assertion about time is exact — no real sleeps, nothing timing-dependent.

mod common;

use std::time::Duration;

use common::input;
use common::stranger::Stranger;
use happyhorse_http::{BatchJob, BatchOptions, Client, JobState, PollPolicy, Throttle};
use happyhorse_types::image_to_video::ImageToVideo;
use tokio::time::Instant;

fn client(stranger: &Stranger, poll: Duration) -> Client {
    Client::builder()
        .token("t")
        .base_url(&stranger.base)
        .poll_policy(PollPolicy::fixed(poll))
        .build()
        .unwrap()
}

fn ok(body: &str) -> common::stranger::Answer {
    (200, None, body.to_owned())
}

#[tokio::test(start_paused = true)]
async fn a_one_shot_call_waits_out_retry_after() {
    let stranger = Stranger::start(|_, asked| match asked {
        0 => (429, Some("30"), "slow down".to_owned()),
        _ => ok(r#"{"status":"in_queue","queue_position":"2"}"#),
    })
    .await;
    let start = Instant::now();
    let report = client(&stranger, Duration::from_secs(1))
        .status("job-1")
        .await
        .unwrap();
    assert_eq!(report.state, JobState::Queued { position: Some(2) });
    let times = stranger.times("GET /v1/requests/job-1/status");
    assert_eq!(times.len(), 2);
    assert!(
        times[1] - times[0] >= Duration::from_secs(30),
        "{:?}",
        times[1] - times[0]
    );
    assert!(start.elapsed() < Duration::from_secs(31));
}

#[tokio::test(start_paused = true)]
async fn a_followed_job_polls_on_its_schedule() {
    let stranger = Stranger::start(|route, asked| match route {
        "GET /v1/requests/job-1/result" if asked < 3 => ok(r#"{"status":"in_progress"}"#),
        "GET /v1/requests/job-1/result" => {
            ok(r#"{"status":"succeeded","output":["https://cdn.example/v.mp4"]}"#)
        }
        _ => ok(r#"{"status":"in_progress"}"#),
    })
    .await;
    let client = client(&stranger, Duration::from_secs(20));
    let start = Instant::now();
    let result = client
        .job::<ImageToVideo>("job-1")
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(result.video_url(), Some("https://cdn.example/v.mp4"));
    assert!(
        result.output.is_none(),
        "a bare URL does not fit the typed output"
    );
    let polls = stranger.times("GET /v1/requests/job-1/");
    assert!(polls.len() >= 4, "{polls:?}");
    for pair in polls.windows(2) {
        assert_eq!(pair[1] - pair[0], Duration::from_secs(20));
    }
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(20) * (polls.len() as u32 - 1)
    );
}

#[tokio::test(start_paused = true)]
async fn one_retry_after_pauses_the_whole_batch() {
    let stranger = Stranger::start(|route, asked| {
        if route.starts_with("POST /v1/models/") {
            return ok(&format!(r#"{{"request_id":"job-{asked}"}}"#));
        }
        if route.ends_with("/status") {
            // The very first poll of all is refused with a pause; later ones see the job done.
            return match route {
                "GET /v1/requests/job-0/status" if asked == 0 => {
                    (429, Some("10"), "slow down".to_owned())
                }
                _ => ok(r#"{"status":"completed"}"#),
            };
        }
        ok(r#"{"status":"succeeded","output":{"video":"https://cdn.example/v.mp4"}}"#)
    })
    .await;
    let client = client(&stranger, Duration::from_millis(500));
    let throttle = Throttle::default();
    let options = BatchOptions::default()
        .concurrency(4)
        .throttle(throttle.clone());
    let jobs = (0..4).map(|i| BatchJob::Submit(input(&format!("horse {i}"))));
    let mut batch = client.run_many::<ImageToVideo>(jobs, options);
    let mut finished = 0;
    while let Some(event) = futures::StreamExt::next(&mut batch).await {
        if let happyhorse_http::BatchEvent::Finished(item) = event {
            assert!(item.result.is_ok(), "{:?}", item.result.err());
            finished += 1;
        }
    }
    assert_eq!(finished, 4);
    assert_eq!(
        throttle.stats().pauses,
        1,
        "the 429's Retry-After paused the batch"
    );
    let refused_at = stranger.times("GET /v1/requests/job-0/status")[0];
    let later: Vec<Instant> = stranger
        .times("GET /v1/requests/")
        .into_iter()
        .filter(|at| *at > refused_at)
        .collect();
    assert!(!later.is_empty());
    for at in later {
        assert!(
            at - refused_at >= Duration::from_secs(10),
            "a poll during the pause"
        );
    }
}
