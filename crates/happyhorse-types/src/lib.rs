//! Wire types for RunComfy's Model API and the HappyHorse models, generated from the JSON Schemas
//! checked in under `schemas/`.
//!
//! Everything under [`generated`] is written by `cargo xtask codegen` and never edited by hand; this
//! file and the few modules beside it are the hand-written frame around it. Nothing in the frame
//! names a model: adding one is adding its folder under `schemas/models/` (see `docs/schemas.md`).
//!
//! - Request bodies, one module per model, at the model's short path: [`image_to_video`],
//!   [`text_to_video`], …, [`v1_1::image_to_video`] for HappyHorse 1.1 (every model, its short
//!   name and its path: [`generated::paths`]).
//!   Each holds `<Name>Input` (with `new(required…)` and setters), `<Name>Output`, the marker
//!   type `<Name>` implementing [`Model`] (what `client.run::<M>()` takes) and its [`ModelSpec`].
//!   The short path is the namespace of the short name (`1.1/…` → `v1_1`) and the last segment of
//!   the id; every model is also under [`generated::models`] by its full id.
//!   Inputs validate what a type can hold (a [`Duration`](image_to_video::Duration) is always
//!   3–15, a [`Seed`](image_to_video::Seed) always 0–2147483647); rules a type cannot hold, such
//!   as the prompt's length or an image's sides, are data in each model's `model.json`
//!   ([`ModelSpec::rules`], [`rules`]) and checked by `happyhorse-core`'s validation.
//! - The queue API's envelopes: [`SubmitResponse`], [`StatusResponse`], [`ResultResponse`],
//!   [`CancelResponse`], [`ErrorBody`]. They ignore unknown fields and keep unknown status values
//!   ([`JobStatus::Unknown`]), so a newer service never breaks deserialisation.
//! - The exact checked-in schemas, embedded: [`ModelSpec`], [`MODELS`], [`QUEUE_API_SCHEMA`];
//!   [`find_model`] by id or short name; [`for_each_model!`] to name every model's type.
//!
//! ```
//! use happyhorse_types::image_to_video::{ImageToVideoInput, Resolution};
//!
//! let input = ImageToVideoInput::new("https://example.com/horse.png", "The horse trots towards the camera")
//!     .duration(8)?
//!     .resolution(Resolution::P720);
//! assert_eq!(
//!     serde_json::to_value(&input)?,
//!     serde_json::json!({
//!         "image_url": "https://example.com/horse.png",
//!         "prompt": "The horse trots towards the camera",
//!         "resolution": "720P",
//!         "duration": 8,
//!         "seed": 0,
//!         "watermark": false
//!     })
//! );
//!
//! let err = ImageToVideoInput::new("https://example.com/horse.png", "…").duration(16).unwrap_err();
//! assert_eq!(err.to_string(), "duration: must be an integer from 3 to 15, got 16");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Code that must name every model's type gets them from [`for_each_model!`]:
//!
//! ```
//! use happyhorse_types::{MODELS, Model};
//!
//! macro_rules! ids {
//!     ($($model:path),* $(,)?) => { vec![$(<$model as Model>::SPEC.id),*] };
//! }
//! let ids: Vec<&str> = happyhorse_types::for_each_model!(ids);
//! assert_eq!(ids, MODELS.iter().map(|spec| spec.id).collect::<Vec<_>>());
//! ```

pub mod generated;
mod model;
mod model_info;
pub mod rules;
mod value_error;

// The models' short paths (`image_to_video`, `v1_1::text_to_video`, …), generated.
pub use generated::paths::*;
pub use generated::queue_api::*;
pub use generated::{MODELS, QUEUE_API_SCHEMA};
pub use model::{Model, ModelSpec, find_model, model_spec};
pub use model_info::{MediaField, ModelInfo, ModelInfoError, PriceUnit};
pub use value_error::ValueError;
