//! Previews checked from the outside: the renderers of `happyhorse-preview`, and the emulator
//! serving a job's own preview. The MP4 is parsed by `mp4-atom` and every frame decoded by rav1d
//! (an AV1 decoder that shares nothing with the encoder), then compared with the input.

mod common;

use std::time::Duration;

use happyhorse_emulator::{Emulator, ProcessingTime};
use happyhorse_preview::check::{Decoded, decode, luma_of, psnr, read_mp4};
use happyhorse_preview::{self as preview, PreviewSettings, Resolution, SourceVideo, frame_size};
use image::{Rgb, RgbImage};
use serde_json::{Value, json};

/// A portrait "photo": smooth gradients, a sun and a few hard edges (a 600×1000 image, 3:5).
fn portrait() -> RgbImage {
    RgbImage::from_fn(600, 1000, |x, y| {
        let (fx, fy) = (f64::from(x) / 600.0, f64::from(y) / 1000.0);
        let sun = ((fx - 0.6).powi(2) + (fy - 0.25).powi(2)).sqrt() < 0.12;
        let hill = fy > 0.7 - 0.1 * (fx * 6.0).sin();
        if sun {
            Rgb([250, 210, 90])
        } else if hill {
            Rgb([40, (110.0 + 60.0 * fx) as u8, 50])
        } else {
            Rgb([(90.0 + 80.0 * fy) as u8, (140.0 + 60.0 * fy) as u8, 230])
        }
    })
}

fn png(image: &RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The input scaled to the frame independently of the emulator (another filter), as luma.
fn expected_first_frame(image: &RgbImage, width: u32, height: u32) -> Vec<u8> {
    let scaled =
        image::imageops::resize(image, width, height, image::imageops::FilterType::Triangle);
    luma_of(&scaled)
}

/// How close a decoded first frame must be to the scaled input (luma PSNR, dB). A different
/// image would score about 10 dB; encoding and a different scaling filter cost a few dB from a
/// perfect copy.
const FIRST_FRAME_MIN_PSNR: f64 = 30.0;

#[test]
fn image_to_video_shows_the_image_for_the_duration_at_its_aspect() {
    let image = portrait();
    let settings = PreviewSettings {
        resolution: Resolution::P720,
        seconds: 3,
        seed: 11,
    };
    let preview = preview::image_to_video(&png(&image), &settings).unwrap();
    // 3:5 at 720P: about 921,600 pixels at the image's aspect, even sides.
    assert_eq!((preview.width, preview.height), (744, 1240));
    assert_eq!(preview.frames, 72);
    let mp4 = read_mp4(&preview.mp4);
    assert_eq!((mp4.width, mp4.height), (744, 1240));
    assert_eq!(mp4.codec, "av01");
    assert!(mp4.frame_durations_are_uniform);
    assert_eq!(mp4.seconds(), 3.0);
    assert_eq!(mp4.fps(), 24.0);
    assert_eq!(mp4.samples.len(), 72);
    let frames: Vec<Decoded> = decode(&mp4);
    assert_eq!(frames.len(), 72);
    assert!(frames.iter().all(|f| (f.width, f.height) == (744, 1240)));
    let expected = expected_first_frame(&image, 744, 1240);
    let first = psnr(&frames[0].y, &expected);
    assert!(
        first > FIRST_FRAME_MIN_PSNR,
        "first frame PSNR {first:.1} dB"
    );
    // The camera moves: the last frame is visibly not the first.
    let last = psnr(&frames[71].y, &expected);
    assert!(
        last < first - 3.0,
        "last frame PSNR {last:.1} dB vs first {first:.1} dB"
    );
    // Not a still with a jump: consecutive frames stay close.
    let step = psnr(&frames[36].y, &frames[37].y);
    assert!(step > 30.0, "frames 36→37 differ too much: {step:.1} dB");
}

#[test]
fn the_seed_makes_the_preview_deterministic() {
    // A small video-edit card: the same scene renderer and camera as every preview, but cheap.
    let source = SourceVideo {
        width: 96,
        height: 64,
        seconds: 3.0,
    };
    let settings = |seed| PreviewSettings {
        resolution: Resolution::P720,
        seconds: 3,
        seed,
    };
    let render = |seed| preview::video_edit(source, "a horse", &settings(seed)).unwrap();
    let (a, b, c) = (render(5), render(5), render(6));
    assert_eq!(a, b);
    assert_ne!(a.mp4, c.mp4);
    // The camera moves over the clip: the last frame is not the first.
    let frames = decode(&read_mp4(&a.mp4));
    assert_eq!(frames.len(), 72);
    assert!(psnr(&frames[0].y, &frames[71].y) < 40.0);
}

#[test]
fn text_to_video_is_a_card_at_the_requested_aspect() {
    let settings = PreviewSettings {
        resolution: Resolution::P720,
        seconds: 1,
        seed: 2,
    };
    let preview =
        preview::text_to_video("A red fox runs through snow", 9.0 / 16.0, &settings).unwrap();
    assert_eq!((preview.width, preview.height), (720, 1280));
    let frames = decode(&read_mp4(&preview.mp4));
    assert_eq!(frames.len(), 24);
    // Text: the card is not a flat gradient (bright glyph pixels in the middle rows).
    let bright = frames[0].y.iter().filter(|&&y| y > 200).count();
    assert!(bright > 1000, "{bright} bright pixels");
}

#[test]
fn reference_to_video_fades_from_the_first_reference_to_the_last() {
    let red = RgbImage::from_pixel(800, 800, Rgb([200, 30, 30]));
    let blue = RgbImage::from_pixel(800, 800, Rgb([30, 30, 200]));
    let settings = PreviewSettings {
        resolution: Resolution::P720,
        seconds: 2,
        seed: 1,
    };
    let (a, b) = (png(&red), png(&blue));
    let preview = preview::reference_to_video(&[&a, &b], 1.0, &settings).unwrap();
    assert_eq!(
        (preview.width, preview.height),
        frame_size(Resolution::P720, 1.0)
    );
    let frames = decode(&read_mp4(&preview.mp4));
    let mean = |f: &Decoded| f.y.iter().map(|&v| f64::from(v)).sum::<f64>() / f.y.len() as f64;
    let (red_y, blue_y) = (luma_of(&red)[0], luma_of(&blue)[0]);
    assert!((mean(&frames[0]) - f64::from(red_y)).abs() < 3.0);
    assert!((mean(&frames[47]) - f64::from(blue_y)).abs() < 3.0);
    assert!(preview::reference_to_video(&[], 1.0, &settings).is_err());
}

#[test]
fn video_edit_keeps_the_input_size_and_duration() {
    let settings = PreviewSettings {
        resolution: Resolution::P1080,
        seconds: 5,
        seed: 0,
    };
    let source = SourceVideo {
        width: 161,
        height: 91,
        seconds: 3.4,
    };
    let preview = preview::video_edit(source, "make it snow", &settings).unwrap();
    assert_eq!(
        (preview.width, preview.height, preview.frames),
        (160, 90, 72)
    );
    let mp4 = read_mp4(&preview.mp4);
    assert_eq!((mp4.width, mp4.height, mp4.seconds()), (160, 90, 3.0));
}

#[test]
fn a_bad_image_is_an_error_not_a_panic() {
    let settings = PreviewSettings {
        resolution: Resolution::P720,
        seconds: 1,
        seed: 0,
    };
    let error = preview::image_to_video(b"GIF89a...", &settings).unwrap_err();
    assert!(error.to_string().contains("cannot be decoded"), "{error}");
}

/// The emulator end to end: a job with an inline image serves its own preview, labelled.
#[tokio::test]
async fn an_emulated_job_serves_the_preview_of_its_own_image() {
    let emulator = Emulator::builder()
        .previews(true)
        .processing_time(ProcessingTime::Fixed(Duration::from_secs(1)))
        .time_scale(100.0)
        .start()
        .await
        .unwrap();
    let image = portrait();
    let data_uri = format!(
        "data:image/png;base64,{}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, png(&image))
    );
    let client = common::Client::new(emulator.base_url());
    let body = json!({"image_url": data_uri, "prompt": "drift", "duration": 3, "resolution": "720P", "seed": 4});
    let submitted = client.submit(&body).await;
    assert_eq!(submitted.status, 200, "{:?}", submitted.body);
    let id = submitted.json()["request_id"].as_str().unwrap().to_owned();
    // Wait for the end (the job stays in progress while its preview renders); bounded so a bug
    // fails the test instead of hanging it.
    let mut result = Value::Null;
    for _ in 0..12_000 {
        result = client.result(&id).await.json();
        if result["status"] != "in_progress" && result["status"] != "in_queue" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(result["status"], "succeeded", "{result}");
    assert_eq!(result["emulator"]["preview"], true, "{result}");
    assert!(
        result["emulator"]["note"]
            .as_str()
            .unwrap()
            .contains("not a generated video")
    );
    assert_eq!(result["emulator"]["video"]["width"], 744);
    assert_eq!(result["emulator"]["video"]["seconds"], 3.0);
    let url = result["output"]["video"].as_str().unwrap();
    let download = common::send(http::Method::GET, url, &[], None)
        .await
        .unwrap();
    assert_eq!(download.status, 200);
    let mp4 = read_mp4(&download.body);
    assert_eq!((mp4.width, mp4.height, mp4.samples.len()), (744, 1240, 72));
    let frames = decode(&mp4);
    let first = psnr(&frames[0].y, &expected_first_frame(&image, 744, 1240));
    assert!(first > FIRST_FRAME_MIN_PSNR, "{first:.1} dB");
    let log = client.get(&format!("/__emulator/jobs/{id}")).await.json()["log"].to_string();
    assert!(log.contains("preview: the input image"), "{log}");
    // The same input again is served from the cache: the same bytes, no second render.
    let again = client.submit(&body).await.json()["request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let log = client
        .get(&format!("/__emulator/jobs/{again}"))
        .await
        .json()["log"]
        .to_string();
    assert!(log.contains("(from the cache)"), "{log}");
    emulator.shutdown().await;
}
