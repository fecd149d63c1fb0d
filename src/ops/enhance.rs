//! `ImageEnhance` operators: a blend `D + f * (I - D)` of a degenerate image D with the
//! image I, computed as Pillow's `ImagingBlend` does (single-precision float, clamped,
//! truncated).

use crate::image::{RgbImage, luma};

/// What the degenerate image D is.
#[derive(Clone, Debug)]
enum Degenerate {
    /// Grayscale of I, replicated to RGB (`Color`).
    Gray,
    /// A flat image of one gray value (`Contrast`: the rounded mean luma).
    Flat(u8),
    /// PIL's SMOOTH 3x3 filter of I, border pixels copied (`Sharpness`).
    Smooth,
    /// I itself (`Sharpness` of an image too small to filter): the blend is a copy.
    Source,
}

/// An enhance operator prepared for one image.
#[derive(Clone, Debug)]
pub struct Blend {
    degenerate: Degenerate,
    /// The factor as Pillow receives it: a C `float`.
    factor: f32,
}

/// `ImagingBlend`'s per-byte rule.
#[inline]
pub fn blend(d: u8, i: u8, factor: f32) -> u8 {
    let t = d as f32 + factor * (i as i32 - d as i32) as f32;
    // Pillow's `t <= 0 ? 0 : t >= 255 ? 255 : (UINT8)t`, written branch-free.
    t.clamp(0.0, 255.0) as u8
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
    /// `ImageEnhance.Color`.
    pub fn color(factor: f64) -> Blend {
        Blend {
            degenerate: Degenerate::Gray,
            factor: factor as f32,
        }
    }

    /// `ImageEnhance.Contrast`.
    pub fn contrast(factor: f64, img: &RgbImage) -> Blend {
        Blend {
            degenerate: Degenerate::Flat(mean_luma(img)),
            factor: factor as f32,
        }
    }

    /// `ImageEnhance.Brightness`.
    pub fn brightness(factor: f64) -> Blend {
        Blend {
            degenerate: Degenerate::Flat(0),
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
        let f = self.factor;
        match self.degenerate {
            Degenerate::Gray => {
                for (o, s) in out.chunks_exact_mut(3).zip(src.chunks_exact(3)) {
                    let g = luma(s[0], s[1], s[2]);
                    o[0] = blend(g, s[0], f);
                    o[1] = blend(g, s[1], f);
                    o[2] = blend(g, s[2], f);
                }
            }
            Degenerate::Flat(d) => {
                for (o, &s) in out.iter_mut().zip(src) {
                    *o = blend(d, s, f);
                }
            }
            Degenerate::Smooth => smooth_blend_row(img, y, f, out),
            Degenerate::Source => out.copy_from_slice(src),
        }
    }
}

/// One row of `blend(SMOOTH(I), I, f)`. SMOOTH is `(5 * centre + 8 neighbours) / 13`
/// rounded to nearest; the one-pixel border keeps I, so the blend leaves it as is there.
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
    for x in 1..w - 1 {
        for c in 0..3 {
            let i = x * 3 + c;
            let ring = up[i - 3] as u32
                + up[i] as u32
                + up[i + 3] as u32
                + src[i - 3] as u32
                + src[i + 3] as u32
                + down[i - 3] as u32
                + down[i] as u32
                + down[i + 3] as u32;
            let sum = ring + 5 * src[i] as u32;
            // sum / 13 is never exactly halfway, so rounding half up is exact here.
            let d = ((2 * sum + 13) / 26) as u8;
            out[i] = blend(d, src[i], f);
        }
    }
}
