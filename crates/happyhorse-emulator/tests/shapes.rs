//! The answer-shape switches: each one changes exactly what it says on the wire.

mod common;

use std::time::Duration;

use common::Client;
use happyhorse_emulator::{AnswerShapes, Emulator, OutputShape, ProcessingTime, RunningEmulator};
use serde_json::{Value, json};

async fn emulator(shapes: AnswerShapes) -> RunningEmulator {
    Emulator::builder()
        .manual_clock(true)
        .workers(1)
        .processing_time(ProcessingTime::Fixed(Duration::from_secs(10)))
        .answer_shapes(shapes)
        .start()
        .await
        .unwrap()
}

/// The `/result` body of a job that has succeeded, under `shapes`.
async fn succeeded_result(shapes: AnswerShapes) -> (Value, String) {
    let emulator = emulator(shapes).await;
    let client = Client::new(emulator.base_url());
    let id = client.submit_ok().await;
    emulator.advance(Duration::from_secs(60));
    client.wait_finished(&id, 50).await;
    let body = client.result(&id).await.json();
    let video = format!("{}/files/{id}.mp4", emulator.storage_url());
    emulator.shutdown().await;
    (body, video)
}

#[tokio::test]
async fn every_output_shape_carries_the_video() {
    for (shape, expected) in [
        (OutputShape::Video, json!({"video": "V"})),
        (OutputShape::Videos, json!({"videos": ["V"]})),
        (OutputShape::Url, json!("V")),
        (OutputShape::Urls, json!(["V"])),
        (
            OutputShape::UrlObjects,
            json!([{"url": "V", "content_type": "video/mp4"}]),
        ),
        (
            OutputShape::Nested,
            json!({"data": {"outputs": [{"type": "video", "file": {"url": "V"}}]}}),
        ),
    ] {
        let mut shapes = AnswerShapes::default();
        shapes.output = shape;
        let (body, video) = succeeded_result(shapes).await;
        let expected: Value =
            serde_json::from_str(&expected.to_string().replace('V', &video)).unwrap();
        assert_eq!(body["output"], expected, "{shape:?}");
    }
    let mut shapes = AnswerShapes::default();
    shapes.output = OutputShape::Outside;
    let (body, video) = succeeded_result(shapes).await;
    assert!(body.get("output").is_none(), "{body}");
    assert_eq!(body["videos"], json!([video]));
    shapes.output = OutputShape::WithImages;
    let (body, video) = succeeded_result(shapes).await;
    assert_eq!(body["output"]["video"], json!(video));
    assert!(
        body["output"]["image"]
            .as_str()
            .unwrap()
            .ends_with("/synthetic/4096")
    );
}

#[tokio::test]
async fn the_other_switches_change_only_what_they_say() {
    let mut shapes = AnswerShapes::default();
    shapes.malformed_cancel = true;
    shapes.errors_with_200 = true;
    shapes.string_numbers = true;
    let emulator = emulator(shapes).await;
    let client = Client::new(emulator.base_url());
    let _running = client.submit_ok().await;
    let queued = client.submit_ok().await;
    let status = client.status(&queued).await;
    assert_eq!(
        status.json()["queue_position"],
        "0",
        "a string, not a number"
    );

    let cancel = client.cancel(&queued).await;
    assert_eq!(cancel.status, 202);
    assert!(
        serde_json::from_slice::<Value>(&cancel.body).is_err(),
        "valid JSON"
    );
    let text = String::from_utf8_lossy(&cancel.body);
    assert!(
        text.contains("\"status\": \"cancelled\"\n  \"outcome\": \"cancelled\""),
        "{text}"
    );

    let missing = client.status("no-such-id").await;
    assert_eq!(missing.status, 200);
    assert_eq!(missing.json()["error_code"], 404001);
    emulator.shutdown().await;
}
