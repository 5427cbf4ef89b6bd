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

use std::fmt;

pub use png::blank_png;
pub use uri::{ImageRef, decode_data_uri, validate_image_ref};

use super::error::InputError;
use sniff::Sniffed;

/// The largest image accepted: the model page's "10 MB", read as 10,000,000 bytes (SI
/// megabytes). The stricter of the two readings: an image this size is accepted whether the
/// service means 10⁶ or 2²⁰ bytes per MB.
pub const IMAGE_MAX_BYTES: usize = 10_000_000;
/// The shortest side accepted, in pixels.
pub const IMAGE_MIN_SIDE: usize = 300;
/// The most elongated aspect ratio accepted, either way: 2.5 : 1 (as the fraction 5 / 2).
const ASPECT_MAX: (usize, usize) = (5, 2);

/// An image format the models accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageFormat {
    /// JPEG (`.jpg`, `.jpeg`).
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
}

impl ImageFormat {
    /// The format's media type, e.g. `image/png`.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Webp => "WEBP",
        })
    }
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

/// Checks an image's bytes: JPEG, PNG or WEBP by content, at most [`IMAGE_MAX_BYTES`], whole
/// (see the module's documentation), at least [`IMAGE_MIN_SIDE`] px per side, aspect ratio
/// between 1:2.5 and 2.5:1 (both included).
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
    let field = "image";
    check_image_size(bytes.len() as u64)?;
    let format = match sniff::sniff(bytes) {
        Sniffed::Accepted(format) => format,
        Sniffed::Other(name) => return Err(not_an_image(field, name.to_owned())),
        Sniffed::Unknown => return Err(not_an_image(field, describe_unknown(bytes))),
    };
    let walked = match format {
        ImageFormat::Png => png::walk(bytes),
        ImageFormat::Jpeg => jpeg::walk(bytes),
        ImageFormat::Webp => webp::walk(bytes),
    };
    let (width, height) = walked.map_err(|damage| damage.into_error(field, bytes.len()))?;
    let width = usize::try_from(width).unwrap_or(usize::MAX);
    let height = usize::try_from(height).unwrap_or(usize::MAX);
    if width < IMAGE_MIN_SIDE || height < IMAGE_MIN_SIDE {
        return Err(InputError::new(
            field,
            "image_min_side",
            &format!("must be at least {IMAGE_MIN_SIDE} px on each side"),
            format!("{width} x {height} px"),
        ));
    }
    let (long, short) = (width.max(height), width.min(height));
    if long.saturating_mul(ASPECT_MAX.1) > short.saturating_mul(ASPECT_MAX.0) {
        return Err(InputError::new(
            field,
            "image_aspect",
            "must have an aspect ratio between 1:2.5 and 2.5:1",
            format!(
                "{width} x {height} px ({:.2}:1)",
                long as f64 / short as f64
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
    if bytes <= IMAGE_MAX_BYTES as u64 {
        return Ok(());
    }
    Err(InputError::new(
        "image",
        "image_max_bytes",
        &format!(
            "must be at most 10 MB ({} bytes)",
            thousands(IMAGE_MAX_BYTES as u64)
        ),
        format!("{} ({} bytes)", megabytes(bytes), thousands(bytes)),
    ))
}

fn not_an_image(field: &str, what: String) -> InputError {
    InputError::new(
        field,
        "image_format",
        "must be a JPEG, PNG or WEBP image (by content)",
        what,
    )
}

fn describe_unknown(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "no bytes".to_owned();
    }
    let head: String = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{} bytes starting {head}", bytes.len())
}

/// `10485770` → `10,485,770`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in SI megabytes, the unit of the size rule: `10.49 MB`.
fn megabytes(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1_000_000.0)
}

#[cfg(test)]
pub(super) mod tests;
#[cfg(test)]
pub(super) use tests as tests_support;
