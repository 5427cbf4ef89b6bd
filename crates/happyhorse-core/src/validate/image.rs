//! Image inputs: `data:` URIs decoded, and the image rules checked on the bytes themselves
//! (format by content, never by name; size; sides; aspect ratio).

use std::fmt;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::error::{InputError, shorten};

/// The largest image accepted: 10 MB, read as 10 × 1024 × 1024 bytes.
pub const IMAGE_MAX_BYTES: usize = 10 * 1024 * 1024;
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

/// Checks an image's bytes: JPEG, PNG or WEBP by content, at most [`IMAGE_MAX_BYTES`], at least
/// [`IMAGE_MIN_SIDE`] px per side, aspect ratio between 1:2.5 and 2.5:1 (both included).
///
/// The error's field is `"image"`; [`InputError::for_field`] renames it.
///
/// ```
/// use happyhorse_core::validate::check_image_bytes;
///
/// // A PNG header claiming 200 x 600 pixels: too narrow, so the side rule fails first.
/// let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
/// png.extend_from_slice(&200u32.to_be_bytes());
/// png.extend_from_slice(&600u32.to_be_bytes());
/// png.extend_from_slice(&[8, 2, 0, 0, 0]);
/// let error = check_image_bytes(&png).unwrap_err();
/// assert_eq!(error.rule, "image_min_side");
/// assert_eq!(error.to_string(), "image: must be at least 300 px on each side, got 200 x 600 px");
/// ```
pub fn check_image_bytes(bytes: &[u8]) -> Result<ImageInfo, InputError> {
    let field = "image";
    if bytes.len() > IMAGE_MAX_BYTES {
        return Err(InputError::new(
            field,
            "image_max_bytes",
            &format!("must be at most {IMAGE_MAX_BYTES} bytes (10 MB)"),
            format!("{} bytes", bytes.len()),
        ));
    }
    let not_an_image = |what: String| {
        InputError::new(
            field,
            "image_format",
            "must be a JPEG, PNG or WEBP image (by content)",
            what,
        )
    };
    let format = match imagesize::image_type(bytes) {
        Ok(imagesize::ImageType::Jpeg) => ImageFormat::Jpeg,
        Ok(imagesize::ImageType::Png) => ImageFormat::Png,
        Ok(imagesize::ImageType::Webp) => ImageFormat::Webp,
        Ok(other) => return Err(not_an_image(format!("{other:?}"))),
        Err(_) => return Err(not_an_image(describe_unknown(bytes))),
    };
    let size = imagesize::blob_size(bytes)
        .map_err(|e| not_an_image(format!("a damaged {format} file ({e})")))?;
    let (width, height) = (size.width, size.height);
    if width < IMAGE_MIN_SIDE || height < IMAGE_MIN_SIDE {
        return Err(InputError::new(
            field,
            "image_min_side",
            &format!("must be at least {IMAGE_MIN_SIDE} px on each side"),
            format!("{width} x {height} px"),
        ));
    }
    let (long, short) = (width.max(height), width.min(height));
    if long * ASPECT_MAX.1 > short * ASPECT_MAX.0 {
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

fn describe_unknown(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "no bytes".to_owned();
    }
    let head: String = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{} bytes starting {head}", bytes.len())
}

/// Decodes a base64 `data:` URI (RFC 2397) into its media type (lower-cased; RFC 2397's
/// `text/plain` when absent) and bytes. Only the `;base64` form is accepted, since images are
/// binary.
///
/// ```
/// use happyhorse_core::validate::decode_data_uri;
///
/// let (mime, bytes) = decode_data_uri("data:image/PNG;base64,aGVsbG8=").unwrap();
/// assert_eq!((mime.as_str(), bytes.as_slice()), ("image/png", &b"hello"[..]));
/// assert_eq!(decode_data_uri("data:image/png,hello").unwrap_err().rule, "data_uri");
/// ```
pub fn decode_data_uri(uri: &str) -> Result<(String, Vec<u8>), InputError> {
    let bad = |requirement: &str| InputError::new("uri", "data_uri", requirement, shorten(uri));
    let rest = strip_prefix_ignore_case(uri, "data:")
        .ok_or_else(|| bad("must be a data URI (`data:<type>;base64,<data>`)"))?;
    let (meta, payload) = rest
        .split_once(',')
        .ok_or_else(|| bad("must have a `,` before its data"))?;
    let mut params = meta.split(';');
    let mime = params
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if !params.any(|p| p.trim().eq_ignore_ascii_case("base64")) {
        return Err(bad("must be base64-encoded (`;base64,`)"));
    }
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: String = payload
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = engine
        .decode(compact.as_bytes())
        .map_err(|e| bad(&format!("must hold valid base64 ({e})")))?;
    let mime = if mime.is_empty() {
        "text/plain".to_owned()
    } else {
        mime
    };
    Ok((mime, bytes))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Where an image input points, once [`validate_image_ref`] accepted it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageRef {
    /// An inline `data:` URI, decoded and checked.
    Inline(ImageInfo),
    /// A URL the service will fetch; its content cannot be checked here.
    Url,
}

/// Checks the value of an image field (`field` names it in errors):
/// - a `data:` URI is decoded and its bytes checked with [`check_image_bytes`];
/// - an `https://` URL is accepted (the service fetches it; its content is not checked here);
/// - an `http://` URL is accepted only for a loopback host (`localhost`, `127.0.0.1`, `[::1]`),
///   for local testing: the service fetches only public HTTPS URLs;
/// - anything else (a bare path, `ftp:`, `file:`) is an error.
///
/// ```
/// use happyhorse_core::validate::{validate_image_ref, ImageRef};
///
/// assert_eq!(validate_image_ref("image_url", "https://example.com/a.webp"), Ok(ImageRef::Url));
/// let error = validate_image_ref("image_url", "./horse.png").unwrap_err();
/// assert_eq!(error.field, "image_url");
/// assert_eq!(error.rule, "image_ref");
/// ```
pub fn validate_image_ref(field: &str, value: &str) -> Result<ImageRef, InputError> {
    let trimmed = value.trim_start();
    if strip_prefix_ignore_case(trimmed, "data:").is_some() {
        let (_mime, bytes) = decode_data_uri(trimmed).map_err(|e| e.for_field(field))?;
        return check_image_bytes(&bytes)
            .map(ImageRef::Inline)
            .map_err(|e| e.for_field(field));
    }
    if strip_prefix_ignore_case(trimmed, "https://").is_some_and(|rest| !rest.is_empty()) {
        return Ok(ImageRef::Url);
    }
    if let Some(rest) = strip_prefix_ignore_case(trimmed, "http://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let host = if host.starts_with('[') {
            host.split_once(']')
                .map_or(host, |(h, _)| h)
                .trim_start_matches('[')
        } else {
            host.split(':').next().unwrap_or_default()
        };
        if matches!(
            host.to_ascii_lowercase().as_str(),
            "localhost" | "127.0.0.1" | "::1"
        ) {
            return Ok(ImageRef::Url);
        }
        return Err(InputError::new(
            field,
            "image_ref",
            "must be an https:// URL (the service fetches only public HTTPS URLs) or a data: URI",
            shorten(value),
        ));
    }
    Err(InputError::new(
        field,
        "image_ref",
        "must be an https:// URL or a data:image/...;base64 URI (local files must be inlined first)",
        shorten(value),
    ))
}
