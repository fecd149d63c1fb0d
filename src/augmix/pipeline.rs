//! [`AugMix`]: a planner and an executor behind one call.

use super::{AugMixConfig, AugMixExecutor, AugMixPlan, AugMixPlanner};
#[cfg(feature = "cuda")]
use crate::cuda::AugMixCudaExecutor;
use crate::error::Result;
use crate::image::{AsImageView, RgbImage};
use crate::tensor::{Dtype, Tensor};

/// A ready-to-use AugMix augmenter, the companion of [`PixMix`](crate::PixMix): on the CPU,
/// or (after [`use_cuda`](AugMix::use_cuda)) on a GPU; both give the same bytes for the same
/// seed.
///
/// ```
/// use pixmix::{AugMix, AugMixConfig, Dtype, Preset, Rgb8Image};
///
/// let config = AugMixConfig::preset(Preset::Cifar);
/// let photo = Rgb8Image::new(32, 32, (0..32 * 32 * 3).map(|i| (i % 251) as u8).collect())?;
/// let mut augmix = AugMix::new(config, 0)?;
/// let batch = augmix.augment(&[photo.clone(), photo.clone()], Dtype::F32)?;
/// assert_eq!(batch.shape, [2, 3, 32, 32]);
/// // The JSD views: [clean(N); aug1(N); aug2(N)].
/// let views = augmix.augment_jsd(&[photo.clone(), photo], Dtype::F32)?;
/// assert_eq!(views.shape, [6, 3, 32, 32]);
/// # Ok::<(), pixmix::Error>(())
/// ```
#[derive(Debug)]
pub struct AugMix {
    planner: AugMixPlanner,
    engine: Engine,
}

/// Where batches run.
#[derive(Debug)]
enum Engine {
    Cpu(Box<AugMixExecutor>),
    #[cfg(feature = "cuda")]
    Cuda(Box<AugMixCudaExecutor>),
}

impl Engine {
    fn augment<I: AsImageView + Sync>(
        &mut self,
        plans: &[AugMixPlan],
        images: &[I],
        dtype: Dtype,
    ) -> Result<Tensor> {
        match self {
            Engine::Cpu(cpu) => cpu.augment(plans, images, dtype),
            #[cfg(feature = "cuda")]
            Engine::Cuda(gpu) => gpu.augment(plans, images, dtype),
        }
    }

    fn augment_jsd<I: AsImageView + Sync>(
        &mut self,
        plans: &[AugMixPlan],
        images: &[I],
        dtype: Dtype,
    ) -> Result<Tensor> {
        match self {
            Engine::Cpu(cpu) => cpu.augment_jsd(plans, images, dtype),
            #[cfg(feature = "cuda")]
            Engine::Cuda(gpu) => gpu.augment_jsd(plans, images, dtype),
        }
    }
}

impl AugMix {
    /// An augmenter for `config` seeded with `seed`.
    pub fn new(config: AugMixConfig, seed: u64) -> Result<AugMix> {
        Ok(AugMix {
            planner: AugMixPlanner::new(&config, seed)?,
            engine: Engine::Cpu(Box::new(AugMixExecutor::new(&config)?)),
        })
    }

    /// Runs on the CPU with its own pool of `threads` threads instead of rayon's global
    /// pool.
    pub fn with_threads(mut self, threads: usize) -> Result<AugMix> {
        let cpu = AugMixExecutor::with_threads(self.planner.config(), threads)?;
        self.engine = Engine::Cpu(Box::new(cpu));
        Ok(self)
    }

    /// Moves execution to CUDA device `ordinal`. Fails with
    /// [`Error::NoCuda`](crate::Error::NoCuda) where no GPU is usable, and then keeps
    /// running where it did.
    #[cfg(feature = "cuda")]
    pub fn use_cuda(&mut self, ordinal: usize) -> Result<()> {
        let gpu = AugMixCudaExecutor::new(self.planner.config(), ordinal)?;
        self.engine = Engine::Cuda(Box::new(gpu));
        Ok(())
    }

    /// Moves execution to CUDA device `ordinal`: in a build without the `cuda` feature,
    /// always [`Error::NoCuda`](crate::Error::NoCuda), and it keeps running on the CPU.
    #[cfg(not(feature = "cuda"))]
    pub fn use_cuda(&mut self, ordinal: usize) -> Result<()> {
        Err(crate::Error::NoCuda(format!(
            "pixmix was built without the `cuda` feature (device {ordinal} not used)"
        )))
    }

    /// "cpu", or "cuda" and the device's name.
    pub fn device(&self) -> String {
        match &self.engine {
            Engine::Cpu(_) => "cpu".into(),
            #[cfg(feature = "cuda")]
            Engine::Cuda(gpu) => format!("cuda ({})", gpu.device().info().name),
        }
    }

    /// Plans and augments the next batch: one AugMix sample per image, N x 3 x size x size.
    /// Takes owned images ([`Rgb8Image`](crate::Rgb8Image)) or borrowed
    /// [`ImageView`](crate::ImageView)s.
    pub fn augment<I: AsImageView + Sync>(&mut self, images: &[I], dtype: Dtype) -> Result<Tensor> {
        Ok(self.augment_with_plans(images, dtype)?.0)
    }

    /// [`augment`](Self::augment), returning the plans too.
    pub fn augment_with_plans<I: AsImageView + Sync>(
        &mut self,
        images: &[I],
        dtype: Dtype,
    ) -> Result<(Tensor, Vec<AugMixPlan>)> {
        let start = self.planner.position();
        let result = self
            .planner
            .plan(&RgbImage::sizes(images))
            .and_then(|plans| Ok((self.engine.augment(&plans, images, dtype)?, plans)));
        if result.is_err() {
            self.planner.seek(start);
        }
        result
    }

    /// Plans and augments the next batch with the three views of the JSD loss: 3N x 3 x
    /// size x size in three stacked blocks `[clean(N); aug1(N); aug2(N)]` (the clean view
    /// is the preprocessed train-transformed image; the two AugMix views are independent
    /// and share its train transform, as the released `AugMixDataset` returns them).
    /// `torch.split(x, N)` recovers the views. A batch consumes N samples of the random
    /// stream, and its first AugMix views equal what [`augment`](Self::augment) would have
    /// returned.
    pub fn augment_jsd<I: AsImageView + Sync>(
        &mut self,
        images: &[I],
        dtype: Dtype,
    ) -> Result<Tensor> {
        let start = self.planner.position();
        let result = self
            .planner
            .plan_jsd(&RgbImage::sizes(images))
            .and_then(|plans| self.engine.augment_jsd(&plans, images, dtype));
        if result.is_err() {
            self.planner.seek(start);
        }
        result
    }

    /// The planner (for its configuration and position; [`seek`](AugMixPlanner::seek) a
    /// clone to replay).
    pub fn planner(&self) -> &AugMixPlanner {
        &self.planner
    }

    /// Moves to sample `index` of the random stream (e.g. to resume a run).
    pub fn seek(&mut self, index: u64) {
        self.planner.seek(index);
    }

    /// The configuration.
    pub fn config(&self) -> &AugMixConfig {
        self.planner.config()
    }
}
