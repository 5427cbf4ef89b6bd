//! The fixture scene: a chestnut horse galloping through a summer meadow.
//!
//! Laid out on a 1024×640 design board (see [`super::raster`]). `draw(c, 0.0)`
//! is the still photo; the video advances `t` so the horse gallops while the
//! camera pans along with it (parallax layers) and the clouds drift.

use super::raster::{Canvas, Pt, Rgb, hex, mix};
use std::f32::consts::{PI, TAU};

/// Seconds per gallop stride.
const STRIDE: f32 = 0.5;
/// Camera travel in design units per second (foreground layer).
const PAN_SPEED: f32 = 150.0;

/// Draws the whole scene at time `t` seconds.
pub(crate) fn draw(c: &mut Canvas, t: f32) {
    let pan = PAN_SPEED * t;
    sky(c);
    clouds(c, 14.0 * t + 0.08 * pan);
    ridge(
        c,
        hex(0xa7b8d8),
        |x| 372.0 - 48.0 * (0.0055 * x + 1.1).sin() - 22.0 * (0.017 * x + 0.4).sin(),
        0.05 * pan,
    );
    ridge(
        c,
        hex(0x9cc878),
        |x| 418.0 - 16.0 * (0.009 * x + 2.0).sin() - 8.0 * (0.023 * x).sin(),
        0.15 * pan,
    );
    let mid = |x: f32| 452.0 - 20.0 * (0.007 * x + 0.5).sin() - 9.0 * (0.019 * x + 1.3).sin();
    ridge(c, hex(0x74b257), mid, 0.3 * pan);
    trees(c, mid, 0.3 * pan);
    ridge(
        c,
        hex(0x8ccb62),
        |x| 512.0 - 10.0 * (0.005 * x + 1.0).sin() - 5.0 * (0.013 * x).sin(),
        pan,
    );
    meadow(c, pan);
    horse(c, t);
}

fn sky(c: &mut Canvas) {
    let (top, horizon) = (hex(0x4a8fdc), hex(0xffe4ba));
    c.fill_rows(|y| mix(top, horizon, (y / 420.0).powf(1.3)));
    let sun = (820.0, 140.0);
    c.glow(sun, 230.0, hex(0xfff6d8), 0.75);
    c.circle(sun, 50.0, hex(0xfffaea), 1.0);
}

fn clouds(c: &mut Canvas, drift: f32) {
    for (x0, y, s) in [
        (120.0, 100.0, 1.0),
        (440.0, 62.0, 0.65),
        (610.0, 215.0, 0.8),
        (1010.0, 250.0, 0.7),
    ] {
        let x = (x0 - drift).rem_euclid(1350.0) - 160.0;
        for (dx, dy, r) in [
            (0.0, 0.0, 38.0),
            (48.0, -18.0, 50.0),
            (100.0, -2.0, 40.0),
            (138.0, 10.0, 26.0),
        ] {
            c.circle((x + dx * s, y + dy * s), r * s, hex(0xffffff), 1.0);
        }
        c.ellipse(
            (x + 65.0 * s, y + 16.0 * s),
            100.0 * s,
            22.0 * s,
            0.0,
            hex(0xffffff),
            1.0,
        );
    }
}

/// A layer of land whose top edge is `top(x)`, scrolled by `offset`.
fn ridge(c: &mut Canvas, color: Rgb, top: impl Fn(f32) -> f32, offset: f32) {
    let mut pts: Vec<Pt> = (-1..=129)
        .map(|i| i as f32 * 8.0)
        .map(|x| (x, top(x + offset)))
        .collect();
    pts.extend([(1040.0, 660.0), (-8.0, 660.0)]);
    c.polygon(&pts, color, 1.0);
}

fn trees(c: &mut Canvas, ground: impl Fn(f32) -> f32, offset: f32) {
    for (x0, s) in [
        (110.0, 1.0),
        (520.0, 0.8),
        (585.0, 0.6),
        (900.0, 0.9),
        (1250.0, 0.75),
    ] {
        let x = (x0 - offset).rem_euclid(1500.0) - 120.0;
        let base = ground(x + offset) + 6.0;
        c.limb(
            (x, base),
            (x, base - 40.0 * s),
            9.0 * s,
            7.0 * s,
            hex(0x6b4a2b),
        );
        for (dx, dy, r, col) in [
            (0.0, -58.0, 28.0, 0x3f7f3a),
            (-19.0, -44.0, 20.0, 0x3f7f3a),
            (19.0, -46.0, 22.0, 0x3f7f3a),
        ] {
            c.circle((x + dx * s, base + dy * s), r * s, hex(col), 1.0);
        }
        c.circle((x - 8.0 * s, base - 66.0 * s), 13.0 * s, hex(0x5a9e45), 0.8);
    }
}

/// Grass tufts and flowers on the foreground meadow (deterministic LCG).
fn meadow(c: &mut Canvas, offset: f32) {
    let mut seed = 0x2545_f491_u32;
    let mut rand = move || {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (seed >> 8) as f32 / (1u32 << 24) as f32
    };
    const PERIOD: f32 = 1400.0;
    for i in 0..110 {
        let (x0, depth) = (rand() * PERIOD, rand());
        let y = 535.0 + depth * 100.0;
        let s = 0.6 + depth * 0.8;
        let x = (x0 - offset).rem_euclid(PERIOD) - 100.0;
        if i % 2 == 0 {
            let tuft = [
                (x - 7.0 * s, y),
                (x - 4.0 * s, y - 14.0 * s),
                (x, y - 3.0 * s),
                (x + 3.0 * s, y - 17.0 * s),
                (x + 7.0 * s, y),
            ];
            c.polygon(&tuft, hex(0x6aa848), 1.0);
        } else {
            let petals = [0xffffff, 0xffd84a, 0xf59ac0, 0xc9a8f0][(rand() * 4.0) as usize % 4];
            c.circle((x, y), 4.5 * s, hex(petals), 1.0);
            c.circle((x, y), 1.8 * s, hex(0xe8a020), 1.0);
        }
    }
}

/// Maps horse-local coordinates (body centre at the origin, facing +x) to the board.
struct Xf {
    o: Pt,
    s: f32,
    rot: f32,
}

impl Xf {
    fn p(&self, (x, y): Pt) -> Pt {
        let (sin, cos) = self.rot.sin_cos();
        (
            self.o.0 + self.s * (x * cos - y * sin),
            self.o.1 + self.s * (x * sin + y * cos),
        )
    }

    fn poly(&self, c: &mut Canvas, pts: &[Pt], color: Rgb) {
        let pts: Vec<Pt> = pts.iter().map(|&q| self.p(q)).collect();
        c.polygon(&pts, color, 1.0);
    }

    fn ellipse(&self, c: &mut Canvas, at: Pt, rx: f32, ry: f32, rot: f32, color: Rgb) {
        c.ellipse(
            self.p(at),
            rx * self.s,
            ry * self.s,
            rot + self.rot,
            color,
            1.0,
        );
    }

    fn limb(&self, c: &mut Canvas, a: Pt, b: Pt, wa: f32, wb: f32, color: Rgb) {
        c.limb(self.p(a), self.p(b), wa * self.s, wb * self.s, color);
    }
}

const COAT: u32 = 0xa3622f;
const COAT_FAR: u32 = 0x7c4622;
const MANE: u32 = 0x3a2416;
const HOOF: u32 = 0x2e241e;
const SOCK: u32 = 0xf4ede2;

/// One leg, attached at `top`; `phase` is its offset in the gallop cycle.
struct Leg {
    top: Pt,
    phase: f32,
    front: bool,
    far: bool,
    sock: bool,
}

fn horse(c: &mut Canvas, t: f32) {
    let p = TAU * t / STRIDE;
    let x = Xf {
        o: (480.0 + 24.0 * t, 408.0 - 7.0 * p.cos()),
        s: 0.95,
        rot: 0.035 * p.sin(),
    };
    // Shadow on the grass, smaller while the horse is higher in the air.
    let lift = 0.5 - 0.5 * p.cos();
    c.ellipse(
        (x.o.0 - 5.0, 588.0),
        200.0 - 14.0 * lift,
        16.0,
        0.0,
        hex(0x2c5a26),
        0.28,
    );

    let legs = [
        Leg {
            top: (-80.0, 18.0),
            phase: 0.0,
            front: false,
            far: true,
            sock: false,
        },
        Leg {
            top: (80.0, 22.0),
            phase: 0.42,
            front: true,
            far: true,
            sock: false,
        },
        Leg {
            top: (-100.0, 16.0),
            phase: 0.1,
            front: false,
            far: false,
            sock: true,
        },
        Leg {
            top: (104.0, 22.0),
            phase: 0.55,
            front: true,
            far: false,
            sock: true,
        },
    ];
    for leg in legs.iter().filter(|l| l.far) {
        draw_leg(c, &x, leg, p);
    }
    tail(c, &x, p);
    // Barrel, rump, chest, neck and a sheen along the back.
    let coat = hex(COAT);
    x.ellipse(c, (0.0, 0.0), 125.0, 58.0, 0.0, coat);
    x.ellipse(c, (-98.0, -4.0), 64.0, 60.0, 0.0, coat);
    x.ellipse(c, (96.0, 4.0), 58.0, 54.0, 0.0, coat);
    x.poly(
        c,
        &[
            (42.0, -44.0),
            (128.0, -150.0),
            (176.0, -116.0),
            (146.0, 30.0),
        ],
        coat,
    );
    x.ellipse(
        c,
        (-25.0, -32.0),
        105.0,
        18.0,
        0.0,
        mix(coat, hex(0xbb7a43), 0.55),
    );
    head(c, &x, coat);
    mane(c, &x, p);
    for leg in legs.iter().filter(|l| !l.far) {
        draw_leg(c, &x, leg, p);
    }
}

fn draw_leg(c: &mut Canvas, x: &Xf, leg: &Leg, p: f32) {
    let q = p + TAU * leg.phase;
    // Angles from vertical, + is forward. Knees fold the lower leg back,
    // hocks fold it forward; legs bend while swinging forward.
    let (upper, lower) = if leg.front {
        let swing = 0.08 + 0.42 * q.sin();
        (swing, swing - 1.3 * q.cos().max(0.0))
    } else {
        let swing = -0.3 + 0.42 * q.sin();
        (swing, swing + 0.3 + 0.9 * q.cos().max(0.0))
    };
    let knee = (
        leg.top.0 + 85.0 * upper.sin(),
        leg.top.1 + 85.0 * upper.cos(),
    );
    let foot = (knee.0 + 72.0 * lower.sin(), knee.1 + 72.0 * lower.cos());
    let coat = hex(if leg.far { COAT_FAR } else { COAT });
    let thigh = if leg.front { 38.0 } else { 46.0 };
    x.limb(c, leg.top, knee, thigh, 20.0, coat);
    x.limb(c, knee, foot, 18.0, 14.0, coat);
    if leg.sock {
        let mid = ((knee.0 + 2.0 * foot.0) / 3.0, (knee.1 + 2.0 * foot.1) / 3.0);
        let sock = mix(hex(SOCK), coat, if leg.far { 0.3 } else { 0.0 });
        x.limb(c, mid, foot, 15.0, 15.5, sock);
    }
    // Hoof: a short wedge continuing the lower leg.
    let (sn, cs) = lower.sin_cos();
    let along = |d: f32, side: f32| (foot.0 + d * sn + side * cs, foot.1 + d * cs - side * sn);
    x.poly(
        c,
        &[
            along(3.0, -8.0),
            along(3.0, 8.0),
            along(16.0, 11.0),
            along(16.0, -9.0),
        ],
        hex(HOOF),
    );
}

/// Head pointing down and forward from the poll; `u` runs along it, `v` towards the jaw.
fn head(c: &mut Canvas, x: &Xf, coat: Rgb) {
    let poll = (132.0, -152.0);
    let angle: f32 = 0.8;
    let (sn, cs) = angle.sin_cos();
    let hp = |u: f32, v: f32| {
        let (u, v) = (u * 1.15, v * 1.15);
        (poll.0 + u * cs - v * sn, poll.1 + u * sn + v * cs)
    };
    // Far ear, head, near ear.
    x.poly(
        c,
        &[(120.0, -146.0), (118.0, -186.0), (136.0, -152.0)],
        hex(COAT_FAR),
    );
    let outline = [
        (0.0, -14.0),
        (40.0, -20.0),
        (85.0, -17.0),
        (112.0, -12.0),
        (124.0, 0.0),
        (120.0, 14.0),
    ];
    let under = [
        (104.0, 20.0),
        (80.0, 16.0),
        (56.0, 24.0),
        (34.0, 40.0),
        (10.0, 38.0),
        (-8.0, 20.0),
    ];
    let pts: Vec<Pt> = outline
        .iter()
        .chain(&under)
        .map(|&(u, v)| hp(u, v))
        .collect();
    x.poly(c, &pts, coat);
    x.ellipse(c, hp(24.0, 18.0), 30.0, 26.0, angle, coat);
    x.ellipse(c, hp(106.0, 2.0), 23.0, 19.5, angle, hex(0x8a4f27));
    x.poly(
        c,
        &[(128.0, -150.0), (136.0, -194.0), (150.0, -150.0)],
        coat,
    );
    x.poly(
        c,
        &[(134.0, -154.0), (137.0, -182.0), (144.0, -154.0)],
        hex(0x6e3d1e),
    );
    // White blaze down the face, eye with a highlight, nostril.
    x.ellipse(c, hp(70.0, -8.0), 46.0, 7.0, angle - 0.03, hex(SOCK));
    x.ellipse(c, hp(34.0, -6.0), 7.0, 6.0, angle, hex(0x1c120c));
    x.ellipse(c, hp(33.0, -8.0), 2.2, 2.2, 0.0, hex(0xffffff));
    x.ellipse(c, hp(112.0, 3.0), 7.0, 4.0, angle + 0.6, hex(0x3a2216));
}

/// Mane strands along the top of the neck, fluttering with the stride.
fn mane(c: &mut Canvas, x: &Xf, p: f32) {
    let (a, b): (Pt, Pt) = ((34.0, -40.0), (128.0, -158.0));
    let n = 8;
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len = dx.hypot(dy);
    let (nx, ny) = (dy / len, -dx / len); // normal pointing up and back
    let along = |k: f32, out: f32| (a.0 + dx * k + nx * out, a.1 + dy * k + ny * out);
    let mut pts: Vec<Pt> = vec![along(0.0, -10.0), along(1.0, -10.0)];
    for i in (0..=2 * n).rev() {
        let k = i as f32 / (2 * n) as f32;
        let out = if i % 2 == 0 {
            24.0 + 5.0 * (p + k * 5.0).sin()
        } else {
            9.0
        };
        pts.push(along(k, out));
    }
    x.poly(c, &pts, hex(MANE));
    // Forelock over the forehead.
    x.poly(
        c,
        &[(126.0, -158.0), (162.0, -142.0), (140.0, -134.0)],
        hex(MANE),
    );
}

/// A tail streaming back, built from tapering segments along a swaying curve.
fn tail(c: &mut Canvas, x: &Xf, p: f32) {
    let root = (-150.0, -40.0);
    let ctrl = (-212.0, -48.0 + 10.0 * p.sin());
    let tip = (-240.0 + 8.0 * p.cos(), 50.0 + 12.0 * (p + PI / 3.0).sin());
    let at = |k: f32| {
        let (u, v) = ((1.0 - k) * (1.0 - k), 2.0 * k * (1.0 - k));
        (
            u * root.0 + v * ctrl.0 + k * k * tip.0,
            u * root.1 + v * ctrl.1 + k * k * tip.1,
        )
    };
    let n = 8;
    let width = |k: f32| 26.0 + 22.0 * (PI * k).sin() - 18.0 * k;
    for i in 0..n {
        let (k0, k1) = (i as f32 / n as f32, (i + 1) as f32 / n as f32);
        x.limb(c, at(k0), at(k1), width(k0), width(k1), hex(MANE));
    }
}
