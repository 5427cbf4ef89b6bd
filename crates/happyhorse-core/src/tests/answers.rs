//! How answers are read when they stray from the schema: optional fields of an unexpected type
//! are dropped, essential ones make the answer unreadable, and error bodies are read field by
//! field.

use super::harness::*;
use crate::oneshot;
use crate::vocabulary::{JobState, state_from_result, state_from_status};
use crate::{ApiErrorKind, Error, JobConfig, Outcome, RequestKind, Response};

fn protocol_error(error: Error) -> (RequestKind, String) {
    match error {
        Error::Protocol { request, what } => (request, what),
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[test]
fn optional_fields_of_an_unexpected_type_do_not_hide_a_finished_video() {
    let body = r#"{"status":"succeeded","output":{"video":"https://cdn.example/v.mp4"},
        "cost":"0.05","created_at":17,"request_id":["r1"],"error":42}"#;
    let result = oneshot::read_result(&Response::new(200, body)).unwrap();
    assert_eq!(result.request_id, None);
    assert_eq!(result.created_at, None);
    assert_eq!(result.error, None);
    let JobState::Succeeded { output } = state_from_result(&result) else {
        panic!("not succeeded: {result:?}");
    };
    assert_eq!(output["video"], "https://cdn.example/v.mp4");

    // Through a job: one result request, then success; no retries spent on the odd fields.
    let mut h = Harness::resume(JobConfig::default(), "r1", vec![ok(body)]);
    h.run();
    assert!(
        matches!(h.outcome(), Outcome::Succeeded { .. }),
        "{}",
        h.trace()
    );
    assert_eq!(h.sent.len(), 1, "{}", h.trace());
}

#[test]
fn a_failed_job_with_an_odd_error_field_is_still_failed() {
    let result = oneshot::read_result(&Response::new(200, r#"{"status":"failed","error":42}"#));
    let JobState::Failed { failure } = state_from_result(&result.unwrap()) else {
        panic!("not failed");
    };
    assert_eq!(failure.error, None);
}

#[test]
fn an_odd_output_matters_only_once_the_job_succeeded() {
    let running = oneshot::read_result(&Response::new(
        200,
        r#"{"status":"in_progress","output":"pending"}"#,
    ))
    .unwrap();
    assert_eq!(state_from_result(&running), JobState::Running);
    let failed =
        oneshot::read_result(&Response::new(200, r#"{"status":"failed","output":[]}"#)).unwrap();
    assert!(matches!(
        state_from_result(&failed),
        JobState::Failed { .. }
    ));
}

#[test]
fn an_odd_queue_position_leaves_the_position_unknown() {
    let status = oneshot::read_status(&Response::new(
        200,
        r#"{"status":"in_queue","queue_position":"3","status_url":5}"#,
    ))
    .unwrap();
    assert_eq!(
        state_from_status(&status),
        JobState::Queued { position: None }
    );
}

#[test]
fn essential_fields_of_an_unexpected_type_make_the_answer_unreadable() {
    let cases = [
        (
            RequestKind::Result,
            oneshot::read_result(&Response::new(
                200,
                r#"{"status":"succeeded","output":"https://cdn.example/v.mp4"}"#,
            ))
            .map(drop),
            "output",
        ),
        (
            RequestKind::Status,
            oneshot::read_status(&Response::new(200, r#"{"status":3}"#)).map(drop),
            "status",
        ),
        (
            RequestKind::Submit,
            oneshot::read_submit(&Response::new(200, r#"{"request_id":5}"#)).map(drop),
            "request_id",
        ),
        (
            RequestKind::Cancel,
            oneshot::read_cancel(&Response::new(200, r#"{"outcome":true}"#)).map(drop),
            "outcome",
        ),
    ];
    for (kind, read, field) in cases {
        let (request, what) = protocol_error(read.unwrap_err());
        assert_eq!(request, kind);
        assert!(
            what.starts_with(&format!("the body does not match the API: `{field}`: ")),
            "{kind}: {what}"
        );
    }
}

#[test]
fn error_bodies_are_read_field_by_field() {
    let error = oneshot::read_error(&Response::new(
        400,
        r#"{"error_code":400004,"error_message":["not","a","string"],"message":"token expired"}"#,
    ));
    assert_eq!(error.kind, ApiErrorKind::Unauthorized);
    assert_eq!(error.message.as_deref(), Some("token expired"));

    let mut limited = Response::new(429, "slow down");
    limited.retry_after = Some("7".into());
    let error = oneshot::read_error(&limited);
    assert_eq!(error.kind, ApiErrorKind::RateLimited);
    assert_eq!(error.message.as_deref(), Some("slow down"));
    assert_eq!(error.retry_after, Some(std::time::Duration::from_secs(7)));
}
