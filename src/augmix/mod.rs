//! AugMix (Hendrycks et al., *AugMix: A Simple Data Processing Method to Improve Robustness
//! and Uncertainty*, ICLR 2020), as the released code (`google-research/augmix`, function
//! `aug` of `cifar.py` / `imagenet.py`) computes it, on the CPU (and with the `cuda` feature
//! on a GPU: [`AugMix::use_cuda`], `cuda::AugMixCudaExecutor`).
//!
//! Per sample: `ws ~ Dirichlet([alpha] * width)` and `m ~ Beta(alpha, alpha)`, both cast to
//! float32; `width` chains, each starting from the original (after the train transform) and
//! applying `depth` operators in sequence (`depth` fixed, or uniform in 1..=3 per chain when
//! -1), every operator working on the previous one's 8-bit output;
//! `mix = sum(ws[i] * preprocess(chain_i))` accumulated in float32 from zero, and the
//! output `(1 - m) * preprocess(orig) + m * mix`, where `preprocess` is ToTensor then
//! Normalize. The operators are PixMix's (the same file in both released codes), equal to
//! Pillow.
//!
//! As for PixMix, a seeded [`AugMixPlanner`] draws every random choice into plain-old-data
//! [`AugMixPlan`]s and [`AugMixExecutor`] turns (plan, pixels) into NCHW tensors;
//! [`AugMix`] holds both behind one call.

mod chain;
mod cpu;
mod pipeline;
mod plan;
// The layout the CUDA kernels read; public for the host build of the kernels and tests.
#[doc(hidden)]
#[cfg(feature = "cuda")]
pub mod staging;

pub use cpu::AugMixExecutor;
#[cfg(feature = "cuda")]
pub(crate) use cpu::{check_jsd, check_plans};
pub use pipeline::AugMix;
pub use plan::{AugMixPlan, AugMixPlanner, MAX_DEPTH, MAX_WIDTH};

use crate::config::{Config, Preset};
use crate::error::{Error, Result, number};

/// Every setting of an AugMix pipeline. Start from [`AugMixConfig::preset`] and override
/// fields.
#[derive(Clone, Debug, PartialEq)]
pub struct AugMixConfig {
    /// The settings shared with PixMix: `size`, `train` (the train transform), `severity`,
    /// `all_ops` (13 operators instead of the default 9), `mean` and `std` of the
    /// preprocessing. PixMix's `k`, `beta` and `mixing_resize` are not used by AugMix.
    pub base: Config,
    /// Number of chains mixed (`mixture_width`), 1 to [`MAX_WIDTH`].
    pub width: u32,
    /// Operators per chain (`mixture_depth`): 1 to [`MAX_DEPTH`], or -1 for uniform in
    /// 1..=3 per chain.
    pub depth: i32,
    /// Concentration of the Dirichlet weights and both shapes of the Beta of `m`
    /// (`mixture_alpha`).
    pub alpha: f64,
}

impl AugMixConfig {
    /// The released code's defaults for `preset`: width 3, depth -1, alpha 1, the nine
    /// default operators, severity 3 (CIFAR) or 1 (ImageNet), and the preset's train
    /// transform, size, mean and std.
    pub fn preset(preset: Preset) -> AugMixConfig {
        let mut base = Config::preset(preset);
        base.all_ops = false;
        base.severity = match preset {
            Preset::Cifar => 3,
            Preset::Imagenet => 1,
        };
        AugMixConfig {
            base,
            width: 3,
            depth: -1,
            alpha: 1.0,
        }
    }

    /// Checks every field; the message names the field and the accepted range.
    pub fn validate(&self) -> Result<()> {
        self.base.validate()?;
        let bad = |msg: String| Err(Error::Config(msg));
        if !(1..=MAX_WIDTH as u32).contains(&self.width) {
            return bad(format!(
                "width must be in 1..={MAX_WIDTH}, got {}",
                self.width
            ));
        }
        if !(self.depth == -1 || (1..=MAX_DEPTH as i32).contains(&self.depth)) {
            return bad(format!(
                "depth must be -1 (random in 1..=3) or in 1..={MAX_DEPTH}, got {}",
                self.depth
            ));
        }
        if !(self.alpha.is_finite() && (MIN_ALPHA..=MAX_ALPHA).contains(&self.alpha)) {
            return bad(format!(
                "alpha must be a finite number in [{MIN_ALPHA}, {MAX_ALPHA}], got {}",
                number(self.alpha)
            ));
        }
        Ok(())
    }
}

/// The smallest `alpha` accepted: below it the float32 weights of a Dirichlet draw are
/// mostly exact zeros and ones.
pub const MIN_ALPHA: f64 = 1e-3;
/// The largest `alpha` accepted.
pub const MAX_ALPHA: f64 = 1e6;
