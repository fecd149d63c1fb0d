//! Pillow's antialiased bilinear resize (`Image.resize(size, BILINEAR)`, `Resample.c`):
//! a triangle filter widened by the scale factor, weights normalised in double precision,
//! then quantised to 22-bit fixed point; a horizontal pass, then a vertical pass, each
//! rounding to 8 bits.

use crate::error::{Error, Result};
use crate::image::{ImageView, RgbImage};

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

/// Pillow's fixed-point filter for resizing `in_size` values to `out_size`, laid out for the
/// kernels: `taps`, then per output index its first input index, its length and `taps`
/// weights (zero past the length). Computed once per sample and axis, in double precision
/// on the host, so the resize kernels do integer arithmetic only.
#[cfg(feature = "cuda")]
pub(crate) fn kernel_coeffs(in_size: usize, out_size: usize, out: &mut Vec<i32>) {
    let c = coeffs(in_size, out_size);
    out.reserve(1 + out_size * (2 + c.taps));
    out.push(c.taps as i32);
    for i in 0..out_size {
        out.push(c.start[i] as i32);
        out.push(c.len[i] as i32);
        out.extend_from_slice(&c.weights[i * c.taps..(i + 1) * c.taps]);
    }
}

impl Coeffs {
    /// The window of output `i`: its first input index and weights.
    fn window(&self, i: usize) -> (usize, &[i32]) {
        (
            self.start[i],
            &self.weights[i * self.taps..i * self.taps + self.len[i]],
        )
    }

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
        let (start, k) = self.window(xx);
        let window = &src[start * 3..(start + k.len()) * 3];
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
    img: ImageView<'a>,
    x: usize,
    y: usize,
    w: usize,
    h: usize,
}

impl<'a> View<'a> {
    /// The rectangle `[x, x + w) x [y, y + h)` of `img`; it must lie inside the image.
    pub fn new(
        img: impl Into<ImageView<'a>>,
        x: usize,
        y: usize,
        w: usize,
        h: usize,
    ) -> Result<Self> {
        let img = img.into();
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
    pub fn full(img: impl Into<ImageView<'a>>) -> Self {
        let img = img.into();
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

/// The horizontal pass of one filter, prepared once and then run row by row: vector
/// shuffles and multiply-adds where the CPU has AVX2 and windows are short, else plain
/// integer code.
enum Horizontal<'c> {
    #[cfg(target_arch = "x86_64")]
    Avx2(avx2::Horizontal<'c>),
    Scalar(&'c Coeffs),
}

impl<'c> Horizontal<'c> {
    /// The pass of `c` over rows of `row_len` bytes; `simd` says the CPU has AVX2.
    fn new(c: &'c Coeffs, row_len: usize, simd: bool) -> Self {
        #[cfg(target_arch = "x86_64")]
        if simd && c.len.iter().all(|&l| l <= avx2::MAX_TAPS) {
            return Horizontal::Avx2(avx2::Horizontal::new(c, row_len));
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (simd, row_len);
        Horizontal::Scalar(c)
    }

    /// Resamples `src` into `out`; `ahead`, a row to come, is fetched into the cache
    /// meanwhile.
    #[inline(always)]
    fn row(&self, src: &[u8], ahead: Option<&[u8]>, out: &mut [u8]) {
        match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `new` chose this variant where the caller said the CPU has AVX2.
            Horizontal::Avx2(h) => unsafe { h.row(src, ahead, out) },
            Horizontal::Scalar(c) => {
                for (xx, o) in out.chunks_exact_mut(3).enumerate() {
                    o.copy_from_slice(&c.pixel(src, xx));
                }
            }
        }
    }
}

/// One output row of the vertical pass, with the sums in registers (AVX2, when `simd`
/// says the CPU has it, and windows of at most [`avx2::MAX_ROWS`] rows) or through
/// [`vertical_row`].
#[inline(always)]
fn vertical_window<'a>(
    simd: bool,
    rows: impl Iterator<Item = &'a [u8]>,
    k: &[i32],
    acc: &mut [i32],
    out: &mut [u8],
) {
    #[cfg(target_arch = "x86_64")]
    if simd && k.len() <= avx2::MAX_ROWS {
        let mut window: [&[u8]; avx2::MAX_ROWS] = [&[]; avx2::MAX_ROWS];
        for (slot, row) in window.iter_mut().zip(rows) {
            *slot = row;
        }
        // SAFETY: `simd` is set only where the CPU has AVX2.
        return unsafe { avx2::vertical_row(&window[..k.len()], k, out) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = simd;
    vertical_row(rows, k, acc, out)
}

/// One output row of the vertical pass: the window's input `rows` mixed with weights `k`,
/// through the accumulator `acc` (one `i32` per byte of the row).
#[inline(always)]
fn vertical_row<'a>(
    rows: impl Iterator<Item = &'a [u8]>,
    k: &[i32],
    acc: &mut [i32],
    out: &mut [u8],
) {
    acc.fill(1 << (PRECISION_BITS - 1));
    for (src, &w) in rows.zip(k) {
        for (a, &v) in acc.iter_mut().zip(src) {
            *a += v as i32 * w;
        }
    }
    for (o, &a) in out.iter_mut().zip(acc.iter()) {
        *o = clip8(a);
    }
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
    resize_portable(src, out_w, out_h, mirror, false)
}

/// The same integer arithmetic with 8-wide 32-bit multiplies, and the passes' AVX2 rows.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn resize_avx2(src: View<'_>, out_w: usize, out_h: usize, mirror: bool) -> Result<RgbImage> {
    resize_portable(src, out_w, out_h, mirror, true)
}

/// The resize; `simd` says the CPU has AVX2 (the caller checked).
#[inline(always)]
fn resize_portable(
    src: View<'_>,
    out_w: usize,
    out_h: usize,
    mirror: bool,
    simd: bool,
) -> Result<RgbImage> {
    // Mirroring needs a horizontal pass; without one, the rows are reversed afterwards.
    let need_h = out_w != src.w;
    let need_v = out_h != src.h;
    let (w, h) = (src.w, src.h);
    let stride = out_w * 3;
    let mut data = vec![0u8; stride * out_h];
    // The source row two ahead of `y`, which the horizontal pass prefetches.
    let ahead = |y: usize| (y + 2 < h).then(|| src.row(y + 2));
    let rows = data.chunks_exact_mut(stride);
    match (need_h, need_v) {
        (false, false) => {
            for (y, o) in rows.enumerate() {
                o.copy_from_slice(src.row(y));
            }
        }
        (true, false) => {
            let ch = horizontal_coeffs(w, out_w, mirror);
            let pass = Horizontal::new(&ch, w * 3, simd);
            for (y, o) in rows.enumerate() {
                pass.row(src.row(y), ahead(y), o);
            }
        }
        (false, true) => {
            let cv = coeffs(h, out_h);
            let mut acc = vec![0i32; stride];
            for (yy, o) in rows.enumerate() {
                let (first, k) = cv.window(yy);
                let window = (first..first + k.len()).map(|y| src.row(y));
                vertical_window(simd, window, k, &mut acc, o);
            }
        }
        (true, true) => {
            let (ch, cv) = (horizontal_coeffs(w, out_w, mirror), coeffs(h, out_h));
            let pass = Horizontal::new(&ch, w * 3, simd);
            // Recent Pillow (13 checked) runs the vertical pass first when the height shrinks more than
            // twice as much as the width; the order changes the intermediate rounding.
            let vertical_first = h > out_h && (h - out_h) as i64 > (w as i64 - out_w as i64) * 2;
            if vertical_first {
                // Each output row: the vertical pass's row at the source width, resampled.
                let mut tmp = vec![0u8; w * 3];
                let mut acc = vec![0i32; w * 3];
                for (yy, o) in rows.enumerate() {
                    let (first, k) = cv.window(yy);
                    let window = (first..first + k.len()).map(|y| src.row(y));
                    vertical_window(simd, window, k, &mut acc, &mut tmp);
                    pass.row(&tmp, None, o);
                }
            } else {
                // The horizontal pass resamples each source row once, when the first
                // vertical window reaches it, into a ring of `cv.taps` rows (no window is
                // longer): the intermediate image never leaves the cache.
                let slots = cv.taps;
                let mut ring = vec![0u8; slots * stride];
                let mut acc = vec![0i32; stride];
                let mut next = 0;
                for (yy, o) in rows.enumerate() {
                    let (first, k) = cv.window(yy);
                    next = next.max(first);
                    while next < first + k.len() {
                        let slot = &mut ring[next % slots * stride..][..stride];
                        pass.row(src.row(next), ahead(next), slot);
                        next += 1;
                    }
                    let window =
                        (first..first + k.len()).map(|y| &ring[y % slots * stride..][..stride]);
                    vertical_window(simd, window, k, &mut acc, o);
                }
            }
        }
    }
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
