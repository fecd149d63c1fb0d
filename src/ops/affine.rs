//! Geometric operators: rotate, shear and translate as Pillow's affine transform with
//! bilinear resampling (`Geometry.c`), plus `rotate`'s lossless transpose fast paths.

use super::PreparedOp;
use crate::image::RgbImage;

/// Python's `x % 360.0` (the result takes the divisor's sign; -0.0 becomes 0.0).
fn python_mod_360(x: f64) -> f64 {
    let m = x % 360.0;
    if m != 0.0 && m < 0.0 {
        m + 360.0
    } else if m == 0.0 {
        0.0
    } else {
        m
    }
}

/// Python's `round(x, 15)`: correctly rounded to 15 decimals, as Rust's formatting is.
fn round15(x: f64) -> f64 {
    format!("{x:.15}").parse().unwrap_or(x)
}

/// `Image.rotate(deg, resample=BILINEAR)` without expand, about the centre.
pub fn rotate(degrees: f64, width: usize, height: usize) -> PreparedOp {
    let angle = python_mod_360(degrees);
    if angle == 0.0 {
        return PreparedOp::Identity;
    }
    if angle == 180.0 {
        return PreparedOp::Transpose(Transpose::Rotate180);
    }
    if width == height && angle == 90.0 {
        return PreparedOp::Transpose(Transpose::Rotate90);
    }
    if width == height && angle == 270.0 {
        return PreparedOp::Transpose(Transpose::Rotate270);
    }
    let (cx, cy) = (width as f64 / 2.0, height as f64 / 2.0);
    let rad = -(angle * (std::f64::consts::PI / 180.0));
    let (cos, sin) = (round15(rad.cos()), round15(rad.sin()));
    let (a, b, d, e) = (cos, sin, round15(-rad.sin()), cos);
    // Pillow maps (-cx, -cy) through the linear part, then adds the centre back.
    let c = (a * -cx + b * -cy + 0.0) + cx;
    let f = (d * -cx + e * -cy + 0.0) + cy;
    PreparedOp::Affine([a, b, c, d, e, f])
}

/// The lossless rotations Pillow takes instead of resampling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transpose {
    /// 90 degrees counter-clockwise (square images only, as Pillow without expand).
    Rotate90,
    /// 180 degrees.
    Rotate180,
    /// 270 degrees counter-clockwise (square images only).
    Rotate270,
}

impl Transpose {
    /// Output row `y`.
    pub fn row(self, img: &RgbImage, y: usize, out: &mut [u8]) {
        let (w, h) = (img.width(), img.height());
        let src = img.as_bytes();
        for (x, o) in out.chunks_exact_mut(3).enumerate() {
            let (sx, sy) = match self {
                Transpose::Rotate90 => (w - 1 - y, x),
                Transpose::Rotate180 => (w - 1 - x, h - 1 - y),
                Transpose::Rotate270 => (y, h - 1 - x),
            };
            let i = (sy * w + sx) * 3;
            o.copy_from_slice(&src[i..i + 3]);
        }
    }
}

/// Output row `y` of the affine map `m` (output pixel centre to input point) sampled
/// bilinearly from `img`; points outside the image are black.
#[inline(always)]
pub fn row(m: &[f64; 6], img: &RgbImage, y: usize, out: &mut [u8]) {
    let (w, h) = (img.width(), img.height());
    if let Some((tx, ty)) = integer_shift(m) {
        return shifted_row(img, tx, ty, y, out);
    }
    let (wf, hf) = (w as f64, h as f64);
    let src = img.as_bytes();
    let stride = w * 3;
    let yc = y as f64 + 0.5;
    // Pillow evaluates (a*xc + b*yc) + c; the products with yc are the same all along the row.
    let (byc, eyc) = (m[1] * yc, m[4] * yc);
    let last_x = w as isize - 1;
    let last_y = h as isize - 1;
    for (x, o) in out.chunks_exact_mut(3).enumerate() {
        let xc = x as f64 + 0.5;
        let xin = m[0] * xc + byc + m[2];
        let yin = m[3] * xc + eyc + m[5];
        if !(xin >= 0.0 && xin < wf && yin >= 0.0 && yin < hf) {
            o.fill(0);
            continue;
        }
        let (xs, ys) = (xin - 0.5, yin - 0.5);
        // xs, ys >= -0.5 here, so floor is truncation except on (-0.5, 0).
        let ix = if xs < 0.0 { -1 } else { xs as isize };
        let iy = if ys < 0.0 { -1 } else { ys as isize };
        let (dx, dy) = (xs - ix as f64, ys - iy as f64);
        let x0 = ix.clamp(0, last_x) as usize * 3;
        let x1 = (ix + 1).min(last_x) as usize * 3;
        let r0 = iy.clamp(0, last_y) as usize * stride;
        // Pillow falls back to the same row when the row below is outside the image.
        let r1 = if iy < last_y {
            (iy + 1) as usize * stride
        } else {
            r0
        };
        let (a, b) = (&src[r0 + x0..r0 + x0 + 3], &src[r0 + x1..r0 + x1 + 3]);
        let lerp = |a: u8, b: u8, d: f64| a as f64 + (b as f64 - a as f64) * d;
        if dy == 0.0 {
            // v1 + (v2 - v1) * 0 is v1 exactly: the second row does not matter.
            for c in 0..3 {
                o[c] = lerp(a[c], b[c], dx) as u8;
            }
        } else {
            let (a2, b2) = (&src[r1 + x0..r1 + x0 + 3], &src[r1 + x1..r1 + x1 + 3]);
            for c in 0..3 {
                let v1 = lerp(a[c], b[c], dx);
                let v2 = lerp(a2[c], b2[c], dx);
                o[c] = (v1 + (v2 - v1) * dy) as u8;
            }
        }
    }
}

/// The offsets of a translation by whole pixels, if `m` is one (and small enough to be
/// exact). Pillow's sampling then lands on pixel centres: weights 0, a shifted copy.
fn integer_shift(m: &[f64; 6]) -> Option<(i64, i64)> {
    let whole = |v: f64| v.fract() == 0.0 && v.abs() < 1e9;
    (m[0] == 1.0 && m[1] == 0.0 && m[3] == 0.0 && m[4] == 1.0 && whole(m[2]) && whole(m[5]))
        .then(|| (m[2] as i64, m[5] as i64))
}

/// Output row `y` of `img` shifted by (tx, ty) whole pixels, black where nothing lands.
fn shifted_row(img: &RgbImage, tx: i64, ty: i64, y: usize, out: &mut [u8]) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let sy = y as i64 + ty;
    out.fill(0);
    if sy < 0 || sy >= h {
        return;
    }
    // Output x takes source x + tx where that lies inside the image.
    let x0 = (-tx).clamp(0, w);
    let x1 = (w - tx).clamp(0, w);
    if x0 < x1 {
        let src = img.row(sy as usize);
        let (s0, s1) = ((x0 + tx) as usize * 3, (x1 + tx) as usize * 3);
        out[x0 as usize * 3..x1 as usize * 3].copy_from_slice(&src[s0..s1]);
    }
}
