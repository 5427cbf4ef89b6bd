//! Downloads a job's output file safely.
//!
//! The bytes stream into a hidden partial file beside the destination (`.<name>.part`), are
//! checked against `Content-Length`, fsynced, and renamed over the destination in one step, so a
//! failed or interrupted download never leaves a truncated file where a good one was expected.
//! An interrupted download resumes with `Range` (guarded by `If-Range` with the ETag it started
//! with) on the next attempt or the next run. Output URLs live on a storage host, never the API's
//! origin: the client used here never carries the API token.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, ETAG, HeaderMap, IF_RANGE, RANGE};
use serde::{Deserialize, Serialize};
use tokio::fs::{self, File, OpenOptions};
use tokio::io::AsyncWriteExt;

use crate::error::{Error, ErrorKind};

/// The default cap on a downloaded file: far above any 15 s 1080P video.
pub const DEFAULT_MAX_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// How many times a download is attempted (resuming each time) before giving up.
const ATTEMPTS: u32 = 5;

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

/// How to download.
///
/// ```
/// use happyhorse_http::DownloadOptions;
///
/// let options = DownloadOptions::default()
///     .max_bytes(512 * 1024 * 1024)
///     .on_progress(|p| eprintln!("{} of {:?} bytes", p.bytes, p.total));
/// # let _ = options;
/// ```
#[derive(Clone)]
pub struct DownloadOptions {
    max_bytes: u64,
    resume: bool,
    on_progress: Option<ProgressFn>,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            resume: true,
            on_progress: None,
        }
    }
}

impl std::fmt::Debug for DownloadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadOptions")
            .field("max_bytes", &self.max_bytes)
            .field("resume", &self.resume)
            .field("on_progress", &self.on_progress.is_some())
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
    /// How many requests it took.
    pub attempts: u32,
}

/// What is remembered about a partial file, so a resume asks for the same version of it.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct PartialMeta {
    url: String,
    etag: Option<String>,
    total: Option<u64>,
}

/// The partial file and its metadata, beside the destination.
struct Paths {
    dest: PathBuf,
    part: PathBuf,
    meta: PathBuf,
}

impl Paths {
    fn new(dest: &Path) -> Result<Self, Error> {
        let name = dest
            .file_name()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Download,
                    format!("{} is not a file path", dest.display()),
                )
            })?
            .to_string_lossy()
            .into_owned();
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok(Self {
            dest: dest.to_path_buf(),
            part: dir.join(format!(".{name}.part")),
            meta: dir.join(format!(".{name}.part.json")),
        })
    }
}

/// Downloads `url` to `dest` with `http` (a client that carries no API token).
pub(crate) async fn download(
    http: &reqwest::Client,
    url: &str,
    dest: &Path,
    options: &DownloadOptions,
) -> Result<DownloadReport, Error> {
    let paths = Paths::new(dest)?;
    if let Some(dir) = paths.dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)
            .await
            .map_err(|e| io_error("creating the destination folder", dir, e))?;
    }
    let mut attempt = 1;
    loop {
        match attempt_once(http, url, &paths, options).await {
            Ok((bytes, resumed_from)) => {
                return Ok(DownloadReport {
                    path: paths.dest.clone(),
                    bytes,
                    resumed_from,
                    attempts: attempt,
                });
            }
            Err(err) if err.is_retryable() && attempt < ATTEMPTS => {
                tracing::debug!(attempt, error = %err, "download interrupted; resuming");
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                attempt += 1;
            }
            Err(err) => return Err(err),
        }
    }
}

/// One request: resumes from the partial file when it can. Returns the final size and the
/// offset it started from.
async fn attempt_once(
    http: &reqwest::Client,
    url: &str,
    paths: &Paths,
    options: &DownloadOptions,
) -> Result<(u64, u64), Error> {
    let offset = if options.resume {
        resumable_offset(url, paths).await
    } else {
        None
    };
    let mut request = http.get(url);
    if let Some((offset, meta)) = &offset {
        request = request.header(RANGE, format!("bytes={offset}-"));
        if let Some(etag) = &meta.etag {
            request = request.header(IF_RANGE, etag);
        }
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| Error::transport("downloading the output", e))?;
    let status = response.status();
    let (mut file, start, total) = match (status, offset) {
        (StatusCode::PARTIAL_CONTENT, Some((offset, meta))) => {
            let total = content_range_total(response.headers(), offset)?;
            if meta.total.is_some_and(|t| Some(t) != total) {
                return Err(Error::new(
                    ErrorKind::Download,
                    "the file changed size since the download began",
                )
                .retryable());
            }
            let file = OpenOptions::new()
                .append(true)
                .open(&paths.part)
                .await
                .map_err(|e| io_error("opening the partial download", &paths.part, e))?;
            (file, offset, total)
        }
        (StatusCode::OK, _) => {
            // A fresh start: no partial file, the server ignored the range, or the ETag changed.
            let total = content_length(response.headers());
            if let Some(total) = total.filter(|t| *t > options.max_bytes) {
                discard_partial(paths).await;
                return Err(too_large(total, options.max_bytes));
            }
            let meta = PartialMeta {
                url: url.to_owned(),
                etag: etag(response.headers()),
                total,
            };
            write_meta(&paths.meta, &meta).await?;
            let file = File::create(&paths.part)
                .await
                .map_err(|e| io_error("creating the partial download", &paths.part, e))?;
            (file, 0, total)
        }
        (StatusCode::RANGE_NOT_SATISFIABLE, _) => {
            discard_partial(paths).await;
            return Err(Error::new(
                ErrorKind::Download,
                "the server refused to resume; starting again",
            )
            .retryable());
        }
        (status, _) => {
            let retryable = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
            let err = Error::new(
                ErrorKind::Download,
                format!("the storage host answered HTTP {}", status.as_u16()),
            )
            .with_status(status.as_u16());
            return Err(if retryable { err.retryable() } else { err });
        }
    };
    if let Some(total) = total.filter(|t| *t > options.max_bytes) {
        drop(file);
        discard_partial(paths).await;
        return Err(too_large(total, options.max_bytes));
    }
    let mut written = start;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                // Keep what arrived: the next attempt resumes from it.
                let _ = file.flush().await;
                return Err(Error::transport(
                    "downloading the output (the connection broke)",
                    e,
                ));
            }
        };
        written += chunk.len() as u64;
        if written > options.max_bytes {
            drop(file);
            discard_partial(paths).await;
            return Err(too_large(written, options.max_bytes));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| io_error("writing the partial download", &paths.part, e))?;
        if let Some(progress) = &options.on_progress {
            progress(Progress {
                bytes: written,
                total,
            });
        }
    }
    if let Some(total) = total.filter(|t| *t != written) {
        let _ = file.flush().await;
        return Err(Error::new(
            ErrorKind::Download,
            format!("the download ended early: {written} of {total} bytes"),
        )
        .retryable());
    }
    file.sync_all()
        .await
        .map_err(|e| io_error("syncing the download", &paths.part, e))?;
    drop(file);
    refuse_to_replace_a_non_file(&paths.dest).await?;
    fs::rename(&paths.part, &paths.dest)
        .await
        .map_err(|e| io_error("moving the download into place", &paths.dest, e))?;
    let _ = fs::remove_file(&paths.meta).await;
    sync_dir(&paths.dest).await;
    Ok((written, start))
}

/// The offset to resume from, if a partial file for the same URL exists.
async fn resumable_offset(url: &str, paths: &Paths) -> Option<(u64, PartialMeta)> {
    let meta: PartialMeta = serde_json::from_slice(&fs::read(&paths.meta).await.ok()?).ok()?;
    if meta.url != url || meta.etag.is_none() {
        return None;
    }
    let len = fs::metadata(&paths.part).await.ok()?.len();
    (len > 0).then_some((len, meta))
}

async fn write_meta(path: &Path, meta: &PartialMeta) -> Result<(), Error> {
    let json =
        serde_json::to_vec(meta).map_err(|e| Error::new(ErrorKind::Download, e.to_string()))?;
    fs::write(path, json)
        .await
        .map_err(|e| io_error("recording the partial download", path, e))
}

async fn discard_partial(paths: &Paths) {
    let _ = fs::remove_file(&paths.part).await;
    let _ = fs::remove_file(&paths.meta).await;
}

/// Makes the rename durable (best effort: not every platform can open a directory).
async fn sync_dir(dest: &Path) {
    let dir = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Ok(dir) = File::open(dir).await {
        let _ = dir.sync_all().await;
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

fn etag(headers: &HeaderMap) -> Option<String> {
    // A weak ETag cannot guard a byte range.
    headers
        .get(ETAG)?
        .to_str()
        .ok()
        .filter(|e| !e.starts_with("W/"))
        .map(str::to_owned)
}

/// The total size from `Content-Range: bytes <offset>-<end>/<total>`, checking it starts where asked.
fn content_range_total(headers: &HeaderMap, offset: u64) -> Result<Option<u64>, Error> {
    let bad = || {
        Error::new(
            ErrorKind::Download,
            "the storage host sent an invalid Content-Range",
        )
        .retryable()
    };
    let value = headers
        .get(CONTENT_RANGE)
        .ok_or_else(bad)?
        .to_str()
        .map_err(|_| bad())?;
    let (range, total) = value
        .strip_prefix("bytes ")
        .and_then(|r| r.split_once('/'))
        .ok_or_else(bad)?;
    let start: u64 = range
        .split_once('-')
        .and_then(|(s, _)| s.parse().ok())
        .ok_or_else(bad)?;
    if start != offset {
        return Err(bad());
    }
    Ok(total.parse().ok())
}

fn too_large(size: u64, max: u64) -> Error {
    Error::new(
        ErrorKind::Download,
        format!("the file is larger than the {max}-byte limit ({size} bytes or more)"),
    )
}

/// A rename would replace a symlink itself, and cannot replace a directory: a download only ever
/// takes the place of a regular file (or of nothing). The CLI checks before paying; this guard
/// covers whatever appeared at the destination since. (The partial file is kept, so a later
/// download to another path, or after the obstacle is moved, resumes it.)
async fn refuse_to_replace_a_non_file(dest: &Path) -> Result<(), Error> {
    match fs::symlink_metadata(dest).await {
        Ok(meta) if !meta.file_type().is_file() => Err(Error::new(
            ErrorKind::Download,
            format!(
                "{} is not a regular file (a symlink, a directory or a special file): the download was not put in its place",
                dest.display()
            ),
        )),
        _ => Ok(()),
    }
}

fn io_error(what: &str, path: &Path, err: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Download,
        format!("{what} ({}): {err}", path.display()),
    )
}
