//! Every fault the emulator can inject ends in success or a clear error — never a second submit
//! and never the token at the storage host.

mod common;

use std::time::Duration;

use common::{VIDEO, chain, client_for, emulator, input};
use happyhorse_emulator::{Endpoint, FaultConfig, FaultKind};
use happyhorse_http::ErrorKind;
use happyhorse_types::image_to_video::ImageToVideo;

/// Runs `jobs` jobs with `kind` injected on `rate` of the requests; returns (succeeded, errors).
async fn run_with_fault(
    kind: FaultKind,
    rate: f64,
    jobs: usize,
) -> (usize, Vec<(ErrorKind, String)>) {
    let faults = FaultConfig {
        rates: [(kind, rate)].into(),
        seed: 7,
        delay: Duration::from_secs(60),
        retry_after_secs: 0,
        ..FaultConfig::default()
    };
    // 100 s of simulated delay at this scale is far past the client's 1 s request timeout.
    let emulator = emulator(100).faults(faults).start().await.unwrap();
    let client = client_for(&emulator)
        .request_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..jobs {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let result = client
                .run::<ImageToVideo>(&input(&format!("job {i}")))
                .await?;
            let url = result.video_url().unwrap().to_owned();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("v.mp4");
            client.download(&url, &path, Default::default()).await?;
            assert_eq!(
                std::fs::read(&path).unwrap(),
                VIDEO,
                "download not byte-identical"
            );
            Ok::<_, happyhorse_http::Error>(())
        }));
    }
    let mut ok = 0;
    let mut errors = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => ok += 1,
            Err(e) => errors.push((e.kind(), chain(&e))),
        }
    }
    let stats = emulator.stats();
    assert!(stats.faults_of(kind) > 0, "{kind:?} was never injected");
    assert_eq!(
        stats.duplicate_submissions, 0,
        "{kind:?}: a submit was repeated"
    );
    assert_eq!(
        stats.storage.authorization_headers_total, 0,
        "{kind:?}: the token reached the storage host"
    );
    emulator.shutdown().await;
    (ok, errors)
}

#[tokio::test]
async fn retryable_faults_are_absorbed() {
    for kind in [
        FaultKind::Http500,
        FaultKind::Http502,
        FaultKind::Http503,
        FaultKind::RateLimited,
        FaultKind::ErrorWith200,
        FaultKind::UnknownStatus,
    ] {
        let (ok, errors) = run_with_fault(kind, 0.25, 8).await;
        // A fault on the submit itself is never retried (5xx: the job may exist): such jobs end
        // in a clear "submit outcome unknown"; everything else succeeds.
        for (error_kind, message) in &errors {
            assert!(
                *error_kind == ErrorKind::SubmitOutcomeUnknown
                    || (kind == FaultKind::RateLimited && *error_kind == ErrorKind::RateLimited),
                "{kind:?}: {error_kind:?}: {message}"
            );
        }
        assert!(ok >= 1, "{kind:?}: nothing succeeded: {errors:?}");
    }
}

#[tokio::test]
async fn connection_faults_never_repeat_a_submit_that_may_have_arrived() {
    for kind in [
        FaultKind::Reset,
        FaultKind::Delay,
        FaultKind::TruncatedBody,
        FaultKind::LostSubmit,
    ] {
        let (ok, errors) = run_with_fault(kind, 0.3, 8).await;
        for (error_kind, message) in &errors {
            assert_eq!(
                *error_kind,
                ErrorKind::SubmitOutcomeUnknown,
                "{kind:?}: {message}"
            );
            assert!(message.contains("may have created a job"), "{message}");
            assert!(message.contains("may bill twice"), "{message}");
            assert!(!message.to_lowercase().contains("try again"), "{message}");
        }
        assert_eq!(ok + errors.len(), 8);
    }
}

#[tokio::test]
async fn a_truncated_download_resumes_to_a_byte_identical_file() {
    let emulator = emulator(50).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    let result = client.run::<ImageToVideo>(&input("x")).await.unwrap();
    emulator.inject_fault(Endpoint::Storage, FaultKind::TruncatedBody);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("horse.mp4");
    let report = client
        .download(result.video_url().unwrap(), &path, Default::default())
        .await
        .unwrap();
    assert_eq!(report.attempts, 2);
    assert!(report.resumed_from > 0, "{report:?}");
    assert_eq!(std::fs::read(&path).unwrap(), VIDEO);
    assert_eq!(emulator.stats().faults_of(FaultKind::TruncatedBody), 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_failed_download_leaves_nothing_at_the_destination() {
    let emulator = emulator(50).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    let result = client.run::<ImageToVideo>(&input("x")).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("horse.mp4");
    let options = happyhorse_http::DownloadOptions::default().max_bytes(1000);
    let err = client
        .download(result.video_url().unwrap(), &path, options)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Download);
    assert!(
        chain(&err).contains("larger than the 1000-byte limit"),
        "{err}"
    );
    assert!(!path.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no partial file is left either"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn oversized_answers_are_refused_before_parsing() {
    let emulator = emulator(50).start().await.unwrap();
    let client = client_for(&emulator).max_body_bytes(16).build().unwrap();
    let err = client
        .submit::<ImageToVideo>(&input("x"))
        .await
        .unwrap_err();
    // The submit reached the service, so a too-large answer leaves its outcome unknown.
    assert_eq!(err.kind(), ErrorKind::SubmitOutcomeUnknown, "{err}");
    assert!(chain(&err).contains("16-byte limit"), "{err}");
    assert_eq!(emulator.stats().duplicate_submissions, 0);
    emulator.shutdown().await;
}
