//! Measures the mixing power `pixmix::mix::pow` (single precision only, the same bits on
//! the CPU and in the CUDA kernels) against the correctly rounded power, on 10 million
//! random operands of the domain the multiplicative mix reaches:
//!
//! - running values: `(2x) ^ a` for any float `x` in [0, 1] (half drawn uniformly in value,
//!   half uniformly over the floats' bit patterns, so tiny values count too) and `a` in
//!   [0, 2] (`Beta(beta, 1)` or `1 + Beta(1, beta)`);
//! - the other picture's table: `max(2y, 1e-37) ^ b` for the 256 byte values `y` and `b`
//!   in [-1, 1].
//!
//! The reference is the double-precision `pow` of the platform's C library, within one
//! double ulp (2^-29 of a float ulp) of the true value; an operand whose reference lies
//! within 2^-50 (relative) of a midpoint between two floats is counted apart, as
//! undecidable at that precision.
//!
//!     cargo run --release --example pow_accuracy [operands]

use pixmix::mix::pow;

fn main() {
    let total: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("operands: a positive integer"))
        .unwrap_or(10_000_000);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let unit = |r: u64| (r >> 40) as f32 / (1u64 << 24) as f32;
    println!("pixmix::mix::pow against the correctly rounded power");
    println!(
        "{:<34} {:>11} {:>13} {:>18} {:>11}",
        "domain", "operands", "max error", "correctly rounded", "undecided"
    );
    let mut all = Tally::default();
    for domain in [Domain::Running, Domain::Table] {
        let n = match domain {
            Domain::Running => total * 4 / 5,
            Domain::Table => total - total * 4 / 5,
        };
        let mut tally = Tally::default();
        for i in 0..n {
            let r = next();
            let (x, e) = match domain {
                Domain::Running => {
                    let v = if i % 2 == 0 {
                        unit(r)
                    } else {
                        f32::from_bits((r >> 32) as u32 % 0x3f80_0001)
                    };
                    (v * 2.0, unit(next()) * 2.0)
                }
                Domain::Table => {
                    let y = ((r >> 56) as u8) as f32 / 255.0;
                    ((y * 2.0).max(1e-37), unit(next()) * 2.0 - 1.0)
                }
            };
            tally.add(x, e);
        }
        tally.print(domain.name());
        all.merge(&tally);
    }
    all.print("all");
}

#[derive(Clone, Copy)]
enum Domain {
    Running,
    Table,
}

impl Domain {
    fn name(self) -> &'static str {
        match self {
            Domain::Running => "(2x)^a, x in [0,1], a in [0,2]",
            Domain::Table => "max(2y,1e-37)^b, b in [-1,1]",
        }
    }
}

#[derive(Default)]
struct Tally {
    operands: u64,
    correct: u64,
    undecided: u64,
    worst: f64,
    worst_at: (f32, f32),
}

impl Tally {
    fn add(&mut self, x: f32, e: f32) {
        self.operands += 1;
        let got = pow(x, e);
        let want = (x as f64).powf(e as f64);
        let nearest = want as f32;
        let ulp = ulp(nearest);
        let err = (got as f64 - want).abs() / ulp;
        if err > self.worst {
            self.worst = err;
            self.worst_at = (x, e);
        }
        // Distance from the reference to the nearest midpoint, in ulps: 0.5 - |err of nearest|.
        let from_mid = 0.5 - (nearest as f64 - want).abs() / ulp;
        if from_mid * ulp <= want.abs() * 2f64.powi(-50) {
            self.undecided += 1;
        } else if got.to_bits() == nearest.to_bits() {
            self.correct += 1;
        }
    }

    fn merge(&mut self, other: &Tally) {
        self.operands += other.operands;
        self.correct += other.correct;
        self.undecided += other.undecided;
        if other.worst > self.worst {
            self.worst = other.worst;
            self.worst_at = other.worst_at;
        }
    }

    fn print(&self, name: &str) {
        let decided = (self.operands - self.undecided).max(1);
        println!(
            "{:<34} {:>11} {:>9.6} ulp {:>17.4}% {:>11}",
            name,
            self.operands,
            self.worst,
            100.0 * self.correct as f64 / decided as f64,
            self.undecided
        );
        println!(
            "{:<34} worst at x = {:e}, e = {:e}; {} of {} decided operands correctly rounded",
            "", self.worst_at.0, self.worst_at.1, self.correct, decided
        );
    }
}

/// The spacing of floats at `v` (the subnormal step below the normal range).
fn ulp(v: f32) -> f64 {
    let v = v.abs();
    if v < f32::MIN_POSITIVE {
        return 2f64.powi(-149);
    }
    if v == f32::MAX {
        return (v - f32::from_bits(v.to_bits() - 1)) as f64;
    }
    (f32::from_bits(v.to_bits() + 1) - v) as f64
}
