//! The partial file beside the destination (`.<name>.part`) and what is remembered about it
//! (`.<name>.part.json`), so that a resume asks for the same version of the same file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::fs;

use crate::error::{Error, ErrorKind};

/// What is remembered about a partial file.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub(super) struct PartialMeta {
    /// The output URL the download was asked for (not a redirect target).
    pub(super) url: String,
    /// The strong `ETag` the first answer carried: a resume is sent with `If-Range: <etag>`.
    pub(super) etag: Option<String>,
    /// The size the host declared, if it did.
    pub(super) total: Option<u64>,
}

/// The destination, its partial file and that file's description.
pub(super) struct Paths {
    pub(super) dest: PathBuf,
    pub(super) part: PathBuf,
    pub(super) meta: PathBuf,
}

impl Paths {
    pub(super) fn new(dest: &Path) -> Result<Self, Error> {
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
        let dir = dir_of(dest);
        Ok(Self {
            dest: dest.to_path_buf(),
            part: dir.join(format!(".{name}.part")),
            meta: dir.join(format!(".{name}.part.json")),
        })
    }

    pub(super) async fn create_dir(&self) -> Result<(), Error> {
        let dir = dir_of(&self.dest);
        fs::create_dir_all(&dir)
            .await
            .map_err(|e| io_error("creating the destination folder", &dir, &e))
    }

    /// Bytes in the partial file (0 when there is none).
    pub(super) async fn part_len(&self) -> u64 {
        fs::metadata(&self.part).await.map_or(0, |m| m.len())
    }

    /// The partial file to resume and its description, when one exists for the same URL with a
    /// validator (without an `ETag` a resume could splice two versions of the file).
    pub(super) async fn resumable(&self, url: &str) -> Option<(u64, PartialMeta)> {
        let meta: PartialMeta = serde_json::from_slice(&fs::read(&self.meta).await.ok()?).ok()?;
        if meta.url != url || meta.etag.is_none() {
            return None;
        }
        let len = self.part_len().await;
        (len > 0).then_some((len, meta))
    }

    pub(super) async fn write_meta(&self, meta: &PartialMeta) -> Result<(), Error> {
        let json =
            serde_json::to_vec(meta).map_err(|e| Error::new(ErrorKind::Download, e.to_string()))?;
        fs::write(&self.meta, json)
            .await
            .map_err(|e| io_error("recording the partial download", &self.meta, &e))
    }

    /// Forgets the partial file's description, so no later call resumes from it (the bytes stay
    /// for inspection until the next download of the same file replaces them).
    pub(super) async fn forget(&self) {
        let _ = fs::remove_file(&self.meta).await;
    }

    pub(super) async fn discard(&self) {
        let _ = fs::remove_file(&self.part).await;
        let _ = fs::remove_file(&self.meta).await;
    }

    /// "; N bytes are kept in PATH; downloading again resumes from them", or nothing when there
    /// is no partial file (or nothing that can resume).
    pub(super) async fn kept_note(&self) -> String {
        let len = self.part_len().await;
        if len == 0 {
            return String::new();
        }
        let resumable = fs::try_exists(&self.meta).await.unwrap_or(false);
        format!(
            "; {len} bytes are kept in {}{}",
            self.part.display(),
            if resumable {
                ", and downloading again resumes from them"
            } else {
                ""
            }
        )
    }
}

/// Whether `dest` was put in place by a download that was stopped (a signal, a kill) between
/// its rename and its own bookkeeping: the partial file's description is still beside it, the
/// partial file itself is gone (it became `dest`), and `dest` is whole — by the size the host
/// declared, or by its own structure. A caller that recorded `dest` as a job's destination may
/// then treat it as that job's own file rather than as someone else's (blocking; reads a few
/// hundred bytes).
pub fn renamed_by_a_stopped_download(dest: &Path) -> bool {
    let Ok(paths) = Paths::new(dest) else {
        return false;
    };
    let Ok(meta) = std::fs::read(&paths.meta) else {
        return false;
    };
    let Ok(meta) = serde_json::from_slice::<PartialMeta>(&meta) else {
        return false;
    };
    if std::fs::symlink_metadata(&paths.part).is_ok() {
        return false;
    }
    let Ok(file_meta) = std::fs::symlink_metadata(dest) else {
        return false;
    };
    if !file_meta.file_type().is_file() {
        return false;
    }
    let len = file_meta.len();
    if meta.total.is_some_and(|total| total == len) {
        return true;
    }
    std::fs::File::open(dest)
        .is_ok_and(|mut file| happyhorse_core::media::check_whole(&mut file, len).is_ok())
}

fn dir_of(dest: &Path) -> PathBuf {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub(super) fn io_error(what: &str, path: &Path, err: &std::io::Error) -> Error {
    Error::new(
        ErrorKind::Download,
        format!("{what} ({}): {err}", path.display()),
    )
}
