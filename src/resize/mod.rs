//! Pillow's antialiased bilinear resize (`Image.resize(size, BILINEAR)`, `Resample.c`):
//! a triangle filter widened by the scale factor, weights normalised in double precision,
//! then quantised to 22-bit fixed point; a horizontal pass, then a vertical pass, each
//! rounding to 8 bits.

use crate::error::{Error, Result};
use crate::image::RgbImage;

#[cfg(target_arch = "x86_64")]
mod avx2;

const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Fixed-point filter weights for one axis: for output index i, input indices
/// `start[i] .. start[i] + len[i]` with weights `weights[i * taps ..]`.
struct Coeffs {
    taps: usize,
    start: Vec<usize>,
    len: Vec<usize>,
    weights: Vec<i32>,
}

/// `precompute_coeffs` followed by `normalize_coeffs_8bpc` for a box `[0, in_size)`.
fn coeffs(in_size: usize, out_size: usize) -> Coeffs {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = filterscale; // the bilinear filter's support is 1
    let taps = support.ceil() as usize * 2 + 1;
    let mut c = Coeffs {
        taps,
        start: Vec::with_capacity(out_size),
        len: Vec::with_capacity(out_size),
        weights: vec![0; out_size * taps],
    };
    let mut k = vec![0f64; taps];
    for xx in 0..out_size {
        let center = (xx as f64 + 0.5) * scale;
        let ss = 1.0 / filterscale;
        // C's (int) cast truncates toward zero.
        let xmin = ((center - support + 0.5) as i64).max(0) as usize;
        let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
        let n = xmax.saturating_sub(xmin);
        let mut ww = 0.0;
        for (x, kx) in k.iter_mut().enumerate().take(n) {
            let t = ((x + xmin) as f64 - center + 0.5) * ss;
            let w = if t.abs() < 1.0 { 1.0 - t.abs() } else { 0.0 };
            *kx = w;
            ww += w;
        }
        let row = &mut c.weights[xx * taps..(xx + 1) * taps];
        for (x, kx) in k.iter().enumerate().take(n) {
            let w = if ww != 0.0 { kx / ww } else { *kx };
            let fixed = w * (1u32 << PRECISION_BITS) as f64;
            row[x] = if w < 0.0 {
                (-0.5 + fixed) as i32
            } else {
                (0.5 + fixed) as i32
            };
        }
        c.start.push(xmin);
        c.len.push(n);
    }
    c
}

impl Coeffs {
    /// The same filter with the output order reversed: output `i` takes the window and
    /// weights of output `n - 1 - i`, which mirrors the result without touching a pixel.
    fn mirrored(mut self) -> Coeffs {
        self.start.reverse();
        self.len.reverse();
        let mut rows: Vec<&[i32]> = self.weights.chunks_exact(self.taps).collect();
        rows.reverse();
        self.weights = rows.concat();
        self
    }

    /// Output pixel `xx` of one source row, one window at a time.
    #[inline(always)]
    fn pixel(&self, src: &[u8], xx: usize) -> [u8; 3] {
        let k = &self.weights[xx * self.taps..xx * self.taps + self.len[xx]];
        let window = &src[self.start[xx] * 3..(self.start[xx] + k.len()) * 3];
        let mut ss = [1i32 << (PRECISION_BITS - 1); 3];
        for (p, &w) in window.chunks_exact(3).zip(k) {
            ss[0] += p[0] as i32 * w;
            ss[1] += p[1] as i32 * w;
            ss[2] += p[2] as i32 * w;
        }
        ss.map(clip8)
    }
}

#[inline]
fn clip8(v: i32) -> u8 {
    (v >> PRECISION_BITS).clamp(0, 255) as u8
}

/// A read-only rectangle of an image: what Pillow's `crop` would produce, without copying.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    img: &'a RgbImage,
    x: usize,
    y: usize,
    w: usize,
    h: usize,
}

impl<'a> View<'a> {
    /// The rectangle `[x, x + w) x [y, y + h)` of `img`; it must lie inside the image.
    pub fn new(img: &'a RgbImage, x: usize, y: usize, w: usize, h: usize) -> Result<Self> {
        if w == 0 || h == 0 || x + w > img.width() || y + h > img.height() {
            return Err(Error::Input(format!(
                "region {w}x{h} at ({x}, {y}) does not fit a {}x{} image",
                img.width(),
                img.height()
            )));
        }
        Ok(View { img, x, y, w, h })
    }

    /// The whole image.
    pub fn full(img: &'a RgbImage) -> Self {
        View {
            img,
            x: 0,
            y: 0,
            w: img.width(),
            h: img.height(),
        }
    }

    fn row(&self, y: usize) -> &'a [u8] {
        &self.img.row(self.y + y)[self.x * 3..(self.x + self.w) * 3]
    }
}

/// Horizontal pass: resamples rows `first..first + n` of `row(y)` to `c.start.len()` pixels,
/// with vector shuffles and multiply-adds where the CPU has AVX2 and windows are short.
#[inline(always)]
fn horizontal<'a>(row: impl Fn(usize) -> &'a [u8], first: usize, n: usize, c: &Coeffs) -> Vec<u8> {
    #[cfg(target_arch = "x86_64")]
    if c.len.iter().all(|&l| l <= avx2::MAX_TAPS) && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { avx2::horizontal(row, first, n, c) };
    }
    horizontal_scalar(row, first, n, c)
}

/// [`horizontal`] in plain integer code.
#[inline(always)]
fn horizontal_scalar<'a>(
    row: impl Fn(usize) -> &'a [u8],
    first: usize,
    n: usize,
    c: &Coeffs,
) -> Vec<u8> {
    const ROWS: usize = 4;
    let out_w = c.start.len();
    let stride = out_w * 3;
    let mut out = vec![0u8; stride * n];
    let mut ty = 0;
    // Four rows share every output pixel's window and weights: one pass over the weights
    // feeds twelve independent sums.
    while ty + ROWS <= n {
        let src: [&[u8]; ROWS] = std::array::from_fn(|r| row(first + ty + r));
        let block = &mut out[ty * stride..(ty + ROWS) * stride];
        for xx in 0..out_w {
            let k = &c.weights[xx * c.taps..xx * c.taps + c.len[xx]];
            let (lo, hi) = (c.start[xx] * 3, (c.start[xx] + k.len()) * 3);
            let windows: [&[u8]; ROWS] = std::array::from_fn(|r| &src[r][lo..hi]);
            let mut ss = [[1i32 << (PRECISION_BITS - 1); 3]; ROWS];
            for (t, &w) in k.iter().enumerate() {
                for r in 0..ROWS {
                    let p = &windows[r][t * 3..t * 3 + 3];
                    ss[r][0] += p[0] as i32 * w;
                    ss[r][1] += p[1] as i32 * w;
                    ss[r][2] += p[2] as i32 * w;
                }
            }
            for (r, s) in ss.iter().enumerate() {
                block[r * stride + xx * 3..r * stride + xx * 3 + 3].copy_from_slice(&s.map(clip8));
            }
        }
        ty += ROWS;
    }
    for (t, orow) in out[ty * stride..].chunks_exact_mut(stride).enumerate() {
        let srow = row(first + ty + t);
        for (xx, o) in orow.chunks_exact_mut(3).enumerate() {
            o.copy_from_slice(&c.pixel(srow, xx));
        }
    }
    out
}

/// Vertical pass: output row `yy` mixes rows `c.start[yy] - offset ..` of `row(y)`.
#[inline(always)]
fn vertical<'a>(
    row: impl Fn(usize) -> &'a [u8],
    width: usize,
    offset: usize,
    c: &Coeffs,
) -> Vec<u8> {
    let out_h = c.start.len();
    let mut out = vec![0u8; width * out_h * 3];
    let mut acc = vec![0i32; width * 3];
    for (yy, orow) in out.chunks_exact_mut(width * 3).enumerate() {
        acc.fill(1 << (PRECISION_BITS - 1));
        let k = &c.weights[yy * c.taps..yy * c.taps + c.len[yy]];
        for (y, &w) in k.iter().enumerate() {
            for (a, &v) in acc.iter_mut().zip(row(c.start[yy] - offset + y)) {
                *a += v as i32 * w;
            }
        }
        for (o, &a) in orow.iter_mut().zip(&acc) {
            *o = clip8(a);
        }
    }
    out
}

/// Resizes the view to `out_w` x `out_h` as Pillow's `crop(...).resize(size, BILINEAR)`.
pub fn resize_bilinear(src: View<'_>, out_w: usize, out_h: usize) -> Result<RgbImage> {
    resize(src, out_w, out_h, false)
}

/// [`resize_bilinear`] followed by a horizontal flip (`transpose(FLIP_LEFT_RIGHT)`), at the
/// cost of the resize alone: the horizontal pass writes its pixels in mirrored order.
pub fn resize_bilinear_mirrored(src: View<'_>, out_w: usize, out_h: usize) -> Result<RgbImage> {
    resize(src, out_w, out_h, true)
}

fn resize(src: View<'_>, out_w: usize, out_h: usize, mirror: bool) -> Result<RgbImage> {
    if out_w == 0 || out_h == 0 {
        return Err(Error::Input(format!(
            "cannot resize to an empty size {out_w}x{out_h}"
        )));
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { resize_avx2(src, out_w, out_h, mirror) };
    }
    resize_portable(src, out_w, out_h, mirror)
}

/// The same integer arithmetic with 8-wide 32-bit multiplies.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn resize_avx2(src: View<'_>, out_w: usize, out_h: usize, mirror: bool) -> Result<RgbImage> {
    resize_portable(src, out_w, out_h, mirror)
}

#[inline(always)]
fn resize_portable(src: View<'_>, out_w: usize, out_h: usize, mirror: bool) -> Result<RgbImage> {
    // Mirroring needs a horizontal pass; without one, the rows are reversed afterwards.
    let need_h = out_w != src.w;
    let need_v = out_h != src.h;
    let (w, h) = (src.w, src.h);
    let src_row = |y: usize| src.row(y);
    let data = match (need_h, need_v) {
        (false, false) => (0..h).flat_map(|y| src.row(y).iter().copied()).collect(),
        (true, false) => horizontal(src_row, 0, h, &horizontal_coeffs(w, out_w, mirror)),
        (false, true) => vertical(src_row, w, 0, &coeffs(h, out_h)),
        (true, true) => {
            let (ch, cv) = (horizontal_coeffs(w, out_w, mirror), coeffs(h, out_h));
            // Recent Pillow (13 checked) runs the vertical pass first when the height shrinks more than
            // twice as much as the width; the order changes the intermediate rounding.
            let vertical_first = h > out_h && (h - out_h) as i64 > (w as i64 - out_w as i64) * 2;
            if vertical_first {
                let tmp = vertical(src_row, w, 0, &cv);
                horizontal(|y| &tmp[y * w * 3..(y + 1) * w * 3], 0, out_h, &ch)
            } else {
                // Only the rows the vertical pass reads go through the horizontal pass.
                let first = cv.start[0];
                let last = cv.start[out_h - 1] + cv.len[out_h - 1];
                let tmp = horizontal(src_row, first, last - first, &ch);
                vertical(
                    |y| &tmp[y * out_w * 3..(y + 1) * out_w * 3],
                    out_w,
                    first,
                    &cv,
                )
            }
        }
    };
    let mut out = RgbImage::new(out_w, out_h, data)?;
    if mirror && !need_h {
        for y in 0..out_h {
            bytemuck::cast_slice_mut::<u8, [u8; 3]>(out.row_mut(y)).reverse();
        }
    }
    Ok(out)
}

/// The horizontal filter from `in_w` to `out_w` pixels, mirrored when asked.
fn horizontal_coeffs(in_w: usize, out_w: usize, mirror: bool) -> Coeffs {
    let c = coeffs(in_w, out_w);
    if mirror { c.mirrored() } else { c }
}

/// The size torchvision's `Resize(shorter)` gives a `w` x `h` image: the shorter side
/// becomes `shorter`, the longer `int(shorter * long / short)`.
pub fn shorter_side_size(w: usize, h: usize, shorter: usize) -> (usize, usize) {
    let (short, long) = (w.min(h), w.max(h));
    let new_long = (shorter as f64 * long as f64 / short as f64) as usize;
    if w <= h {
        (shorter, new_long)
    } else {
        (new_long, shorter)
    }
}
