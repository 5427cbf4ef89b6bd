//! The schema schemars derives from each generated type equals the checked-in schema, for every
//! model and every queue envelope, after the normalisation documented in docs/schemas.md (see
//! `support::normalise`).

mod support;

use happyhorse_types::{
    CancelOutcome, CancelResponse, ErrorBody, ErrorCode, JobStatus, MODELS, QUEUE_API_SCHEMA,
    ResultResponse, ServiceError, StatusResponse, SubmitResponse,
};
use serde_json::Value;
use support::{assert_model_schemas_match, checked_in, derived, normalise};

#[test]
fn every_model_schema_matches_the_checked_in_one() {
    macro_rules! check_all {
        ($($model:path),* $(,)?) => {{
            $( assert_model_schemas_match::<$model>(); )*
            [$(<$model as happyhorse_types::Model>::SPEC.id),*]
        }};
    }
    let checked = happyhorse_types::for_each_model!(check_all);
    let all: Vec<&str> = MODELS.iter().map(|spec| spec.id).collect();
    assert_eq!(checked.as_slice(), all.as_slice());
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
