//! How answers are read when they stray from the schema — every shape the service may plausibly
//! send, through the one reader and through a whole job (scripted server, manual clock).

use serde_json::json;

use super::harness::*;
use crate::oneshot;
use crate::vocabulary::{JobState, output_files};
use crate::{ApiErrorKind, CancelStatus, Error, Event, JobConfig, Outcome, RequestKind, Response};

fn protocol_error(error: Error) -> (RequestKind, String) {
    match error {
        Error::Protocol { request, what } => (request, what),
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

/// The URLs a job that ends on `result` succeeds with, read through a whole resumed job.
fn job_files(result: &str) -> Vec<String> {
    let mut h = Harness::resume(JobConfig::default(), "r1", vec![ok(result)]);
    h.run();
    let Outcome::Succeeded { output, .. } = h.outcome() else {
        panic!("not succeeded:\n{}", h.trace());
    };
    assert_eq!(h.sent.len(), 1, "{}", h.trace());
    output_files(output).into_iter().map(|f| f.url).collect()
}

#[test]
fn every_plausible_output_shape_ends_the_job_succeeded_with_its_files() {
    let v = "https://cdn.example/v.mp4";
    let i = "https://cdn.example/i.png";
    let cases = [
        (json!({"video": v}), vec![v]),
        (json!({"videos": [v]}), vec![v]),
        (json!(v), vec![v]),
        (json!([v, i]), vec![v, i]),
        (json!([{"url": v}]), vec![v]),
        (
            json!({"data": {"outputs": [{"file": {"url": v}}]}}),
            vec![v],
        ),
        (json!({"image": i, "video": v}), vec![v, i]),
        (json!({"images": [i], "videos": [v, v]}), vec![v, i]),
    ];
    for (output, expected) in cases {
        let body = json!({"status": "succeeded", "output": output}).to_string();
        assert_eq!(job_files(&body), expected, "{body}");
        let completed = json!({"status": "completed", "output": output}).to_string();
        assert_eq!(job_files(&completed), expected, "{completed}");
    }
}

#[test]
fn a_succeeded_result_with_its_urls_outside_output_still_yields_them() {
    let body = r#"{"status":"succeeded","request_id":"r1","result_url":"https://api/x","videos":["https://cdn.example/v.mp4"]}"#;
    assert_eq!(job_files(body), ["https://cdn.example/v.mp4"]);
}

#[test]
fn a_succeeded_result_without_any_url_succeeds_with_no_files() {
    let body = r#"{"status":"succeeded","output":{"note":"done","seconds":5}}"#;
    assert!(job_files(body).is_empty());
}

#[test]
fn optional_fields_of_an_unexpected_type_do_not_hide_a_finished_video() {
    let body = r#"{"status":"succeeded","output":{"video":"https://cdn.example/v.mp4"},
        "cost":"cheap","created_at":17,"request_id":["r1"],"error":42}"#;
    let result = oneshot::read_result(&Response::new(200, body)).unwrap();
    assert_eq!(result.answer.request_id, None);
    assert_eq!(result.answer.created_at, None);
    assert_eq!(result.answer.cost, None);
    assert_eq!(result.files.len(), 1);
    assert_eq!(job_files(body), ["https://cdn.example/v.mp4"]);
}

#[test]
fn whole_queue_positions_written_as_fractions_are_read_and_the_rest_dropped() {
    // Found by the fuzz mirror: `-0.0` is the whole number 0.
    for (sent, read) in [
        ("-0.0", Some(0)),
        ("3.0", Some(3)),
        ("\"-0\"", Some(0)),
        ("\" 2.0 \"", Some(2)),
        ("2.5", None),
        ("-1", None),
        ("1e300", None),
    ] {
        let body = format!(r#"{{"status":"in_queue","queue_position":{sent}}}"#);
        let status = oneshot::read_status(&Response::new(200, body.as_str())).unwrap();
        assert_eq!(status.state, JobState::Queued { position: read }, "{sent}");
    }
}

#[test]
fn numbers_sent_as_strings_are_read_as_numbers() {
    let status = oneshot::read_status(&Response::new(
        200,
        r#"{"status":"in_queue","queue_position":" 3 ","status_url":5}"#,
    ))
    .unwrap();
    assert_eq!(status.state, JobState::Queued { position: Some(3) });
    let result = oneshot::read_result(&Response::new(
        200,
        r#"{"status":"succeeded","output":{"video":"https://c/v.mp4"},"cost":"0.05"}"#,
    ))
    .unwrap();
    assert_eq!(result.answer.cost, Some(0.05));

    // Through a job: the position is reported as a number.
    let mut h = Harness::submit(
        JobConfig::default(),
        vec![
            submitted("r1"),
            ok(r#"{"status":"in_queue","queue_position":"4"}"#),
            completed(),
            succeeded(),
        ],
    );
    h.run();
    assert!(h.trace().contains("queued at Some(4)"), "{}", h.trace());
}

#[test]
fn a_failed_job_with_an_odd_error_field_is_still_failed() {
    let result =
        oneshot::read_result(&Response::new(200, r#"{"status":"failed","error":42}"#)).unwrap();
    let JobState::Failed { failure } = result.state else {
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
    assert_eq!(running.state, JobState::Running);
    assert!(running.files.is_empty());
    let failed =
        oneshot::read_result(&Response::new(200, r#"{"status":"failed","output":[]}"#)).unwrap();
    assert!(matches!(failed.state, JobState::Failed { .. }));
}

#[test]
fn essential_fields_of_an_unexpected_type_make_the_answer_unreadable() {
    let cases = [
        (
            RequestKind::Status,
            oneshot::read_status(&Response::new(200, r#"{"status":3}"#)).map(drop),
            "status",
        ),
        (
            RequestKind::Result,
            oneshot::read_result(&Response::new(200, r#"{"status":{"a":1}}"#)).map(drop),
            "status",
        ),
        (
            RequestKind::Submit,
            oneshot::read_submit(&Response::new(200, r#"{"request_id":["r1"]}"#)).map(drop),
            "request_id",
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
fn errors_sent_with_http_200_end_the_job_as_errors() {
    let mut h = Harness::resume(
        JobConfig::default(),
        "r1",
        vec![ok(r#"{"error_code":404001,"error_message":"expired"}"#)],
    );
    h.run();
    let Outcome::Abandoned { error, .. } = h.outcome() else {
        panic!("{}", h.trace());
    };
    assert!(
        matches!(error, Error::Api(api) if api.kind == ApiErrorKind::NotFound && api.http_status == 200)
    );
    assert!(
        !h.outcome().can_resume(),
        "an expired id cannot be waited for"
    );
}

#[test]
fn an_unknown_status_is_reported_as_an_event_not_dropped() {
    let mut h = Harness::resume(
        JobConfig::default(),
        "r1",
        vec![ok(r#"{"status":"warming_up"}"#), succeeded()],
    );
    h.run();
    assert!(h.outcome().is_success());
    assert!(
        h.trace().contains(r#"unrecognised status "warming_up""#),
        "{}",
        h.trace()
    );
}

#[test]
fn a_malformed_cancel_answer_settles_the_cancel_without_an_error() {
    // Queued; the cancel's 202 is the documentation's own example, missing its comma.
    let body = "{\"request_id\": \"r1\", \"status\": \"cancelled\"\n \"outcome\": \"cancelled\"}";
    let mut h = Harness::resume_serving(
        JobConfig::default(),
        "r1",
        routed(
            vec![],
            vec![queued(2)],
            vec![ok(r#"{"status":"in_queue"}"#)],
            vec![http(202, body)],
        ),
    );
    h.run_until(std::time::Duration::from_millis(1));
    h.cancel().run();
    assert!(
        matches!(h.outcome(), Outcome::Cancelled { .. }),
        "{}",
        h.trace()
    );
    assert_eq!(h.job.cancel_status(), Some(&CancelStatus::Cancelled));
    assert_eq!(
        h.count(RequestKind::Cancel),
        1,
        "not retried: {}",
        h.trace()
    );
}

#[test]
fn an_accepted_cancel_without_a_verdict_is_verified_by_the_next_poll() {
    let mut h = Harness::resume_serving(
        JobConfig::default(),
        "r1",
        routed(
            vec![],
            vec![running(), succeeded()],
            vec![ok(r#"{"status":"in_queue"}"#), succeeded()],
            vec![http(202, "accepted")],
        ),
    );
    h.run_until(std::time::Duration::from_millis(1));
    h.cancel().run();
    assert_eq!(
        h.job.cancel_status(),
        Some(&CancelStatus::TooLate),
        "{}",
        h.trace()
    );
    assert!(h.outcome().is_success(), "{}", h.trace());
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

#[test]
fn details_are_one_item_per_line_and_bounded() {
    let items: Vec<_> = (0..30)
        .map(|i| json!({"loc": ["body", i], "msg": "x".repeat(400)}))
        .collect();
    let error = oneshot::read_error(&Response::new(422, json!({"detail": items}).to_string()));
    let lines = error.detail_lines();
    assert_eq!(lines.len(), crate::DETAIL_MAX_ITEMS + 1);
    assert!(lines[0].starts_with("body.0: xxx"));
    assert!(lines[0].ends_with("… (408 characters)"), "{}", lines[0]);
    assert_eq!(lines.last().unwrap(), "… and 10 more");
    let error = oneshot::read_error(&Response::new(422, r#"{"detail":"one\ntwo\n"}"#));
    assert_eq!(error.detail_lines(), ["one", "two"]);
}

#[test]
fn a_failed_submit_never_advises_trying_again_when_a_job_may_exist() {
    let mut h = Harness::submit(JobConfig::default(), vec![http(503, "busy")]);
    h.run();
    let Outcome::SubmitOutcomeUnknown(_) = h.outcome() else {
        panic!("{}", h.trace());
    };
    let message = h.outcome().to_string();
    assert!(!message.to_lowercase().contains("try again"), "{message}");
    assert!(message.contains("may bill twice"), "{message}");
    assert!(message.contains("request list"), "{message}");
    assert!(!h.outcome().can_resume());
}

#[test]
fn events_and_verdicts_read_well() {
    assert_eq!(
        Event::Queued { position: Some(3) }.to_string(),
        "queued (position 3)"
    );
    assert_eq!(
        CancelStatus::TooLate.to_string(),
        "not cancelled: the job is already running and will be billed when it finishes"
    );
}
