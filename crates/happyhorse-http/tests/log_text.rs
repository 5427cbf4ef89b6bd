//! The library's own log fields never carry the service's text raw: whatever subscriber the
//! application installs (many write straight to a terminal), a status, an error message or a
//! retry reason from the service is written escaped (`\u{1b}`), never as an escape sequence.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::stranger::Stranger;
use happyhorse_http::{Client, PollPolicy};
use happyhorse_types::image_to_video::ImageToVideo;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn service_text_in_log_fields_is_escaped() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let stranger = Stranger::start(|route, asked| match (route, asked) {
        ("GET /v1/requests/job-1/result", 0) => (
            503,
            None,
            r#"{"error_message":"busy\u001b]0;pwned\u0007"}"#.to_owned(),
        ),
        ("GET /v1/requests/job-1/result", 1) => {
            (200, None, r#"{"status":"odd\u001b[31m"}"#.to_owned())
        }
        _ => (
            200,
            None,
            r#"{"status":"failed","error":"boom\u001b[2J\u009b1m"}"#.to_owned(),
        ),
    })
    .await;
    let client = Client::builder()
        .token("t")
        .base_url(&stranger.base)
        .poll_policy(PollPolicy::fixed(Duration::from_secs(1)))
        .build()
        .unwrap();
    let error = client
        .job::<ImageToVideo>("job-1")
        .unwrap()
        .wait()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("boom"), "{error}");

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for what in ["retrying", "unrecognised status", "finished"] {
        assert!(logs.contains(what), "no {what:?} line in:\n{logs}");
    }
    assert!(logs.contains("boom"), "{logs}");
    assert!(
        !logs.contains('\u{1b}') && !logs.contains('\u{7}') && !logs.contains('\u{9b}'),
        "{logs:?}"
    );
}
