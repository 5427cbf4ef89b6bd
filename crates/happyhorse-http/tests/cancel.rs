//! Cancelling while waiting: a `JobCanceller` taken before `wait` consumes the handle, used
//! from another task — queued (cancelled), running (too late; the wait goes on to the result),
//! after every handle is gone (a one-shot cancel by id) and after the end (no request at all).
//! Against a manual-clock emulator: jobs move only when the test advances time.

mod common;

use std::time::Duration;

use common::input;
use happyhorse_emulator::{Emulator, Endpoint, RunningEmulator};
use happyhorse_http::prelude::*;
use happyhorse_types::image_to_video::ImageToVideo;

/// Every job runs until the test advances the emulator's clock past 180 simulated seconds.
async fn frozen_emulator(workers: usize) -> (RunningEmulator, Client) {
    let emulator = Emulator::builder()
        .manual_clock(true)
        .workers(workers)
        .start()
        .await
        .unwrap();
    let client = Client::for_emulator(&emulator).unwrap();
    (emulator, client)
}

/// Reads `events` until one matches.
async fn until(events: &mut EventStream, wanted: impl Fn(&Event) -> bool) {
    while let Some(event) = events.next().await {
        if wanted(&event) {
            return;
        }
    }
    panic!("the events ended before the one awaited");
}

#[tokio::test]
async fn a_queued_job_is_cancelled_while_another_task_waits_for_it() {
    let (emulator, client) = frozen_emulator(1).await;
    let mut first = client
        .submit::<ImageToVideo>(&input("first"))
        .await
        .unwrap();
    until(&mut first.events(), |e| *e == Event::Running).await;
    let mut queued = client
        .submit::<ImageToVideo>(&input("second"))
        .await
        .unwrap();
    until(&mut queued.events(), |e| matches!(e, Event::Queued { .. })).await;

    let canceller = queued.canceller();
    assert_eq!(canceller.request_id(), queued.request_id());
    let waiting = tokio::spawn(queued.wait());
    assert_eq!(canceller.cancel().await.unwrap(), CancelResult::Cancelled);
    let err = waiting.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    // Asking again gives the same verdict, without another request.
    let cancels = emulator.stats().requests_to(Endpoint::Cancel);
    assert_eq!(canceller.cancel().await.unwrap(), CancelResult::Cancelled);
    assert_eq!(emulator.stats().requests_to(Endpoint::Cancel), cancels);
    assert_eq!(emulator.stats().jobs.cancelled, 1);
    drop(first);
    emulator.shutdown().await;
}

#[tokio::test]
async fn too_late_a_cancel_lets_the_wait_go_on_to_the_result() {
    let (emulator, client) = frozen_emulator(1).await;
    let mut job = client
        .submit::<ImageToVideo>(&input("running"))
        .await
        .unwrap();
    until(&mut job.events(), |e| *e == Event::Running).await;
    let canceller = job.canceller();
    let waiting = tokio::spawn(job.wait());

    assert_eq!(canceller.cancel().await.unwrap(), CancelResult::TooLate);
    assert!(!waiting.is_finished());
    assert!(emulator.advance(Duration::from_secs(200)));
    let result = waiting.await.unwrap().unwrap();
    assert!(result.video_url().is_some());
    assert_eq!(emulator.stats().jobs.cancelled, 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn once_nobody_follows_the_job_the_canceller_asks_the_service_by_id() {
    let (emulator, client) = frozen_emulator(1).await;
    let mut first = client
        .submit::<ImageToVideo>(&input("first"))
        .await
        .unwrap();
    until(&mut first.events(), |e| *e == Event::Running).await;
    let queued = client
        .submit::<ImageToVideo>(&input("second"))
        .await
        .unwrap();
    let canceller = queued.canceller();
    drop(queued); // stops following; the job stays queued at the service

    assert_eq!(canceller.cancel().await.unwrap(), CancelResult::Cancelled);
    assert_eq!(emulator.stats().jobs.cancelled, 1);
    drop(first);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_finished_job_is_already_finished_without_a_request() {
    let (emulator, client) = frozen_emulator(1).await;
    let mut job = client
        .submit::<ImageToVideo>(&input("quick"))
        .await
        .unwrap();
    until(&mut job.events(), |e| *e == Event::Running).await;
    let canceller = job.canceller();
    assert!(emulator.advance(Duration::from_secs(200)));
    job.wait().await.unwrap();

    assert_eq!(
        canceller.cancel().await.unwrap(),
        CancelResult::AlreadyFinished
    );
    assert_eq!(emulator.stats().requests_to(Endpoint::Cancel), 0);
    emulator.shutdown().await;
}

#[test]
fn a_canceller_can_be_sent_and_shared() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<JobCanceller>();
}
