//! A tiny anti-aliased rasteriser.
//!
//! Everything is a polygon filled with a flat colour (optionally blended with
//! an alpha). Anti-aliasing comes from supersampling: the canvas draws into a
//! buffer `ss` times larger on each axis and box-filters it down in
//! [`Canvas::finish`]. Coordinates are in "design units" (the scene is laid
//! out on a 1024×640 board) and scaled to the output size.

use std::f32::consts::TAU;

/// An sRGB colour.
pub(crate) type Rgb = [u8; 3];

/// Design-space width every scene is laid out in.
pub(crate) const DESIGN_WIDTH: f32 = 1024.0;

/// A 2-D point in design units.
pub(crate) type Pt = (f32, f32);

/// A supersampled RGB drawing surface.
pub(crate) struct Canvas {
    width: usize,
    height: usize,
    ss: usize,
    /// Design units → supersampled pixels.
    scale: f32,
    px: Vec<Rgb>,
}

impl Canvas {
    /// A `width`×`height` canvas (output pixels), supersampled `ss`×`ss`.
    pub(crate) fn new(width: usize, height: usize, ss: usize) -> Self {
        let scale = width as f32 / DESIGN_WIDTH * ss as f32;
        Self {
            width,
            height,
            ss,
            scale,
            px: vec![[0; 3]; width * height * ss * ss],
        }
    }

    fn hi_w(&self) -> usize {
        self.width * self.ss
    }

    fn hi_h(&self) -> usize {
        self.height * self.ss
    }

    /// Fills every row with `color_at(y)`, `y` in design units (a vertical gradient).
    pub(crate) fn fill_rows(&mut self, color_at: impl Fn(f32) -> Rgb) {
        let w = self.hi_w();
        for (row, line) in self.px.chunks_mut(w).enumerate() {
            line.fill(color_at((row as f32 + 0.5) / self.scale));
        }
    }

    /// Fills a polygon (even-odd rule) with `color` blended at `alpha` (0..=1).
    pub(crate) fn polygon(&mut self, pts: &[Pt], color: Rgb, alpha: f32) {
        if pts.len() < 3 || alpha <= 0.0 {
            return;
        }
        let s = self.scale;
        let pts: Vec<Pt> = pts.iter().map(|&(x, y)| (x * s, y * s)).collect();
        let (min_y, max_y) = pts.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
        let y0 = min_y.floor().max(0.0) as usize;
        let y1 = (max_y.ceil().max(0.0) as usize).min(self.hi_h());
        let w = self.hi_w();
        let mut xs = Vec::new();
        for row in y0..y1 {
            let yc = row as f32 + 0.5;
            xs.clear();
            for (i, &(ax, ay)) in pts.iter().enumerate() {
                let (bx, by) = pts[(i + 1) % pts.len()];
                if (ay <= yc) != (by <= yc) {
                    xs.push(ax + (yc - ay) / (by - ay) * (bx - ax));
                }
            }
            xs.sort_by(f32::total_cmp);
            for span in xs.chunks_exact(2) {
                // Pixel centres x + 0.5 inside [span[0], span[1]).
                let a = (span[0] - 0.5).ceil().clamp(0.0, w as f32) as usize;
                let b = (span[1] - 0.5).ceil().clamp(0.0, w as f32) as usize;
                let line = &mut self.px[row * w..(row + 1) * w];
                if alpha >= 1.0 {
                    line[a..b].fill(color);
                } else {
                    for p in &mut line[a..b] {
                        *p = mix(*p, color, alpha);
                    }
                }
            }
        }
    }

    /// A soft radial glow: `color` at `alpha` in the centre, fading to nothing at radius `r`.
    pub(crate) fn glow(&mut self, c: Pt, r: f32, color: Rgb, alpha: f32) {
        let (cx, cy, rr) = (c.0 * self.scale, c.1 * self.scale, r * self.scale);
        let w = self.hi_w();
        let y0 = (cy - rr).floor().max(0.0) as usize;
        let y1 = ((cy + rr).ceil().max(0.0) as usize).min(self.hi_h());
        for row in y0..y1 {
            let dy = row as f32 + 0.5 - cy;
            let half = (rr * rr - dy * dy).max(0.0).sqrt();
            let x0 = (cx - half).floor().max(0.0) as usize;
            let x1 = ((cx + half).ceil().max(0.0) as usize).min(w);
            for x in x0..x1 {
                let d = (x as f32 + 0.5 - cx).hypot(dy) / rr;
                if d < 1.0 {
                    let p = &mut self.px[row * w + x];
                    *p = mix(*p, color, alpha * (1.0 - d) * (1.0 - d));
                }
            }
        }
    }

    /// An ellipse centred at `c` with radii `rx`, `ry`, rotated by `rot` radians.
    pub(crate) fn ellipse(&mut self, c: Pt, rx: f32, ry: f32, rot: f32, color: Rgb, alpha: f32) {
        self.polygon(&ellipse_pts(c, rx, ry, rot), color, alpha);
    }

    /// A circle.
    pub(crate) fn circle(&mut self, c: Pt, r: f32, color: Rgb, alpha: f32) {
        self.ellipse(c, r, r, 0.0, color, alpha);
    }

    /// A tapered capsule from `a` (width `wa`) to `b` (width `wb`) with round ends:
    /// limbs, tails, tree trunks.
    pub(crate) fn limb(&mut self, a: Pt, b: Pt, wa: f32, wb: f32, color: Rgb) {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = dx.hypot(dy).max(1e-3);
        let (nx, ny) = (-dy / len, dx / len);
        let (ha, hb) = (wa / 2.0, wb / 2.0);
        let quad = [
            (a.0 + nx * ha, a.1 + ny * ha),
            (b.0 + nx * hb, b.1 + ny * hb),
            (b.0 - nx * hb, b.1 - ny * hb),
            (a.0 - nx * ha, a.1 - ny * ha),
        ];
        self.polygon(&quad, color, 1.0);
        self.circle(a, ha, color, 1.0);
        self.circle(b, hb, color, 1.0);
    }

    /// Box-filters the supersampled buffer down to packed 8-bit RGB, row-major.
    pub(crate) fn finish(&self) -> Vec<u8> {
        let (ss, w) = (self.ss, self.hi_w());
        let n = (ss * ss) as u32;
        let mut out = Vec::with_capacity(self.width * self.height * 3);
        for y in 0..self.height {
            for x in 0..self.width {
                let mut acc = [0u32; 3];
                for sy in 0..ss {
                    let row = (y * ss + sy) * w + x * ss;
                    for p in &self.px[row..row + ss] {
                        for (a, &c) in acc.iter_mut().zip(p) {
                            *a += u32::from(c);
                        }
                    }
                }
                out.extend(acc.map(|a| ((a + n / 2) / n) as u8));
            }
        }
        out
    }
}

/// Points around an ellipse; enough segments to look smooth at any size used here.
pub(crate) fn ellipse_pts(c: Pt, rx: f32, ry: f32, rot: f32) -> Vec<Pt> {
    let n = 72;
    let (sin_r, cos_r) = rot.sin_cos();
    (0..n)
        .map(|i| {
            let (s, co) = (i as f32 / n as f32 * TAU).sin_cos();
            let (x, y) = (co * rx, s * ry);
            (c.0 + x * cos_r - y * sin_r, c.1 + x * sin_r + y * cos_r)
        })
        .collect()
}

/// Linear blend of `a` towards `b` by `t` (0..=1).
pub(crate) fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    let t = t.clamp(0.0, 1.0);
    [0, 1, 2].map(|i| (f32::from(a[i]) + (f32::from(b[i]) - f32::from(a[i])) * t).round() as u8)
}

/// A colour from `0xRRGGBB`.
pub(crate) const fn hex(v: u32) -> Rgb {
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}
