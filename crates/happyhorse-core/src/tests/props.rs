//! Property tests: whatever the service answers, a job never panics, never repeats a submit that
//! may have arrived, always ends within the policy's bounds, and once ended absorbs everything.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use proptest::prelude::*;

use super::harness::*;
use crate::vocabulary;
use crate::{
    Event, Job, JobConfig, PollPolicy, RequestKind, Response, RetryPolicy, TransportError,
};

fn status_body() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..50).prop_map(|p| format!(r#"{{"status":"in_queue","queue_position":{p}}}"#)),
        Just(r#"{"status":"in_queue"}"#.to_owned()),
        Just(r#"{"status":"in_progress"}"#.to_owned()),
        Just(r#"{"status":"completed"}"#.to_owned()),
        Just(r#"{"status":"succeeded","output":{"video":"https://x/v.mp4"}}"#.to_owned()),
        Just(r#"{"status":"succeeded"}"#.to_owned()),
        Just(r#"{"status":"failed","error":"boom"}"#.to_owned()),
        Just(r#"{"status":"failed","error":{"type":"x","message":"y"}}"#.to_owned()),
        Just(r#"{"status":"cancelled"}"#.to_owned()),
        Just(r#"{"status":"canceled"}"#.to_owned()),
        "[a-z_]{1,12}".prop_map(|s| format!(r#"{{"status":"{s}"}}"#)),
        Just(r#"{"request_id":"abc_1","status_url":"https://x"}"#.to_owned()),
        Just(r#"{"request_id":"../bad"}"#.to_owned()),
        Just(r#"{"outcome":"cancelled"}"#.to_owned()),
        Just(r#"{"outcome":"not_cancellable","status":"in_progress"}"#.to_owned()),
        Just(r#"{"outcome":"not_cancellable"}"#.to_owned()),
        Just(r#"{"outcome":"maybe","status":"completed"}"#.to_owned()),
        Just(r#"{"error_code":400004,"error_message":"bad token"}"#.to_owned()),
        Just(r#"{"error_code":"404001"}"#.to_owned()),
        Just(r#"{"detail":[1,2,3]}"#.to_owned()),
        ".{0,20}",
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    let retry_after = prop_oneof![
        4 => Just(None),
        1 => (0u64..100_000).prop_map(|s| Some(s.to_string())),
        1 => Just(Some("Wed, 21 Oct 2015 07:28:00 GMT".to_owned())),
        1 => Just(Some("soon".to_owned())),
    ];
    let status = prop_oneof![
        6 => Just(200u16),
        1 => Just(202u16),
        1 => prop::sample::select(vec![400u16, 401, 403, 404, 408, 422, 429, 500, 502, 503, 504, 302]),
    ];
    prop_oneof![
        10 => (status, status_body(), retry_after).prop_map(|(status, body, retry_after)| {
            let mut response = Response::new(status, body);
            response.retry_after = retry_after;
            Reply::Respond(response)
        }),
        1 => Just(Reply::Fail(TransportError::NotSent("refused".into()))),
        1 => Just(Reply::Fail(TransportError::MaybeSent("reset".into()))),
    ]
}

fn config() -> impl Strategy<Value = JobConfig> {
    let poll = prop_oneof![
        Just(PollPolicy::default()),
        (100u64..10_000).prop_map(|ms| PollPolicy::fixed(Duration::from_millis(ms))),
    ];
    let deadline = 1u64..3600;
    let retry = prop_oneof![
        Just(RetryPolicy::default()),
        Just(RetryPolicy::none()),
        (1u32..10, 0u32..40).prop_map(|(attempts, budget)| RetryPolicy::default()
            .with_max_attempts(attempts)
            .with_budget(budget))
    ];
    (poll, deadline, retry, any::<u64>(), 1u32..30).prop_map(
        |(poll, deadline, retry, seed, unknown)| {
            JobConfig::default()
                .with_poll(poll.with_deadline(Some(Duration::from_secs(deadline))))
                .with_retry(retry)
                .with_seed(seed)
                .with_unrecognised_limit(unknown, Duration::from_secs(600))
        },
    )
}

/// Whether a reply to a submit proves no job was created: the request never left, or the
/// service refused it as rate limited.
fn created_nothing(reply: &Reply) -> bool {
    match reply {
        Reply::Fail(error) => error.is_not_sent(),
        Reply::Respond(response) => matches!(
            vocabulary::read::<happyhorse_types::SubmitResponse>(RequestKind::Submit, response).answer,
            vocabulary::Answer::Api(error) if error.kind == crate::ApiErrorKind::RateLimited
        ),
        Reply::Hold => false,
    }
}

/// Whether each submit's reply proved that it created nothing.
struct Log {
    submits: Vec<bool>,
}

fn run(
    config: JobConfig,
    resume: bool,
    replies: Vec<Reply>,
    cancel_at: Option<usize>,
) -> (Harness, Rc<RefCell<Log>>) {
    let log = Rc::new(RefCell::new(Log {
        submits: Vec::new(),
    }));
    let server_log = Rc::clone(&log);
    let mut replies = replies.into_iter();
    let server: Server = Box::new(move |transmit, _| {
        // After the script: a job that runs forever, so the deadline has to end it.
        let reply = replies
            .next()
            .unwrap_or_else(|| ok(r#"{"status":"in_progress"}"#));
        if transmit.kind == RequestKind::Submit {
            server_log
                .borrow_mut()
                .submits
                .push(created_nothing(&reply));
        }
        reply
    });
    let mut h = if resume {
        Harness::resume_serving(config, "r1", server)
    } else {
        Harness::submit_serving(config, server)
    };
    let mut steps = 0;
    loop {
        if Some(steps) == cancel_at {
            h.cancel();
        }
        if !h.step() {
            break;
        }
        steps += 1;
        assert!(steps < 200_000, "no end:\n{}", h.trace());
    }
    (h, log)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_answers_end_a_job_within_its_bounds(
        config in config(),
        resume in any::<bool>(),
        replies in prop::collection::vec(reply(), 0..60),
        cancel_at in prop::option::of(0usize..40),
    ) {
        let deadline = config.poll().deadline().unwrap();
        let retry = config.retry().clone();
        let (mut h, log) = run(config, resume, replies, cancel_at);
        let outcome = h.outcome().clone();

        // Within the deadline (answers are instant, so nothing can be in flight past it), except
        // that a cancel the caller asked for is seen through: past the deadline only cancels go
        // out, and their retries are bounded by the retry policy.
        if let Some(overrun) = h.elapsed().checked_sub(deadline).filter(|d| !d.is_zero()) {
            prop_assert!(cancel_at.is_some(), "ended at {:?} after a {:?} deadline\n{}", h.elapsed(), deadline, h.trace());
            let late = h.sent.iter().zip(&h.sent_times).filter(|(_, at)| **at > deadline);
            for (transmit, at) in late {
                prop_assert_eq!(transmit.kind, RequestKind::Cancel, "sent at {:?}\n{}", at, h.trace());
            }
            let longest_wait = retry.max_delay().max(retry.retry_after_max());
            let bound = longest_wait * retry.max_attempts();
            prop_assert!(overrun <= bound, "a cancel overran the deadline by {:?}\n{}", overrun, h.trace());
        }

        // Never a second submit unless every earlier one provably created nothing.
        let submits = log.borrow().submits.clone();
        if resume {
            prop_assert!(submits.is_empty());
        } else if let Some((_last, earlier)) = submits.split_last() {
            prop_assert!(earlier.iter().all(|&not_sent| not_sent), "submits: {:?}\n{}", submits, h.trace());
        }

        // Exactly one Finished event, the last one, equal to the outcome.
        let finished: Vec<usize> = h.trace().lines().enumerate()
            .filter(|(_, line)| line.contains("event finished"))
            .map(|(i, _)| i)
            .collect();
        prop_assert_eq!(finished.len(), 1, "{}", h.trace());

        // Terminal absorbs every input.
        let later = h.now + Duration::from_secs(100_000);
        for transmit in h.sent.clone() {
            h.job.handle_response(transmit.id, Response::new(200, r#"{"status":"succeeded","output":{}}"#), later);
            h.job.handle_transport_error(transmit.id, TransportError::NotSent("x".into()), later);
        }
        h.job.handle_timeout(later);
        h.job.cancel(later);
        prop_assert!(h.job.poll_transmit(later).is_none());
        prop_assert!(h.job.poll_timeout().is_none());
        prop_assert_eq!(h.job.outcome(), Some(&outcome));
        while let Some(event) = h.job.poll_event() {
            prop_assert!(!matches!(event, Event::Finished(_)), "a second Finished event");
        }
    }

    #[test]
    fn poll_timeout_never_goes_back_in_time(
        config in config(),
        replies in prop::collection::vec(reply(), 0..40),
    ) {
        let start = std::time::Instant::now();
        let mut job = Job::submit(MODEL, b"{}".to_vec(), config, start);
        let mut now = start;
        let mut replies = replies.into_iter();
        for _ in 0..10_000 {
            while let Some(transmit) = job.poll_transmit(now) {
                match replies.next().unwrap_or_else(succeeded) {
                    Reply::Respond(response) => job.handle_response(transmit.id, response, now),
                    Reply::Fail(error) => job.handle_transport_error(transmit.id, error, now),
                    Reply::Hold => unreachable!(),
                }
            }
            let Some(wake) = job.poll_timeout() else { break };
            // A wake-up in the past would make a driver spin.
            prop_assert!(wake >= now || job.poll_transmit(now).is_some());
            now = now.max(wake);
            job.handle_timeout(now);
        }
        prop_assert!(job.is_terminal());
    }
}
