//! The kernels' affine sampler (`pixmix_affine` in kernels/pixel_ops.cuh), compiled for
//! the host: its exact path, which emulates Pillow's double arithmetic with integers, and its
//! fast path, 64-bit fixed point with error bounds that decides only where the bounds allow
//! and leaves the rest to the exact path. Against the hardware's doubles and the CPU's rows
//! (`pixmix::ops`, exact to Pillow), in all about 27.4 million evaluations (release build: a
//! few seconds):
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
//!   million.

mod common;

use common::make_image;
use pixmix::kernels::{
    AffinePath, host_affine, host_affine_point, host_affine_with, host_bilinear, host_dadd,
    host_dmul,
};
use pixmix::ops::{PreparedOp, geometry};
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
