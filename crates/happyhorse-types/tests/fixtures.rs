//! Every example body from the API reference (and the variants it warns about) round-trips
//! through the generated types without losing or inventing anything; so does an example input of
//! every model (`fixtures/inputs/<short name>.json`).

use std::path::{Path, PathBuf};

use happyhorse_types::image_to_video::{Duration, ImageToVideoInput, Resolution, Seed};
use happyhorse_types::{
    CancelOutcome, CancelResponse, ErrorBody, ErrorCode, JobStatus, MODELS, Model, ResultResponse,
    ServiceError, StatusResponse, SubmitResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn text(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (every model needs an example input there: see docs/schemas.md)",
            path.display()
        )
    })
}

/// Parses `text` as `T` and checks that serialising it gives back exactly the same JSON.
fn round_trip<T: Serialize + DeserializeOwned>(name: &str, text: &str) -> T {
    let original: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let typed: T = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        serde_json::to_value(&typed).unwrap(),
        original,
        "{name} did not round-trip"
    );
    typed
}

#[test]
fn every_response_fixture_round_trips() {
    let mut checked = 0;
    for path in fixtures() {
        if path.is_dir() {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let body = std::fs::read_to_string(&path).unwrap();
        match name.split('.').next().unwrap() {
            "submit-request" => continue,
            _ if name.contains("invalid") => continue,
            "submit-response" => drop(round_trip::<SubmitResponse>(&name, &body)),
            "status-response" => drop(round_trip::<StatusResponse>(&name, &body)),
            "result-response" => drop(round_trip::<ResultResponse>(&name, &body)),
            "cancel-response" => drop(round_trip::<CancelResponse>(&name, &body)),
            "error-body" => drop(round_trip::<ErrorBody>(&name, &body)),
            other => panic!("fixture {name}: no type for the prefix `{other}`"),
        }
        checked += 1;
    }
    assert_eq!(checked, 14, "a fixture was added or lost");
}

#[test]
fn the_documented_cancel_example_is_rejected_clearly() {
    let err = serde_json::from_str::<CancelResponse>(&text("cancel-response.doc-invalid.json"))
        .unwrap_err();
    assert!(err.is_syntax(), "{err}");
    assert_eq!(err.to_string(), "expected `,` or `}` at line 1 column 44");
}

#[test]
fn the_seed_request_gets_the_schema_defaults() {
    let input: ImageToVideoInput = serde_json::from_str(&text("submit-request.seed.json")).unwrap();
    assert_eq!(input.resolution, Resolution::P1080);
    assert_eq!(input.duration, Duration::new(5).unwrap());
    assert_eq!(input.seed, Seed::MIN);
    assert!(!input.watermark);
    let built = ImageToVideoInput::new(input.image_url.clone(), input.prompt.clone());
    assert_eq!(built, input);
}

/// Reads `fixtures/inputs/<short name>.json` as `M`'s input: everything in it comes back
/// unchanged, and whatever else comes back is the schema's default for that field.
fn check_example_input<M: Model>() {
    let name = format!("inputs/{}.json", M::SPEC.short_name);
    let body = text(&name);
    let original: Value = serde_json::from_str(&body).unwrap();
    let typed: M::Input = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    let schema: Value = serde_json::from_str(M::SPEC.input_schema).unwrap();
    let original = original.as_object().unwrap();
    for (key, value) in back.as_object().unwrap() {
        match original.get(key) {
            Some(sent) => assert_eq!(sent, value, "{name}: `{key}` changed"),
            None => assert_eq!(
                Some(value),
                schema["properties"][key].get("default"),
                "{name}: `{key}` was added and is not the schema's default"
            ),
        }
    }
    let missing: Vec<&String> = original
        .keys()
        .filter(|k| back.get(k.as_str()).is_none())
        .collect();
    assert!(missing.is_empty(), "{name}: lost {missing:?}");
}

#[test]
fn every_model_has_an_example_input_that_round_trips() {
    macro_rules! check_all {
        ($($model:path),* $(,)?) => { [$({ check_example_input::<$model>(); }),*].len() };
    }
    assert_eq!(happyhorse_types::for_each_model!(check_all), MODELS.len());
}

#[test]
fn statuses_keep_both_vocabularies_and_unknown_values() {
    let status: StatusResponse =
        serde_json::from_str(&text("status-response.unknown-status.json")).unwrap();
    assert_eq!(status.status, JobStatus::Unknown("warming_up".into()));
    let status: StatusResponse = serde_json::from_str(&text("status-response.doc.json")).unwrap();
    assert_eq!(
        (status.status, status.queue_position),
        (JobStatus::InQueue, Some(3))
    );
    let result: ResultResponse = serde_json::from_str(&text("result-response.doc.json")).unwrap();
    assert_eq!(result.status, JobStatus::Succeeded);
    assert_eq!(
        result.output.unwrap()["video"],
        "https://playgrounds-storage-public.runcomfy.net/….mp4"
    );
    for (wire, status) in [
        ("canceled", JobStatus::Canceled),
        ("completed", JobStatus::Completed),
    ] {
        assert_eq!(JobStatus::from(wire), status);
        assert_eq!(status.as_str(), wire);
    }
}

#[test]
fn errors_arrive_as_strings_or_objects_and_codes_as_numbers_or_text() {
    let failed: ResultResponse =
        serde_json::from_str(&text("result-response.failed-string.json")).unwrap();
    assert_eq!(
        failed.error,
        Some(ServiceError::Message("content policy violation".into()))
    );
    let failed: ResultResponse =
        serde_json::from_str(&text("result-response.failed-object.json")).unwrap();
    let Some(ServiceError::Object(object)) = failed.error else {
        panic!("expected an object")
    };
    assert_eq!(object["message"], "upstream generation failed");
    let body: ErrorBody = serde_json::from_str(&text("error-body.bad-token.json")).unwrap();
    assert_eq!(body.error_code, Some(ErrorCode::Number(400004)));
    let body: ErrorBody = serde_json::from_str(&text("error-body.text-code.json")).unwrap();
    assert_eq!(body.error_code, Some(ErrorCode::Text("404001".into())));
    let cancel: CancelResponse =
        serde_json::from_str(&text("cancel-response.not-cancellable.json")).unwrap();
    assert_eq!(cancel.outcome, CancelOutcome::NotCancellable);
}

#[test]
fn unknown_fields_are_ignored() {
    let status: StatusResponse = serde_json::from_value(
        json!({"status": "in_progress", "eta_seconds": 12, "worker": {"id": 3}}),
    )
    .unwrap();
    assert_eq!(status.status, JobStatus::InProgress);
}

#[test]
fn out_of_range_values_cannot_be_deserialised() {
    let base = json!({"image_url": "https://example.com/a.png", "prompt": "p"});
    for (field, value, message) in [
        (
            "duration",
            json!(16),
            "duration: must be an integer from 3 to 15, got 16",
        ),
        (
            "duration",
            json!(2),
            "duration: must be an integer from 3 to 15, got 2",
        ),
        (
            "seed",
            json!(-1),
            "seed: must be an integer from 0 to 2147483647, got -1",
        ),
        (
            "seed",
            json!(2147483648_i64),
            "seed: must be an integer from 0 to 2147483647, got 2147483648",
        ),
        (
            "resolution",
            json!("4K"),
            "unknown variant `4K`, expected `720P` or `1080P`",
        ),
    ] {
        let mut body = base.clone();
        body[field] = value;
        let err = serde_json::from_value::<ImageToVideoInput>(body).unwrap_err();
        assert_eq!(err.to_string(), message);
    }
    assert_eq!(
        "4K".parse::<Resolution>().unwrap_err().to_string(),
        r#"resolution: must be one of "720P", "1080P", got 4K"#
    );
}
