//! Any model's media field from a local file, bytes or a URL, by the field's own rule in the
//! model's `model.json`: an image checked whole, a video measured without being decoded (its
//! `moov` box read through seeks, the media data skipped), then both sent inline as `data:` URIs.
//!
//! A file is read whole only once every rule passed and it is small enough to travel inline:
//! at most [`INLINE_MAX_BYTES`] (48 MB) — a request is capped at 64 MiB and base64 adds a third.
//! A larger one (video-edit accepts videos up to 100 MB) is refused with what to do instead:
//! host it and pass its https:// URL.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;

use base64::Engine as _;
use happyhorse_core::validate::{
    INLINE_MAX_BYTES, InputError, InputErrors, ReadAt, check_image_size_with, check_image_with,
    check_video_info, check_video_size, inline_too_large, media_rule, probe_video, shorten,
    validate_media_ref,
};
use happyhorse_types::ModelSpec;
use happyhorse_types::rules::{ImageRules, MediaChecks, VideoRules};

use crate::error::{Error, ErrorKind};
use crate::image::ImageSource;

impl ImageSource {
    /// The value to put in `spec`'s media field `field` (an image or a video, any model): the URL
    /// itself, or a `data:` URI of a local file or of bytes, checked by the field's own rule.
    ///
    /// ```no_run
    /// use happyhorse_http::MediaSource;
    /// use happyhorse_types::video_edit;
    ///
    /// # async fn demo() -> Result<(), happyhorse_http::Error> {
    /// let video = MediaSource::parse("clip.mp4").into_value_for(&video_edit::SPEC, "video_url").await?;
    /// assert!(video.starts_with("data:video/mp4;base64,"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when `field` is not one of the model's media fields, the file
    /// cannot be read, the media breaks its rule (every broken rule of a video at once, in
    /// [`Error::input_errors`]), or a local file is over [`INLINE_MAX_BYTES`].
    pub async fn into_value_for(self, spec: &ModelSpec, field: &str) -> Result<String, Error> {
        match self {
            Self::Path(path) => {
                let (spec, field) = (*spec, field.to_owned());
                tokio::task::spawn_blocking(move || {
                    Self::Path(path).into_value_for_blocking(&spec, &field)
                })
                .await
                .map_err(|e| Error::new(ErrorKind::InvalidInput, e.to_string()))?
            }
            other => other.into_value_for_blocking(spec, field),
        }
    }

    /// [`into_value_for`](Self::into_value_for) for synchronous callers (reads the file on the
    /// calling thread).
    ///
    /// # Errors
    /// As [`into_value_for`](Self::into_value_for).
    pub fn into_value_for_blocking(self, spec: &ModelSpec, field: &str) -> Result<String, Error> {
        let rule = media_rule(spec, field).ok_or_else(|| {
            Error::from(InputError::new(
                field,
                "media_field",
                &format!("must be a media field of {}", spec.id),
                field,
            ))
        })?;
        let inline = |bytes: &[u8], mime: &str| -> Result<String, Error> {
            if bytes.len() as u64 > INLINE_MAX_BYTES {
                return Err(inline_too_large(field, bytes.len() as u64).into());
            }
            Ok(data_uri(mime, bytes))
        };
        match (self, &rule.checks) {
            (Self::Url(url), _) => {
                validate_media_ref(field, rule, &url).map_err(InputErrors::new)?;
                Ok(url)
            }
            (Self::Bytes(bytes), MediaChecks::Image(image)) => {
                let info = check_image_with(image, &bytes).map_err(|e| e.for_field(field))?;
                inline(&bytes, info.format.mime())
            }
            (Self::Bytes(bytes), MediaChecks::Video(video)) => {
                let info = happyhorse_core::validate::check_video_bytes(video, &bytes)
                    .map_err(|errors| renamed(errors, field, None))?;
                inline(&bytes, info.container.mime())
            }
            (Self::Path(path), MediaChecks::Image(image)) => read_image(field, image, &path),
            (Self::Path(path), MediaChecks::Video(video)) => read_video(field, video, &path),
        }
    }
}

/// A local image for `field`: refused unread above its size limit (or the inline limit when the
/// rule has none), read bounded, checked, inlined.
fn read_image(field: &str, rules: &ImageRules, path: &Path) -> Result<String, Error> {
    let shown = shorten(&path.display().to_string());
    let (mut file, len) = open(field, "image_file", "image", path)?;
    if let Some(max) = rules.max_bytes
        && let Err(error) = check_image_size_with(max, len)
    {
        let value = format!("{} ({shown})", error.value);
        return Err(error.for_field(field).with_value(value).into());
    }
    if len > INLINE_MAX_BYTES {
        let error = inline_too_large(field, len);
        let value = format!("{} ({shown})", error.value);
        return Err(error.with_value(value).into());
    }
    let bytes = read_bounded(field, "image_file", &mut file, len, &shown)?;
    let info = check_image_with(rules, &bytes).map_err(|e| e.for_field(field))?;
    Ok(data_uri(info.format.mime(), &bytes))
}

/// A local video for `field`: measured through seeks (the media data is never read), every rule
/// checked at once, then — when it may travel inline — read whole and inlined.
fn read_video(field: &str, rules: &VideoRules, path: &Path) -> Result<String, Error> {
    let shown = shorten(&path.display().to_string());
    let (mut file, len) = open(field, "video_file", "video", path)?;
    if let Err(error) = check_video_size(rules, len) {
        // Too large to be accepted at all: nothing more is read.
        return Err(renamed(vec![error], field, Some(&shown)).into());
    }
    let mut source = FileAt {
        file: &mut file,
        len,
    };
    let info = probe_video(&mut source).map_err(|e| renamed(vec![e], field, Some(&shown)))?;
    let mut errors = check_video_info(rules, &info);
    if len > INLINE_MAX_BYTES {
        errors.push(inline_too_large("video", len));
    }
    if !errors.is_empty() {
        return Err(renamed(errors, field, Some(&shown)).into());
    }
    file.seek(SeekFrom::Start(0)).map_err(|e| {
        Error::from(unreadable(
            field,
            "video_file",
            "video",
            &shown,
            &io_reason(&e),
        ))
    })?;
    let bytes = read_bounded(field, "video_file", &mut file, len, &shown)?;
    Ok(data_uri(info.container.mime(), &bytes))
}

/// A regular file, opened, and its length.
fn open(field: &str, rule: &str, kind: &str, path: &Path) -> Result<(File, u64), Error> {
    let shown = shorten(&path.display().to_string());
    let fail = |why: String| Error::from(unreadable(field, rule, kind, &shown, &why));
    let meta = std::fs::metadata(path).map_err(|e| fail(io_reason(&e)))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    let file = File::open(path).map_err(|e| fail(io_reason(&e)))?;
    Ok((file, meta.len()))
}

/// Reads a file of `len` bytes, at most one byte more: a file that grew meanwhile is refused.
fn read_bounded(
    field: &str,
    rule: &str,
    file: &mut File,
    len: u64,
    shown: &str,
) -> Result<Vec<u8>, Error> {
    let kind = rule.trim_end_matches("_file");
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(len + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::from(unreadable(field, rule, kind, shown, &io_reason(&e))))?;
    if bytes.len() as u64 != len {
        return Err(unreadable(field, rule, kind, shown, "it changed while being read").into());
    }
    Ok(bytes)
}

fn unreadable(field: &str, rule: &str, kind: &str, shown: &str, why: &str) -> InputError {
    InputError::new(
        field,
        rule,
        &format!("must be a readable local {kind} file ({why})"),
        shown.to_owned(),
    )
}

/// Errors about `"video"` renamed for `field`, with the file's name after each value.
fn renamed(errors: Vec<InputError>, field: &str, file: Option<&str>) -> InputErrors {
    InputErrors::new(
        errors
            .into_iter()
            .map(|e| {
                let e = e.for_field(field);
                match file {
                    Some(file) => {
                        let value = format!("{} ({file})", e.value);
                        e.with_value(value)
                    }
                    None => e,
                }
            })
            .collect(),
    )
}

/// A file read at offsets, for core's video probe.
struct FileAt<'a> {
    file: &'a mut File,
    len: u64,
}

impl ReadAt for FileAt<'_> {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        self.file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| self.file.read_exact(buf))
            .map_err(|e| io_reason(&e))
    }
}

fn data_uri(mime: &str, bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    format!("data:{mime};base64,{encoded}")
}

/// An I/O error as a short reason without the OS error number.
pub(crate) fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "a directory".into(),
        std::io::ErrorKind::UnexpectedEof => "it ended early".into(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests;
