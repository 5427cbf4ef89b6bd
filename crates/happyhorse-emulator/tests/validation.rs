//! Submits are validated as the service would: the checked-in schema (every violation listed,
//! naming its field), inline images decoded and checked, loopback image URLs fetched and checked,
//! remote URLs accepted unchecked or, in strict mode, rejected.

mod common;

use base64::Engine;
use bytes::Bytes;
use common::{Client, png, seed_body};
use happyhorse_emulator::Emulator;
use http::Response;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

fn data_uri(bytes: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The fields and rules listed in a 422 answer's `detail`.
fn violations(reply: &common::Reply) -> Vec<(String, String)> {
    assert_eq!(
        reply.status,
        422,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let body = reply.json();
    assert_eq!(body["error_code"], 422001);
    body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["field"].as_str().unwrap().to_owned(),
                v["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn fields(reply: &common::Reply) -> Vec<String> {
    violations(reply)
        .into_iter()
        .map(|(field, _)| field)
        .collect()
}

/// Serves `body` at every path of a loopback listener until the test ends.
async fn image_host(body: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body = Bytes::from(body);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_request| {
                    let body = body.clone();
                    async move { Ok::<_, std::convert::Infallible>(Response::new(Full::new(body))) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://127.0.0.1:{}", addr.port())
}

#[tokio::test]
async fn every_schema_violation_is_listed_by_field() {
    let emulator = Emulator::builder().start().await.unwrap();
    let client = Client::new(emulator.base_url());
    let reply = client
        .submit(&json!({
            "image_url": "https://example.com/a.png",
            "resolution": "4K",
            "duration": 16,
            "seed": -1,
            "watermark": "yes"
        }))
        .await;
    let mut listed = fields(&reply);
    listed.sort();
    assert_eq!(
        listed,
        ["duration", "prompt", "resolution", "seed", "watermark"]
    );
    let message = reply.json()["error_message"].as_str().unwrap().to_owned();
    assert!(message.contains("5 problem"), "{message}");
    assert_eq!(emulator.stats().submissions_total, 0);

    // The prompt limit the schema cannot express: 2500 characters for a Chinese prompt.
    let mut body = seed_body();
    body["prompt"] = Value::String("马".repeat(2600));
    assert_eq!(fields(&client.submit(&body).await), ["prompt"]);
    body["prompt"] = Value::String("马".repeat(2500));
    assert_eq!(client.submit(&body).await.status, 200);

    // A duration written as 5.0 is valid JSON Schema but not an integer to serde: refused.
    let mut body = seed_body();
    body["duration"] = json!(5.0);
    assert_eq!(fields(&client.submit(&body).await), ["duration"]);
    emulator.shutdown().await;
}

#[tokio::test]
async fn inline_images_are_decoded_and_checked() {
    let emulator = Emulator::builder()
        .strict_images(true)
        .start()
        .await
        .unwrap();
    let client = Client::new(emulator.base_url());
    let submit = |image: String| {
        let mut body = seed_body();
        body["image_url"] = Value::String(image);
        body
    };
    assert_eq!(
        client
            .submit(&submit(data_uri(&png(1280, 720))))
            .await
            .status,
        200
    );
    let cases = [
        (png(200, 600), "image_min_side"),
        (png(3000, 1000), "image_aspect"),
        (b"GIF89a not what we want".to_vec(), "image_format"),
    ];
    for (bytes, rule) in cases {
        let reply = client.submit(&submit(data_uri(&bytes))).await;
        assert_eq!(
            violations(&reply),
            [("image_url".to_owned(), rule.to_owned())]
        );
        // The 10 MB data URI never comes back whole.
        assert!(reply.body.len() < 2000);
    }
    let reply = client
        .submit(&submit("data:image/png;base64,@@@".into()))
        .await;
    assert_eq!(fields(&reply), ["image_url"]);
    emulator.shutdown().await;
}

#[tokio::test]
async fn loopback_urls_are_fetched_and_checked() {
    let emulator = Emulator::builder()
        .strict_images(true)
        .start()
        .await
        .unwrap();
    let client = Client::new(emulator.base_url());
    let good = image_host(png(1024, 1024)).await;
    let tiny = image_host(png(100, 100)).await;
    let submit = |image: String| {
        let mut body = seed_body();
        body["image_url"] = Value::String(image);
        body
    };
    assert_eq!(
        client
            .submit(&submit(format!("{good}/horse.png")))
            .await
            .status,
        200
    );
    let reply = client.submit(&submit(format!("{tiny}/horse.png"))).await;
    assert_eq!(
        violations(&reply),
        [("image_url".to_owned(), "image_min_side".to_owned())]
    );

    // The storage host serves an MP4: not an image by content, whatever the URL says.
    let not_image = format!("{}/synthetic/4096", emulator.storage_url());
    let reply = client.submit(&submit(not_image)).await;
    assert_eq!(
        violations(&reply),
        [("image_url".to_owned(), "image_format".to_owned())]
    );
    // Over 10 MB.
    let huge = format!("{}/synthetic/{}", emulator.storage_url(), 11 * 1000 * 1000);
    let reply = client.submit(&submit(huge)).await;
    assert_eq!(
        violations(&reply),
        [("image_url".to_owned(), "image_max_bytes".to_owned())]
    );
    // Not there at all.
    let missing = format!("{}/no/such/file.png", emulator.storage_url());
    let reply = client.submit(&submit(missing)).await;
    assert_eq!(
        violations(&reply),
        [("image_url".to_owned(), "image_fetch".to_owned())]
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn remote_urls_are_accepted_unchecked_unless_strict() {
    let lenient = Emulator::builder().start().await.unwrap();
    let reply = Client::new(lenient.base_url()).submit(&seed_body()).await;
    assert_eq!(reply.status, 200);
    lenient.shutdown().await;

    let strict = Emulator::builder()
        .strict_images(true)
        .start()
        .await
        .unwrap();
    let reply = Client::new(strict.base_url()).submit(&seed_body()).await;
    assert_eq!(
        violations(&reply),
        [("image_url".to_owned(), "image_unreachable".to_owned())]
    );
    let message = reply.json()["detail"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("strict"), "{message}");
    strict.shutdown().await;
}
