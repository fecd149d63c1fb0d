//! The mixing arithmetic of the released code, in float32 exactly as torch evaluates it
//! (one rounding per tensor operation, no fused multiply-add).
//!
//! The other picture of a round is always an 8-bit picture, so its term takes one of 256
//! values: [`RoundTables`] precomputes them once per round.

use crate::plan::{MIX_ADD, RoundPlan};

/// `ToTensor`: `v as f32 / 255`, for every byte.
pub fn tensorize_table() -> [f32; 256] {
    std::array::from_fn(|v| v as f32 / 255.0)
}

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

/// The per-round constants of one mixing round.
#[derive(Clone, Debug)]
pub struct RoundTables {
    /// Whether the round adds (else multiplies).
    pub add: bool,
    /// Weight of the running mix.
    pub a: f32,
    /// The other picture's term for each byte: `b * (2y - 1)` (add) or
    /// `max(2y, 1e-37) ^ b` (multiply).
    pub other: [f32; 256],
    /// The running picture's term `(2x) ^ a` for each byte, for a first round, whose
    /// running picture is still an 8-bit picture (multiply only).
    pub first: [f32; 256],
}

impl RoundTables {
    /// The constants of `round`.
    pub fn new(round: &RoundPlan, tensor: &[f32; 256]) -> RoundTables {
        let add = round.mix == MIX_ADD;
        let b = round.b;
        let other = std::array::from_fn(|v| {
            let y = tensor[v];
            if add {
                b * (y * 2.0 - 1.0)
            } else {
                pow((y * 2.0).max(1e-37), b)
            }
        });
        let first = std::array::from_fn(|v| {
            if add {
                0.0
            } else {
                pow(tensor[v] * 2.0, round.a)
            }
        });
        RoundTables {
            add,
            a: round.a,
            other,
            first,
        }
    }

    /// Mixes a row of the running picture with a row of the other picture's bytes.
    #[inline(always)]
    pub fn mix_row(&self, mixed: &mut [f32], other: &[u8]) {
        let a = self.a;
        if self.add {
            for (x, &v) in mixed.iter_mut().zip(other) {
                *x = clip01((a * (*x * 2.0 - 1.0) + self.other[v as usize] + 1.0) / 2.0);
            }
        } else {
            self.multiply_row(mixed, other);
        }
    }

    fn multiply_row(&self, mixed: &mut [f32], other: &[u8]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            return unsafe { self.multiply_row_avx512(mixed, other) };
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.multiply_row_avx2(mixed, other) };
        }
        self.multiply_row_lanes(mixed, other)
    }

    /// The same IEEE operations compiled for 4-wide double vectors (no FMA, so the
    /// results are identical to the portable code's).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn multiply_row_avx2(&self, mixed: &mut [f32], other: &[u8]) {
        self.multiply_row_lanes(mixed, other)
    }

    /// The same IEEE operations for 8-wide double vectors.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn multiply_row_avx512(&self, mixed: &mut [f32], other: &[u8]) {
        self.multiply_row_lanes(mixed, other)
    }

    /// Eight independent values at a time, so the compiler can vectorise the powers and
    /// overlap their long dependency chains.
    #[inline(always)]
    fn multiply_row_lanes(&self, mixed: &mut [f32], other: &[u8]) {
        const L: usize = 8;
        let a = self.a;
        let mut xs = mixed.chunks_exact_mut(L);
        let mut vs = other.chunks_exact(L);
        for (x, v) in (&mut xs).zip(&mut vs) {
            let mut p = [0f32; L];
            for i in 0..L {
                p[i] = pow(x[i] * 2.0, a);
            }
            for i in 0..L {
                x[i] = clip01(p[i] * self.other[v[i] as usize] / 2.0);
            }
        }
        for (x, &v) in xs.into_remainder().iter_mut().zip(vs.remainder()) {
            *x = clip01(pow(*x * 2.0, a) * self.other[v as usize] / 2.0);
        }
    }

    /// [`mix_row`](Self::mix_row) for a first round, whose running picture is the 8-bit
    /// row `base` tensorized (`tensor` is [`tensorize_table`]).
    #[inline(always)]
    pub fn mix_first_row(&self, tensor: &[f32; 256], base: &[u8], other: &[u8], mixed: &mut [f32]) {
        if self.add {
            for ((x, &b), &v) in mixed.iter_mut().zip(base).zip(other) {
                let t = tensor[b as usize];
                *x = clip01((self.a * (t * 2.0 - 1.0) + self.other[v as usize] + 1.0) / 2.0);
            }
        } else {
            for ((x, &b), &v) in mixed.iter_mut().zip(base).zip(other) {
                *x = clip01(self.first[b as usize] * self.other[v as usize] / 2.0);
            }
        }
    }
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

/// `torch.clip(x, 0, 1)`.
#[inline]
pub fn clip01(x: f32) -> f32 {
    x.clamp(0.0, 1.0)
}

/// `Normalize`: `(x - mean) / std`, two roundings.
#[inline]
pub fn normalize(x: f32, mean: f32, std: f32) -> f32 {
    (x - mean) / std
}
