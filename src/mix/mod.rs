//! The mixing arithmetic of the released code, in float32 exactly as torch evaluates it
//! (one rounding per tensor operation, no fused multiply-add).
//!
//! The other picture of a round is always an 8-bit picture, so a multiplicative round's
//! power of it takes one of 256 values: [`RoundTables`] precomputes them once per round.
//! After the first round a value still depends on two bytes only, so in large samples the
//! first rounds are computed once per pair of bytes and looked up ([`PairMemo`]).

mod pairs;
mod pow;

pub use pairs::PairMemo;
pub use pow::pow;
use pow::pow_lanes;

use crate::plan::{MIX_ADD, RoundPlan};

/// Values per step of the vectorised power loops: one AVX-512 vector of floats.
const LANES: usize = 16;

/// `ToTensor` of one byte: `v as f32 / 255`.
#[inline(always)]
pub fn tensorize(v: u8) -> f32 {
    v as f32 / 255.0
}

/// [`tensorize`] for every byte.
pub fn tensorize_table() -> [f32; 256] {
    std::array::from_fn(|v| tensorize(v as u8))
}

/// The per-round constants of one mixing round.
#[derive(Clone, Debug)]
pub struct RoundTables {
    /// Whether the round adds (else multiplies).
    pub add: bool,
    /// Weight of the running mix.
    pub a: f32,
    /// Weight of the other picture.
    pub b: f32,
    /// The other picture's term `max(2y, 1e-37) ^ b` for each byte (multiply only; an
    /// additive round computes its term `b (2y - 1)` in the row loop, where vector
    /// arithmetic beats a table's scattered loads).
    pub other: [f32; 256],
    /// The running picture's term `(2x) ^ a` for each byte, for a first round, whose
    /// running picture is still an 8-bit picture (multiply only; zeros for later rounds,
    /// which never read it).
    pub first: [f32; 256],
}

impl RoundTables {
    /// The constants of `round`; `is_first` says whether it is its sample's first round,
    /// the only one that reads [`first`](Self::first).
    pub fn new(round: &RoundPlan, tensor: &[f32; 256], is_first: bool) -> RoundTables {
        let add = round.mix == MIX_ADD;
        let (other, first) = if add {
            ([0.0; 256], [0.0; 256])
        } else {
            (
                pow_table(
                    &std::array::from_fn(|v| (tensor[v] * 2.0).max(1e-37)),
                    round.b,
                ),
                if is_first {
                    pow_table(&std::array::from_fn(|v| tensor[v] * 2.0), round.a)
                } else {
                    [0.0; 256]
                },
            )
        };
        RoundTables {
            add,
            a: round.a,
            b: round.b,
            other,
            first,
        }
    }

    /// An additive round over running value `x` and the other picture's byte `v`:
    /// `(a (2x - 1) + b (2y - 1) + 1) / 2` clipped, with `y = v / 255` as `ToTensor`
    /// computes it (computed rather than looked up: vector arithmetic beats a table's
    /// scattered loads).
    #[inline(always)]
    fn add_value(&self, x: f32, v: u8) -> f32 {
        let other = self.b * (tensorize(v) * 2.0 - 1.0);
        clip01((self.a * (x * 2.0 - 1.0) + other + 1.0) / 2.0)
    }

    /// Mixes a row of the running picture with a row of the other picture's bytes.
    #[inline(always)]
    pub fn mix_row(&self, mixed: &mut [f32], other: &[u8]) {
        if self.add {
            for (x, &v) in mixed.iter_mut().zip(other) {
                *x = self.add_value(*x, v);
            }
        } else {
            self.multiply_row(mixed, other);
        }
    }

    fn multiply_row(&self, mixed: &mut [f32], other: &[u8]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX-512F and FMA, checked just above.
            return unsafe { self.multiply_row_avx512(mixed, other) };
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            return unsafe { self.multiply_row_avx2(mixed, other) };
        }
        self.multiply_row_lanes(mixed, other)
    }

    /// The same IEEE operations compiled for 8-wide float vectors (fused multiply-adds
    /// only where the code asks for them, so the results are the portable code's).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn multiply_row_avx2(&self, mixed: &mut [f32], other: &[u8]) {
        self.multiply_row_lanes(mixed, other)
    }

    /// The same IEEE operations for 16-wide float vectors.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,fma")]
    fn multiply_row_avx512(&self, mixed: &mut [f32], other: &[u8]) {
        self.multiply_row_lanes(mixed, other)
    }

    /// Sixteen independent values at a time, so the compiler can vectorise the powers and
    /// overlap their long dependency chains; a short tail is padded to sixteen (short
    /// rows are common: the pair memo mixes eight values at a time).
    #[inline(always)]
    fn multiply_row_lanes(&self, mixed: &mut [f32], other: &[u8]) {
        let mut xs = mixed.chunks_exact_mut(LANES);
        let mut vs = other.chunks_exact(LANES);
        for (x, v) in (&mut xs).zip(&mut vs) {
            let x: &mut [f32; LANES] = x.try_into().unwrap_or_else(|_| unreachable!());
            let v: &[u8; LANES] = v.try_into().unwrap_or_else(|_| unreachable!());
            self.multiply_lanes(x, v);
        }
        let (x, v) = (xs.into_remainder(), vs.remainder());
        let n = x.len().min(v.len());
        if n > 0 {
            let (mut xp, mut vp) = ([1f32; LANES], [0u8; LANES]);
            xp[..n].copy_from_slice(&x[..n]);
            vp[..n].copy_from_slice(&v[..n]);
            self.multiply_lanes(&mut xp, &vp);
            x[..n].copy_from_slice(&xp[..n]);
        }
    }

    #[inline(always)]
    fn multiply_lanes(&self, x: &mut [f32; LANES], v: &[u8; LANES]) {
        let mut doubled = [0f32; LANES];
        for i in 0..LANES {
            doubled[i] = x[i] * 2.0;
        }
        let p = pow_lanes(&doubled, self.a);
        for i in 0..LANES {
            x[i] = clip01(p[i] * self.other[v[i] as usize] / 2.0);
        }
    }

    /// [`mix_row`](Self::mix_row) for a first round, whose running picture is the 8-bit
    /// row `base` tensorized.
    #[inline(always)]
    pub fn mix_first_row(&self, base: &[u8], other: &[u8], mixed: &mut [f32]) {
        if self.add {
            for ((x, &b), &v) in mixed.iter_mut().zip(base).zip(other) {
                *x = self.add_value(tensorize(b), v);
            }
        } else {
            for ((x, &b), &v) in mixed.iter_mut().zip(base).zip(other) {
                *x = self.multiply_first(b, v);
            }
        }
    }

    /// One value of [`mix_first_row`](Self::mix_first_row): a first round over the base
    /// byte `b` and the other picture's byte `v`.
    #[inline(always)]
    pub fn first_value(&self, b: u8, v: u8) -> f32 {
        if self.add {
            self.add_value(tensorize(b), v)
        } else {
            self.multiply_first(b, v)
        }
    }

    #[inline(always)]
    fn multiply_first(&self, b: u8, v: u8) -> f32 {
        clip01(self.first[b as usize] * self.other[v as usize] / 2.0)
    }
}

/// `pow(x[v], e)` for the 256 bases of a byte table, sixteen at a time like the row loops
/// (one at a time, each power is a chain of some hundred dependent cycles).
fn pow_table(x: &[f32; 256], e: f32) -> [f32; 256] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma")
    {
        // SAFETY: the CPU supports AVX-512F and FMA, checked just above.
        return unsafe { pow_table_avx512(x, e) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { pow_table_avx2(x, e) };
    }
    pow_table_lanes(x, e)
}

/// [`pow_table`] compiled for AVX-512 (the portable code's operations).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn pow_table_avx512(x: &[f32; 256], e: f32) -> [f32; 256] {
    pow_table_lanes(x, e)
}

/// [`pow_table`] compiled for AVX2 (the portable code's operations).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn pow_table_avx2(x: &[f32; 256], e: f32) -> [f32; 256] {
    pow_table_lanes(x, e)
}

#[inline(always)]
fn pow_table_lanes(x: &[f32; 256], e: f32) -> [f32; 256] {
    let mut out = [0f32; 256];
    for (o, v) in out.chunks_exact_mut(LANES).zip(x.chunks_exact(LANES)) {
        let v: &[f32; LANES] = v.try_into().unwrap_or_else(|_| unreachable!());
        o.copy_from_slice(&pow_lanes(v, e));
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::MIX_MULTIPLY;
    use crate::test_rng::xorshift64;

    /// The vectorised table and row powers give the scalar power's bits, on the bases the
    /// mix meets (bytes doubled, the clip at 1e-37, running values in [0, 2]) and zero.
    #[test]
    fn vector_powers_equal_scalar_powers() {
        let tensor = tensorize_table();
        let mut next = xorshift64(0x0005_eed0_fa11);
        for e in [0.83f32, 1.17, -0.4, 2.0, 0.0, 1e-3] {
            let bases: [f32; 256] = std::array::from_fn(|v| (tensor[v] * 2.0).max(1e-37));
            let table = pow_table(&bases, e);
            for v in 0..256 {
                assert_eq!(table[v].to_bits(), pow(bases[v], e).to_bits(), "{v} ^ {e}");
            }
            let mut row: Vec<f32> = (0..672)
                .map(|i| match i % 7 {
                    0 => 0.0,
                    _ => (next() >> 40) as f32 / (1u64 << 24) as f32,
                })
                .collect();
            let other: Vec<u8> = (0..672).map(|_| (next() >> 56) as u8).collect();
            let round = RoundPlan {
                mix: MIX_MULTIPLY,
                a: e,
                b: 0.6,
                ..bytemuck::Zeroable::zeroed()
            };
            let t = RoundTables::new(&round, &tensor, false);
            let want: Vec<f32> = row
                .iter()
                .zip(&other)
                .map(|(&x, &v)| clip01(pow(x * 2.0, e) * t.other[v as usize] / 2.0))
                .collect();
            t.mix_row(&mut row, &other);
            assert!(
                row.iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "e {e}"
            );
        }
    }
}
