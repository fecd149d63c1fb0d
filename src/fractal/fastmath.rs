//! Fast approximations of the transcendental functions the variations need (errors near
//! 1e-6, invisible in a flame), and a counter-based random stream per walker. Flames only
//! need to look right; the mixing arithmetic elsewhere stays exact.

use std::f64::consts::{FRAC_PI_2, PI};

/// (sin x, cos x), absolute error below 1e-8 for |x| up to about 1e6.
#[inline]
pub fn sin_cos(x: f64) -> (f64, f64) {
    // Round to nearest by adding and subtracting 1.5 * 2^52 (no library call).
    let q = (x * (1.0 / FRAC_PI_2) + 6_755_399_441_055_744.0) - 6_755_399_441_055_744.0;
    // Two-part pi/2 keeps the reduction accurate for moderate arguments.
    let r = (x - q * FRAC_PI_2) - q * 6.123_233_995_736_766e-17;
    let r2 = r * r;
    let r4 = r2 * r2;
    // Estrin's scheme: the same polynomials as Horner's, in half the dependent steps (a
    // walker's points form one long dependency chain, so latency is what counts).
    let s = r
        * ((1.0 + r2 * (-1.0 / 6.0))
            + r4 * ((1.0 / 120.0 + r2 * (-1.0 / 5040.0))
                + r4 * (1.0 / 362_880.0 + r2 * (-1.0 / 39_916_800.0))));
    let c = (1.0 + r2 * -0.5)
        + r4 * ((1.0 / 24.0 + r2 * (-1.0 / 720.0))
            + r4 * (1.0 / 40_320.0 + r2 * (-1.0 / 3_628_800.0)));
    // Clamped so the integer conversion is the same everywhere (huge arguments have lost
    // their phase anyway).
    // The quadrant k picks (s, c), (c, -s), (-s, -c) or (-c, s); sign flips are XORs of
    // the sign bit, so the result is what negation gives, without a branch to mispredict.
    let k = (q.clamp(-1.0e18, 1.0e18) as i64 & 3) as u64;
    let (a, b) = if k & 1 == 1 { (c, s) } else { (s, c) };
    let flip_a = (k >> 1) << 63;
    let flip_b = (((k + 1) >> 1) & 1) << 63;
    (
        f64::from_bits(a.to_bits() ^ flip_a),
        f64::from_bits(b.to_bits() ^ flip_b),
    )
}

/// sin x.
#[inline]
pub fn sin(x: f64) -> f64 {
    sin_cos(x).0
}

/// cos x.
#[inline]
pub fn cos(x: f64) -> f64 {
    sin_cos(x).1
}

/// atan2(y, x) with an absolute error below 1e-5.
#[inline]
pub fn atan2(y: f64, x: f64) -> f64 {
    let (ax, ay) = (x.abs(), y.abs());
    let (lo, hi) = if ax > ay { (ay, ax) } else { (ax, ay) };
    if hi == 0.0 {
        return if x.is_sign_negative() {
            if y.is_sign_negative() { -PI } else { PI }
        } else {
            y
        };
    }
    let z = lo / hi;
    let z2 = z * z;
    let z4 = z2 * z2;
    let mut a = z
        * ((0.999_977_26 + z2 * -0.332_623_47)
            + z4 * ((0.193_543_46 + z2 * -0.116_432_87)
                + z4 * (0.052_653_32 + z2 * -0.011_721_20)));
    if ay > ax {
        a = FRAC_PI_2 - a;
    }
    if x < 0.0 {
        a = PI - a;
    }
    if y < 0.0 { -a } else { a }
}

/// e^x with a relative error near 1e-9: `2^n e^g` for `g = (y - n) ln 2`, `y = x log2 e`,
/// `n = round(y)`, degree-7 Taylor series in Estrin's scheme. Inputs are clamped to
/// [-700, 700] (y to about +-1010, inside the double range).
#[inline]
pub fn exp(x: f64) -> f64 {
    const ROUNDER: f64 = 6_755_399_441_055_744.0;
    const TWO52: f64 = 4_503_599_627_370_496.0;
    let y = x.clamp(-700.0, 700.0) * std::f64::consts::LOG2_E;
    let n = (y + ROUNDER) - ROUNDER;
    let g = (y - n) * std::f64::consts::LN_2;
    let g2 = g * g;
    let g4 = g2 * g2;
    let p = ((1.0 + g) + g2 * (0.5 + g * (1.0 / 6.0)))
        + g4 * ((1.0 / 24.0 + g * (1.0 / 120.0)) + g2 * (1.0 / 720.0 + g * (1.0 / 5040.0)));
    // 2^n: the biased exponent n + 1023 sits in the low mantissa bits of 2^52 + n + 1023.
    p * f64::from_bits((n + (TWO52 + 1023.0)).to_bits() << 52)
}

/// A counter-based stream (SplitMix64): item n of stream (seed, walker) is a pure function
/// of the three, so a GPU thread can compute it the same way.
#[derive(Clone, Debug)]
pub struct Stream {
    state: u64,
}

impl Stream {
    /// Stream `walker` of `seed`.
    pub fn new(seed: u64, walker: u64) -> Stream {
        let mut s = Stream {
            state: seed ^ walker.wrapping_mul(0xD1B5_4A32_D192_ED03),
        };
        s.next_u64();
        s
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}
