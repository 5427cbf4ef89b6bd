//! `Client::run_many` against the emulator: bounded concurrency, every job reported once,
//! the shared throttle, the before-submit hook, resume, and cancelling the whole batch.

mod common;

use std::sync::{Arc, Mutex};

use common::{chain, client_for, emulator, input};
use futures::StreamExt;
use happyhorse_emulator::{Endpoint, FaultConfig, FaultKind};
use happyhorse_http::{
    Batch, BatchEvent, BatchItem, BatchJob, BatchOptions, ErrorKind, Event, NextStep,
    RunningOnCancel, Throttle,
};
use happyhorse_types::image_to_video::{ImageToVideo, ImageToVideoInput};
use serde_json::json;

fn jobs(count: usize) -> Vec<BatchJob<ImageToVideoInput>> {
    (0..count)
        .map(|i| BatchJob::Submit(input(&format!("horse number {i}"))))
        .collect()
}

/// Drains a batch: its finished items by index, and the most jobs ever alive at once.
async fn collect(mut batch: Batch<ImageToVideo>) -> (Vec<BatchItem<ImageToVideo>>, usize) {
    let (mut alive, mut most) = (0usize, 0usize);
    let mut items = Vec::new();
    while let Some(event) = batch.next().await {
        match event {
            BatchEvent::Started { .. } => {
                alive += 1;
                most = most.max(alive);
            }
            BatchEvent::Finished(item) => {
                alive = alive.saturating_sub(1);
                items.push(item);
            }
            _ => {}
        }
    }
    items.sort_by_key(|item| item.index);
    (items, most)
}

#[tokio::test]
async fn every_job_succeeds_and_no_more_than_the_concurrency_run_at_once() {
    let emulator = emulator(50).workers(16).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    let batch = client.run_many::<ImageToVideo>(jobs(12), BatchOptions::default().concurrency(3));
    let (items, most) = collect(batch).await;

    assert_eq!(
        items.iter().map(|i| i.index).collect::<Vec<_>>(),
        (0..12).collect::<Vec<_>>()
    );
    for item in &items {
        let result = item.result.as_ref().unwrap();
        assert!(result.video_url().is_some());
        assert_eq!(item.request_id.as_deref(), Some(result.request_id.as_str()));
        assert_eq!(item.next_step, NextStep::Nothing);
    }
    assert_eq!(
        most, 3,
        "admitted at most the concurrency, and used all of it"
    );
    let stats = emulator.stats();
    assert_eq!(stats.submissions_total, 12);
    assert_eq!(stats.duplicate_submissions, 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_hook_runs_before_each_submit_and_a_failing_hook_sends_nothing() {
    let emulator = emulator(20).workers(8).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook_seen = Arc::clone(&seen);
    let stats_url = format!("{}/__emulator/stats", emulator.base_url());
    let options = BatchOptions::default()
        .concurrency(1)
        .before_submit(move |index| {
            let seen = Arc::clone(&hook_seen);
            let stats_url = stats_url.clone();
            async move {
                // Ask the emulator how many submits it has had when the hook runs: with one job at
                // a time, exactly `index` (the hook comes before this job's submit).
                let stats: serde_json::Value = reqwest::get(&stats_url)
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                seen.lock()
                    .unwrap()
                    .push((index, stats["submissions_total"].as_u64().unwrap()));
                if index == 2 {
                    Err("the journal is full".to_owned())
                } else {
                    Ok(())
                }
            }
        });
    let (items, _) = collect(client.run_many::<ImageToVideo>(jobs(4), options)).await;

    assert_eq!(*seen.lock().unwrap(), vec![(0, 0), (1, 1), (2, 2), (3, 2)]);
    let refused = items[2].result.as_ref().unwrap_err();
    assert!(
        refused.to_string().contains("the journal is full"),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("nothing was sent"),
        "{refused}"
    );
    assert_eq!(items[2].next_step, NextStep::Resubmit);
    assert!(items[3].result.is_ok());
    assert_eq!(emulator.stats().submissions_total, 3);
    emulator.shutdown().await;
}

#[tokio::test]
async fn resumed_jobs_are_followed_without_a_submit() {
    let emulator = emulator(30).workers(8).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    let first = client
        .submit::<ImageToVideo>(&common::input("one"))
        .await
        .unwrap();
    let id = first.request_id().to_owned();
    drop(first);
    let jobs = vec![
        BatchJob::Resume(id.clone()),
        BatchJob::Resume("no-such-job".into()),
    ];
    let (items, _) = collect(client.run_many::<ImageToVideo>(jobs, BatchOptions::default())).await;

    assert_eq!(items[0].result.as_ref().unwrap().request_id, id);
    let unknown = items[1].result.as_ref().unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::NotFound, "{unknown}");
    assert_eq!(emulator.stats().submissions_total, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_struggling_service_spends_the_shared_quota_then_every_job_stops_retrying() {
    let faults = FaultConfig {
        rates: [(FaultKind::Http500, 1.0)].into(),
        endpoints: vec![Endpoint::Status, Endpoint::Result],
        ..FaultConfig::default()
    };
    let emulator = emulator(20)
        .workers(8)
        .faults(faults)
        .start()
        .await
        .unwrap();
    let client = client_for(&emulator).build().unwrap();
    // Two retries' worth of tokens for the whole batch.
    let throttle = Throttle::new(10).with_costs(5, 1);
    let options = BatchOptions::default()
        .concurrency(6)
        .throttle(throttle.clone());
    let (items, _) = collect(client.run_many::<ImageToVideo>(jobs(6), options)).await;

    for item in &items {
        let error = item.result.as_ref().unwrap_err();
        assert_eq!(item.next_step, NextStep::Resume, "{error}");
        assert!(item.request_id.is_some());
    }
    let quota_errors = items
        .iter()
        .filter(|i| chain(i.result.as_ref().unwrap_err()).contains("retries shared by the batch"))
        .count();
    assert!(
        quota_errors >= 4,
        "{quota_errors} of 6 stopped by the shared quota"
    );
    let stats = throttle.stats();
    assert_eq!(stats.retries_allowed, 2);
    // One poll per job plus the two paid retries: the failing service was not hammered.
    let polls = emulator.stats().faults_of(FaultKind::Http500);
    assert_eq!(polls, 6 + 2);
    emulator.shutdown().await;
}

#[tokio::test]
async fn cancelling_a_batch_cancels_queued_jobs_detaches_running_ones_and_starts_nothing() {
    // One worker and long jobs: one runs, the others wait in the service's queue.
    let emulator = emulator(60_000).workers(1).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    let options = BatchOptions::default()
        .concurrency(3)
        .on_cancel(RunningOnCancel::Detach);
    let mut batch = client.run_many::<ImageToVideo>(jobs(6), options);
    let canceller = batch.canceller();
    let (mut queued, mut running) = (0, 0);
    let mut items = Vec::new();
    while let Some(event) = batch.next().await {
        match event {
            BatchEvent::Progress {
                event: Event::Queued { .. },
                ..
            } => queued += 1,
            BatchEvent::Progress {
                event: Event::Running,
                ..
            } => running += 1,
            BatchEvent::Finished(item) => items.push(item),
            _ => {}
        }
        if running >= 1 && queued >= 2 && !canceller.is_cancelled() {
            canceller.cancel();
        }
    }
    items.sort_by_key(|i| i.index);
    assert_eq!(items.len(), 6);

    let kinds: Vec<_> = items
        .iter()
        .map(|i| i.result.as_ref().err().map(|e| e.kind()))
        .collect();
    let detached: Vec<_> = items.iter().filter(|i| i.detached).collect();
    assert_eq!(detached.len(), 1, "{kinds:?}");
    assert_eq!(detached[0].next_step, NextStep::Resume);
    assert!(detached[0].request_id.is_some());
    let cancelled_at_service = items
        .iter()
        .filter(|i| i.request_id.is_some() && !i.detached)
        .collect::<Vec<_>>();
    assert_eq!(cancelled_at_service.len(), 2, "{kinds:?}");
    for item in cancelled_at_service {
        assert_eq!(
            item.result.as_ref().unwrap_err().kind(),
            ErrorKind::Cancelled
        );
        assert_eq!(item.next_step, NextStep::Nothing);
    }
    for item in &items[3..] {
        assert_eq!(item.request_id, None);
        assert_eq!(item.next_step, NextStep::Resubmit);
        assert!(
            item.result
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("nothing was sent")
        );
    }
    assert_eq!(
        emulator.stats().submissions_total,
        3,
        "never-started jobs sent nothing"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn typed_and_raw_inputs_are_validated_before_their_submit() {
    let emulator = emulator(30).workers(8).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    // A typed input can still break a rule its type cannot hold: the prompt's length.
    let typed = vec![
        BatchJob::Submit(input("fine")),
        BatchJob::Submit(input(&"x".repeat(5001))),
    ];
    let (items, _) = collect(client.run_many::<ImageToVideo>(typed, BatchOptions::default())).await;
    assert!(items[0].result.is_ok());
    let long = items[1].result.as_ref().unwrap_err();
    assert_eq!(long.kind(), ErrorKind::InvalidInput, "{long}");
    assert!(long.to_string().contains("prompt"), "{long}");
    assert_eq!(items[1].next_step, NextStep::Resubmit);

    // Raw JSON, as a jobs file holds it: checked against the model's schema the same way.
    let raw = vec![
        BatchJob::Submit(json!({"image_url": "https://example.com/horse.webp", "prompt": "raw"})),
        BatchJob::Submit(json!({"image_url": "https://example.com/horse.webp"})),
    ];
    let (items, _) =
        collect(client.run_many_json::<ImageToVideo>(raw, BatchOptions::default())).await;
    assert!(items[0].result.is_ok());
    let missing = items[1].result.as_ref().unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::InvalidInput, "{missing}");
    assert!(missing.to_string().contains("prompt"), "{missing}");
    assert_eq!(items[1].next_step, NextStep::Resubmit);

    assert_eq!(
        emulator.stats().submissions_total,
        2,
        "only the valid inputs were sent"
    );
    emulator.shutdown().await;
}
