//! Input images (and, through [`ImageSource::into_value_for`], any model's media) from anywhere:
//! an `https` URL, a local file, or bytes in memory.
//!
//! Local images are checked with core's validation (format by content, whole, size, sides,
//! aspect) and sent inline as a `data:` URI, as RunComfy's own ComfyUI nodes do: the API has no
//! upload endpoint. A file is read at most to the size limit plus one byte, never further.
//! Remote URLs can be preflighted — fetched and checked — before a paid submit.
//!
//! Every refusal is an [`ErrorKind::InvalidInput`] error whose
//! [`input_errors`](Error::input_errors) name the field, the rule and the value; the CLI uses
//! this same pipeline and prints them.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use happyhorse_core::validate::{
    IMAGE_MAX_BYTES, ImageInfo, InputError, check_image_bytes, check_image_size,
    check_image_size_with, check_image_with, shorten, validate_image_ref,
};

use crate::error::{Error, ErrorKind};
use crate::media::io_reason;

/// Where an input image comes from.
///
/// ```
/// use happyhorse_http::ImageSource;
///
/// assert!(matches!(ImageSource::parse("https://example.com/horse.webp"), ImageSource::Url(_)));
/// assert!(matches!(ImageSource::parse("photos/horse.png"), ImageSource::Path(_)));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// A URL the service fetches (`https://…`), or an inline `data:` URI.
    Url(String),
    /// A local file, sent inline after checking.
    Path(PathBuf),
    /// Image bytes, sent inline after checking.
    Bytes(Vec<u8>),
}

impl std::fmt::Debug for ImageSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Url(url) => f.debug_tuple("Url").field(&shorten(url)).finish(),
            Self::Path(path) => f.debug_tuple("Path").field(path).finish(),
            Self::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
        }
    }
}

impl ImageSource {
    /// Reads a command-line style value: `http(s)://…` and `data:…` are URLs, anything else a path.
    pub fn parse(value: &str) -> Self {
        if Self::is_url(value) {
            Self::Url(value.to_owned())
        } else {
            Self::Path(PathBuf::from(value))
        }
    }

    /// Whether `value` names something the service fetches (`http(s)://`) or an inline `data:`
    /// URI, rather than a local file.
    pub fn is_url(value: &str) -> bool {
        let head = value.get(..8).unwrap_or(value).to_ascii_lowercase();
        head.starts_with("https://") || head.starts_with("http://") || head.starts_with("data:")
    }

    /// The value to put in the input's image field: the URL itself, or a checked `data:` URI.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] naming `field` when the file cannot be read or the image breaks
    /// the model's rules (JPEG/PNG/WEBP and whole, at least 300 px per side, aspect 1:2.5–2.5:1,
    /// at most 10,000,000 bytes); [`Error::input_errors`] has the rule.
    pub async fn into_field_value(self, field: &str) -> Result<String, Error> {
        match self {
            Self::Path(path) => {
                let field = field.to_owned();
                tokio::task::spawn_blocking(move || {
                    Self::Path(path).into_field_value_blocking(&field)
                })
                .await
                .map_err(|e| Error::new(ErrorKind::InvalidInput, e.to_string()))?
            }
            other => other.into_field_value_blocking(field),
        }
    }

    /// [`into_field_value`](Self::into_field_value) for synchronous callers (reads the file on
    /// the calling thread).
    ///
    /// # Errors
    /// As [`into_field_value`](Self::into_field_value).
    pub fn into_field_value_blocking(self, field: &str) -> Result<String, Error> {
        match self {
            Self::Url(url) => {
                validate_image_ref(field, &url)?;
                Ok(url)
            }
            Self::Path(path) => {
                let bytes = read_image_file(field, &path)?;
                Ok(data_uri(field, &bytes)?)
            }
            Self::Bytes(bytes) => Ok(data_uri(field, &bytes)?),
        }
    }
}

/// Reads a local image for `field`: a regular file, refused before reading when its length is
/// over the limit, and read to at most the limit plus one byte (a file that grows meanwhile is
/// refused, not swallowed).
fn read_image_file(field: &str, path: &Path) -> Result<Vec<u8>, InputError> {
    let shown = shorten(&path.display().to_string());
    let unreadable = |why: String| {
        InputError::new(
            field,
            "image_file",
            &format!("must be a readable local image file ({why})"),
            shown.clone(),
        )
    };
    let too_large = |len: u64| match check_image_size(len) {
        Err(error) => {
            let value = format!("{} ({shown})", error.value);
            error.for_field(field).with_value(value)
        }
        Ok(()) => unreadable("it grew while being read".into()),
    };
    let meta = std::fs::metadata(path).map_err(|e| unreadable(io_reason(&e)))?;
    if !meta.is_file() {
        return Err(unreadable("not a regular file".into()));
    }
    if meta.len() > IMAGE_MAX_BYTES as u64 {
        return Err(too_large(meta.len()));
    }
    let file = std::fs::File::open(path).map_err(|e| unreadable(io_reason(&e)))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(IMAGE_MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(io_reason(&e)))?;
    if bytes.len() > IMAGE_MAX_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Checks image bytes and encodes them as a `data:` URI with the MIME type of their real format.
fn data_uri(field: &str, bytes: &[u8]) -> Result<String, InputError> {
    let info = check_image_bytes(bytes).map_err(|e| e.for_field(field))?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(format!("data:{};base64,{encoded}", info.format.mime()))
}

/// Fetches a remote image and checks it like the service would, before a paid submit.
pub(crate) async fn preflight(
    http: &reqwest::Client,
    field: &str,
    rules: &happyhorse_types::rules::ImageRules,
    url: &str,
) -> Result<ImageInfo, Error> {
    let limit = rules
        .max_bytes
        .unwrap_or(happyhorse_core::validate::INLINE_MAX_BYTES);
    let invalid = |what: String| Error::new(ErrorKind::InvalidInput, format!("{field}: {what}"));
    let mut response = http.get(url).send().await.map_err(|e| {
        invalid(format!(
            "the image could not be fetched: {}",
            e.without_url()
        ))
    })?;
    if !response.status().is_success() {
        return Err(invalid(format!(
            "fetching the image answered HTTP {}",
            response.status().as_u16()
        )));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| invalid(format!("the image download broke: {}", e.without_url())))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > limit {
            return Err(check_image_size_with(limit, bytes.len() as u64)
                .map_err(|e| e.for_field(field))
                .err()
                .map_or_else(|| invalid("too large".into()), Error::from));
        }
    }
    check_image_with(rules, &bytes).map_err(|e| e.for_field(field).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use happyhorse_core::validate::blank_png;

    fn rule_of(result: Result<String, Error>) -> (String, String, String) {
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        let first = &error.input_errors().expect("structured errors").errors()[0];
        (
            first.field.clone(),
            first.rule.clone(),
            first.message.clone(),
        )
    }

    #[test]
    fn urls_and_paths_are_told_apart() {
        assert!(ImageSource::is_url("https://example.com/a.png"));
        assert!(ImageSource::is_url("HTTP://127.0.0.1/a.png"));
        assert!(ImageSource::is_url("data:image/png;base64,AAAA"));
        assert!(!ImageSource::is_url("examples/horse.png"));
        assert!(!ImageSource::is_url("-"));
    }

    #[test]
    fn files_are_read_bounded_and_refused_with_structure() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.png");
        let (field, rule, message) =
            rule_of(ImageSource::Path(missing.clone()).into_field_value_blocking("image_url"));
        assert_eq!((field.as_str(), rule.as_str()), ("image_url", "image_file"));
        assert_eq!(
            message,
            format!(
                "image_url: must be a readable local image file (no such file), got {}",
                missing.display()
            )
        );
        let (_, rule, _) = rule_of(
            ImageSource::Path(dir.path().to_owned()).into_field_value_blocking("image_url"),
        );
        assert_eq!(rule, "image_file");

        let big = dir.path().join("big.png");
        let mut bytes = blank_png(400, 400);
        bytes.resize(IMAGE_MAX_BYTES + 1, 0);
        std::fs::write(&big, &bytes).unwrap();
        let (_, rule, message) =
            rule_of(ImageSource::Path(big.clone()).into_field_value_blocking("image_url"));
        assert_eq!(rule, "image_max_bytes");
        assert_eq!(
            message,
            format!(
                "image_url: must be at most 10 MB (10,000,000 bytes), got 10.00 MB (10,000,001 bytes) ({})",
                big.display()
            )
        );

        let good = dir.path().join("good.png");
        std::fs::write(&good, blank_png(400, 400)).unwrap();
        let uri = ImageSource::Path(good)
            .into_field_value_blocking("image_url")
            .unwrap();
        assert!(uri.starts_with("data:image/png;base64,"));
        let (_, rule, _) = rule_of(
            ImageSource::Bytes(blank_png(400, 400)[..40].to_vec())
                .into_field_value_blocking("image_url"),
        );
        assert_eq!(rule, "image_truncated");
    }
}
