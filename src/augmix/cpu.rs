//! [`AugMixExecutor`]: AugMix plans and pixels in, NCHW tensors out, on the CPU.

use rayon::prelude::*;

use super::AugMixConfig;
use super::plan::{AugMixPlan, MAX_DEPTH, MAX_WIDTH};
use crate::cpu::{CpuExecutor, check_op, check_train, thread_pool};
use crate::error::{Error, Result};
use crate::image::{AsImageView, ImageView, RgbImage};
use crate::mix::{normalize, tensorize};
use crate::ops;
use crate::tensor::{Dtype, OutputElement, Tensor, TensorData};

/// Runs AugMix on the CPU, samples spread over threads with rayon. The output depends only
/// on (plans, pixels), never on the number of threads.
#[derive(Debug)]
pub struct AugMixExecutor {
    config: AugMixConfig,
    train: CpuExecutor,
    pool: Option<rayon::ThreadPool>,
}

/// What one output block of 3 x size x size holds.
#[derive(Clone, Copy)]
enum View<'a> {
    /// `preprocess(orig)`, the train transform of this plan's image.
    Clean(&'a AugMixPlan),
    /// An AugMix sample.
    Augmented(&'a AugMixPlan),
}

impl AugMixExecutor {
    /// An executor for `config` on rayon's global thread pool.
    pub fn new(config: &AugMixConfig) -> Result<AugMixExecutor> {
        config.validate()?;
        Ok(AugMixExecutor {
            config: config.clone(),
            train: CpuExecutor::new(&config.base)?,
            pool: None,
        })
    }

    /// An executor with its own pool of `threads` threads.
    pub fn with_threads(config: &AugMixConfig, threads: usize) -> Result<AugMixExecutor> {
        config.validate()?;
        let pool = thread_pool(threads)?;
        Ok(AugMixExecutor {
            config: config.clone(),
            train: CpuExecutor::new(&config.base)?,
            pool: Some(pool),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AugMixConfig {
        &self.config
    }

    /// AugMix samples of `images` (`plans[i]` for `images[i]`): an N x 3 x size x size
    /// tensor.
    pub fn augment<I: AsImageView + Sync>(
        &self,
        plans: &[AugMixPlan],
        images: &[I],
        dtype: Dtype,
    ) -> Result<Tensor> {
        self.check(plans, images)?;
        let views: Vec<_> = plans
            .iter()
            .zip(images)
            .map(|(p, img)| (View::Augmented(p), img.as_view()))
            .collect();
        self.run(&views, dtype)
    }

    /// The three JSD views of every image: `plans` holds 2N plans, `[first views; second
    /// views]` as [`AugMixPlanner::plan_jsd`](super::AugMixPlanner::plan_jsd) returns
    /// them, `plans[i]` and `plans[N + i]` for `images[i]` with the same train transform.
    /// The result is 3N x 3 x size x size in three stacked blocks `[clean(N); aug1(N);
    /// aug2(N)]`: `torch.split(x, N)` gives the three views of timm's JSD loss.
    pub fn augment_jsd<I: AsImageView + Sync>(
        &self,
        plans: &[AugMixPlan],
        images: &[I],
        dtype: Dtype,
    ) -> Result<Tensor> {
        check_jsd(&self.config, plans, &RgbImage::sizes(images))?;
        let (first, second) = plans.split_at(images.len());
        let images: Vec<_> = images.iter().map(|i| i.as_view()).collect();
        let views: Vec<_> = first
            .iter()
            .map(View::Clean)
            .chain(first.iter().map(View::Augmented))
            .chain(second.iter().map(View::Augmented))
            .zip(images.iter().cycle().copied())
            .collect();
        self.run(&views, dtype)
    }

    /// Checks that `plans` fit `images` and the configuration: every crop, depth,
    /// operator and weight, before any work is done.
    pub fn check<I: AsImageView>(&self, plans: &[AugMixPlan], images: &[I]) -> Result<()> {
        check_plans(&self.config, plans, &RgbImage::sizes(images))
    }

    fn run(&self, views: &[(View<'_>, ImageView<'_>)], dtype: Dtype) -> Result<Tensor> {
        let s = self.config.base.size;
        let mut t = Tensor::zeros([views.len(), 3, s, s], dtype);
        match &mut t.data {
            TensorData::F32(v) => self.run_into(views, v)?,
            TensorData::F16(v) => self.run_into(views, v)?,
            TensorData::Bf16(v) => self.run_into(views, v)?,
        }
        Ok(t)
    }

    fn run_into<T: OutputElement>(
        &self,
        views: &[(View<'_>, ImageView<'_>)],
        out: &mut [T],
    ) -> Result<()> {
        let s = self.config.base.size;
        let mut work = || {
            out.par_chunks_mut(3 * s * s)
                .zip(views.par_iter())
                .try_for_each(|(chunk, &(view, img))| self.view(view, img, chunk))
        };
        match &self.pool {
            Some(pool) => pool.install(work),
            None => work(),
        }
    }

    /// One output block (3 x size x size, planar).
    fn view<T: OutputElement>(
        &self,
        view: View<'_>,
        img: ImageView<'_>,
        out: &mut [T],
    ) -> Result<()> {
        let c = &self.config.base;
        let plane = c.size * c.size;
        let (View::Clean(p) | View::Augmented(p)) = view;
        let orig = self.train.train_image(&p.train_plan(), img)?;
        // preprocess = ToTensor then Normalize: (x / 255 - mean) / std in float32.
        let tables: [[f32; 256]; 3] = std::array::from_fn(|ch| {
            std::array::from_fn(|v| normalize(tensorize(v as u8), c.mean[ch], c.std[ch]))
        });
        let View::Augmented(p) = view else {
            for (i, px) in orig.as_bytes().chunks_exact(3).enumerate() {
                for ch in 0..3 {
                    out[ch * plane + i] = T::from_f32(tables[ch][px[ch] as usize]);
                }
            }
            return Ok(());
        };
        // mix = zeros; mix += ws[i] * preprocess(chain_i), chain after chain.
        let mut mix = vec![0f32; 3 * plane];
        for chain in 0..p.width as usize {
            let mut aug = orig.clone();
            for op in p.chain(chain) {
                let o = op
                    .operator()?
                    .expect("checked: every chain step has an operator");
                aug = ops::apply(o, op.param, &aug)?;
            }
            let w = p.weights[chain];
            for (i, px) in aug.as_bytes().chunks_exact(3).enumerate() {
                for ch in 0..3 {
                    mix[ch * plane + i] += w * tables[ch][px[ch] as usize];
                }
            }
        }
        // mixed = (1 - m) * preprocess(orig) + m * mix
        let (m, keep) = (p.m, 1.0 - p.m);
        for (i, px) in orig.as_bytes().chunks_exact(3).enumerate() {
            for ch in 0..3 {
                let k = ch * plane + i;
                out[k] = T::from_f32(keep * tables[ch][px[ch] as usize] + m * mix[k]);
            }
        }
        Ok(())
    }
}

/// Checks that `plans` fit images of `sizes` (one plan each) and `config`: every crop, depth,
/// operator and weight. Shared by the CPU and CUDA executors.
pub(crate) fn check_plans(
    config: &AugMixConfig,
    plans: &[AugMixPlan],
    sizes: &[(usize, usize)],
) -> Result<()> {
    if plans.len() != sizes.len() {
        return Err(Error::Input(format!(
            "{} plans but {} images were given",
            plans.len(),
            sizes.len()
        )));
    }
    let c = &config.base;
    for (i, (p, &(w, h))) in plans.iter().zip(sizes).enumerate() {
        check_train(c, i, &p.train_plan(), w, h)?;
        let bad = |what: String| Err(Error::Input(format!("sample {i}: {what}")));
        if !(1..=MAX_WIDTH as u32).contains(&p.width) {
            return bad(format!("width must be in 1..={MAX_WIDTH}, got {}", p.width));
        }
        if !p.m.is_finite() {
            return bad(format!("m must be finite, got {}", p.m));
        }
        for chain in 0..p.width as usize {
            if !(1..=MAX_DEPTH as u32).contains(&p.depths[chain]) {
                return bad(format!(
                    "chain {chain}: depth must be in 1..={MAX_DEPTH}, got {}",
                    p.depths[chain]
                ));
            }
            if !p.weights[chain].is_finite() {
                return bad(format!(
                    "chain {chain}: weight must be finite, got {}",
                    p.weights[chain]
                ));
            }
            for (d, op) in p.chain(chain).iter().enumerate() {
                if op.operator()?.is_none() {
                    return bad(format!("chain {chain} operator {d}: no operator"));
                }
                check_op(op).map_err(|e| {
                    Error::Input(format!("sample {i} chain {chain} operator {d}: {e}"))
                })?;
            }
        }
    }
    Ok(())
}

/// Checks the 2N plans of the JSD views of N images of `sizes`: each half as
/// [`check_plans`], and the two plans of an image sharing their train transform.
pub(crate) fn check_jsd(
    config: &AugMixConfig,
    plans: &[AugMixPlan],
    sizes: &[(usize, usize)],
) -> Result<()> {
    let n = sizes.len();
    if plans.len() != 2 * n {
        return Err(Error::Input(format!(
            "JSD views of {n} images need {} plans, got {}",
            2 * n,
            plans.len()
        )));
    }
    let (first, second) = plans.split_at(n);
    check_plans(config, first, sizes)?;
    check_plans(config, second, sizes)?;
    if let Some(i) = (0..n).find(|&i| !first[i].same_train(&second[i])) {
        return Err(Error::Input(format!(
            "image {i}: the two JSD plans have different train transforms"
        )));
    }
    Ok(())
}
