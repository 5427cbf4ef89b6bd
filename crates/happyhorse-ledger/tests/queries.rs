//! What the ledger answers: lists with filters, the most recent unfinished job, a job by id,
//! identical inputs, a batch's jobs, and state changes that cannot go backwards.

use std::path::Path;
use std::time::{Duration, SystemTime};

use happyhorse_ledger::{Filter, Intent, JobState, Ledger};

const BASE: &str = "https://model-api.runcomfy.net";
const MODEL: &str = "happyhorse/happyhorse-1.0/image-to-video";

fn ledger(dir: &Path) -> Ledger {
    Ledger::open(dir.join("ledger.sqlite3")).unwrap()
}

fn intent() -> Intent {
    Intent::new("run", MODEL, BASE)
}

#[test]
fn a_job_is_recorded_from_intent_to_saved_video_with_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger(dir.path());
    let (key, receipt) = ledger.intent(intent().input_digest("sha256:aa").output("/v/h.mp4"));
    receipt.wait().unwrap();
    let entry = &ledger.jobs(&Filter::default()).unwrap()[0];
    assert_eq!(
        (entry.state, entry.request_id.as_deref()),
        (JobState::Submitting, None)
    );
    assert!(entry.state.may_exist_without_id());

    ledger.submitted(&key, "r-1").wait().unwrap();
    ledger.state(&key, JobState::Queued, None).wait().unwrap();
    ledger.state(&key, JobState::Running, None).wait().unwrap();
    ledger
        .state(&key, JobState::Succeeded, None)
        .wait()
        .unwrap();
    ledger.cost(&key, 0.5).wait().unwrap();
    // Unfinished until its video is saved.
    assert_eq!(
        ledger.last_unfinished(BASE).unwrap().map(|e| e.key),
        Some(key.clone())
    );
    ledger
        .saved(&key, Path::new("/v/h.mp4"), 1234)
        .wait()
        .unwrap();
    let entry = ledger.job(Some(BASE), "r-1").unwrap().unwrap();
    assert_eq!(entry.state, JobState::Succeeded);
    assert_eq!(entry.saved, Some(("/v/h.mp4".into(), 1234)));
    assert_eq!(entry.cost_usd, Some(0.5));
    assert_eq!(entry.output.as_deref(), Some(Path::new("/v/h.mp4")));
    assert!(!entry.is_unfinished());
    assert_eq!(ledger.last_unfinished(BASE).unwrap(), None);
    // Another service's jobs are another matter.
    assert_eq!(ledger.job(Some("http://127.0.0.1:1"), "r-1").unwrap(), None);
}

#[test]
fn a_final_state_is_never_undone_by_a_late_report() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger(dir.path());
    let (key, _) = ledger.intent(intent());
    ledger.submitted(&key, "r-2").wait().unwrap();
    ledger
        .state(&key, JobState::Failed, Some("the model failed"))
        .wait()
        .unwrap();
    ledger.state(&key, JobState::Running, None).wait().unwrap();
    // A late id does not reopen it either.
    ledger.submitted(&key, "r-2").wait().unwrap();
    let entry = ledger.job(None, "r-2").unwrap().unwrap();
    assert_eq!(entry.state, JobState::Failed);
    assert_eq!(entry.error.as_deref(), Some("the model failed"));
}

#[test]
fn an_unknown_outcome_stays_listed_as_such_until_an_id_turns_up() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger(dir.path());
    let (key, _) = ledger.intent(intent());
    ledger
        .state(&key, JobState::OutcomeUnknown, Some("connection reset"))
        .wait()
        .unwrap();
    let unknown = ledger
        .jobs(&Filter {
            states: vec![JobState::OutcomeUnknown],
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].error.as_deref(), Some("connection reset"));
    assert_eq!(
        ledger.last_unfinished(BASE).unwrap(),
        None,
        "no id: nothing to follow"
    );
}

#[test]
fn lists_filter_by_state_time_and_service_most_recent_first() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger(dir.path());
    let mut keys = Vec::new();
    for (i, state) in [JobState::Running, JobState::Succeeded, JobState::Failed]
        .into_iter()
        .enumerate()
    {
        let (key, _) = ledger.intent(intent());
        drop(ledger.submitted(&key, &format!("r-{i}")));
        ledger.state(&key, state, None).wait().unwrap();
        keys.push(key);
    }
    let (other, _) = ledger.intent(Intent::new("run", MODEL, "http://127.0.0.1:9"));
    ledger.flush().wait().unwrap();

    let all = ledger.jobs(&Filter::default()).unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[0].key, other, "most recent first");
    let here = ledger
        .jobs(&Filter {
            base_url: Some(BASE.into()),
            limit: Some(2),
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(
        here.iter().map(|e| &e.key).collect::<Vec<_>>(),
        [&keys[2], &keys[1]]
    );
    let finished = ledger
        .jobs(&Filter {
            states: vec![JobState::Succeeded, JobState::Failed],
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(finished.len(), 2);
    let future = ledger
        .jobs(&Filter {
            since: Some(SystemTime::now() + Duration::from_secs(60)),
            ..Filter::default()
        })
        .unwrap();
    assert!(future.is_empty());
    assert_eq!(
        ledger.last_unfinished(BASE).unwrap().map(|e| e.key),
        Some(keys[0].clone())
    );
}

#[test]
fn identical_inputs_are_found_by_digest_model_service_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger(dir.path());
    let (first, _) = ledger.intent(intent().input_digest("sha256:same"));
    let _ = ledger.intent(intent().input_digest("sha256:other"));
    let _ =
        ledger.intent(Intent::new("run", MODEL, "http://127.0.0.1:9").input_digest("sha256:same"));
    ledger.flush().wait().unwrap();
    let day_ago = SystemTime::now() - Duration::from_secs(86_400);
    let found = ledger
        .identical(BASE, MODEL, "sha256:same", day_ago)
        .unwrap();
    assert_eq!(found.iter().map(|e| &e.key).collect::<Vec<_>>(), [&first]);
    let later = SystemTime::now() + Duration::from_secs(1);
    assert!(
        ledger
            .identical(BASE, MODEL, "sha256:same", later)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn adopting_a_job_finds_it_or_adds_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger(dir.path());
    let (key, _) = ledger.intent(intent().output("/v/a.mp4"));
    ledger.submitted(&key, "known").wait().unwrap();
    let (found, receipt) = ledger
        .adopt(Intent::new("wait", MODEL, BASE), "known")
        .unwrap();
    assert_eq!((found, receipt.is_none()), (key, true));

    let (new, receipt) = ledger
        .adopt(
            Intent::new("wait", MODEL, BASE).output("/v/b.mp4"),
            "stranger",
        )
        .unwrap();
    receipt.unwrap().wait().unwrap();
    let entry = ledger.job(Some(BASE), "stranger").unwrap().unwrap();
    assert_eq!((entry.key, entry.state), (new, JobState::Submitted));
    assert_eq!(entry.origin, "wait");
    assert_eq!(entry.output.as_deref(), Some(Path::new("/v/b.mp4")));
}

#[test]
fn a_batch_knows_its_jobs_by_journal() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger(dir.path());
    let (a, _) = ledger.intent(Intent::new("batch", MODEL, BASE).batch("/o/j.journal", "a"));
    let _ = ledger.intent(Intent::new("batch", MODEL, BASE).batch("/o/j.journal", "b"));
    let _ = ledger.intent(Intent::new("batch", MODEL, BASE).batch("/other.journal", "a"));
    ledger.submitted(&a, "ra").wait().unwrap();
    let jobs = ledger.batch_jobs("/o/j.journal").unwrap();
    let names: Vec<(&str, Option<&str>)> = jobs
        .iter()
        .map(|e| {
            (
                e.batch.as_ref().unwrap().job.as_str(),
                e.request_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(names, [("a", Some("ra")), ("b", None)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_can_be_awaited_and_a_flush_covers_everything_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger(dir.path());
    let (key, receipt) = ledger.intent(intent());
    receipt.durable().await.unwrap();
    for state in [JobState::Queued, JobState::Running] {
        // Not waited for one by one: the flush covers them.
        drop(ledger.state(&key, state, None));
    }
    ledger.flush().durable().await.unwrap();
    let entry = &ledger.jobs(&Filter::default()).unwrap()[0];
    assert_eq!(entry.state, JobState::Running);
}

#[test]
fn a_success_with_nothing_to_save_is_not_unfinished() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger(dir.path());
    let (older, receipt) = ledger.intent(intent().output("/v/older.mp4"));
    receipt.wait().unwrap();
    ledger.submitted(&older, "r-older").wait().unwrap();
    let (key, receipt) = ledger.intent(intent().output("/v/h.mp4"));
    receipt.wait().unwrap();
    ledger.submitted(&key, "r-1").wait().unwrap();
    ledger
        .state(&key, JobState::Succeeded, None)
        .wait()
        .unwrap();
    assert_eq!(ledger.last_unfinished(BASE).unwrap().unwrap().key, key);
    // Its output held no file URL: there is nothing `wait --last` could still save.
    ledger.nothing_to_save(&key).wait().unwrap();
    let entry = ledger.job(Some(BASE), "r-1").unwrap().unwrap();
    assert!(!entry.is_unfinished(), "{entry:?}");
    assert_eq!(entry.output, None);
    assert_eq!(ledger.last_unfinished(BASE).unwrap().unwrap().key, older);
}

#[test]
fn a_job_the_service_no_longer_knows_is_gone_unless_it_had_ended() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger(dir.path());
    let (running, receipt) = ledger.intent(intent().output("/v/a.mp4"));
    receipt.wait().unwrap();
    ledger.submitted(&running, "r-1").wait().unwrap();
    ledger.state(&running, JobState::Gone, None).wait().unwrap();
    let entry = ledger.job(Some(BASE), "r-1").unwrap().unwrap();
    assert_eq!(entry.state, JobState::Gone);
    assert!(!entry.is_unfinished());
    assert_eq!(ledger.last_unfinished(BASE).unwrap(), None);

    // A job that succeeded stays succeeded when its id expires later.
    let (done, receipt) = ledger.intent(intent());
    receipt.wait().unwrap();
    ledger.submitted(&done, "r-2").wait().unwrap();
    ledger
        .state(&done, JobState::Succeeded, None)
        .wait()
        .unwrap();
    ledger.state(&done, JobState::Gone, None).wait().unwrap();
    assert_eq!(
        ledger.job(Some(BASE), "r-2").unwrap().unwrap().state,
        JobState::Succeeded
    );
}
