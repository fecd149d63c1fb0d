//! `x ^ e` in single precision only: a logarithm and an exponential carried as pairs of
//! floats (about 2^-40 of error where a float has 2^-24), from small tables, float
//! operations and exact fused multiply-adds. No double, no library call: every operation
//! is an IEEE operation with one correctly rounded result (a fused multiply-add too), so
//! the bits are the same on every machine and in the CUDA kernels, which evaluate this
//! very sequence (kernels/mixing.cuh); and GPUs without fast double precision run it at
//! full speed.
//!
//! Accuracy against a correctly rounded power on 10 million operands of the mix's domain:
//! `cargo run --release --example pow_accuracy` (figures in docs/gpu-results.md).

/// The tables of kernels/pow_tables.cuh as float bit patterns, read by build.rs:
/// `POW_LOG` holds (1/c, hi, lo) for each of 256 mantissa intervals, `POW_EXP` (hi, lo)
/// of 2^(r/64).
mod tables {
    include!(concat!(env!("OUT_DIR"), "/pow_tables.rs"));
}

/// log2(e) as a float and the float nearest the remainder.
const LOG2E: f32 = std::f32::consts::LOG2_E;
const LOG2E_LO: f32 = f32::from_bits(0x32a5_7060);
/// ln 2 as a float and the float nearest the remainder.
const LN2: f32 = std::f32::consts::LN_2;
const LN2_LO: f32 = f32::from_bits(0xb102_e308);
/// 1.5 * 2^23: adding and subtracting it rounds a float below 2^22 to an integer.
const ROUNDER: f32 = 12_582_912.0;

/// A float and the float-sized remainder beyond it.
#[derive(Clone, Copy)]
struct Pair {
    hi: f32,
    lo: f32,
}

/// `a + b` exactly (Knuth's two-sum, any magnitudes).
#[inline(always)]
fn two_sum(a: f32, b: f32) -> Pair {
    let s = a + b;
    let bb = s - a;
    let err = (a - (s - bb)) + (b - bb);
    Pair { hi: s, lo: err }
}

/// `a + b` exactly when `a`'s exponent is at least `b`'s, or `a` is 0 (fast two-sum).
#[inline(always)]
fn fast_two_sum(a: f32, b: f32) -> Pair {
    let s = a + b;
    Pair {
        hi: s,
        lo: b - (s - a),
    }
}

/// `a * b + c` with one rounding. Exact where the result is representable; on x86 a
/// single instruction where the caller enables the `fma` target feature, else the C
/// library's (equally correctly rounded) `fmaf`.
#[inline(always)]
fn fma(a: f32, b: f32, c: f32) -> f32 {
    a.mul_add(b, c)
}

/// log2 of a positive finite float as a pair (hi, lo), lo below 2^-14. With `m` the
/// mantissa and `c` the centre of its interval, `r = m (1/c) - 1` is exact in one fused
/// multiply-add (`1/c` has 9 bits, so `r` is a multiple of 2^-32 below 2^-8); then
/// `log2 x = k - log2(1/c) + log2(1 + r)`, the last a series to `r^4` whose leading term
/// is carried exactly.
#[inline(always)]
fn log2(x: f32) -> Pair {
    // Subnormals are scaled into the normal range (exactly) first.
    let tiny = x < f32::MIN_POSITIVE;
    let x = if tiny { x * 16_777_216.0 } else { x };
    let bits = x.to_bits();
    let k = ((bits >> 23) as i32 - 127 - if tiny { 24 } else { 0 }) as f32;
    let i = ((bits >> 15) & 0xff) as usize;
    let invc = f32::from_bits(tables::POW_LOG[3 * i]);
    let t_hi = f32::from_bits(tables::POW_LOG[3 * i + 1]);
    let t_lo = f32::from_bits(tables::POW_LOG[3 * i + 2]);
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let r = fma(m, invc, -1.0);
    // log2(1 + r) = log2(e) (r - r^2/2 + r^3/3 - r^4/4), the next term below 2^-43.
    let lead = r * LOG2E;
    let lead_lo = fma(r, LOG2E_LO, fma(r, LOG2E, -lead));
    let q = fma(fma(-0.25 * LOG2E, r, LOG2E / 3.0), r, -0.5 * LOG2E);
    let small = t_lo + fma(r * r, q, lead_lo);
    // k + t_hi is exact (t_hi has 15 fractional bits, |k| < 2^8) and its exponent is at
    // least lead's, or it is 0: tests::fast_two_sum_holds_in_log2 checks every mantissa.
    let s = fast_two_sum(k + t_hi, lead);
    Pair {
        hi: s.hi,
        lo: s.lo + small,
    }
}

/// `2^y` for a pair `y`, rounded to a float, and whether the result may be subnormal,
/// where [`exp2_subnormal`] must replace it: `y = q + r/64 + f` with `|f| <= 2^-7`,
/// `2^(r/64)` from the table as a pair, `2^f = e^g` a series to `g^4` (`|g| < 2^-7.5`),
/// their product formed as a pair, rounded, then scaled by `2^q` in two exact steps.
#[inline(always)]
fn exp2(y: Pair) -> (f32, bool) {
    let (m, q) = exp2_mantissa(y);
    let (scale1, scale2, _) = scales(q);
    ((m.hi + m.lo) * scale1 * scale2, q < -125)
}

/// The mantissa of `2^y` as an unnormalised pair (hi in [0.99, 2], lo below 2^-13) and
/// the power of two `q` it is scaled by.
#[inline(always)]
fn exp2_mantissa(y: Pair) -> (Pair, i32) {
    // Beyond +-250 every float result has over- or underflowed (NaN goes through).
    let clamped = !(y.hi >= -250.0 && y.hi <= 250.0);
    let yh = if clamped {
        y.hi.clamp(-250.0, 250.0)
    } else {
        y.hi
    };
    let yl = if clamped { 0.0 } else { y.lo };
    let t = yh * 64.0;
    let rounded = t + ROUNDER;
    let j = (rounded.to_bits() & 0x007f_ffff) as i32 - 0x0040_0000;
    // t and its nearest integer are close enough for the difference to be exact.
    let f = two_sum((t - (rounded - ROUNDER)) * (1.0 / 64.0), yl);
    let (q, r) = (j >> 6, (j & 63) as usize);
    let gh = f.hi * LN2;
    let gl = fma(f.hi, LN2_LO, fma(f.lo, LN2, fma(f.hi, LN2, -gh)));
    // e^g - 1 - g: the terms of g^2 and higher need gh only, save g^2's cross term.
    let poly = fma(
        gh * gh,
        fma(fma(1.0 / 24.0, gh, 1.0 / 6.0), gh, 0.5),
        gh * gl,
    );
    let e_hi = f32::from_bits(tables::POW_EXP[2 * r]);
    let e_lo = f32::from_bits(tables::POW_EXP[2 * r + 1]);
    // (e_hi + e_lo) (1 + gh + gl + poly) as a pair.
    let p = e_hi * gh;
    let s = fast_two_sum(e_hi, p);
    let small = s.lo + (fma(e_hi, gh, -p) + fma(e_hi, gl + poly, fma(e_lo, gh, e_lo)));
    (
        Pair {
            hi: s.hi,
            lo: small,
        },
        q,
    )
}

/// `2^q1`, `2^q2` with `q1 + q2 = q`, each a normal float for `|q| <= 250`, and the
/// float `2^(-150 - q)` (half a subnormal step before scaling; only for `q < -125`).
#[inline(always)]
fn scales(q: i32) -> (f32, f32, f32) {
    let q1 = q >> 1;
    let q2 = q - q1;
    let exp = |e: i32| f32::from_bits(((e + 127) as u32) << 23);
    (exp(q1), exp(q2), exp((-150 - q).clamp(-126, 127)))
}

/// [`exp2`] where the result may be subnormal: rounded once from the whole pair (the
/// mantissa's hi rounded alone, then moved one step where the rest passes half a step).
#[cold]
#[inline(never)]
fn exp2_subnormal(y: Pair) -> f32 {
    let (m, q) = exp2_mantissa(y);
    let m = fast_two_sum(m.hi, m.lo);
    let (scale1, scale2, half) = scales(q);
    let scaled = m.hi * scale1 * scale2;
    // Back to the mantissa's scale (exact: a multiple of the subnormal step, times 2^-q).
    let (unscale1, unscale2, _) = scales(-q);
    let rest = (m.hi - scaled * unscale2 * unscale1) + m.lo;
    let step = f32::from_bits(1);
    if rest > half {
        scaled + step
    } else if rest < -half {
        scaled - step
    } else {
        scaled
    }
}

/// `x ^ e` for the multiplicative mix, rounded to float: `2 ^ (e * log2 x)` with the
/// logarithm and the product carried as pairs of floats. Within 0.5 + 3e-5 ulp of the
/// true value, correctly rounded in about 99.9996% of cases (see the module comment).
/// `0 ^ e` is 0, 1 or infinity by the sign of `e`, `inf ^ e` infinity, 1 or 0, and NaN for
/// a negative or NaN `x` or a NaN `e`.
#[inline(always)]
pub fn pow(x: f32, e: f32) -> f32 {
    match pow_lane(x, e) {
        (r, false) => r,
        (_, true) => pow_subnormal(x, e),
    }
}

/// [`pow`] for the lanes of a vector loop: the power, unless the flag says the result may
/// be subnormal and [`pow_subnormal`] must give it (rare: results below 2^-125).
#[inline(always)]
pub(crate) fn pow_lane(x: f32, e: f32) -> (f32, bool) {
    let (r, subnormal) = exp2(exponent(x, e));
    (edges(x, e, r), subnormal)
}

/// [`pow`] where [`pow_lane`] flagged a possibly subnormal result: rounded once.
#[cold]
#[inline(never)]
pub(crate) fn pow_subnormal(x: f32, e: f32) -> f32 {
    edges(x, e, exp2_subnormal(exponent(x, e)))
}

/// [`pow`] of `L` bases with one exponent, written for the vectoriser: all lanes through
/// [`pow_lane`], then, in the rare case that one may be subnormal, all through [`pow`].
#[inline(always)]
pub(crate) fn pow_lanes<const L: usize>(x: &[f32; L], e: f32) -> [f32; L] {
    let mut out = [0f32; L];
    let mut subnormal = false;
    for i in 0..L {
        let (r, s) = pow_lane(x[i], e);
        out[i] = r;
        subnormal |= s;
    }
    if subnormal {
        for i in 0..L {
            out[i] = pow(x[i], e);
        }
    }
    out
}

/// `e * log2 x` as a pair; inputs off the logarithm's domain (0, infinity, NaN, negative)
/// are replaced by 1, their results selected by [`edges`], so every lane runs the same.
#[inline(always)]
fn exponent(x: f32, e: f32) -> Pair {
    let normal = x > 0.0 && x < f32::INFINITY;
    let l = log2(if normal { x } else { 1.0 });
    let hi = l.hi * e;
    Pair {
        hi,
        lo: fma(e, l.lo, fma(l.hi, e, -hi)),
    }
}

/// The results at zero, infinity and NaN, selected over the arithmetic's `r`.
#[inline(always)]
fn edges(x: f32, e: f32, r: f32) -> f32 {
    // Selects rather than branches keep the row loops vectorisable.
    let zero = if e > 0.0 {
        0.0
    } else if e == 0.0 {
        1.0
    } else {
        f32::INFINITY
    };
    let r = if x == 0.0 {
        zero
    } else if x == f32::INFINITY {
        1.0 / zero
    } else {
        r
    };
    if x.is_nan() || e.is_nan() || x < 0.0 {
        f32::NAN
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::xorshift64;

    /// The low parts of the constants are the remainders of their floats.
    #[test]
    fn constants_are_pairs() {
        for (hi, lo, exact) in [
            (LOG2E, LOG2E_LO, std::f64::consts::LOG2_E),
            (LN2, LN2_LO, std::f64::consts::LN_2),
        ] {
            // The f64 constant is itself rounded: the low part is right to within its ulp.
            let rest = (exact - hi as f64) as f32;
            assert!((lo - rest).abs() <= f32::from_bits(rest.abs().to_bits() + 1) - rest.abs());
        }
    }

    /// For every mantissa: `r = m (1/c) - 1` is exact in one fused multiply-add, below
    /// 2^-8, and the fast two-sum of log2 is exact for the exponents where `k + hi` can be
    /// small (-1 and 0; elsewhere it is at least 1).
    #[test]
    fn the_logarithm_reduction_is_exact_for_every_mantissa() {
        for bits in 0x3f80_0000u32..0x4000_0000 {
            let m = f32::from_bits(bits);
            let i = ((bits >> 15) & 0xff) as usize;
            let invc = f32::from_bits(tables::POW_LOG[3 * i]);
            let r = fma(m, invc, -1.0);
            assert_eq!(r as f64, m as f64 * invc as f64 - 1.0, "m = {m}");
            assert!(r.abs() < 2f32.powi(-8));
            let t_hi = f32::from_bits(tables::POW_LOG[3 * i + 1]);
            let lead = r * LOG2E;
            for k in [-1.0f32, 0.0] {
                let (a, b) = (two_sum(k + t_hi, lead), fast_two_sum(k + t_hi, lead));
                assert_eq!((a.hi, a.lo), (b.hi, b.lo), "m = {m}, k = {k}");
            }
        }
    }

    /// The tables hold what tools/pow_tables.py says, to double precision.
    #[test]
    fn tables_are_logarithms_and_powers() {
        for i in 0..256 {
            let invc = f32::from_bits(tables::POW_LOG[3 * i]) as f64;
            let c = 1.0 + (i as f64 + 0.5) / 256.0;
            assert!((invc * c - 1.0).abs() < 2f64.powi(-9), "entry {i}");
            assert_eq!((invc * 512.0).fract(), 0.0, "entry {i} has over 9 bits");
            let t = f32::from_bits(tables::POW_LOG[3 * i + 1]) as f64
                + f32::from_bits(tables::POW_LOG[3 * i + 2]) as f64;
            assert!((t + invc.log2()).abs() < 2f64.powi(-40), "entry {i}");
        }
        for r in 0..64 {
            let e = f32::from_bits(tables::POW_EXP[2 * r]) as f64
                + f32::from_bits(tables::POW_EXP[2 * r + 1]) as f64;
            assert!((e / 2f64.powf(r as f64 / 64.0) - 1.0).abs() < 2f64.powi(-46));
        }
    }

    /// The pair logarithm is within 2^-38 over every positive float, the exponential
    /// within a float's rounding.
    #[test]
    fn log2_and_exp2_are_accurate_pairs() {
        let mut next = xorshift64(0x2545_f491_4f6c_dd1d);
        for _ in 0..200_000 {
            let x = f32::from_bits((next() >> 33) as u32 % 0x7f80_0000 + 1);
            let l = log2(x);
            let want = (x as f64).log2();
            let got = l.hi as f64 + l.lo as f64;
            assert!(
                (got - want).abs() < 2f64.powi(-38),
                "log2({x:e}): {got} vs {want}"
            );
            let y = ((next() >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 60.0;
            let hi = y as f32;
            let lo = (y - hi as f64) as f32;
            let got = exp2(Pair { hi, lo }).0 as f64;
            let want = 2f64.powf(hi as f64 + lo as f64);
            assert!(
                (got / want - 1.0).abs() < 2f64.powi(-23),
                "exp2({y}): {got} vs {want}"
            );
        }
    }

    /// Over the mix's domain the power is within 0.51 ulp of the true value and correctly
    /// rounded in at least 99.9% of cases (examples/pow_accuracy.rs measures 10 million).
    #[test]
    fn the_power_is_nearly_correctly_rounded() {
        let mut next = xorshift64(0x0bad_5eed);
        let (mut worst, mut wrong) = (0f64, 0u32);
        let n = 300_000;
        for i in 0..n {
            let r = next();
            let x = match i % 3 {
                0 => (r >> 40) as f32 / (1u64 << 24) as f32 * 2.0,
                1 => f32::from_bits((r >> 33) as u32 % 0x4000_0000),
                _ => ((r >> 40) % 256) as f32 / 255.0 * 2.0,
            };
            let e = ((next() >> 40) as f32 / (1u64 << 24) as f32) * 3.0 - 1.0;
            let got = pow(x, e);
            let want = (x as f64).powf(e as f64);
            let ulp = ulp_of(want as f32);
            worst = worst.max((got as f64 - want).abs() / ulp);
            wrong += (got != want as f32) as u32;
        }
        assert!(worst < 0.51, "max error {worst} ulp");
        assert!(wrong < n / 1000, "{wrong} of {n} not correctly rounded");
    }

    fn ulp_of(v: f32) -> f64 {
        let v = v.abs();
        if v < f32::MIN_POSITIVE {
            return 2f64.powi(-149);
        }
        (f32::from_bits(v.to_bits() + 1) - v) as f64
    }

    #[test]
    fn edges() {
        for (e, zero) in [(0.5f32, 0.0), (0.0, 1.0), (-0.5, f32::INFINITY)] {
            assert_eq!(pow(0.0, e), zero, "0 ^ {e}");
            assert_eq!(pow(f32::INFINITY, e), 1.0 / zero, "inf ^ {e}");
            assert!(pow(-1.0, e).is_nan());
            assert!(pow(f32::NAN, e).is_nan());
            assert_eq!(pow(1.0, e), 1.0);
            assert_eq!(pow(0.3, e), (0.3f32 as f64).powf(e as f64) as f32);
        }
        assert!(pow(1.0, f32::NAN).is_nan());
        assert_eq!(pow(2.0, 2.0), 4.0);
        assert_eq!(pow(0.5, -1.0), 2.0);
        assert_eq!(pow(1e-30, 2.0), 0.0);
        assert_eq!(pow(1e-37, -1.0), 1e37);
        // A subnormal base, and a result in the subnormals.
        assert_eq!(pow(f32::from_bits(1), 0.5), 2f64.powf(-74.5) as f32);
        assert_eq!(pow(1e-20, 2.0), 1e-40f64 as f32);
    }
}
