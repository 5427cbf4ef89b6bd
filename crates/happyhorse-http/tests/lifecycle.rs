//! The whole lifecycle against the emulator: submit, follow, result, download, resume, cancel.

mod common;

use common::{TOKEN, VIDEO, client_for, emulator, input};
use futures::StreamExt;
use happyhorse_http::{CancelResult, ErrorKind, Event, JobState};
use happyhorse_types::JobStatus;
use happyhorse_types::image_to_video::ImageToVideo;

#[tokio::test]
async fn a_job_runs_to_a_byte_identical_download_without_leaking_the_token() {
    let emulator = emulator(200).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    let mut handle = client
        .submit::<ImageToVideo>(&input("a horse"))
        .await
        .unwrap();
    let mut events = handle.events();
    let id = handle.request_id().to_owned();
    let result = handle.wait().await.unwrap();
    assert_eq!(result.request_id, id);
    let mut seen = Vec::new();
    while let Some(event) = events.next().await {
        seen.push(event);
    }
    assert!(
        matches!(seen.first(), Some(Event::Submitted { request_id }) if request_id.as_str() == id),
        "{seen:?}"
    );
    assert!(
        matches!(seen.last(), Some(Event::Finished(outcome)) if outcome.is_success()),
        "{seen:?}"
    );

    let video = result.video_url().unwrap().to_owned();
    assert!(video.starts_with(emulator.storage_url()), "{video}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out").join("horse.mp4");
    let report = client
        .download(&video, &path, Default::default())
        .await
        .unwrap();
    assert_eq!(report.bytes, VIDEO.len() as u64);
    assert_eq!(std::fs::read(&path).unwrap(), VIDEO);
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("horse.mp4")],
        "no partial files remain"
    );

    let stats = emulator.stats();
    assert_eq!(
        (stats.submissions_total, stats.duplicate_submissions),
        (1, 0)
    );
    assert_eq!(
        stats.storage.authorization_headers_total, 0,
        "the token reached the storage host"
    );
    assert!(stats.storage.requests_total >= 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_job_is_resumed_by_its_id_after_the_handle_is_dropped() {
    let emulator = emulator(300).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    let id = client
        .submit::<ImageToVideo>(&input("resume me"))
        .await
        .unwrap()
        .request_id()
        .to_owned();
    // The first handle is gone: the job goes on at the service and is picked up by id.
    let result = client
        .job::<ImageToVideo>(&id)
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(result.request_id, id);
    assert!(result.output.unwrap().video.is_some());
    assert_eq!(emulator.stats().submissions_total, 1);
    assert_eq!(
        emulator.stats().jobs.cancelled,
        0,
        "dropping a handle must not cancel the job"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn cancel_is_honest_in_every_phase() {
    // One worker: the first job runs for a long time, so the second waits in the queue.
    let emulator = emulator(60_000).workers(1).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    let mut running = client.submit::<ImageToVideo>(&input("long")).await.unwrap();
    let mut queued = client
        .submit::<ImageToVideo>(&input("waiting"))
        .await
        .unwrap();
    // Synchronise on the first job's own report that it runs, not on time.
    let mut events = running.events();
    while let Some(event) = events.next().await {
        if event == Event::Running {
            break;
        }
    }
    assert_eq!(
        client.status(queued.request_id()).await.unwrap().state,
        JobState::Queued { position: Some(0) }
    );

    assert_eq!(queued.cancel().await.unwrap(), CancelResult::Cancelled);
    let err = queued.wait().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);

    assert_eq!(running.cancel().await.unwrap(), CancelResult::TooLate);
    assert_eq!(
        client.cancel(running.request_id()).await.unwrap(),
        CancelResult::TooLate
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn cancelling_a_finished_job_is_a_no_op() {
    let emulator = emulator(50).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    let handle = client
        .submit::<ImageToVideo>(&input("quick"))
        .await
        .unwrap();
    let id = handle.request_id().to_owned();
    handle.wait().await.unwrap();
    assert_eq!(
        client.cancel(&id).await.unwrap(),
        CancelResult::AlreadyFinished
    );
    assert_eq!(
        client.result(&id, false).await.unwrap().answer.status,
        JobStatus::Succeeded
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_failing_job_reports_the_service_reason() {
    let emulator = emulator(50).failure_rate(1.0).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    let err = client
        .run::<ImageToVideo>(&input("doomed"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::JobFailed);
    assert!(err.request_id().is_some());
    assert!(err.service_error().is_some(), "{err:?}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_service_refusals_are_told_apart() {
    let emulator = emulator(50).tokens([TOKEN]).start().await.unwrap();
    let client = client_for(&emulator).token("wrong-token").build().unwrap();
    let err = client
        .submit::<ImageToVideo>(&input("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert_eq!(err.service_code(), Some("400004"));
    assert_eq!(err.submit_may_have_reached_server(), Some(false));
    assert!(!err.to_string().contains("wrong-token"));

    let client = client_for(&emulator).build().unwrap();
    let err = client.status("no-such-request").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(emulator.stats().submissions_total, 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn invalid_input_is_refused_before_anything_is_sent() {
    let emulator = emulator(50).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    let mut bad = serde_json::to_value(input("x")).unwrap();
    bad["duration"] = 16.into();
    bad["prompt"] = "p".repeat(5001).into();
    let err = client.submit_json::<ImageToVideo>(&bad).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let message = err.to_string();
    assert!(
        message.contains("duration: must be an integer from 3 to 15, got 16"),
        "{message}"
    );
    assert!(message.contains("prompt"), "{message}");
    assert!(
        message.len() < 600,
        "a long prompt is not echoed whole: {message}"
    );
    assert_eq!(emulator.stats().requests_total, 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn local_images_are_checked_and_sent_inline() {
    let emulator = emulator(50).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    let png = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/horse.png");
    let image = happyhorse_http::ImageSource::Path(png)
        .into_field_value("image_url")
        .await
        .unwrap();
    assert!(image.starts_with("data:image/png;base64,"));
    client
        .run::<ImageToVideo>(&input("x").clone_with_image(image))
        .await
        .unwrap();

    let tiny = happyhorse_http::ImageSource::Bytes(b"not an image".to_vec());
    let err = tiny.into_field_value("image_url").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().starts_with("image_url:"), "{err}");
    let missing = happyhorse_http::ImageSource::parse("/no/such/file.png")
        .into_field_value("image_url")
        .await
        .unwrap_err();
    assert_eq!(
        missing.to_string(),
        "image_url: must be a readable local image file (no such file), got /no/such/file.png"
    );
    let rules = missing.input_errors().expect("structured input errors");
    assert_eq!(
        (
            rules.errors()[0].field.as_str(),
            rules.errors()[0].rule.as_str()
        ),
        ("image_url", "image_file")
    );
    emulator.shutdown().await;
}

trait WithImage {
    fn clone_with_image(&self, image: String) -> Self;
}

impl WithImage for happyhorse_types::image_to_video::ImageToVideoInput {
    fn clone_with_image(&self, image: String) -> Self {
        let mut input = self.clone();
        input.image_url = image;
        input
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_download_never_replaces_a_symlink_or_a_directory() {
    let emulator = emulator(20).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    let result = client.run::<ImageToVideo>(&input("guarded")).await.unwrap();
    let video = result.video_url().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("target.txt"), b"keep me").unwrap();
    std::os::unix::fs::symlink(dir.path().join("target.txt"), dir.path().join("link.mp4")).unwrap();
    std::fs::create_dir(dir.path().join("folder.mp4")).unwrap();
    for name in ["link.mp4", "folder.mp4"] {
        let error = client
            .download(&video, &dir.path().join(name), Default::default())
            .await
            .unwrap_err();
        assert_eq!(
            error.kind(),
            happyhorse_http::ErrorKind::Download,
            "{error}"
        );
        assert!(
            error.to_string().contains("is not a regular file"),
            "{error}"
        );
    }
    assert!(
        std::fs::symlink_metadata(dir.path().join("link.mp4"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read(dir.path().join("target.txt")).unwrap(),
        b"keep me"
    );
    assert!(dir.path().join("folder.mp4").is_dir());
    emulator.shutdown().await;
}
