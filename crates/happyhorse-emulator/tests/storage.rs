//! The storage host: a different origin, Content-Length, ETag, Range, HEAD, conditional requests,
//! the large-file mode, and the record of Authorization headers.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Client, send};
use happyhorse_emulator::{
    Emulator, EmulatorBuilder, ProcessingTime, RunningEmulator, VIDEO_FIXTURE, synthetic_byte,
};
use http::Method;

/// An emulator whose jobs finish after one (manual) second.
fn builder() -> EmulatorBuilder {
    Emulator::builder()
        .manual_clock(true)
        .processing_time(ProcessingTime::Fixed(Duration::from_secs(1)))
}

/// Runs one job to success and returns its output URL.
async fn finished_video(emulator: &RunningEmulator) -> String {
    let client = Client::new(emulator.base_url());
    let id = client.submit_ok().await;
    emulator.advance(Duration::from_secs(1));
    let result = client.result(&id).await.json();
    assert_eq!(result["status"], "succeeded", "{result}");
    result["output"]["video"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn video_is_served_whole_with_length_and_etag() {
    let emulator = builder().start().await.unwrap();
    let url = finished_video(&emulator).await;
    assert!(
        url.starts_with(emulator.storage_url()) && url.ends_with(".mp4"),
        "{url}"
    );

    let whole = send(Method::GET, &url, &[], None).await.unwrap();
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("content-type"), Some("video/mp4"));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    assert_eq!(
        whole.header("content-length"),
        Some(whole.body.len().to_string().as_str())
    );
    assert_eq!(whole.body, VIDEO_FIXTURE);
    assert_eq!(&whole.body[4..8], b"ftyp", "an MP4 starts with an ftyp box");
    let etag = whole.header("etag").unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

    let head = send(Method::HEAD, &url, &[], None).await.unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        whole.header("content-length")
    );
    assert_eq!(head.header("etag"), Some(etag.as_str()));

    let again = send(Method::GET, &url, &[("if-none-match", &etag)], None)
        .await
        .unwrap();
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    emulator.shutdown().await;
}

#[tokio::test]
async fn ranges_resume_a_download() {
    let emulator = builder().start().await.unwrap();
    let url = finished_video(&emulator).await;
    let whole = send(Method::GET, &url, &[], None).await.unwrap().body;
    let len = whole.len();
    let etag = send(Method::HEAD, &url, &[], None)
        .await
        .unwrap()
        .header("etag")
        .unwrap()
        .to_owned();

    let first = send(Method::GET, &url, &[("range", "bytes=0-99")], None)
        .await
        .unwrap();
    assert_eq!(first.status, 206);
    assert_eq!(
        first.header("content-range"),
        Some(format!("bytes 0-99/{len}").as_str())
    );
    assert_eq!(first.header("content-length"), Some("100"));
    let rest = send(
        Method::GET,
        &url,
        &[("range", "bytes=100-"), ("if-range", &etag)],
        None,
    )
    .await
    .unwrap();
    assert_eq!(rest.status, 206);
    let mut joined = first.body.to_vec();
    joined.extend_from_slice(&rest.body);
    assert_eq!(Bytes::from(joined), whole);

    let suffix = send(Method::GET, &url, &[("range", "bytes=-10")], None)
        .await
        .unwrap();
    assert_eq!(suffix.body, whole.slice(len - 10..));

    // A stale If-Range gets the whole file, not a mismatched piece.
    let stale = send(
        Method::GET,
        &url,
        &[("range", "bytes=100-"), ("if-range", "\"old\"")],
        None,
    )
    .await
    .unwrap();
    assert_eq!((stale.status, stale.body.len()), (200, len));

    let beyond = send(
        Method::GET,
        &url,
        &[("range", &format!("bytes={len}-"))],
        None,
    )
    .await
    .unwrap();
    assert_eq!(beyond.status, 416);
    assert_eq!(
        beyond.header("content-range"),
        Some(format!("bytes */{len}").as_str())
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_and_unfinished_files_are_404() {
    let emulator = builder().start().await.unwrap();
    let client = Client::new(emulator.base_url());
    let id = client.submit_ok().await;
    let not_yet = send(
        Method::GET,
        &format!("{}/files/{id}.mp4", emulator.storage_url()),
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(not_yet.status, 404);
    let unknown = send(
        Method::GET,
        &format!("{}/files/nope.mp4", emulator.storage_url()),
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(unknown.status, 404);
    let post = send(
        Method::POST,
        &format!("{}/files/{id}.mp4", emulator.storage_url()),
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(post.status, 405);
    emulator.shutdown().await;
}

#[tokio::test]
async fn authorization_headers_on_storage_are_recorded_without_the_credential() {
    let emulator = builder().start().await.unwrap();
    let url = finished_video(&emulator).await;
    send(Method::GET, &url, &[], None).await.unwrap();
    assert_eq!(emulator.stats().storage.authorization_headers_total, 0);

    let leaked = format!("Bearer {}", common::TOKEN);
    send(Method::GET, &url, &[("authorization", &leaked)], None)
        .await
        .unwrap();
    send(
        Method::HEAD,
        &url,
        &[("authorization", "Bearer unrelated")],
        None,
    )
    .await
    .unwrap();
    let stats = emulator.stats();
    assert_eq!(stats.storage.requests_total, 3);
    assert_eq!(stats.storage.authorization_headers_total, 2);
    let seen = &stats.storage.authorization_headers;
    assert_eq!(
        (seen[0].method.as_str(), seen[0].scheme.as_str()),
        ("GET", "Bearer")
    );
    assert!(
        seen[0].matches_api_token,
        "the submitting token is recognised"
    );
    assert!(!seen[1].matches_api_token);
    assert!(url.ends_with(&seen[0].path));
    let served = Client::new(emulator.base_url())
        .get("/__emulator/stats")
        .await;
    assert!(!String::from_utf8_lossy(&served.body).contains(common::TOKEN));
    emulator.shutdown().await;
}

#[tokio::test]
async fn large_file_mode_serves_a_synthetic_body_of_the_requested_size() {
    let size = 3 * 1024 * 1024 + 17;
    let emulator = builder().large_file_size(Some(size)).start().await.unwrap();
    let url = finished_video(&emulator).await;
    let whole = send(Method::GET, &url, &[], None).await.unwrap();
    assert_eq!(
        whole.header("content-length"),
        Some(size.to_string().as_str())
    );
    assert_eq!(whole.body.len() as u64, size);
    assert!(
        whole
            .body
            .iter()
            .enumerate()
            .all(|(i, b)| *b == synthetic_byte(i as u64))
    );
    let tail = send(Method::GET, &url, &[("range", "bytes=3000000-")], None)
        .await
        .unwrap();
    assert_eq!(tail.status, 206);
    assert_eq!(tail.body.len() as u64, size - 3_000_000);
    assert!(
        tail.body
            .iter()
            .enumerate()
            .all(|(i, b)| *b == synthetic_byte(3_000_000 + i as u64))
    );

    // Any size is also available directly.
    let direct = send(
        Method::GET,
        &format!("{}/synthetic/1000", emulator.storage_url()),
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(direct.body.len(), 1000);
    emulator.shutdown().await;
}

#[tokio::test]
async fn files_expire_with_their_job() {
    let emulator = builder()
        .expire_after(Duration::from_secs(5))
        .start()
        .await
        .unwrap();
    let url = finished_video(&emulator).await;
    assert_eq!(
        send(Method::GET, &url, &[], None).await.unwrap().status,
        200
    );
    emulator.advance(Duration::from_secs(5));
    assert_eq!(
        send(Method::GET, &url, &[], None).await.unwrap().status,
        404
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn output_video_replaces_the_fixture() {
    let custom = Bytes::from_static(b"\0\0\0\x10ftypcustom-bytes");
    let emulator = builder()
        .output_video(custom.clone())
        .start()
        .await
        .unwrap();
    let url = finished_video(&emulator).await;
    assert_eq!(
        send(Method::GET, &url, &[], None).await.unwrap().body,
        custom
    );
    emulator.shutdown().await;
}

#[test]
fn the_fixture_is_an_h264_mp4() {
    let fixture = VIDEO_FIXTURE;
    assert_eq!(&fixture[4..8], b"ftyp");
    let contains = |needle: &[u8]| fixture.windows(needle.len()).any(|w| w == needle);
    assert!(
        contains(b"moov") && contains(b"mdat"),
        "an MP4 has moov and mdat boxes"
    );
    assert!(
        contains(b"avc1") && contains(b"avcC"),
        "the video track is H.264"
    );
}
