//! Answers a hostile or careless server may send, found by review of the one reader: each one
//! used to lose a paid job, invite paying twice, or mislead. Scripted server, manual clock.

use serde_json::json;

use super::harness::*;
use crate::oneshot;
use crate::vocabulary::{CancelVerdict, JobState, output_files};
use crate::{ApiErrorKind, Error, JobConfig, Outcome, RequestKind, Response};

/// The state a `/status` and a `/result` answer with `status` read as.
fn states(status: &str) -> (JobState, JobState) {
    let body = json!({"status": status}).to_string();
    let from_status = oneshot::read_status(&Response::new(200, body.as_str())).unwrap();
    let from_result = oneshot::read_result(&Response::new(200, body.as_str())).unwrap();
    (from_status.state, from_result.state)
}

#[test]
fn status_words_in_any_case_or_spacing_and_their_common_synonyms_are_known() {
    let queued = JobState::Queued { position: None };
    for word in [
        "IN_QUEUE",
        " in_queue ",
        "In-Queue",
        "pending",
        "Waiting",
        "queued",
    ] {
        assert_eq!(states(word), (queued.clone(), queued.clone()), "{word:?}");
    }
    for word in [
        "IN_PROGRESS",
        "in progress",
        "processing",
        "Starting",
        "running",
    ] {
        assert_eq!(
            states(word),
            (JobState::Running, JobState::Running),
            "{word:?}"
        );
    }
    for word in ["CANCELLED", "Canceled "] {
        assert_eq!(
            states(word),
            (JobState::Cancelled, JobState::Cancelled),
            "{word:?}"
        );
    }
    for word in ["COMPLETED", "Succeeded", " success "] {
        assert_eq!(states(word).0, JobState::Finished, "{word:?}");
        let body = json!({"status": word, "output": {"video": "https://s/v.mp4"}}).to_string();
        let result = oneshot::read_result(&Response::new(200, body.as_str())).unwrap();
        assert_eq!(result.files.len(), 1, "{word:?}");
    }
    let body = json!({"status": "FAILED", "error": "boom"}).to_string();
    let result = oneshot::read_result(&Response::new(200, body.as_str())).unwrap();
    assert!(matches!(result.state, JobState::Failed { .. }));
    // A word it does not know stays as sent.
    assert_eq!(
        states("Warming_Up").0,
        JobState::Unrecognised {
            status: "Warming_Up".into()
        }
    );
}

#[test]
fn a_job_reported_as_processing_for_long_is_followed_to_its_video() {
    // Past the unrecognised-status limit (20 answers): the job used to be abandoned while it ran.
    let mut script = vec![ok(r#"{"status":"pending"}"#)];
    script.extend((0..40).map(|_| ok(r#"{"status":"Processing"}"#)));
    script.push(ok(
        r#"{"status":"SUCCEEDED","output":{"video":"https://cdn.example/v.mp4"}}"#,
    ));
    let mut h = Harness::resume(JobConfig::default(), "r1", script);
    h.run();
    assert!(h.outcome().is_success(), "{}", h.trace());
}

#[test]
fn cancel_words_in_any_case_or_spacing_are_read() {
    let read = |status: u16, body: &str| oneshot::read_cancel(&Response::new(status, body));
    let body = r#"{"outcome":"Not-Cancellable","status":"IN_PROGRESS"}"#;
    assert_eq!(read(202, body).unwrap(), CancelVerdict::TooLate);
    let body = "{\"outcome\": \"CANCELLED\" \"status\": \"Cancelled\"}";
    assert_eq!(read(202, body).unwrap(), CancelVerdict::Cancelled);
    assert_eq!(
        read(
            202,
            r#"{"outcome":"not_cancellable","status":"processing"}"#
        )
        .unwrap(),
        CancelVerdict::TooLate
    );
}

#[test]
fn a_cancel_refused_with_its_verdict_is_that_verdict_not_an_error() {
    let read = |status: u16, body: &str| oneshot::read_cancel(&Response::new(status, body));
    let running = r#"{"request_id":"r1","status":"in_progress","outcome":"not_cancellable"}"#;
    assert_eq!(read(409, running).unwrap(), CancelVerdict::TooLate);
    assert_eq!(read(400, running).unwrap(), CancelVerdict::TooLate);
    assert_eq!(
        read(400, r#"{"outcome":"not_cancellable"}"#).unwrap(),
        CancelVerdict::NotCancellable
    );
    // No outcome, or a code that says nothing went wrong: what the body says decides.
    let error = read(404, r#"{"error_code":404001,"status":"in_progress"}"#).unwrap_err();
    assert!(matches!(error, Error::Api(ref e) if e.kind == ApiErrorKind::NotFound));
    assert!(read(503, running).unwrap_err().is_retryable());
    assert_eq!(
        read(200, r#"{"error_code":0,"outcome":"cancelled"}"#).unwrap(),
        CancelVerdict::Cancelled
    );
    // A 400 on a call that sends no input does not say "check the input".
    let error = read(400, r#"{"error_message":"bad request"}"#).unwrap_err();
    assert!(!error.to_string().contains("input against"), "{error}");
}

#[test]
fn a_submit_answer_with_an_id_is_a_job_whatever_its_error_code_says() {
    for body in [
        r#"{"error_code":0,"error_message":"success","request_id":"r1"}"#,
        r#"{"error_code":"0","request_id":"r1"}"#,
        r#"{"error_code":"OK","request_id":"r1"}"#,
        r#"{"error_code":null,"request_id":"r1"}"#,
        r#"{"error_code":400002,"error_message":"odd","request_id":"r1"}"#,
        r#"{"request_id":" r1 "}"#,
    ] {
        let (id, _) = oneshot::read_submit(&Response::new(200, body))
            .unwrap_or_else(|e| panic!("{body}: {e}"));
        assert_eq!(id.as_str(), "r1", "{body}");
        let script = vec![ok(body), completed(), succeeded()];
        let mut h = Harness::submit(JobConfig::default(), script);
        h.run();
        assert!(h.outcome().is_success(), "{body}\n{}", h.trace());
    }
    let (id, _) = oneshot::read_submit(&Response::new(200, r#"{"request_id":12345}"#)).unwrap();
    assert_eq!(id.as_str(), "12345");
    // Without an id, a code that says "error" on HTTP 200 is still a refusal.
    let mut h = Harness::submit(
        JobConfig::default(),
        vec![ok(r#"{"error_code":400002,"error_message":"no balance"}"#)],
    );
    h.run();
    assert!(
        matches!(h.outcome(), Outcome::Rejected { error } if error.kind == ApiErrorKind::InsufficientBalance),
        "{}",
        h.trace()
    );
    // And a code that says "no error" is not one on any call.
    let status = oneshot::read_status(&Response::new(
        200,
        r#"{"error_code":0,"status":"in_queue"}"#,
    ));
    assert!(status.is_ok());
}

#[test]
fn whole_numbers_written_as_fractions_are_read() {
    for position in [r#""3.0""#, "3.0", r#""3e0""#, r#"" 3 ""#] {
        let body = format!(r#"{{"status":"in_queue","queue_position":{position}}}"#);
        let report = oneshot::read_status(&Response::new(200, body.as_str())).unwrap();
        assert_eq!(
            report.state,
            JobState::Queued { position: Some(3) },
            "{position}"
        );
    }
    for position in [
        r#""-1""#,
        "-1",
        r#""NaN""#,
        r#""1e40""#,
        "2.5",
        r#""three""#,
    ] {
        let body = format!(r#"{{"status":"in_queue","queue_position":{position}}}"#);
        let report = oneshot::read_status(&Response::new(200, body.as_str())).unwrap();
        assert_eq!(
            report.state,
            JobState::Queued { position: None },
            "{position}"
        );
    }
}

#[test]
fn a_success_without_output_ends_as_a_success_without_files_not_as_abandoned() {
    let config =
        JobConfig::default().with_unrecognised_limit(3, std::time::Duration::from_secs(600));
    for body in [
        r#"{"status":"succeeded"}"#,
        r#"{"status":"succeeded","output":null}"#,
        r#"{"status":"Completed","output":null}"#,
    ] {
        let mut h = Harness::resume(config.clone(), "r1", vec![ok(body); 4]);
        h.run();
        let Outcome::Succeeded { output, .. } = h.outcome() else {
            panic!("{body}:\n{}", h.trace());
        };
        assert!(
            output.is_null() && output_files(output).is_empty(),
            "{body}"
        );
        assert_eq!(
            h.count(RequestKind::Result),
            4,
            "waited for the output first"
        );
        // One look (`happyhorse result`): a success without files, not an unknown status.
        let report = oneshot::read_result(&Response::new(200, body)).unwrap();
        assert_eq!(
            report.state,
            JobState::Succeeded {
                output: serde_json::Value::Null
            },
            "{body}"
        );
    }
    // An unknown status past the limit is still given up on.
    let mut h = Harness::resume(config, "r1", vec![ok(r#"{"status":"mystery"}"#); 4]);
    h.run();
    assert!(matches!(
        h.outcome(),
        Outcome::Abandoned {
            error: Error::UnrecognisedStatus { .. },
            ..
        }
    ));
}

#[test]
fn urls_with_unencoded_spaces_or_several_in_one_string_are_all_files() {
    let urls = |output| {
        output_files(&output)
            .into_iter()
            .map(|f| f.url)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        urls(json!({"video": " https://s/my clip.mp4 "})),
        ["https://s/my clip.mp4"]
    );
    assert_eq!(
        urls(json!(["https://s/my dir/a b.png?sig=x y"])),
        ["https://s/my dir/a b.png?sig=x y"]
    );
    assert_eq!(
        urls(json!("HTTPS://s/a.mp4\nhttps://s/b.png")),
        ["HTTPS://s/a.mp4", "https://s/b.png"]
    );
    // Prose that mentions a URL or starts with one, and a scheme without a host, are not files.
    let prose = [
        "see https://s/z",
        "https://status.example is degraded",
        "https://s/incidents is degraded",
        "https://s/a.mp4 (expires in 1h)",
        "https:// s/x",
        "https://",
    ];
    assert!(urls(json!(prose)).is_empty());
}

#[test]
fn many_thousands_of_urls_are_read_once_each_in_order() {
    let many: Vec<String> = (0..50_000).map(|i| format!("https://s/{i}.png")).collect();
    let mut output = many.clone();
    output.extend(many.iter().take(10).cloned());
    output.push("https://s/7.png".into());
    let files = output_files(&json!({"images": output, "video": "https://s/3.png"}));
    assert_eq!(files.len(), many.len());
    assert_eq!(
        files[0].url, "https://s/3.png",
        "a video by its key comes first"
    );
    assert!(
        files[1..]
            .iter()
            .map(|f| &f.url)
            .eq(many.iter().filter(|u| *u != "https://s/3.png"))
    );
}
