//! Offline previews: a stand-in for a generated video, made from the request itself.
//!
//! The real service turns a photo and a prompt into a new video; an emulator cannot. What it can
//! honestly show is the user's own image, framed the way the service frames it, with a gentle
//! camera drift, for exactly the requested duration at 24 fps and at the pixel size the
//! requested resolution implies. Text-to-video gets a card with the prompt's first words;
//! reference-to-video cross-fades its references; video-edit keeps the input's size and duration.
//!
//! Videos are AV1 (encoded by `rav1e`: pure Rust, royalty-free) in an MP4 that ffmpeg and browsers
//! play; `docs/emulator.md` ("The preview") records the choice and what it costs. The emulator
//! (`happyhorse-emulator`) renders one for each job; every renderer is also a plain function:
//!
//! ```no_run
//! use happyhorse_preview::{PreviewSettings, Resolution};
//!
//! let photo = std::fs::read("examples/horse.png")?;
//! let settings = PreviewSettings { resolution: Resolution::P720, seconds: 5, seed: 7 };
//! let preview = happyhorse_preview::image_to_video(&photo, &settings)?;
//! assert_eq!((preview.width, preview.height, preview.frames), (1212, 758, 120));
//! std::fs::write("preview.mp4", &preview.mp4)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod camera;
mod card;
mod encode;
mod frame;
mod mux;
mod scene;

#[cfg(feature = "check")]
pub mod check;

use std::fmt;
use std::sync::atomic::AtomicBool;

pub use frame::{edit_seconds, frame_size, parse_aspect_ratio};

use scene::Scene;

/// Frames per second of every preview (the service's output rate).
pub const FPS: u32 = 24;

/// The output resolution a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// About 1280×720 pixels' worth.
    P720,
    /// About 1920×1080 pixels' worth.
    P1080,
}

impl Resolution {
    /// `720P` or `1080P` (case-insensitive); anything else is `None`.
    ///
    /// ```
    /// use happyhorse_preview::Resolution;
    ///
    /// assert_eq!(Resolution::parse("720p"), Some(Resolution::P720));
    /// assert_eq!(Resolution::parse("4K"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_uppercase().as_str() {
            "720P" => Some(Resolution::P720),
            "1080P" => Some(Resolution::P1080),
            _ => None,
        }
    }

    /// How many pixels a frame holds at this resolution (1280×720 or 1920×1080), whatever its aspect.
    pub fn pixel_budget(self) -> u64 {
        match self {
            Resolution::P720 => 1280 * 720,
            Resolution::P1080 => 1920 * 1080,
        }
    }

    /// `720P` or `1080P`.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::P720 => "720P",
            Resolution::P1080 => "1080P",
        }
    }
}

/// What every renderer needs besides its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PreviewSettings {
    /// The requested resolution.
    pub resolution: Resolution,
    /// The requested duration in whole seconds: the video has exactly `seconds × 24` frames.
    pub seconds: u32,
    /// The request's seed: it picks the camera move (and a card's colours). The same seed and
    /// inputs give the same bytes; 0 (the service's "randomize") is as deterministic as any other.
    pub seed: u64,
}

/// A rendered preview.
#[derive(Clone, PartialEq, Eq)]
pub struct Preview {
    /// The MP4 file (one AV1 video track, no audio).
    pub mp4: Vec<u8>,
    /// Frame width in pixels (even).
    pub width: u32,
    /// Frame height in pixels (even).
    pub height: u32,
    /// Number of frames (`seconds × FPS`).
    pub frames: u32,
}

impl Preview {
    /// The playing time in seconds.
    pub fn seconds(&self) -> f64 {
        f64::from(self.frames) / f64::from(FPS)
    }
}

impl fmt::Debug for Preview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Preview")
            .field("mp4_bytes", &self.mp4.len())
            .field("width", &self.width)
            .field("height", &self.height)
            .field("frames", &self.frames)
            .finish()
    }
}

/// Why a preview could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewError(String);

impl PreviewError {
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

impl fmt::Display for PreviewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PreviewError {}

/// The facts about an input video that video-edit's output follows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceVideo {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Playing time in seconds.
    pub seconds: f64,
}

/// What to render: one variant per kind of model.
#[derive(Debug, Clone, Copy)]
pub enum Job<'a> {
    /// The first-frame image (JPEG, PNG or WEBP bytes), framed at its own aspect.
    ImageToVideo {
        /// The image's bytes.
        image: &'a [u8],
    },
    /// A card at `aspect` (width / height) carrying the first words of `prompt`.
    TextToVideo {
        /// The prompt (its first words are shown).
        prompt: &'a str,
        /// Width / height, e.g. from [`parse_aspect_ratio`].
        aspect: f64,
    },
    /// The references, each cropped to `aspect`, cross-fading in order.
    ReferenceToVideo {
        /// The images' bytes, at least one.
        images: &'a [&'a [u8]],
        /// Width / height.
        aspect: f64,
    },
    /// A card of the source's size (made even) for its duration (rounded, within 3–15 s; the
    /// settings' `seconds` is ignored), carrying the edit prompt's first words.
    VideoEdit {
        /// What is known of the input video.
        source: SourceVideo,
        /// The edit prompt.
        prompt: &'a str,
    },
}

impl Job<'_> {
    /// Renders the job. `cancel`, once set (by another thread), stops the render at its next
    /// frame with an error.
    pub fn render(
        &self,
        settings: &PreviewSettings,
        cancel: &AtomicBool,
    ) -> Result<Preview, PreviewError> {
        let resolution = settings.resolution;
        match *self {
            Job::ImageToVideo { image } => {
                let image = frame::decode(image)?;
                let aspect = f64::from(image.width()) / f64::from(image.height());
                let (width, height) = frame_size(resolution, aspect);
                Scene::Still(frame::cover(&image, width, height)).render(settings, cancel)
            }
            Job::TextToVideo { prompt, aspect } => {
                let (width, height) = frame_size(resolution, aspect);
                Scene::Still(card::draw(width, height, prompt, settings.seed))
                    .render(settings, cancel)
            }
            Job::ReferenceToVideo { images, aspect } => {
                if images.is_empty() {
                    return Err(PreviewError::new(
                        "reference-to-video needs at least one image",
                    ));
                }
                let (width, height) = frame_size(resolution, aspect);
                let stills = images
                    .iter()
                    .map(|bytes| frame::decode(bytes).map(|i| frame::cover(&i, width, height)))
                    .collect::<Result<Vec<_>, _>>()?;
                Scene::CrossFade(stills).render(settings, cancel)
            }
            Job::VideoEdit { source, prompt } => {
                let (width, height) = frame::even_size(source.width, source.height)?;
                let settings = PreviewSettings {
                    seconds: edit_seconds(source.seconds),
                    ..*settings
                };
                Scene::Still(card::draw(width, height, prompt, settings.seed))
                    .render(&settings, cancel)
            }
        }
    }
}

fn never() -> AtomicBool {
    AtomicBool::new(false)
}

/// Image-to-video: the image framed at its own aspect, drifting gently. The first frame is the
/// whole image scaled to [`frame_size`]; then the camera zooms in slowly and drifts in a
/// direction the seed picks.
pub fn image_to_video(image: &[u8], settings: &PreviewSettings) -> Result<Preview, PreviewError> {
    Job::ImageToVideo { image }.render(settings, &never())
}

/// Text-to-video: a card at `aspect` (width / height) carrying the prompt's first words.
pub fn text_to_video(
    prompt: &str,
    aspect: f64,
    settings: &PreviewSettings,
) -> Result<Preview, PreviewError> {
    Job::TextToVideo { prompt, aspect }.render(settings, &never())
}

/// Reference-to-video: the references, each cropped to `aspect`, cross-fading in order.
pub fn reference_to_video(
    images: &[&[u8]],
    aspect: f64,
    settings: &PreviewSettings,
) -> Result<Preview, PreviewError> {
    Job::ReferenceToVideo { images, aspect }.render(settings, &never())
}

/// Video-edit: the input's size and duration (see [`Job::VideoEdit`]), showing a card with the
/// edit prompt's first words (the input video itself is not decoded).
pub fn video_edit(
    source: SourceVideo,
    prompt: &str,
    settings: &PreviewSettings,
) -> Result<Preview, PreviewError> {
    Job::VideoEdit { source, prompt }.render(settings, &never())
}
