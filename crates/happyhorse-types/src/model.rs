//! What every generated model module provides, so clients can be generic over the model.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The checked-in schemas and metadata of one model, embedded at build time.
///
/// ```
/// let spec = happyhorse_types::model_spec("happyhorse/happyhorse-1.0/image-to-video").unwrap();
/// let input: serde_json::Value = serde_json::from_str(spec.input_schema).unwrap();
/// assert_eq!(input["properties"]["duration"]["default"], 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSpec {
    /// The model's id on RunComfy, as used in `POST /v1/models/{id}`.
    pub id: &'static str,
    /// The text of the model's `input.schema.json`.
    pub input_schema: &'static str,
    /// The text of the model's `output.schema.json` (a JSON Schema for the result's `output` object).
    pub output_schema: &'static str,
    /// The text of the model's `model.json`: display name, categories and pricing.
    pub metadata: &'static str,
}

/// A RunComfy model: its id, its schemas and its input and output types.
///
/// Implemented by the generated marker types, such as [`ImageToVideo`](crate::image_to_video::ImageToVideo).
pub trait Model: Send + Sync + 'static {
    /// The model's checked-in schemas.
    const SPEC: &'static ModelSpec;
    /// The request body.
    type Input: Serialize + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync + 'static;
    /// The object under the result's `output` key.
    type Output: Serialize + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync + 'static;
}

/// The spec of a known model, by id.
pub fn model_spec(id: &str) -> Option<&'static ModelSpec> {
    crate::MODELS.iter().copied().find(|spec| spec.id == id)
}
