//! Where the emulator meets its previews: starting one for a submitted job, finding what a job
//! serves, and saying so in its result.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};

use super::cache::{Outcome, Slot};
use super::plan::{ImageBytes, Plan};
use crate::app::App;

/// What the result body says about a video the emulator made (an extra field the real service
/// does not send: `emulator`).
pub(crate) const PREVIEW_NOTE: &str = "This video is an offline preview made by the happyhorse emulator from the request \
     (its image, duration and resolution, with a camera drift); it is not a generated video.";
const FIXTURE_NOTE: &str = "This video is the happyhorse emulator's fixed sample clip, the same for every job; \
     it is not a generated video and does not follow the request.";

/// Starts (or finds in the cache) the preview of a job about to be submitted; `None` when the
/// emulator serves the fixture (previews off, a configured video, synthetic large files).
pub(crate) fn start(
    app: &App,
    input: &Value,
    fetched: ImageBytes,
    log: &mut Vec<String>,
) -> Option<Arc<Slot>> {
    let config = &app.config;
    if !config.previews || config.video.is_some() || config.large_file_size.is_some() {
        return None;
    }
    let mut images = fetched;
    // `data:` URIs were decoded and checked by validation; decode them again for their bytes.
    if let Some(object) = input.as_object() {
        for (field, value) in object {
            let Some(uri) = value.as_str() else { continue };
            if happyhorse_core::validate::is_image_field(field)
                && let Ok((_, bytes)) = happyhorse_core::validate::decode_data_uri(uri)
            {
                images.insert(field.clone(), Bytes::from(bytes));
            }
        }
    }
    let (slot, cached) = app
        .previews
        .request(Plan::for_request(input, &images, None));
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
