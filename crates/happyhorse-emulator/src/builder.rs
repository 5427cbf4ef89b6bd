//! [`EmulatorBuilder`]: every knob of the emulator, with defaults that behave like the real service.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

use crate::auth::ApiToken;
use crate::faults::{FaultConfig, FaultKind};
use crate::server::{self, RunningEmulator};
use crate::shapes::AnswerShapes;

/// Connections both listeners hold at once by default; more wait in the kernel's backlog.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// How long a connection may take to send a complete request header by default (real time):
/// idle and slow clients are closed after it.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a job runs once a worker picks it (simulated time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessingTime {
    /// Every job takes exactly this long.
    Fixed(Duration),
    /// Each job takes a duration drawn uniformly from `min..=max` with the emulator's seed.
    Uniform {
        /// Shortest run.
        min: Duration,
        /// Longest run.
        max: Duration,
    },
}

impl ProcessingTime {
    /// Draws one processing time.
    pub(crate) fn draw(&self, rng: &mut fastrand::Rng) -> Duration {
        match *self {
            ProcessingTime::Fixed(duration) => duration,
            ProcessingTime::Uniform { min, max } => {
                let span = max.saturating_sub(min).as_nanos() as f64;
                min + Duration::from_nanos((span * rng.f64()) as u64)
            }
        }
    }
}

impl std::str::FromStr for ProcessingTime {
    type Err = String;

    /// `100s` (fixed) or `60s..180s` (uniform).
    fn from_str(text: &str) -> Result<Self, String> {
        match text.split_once("..") {
            Some((min, max)) => {
                let min = crate::duration::parse_duration(min)?;
                let max = crate::duration::parse_duration(max.trim_start_matches('='))?;
                if min > max {
                    return Err(format!("processing time range {text:?} has min > max"));
                }
                Ok(ProcessingTime::Uniform { min, max })
            }
            None => crate::duration::parse_duration(text).map(ProcessingTime::Fixed),
        }
    }
}

/// The HTTP status sent with error code `400004` (missing or unknown token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuthStatus {
    /// HTTP 400, as the service has been seen to answer.
    #[default]
    #[value(name = "400")]
    BadRequest,
    /// HTTP 401, the conventional answer.
    #[value(name = "401")]
    Unauthorized,
}

impl AuthStatus {
    pub(crate) fn code(self) -> u16 {
        match self {
            AuthStatus::BadRequest => 400,
            AuthStatus::Unauthorized => 401,
        }
    }
}

/// The shape of a failed job's `error` on `/result` (undocumented upstream; clients must take both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ErrorShape {
    /// `{"type": "generation_failed", "message": "…"}`.
    #[default]
    Object,
    /// A plain string.
    String,
}

/// Everything a running emulator needs to know, resolved from the builder.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) addr: SocketAddr,
    pub(crate) storage_addr: SocketAddr,
    pub(crate) tokens: Vec<ApiToken>,
    pub(crate) auth_status: AuthStatus,
    pub(crate) workers: usize,
    pub(crate) processing: ProcessingTime,
    pub(crate) time_scale: f64,
    pub(crate) manual_clock: bool,
    pub(crate) failure_rate: f64,
    pub(crate) error_shape: ErrorShape,
    pub(crate) expire_after: Duration,
    pub(crate) seed: u64,
    pub(crate) faults: FaultConfig,
    pub(crate) strict_images: bool,
    pub(crate) large_file_size: Option<u64>,
    pub(crate) insufficient_balance: bool,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_connections: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) video: Option<Bytes>,
    pub(crate) shapes: AnswerShapes,
    pub(crate) previews: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("storage_addr", &self.storage_addr)
            .field("tokens", &self.tokens)
            .field("auth_status", &self.auth_status)
            .field("workers", &self.workers)
            .field("processing", &self.processing)
            .field("time_scale", &self.time_scale)
            .field("manual_clock", &self.manual_clock)
            .field("failure_rate", &self.failure_rate)
            .field("expire_after", &self.expire_after)
            .field("faults", &self.faults)
            .field("strict_images", &self.strict_images)
            .field("large_file_size", &self.large_file_size)
            .field("max_connections", &self.max_connections)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("video_bytes", &self.video.as_ref().map(Bytes::len))
            .field("shapes", &self.shapes)
            .field("previews", &self.previews)
            .finish_non_exhaustive()
    }
}

/// Builds an emulator; start it with [`EmulatorBuilder::start`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> anyhow::Result<()> {
/// use std::time::Duration;
/// use happyhorse_emulator::{Emulator, ProcessingTime};
///
/// let emulator = Emulator::builder()
///     .processing_time(ProcessingTime::Fixed(Duration::from_secs(100)))
///     .time_scale(1000.0) // a 100 s job finishes after 0.1 s
///     .start()
///     .await?;
/// assert!(emulator.base_url().starts_with("http://127.0.0.1:"));
/// emulator.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    config: Config,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            config: Config {
                addr: loopback,
                storage_addr: loopback,
                tokens: Vec::new(),
                auth_status: AuthStatus::default(),
                workers: 4,
                processing: ProcessingTime::Uniform {
                    min: Duration::from_secs(60),
                    max: Duration::from_secs(180),
                },
                time_scale: 1.0,
                manual_clock: false,
                failure_rate: 0.0,
                error_shape: ErrorShape::default(),
                expire_after: Duration::from_secs(24 * 3600),
                seed: 0,
                faults: FaultConfig::default(),
                strict_images: false,
                large_file_size: None,
                insufficient_balance: false,
                max_body_bytes: 64 * 1024 * 1024,
                max_connections: DEFAULT_MAX_CONNECTIONS,
                header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
                video: None,
                shapes: AnswerShapes::default(),
                previews: false,
            },
        }
    }
}

impl EmulatorBuilder {
    /// Address of the API listener (default `127.0.0.1:0`: the OS picks a port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.config.addr = addr;
        self
    }

    /// Address of the storage (output file) listener (default `127.0.0.1:0`).
    pub fn storage_addr(mut self, addr: SocketAddr) -> Self {
        self.config.storage_addr = addr;
        self
    }

    /// Accept only these tokens (default: any non-empty token; jobs belong to the token that made them).
    pub fn tokens<I, T>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.config.tokens = tokens
            .into_iter()
            .map(|t| ApiToken::new(t.into()))
            .collect();
        self
    }

    /// The HTTP status of a `400004` answer (default 400, as seen on the service).
    pub fn auth_status(mut self, status: AuthStatus) -> Self {
        self.config.auth_status = status;
        self
    }

    /// How many jobs run at once (default 4); the rest wait `in_queue`.
    pub fn workers(mut self, workers: usize) -> Self {
        self.config.workers = workers.max(1);
        self
    }

    /// How long a job runs (default uniform 60–180 s, like the real service).
    pub fn processing_time(mut self, processing: ProcessingTime) -> Self {
        self.config.processing = processing;
        self
    }

    /// How many times faster than real time simulated time runs (default 1), from
    /// [`TIME_SCALE_MIN`](crate::TIME_SCALE_MIN) to [`TIME_SCALE_MAX`](crate::TIME_SCALE_MAX)
    /// ([`start`](Self::start) refuses any other value).
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.config.time_scale = scale;
        self
    }

    /// Freeze simulated time: it moves only through [`RunningEmulator::advance`] (for exact tests).
    pub fn manual_clock(mut self, manual: bool) -> Self {
        self.config.manual_clock = manual;
        self
    }

    /// Probability that a job fails instead of succeeding (default 0).
    pub fn failure_rate(mut self, rate: f64) -> Self {
        self.config.failure_rate = rate;
        self
    }

    /// Whether a failed job's `error` is an object (default) or a string.
    pub fn error_shape(mut self, shape: ErrorShape) -> Self {
        self.config.error_shape = shape;
        self
    }

    /// How long a finished job stays readable before its id answers `404001` (default 24 h).
    pub fn expire_after(mut self, expiry: Duration) -> Self {
        self.config.expire_after = expiry;
        self
    }

    /// Seed of processing times and job failures (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Faults to inject (default none).
    pub fn faults(mut self, faults: FaultConfig) -> Self {
        self.config.faults = faults;
        self
    }

    /// Sets one fault kind's rate, keeping the rest of the fault configuration.
    pub fn fault_rate(mut self, kind: FaultKind, rate: f64) -> Self {
        self.config.faults.rates.insert(kind, rate);
        self
    }

    /// Reject image URLs that cannot be fetched from here instead of accepting them unchecked.
    pub fn strict_images(mut self, strict: bool) -> Self {
        self.config.strict_images = strict;
        self
    }

    /// Serve outputs as synthetic bodies of this many bytes instead of the MP4 (for download tests).
    pub fn large_file_size(mut self, bytes: Option<u64>) -> Self {
        self.config.large_file_size = bytes;
        self
    }

    /// Every submit answers `400002` (insufficient balance).
    pub fn insufficient_balance(mut self, broke: bool) -> Self {
        self.config.insufficient_balance = broke;
        self
    }

    /// Largest accepted request body (default 64 MiB, RunComfy's own cap).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.config.max_body_bytes = bytes;
        self
    }

    /// The most TCP connections both listeners hold at once (default
    /// [`DEFAULT_MAX_CONNECTIONS`], at least 1). At the limit nothing more is accepted until a
    /// connection closes: new clients wait in the kernel's backlog, and nothing is refused with
    /// an answer a client could mistake for the service's.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.config.max_connections = connections.max(1);
        self
    }

    /// How long a connection may take to send a complete request header, in real time (default
    /// [`DEFAULT_HEADER_READ_TIMEOUT`]); an idle keep-alive connection is closed after it too.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_read_timeout = timeout;
        self
    }

    /// Serve these bytes as every output video instead of the built-in MP4 fixture.
    pub fn output_video(mut self, video: Bytes) -> Self {
        self.config.video = Some(video);
        self
    }

    /// Answer in other plausible shapes than the documented ones (see [`AnswerShapes`]), so a
    /// client can rehearse them: another `output` shape, the malformed cancel example, errors
    /// with HTTP 200, numbers as strings.
    pub fn answer_shapes(mut self, shapes: AnswerShapes) -> Self {
        self.config.shapes = shapes;
        self
    }

    /// Render each job's output as an offline preview of its request (default off: the fixture).
    ///
    /// On: a job's video shows its own image, framed and sized as the request asks, for exactly
    /// its duration at 24 fps, with a gentle camera drift (AV1 in MP4; see `docs/emulator.md`,
    /// "The preview"). Rendering takes seconds of CPU per job (cached by input digest), and a job
    /// reads `in_progress` until its preview is ready. Off: every job serves the small fixture
    /// clip at once, which is what most client tests want.
    pub fn previews(mut self, on: bool) -> Self {
        self.config.previews = on;
        self
    }

    /// Binds both listeners and starts serving.
    pub async fn start(self) -> anyhow::Result<RunningEmulator> {
        let config = self.config;
        crate::duration::check_time_scale(config.time_scale).map_err(anyhow::Error::msg)?;
        let longest_run = match config.processing {
            ProcessingTime::Fixed(run) => run,
            ProcessingTime::Uniform { max, .. } => max,
        };
        for (what, duration) in [
            ("processing time", longest_run),
            ("expiry", config.expire_after),
            ("fault delay", config.faults.delay),
        ] {
            anyhow::ensure!(
                duration <= crate::SIMULATED_DURATION_MAX,
                "the {what} must be at most a year (simulated), got {duration:?}"
            );
        }
        anyhow::ensure!(
            !config.header_read_timeout.is_zero()
                && config.header_read_timeout <= crate::SIMULATED_DURATION_MAX,
            "the header-read timeout must be positive and at most a year, got {:?}",
            config.header_read_timeout
        );
        anyhow::ensure!(
            (0.0..=1.0).contains(&config.failure_rate),
            "failure rate must be between 0 and 1, got {}",
            config.failure_rate
        );
        config.faults.validate().map_err(anyhow::Error::msg)?;
        server::start(config).await
    }
}
