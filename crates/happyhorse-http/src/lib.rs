//! The async client for RunComfy's Model API and the HappyHorse models: submit, follow, cancel,
//! resume and download, with nothing lost, nothing paid twice and no token leaked.
//!
//! It drives `happyhorse-core`'s sans-IO state machine with reqwest and tokio (the only polling
//! loop in the workspace) and adds what only a real transport can do:
//!
//! - **[`Client`]**: `Client::builder()…build()` or [`Client::from_env`]; TLS by rustls (ring by
//!   default, aws-lc-rs with the `aws-lc-rs` feature), no OpenSSL.
//! - **Jobs**: [`Client::submit`] returns a [`JobHandle`] as soon as the service has given the job
//!   its id; [`JobHandle::wait`], [`JobHandle::events`], [`JobHandle::cancel`] (with honest
//!   outcomes); [`Client::job`] resumes following a job by id; [`Client::run`] = submit + wait.
//!   A submit is resent only when it provably never reached the service.
//! - **Batches**: [`Client::run_many`] runs many jobs with bounded concurrency, a shared retry
//!   quota and a shared `Retry-After` pause ([`Throttle`]), per-job deadlines, a hook that runs
//!   before each submit (for a journal), and a cancel for the whole batch.
//! - **Media from anywhere**: [`MediaSource`] (also named [`ImageSource`]) — a URL, a local file
//!   or bytes for any model's image or video field, checked by that field's rule from the model's
//!   `model.json` ([`MediaSource::into_value_for`]) and sent inline as a `data:` URI (up to
//!   [`INLINE_MAX_BYTES`]; a video is measured without being decoded).
//! - **Downloads**: [`Client::download`] streams to a partial file beside the destination and
//!   renames it into place only when it is provably whole (the declared length, and the MP4's
//!   own boxes), resumes with `Range`, never hangs ([`StallGuard`], a deadline), and sends no
//!   token, cookie or `Referer` to the storage host or where it redirects.
//! - **Security**: the token is a secret (redacted from `Debug`, absent from errors and logs),
//!   sent only to the API's own origin; plain `http://` is refused for non-loopback hosts while
//!   a token is configured; JSON answers are size-limited before parsing.
//! - **Reading answers**: `happyhorse-core` reads every answer, liberally (any shape of a result's
//!   output, a cancel answer that is not JSON, errors with HTTP 200, numbers as strings); this crate
//!   only carries core's `Transmit` and `Response`. A succeeded job's [`JobResult::files`] are every
//!   file of its output, videos first. [`Client::status`], [`Client::result`], [`Client::cancel`]
//!   and [`Client::models`] are retried like a job's polls.
//! - **Cost before paying**: [`Client::estimate`] prices a job from the catalogue's base price
//!   (fetched once per model, reused for [`PRICE_TTL`]) or says why it cannot;
//!   [`ClientBuilder::include_cost`] asks each job's result for its actual cost.
//! - **Errors**: one opaque [`Error`] with [`Error::kind`], [`Error::is_retryable`],
//!   [`Error::status`], [`Error::request_id`], [`Error::submit_may_have_reached_server`],
//!   [`Error::can_resume`] and [`Error::detail_lines`]; its `source()` chain is core's error.
//! - **Tracing**: a `job` span per job carrying `model` and `request_id`; retries, waits and state
//!   changes at debug level; nothing secret in any field.
//!
//! ```no_run
//! use happyhorse_http::{Client, ImageSource};
//! use happyhorse_types::image_to_video::{ImageToVideo, ImageToVideoInput, Resolution};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::from_env()?;
//! let image = ImageSource::parse("horse.png").into_field_value("image_url").await?;
//! let input = ImageToVideoInput::new(image, "The horse trots towards the camera")
//!     .duration(8)?
//!     .resolution(Resolution::P720);
//! let job = client.submit::<ImageToVideo>(&input).await?;
//! println!("submitted {}", job.request_id()); // printed before waiting: never orphaned
//! let result = job.wait().await?;
//! let video = result.video_url().ok_or("no video in the output")?;
//! client.download(video, "horse.mp4".as_ref(), Default::default()).await?;
//! # Ok(()) }
//! ```

mod batch;
mod client;
mod clock;
mod config;
mod download;
mod driver;
mod error;
mod image;
mod job;
#[cfg(feature = "ledger")]
mod ledger;
mod media;
mod outcome;
mod price;
mod transport;

pub use batch::{
    Batch, BatchCanceller, BatchEvent, BatchItem, BatchJob, BatchOptions, DEFAULT_CONCURRENCY,
    NextStep, RunningOnCancel,
};
pub use client::{Client, ClientBuilder, DEFAULT_MAX_BODY_BYTES};
pub use config::{BASE_URL_ENV_VARS, DEFAULT_BASE_URL, TOKEN_ENV_VARS};
pub use download::{
    DEFAULT_MAX_BYTES, DownloadOptions, DownloadReport, MAX_REDIRECTS, MediaFormat, Progress,
    ProgressFn, Proof, StallGuard, renamed_by_a_stopped_download,
};
pub use error::{Error, ErrorKind};
pub use happyhorse_core::cost::Estimate;
pub use happyhorse_core::oneshot::{ResultReport, StatusReport};
pub use happyhorse_core::validate::INLINE_MAX_BYTES;
pub use happyhorse_core::validate::{InputError, InputErrors};
pub use happyhorse_core::vocabulary::{Catalogue, JobState, ModelEntry, OutputFile};
pub use happyhorse_core::{
    CancelStatus, CancelVerdict, Event, Outcome, PollPolicy, RetryPolicy, Throttle, ThrottleStats,
};
pub use image::{ImageSource, ImageSource as MediaSource};
pub use job::{AnyModel, CancelResult, EventStream, JobHandle, JobModel, JobResult};
pub use price::{PRICE_TTL, PRICE_WAIT};
pub use secrecy::SecretString;
