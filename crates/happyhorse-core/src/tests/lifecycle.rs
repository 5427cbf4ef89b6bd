//! Every transition of a job, from submit or resume to each outcome.

use std::time::Duration;

use insta::assert_snapshot;

use super::harness::*;
use crate::vocabulary::JobState;
use crate::{
    ApiErrorKind, Error, JobConfig, Outcome, PollPhase, PollPolicy, RequestKind, Response,
};

fn fixed() -> JobConfig {
    JobConfig::default().with_poll(PollPolicy::fixed(Duration::from_secs(2)))
}

#[test]
fn default_policy_happy_path() {
    let mut script = vec![submitted("r1"), queued(3), queued(2), queued(1), running()];
    script.extend(std::iter::repeat_with(running).take(30));
    script.push(succeeded());
    let mut h = Harness::submit(JobConfig::default(), script);
    h.run();
    assert!(h.outcome().is_success());
    assert_eq!(h.count(RequestKind::Submit), 1);
    assert_snapshot!(h.trace());
}

#[test]
fn status_completed_is_read_on_result_at_once() {
    let mut h = Harness::submit(
        fixed(),
        vec![
            submitted("r1"),
            queued(1),
            ok(r#"{"status":"completed"}"#),
            succeeded(),
        ],
    );
    h.run();
    assert_snapshot!(h.trace());
    let Outcome::Succeeded { output, result, .. } = h.outcome() else {
        panic!("{}", h.trace())
    };
    assert_eq!(output["video"], "https://cdn.example/v.mp4");
    assert_eq!(result.status.as_str(), "succeeded");
}

#[test]
fn a_failure_reported_as_completed_on_status_and_failed_on_result() {
    let mut h = Harness::submit(
        fixed(),
        vec![
            submitted("r1"),
            ok(r#"{"status":"completed"}"#),
            ok(
                r#"{"status":"failed","error":{"type":"content_policy","message":"image rejected"}}"#,
            ),
        ],
    );
    h.run();
    let Outcome::Failed {
        request_id,
        failure,
    } = h.outcome()
    else {
        panic!("{}", h.trace())
    };
    assert_eq!(request_id.as_str(), "r1");
    assert_eq!(failure.to_string(), "content_policy: image rejected");
}

#[test]
fn a_failure_with_a_string_error_or_none() {
    for (body, message) in [
        (
            r#"{"status":"failed","error":"GPU exploded"}"#,
            "GPU exploded",
        ),
        (r#"{"status":"failed"}"#, "the service gave no reason"),
        (
            r#"{"status":"failed","error":{"code":42}}"#,
            r#"{"code":42}"#,
        ),
        (
            r#"{"status":"succeeded","error":"no output produced"}"#,
            "no output produced",
        ),
    ] {
        let mut h = Harness::resume(fixed(), "r9", vec![ok(body)]);
        h.run();
        let Outcome::Failed { failure, .. } = h.outcome() else {
            panic!("{body}: {}", h.trace())
        };
        assert_eq!(failure.to_string(), message, "{body}");
    }
}

#[test]
fn regressing_status_is_followed() {
    let mut h = Harness::submit(
        fixed(),
        vec![
            submitted("r1"),
            running(),
            ok(r#"{"status":"in_queue"}"#),
            queued(1),
            running(),
            succeeded(),
        ],
    );
    h.run();
    assert!(h.outcome().is_success());
    assert_snapshot!(h.trace());
}

#[test]
fn unknown_status_is_tolerated_then_followed() {
    let paused = || ok(r#"{"status":"paused"}"#);
    let mut h = Harness::submit(
        fixed(),
        vec![
            submitted("r1"),
            running(),
            paused(),
            paused(),
            running(),
            succeeded(),
        ],
    );
    h.run();
    assert!(h.outcome().is_success());
    assert_eq!(
        h.trace().matches("unrecognised status").count(),
        1,
        "{}",
        h.trace()
    );
}

#[test]
fn unknown_status_forever_ends_in_a_clear_error() {
    let config = fixed().with_unrecognised_limit(5, Duration::from_secs(600));
    let script = std::iter::repeat_with(|| ok(r#"{"status":"warming_up"}"#))
        .take(6)
        .collect();
    let mut h = Harness::resume(config, "r1", script);
    h.run();
    let Outcome::Abandoned { request_id, error } = h.outcome() else {
        panic!("{}", h.trace())
    };
    assert_eq!(request_id.as_ref().unwrap().as_str(), "r1");
    assert_eq!(
        error.to_string(),
        "the service reported the unrecognised status \"warming_up\" 6 times over 10s; this client may be too old"
    );
    assert_eq!(h.sent.len(), 6);
}

#[test]
fn unknown_status_is_bounded_by_time_too() {
    let config = JobConfig::default().with_unrecognised_limit(1000, Duration::from_secs(60));
    let mut h =
        Harness::resume_serving(config, "r1", Box::new(|_, _| ok(r#"{"status":"mystery"}"#)));
    h.run();
    assert!(matches!(
        h.outcome(),
        Outcome::Abandoned {
            error: Error::UnrecognisedStatus { .. },
            ..
        }
    ));
    assert!(
        h.elapsed() > Duration::from_secs(60) && h.elapsed() < Duration::from_secs(80),
        "{:?}",
        h.elapsed()
    );
}

#[test]
fn succeeded_without_output_is_polled_again() {
    let mut h = Harness::resume(
        fixed(),
        "r1",
        vec![ok(r#"{"status":"succeeded"}"#), succeeded()],
    );
    h.run();
    assert!(h.outcome().is_success(), "{}", h.trace());
    assert!(
        h.trace()
            .contains("unrecognised status \"succeeded (without output)\""),
        "{}",
        h.trace()
    );
}

#[test]
fn deadline_ends_the_job_without_cancelling_it() {
    let config = fixed().with_poll(
        PollPolicy::fixed(Duration::from_secs(2)).with_deadline(Some(Duration::from_secs(9))),
    );
    let mut h = Harness::submit(
        config,
        vec![submitted("r1"), queued(2), running(), running(), running()],
    );
    h.run();
    assert_snapshot!(h.trace());
    let Outcome::DeadlineExceeded {
        request_id,
        deadline,
        last_phase,
    } = h.outcome()
    else {
        panic!()
    };
    assert_eq!(request_id.as_ref().unwrap().as_str(), "r1");
    assert_eq!(*deadline, Duration::from_secs(9));
    assert!(matches!(last_phase, Some(PollPhase::Running { .. })));
    assert_eq!(h.count(RequestKind::Cancel), 0);
    assert_eq!(h.elapsed(), Duration::from_secs(9));
}

#[test]
fn deadline_during_a_held_poll_ends_at_the_deadline() {
    let config = fixed().with_poll(
        PollPolicy::fixed(Duration::from_secs(2)).with_deadline(Some(Duration::from_secs(5))),
    );
    let mut h = Harness::submit(config, vec![submitted("r1"), Reply::Hold]);
    h.run();
    assert!(!h.job.is_terminal());
    assert_eq!(h.job.poll_timeout(), Some(h.start + Duration::from_secs(5)));
    h.now = h.start + Duration::from_secs(5);
    h.job.handle_timeout(h.now);
    assert!(matches!(
        h.job.outcome(),
        Some(Outcome::DeadlineExceeded {
            request_id: Some(_),
            ..
        })
    ));
    h.release(running());
    assert!(
        matches!(h.job.outcome(), Some(Outcome::DeadlineExceeded { .. })),
        "a late answer changes nothing"
    );
}

#[test]
fn deadline_waits_for_an_in_flight_submit_to_keep_its_id() {
    let config = fixed().with_poll(
        PollPolicy::fixed(Duration::from_secs(2)).with_deadline(Some(Duration::from_secs(5))),
    );
    let mut h = Harness::submit(config, vec![Reply::Hold]);
    h.run();
    assert_eq!(
        h.job.poll_timeout(),
        None,
        "nothing to do but wait for the submit's answer"
    );
    h.now = h.start + Duration::from_secs(6);
    h.job.handle_timeout(h.now);
    assert!(!h.job.is_terminal());
    h.release(submitted("late1"));
    let Outcome::DeadlineExceeded { request_id, .. } = h.outcome() else {
        panic!("{}", h.trace())
    };
    assert_eq!(
        request_id.as_ref().unwrap().as_str(),
        "late1",
        "the id is not lost"
    );
}

#[test]
fn no_deadline_follows_for_as_long_as_it_takes() {
    let config = fixed().with_poll(PollPolicy::fixed(Duration::from_secs(60)).with_deadline(None));
    let mut script = vec![submitted("r1")];
    script.extend(std::iter::repeat_with(running).take(100));
    script.push(succeeded());
    let mut h = Harness::submit(config, script);
    h.run();
    assert!(h.outcome().is_success());
    assert!(h.elapsed() > Duration::from_secs(100 * 60));
}

#[test]
fn resume_reads_result_first_and_a_finished_job_costs_one_request() {
    let mut h = Harness::resume(fixed(), "r7", vec![succeeded()]);
    h.run();
    assert_snapshot!(h.trace());
    assert_eq!(h.sent.len(), 1);
    assert_eq!(h.elapsed(), Duration::ZERO);
}

#[test]
fn resume_of_a_queued_job_switches_to_status_for_the_position() {
    let mut h = Harness::resume(
        fixed(),
        "r7",
        vec![
            ok(r#"{"status":"in_queue"}"#),
            queued(4),
            running(),
            succeeded(),
        ],
    );
    h.run();
    let kinds: Vec<RequestKind> = h.sent.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        [
            RequestKind::Result,
            RequestKind::Status,
            RequestKind::Status,
            RequestKind::Result
        ]
    );
}

#[test]
fn urls_in_answers_are_ignored_and_paths_built_from_the_id() {
    let mut h = Harness::submit(
        fixed(),
        vec![
            ok(
                r#"{"request_id":"r1","status_url":"https://evil.example/x","result_url":"https://evil.example/y"}"#,
            ),
            completed(),
            succeeded(),
        ],
    );
    h.run();
    assert_eq!(h.sent[1].path, "/v1/requests/r1/status");
}

#[test]
fn include_cost_asks_result_for_it() {
    let mut h = Harness::resume(fixed().with_include_cost(true), "r1", vec![succeeded()]);
    h.run();
    assert_eq!(h.sent[0].path, "/v1/requests/r1/result?include_cost=true");
}

#[test]
fn an_error_on_http_200_ends_the_poll() {
    let mut h = Harness::resume(
        fixed(),
        "r1",
        vec![ok(
            r#"{"error_code":404001,"error_message":"request expired"}"#,
        )],
    );
    h.run();
    let Outcome::Abandoned {
        error: Error::Api(api),
        ..
    } = h.outcome()
    else {
        panic!("{}", h.trace())
    };
    assert_eq!((api.kind, api.http_status), (ApiErrorKind::NotFound, 200));
}

#[test]
fn an_unknown_request_ends_the_poll() {
    let mut h = Harness::resume(
        fixed(),
        "r1",
        vec![http(
            404,
            r#"{"error_code":404001,"error_message":"not found"}"#,
        )],
    );
    h.run();
    assert_eq!(
        h.outcome().to_string(),
        "stopped following job r1: no such request (HTTP 404, code 404001): not found — check the request id; results expire after a while"
    );
}

#[test]
fn submit_refusals_are_rejections_with_their_kind() {
    for (status, body, kind) in [
        (
            400,
            r#"{"error_code":400004,"error_message":"token revoked"}"#,
            ApiErrorKind::Unauthorized,
        ),
        (
            401,
            r#"{"message":"unauthorized"}"#,
            ApiErrorKind::Unauthorized,
        ),
        (
            400,
            r#"{"error_code":"400002","error_message":"no balance"}"#,
            ApiErrorKind::InsufficientBalance,
        ),
        (
            400,
            r#"{"error_code":400001,"error_message":"unknown model"}"#,
            ApiErrorKind::InvalidResource,
        ),
        (
            422,
            r#"{"detail":[{"loc":["body","duration"],"msg":"bad"}]}"#,
            ApiErrorKind::InvalidInput,
        ),
        (
            200,
            r#"{"error_code":400002,"error_message":"no balance"}"#,
            ApiErrorKind::InsufficientBalance,
        ),
    ] {
        let mut h = Harness::submit(fixed(), vec![http(status, body)]);
        h.run();
        let Outcome::Rejected { error } = h.outcome() else {
            panic!("{body}: {}", h.trace())
        };
        assert_eq!(error.kind, kind, "{body}");
        assert_eq!(h.sent.len(), 1, "a refused submit is not repeated");
    }
}

#[test]
fn an_unusable_request_id_is_an_unknown_submit_outcome() {
    let mut h = Harness::submit(fixed(), vec![ok(r#"{"request_id":"../../admin"}"#)]);
    h.run();
    let Outcome::SubmitOutcomeUnknown(unknown) = h.outcome() else {
        panic!("{}", h.trace())
    };
    assert!(matches!(unknown.reason, Error::InvalidRequestId(_)));
}

#[test]
fn terminal_states_absorb_everything() {
    let mut h = Harness::resume(fixed(), "r1", vec![succeeded()]);
    h.run();
    let before = h.outcome().clone();
    let now = h.now + Duration::from_secs(5);
    h.job.handle_timeout(now);
    h.job.handle_response(
        h.sent[0].id,
        Response::new(200, r#"{"status":"failed"}"#),
        now,
    );
    h.job.handle_transport_error(
        h.sent[0].id,
        crate::TransportError::MaybeSent("x".into()),
        now,
    );
    h.job.cancel(now);
    assert_eq!(h.job.poll_transmit(now + Duration::from_secs(3600)), None);
    assert_eq!(h.job.poll_timeout(), None);
    assert_eq!(h.outcome(), &before);
    assert_eq!(
        h.job.cancel_status(),
        Some(&crate::CancelStatus::AlreadyFinished)
    );
}

#[test]
fn answers_to_other_requests_are_ignored() {
    let mut h = Harness::submit(fixed(), vec![submitted("r1"), Reply::Hold, succeeded()]);
    h.run();
    let stale = h.sent[0].id;
    h.job
        .handle_response(stale, Response::new(200, r#"{"status":"failed"}"#), h.now);
    h.job
        .handle_transport_error(stale, crate::TransportError::NotSent("x".into()), h.now);
    assert!(!h.job.is_terminal());
    h.release(completed());
    h.run();
    assert!(h.outcome().is_success());
}

#[test]
fn vocabulary_states() {
    use crate::vocabulary::{state_from_result, state_from_status};
    let status = |json: &str| state_from_status(&serde_json::from_str(json).unwrap());
    let result = |json: &str| state_from_result(&serde_json::from_str(json).unwrap());
    assert_eq!(
        status(r#"{"status":"in_queue","queue_position":0}"#),
        JobState::Queued { position: Some(0) }
    );
    assert_eq!(
        status(r#"{"status":"in_queue"}"#),
        JobState::Queued { position: None }
    );
    assert_eq!(status(r#"{"status":"in_progress"}"#), JobState::Running);
    for finished in ["completed", "succeeded", "failed"] {
        assert_eq!(
            status(&format!(r#"{{"status":"{finished}"}}"#)),
            JobState::Finished
        );
    }
    for cancelled in ["cancelled", "canceled"] {
        assert_eq!(
            status(&format!(r#"{{"status":"{cancelled}"}}"#)),
            JobState::Cancelled
        );
        assert_eq!(
            result(&format!(r#"{{"status":"{cancelled}"}}"#)),
            JobState::Cancelled
        );
    }
    assert_eq!(
        status(r#"{"status":"x"}"#),
        JobState::Unrecognised { status: "x".into() }
    );
    assert_eq!(
        result(r#"{"status":"in_queue"}"#),
        JobState::Queued { position: None }
    );
    assert_eq!(result(r#"{"status":"in_progress"}"#), JobState::Running);
    assert!(matches!(
        result(r#"{"status":"completed","output":{}}"#),
        JobState::Succeeded { .. }
    ));
    assert!(matches!(
        result(r#"{"status":"failed","error":"x"}"#),
        JobState::Failed { .. }
    ));
    assert!(result(r#"{"status":"succeeded","output":{}}"#).is_terminal());
    assert!(!status(r#"{"status":"completed"}"#).is_terminal());
}
