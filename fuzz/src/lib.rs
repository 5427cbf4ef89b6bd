//! The fuzz targets' bodies: bytes → structured inputs (with `arbitrary`) → the checkers shared
//! with the proptest mirrors in `crates/happyhorse-core/tests/fuzz_mirrors.rs`.
//!
//! The inputs and invariants live in `crates/happyhorse-core/tests/support/`, included here as
//! they are, so the fuzzers and `cargo test` check exactly the same things.

#[path = "../../crates/happyhorse-core/tests/support/mod.rs"]
mod support;

use arbitrary::{Result, Unstructured};

use support::bodies::{self, Answer, Body, Header, Number, STATUSES};
use support::job_model::{self, Action, Config, Poll, Retry, Scenario};

/// `response_bodies`: one answer, read as each of the four calls.
pub fn response_bodies(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(answer) = answer(&mut u, true) else {
        return;
    };
    bodies::check_response(&answer.to_response());
}

/// `job_state_machine`: a job driven through a sequence of actions.
pub fn job_state_machine(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(scenario) = scenario(&mut u) else {
        return;
    };
    job_model::run(&scenario);
}

fn string(u: &mut Unstructured<'_>) -> Result<String> {
    // Now and then a long value, to check that messages shorten what they quote.
    if u.ratio(1, 32)? {
        return Ok("x".repeat(u.int_in_range(0..=5_000)?));
    }
    u.arbitrary()
}

fn number(u: &mut Unstructured<'_>) -> Result<Number> {
    Ok(match u.int_in_range(0..=5)? {
        0..=2 => Number::Listed(u.arbitrary()?),
        3 => Number::Int(u.arbitrary()?),
        4 => Number::Unsigned(u.arbitrary()?),
        _ => Number::Float(u.arbitrary()?),
    })
}

fn header(u: &mut Unstructured<'_>) -> Result<Header> {
    Ok(match u.int_in_range(0..=4)? {
        0 => Header::Seconds(u.int_in_range(0..=120)?),
        1 => Header::Seconds(u.arbitrary()?),
        2 => Header::Date(u.arbitrary()?),
        _ => Header::Text(u.arbitrary()?),
    })
}

/// A body; with `rest`, a raw body takes all the bytes left (so libFuzzer's mutations of the
/// tail are mutations of the body itself).
fn body(u: &mut Unstructured<'_>, rest: bool) -> Result<Body> {
    Ok(match u.int_in_range(0..=9)? {
        0..=2 => Body::Canned(u.arbitrary()?),
        3..=6 => Body::Template {
            template: u.arbitrary()?,
            s: string(u)?,
            k: u.arbitrary()?,
            n: number(u)?,
        },
        _ if rest => Body::Raw(u.bytes(u.len())?.to_vec()),
        _ => Body::Raw(u.arbitrary()?),
    })
}

fn answer(u: &mut Unstructured<'_>, rest: bool) -> Result<Answer> {
    let status = if u.ratio(7, 8)? {
        *u.choose(STATUSES)?
    } else {
        u.arbitrary()?
    };
    let retry_after = if u.ratio(1, 4)? {
        Some(header(u)?)
    } else {
        None
    };
    let date = if u.ratio(1, 4)? {
        Some(header(u)?)
    } else {
        None
    };
    let body = body(u, rest)?;
    Ok(Answer {
        status,
        retry_after,
        date,
        body,
    })
}

fn config(u: &mut Unstructured<'_>) -> Result<Config> {
    Ok(Config {
        poll: if u.arbitrary()? {
            Poll::Default
        } else {
            Poll::Fixed { ms: u.arbitrary()? }
        },
        deadline_secs: if u.ratio(4, 5)? {
            Some(u.int_in_range(0..=3_600)?)
        } else {
            None
        },
        retry: match u.int_in_range(0..=2)? {
            0 => Retry::Default,
            1 => Retry::None,
            _ => Retry::Custom {
                attempts: u.int_in_range(0..=10)?,
                budget: u.int_in_range(0..=40)?,
                initial_ms: u.arbitrary()?,
                max_ms: u.int_in_range(0..=120_000)?,
            },
        },
        unrecognised_count: u.int_in_range(0..=30)?,
        unrecognised_secs: u.int_in_range(0..=900)?,
        seed: u.arbitrary()?,
        include_cost: u.arbitrary()?,
        throttle: if u.ratio(1, 4)? {
            Some((
                u.int_in_range(0..=50)?,
                u.int_in_range(0..=10)?,
                u.int_in_range(0..=5)?,
            ))
        } else {
            None
        },
    })
}

fn action(u: &mut Unstructured<'_>) -> Result<Action> {
    Ok(match u.int_in_range(0..=19)? {
        0..=5 => Action::Send,
        6..=11 => Action::Respond(answer(u, false)?),
        12 => Action::Fail {
            not_sent: u.arbitrary()?,
        },
        13 => Action::Stale {
            answer: if u.arbitrary()? {
                Some(answer(u, false)?)
            } else {
                None
            },
            not_sent: u.arbitrary()?,
            pick: u.arbitrary()?,
        },
        14 => Action::Advance {
            ms: if u.ratio(1, 8)? {
                u.arbitrary()?
            } else {
                u.int_in_range(0..=120_000)?
            },
        },
        15..=17 => Action::Wake,
        _ => Action::Cancel,
    })
}

fn scenario(u: &mut Unstructured<'_>) -> Result<Scenario> {
    let resume = u.ratio(1, 4)?;
    let config = config(u)?;
    let mut actions = Vec::new();
    while !u.is_empty() && actions.len() < 256 {
        actions.push(action(u)?);
    }
    Ok(Scenario {
        resume,
        config,
        actions,
    })
}
