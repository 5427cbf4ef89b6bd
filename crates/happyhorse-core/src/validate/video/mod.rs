//! Video inputs (video-edit's `video_url`), checked by the field's rule from the model's
//! `model.json`: container and codec by content, duration, sides, aspect ratio, size and frame
//! rate — every broken rule reported at once.
//!
//! Nothing is decoded. [`probe_video`] walks the top-level boxes by their headers, reads the
//! `moov` box (a few KB to a few hundred KB) and hands it to Mozilla's `mp4parse`; the media data,
//! which is nearly all of a file, is never read. A 100 MB file is measured by reading a few
//! hundred KB of it (`docs/benchmarks.md`, "Video checks").
//!
//! **Fragmented MP4s** (`moof` boxes, or `mvex` in the `moov`) are refused with a way to fix
//! them: their frames are described in the fragments, so their frame rate and duration cannot be
//! measured from the `moov` alone, and a video the check cannot measure is not sent to be paid for.

mod probe;

use std::fmt;

use happyhorse_types::rules::{VideoCodec, VideoContainer, VideoRules};

pub use probe::ReadAt;
use probe::Unreadable;

use super::error::InputError;
use super::units::{or_list, size_limit, sized};

/// What [`probe_video`] read from a video.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VideoInfo {
    /// The container, by the file's brands.
    pub container: VideoContainer,
    /// The video track's codec, when it is one a rule can name (H.264).
    pub codec: Option<VideoCodec>,
    /// The codec as a person would name it (`H.264`, `HEVC (H.265)`, `AV1`).
    pub codec_name: String,
    /// Width in pixels (the coded picture; a rotation flag does not change which sides are long).
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The video track's duration in seconds.
    pub duration_secs: f64,
    /// How many frames the video track holds.
    pub frames: u64,
    /// Frames per second: `frames / duration_secs`.
    pub fps: f64,
    /// The file's size in bytes.
    pub bytes: u64,
}

impl fmt::Display for VideoInfo {
    /// `MP4, H.264, 512 x 320 px, 3.50 s, 12.00 fps, 0.02 MB (17,637 bytes)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {}, {} x {} px, {:.2} s, {:.2} fps, {}",
            self.container,
            self.codec_name,
            self.width,
            self.height,
            self.duration_secs,
            self.fps,
            sized(self.bytes)
        )
    }
}

/// Reads a video's container, codec, sides, duration and frame rate from `source` without
/// decoding it (see the module's documentation), or says why it cannot be read: the error's
/// field is `"video"` ([`InputError::for_field`] renames it) and its rule one of `video_format`,
/// `video_truncated`, `video_corrupt`, `video_no_track`, `video_fragmented`, `video_file`.
///
/// ```
/// use happyhorse_core::validate::probe_video;
///
/// let error = probe_video(&mut &b"\x1a\x45\xdf\xa3 not an mp4"[..]).unwrap_err();
/// assert_eq!(error.to_string(), "video: must be an MP4 or MOV video (by content), got Matroska/WebM video");
/// ```
pub fn probe_video(source: &mut dyn ReadAt) -> Result<VideoInfo, InputError> {
    probe::probe(source).map_err(|why| {
        let field = "video";
        let (rule, requirement, got) = match why {
            Unreadable::NotMp4(what) => (
                "video_format",
                "must be an MP4 or MOV video (by content)".to_owned(),
                what,
            ),
            Unreadable::Truncated(why) => (
                "video_truncated",
                format!("must be a complete video ({why})"),
                sized(source.len()),
            ),
            Unreadable::Corrupt(why) => (
                "video_corrupt",
                format!("must be an undamaged MP4 or MOV video ({why})"),
                sized(source.len()),
            ),
            Unreadable::NoVideo(why) => (
                "video_no_track",
                format!("must hold a video track with frames ({why})"),
                sized(source.len()),
            ),
            Unreadable::Fragmented => (
                "video_fragmented",
                "must be a regular (not fragmented) MP4 or MOV, whose duration and frame rate can be \
                 checked before paying; remux it: ffmpeg -i IN -c copy -movflags +faststart OUT.mp4"
                    .to_owned(),
                "a fragmented MP4".to_owned(),
            ),
            Unreadable::Io(why) => (
                "video_file",
                format!("must be readable ({why})"),
                sized(source.len()),
            ),
        };
        InputError::new(field, rule, &requirement, got)
    })
}

/// The size rule alone, for a file whose length is known before it is read.
///
/// ```
/// use happyhorse_core::validate::check_video_size;
///
/// let rules = happyhorse_types::video_edit::SPEC.rules()?;
/// let video = rules.media_rule("video_url").unwrap().video().unwrap();
/// assert!(check_video_size(video, 100_000_000).is_ok());
/// assert_eq!(
///     check_video_size(video, 104_857_600).unwrap_err().to_string(),
///     "video: must be at most 100 MB (100,000,000 bytes), got 104.86 MB (104,857,600 bytes)"
/// );
/// # Ok::<(), happyhorse_types::ModelInfoError>(())
/// ```
pub fn check_video_size(rules: &VideoRules, bytes: u64) -> Result<(), InputError> {
    match rules.max_bytes {
        Some(max) if bytes > max => Err(InputError::new(
            "video",
            "video_max_bytes",
            &format!("must be at most {}", size_limit(max)),
            sized(bytes),
        )),
        _ => Ok(()),
    }
}

/// Every rule of `rules` that the measured video breaks, at once (the field is `"video"`).
///
/// ```
/// use happyhorse_core::validate::{check_video_info, probe_video};
///
/// let rules = happyhorse_types::video_edit::SPEC.rules()?;
/// let video = rules.media_rule("video_url").unwrap().video().unwrap();
/// # let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/horse.mp4"))?;
/// let info = probe_video(&mut bytes.as_slice())?;
/// assert!(check_video_info(video, &info).is_empty());
/// assert_eq!((info.width, info.height, info.frames), (512, 320, 42));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_video_info(rules: &VideoRules, info: &VideoInfo) -> Vec<InputError> {
    let field = "video";
    let mut errors: Vec<InputError> = check_video_size(rules, info.bytes)
        .err()
        .into_iter()
        .collect();
    let mut broken = |rule: &str, requirement: String, got: String| {
        errors.push(InputError::new(field, rule, &requirement, got));
    };
    if !rules.containers.is_empty() && !rules.containers.contains(&info.container) {
        broken(
            "video_format",
            format!("must be {} (by content)", names(&rules.containers)),
            info.container.to_string(),
        );
    }
    if !rules.codecs.is_empty() && !info.codec.is_some_and(|c| rules.codecs.contains(&c)) {
        broken(
            "video_codec",
            format!("must be encoded as {}", names(&rules.codecs)),
            info.codec_name.clone(),
        );
    }
    let seconds = format!("{:.2} s", info.duration_secs);
    match (rules.min_duration_secs, rules.max_duration_secs) {
        (Some(min), Some(max)) if info.duration_secs < min || info.duration_secs > max => broken(
            "video_duration",
            format!("must last from {min} to {max} seconds"),
            seconds.clone(),
        ),
        (Some(min), None) if info.duration_secs < min => broken(
            "video_duration",
            format!("must last at least {min} seconds"),
            seconds.clone(),
        ),
        (None, Some(max)) if info.duration_secs > max => broken(
            "video_duration",
            format!("must last at most {max} seconds"),
            seconds.clone(),
        ),
        _ => {}
    }
    let sides = format!("{} x {} px", info.width, info.height);
    let (long, short) = (info.width.max(info.height), info.width.min(info.height));
    if let Some(max) = rules.max_long_side
        && long > max
    {
        broken(
            "video_long_side",
            format!("must be at most {max} px on its long side"),
            sides.clone(),
        );
    }
    if let Some(min) = rules.min_short_side
        && short < min
    {
        broken(
            "video_short_side",
            format!("must be at least {min} px on its short side"),
            sides.clone(),
        );
    }
    if let Some(limit) = &rules.max_aspect_ratio
        && !limit.allows(u64::from(info.width), u64::from(info.height))
    {
        broken(
            "video_aspect",
            format!("must have an aspect ratio {}", limit.range()),
            format!(
                "{sides} ({:.2}:1)",
                f64::from(long) / f64::from(short.max(1))
            ),
        );
    }
    if let Some(min) = rules.fps_greater_than
        && info.fps <= min
    {
        broken(
            "video_fps",
            format!("must have more than {min} frames per second"),
            format!("{:.2} fps ({} frames in {seconds})", info.fps, info.frames),
        );
    }
    errors
}

/// Checks a video held in memory (a decoded `data:` URI) by `rules`: its size first, then what
/// [`probe_video`] reads, then [`check_video_info`]. Every broken rule is returned at once.
///
/// # Errors
/// Every broken rule, each with the field `"video"`.
pub fn check_video_bytes(rules: &VideoRules, bytes: &[u8]) -> Result<VideoInfo, Vec<InputError>> {
    let info = probe_video(&mut &bytes[..]).map_err(|e| vec![e])?;
    let errors = check_video_info(rules, &info);
    if errors.is_empty() {
        Ok(info)
    } else {
        Err(errors)
    }
}

fn names<T: fmt::Display>(items: &[T]) -> String {
    or_list(&items.iter().map(ToString::to_string).collect::<Vec<_>>())
}

#[cfg(test)]
pub(super) mod tests;
