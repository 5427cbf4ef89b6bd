//! Local images made ready to send: read, checked with core's image rules, encoded as a `data:` URI.
//!
//! This is the one place that turns a file into a field value; `happyhorse_http::ImageSource`
//! does the same for library users and may replace it, but it reports errors as text, while the
//! CLI keeps core's structured [`InputError`] (field, rule, value) for `--json`.

use std::path::Path;

use base64::Engine as _;
use happyhorse_core::validate::{IMAGE_MAX_BYTES, InputError, check_image_bytes, shorten};

/// Whether a value names something the service fetches (or an inline URI) rather than a local file.
pub(crate) fn is_remote(value: &str) -> bool {
    let head = value.get(..8).unwrap_or(value).to_ascii_lowercase();
    head.starts_with("https://") || head.starts_with("http://") || head.starts_with("data:")
}

/// Reads the local image at `path` for `field`, checks it, and returns its `data:` URI.
pub(crate) fn file_to_data_uri(field: &str, path: &Path) -> Result<String, InputError> {
    let shown = shorten(&path.display().to_string());
    let unreadable = |why: String| {
        InputError::new(
            field,
            "image_file",
            &format!("must be a readable local image file ({why})"),
            shown.clone(),
        )
    };
    let meta = std::fs::metadata(path).map_err(|e| unreadable(io_reason(&e)))?;
    if !meta.is_file() {
        return Err(unreadable("not a regular file".into()));
    }
    // Refuse before reading a file that cannot be an acceptable image anyway.
    if meta.len() > IMAGE_MAX_BYTES as u64 {
        return Err(InputError::new(
            field,
            "image_max_bytes",
            &format!("must be at most {IMAGE_MAX_BYTES} bytes (10 MB)"),
            format!("{} bytes ({shown})", meta.len()),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(io_reason(&e)))?;
    bytes_to_data_uri(field, &bytes)
}

/// Checks image bytes (format by content, size, sides, aspect) and encodes them as a `data:` URI.
pub(crate) fn bytes_to_data_uri(field: &str, bytes: &[u8]) -> Result<String, InputError> {
    let info = check_image_bytes(bytes).map_err(|e| e.for_field(field))?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(format!("data:{};base64,{encoded}", info.format.mime()))
}

/// An I/O error as a short reason without the OS error number.
pub(crate) fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "a directory".into(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_are_told_apart() {
        assert!(is_remote("https://example.com/a.png"));
        assert!(is_remote("HTTP://127.0.0.1/a.png"));
        assert!(is_remote("data:image/png;base64,AAAA"));
        assert!(!is_remote("examples/horse.png"));
        assert!(!is_remote("-"));
    }

    #[test]
    fn a_missing_file_names_field_rule_and_path() {
        let error = file_to_data_uri("image_url", Path::new("/nonexistent/x.png")).unwrap_err();
        assert_eq!(
            (error.field.as_str(), error.rule.as_str()),
            ("image_url", "image_file")
        );
        assert_eq!(
            error.to_string(),
            "image_url: must be a readable local image file (no such file), got /nonexistent/x.png"
        );
    }

    #[test]
    fn text_is_not_an_image() {
        let error = bytes_to_data_uri("image_url", b"hello world").unwrap_err();
        assert_eq!(error.rule, "image_format");
        assert_eq!(error.field, "image_url");
    }
}
