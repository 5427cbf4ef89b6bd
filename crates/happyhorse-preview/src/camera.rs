//! The camera move: a slow zoom-in with a drift in one direction, picked by the seed.
//!
//! The move never shows anything outside the first frame: the drift is limited to the margin the
//! zoom has opened, so no edge is ever revealed, and frame 0 is the whole picture, untouched.

/// A camera move over a clip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Camera {
    /// The zoom reached on the last frame (1.05–1.10: "slow cinematic camera drift").
    zoom: f64,
    /// Unit direction of the drift.
    direction: (f64, f64),
    /// How much of the margin opened by the zoom the drift uses (0.4–0.9).
    drift: f64,
}

/// Where the camera looks on one frame, in the frame's own pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct View {
    /// Magnification (1 on the first frame).
    pub(crate) zoom: f64,
    /// The source point shown at the frame's centre.
    pub(crate) center: (f64, f64),
}

impl Camera {
    /// The move for `seed`: the same seed always gives the same move.
    pub(crate) fn from_seed(seed: u64) -> Self {
        // Mixed so that seeds 1 and 2 do not give nearly the same move.
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x9e37_79b9_7f4a_7c15);
        let angle = rng.f64() * std::f64::consts::TAU;
        Self {
            zoom: 1.05 + 0.05 * rng.f64(),
            direction: (angle.cos(), angle.sin()),
            drift: 0.4 + 0.5 * rng.f64(),
        }
    }

    /// The view at `t` (0 = first frame, 1 = last) of a `width`×`height` frame.
    pub(crate) fn at(&self, t: f64, width: u32, height: u32) -> View {
        let eased = smoothstep(t.clamp(0.0, 1.0));
        let zoom = 1.0 + (self.zoom - 1.0) * eased;
        // Half of what the zoom hides on each side, times the share the drift may use.
        let margin = (1.0 - 1.0 / zoom) / 2.0 * self.drift;
        let (w, h) = (f64::from(width), f64::from(height));
        View {
            zoom,
            center: (
                w / 2.0 + self.direction.0 * margin * w,
                h / 2.0 + self.direction.1 * margin * h,
            ),
        }
    }
}

/// Eases in and out: the camera starts and stops gently.
fn smoothstep(t: f64) -> f64 {
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_frame_is_the_whole_picture() {
        let view = Camera::from_seed(5).at(0.0, 1280, 720);
        assert_eq!(
            view,
            View {
                zoom: 1.0,
                center: (640.0, 360.0)
            }
        );
    }

    #[test]
    fn the_move_stays_inside_the_picture_and_follows_the_seed() {
        for seed in 0..50 {
            let camera = Camera::from_seed(seed);
            assert_eq!(camera, Camera::from_seed(seed));
            for step in 0..=24 {
                let view = camera.at(f64::from(step) / 24.0, 1000, 500);
                let (half_w, half_h) = (500.0 / view.zoom, 250.0 / view.zoom);
                assert!(view.center.0 - half_w >= -1e-9 && view.center.0 + half_w <= 1000.0 + 1e-9);
                assert!(view.center.1 - half_h >= -1e-9 && view.center.1 + half_h <= 500.0 + 1e-9);
            }
            let end = camera.at(1.0, 1000, 500);
            assert!((1.05..=1.10).contains(&end.zoom), "{end:?}");
        }
        assert_ne!(Camera::from_seed(1), Camera::from_seed(2));
    }
}
