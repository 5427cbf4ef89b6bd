//! The library's opt-in job ledger (`ClientBuilder::ledger`, feature `ledger`): a submitted job
//! is recorded with its id and its end, a job followed by id is adopted (and recorded gone when
//! the service does not know its id), and a lost submit is recorded as a job that may exist
//! without its id.

#![cfg(feature = "ledger")]

mod common;

use happyhorse_emulator::{Endpoint, FaultKind};
use happyhorse_ledger::{Filter, JobState, Ledger, input_digest};
use happyhorse_types::image_to_video::{ImageToVideo, SPEC};

use common::{client_for, emulator, input};

/// Waits for the ledger to record `state` for the job of `request_id` (the end is recorded by
/// a task as the job's driver finishes, just after `wait` returns).
async fn recorded(
    ledger: &Ledger,
    request_id: &str,
    state: JobState,
) -> happyhorse_ledger::JobEntry {
    for _ in 0..500 {
        ledger.flush().durable().await.unwrap();
        if let Some(entry) = ledger.job(None, request_id).unwrap()
            && entry.state == state
        {
            return entry;
        }
        tokio::task::yield_now().await;
    }
    panic!(
        "{request_id} never reached {state}: {:?}",
        ledger.job(None, request_id)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_job_is_recorded_from_intent_to_its_end() {
    let emu = emulator(50).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path().join("ledger.sqlite3")).unwrap();
    let client = client_for(&emu).ledger(ledger.clone()).build().unwrap();

    let job = client
        .submit::<ImageToVideo>(&input("recorded"))
        .await
        .unwrap();
    let id = job.request_id().to_owned();
    // The id is in the ledger by the time submit returns it.
    let entry = ledger
        .job(None, &id)
        .unwrap()
        .expect("recorded before it is returned");
    assert_eq!(entry.origin, "library");
    assert_eq!(entry.base_url, client.base_url());
    let body = serde_json::to_value(input("recorded")).unwrap();
    assert_eq!(entry.input_digest, Some(input_digest(&SPEC, &body)));
    job.wait().await.unwrap();
    recorded(&ledger, &id, JobState::Succeeded).await;

    // Following a job by id adopts it (once).
    let followed = client.job::<ImageToVideo>(&id).unwrap();
    followed.wait().await.unwrap();
    assert_eq!(ledger.jobs(&Filter::default()).unwrap().len(), 1);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_submit_is_recorded_as_a_job_that_may_exist() {
    let emu = emulator(50).start().await.unwrap();
    emu.inject_fault(Endpoint::Submit, FaultKind::LostSubmit);
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path().join("ledger.sqlite3")).unwrap();
    let client = client_for(&emu).ledger(ledger.clone()).build().unwrap();
    let error = client
        .submit::<ImageToVideo>(&input("lost"))
        .await
        .unwrap_err();
    assert_eq!(error.submit_may_have_reached_server(), Some(true));
    ledger.flush().durable().await.unwrap();
    let entries = ledger.jobs(&Filter::default()).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].state, entries[0].request_id.as_deref()),
        (JobState::OutcomeUnknown, None)
    );
    assert_eq!(emu.stats().submissions_total, 1, "the job does exist");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_id_the_service_does_not_know_is_recorded_gone() {
    let emu = emulator(50).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path().join("ledger.sqlite3")).unwrap();
    let client = client_for(&emu).ledger(ledger.clone()).build().unwrap();
    let error = client
        .job::<ImageToVideo>("no-such-job")
        .unwrap()
        .wait()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), happyhorse_http::ErrorKind::NotFound);
    let entry = recorded(&ledger, "no-such-job", JobState::Gone).await;
    assert!(!entry.is_unfinished(), "{entry:?}");
    emu.shutdown().await;
}
