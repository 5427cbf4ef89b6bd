//! Answer shapes: the emulator answers as documented by default, and — switch by switch — in the
//! other shapes the real service may plausibly use, so a client can rehearse them offline: other
//! `output` shapes, the documentation's own cancel example (not valid JSON), errors sent with HTTP
//! 200, and numbers sent as strings. `docs/emulator.md` lists them.

use http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::body::EmuBody;

/// The shape of a succeeded job's `output` (`--output-shape`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
#[non_exhaustive]
pub enum OutputShape {
    /// `{"video": URL}`, as documented.
    #[default]
    Video,
    /// `{"videos": [URL]}`.
    Videos,
    /// A bare URL string.
    Url,
    /// A list of URLs.
    Urls,
    /// A list of objects carrying a `url`.
    UrlObjects,
    /// The URL nested deep in objects and lists.
    Nested,
    /// An image beside the video (`image`, `images`, `video`), the image first.
    WithImages,
    /// No `output` at all: the video under a top-level `videos` of the result.
    Outside,
}

/// Every answer-shape switch (default: all as documented).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct AnswerShapes {
    /// How a succeeded result carries its files.
    pub output: OutputShape,
    /// Cancel answers are the documentation's example: a comma missing, so not valid JSON.
    pub malformed_cancel: bool,
    /// Error answers come with HTTP 200 (and their top-level `error_code`).
    pub errors_with_200: bool,
    /// `queue_position` and `cost` are sent as strings (`"3"`, `"0.35"`).
    pub string_numbers: bool,
}

impl AnswerShapes {
    /// `output` in the chosen shape, for a video at `video` and an image at `image`.
    pub(crate) fn output(self, video: &str, image: &str) -> Value {
        match self.output {
            OutputShape::Video | OutputShape::Outside => json!({ "video": video }),
            OutputShape::Videos => json!({ "videos": [video] }),
            OutputShape::Url => json!(video),
            OutputShape::Urls => json!([video]),
            OutputShape::UrlObjects => json!([{ "url": video, "content_type": "video/mp4" }]),
            OutputShape::Nested => {
                json!({ "data": { "outputs": [{ "type": "video", "file": { "url": video } }] } })
            }
            OutputShape::WithImages => {
                json!({ "image": image, "images": [image], "video": video })
            }
        }
    }

    /// A `/status` or `/result` body reshaped: numbers as strings, the output moved out.
    pub(crate) fn reshape(self, mut body: Value) -> Value {
        let Some(object) = body.as_object_mut() else {
            return body;
        };
        if self.string_numbers {
            for name in ["queue_position", "cost"] {
                if let Some(value) = object.get_mut(name).filter(|v| v.is_number()) {
                    *value = Value::String(value.to_string());
                }
            }
        }
        if self.output == OutputShape::Outside
            && let Some(output) = object.shift_remove("output")
            && let Some(video) = output.get("video").cloned()
        {
            object.insert("videos".to_owned(), json!([video]));
        }
        body
    }

    /// The documentation's cancel example: `status` and `outcome` without a comma between them.
    pub(crate) fn malformed_cancel(
        request_id: &str,
        status: &str,
        outcome: &str,
    ) -> Response<EmuBody> {
        let body = format!(
            "{{\n  \"request_id\": \"{request_id}\",\n  \"status\": \"{status}\"\n  \"outcome\": \"{outcome}\"\n}}"
        );
        let mut response = Response::new(EmuBody::full(body));
        *response.status_mut() = StatusCode::ACCEPTED;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }

    /// An error answer sent with HTTP 200 instead of its status.
    pub(crate) fn error_status(self, mut response: Response<EmuBody>) -> Response<EmuBody> {
        if self.errors_with_200 && !response.status().is_success() {
            *response.status_mut() = StatusCode::OK;
        }
        response
    }
}
