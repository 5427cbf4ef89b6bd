//! The offline front door keeps its promise: `run --emulator` saves a preview made from the
//! user's own photo, at the requested duration and resolution, and says it is a preview.

use happyhorse_preview::check::{decode, luma_of, psnr, read_mp4};
use image::{Rgb, RgbImage};

use super::common::{happyhorse, horse_png};

/// A portrait photo (3:4, 900×1200) with soft gradients and a few hard edges, saved as JPEG.
fn portrait_jpeg(path: &std::path::Path) -> RgbImage {
    let image = RgbImage::from_fn(900, 1200, |x, y| {
        let (fx, fy) = (f64::from(x) / 900.0, f64::from(y) / 1200.0);
        let face = ((fx - 0.5).powi(2) / 0.04 + (fy - 0.4).powi(2) / 0.06) < 1.0;
        if face {
            Rgb([225, (180.0 - 40.0 * fy) as u8, 150])
        } else if fy > 0.75 {
            Rgb([60, 60, (120.0 + 80.0 * fx) as u8])
        } else {
            Rgb([(200.0 - 90.0 * fy) as u8, 190, (170.0 + 60.0 * fx) as u8])
        }
    });
    image
        .save_with_format(path, image::ImageFormat::Jpeg)
        .unwrap();
    image
}

/// The "done when": an 8 s 720P run on a portrait JPEG saves an 8 s, 24 fps portrait MP4
/// of the documented size (3:4 at 720P: 832×1108), whose first frame is the photo.
#[test]
fn run_emulator_saves_a_preview_of_the_users_photo() {
    let dir = tempfile::tempdir().unwrap();
    let photo = portrait_jpeg(&dir.path().join("portrait.jpg"));
    let output = happyhorse(dir.path())
        .args([
            "--json",
            "run",
            "--emulator",
            "--image",
            "portrait.jpg",
            "--prompt",
            "She smiles",
        ])
        .args([
            "--duration",
            "8",
            "--resolution",
            "720P",
            "-o",
            "portrait.mp4",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // `--json` says the video is a preview.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let preview: serde_json::Value = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .find(|event: &serde_json::Value| event["event"] == "preview")
        .unwrap_or_else(|| panic!("no preview event in {stdout}"));
    assert_eq!(preview["preview"], true);
    assert!(
        preview["note"]
            .as_str()
            .unwrap()
            .contains("not a generated video")
    );
    let mp4 = read_mp4(&std::fs::read(dir.path().join("portrait.mp4")).unwrap());
    assert_eq!((mp4.width, mp4.height), (832, 1108));
    assert_eq!(
        (mp4.seconds(), mp4.fps(), mp4.samples.len()),
        (8.0, 24.0, 192)
    );
    assert!(mp4.frame_durations_are_uniform);
    let frames = decode(&mp4);
    assert_eq!(frames.len(), 192);
    // The first frame against the photo scaled by another filter than the emulator's: a
    // different picture scores about 10 dB, a faithful copy well above 30.
    let expected =
        image::imageops::resize(&photo, 832, 1108, image::imageops::FilterType::Triangle);
    let first = psnr(&frames[0].y, &luma_of(&expected));
    assert!(first > 30.0, "first frame PSNR {first:.1} dB");
}

/// People are told too, and warned that the emulator's URL dies with the command.
#[test]
fn run_emulator_labels_the_preview_and_warns_that_its_url_dies() {
    let dir = tempfile::tempdir().unwrap();
    let horse = horse_png();
    let output = happyhorse(dir.path())
        .args([
            "run",
            "--emulator",
            "--image",
            horse.to_str().unwrap(),
            "--prompt",
            "x",
        ])
        .args(["--duration", "3", "--resolution", "720P", "--no-download"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: the in-process emulator stops when this command ends"),
        "{stderr}"
    );
    assert!(
        stderr.contains("note: this video is an offline preview made by the emulator"),
        "{stderr}"
    );
    // --no-wait: warned before the submit, in JSON too.
    let output = happyhorse(dir.path())
        .args([
            "--json",
            "run",
            "--emulator",
            "--image",
            horse.to_str().unwrap(),
        ])
        .args(["--prompt", "x", "--no-wait"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let first = String::from_utf8_lossy(&output.stdout);
    let first: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(first["event"], "warning", "{first}");
}
