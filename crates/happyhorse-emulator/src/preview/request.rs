//! Where the emulator meets its previews: starting one for a submitted job, finding what a job
//! serves, and saying so in its result.

use std::sync::Arc;

use bytes::Bytes;
use happyhorse_core::validate::{check_video_bytes, decode_data_uri};
use happyhorse_preview::SourceVideo;
use happyhorse_types::ModelSpec;
use happyhorse_types::rules::MediaChecks;
use serde_json::{Value, json};

use super::cache::{Outcome, Slot};
use super::plan::{ImageBytes, Kind, Plan};
use crate::app::App;

/// What the result body says about a video the emulator made (an extra field the real service
/// does not send: `emulator`).
pub(crate) const PREVIEW_NOTE: &str = "This video is an offline preview made by the happyhorse emulator from the request \
     (its image, duration and resolution, with a camera drift); it is not a generated video.";
const FIXTURE_NOTE: &str = "This video is the happyhorse emulator's fixed sample clip, the same for every job; \
     it is not a generated video and does not follow the request.";

/// Starts (or finds in the cache) the preview of a job about to be submitted; `None` when the
/// emulator serves the fixture (previews off, a configured video, synthetic large files).
///
/// The renderer is the model's ([`Kind::of`]); its pictures are the model's image fields, from
/// the bytes fetched from loopback URLs or decoded from `data:` URIs; a video-edit's preview
/// follows its source video's size and length, measured from its `moov` (inline or fetched).
pub(crate) fn start(
    app: &App,
    spec: &ModelSpec,
    input: &Value,
    fetched: ImageBytes,
    log: &mut Vec<String>,
) -> Option<Arc<Slot>> {
    let config = &app.config;
    if !config.previews || config.video.is_some() || config.large_file_size.is_some() {
        return None;
    }
    let mut images = ImageBytes::new();
    let mut source = None;
    for field in spec.media_fields().unwrap_or(&[]) {
        let Some(value) = input.get(&field.name).and_then(Value::as_str) else {
            continue;
        };
        let bytes = match fetched.get(&field.name) {
            Some(bytes) => Some(bytes.clone()),
            // `data:` URIs were decoded and checked by validation; decode them again for their bytes.
            None => decode_data_uri(value)
                .ok()
                .map(|(_, bytes)| Bytes::from(bytes)),
        };
        let Some(bytes) = bytes else { continue };
        match &field.rule.checks {
            MediaChecks::Video(rules) => {
                source = check_video_bytes(rules, &bytes)
                    .ok()
                    .map(|video| SourceVideo {
                        width: video.width,
                        height: video.height,
                        seconds: video.duration_secs,
                    });
            }
            _ => {
                images.insert(field.name.clone(), bytes);
            }
        }
    }
    let plan = Plan::for_request(&Kind::of(spec), input, &images, source);
    let (slot, cached) = app.previews.request(plan);
    log.push(format!(
        "preview: {}{}",
        slot.summary,
        if cached {
            " (from the cache)"
        } else {
            " (rendering)"
        }
    ));
    Some(slot)
}

/// The preview a succeeded job serves, if one was made.
pub(crate) fn ready(app: &App, id: &str) -> Option<Arc<super::cache::Rendered>> {
    match app.jobs.preview(id)?.outcome()? {
        Outcome::Ready(rendered) => Some(rendered.clone()),
        Outcome::Failed(_) => None,
    }
}

/// The `emulator` field of a succeeded job's result: what its video is.
pub(crate) fn label(app: &App, id: &str) -> Value {
    match ready(app, id) {
        Some(video) => json!({
            "preview": true,
            "note": PREVIEW_NOTE,
            "video": {
                "codec": "av1",
                "width": video.width,
                "height": video.height,
                "fps": happyhorse_preview::FPS,
                "frames": video.frames,
                "seconds": f64::from(video.frames) / f64::from(happyhorse_preview::FPS),
            },
        }),
        None if app.config.large_file_size.is_some() => json!({
            "preview": false,
            "note": "This output is synthetic bytes served by the happyhorse emulator for download tests; it is not a video.",
        }),
        None => json!({ "preview": false, "note": FIXTURE_NOTE }),
    }
}
