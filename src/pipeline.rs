//! [`PixMix`]: a planner, a mixing set and an executor behind one call.

use crate::config::Config;
use crate::cpu::CpuExecutor;
#[cfg(feature = "cuda")]
use crate::cuda::CudaExecutor;
use crate::error::Result;
use crate::image::{ImageView, RgbImage};
use crate::mixing_set::MixingSet;
use crate::plan::{BatchPlan, Planner};
use crate::tensor::{Dtype, Tensor};

/// A ready-to-use PixMix augmenter, on the CPU or (after [`use_cuda`](PixMix::use_cuda)) on
/// a GPU; both give the same pixels for the same seed.
///
/// ```
/// use pixmix::{Config, Dtype, MixingSet, PixMix, Preset, Rgb8Image};
///
/// let config = Config::preset(Preset::Cifar);
/// let photo = Rgb8Image::new(32, 32, vec![128; 32 * 32 * 3])?;
/// let fractal = Rgb8Image::new(40, 40, (0..40 * 40 * 3).map(|i| (i % 251) as u8).collect())?;
/// let mixing = MixingSet::from_images([fractal], config.mixing_resize)?;
/// let mut pixmix = PixMix::new(config, mixing, 0)?;
/// let batch = pixmix.augment(&[photo.clone(), photo], Dtype::F32)?;
/// assert_eq!(batch.shape, [2, 3, 32, 32]);
/// # Ok::<(), pixmix::Error>(())
/// ```
#[derive(Debug)]
pub struct PixMix {
    planner: Planner,
    mixing: MixingSet,
    pub(crate) engine: Engine,
}

/// Where batches run.
#[derive(Debug)]
pub(crate) enum Engine {
    Cpu(CpuExecutor),
    #[cfg(feature = "cuda")]
    Cuda(Box<CudaExecutor>),
}

impl PixMix {
    /// An augmenter for `config`, mixing with `mixing`, seeded with `seed`.
    pub fn new(config: Config, mixing: MixingSet, seed: u64) -> Result<PixMix> {
        Ok(PixMix {
            planner: Planner::new(&config, seed)?,
            engine: Engine::Cpu(CpuExecutor::new(&config)?),
            mixing,
        })
    }

    /// Uses its own pool of `threads` threads instead of rayon's global pool.
    pub fn with_threads(mut self, threads: usize) -> Result<PixMix> {
        self.engine = Engine::Cpu(CpuExecutor::with_threads(self.planner.config(), threads)?);
        Ok(self)
    }

    /// Moves execution to CUDA device `ordinal` (the mixing set is uploaded once). Fails
    /// with [`Error::NoCuda`](crate::Error::NoCuda) where no GPU is usable, and then keeps
    /// running where it did.
    #[cfg(feature = "cuda")]
    pub fn use_cuda(&mut self, ordinal: usize) -> Result<()> {
        let mut gpu = CudaExecutor::new(self.planner.config(), ordinal)?;
        gpu.set_mixing(&self.mixing)?;
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

    /// Plans and augments the next batch.
    pub fn augment(&mut self, images: &[RgbImage], dtype: Dtype) -> Result<Tensor> {
        Ok(self.augment_with_plan(images, dtype)?.0)
    }

    /// Plans and augments the next batch of borrowed images ([`ImageView`]s of pixels
    /// another owner keeps: a decoder's buffer, a crop, strided rows), read in place by
    /// either executor (the CUDA path stages each one's crop straight into its upload).
    pub fn augment_views(&mut self, images: &[ImageView<'_>], dtype: Dtype) -> Result<Tensor> {
        let sizes = RgbImage::sizes(images);
        let (tensor, _) = self.run_planned(&sizes, |engine, plan, mixing| match engine {
            Engine::Cpu(cpu) => cpu.augment(plan, images, mixing, dtype),
            #[cfg(feature = "cuda")]
            Engine::Cuda(gpu) => gpu.augment(plan, images, dtype),
        })?;
        Ok(tensor)
    }

    /// Plans and augments the next batch, returning the plan too.
    pub fn augment_with_plan(
        &mut self,
        images: &[RgbImage],
        dtype: Dtype,
    ) -> Result<(Tensor, BatchPlan)> {
        let sizes = RgbImage::sizes(images);
        self.run_planned(&sizes, |engine, plan, mixing| match engine {
            Engine::Cpu(cpu) => cpu.augment(plan, images, mixing, dtype),
            #[cfg(feature = "cuda")]
            Engine::Cuda(gpu) => gpu.augment(plan, images, dtype),
        })
    }

    /// Plans a batch of images of `sizes` and hands the plan to `work`; when `work` fails
    /// the batch consumes no samples of the random stream.
    pub(crate) fn run_planned<T>(
        &mut self,
        sizes: &[(usize, usize)],
        work: impl FnOnce(&mut Engine, &BatchPlan, &MixingSet) -> Result<T>,
    ) -> Result<(T, BatchPlan)> {
        let start = self.planner.position();
        let plan = self.planner.plan(sizes, self.mixing.sizes())?;
        match work(&mut self.engine, &plan, &self.mixing) {
            Ok(t) => Ok((t, plan)),
            Err(e) => {
                self.planner.seek(start);
                Err(e)
            }
        }
    }

    /// The planner (for its configuration and position).
    pub fn planner(&self) -> &Planner {
        &self.planner
    }

    /// The mixing set.
    pub fn mixing(&self) -> &MixingSet {
        &self.mixing
    }
}
