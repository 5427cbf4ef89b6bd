//! What the library refuses before sending anything, proven by the emulator's zero count: the
//! issue's damaged images, a NUL in a prompt, an unknown field (sent only when allowed), a token
//! that cannot be a header.

mod common;

use base64::Engine as _;
use common::{client_for, emulator, input};
use happyhorse_core::validate::blank_png;
use happyhorse_http::{Client, ErrorKind};
use happyhorse_types::image_to_video::ImageToVideo;
use serde_json::{Value, json};

fn data_uri(bytes: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn with(field: &str, value: Value) -> Value {
    let mut body = serde_json::to_value(input("A horse trots")).unwrap();
    body[field] = value;
    body
}

/// A well-formed 70-byte PNG (valid CRCs) whose header declares 100000 × 100000 pixels.
fn png_header_claiming_100000_squared() -> Vec<u8> {
    let mut png = blank_png(1, 1);
    png[16..24].copy_from_slice(&[0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0]);
    let crc = crc32fast::hash(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

#[tokio::test]
async fn bad_inputs_are_refused_with_structure_before_any_request() {
    let emulator = emulator(50).start().await.unwrap();
    let client = client_for(&emulator).build().unwrap();
    let real = blank_png(1000, 1000);
    let mut no_idat = real[..33].to_vec();
    no_idat.extend_from_slice(&real[real.len() - 12..]);
    let sof_only = [
        0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x03, 0x20, 0x04, 0xB0, 1, 1, 0x11, 0,
    ];
    let cases = [
        (
            "image_url",
            json!(data_uri(&png_header_claiming_100000_squared())),
            "image_data_size",
        ),
        ("image_url", json!(data_uri(&no_idat)), "image_no_data"),
        ("image_url", json!(data_uri(&real[..40])), "image_truncated"),
        ("image_url", json!(data_uri(&sof_only)), "image_truncated"),
        ("prompt", json!("A horse\u{0} trots"), "control_character"),
        ("durration", json!(12), "unknown_field"),
    ];
    for (field, value, rule) in cases {
        let error = client
            .submit_json::<ImageToVideo>(&with(field, value))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{rule}: {error}");
        let rules = error.input_errors().expect("structured input errors");
        assert_eq!(
            (
                rules.errors()[0].field.as_str(),
                rules.errors()[0].rule.as_str()
            ),
            (field, rule),
            "{error}"
        );
    }
    assert_eq!(emulator.stats().requests_total, 0, "something was sent");
    let error = client
        .submit_json::<ImageToVideo>(&with("durration", json!(12)))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("did you mean \"duration\"?"),
        "{error}"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_fields_are_sent_only_when_allowed() {
    let emulator = emulator(50).start().await.unwrap();
    let client = client_for(&emulator)
        .allow_unknown_fields(true)
        .build()
        .unwrap();
    let body = with("added_by_the_service_later", json!(true));
    let job = client.submit_json::<ImageToVideo>(&body).await.unwrap();
    assert!(!job.request_id().is_empty());
    assert_eq!(emulator.stats().submissions_of(&body), 1);
    emulator.shutdown().await;
}

#[test]
fn a_token_that_cannot_be_a_header_is_refused_without_being_repeated() {
    for token in ["tökén-canary", "canary token", "canary\r\nX-Injected: 1"] {
        let error = Client::builder().token(token).build().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config);
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("canary"), "{shown}");
        assert!(
            shown.contains("cannot be sent in an HTTP header"),
            "{shown}"
        );
    }
}
