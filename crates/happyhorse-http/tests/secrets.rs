//! A canary token never appears in anything the client prints: TRACE-level logs (its own and
//! its dependencies'), errors' `Display` and `Debug`, or the client's `Debug`.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{client_for, emulator, input};
use happyhorse_emulator::{FaultConfig, FaultKind};
use happyhorse_http::Client;
use happyhorse_types::image_to_video::ImageToVideo;

const CANARY: &str = "canary-4f1d2e-do-not-log";

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

#[tokio::test]
async fn the_token_never_appears_in_trace_output_or_errors() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let faults = FaultConfig {
        rates: [(FaultKind::Http503, 0.3)].into(),
        seed: 3,
        ..FaultConfig::default()
    };
    let emulator = emulator(100).faults(faults).start().await.unwrap();
    let client = client_for(&emulator).token(CANARY).build().unwrap();
    let mut printed = format!("{client:?}\n");
    for i in 0..4 {
        match client
            .run::<ImageToVideo>(&input(&format!("canary {i}")))
            .await
        {
            Ok(result) => printed.push_str(&format!("{result:?}\n")),
            Err(err) => printed.push_str(&format!("{err}\n{err:?}\n")),
        }
    }
    let err = client.status("unknown-id").await.unwrap_err();
    printed.push_str(&format!("{err}\n{err:?}\n"));
    let refused = Client::builder()
        .token(CANARY)
        .base_url("http://example.com")
        .build()
        .unwrap_err();
    printed.push_str(&format!("{refused}\n{refused:?}\n"));
    emulator.shutdown().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("submitted"),
        "tracing was not captured: {logs}"
    );
    assert!(
        logs.contains("request_id"),
        "the job span carries the request id"
    );
    assert!(!logs.contains(CANARY), "the token leaked into the logs");
    assert!(
        !printed.contains(CANARY),
        "the token leaked into printed values:\n{printed}"
    );
}
