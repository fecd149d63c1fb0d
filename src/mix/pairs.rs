//! A sample's first rounds through a memo indexed by pairs of bytes.
//!
//! After the first round a value depends on two bytes only: the base picture's and the
//! first round's other picture's. It stays so through every following round that takes
//! the same other picture (rounds that all mix in the sample's mixing picture), and the
//! power `(2x)^a` of the round after them is a function of the same pair. A 224x224
//! sample's 150,528 values hold about a sixth as many distinct pairs, so those rounds are
//! computed once a pair, the first time a row meets it, with the same IEEE operations as
//! [`RoundTables::mix_first_row`] and [`RoundTables::mix_row`]: the bytes do not change.

use super::{RoundTables, clip01, pow_lanes};

/// Every pair of bytes.
const PAIRS: usize = 1 << 16;

/// The table index of the pair (`base`, `key`): `key` in the high byte, so the pairs of a
/// row that share a key byte (as the black background of a fractal) sit together (about
/// 1.025x faster than the other order on the benchmark's photos).
#[inline(always)]
fn pair(base: u8, key: u8) -> usize {
    ((key as u16) << 8 | base as u16) as usize
}

/// The memo of one sample's first rounds, filled row by row as new pairs appear.
pub struct PairMemo<'t> {
    /// The first round.
    first: &'t RoundTables,
    /// The rounds after it that mix in the same other picture.
    same: Vec<&'t RoundTables>,
    /// The next round, where it multiplies: its power of the running value is memoized,
    /// its product with its own other picture computed per value.
    power: Option<&'t RoundTables>,
    /// Per pair met so far: the value after `first` and `same`, or its power under
    /// `power`; NaN for the others. (No such value is NaN for finite weights; with a NaN
    /// weight every value would just be computed anew, to the same NaN.)
    table: Box<[f32; PAIRS]>,
    /// The memo's values of the row last looked up.
    row: Vec<f32>,
    /// Positions in that row whose pair no earlier row held.
    fresh: Vec<u32>,
}

impl<'t> PairMemo<'t> {
    /// Whether a sample of `values` values can gain: the table's 256 KiB are filled once
    /// a sample, and a few thousand values hold nearly as many distinct pairs.
    pub fn pays_off(values: usize) -> bool {
        values >= PAIRS / 2
    }

    /// The memo of a sample whose rounds are `rounds`, each with whether it mixes in the
    /// sample's mixing picture, for rows of `row_len` values. `None` where no round but
    /// the first would multiply: a power is what a lookup saves. (Ask
    /// [`pays_off`](Self::pays_off) first.)
    pub fn new(rounds: &[(bool, &'t RoundTables)], row_len: usize) -> Option<PairMemo<'t>> {
        let &(first_mixing, first) = rounds.first()?;
        let same_len = match first_mixing {
            true => rounds[1..].iter().take_while(|(mixing, _)| *mixing).count(),
            false => 0,
        };
        let same: Vec<_> = rounds[1..=same_len].iter().map(|&(_, t)| t).collect();
        let power = rounds.get(1 + same_len).map(|&(_, t)| t).filter(|t| !t.add);
        if power.is_none() && same.iter().all(|t| t.add) {
            return None;
        }
        Some(PairMemo {
            first,
            same,
            power,
            table: vec![f32::NAN; PAIRS]
                .into_boxed_slice()
                .try_into()
                .unwrap_or_else(|_| unreachable!("PAIRS entries")),
            row: vec![0.0; row_len],
            fresh: Vec::with_capacity(row_len),
        })
    }

    /// How many of the sample's rounds [`mix_rows`](Self::mix_rows) applies.
    pub fn rounds(&self) -> usize {
        1 + self.same.len() + self.power.is_some() as usize
    }

    /// Whether the last round applied takes its own other picture (the `last` row of
    /// [`mix_rows`](Self::mix_rows)).
    pub fn needs_last(&self) -> bool {
        self.power.is_some()
    }

    /// The memo's rounds over one row: `base` is the base picture's row, `key` the first
    /// round's other picture's (and so every memoized round's but the last), `last` the
    /// last round's other picture's where [`needs_last`](Self::needs_last) (else
    /// ignored); `mixed` receives the running values after them. The same values as the
    /// rounds one by one.
    pub fn mix_rows(&mut self, base: &[u8], key: &[u8], last: &[u8], mixed: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            return unsafe { self.mix_rows_avx2(base, key, last, mixed) };
        }
        self.mix_rows_portable(base, key, last, mixed)
    }

    /// [`mix_rows`](Self::mix_rows) compiled for AVX2 (fused multiply-adds only where
    /// the code asks for them: the same values).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn mix_rows_avx2(&mut self, base: &[u8], key: &[u8], last: &[u8], mixed: &mut [f32]) {
        let mask = |c: &[f32]| match <&[f32; 8]>::try_from(c) {
            // A safe call: this function enables AVX2.
            Ok(c) => nan_mask_avx2(c),
            Err(_) => nan_mask(c),
        };
        self.look_up(base, key, mask);
        self.finish_row(last, mixed)
    }

    fn mix_rows_portable(&mut self, base: &[u8], key: &[u8], last: &[u8], mixed: &mut [f32]) {
        self.look_up(base, key, nan_mask);
        self.finish_row(last, mixed)
    }

    /// The row last looked up into `mixed`, through the product with `last` where the
    /// memo holds powers.
    #[inline(always)]
    fn finish_row(&self, last: &[u8], mixed: &mut [f32]) {
        match self.power {
            Some(t) => {
                for ((x, &p), &v) in mixed.iter_mut().zip(&self.row).zip(last) {
                    *x = clip01(p * t.other[v as usize] / 2.0);
                }
            }
            None => {
                let n = mixed.len().min(self.row.len());
                mixed[..n].copy_from_slice(&self.row[..n]);
            }
        }
    }

    /// Looks up the values of a row of pairs (`base`, `key`; a longer slice's tail is
    /// ignored), computing (sixteen at a time) those of pairs that no earlier row held;
    /// `mask` finds the NaN among eight values.
    #[inline(always)]
    fn look_up(&mut self, base: &[u8], key: &[u8], mask: impl Fn(&[f32]) -> u8) {
        let n = base.len().min(key.len());
        let table = &mut *self.table;
        self.row.resize(n, 0.0);
        let row = &mut self.row;
        for ((p, &b), &v) in row.iter_mut().zip(base).zip(key) {
            *p = table[pair(b, v)];
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
        // same result: rare, and cheaper than finding the repeats. A short last chunk
        // repeats its first position in the unused lanes. Sixteen at a time: one vector of
        // the powers' lanes.
        for chunk in fresh.chunks(FRESH_LANES) {
            let at: [usize; FRESH_LANES] =
                std::array::from_fn(|j| *chunk.get(j).unwrap_or(&chunk[0]) as usize);
            let (b, k) = (at.map(|i| base[i]), at.map(|i| key[i]));
            let mut x: [f32; FRESH_LANES] =
                std::array::from_fn(|j| self.first.first_value(b[j], k[j]));
            for t in &self.same {
                t.mix_row(&mut x, &k);
            }
            if let Some(t) = self.power {
                for x in &mut x {
                    *x *= 2.0;
                }
                x = pow_lanes(&x, t.a);
            }
            for (j, &i) in at.iter().enumerate().take(chunk.len()) {
                row[i] = x[j];
                table[pair(b[j], k[j])] = x[j];
            }
        }
    }
}

/// New pairs computed together (the mixing rows' vector width).
const FRESH_LANES: usize = 16;

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

    /// Random rows through samples of up to four rounds, every pattern of mixes and of
    /// sources the memo distinguishes, with and without it: the same bits, for rows that
    /// repeat pairs (the memo's lookups, also within a row) and rows of fresh ones (its
    /// computations), through the CPU's fastest path and the portable one.
    #[test]
    fn memo_gives_the_direct_rounds_bits() {
        let tensor = tensorize_table();
        let mut next = xorshift64(0x9a17_5eed);
        let weights = [
            (0.7f32, 0.4f32),
            (1.6, -0.5),
            (0.45, 0.8),
            (1.9, -0.9),
            (0.05, 0.3),
        ];
        let mut memoized_patterns = 0;
        for pattern in 0..256u32 {
            let n = 2 + pattern as usize % 3;
            let mixes: Vec<u32> = (0..n).map(|r| (pattern >> (2 + r)) & 1).collect();
            let mixing: Vec<bool> = (0..n).map(|r| (pattern >> (5 + r)) & 1 == 1).collect();
            let tables: Vec<RoundTables> = (0..n)
                .map(|r| {
                    let (a, b) = weights[(pattern as usize + r) % weights.len()];
                    let mix = [MIX_ADD, MIX_MULTIPLY][mixes[r] as usize];
                    let plan = RoundPlan {
                        mix,
                        a,
                        b,
                        ..bytemuck::Zeroable::zeroed()
                    };
                    RoundTables::new(&plan, &tensor, r == 0)
                })
                .collect();
            let rounds: Vec<(bool, &RoundTables)> = mixing.iter().copied().zip(&tables).collect();
            let len = 333;
            let Some(mut fast) = PairMemo::new(&rounds, len) else {
                continue;
            };
            let mut portable = PairMemo::new(&rounds, len).expect("as above");
            memoized_patterns += 1;
            for row in 0..6 {
                // Early rows draw from few bytes (pairs repeat), later ones from all.
                let span = if row < 3 { 6 } else { 256 };
                let mut bytes =
                    || -> Vec<u8> { (0..len).map(|_| ((next() >> 40) % span) as u8).collect() };
                let base = bytes();
                let mix = bytes();
                // Each round's other picture: the mixing picture, or its own.
                let others: Vec<Vec<u8>> = mixing
                    .iter()
                    .map(|&m| if m { mix.clone() } else { bytes() })
                    .collect();
                let mut direct = vec![0f32; len];
                tables[0].mix_first_row(&base, &others[0], &mut direct);
                for (t, o) in tables.iter().zip(&others).skip(1) {
                    t.mix_row(&mut direct, o);
                }
                for (m, memo) in [&mut fast, &mut portable].into_iter().enumerate() {
                    let mut x = vec![0f32; len];
                    let done = memo.rounds();
                    let last = &others[done - 1];
                    match m {
                        0 => memo.mix_rows(&base, &others[0], last, &mut x),
                        _ => memo.mix_rows_portable(&base, &others[0], last, &mut x),
                    }
                    // Then the rounds after the memo's.
                    for (t, o) in tables.iter().zip(&others).skip(done) {
                        t.mix_row(&mut x, o);
                    }
                    for (i, (d, x)) in direct.iter().zip(&x).enumerate() {
                        assert_eq!(
                            d.to_bits(),
                            x.to_bits(),
                            "pattern {pattern:#x}, memo {m}, row {row}, value {i}"
                        );
                    }
                }
            }
        }
        assert!(
            memoized_patterns > 50,
            "{memoized_patterns} patterns memoized"
        );
    }
}
