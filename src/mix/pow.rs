//! `x ^ e` in single precision only: a logarithm and an exponential carried as pairs of
//! floats (about 2^-40 of error where a float has 2^-24), from small tables and plain
//! float operations. No double, no fused multiply-add, no library call: the same IEEE
//! operations give the same bits on every machine and in the CUDA kernels, which evaluate
//! this very sequence (kernels/mixing.cuh), and GPUs without fast double precision run it
//! at full speed.
//!
//! Accuracy against a correctly rounded power on 10 million operands of the mix's domain:
//! `cargo run --release --example pow_accuracy` (figures in docs/gpu-results.md).

/// The tables of kernels/pow_tables.cuh as float bit patterns, read by build.rs:
/// `POW_LOG` holds (1/c, hi, lo) for each of 128 mantissa intervals, `POW_EXP` (hi, lo)
/// of 2^(r/64).
mod tables {
    include!(concat!(env!("OUT_DIR"), "/pow_tables.rs"));
}

/// Splits `1 + 2^12` times a float into its upper and lower 12 significant bits.
const SPLITTER: f32 = 4097.0;
/// log2(e) as a float, its upper 12 bits, the rest of them, and the float nearest the
/// remainder.
const LOG2E: f32 = std::f32::consts::LOG2_E;
const LOG2E_HI: f32 = f32::from_bits(0x3fb8_a000);
const LOG2E_MID: f32 = LOG2E - LOG2E_HI;
const LOG2E_LO: f32 = f32::from_bits(0x32a5_7060);
/// ln 2, split the same way.
const LN2: f32 = std::f32::consts::LN_2;
const LN2_HI: f32 = f32::from_bits(0x3f31_7000);
const LN2_MID: f32 = LN2 - LN2_HI;
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

/// `a + b` exactly when `|a| >= |b|` (Dekker's fast two-sum).
#[inline(always)]
fn fast_two_sum(a: f32, b: f32) -> Pair {
    let s = a + b;
    Pair {
        hi: s,
        lo: b - (s - a),
    }
}

/// A float's upper and lower 12 significant bits (Veltkamp's split), whose products are
/// exact.
#[inline(always)]
pub(crate) fn split(a: f32) -> (f32, f32) {
    let c = SPLITTER * a;
    let hi = c - (c - a);
    (hi, a - hi)
}

/// `a * b` exactly, given `b` already split (Dekker's product, no fused multiply-add).
#[inline(always)]
fn two_product(a: f32, b_hi: f32, b_lo: f32) -> Pair {
    let p = a * (b_hi + b_lo);
    let (a_hi, a_lo) = split(a);
    let err = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo;
    Pair { hi: p, lo: err }
}

/// log2 of a positive finite float as a pair. With `m` the mantissa of interval `i`,
/// `m = m_hi + m_lo` (upper and lower 12 bits) makes `r = m * (1/c) - 1` exact as a pair;
/// then `log2 x = k + (-log2(1/c)) + log2(1 + r)`, the last a series to `r^5`
/// (`|r| < 2^-7.9`) whose leading term is an exact product.
#[inline(always)]
fn log2(x: f32) -> Pair {
    // Subnormals are scaled into the normal range (exactly) first.
    let tiny = x < f32::MIN_POSITIVE;
    let x = if tiny { x * 16_777_216.0 } else { x };
    let bits = x.to_bits();
    let k = ((bits >> 23) as i32 - 127 - if tiny { 24 } else { 0 }) as f32;
    let i = ((bits >> 16) & 0x7f) as usize;
    let invc = f32::from_bits(tables::POW_LOG[3 * i]);
    let t_hi = f32::from_bits(tables::POW_LOG[3 * i + 1]);
    let t_lo = f32::from_bits(tables::POW_LOG[3 * i + 2]);
    let m_hi = f32::from_bits((bits & 0x007f_f000) | 0x3f80_0000);
    let m_lo = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000) - m_hi;
    // m_hi * invc lies within 2^-7 of 1, so the subtraction is exact (Sterbenz).
    let r = two_sum(m_hi * invc - 1.0, m_lo * invc);
    let (rh, rl) = (r.hi, r.lo);
    // log2(1 + r) = log2(e) (r - r^2/2 + r^3/3 - r^4/4 + r^5/5); the r^2 and higher terms
    // need rh only, the part of r^2 with rl is the (1 - rh) factor of rl.
    let lead = two_product(rh, LOG2E_HI, LOG2E_MID);
    let poly = (rh * rh)
        * ((-0.5 * LOG2E) + rh * ((LOG2E / 3.0) + rh * ((-0.25 * LOG2E) + rh * (LOG2E / 5.0))));
    let small = t_lo + (lead.lo + (rh * LOG2E_LO + ((rl * (1.0 - rh)) * LOG2E + poly)));
    // k + t_hi is exact: t_hi has 15 fractional bits and |k| < 2^8. The pair is left
    // unnormalised: its low part (below 2^-14) is only ever multiplied by the exponent.
    let s = two_sum(k + t_hi, lead.hi);
    Pair {
        hi: s.hi,
        lo: s.lo + small,
    }
}

/// `2^y` for a pair `y`, rounded once to a float: `y = q + r/64 + f` with `|f| <= 1/128`,
/// `2^(r/64)` from the table as a pair, `2^f = e^g` a series to `g^4` (`|g| < 2^-7.5`),
/// the product of the two formed as a pair and rounded, then scaled by `2^q` in two steps
/// (the first exact); a subnormal result is rounded once from the pair.
#[inline(always)]
fn exp2(y: Pair) -> f32 {
    // Beyond +-250 every float result has over- or underflowed.
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
    let g_lead = two_product(f.hi, LN2_HI, LN2_MID);
    let gh = g_lead.hi;
    let gl = g_lead.lo + (f.hi * LN2_LO + f.lo * LN2);
    // e^g - 1 - g: the terms of g^2 and higher need gh only, save g^2's cross term.
    let poly = (gh * gh) * (0.5 + gh * ((1.0 / 6.0) + gh * (1.0 / 24.0))) + gh * gl;
    let e_hi = f32::from_bits(tables::POW_EXP[2 * r]);
    let e_lo = f32::from_bits(tables::POW_EXP[2 * r + 1]);
    // (e_hi + e_lo) (1 + gh + gl + poly), to a pair whose sum is the mantissa.
    let (eh, el) = split(e_hi);
    let p = two_product(gh, eh, el);
    let s = fast_two_sum(e_hi, p.hi);
    let small = s.lo + (p.lo + (e_hi * (gl + poly) + e_lo * (1.0 + gh)));
    let q1 = q >> 1;
    let q2 = q - q1;
    let scale1 = f32::from_bits(((q1 + 127) as u32) << 23);
    let scale2 = f32::from_bits(((q2 + 127) as u32) << 23);
    let m = fast_two_sum(s.hi, small);
    // A subnormal result must round once from the whole pair: m.hi rounded alone, moved
    // by one step where the rest of the pair passes half a step.
    let scaled = m.hi * scale1 * scale2;
    let unscale1 = f32::from_bits(((127 - q1) as u32) << 23);
    let unscale2 = f32::from_bits(((127 - q2) as u32) << 23);
    let rest = (m.hi - scaled * unscale2 * unscale1) + m.lo;
    let half = f32::from_bits(((-23 - q).max(1) as u32) << 23);
    let step = if rest > half {
        f32::from_bits(1)
    } else if rest < -half {
        -f32::from_bits(1)
    } else {
        0.0
    };
    // With |f| up to 2^-7, 2^f may be below 1: q = -126 can be subnormal too.
    if q < -125 { scaled + step } else { scaled }
}

/// `x ^ e` for the multiplicative mix, rounded to float: `2 ^ (e * log2 x)` with the
/// logarithm and the product carried as pairs of floats. Correctly rounded in all but a
/// small share of cases (errors below 0.51 ulp; see the module comment). `x ^ 0 = 1`,
/// `0 ^ e` is 0, 1 or infinity by the sign of `e`, `inf ^ e` infinity, 1 or 0, and NaN
/// for a negative or NaN `x` or a NaN `e`.
#[inline(always)]
pub fn pow(x: f32, e: f32) -> f32 {
    let (e_hi, e_lo) = split(e);
    pow_split(x, e, e_hi, e_lo)
}

/// [`pow`] with the exponent already split (a round's rows share one exponent).
#[inline(always)]
pub(crate) fn pow_split(x: f32, e: f32, e_hi: f32, e_lo: f32) -> f32 {
    // Inputs off the logarithm's domain are replaced by 1 and their results selected
    // below, so the arithmetic never sees them (and every lane of a vector runs the same).
    let normal = x > 0.0 && x < f32::INFINITY;
    let l = log2(if normal { x } else { 1.0 });
    let p = two_product(l.hi, e_hi, e_lo);
    let r = exp2(Pair {
        hi: p.hi,
        lo: p.lo + e * l.lo,
    });
    // Selects rather than branches keep the row loops vectorisable.
    let edge = if e > 0.0 {
        0.0
    } else if e == 0.0 {
        1.0
    } else {
        f32::INFINITY
    };
    let r = if x == 0.0 {
        edge
    } else if x == f32::INFINITY {
        1.0 / edge
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

    /// The split constants are what their names say.
    #[test]
    fn constants_are_splits() {
        for (hi, mid, lo, exact) in [
            (LOG2E_HI, LOG2E_MID, LOG2E_LO, std::f64::consts::LOG2_E),
            (LN2_HI, LN2_MID, LN2_LO, std::f64::consts::LN_2),
        ] {
            assert_eq!(hi.to_bits() & 0xfff, 0, "{hi} has over 12 bits");
            assert_eq!((hi + mid).to_bits(), (exact as f32).to_bits());
            // The f64 constant is itself rounded: the low part is right to within its ulp.
            let rest = (exact - hi as f64 - mid as f64) as f32;
            assert!((lo - rest).abs() <= f32::from_bits(rest.abs().to_bits() + 1) - rest.abs());
        }
    }

    /// The tables hold what tools/pow_tables.py says, to double precision.
    #[test]
    fn tables_are_logarithms_and_powers() {
        for i in 0..128 {
            let invc = f32::from_bits(tables::POW_LOG[3 * i]) as f64;
            let c = 1.0 + (i as f64 + 0.5) / 128.0;
            assert!((invc * c - 1.0).abs() < 2f64.powi(-11), "entry {i}");
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

    /// The pair logarithm and exponential are within 2^-38 over their whole ranges.
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
            let got = exp2(Pair { hi, lo }) as f64;
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
