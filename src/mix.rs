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
#[inline]
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

/// log2 of a positive, finite double: exponent plus `2 atanh(t) / ln 2` for
/// `t = (m - 1) / (m + 1)`, `m` in [sqrt(1/2), sqrt(2)], series to t^21 (error < 1e-16).
#[inline]
fn log2(x: f64) -> f64 {
    let bits = x.to_bits();
    let k = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let big = m > SQRT2;
    let m = if big { m * 0.5 } else { m };
    let k = (k + big as i64) as f64;
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
#[inline]
fn exp2(y: f64) -> f64 {
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
    p * f64::from_bits(((n as i64 + 1023) as u64) << 52)
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
    pub fn mix_row(&self, mixed: &mut [f32], other: &[u8]) {
        let a = self.a;
        if self.add {
            for (x, &v) in mixed.iter_mut().zip(other) {
                *x = clip01((a * (*x * 2.0 - 1.0) + self.other[v as usize] + 1.0) / 2.0);
            }
        } else {
            for (x, &v) in mixed.iter_mut().zip(other) {
                *x = clip01(pow(*x * 2.0, a) * self.other[v as usize] / 2.0);
            }
        }
    }

    /// [`mix_row`](Self::mix_row) for a first round, whose running picture is the 8-bit
    /// row `base` tensorized (`tensor` is [`tensorize_table`]).
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
