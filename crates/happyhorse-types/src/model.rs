//! What every generated model module provides, so clients can be generic over the model.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model_info::{self, MediaField, ModelInfo, ModelInfoError};
use crate::rules::InputRules;

/// The checked-in schemas and metadata of one model, embedded at build time.
///
/// ```
/// let spec = happyhorse_types::model_spec("happyhorse/happyhorse-1.0/image-to-video").unwrap();
/// let input: serde_json::Value = serde_json::from_str(spec.input_schema).unwrap();
/// assert_eq!(input["properties"]["duration"]["default"], 5);
/// assert_eq!(spec.short_name, "i2v");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSpec {
    /// The model's id on RunComfy, as used in `POST /v1/models/{id}`.
    pub id: &'static str,
    /// The CLI's short name for the model (`i2v`, `1.1/t2v`), from its `model.json`.
    pub short_name: &'static str,
    /// The text of the model's `input.schema.json`.
    pub input_schema: &'static str,
    /// The text of the model's `output.schema.json` (a JSON Schema for the result's `output` object).
    pub output_schema: &'static str,
    /// The text of the model's `model.json`: catalogue entry, short name and input rules
    /// (read it with [`info`](Self::info)).
    pub metadata: &'static str,
}

impl ModelSpec {
    /// The model's `model.json`, parsed (once per model) and checked against its input schema.
    ///
    /// # Errors
    /// When `model.json` does not parse or disagrees with the input schema — never for a
    /// checked-in model (`tests/model_info.rs` parses every one).
    pub fn info(&self) -> Result<&'static ModelInfo, ModelInfoError> {
        model_info::info(self)
    }

    /// The rules its JSON Schema cannot express: [`info`](Self::info)`.rules`.
    ///
    /// # Errors
    /// As [`info`](Self::info).
    pub fn rules(&self) -> Result<&'static InputRules, ModelInfoError> {
        self.info().map(|info| &info.rules)
    }

    /// Every media field of the input, in schema order, with its rule:
    /// [`info`](Self::info)`.media_fields`.
    ///
    /// ```
    /// let fields = happyhorse_types::reference_to_video::SPEC.media_fields()?;
    /// let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    /// assert_eq!(names.first(), Some(&"image_url_1"));
    /// assert_eq!(names.last(), Some(&"image_url_9"));
    /// # Ok::<(), happyhorse_types::ModelInfoError>(())
    /// ```
    ///
    /// # Errors
    /// As [`info`](Self::info).
    pub fn media_fields(&self) -> Result<&'static [MediaField], ModelInfoError> {
        self.info().map(|info| info.media_fields.as_slice())
    }
}

/// A RunComfy model: its id, its schemas and its input and output types.
///
/// Implemented by the generated marker types, such as
/// [`ImageToVideo`](crate::image_to_video::ImageToVideo) or
/// [`TextToVideo`](crate::v1_1::text_to_video::TextToVideo) of HappyHorse 1.1.
pub trait Model: Send + Sync + 'static {
    /// The model's checked-in schemas.
    const SPEC: &'static ModelSpec;
    /// The request body.
    type Input: Serialize
        + DeserializeOwned
        + schemars::JsonSchema
        + Clone
        + std::fmt::Debug
        + Send
        + Sync
        + 'static;
    /// The object under the result's `output` key.
    type Output: Serialize
        + DeserializeOwned
        + schemars::JsonSchema
        + Clone
        + std::fmt::Debug
        + Send
        + Sync
        + 'static;
}

/// The spec of a known model, by id.
pub fn model_spec(id: &str) -> Option<&'static ModelSpec> {
    crate::MODELS.iter().copied().find(|spec| spec.id == id)
}

/// The spec of a known model, by id or short name (what the CLI's `--model` accepts).
///
/// ```
/// use happyhorse_types::find_model;
///
/// assert_eq!(find_model("1.1/t2v").unwrap().id, "alibaba/happyhorse-1.1/text-to-video");
/// assert_eq!(find_model("happyhorse/happyhorse-1.0/video-edit").unwrap().short_name, "edit");
/// assert!(find_model("t2i").is_none());
/// ```
pub fn find_model(id_or_short_name: &str) -> Option<&'static ModelSpec> {
    crate::MODELS
        .iter()
        .copied()
        .find(|spec| spec.id == id_or_short_name || spec.short_name == id_or_short_name)
}
