//! `ImageEnhance` operators: a blend `D + f * (I - D)` of a degenerate image D with the
//! image I, computed as Pillow's `ImagingBlend` does (single-precision float, clamped,
//! truncated).
//!
//! Every operator runs as loops over whole rows of bytes, which the compiler turns into
//! vector code: contrast and brightness blend with a flat D (one value), color and
//! sharpness with a D computed per pixel.

use crate::image::{RgbImage, luma};

/// What the degenerate image D is.
#[derive(Clone, Debug)]
enum Degenerate {
    /// One value everywhere: the mean luma (`Contrast`) or black (`Brightness`).
    Flat(u8),
    /// Grayscale of I, replicated to RGB (`Color`).
    Gray,
    /// PIL's SMOOTH 3x3 filter of I, border pixels copied (`Sharpness`).
    Smooth,
    /// I itself (`Sharpness` of an image too small to filter): the blend is a copy.
    Source,
}

/// An `ImageEnhance` operator prepared for one image.
#[derive(Clone, Debug)]
pub struct Blend {
    degenerate: Degenerate,
    /// The factor as Pillow receives it: a C `float`.
    factor: f32,
}

/// `ImagingBlend`'s per-byte rule: `t <= 0 ? 0 : t >= 255 ? 255 : (UINT8)t`.
#[inline(always)]
pub fn blend(d: u8, i: u8, factor: f32) -> u8 {
    let t = d as f32 + factor * (i as i32 - d as i32) as f32;
    // max and min then a plain truncation: the same bytes as Pillow's branches, in a form
    // the compiler vectorises. Not clamp: it keeps a NaN, which the truncation must not see.
    #[allow(clippy::manual_clamp)]
    let t = t.max(0.0).min(255.0);
    // SAFETY: t lies in [0, 255], which i32 holds.
    unsafe { t.to_int_unchecked::<i32>() as u8 }
}

/// [`blend`] over whole rows: `out[k] = blend(d[k], i[k], factor)`.
#[inline(always)]
fn blend_bytes(d: &[u8], i: &[u8], factor: f32, out: &mut [u8]) {
    for ((o, &d), &i) in out.iter_mut().zip(d).zip(i) {
        *o = blend(d, i, factor);
    }
}

/// The mean of the image's luma, rounded as `int(mean + 0.5)`.
pub fn mean_luma(img: &RgbImage) -> u8 {
    let sum: u64 = img
        .as_bytes()
        .chunks_exact(3)
        .map(|p| luma(p[0], p[1], p[2]) as u64)
        .sum();
    let count = (img.width() * img.height()) as f64;
    (sum as f64 / count + 0.5) as u8
}

impl Blend {
    /// `ImageEnhance.Contrast`: the blend with the image's mean luma.
    pub fn contrast(factor: f64, img: &RgbImage) -> Blend {
        Blend {
            degenerate: Degenerate::Flat(mean_luma(img)),
            factor: factor as f32,
        }
    }

    /// `ImageEnhance.Brightness`: the blend with black.
    pub fn brightness(factor: f64) -> Blend {
        Blend {
            degenerate: Degenerate::Flat(0),
            factor: factor as f32,
        }
    }

    /// `ImageEnhance.Color`.
    pub fn color(factor: f64) -> Blend {
        Blend {
            degenerate: Degenerate::Gray,
            factor: factor as f32,
        }
    }

    /// `ImageEnhance.Sharpness`.
    pub fn sharpness(factor: f64, img: &RgbImage) -> Blend {
        // Pillow's filter returns a copy of an image smaller than its kernel, so D = I.
        let degenerate = if img.width() < 3 || img.height() < 3 {
            Degenerate::Source
        } else {
            Degenerate::Smooth
        };
        Blend {
            degenerate,
            factor: factor as f32,
        }
    }

    /// Output row `y` of the blend applied to `img`.
    #[inline(always)]
    pub fn row(&self, img: &RgbImage, y: usize, out: &mut [u8]) {
        let src = img.row(y);
        match self.degenerate {
            Degenerate::Flat(d) => {
                for (o, &i) in out.iter_mut().zip(src) {
                    *o = blend(d, i, self.factor);
                }
            }
            Degenerate::Gray => gray_blend_row(src, self.factor, out),
            Degenerate::Smooth => smooth_blend_row(img, y, self.factor, out),
            Degenerate::Source => out.copy_from_slice(src),
        }
    }
}

/// Pixels per chunk of the row loops: their scratch rows live on the stack.
const CHUNK: usize = 64;

/// One row of `blend(gray(I), I, f)`, a chunk of pixels at a time: the chunk's luma
/// replicated to three bytes a pixel, then one blend over the bytes.
#[inline(always)]
fn gray_blend_row(src: &[u8], f: f32, out: &mut [u8]) {
    let mut gray = [0u8; CHUNK * 3];
    for (o, s) in out.chunks_mut(CHUNK * 3).zip(src.chunks(CHUNK * 3)) {
        let gray = &mut gray[..s.len()];
        for (g, p) in gray.chunks_exact_mut(3).zip(s.chunks_exact(3)) {
            g.fill(luma(p[0], p[1], p[2]));
        }
        blend_bytes(gray, s, f, o);
    }
}

/// One row of `blend(SMOOTH(I), I, f)`. SMOOTH is `(5 * centre + 8 neighbours) / 13`
/// rounded to nearest; the one-pixel border keeps I, so the blend leaves it as is there.
/// The interior runs over bytes: a channel's horizontal neighbours sit 3 bytes away.
#[inline(always)]
fn smooth_blend_row(img: &RgbImage, y: usize, f: f32, out: &mut [u8]) {
    let (w, h) = (img.width(), img.height());
    let src = img.row(y);
    // Where D = I the blend is I.
    if y == 0 || y == h - 1 {
        out.copy_from_slice(src);
        return;
    }
    let (up, down) = (img.row(y - 1), img.row(y + 1));
    let last = (w - 1) * 3;
    out[..3].copy_from_slice(&src[..3]);
    out[last..].copy_from_slice(&src[last..]);
    let mut smooth = [0u8; CHUNK * 3];
    // Interior bytes 3..last, a chunk at a time; `at` is the chunk's first byte.
    for at in (3..last).step_by(CHUNK * 3) {
        let n = (last - at).min(CHUNK * 3);
        let rows = [up, src, down].map(|r| {
            [
                &r[at - 3..at - 3 + n],
                &r[at..at + n],
                &r[at + 3..at + 3 + n],
            ]
        });
        let smooth = &mut smooth[..n];
        for (k, d) in smooth.iter_mut().enumerate() {
            let ring = rows[0][0][k] as u32
                + rows[0][1][k] as u32
                + rows[0][2][k] as u32
                + rows[1][0][k] as u32
                + rows[1][2][k] as u32
                + rows[2][0][k] as u32
                + rows[2][1][k] as u32
                + rows[2][2][k] as u32;
            let sum = ring + 5 * rows[1][1][k] as u32;
            // sum / 13 is never exactly halfway, so rounding half up is exact here.
            *d = ((2 * sum + 13) / 26) as u8;
        }
        blend_bytes(smooth, rows[1][1], f, &mut out[at..at + n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The branch-free rule is Pillow's branches for every pair of bytes and a spread of
    /// factors, including the clamps at both ends and non-finite factors.
    #[test]
    fn blend_is_pillows_rule() {
        let pillow = |d: u8, i: u8, f: f32| {
            let t = d as f32 + f * (i as i32 - d as i32) as f32;
            if t <= 0.0 {
                0
            } else if t >= 255.0 {
                255
            } else {
                t as u8
            }
        };
        for f in [0.0f32, 0.1, 0.37, 1.0, 1.9, -0.5, 3.0, 1e30, f32::INFINITY] {
            for d in 0..=255u8 {
                for i in 0..=255u8 {
                    // inf * 0 is NaN, which C's cast leaves undefined: here it gives 0.
                    let want = if i == d && f.is_infinite() {
                        0
                    } else {
                        pillow(d, i, f)
                    };
                    assert_eq!(blend(d, i, f), want, "d {d} i {i} f {f}");
                }
            }
        }
        // A NaN blend is 0 rather than undefined.
        assert_eq!(blend(3, 4, f32::NAN), 0);
    }
}
