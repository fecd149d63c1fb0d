//! log2 and exp2 in double precision with plain multiplies and adds, for the tone mapping
//! of flames: the same IEEE operations give the same bits on every machine and in the
//! CUDA kernels (kernels/flame_log.cuh evaluates this very sequence).

const LN2: f64 = std::f64::consts::LN_2;
const LOG2_E: f64 = std::f64::consts::LOG2_E;
const SQRT2: f64 = std::f64::consts::SQRT_2;
/// 1.5 * 2^52: adding and subtracting it rounds a double of magnitude below 2^51 to an
/// integer (ties to even) with two exact IEEE operations.
const ROUNDER: f64 = 6_755_399_441_055_744.0;
/// 2^52: a double `2^52 + i` holds the integer `i` in its low mantissa bits.
const TWO52: f64 = 4_503_599_627_370_496.0;

/// log2 of a positive, finite double: exponent plus `2 atanh(t) / ln 2` for
/// `t = (m - 1) / (m + 1)`, `m` in [sqrt(1/2), sqrt(2)], series to t^21 (error < 1e-16) by [`log_series`].
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
    let p = log_series(t * t);
    k + (2.0 * t * p) * LOG2_E
}

/// 2^y: an integer power of two times `exp(f ln 2)` for `f = y - round(y)`, Taylor series
/// to degree 13 by [`exp_series`]. Inputs are clamped to [-1000, 1000], far beyond the f32 range.
#[inline(always)]
pub(crate) fn exp2(y: f64) -> f64 {
    let y = y.clamp(-1000.0, 1000.0);
    let n = (y + ROUNDER) - ROUNDER;
    let g = (y - n) * LN2;
    let p = exp_series(g);
    // 2^n: the biased exponent n + 1023 sits in the low mantissa bits of 2^52 + n + 1023.
    p * f64::from_bits((n + (TWO52 + 1023.0)).to_bits() << 52)
}

/// `1 + u/3 + u^2/5 + ... + u^10/21` (the series of `atanh(t) / t` in `u = t^2`) by
/// Estrin's scheme: neighbouring terms paired, then neighbouring pairs with `u^2`, then
/// with `u^4` and `u^8`. Its dependency chain is five multiply-adds long instead of
/// Horner's ten, so the processor overlaps many more of a row's powers. The CUDA kernels
/// evaluate the same pairs in the same order.
#[inline(always)]
fn log_series(u: f64) -> f64 {
    let u2 = u * u;
    let u4 = u2 * u2;
    let u8 = u4 * u4;
    let q0 = 1.0 + (1.0 / 3.0) * u;
    let q1 = 1.0 / 5.0 + (1.0 / 7.0) * u;
    let q2 = 1.0 / 9.0 + (1.0 / 11.0) * u;
    let q3 = 1.0 / 13.0 + (1.0 / 15.0) * u;
    let q4 = 1.0 / 17.0 + (1.0 / 19.0) * u;
    let r0 = q0 + q1 * u2;
    let r1 = q2 + q3 * u2;
    let r2 = q4 + (1.0 / 21.0) * u2;
    let s0 = r0 + r1 * u4;
    s0 + r2 * u8
}

/// `1 + g + g^2/2! + ... + g^13/13!` by Estrin's scheme, as [`log_series`].
#[inline(always)]
fn exp_series(g: f64) -> f64 {
    let g2 = g * g;
    let g4 = g2 * g2;
    let g8 = g4 * g4;
    let q0 = 1.0 + 1.0 * g;
    let q1 = 1.0 / 2.0 + (1.0 / 6.0) * g;
    let q2 = 1.0 / 24.0 + (1.0 / 120.0) * g;
    let q3 = 1.0 / 720.0 + (1.0 / 5_040.0) * g;
    let q4 = 1.0 / 40_320.0 + (1.0 / 362_880.0) * g;
    let q5 = 1.0 / 3_628_800.0 + (1.0 / 39_916_800.0) * g;
    let q6 = 1.0 / 479_001_600.0 + (1.0 / 6_227_020_800.0) * g;
    let r0 = q0 + q1 * g2;
    let r1 = q2 + q3 * g2;
    let r2 = q4 + q5 * g2;
    let s0 = r0 + r1 * g4;
    let s1 = r2 + q6 * g4;
    s0 + s1 * g8
}

#[cfg(all(test, feature = "cuda"))]
mod tests {
    use super::*;
    use crate::kernels::{host_exp2, host_log2};
    use crate::test_rng::xorshift64;

    /// The double-precision halves of the power against the CUDA kernels' (compiled for
    /// the host): the same bits, so a slip in either, even one far below a float's last
    /// place, fails here.
    #[test]
    fn log2_and_exp2_are_the_kernels_bit_for_bit() {
        let mut next = xorshift64(0x2545_f491_4f6c_dd1d);
        for _ in 0..200_000 {
            let r = next();
            // Every positive float (bases of the power), and values over [0, 2].
            let x = match r % 2 {
                0 => f32::from_bits((r >> 33) as u32 % 0x7f80_0000 + 1) as f64,
                _ => (r >> 11) as f64 / (1u64 << 52) as f64,
            };
            assert_eq!(log2(x).to_bits(), host_log2(x).to_bits(), "log2({x:e})");
            // Exponents over the whole clamp range and around zero.
            let y = ((next() >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2100.0;
            let y = if r.is_multiple_of(3) { y / 1000.0 } else { y };
            assert_eq!(exp2(y).to_bits(), host_exp2(y).to_bits(), "exp2({y:e})");
        }
    }

    #[test]
    fn the_series_are_atanh_and_exp() {
        // 2 t S(t^2) = ln((1 + t) / (1 - t)).
        for t in [0.0f64, 0.01, 0.1, -0.17] {
            let want = ((1.0 + t) / (1.0 - t)).ln();
            assert!(
                (2.0 * t * log_series(t * t) - want).abs() < 1e-16,
                "t = {t}"
            );
        }
        for g in [0.0f64, 0.01, 0.3, -0.35] {
            assert!((exp_series(g) - g.exp()).abs() < 1e-15, "g = {g}");
        }
    }
}
