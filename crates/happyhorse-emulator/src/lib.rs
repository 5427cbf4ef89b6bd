//! A faithful, stateful RunComfy Model API on loopback, able to misbehave on purpose.
//!
//! [`Emulator::builder`] configures and starts two listeners: the API (`POST /v1/models/{model_id}`,
//! `GET /v1/requests/{id}/status` and `/result`, `POST /v1/requests/{id}/cancel`, the model
//! catalogue, and `GET /__emulator/stats`) and a storage host on another port that serves the
//! output videos. Jobs queue for a configurable number of workers and run for a configurable
//! (simulated) time; [`EmulatorBuilder::time_scale`] makes minutes pass in milliseconds.
//! Faults ([`FaultKind`]) are injected per kind, rate and seed, reproducibly.
//! With [`EmulatorBuilder::previews`], each job's video is an offline preview made from its own
//! request by `happyhorse-preview` (its image, duration and resolution, with a camera drift).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! use happyhorse_emulator::{Emulator, FaultConfig};
//!
//! let emulator = Emulator::builder()
//!     .time_scale(100.0)
//!     .faults(FaultConfig { rate: 0.1, seed: 42, ..FaultConfig::default() })
//!     .start()
//!     .await?;
//! println!("point the client at {}", emulator.base_url());
//! assert_eq!(emulator.stats().submissions_total, 0);
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/emulator.md` for every flag, the fault kinds, the stats format, and what differs
//! from the real service.

mod app;
mod args;
mod auth;
mod body;
mod builder;
mod catalog;
mod clock;
mod duration;
mod faults;
mod images;
mod preview;
mod query;
mod queue;
mod routes;
mod server;
mod shapes;
mod stats;
mod storage;
mod validation;
mod wire;

pub use args::EmulatorArgs;
pub use auth::ApiToken;
pub use body::synthetic_byte;
pub use builder::{
    AuthStatus, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS, EmulatorBuilder, ErrorShape,
    ProcessingTime,
};
pub use duration::{SIMULATED_DURATION_MAX, TIME_SCALE_MAX, TIME_SCALE_MIN, parse_time_scale};
pub use faults::{Endpoint, FaultConfig, FaultKind, FaultRecord};
pub use server::RunningEmulator;
pub use shapes::{AnswerShapes, OutputShape};
pub use stats::{
    AuthorizationSeen, ConnectionStats, JobCounts, StatsSnapshot, StorageStats, body_key,
};

/// Entry point: `Emulator::builder()…start().await`.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// A builder with defaults that behave like the real service (minutes-long jobs, no faults).
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }
}

/// The MP4 every successful job's `output.video` serves with previews off (the builder's
/// default; see [`EmulatorBuilder::previews`]) unless [`EmulatorBuilder::output_video`] replaces
/// it: a small, playable H.264 clip rendered once by the project and checked in as
/// `fixtures/horse.mp4`. It is also served when a job's preview could not be made.
pub const VIDEO_FIXTURE: &[u8] = storage::VIDEO_FIXTURE;
