//! The schema schemars derives from each generated type equals the checked-in schema, after the
//! normalisation documented in docs/schemas.md: `$schema` and numeric `format`s are dropped,
//! `additionalProperties: true` (the default) is dropped, a `description` equal to the `title` is
//! dropped (schemars reads a one-line doc comment as a description), and `required` is compared as
//! a set.

use happyhorse_types::image_to_video::{ImageToVideoInput, ImageToVideoOutput};
use happyhorse_types::{
    CancelOutcome, CancelResponse, ErrorBody, ErrorCode, JobStatus, QUEUE_API_SCHEMA,
    ResultResponse, ServiceError, StatusResponse, SubmitResponse, model_spec,
};
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::Value;

fn normalise(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("$schema");
            if map.get("additionalProperties") == Some(&Value::Bool(true)) {
                map.remove("additionalProperties");
            }
            if matches!(
                map.get("type").and_then(Value::as_str),
                Some("integer" | "number")
            ) {
                map.remove("format");
            }
            if map.contains_key("title") && map.get("description") == map.get("title") {
                map.remove("description");
            }
            if let Some(Value::Array(required)) = map.get_mut("required") {
                required.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
            map.values_mut().for_each(normalise);
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

/// The derived schema of `T` and the `$defs` it refers to.
fn derived<T: JsonSchema>() -> (Value, serde_json::Map<String, Value>) {
    let mut generator = SchemaGenerator::default();
    let mut schema = generator.root_schema_for::<T>().to_value();
    let defs = schema
        .as_object_mut()
        .unwrap()
        .remove("$defs")
        .and_then(|d| d.as_object().cloned())
        .unwrap_or_default();
    normalise(&mut schema);
    (schema, defs)
}

fn checked_in(text: &str) -> Value {
    let mut value: Value = serde_json::from_str(text).unwrap();
    normalise(&mut value);
    value
}

#[test]
fn model_schemas_match_the_checked_in_ones() {
    let spec = model_spec("happyhorse/happyhorse-1.0/image-to-video").unwrap();
    let (input, defs) = derived::<ImageToVideoInput>();
    assert!(
        defs.is_empty(),
        "input types are inlined like the checked-in schema: {defs:?}"
    );
    assert_eq!(input, checked_in(spec.input_schema));
    let (output, _) = derived::<ImageToVideoOutput>();
    assert_eq!(output, checked_in(spec.output_schema));
}

#[test]
fn queue_envelopes_match_the_checked_in_defs() {
    let queue = checked_in(QUEUE_API_SCHEMA);
    let expected = queue["$defs"].as_object().unwrap();
    let mut seen = serde_json::Map::new();
    let mut check = |name: &str, (schema, defs): (Value, serde_json::Map<String, Value>)| {
        assert_eq!(&schema, &expected[name], "{name}");
        for (def, mut value) in defs {
            normalise(&mut value);
            assert_eq!(&value, &expected[&def], "{def} (used by {name})");
            seen.insert(def, Value::Null);
        }
        seen.insert(name.to_owned(), Value::Null);
    };
    check("SubmitResponse", derived::<SubmitResponse>());
    check("StatusResponse", derived::<StatusResponse>());
    check("ResultResponse", derived::<ResultResponse>());
    check("CancelResponse", derived::<CancelResponse>());
    check("ErrorBody", derived::<ErrorBody>());
    check("JobStatus", derived::<JobStatus>());
    check("CancelOutcome", derived::<CancelOutcome>());
    check("ServiceError", derived::<ServiceError>());
    check("ErrorCode", derived::<ErrorCode>());
    let mut missing: Vec<&String> = expected.keys().filter(|k| !seen.contains_key(*k)).collect();
    missing.sort();
    assert!(
        missing.is_empty(),
        "checked-in $defs without a type: {missing:?}"
    );
}
