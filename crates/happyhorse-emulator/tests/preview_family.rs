//! Each kind of model of the family gets its own preview from the emulator, chosen by the model's
//! media fields in `model.json`: image-to-video its image, text-to-video a card at its aspect,
//! reference-to-video its references, video-edit a card that follows its source video's size and
//! length. Each video is parsed as an MP4 (one AV1 track, 24 fps, the expected frames). Kept
//! cheap: 720P, the shortest durations, flat images.

mod common;

use std::time::Duration;

use base64::Engine as _;
use happyhorse_emulator::{Emulator, ProcessingTime, RunningEmulator};
use happyhorse_preview::check::read_mp4;
use serde_json::{Value, json};

fn data_uri(mime: &str, bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    format!("data:{mime};base64,{encoded}")
}

/// The MP4 the CLI's examples use for video-edit: 3.5 s (see the http family test).
fn source_video() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/horse.mp4"
    ))
    .unwrap()
}

/// Submits `body` to `model`, waits for the end (the job stays in progress while its preview
/// renders; bounded, so a bug fails instead of hanging) and returns the result, the MP4 and
/// the job's log.
async fn preview_of(
    emulator: &RunningEmulator,
    model: &str,
    body: Value,
) -> (Value, Vec<u8>, String) {
    let client = common::Client::new(emulator.base_url());
    let submitted = client
        .submit_raw(model, body.to_string().into_bytes())
        .await;
    assert_eq!(submitted.status, 200, "{model}: {:?}", submitted.json());
    let id = submitted.json()["request_id"].as_str().unwrap().to_owned();
    client.wait_finished(&id, 60_000).await;
    let result = client.result(&id).await.json();
    assert_eq!(result["status"], "succeeded", "{model}: {result}");
    assert_eq!(result["emulator"]["preview"], true, "{model}: {result}");
    let url = result["output"]["video"].as_str().unwrap();
    let download = common::send(http::Method::GET, url, &[], None)
        .await
        .unwrap();
    assert_eq!(download.status, 200);
    let log = client.get(&format!("/__emulator/jobs/{id}")).await.json()["log"].to_string();
    (result, download.body.to_vec(), log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_model_gets_its_own_preview_as_a_real_mp4() {
    let emulator = Emulator::builder()
        .previews(true)
        .processing_time(ProcessingTime::Fixed(Duration::from_secs(1)))
        .time_scale(100.0)
        .start()
        .await
        .unwrap();
    let wide = data_uri("image/png", &common::png(640, 360));
    let square = data_uri("image/png", &common::png(600, 600));
    let landscape = data_uri("image/png", &common::png(800, 450));
    let video = data_uri("video/mp4", &source_video());
    let prompt = "The horse trots";
    let cases = [
        (
            "happyhorse/happyhorse-1.0/image-to-video",
            json!({"image_url": wide, "prompt": prompt, "duration": 3, "resolution": "720P"}),
            "preview: the input image",
            (1280, 720, 72),
        ),
        (
            "alibaba/happyhorse-1.1/text-to-video",
            json!({"prompt": prompt, "ratio": "9:16", "duration": 3, "resolution": "720P"}),
            "preview: a card with the prompt's first words",
            (720, 1280, 72),
        ),
        (
            "happyhorse/happyhorse-1.0/reference-to-video",
            json!({"image_url_1": square, "image_url_2": landscape, "prompt": prompt, "aspect_ratio": "1:1", "duration": 3, "resolution": "720P"}),
            "preview: 2 reference image(s)",
            (960, 960, 72),
        ),
        (
            // The source's own size (512×320) and its 3.5 s rounded to 4 s: the preview follows the video.
            "happyhorse/happyhorse-1.0/video-edit",
            json!({"video_url": video, "reference_image_url_1": square, "prompt": prompt, "resolution": "720P"}),
            "preview: a card following the input video",
            (512, 320, 96),
        ),
    ];
    for (model, body, summary, (width, height, frames)) in cases {
        let (result, bytes, log) = preview_of(&emulator, model, body).await;
        assert!(log.contains(summary), "{model}: {log}");
        let mp4 = read_mp4(&bytes);
        assert_eq!(mp4.codec, "av01", "{model}");
        assert_eq!(mp4.fps(), 24.0, "{model}");
        assert!(mp4.frame_durations_are_uniform, "{model}");
        assert_eq!(mp4.samples.len(), frames, "{model}");
        assert_eq!(result["emulator"]["video"]["frames"], frames, "{model}");
        assert_eq!((mp4.width, mp4.height), (width, height), "{model}");
    }
    emulator.shutdown().await;
}
