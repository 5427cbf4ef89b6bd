//! Downloads against storage hosts that misbehave (servers written here, not the emulator):
//! bodies without a length that end early, trickles, silences, redirect loops and cross-host
//! redirects, lengths that contradict each other, a 200 to a `Range` request, error pages.
//! Time-dependent cases run on tokio's paused clock, so they take no wall time and cannot race.

mod common;
mod stranger;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{TOKEN, VIDEO};
use happyhorse_http::{
    Client, DownloadOptions, ErrorKind, MAX_REDIRECTS, MediaFormat, RetryPolicy, StallGuard,
};
use stranger::{Answer, Seen, Stranger, head};

const ETAG: &str = "\"v1\"";

fn client() -> Client {
    Client::builder()
        .token(TOKEN)
        .base_url("http://127.0.0.1:9")
        .retry_policy(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .unwrap()
}

fn dest(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

fn part(dest: &Path) -> PathBuf {
    let name = dest.file_name().unwrap().to_string_lossy();
    dest.with_file_name(format!(".{name}.part"))
}

fn meta(dest: &Path) -> PathBuf {
    let name = dest.file_name().unwrap().to_string_lossy();
    dest.with_file_name(format!(".{name}.part.json"))
}

/// Downloads `/v` from `host` to `name` in a fresh folder, with `options`.
async fn fetch(
    host: &Stranger,
    name: &str,
    options: DownloadOptions,
) -> (
    Result<happyhorse_http::DownloadReport, happyhorse_http::Error>,
    PathBuf,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dest(&dir, name);
    let result = client()
        .download(&format!("{}/v", host.url), &path, options)
        .await;
    (result, path, dir)
}

/// The whole video's length and an ETag announced, only its first `n` bytes sent, `extra`
/// headers added.
fn cut_with_length(n: usize, extra: &[(&str, String)]) -> Answer {
    let mut headers = vec![
        ("Content-Length", VIDEO.len().to_string()),
        ("ETag", ETAG.to_owned()),
    ];
    headers.extend_from_slice(extra);
    Answer::Raw([head("200 OK", &headers), VIDEO[..n].to_vec()].concat())
}

/// The whole video with its length.
fn whole() -> Answer {
    Answer::new(
        "200 OK",
        &[("Content-Length", VIDEO.len().to_string())],
        VIDEO,
    )
}

/// The first `n` bytes of the video, sent without a length and then closed.
fn cut_without_length(n: usize, etag: bool) -> Answer {
    let mut headers = vec![("Content-Type", "video/mp4".to_owned())];
    if etag {
        headers.push(("ETag", ETAG.to_owned()));
    }
    Answer::new("200 OK", &headers, &VIDEO[..n])
}

/// `bytes N-…/total` of the video, as a 206.
fn rest_from(seen: &Seen) -> Answer {
    let offset: usize = seen
        .header("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|r| r.parse().ok())
        .expect("a resume asks for bytes=N-");
    Answer::new(
        "206 Partial Content",
        &[
            (
                "Content-Range",
                format!("bytes {offset}-{}/{}", VIDEO.len() - 1, VIDEO.len()),
            ),
            ("Content-Length", (VIDEO.len() - offset).to_string()),
            ("ETag", ETAG.to_owned()),
        ],
        &VIDEO[offset..],
    )
}

#[tokio::test]
async fn a_body_without_a_length_that_ends_early_is_never_taken_as_finished() {
    // The case: half the video, no Content-Length, the connection closed: every time.
    let host = Stranger::start(|_, _| cut_without_length(105_642, false)).await;
    let dir = tempfile::tempdir().unwrap();
    for name in ["horse.mp4", "horse.bin"] {
        let path = dest(&dir, name);
        let err = client()
            .download(
                &format!("{}/v", host.url),
                &path,
                DownloadOptions::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Download, "{err}");
        let message = err.to_string();
        assert!(
            message.contains("sent no length and the file is not whole"),
            "{message}"
        );
        assert!(message.contains("was not moved into place"), "{message}");
        assert!(message.contains("105642 bytes are kept in"), "{message}");
        assert!(!path.exists(), "{name}: a cut file was renamed into place");
        assert_eq!(std::fs::read(part(&path)).unwrap(), &VIDEO[..105_642]);
    }
    // Without an ETag nothing can resume, so each attempt started again. The first saved
    // something new; then the policy's 6 attempts in a row that saved nothing new: 7 per download.
    assert_eq!(host.seen().len(), 14);
}

#[tokio::test]
async fn a_cut_without_a_length_resumes_and_its_boxes_prove_it_whole() {
    let host = Stranger::start(|seen, n| match n {
        0 => cut_without_length(1000, true),
        _ => rest_from(seen),
    })
    .await;
    let (result, path, _dir) = fetch(&host, "horse.mp4", DownloadOptions::default()).await;
    let report = result.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), VIDEO);
    assert_eq!((report.attempts, report.resumed_from), (2, 1000));
    assert_eq!(report.proof.length, Some(VIDEO.len() as u64));
    let seen = host.seen();
    assert_eq!(seen[1].header("range"), Some("bytes=1000-"));
    assert_eq!(seen[1].header("if-range"), Some(ETAG));
    assert!(!part(&path).exists() && !meta(&path).exists());
}

#[tokio::test]
async fn a_whole_video_without_a_length_is_proven_by_its_boxes() {
    let host = Stranger::start(|_, _| cut_without_length(VIDEO.len(), false)).await;
    let (result, path, _dir) = fetch(&host, "horse.mp4", DownloadOptions::default()).await;
    let report = result.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), VIDEO);
    assert_eq!(report.proof.length, None);
    assert_eq!(report.proof.format, Some(MediaFormat::Mp4));
}

#[tokio::test]
async fn an_unknown_file_without_a_length_is_proven_only_by_the_hosts_416() {
    let blob: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    // No ETag: nothing can ask the host, so the file stays unproven, after one request.
    let body = blob.clone();
    let host = Stranger::start(move |_, _| Answer::new("200 OK", &[], &body)).await;
    let (result, path, _dir) = fetch(&host, "notes.dat", DownloadOptions::default()).await;
    let err = result.unwrap_err();
    assert!(
        err.to_string().contains("no structure to show it whole"),
        "{err}"
    );
    assert!(!err.is_retryable() && !path.exists());
    assert_eq!(host.seen().len(), 1);
    assert_eq!(std::fs::read(part(&path)).unwrap(), blob);

    // With an ETag the client asks to resume past the end: `416 bytes */5000` proves the size.
    let body = blob.clone();
    let host = Stranger::start(move |_, n| match n {
        0 => Answer::new("200 OK", &[("ETag", ETAG.to_owned())], &body),
        _ => Answer::new(
            "416 Range Not Satisfiable",
            &[("Content-Range", "bytes */5000".to_owned())],
            b"",
        ),
    })
    .await;
    let report = client()
        .download(
            &format!("{}/v", host.url),
            &path,
            DownloadOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), blob);
    assert_eq!(report.proof.length, Some(5000));
    assert_eq!(host.seen()[1].header("range"), Some("bytes=5000-"));
}

#[tokio::test]
async fn a_content_range_total_that_changed_starts_the_file_over() {
    let host = Stranger::start(|_, n| match n {
        // The full length announced, half sent.
        0 => cut_with_length(5000, &[]),
        // The resume says the file is now 100 bytes longer.
        1 => Answer::new(
            "206 Partial Content",
            &[(
                "Content-Range",
                format!("bytes 5000-{}/{}", VIDEO.len() + 99, VIDEO.len() + 100),
            )],
            &[0; 64],
        ),
        _ => whole(),
    })
    .await;
    let (result, path, _dir) = fetch(&host, "horse.mp4", DownloadOptions::default()).await;
    let report = result.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), VIDEO, "spliced bytes");
    assert_eq!((report.attempts, report.resumed_from), (3, 0));
    let seen = host.seen();
    assert_eq!(seen[1].header("range"), Some("bytes=5000-"));
    assert_eq!(
        seen[2].header("range"),
        None,
        "the third request starts afresh"
    );
}

#[tokio::test]
async fn a_200_answer_to_a_range_request_replaces_the_partial_file() {
    let host = Stranger::start(|_, n| match n {
        0 => cut_with_length(7000, &[]),
        _ => whole(),
    })
    .await;
    let (result, path, _dir) = fetch(&host, "horse.mp4", DownloadOptions::default()).await;
    let report = result.unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        VIDEO,
        "appended to the old prefix"
    );
    assert_eq!(report.resumed_from, 0);
    assert_eq!(host.seen()[1].header("range"), Some("bytes=7000-"));
}

#[tokio::test]
async fn an_error_page_answered_with_200_is_not_saved_as_the_video() {
    let page = b"<html><body>AccessDenied</body></html>";
    let host = Stranger::start(move |_, _| {
        Answer::new(
            "200 OK",
            &[
                ("Content-Type", "text/html".to_owned()),
                ("Content-Length", page.len().to_string()),
            ],
            page,
        )
    })
    .await;
    let (result, path, _dir) = fetch(&host, "horse.mp4", DownloadOptions::default()).await;
    let err = result.unwrap_err();
    assert!(
        err.to_string()
            .contains("a video was expected but the file is not an MP4"),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert_eq!(
        host.seen().len(),
        1,
        "the same page would come again: no retry"
    );
    assert!(!path.exists() && !meta(&path).exists());
}

#[tokio::test]
async fn a_redirect_loop_costs_at_most_max_redirects_plus_one_requests() {
    let host =
        Stranger::start(|_, _| Answer::new("302 Found", &[("Location", "/loop".to_owned())], b""))
            .await;
    let (result, path, _dir) = fetch(&host, "horse.mp4", DownloadOptions::default()).await;
    let err = result.unwrap_err();
    assert!(
        err.to_string().contains("redirected more than 5 times"),
        "{err}"
    );
    assert_eq!(host.seen().len(), MAX_REDIRECTS as usize + 1);
    assert!(!path.exists());
}

#[tokio::test]
async fn redirects_to_another_host_carry_no_referer_token_or_cookie_and_are_not_repeated() {
    // The file's host cuts the first answer, so the retry shows where it goes.
    let files = Stranger::start(|seen, n| match n {
        0 => cut_with_length(3000, &[("Set-Cookie", "session=from-files".to_owned())]),
        _ => rest_from(seen),
    })
    .await;
    let target = format!("{}/signed/horse.mp4?sig=abc", files.url);
    let origin = Stranger::start(move |_, _| {
        Answer::new(
            "302 Found",
            &[
                ("Location", target.clone()),
                ("Set-Cookie", "tracker=from-origin".to_owned()),
            ],
            b"",
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dest(&dir, "horse.mp4");
    let report = client()
        .download(
            &format!("{}/out/horse.mp4?token=secret-signature", origin.url),
            &path,
            DownloadOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), VIDEO);
    assert_eq!((report.redirects, report.attempts), (1, 2));
    assert_eq!(
        origin.seen().len(),
        1,
        "the retry went straight to the file's host"
    );
    for seen in origin.seen().iter().chain(files.seen().iter()) {
        for name in ["referer", "authorization", "cookie"] {
            assert_eq!(seen.header(name), None, "{name} sent to {}", seen.path);
        }
        assert!(
            !seen.headers.iter().any(|(_, v)| v.contains(TOKEN)),
            "the token reached a storage host: {seen:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_trickling_host_ends_at_the_deadline_with_a_resumable_part() {
    // One byte every two seconds forever: the old 30 s read timeout restarted with every byte.
    let host = Stranger::start(|_, _| Answer::Trickle {
        head: head(
            "200 OK",
            &[
                ("Content-Length", VIDEO.len().to_string()),
                ("ETag", ETAG.to_owned()),
                ("Accept-Ranges", "bytes".to_owned()),
            ],
        ),
        body: VIDEO.to_vec(),
        chunk: 1,
        every: Duration::from_secs(2),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dest(&dir, "horse.mp4");
    let started = tokio::time::Instant::now();
    let err = client()
        .download(
            &format!("{}/v", host.url),
            &path,
            DownloadOptions::default().timeout(Duration::from_secs(120)),
        )
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        err.to_string()
            .contains("did not finish within its time limit"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("downloading again resumes from them"),
        "{err}"
    );
    // On the paused clock: the deadline, not a moment of wall time, ended it.
    assert!(
        took >= Duration::from_secs(120) && took < Duration::from_secs(125),
        "{took:?}"
    );
    let kept = std::fs::metadata(part(&path)).unwrap().len();
    assert!(kept > 0 && kept < 100, "{kept} bytes");
    assert!(meta(&path).exists(), "the partial file is resumable");
    // The stall guard cut each 20 s attempt and the next resumed with Range.
    let seen = host.seen();
    assert!(seen.len() >= 3, "{} requests", seen.len());
    assert!(
        seen[1]
            .header("range")
            .is_some_and(|r| r.starts_with("bytes="))
    );
}

#[tokio::test(start_paused = true)]
async fn a_host_that_never_answers_is_cut_by_the_stall_guard() {
    let host = Stranger::start(|_, _| Answer::Silence).await;
    let (result, _path, _dir) = fetch(
        &host,
        "horse.mp4",
        DownloadOptions::default().stall_guard(StallGuard::new(1, Duration::from_secs(5))),
    )
    .await;
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        err.to_string().contains("sent no answer within 5 s"),
        "{err}"
    );
    assert!(
        err.to_string().contains("gave up after 6 attempts"),
        "{err}"
    );
    assert_eq!(host.seen().len(), 6);
}

#[tokio::test(start_paused = true)]
async fn a_slow_but_steady_host_is_not_taken_for_a_stall() {
    // 64 bytes every 50 ms for 47 s: 1.3 KB/s, above the guard's 1 KiB/s average.
    let body = vec![7u8; 60_000];
    let host = Stranger::start(move |_, _| Answer::Trickle {
        head: head("200 OK", &[("Content-Length", body.len().to_string())]),
        body: body.clone(),
        chunk: 64,
        every: Duration::from_millis(50),
    })
    .await;
    let (result, _path, _dir) = fetch(&host, "slow.bin", DownloadOptions::default()).await;
    let report = result.unwrap();
    assert_eq!((report.attempts, report.bytes), (1, 60_000));
}
