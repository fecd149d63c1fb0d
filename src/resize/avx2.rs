//! The horizontal pass with AVX2 shuffles and 16-bit multiply-adds, for windows of up to
//! five pixels (scale factors up to 2, every RandomResizedCrop of the imagenet preset from
//! photos up to twice its size). Exact: each 22-bit weight is split as `hi * 2^11 + lo`
//! with both halves in 16 bits, so `_mm256_madd_epi16` sums the same integer products the
//! scalar pass sums, and the rounding, shift and clamp are Pillow's.

use std::arch::x86_64::*;

use super::{Coeffs, PRECISION_BITS};

/// The widest window this pass handles, in pixels.
pub const MAX_TAPS: usize = 5;

/// Taps 0 and 1 (low lane) and 2 and 3 (high lane) as 16-bit [R R G G B B 0 0].
const PAIRS: [i8; 32] = [
    0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1, //
    6, -1, 9, -1, 7, -1, 10, -1, 8, -1, 11, -1, -1, -1, -1, -1,
];
/// Tap 4 as 16-bit [R 0 G 0 B 0 0 0].
const FIFTH: [i8; 16] = [
    12, -1, -1, -1, 13, -1, -1, -1, 14, -1, -1, -1, -1, -1, -1, -1,
];

/// One output pixel's weights in the lanes [`PAIRS`] and [`FIFTH`] produce.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Lanes {
    hi: [i16; 16],
    lo: [i16; 16],
    hi4: [i16; 8],
    lo4: [i16; 8],
}

fn lanes(k: &[i32]) -> Lanes {
    let mut w = [0i32; MAX_TAPS];
    w[..k.len()].copy_from_slice(k);
    let hi = w.map(|v| (v >> 11) as i16);
    let lo = w.map(|v| (v & 0x7ff) as i16);
    let pairs = |h: [i16; MAX_TAPS]| {
        let mut out = [0i16; 16];
        for (half, t) in [(0, 0), (8, 2)] {
            for c in 0..3 {
                out[half + 2 * c] = h[t];
                out[half + 2 * c + 1] = h[t + 1];
            }
        }
        out
    };
    let fifth = |h: [i16; MAX_TAPS]| [h[4], 0, h[4], 0, h[4], 0, 0, 0];
    Lanes {
        hi: pairs(hi),
        lo: pairs(lo),
        hi4: fifth(hi),
        lo4: fifth(lo),
    }
}

/// [`super::horizontal`] for windows of at most [`MAX_TAPS`] pixels (`c.taps` may be more,
/// but no window's length).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn horizontal<'a>(
    row: impl Fn(usize) -> &'a [u8],
    first: usize,
    n: usize,
    c: &Coeffs,
) -> Vec<u8> {
    let out_w = c.start.len();
    let stride = out_w * 3;
    let weights: Vec<Lanes> = (0..out_w)
        .map(|xx| lanes(&c.weights[xx * c.taps..xx * c.taps + c.len[xx]]))
        .collect();
    let mut out = vec![0u8; stride * n];
    // SAFETY (all intrinsics below): AVX2 is enabled for this function; every load reads
    // 16 bytes inside `src` (checked) or from a 32-byte aligned `Lanes`.
    unsafe {
        let pairs = _mm256_loadu_si256(PAIRS.as_ptr().cast());
        let fifth = _mm_loadu_si128(FIFTH.as_ptr().cast());
        let half = _mm_set1_epi32(1 << (PRECISION_BITS - 1));
        for (t, orow) in out.chunks_exact_mut(stride).enumerate() {
            let src = row(first + t);
            for (xx, o) in orow.chunks_exact_mut(3).enumerate() {
                let (start, len) = (c.start[xx] * 3, c.len[xx]);
                if start + 16 > src.len() || len > MAX_TAPS {
                    // Near the row's end a 16-byte load would overrun: the scalar rule.
                    o.copy_from_slice(&c.pixel(src, xx));
                    continue;
                }
                let w = &weights[xx];
                let v = _mm_loadu_si128(src.as_ptr().add(start).cast());
                let p = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(v), pairs);
                let hi = _mm256_madd_epi16(p, _mm256_load_si256(w.hi.as_ptr().cast()));
                let lo = _mm256_madd_epi16(p, _mm256_load_si256(w.lo.as_ptr().cast()));
                let mut hi = _mm_add_epi32(
                    _mm256_castsi256_si128(hi),
                    _mm256_extracti128_si256::<1>(hi),
                );
                let mut lo = _mm_add_epi32(
                    _mm256_castsi256_si128(lo),
                    _mm256_extracti128_si256::<1>(lo),
                );
                if len == MAX_TAPS {
                    let p4 = _mm_shuffle_epi8(v, fifth);
                    hi = _mm_add_epi32(
                        hi,
                        _mm_madd_epi16(p4, _mm_load_si128(w.hi4.as_ptr().cast())),
                    );
                    lo = _mm_add_epi32(
                        lo,
                        _mm_madd_epi16(p4, _mm_load_si128(w.lo4.as_ptr().cast())),
                    );
                }
                // sum = hi * 2^11 + lo, plus Pillow's half, shifted and clamped to 8 bits.
                let sum = _mm_add_epi32(_mm_add_epi32(_mm_slli_epi32::<11>(hi), lo), half);
                let v = _mm_srai_epi32::<{ PRECISION_BITS as i32 }>(sum);
                let bytes = _mm_packus_epi16(_mm_packs_epi32(v, v), v);
                let rgb = (_mm_cvtsi128_si32(bytes) as u32).to_le_bytes();
                o.copy_from_slice(&rgb[..3]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::coeffs;
    use super::*;

    /// Every window length and position, odd widths and rows that end right after a
    /// window: the same bytes as the scalar pass.
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
            (7, 5),
            (17, 31),
            (2, 3),
        ] {
            let rows: Vec<Vec<u8>> = (0..5)
                .map(|_| (0..in_w * 3).map(|_| byte()).collect())
                .collect();
            let c = coeffs(in_w, out_w);
            let row = |y: usize| rows[y].as_slice();
            // SAFETY: AVX2 checked above.
            let fast = unsafe { horizontal(row, 0, rows.len(), &c) };
            let slow = super::super::horizontal_scalar(row, 0, rows.len(), &c);
            assert_eq!(fast, slow, "{in_w} -> {out_w}");
        }
    }
}
