//! `render-fixtures`: draws the checked-in example photo and the emulator's
//! "generated" video with the project's own tiny rasteriser.
//!
//! Only built with `--features render`: OpenH264 compiled from source carries
//! no Cisco patent licence, so the encoder never enters default builds.
//!
//! Output is deterministic (no randomness beyond a fixed-seed LCG).

#[path = "render/raster.rs"]
mod raster;
#[path = "render/scene.rs"]
mod scene;
#[path = "render/video.rs"]
mod video;

use anyhow::{Context as _, Result, ensure};
use raster::Canvas;
use std::path::Path;
use std::time::Instant;

/// Example input photo (README's first command).
const PHOTO: (&str, usize, usize) = ("examples/horse.png", 1024, 640);
/// The emulator's generated video.
const VIDEO: (&str, usize, usize) = ("crates/happyhorse-emulator/fixtures/horse.mp4", 640, 400);
const FPS: u32 = 24;
const FRAMES: usize = 60;
/// Supersampling factor per axis for the photo (anti-aliasing).
const SS: usize = 3;
/// Supersampling for video frames (the encoder smooths edges anyway).
const SS_VIDEO: usize = 2;

/// Renders `examples/horse.png` and `crates/happyhorse-emulator/fixtures/horse.mp4`
/// under `workspace_root`, verifies the MP4 by parsing and decoding it, and prints a summary.
pub(crate) fn render_fixtures(workspace_root: &Path) -> Result<()> {
    let started = Instant::now();
    let (rel, w, h) = PHOTO;
    let rgb = render_frame(w, h, SS, 0.0);
    let png = encode_png(&rgb, w, h)?;
    write(workspace_root, rel, &png)?;
    println!("{rel}: {w}x{h} PNG, {} bytes", png.len());

    let (rel, w, h) = VIDEO;
    let frames: Vec<Vec<u8>> = (0..FRAMES)
        .map(|i| render_frame(w, h, SS_VIDEO, i as f32 / FPS as f32))
        .collect();
    let drawn = started.elapsed();
    let mp4 = video::encode_mp4(&frames, w, h, FPS)?;
    write(workspace_root, rel, &mp4)?;
    let seconds = FRAMES as f64 / f64::from(FPS);
    println!(
        "{rel}: {w}x{h} H.264/MP4, {FRAMES} frames @ {FPS} fps = {seconds} s, {} bytes",
        mp4.len()
    );

    let report = video::verify_mp4(&mp4, &frames, w, h, FPS)?;
    ensure!(
        report.decoded == FRAMES,
        "decoded {} of {FRAMES} frames",
        report.decoded
    );
    println!("  boxes: {}", report.boxes.join(" "));
    println!("  track: {}", report.track);
    println!(
        "  OpenH264 decoded {}/{FRAMES} frames ({} sync samples), min PSNR vs source {:.1} dB",
        report.decoded, report.sync_samples, report.min_psnr
    );
    let preview = std::env::temp_dir().join("happyhorse-horse-mp4-middle-frame.png");
    std::fs::write(&preview, encode_png(&report.middle_frame, w, h)?)?;
    println!("  decoded middle frame: {}", preview.display());
    println!("drawn in {:.1?}, total {:.1?}", drawn, started.elapsed());
    Ok(())
}

fn render_frame(w: usize, h: usize, ss: usize, t: f32) -> Vec<u8> {
    let mut canvas = Canvas::new(w, h, ss);
    scene::draw(&mut canvas, t);
    canvas.finish()
}

fn encode_png(rgb: &[u8], w: usize, h: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, u32::try_from(w)?, u32::try_from(h)?);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    encoder.set_source_srgb(png::SrgbRenderingIntent::Perceptual);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

fn write(root: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    let path = root.join(rel);
    let dir = path.parent().context("fixture path has no parent")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
}
