//! The only place that calls `happyhorse_core::validate`: schema validation of a submitted body,
//! image references and image bytes, turned into the violations listed in an error's `detail`.

use happyhorse_core::validate::{self as core, ImageRef, InputError};
use happyhorse_types::ModelSpec;
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
/// schema cannot express (the Chinese prompt limit, image references, inline images' bytes).
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

/// What still has to be done about an image field once [`validate_input`] has run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImageFollowUp {
    /// Nothing: an inline image already checked, a reference already reported as invalid, or not
    /// an image field.
    Nothing,
    /// A URL the service would fetch.
    Fetch,
}

/// Whether `field` holds an image URL that has yet to be fetched and checked.
pub(crate) fn image_follow_up(field: &str, value: &str) -> ImageFollowUp {
    if !core::is_image_field(field) {
        return ImageFollowUp::Nothing;
    }
    match core::validate_image_ref(field, value) {
        Ok(ImageRef::Url) => ImageFollowUp::Fetch,
        _ => ImageFollowUp::Nothing,
    }
}

/// Checks fetched image bytes: format by content, size per side, aspect ratio, byte size.
pub(crate) fn check_image(field: &str, bytes: &[u8]) -> Result<(), Violation> {
    core::check_image_bytes(bytes)
        .map(|_| ())
        .map_err(|error| error.for_field(field).into())
}
