//! `x ^ e` in double precision with plain multiplies and adds: the same IEEE operations
//! give the same bits on every machine and in the CUDA kernels.

/// `x ^ e` for the multiplicative mix, evaluated as `2 ^ (e * log2 x)` in double precision
/// with plain multiplies and adds only (no library call, no fused multiply-add), then
/// rounded once to f32. The result is the correctly rounded power in all but a vanishing
/// share of cases, and the same sequence of IEEE operations gives the same bits on any
/// machine (the CUDA kernels use this very sequence).
#[inline(always)]
pub fn pow(x: f32, e: f32) -> f32 {
    let r = exp2(e as f64 * log2(x as f64)) as f32;
    // Selects rather than branches keep the row loops vectorisable.
    let zero = if e > 0.0 {
        0.0
    } else if e == 0.0 {
        1.0
    } else {
        f32::INFINITY
    };
    let r = if x == 0.0 { zero } else { r };
    if x.is_nan() || e.is_nan() || x < 0.0 {
        f32::NAN
    } else {
        r
    }
}

const LN2: f64 = std::f64::consts::LN_2;
const LOG2_E: f64 = std::f64::consts::LOG2_E;
const SQRT2: f64 = std::f64::consts::SQRT_2;
/// 1.5 * 2^52: adding and subtracting it rounds a double of magnitude below 2^51 to an
/// integer (ties to even) with two exact IEEE operations.
const ROUNDER: f64 = 6_755_399_441_055_744.0;
/// 2^52: a double `2^52 + i` holds the integer `i` in its low mantissa bits.
const TWO52: f64 = 4_503_599_627_370_496.0;

/// log2 of a positive, finite double: exponent plus `2 atanh(t) / ln 2` for
/// `t = (m - 1) / (m + 1)`, `m` in [sqrt(1/2), sqrt(2)], series to t^21 (error < 1e-16).
/// Integer conversions go through the mantissa of `2^52 + i`, so every step has a packed
/// SIMD form.
#[inline(always)]
pub(crate) fn log2(x: f64) -> f64 {
    let bits = x.to_bits();
    let biased = f64::from_bits(TWO52.to_bits() | (bits >> 52) & 0x7ff) - TWO52;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let big = m > SQRT2;
    let m = if big { m * 0.5 } else { m };
    let k = (biased - 1023.0) + if big { 1.0 } else { 0.0 };
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let mut p = 1.0 / 21.0;
    for d in [19.0, 17.0, 15.0, 13.0, 11.0, 9.0, 7.0, 5.0, 3.0] {
        p = p * t2 + 1.0 / d;
    }
    p = p * t2 + 1.0;
    k + (2.0 * t * p) * LOG2_E
}

/// 2^y: an integer power of two times `exp(f ln 2)` for `f = y - round(y)`, Taylor series
/// to degree 13. Inputs are clamped to [-1000, 1000], far beyond the f32 range.
#[inline(always)]
pub(crate) fn exp2(y: f64) -> f64 {
    let y = y.clamp(-1000.0, 1000.0);
    let n = (y + ROUNDER) - ROUNDER;
    let g = (y - n) * LN2;
    let mut p = 1.0 / 6_227_020_800.0; // 1/13!
    for d in [
        479_001_600.0,
        39_916_800.0,
        3_628_800.0,
        362_880.0,
        40_320.0,
        5_040.0,
        720.0,
        120.0,
        24.0,
        6.0,
        2.0,
        1.0,
        1.0,
    ] {
        p = p * g + 1.0 / d;
    }
    // 2^n: the biased exponent n + 1023 sits in the low mantissa bits of 2^52 + n + 1023.
    p * f64::from_bits((n + (TWO52 + 1023.0)).to_bits() << 52)
}

/// `out[i] = pow(xs[i], e)`, eight lanes at a time (vectorised with AVX2 where present).
pub fn pow_slice(xs: &[f32], e: f32, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { pow_slice_avx2(xs, e, out) };
    }
    pow_slice_lanes(xs, e, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn pow_slice_avx2(xs: &[f32], e: f32, out: &mut [f32]) {
    pow_slice_lanes(xs, e, out)
}

#[inline(always)]
fn pow_slice_lanes(xs: &[f32], e: f32, out: &mut [f32]) {
    const L: usize = 8;
    let mut o = out.chunks_exact_mut(L);
    let mut x = xs.chunks_exact(L);
    for (o, x) in (&mut o).zip(&mut x) {
        for i in 0..L {
            o[i] = pow(x[i], e);
        }
    }
    for (o, &x) in o.into_remainder().iter_mut().zip(x.remainder()) {
        *o = pow(x, e);
    }
}
