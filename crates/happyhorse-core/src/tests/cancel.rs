//! Cancel at every phase: before the submit, during it, queued, running, finished, racing a
//! job that just started, and when the cancel call itself fails.

use std::time::Duration;

use insta::assert_snapshot;

use super::harness::*;
use crate::{CancelStatus, JobConfig, Outcome, PollPolicy, RequestKind};

fn fixed() -> JobConfig {
    JobConfig::default().with_poll(PollPolicy::fixed(Duration::from_secs(2)))
}

const CANCELLED: &str = r#"{"request_id":"r1","status":"cancelled","outcome":"cancelled"}"#;

#[test]
fn before_the_submit_is_sent_nothing_is_sent() {
    let mut h = Harness::submit(fixed(), vec![]);
    h.cancel();
    h.run();
    assert!(h.sent.is_empty());
    assert_eq!(h.outcome(), &Outcome::Cancelled { request_id: None });
    assert_eq!(h.job.cancel_status(), Some(&CancelStatus::NothingToCancel));
}

#[test]
fn during_a_not_sent_backoff_nothing_more_is_sent() {
    let mut h = Harness::submit(fixed(), vec![not_sent()]);
    h.pump();
    assert!(!h.job.is_terminal());
    h.cancel();
    h.run();
    assert_eq!(h.count(RequestKind::Submit), 1);
    assert_eq!(h.outcome(), &Outcome::Cancelled { request_id: None });
}

#[test]
fn while_the_submit_is_in_flight_the_cancel_follows_the_id() {
    let mut h = Harness::submit(fixed(), vec![Reply::Hold, http(202, CANCELLED)]);
    h.run();
    h.cancel();
    assert_eq!(h.job.cancel_status(), Some(&CancelStatus::Requested));
    h.release(submitted("r1"));
    h.run();
    assert_snapshot!(h.trace());
    assert_eq!(
        h.outcome(),
        &Outcome::Cancelled {
            request_id: Some(crate::RequestId::new("r1").unwrap())
        }
    );
    assert_eq!(h.job.cancel_status(), Some(&CancelStatus::Cancelled));
    assert_eq!(
        h.count(RequestKind::Status),
        0,
        "the cancel goes out before any poll"
    );
}

#[test]
fn while_the_submit_is_in_flight_and_it_never_left() {
    let mut h = Harness::submit(fixed(), vec![Reply::Hold]);
    h.run();
    h.cancel();
    h.release(not_sent());
    h.run();
    assert_eq!(h.outcome(), &Outcome::Cancelled { request_id: None });
    assert_eq!(h.job.cancel_status(), Some(&CancelStatus::NothingToCancel));
    assert_eq!(
        h.count(RequestKind::Submit),
        1,
        "not sent again after a cancel"
    );
}

#[test]
fn while_the_submit_is_in_flight_and_it_may_have_arrived() {
    let mut h = Harness::submit(fixed(), vec![Reply::Hold]);
    h.run();
    h.cancel();
    h.release(maybe_sent());
    let Outcome::SubmitOutcomeUnknown(unknown) = h.outcome() else {
        panic!("{}", h.trace())
    };
    assert!(unknown.cancel_requested);
    assert!(matches!(
        h.job.cancel_status(),
        Some(CancelStatus::Failed(_))
    ));
}

#[test]
fn while_the_submit_is_in_flight_and_it_is_refused() {
    let mut h = Harness::submit(fixed(), vec![Reply::Hold]);
    h.run();
    h.cancel();
    h.release(http(400, r#"{"error_code":400002}"#));
    assert!(matches!(h.outcome(), Outcome::Rejected { .. }));
    assert_eq!(h.job.cancel_status(), Some(&CancelStatus::NothingToCancel));
}

#[test]
fn queued_jobs_are_cancelled_by_the_service() {
    let mut h = Harness::submit(
        fixed(),
        vec![submitted("r1"), queued(5), http(202, CANCELLED)],
    );
    h.run_until(Duration::from_secs(3));
    h.cancel();
    h.run();
    assert_snapshot!(h.trace());
    assert!(matches!(
        h.outcome(),
        Outcome::Cancelled {
            request_id: Some(_)
        }
    ));
}

#[test]
fn running_jobs_are_too_late_and_still_followed_to_their_output() {
    let not_cancellable =
        r#"{"request_id":"r1","status":"in_progress","outcome":"not_cancellable"}"#;
    let mut h = Harness::submit(
        fixed(),
        vec![
            submitted("r1"),
            running(),
            http(202, not_cancellable),
            running(),
            succeeded(),
        ],
    );
    h.run_until(Duration::from_secs(3));
    h.cancel();
    h.run();
    assert_snapshot!(h.trace());
    assert_eq!(h.job.cancel_status(), Some(&CancelStatus::TooLate));
    assert!(h.outcome().is_success());
}

#[test]
fn racing_a_job_that_just_started() {
    // Last seen queued; the service refuses without saying why; the next poll, sent at once, decides.
    let refused = r#"{"outcome":"not_cancellable"}"#;
    let mut h = Harness::submit(
        fixed(),
        vec![
            submitted("r1"),
            queued(1),
            http(202, refused),
            running(),
            succeeded(),
        ],
    );
    h.run_until(Duration::from_secs(3));
    h.cancel();
    h.run();
    assert_snapshot!(h.trace());
    assert_eq!(h.job.cancel_status(), Some(&CancelStatus::TooLate));
    assert_eq!(
        h.gap_before(3),
        Duration::ZERO,
        "the verdict is sought immediately"
    );
}

#[test]
fn a_refusal_for_a_job_still_queued_is_reported_as_refused() {
    let refused = r#"{"outcome":"not_cancellable"}"#;
    let mut h = Harness::submit(
        fixed(),
        vec![
            submitted("r1"),
            queued(3),
            http(202, refused),
            queued(3),
            running(),
            succeeded(),
        ],
    );
    h.run_until(Duration::from_secs(3));
    h.cancel();
    h.run();
    assert_eq!(h.job.cancel_status(), Some(&CancelStatus::Refused));
    assert!(h.outcome().is_success());
}

#[test]
fn already_finished_jobs_report_it_and_deliver_the_result() {
    let finished = r#"{"status":"completed","outcome":"not_cancellable"}"#;
    let mut h = Harness::submit(
        fixed(),
        vec![submitted("r1"), running(), http(202, finished), succeeded()],
    );
    h.run_until(Duration::from_secs(3));
    h.cancel();
    h.run();
    assert_eq!(h.job.cancel_status(), Some(&CancelStatus::AlreadyFinished));
    assert!(h.outcome().is_success());
    assert_eq!(h.sent.last().unwrap().kind, RequestKind::Result);
}

#[test]
fn while_a_poll_is_in_flight_the_cancel_waits_for_its_answer() {
    let mut h = Harness::submit(
        fixed(),
        vec![submitted("r1"), Reply::Hold, http(202, CANCELLED)],
    );
    h.run();
    h.cancel();
    assert!(
        h.job.poll_transmit(h.now).is_none(),
        "one request at a time"
    );
    h.release(queued(2));
    h.run();
    assert_eq!(
        h.sent.iter().map(|t| t.kind).collect::<Vec<_>>(),
        [
            RequestKind::Submit,
            RequestKind::Status,
            RequestKind::Cancel
        ]
    );
    assert!(matches!(h.outcome(), Outcome::Cancelled { .. }));
}

#[test]
fn a_poll_in_flight_that_reveals_the_end_sends_no_cancel() {
    let mut h = Harness::submit(fixed(), vec![submitted("r1"), running(), Reply::Hold]);
    h.run();
    h.cancel();
    h.release(succeeded());
    assert!(h.outcome().is_success());
    assert_eq!(h.count(RequestKind::Cancel), 0);
    assert_eq!(h.job.cancel_status(), Some(&CancelStatus::AlreadyFinished));
}

#[test]
fn a_status_saying_completed_before_the_cancel_is_sent_sends_none() {
    let mut h = Harness::submit(fixed(), vec![submitted("r1"), Reply::Hold, succeeded()]);
    h.run();
    h.cancel();
    h.release(ok(r#"{"status":"completed"}"#));
    h.run();
    assert_eq!(h.count(RequestKind::Cancel), 0);
    assert_eq!(h.job.cancel_status(), Some(&CancelStatus::AlreadyFinished));
    assert!(h.outcome().is_success());
}

#[test]
fn a_failing_cancel_call_is_retried() {
    let server = routed(
        vec![submitted("r1")],
        vec![queued(2), queued(2), queued(2), queued(2)],
        vec![],
        vec![http(503, ""), maybe_sent(), http(202, CANCELLED)],
    );
    let mut h = Harness::submit_serving(fixed(), server);
    h.run_until(Duration::from_secs(3));
    h.cancel();
    h.run();
    assert_eq!(h.count(RequestKind::Cancel), 3);
    assert!(matches!(h.outcome(), Outcome::Cancelled { .. }));
}

#[test]
fn a_refused_cancel_call_is_reported_and_following_goes_on() {
    let mut h = Harness::submit(
        fixed(),
        vec![
            submitted("r1"),
            queued(2),
            http(403, r#"{"error_code":403001}"#),
            running(),
            succeeded(),
        ],
    );
    h.run_until(Duration::from_secs(3));
    h.cancel();
    h.run();
    let Some(CancelStatus::Failed(error)) = h.job.cancel_status() else {
        panic!("{}", h.trace())
    };
    assert!(
        error
            .to_string()
            .starts_with("permission denied (HTTP 403, code 403001)"),
        "{error}"
    );
    assert!(h.outcome().is_success());
}

#[test]
fn cancelling_twice_sends_one_cancel() {
    let mut h = Harness::submit(
        fixed(),
        vec![submitted("r1"), queued(2), http(202, CANCELLED)],
    );
    h.run_until(Duration::from_secs(3));
    h.cancel();
    h.cancel();
    h.run();
    assert_eq!(h.count(RequestKind::Cancel), 1);
    assert_eq!(h.trace().matches("event cancel Requested").count(), 1);
}

#[test]
fn a_service_reporting_cancelled_on_a_poll_ends_the_job() {
    let mut h = Harness::submit(
        fixed(),
        vec![submitted("r1"), ok(r#"{"status":"canceled"}"#)],
    );
    h.run();
    assert!(matches!(
        h.outcome(),
        Outcome::Cancelled {
            request_id: Some(_)
        }
    ));
    assert_eq!(h.job.cancel_status(), None, "nobody asked");
}

#[test]
fn a_cancel_asked_during_the_submit_is_sent_even_after_the_deadline() {
    use crate::{Job, Response};
    let config = fixed().with_poll(
        PollPolicy::fixed(Duration::from_secs(2)).with_deadline(Some(Duration::from_secs(10))),
    );
    let start = std::time::Instant::now();
    let mut job = Job::submit(MODEL, b"{}".to_vec(), config, start);
    let submit = job.poll_transmit(start).unwrap();
    job.cancel(start);
    // The answer comes after the deadline, carrying the only copy of the id.
    let late = start + Duration::from_secs(30);
    job.handle_timeout(late);
    job.handle_response(
        submit.id,
        Response::new(200, r#"{"request_id":"r1"}"#),
        late,
    );
    assert!(
        !job.is_terminal(),
        "the job must not end before its cancel is sent"
    );
    let cancel = job.poll_transmit(late).expect("the cancel goes out");
    assert_eq!(cancel.kind, RequestKind::Cancel);
    job.handle_response(
        cancel.id,
        Response::new(200, r#"{"request_id":"r1","outcome":"cancelled"}"#),
        late,
    );
    assert_eq!(job.cancel_status(), Some(&CancelStatus::Cancelled));
    assert!(
        matches!(job.outcome(), Some(Outcome::Cancelled { .. })),
        "{:?}",
        job.outcome()
    );
}
