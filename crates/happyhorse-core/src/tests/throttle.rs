//! What jobs share through a [`Throttle`]: a 429 on a submit is repeated (it created nothing),
//! one `Retry-After` holds every job, and an empty retry quota stops retries for all of them.

use std::time::{Duration, Instant};

use super::harness::*;
use crate::{
    ApiErrorKind, Error, Job, JobConfig, Outcome, PollPolicy, RequestKind, Response, RetryPolicy,
    Throttle,
};

fn fixed() -> JobConfig {
    JobConfig::default().with_poll(PollPolicy::fixed(Duration::from_secs(2)))
}

fn rate_limited(retry_after: &str) -> Reply {
    Reply::Respond(Response::new(429, r#"{"message":"slow down"}"#).with_retry_after(retry_after))
}

#[test]
fn a_rate_limited_submit_is_sent_again_after_retry_after() {
    let mut h = Harness::submit(
        fixed(),
        vec![rate_limited("3"), submitted("r1"), running(), succeeded()],
    );
    h.run();
    assert!(h.outcome().is_success(), "{}", h.trace());
    assert_eq!(h.sent[0].kind, RequestKind::Submit);
    assert_eq!(h.sent[1].kind, RequestKind::Submit);
    assert_eq!(h.gap_before(1), Duration::from_secs(3));
}

#[test]
fn a_submit_rate_limited_to_the_end_is_rejected_as_rate_limited() {
    let config = fixed().with_retry(RetryPolicy::default().with_max_attempts(3));
    let mut h = Harness::submit(config, vec![rate_limited("1"); 3]);
    h.run();
    let Outcome::Rejected { error } = h.outcome() else {
        panic!("{}", h.trace())
    };
    assert_eq!(error.kind, ApiErrorKind::RateLimited);
    assert_eq!(h.sent.len(), 3);
}

/// A job that has submitted and is waiting for its first poll.
fn following(config: JobConfig, now: Instant, id: &str) -> Job {
    let mut job = Job::submit(MODEL, b"{}".to_vec(), config, now);
    let submit = job.poll_transmit(now).unwrap();
    job.handle_response(
        submit.id,
        Response::new(200, format!(r#"{{"request_id":"{id}"}}"#)),
        now,
    );
    job
}

#[test]
fn one_retry_after_holds_every_job_sharing_the_throttle() {
    let throttle = Throttle::default();
    let config = fixed().with_throttle(throttle.clone());
    let start = Instant::now();
    let mut a = following(config.clone(), start, "a");
    let mut b = following(config.clone(), start, "b");
    let unshared = following(fixed(), start, "c");

    let at = a.poll_timeout().unwrap();
    a.handle_timeout(at);
    let poll = a.poll_transmit(at).unwrap();
    a.handle_response(poll.id, Response::new(429, "").with_retry_after("30"), at);

    let pause_end = at + Duration::from_secs(30);
    assert_eq!(throttle.paused_until(at), Some(pause_end));
    assert!(b.poll_timeout().unwrap() >= pause_end, "b waits too");
    assert!(b.poll_transmit(at + Duration::from_secs(29)).is_none());
    assert!(b.poll_transmit(pause_end).is_some());
    assert!(
        unshared.poll_timeout().unwrap() < pause_end,
        "a job without the throttle is not held"
    );
    assert_eq!(throttle.stats().pauses, 1);
}

#[test]
fn an_empty_quota_stops_retries_for_every_job() {
    // Enough for exactly one retry.
    let throttle = Throttle::new(5).with_costs(5, 1);
    let config = fixed().with_throttle(throttle.clone());
    let start = Instant::now();
    let mut a = following(config.clone(), start, "a");
    let mut b = following(config, start, "b");

    for job in [&mut a, &mut b] {
        let at = job.poll_timeout().unwrap();
        job.handle_timeout(at);
        let poll = job.poll_transmit(at).unwrap();
        job.handle_response(poll.id, Response::new(500, ""), at);
    }
    assert!(!a.is_terminal(), "a's retry was paid for");
    let Some(Outcome::Abandoned { request_id, error }) = b.outcome() else {
        panic!("{b:?}")
    };
    assert_eq!(request_id.as_ref().map(|r| r.as_str()), Some("b"));
    assert!(
        matches!(error, Error::RetryQuotaExhausted { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("retries shared by the batch"));
    let stats = throttle.stats();
    assert_eq!((stats.retries_allowed, stats.retries_denied), (1, 1));

    // The retried call succeeding pays its retry back: only retries that fail again drain it.
    let at = a.poll_timeout().unwrap();
    a.handle_timeout(at);
    let poll = a.poll_transmit(at).unwrap();
    a.handle_response(
        poll.id,
        Response::new(200, r#"{"status":"in_progress"}"#),
        at,
    );
    assert_eq!(throttle.stats().tokens, 5);
}
