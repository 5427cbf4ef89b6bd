//! Proptest mirrors of the cargo-fuzz targets in `fuzz/`: the same inputs (built here with
//! proptest strategies, there with `arbitrary`) checked by the same code
//! (`tests/support/`), so every `cargo test` exercises what the fuzzers check.

mod support;

use std::time::{Duration, Instant};

use happyhorse_core::vocabulary::JobState;
use happyhorse_core::{ApiErrorKind, Error, Job, JobConfig, Outcome, RequestId, Response, oneshot};
use happyhorse_types::ErrorCode;
use proptest::prelude::*;

use support::bodies::{self, Answer, Body, Header, Number, STATUSES};
use support::job_model::{self, Action, Config, Poll, Retry, Scenario};

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9_-]{0,12}",
        4 => ".{0,24}",
        1 => (0usize..5_000).prop_map(|n| "x".repeat(n)),
        1 => Just("req_1".to_owned()),
    ]
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        3 => any::<u8>().prop_map(Number::Listed),
        1 => any::<i64>().prop_map(Number::Int),
        1 => any::<u64>().prop_map(Number::Unsigned),
        1 => any::<f64>().prop_map(Number::Float),
    ]
}

fn header() -> impl Strategy<Value = Header> {
    prop_oneof![
        (0u64..=120).prop_map(Header::Seconds),
        any::<u64>().prop_map(Header::Seconds),
        any::<u8>().prop_map(Header::Date),
        "[ 0-9]{0,4}".prop_map(Header::Text),
        // Signs and more seconds than a u64 holds.
        "[+-]?[0-9]{1,25}".prop_map(Header::Text),
        ".{0,40}".prop_map(Header::Text),
    ]
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        3 => any::<u8>().prop_map(Body::Canned),
        4 => (any::<u8>(), string(), any::<u8>(), number())
            .prop_map(|(template, s, k, n)| Body::Template { template, s, k, n }),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Body::Raw),
        1 => ".{0,64}".prop_map(|s| Body::Raw(s.into_bytes())),
    ]
}

fn answer() -> impl Strategy<Value = Answer> {
    let status = prop_oneof![
        7 => prop::sample::select(STATUSES),
        1 => any::<u16>(),
    ];
    (
        status,
        prop::option::weighted(0.25, header()),
        prop::option::weighted(0.25, header()),
        body(),
    )
        .prop_map(|(status, retry_after, date, body)| Answer {
            status,
            retry_after,
            date,
            body,
        })
}

fn config() -> impl Strategy<Value = Config> {
    let poll = prop_oneof![
        Just(Poll::Default),
        any::<u16>().prop_map(|ms| Poll::Fixed { ms }),
    ];
    let retry = prop_oneof![
        Just(Retry::Default),
        Just(Retry::None),
        (0u8..=10, 0u8..=40, any::<u16>(), 0u32..=120_000).prop_map(
            |(attempts, budget, initial_ms, max_ms)| Retry::Custom {
                attempts,
                budget,
                initial_ms,
                max_ms,
            }
        ),
    ];
    (
        poll,
        prop::option::weighted(0.8, 0u16..=3_600),
        retry,
        0u8..=30,
        0u16..=900,
        any::<Option<u64>>(),
        any::<bool>(),
        prop::option::weighted(0.25, (0u16..=50, 0u8..=10, 0u8..=5)),
    )
        .prop_map(
            |(
                poll,
                deadline_secs,
                retry,
                unrecognised_count,
                unrecognised_secs,
                seed,
                include_cost,
                throttle,
            )| Config {
                poll,
                deadline_secs,
                retry,
                unrecognised_count,
                unrecognised_secs,
                seed,
                include_cost,
                throttle,
            },
        )
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => Just(Action::Send),
        6 => answer().prop_map(Action::Respond),
        1 => any::<bool>().prop_map(|not_sent| Action::Fail { not_sent }),
        1 => (prop::option::of(answer()), any::<bool>(), any::<u8>())
            .prop_map(|(answer, not_sent, pick)| Action::Stale { answer, not_sent, pick }),
        1 => prop_oneof![7 => 0u32..=120_000, 1 => any::<u32>()]
            .prop_map(|ms| Action::Advance { ms }),
        3 => Just(Action::Wake),
        2 => Just(Action::Cancel),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop::bool::weighted(0.25),
        config(),
        prop::collection::vec(action(), 0..80),
    )
        .prop_map(|(resume, config, actions)| Scenario {
            resume,
            config,
            actions,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// Mirror of `fuzz/fuzz_targets/response_bodies.rs`.
    #[test]
    fn response_bodies(answer in answer()) {
        bodies::check_response(&answer.to_response());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// Mirror of `fuzz/fuzz_targets/job_state_machine.rs`.
    #[test]
    fn job_state_machine(scenario in scenario()) {
        job_model::run(&scenario);
    }
}

// Regressions: what the fuzzers found, kept as plain tests.

/// Found by the `response_bodies` mirror: a 2xx body of the wrong shape made serde quote the
/// offending value whole, so a 5,000-character value gave a 5,000-character error message.
#[test]
fn a_garbled_body_is_not_quoted_whole() {
    let response = Response::new(200, serde_json::to_vec(&"x".repeat(5_000)).unwrap());
    for error in [
        oneshot::read_submit(&response).unwrap_err(),
        oneshot::read_status(&response).unwrap_err(),
        oneshot::read_result(&response).unwrap_err(),
    ] {
        assert!(matches!(error, Error::Protocol { .. }));
        let message = error.to_string();
        assert!(message.chars().count() < 400, "{message}");
        assert!(message.ends_with(" characters)"), "{message}");
    }
    bodies::check_response(&response);
}

/// Found by the `response_bodies` fuzz target (a 9-byte input): an unknown status was kept
/// whole, in `Event::Unrecognised` and in the error a job gives up with.
#[test]
fn a_long_unrecognised_status_is_shortened() {
    let body = format!(r#"{{"status":"{}"}}"#, "x".repeat(5_000));
    let response = Response::new(200, body);
    let status = oneshot::read_status(&response).unwrap();
    let JobState::Unrecognised { status } = status.state else {
        panic!("an unknown status read as known");
    };
    assert!(
        status.starts_with("xxxxxxxxxx") && status.chars().count() < 100,
        "{status}"
    );

    let start = Instant::now();
    let config = JobConfig::default().with_unrecognised_limit(1, Duration::from_secs(600));
    let mut job = Job::resume(RequestId::new("r1").unwrap(), config, start);
    let mut now = start;
    while !job.is_terminal() {
        let poll = job.poll_transmit(now).unwrap();
        job.handle_response(poll.id, response.clone(), now);
        now = job.poll_timeout().unwrap_or(now);
        job.handle_timeout(now);
    }
    let Some(Outcome::Abandoned { error, .. }) = job.outcome() else {
        panic!("{:?}", job.outcome());
    };
    assert!(matches!(error, Error::UnrecognisedStatus { .. }));
    assert!(error.to_string().chars().count() < 400, "{error}");
    bodies::check_response(&response);
}

/// Found while writing the `response_bodies` checks: an error body was read as one `ErrorBody`,
/// so one field of an unexpected type (a numeric `error_message`) dropped the code with it, and a
/// refused token (`400004` on HTTP 400) was reported as refused input.
#[test]
fn an_error_code_survives_a_field_of_an_unexpected_type() {
    let response = Response::new(
        400,
        r#"{"error_code":400004,"error_message":5,"message":"bad token"}"#,
    );
    let Err(Error::Api(api)) = oneshot::read_status(&response) else {
        panic!("not an API error");
    };
    assert_eq!(api.kind, ApiErrorKind::Unauthorized);
    assert_eq!(api.code, Some(ErrorCode::Number(400_004)));
    assert_eq!(api.message.as_deref(), Some("bad token"));
    bodies::check_response(&response);
}
