//! Input validation shared by the CLI, the HTTP client and the emulator.
//!
//! [`validate_input`] checks a raw input object against the model's checked-in JSON Schema
//! (with the `jsonschema` crate) and then the rules a schema cannot express:
//! - fields the schema does not know (`durration`): refused with a suggestion, because the
//!   service ignores them and bills its defaults; [`ValidateOptions::allow_unknown_fields`]
//!   sends them anyway (for fields the service added before our schema did);
//! - text fields: no NUL or other control character except tab and newline
//!   ([`check_text_field`]);
//! - the prompt's length: 5000 characters, or 2500 when the prompt is Chinese — see
//!   [`is_chinese`] for the exact definition;
//! - image fields (every top-level string field whose name contains `image_url`): a `data:` URI
//!   is decoded and its bytes checked ([`check_image_bytes`]: JPEG/PNG/WEBP by content, whole,
//!   ≥ 300 px per side, aspect 1:2.5–2.5:1, ≤ 10,000,000 bytes); a URL must be `https://`
//!   ([`validate_image_ref`]);
//! - integers written with a decimal point (`5.0`), which JSON Schema accepts and serde does not.
//!
//! Every broken rule is reported at once, each naming its field, its rule and the offending value,
//! shortened so that a long prompt or a data URI is never echoed whole.
//!
//! Validate the raw JSON first, then deserialize: the schema is the single authority.
//!
//! Also here, because the CLI and the emulator share them: [`check_utf8`] (bytes read from files
//! and stdin are text, or refused with line and offset), and the bounded parsers of local
//! arguments, [`parse_duration`] and [`parse_size`].

mod error;
mod flags;
mod image;
mod prompt;
mod schema;
mod text;
mod unknown;

use happyhorse_types::ModelSpec;
use serde_json::Value;

pub use error::{InputError, InputErrors, shorten};
pub use flags::{parse_duration, parse_size};
pub use image::{
    IMAGE_MAX_BYTES, IMAGE_MIN_SIDE, ImageFormat, ImageInfo, ImageRef, blank_png,
    check_image_bytes, check_image_size, decode_data_uri, validate_image_ref,
};
pub use prompt::{
    CHINESE_PROMPT_MAX_CHARS, PROMPT_MAX_CHARS, check_prompt, is_chinese, is_han_ideograph,
    prompt_limit,
};
pub use text::{Utf8Problem, check_text_field, check_utf8, find_control_character};

/// The largest request body: RunComfy's own ComfyUI nodes cap a request at 64 MiB. Inputs read
/// from files or stdin (`--input`, a jobs file's line) are refused above it before parsing.
pub const REQUEST_MAX_BYTES: usize = 64 * 1024 * 1024;

/// How [`validate_input_with`] treats what the schema does not decide.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidateOptions {
    /// Accept fields the model's schema does not know (default `false`: refused with a
    /// suggestion). The service ignores a field it does not know, so a misspelt `durration`
    /// would be billed at the default duration; allow them only for fields the service added
    /// before this crate's schema did.
    pub allow_unknown_fields: bool,
}

impl ValidateOptions {
    /// Sets [`allow_unknown_fields`](Self::allow_unknown_fields).
    pub fn allow_unknown_fields(mut self, allow: bool) -> Self {
        self.allow_unknown_fields = allow;
        self
    }
}

/// Validates a raw input object for `spec`'s model, reporting every broken rule at once.
///
/// ```
/// use happyhorse_core::validate::validate_input;
/// use happyhorse_types::image_to_video;
///
/// let good = serde_json::json!({"image_url": "https://example.com/horse.png", "prompt": "A horse trots"});
/// assert!(validate_input(&image_to_video::SPEC, &good).is_ok());
///
/// let bad = serde_json::json!({"image_url": "horse.png", "resolution": "4K", "seed": -1});
/// let errors = validate_input(&image_to_video::SPEC, &bad).unwrap_err();
/// assert_eq!(
///     errors.to_string(),
///     [
///         "prompt: is required, got (missing)",
///         "resolution: must be one of \"720P\" or \"1080P\", got \"4K\"",
///         "seed: must be at least 0, got -1",
///         "image_url: must be an https:// URL or a data:image/...;base64 URI (local files must be inlined first), got horse.png",
///     ]
///     .join("\n")
/// );
/// ```
pub fn validate_input(spec: &ModelSpec, input: &Value) -> Result<(), InputErrors> {
    validate_input_with(spec, input, ValidateOptions::default())
}

/// [`validate_input`] with options.
///
/// ```
/// use happyhorse_core::validate::{validate_input_with, ValidateOptions};
/// use happyhorse_types::image_to_video;
///
/// let input = serde_json::json!({"image_url": "https://example.com/a.png", "prompt": "A horse", "durration": 12});
/// let errors = validate_input_with(&image_to_video::SPEC, &input, ValidateOptions::default()).unwrap_err();
/// assert_eq!(errors.errors()[0].rule, "unknown_field");
/// assert_eq!(
///     errors.to_string(),
///     "durration: is not a field of happyhorse/happyhorse-1.0/image-to-video (did you mean \"duration\"?), got 12"
/// );
/// let allowed = ValidateOptions::default().allow_unknown_fields(true);
/// assert!(validate_input_with(&image_to_video::SPEC, &input, allowed).is_ok());
/// ```
pub fn validate_input_with(
    spec: &ModelSpec,
    input: &Value,
    options: ValidateOptions,
) -> Result<(), InputErrors> {
    let validator = schema::validator(spec).map_err(InputErrors::from)?;
    let schema_json: Value = serde_json::from_str(spec.input_schema).unwrap_or(Value::Null);
    let properties = schema_json.get("properties").and_then(Value::as_object);

    let mut errors = schema::schema_errors(&validator, input);
    errors.extend(schema::integer_literal_errors(&schema_json, input));

    if let Some(object) = input.as_object() {
        if !options.allow_unknown_fields
            && let Some(properties) = properties
        {
            let unknown = unknown::unknown_field_errors(spec.id, properties, object);
            // One report per unknown field: ours carries the suggestion.
            errors.retain(|e| {
                !(e.rule == "additionalProperties" && unknown.iter().any(|u| u.field == e.field))
            });
            errors.extend(unknown);
        }
        for (name, value) in object {
            if let Some(text) = value.as_str()
                && !is_image_field(name)
                && let Err(error) = check_text_field(name, text)
            {
                errors.push(error);
            }
        }
        if let Some(prompt) = object.get("prompt").and_then(Value::as_str) {
            let schema_max = properties
                .and_then(|p| p.get("prompt"))
                .and_then(|p| p.get("maxLength"))
                .and_then(Value::as_u64);
            if let Err(error) = check_prompt("prompt", prompt, schema_max) {
                // One length error per prompt: ours names the limit that applies.
                errors.retain(|e| !(e.field == "prompt" && e.rule == "maxLength"));
                errors.push(error);
            }
        }
        for (name, value) in object {
            if !is_image_field(name) {
                continue;
            }
            if let Some(text) = value.as_str()
                && let Err(error) = validate_image_ref(name, text)
            {
                errors.push(error);
            }
        }
    }

    if errors.is_empty() {
        Ok(())
    } else {
        Err(InputErrors::new(errors))
    }
}

/// Whether a top-level field holds an image reference, by RunComfy's naming
/// (`image_url`, `image_url_1`, `reference_image_url_2`, …).
pub fn is_image_field(name: &str) -> bool {
    name.contains("image_url")
}

#[cfg(test)]
mod tests;
