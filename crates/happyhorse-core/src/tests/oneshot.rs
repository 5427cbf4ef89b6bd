//! One-shot calls: retried by the job's own rule, with a manual clock.

use std::time::{Duration, Instant};

use crate::oneshot::Call;
use crate::{
    CancelVerdict, Error, Event, JobConfig, RequestId, Response, RetryPolicy, Throttle,
    TransportError,
};

/// Drives `call` to its end, answering each request with the next of `replies`; returns the
/// result, the instants requests went out (from the start) and the events.
fn drive<T>(
    mut call: Call<T>,
    start: Instant,
    replies: Vec<Result<Response, TransportError>>,
) -> (Result<T, Error>, Vec<Duration>, Vec<Event>) {
    let mut replies = replies.into_iter();
    let (mut now, mut sent, mut events) = (start, Vec::new(), Vec::new());
    while !call.is_done() {
        match call.poll_transmit(now) {
            Some(request) => {
                sent.push(now - start);
                match replies.next().expect("more requests than replies") {
                    Ok(response) => call.handle_response(request.id, response, now),
                    Err(error) => call.handle_transport_error(request.id, error, now),
                }
            }
            None => now = call.poll_timeout().expect("neither done nor waiting"),
        }
        events.extend(std::iter::from_fn(|| call.poll_event()));
    }
    (call.take_result().unwrap(), sent, events)
}

fn id() -> RequestId {
    RequestId::new("r1").unwrap()
}

#[test]
fn a_final_error_is_not_retried() {
    let start = Instant::now();
    let call = Call::status(&id(), JobConfig::default(), start);
    let (result, sent, events) = drive(
        call,
        start,
        vec![Ok(Response::new(404, r#"{"error_code":404001}"#))],
    );
    assert!(matches!(result, Err(Error::Api(_))));
    assert_eq!(sent.len(), 1);
    assert!(events.is_empty());
}

#[test]
fn failures_are_retried_until_the_policy_gives_up() {
    let start = Instant::now();
    let config = JobConfig::default()
        .with_retry(RetryPolicy::default().with_max_attempts(3))
        .with_seed(3);
    let call = Call::result(&id(), true, config, start);
    let (result, sent, events) = drive(
        call,
        start,
        vec![
            Ok(Response::new(503, "busy")),
            Err(TransportError::MaybeSent("reset".into())),
            Ok(Response::new(200, "not json")),
        ],
    );
    let Err(Error::RetriesExhausted {
        attempts: 3, last, ..
    }) = result
    else {
        panic!("{result:?}");
    };
    assert!(matches!(*last, Error::Protocol { .. }));
    assert_eq!(sent.len(), 3);
    assert!(
        sent[1] > sent[0] && sent[2] > sent[1],
        "backed off: {sent:?}"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Retrying { .. }))
            .count(),
        2
    );
}

#[test]
fn retry_after_is_honoured_and_a_cancel_sent_again_reads_its_verdict() {
    let start = Instant::now();
    let call = Call::cancel(&id(), JobConfig::default().with_seed(1), start);
    let (result, sent, _) = drive(
        call,
        start,
        vec![
            Ok(Response::new(429, "").with_retry_after("9")),
            Ok(Response::new(
                202,
                "{\"status\": \"in_queue\" \"outcome\": \"cancelled\"}",
            )),
        ],
    );
    assert_eq!(result.unwrap(), CancelVerdict::Cancelled);
    assert!(sent[1] >= Duration::from_secs(9), "{sent:?}");
}

#[test]
fn a_shared_pause_holds_the_call_and_a_spent_quota_stops_it() {
    let start = Instant::now();
    let throttle = Throttle::new(0);
    throttle.pause_until(start + Duration::from_secs(5));
    let config = JobConfig::default().with_throttle(throttle);
    let mut call = Call::models(config, start);
    assert!(call.poll_transmit(start).is_none());
    assert_eq!(call.poll_timeout(), Some(start + Duration::from_secs(5)));
    let (result, sent, _) = drive(call, start, vec![Ok(Response::new(502, "bad gateway"))]);
    assert_eq!(sent, [Duration::from_secs(5)]);
    assert!(
        matches!(result, Err(Error::RetryQuotaExhausted { .. })),
        "{result:?}"
    );
}
