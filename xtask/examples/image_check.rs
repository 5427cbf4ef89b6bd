//! How much an image check costs, per image of about 10 MB: core's structural walk
//! (`happyhorse_core::validate::check_image_bytes`) against a bounded decode with the `image`
//! crate (PNG, zune-jpeg, image-webp), both against the time of reading the file (the baseline).
//!
//! ```text
//! cargo build --release -p xtask --features image-bench --example image_check
//! target/release/examples/image_check [--runs 15] [--json]
//! ```
//!
//! The images are made here: a noisy gradient (photo-like to the encoders) sized so each file is
//! just under 10,000,000 bytes, written to a temporary directory and read back from the page
//! cache. The last line with `--json` is one object: `{"runs", "images": [{"format", "bytes",
//! "width", "height", "read_ms", "walk_ms", "decode_ms"}]}` (medians).

use std::io::Cursor;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use image::{ImageFormat, ImageReader, Limits, RgbImage};

const TARGET_BYTES: usize = 10_000_000;

fn main() -> Result<()> {
    let mut runs = 15usize;
    let mut json = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().context("--runs needs a value")?.parse()?,
            "--json" => json = true,
            other => bail!("unknown argument {other:?}"),
        }
    }
    let dir = std::env::temp_dir().join(format!("happyhorse-image-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut rows = Vec::new();
    for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::WebP] {
        let (bytes, width, height) = sized_image(format)?;
        let path = dir.join(format!("image.{}", format.extensions_str()[0]));
        std::fs::write(&path, &bytes)?;
        ensure!(
            happyhorse_core::validate::check_image_bytes(&bytes).is_ok(),
            "the walk refused a real {format:?}"
        );
        let read = median(runs, || {
            let read = std::fs::read(&path).expect("reading the image");
            std::hint::black_box(read.len());
        });
        let walk = median(runs, || {
            let info = happyhorse_core::validate::check_image_bytes(&bytes);
            std::hint::black_box(info.is_ok());
        });
        let decode = median(runs, || {
            let mut reader = ImageReader::with_format(Cursor::new(&bytes), format);
            let mut limits = Limits::default();
            limits.max_image_width = Some(16_384);
            limits.max_image_height = Some(16_384);
            limits.max_alloc = Some(512 * 1024 * 1024);
            reader.limits(limits);
            let image = reader.decode().expect("decoding the image");
            std::hint::black_box(image.width());
        });
        eprintln!(
            "{format:?}: {} bytes, {width} x {height}: read {:.2} ms, walk {:.2} ms ({:.2}x), decode {:.1} ms ({:.1}x)",
            bytes.len(),
            ms(read),
            ms(walk),
            walk.as_secs_f64() / read.as_secs_f64(),
            ms(decode),
            decode.as_secs_f64() / read.as_secs_f64(),
        );
        rows.push(serde_json::json!({
            "format": format!("{format:?}").to_uppercase(),
            "bytes": bytes.len(),
            "width": width,
            "height": height,
            "read_ms": ms(read),
            "walk_ms": ms(walk),
            "decode_ms": ms(decode),
        }));
    }
    let _ = std::fs::remove_dir_all(&dir);
    if json {
        println!("{}", serde_json::json!({"runs": runs, "images": rows}));
    }
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The median wall time of `runs` calls, after one warm-up call.
fn median(runs: usize, mut work: impl FnMut()) -> Duration {
    work();
    let mut times: Vec<Duration> = (0..runs.max(1))
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed()
        })
        .collect();
    times.sort_unstable();
    times[times.len() / 2]
}

/// An image of `format` just under [`TARGET_BYTES`]: the side is adjusted until it fits.
fn sized_image(format: ImageFormat) -> Result<(Vec<u8>, u32, u32)> {
    let mut side = 2000f64;
    for _ in 0..8 {
        let (width, height) = (side as u32, (side * 0.75) as u32);
        let bytes = encode(format, &picture(width, height))?;
        let ratio = TARGET_BYTES as f64 / bytes.len() as f64;
        if (0.95..1.0).contains(&ratio.recip()) {
            return Ok((bytes, width, height));
        }
        side *= ratio.sqrt() * 0.985;
    }
    bail!("could not size a {format:?} near {TARGET_BYTES} bytes")
}

/// A gradient with noise: compresses like a photograph rather than like a flat fill or static.
fn picture(width: u32, height: u32) -> RgbImage {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state & 0x1F) as u32;
        let base = |v: u32, scale: u32| ((v * 255 / scale.max(1)) + noise).min(255) as u8;
        image::Rgb([base(x, width), base(y, height), base(x + y, width + height)])
    })
}

fn encode(format: ImageFormat, picture: &RgbImage) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    match format {
        ImageFormat::Jpeg => {
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95);
            picture.write_with_encoder(encoder)?;
        }
        other => picture.write_to(&mut Cursor::new(&mut out), other)?,
    }
    Ok(out)
}
