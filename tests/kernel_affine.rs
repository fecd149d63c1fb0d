//! The integer emulation of IEEE doubles behind the kernels' affine sampler
//! (kernels/exact_double.cuh), compiled for the host, against the hardware's doubles: the
//! product and the sum, bit for bit, on 2 x 3,000,000 operand pairs.

use pixmix::kernels::{host_dadd, host_dmul};

/// splitmix64: a fixed stream of test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in [lo, hi).
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// A finite double from one of several families: any bits, subnormals, values near
    /// the overflow threshold, sparse significands (which round on ties), small whole
    /// numbers and halves (pixel coordinates).
    fn double(&mut self) -> f64 {
        let r = self.next();
        let sign = r & (1 << 63);
        let v = match self.below(7) {
            0 => r & !(1 << 63),
            // Subnormal or just above.
            1 => r >> (12 + self.below(4)),
            // Near the overflow threshold.
            2 => (0x7fe0_0000_0000_0000 - (self.below(8) << 52)) | (r & ((1 << 52) - 1)),
            // A few significand bits, any moderate exponent.
            3 => {
                let mut m = 0u64;
                for _ in 0..1 + self.below(4) {
                    m |= 1 << self.below(52);
                }
                ((1023 - 60 + self.below(120)) << 52) | m
            }
            4 => (self.below(1 << 20) as f64 * 0.5).to_bits(),
            // Exponents around one (coordinates and matrix entries).
            5 => ((1023 - 30 + self.below(60)) << 52) | (r & ((1 << 52) - 1)),
            _ => [0.0f64, 1.0, 0.5, f64::MIN_POSITIVE, 5e-324, f64::MAX][self.below(6) as usize]
                .to_bits(),
        };
        let v = v & !(1 << 63);
        // A finite magnitude: NaN and infinity bit patterns fold back.
        let v = if v >= 0x7ff0_0000_0000_0000 {
            v - (1 << 62)
        } else {
            v
        };
        f64::from_bits(v | sign)
    }
}

/// The emulated operation against the hardware's: the same bits for finite results, the
/// same infinity on overflow.
fn check_op(name: &str, got: f64, want: f64, a: f64, b: f64) {
    assert!(
        got.to_bits() == want.to_bits(),
        "{name}({a:e} [{:#x}], {b:e} [{:#x}]): emulated {got:e} [{:#x}], IEEE {want:e} [{:#x}]",
        a.to_bits(),
        b.to_bits(),
        got.to_bits(),
        want.to_bits()
    );
}

#[test]
fn soft_doubles_equal_the_hardware() {
    let mut rng = Rng(1);
    for i in 0..3_000_000 {
        let a = rng.double();
        // Every third sum nearly cancels: b close to -a, the hardest alignment.
        let b = match i % 3 {
            0 => {
                let mag = (a.to_bits() & !(1 << 63)) as i64 + rng.below(8) as i64 - 4;
                let mag = mag.clamp(0, f64::MAX.to_bits() as i64) as u64;
                f64::from_bits(mag | (!a.to_bits() & (1 << 63)))
            }
            1 => Some(a * rng.uniform(-2.0, 2.0))
                .filter(|b| b.is_finite())
                .unwrap_or(a),
            _ => rng.double(),
        };
        check_op("mul", host_dmul(a, b), a * b, a, b);
        check_op("add", host_dadd(a, b), a + b, a, b);
    }
    for a in [0.0, -0.0, 1.0, -1.0, 5e-324, -5e-324, f64::MAX, f64::MIN] {
        for b in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            5e-324,
            -5e-324,
            f64::MAX,
            f64::MIN,
            0.5,
        ] {
            check_op("mul", host_dmul(a, b), a * b, a, b);
            check_op("add", host_dadd(a, b), a + b, a, b);
        }
    }
    // Non-finite operands give a NaN: callers only need to know the result is not finite.
    for a in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
        for b in [0.0, 1.0, f64::INFINITY, -2.5] {
            assert!(host_dmul(a, b).is_nan() && host_dmul(b, a).is_nan());
            assert!(host_dadd(a, b).is_nan() && host_dadd(b, a).is_nan());
        }
    }
}
