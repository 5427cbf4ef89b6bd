//! Image inputs, checked on the bytes themselves, for what they are rather than what their
//! header claims: the format by content (never by name), the size in bytes, that the file is
//! whole, then its sides and aspect ratio.
//!
//! **Whole** means a structural walk, not a decode: PNG chunks to `IEND`, each with its CRC;
//! JPEG segments and scans to `EOI`; WEBP's RIFF sizes and frame header. Each walk also checks
//! that the file holds at least as much image data as its declared size needs (deflate cannot
//! compress more than 1032 : 1; a Huffman-coded JPEG spends at least one bit per 8 × 8 block),
//! so a 68-byte PNG declaring 100000 × 100000 pixels is refused. The walk costs a fraction of
//! reading the file; a decode costs many times it (`docs/benchmarks.md`, "Image checks"). What
//! the walk cannot see — pixel data that is well framed but garbled inside — is left to the
//! service.

mod jpeg;
mod png;
mod sniff;
mod uri;
mod webp;

pub use happyhorse_types::rules::ImageFormat;
use happyhorse_types::rules::ImageRules;

pub use png::blank_png;
pub use uri::{ImageRef, decode_data_uri, validate_image_ref};
pub(crate) use uri::{Reference, bad_reference, reference};

use super::error::InputError;
use super::units::{size_limit, sized, thousands};
use sniff::Sniffed;

/// The largest image image-to-video accepts: the model page's "10 MB", read as 10,000,000 bytes
/// (SI megabytes). The stricter of the two readings: an image this size is accepted whether the
/// service means 10⁶ or 2²⁰ bytes per MB. Every model's own limit is in its `model.json`
/// (`ModelSpec::rules`); this is the number [`check_image_bytes`] uses.
pub const IMAGE_MAX_BYTES: usize = 10_000_000;
/// The shortest side image-to-video accepts, in pixels (see [`IMAGE_MAX_BYTES`]).
pub const IMAGE_MIN_SIDE: usize = 300;

/// Image-to-video's first-frame rules, as [`check_image_bytes`] applies them: JPEG/PNG/WEBP,
/// at most [`IMAGE_MAX_BYTES`], at least [`IMAGE_MIN_SIDE`] px per side, aspect 1:2.5–2.5:1.
pub fn first_frame_rules() -> &'static ImageRules {
    static RULES: std::sync::OnceLock<ImageRules> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        let mut rules = ImageRules::default();
        rules.formats = ImageFormat::ALL.to_vec();
        rules.max_bytes = Some(IMAGE_MAX_BYTES as u64);
        rules.min_side = Some(IMAGE_MIN_SIDE as u32);
        rules.max_aspect_ratio = "2.5:1".parse().ok();
        rules
    })
}

/// What [`check_image_bytes`] learnt about an acceptable image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// The format, read from the content.
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Size in bytes.
    pub bytes: usize,
}

/// What a structural walk found wrong with a file of an accepted format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Damage {
    /// The file ends before its structure does (rule `image_truncated`).
    Truncated(String),
    /// The structure is broken: a bad CRC, a misplaced or invalid header (`image_corrupt`).
    Corrupt(String),
    /// Well-formed, but without any image data (`image_no_data`).
    NoData(String),
    /// Less image data than the declared size can be compressed into (`image_data_size`).
    TooLittleData {
        format: &'static str,
        width: u64,
        height: u64,
        holds: u64,
        needed: u64,
    },
}

impl Damage {
    fn into_error(self, field: &str, bytes: usize) -> InputError {
        let got = format!("{} bytes", thousands(bytes as u64));
        let (rule, requirement) = match self {
            Self::Truncated(why) => (
                "image_truncated",
                format!("must be a complete image ({why})"),
            ),
            Self::Corrupt(why) => (
                "image_corrupt",
                format!("must be an undamaged image ({why})"),
            ),
            Self::NoData(why) => ("image_no_data", format!("must hold image data ({why})")),
            Self::TooLittleData {
                format,
                width,
                height,
                holds,
                needed,
            } => (
                "image_data_size",
                format!(
                    "must hold the image data its size needs (declared {width} x {height} px but holds {} bytes of {format} image data; at least {} are needed)",
                    thousands(holds),
                    thousands(needed)
                ),
            ),
        };
        InputError::new(field, rule, &requirement, got)
    }
}

/// Checks an image's bytes by image-to-video's rules ([`first_frame_rules`]): JPEG, PNG or WEBP
/// by content, at most [`IMAGE_MAX_BYTES`], whole (see the module's documentation), at least
/// [`IMAGE_MIN_SIDE`] px per side, aspect ratio between 1:2.5 and 2.5:1 (both included).
/// [`check_image_with`] checks by any model's rules.
///
/// The error's field is `"image"`; [`InputError::for_field`] renames it. Its rule is one of
/// `image_max_bytes`, `image_format`, `image_truncated`, `image_corrupt`, `image_no_data`,
/// `image_data_size`, `image_min_side`, `image_aspect`.
///
/// ```
/// use happyhorse_core::validate::{blank_png, check_image_bytes};
///
/// let error = check_image_bytes(&blank_png(200, 600)).unwrap_err();
/// assert_eq!(error.rule, "image_min_side");
/// assert_eq!(error.to_string(), "image: must be at least 300 px on each side, got 200 x 600 px");
///
/// // A header alone is not an image.
/// let mut header = blank_png(1000, 1000);
/// header.truncate(33);
/// assert_eq!(check_image_bytes(&header).unwrap_err().rule, "image_truncated");
///
/// let gif = check_image_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00").unwrap_err();
/// assert_eq!(gif.to_string(), "image: must be a JPEG, PNG or WEBP image (by content), got GIF");
/// ```
pub fn check_image_bytes(bytes: &[u8]) -> Result<ImageInfo, InputError> {
    check_image_with(first_frame_rules(), bytes)
}

/// Checks an image's bytes by `rules` (a model's rule for one field, from its `model.json`):
/// the format by content, the size, that the file is whole, its sides and its aspect ratio. A
/// check the rules leave out is not made; the structural walk always is (only JPEG, PNG and WEBP
/// can be walked, so an image of another format is refused whatever `rules.formats` says).
///
/// ```
/// use happyhorse_core::validate::{blank_png, check_image_with};
///
/// // HappyHorse 1.0 reference-to-video: short side at least 400 px.
/// let rules = happyhorse_types::reference_to_video::SPEC.rules()?;
/// let first = rules.media_rule("image_url_1").unwrap().image().unwrap();
/// let error = check_image_with(first, &blank_png(350, 600)).unwrap_err();
/// assert_eq!(error.to_string(), "image: must be at least 400 px on each side, got 350 x 600 px");
/// # Ok::<(), happyhorse_types::ModelInfoError>(())
/// ```
pub fn check_image_with(rules: &ImageRules, bytes: &[u8]) -> Result<ImageInfo, InputError> {
    let field = "image";
    if let Some(max) = rules.max_bytes {
        check_image_size_with(max, bytes.len() as u64)?;
    }
    let accepted =
        |format: ImageFormat| rules.formats.is_empty() || rules.formats.contains(&format);
    let format = match sniff::sniff(bytes) {
        Sniffed::Accepted(format) if accepted(format) => format,
        Sniffed::Accepted(format) => return Err(not_an_image(rules, field, format.to_string())),
        Sniffed::Other(name) => return Err(not_an_image(rules, field, name.to_owned())),
        Sniffed::Unknown => return Err(not_an_image(rules, field, describe_unknown(bytes))),
    };
    let walked = match format {
        ImageFormat::Png => png::walk(bytes),
        ImageFormat::Jpeg => jpeg::walk(bytes),
        ImageFormat::Webp => webp::walk(bytes),
    };
    let (width, height) = walked.map_err(|damage| damage.into_error(field, bytes.len()))?;
    let width = usize::try_from(width).unwrap_or(usize::MAX);
    let height = usize::try_from(height).unwrap_or(usize::MAX);
    if let Some(min) = rules.min_side
        && (width < min as usize || height < min as usize)
    {
        return Err(InputError::new(
            field,
            "image_min_side",
            &format!("must be at least {min} px on each side"),
            format!("{width} x {height} px"),
        ));
    }
    if let Some(limit) = &rules.max_aspect_ratio
        && !limit.allows(width as u64, height as u64)
    {
        let (long, short) = (width.max(height), width.min(height));
        return Err(InputError::new(
            field,
            "image_aspect",
            &format!("must have an aspect ratio {}", limit.range()),
            format!(
                "{width} x {height} px ({:.2}:1)",
                long as f64 / short.max(1) as f64
            ),
        ));
    }
    Ok(ImageInfo {
        format,
        width,
        height,
        bytes: bytes.len(),
    })
}

/// The size rule alone (at most [`IMAGE_MAX_BYTES`]), for a file whose length is known before
/// it is read: too large a file is refused without reading it.
///
/// ```
/// use happyhorse_core::validate::check_image_size;
///
/// assert!(check_image_size(10_000_000).is_ok());
/// assert_eq!(
///     check_image_size(10_485_760).unwrap_err().to_string(),
///     "image: must be at most 10 MB (10,000,000 bytes), got 10.49 MB (10,485,760 bytes)"
/// );
/// ```
pub fn check_image_size(bytes: u64) -> Result<(), InputError> {
    check_image_size_with(IMAGE_MAX_BYTES as u64, bytes)
}

/// The size rule alone with the limit `max` (a model's `max_bytes`).
pub fn check_image_size_with(max: u64, bytes: u64) -> Result<(), InputError> {
    if bytes <= max {
        return Ok(());
    }
    Err(InputError::new(
        "image",
        "image_max_bytes",
        &format!("must be at most {}", size_limit(max)),
        sized(bytes),
    ))
}

fn not_an_image(rules: &ImageRules, field: &str, what: String) -> InputError {
    let formats = if rules.formats.is_empty() {
        &ImageFormat::ALL[..]
    } else {
        &rules.formats[..]
    };
    let names: Vec<String> = formats.iter().map(ToString::to_string).collect();
    InputError::new(
        field,
        "image_format",
        &format!(
            "must be a {} image (by content)",
            super::units::or_list(&names)
        ),
        what,
    )
}

/// What a file is by its first bytes, for a message: `PNG`, `Matroska/WebM video`, or
/// `1,234 bytes starting 00ff…` when nothing is recognised.
pub(crate) fn describe_content(bytes: &[u8]) -> String {
    match sniff::sniff(bytes) {
        Sniffed::Accepted(format) => format.to_string(),
        Sniffed::Other(name) => name.to_owned(),
        Sniffed::Unknown => describe_unknown(bytes),
    }
}

fn describe_unknown(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "no bytes".to_owned();
    }
    let head: String = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{} bytes starting {head}", bytes.len())
}

#[cfg(test)]
pub(super) mod tests;
#[cfg(test)]
pub(super) use tests as tests_support;
