//! Downloads a job's output file safely: never a truncated file that looks finished, never a
//! hang, nothing secret sent, and at about curl's speed.
//!
//! - **Atomic.** Bytes stream into a hidden partial file beside the destination
//!   (`.<name>.part`, described by `.<name>.part.json`), which is renamed over the destination
//!   only when it is **provably whole** ([`happyhorse_core::download::judge`]): the host's
//!   declared length matched, and a known format (always an MP4 when a video is expected) is
//!   whole by its own structure. A file that fails stays `.part` and the error says why.
//! - **Resumable.** An interrupted download resumes with `Range` (guarded by `If-Range` with the
//!   strong `ETag` it started with) on the next attempt or the next run.
//! - **Never hangs.** [`DownloadOptions::timeout`] bounds the whole download, retries included;
//!   a [`StallGuard`] ends an attempt that moves too few bytes over a window (then it resumes).
//! - **Nothing leaks.** The storage client ([`storage`]) carries no token, no cookies and no
//!   `Referer`; redirects are followed by hand, at most [`MAX_REDIRECTS`] per download.
//! - **Durable at speed.** A writer thread writes batches of chunks with vectored writes and
//!   starts the kernel's write-back as it goes ([`writer`]), so the final `fsync` has little left.

mod attempt;
mod partial;
pub use partial::renamed_by_a_stopped_download;
pub(crate) mod storage;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use happyhorse_core::RetryPolicy;
pub use happyhorse_core::download::Proof;
pub use happyhorse_core::media::MediaFormat;
use tokio::time::Instant;

use crate::error::{Error, ErrorKind};
use partial::Paths;

/// The default cap on a downloaded file: far above any 15 s 1080P video.
pub const DEFAULT_MAX_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// The most redirects one download follows, over all its attempts together: enough for a CDN
/// hop or two, and a redirect loop costs at most this many requests plus one.
pub const MAX_REDIRECTS: u32 = 5;

/// Progress of a download, reported to [`DownloadOptions::on_progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes at the destination's partial file so far (including a resumed prefix).
    pub bytes: u64,
    /// The file's full size, when the server said.
    pub total: Option<u64>,
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// When an attempt counts as stalled: fewer than `min_bytes` arrived in a `window` (waiting for
/// the answer's headers counts as a window with no bytes).
///
/// The default is 20 KiB in 20 s, an average of 1 KiB/s: far below any working connection (a
/// 50 MB video at that rate would take 14 hours), far above a host that trickles a byte at a time
/// to keep a read timeout from firing. AWS's SDKs use 1 B/s over 20 s; a little stricter here
/// because a video is large. A stalled attempt is retried, resuming with `Range`, under the
/// client's [`RetryPolicy`].
///
/// ```
/// use std::time::Duration;
/// use happyhorse_http::StallGuard;
///
/// let guard = StallGuard::default();
/// assert_eq!((guard.min_bytes(), guard.window()), (20 * 1024, Duration::from_secs(20)));
/// let strict = StallGuard::new(1024 * 1024, Duration::from_secs(5));
/// # let _ = strict;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StallGuard {
    min_bytes: u64,
    window: Duration,
}

impl Default for StallGuard {
    fn default() -> Self {
        Self::new(20 * 1024, Duration::from_secs(20))
    }
}

impl StallGuard {
    /// At least `min_bytes` (≥ 1) must arrive in every `window` (at least 1 ms).
    pub fn new(min_bytes: u64, window: Duration) -> Self {
        Self {
            min_bytes: min_bytes.max(1),
            window: window.max(Duration::from_millis(1)),
        }
    }

    /// The bytes required per window.
    pub fn min_bytes(&self) -> u64 {
        self.min_bytes
    }

    /// The window.
    pub fn window(&self) -> Duration {
        self.window
    }
}

/// How to download.
///
/// ```
/// use std::time::Duration;
/// use happyhorse_http::DownloadOptions;
///
/// let options = DownloadOptions::default()
///     .max_bytes(512 * 1024 * 1024)
///     .timeout(Duration::from_secs(600))
///     .on_progress(|p| eprintln!("{} of {:?} bytes", p.bytes, p.total));
/// # let _ = options;
/// ```
#[derive(Clone)]
pub struct DownloadOptions {
    max_bytes: u64,
    resume: bool,
    on_progress: Option<ProgressFn>,
    deadline: Option<Deadline>,
    stall: StallGuard,
    expect_video: Option<bool>,
}

#[derive(Debug, Clone, Copy)]
enum Deadline {
    At(std::time::Instant),
    After(Duration),
}

impl Default for DownloadOptions {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            resume: true,
            on_progress: None,
            deadline: None,
            stall: StallGuard::default(),
            expect_video: None,
        }
    }
}

impl std::fmt::Debug for DownloadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadOptions")
            .field("max_bytes", &self.max_bytes)
            .field("resume", &self.resume)
            .field("on_progress", &self.on_progress.is_some())
            .field("deadline", &self.deadline)
            .field("stall", &self.stall)
            .field("expect_video", &self.expect_video)
            .finish()
    }
}

impl DownloadOptions {
    /// Refuses files larger than `max_bytes` (default [`DEFAULT_MAX_BYTES`]).
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Whether to resume from a partial file left by an earlier attempt (default `true`).
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// Calls `f` as bytes arrive.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(f));
        self
    }

    /// Gives the whole download, retries and waits included, at most `timeout` from the call.
    /// When it runs out the download stops with [`ErrorKind::Timeout`], keeping the partial file
    /// for a later call to resume. Default: no limit (the [`StallGuard`] still ends dead attempts).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = Some(Deadline::After(timeout));
        self
    }

    /// Like [`timeout`](Self::timeout), as an instant: for a caller whose own deadline covers
    /// more than the download (the CLI's `--timeout` covers the whole command).
    pub fn deadline(mut self, deadline: std::time::Instant) -> Self {
        self.deadline = Some(Deadline::At(deadline));
        self
    }

    /// When an attempt counts as stalled (default [`StallGuard::default`]).
    pub fn stall_guard(mut self, guard: StallGuard) -> Self {
        self.stall = guard;
        self
    }

    /// Whether the file must be a video (a whole MP4). By default it must when the destination
    /// ends in `.mp4`, `.mov` or `.m4v`, or the host calls it `video/mp4` or `video/quicktime`.
    pub fn expect_video(mut self, video: bool) -> Self {
        self.expect_video = Some(video);
        self
    }

    /// The deadline as an instant on tokio's clock (which a test may pause).
    fn deadline_from(&self, now: Instant) -> Option<Instant> {
        match self.deadline? {
            Deadline::After(timeout) => Some(now + timeout),
            Deadline::At(at) => {
                let left = at.saturating_duration_since(std::time::Instant::now());
                Some(now + left)
            }
        }
    }
}

/// What a finished download did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadReport {
    /// Where the file now is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Bytes the successful request did not fetch because an interrupted attempt had already saved them.
    pub resumed_from: u64,
    /// How many requests for the file it took (redirects not counted).
    pub attempts: u32,
    /// Redirects followed.
    pub redirects: u32,
    /// What showed the file whole.
    pub proof: Proof,
}

/// The storage client and the retry policy downloads run under.
pub(crate) struct Downloader {
    connect_timeout: Duration,
    /// Built at the first download: a client that never downloads never loads its TLS roots.
    http: OnceLock<reqwest::Client>,
    retry: RetryPolicy,
}

impl Downloader {
    pub(crate) fn new(connect_timeout: Duration, retry: RetryPolicy) -> Self {
        Self {
            connect_timeout,
            http: OnceLock::new(),
            retry,
        }
    }

    fn http(&self) -> Result<&reqwest::Client, Error> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let built = storage::download_client(self.connect_timeout)?;
        Ok(self.http.get_or_init(|| built))
    }

    /// Downloads `url` to `dest`.
    pub(crate) async fn download(
        &self,
        url: &str,
        dest: &Path,
        options: &DownloadOptions,
    ) -> Result<DownloadReport, Error> {
        let origin = reqwest::Url::parse(url).map_err(|e| {
            Error::new(
                ErrorKind::Download,
                format!("the output URL is not a valid URL: {e}"),
            )
        })?;
        let paths = Paths::new(dest)?;
        paths.create_dir().await?;
        let deadline = options.deadline_from(Instant::now());
        let mut run = attempt::Run {
            http: self.http()?,
            paths: &paths,
            options,
            deadline,
            origin: origin.clone(),
            current: origin,
            redirects: 0,
        };
        let mut rng = fastrand::Rng::new();
        let (mut attempts, mut retries, mut fruitless, mut high_water) = (0u32, 0u32, 0u32, 0u64);
        loop {
            attempts += 1;
            let stop = match run.attempt().await {
                Ok(done) => {
                    return Ok(DownloadReport {
                        path: paths.dest.clone(),
                        bytes: done.bytes,
                        resumed_from: done.resumed_from,
                        attempts,
                        redirects: run.redirects,
                        proof: done.proof,
                    });
                }
                Err(stop) => stop,
            };
            if stop.deadline || !stop.error.is_retryable() {
                return Err(stop.error);
            }
            // Attempts that saved nothing new count against the policy's attempts per call;
            // one that got further starts the count again. The budget bounds them all.
            let reached = paths.part_len().await;
            if reached > high_water {
                high_water = reached;
                fruitless = 0;
            } else {
                fruitless += 1;
            }
            retries += 1;
            if fruitless >= self.retry.max_attempts() || retries > self.retry.budget() {
                return Err(gave_up(stop.error, attempts, &paths).await);
            }
            let delay = self
                .retry
                .delay(fruitless.max(1), stop.retry_after, &mut rng);
            if deadline.is_some_and(|deadline| Instant::now() + delay >= deadline) {
                return Err(run.deadline_error().await);
            }
            tracing::debug!(attempts, error = %stop.error, ?delay, "download interrupted; resuming");
            tokio::time::sleep(delay).await;
        }
    }
}

/// The last error, saying how often it was tried and what is kept.
async fn gave_up(error: Error, attempts: u32, paths: &Paths) -> Error {
    let message = format!(
        "{error} (gave up after {attempts} attempts){}",
        paths.kept_note().await
    );
    error.map_message(message)
}
