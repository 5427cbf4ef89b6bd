//! Media fields, each checked by its own rule from the model's `model.json`
//! ([`happyhorse_types::ModelSpec::media_fields`]): reference-to-video's `image_url_1` by its
//! 400 px rule, video-edit's `video_url` by the video rules, a reference image by its own — the
//! same code for every model, including one added later.

use happyhorse_types::ModelSpec;
use happyhorse_types::rules::{MediaChecks, MediaRule};

use super::error::InputError;
use super::image::{ImageInfo, Reference, bad_reference, check_image_with, reference};
use super::units::size_limit;
use super::video::{VideoInfo, check_video_bytes};
use super::{INLINE_MAX_BYTES, decode_data_uri};

/// Where a media field's value points, once [`validate_media_ref`] accepted it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MediaRef {
    /// An inline image, decoded and checked.
    Image(ImageInfo),
    /// An inline video, decoded and checked.
    Video(VideoInfo),
    /// A URL the service will fetch; its content cannot be checked here.
    Url,
}

/// The rule of `field` when it is one of `spec`'s media fields (a property of its input schema
/// with `format: image_uri|video_uri`, or one a `model.json` rule covers); `None` otherwise.
///
/// ```
/// use happyhorse_core::validate::media_rule;
/// use happyhorse_types::{image_to_video, video_edit};
///
/// assert_eq!(media_rule(&video_edit::SPEC, "video_url").unwrap().kind(), "video");
/// assert_eq!(media_rule(&video_edit::SPEC, "reference_image_url_5").unwrap().kind(), "image");
/// assert!(media_rule(&video_edit::SPEC, "reference_image_url_6").is_none()); // not in the schema
/// assert!(media_rule(&image_to_video::SPEC, "prompt").is_none());
/// ```
pub fn media_rule(spec: &ModelSpec, field: &str) -> Option<&'static MediaRule> {
    spec.media_fields()
        .ok()?
        .iter()
        .find(|media| media.name == field)
        .map(|media| &media.rule)
}

/// Checks the value of the media field `field` by its `rule`:
/// - a `data:` URI is decoded and its bytes checked: an image by [`check_image_with`], a video by
///   [`check_video_bytes`] (every broken rule at once);
/// - an `https://` URL is accepted (the service fetches it; its content is not checked here), and
///   an `http://` URL only on a loopback host, for local testing;
/// - anything else (a bare path, `ftp:`, `file:`) is refused: local files must be inlined first
///   (the CLI and `happyhorse_http::MediaSource` do it).
///
/// ```
/// use happyhorse_core::validate::{media_rule, validate_media_ref, MediaRef};
/// use happyhorse_types::video_edit::SPEC;
///
/// let rule = media_rule(&SPEC, "video_url").unwrap();
/// assert_eq!(validate_media_ref("video_url", rule, "https://example.com/in.mp4"), Ok(MediaRef::Url));
/// let errors = validate_media_ref("video_url", rule, "clip.mp4").unwrap_err();
/// assert_eq!(errors[0].rule, "video_ref");
/// ```
///
/// # Errors
/// Every broken rule, each naming `field`.
pub fn validate_media_ref(
    field: &str,
    rule: &MediaRule,
    value: &str,
) -> Result<MediaRef, Vec<InputError>> {
    let kind = rule.kind();
    let uri = match reference(value) {
        Reference::Data(uri) => uri,
        Reference::Url => return Ok(MediaRef::Url),
        Reference::PlainHttp => return Err(vec![bad_reference(field, kind, value, true)]),
        Reference::Other => return Err(vec![bad_reference(field, kind, value, false)]),
    };
    let (_mime, bytes) = decode_data_uri(uri).map_err(|e| vec![e.for_field(field)])?;
    let renamed = |errors: Vec<InputError>| -> Vec<InputError> {
        errors.into_iter().map(|e| e.for_field(field)).collect()
    };
    match &rule.checks {
        MediaChecks::Image(image) => check_image_with(image, &bytes)
            .map(MediaRef::Image)
            .map_err(|e| renamed(vec![e])),
        MediaChecks::Video(video) => check_video_bytes(video, &bytes)
            .map(MediaRef::Video)
            .map_err(renamed),
    }
}

/// The refusal of a local file too large to send inline (see [`INLINE_MAX_BYTES`]): named for
/// `field`, telling the user what to do instead.
///
/// ```
/// let error = happyhorse_core::validate::inline_too_large("video_url", 73_400_320);
/// assert_eq!(error.rule, "inline_size");
/// assert!(error.message.starts_with("video_url: must be at most 48 MB (48,000,000 bytes) to be sent inline"));
/// ```
pub fn inline_too_large(field: &str, bytes: u64) -> InputError {
    InputError::new(
        field,
        "inline_size",
        &format!(
            "must be at most {} to be sent inline (the API has no upload: a local file travels in the \
             request as base64, a third larger, and a request is capped at 64 MiB); put the file \
             where the service can fetch it and pass its https:// URL",
            size_limit(INLINE_MAX_BYTES)
        ),
        super::units::sized(bytes),
    )
}
