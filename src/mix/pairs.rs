//! A sample's second round, when it multiplies, through a memo of its powers.
//!
//! After the first round a value is a function of two bytes, the base picture's and the
//! first other picture's, so the second round's power `(2x)^a` takes at most 65,536
//! values, and a 224x224 sample's 150,528 values hold about a sixth as many distinct
//! pairs. Each pair's power is computed the first time a row meets it, with the same IEEE
//! operations as [`RoundTables::mix_row`], so the bytes do not change.

use super::{RoundTables, clip01, pow};

/// Every pair of bytes, `(base << 8) | other`.
const PAIRS: usize = 1 << 16;

/// The powers of one sample's second round, filled row by row as new pairs appear.
pub struct PairPowers {
    /// The second round's weight of the running picture.
    a: f32,
    /// `(2x)^a` of every pair met so far, NaN for the others. (A power of a base in
    /// [0, 2] with a finite exponent is never NaN; with a NaN exponent every value would
    /// just be computed anew, to the same NaN.)
    powers: Box<[f32; PAIRS]>,
    /// The powers of the row last noted.
    row: Vec<f32>,
    /// Positions in that row whose pair no earlier row held.
    fresh: Vec<u32>,
}

impl PairPowers {
    /// Whether a sample of `values` values gains: the table's 256 KiB are filled once a
    /// sample, and a few thousand values hold nearly as many distinct pairs.
    pub fn pays_off(values: usize) -> bool {
        values >= PAIRS / 2
    }

    /// The memo of a second round that multiplies with weight `a`, for rows of about
    /// `row_len` values.
    pub fn new(a: f32, row_len: usize) -> PairPowers {
        PairPowers {
            a,
            powers: vec![f32::NAN; PAIRS]
                .into_boxed_slice()
                .try_into()
                .unwrap_or_else(|_| unreachable!("PAIRS entries")),
            row: vec![0.0; row_len],
            fresh: Vec::with_capacity(row_len),
        }
    }

    /// The first two rounds of a row: `first` is the sample's first round, `base` and
    /// `other` the bytes it mixes (of one length), `second` the round this memo was made
    /// for and `other2` its other picture's bytes; `mixed` receives the result. The same
    /// values as `first.mix_first_row` then `second.mix_row`, but the first round's
    /// value is computed only where a pair is new to the sample.
    pub fn mix_rows(
        &mut self,
        first: &RoundTables,
        [base, other]: [&[u8]; 2],
        second: &RoundTables,
        other2: &[u8],
        mixed: &mut [f32],
    ) {
        self.note_row(first, base, other);
        self.mix_row(second, mixed, other2);
    }

    /// Looks up the powers of a row whose first round mixes `base` with `other` (a longer
    /// slice's tail is ignored), computing (eight at a time) those of pairs that no
    /// earlier row held.
    fn note_row(&mut self, first: &RoundTables, base: &[u8], other: &[u8]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.note_row_avx2(first, base, other) };
        }
        self.note_row_portable(first, base, other)
    }

    /// [`note_row`](Self::note_row) compiled for AVX2 (no FMA: the same powers).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn note_row_avx2(&mut self, first: &RoundTables, base: &[u8], other: &[u8]) {
        let mask = |c: &[f32]| match <&[f32; 8]>::try_from(c) {
            // A safe call: this function enables AVX2.
            Ok(c) => nan_mask_avx2(c),
            Err(_) => nan_mask(c),
        };
        self.note_row_with(first, base, other, mask)
    }

    fn note_row_portable(&mut self, first: &RoundTables, base: &[u8], other: &[u8]) {
        self.note_row_with(first, base, other, nan_mask)
    }

    /// [`note_row`](Self::note_row) with `mask` finding the NaN among eight values.
    #[inline(always)]
    fn note_row_with(
        &mut self,
        first: &RoundTables,
        base: &[u8],
        other: &[u8],
        mask: impl Fn(&[f32]) -> u8,
    ) {
        let n = base.len().min(other.len());
        let pair = |i: usize| ((base[i] as u16) << 8 | other[i] as u16) as usize;
        let powers = &mut *self.powers;
        self.row.resize(n, 0.0);
        let row = &mut self.row;
        for ((p, &b), &v) in row.iter_mut().zip(base).zip(other) {
            *p = powers[((b as u16) << 8 | v as u16) as usize];
        }
        // The NaN lanes, 64 values to a mask.
        let fresh = &mut self.fresh;
        fresh.clear();
        for (c, chunk) in row.chunks(64).enumerate() {
            let mut mask = chunk
                .chunks(8)
                .enumerate()
                .fold(0u64, |m, (j, c)| m | (mask(c) as u64) << (8 * j));
            while mask != 0 {
                fresh.push((c * 64) as u32 + mask.trailing_zeros());
                mask &= mask - 1;
            }
        }
        // A pair that repeats within its first row is computed at each place, with the
        // same result: rare, and cheaper than finding the repeats.
        let a = self.a;
        let mut chunks = fresh.chunks_exact(8);
        for chunk in &mut chunks {
            let mut p = [0f32; 8];
            for (p, &i) in p.iter_mut().zip(chunk) {
                *p = first.first_value(base[i as usize], other[i as usize]) * 2.0;
            }
            for p in &mut p {
                *p = pow(*p, a);
            }
            for (&p, &i) in p.iter().zip(chunk) {
                row[i as usize] = p;
                powers[pair(i as usize)] = p;
            }
        }
        for &i in chunks.remainder() {
            let x = first.first_value(base[i as usize], other[i as usize]);
            let p = pow(x * 2.0, a);
            row[i as usize] = p;
            powers[pair(i as usize)] = p;
        }
    }

    /// The second round over the row last noted, with `second`'s other picture's bytes
    /// `other`.
    fn mix_row(&self, second: &RoundTables, mixed: &mut [f32], other: &[u8]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.mix_row_avx2(second, mixed, other) };
        }
        self.mix_row_portable(second, mixed, other)
    }

    /// [`mix_row`](Self::mix_row) compiled for AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn mix_row_avx2(&self, second: &RoundTables, mixed: &mut [f32], other: &[u8]) {
        self.mix_row_portable(second, mixed, other)
    }

    #[inline(always)]
    fn mix_row_portable(&self, second: &RoundTables, mixed: &mut [f32], other: &[u8]) {
        let table = &second.other;
        for ((x, &p), &v) in mixed.iter_mut().zip(&self.row).zip(other) {
            *x = clip01(p * table[v as usize] / 2.0);
        }
    }
}

/// Bit `j` set where `values[j]` is NaN, for up to eight values.
#[inline(always)]
fn nan_mask(values: &[f32]) -> u8 {
    values
        .iter()
        .enumerate()
        .fold(0, |m, (j, v)| m | (v.is_nan() as u8) << j)
}

/// [`nan_mask`] of eight values as one compare and `movemask`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn nan_mask_avx2(values: &[f32; 8]) -> u8 {
    use std::arch::x86_64::*;
    // SAFETY: the load reads the eight values of the array.
    let v = unsafe { _mm256_loadu_ps(values.as_ptr()) };
    _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_UNORD_Q>(v, v)) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mix::tensorize_table;
    use crate::plan::{MIX_ADD, MIX_MULTIPLY, RoundPlan};
    use crate::test_rng::xorshift64;

    /// Rows of random bytes through either kind of first round, then a multiplying second
    /// round with and without the memo: the same bits, for rows that repeat pairs (the
    /// memo's lookups) and rows of fresh ones (its powers).
    #[test]
    fn memo_gives_the_direct_rounds_bits() {
        let tensor = tensorize_table();
        let mut next = xorshift64(0x9a17_5eed);
        for (first_mix, a1, b1, a2, b2) in [
            (MIX_MULTIPLY, 0.7f32, 0.4f32, 1.3f32, -0.2f32),
            (MIX_ADD, 1.6, -0.5, 0.45, 0.8),
            (MIX_MULTIPLY, 1.9, -0.9, 0.05, 0.3),
        ] {
            let round = |mix, a, b| RoundPlan {
                mix,
                a,
                b,
                ..bytemuck::Zeroable::zeroed()
            };
            let first = RoundTables::new(&round(first_mix, a1, b1), &tensor, true);
            let second = RoundTables::new(&round(MIX_MULTIPLY, a2, b2), &tensor, false);
            let len = 333;
            // Through the CPU's fastest path, and through the portable one.
            let mut memos = [PairPowers::new(a2, len), PairPowers::new(a2, len)];
            for row in 0..40 {
                // Early rows draw from few bytes (pairs repeat, also within a row), later
                // ones from all.
                let span = if row < 20 { 6 } else { 256 };
                let mut bytes =
                    || -> Vec<u8> { (0..len).map(|_| ((next() >> 40) % span) as u8).collect() };
                let (base, other1, other2) = (bytes(), bytes(), bytes());
                let mut direct = vec![0f32; len];
                first.mix_first_row(&base, &other1, &mut direct);
                second.mix_row(&mut direct, &other2);
                for (m, memo) in memos.iter_mut().enumerate() {
                    let mut memoized = vec![0f32; len];
                    match m {
                        0 => memo.note_row(&first, &base, &other1),
                        _ => memo.note_row_portable(&first, &base, &other1),
                    }
                    memo.mix_row(&second, &mut memoized, &other2);
                    for (i, (d, x)) in direct.iter().zip(&memoized).enumerate() {
                        assert_eq!(d.to_bits(), x.to_bits(), "memo {m}, row {row}, value {i}");
                    }
                }
            }
        }
    }
}
