//! The kernels' affine sampler (`pixmix_affine` in kernels/pixel_ops.cuh), compiled for
//! the host: its exact path, which emulates Pillow's double arithmetic with integers, and its
//! fast path, 64-bit fixed point with error bounds that decides only where the bounds allow
//! and leaves the rest to the exact path. Against the hardware's doubles and the CPU's rows
//! (`pixmix::ops`, exact to Pillow), in a release build in about fifteen seconds:
//!
//! - the soft double product and sum against f64, bit for bit (2 x 3,000,000 pairs);
//! - the fixed-point interpolation against Pillow's double formula (4,000,000 pixels of
//!   three channels; in a third of them a + (b - a) * dx, in another third the last step,
//!   lands within ulps of a whole number);
//! - the input points and weights against Pillow's doubles (4,000,000 points: on or an ulp
//!   beside 0, 0.25, 0.5, half-integers and the size; images up to i32::MAX a side);
//! - whole images and chosen rows against `PreparedOp::Affine` rows, by the sampler, by the
//!   exact path alone and by the fast path wherever it decides: every rotation by whole
//!   degrees in -360..=360, a sweep of fractional angles, shears and translations over the
//!   released ranges and beyond, random matrices with tiny, subnormal, huge, negative and
//!   zero coefficients, points on 0, the size, half-integers or ulps beside them, image sizes
//!   1 to 300, square or not: 13,446,585 pixels, counted and required to be at least 10
//!   million;
//! - the fast path's bounds against Pillow's doubles: its coordinates (4,000,000, images up
//!   to 4096 a side, entries whose truncation to fixed point loses the most) and weights,
//!   its interpolation with weights off by their whole bounds (4,000,000);
//! - its decisions placed exactly on their margins (decided) and one unit beyond (declined),
//!   constructed for each kind and found by bisection on photographs and noise;
//! - how often it declines under the released operators (none of 8.8 million pixels).

mod common;

use common::make_image;
use pixmix::kernels::{
    AffinePath, host_affine, host_affine_fast_point, host_affine_point, host_affine_with,
    host_bilinear, host_dadd, host_dmul, host_fast_lerp,
};
use pixmix::ops::{PreparedOp, geometry};
use pixmix::resize::{View, resize_bilinear};
use pixmix::{Operator, RgbImage};
use std::sync::atomic::{AtomicU64, Ordering};

/// Pixels of [`compare_rows`] the fast path declined.
static DECLINED: AtomicU64 = AtomicU64::new(0);

/// splitmix64: a fixed stream of test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in [lo, hi).
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// A finite double from one of several families: any bits, subnormals, values near
    /// the overflow threshold, sparse significands (which round on ties), small whole
    /// numbers and halves (pixel coordinates).
    fn double(&mut self) -> f64 {
        let r = self.next();
        let sign = r & (1 << 63);
        let v = match self.below(7) {
            0 => r & !(1 << 63),
            // Subnormal or just above.
            1 => r >> (12 + self.below(4)),
            // Near the overflow threshold.
            2 => (0x7fe0_0000_0000_0000 - (self.below(8) << 52)) | (r & ((1 << 52) - 1)),
            // A few significand bits, any moderate exponent.
            3 => {
                let mut m = 0u64;
                for _ in 0..1 + self.below(4) {
                    m |= 1 << self.below(52);
                }
                ((1023 - 60 + self.below(120)) << 52) | m
            }
            4 => (self.below(1 << 20) as f64 * 0.5).to_bits(),
            // Exponents around one (coordinates and matrix entries).
            5 => ((1023 - 30 + self.below(60)) << 52) | (r & ((1 << 52) - 1)),
            _ => [0.0f64, 1.0, 0.5, f64::MIN_POSITIVE, 5e-324, f64::MAX][self.below(6) as usize]
                .to_bits(),
        };
        let v = v & !(1 << 63);
        // A finite magnitude: NaN and infinity bit patterns fold back.
        let v = if v >= 0x7ff0_0000_0000_0000 {
            v - (1 << 62)
        } else {
            v
        };
        f64::from_bits(v | sign)
    }
}

/// The emulated operation against the hardware's: the same bits for finite results, the
/// same infinity on overflow.
fn check_op(name: &str, got: f64, want: f64, a: f64, b: f64) {
    assert!(
        got.to_bits() == want.to_bits(),
        "{name}({a:e} [{:#x}], {b:e} [{:#x}]): emulated {got:e} [{:#x}], IEEE {want:e} [{:#x}]",
        a.to_bits(),
        b.to_bits(),
        got.to_bits(),
        want.to_bits()
    );
}

#[test]
fn soft_doubles_equal_the_hardware() {
    let mut rng = Rng(1);
    for i in 0..3_000_000 {
        let a = rng.double();
        // Every third sum nearly cancels: b close to -a, the hardest alignment.
        let b = match i % 3 {
            0 => {
                let mag = (a.to_bits() & !(1 << 63)) as i64 + rng.below(8) as i64 - 4;
                let mag = mag.clamp(0, f64::MAX.to_bits() as i64) as u64;
                f64::from_bits(mag | (!a.to_bits() & (1 << 63)))
            }
            1 => Some(a * rng.uniform(-2.0, 2.0))
                .filter(|b| b.is_finite())
                .unwrap_or(a),
            _ => rng.double(),
        };
        check_op("mul", host_dmul(a, b), a * b, a, b);
        check_op("add", host_dadd(a, b), a + b, a, b);
    }
    for a in [0.0, -0.0, 1.0, -1.0, 5e-324, -5e-324, f64::MAX, f64::MIN] {
        for b in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            5e-324,
            -5e-324,
            f64::MAX,
            f64::MIN,
            0.5,
        ] {
            check_op("mul", host_dmul(a, b), a * b, a, b);
            check_op("add", host_dadd(a, b), a + b, a, b);
        }
    }
    // Non-finite operands give a NaN: callers only need to know the result is not finite.
    for a in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
        for b in [0.0, 1.0, f64::INFINITY, -2.5] {
            assert!(host_dmul(a, b).is_nan() && host_dmul(b, a).is_nan());
            assert!(host_dadd(a, b).is_nan() && host_dadd(b, a).is_nan());
        }
    }
}

/// Pillow's bilinear interpolation in double (Geometry.c), as `src/ops/affine.rs`.
fn pillow_bilinear([a, b, a2, b2]: [u8; 4], dx: f64, dy: f64) -> u8 {
    let lerp = |a: u8, b: u8| a as f64 + (b as f64 - a as f64) * dx;
    let v1 = lerp(a, b);
    if dy == 0.0 {
        return v1 as u8;
    }
    (v1 + (lerp(a2, b2) - v1) * dy) as u8
}

const ONE: u64 = 1 << 53;

/// A weight near `target` in [0, 1], on the 2^-53 grid, a few ulps off.
fn weight_near(rng: &mut Rng, target: f64) -> u64 {
    let w = (target * ONE as f64).round() as i64 + rng.below(9) as i64 - 4;
    w.clamp(0, ONE as i64) as u64
}

#[test]
fn interpolation_equals_pillows_doubles() {
    let mut rng = Rng(2);
    let specials = [
        0,
        1,
        2,
        ONE / 2,
        ONE / 2 + 1,
        ONE - 1,
        ONE - 2,
        ONE,
        ONE / 3,
    ];
    let mut n = 0u64;
    for i in 0..4_000_000u64 {
        let c = rng.next().to_le_bytes();
        let corners = [c[0], c[1], c[2], c[3]];
        // A weight anywhere on the grid, or a special one.
        let any = |rng: &mut Rng| match rng.below(4) {
            0 => specials[rng.below(specials.len() as u64) as usize],
            _ => rng.below(ONE + 1),
        };
        let (dx, dy) = match i % 3 {
            0 => (any(&mut rng), any(&mut rng)),
            // a + (b - a) * dx within ulps of a whole number.
            1 => {
                let (a, b) = (corners[0] as f64, corners[1] as f64);
                let k = rng.uniform(a.min(b), a.max(b) + 1.0).floor();
                let dx = weight_near(&mut rng, if a == b { 0.5 } else { (k - a) / (b - a) });
                (dx, any(&mut rng))
            }
            // The last step within ulps of a whole number.
            _ => {
                let dx = any(&mut rng);
                let d = dx as f64 / ONE as f64;
                let v1 = corners[0] as f64 + (corners[1] as f64 - corners[0] as f64) * d;
                let v2 = corners[2] as f64 + (corners[3] as f64 - corners[2] as f64) * d;
                let k = rng.uniform(v1.min(v2), v1.max(v2) + 1.0).floor();
                let t = if v1 == v2 { 0.5 } else { (k - v1) / (v2 - v1) };
                (dx, weight_near(&mut rng, t.clamp(0.0, 1.0)))
            }
        };
        // The first channel as chosen, the others at random.
        let mut pixels = [[0u8; 3]; 4];
        let more = rng.next().to_le_bytes();
        for (k, p) in pixels.iter_mut().enumerate() {
            *p = [corners[k], more[2 * k], more[2 * k + 1]];
        }
        let want = [0, 1, 2].map(|c| {
            let corners = pixels.map(|p| p[c]);
            pillow_bilinear(corners, dx as f64 / ONE as f64, dy as f64 / ONE as f64)
        });
        assert_eq!(
            host_bilinear(pixels, dx, dy),
            want,
            "pixels {pixels:?}, dx {dx} / 2^53, dy {dy} / 2^53"
        );
        n += 1;
    }
    assert_eq!(n, 4_000_000);
}

/// Where Pillow samples for output pixel (x, y) (Geometry.c, as `src/ops/affine.rs`):
/// `None` outside, else the whole pixels and the weights in units of 2^-53, which must be
/// whole numbers in 0..=2^53 (the claim the kernels' fixed point rests on).
fn pillow_point(w: i32, h: i32, m: &[f64; 6], x: i32, y: i32) -> Option<([i64; 2], [u64; 2])> {
    let (xc, yc) = (x as f64 + 0.5, y as f64 + 0.5);
    let xin = m[0] * xc + m[1] * yc + m[2];
    let yin = m[3] * xc + m[4] * yc + m[5];
    if !(xin >= 0.0 && xin < w as f64 && yin >= 0.0 && yin < h as f64) {
        return None;
    }
    let split = |c: f64| {
        let s = c - 0.5;
        let whole = if s < 0.0 { -1 } else { s as i64 };
        let weight = (s - whole as f64) * ONE as f64;
        assert!(
            weight.fract() == 0.0 && (0.0..=ONE as f64).contains(&weight),
            "coordinate {c:e} ({:#x}): weight {weight} / 2^53",
            c.to_bits()
        );
        (whole, weight as u64)
    };
    let ((ix, dx), (iy, dy)) = (split(xin), split(yin));
    Some(([ix, iy], [dx, dy]))
}

/// A coordinate on or beside a value where sampling changes: 0, 0.25, 0.5, 1, whole and
/// half pixels, the size; or anywhere below the size, fine bits included.
fn coordinate(rng: &mut Rng, size: i32) -> f64 {
    let size = size as f64;
    let t = match rng.below(8) {
        0 => 0.0,
        1 => [0.25, 0.5, 1.0, 0.75, 1.5][rng.below(5) as usize],
        2 => size,
        3 => (rng.uniform(0.0, size) * 2.0).floor() * 0.5,
        // Below 0.5 with bits far below 2^-53: c - 0.5 rounds, then c - 0.5 + 1 again.
        4 => rng.uniform(0.0, 0.5) * [1.0, 1e-3, 1e-17, 1e-300][rng.below(4) as usize],
        5 => f64::from_bits(rng.below(1 << 52)),
        _ => rng.uniform(0.0, size),
    };
    match rng.below(3) {
        0 => t,
        1 => f64::from_bits(t.to_bits() + rng.below(4)),
        _ if t > 0.0 => f64::from_bits(t.to_bits() - 1 - rng.below(3)),
        _ => -f64::from_bits(rng.below(3)),
    }
}

/// Image sizes: small, up to the imagenet side, or anything an i32 holds.
fn side(rng: &mut Rng) -> i32 {
    match rng.below(3) {
        0 => 1 + rng.below(40) as i32,
        1 => 1 + rng.below(300) as i32,
        _ => 1 + rng.below(i32::MAX as u64) as i32,
    }
}

#[test]
fn sample_points_equal_pillows_doubles() {
    let mut rng = Rng(4);
    let mut n = 0u64;
    for i in 0..4_000_000u64 {
        let (w, h) = (side(&mut rng), side(&mut rng));
        let (x, y) = (rng.below(w as u64) as i32, rng.below(h as u64) as i32);
        let m = match i % 4 {
            // Every output pixel lands on the chosen point (0 * xc is exactly 0).
            0 => {
                let zero = [0.0, -0.0][rng.below(2) as usize];
                [
                    zero,
                    zero,
                    coordinate(&mut rng, w),
                    zero,
                    zero,
                    coordinate(&mut rng, h),
                ]
            }
            // A slight slope: the chosen point plus a tiny product, rounded.
            1 => {
                let tiny =
                    |rng: &mut Rng| rng.uniform(-1.0, 1.0) * 2f64.powi(-(rng.below(70) as i32));
                [
                    tiny(&mut rng),
                    tiny(&mut rng),
                    coordinate(&mut rng, w),
                    tiny(&mut rng),
                    tiny(&mut rng),
                    coordinate(&mut rng, h),
                ]
            }
            // Onto the chosen point from (x, y) through a whole-pixel-friendly scale.
            2 => {
                let (sx, sy) = (
                    [1.0, -0.5, 2.0, 0.75][rng.below(4) as usize],
                    [1.0, 0.25, -1.0, 3.0][rng.below(4) as usize],
                );
                let (tx, ty) = (coordinate(&mut rng, w), coordinate(&mut rng, h));
                [
                    sx,
                    0.0,
                    tx - sx * (x as f64 + 0.5),
                    0.0,
                    sy,
                    ty - sy * (y as f64 + 0.5),
                ]
            }
            _ => {
                let size = w.max(h) as f64;
                [
                    entry(&mut rng, 1.0),
                    entry(&mut rng, 1.0),
                    entry(&mut rng, size),
                    entry(&mut rng, 1.0),
                    entry(&mut rng, 1.0),
                    entry(&mut rng, size),
                ]
            }
        };
        assert_eq!(
            host_affine_point(w, h, &m, x, y),
            pillow_point(w, h, &m, x, y),
            "{w}x{h}, m = {m:?} ({:x?}), pixel ({x}, {y})",
            m.map(f64::to_bits)
        );
        n += 1;
    }
    assert_eq!(n, 4_000_000);
}

/// Compares rows `ys` of the kernel's sampling of `m` with the CPU's; returns the pixels
/// compared.
fn compare_rows(img: &RgbImage, m: &[f64; 6], ys: impl Iterator<Item = usize>, what: &str) -> u64 {
    let (w, h) = (img.width(), img.height());
    let op = PreparedOp::Affine(*m);
    let mut row = vec![0u8; w * 3];
    let mut n = 0;
    for y in ys {
        op.row(img, y, &mut row);
        for x in 0..w {
            let want = &row[x * 3..x * 3 + 3];
            let got = host_affine(img, m, x, y);
            let exact = host_affine_with(AffinePath::Exact, img, m, x, y).unwrap();
            let fast = host_affine_with(AffinePath::Fast, img, m, x, y);
            if got[..] != *want || exact[..] != *want || fast.is_some_and(|f| f[..] != *want) {
                panic!(
                    "{what}: {w}x{h}, m = {m:?} ({:x?}), pixel ({x}, {y}): kernel {got:?}, \
                     exact path {exact:?}, fast path {fast:?}, cpu {want:?}",
                    m.map(f64::to_bits),
                );
            }
            if fast.is_none() {
                DECLINED.fetch_add(1, Ordering::Relaxed);
            }
            n += 1;
        }
    }
    let _ = h;
    n
}

fn compare_image(img: &RgbImage, m: &[f64; 6], what: &str) -> u64 {
    compare_rows(img, m, 0..img.height(), what)
}

const KINDS: [&str; 5] = ["noise", "smooth", "levels", "flat", "mixed"];

fn image(rng: &mut Rng, w: usize, h: usize) -> RgbImage {
    // Mostly noise, which has every difference between neighbours.
    let kind = if rng.below(2) == 0 {
        "noise"
    } else {
        KINDS[rng.below(KINDS.len() as u64) as usize]
    };
    make_image(kind, rng.next(), w, h)
}

/// The matrix of a geometric operator, if it resamples.
fn matrix(op: Operator, param: f64, w: usize, h: usize) -> Option<[f64; 6]> {
    match geometry(op, param, w, h) {
        PreparedOp::Affine(m) => Some(m),
        _ => None,
    }
}

/// The released operators' matrices: rotations, shears and translations.
fn operators(rng: &mut Rng) -> u64 {
    let mut n = 0;
    let (cifar, imagenet) = (image(rng, 32, 32), image(rng, 224, 224));
    // Whole degrees, both signs: the released code draws -29..=29; all of -360..=360.
    for deg in -360..=360 {
        if let Some(m) = matrix(Operator::Rotate, deg as f64, 32, 32) {
            n += compare_image(&cifar, &m, &format!("rotate {deg}"));
        }
    }
    for deg in -30..=30 {
        if let Some(m) = matrix(Operator::Rotate, deg as f64, 224, 224) {
            n += compare_image(&imagenet, &m, &format!("rotate {deg}"));
        }
    }
    // Fractional angles on images of any shape.
    for i in 0..160 {
        let (w, h) = (1 + rng.below(300) as usize, 1 + rng.below(300) as usize);
        let deg = match i % 4 {
            0 => rng.uniform(-30.0, 30.0),
            1 => rng.uniform(-360.0, 360.0),
            2 => (rng.below(1440) as f64 - 720.0) * 0.5,
            _ => rng.below(8) as f64 * 90.0 + rng.uniform(-1e-6, 1e-6),
        };
        if let Some(m) = matrix(Operator::Rotate, deg, w, h) {
            n += compare_image(&image(rng, w, h), &m, &format!("rotate {deg}"));
        }
    }
    // Shears over the released range, +-0.3 (and beyond).
    for i in 0..240 {
        let (w, h) = match i % 3 {
            0 => (32, 32),
            1 => (64, 48),
            _ => (1 + rng.below(120) as usize, 1 + rng.below(120) as usize),
        };
        let s = if i % 8 == 7 {
            rng.uniform(-3.0, 3.0)
        } else {
            rng.uniform(-0.3, 0.3)
        };
        let op = [Operator::ShearX, Operator::ShearY][i % 2];
        let m = matrix(op, s, w, h).unwrap();
        n += compare_image(&image(rng, w, h), &m, &format!("{op} {s}"));
    }
    for s in [0.3, -0.3, 0.15, -0.01, 0.09] {
        for op in [Operator::ShearX, Operator::ShearY] {
            let m = matrix(op, s, 224, 224).unwrap();
            n += compare_image(&imagenet, &m, &format!("{op} {s}"));
        }
    }
    // Translations: whole pixels up to a third of the side (the released range) and beyond,
    // and fractions.
    for t in -12..=12 {
        for op in [Operator::TranslateX, Operator::TranslateY] {
            let m = matrix(op, t as f64, 32, 32).unwrap();
            n += compare_image(&cifar, &m, &format!("{op} {t}"));
        }
    }
    for t in [-74, -73, -31, -1, 1, 2, 50, 74, 223, -224] {
        for op in [Operator::TranslateX, Operator::TranslateY] {
            let m = matrix(op, t as f64, 224, 224).unwrap();
            n += compare_image(&imagenet, &m, &format!("{op} {t}"));
        }
    }
    for i in 0..300 {
        let (w, h) = (1 + rng.below(100) as usize, 1 + rng.below(100) as usize);
        let t = rng.uniform(-(w.max(h) as f64), w.max(h) as f64);
        let op = [Operator::TranslateX, Operator::TranslateY][i % 2];
        let m = matrix(op, t, w, h).unwrap();
        n += compare_image(&image(rng, w, h), &m, &format!("{op} {t}"));
    }
    n
}

/// A matrix entry of one of several families: near a rotation's, tiny, huge, zero (of
/// either sign), whole, or any finite double.
fn entry(rng: &mut Rng, scale: f64) -> f64 {
    match rng.below(10) {
        0 => 0.0,
        1 => -0.0,
        2 => rng.uniform(-1e-300, 1e-300) * [1.0, 1e-10][rng.below(2) as usize],
        3 => f64::from_bits(rng.below(1 << 52)) * [1.0, -1.0][rng.below(2) as usize],
        4 => rng.uniform(-1e300, 1e300),
        5 => rng.double(),
        6 => (rng.below(64) as f64 - 32.0) * 0.25 * scale,
        _ => rng.uniform(-1.5, 1.5) * scale,
    }
}

/// Random finite matrices on small images of any shape.
fn random_matrices(rng: &mut Rng) -> u64 {
    let mut n = 0;
    for _ in 0..6000 {
        let (w, h) = (1 + rng.below(40) as usize, 1 + rng.below(40) as usize);
        let size = w.max(h) as f64;
        let m = [
            entry(rng, 1.0),
            entry(rng, 1.0),
            entry(rng, size),
            entry(rng, 1.0),
            entry(rng, 1.0),
            entry(rng, size),
        ];
        n += compare_image(&image(rng, w, h), &m, "random matrix");
    }
    n
}

/// Points landing exactly on 0, the width or height, whole numbers and half-integers, or an
/// ulp or a few beside them ([`coordinate`]).
fn chosen_points(rng: &mut Rng) -> u64 {
    let mut n = 0;
    for i in 0..1200 {
        let (w, h) = (1 + rng.below(300) as usize, 1 + rng.below(300) as usize);
        let img = image(rng, w, h);
        // A scale with few significand bits keeps the products exact, so the offsets place
        // whole rows of points on the chosen values.
        let scales = [1.0, 0.5, 2.0, 0.25, 1.5, -1.0, 0.75, 3.0];
        let (sx, sy) = (scales[rng.below(8) as usize], scales[rng.below(8) as usize]);
        let (px, py) = (
            rng.below(w as u64) as f64 + 0.5,
            rng.below(h as u64) as f64 + 0.5,
        );
        let (tx, ty) = (coordinate(rng, w as i32), coordinate(rng, h as i32));
        // Output pixel (px, py) maps to (tx, ty) up to the rounding of the offset; under
        // the constant map every pixel maps there exactly.
        let m = match i % 4 {
            0 => [sx, 0.0, tx - sx * px, 0.0, sy, ty - sy * py],
            1 => [0.0, sx, tx - sx * py, sy, 0.0, ty - sy * px],
            2 => {
                let k = rng.uniform(-0.3, 0.3);
                [1.0, k, tx - (px + k * py), 0.0, 1.0, ty - py]
            }
            _ => [0.0, 0.0, tx, 0.0, 0.0, ty],
        };
        let y = py as usize;
        n += compare_rows(
            &img,
            &m,
            [y, py.min(px) as usize % h].into_iter(),
            "chosen point",
        );
    }
    // -0 coordinates: -0 * xc + -0 * yc + -0 is -0, which Pillow counts as inside.
    let img = image(rng, 7, 5);
    n += compare_image(
        &img,
        &[-0.0, -0.0, -0.0, -0.0, -0.0, -0.0],
        "negative zeros",
    );
    n += compare_image(&img, &[-0.0, 0.0, -0.0, 1.0, -0.0, -0.0], "negative zeros");
    n
}

#[test]
fn affine_pixels_equal_the_cpu_rows() {
    let mut rng = Rng(3);
    let counts = [
        operators(&mut rng),
        random_matrices(&mut rng),
        chosen_points(&mut rng),
    ];
    let total: u64 = counts.iter().sum();
    println!(
        "pixels compared: operators {}, random matrices {}, chosen points {}, total {total}; \
         the fast path declined {}",
        counts[0],
        counts[1],
        counts[2],
        DECLINED.load(Ordering::Relaxed)
    );
    assert!(total >= 10_000_000, "only {total} pixels compared");
}

// The fast path (`pixmix_affine_fast`): 64-bit fixed point with error bounds, deciding only
// where the bounds allow and leaving the rest to the exact path. The tests above compare
// the combined sampler, the exact path and every pixel the fast path decides with the CPU
// rows; these check its bounds against Pillow's doubles directly, its decisions at their
// margins, and how often it declines on the released operators.

/// Units of the fast path's coordinates and weights.
const U: i64 = 1 << 40;

/// A finite double in (-2^e, 2^e) from one of several families: a significand with every
/// bit set (the largest truncation to fixed point), random bits, a few bits (dyadic values
/// the fast path converts exactly), whole numbers and halves, zero of either sign.
fn fast_entry(rng: &mut Rng, e: i32) -> f64 {
    let sign = [1.0, -1.0][rng.below(2) as usize];
    let exp = e - 1 - rng.below(50) as i32;
    let m = match rng.below(6) {
        0 => 2.0 - f64::EPSILON,
        1 => 1.0 + rng.uniform(0.0, 1.0),
        2 => 1.0 + (rng.below(64) as f64) / 64.0,
        3 => return sign * rng.below(1 << (e + 1)) as f64 * 0.5,
        4 => return [0.0, -0.0][rng.below(2) as usize],
        _ => 1.0 + rng.uniform(0.0, 1.0) * 2f64.powi(-(rng.below(30) as i32)),
    };
    sign * m * 2f64.powi(exp)
}

/// An exact integer and a fraction in [0, 1) summing to `t` (any finite double).
fn split_exact(t: f64) -> (i128, f64) {
    let whole = t.floor();
    (whole as i128, t - whole)
}

/// Whether the integer `v` lies within `e` (inclusive) of `t`, exactly.
fn within(v: i64, t: f64, e: i64) -> bool {
    let (whole, frac) = split_exact(t);
    // v - t = (v - whole) - frac, frac in [0, 1).
    let d = (v as i128 - whole) as f64 - frac;
    d.abs() <= e as f64
}

/// |v - t| / e, for reporting how tight a bound is.
fn ratio(v: i64, t: f64, e: i64) -> f64 {
    let (whole, frac) = split_exact(t);
    ((v as i128 - whole) as f64 - frac).abs() / e as f64
}

/// The fast path's coordinates and weights against Pillow's doubles: X within its bound of
/// Pillow's coordinate (equal where the bound is 0), and wherever the whole pixel is certain,
/// the same whole pixel and the weight within the same bound.
#[test]
fn fast_coordinates_stay_within_their_bounds() {
    let mut rng = Rng(5);
    let (mut inexact, mut exact, mut weights, mut worst) = (0u64, 0u64, 0u64, 0f64);
    for i in 0..2_000_000u64 {
        let side = |rng: &mut Rng| match rng.below(3) {
            0 => 1 + rng.below(40) as i32,
            1 => 1 + rng.below(300) as i32,
            _ => 1 + rng.below(4096) as i32,
        };
        let (w, h) = (side(&mut rng), side(&mut rng));
        let (x, y) = match rng.below(4) {
            0 => (w - 1, h - 1),
            _ => (rng.below(w as u64) as i32, rng.below(h as u64) as i32),
        };
        let (xc, yc) = (x as f64 + 0.5, y as f64 + 0.5);
        let mut m = match i % 3 {
            0 => {
                let op = [
                    Operator::Rotate,
                    Operator::ShearX,
                    Operator::ShearY,
                    Operator::TranslateX,
                    Operator::TranslateY,
                ][rng.below(5) as usize];
                let param = match op {
                    Operator::Rotate => rng.uniform(-360.0, 360.0),
                    Operator::ShearX | Operator::ShearY => rng.uniform(-1.9, 1.9),
                    _ => rng.uniform(-1.0, 1.0) * w.max(h) as f64,
                };
                match matrix(op, param, w as usize, h as usize) {
                    Some(m) => m,
                    None => continue,
                }
            }
            _ => [
                fast_entry(&mut rng, 1),
                fast_entry(&mut rng, 1),
                fast_entry(&mut rng, 13),
                fast_entry(&mut rng, 1),
                fast_entry(&mut rng, 1),
                fast_entry(&mut rng, 13),
            ],
        };
        // Half the time, offsets that bring this pixel onto a chosen coordinate: 0, the
        // size, half-integers, or ulps beside them.
        if rng.below(2) == 0 {
            m[2] = coordinate(&mut rng, w) - (m[0] * xc + m[1] * yc);
            m[5] = coordinate(&mut rng, h) - (m[3] * xc + m[4] * yc);
        }
        if m[2].abs() >= 8192.0 || m[5].abs() >= 8192.0 {
            continue;
        }
        let [cx, ex, cy, ey] = host_affine_fast_point(w, h, &m, x, y)
            .unwrap_or_else(|| panic!("{w}x{h}, m = {m:?}: out of the fast path's range"));
        let xin = m[0] * xc + m[1] * yc + m[2];
        let yin = m[3] * xc + m[4] * yc + m[5];
        let scale = U as f64;
        for (c, e, t, size) in [(cx, ex, xin, w), (cy, ey, yin, h)] {
            let what = format!(
                "{w}x{h}, m = {m:?} ({:x?}), pixel ({x}, {y})",
                m.map(f64::to_bits)
            );
            if e == 0 {
                assert_eq!(c as f64, t * scale, "{what}: an exact coordinate differs");
                exact += 1;
            } else {
                // Strictly inside the bound, with the 4 units the weights' bound needs.
                assert!(
                    within(c, t * scale, e - 4),
                    "{what}: {c} U, Pillow {t:e}, bound {e}"
                );
                worst = worst.max(ratio(c, t * scale, e));
                inexact += 1;
            }
            // The whole pixel and weight where the fast path takes them as certain.
            let (lo, hi) = ((c - (U >> 1) - e) >> 40, (c - (U >> 1) + e) >> 40);
            if c - e >= 0 && c + e < (size as i64) << 40 && lo == hi {
                let s = t - 0.5;
                let whole = if s < 0.0 { -1 } else { s as i64 };
                let weight = s - whole as f64;
                assert_eq!(lo, whole, "{what}: whole pixel");
                let d = c - (U >> 1) - (lo << 40);
                let e = if e == 0 { 0 } else { e - 4 };
                assert!(
                    within(d, weight * scale, e),
                    "{what}: weight {d} U, Pillow {weight:e}"
                );
                weights += 1;
            }
        }
    }
    println!(
        "coordinates: {exact} exact, {inexact} within their bounds (at most {worst:.5} of it); \
         {weights} weights checked"
    );
    assert!(exact > 100_000 && inexact > 1_000_000 && weights > 1_000_000);
}

/// A fast-path weight for Pillow's weight `w53` (units of 2^-53) whose bound is `e` units
/// of 2^-40: off by at most e - 4 (what the coordinates guarantee), or exactly `w53 / 2^13`
/// where `e` is 0 (`w53` on that grid); within [0, 2^40].
fn fast_weight(rng: &mut Rng, w53: u64, e: i64) -> i64 {
    let t = w53 as f64 / 8192.0;
    if e == 0 {
        assert_eq!(w53 % 8192, 0);
        return t as i64;
    }
    let e = e - 4;
    // The extremes ceil(t - e) and floor(t + e), or anything between.
    let (lo, hi) = ((t - e as f64).ceil() as i64, (t + e as f64).floor() as i64);
    let v = match rng.below(3) {
        0 => lo,
        1 => hi,
        _ => lo + rng.below((hi - lo + 1) as u64) as i64,
    };
    v.clamp(0, U)
}

/// The fast path's interpolation against Pillow's doubles: for weights off by up to their
/// bounds (the coordinates' bounds, or 0 where exact), Pillow's value lies within the bound
/// E of V, so that the byte floor(V) is Pillow's wherever floor(V - E) = floor(V + E).
#[test]
fn fast_interpolation_stays_within_its_bound() {
    let mut rng = Rng(6);
    let (mut n, mut decided, mut worst) = (0u64, 0u64, 0f64);
    for i in 0..4_000_000u64 {
        let c = rng.next().to_le_bytes();
        // Corners: any bytes, or equal pairs (flat rows or columns), or neighbours.
        let mut corners = [c[0], c[1], c[2], c[3]];
        match rng.below(4) {
            0 => corners[1] = corners[0],
            1 => corners[2] = corners[0],
            2 => corners[1] = corners[0].wrapping_add(1 + c[4] % 3),
            _ => {}
        }
        // Bounds: 0 (exact) or what images up to 4096 a side give (2(w + h) + 8).
        let bound = |rng: &mut Rng| match rng.below(3) {
            0 => 0,
            1 => 2 * (2 + 2 * rng.below(4096) as i64) + 8,
            _ => 2 * (64 + 448) + 8,
        };
        let (ex, ey) = (bound(&mut rng), bound(&mut rng));
        // Pillow's weights: on the 2^-53 grid, or on the 2^-40 grid where the bound is 0;
        // special values, any value, or ones that put a step within ulps of a whole number.
        let weight = |rng: &mut Rng, e: i64, target: Option<f64>| -> u64 {
            let w = match (target, rng.below(4)) {
                (Some(t), _) => weight_near(rng, t),
                (None, 0) => [0, 1, ONE / 2, ONE - 1, ONE][rng.below(5) as usize],
                _ => rng.below(ONE + 1),
            };
            if e == 0 { w / 8192 * 8192 } else { w }
        };
        let (a, b, c2, d) = corners.map(f64::from).into();
        let (dx53, dy53) = match i % 3 {
            0 => (weight(&mut rng, ex, None), weight(&mut rng, ey, None)),
            1 => {
                let k = rng.uniform(a.min(b), a.max(b) + 1.0).floor();
                let t = if a == b {
                    0.5
                } else {
                    ((k - a) / (b - a)).clamp(0.0, 1.0)
                };
                (weight(&mut rng, ex, Some(t)), weight(&mut rng, ey, None))
            }
            _ => {
                let dx53 = weight(&mut rng, ex, None);
                let dx = dx53 as f64 / ONE as f64;
                let (v1, v2) = (a + (b - a) * dx, c2 + (d - c2) * dx);
                let k = rng.uniform(v1.min(v2), v1.max(v2) + 1.0).floor();
                let t = if v1 == v2 {
                    0.5
                } else {
                    ((k - v1) / (v2 - v1)).clamp(0.0, 1.0)
                };
                (dx53, weight(&mut rng, ey, Some(t)))
            }
        };
        let (dx, dy) = (
            fast_weight(&mut rng, dx53, ex),
            fast_weight(&mut rng, dy53, ey),
        );
        let (v, e) = host_fast_lerp(corners, dx, dy, ex, ey);
        let want = {
            let (dx, dy) = (dx53 as f64 / ONE as f64, dy53 as f64 / ONE as f64);
            let v1 = a + (b - a) * dx;
            if dy == 0.0 {
                v1
            } else {
                v1 + (c2 + (d - c2) * dx - v1) * dy
            }
        };
        let what = format!(
            "corners {corners:?}, Pillow's weights {dx53}, {dy53} / 2^53, the fast path's {dx}, \
             {dy} / 2^40 within {ex}, {ey}"
        );
        assert!(
            within(v, want * U as f64, e),
            "{what}: V = {v}, E = {e}, Pillow {want:e}"
        );
        if e > 0 {
            worst = worst.max(ratio(v, want * U as f64, e));
        }
        if (v - e) >> 40 == (v + e) >> 40 {
            assert_eq!((v >> 40) as u8, want as u8, "{what}");
            decided += 1;
        }
        n += 1;
    }
    println!(
        "interpolations: {n} within their bounds (at most {worst:.5} of it), {decided} decided"
    );
    assert!(decided > 2_000_000);
}

/// Pixel (x, y) of the CPU's row for `m`.
fn cpu_pixel(img: &RgbImage, m: &[f64; 6], x: usize, y: usize) -> [u8; 3] {
    let mut row = vec![0u8; img.width() * 3];
    PreparedOp::Affine(*m).row(img, y, &mut row);
    [row[x * 3], row[x * 3 + 1], row[x * 3 + 2]]
}

/// `m` with the offset of `axis` (0: x, 1: y) chosen so that the fast path's coordinate of
/// pixel (x, y) is `target` units of 2^-40 exactly (an offset on that grid converts
/// exactly, so the coordinate moves by exactly its change).
fn place(
    m: &[f64; 6],
    w: usize,
    h: usize,
    (x, y): (usize, usize),
    axis: usize,
    target: i64,
) -> [f64; 6] {
    let point =
        |m: &[f64; 6]| host_affine_fast_point(w as i32, h as i32, m, x as i32, y as i32).unwrap();
    let mut m = *m;
    m[2 + 3 * axis] = 0.0;
    let base = point(&m)[2 * axis];
    m[2 + 3 * axis] = (target - base) as f64 / U as f64;
    assert_eq!(
        point(&m)[2 * axis],
        target,
        "placing {target} on axis {axis}, m = {m:?}"
    );
    m
}

/// Whether the fast path decides pixel (x, y) under `m` (checked against `decides` where
/// given); what it decides, and what the sampler returns, must be the CPU's.
fn verdict(
    img: &RgbImage,
    m: &[f64; 6],
    (x, y): (usize, usize),
    decides: Option<bool>,
    what: &str,
) -> bool {
    let want = cpu_pixel(img, m, x, y);
    let fast = host_affine_with(AffinePath::Fast, img, m, x, y);
    let what = format!(
        "{what}: {}x{}, m = {m:?} ({:x?}), pixel ({x}, {y})",
        img.width(),
        img.height(),
        m.map(f64::to_bits)
    );
    if let Some(d) = decides {
        assert_eq!(
            fast.is_some(),
            d,
            "{what}: the fast path {}",
            if d { "declined" } else { "decided" }
        );
    }
    assert!(
        fast.is_none_or(|f| f == want),
        "{what}: fast path {fast:?}, cpu {want:?}"
    );
    assert_eq!(host_affine(img, m, x, y), want, "{what}: sampler");
    fast.is_some()
}

/// Each decision of the fast path placed exactly on its margin, where it must decide, and
/// one unit beyond, where it must decline: the input point against 0 and the size, the
/// whole pixel below it, and a channel's byte with the row above alone (dy = 0 exact) and
/// with both rows (dx = 0 exact, dy not).
#[test]
fn fast_decisions_at_their_margins() {
    let mut rng = Rng(7);
    let mut checked = 0u64;
    for _ in 0..300 {
        let (w, h) = (3 + rng.below(60) as usize, 3 + rng.below(60) as usize);
        let p = (rng.below(w as u64) as usize, rng.below(h as u64) as usize);
        // A rotation: both coordinates inexact, bounded by K. A flat image: every channel
        // is exact (E = 0), so the point's decisions alone decide.
        let m = matrix(Operator::Rotate, rng.uniform(1.0, 29.0), w, h).unwrap();
        let flat = RgbImage::new(w, h, vec![77; w * h * 3]).unwrap();
        for axis in 0..2 {
            let (size, other) = if axis == 0 {
                (w as i64, h as i64)
            } else {
                (h as i64, w as i64)
            };
            // The other coordinate well inside.
            let m = place(&m, w, h, p, 1 - axis, other / 2 * U + U / 2 + U / 4);
            let e = host_affine_fast_point(w as i32, h as i32, &m, p.0 as i32, p.1 as i32).unwrap()
                [2 * axis + 1];
            assert!(e > 0);
            let s = size << 40;
            let n = rng.below(size as u64 - 1) as i64;
            for (target, decides, what) in [
                (e, true, "inside, 0 <= X - e"),
                (e - 1, false, "X - e < 0 <= X + e"),
                (-e - 1, true, "outside, X + e < 0"),
                (-e, false, "X - e < 0 <= X + e"),
                (s - 1 - e, true, "inside, X + e < size"),
                (s - e, false, "X - e < size <= X + e"),
                (s + e, true, "outside, size <= X - e"),
                (s + e - 1, false, "X - e < size <= X + e"),
                (n * U + U / 2 + e, true, "whole pixel, n <= X - 0.5 - e"),
                (n * U + U / 2 + e - 1, false, "whole pixel, X - 0.5 - e < n"),
                (
                    (n + 1) * U - 1 + U / 2 - e,
                    true,
                    "whole pixel, X - 0.5 + e < n + 1",
                ),
                (
                    (n + 1) * U + U / 2 - e,
                    false,
                    "whole pixel, n + 1 <= X - 0.5 + e",
                ),
            ] {
                let m = place(&m, w, h, p, axis, target);
                verdict(&flat, &m, p, Some(decides), &format!("axis {axis}, {what}"));
                checked += 1;
            }
        }
        // A channel with the row above alone: x inexact (0.9), y exact with dy = 0. Columns
        // of bytes 2j + 10, so b - a = 2: V = a + 2 dX, E = 2 ex.
        let cols = RgbImage::new(
            w,
            h,
            (0..w * h * 3)
                .map(|i| (2 * (i / 3 % w) + 10) as u8)
                .collect(),
        )
        .unwrap();
        let m = [0.9, 0.0, 0.0, 0.0, 1.0, 0.0];
        let e = host_affine_fast_point(w as i32, h as i32, &m, p.0 as i32, p.1 as i32).unwrap()[1];
        let ix = rng.below(w as u64 - 1) as i64;
        for (dx, decides) in [
            (U / 2 + e, true),
            (U / 2 + e - 1, false),
            (U / 2 - e - 1, true),
            (U / 2 - e, false),
        ] {
            let m = place(&m, w, h, p, 0, ix * U + U / 2 + dx);
            verdict(&cols, &m, p, Some(decides), "a channel of the row above");
            checked += 1;
        }
        // Both rows: x exact with dx = 0, y inexact (0.1). Rows of bytes 2j + 10, so c - a
        // = 2: V = a + 2 dY, E = 2 ey + 3.
        let rows = RgbImage::new(
            w,
            h,
            (0..w * h * 3)
                .map(|i| (2 * (i / 3 / w) + 10) as u8)
                .collect(),
        )
        .unwrap();
        let m = [1.0, 0.0, 0.0, 0.1, 1.0, 0.0];
        let e = host_affine_fast_point(w as i32, h as i32, &m, p.0 as i32, p.1 as i32).unwrap()[3];
        let iy = rng.below(h as u64 - 1) as i64;
        for (dy, decides) in [
            (U / 2 + e + 2, true),
            (U / 2 + e + 1, false),
            (U / 2 - e - 2, true),
            (U / 2 - e - 1, false),
        ] {
            let m = place(&m, w, h, p, 1, iy * U + U / 2 + dy);
            verdict(&rows, &m, p, Some(decides), "a channel of both rows");
            checked += 1;
        }
    }
    println!("{checked} decisions on their margins");
}

/// A point where pixel (x, y) of `img` under `m` is decided and one unit away (along
/// `axis`) where it is declined, found by bisection between the coordinate `from`
/// (decided) and `to` (declined); checks both against the CPU. None if `from` is declined.
fn bisect_margin(
    img: &RgbImage,
    m: &[f64; 6],
    p: (usize, usize),
    axis: usize,
    from: i64,
    to: i64,
) -> Option<[f64; 6]> {
    let (w, h) = (img.width(), img.height());
    let decided = |t: i64| {
        host_affine_with(AffinePath::Fast, img, &place(m, w, h, p, axis, t), p.0, p.1).is_some()
    };
    if !decided(from) || decided(to) {
        return None;
    }
    let (mut lo, mut hi) = (from, to);
    while (hi - lo).abs() > 1 {
        let mid = lo + (hi - lo) / 2;
        if decided(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    verdict(
        img,
        &place(m, w, h, p, axis, lo),
        p,
        Some(true),
        "the decided side of a margin",
    );
    let declined = place(m, w, h, p, axis, hi);
    verdict(
        img,
        &declined,
        p,
        Some(false),
        "the declined side of a margin",
    );
    Some(declined)
}

/// Margins found by search on photographs and noise under the released operators and
/// random matrices in the fast path's range: from a decided point, bisection toward a
/// point the fast path must decline (a whole-pixel boundary, or a coordinate where a
/// channel's value V is a whole number, found by bisection on V itself), down to two
/// coordinates one unit apart, one decided and one declined, both equal to the CPU.
#[test]
fn fast_margins_found_by_search() {
    let mut rng = Rng(8);
    let photos = photos(224);
    let (mut points, mut channels) = (0u64, 0u64);
    for i in 0..3000 {
        let img = match i % 3 {
            0 => photos[rng.below(photos.len() as u64) as usize].clone(),
            _ => {
                let (w, h) = (2 + rng.below(63) as usize, 2 + rng.below(63) as usize);
                image(&mut rng, w, h)
            }
        };
        let (w, h) = (img.width(), img.height());
        let p = (rng.below(w as u64) as usize, rng.below(h as u64) as usize);
        let m = match i % 4 {
            0 => matrix(Operator::Rotate, rng.uniform(-30.0, 30.0), w, h),
            1 => matrix(Operator::ShearX, rng.uniform(-0.3, 0.3), w, h),
            2 => matrix(Operator::ShearY, rng.uniform(-0.3, 0.3), w, h),
            _ => Some([
                fast_entry(&mut rng, 1),
                fast_entry(&mut rng, 1),
                0.0,
                fast_entry(&mut rng, 1),
                fast_entry(&mut rng, 1),
                0.0,
            ]),
        };
        let Some(m) = m else { continue };
        let point = |m: &[f64; 6]| {
            host_affine_fast_point(w as i32, h as i32, m, p.0 as i32, p.1 as i32).unwrap()
        };
        // Start inside, at a random place in a random input pixel.
        let axis = rng.below(2) as usize;
        let size = [w, h][axis] as i64;
        let start = |rng: &mut Rng| rng.below(size as u64) as i64 * U + rng.below(U as u64) as i64;
        let m = place(
            &m,
            w,
            h,
            p,
            1 - axis,
            [w, h][1 - axis] as i64 * U / 2 + U / 3,
        );
        let from = start(&mut rng);
        let e = point(&place(&m, w, h, p, axis, from))[2 * axis + 1];
        if e == 0 {
            continue;
        }
        // Toward the whole-pixel boundary below or above.
        let cell = (from - U / 2).div_euclid(U);
        let boundary = (cell + rng.below(2) as i64) * U + U / 2;
        if bisect_margin(&img, &m, p, axis, from, boundary).is_some() {
            points += 1;
        }
        // Toward a coordinate where channel c's value crosses a whole number, within the
        // same input pixel (the value is monotone in the weight there).
        let c = rng.below(3) as usize;
        let value = |t: i64| -> Option<(i64, i64)> {
            let m = place(&m, w, h, p, axis, t);
            let [x, ex, y, ey] = point(&m);
            let (ix, iy) = ((x - U / 2).div_euclid(U), (y - U / 2).div_euclid(U));
            let (dx, dy) = (x - U / 2 - ix * U, y - U / 2 - iy * U);
            if !(0..w as i64).contains(&ix) && ix != -1 || !(0..h as i64).contains(&iy) && iy != -1
            {
                return None;
            }
            let (x0, x1) = (ix.max(0) as usize, (ix + 1).min(w as i64 - 1) as usize);
            let r0 = iy.max(0) as usize;
            let r1 = if iy + 1 < h as i64 {
                (iy + 1) as usize
            } else {
                r0
            };
            let px = |col: usize, row: usize| img.as_bytes()[(row * w + col) * 3 + c];
            Some(host_fast_lerp(
                [px(x0, r0), px(x1, r0), px(x0, r1), px(x1, r1)],
                dx,
                dy,
                ex,
                ey,
            ))
        };
        let (lo, hi) = (cell * U + U / 2 + e + 1, (cell + 1) * U + U / 2 - e - 1);
        let (Some((vlo, _)), Some((vhi, _))) = (value(lo), value(hi)) else {
            continue;
        };
        let k = if vlo < vhi {
            (vlo >> 40) + 1
        } else {
            vlo >> 40
        };
        if (vlo - (k << 40)).signum() == (vhi - (k << 40)).signum() {
            continue; // no whole number between
        }
        // Bisection for the coordinate where V crosses k.
        let (mut a, mut b) = (lo, hi);
        while (b - a).abs() > 1 {
            let mid = a + (b - a) / 2;
            if (value(mid).unwrap().0 >= k << 40) == (vlo >= k << 40) {
                a = mid;
            } else {
                b = mid;
            }
        }
        let to = if value(b).unwrap().1 > 0 { b } else { continue };
        if let Some(declined) = bisect_margin(&img, &m, p, axis, from, to) {
            // Count it as a channel's margin where the point itself is certain there.
            let [x, ex, y, ey] = point(&declined);
            let certain = |c: i64, e: i64, size: usize| {
                c - e >= 0
                    && c + e < (size as i64) << 40
                    && (c - U / 2 - e) >> 40 == (c - U / 2 + e) >> 40
            };
            if certain(x, ex, w) && certain(y, ey, h) {
                channels += 1;
            } else {
                points += 1;
            }
        }
    }
    println!("margins found by search: {points} of the input point, {channels} of a channel");
    assert!(points > 500 && channels > 500);
}

/// The four photographs of assets/photos resized to `side` x `side`.
fn photos(side: usize) -> Vec<RgbImage> {
    ["astronaut", "chelsea", "coffee", "rocket"]
        .iter()
        .map(|name| {
            let path = format!("{}/assets/photos/{name}.jpg", env!("CARGO_MANIFEST_DIR"));
            let img = RgbImage::from_image_crate(image::open(&path).unwrap().to_rgb8()).unwrap();
            resize_bilinear(View::full(&img), side, side).unwrap()
        })
        .collect()
}

/// How often the fast path declines under the released operators: parameters drawn as the
/// released code draws them (a level uniform in [0.1, 10), any severity's range, and a random
/// sign) on the photographs at the presets' sides, 32 and 224. Every pixel is compared with
/// the CPU; the share declined must stay below 0.1% for each operator.
#[test]
fn fast_path_declines_rarely_on_released_operators() {
    let mut rng = Rng(9);
    let ops = [
        Operator::Rotate,
        Operator::ShearX,
        Operator::ShearY,
        Operator::TranslateX,
        Operator::TranslateY,
    ];
    let mut counts = [(0u64, 0u64); 5];
    for side in [32, 224] {
        for img in photos(side) {
            let mut row = vec![0u8; side * 3];
            for (k, &op) in ops.iter().enumerate() {
                for _ in 0..if side == 32 { 40 } else { 8 } {
                    let level = rng.uniform(0.1, 10.0);
                    let sign = if rng.below(2) == 0 { 1.0 } else { -1.0 };
                    let param = sign * op.param_from_level(level, side, side);
                    let Some(m) = matrix(op, param, side, side) else {
                        continue;
                    };
                    for y in 0..side {
                        PreparedOp::Affine(m).row(&img, y, &mut row);
                        for x in 0..side {
                            let want = &row[x * 3..x * 3 + 3];
                            match host_affine_with(AffinePath::Fast, &img, &m, x, y) {
                                Some(got) => {
                                    assert_eq!(got[..], *want, "{op} {param}: pixel ({x}, {y})")
                                }
                                None => {
                                    assert_eq!(host_affine(&img, &m, x, y)[..], *want);
                                    counts[k].1 += 1;
                                }
                            }
                            counts[k].0 += 1;
                        }
                    }
                }
            }
        }
    }
    let (total, declined) = counts.iter().fold((0, 0), |(t, d), c| (t + c.0, d + c.1));
    for (op, (n, d)) in ops.iter().zip(counts) {
        println!(
            "{op}: the fast path declined {d} of {n} pixels ({:.4}%)",
            100.0 * d as f64 / n as f64
        );
        assert!(d * 1000 < n, "{op}: declined {d} of {n}");
    }
    println!(
        "all: declined {declined} of {total} ({:.4}%)",
        100.0 * declined as f64 / total as f64
    );
}
