//! Wire types for RunComfy's Model API and the HappyHorse models, generated from the JSON Schemas
//! checked in under `schemas/`.
//!
//! Everything under [`generated`] is written by `cargo xtask codegen` and never edited by hand; this
//! file and the few modules beside it are the hand-written frame around it.
//!
//! - Request bodies, one module per model: [`image_to_video::ImageToVideoInput`] and friends.
//!   Inputs validate what a type can hold (a [`Duration`](image_to_video::Duration) is always 3–15,
//!   a [`Seed`](image_to_video::Seed) always 0–2147483647); rules a type cannot hold, such as the
//!   prompt's length, are checked by `happyhorse-core`'s validation against the embedded schema.
//! - The queue API's envelopes: [`SubmitResponse`], [`StatusResponse`], [`ResultResponse`],
//!   [`CancelResponse`], [`ErrorBody`]. They ignore unknown fields and keep unknown status values
//!   ([`JobStatus::Unknown`]), so a newer service never breaks deserialisation.
//! - The exact checked-in schemas, embedded: [`ModelSpec`], [`MODELS`], [`QUEUE_API_SCHEMA`].
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

pub mod generated;
mod model;
mod value_error;

pub use generated::models::happyhorse::happyhorse_1_0::image_to_video;
pub use generated::queue_api::*;
pub use generated::{MODELS, QUEUE_API_SCHEMA};
pub use model::{Model, ModelSpec, model_spec};
pub use value_error::ValueError;
