//! Shared test setup: an emulator on 127.0.0.1:0 and a client pointed at it with fast policies.

#![allow(dead_code, unreachable_pub)]

pub mod stranger;

use std::time::Duration;

use happyhorse_emulator::{Emulator, EmulatorBuilder, ProcessingTime, RunningEmulator};
use happyhorse_http::{Client, ClientBuilder, PollPolicy, RetryPolicy};
use happyhorse_types::image_to_video::ImageToVideoInput;

pub const TOKEN: &str = "test-token-canary-7f3a9c";

/// The MP4 the emulator serves as every job's output.
pub const VIDEO: &[u8] = include_bytes!("../../../happyhorse-emulator/fixtures/horse.mp4");

/// An emulator whose jobs take `run_ms` of real time each.
pub fn emulator(run_ms: u64) -> EmulatorBuilder {
    Emulator::builder()
        .processing_time(ProcessingTime::Fixed(Duration::from_secs(100)))
        .time_scale(100_000.0 / run_ms as f64)
}

pub fn client_for(emulator: &RunningEmulator) -> ClientBuilder {
    Client::builder()
        .token(TOKEN)
        .base_url(emulator.base_url())
        .poll_policy(PollPolicy::fixed(Duration::from_millis(20)))
        .retry_policy(
            RetryPolicy::default()
                .with_backoff(Duration::from_millis(5), Duration::from_millis(40)),
        )
        .request_timeout(Duration::from_secs(5))
}

pub fn input(prompt: &str) -> ImageToVideoInput {
    ImageToVideoInput::new("https://example.com/horse.webp", prompt)
}

/// An error and every cause under it, joined with `: ` (as `anyhow` prints `{:#}`).
#[allow(dead_code)]
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text
}
