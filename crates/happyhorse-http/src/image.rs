//! Input images from anywhere: an `https` URL, a local file, or bytes in memory.
//!
//! Local images are checked with core's validation (format by content, size, sides, aspect) and
//! sent inline as a `data:` URI, as RunComfy's own ComfyUI nodes do: the API has no upload
//! endpoint. Remote URLs can be preflighted — fetched and checked — before a paid submit.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use happyhorse_core::validate::{
    IMAGE_MAX_BYTES, ImageInfo, check_image_bytes, validate_image_ref,
};

use crate::error::{Error, ErrorKind};

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
            Self::Url(url) => f
                .debug_tuple("Url")
                .field(&happyhorse_core::validate::shorten(url))
                .finish(),
            Self::Path(path) => f.debug_tuple("Path").field(path).finish(),
            Self::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
        }
    }
}

impl ImageSource {
    /// Reads a command-line style value: `http(s)://…` and `data:…` are URLs, anything else a path.
    pub fn parse(value: &str) -> Self {
        let lower = value.get(..8).unwrap_or(value).to_ascii_lowercase();
        if lower.starts_with("https://")
            || lower.starts_with("http://")
            || lower.starts_with("data:")
        {
            Self::Url(value.to_owned())
        } else {
            Self::Path(PathBuf::from(value))
        }
    }

    /// The value to put in the input's image field: the URL itself, or a checked `data:` URI.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] naming `field` when the file cannot be read or the image breaks
    /// the model's rules (JPEG/PNG/WEBP, at least 300 px per side, aspect 1:2.5–2.5:1, ≤ 10 MB).
    pub async fn into_field_value(self, field: &str) -> Result<String, Error> {
        match self {
            Self::Url(url) => {
                validate_image_ref(field, &url)?;
                Ok(url)
            }
            Self::Path(path) => {
                let bytes = read_capped(field, &path).await?;
                data_uri(field, &bytes)
            }
            Self::Bytes(bytes) => data_uri(field, &bytes),
        }
    }
}

/// Reads a local image, refusing before reading when it is obviously too large.
async fn read_capped(field: &str, path: &Path) -> Result<Vec<u8>, Error> {
    let unreadable = |e: std::io::Error| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("{field}: cannot read {}: {e}", path.display()),
        )
    };
    let meta = tokio::fs::metadata(path).await.map_err(unreadable)?;
    if !meta.is_file() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{field}: {} is not a file", path.display()),
        ));
    }
    if meta.len() > IMAGE_MAX_BYTES as u64 {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "{field}: must be at most {IMAGE_MAX_BYTES} bytes, got {} bytes ({})",
                meta.len(),
                path.display()
            ),
        ));
    }
    tokio::fs::read(path).await.map_err(unreadable)
}

/// Checks image bytes and encodes them as a `data:` URI with the MIME type of their real format.
fn data_uri(field: &str, bytes: &[u8]) -> Result<String, Error> {
    let info = check_image_bytes(bytes).map_err(|e| e.for_field(field))?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(format!("data:{};base64,{encoded}", info.format.mime()))
}

/// Fetches a remote image and checks it like the service would, before a paid submit.
pub(crate) async fn preflight(
    http: &reqwest::Client,
    field: &str,
    url: &str,
) -> Result<ImageInfo, Error> {
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
        if bytes.len() > IMAGE_MAX_BYTES {
            return Err(invalid(format!(
                "must be at most {IMAGE_MAX_BYTES} bytes, got more"
            )));
        }
    }
    check_image_bytes(&bytes).map_err(|e| e.for_field(field).into())
}
