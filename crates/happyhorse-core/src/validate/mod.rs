//! Input validation shared by the CLI, the HTTP client and the emulator.
//!
//! [`validate_input`] checks a raw input object against the model's checked-in JSON Schema
//! (with the `jsonschema` crate) and then the rules a schema cannot express, read from the
//! model's `model.json` ([`ModelSpec::rules`](happyhorse_types::ModelSpec::rules)) — the same code
//! for every model:
//! - fields the schema does not know (`durration`): refused with a suggestion, because the
//!   service ignores them and bills its defaults; [`ValidateOptions::allow_unknown_fields`]
//!   sends them anyway (for fields the service added before our schema did);
//! - text fields: no NUL or other control character except tab and newline
//!   ([`check_text_field`]);
//! - the prompt's length by the model's rule, with its lower limit for a Chinese prompt
//!   ([`check_prompt_rule`]; see [`is_chinese`] for the exact definition);
//! - every media field by its own rule ([`validate_media_ref`]): a `data:` URI is decoded and its
//!   bytes checked — an image by [`check_image_with`] (format by content, whole, size, sides,
//!   aspect), a video by [`check_video_bytes`] (container, codec, duration, sides, aspect, size,
//!   frame rate, without decoding it); a URL must be `https://`;
//! - the whole request: at most [`REQUEST_MAX_BYTES`] as JSON, inline media included;
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
mod media;
mod prompt;
mod schema;
mod text;
mod units;
mod unknown;
mod video;

use happyhorse_types::ModelSpec;
use serde_json::Value;

pub use error::{InputError, InputErrors, shorten};
pub use flags::{parse_duration, parse_size};
pub use image::{
    IMAGE_MAX_BYTES, IMAGE_MIN_SIDE, ImageFormat, ImageInfo, ImageRef, blank_png,
    check_image_bytes, check_image_size, check_image_size_with, check_image_with, decode_data_uri,
    first_frame_rules, validate_image_ref,
};
pub use media::{MediaRef, inline_too_large, media_rule, validate_media_ref};
pub use prompt::{
    CHINESE_PROMPT_MAX_CHARS, PROMPT_MAX_CHARS, check_prompt, check_prompt_rule, is_chinese,
    is_han_ideograph, prompt_limit,
};
pub use text::{Utf8Problem, check_text_field, check_utf8, find_control_character};
pub use video::{
    ReadAt, VideoInfo, check_video_bytes, check_video_info, check_video_size, probe_video,
};

/// The largest request body: RunComfy's own ComfyUI nodes cap a request at 64 MiB. Inputs read
/// from files or stdin (`--input`, a jobs file's line) are refused above it before parsing, and
/// [`validate_input`] refuses an input whose JSON is larger (rule `request_size`).
pub const REQUEST_MAX_BYTES: usize = 64 * 1024 * 1024;

/// The largest local file sent inline as a `data:` URI: 48 MB (48,000,000 bytes). The API has no
/// upload endpoint, so a local image or video travels inside the request as base64, a third
/// larger: 48 MB become 64,000,000 characters, which leaves about 3 MB of the 64 MiB request
/// ([`REQUEST_MAX_BYTES`]) for the prompt and the other fields. Video-edit accepts videos up to
/// 100 MB; one above this size must be given as an https:// URL ([`inline_too_large`] says so).
pub const INLINE_MAX_BYTES: u64 = 48_000_000;

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
    let rules = spec
        .rules()
        .map_err(|e| InputErrors::from(InputError::new("", "model_json", &e.to_string(), "-")))?;
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
                && media_rule(spec, name).is_none()
                && let Err(error) = check_text_field(name, text)
            {
                errors.push(error);
            }
        }
        if let Some(rule) = &rules.prompt
            && let Some(prompt) = object.get(&rule.field).and_then(Value::as_str)
            && let Err(error) = check_prompt_rule(&rule.field, prompt, rule)
        {
            // One length error per prompt: ours names the limit that applies.
            errors.retain(|e| !(e.field == rule.field && e.rule == "maxLength"));
            errors.push(error);
        }
        for (name, value) in object {
            if let (Some(rule), Some(text)) = (media_rule(spec, name), value.as_str())
                && let Err(found) = validate_media_ref(name, rule, text)
            {
                errors.extend(found);
            }
        }
    }
    errors.extend(request_size_error(json_size(input)));

    if errors.is_empty() {
        Ok(())
    } else {
        Err(InputErrors::new(errors))
    }
}

/// The refusal of a request of `size` bytes as JSON, when it is over [`REQUEST_MAX_BYTES`].
fn request_size_error(size: u64) -> Option<InputError> {
    (size > REQUEST_MAX_BYTES as u64).then(|| {
        InputError::new(
            "",
            "request_size",
            "must be at most 64 MiB (67,108,864 bytes) as JSON, RunComfy's request limit (inline \
             files count a third more than their size: give large ones as https:// URLs)",
            units::sized(size),
        )
    })
}

/// How many bytes `value` takes as compact JSON, counted without writing it anywhere.
fn json_size(value: &Value) -> u64 {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len() as u64;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail, and a `Value` always serialises.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_family;
