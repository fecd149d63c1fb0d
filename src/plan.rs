//! Per-sample plans: every random choice of PixMix drawn up front, as plain old data.
//!
//! A [`BatchPlan`] holds one [`SamplePlan`] per sample and the [`RoundPlan`]s of all
//! mixing rounds. Both are `#[repr(C)]` and [`bytemuck::Pod`], so a batch plan uploads to
//! a device as bytes; `kernels/plan.cuh` mirrors the layout.

use bytemuck::{Pod, Zeroable};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::{Config, TrainTransform};
use crate::error::{Error, Result};
use crate::ops::Operator;

/// `OpPlan::op` of "no operator": the picture is used as is.
pub const NO_OP: u32 = u32::MAX;
/// `SamplePlan::transform`: flip, then crop from the zero-padded image.
pub const TRANSFORM_FLIP_PAD_CROP: u32 = 0;
/// `SamplePlan::transform`: crop, resize to the output size, then flip.
pub const TRANSFORM_RESIZED_CROP_FLIP: u32 = 1;
/// `RoundPlan::source`: an augmented copy of the original.
pub const SOURCE_AUGMENTED: u32 = 0;
/// `RoundPlan::source`: the sample's mixing picture.
pub const SOURCE_MIXING: u32 = 1;
/// `RoundPlan::mix`: the conic additive mix.
pub const MIX_ADD: u32 = 0;
/// `RoundPlan::mix`: the conic multiplicative (geometric) mix.
pub const MIX_MULTIPLY: u32 = 1;

/// One operator with its resolved parameter.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct OpPlan {
    /// The parameter (degrees, bits, threshold, factor, pixels; 0 when unused).
    pub param: f64,
    /// [`Operator`] id, or [`NO_OP`].
    pub op: u32,
    /// Keeps the layout free of implicit padding.
    pub reserved: u32,
}

impl OpPlan {
    /// No operator.
    pub const NONE: OpPlan = OpPlan {
        param: 0.0,
        op: NO_OP,
        reserved: 0,
    };

    /// The operator, or `None` for [`NO_OP`]. Fails on an unknown id.
    pub fn operator(&self) -> Result<Option<Operator>> {
        if self.op == NO_OP {
            return Ok(None);
        }
        Operator::from_id(self.op)
            .map(Some)
            .ok_or_else(|| Error::Input(format!("plan names unknown operator id {}", self.op)))
    }
}

/// One mixing round.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct RoundPlan {
    /// The operator of the augmented copy (`NO_OP` when the source is the mixing picture).
    pub aug: OpPlan,
    /// Weight of the running mix.
    pub a: f32,
    /// Weight of the other picture (may be negative).
    pub b: f32,
    /// [`SOURCE_AUGMENTED`] or [`SOURCE_MIXING`].
    pub source: u32,
    /// [`MIX_ADD`] or [`MIX_MULTIPLY`].
    pub mix: u32,
}

/// Everything random about one sample except its rounds.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct SamplePlan {
    /// [`TRANSFORM_FLIP_PAD_CROP`] or [`TRANSFORM_RESIZED_CROP_FLIP`].
    pub transform: u32,
    /// 1 to mirror horizontally (before the crop for pad-crop, after the resize otherwise).
    pub flip: u32,
    /// Crop origin in source pixels (negative into the zero padding for pad-crop).
    pub crop_x: i32,
    /// Crop origin, vertical.
    pub crop_y: i32,
    /// Crop width in source pixels.
    pub crop_w: u32,
    /// Crop height in source pixels.
    pub crop_h: u32,
    /// Index of the mixing picture.
    pub mixing_index: u32,
    /// Crop origin in the (resized) mixing picture.
    pub mixing_x: u32,
    /// Crop origin in the mixing picture, vertical.
    pub mixing_y: u32,
    /// Index of this sample's first round in [`BatchPlan::rounds`].
    pub first_round: u32,
    /// Number of rounds, 0 to k.
    pub round_count: u32,
    /// Keeps the layout free of implicit padding.
    pub reserved: u32,
    /// The operator producing the starting picture (`NO_OP`: the original itself).
    pub base: OpPlan,
}

/// The plans of one batch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchPlan {
    /// One per sample.
    pub samples: Vec<SamplePlan>,
    /// All rounds, sample after sample.
    pub rounds: Vec<RoundPlan>,
}

impl BatchPlan {
    /// The rounds of sample `i`. Fails when the plan's indices are out of range.
    pub fn rounds_of(&self, i: usize) -> Result<&[RoundPlan]> {
        let s = self
            .samples
            .get(i)
            .ok_or_else(|| Error::Input(format!("plan has no sample {i}")))?;
        let start = s.first_round as usize;
        let end = start + s.round_count as usize;
        self.rounds.get(start..end).ok_or_else(|| {
            Error::Input(format!(
                "sample {i} names rounds {start}..{end} but the plan has {}",
                self.rounds.len()
            ))
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether the plan has no sample.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// Draws plans from a seed. Sample n of a planner always gets the same plan, however the
/// samples are split into batches: each sample has its own ChaCha8 stream.
#[derive(Clone, Debug)]
pub struct Planner {
    config: Config,
    seed: u64,
    next: u64,
}

/// A uniform draw in [0, 1) with 53 random bits, as numpy's `random()`.
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    rng.random::<f64>()
}

/// `np.random.beta(beta, 1)` by inversion: the CDF is x^beta. `libm` keeps the result
/// identical on every machine.
fn beta_n1(rng: &mut ChaCha8Rng, beta: f64) -> f64 {
    libm::pow(1.0 - unit(rng), 1.0 / beta)
}

/// `np.random.beta(1, beta)`: one minus a `Beta(beta, 1)` draw.
fn beta_1n(rng: &mut ChaCha8Rng, beta: f64) -> f64 {
    1.0 - beta_n1(rng, beta)
}

/// Python's `round()`: to nearest, ties to even.
fn round_even(x: f64) -> i64 {
    x.round_ties_even() as i64
}

impl Planner {
    /// A planner for `config` seeded with `seed`. Fails when the configuration is invalid.
    pub fn new(config: &Config, seed: u64) -> Result<Planner> {
        config.validate()?;
        Ok(Planner {
            config: config.clone(),
            seed,
            next: 0,
        })
    }

    /// The configuration plans are drawn for.
    pub fn config(&self) -> &Config {
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

    /// Plans the next `image_sizes.len()` samples: `image_sizes[i]` is the (width, height)
    /// of sample i's training image, `mixing_sizes` the sizes of the mixing pictures as
    /// stored (already resized).
    pub fn plan(
        &mut self,
        image_sizes: &[(usize, usize)],
        mixing_sizes: &[(usize, usize)],
    ) -> Result<BatchPlan> {
        if mixing_sizes.is_empty() {
            return Err(Error::MixingSet("the mixing set is empty".into()));
        }
        let size = self.config.size;
        if let Some((i, &(w, h))) = mixing_sizes
            .iter()
            .enumerate()
            .find(|(_, (w, h))| *w < size || *h < size)
        {
            return Err(Error::MixingSet(format!(
                "mixing picture {i} is {w}x{h}, smaller than the {size}x{size} crop"
            )));
        }
        for (i, &(w, h)) in image_sizes.iter().enumerate() {
            self.config.check_image_size(i, w, h)?;
        }
        let mut plan = BatchPlan::default();
        for &(w, h) in image_sizes {
            let mut sample = self.plan_sample(self.next, w, h, mixing_sizes, &mut plan.rounds);
            sample.first_round = (plan.rounds.len() - sample.round_count as usize) as u32;
            plan.samples.push(sample);
            self.next += 1;
        }
        Ok(plan)
    }

    fn plan_sample(
        &self,
        index: u64,
        w: usize,
        h: usize,
        mixing_sizes: &[(usize, usize)],
        rounds: &mut Vec<RoundPlan>,
    ) -> SamplePlan {
        let c = &self.config;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(index);
        let rng = &mut rng;
        let mut s = SamplePlan::zeroed();

        // Train transform.
        draw_train_transform(rng, c, w, h, &mut s);

        // Mixing picture and its crop.
        let m = rng.random_range(0..mixing_sizes.len());
        let (mw, mh) = mixing_sizes[m];
        s.mixing_index = m as u32;
        s.mixing_y = rng.random_range(0..=mh - c.size) as u32;
        s.mixing_x = rng.random_range(0..=mw - c.size) as u32;

        // PixMix proper.
        s.base = if unit(rng) < 0.5 {
            self.draw_op(rng)
        } else {
            OpPlan::NONE
        };
        s.round_count = rng.random_range(0..=c.k);
        for _ in 0..s.round_count {
            let (source, aug) = if unit(rng) < 0.5 {
                (SOURCE_AUGMENTED, self.draw_op(rng))
            } else {
                (SOURCE_MIXING, OpPlan::NONE)
            };
            let mix = rng.random_range(0..2u32);
            let (a, b) = get_ab(rng, c.beta);
            rounds.push(RoundPlan {
                aug,
                a,
                b,
                source,
                mix,
            });
        }
        s
    }

    fn draw_op(&self, rng: &mut ChaCha8Rng) -> OpPlan {
        draw_op(rng, &self.config)
    }
}

/// `augment_input` (PixMix) or one step of an AugMix chain: a uniform operator of
/// `config.operators()`, a level in [0.1, severity), a random sign.
pub(crate) fn draw_op(rng: &mut ChaCha8Rng, config: &Config) -> OpPlan {
    let ops = config.operators();
    let op = ops[rng.random_range(0..ops.len())];
    let severity = config.severity as f64;
    let level = 0.1 + (severity - 0.1) * unit(rng);
    let mut param = op.param_from_level(level, config.size, config.size);
    if op.random_sign() && unit(rng) < 0.5 {
        param = -param;
    }
    OpPlan {
        param,
        op: op as u32,
        reserved: 0,
    }
}

/// The train transform of a `w` x `h` image: fills the transform, flip and crop fields of
/// `s` (the rest is left alone).
pub(crate) fn draw_train_transform(
    rng: &mut ChaCha8Rng,
    c: &Config,
    w: usize,
    h: usize,
    s: &mut SamplePlan,
) {
    match c.train {
        TrainTransform::FlipPadCrop { padding } => {
            s.transform = TRANSFORM_FLIP_PAD_CROP;
            s.flip = (unit(rng) < 0.5) as u32;
            let oy = rng.random_range(0..=h + 2 * padding - c.size);
            let ox = rng.random_range(0..=w + 2 * padding - c.size);
            s.crop_x = ox as i32 - padding as i32;
            s.crop_y = oy as i32 - padding as i32;
            s.crop_w = c.size as u32;
            s.crop_h = c.size as u32;
        }
        TrainTransform::ResizedCropFlip { scale, ratio } => {
            s.transform = TRANSFORM_RESIZED_CROP_FLIP;
            let (x, y, cw, ch) = resized_crop_params(rng, w, h, scale, ratio);
            (s.crop_x, s.crop_y, s.crop_w, s.crop_h) = (x as i32, y as i32, cw as u32, ch as u32);
            s.flip = (unit(rng) < 0.5) as u32;
        }
    }
}

/// `get_ab(beta)` of the released code, as float32.
pub fn get_ab(rng: &mut ChaCha8Rng, beta: f64) -> (f32, f32) {
    if unit(rng) < 0.5 {
        let a = beta_n1(rng, beta) as f32;
        let b = beta_1n(rng, beta) as f32;
        (a, b)
    } else {
        let a = 1.0f32 + beta_1n(rng, beta) as f32;
        let b = -(beta_1n(rng, beta) as f32);
        (a, b)
    }
}

/// torchvision's `RandomResizedCrop.get_params`: (x, y, width, height) of the crop. The
/// scale and log-ratio draws are float32, as torch draws them.
fn resized_crop_params(
    rng: &mut ChaCha8Rng,
    w: usize,
    h: usize,
    scale: (f64, f64),
    ratio: (f64, f64),
) -> (usize, usize, usize, usize) {
    let area = (w * h) as f64;
    let (lr0, lr1) = (libm::logf(ratio.0 as f32), libm::logf(ratio.1 as f32));
    for _ in 0..10 {
        let s = (scale.0 + (scale.1 - scale.0) * unit(rng)) as f32;
        let lr = (lr0 as f64 + (lr1 - lr0) as f64 * unit(rng)) as f32;
        let aspect = libm::expf(lr) as f64;
        let target = area * s as f64;
        let cw = round_even((target * aspect).sqrt());
        let ch = round_even((target / aspect).sqrt());
        if 0 < cw && cw <= w as i64 && 0 < ch && ch <= h as i64 {
            let (cw, ch) = (cw as usize, ch as usize);
            let y = rng.random_range(0..=h - ch);
            let x = rng.random_range(0..=w - cw);
            return (x, y, cw, ch);
        }
    }
    // torchvision's fallback: a central crop clamped to the ratio range.
    let in_ratio = w as f64 / h as f64;
    let (cw, ch) = if in_ratio < ratio.0 {
        (w, (round_even(w as f64 / ratio.0).max(1) as usize).min(h))
    } else if in_ratio > ratio.1 {
        ((round_even(h as f64 * ratio.1).max(1) as usize).min(w), h)
    } else {
        (w, h)
    };
    ((w - cw) / 2, (h - ch) / 2, cw, ch)
}

/// The seed of rank `rank` in a data-parallel run: distinct, reproducible streams per rank
/// from one user seed (SplitMix64 of the pair).
pub fn rank_seed(seed: u64, rank: u64) -> u64 {
    let mut z = seed ^ rank.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
