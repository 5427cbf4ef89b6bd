//! One attempt at a download: the request (following redirects by hand), the answer read by
//! core, the body streamed to the writer under the stall guard and the deadline, and the file
//! judged, synced and renamed into place.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use happyhorse_core::download::{Answer, Proof, Received, Reply, judge, read_answer};
use reqwest::header::{self, HeaderMap};
use reqwest::{Response, Url};
use tokio::time::{Instant, sleep_until};

use super::partial::{PartialMeta, Paths, io_error};
use super::storage::refused_redirect;
use super::writer::Writer;
use super::{DownloadOptions, MAX_REDIRECTS, Progress};
use crate::error::{Error, ErrorKind};

/// What stays the same across the attempts of one download.
pub(super) struct Run<'a> {
    pub(super) http: &'a reqwest::Client,
    pub(super) paths: &'a Paths,
    pub(super) options: &'a DownloadOptions,
    pub(super) deadline: Option<Instant>,
    /// The URL the download was asked for.
    pub(super) origin: Url,
    /// Where the next request goes: the last redirect target that answered, so a retry does not
    /// spend redirects again.
    pub(super) current: Url,
    /// Redirects followed so far, over all attempts.
    pub(super) redirects: u32,
}

/// A finished download.
pub(super) struct Done {
    pub(super) bytes: u64,
    pub(super) resumed_from: u64,
    pub(super) proof: Proof,
}

/// Why an attempt stopped.
pub(super) struct Stop {
    pub(super) error: Error,
    pub(super) retry_after: Option<Duration>,
    /// The deadline passed: no further attempt.
    pub(super) deadline: bool,
}

impl From<Error> for Stop {
    fn from(error: Error) -> Self {
        Self {
            error,
            retry_after: None,
            deadline: false,
        }
    }
}

fn download_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Download, message)
}

impl Run<'_> {
    pub(super) async fn attempt(&mut self) -> Result<Done, Stop> {
        let resume = match self.options.resume {
            true => self.paths.resumable(self.origin.as_str()).await,
            false => None,
        };
        let (response, reply) = self.request(resume.as_ref()).await?;
        match reply {
            Reply::Body { start, total, etag } => self.receive(response, start, total, etag).await,
            Reply::AlreadyWhole { total } => {
                drop(response);
                let expect_video = self.expect_video(None);
                self.seal(None, total, Some(total), expect_video, total)
                    .await
            }
            Reply::StartOver { why } => {
                self.paths.discard().await;
                Err(download_error(format!("{why}; starting again"))
                    .retryable()
                    .into())
            }
            Reply::Garbled { why } => {
                // The same request would likely get the same answer: the next one starts afresh.
                self.paths.discard().await;
                Err(download_error(why).retryable().into())
            }
            Reply::Refused {
                status,
                retryable,
                retry_after,
            } => {
                let mut error = download_error(format!("the storage host answered HTTP {status}"))
                    .with_status(status);
                if !retryable && self.current != self.origin {
                    // A redirect target refused (an expired signed link, say): ask the origin again.
                    self.current = self.origin.clone();
                    error = error.retryable();
                } else if retryable {
                    error = error.retryable();
                }
                Err(Stop {
                    error,
                    retry_after,
                    deadline: false,
                })
            }
            _ => Err(download_error("the storage host's answer was not understood").into()),
        }
    }

    /// Sends the request, following redirects (at most [`MAX_REDIRECTS`] per download), and
    /// reads the final answer.
    async fn request(
        &mut self,
        resume: Option<&(u64, PartialMeta)>,
    ) -> Result<(Response, Reply), Stop> {
        loop {
            let mut request = self.http.get(self.current.clone());
            if let Some((offset, meta)) = resume {
                request = request.header(header::RANGE, format!("bytes={offset}-"));
                if let Some(etag) = &meta.etag {
                    request = request.header(header::IF_RANGE, etag);
                }
            }
            let response = self
                .within_window(request.send(), "answer")
                .await?
                .map_err(|e| Error::transport("downloading the output", e))?;
            let reply = {
                let headers = response.headers();
                let text = |name| header_text(headers, name);
                let answer = Answer {
                    status: response.status().as_u16(),
                    content_length: text(header::CONTENT_LENGTH),
                    content_range: text(header::CONTENT_RANGE),
                    etag: text(header::ETAG),
                    location: text(header::LOCATION),
                    retry_after: text(header::RETRY_AFTER),
                    date: text(header::DATE),
                };
                read_answer(
                    &answer,
                    resume.map(|(offset, _)| *offset),
                    resume.and_then(|(_, meta)| meta.total),
                )
            };
            let Reply::Redirect { location } = reply else {
                return Ok((response, reply));
            };
            let next = self
                .current
                .join(&location)
                .map_err(|_| download_error("the storage host redirected to an invalid URL"))?;
            if let Some(why) = refused_redirect(Some(&self.current), &next) {
                return Err(download_error(why).into());
            }
            if self.redirects >= MAX_REDIRECTS {
                return Err(download_error(format!(
                    "the storage host redirected more than {MAX_REDIRECTS} times"
                ))
                .into());
            }
            self.redirects += 1;
            tracing::debug!(redirects = self.redirects, "following a storage redirect");
            self.current = next;
        }
    }

    /// Streams the body into the partial file, from byte `start`.
    async fn receive(
        &mut self,
        mut response: Response,
        start: u64,
        total: Option<u64>,
        etag: Option<String>,
    ) -> Result<Done, Stop> {
        let max = self.options.max_bytes;
        if let Some(total) = total.filter(|total| *total > max) {
            self.paths.discard().await;
            return Err(too_large(total, max).into());
        }
        let expect_video = self.expect_video(header_text(response.headers(), header::CONTENT_TYPE));
        let file = self.open(start, total, etag).await?;
        let mut writer = Writer::start(file, start);
        let progress = self.options.on_progress.clone();
        let report = |bytes| {
            if let Some(progress) = &progress {
                progress(Progress { bytes, total });
            }
        };
        if start > 0 {
            report(start);
        }
        let guard = self.options.stall;
        let mut written = start;
        let mut in_window = 0;
        let stall = sleep_until(Instant::now() + guard.window());
        let deadline = self.deadline_timer();
        tokio::pin!(stall, deadline);
        let stopped: Option<Stop> = loop {
            let chunk = tokio::select! {
                biased;
                chunk = response.chunk() => chunk,
                () = &mut stall => {
                    if in_window < guard.min_bytes() {
                        break Some(self.stalled().into());
                    }
                    in_window = 0;
                    stall.as_mut().reset(Instant::now() + guard.window());
                    continue;
                }
                () = &mut deadline => break Some(self.deadline_stop().await),
            };
            let chunk = match chunk {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break None,
                Err(e) => {
                    break Some(
                        Error::transport("downloading the output (the connection broke)", e).into(),
                    );
                }
            };
            let len = chunk.len() as u64;
            written += len;
            in_window += len;
            if written > max {
                let _ = writer.finish().await;
                self.paths.discard().await;
                return Err(too_large(written, max).into());
            }
            tokio::select! {
                biased;
                pushed = writer.push(chunk) => if let Err(e) = pushed {
                    return Err(io_error("writing the partial download", &self.paths.part, &e).into());
                },
                () = &mut deadline => break Some(self.deadline_stop().await),
            }
            report(written);
        };
        let file = writer
            .finish()
            .await
            .map_err(|e| io_error("writing the partial download", &self.paths.part, &e))?;
        if let Some(mut stop) = stopped {
            // What arrived is kept, on disk, for the next attempt or run to resume from.
            let _ = tokio::task::spawn_blocking(move || file.sync_data()).await;
            if stop.deadline {
                stop.error = self.deadline_error().await;
            }
            return Err(stop);
        }
        self.seal(Some(file), written, total, expect_video, start)
            .await
    }

    /// The partial file, created afresh (with its description) or opened to append.
    async fn open(
        &self,
        start: u64,
        total: Option<u64>,
        etag: Option<String>,
    ) -> Result<std::fs::File, Error> {
        let part = &self.paths.part;
        let mut open = tokio::fs::OpenOptions::new();
        open.read(true);
        if start == 0 {
            self.paths
                .write_meta(&PartialMeta {
                    url: self.origin.to_string(),
                    etag,
                    total,
                })
                .await?;
            open.write(true).create(true).truncate(true);
        } else {
            open.append(true);
        }
        let file = open
            .open(part)
            .await
            .map_err(|e| io_error("opening the partial download", part, &e))?;
        Ok(file.into_std().await)
    }

    /// Judges the finished partial file; when it is provably whole, syncs it and renames it into
    /// place. `file` is the open partial file (`None`: open it).
    async fn seal(
        &self,
        file: Option<std::fs::File>,
        len: u64,
        declared: Option<u64>,
        expect_video: bool,
        resumed_from: u64,
    ) -> Result<Done, Stop> {
        let (part, dest) = (self.paths.part.clone(), self.paths.dest.clone());
        let received = Received {
            len,
            declared,
            expect_video,
        };
        let sealed = tokio::task::spawn_blocking(move || seal(file, &part, &dest, received))
            .await
            .map_err(|e| download_error(format!("the download's final step failed: {e}")))?;
        match sealed {
            Ok(proof) => {
                let _ = tokio::fs::remove_file(&self.paths.meta).await;
                Ok(Done {
                    bytes: len,
                    resumed_from,
                    proof,
                })
            }
            Err(Sealed::Io(what, e)) => Err(io_error(what, &self.paths.part, &e).into()),
            Err(Sealed::NotAFile) => Err(download_error(format!(
                "{} is not a regular file (a symlink, a directory or a special file): the download was not put in its place{}",
                self.paths.dest.display(),
                self.paths.kept_note().await
            ))
            .into()),
            Err(Sealed::Unproven(why)) => {
                let resumable = self.paths.resumable(self.origin.as_str()).await.is_some();
                let retry = why.is_retryable()
                    && (resumable
                        || !matches!(why, happyhorse_core::download::Unproven::NoProof(_)));
                if !retry {
                    // Nothing to resume from: keep the bytes to look at, not to build on.
                    self.paths.forget().await;
                }
                let message = format!(
                    "{why}; the file was not moved into place{}",
                    self.paths.kept_note().await
                );
                let error = download_error(message);
                Err(if retry { error.retryable() } else { error }.into())
            }
        }
    }

    /// Whether the file must be a whole MP4.
    fn expect_video(&self, content_type: Option<&str>) -> bool {
        self.options.expect_video.unwrap_or_else(|| {
            video_by_name(&self.paths.dest)
                || content_type.is_some_and(|t| {
                    let t = t.trim().to_ascii_lowercase();
                    t.starts_with("video/mp4") || t.starts_with("video/quicktime")
                })
        })
    }

    /// Awaits `future` unless the stall window (nothing has arrived yet) or the deadline passes first.
    async fn within_window<T>(
        &self,
        future: impl Future<Output = T>,
        what: &str,
    ) -> Result<T, Stop> {
        let deadline = self.deadline_timer();
        tokio::select! {
            value = future => Ok(value),
            () = tokio::time::sleep(self.options.stall.window()) => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "the storage host sent no {what} within {} s",
                    self.options.stall.window().as_secs_f64()
                ),
            )
            .retryable()
            .into()),
            () = deadline => Err(self.deadline_stop().await),
        }
    }

    fn deadline_timer(&self) -> tokio::time::Sleep {
        // Without a deadline, a timer that never fires in practice (a century).
        sleep_until(
            self.deadline
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(100 * 365 * 86_400)),
        )
    }

    fn stalled(&self) -> Error {
        let guard = self.options.stall;
        Error::new(
            ErrorKind::Timeout,
            format!(
                "the storage host stalled: fewer than {} bytes in {} s",
                guard.min_bytes(),
                guard.window().as_secs_f64()
            ),
        )
        .retryable()
    }

    async fn deadline_stop(&self) -> Stop {
        Stop {
            error: self.deadline_error().await,
            retry_after: None,
            deadline: true,
        }
    }

    /// The deadline passed: what is kept and how to go on.
    pub(super) async fn deadline_error(&self) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "the download did not finish within its time limit{}",
                self.paths.kept_note().await
            ),
        )
    }
}

enum Sealed {
    Io(&'static str, std::io::Error),
    /// Something other than a regular file is at the destination.
    NotAFile,
    Unproven(happyhorse_core::download::Unproven),
}

/// Judge, sync, rename, sync the folder (blocking).
fn seal(
    file: Option<std::fs::File>,
    part: &Path,
    dest: &Path,
    received: Received,
) -> Result<Proof, Sealed> {
    let mut file = match file {
        Some(file) => file,
        None => {
            std::fs::File::open(part).map_err(|e| Sealed::Io("opening the partial download", e))?
        }
    };
    let proof = judge(&mut file, received).map_err(Sealed::Unproven)?;
    file.sync_all()
        .map_err(|e| Sealed::Io("syncing the download", e))?;
    drop(file);
    // A rename would replace a symlink itself, and cannot replace a directory: a download only
    // ever takes the place of a regular file (or of nothing). The CLI checks before paying; this
    // covers whatever appeared at the destination since. The partial file stays, resumable.
    if std::fs::symlink_metadata(dest).is_ok_and(|meta| !meta.file_type().is_file()) {
        return Err(Sealed::NotAFile);
    }
    std::fs::rename(part, dest).map_err(|e| Sealed::Io("moving the download into place", e))?;
    // Makes the rename durable (best effort: not every platform can open a folder).
    let dir = match dest.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(proof)
}

fn video_by_name(dest: &Path) -> bool {
    dest.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["mp4", "mov", "m4v"].contains(&e.to_ascii_lowercase().as_str()))
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name)?.to_str().ok()
}

fn too_large(size: u64, max: u64) -> Error {
    download_error(format!(
        "the file is larger than the {max}-byte limit ({size} bytes or more)"
    ))
}
