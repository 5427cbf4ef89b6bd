//! Framing: how big a preview's frames are, and how an image is decoded, cropped and scaled to fit.

use image::RgbImage;
use image::imageops::{self, FilterType};

use super::{PreviewError, Resolution};

/// The widest and tallest aspect ratios the service accepts for an image (1:2.5 to 2.5:1).
const ASPECT_LIMITS: (f64, f64) = (1.0 / 2.5, 2.5);

/// The frame size for a resolution and an aspect ratio (width / height).
///
/// The rule (inferred: the service documents only "720P"/"1080P"): the frame holds about as many
/// pixels as 1280×720 (720P) or 1920×1080 (1080P), at the given aspect, both sides even. So 16:9
/// gives exactly 1280×720 or 1920×1080, 9:16 gives 720×1280, and a 1024×640 photo at 1080P gives
/// 1820×1138. Aspects outside 1:2.5–2.5:1 are clamped to it.
///
/// ```
/// use happyhorse_preview::{frame_size, Resolution};
///
/// assert_eq!(frame_size(Resolution::P720, 16.0 / 9.0), (1280, 720));
/// assert_eq!(frame_size(Resolution::P720, 9.0 / 16.0), (720, 1280));
/// assert_eq!(frame_size(Resolution::P1080, 1.0), (1440, 1440));
/// ```
pub fn frame_size(resolution: Resolution, aspect: f64) -> (u32, u32) {
    let aspect = if aspect.is_finite() && aspect > 0.0 {
        aspect.clamp(ASPECT_LIMITS.0, ASPECT_LIMITS.1)
    } else {
        16.0 / 9.0
    };
    let budget = resolution.pixel_budget() as f64;
    let height = round_even((budget / aspect).sqrt());
    let width = round_even(f64::from(height) * aspect);
    (width, height)
}

/// `16:9`, `9:16`, `1:1`, `4:3`, `21:9`, … as width / height; `None` if it is not `W:H` with
/// positive numbers.
///
/// ```
/// use happyhorse_preview::parse_aspect_ratio;
///
/// assert_eq!(parse_aspect_ratio("16:9"), Some(16.0 / 9.0));
/// assert_eq!(parse_aspect_ratio("wide"), None);
/// ```
pub fn parse_aspect_ratio(text: &str) -> Option<f64> {
    let (w, h) = text.trim().split_once(':')?;
    let (w, h): (f64, f64) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    (w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite()).then(|| w / h)
}

fn round_even(x: f64) -> u32 {
    ((x / 2.0).round() as u32).max(1) * 2
}

/// Decodes JPEG, PNG or WEBP bytes (by content) to 8-bit RGB.
pub(crate) fn decode(bytes: &[u8]) -> Result<RgbImage, PreviewError> {
    let image = image::load_from_memory(bytes)
        .map_err(|e| PreviewError::new(format!("the image cannot be decoded: {e}")))?;
    Ok(image.to_rgb8())
}

/// The image scaled to cover `width`×`height` and centre-cropped to it (nothing is stretched).
pub(crate) fn cover(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (iw, ih) = (f64::from(image.width()), f64::from(image.height()));
    let target = f64::from(width) / f64::from(height);
    // The largest centred window of the image with the target aspect.
    let (cw, ch) = if iw / ih > target {
        ((ih * target).round().max(1.0), ih)
    } else {
        (iw, (iw / target).round().max(1.0))
    };
    let (x, y) = (((iw - cw) / 2.0) as u32, ((ih - ch) / 2.0) as u32);
    let window = imageops::crop_imm(image, x, y, cw as u32, ch as u32).to_image();
    if window.dimensions() == (width, height) {
        return window;
    }
    imageops::resize(&window, width, height, FilterType::CatmullRom)
}

/// An input video's size made even (odd sides lose a pixel), or an error for a degenerate one.
pub(crate) fn even_size(width: u32, height: u32) -> Result<(u32, u32), PreviewError> {
    if width < 16 || height < 16 || width > 8192 || height > 8192 {
        return Err(PreviewError::new(format!(
            "a {width}×{height} video cannot be previewed (16 to 8192 pixels per side)"
        )));
    }
    Ok((width & !1, height & !1))
}

/// Video-edit's output duration: the input's, rounded to whole seconds, within 3–15 s.
///
/// ```
/// assert_eq!(happyhorse_preview::edit_seconds(7.4), 7);
/// assert_eq!(happyhorse_preview::edit_seconds(42.0), 15);
/// ```
pub fn edit_seconds(seconds: f64) -> u32 {
    if seconds.is_finite() {
        seconds.round().clamp(3.0, 15.0) as u32
    } else {
        3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_keep_the_pixel_budget_and_the_aspect() {
        for resolution in [Resolution::P720, Resolution::P1080] {
            for aspect in [0.4, 9.0 / 16.0, 0.75, 1.0, 1.6, 16.0 / 9.0, 2.5] {
                let (w, h) = frame_size(resolution, aspect);
                assert!(w % 2 == 0 && h % 2 == 0, "{w}x{h}");
                let budget = resolution.pixel_budget() as f64;
                let pixels = f64::from(w) * f64::from(h);
                assert!((pixels / budget - 1.0).abs() < 0.01, "{w}x{h} for {aspect}");
                assert!((f64::from(w) / f64::from(h) / aspect - 1.0).abs() < 0.01);
            }
        }
        assert_eq!(frame_size(Resolution::P1080, 1.6), (1820, 1138));
        assert_eq!(frame_size(Resolution::P1080, 9.0 / 16.0), (1080, 1920));
        // Out-of-range and nonsense aspects do not make absurd frames.
        assert_eq!(
            frame_size(Resolution::P720, 10.0),
            frame_size(Resolution::P720, 2.5)
        );
        assert_eq!(frame_size(Resolution::P720, f64::NAN), (1280, 720));
    }

    #[test]
    fn aspect_ratios_parse() {
        assert_eq!(parse_aspect_ratio(" 4:3 "), Some(4.0 / 3.0));
        for bad in ["", "16", "16:0", "-1:2", "a:b", "inf:1"] {
            assert_eq!(parse_aspect_ratio(bad), None, "{bad}");
        }
    }

    #[test]
    fn cover_crops_the_centre_without_stretching() {
        // A 400×100 image: left half red, right half blue, a green stripe in the middle.
        let image = RgbImage::from_fn(400, 100, |x, _| match x {
            0..190 => image::Rgb([255, 0, 0]),
            190..210 => image::Rgb([0, 255, 0]),
            _ => image::Rgb([0, 0, 255]),
        });
        let square = cover(&image, 100, 100);
        assert_eq!(square.dimensions(), (100, 100));
        // The centre 100 px of 400: red 150..190, green 190..210, blue 210..250.
        assert_eq!(square.get_pixel(50, 50).0, [0, 255, 0]);
        assert_eq!(square.get_pixel(5, 50).0, [255, 0, 0]);
        assert_eq!(square.get_pixel(95, 50).0, [0, 0, 255]);
    }

    #[test]
    fn edit_outputs_keep_the_input_rules() {
        assert_eq!(edit_seconds(7.4), 7);
        assert_eq!(edit_seconds(1.0), 3);
        assert_eq!(edit_seconds(60.0), 15);
        assert_eq!(edit_seconds(f64::NAN), 3);
        assert_eq!(even_size(1281, 721), Ok((1280, 720)));
        assert!(even_size(8, 720).is_err());
    }

    #[test]
    fn garbage_is_not_an_image() {
        let error = decode(b"not an image").unwrap_err();
        assert!(error.0.contains("cannot be decoded"), "{error}");
    }
}
