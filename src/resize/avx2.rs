//! The horizontal pass with AVX2 shuffles and 16-bit multiply-adds, for windows of up to
//! five pixels (scale factors up to 2, every RandomResizedCrop of the imagenet preset from
//! photos up to twice its size). Exact: each 22-bit weight is split as `hi * 2^11 + lo`
//! with both halves in 16 bits, so `_mm256_madd_epi16` sums the same integer products the
//! scalar pass sums, and the rounding, shift and clamp are Pillow's.
//!
//! Each 256-bit vector carries two output pixels, one per 128-bit lane, and eight pixels
//! are packed to bytes and stored together: no lane is spent on a second half of a window
//! and no branch depends on a window's length.

use std::arch::x86_64::*;

use super::{Coeffs, PRECISION_BITS};

/// The widest window this pass handles, in pixels.
pub const MAX_TAPS: usize = 5;

/// Output pixels per block: four vectors of two.
const BLOCK: usize = 8;

/// Per lane: taps 0 and 1 as 16-bit [R R G G B B 0 0].
const TAPS01: [i8; 32] = lanes2([0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1]);
/// Per lane: taps 2 and 3 alike.
const TAPS23: [i8; 32] = lanes2([6, -1, 9, -1, 7, -1, 10, -1, 8, -1, 11, -1, -1, -1, -1, -1]);
/// Per lane: tap 4 as 16-bit [R 0 G 0 B 0 0 0].
const TAP4: [i8; 32] = lanes2([
    12, -1, -1, -1, 13, -1, -1, -1, 14, -1, -1, -1, -1, -1, -1, -1,
]);
/// Per lane: four [R G B 0] pixels to twelve bytes, then four zeros.
const COMPACT: [i8; 32] = lanes2([0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1]);

/// The same shuffle in both 128-bit lanes.
const fn lanes2(lane: [i8; 16]) -> [i8; 32] {
    let mut out = [0i8; 32];
    let mut i = 0;
    while i < 16 {
        out[i] = lane[i];
        out[i + 16] = lane[i];
        i += 1;
    }
    out
}

/// The weights one vector multiplies by: the high and low halves for taps 0 and 1, 2 and
/// 3, and 4, each in the lanes [`TAPS01`], [`TAPS23`] and [`TAP4`] produce, for the pixel
/// of each 128-bit lane.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Weights([[i16; 16]; 6]);

impl Weights {
    /// The weights of the pixels in the low and the high lane, `[low, high]`.
    fn new(pixels: [&[i32]; 2]) -> Weights {
        let mut out = [[0i16; 16]; 6];
        for (lane, k) in pixels.into_iter().enumerate() {
            let mut w = [0i32; MAX_TAPS];
            w[..k.len()].copy_from_slice(k);
            let halves = [w.map(|v| (v >> 11) as i16), w.map(|v| (v & 0x7ff) as i16)];
            for (half, h) in halves.iter().enumerate() {
                for c in 0..3 {
                    let at = lane * 8 + 2 * c;
                    out[half][at..at + 2].copy_from_slice(&[h[0], h[1]]);
                    out[2 + half][at..at + 2].copy_from_slice(&[h[2], h[3]]);
                    out[4 + half][at] = h[4];
                }
            }
        }
        Weights(out)
    }
}

/// Eight output pixels of a pass: their weights, laid out for the vectors, and where
/// their windows start.
struct Block {
    /// Pixels `j` and `j + 4` of the block, in the low and the high lane of vector `j`.
    weights: [Weights; 4],
    /// Each pixel's first byte in the source row.
    at: [usize; BLOCK],
    /// Whether every window's 16-byte load stays inside the row (all blocks but those
    /// with a window in the row's last 15 bytes): only other blocks choose, window by
    /// window, between the row and its padded tail.
    inside: bool,
}

/// The horizontal pass of one filter whose windows are at most [`MAX_TAPS`] pixels long
/// (`c.taps` may be more, but no window's length), with every block's weights laid out
/// for the vectors once.
pub struct Horizontal<'c> {
    c: &'c Coeffs,
    blocks: Vec<Block>,
    /// Bytes in a source row.
    row_len: usize,
    /// Whether some window is five pixels long: only then is the fifth tap's work done
    /// (its weights are zero otherwise, and a product with zero adds nothing).
    five: bool,
}

impl<'c> Horizontal<'c> {
    /// The pass of `c` over rows of `row_len` bytes.
    pub fn new(c: &'c Coeffs, row_len: usize) -> Self {
        let blocks = (0..c.start.len() / BLOCK)
            .map(|b| {
                let x0 = b * BLOCK;
                let at = std::array::from_fn(|j| c.start[x0 + j] * 3);
                Block {
                    weights: std::array::from_fn(|j| {
                        Weights::new([c.window(x0 + j).1, c.window(x0 + j + 4).1])
                    }),
                    at,
                    inside: at.iter().all(|&i| i + 16 <= row_len),
                }
            })
            .collect();
        let five = c.len.iter().any(|&l| l > 4);
        Horizontal {
            c,
            blocks,
            row_len,
            five,
        }
    }

    /// Resamples `src` (`row_len` bytes) into `out`, prefetching `ahead`.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn row(&self, src: &[u8], ahead: Option<&[u8]>, out: &mut [u8]) {
        let (c, row_len) = (self.c, self.row_len);
        assert_eq!(
            src.len(),
            row_len,
            "source rows of one pass have one length"
        );
        if let Some(ahead) = ahead {
            prefetch(ahead);
        }
        // Windows whose 16-byte load would run past the row's end read a zero-padded copy
        // of the row's last bytes instead (`tail`, from byte `tail_at`).
        let tail_at = row_len.saturating_sub(32);
        let mut tail = [0u8; 48];
        tail[..row_len - tail_at].copy_from_slice(&src[tail_at..]);
        // SAFETY: AVX2 is enabled for this function; `tail` holds the row's last bytes.
        unsafe {
            if self.five {
                self.blocks::<true>(src, &tail, tail_at, out)
            } else {
                self.blocks::<false>(src, &tail, tail_at, out)
            }
        }
        for xx in self.blocks.len() * BLOCK..c.start.len() {
            out[xx * 3..xx * 3 + 3].copy_from_slice(&c.pixel(src, xx));
        }
    }

    /// The whole blocks of [`row`](Self::row): eight output pixels at a time, the fifth
    /// tap's shuffle and products only where `FIVE`.
    ///
    /// # Safety
    /// The CPU must support AVX2; `tail` must hold the row's bytes from `tail_at` on,
    /// zero-padded to 48 bytes.
    #[target_feature(enable = "avx2")]
    unsafe fn blocks<const FIVE: bool>(
        &self,
        src: &[u8],
        tail: &[u8; 48],
        tail_at: usize,
        out: &mut [u8],
    ) {
        let row_len = self.row_len;
        // SAFETY (all intrinsics below): AVX2 is enabled for this function; every load
        // reads 16 bytes inside `src`, inside `tail` (a window starting past `row_len - 16`
        // starts past `tail_at` and before `row_len`, and `tail` holds 16 bytes beyond
        // that), or a 32-byte aligned `Weights`; every store writes inside `o`.
        unsafe {
            let taps01 = _mm256_loadu_si256(TAPS01.as_ptr().cast());
            let taps23 = _mm256_loadu_si256(TAPS23.as_ptr().cast());
            let tap4 = _mm256_loadu_si256(TAP4.as_ptr().cast());
            let compact = _mm256_loadu_si256(COMPACT.as_ptr().cast());
            let join = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
            let half = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
            for (b, block) in self.blocks.iter().enumerate() {
                let x0 = b * BLOCK;
                let o = &mut out[x0 * 3..(x0 + BLOCK) * 3];
                let load = |i: usize| {
                    let p = if block.inside || i + 16 <= row_len {
                        src.as_ptr().add(i)
                    } else {
                        tail.as_ptr().add(i - tail_at)
                    };
                    _mm_loadu_si128(p.cast::<__m128i>())
                };
                let mut v = [_mm256_setzero_si256(); 4];
                for (j, (v, w)) in v.iter_mut().zip(&block.weights).enumerate() {
                    let p = _mm256_set_m128i(load(block.at[j + 4]), load(block.at[j]));
                    let w = |i: usize| _mm256_load_si256(w.0[i].as_ptr().cast());
                    let p01 = _mm256_shuffle_epi8(p, taps01);
                    let p23 = _mm256_shuffle_epi8(p, taps23);
                    let mut hi = _mm256_add_epi32(
                        _mm256_madd_epi16(p01, w(0)),
                        _mm256_madd_epi16(p23, w(2)),
                    );
                    let mut lo = _mm256_add_epi32(
                        _mm256_madd_epi16(p01, w(1)),
                        _mm256_madd_epi16(p23, w(3)),
                    );
                    if FIVE {
                        let p4 = _mm256_shuffle_epi8(p, tap4);
                        hi = _mm256_add_epi32(hi, _mm256_madd_epi16(p4, w(4)));
                        lo = _mm256_add_epi32(lo, _mm256_madd_epi16(p4, w(5)));
                    }
                    // sum = hi * 2^11 + lo, plus Pillow's half, shifted (clamped when packed).
                    let sum =
                        _mm256_add_epi32(_mm256_add_epi32(_mm256_slli_epi32::<11>(hi), lo), half);
                    *v = _mm256_srai_epi32::<{ PRECISION_BITS as i32 }>(sum);
                }
                // Lanes: [p0 p1 | p4 p5], [p2 p3 | p6 p7] as 16-bit, then p0..p3 | p4..p7 as
                // [R G B 0] bytes, compacted to 12 bytes a lane and joined to 24.
                let lo = _mm256_packs_epi32(v[0], v[1]);
                let hi = _mm256_packs_epi32(v[2], v[3]);
                let bytes = _mm256_shuffle_epi8(_mm256_packus_epi16(lo, hi), compact);
                let rgb = _mm256_permutevar8x32_epi32(bytes, join);
                _mm_storeu_si128(o.as_mut_ptr().cast(), _mm256_castsi256_si128(rgb));
                _mm_storel_epi64(
                    o.as_mut_ptr().add(16).cast(),
                    _mm256_extracti128_si256::<1>(rgb),
                );
            }
        }
    }
}

/// Windows up to this many rows long take [`vertical_row`]'s sums in registers.
pub const MAX_ROWS: usize = 8;

/// One output row of the vertical pass, 32 bytes at a time with their sums held in
/// registers across the window's rows (`rows`, at most [`MAX_ROWS`], weighted by `k`).
/// The same integer products, rounding, shift and clamp as the portable pass.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn vertical_row(rows: &[&[u8]], k: &[i32], out: &mut [u8]) {
    let n = out.len();
    assert!(
        rows.iter().all(|r| r.len() >= n),
        "window rows cover the output row"
    );
    let mut i = 0;
    // SAFETY (all intrinsics below): AVX2 is enabled for this function; every load reads
    // 8 bytes at i + 8q + 8 <= i + 32 <= n <= the row's length, every store writes 32
    // bytes at i + 32 <= n.
    unsafe {
        let half = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
        let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        while i + 32 <= n {
            let mut acc = [half; 4];
            for (src, &w) in rows.iter().zip(k) {
                let w = _mm256_set1_epi32(w);
                for (q, acc) in acc.iter_mut().enumerate() {
                    let bytes = _mm_loadl_epi64(src.as_ptr().add(i + 8 * q).cast());
                    let v = _mm256_mullo_epi32(_mm256_cvtepu8_epi32(bytes), w);
                    *acc = _mm256_add_epi32(*acc, v);
                }
            }
            let [a, b, c, d] = acc.map(|v| _mm256_srai_epi32::<{ PRECISION_BITS as i32 }>(v));
            // Packing works within 128-bit lanes: the eight 4-byte groups come out in the
            // order 0 2 4 6 1 3 5 7, which one permutation restores.
            let bytes = _mm256_packus_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
            let bytes = _mm256_permutevar8x32_epi32(bytes, order);
            _mm256_storeu_si256(out.as_mut_ptr().add(i).cast(), bytes);
            i += 32;
        }
    }
    for (j, o) in out.iter_mut().enumerate().skip(i) {
        let sum = rows
            .iter()
            .zip(k)
            .fold(1 << (PRECISION_BITS - 1), |s, (r, &w)| s + r[j] as i32 * w);
        *o = super::clip8(sum);
    }
}

/// Asks the processor to start loading `bytes` into the cache. Source rows come from main
/// memory (each sample crops a different photo), and one row's thousand-odd bytes end
/// before the hardware prefetcher has caught on; the pass asks two rows ahead.
#[inline(always)]
fn prefetch(bytes: &[u8]) {
    for off in (0..bytes.len()).step_by(64) {
        // SAFETY: SSE is part of every x86_64 processor; a prefetch reads nothing the
        // program sees and the address lies inside `bytes`.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(bytes[off..].as_ptr().cast()) };
    }
}

#[cfg(test)]
mod tests {
    use super::super::coeffs;
    use super::*;

    /// Every window length and position, odd widths and rows that end right after a
    /// window: the same bytes as the scalar rule.
    #[test]
    fn equals_the_scalar_pass() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("SKIPPED resize::avx2::equals_the_scalar_pass: no AVX2 on this CPU");
            return;
        }
        let mut next = crate::test_rng::xorshift64(0x1234_5678);
        let mut byte = || (next() >> 56) as u8;
        for (in_w, out_w) in [
            (31, 17),
            (224, 224),
            (300, 224),
            (150, 224),
            (447, 224),
            // Windows of five pixels, where the fifth tap's work is done.
            (500, 224),
            (7, 5),
            (405, 203),
            (90, 81),
            (17, 31),
            (2, 3),
        ] {
            let rows: Vec<Vec<u8>> = (0..5)
                .map(|_| (0..in_w * 3).map(|_| byte()).collect())
                .collect();
            // Mirrored, the windows that end the row (and cannot be loaded 16 bytes at a
            // time) come first.
            for c in [coeffs(in_w, out_w), coeffs(in_w, out_w).mirrored()] {
                let pass = Horizontal::new(&c, in_w * 3);
                for row in &rows {
                    let mut fast = vec![0u8; out_w * 3];
                    // SAFETY: AVX2 checked above.
                    unsafe { pass.row(row, None, &mut fast) };
                    let slow: Vec<u8> = (0..out_w).flat_map(|xx| c.pixel(row, xx)).collect();
                    assert_eq!(fast, slow, "{in_w} -> {out_w}");
                }
            }
        }
    }

    /// The vertical pass's rows with the sums in registers: the portable pass's bytes for
    /// every window of shrinking and growing filters, at row widths around the 32-byte
    /// step.
    #[test]
    fn vertical_rows_equal_the_portable_pass() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("SKIPPED resize::avx2::vertical_rows_equal_the_portable_pass: no AVX2");
            return;
        }
        let mut next = crate::test_rng::xorshift64(0x5eed_1234);
        for width in [1, 31, 32, 33, 96, 672, 700] {
            let rows: Vec<Vec<u8>> = (0..40)
                .map(|_| (0..width).map(|_| (next() >> 56) as u8).collect())
                .collect();
            for (in_h, out_h) in [(40, 17), (40, 23), (20, 40), (30, 29)] {
                let c = coeffs(in_h, out_h);
                for yy in 0..out_h {
                    let (first, k) = c.window(yy);
                    if k.len() > MAX_ROWS {
                        continue;
                    }
                    let window: Vec<&[u8]> = rows[first..first + k.len()]
                        .iter()
                        .map(|r| r.as_slice())
                        .collect();
                    let (mut fast, mut slow) = (vec![0u8; width], vec![0u8; width]);
                    // SAFETY: AVX2 checked above.
                    unsafe { vertical_row(&window, k, &mut fast) };
                    let mut acc = vec![0i32; width];
                    super::super::vertical_row(window.iter().copied(), k, &mut acc, &mut slow);
                    assert_eq!(fast, slow, "width {width}, {in_h} -> {out_h}, row {yy}");
                }
            }
        }
    }
}
