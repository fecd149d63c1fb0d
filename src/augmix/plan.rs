//! [`AugMixPlan`]: every random choice of one AugMix sample, drawn up front.

use bytemuck::{Pod, Zeroable};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Dirichlet, Distribution};

use super::AugMixConfig;
use crate::error::{Error, Result};
use crate::plan::{OpPlan, SamplePlan, draw_op, draw_train_transform};

/// The most chains a plan holds.
pub const MAX_WIDTH: usize = 8;
/// The most operators a chain holds (the released code's random depth is 1..=3).
pub const MAX_DEPTH: usize = 3;

/// Everything random about one AugMix sample. `#[repr(C)]` and [`bytemuck::Pod`], like
/// [`SamplePlan`], whose train-transform fields it shares.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct AugMixPlan {
    /// [`TRANSFORM_FLIP_PAD_CROP`](crate::plan::TRANSFORM_FLIP_PAD_CROP) or
    /// [`TRANSFORM_RESIZED_CROP_FLIP`](crate::plan::TRANSFORM_RESIZED_CROP_FLIP).
    pub transform: u32,
    /// 1 to mirror horizontally, as [`SamplePlan::flip`].
    pub flip: u32,
    /// Crop origin in source pixels, as [`SamplePlan::crop_x`].
    pub crop_x: i32,
    /// Crop origin, vertical.
    pub crop_y: i32,
    /// Crop width in source pixels.
    pub crop_w: u32,
    /// Crop height in source pixels.
    pub crop_h: u32,
    /// Number of chains, 1 to [`MAX_WIDTH`].
    pub width: u32,
    /// Keeps the layout free of implicit padding.
    pub reserved: u32,
    /// Operators in each chain, 1 to [`MAX_DEPTH`] (0 past `width`).
    pub depths: [u32; MAX_WIDTH],
    /// The float32 Dirichlet weights of the chains (0 past `width`).
    pub weights: [f32; MAX_WIDTH],
    /// The float32 Beta weight of the mixture against the original.
    pub m: f32,
    /// Keeps the layout free of implicit padding.
    pub reserved2: u32,
    /// The operators of each chain, in order ([`OpPlan::NONE`] past its depth).
    pub ops: [[OpPlan; MAX_DEPTH]; MAX_WIDTH],
}

impl AugMixPlan {
    /// The train-transform fields as a PixMix [`SamplePlan`] (the rest zero).
    pub fn train_plan(&self) -> SamplePlan {
        SamplePlan {
            transform: self.transform,
            flip: self.flip,
            crop_x: self.crop_x,
            crop_y: self.crop_y,
            crop_w: self.crop_w,
            crop_h: self.crop_h,
            ..SamplePlan::zeroed()
        }
    }

    /// The operators of chain `i` (empty past `width`).
    pub fn chain(&self, i: usize) -> &[OpPlan] {
        if i >= (self.width as usize).min(MAX_WIDTH) {
            return &[];
        }
        &self.ops[i][..(self.depths[i] as usize).min(MAX_DEPTH)]
    }

    /// Whether the two plans have the same train transform (the JSD views of an image).
    pub fn same_train(&self, other: &AugMixPlan) -> bool {
        self.train_plan() == other.train_plan()
    }
}

/// Draws AugMix plans from a seed. Sample n of a planner always gets the same plan,
/// however the samples are split into batches: each sample has its own ChaCha8 stream
/// (seeded as [`Planner`](crate::Planner)'s; use
/// [`rank_seed`](crate::plan::rank_seed) for data-parallel ranks).
///
/// Within a sample's stream the draws come in the released code's order: the train
/// transform (as PixMix's planner draws it), then `np.random.dirichlet`, `np.random.beta`,
/// then per chain its depth (when random) and per operator `np.random.choice` of the
/// operator, its level and its sign. With [`plan_jsd`](Self::plan_jsd) a second AugMix
/// draw follows the first on the same stream, sharing the train transform as the released
/// `AugMixDataset` does; so a sample's first JSD view is its plain plan. The streams cannot
/// equal numpy's; the distributions do (`rand_distr`'s Dirichlet and Beta; the Dirichlet
/// of one chain is the constant 1, as numpy's).
///
/// The Dirichlet and Beta draws use the platform's `ln`, `exp` and `powf` (through
/// `rand_distr`), so unlike PixMix's plans the weights may differ in the last bit between
/// machines; on one machine they are reproducible.
#[derive(Clone, Debug)]
pub struct AugMixPlanner {
    config: AugMixConfig,
    seed: u64,
    next: u64,
}

impl AugMixPlanner {
    /// A planner for `config` seeded with `seed`. Fails when the configuration is invalid.
    pub fn new(config: &AugMixConfig, seed: u64) -> Result<AugMixPlanner> {
        config.validate()?;
        Ok(AugMixPlanner {
            config: config.clone(),
            seed,
            next: 0,
        })
    }

    /// The configuration plans are drawn for.
    pub fn config(&self) -> &AugMixConfig {
        &self.config
    }

    /// Index of the next sample to be planned.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// Moves to sample `index` (e.g. to resume a run).
    pub fn seek(&mut self, index: u64) {
        self.next = index;
    }

    /// Plans the next `image_sizes.len()` samples (`(width, height)` of each training
    /// image), one plan each.
    pub fn plan(&mut self, image_sizes: &[(usize, usize)]) -> Result<Vec<AugMixPlan>> {
        Ok(self.plan_views(image_sizes, 1)?.remove(0))
    }

    /// Plans the next `image_sizes.len()` samples with two independent AugMix draws each
    /// (the JSD views), sharing their train transform: `[first views; second views]`, 2N
    /// plans. The first views equal what [`plan`](Self::plan) would have returned.
    pub fn plan_jsd(&mut self, image_sizes: &[(usize, usize)]) -> Result<Vec<AugMixPlan>> {
        Ok(self.plan_views(image_sizes, 2)?.concat())
    }

    fn plan_views(
        &mut self,
        image_sizes: &[(usize, usize)],
        views: usize,
    ) -> Result<Vec<Vec<AugMixPlan>>> {
        for (i, &(w, h)) in image_sizes.iter().enumerate() {
            self.config.base.check_image_size(i, w, h)?;
        }
        let mut out = vec![Vec::with_capacity(image_sizes.len()); views];
        for &(w, h) in image_sizes {
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            rng.set_stream(self.next);
            let mut train = SamplePlan::zeroed();
            draw_train_transform(&mut rng, &self.config.base, w, h, &mut train);
            for view in out.iter_mut() {
                view.push(self.draw(&mut rng, &train)?);
            }
            self.next += 1;
        }
        Ok(out)
    }

    /// One AugMix draw (function `aug` of the released code) on top of `train`.
    fn draw(&self, rng: &mut ChaCha8Rng, train: &SamplePlan) -> Result<AugMixPlan> {
        let c = &self.config;
        let width = c.width as usize;
        let mut p = AugMixPlan::zeroed();
        (p.transform, p.flip) = (train.transform, train.flip);
        (p.crop_x, p.crop_y, p.crop_w, p.crop_h) =
            (train.crop_x, train.crop_y, train.crop_w, train.crop_h);
        p.width = c.width;
        // ws = np.float32(np.random.dirichlet([alpha] * width))
        let ws = dirichlet(rng, c.alpha, width)?;
        for (w, x) in p.weights.iter_mut().zip(&ws[..width]) {
            *w = *x as f32;
        }
        // m = np.float32(np.random.beta(alpha, alpha))
        let beta = Beta::new(c.alpha, c.alpha).map_err(|e| Error::Config(e.to_string()))?;
        p.m = beta.sample(rng) as f32;
        p.ops = [[OpPlan::NONE; MAX_DEPTH]; MAX_WIDTH];
        for i in 0..width {
            // depth = mixture_depth if > 0 else np.random.randint(1, 4)
            let depth = match c.depth {
                d if d > 0 => d as usize,
                _ => rng.random_range(1..=MAX_DEPTH),
            };
            p.depths[i] = depth as u32;
            for op in &mut p.ops[i][..depth] {
                *op = draw_op(rng, &c.base);
            }
        }
        Ok(p)
    }
}

/// A draw of `Dirichlet([alpha] * width)` in f64, in the first `width` entries.
fn dirichlet(rng: &mut ChaCha8Rng, alpha: f64, width: usize) -> Result<[f64; MAX_WIDTH]> {
    fn draw<const N: usize>(rng: &mut ChaCha8Rng, alpha: f64) -> Result<[f64; MAX_WIDTH]> {
        let d = Dirichlet::new([alpha; N]).map_err(|e| Error::Config(e.to_string()))?;
        let x: [f64; N] = d.sample(rng);
        let mut out = [0.0; MAX_WIDTH];
        out[..N].copy_from_slice(&x);
        Ok(out)
    }
    match width {
        // One chain: numpy's dirichlet([alpha]) is the constant [1.0].
        1 => {
            let mut out = [0.0; MAX_WIDTH];
            out[0] = 1.0;
            Ok(out)
        }
        2 => draw::<2>(rng, alpha),
        3 => draw::<3>(rng, alpha),
        4 => draw::<4>(rng, alpha),
        5 => draw::<5>(rng, alpha),
        6 => draw::<6>(rng, alpha),
        7 => draw::<7>(rng, alpha),
        8 => draw::<8>(rng, alpha),
        _ => Err(Error::Config(format!(
            "width must be in 1..={MAX_WIDTH}, got {width}"
        ))),
    }
}
