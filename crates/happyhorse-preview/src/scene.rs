//! What a preview shows, frame by frame: one still under the camera move, or stills
//! cross-fading; each frame is sampled straight into the encoder's YUV 4:2:0 planes.

use std::sync::atomic::{AtomicBool, Ordering};

use image::RgbImage;

use super::camera::{Camera, View};
use super::encode::{Encoder, Yuv420};
use super::{FPS, Preview, PreviewError, PreviewSettings, mux};

/// How long a cross-fade between two references lasts, at most (frames).
const FADE_FRAMES: u32 = 12;

/// The pictures of a preview, all of the frame's size.
#[derive(Debug)]
pub(crate) enum Scene {
    /// One picture under the camera move.
    Still(RgbImage),
    /// Pictures shown in turn under the camera move, each fading into the next.
    CrossFade(Vec<RgbImage>),
}

impl Scene {
    fn stills(&self) -> &[RgbImage] {
        match self {
            Scene::Still(still) => std::slice::from_ref(still),
            Scene::CrossFade(stills) => stills,
        }
    }

    /// Renders, encodes and muxes the whole clip, one frame at a time (memory stays at a few
    /// frames); gives up between two frames once `cancel` is set.
    pub(crate) fn render(
        &self,
        settings: &PreviewSettings,
        cancel: &AtomicBool,
    ) -> Result<Preview, PreviewError> {
        let stills = self.stills();
        let (width, height) = stills[0].dimensions();
        if stills
            .iter()
            .any(|still| still.dimensions() != (width, height))
        {
            return Err(PreviewError::new("the pictures of a scene differ in size"));
        }
        let frames = settings.seconds.max(1) * FPS;
        let camera = Camera::from_seed(settings.seed);
        let mut encoder = Encoder::new(width, height)?;
        let mut yuv = Yuv420::new(width, height);
        let sampler = Sampler::new(width, height);
        for index in 0..frames {
            if cancel.load(Ordering::Relaxed) {
                return Err(PreviewError::new("the preview was cancelled"));
            }
            let t = f64::from(index) / f64::from((frames - 1).max(1));
            let view = camera.at(t, width, height);
            let (a, b, weight) = blend_at(index, frames, stills.len());
            sampler.draw(&stills[a], &stills[b], weight, view, &mut yuv);
            encoder.push(&yuv)?;
        }
        let stream = encoder.finish()?;
        let mp4 = mux::mp4(&stream, width, height)?;
        Ok(Preview {
            mp4,
            width,
            height,
            frames,
        })
    }
}

/// Which two stills frame `index` mixes, and the second one's weight (0–256).
fn blend_at(index: u32, frames: u32, stills: usize) -> (usize, usize, u32) {
    let count = stills as u32;
    if count <= 1 {
        return (0, 0, 0);
    }
    // Each still owns an equal share of the clip; the last `fade` frames of a share fade into
    // the next still.
    let share = frames / count;
    let fade = FADE_FRAMES.min(share / 2).max(1);
    let current = (index / share.max(1)).min(count - 1);
    let into_share = index - current * share;
    if current + 1 < count && into_share + fade >= share {
        let progress = into_share + fade - share + 1;
        let weight = (progress * 256 / (fade + 1)).min(256);
        (current as usize, current as usize + 1, weight)
    } else {
        (current as usize, current as usize, 0)
    }
}

/// Samples a view of the stills into YUV (BT.709, limited range), bilinear, in fixed point.
struct Sampler {
    width: u32,
    height: u32,
}

/// One axis of a view: for each output pixel, the first source pixel and the weight (0–256) of
/// the one after it.
fn axis(len: u32, center: f64, zoom: f64) -> Vec<(u32, u32)> {
    let max = f64::from(len - 1);
    (0..len)
        .map(|i| {
            let source =
                (center + (f64::from(i) + 0.5 - f64::from(len) / 2.0) / zoom - 0.5).clamp(0.0, max);
            let first = source.floor();
            let weight = ((source - first) * 256.0).round() as u32;
            let first = first as u32;
            if weight >= 256 {
                ((first + 1).min(len - 1), 0)
            } else {
                (first, weight)
            }
        })
        .collect()
}

impl Sampler {
    fn new(width: u32, height: u32) -> Self {
        Self { width, height }
    }

    fn draw(&self, a: &RgbImage, b: &RgbImage, mix: u32, view: View, out: &mut Yuv420) {
        let xs = axis(self.width, view.center.0, view.zoom);
        let ys = axis(self.height, view.center.1, view.zoom);
        let (w, h) = (self.width as usize, self.height as usize);
        let cw = w / 2;
        for cy in 0..h / 2 {
            for cx in 0..cw {
                let mut sum = [0u32; 3];
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let (x, y) = (cx * 2 + dx, cy * 2 + dy);
                    let mut rgb = bilinear(a, xs[x], ys[y]);
                    if mix > 0 {
                        let other = bilinear(b, xs[x], ys[y]);
                        for c in 0..3 {
                            rgb[c] = (rgb[c] * (256 - mix) + other[c] * mix) >> 8;
                        }
                    }
                    out.y[y * w + x] = luma(rgb);
                    for c in 0..3 {
                        sum[c] += rgb[c];
                    }
                }
                let (u, v) = chroma([sum[0] / 4, sum[1] / 4, sum[2] / 4]);
                out.u[cy * cw + cx] = u;
                out.v[cy * cw + cx] = v;
            }
        }
    }
}

/// Bilinear sample in 8-bit fixed point; channels come back in 0–255.
fn bilinear(image: &RgbImage, (x0, fx): (u32, u32), (y0, fy): (u32, u32)) -> [u32; 3] {
    let x1 = (x0 + 1).min(image.width() - 1);
    let y1 = (y0 + 1).min(image.height() - 1);
    let p = |x, y| image.get_pixel(x, y).0;
    let (p00, p10, p01, p11) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    let mut out = [0u32; 3];
    for c in 0..3 {
        let top = u32::from(p00[c]) * (256 - fx) + u32::from(p10[c]) * fx;
        let bottom = u32::from(p01[c]) * (256 - fx) + u32::from(p11[c]) * fx;
        out[c] = (top * (256 - fy) + bottom * fy + (1 << 15)) >> 16;
    }
    out
}

/// BT.709 luma, limited range (16–235), from 8-bit RGB.
pub(crate) fn luma([r, g, b]: [u32; 3]) -> u8 {
    // 0.1826, 0.6142, 0.0620 in 1/65536.
    ((11966 * r + 40254 * g + 4064 * b + (16 << 16) + (1 << 15)) >> 16) as u8
}

/// BT.709 Cb and Cr, limited range (16–240), from 8-bit RGB.
fn chroma([r, g, b]: [u32; 3]) -> (u8, u8) {
    let (r, g, b) = (r as i32, g as i32, b as i32);
    // Cb = 128 - 0.1006 R - 0.3386 G + 0.4392 B; Cr = 128 + 0.4392 R - 0.3989 G - 0.0403 B.
    let cb = (-6593 * r - 22189 * g + 28784 * b + (128 << 16) + (1 << 15)) >> 16;
    let cr = (28784 * r - 26145 * g - 2639 * b + (128 << 16) + (1 << 15)) >> 16;
    (cb.clamp(0, 255) as u8, cr.clamp(0, 255) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_convert_like_bt709() {
        assert_eq!(luma([0, 0, 0]), 16);
        assert_eq!(luma([255, 255, 255]), 235);
        assert_eq!(chroma([128, 128, 128]), (128, 128));
        let (cb, cr) = chroma([255, 0, 0]);
        assert!(
            (cb as i32 - 102).abs() <= 1 && (cr as i32 - 240).abs() <= 1,
            "{cb} {cr}"
        );
    }

    #[test]
    fn an_unzoomed_view_samples_every_pixel_exactly() {
        let xs = axis(10, 5.0, 1.0);
        assert_eq!(xs, (0..10).map(|i| (i, 0)).collect::<Vec<_>>());
        // Zoomed in 2×: the middle half of the source, between pixels.
        let xs = axis(8, 4.0, 2.0);
        assert_eq!(xs[0], (1, 192));
        assert_eq!(xs[7], (5, 64));
    }

    #[test]
    fn references_share_the_clip_and_fade_into_each_other() {
        let frames = 72;
        let plan: Vec<_> = (0..frames).map(|i| blend_at(i, frames, 3)).collect();
        assert_eq!(plan[0], (0, 0, 0));
        assert_eq!(plan[71], (2, 2, 0));
        // Each fade rises strictly from one still to the next.
        let fade: Vec<_> = plan.iter().filter(|(a, b, _)| a != b).collect();
        assert_eq!(fade.len(), 2 * FADE_FRAMES as usize);
        assert!(
            fade[..12]
                .windows(2)
                .all(|w| w[0].2 < w[1].2 && w[0].0 == 0)
        );
        assert_eq!(blend_at(5, 72, 1), (0, 0, 0));
    }
}
