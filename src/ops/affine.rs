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
    if let Some((tx, ty)) = integer_shift(m) {
        return shifted_row(img, tx, ty, y, out);
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { row_avx2(m, img, y, out) };
    }
    row_scalar(m, img, y, out);
}

/// Where the output pixels of one row come from: for pixel x, the byte offsets of its four
/// input neighbours and the weights between them, or None outside the image.
struct RowMap {
    m: [f64; 6],
    size: (f64, f64),
    /// `b * yc` and `e * yc`, the same all along the row.
    yc: (f64, f64),
    last: (isize, isize),
    stride: usize,
}

impl RowMap {
    fn new(m: &[f64; 6], img: &RgbImage, y: usize) -> RowMap {
        let (w, h) = (img.width(), img.height());
        let yc = y as f64 + 0.5;
        RowMap {
            m: *m,
            size: (w as f64, h as f64),
            // Pillow evaluates (a*xc + b*yc) + c; the products with yc are the same all along the row.
            yc: (m[1] * yc, m[4] * yc),
            last: (w as isize - 1, h as isize - 1),
            stride: w * 3,
        }
    }

    /// Output pixel `x`: byte offsets of (x0, y0), (x1, y0), (x0, y1), (x1, y1), and (dx, dy).
    #[inline(always)]
    fn at(&self, x: usize) -> Option<([usize; 4], f64, f64)> {
        let m = &self.m;
        let xc = x as f64 + 0.5;
        let xin = m[0] * xc + self.yc.0 + m[2];
        let yin = m[3] * xc + self.yc.1 + m[5];
        if !(xin >= 0.0 && xin < self.size.0 && yin >= 0.0 && yin < self.size.1) {
            return None;
        }
        let (xs, ys) = (xin - 0.5, yin - 0.5);
        // xs, ys >= -0.5 here, so floor is truncation except on (-0.5, 0).
        let ix = if xs < 0.0 { -1 } else { xs as isize };
        let iy = if ys < 0.0 { -1 } else { ys as isize };
        let (dx, dy) = (xs - ix as f64, ys - iy as f64);
        let (last_x, last_y) = self.last;
        let x0 = ix.clamp(0, last_x) as usize * 3;
        let x1 = (ix + 1).min(last_x) as usize * 3;
        let r0 = iy.clamp(0, last_y) as usize * self.stride;
        // Pillow falls back to the same row when the row below is outside the image.
        let r1 = if iy < last_y {
            (iy + 1) as usize * self.stride
        } else {
            r0
        };
        Some(([r0 + x0, r0 + x1, r1 + x0, r1 + x1], dx, dy))
    }
}

/// [`row`] with AVX2: four output pixels mapped to the input at once (Pillow's double
/// arithmetic, lane by lane). Where eight neighbouring pixels read eight neighbouring input
/// pixels of the same rows (shears and small rotations, away from the edges) their 24 channel
/// values are interpolated together ([`run8`]); elsewhere each pixel's three channels are
/// one vector of four doubles ([`group`]). The same IEEE operations per value (no FMA), so
/// the same bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn row_avx2(m: &[f64; 6], img: &RgbImage, y: usize, out: &mut [u8]) {
    use std::arch::x86_64::*;
    let map = RowMap::new(m, img, y);
    let src = img.as_bytes();
    let width = out.len() / 3;
    // Byte offsets are computed in 32-bit lanes.
    let vector_width = if src.len() < i32::MAX as usize / 2 {
        width / 4 * 4
    } else {
        0
    };
    let (c0, c1, c2) = (
        _mm256_set1_pd(m[0]),
        _mm256_set1_pd(map.yc.0),
        _mm256_set1_pd(m[2]),
    );
    let (c3, c4, c5) = (
        _mm256_set1_pd(m[3]),
        _mm256_set1_pd(map.yc.1),
        _mm256_set1_pd(m[5]),
    );
    let (last_x, last_y) = (map.last.0 as i32, map.last.1 as i32);
    let stride = map.stride as i32;
    // Pixels x..x + 4 mapped to the input, as RowMap::at maps one: the input point, the
    // whole pixel at or below it and the weights.
    let coords4 = |x: usize| -> Coords {
        // x + i + 0.5, exactly (whole numbers and halves far below 2^52).
        let xc = _mm256_add_pd(_mm256_set1_pd(x as f64), _mm256_setr_pd(0.5, 1.5, 2.5, 3.5));
        // (a * xc + b * yc) + c, as RowMap::at.
        let xin = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(c0, xc), c1), c2);
        let yin = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(c3, xc), c4), c5);
        let half = _mm256_set1_pd(0.5);
        let (xs, ys) = (_mm256_sub_pd(xin, half), _mm256_sub_pd(yin, half));
        // Inside the image xs, ys >= -0.5, where floor is RowMap::at's rule.
        let (fx, fy) = (_mm256_floor_pd(xs), _mm256_floor_pd(ys));
        Coords {
            xin,
            yin,
            ix: _mm256_cvttpd_epi32(fx),
            iy: _mm256_cvttpd_epi32(fy),
            dx: _mm256_sub_pd(xs, fx),
            dy: _mm256_sub_pd(ys, fy),
        }
    };
    // Which of the four pixels lie inside the image, and their neighbours' byte offsets
    // (clamped at the edges as RowMap::at clamps them).
    let lanes = |c: &Coords| -> Lanes {
        let zero = _mm256_setzero_pd();
        let inside = _mm256_and_pd(
            _mm256_and_pd(
                _mm256_cmp_pd::<_CMP_GE_OQ>(c.xin, zero),
                _mm256_cmp_pd::<_CMP_LT_OQ>(c.xin, _mm256_set1_pd(map.size.0)),
            ),
            _mm256_and_pd(
                _mm256_cmp_pd::<_CMP_GE_OQ>(c.yin, zero),
                _mm256_cmp_pd::<_CMP_LT_OQ>(c.yin, _mm256_set1_pd(map.size.1)),
            ),
        );
        let (ix, iy) = (c.ix, c.iy);
        let one = _mm_set1_epi32(1);
        let (lx, ly) = (_mm_set1_epi32(last_x), _mm_set1_epi32(last_y));
        let three = _mm_set1_epi32(3);
        let s = _mm_set1_epi32(stride);
        let x0 = _mm_mullo_epi32(
            _mm_min_epi32(_mm_max_epi32(ix, _mm_setzero_si128()), lx),
            three,
        );
        let x1 = _mm_mullo_epi32(_mm_min_epi32(_mm_add_epi32(ix, one), lx), three);
        let r0 = _mm_mullo_epi32(_mm_min_epi32(_mm_max_epi32(iy, _mm_setzero_si128()), ly), s);
        // The row below, or the same row at the bottom edge.
        let below = _mm_mullo_epi32(_mm_add_epi32(iy, one), s);
        let r1 = _mm_blendv_epi8(r0, below, _mm_cmplt_epi32(iy, ly));
        Lanes {
            inside: _mm256_movemask_pd(inside),
            x0,
            x1,
            r0,
            r1,
        }
    };
    let bounds = (last_x, last_y, stride);
    // Eight pixels can read eight side-by-side input pixels of one row only where a step
    // along the output row moves the input point by about one column and under a seventh
    // of a row (shears, small rotations); elsewhere the check is not worth its time.
    let runs = (m[0] - 1.0).abs() < 1.0 / 7.0 && m[3].abs() < 1.0 / 7.0;
    let mut x = 0;
    while x + 8 <= vector_width {
        let (a, b) = (coords4(x), coords4(x + 4));
        let pixels = &mut out[x * 3..x * 3 + 24];
        // SAFETY: AVX2 is enabled for this function.
        if !(runs && unsafe { run8_if_side_by_side(src, bounds, &a, &b, pixels) }) {
            let (left, right) = pixels.split_at_mut(12);
            // SAFETY: as above.
            unsafe {
                group_dispatch(src, &a, &lanes(&a), left);
                group_dispatch(src, &b, &lanes(&b), right);
            }
        }
        x += 8;
    }
    if x < vector_width {
        let c = coords4(x);
        let l = lanes(&c);
        // SAFETY: AVX2 is enabled for this function.
        unsafe { group_dispatch(src, &c, &l, &mut out[x * 3..x * 3 + 12]) };
        x += 4;
    }
    for x in x..width {
        let o = &mut out[x * 3..x * 3 + 3];
        match map.at(x) {
            // SAFETY: AVX2 is enabled for this function.
            Some((corners, dx, dy)) => unsafe {
                lerp_pixel_avx2::<true, true>(src, corners, dx, dy, o)
            },
            None => o.fill(0),
        }
    }
}

/// Four output pixels mapped to the input: the input points, the whole pixels at or
/// below them (`floor` of the point less a half) and the weights.
#[cfg(target_arch = "x86_64")]
struct Coords {
    xin: std::arch::x86_64::__m256d,
    yin: std::arch::x86_64::__m256d,
    ix: std::arch::x86_64::__m128i,
    iy: std::arch::x86_64::__m128i,
    dx: std::arch::x86_64::__m256d,
    dy: std::arch::x86_64::__m256d,
}

/// Where four mapped pixels ([`Coords`]) read: a bit of `inside` for each pixel inside the
/// image, and the byte offsets of its neighbours' columns (`x0`, `x1`) and rows (`r0`,
/// `r1`).
#[cfg(target_arch = "x86_64")]
struct Lanes {
    inside: i32,
    x0: std::arch::x86_64::__m128i,
    x1: std::arch::x86_64::__m128i,
    r0: std::arch::x86_64::__m128i,
    r1: std::arch::x86_64::__m128i,
}

/// [`group`] for four mapped pixels (`c`, reading at `l`), without the weights that are zero for all four:
/// shears keep one weight at zero all along the row (dy for shear_x, dx for shear_y), and
/// a + (b - a) * 0 is a exactly, so that half of the work is skipped.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn group_dispatch(src: &[u8], c: &Coords, l: &Lanes, pixels: &mut [u8]) {
    // SAFETY: the transmutes reinterpret 128- and 256-bit vectors as arrays of the same
    // size; the caller's CPU supports AVX2.
    unsafe {
        let lanes = |v: std::arch::x86_64::__m128i| -> [i32; 4] { std::mem::transmute(v) };
        let doubles = |v: std::arch::x86_64::__m256d| -> [f64; 4] { std::mem::transmute(v) };
        let corners = [lanes(l.x0), lanes(l.x1), lanes(l.r0), lanes(l.r1)];
        let (dx, dy) = (doubles(c.dx), doubles(c.dy));
        match (dx.iter().all(|&d| d == 0.0), dy.iter().all(|&d| d == 0.0)) {
            (false, false) => group::<true, true>(src, l.inside, corners, dx, dy, pixels),
            (false, true) => group::<true, false>(src, l.inside, corners, dx, dy, pixels),
            (true, false) => group::<false, true>(src, l.inside, corners, dx, dy, pixels),
            (true, true) => group::<false, false>(src, l.inside, corners, dx, dy, pixels),
        }
    }
}

/// Interpolates eight output pixels (`a`, then `b`) with [`run8`] if they read eight
/// side-by-side input pixels of one row (and of the row below, the pixels to their right,
/// where those weights are used), all away from the edges, where the clamped offsets
/// of [`group`] are the plain ones; returns whether it did. `bounds` is the last column,
/// the last row and the row stride in bytes.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn run8_if_side_by_side(
    src: &[u8],
    (last_x, last_y, stride): (i32, i32, i32),
    a: &Coords,
    b: &Coords,
    out: &mut [u8],
) -> bool {
    use std::arch::x86_64::*;
    let zero = _mm256_setzero_pd();
    let nonzero = |v: __m256d| _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_NEQ_UQ>(v, zero));
    let use_dx = nonzero(a.dx) | nonzero(b.dx) != 0;
    let use_dy = nonzero(a.dy) | nonzero(b.dy) != 0;
    let same = |p: __m128i, q: __m128i| _mm_movemask_epi8(_mm_cmpeq_epi32(p, q)) == 0xffff;
    let (ix, iy) = (_mm_cvtsi128_si32(a.ix), _mm_cvtsi128_si32(a.iy));
    let first = _mm_set1_epi32(ix);
    let row = _mm_set1_epi32(iy);
    // Columns ix..ix + 8 of row iy, with their right (and lower) neighbours inside the
    // image: then every pixel is inside, and no offset is clamped.
    let fits = ix >= 0
        && ix + 7 + use_dx as i32 <= last_x
        && iy >= 0
        && iy + use_dy as i32 <= last_y
        && same(a.ix, _mm_add_epi32(first, _mm_setr_epi32(0, 1, 2, 3)))
        && same(b.ix, _mm_add_epi32(first, _mm_setr_epi32(4, 5, 6, 7)))
        && same(a.iy, row)
        && same(b.iy, row);
    if !fits {
        return false;
    }
    let top = iy as usize * stride as usize + ix as usize * 3;
    let bottom = if use_dy { top + stride as usize } else { top };
    // run8 reads 24 bytes from each row offset, and 3 further with the x weights; the
    // columns checked above keep that inside the image but for the last row's end.
    if bottom + 27 > src.len() {
        return false;
    }
    let (dx, dy) = ([a.dx, b.dx], [a.dy, b.dy]);
    // SAFETY: the caller's CPU supports AVX2; the offsets are checked just above.
    unsafe {
        match (use_dx, use_dy) {
            (true, true) => run8::<true, true>(src, top, bottom, dx, dy, out),
            (true, false) => run8::<true, false>(src, top, bottom, dx, dy, out),
            (false, true) => run8::<false, true>(src, top, bottom, dx, dy, out),
            (false, false) => run8::<false, false>(src, top, bottom, dx, dy, out),
        }
    }
    true
}

/// Eight output pixels from eight side-by-side input pixels at byte offset `top` (and
/// their right neighbours), and the same columns at `bottom`: the 24 channel values in
/// six vectors of four doubles, each lane weighted by its own pixel's dx and dy. Each
/// value goes through [`lerp_pixel_avx2`]'s operations, so the bytes are the same.
///
/// # Safety
/// The CPU must support AVX2; `top + 27` and `bottom + 27` must not exceed `src.len()`,
/// and `out` must hold 24 bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn run8<const DX: bool, const DY: bool>(
    src: &[u8],
    top: usize,
    bottom: usize,
    dx: [std::arch::x86_64::__m256d; 2],
    dy: [std::arch::x86_64::__m256d; 2],
    out: &mut [u8],
) {
    use std::arch::x86_64::*;
    // SAFETY (all intrinsics): AVX2 is enabled; every load reads 4 bytes at most 23 bytes
    // past `top` or `bottom`, plus 3 for the right neighbours: within src (the caller's
    // bound).
    unsafe {
        let load = |i: usize| bytes4(src, i);
        // Channel values 4k..4k + 4 belong to pixels (4k + j) / 3: their weights.
        let spread = |w: &[__m256d; 2], k: usize| {
            let v = w[k / 3];
            match k % 3 {
                0 => _mm256_permute4x64_pd::<0b01_00_00_00>(v),
                1 => _mm256_permute4x64_pd::<0b10_10_01_01>(v),
                _ => _mm256_permute4x64_pd::<0b11_11_11_10>(v),
            }
        };
        let along_x = |row: usize, k: usize| {
            if DX {
                lerp(load(row + 4 * k), load(row + 3 + 4 * k), spread(&dx, k))
            } else {
                load(row + 4 * k)
            }
        };
        let value = |k: usize| {
            let v1 = along_x(top, k);
            let v = if DY {
                lerp(v1, along_x(bottom, k), spread(&dy, k))
            } else {
                v1
            };
            _mm256_cvttpd_epi32(v)
        };
        let (v0, v1, v2, v3, v4, v5) = (value(0), value(1), value(2), value(3), value(4), value(5));
        // Values are in 0..=255 (interpolations between bytes): the packs only narrow.
        let low = _mm_packus_epi16(_mm_packus_epi32(v0, v1), _mm_packus_epi32(v2, v3));
        let high = _mm_packus_epi16(_mm_packus_epi32(v4, v5), _mm_setzero_si128());
        _mm_storeu_si128(out.as_mut_ptr().cast(), low);
        _mm_storel_epi64(out.as_mut_ptr().add(16).cast(), high);
    }
}

/// Four pixels of [`row_avx2`]: `inside` has a bit for each pixel inside the image, and
/// `[x0, x1, r0, r1]` their neighbours' column and row byte offsets.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn group<const DX: bool, const DY: bool>(
    src: &[u8],
    inside: i32,
    [x0, x1, r0, r1]: [[i32; 4]; 4],
    dx: [f64; 4],
    dy: [f64; 4],
    out: &mut [u8],
) {
    for j in 0..4 {
        let o = &mut out[j * 3..j * 3 + 3];
        if inside & (1 << j) == 0 {
            o.fill(0);
            continue;
        }
        // Non-negative: the lanes of pixels inside the image are clamped indices.
        let at = |r: i32, c: i32| (r + c) as usize;
        let corners = [
            at(r0[j], x0[j]),
            at(r0[j], x1[j]),
            at(r1[j], x0[j]),
            at(r1[j], x1[j]),
        ];
        // SAFETY: the caller's CPU supports AVX2.
        unsafe { lerp_pixel_avx2::<DX, DY>(src, corners, dx[j], dy[j], o) };
    }
}

/// One pixel's three channels interpolated as one vector of four doubles (inlined into
/// [`row_avx2`], so that the processor overlaps neighbouring pixels). `DX` and `DY` say
/// whether the pixel interpolates along x and y; without, the weight must be 0, where
/// Pillow's `a + (b - a) * 0` is `a` exactly.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn lerp_pixel_avx2<const DX: bool, const DY: bool>(
    src: &[u8],
    corners: [usize; 4],
    dx: f64,
    dy: f64,
    o: &mut [u8],
) {
    use std::arch::x86_64::*;
    // The last corner is the farthest (x1 >= x0, y1 >= y0); the last pixel of the image
    // has no byte beyond it to load.
    if corners[3] + 4 > src.len() {
        return sample_pixel(src, corners, dx, dy, o);
    }
    // SAFETY (all intrinsics): AVX2 is enabled; every load reads 4 bytes at i with
    // i + 4 <= corners[3] + 4 <= src.len(), checked above.
    unsafe {
        // Four bytes from a corner (the pixel and one beyond).
        let load = |i: usize| bytes4(src, i);
        let (dxv, dyv) = (_mm256_set1_pd(dx), _mm256_set1_pd(dy));
        let along_x = |left: usize, right: usize| {
            if DX {
                lerp(load(left), load(right), dxv)
            } else {
                load(left)
            }
        };
        let v1 = along_x(corners[0], corners[1]);
        let v = if DY {
            lerp(v1, along_x(corners[2], corners[3]), dyv)
        } else {
            v1
        };
        let v = _mm256_cvttpd_epi32(v);
        let bytes = _mm_packus_epi16(_mm_packs_epi32(v, v), v);
        let rgb = (_mm_cvtsi128_si32(bytes) as u32).to_le_bytes();
        o.copy_from_slice(&rgb[..3]);
    }
}

/// The four bytes `src[i..i + 4]` as doubles.
///
/// # Safety
/// The CPU must support AVX2, and `i + 4` must not exceed `src.len()`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn bytes4(src: &[u8], i: usize) -> std::arch::x86_64::__m256d {
    use std::arch::x86_64::*;
    // SAFETY: the caller's CPU supports AVX2 and the four bytes lie inside `src`.
    unsafe { _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_loadu_si32(src.as_ptr().add(i)))) }
}

/// Pillow's `a + (b - a) * d` in four lanes.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn lerp(
    a: std::arch::x86_64::__m256d,
    b: std::arch::x86_64::__m256d,
    d: std::arch::x86_64::__m256d,
) -> std::arch::x86_64::__m256d {
    use std::arch::x86_64::*;
    // SAFETY: the caller's CPU supports AVX2.
    unsafe { _mm256_add_pd(a, _mm256_mul_pd(_mm256_sub_pd(b, a), d)) }
}

/// One pixel bilinearly from its four corners (byte offsets of `src`).
#[inline(always)]
fn sample_pixel(src: &[u8], [a, b, a2, b2]: [usize; 4], dx: f64, dy: f64, o: &mut [u8]) {
    let lerp = |a: u8, b: u8, d: f64| a as f64 + (b as f64 - a as f64) * d;
    if dy == 0.0 {
        // v1 + (v2 - v1) * 0 is v1 exactly: the second row does not matter.
        for c in 0..3 {
            o[c] = lerp(src[a + c], src[b + c], dx) as u8;
        }
    } else {
        for c in 0..3 {
            let v1 = lerp(src[a + c], src[b + c], dx);
            let v2 = lerp(src[a2 + c], src[b2 + c], dx);
            o[c] = (v1 + (v2 - v1) * dy) as u8;
        }
    }
}

/// [`row`] one channel at a time.
#[inline(always)]
fn row_scalar(m: &[f64; 6], img: &RgbImage, y: usize, out: &mut [u8]) {
    let map = RowMap::new(m, img, y);
    let src = img.as_bytes();
    for (x, o) in out.chunks_exact_mut(3).enumerate() {
        match map.at(x) {
            Some((corners, dx, dy)) => sample_pixel(src, corners, dx, dy, o),
            None => o.fill(0),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector rows give the scalar rows' bytes for rotations, shears and translations
    /// of odd-sized images, including points on the last pixel of the image.
    #[test]
    fn vector_rows_equal_scalar_rows() {
        #[cfg(target_arch = "x86_64")]
        {
            if !std::arch::is_x86_feature_detected!("avx2") {
                eprintln!("SKIPPED affine::vector_rows_equal_scalar_rows: no AVX2 on this CPU");
                return;
            }
            let mut next = crate::test_rng::xorshift64(0x9E37_79B9);
            for (w, h) in [(31, 17), (224, 224), (5, 3), (300, 173)] {
                let data = (0..w * h * 3).map(|_| (next() >> 56) as u8).collect();
                let img = RgbImage::new(w, h, data).unwrap();
                let mut ms = vec![
                    [1.0, 0.0, 0.5, 0.0, 1.0, -0.25],
                    [1.0, 0.0, 0.0, 0.0, 1.0, 0.5],
                    // Not a whole-pixel shift, yet every weight rounds to zero.
                    [1.0, 0.0, 1e-30, 0.0, 1.0, 0.0],
                ];
                for deg in [1.0, 1.5, 2.0, 17.0, 93.0, 181.0, 270.5, 359.0] {
                    if let PreparedOp::Affine(m) = rotate(deg, w, h) {
                        ms.push(m);
                    }
                }
                for k in [-0.3, 0.29, 0.1, 0.02, -0.004] {
                    ms.push([1.0, k, 0.0, 0.0, 1.0, 0.0]);
                    ms.push([1.0, 0.0, 0.0, k, 1.0, 0.0]);
                }
                for m in &ms {
                    for y in 0..h {
                        let (mut a, mut b) = (vec![0u8; w * 3], vec![0u8; w * 3]);
                        // SAFETY: AVX2 checked above.
                        unsafe { row_avx2(m, &img, y, &mut a) };
                        row_scalar(m, &img, y, &mut b);
                        assert_eq!(a, b, "{w}x{h} {m:?} row {y}");
                    }
                }
            }
        }
    }
}
