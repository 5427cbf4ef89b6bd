//! Image references: `data:` URIs decoded (RFC 2397), URLs accepted only where the service can
//! fetch them.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::{ImageInfo, check_image_bytes};
use crate::validate::error::{InputError, shorten};

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

pub(crate) fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
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

/// What the value of a media field points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reference<'a> {
    /// A `data:` URI (the whole value, leading spaces dropped), to decode and check.
    Data(&'a str),
    /// A URL the service can fetch: `https://…`, or `http://` on loopback (for local testing).
    Url,
    /// `http://` to a host that is not loopback: the service fetches only public HTTPS URLs.
    PlainHttp,
    /// Anything else: a bare path, `ftp:`, `file:`, an empty string.
    Other,
}

/// Sorts the value of a media field.
pub(crate) fn reference(value: &str) -> Reference<'_> {
    let trimmed = value.trim_start();
    if strip_prefix_ignore_case(trimmed, "data:").is_some() {
        return Reference::Data(trimmed);
    }
    if strip_prefix_ignore_case(trimmed, "https://").is_some_and(|rest| !rest.is_empty()) {
        return Reference::Url;
    }
    let Some(rest) = strip_prefix_ignore_case(trimmed, "http://") else {
        return Reference::Other;
    };
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
        Reference::Url
    } else {
        Reference::PlainHttp
    }
}

/// The refusal of a reference that is neither a URL the service can fetch nor a `data:` URI;
/// `kind` is `image` or `video`.
pub(crate) fn bad_reference(field: &str, kind: &str, value: &str, plain_http: bool) -> InputError {
    let requirement = if plain_http {
        "must be an https:// URL (the service fetches only public HTTPS URLs) or a data: URI"
            .to_owned()
    } else {
        format!(
            "must be an https:// URL or a data:{kind}/...;base64 URI (local files must be inlined first)"
        )
    };
    InputError::new(field, format!("{kind}_ref"), &requirement, shorten(value))
}

/// Checks the value of an image field (`field` names it in errors) by image-to-video's rules:
/// - a `data:` URI is decoded and its bytes checked with [`check_image_bytes`];
/// - an `https://` URL is accepted (the service fetches it; its content is not checked here);
/// - an `http://` URL is accepted only for a loopback host (`localhost`, `127.0.0.1`, `[::1]`),
///   for local testing: the service fetches only public HTTPS URLs;
/// - anything else (a bare path, `ftp:`, `file:`) is an error.
///
/// Any model's media field, image or video, by its own rule: [`validate_media_ref`](crate::validate::validate_media_ref).
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
    match reference(value) {
        Reference::Data(uri) => {
            let (_mime, bytes) = decode_data_uri(uri).map_err(|e| e.for_field(field))?;
            check_image_bytes(&bytes)
                .map(ImageRef::Inline)
                .map_err(|e| e.for_field(field))
        }
        Reference::Url => Ok(ImageRef::Url),
        Reference::PlainHttp => Err(bad_reference(field, "image", value, true)),
        Reference::Other => Err(bad_reference(field, "image", value, false)),
    }
}
