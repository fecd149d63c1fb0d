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

/// `x.pow(e)` for the multiplicative mix, correctly rounded to f32 in all but a vanishing
/// share of cases (the double-precision power is rounded once).
#[inline]
pub fn pow(x: f32, e: f32) -> f32 {
    (x as f64).powf(e as f64) as f32
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
        RoundTables {
            add,
            a: round.a,
            other,
        }
    }

    /// Mixes one value of the running picture with the other picture's byte `v`, then
    /// clips to [0, 1].
    #[inline]
    pub fn mix(&self, x: f32, v: u8) -> f32 {
        let out = if self.add {
            (self.a * (x * 2.0 - 1.0) + self.other[v as usize] + 1.0) / 2.0
        } else {
            pow(x * 2.0, self.a) * self.other[v as usize] / 2.0
        };
        clip01(out)
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
