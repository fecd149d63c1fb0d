//! Batches for tch (libtorch) trainers, written where the trainer reads them: into a CUDA
//! tensor's memory on torch's current stream, or into a CPU tensor.
//!
//! Enabled by the `tch` cargo feature. tch 0.24 pairs with libtorch 2.11 (see README,
//! "Training with tch"). A binary that hands CUDA tensors to this module must keep
//! libtorch_cuda loaded: link it with `-Wl,--no-as-needed` (this crate's own examples and
//! tests do), or torch reports no CUDA device.

mod stream;

use tch::{Device, Kind};

use crate::error::{Error, Result};
use crate::image::RgbImage;
use crate::pipeline::{Engine, PixMix};
use crate::tensor::{Dtype, Tensor};

pub use stream::current_cuda_stream;

/// The tch element kind of `dtype`.
pub fn kind_of(dtype: Dtype) -> Kind {
    match dtype {
        Dtype::F32 => Kind::Float,
        Dtype::F16 => Kind::Half,
        Dtype::Bf16 => Kind::BFloat16,
    }
}

/// The output dtype of a tch `kind` (float, half or bfloat16).
pub fn dtype_of(kind: Kind) -> Result<Dtype> {
    match kind {
        Kind::Float => Ok(Dtype::F32),
        Kind::Half => Ok(Dtype::F16),
        Kind::BFloat16 => Ok(Dtype::Bf16),
        other => Err(Error::Input(format!(
            "output tensors hold float, half or bfloat16, not {other:?}"
        ))),
    }
}

fn torch_err(what: &str) -> impl FnOnce(tch::TchError) -> Error + '_ {
    move |e| Error::Input(format!("{what}: {e}"))
}

/// Shape, kind and contiguity of a tensor, checked with messages that name what is wrong.
fn describe(t: &tch::Tensor, what: &str) -> Result<(Vec<i64>, Kind)> {
    if !t.defined() {
        return Err(Error::Input(format!("{what} is an undefined tensor")));
    }
    let kind = t.f_kind().map_err(torch_err(what))?;
    if !t.is_contiguous() {
        return Err(Error::Input(format!(
            "{what} must be contiguous (call .contiguous() first)"
        )));
    }
    Ok((t.size(), kind))
}

impl PixMix {
    /// Plans and augments `images` into `out`, a contiguous (N, 3, S, S) tensor of float,
    /// half or bfloat16 (S is the preset's output size).
    ///
    /// On a CUDA tensor of the GPU this augmenter runs on, the kernels write into the
    /// tensor's memory, ordered on torch's current stream of that device (no copy, no wait);
    /// a CUDA tensor of another GPU is an error. Otherwise (a CPU tensor, or an augmenter
    /// on the CPU) the batch is computed where the augmenter runs and copied into `out`.
    pub fn augment_into_tch(&mut self, images: &[RgbImage], out: &mut tch::Tensor) -> Result<()> {
        let (shape, kind) = describe(out, "the output tensor")?;
        let dtype = dtype_of(kind)?;
        let s = self.planner().config().size as i64;
        let want = [images.len() as i64, 3, s, s];
        if shape != want {
            return Err(Error::Input(format!(
                "the output tensor has shape {shape:?}; {} images need {want:?}",
                images.len()
            )));
        }
        let sizes = RgbImage::sizes(images);
        let target = out.device();
        let bytes = out.numel() * dtype.size();
        let ptr = out.data_ptr() as u64;
        let host = self
            .run_planned(&sizes, |engine, plan, mixing| {
                match (engine, target) {
                    (Engine::Cuda(gpu), Device::Cuda(index)) => {
                        same_gpu(gpu.device().info().ordinal, index)?;
                        let stream = current_cuda_stream(index)?;
                        // SAFETY: `out` is a live, contiguous CUDA tensor of this device
                        // (checked above) holding `bytes` bytes; torch orders its later use
                        // on `stream`, which augment_into makes wait for the batch.
                        unsafe { gpu.augment_into(plan, images, dtype, ptr, bytes, stream)? };
                        Ok(None)
                    }
                    (Engine::Cuda(gpu), _) => gpu.augment(plan, images, dtype).map(Some),
                    (Engine::Cpu(cpu), _) => cpu.augment(plan, images, mixing, dtype).map(Some),
                }
            })?
            .0;
        match host {
            Some(tensor) => copy_into(&tensor, out),
            None => Ok(()),
        }
    }

    /// Plans and augments a uint8 (N, H, W, 3) tensor of images and returns a new
    /// (N, 3, S, S) tensor of `kind` on the batch's device. A CUDA batch on the GPU this
    /// augmenter runs on never leaves device memory and is ordered on torch's current
    /// stream (a batch on another GPU is an error); any other batch goes through the host.
    pub fn augment_tch(&mut self, batch: &tch::Tensor, kind: Kind) -> Result<tch::Tensor> {
        let dtype = dtype_of(kind)?;
        let (shape, batch_kind) = describe(batch, "the image batch")?;
        if batch_kind != Kind::Uint8 || shape.len() != 4 || shape[3] != 3 {
            return Err(Error::Input(format!(
                "the image batch must be uint8 (N, H, W, 3), got {batch_kind:?} {shape:?}"
            )));
        }
        let (n, h, w) = (shape[0] as usize, shape[1] as usize, shape[2] as usize);
        let s = self.planner().config().size as i64;
        let device = batch.device();
        let mut out = tch::Tensor::f_empty([n as i64, 3, s, s], (kind, device))
            .map_err(torch_err("allocating the output"))?;
        if let (Device::Cuda(index), Engine::Cuda(_)) = (device, &self.engine) {
            let src = batch.data_ptr() as u64;
            let dst = out.data_ptr() as u64;
            let bytes = out.numel() * dtype.size();
            let sizes = vec![(w, h); n];
            let stream = current_cuda_stream(index)?;
            self.run_planned(&sizes, |engine, plan, _| match engine {
                Engine::Cuda(gpu) => {
                    same_gpu(gpu.device().info().ordinal, index)?;
                    // SAFETY: `batch` and `out` are live, contiguous CUDA tensors of this
                    // device with the sizes given; torch orders their use on `stream`.
                    unsafe {
                        gpu.augment_device_batch(plan, src, &sizes, dtype, dst, bytes, stream)
                    }
                }
                Engine::Cpu(_) => Err(Error::NoCuda("the augmenter left its GPU".into())),
            })?;
            return Ok(out);
        }
        let mut pixels = vec![0u8; n * h * w * 3];
        batch
            .f_copy_data_u8(&mut pixels, n * h * w * 3)
            .map_err(torch_err("reading the image batch"))?;
        let images = pixels
            .chunks_exact((h * w * 3).max(1))
            .take(n)
            .map(|p| RgbImage::new(w, h, p.to_vec()))
            .collect::<Result<Vec<_>>>()?;
        self.augment_into_tch(&images, &mut out)?;
        Ok(out)
    }
}

fn same_gpu(ours: usize, theirs: usize) -> Result<()> {
    if ours == theirs {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "the tensor is on cuda:{theirs} but the augmenter runs on cuda:{ours}"
        )))
    }
}

/// Copies a host tensor into `out` (any device), converting nothing: kinds already agree.
fn copy_into(tensor: &Tensor, out: &mut tch::Tensor) -> Result<()> {
    let shape: Vec<i64> = tensor.shape.iter().map(|&d| d as i64).collect();
    let kind = kind_of(tensor.dtype());
    let host = tch::Tensor::f_from_data_size(tensor.as_bytes(), &shape, kind)
        .map_err(torch_err("wrapping the batch"))?;
    out.f_copy_(&host)
        .map_err(torch_err("copying the batch into the output tensor"))
}
