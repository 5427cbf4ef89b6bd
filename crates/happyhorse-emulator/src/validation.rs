//! The only place that calls `happyhorse_core::validate`: schema validation of a submitted body,
//! media references and fetched media bytes (each by its field's rule in the model's
//! `model.json`), turned into the violations listed in an error's `detail`.

use happyhorse_core::validate::{self as core, InputError, MediaRef};
use happyhorse_types::ModelSpec;
use happyhorse_types::rules::{MediaChecks, MediaRule};
use serde::Serialize;
use serde_json::Value;

/// One problem with a submitted body, as listed in the `detail` of a `422` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Violation {
    /// The offending field (`duration`, `image_url`, …; empty for the body itself).
    pub(crate) field: String,
    /// The rule broken (`enum`, `required`, `maxLength`, `image_min_side`, …).
    pub(crate) rule: String,
    /// The offending value, shortened.
    pub(crate) value: String,
    /// For people.
    pub(crate) message: String,
}

impl Violation {
    pub(crate) fn new(field: &str, rule: &str, value: &str, message: String) -> Self {
        Self {
            field: field.to_owned(),
            rule: rule.to_owned(),
            value: core::shorten(value),
            message,
        }
    }
}

impl From<InputError> for Violation {
    fn from(error: InputError) -> Self {
        Self {
            field: error.field,
            rule: error.rule,
            value: error.value,
            message: error.message,
        }
    }
}

/// Every violation of `input` against the model's checked-in input schema, plus the rules the
/// schema cannot express (the prompt's limits, media references, inline images' and videos'
/// bytes), all from the model's own data.
///
/// Fields the schema does not know are accepted, as the service accepts (and ignores) them: the
/// client refuses them, the emulator shows what would happen if it did not.
pub(crate) fn validate_input(spec: &ModelSpec, input: &Value) -> Vec<Violation> {
    let service = core::ValidateOptions::default().allow_unknown_fields(true);
    match core::validate_input_with(spec, input, service) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.into_vec().into_iter().map(Violation::from).collect(),
    }
}

/// The rule of a media field whose value is a URL the service would fetch (so the emulator
/// fetches it too, when it can); `None` for an inline file already checked, a reference already
/// reported as invalid, or a field that holds no media.
pub(crate) fn fetch_rule(spec: &ModelSpec, field: &str, value: &str) -> Option<&'static MediaRule> {
    let rule = core::media_rule(spec, field)?;
    match core::validate_media_ref(field, rule, value) {
        Ok(MediaRef::Url) => Some(rule),
        _ => None,
    }
}

/// Checks fetched bytes by the field's rule: an image's format, sides, aspect and size; a video's
/// container, codec, duration, sides, aspect, size and frame rate (every broken rule at once).
pub(crate) fn check_media(field: &str, rule: &MediaRule, bytes: &[u8]) -> Vec<Violation> {
    let found = match &rule.checks {
        MediaChecks::Image(image) => core::check_image_with(image, bytes)
            .map(|_| ())
            .map_err(|e| vec![e]),
        MediaChecks::Video(video) => core::check_video_bytes(video, bytes).map(|_| ()),
    };
    match found {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .into_iter()
            .map(|e| e.for_field(field).into())
            .collect(),
    }
}
