//! Retries: which failures are retried, how long the job waits, when it gives up, and the
//! submit's special rule (repeated only when the transport proves it never left).

use std::time::Duration;

use insta::assert_snapshot;

use super::harness::*;
use crate::{
    Error, JobConfig, Outcome, PollPolicy, RequestKind, Response, RetryPolicy, TransportError,
};

fn fixed() -> JobConfig {
    JobConfig::default().with_poll(PollPolicy::fixed(Duration::from_secs(2)))
}

#[test]
fn server_errors_then_success() {
    let mut h = Harness::submit(
        fixed(),
        vec![
            submitted("r1"),
            http(503, "upstream unavailable"),
            http(500, r#"{"message":"oops"}"#),
            running(),
            succeeded(),
        ],
    );
    h.run();
    assert!(h.outcome().is_success());
    assert_snapshot!(h.trace());
}

#[test]
fn rate_limit_with_retry_after_seconds_is_honoured() {
    let limited =
        Reply::Respond(Response::new(429, r#"{"message":"slow down"}"#).with_retry_after("7"));
    let mut h = Harness::submit(
        fixed(),
        vec![submitted("r1"), limited, running(), succeeded()],
    );
    h.run();
    assert!(h.outcome().is_success());
    assert_eq!(h.gap_before(2), Duration::from_secs(7));
}

#[test]
fn retry_after_as_a_date_is_read_against_the_date_header() {
    let limited = Reply::Respond(
        Response::new(503, "")
            .with_retry_after("Wed, 21 Oct 2015 07:28:20 GMT")
            .with_date("Wed, 21 Oct 2015 07:28:00 GMT"),
    );
    let mut h = Harness::submit(
        fixed(),
        vec![submitted("r1"), limited, completed(), succeeded()],
    );
    h.run();
    assert_eq!(h.gap_before(2), Duration::from_secs(20));
}

#[test]
fn a_huge_retry_after_is_clamped() {
    let limited = Reply::Respond(Response::new(429, "").with_retry_after("86400"));
    let mut h = Harness::submit(
        fixed(),
        vec![submitted("r1"), limited, completed(), succeeded()],
    );
    h.run();
    assert_eq!(h.gap_before(2), Duration::from_secs(60));
}

#[test]
fn retry_after_on_a_successful_poll_slows_the_next_one() {
    let slow =
        Reply::Respond(Response::new(200, r#"{"status":"in_progress"}"#).with_retry_after("9"));
    let mut h = Harness::submit(fixed(), vec![submitted("r1"), slow, succeeded()]);
    h.run();
    assert_eq!(h.gap_before(2), Duration::from_secs(9));
}

#[test]
fn transport_failures_and_garbled_answers_are_retried() {
    let mut h = Harness::submit(
        fixed(),
        vec![
            submitted("r1"),
            maybe_sent(),
            not_sent(),
            ok("<html>proxy error</html>"),
            ok(r#"{"no":"status"}"#),
            completed(),
            succeeded(),
        ],
    );
    h.run();
    assert!(h.outcome().is_success(), "{}", h.trace());
    assert_eq!(
        h.trace().matches("event retrying status").count(),
        4,
        "{}",
        h.trace()
    );
}

#[test]
fn retries_give_up_after_max_attempts() {
    let config = fixed().with_retry(RetryPolicy::default().with_max_attempts(3));
    let mut h = Harness::submit(
        config,
        vec![submitted("r1"), http(502, ""), http(502, ""), http(502, "")],
    );
    h.run();
    let Outcome::Abandoned { request_id, error } = h.outcome() else {
        panic!("{}", h.trace())
    };
    assert_eq!(request_id.as_ref().unwrap().as_str(), "r1");
    let Error::RetriesExhausted {
        request,
        attempts,
        last,
    } = error
    else {
        panic!("{error:?}")
    };
    assert_eq!((*request, *attempts), (RequestKind::Status, 3));
    assert!(matches!(**last, Error::Api(_)));
    assert_eq!(
        error.to_string(),
        "gave up on status after 3 attempts",
        "Display must not repeat the source"
    );
}

#[test]
fn the_budget_caps_retries_across_the_whole_job() {
    let config = fixed().with_retry(RetryPolicy::default().with_budget(2));
    let mut h = Harness::submit(
        config,
        vec![
            submitted("r1"),
            http(500, ""),
            running(),
            http(500, ""),
            running(),
            http(500, ""),
        ],
    );
    h.run();
    assert!(
        matches!(
            h.outcome(),
            Outcome::Abandoned {
                error: Error::RetriesExhausted { attempts: 1, .. },
                ..
            }
        ),
        "{}",
        h.trace()
    );
}

#[test]
fn backoff_grows() {
    let config = fixed().with_retry(RetryPolicy::default().with_max_attempts(6));
    let mut script = vec![submitted("r1")];
    script.extend(std::iter::repeat_with(|| http(500, "")).take(5));
    script.extend([completed(), succeeded()]);
    let mut h = Harness::submit(config, script);
    h.run();
    let gaps: Vec<Duration> = (2..=6).map(|i| h.gap_before(i)).collect();
    // Exponential with jitter in [base/2, base]: 1, 2, 4, 8, 16 s bases.
    for (gap, base) in gaps.iter().zip([1.0, 2.0, 4.0, 8.0, 16.0]) {
        assert!(
            gap.as_secs_f64() >= base / 2.0 && gap.as_secs_f64() <= base,
            "{gaps:?}"
        );
    }
}

#[test]
fn a_submit_that_never_left_is_sent_again() {
    let mut h = Harness::submit(
        fixed(),
        vec![
            not_sent(),
            not_sent(),
            submitted("r1"),
            completed(),
            succeeded(),
        ],
    );
    h.run();
    assert!(h.outcome().is_success());
    assert_eq!(h.count(RequestKind::Submit), 3);
    assert_snapshot!(h.trace());
}

#[test]
fn a_submit_that_never_leaves_gives_up_with_nothing_created() {
    let config = fixed().with_retry(RetryPolicy::default().with_max_attempts(2));
    let mut h = Harness::submit(config, vec![not_sent(), not_sent()]);
    h.run();
    let Outcome::Abandoned {
        request_id: None,
        error,
    } = h.outcome()
    else {
        panic!("{}", h.trace())
    };
    assert!(matches!(
        error,
        Error::RetriesExhausted {
            request: RequestKind::Submit,
            attempts: 2,
            ..
        }
    ));
    assert_eq!(
        h.outcome().to_string(),
        "no job was created: gave up on submit after 2 attempts: request not sent: connection refused"
    );
}

#[test]
fn a_submit_that_may_have_arrived_is_never_repeated() {
    for reply in [
        maybe_sent(),
        http(500, r#"{"message":"internal"}"#),
        http(503, ""),
        ok("not json"),
        ok(r#"{"status_url":"https://x"}"#),
    ] {
        let mut h = Harness::submit(fixed(), vec![reply]);
        h.run();
        let Outcome::SubmitOutcomeUnknown(unknown) = h.outcome() else {
            panic!("{}", h.trace())
        };
        assert_eq!(h.count(RequestKind::Submit), 1, "{}", h.trace());
        assert_eq!(unknown.model_id, MODEL);
        assert_eq!(unknown.attempts, 1);
        assert_eq!(unknown.sent_at, h.start);
        assert_eq!(unknown.body_bytes, br#"{"prompt":"a horse"}"#.len());
        assert!(!unknown.cancel_requested);
    }
}

#[test]
fn submit_unknown_after_an_earlier_not_sent_reports_both_attempts() {
    let mut h = Harness::submit(
        fixed(),
        vec![
            not_sent(),
            Reply::Fail(TransportError::MaybeSent("reset".into())),
        ],
    );
    h.run();
    let Outcome::SubmitOutcomeUnknown(unknown) = h.outcome() else {
        panic!()
    };
    assert_eq!(unknown.attempts, 2);
    assert!(unknown.sent_after > Duration::ZERO);
    assert_eq!(
        unknown.reason.to_string(),
        "no complete answer (the request may have reached the service): reset"
    );
}

#[test]
fn no_retries_policy() {
    let config = fixed().with_retry(RetryPolicy::none());
    let mut h = Harness::submit(config, vec![submitted("r1"), http(503, "")]);
    h.run();
    assert!(matches!(
        h.outcome(),
        Outcome::Abandoned {
            error: Error::RetriesExhausted { attempts: 1, .. },
            ..
        }
    ));
}
