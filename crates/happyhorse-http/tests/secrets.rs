//! A canary token never appears in anything the client prints: TRACE-level logs (its own and
//! its dependencies'), errors' `Display` and `Debug`, or the client's `Debug`; and API requests
//! never follow a redirect, which would carry it to another host.

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

/// A server on 127.0.0.1 that counts its connections and answers each request with `answer`.
async fn counting_server(answer: String) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (address, connections)
}

#[tokio::test]
async fn api_requests_never_follow_a_redirect_with_the_token() {
    // The trap stands for another host: following the redirect would carry the token there.
    let (trap, trapped) = counting_server(
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".into(),
    )
    .await;
    let (api, redirected) = counting_server(format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {trap}/v1/requests/r1/status\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    ))
    .await;
    let client = Client::builder()
        .token(CANARY)
        .base_url(&api)
        .retry_policy(happyhorse_http::RetryPolicy::none())
        .build()
        .unwrap();

    let status = client.status("r1").await.unwrap_err();
    let models = client.models().await.unwrap_err();
    for error in [&status, &models] {
        assert!(error.to_string().contains("HTTP 307"), "{error}");
        assert!(!error.to_string().contains(CANARY));
    }
    assert!(redirected.load(std::sync::atomic::Ordering::SeqCst) >= 2);
    assert_eq!(
        trapped.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a redirect was followed"
    );
}

#[test]
fn every_public_type_that_can_hold_the_token_hides_it_in_debug() {
    let password = "pw-canary-91c3";
    let query = "q-canary-77ab";
    // The builder holds the token from the first call on, and a base URL not yet checked.
    let builder = Client::builder().token(CANARY).base_url(format!(
        "https://user:{password}@example.com/?token={query}"
    ));
    let builder_shown = format!("{builder:?} {:?}", builder.clone());
    let refused = builder.build().unwrap_err();
    let refused_shown = format!("{refused} {refused:?}");
    let optional = Client::builder().token_opt(Some(CANARY.to_owned()));
    let client = Client::builder().token(CANARY).build().unwrap();
    let everything = format!(
        "{builder_shown}\n{refused_shown}\n{optional:?}\n{client:?}\n{:?}",
        client.clone()
    );
    for secret in [CANARY, password, query] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked:\n{everything}"
        );
    }
    assert!(builder_shown.contains("[redacted]"), "{builder_shown}");
    assert!(refused_shown.contains("***@example.com"), "{refused_shown}");
}
