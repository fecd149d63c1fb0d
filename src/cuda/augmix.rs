//! [`AugMixCudaExecutor`]: AugMix plans and host images in, NCHW tensors out, every chain
//! of every sample computed on a GPU in one batch.

use cudarc::driver::{CudaSlice, DeviceRepr, LaunchConfig, PushKernelArg};

use super::buffer::StreamBuffer;
use super::device::{CudaDevice, cuda};
use super::executor::{BLOCK, MAX_BATCH, align, grow, stage_pixels, views};
use crate::augmix::staging::{
    AugMixArgs, AugMixBuffers, LAUNCH_MIX, LAUNCH_STATS, LAUNCH_STEP, StagedAugMix, stage_augmix,
};
use crate::augmix::{AugMixConfig, AugMixPlan, check_jsd, check_plans};
use crate::error::{Error, Result};
use crate::image::{AsImageView, ImageView, RgbImage};
use crate::staging::{KernelArgs, dtype_code};
use crate::tensor::{Dtype, Tensor, TensorData};

// SAFETY: AugMixArgs is #[repr(C)] plain old data, laid out as kernels/augmix.cuh declares.
unsafe impl DeviceRepr for AugMixArgs {}

/// Where a batch's output goes.
enum Target {
    /// The executor's own buffer (downloaded by the caller).
    Own,
    /// A device buffer of this context: address and bytes.
    Ptr(u64, usize),
}

/// Runs AugMix on a GPU. Plans come from the same
/// [`AugMixPlanner`](crate::AugMixPlanner) as on the CPU, and the output equals
/// [`AugMixExecutor`](crate::AugMixExecutor)'s for the same plans, bit for bit.
///
/// A batch is a few launches on the device's stream: the train transform of every image
/// (PixMix's two resize passes), then for each chain depth the statistics
/// (autocontrast, equalize, mean luma) of the images the next operators read and one
/// launch applying every chain's operator at that depth, and last one launch writing every
/// output view, which evaluates each chain's final operator at the pixel and mixes in
/// float32. The intermediate images stay in device memory.
pub struct AugMixCudaExecutor {
    config: AugMixConfig,
    device: CudaDevice,
    inputs: Option<CudaSlice<u8>>,
    temp: Option<CudaSlice<u8>>,
    slots: Option<CudaSlice<u8>>,
    tables: Option<CudaSlice<u8>>,
    out: Option<CudaSlice<u8>>,
}

impl std::fmt::Debug for AugMixCudaExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AugMixCudaExecutor({:?}, size {})",
            self.device, self.config.base.size
        )
    }
}

impl AugMixCudaExecutor {
    /// An executor for `config` on device `ordinal`.
    pub fn new(config: &AugMixConfig, ordinal: usize) -> Result<AugMixCudaExecutor> {
        config.validate()?;
        Ok(AugMixCudaExecutor {
            config: config.clone(),
            device: CudaDevice::new(ordinal)?,
            inputs: None,
            temp: None,
            slots: None,
            tables: None,
            out: None,
        })
    }

    /// The device.
    pub fn device(&self) -> &CudaDevice {
        &self.device
    }

    /// The configuration.
    pub fn config(&self) -> &AugMixConfig {
        &self.config
    }

    /// AugMix samples of `images` (`plans[i]` for `images[i]`): an N x 3 x size x size
    /// tensor, as [`AugMixExecutor::augment`](crate::AugMixExecutor::augment). Waits for
    /// the GPU.
    pub fn augment<I: AsImageView>(
        &mut self,
        plans: &[AugMixPlan],
        images: &[I],
        dtype: Dtype,
    ) -> Result<Tensor> {
        let images = views(images);
        check_plans(&self.config, plans, &RgbImage::sizes(&images))?;
        self.run_and_download(plans, &images, dtype, false)
    }

    /// The three JSD views of every image, 3N x 3 x size x size in blocks `[clean(N);
    /// aug1(N); aug2(N)]` from 2N plans, as
    /// [`AugMixExecutor::augment_jsd`](crate::AugMixExecutor::augment_jsd). Waits for the
    /// GPU.
    pub fn augment_jsd<I: AsImageView>(
        &mut self,
        plans: &[AugMixPlan],
        images: &[I],
        dtype: Dtype,
    ) -> Result<Tensor> {
        let images = views(images);
        check_jsd(&self.config, plans, &RgbImage::sizes(&images))?;
        self.run_and_download(plans, &images, dtype, true)
    }

    /// [`augment`](Self::augment) into a new [`StreamBuffer`] that the caller owns, without
    /// waiting for the GPU.
    pub fn augment_to_buffer<I: AsImageView>(
        &mut self,
        plans: &[AugMixPlan],
        images: &[I],
        dtype: Dtype,
    ) -> Result<StreamBuffer> {
        let images = views(images);
        check_plans(&self.config, plans, &RgbImage::sizes(&images))?;
        self.run_to_buffer(plans, &images, dtype, false)
    }

    /// [`augment_jsd`](Self::augment_jsd) into a new [`StreamBuffer`] that the caller owns,
    /// without waiting for the GPU.
    pub fn augment_jsd_to_buffer<I: AsImageView>(
        &mut self,
        plans: &[AugMixPlan],
        images: &[I],
        dtype: Dtype,
    ) -> Result<StreamBuffer> {
        let images = views(images);
        check_jsd(&self.config, plans, &RgbImage::sizes(&images))?;
        self.run_to_buffer(plans, &images, dtype, true)
    }

    /// Waits for every queued batch.
    pub fn synchronize(&self) -> Result<()> {
        self.device
            .stream
            .synchronize()
            .map_err(cuda("waiting for the device"))
    }

    fn output_shape(&self, plans: usize, jsd: bool) -> [usize; 4] {
        let s = self.config.base.size;
        let blocks = if jsd { plans / 2 * 3 } else { plans };
        [blocks, 3, s, s]
    }

    fn run_and_download(
        &mut self,
        plans: &[AugMixPlan],
        images: &[ImageView<'_>],
        dtype: Dtype,
        jsd: bool,
    ) -> Result<Tensor> {
        let shape = self.output_shape(plans.len(), jsd);
        let mut tensor = Tensor::zeros(shape, dtype);
        if images.is_empty() {
            return Ok(tensor);
        }
        self.run(plans, images, dtype, jsd, Target::Own)?;
        let len = tensor.as_bytes().len();
        let src = self
            .out
            .as_ref()
            .ok_or_else(|| Error::Cuda("output buffer missing".into()))?;
        let mut bytes = vec![0u8; len];
        let stream = &self.device.stream;
        stream
            .memcpy_dtoh(&src.slice(0..len), &mut bytes[..])
            .map_err(cuda("downloading the output"))?;
        stream
            .synchronize()
            .map_err(cuda("waiting for the batch"))?;
        tensor.data = match dtype {
            Dtype::F32 => TensorData::F32(bytemuck::pod_collect_to_vec(&bytes)),
            Dtype::F16 => TensorData::F16(bytemuck::pod_collect_to_vec(&bytes)),
            Dtype::Bf16 => TensorData::Bf16(bytemuck::pod_collect_to_vec(&bytes)),
        };
        Ok(tensor)
    }

    fn run_to_buffer(
        &mut self,
        plans: &[AugMixPlan],
        images: &[ImageView<'_>],
        dtype: Dtype,
        jsd: bool,
    ) -> Result<StreamBuffer> {
        let bytes = self
            .output_shape(plans.len(), jsd)
            .iter()
            .product::<usize>()
            * dtype.size();
        let buffer = StreamBuffer::new(&self.device, bytes)?;
        if !images.is_empty() {
            self.run(plans, images, dtype, jsd, Target::Ptr(buffer.ptr(), bytes))?;
        }
        buffer.record_ready()?;
        Ok(buffer)
    }

    /// Stages, uploads and launches one checked batch on the device's stream.
    fn run(
        &mut self,
        plans: &[AugMixPlan],
        images: &[ImageView<'_>],
        dtype: Dtype,
        jsd: bool,
        target: Target,
    ) -> Result<()> {
        let device = &self.device;
        device
            .ctx
            .bind_to_thread()
            .map_err(cuda("making the device current"))?;
        let n = images.len();
        if n > MAX_BATCH {
            return Err(Error::Input(format!(
                "a CUDA batch holds at most {MAX_BATCH} images, got {n}"
            )));
        }
        let config = &self.config;
        let s = config.base.size;
        let out_bytes = self
            .output_shape(plans.len(), jsd)
            .iter()
            .product::<usize>()
            * dtype.size();
        if let Target::Ptr(ptr, len) = target {
            // The kernels store whole elements: a misaligned one would fault the context.
            if !ptr.is_multiple_of(dtype.size() as u64) {
                return Err(Error::Input(format!(
                    "destination {ptr:#x} is not aligned to the {} bytes of a {} element",
                    dtype.size(),
                    dtype.name()
                )));
            }
            if len < out_bytes {
                return Err(Error::Input(format!(
                    "destination holds {len} bytes; the batch needs {out_bytes}"
                )));
            }
        }
        let sizes = RgbImage::sizes(images);
        // Only the region of each image that its train transform reads is uploaded.
        let batch: StagedAugMix = stage_augmix(config, plans, &sizes, jsd, true)?;
        let sections: [&[u8]; 7] = [
            bytemuck::cast_slice(&batch.train.samples),
            bytemuck::cast_slice(&batch.staged.image_meta),
            bytemuck::cast_slice(&batch.staged.coeffs),
            bytemuck::cast_slice(&batch.descs),
            bytemuck::cast_slice(&batch.steps),
            bytemuck::cast_slice(&batch.stats),
            bytemuck::cast_slice(&batch.views),
        ];
        let mut offsets = Vec::with_capacity(sections.len() + 1);
        let mut total = 0;
        for sec in sections {
            offsets.push(total);
            total += align(sec.len());
        }
        let pixels_at = total;
        total += batch.staged.image_bytes;
        let mut host = vec![0u8; total];
        {
            let (head, pixels) = host.split_at_mut(pixels_at);
            for (sec, &at) in sections.iter().zip(&offsets) {
                head[at..at + sec.len()].copy_from_slice(sec);
            }
            stage_pixels(images, &batch.staged.image_meta, pixels);
        }
        let stream = &device.stream;
        let inputs = grow(stream, &mut self.inputs, total, "the batch's inputs")?;
        {
            let dst = self
                .inputs
                .as_mut()
                .ok_or_else(|| Error::Cuda("no input buffer".into()))?;
            // Pageable memory: the driver takes the bytes before the call returns.
            stream
                .memcpy_htod(&host[..], &mut dst.slice_mut(0..total))
                .map_err(cuda("uploading the batch"))?;
        }
        let temp = grow(
            stream,
            &mut self.temp,
            batch.staged.temp_bytes,
            "resize intermediates",
        )?;
        let slots = grow(
            stream,
            &mut self.slots,
            batch.image_bytes(config),
            "the chains' images",
        )?;
        let tables = grow(
            stream,
            &mut self.tables,
            batch.table_bytes(),
            "image statistics",
        )?;
        let out = match target {
            Target::Own => grow(stream, &mut self.out, out_bytes, "the output")?,
            Target::Ptr(ptr, _) => ptr,
        };
        let at = |i: usize| inputs + offsets[i] as u64;
        let train = KernelArgs {
            samples: at(0),
            rounds: 0,
            descs: 0,
            images: inputs + pixels_at as u64,
            image_meta: at(1),
            temp,
            orig: slots,
            tables: 0,
            mixing: 0,
            mixing_meta: 0,
            out: 0,
            n: n as u32,
            size: s as u32,
            dtype: dtype_code(dtype),
            reserved: 0,
            mean: config.base.mean,
            std: config.base.std,
            coeffs: at(2),
            // Only the train passes run with these arguments.
            round_tables: 0,
        };
        let buffers = AugMixBuffers {
            descs: at(3),
            steps: at(4),
            stats: at(5),
            views: at(6),
            images: slots,
            tables,
            out,
        };
        let mut args = batch.args(config, buffers, dtype_code(dtype));
        let grid = |elements: usize, rows: usize| LaunchConfig {
            grid_dim: (elements.div_ceil(BLOCK as usize) as u32, rows as u32, 1),
            block_dim: (BLOCK, 1, 1),
            shared_mem_bytes: 0,
        };
        let k = &device.kernels;
        let temp_pixels = batch.staged.max_temp_pixels;
        for (f, cfg, needed) in [
            (&k.pass1, grid(temp_pixels, n), temp_pixels > 0),
            (&k.pass2, grid(s * s, n), true),
        ] {
            if needed {
                let mut b = stream.launch_builder(f);
                b.arg(&train);
                // SAFETY: every address in `train` points at a buffer sized for the staged
                // batch (checked plans, grown buffers).
                unsafe { b.launch(cfg) }.map_err(cuda("launching a kernel"))?;
            }
        }
        for launch in &batch.launches {
            (args.first, args.count) = (launch.first, launch.count);
            let count = launch.count as usize;
            let (f, cfg) = match launch.kernel {
                LAUNCH_STATS => (
                    &k.augmix_stats,
                    LaunchConfig {
                        grid_dim: (launch.count, 1, 1),
                        block_dim: (BLOCK, 1, 1),
                        shared_mem_bytes: 0,
                    },
                ),
                LAUNCH_STEP => (&k.augmix_step, grid(s * s, count)),
                LAUNCH_MIX => (&k.augmix_pixel, grid(s * s, count)),
                other => return Err(Error::Cuda(format!("unknown AugMix launch {other}"))),
            };
            let mut b = stream.launch_builder(f);
            b.arg(&args);
            // SAFETY: as above; `first` and `count` select entries the staging wrote, and
            // every slot index is below `batch.slots`.
            unsafe { b.launch(cfg) }.map_err(cuda("launching a kernel"))?;
        }
        Ok(())
    }
}
