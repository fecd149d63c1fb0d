//! [`CudaExecutor`]: a batch in, normalized NCHW tensors out, all in device memory.

use cudarc::driver::{
    CudaEvent, CudaSlice, DevicePtr, DeviceRepr, HostSlice, LaunchConfig, PinnedHostSlice,
    PushKernelArg, sys,
};

use super::buffer::StreamBuffer;
use super::device::{CudaDevice, cuda};
use crate::config::Config;
use crate::cpu::check_batch;
use crate::error::{Error, Result};
use crate::image::{AsImageView, ImageView, RgbImage};
use crate::mixing_set::MixingSet;
use crate::plan::BatchPlan;
use crate::staging::{
    KernelArgs, ROUND_TABLE_FLOATS, TABLE_STRIDE, dtype_code, picture_meta, stage,
};
use crate::tensor::{Dtype, Tensor, TensorData};

// SAFETY: KernelArgs is #[repr(C)] plain old data, laid out as kernels/plan.cuh declares.
unsafe impl DeviceRepr for KernelArgs {}

pub(super) const BLOCK: u32 = 256;
const ALIGN: usize = 256;
/// Grid rows are samples; CUDA allows 65,535 of them.
pub(super) const MAX_BATCH: usize = 65_535;

/// An augmented batch in device memory, owned by the executor. It stays valid until the
/// executor's next-but-one call (two buffers alternate, so batch n + 1 can be planned and
/// uploaded while batch n is still being computed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceOutput {
    /// Device address of the first element.
    pub ptr: u64,
    /// Size in bytes.
    pub bytes: usize,
    /// (N, C, H, W).
    pub shape: [usize; 4],
    /// Element type.
    pub dtype: Dtype,
    /// Recorded after the batch's last kernel: another stream waits on it
    /// (`cuStreamWaitEvent`) before reading. Valid as long as the batch.
    pub ready: super::RawEvent,
}

/// Where a batch's source images are.
enum Input<'a> {
    /// Read in place (owned images or views of someone else's pixels).
    Host(&'a [ImageView<'a>]),
    /// Back-to-back HWC images in device memory, with their sizes.
    Device(u64, &'a [(usize, usize)]),
}

/// Where the output goes.
enum Target {
    Own,
    Ptr(u64, usize),
}

/// One set of buffers; two alternate.
struct Slot {
    staging: Option<PinnedHostSlice<u8>>,
    inputs: Option<CudaSlice<u8>>,
    temp: Option<CudaSlice<u8>>,
    orig: Option<CudaSlice<u8>>,
    tables: Option<CudaSlice<u8>>,
    round_tables: Option<CudaSlice<u8>>,
    out: Option<CudaSlice<u8>>,
    /// Recorded on the copy stream after the upload; the kernels wait for it.
    uploaded: CudaEvent,
    /// Recorded on the kernels' stream after the batch; the next upload into this slot
    /// waits for it.
    done: CudaEvent,
}

/// The resident mixing set.
struct Resident {
    pixels: CudaSlice<u8>,
    meta: CudaSlice<u8>,
    sizes: Vec<(usize, usize)>,
}

/// Runs PixMix on a GPU. Plans come from the same [`Planner`](crate::Planner) as on the
/// CPU, and the output equals [`CpuExecutor`](crate::CpuExecutor)'s for the same plan.
pub struct CudaExecutor {
    config: Config,
    device: CudaDevice,
    mixing: Option<Resident>,
    slots: Vec<Slot>,
    next: usize,
    caller_ready: CudaEvent,
    /// Uploads run here, so batch n + 1 uploads while batch n computes.
    copy: std::sync::Arc<cudarc::driver::CudaStream>,
}

impl std::fmt::Debug for CudaExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CudaExecutor({:?}, size {})",
            self.device, self.config.size
        )
    }
}

/// Copies each image's staged region (its crop, or all of it; `meta` says which) into
/// `out`, images back to back, in parallel: page-locked memory is slow to write from one
/// core (write-combined), and a batch's pixels are megabytes.
pub(super) fn stage_pixels(
    images: &[ImageView<'_>],
    meta: &[crate::staging::ImageMeta],
    mut out: &mut [u8],
) {
    use rayon::prelude::*;
    let mut jobs = Vec::with_capacity(images.len());
    for (img, m) in images.iter().zip(meta) {
        let len = m.width as usize * m.height as usize * 3;
        let (dst, rest) = out.split_at_mut(len);
        out = rest;
        jobs.push((img, m, dst));
    }
    jobs.into_par_iter().for_each(|(img, m, dst)| {
        let row = m.width as usize * 3;
        if row == 0 {
            return;
        }
        let x = m.x0 as usize * 3;
        for (y, d) in dst.chunks_exact_mut(row).enumerate() {
            d.copy_from_slice(&img.row(m.y0 as usize + y)[x..x + row]);
        }
    });
}

impl Drop for CudaExecutor {
    fn drop(&mut self) {
        // The input buffers are freed in the copy stream's order: after the kernels still
        // queued on the other stream, which read them.
        let _ = self.copy.join(&self.device.stream);
    }
}

/// The pixels of `images`, borrowed (no copy).
pub(super) fn views(images: &[impl AsImageView]) -> Vec<ImageView<'_>> {
    images.iter().map(AsImageView::as_view).collect()
}

pub(super) fn align(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

/// The device address of `buf`, (re)allocated in the order of `stream` (the stream that
/// first writes it) when it holds fewer than `len` bytes.
pub(super) fn grow(
    stream: &std::sync::Arc<cudarc::driver::CudaStream>,
    buf: &mut Option<CudaSlice<u8>>,
    len: usize,
    what: &str,
) -> Result<u64> {
    if buf.as_ref().is_none_or(|b| b.len() < len.max(1)) {
        *buf = None;
        let fresh = stream
            .alloc_zeros::<u8>(len.max(1))
            .map_err(|e| Error::Cuda(format!("allocating {len} bytes for {what}: {e}")))?;
        *buf = Some(fresh);
    }
    let b = buf
        .as_ref()
        .ok_or_else(|| Error::Cuda(format!("no buffer for {what}")))?;
    let (ptr, _sync) = b.device_ptr(stream);
    Ok(ptr)
}

impl CudaExecutor {
    /// An executor for `config` on device `ordinal`.
    pub fn new(config: &Config, ordinal: usize) -> Result<CudaExecutor> {
        config.validate()?;
        let device = CudaDevice::new(ordinal)?;
        let event = || {
            device
                .ctx
                .new_event(None)
                .map_err(cuda("creating an event"))
        };
        let slots = (0..2)
            .map(|_| {
                Ok(Slot {
                    staging: None,
                    inputs: None,
                    temp: None,
                    orig: None,
                    tables: None,
                    round_tables: None,
                    out: None,
                    uploaded: event()?,
                    done: event()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let caller_ready = event()?;
        let copy = device
            .ctx
            .new_stream()
            .map_err(cuda("creating the copy stream"))?;
        Ok(CudaExecutor {
            config: config.clone(),
            device,
            mixing: None,
            slots,
            next: 0,
            caller_ready,
            copy,
        })
    }

    /// The device.
    pub fn device(&self) -> &CudaDevice {
        &self.device
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Uploads the mixing set once; it stays resident until replaced.
    pub fn set_mixing(&mut self, mixing: &MixingSet) -> Result<()> {
        let stream = &self.device.stream;
        let pixels = stream
            .clone_htod(mixing.bytes())
            .map_err(cuda("uploading the mixing set"))?;
        let meta = picture_meta(mixing);
        let meta = stream
            .clone_htod(bytemuck::cast_slice::<_, u8>(&meta))
            .map_err(cuda("uploading the mixing set"))?;
        stream
            .synchronize()
            .map_err(cuda("uploading the mixing set"))?;
        self.mixing = Some(Resident {
            pixels,
            meta,
            sizes: mixing.sizes().to_vec(),
        });
        Ok(())
    }

    /// Generates `count` fractal flames on the GPU (the CPU renderer's set for `seed`) and
    /// makes them the resident mixing set; the pictures never leave device memory.
    pub fn set_fractal_mixing(
        &mut self,
        count: usize,
        seed: u64,
    ) -> Result<crate::fractal::FractalStats> {
        let size = self.config.mixing_resize;
        let settings = crate::fractal::FractalSettings::new(size);
        let (pixels, stats) =
            super::fractal::generate_on_device(&self.device, count, &settings, seed, |_, _| {})?;
        let meta: Vec<crate::staging::PictureMeta> = (0..count)
            .map(|i| crate::staging::PictureMeta {
                offset: (i * size * size * 3) as u64,
                width: size as u32,
                height: size as u32,
            })
            .collect();
        let meta = self
            .device
            .stream
            .clone_htod(bytemuck::cast_slice::<_, u8>(&meta))
            .map_err(cuda("uploading the mixing set"))?;
        self.mixing = Some(Resident {
            pixels,
            meta,
            sizes: vec![(size, size); count],
        });
        Ok(stats)
    }

    /// Sizes of the resident mixing pictures (what the planner needs).
    pub fn mixing_sizes(&self) -> Option<&[(usize, usize)]> {
        self.mixing.as_ref().map(|m| m.sizes.as_slice())
    }

    /// Augments host images and downloads the result (waits for the GPU).
    pub fn augment(
        &mut self,
        plan: &BatchPlan,
        images: &[impl AsImageView],
        dtype: Dtype,
    ) -> Result<Tensor> {
        let views = views(images);
        let out = self.run(plan, Input::Host(&views), dtype, Target::Own)?;
        let s = self.config.size;
        let mut tensor = Tensor::zeros([plan.len(), 3, s, s], dtype);
        if plan.is_empty() {
            return Ok(tensor);
        }
        let slot = &self.slots[out];
        let src = slot
            .out
            .as_ref()
            .ok_or_else(|| Error::Cuda("output buffer missing".into()))?;
        let mut bytes = vec![0u8; tensor.as_bytes().len()];
        let stream = &self.device.stream;
        stream
            .memcpy_dtoh(&src.slice(0..bytes.len()), &mut bytes[..])
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

    /// Augments host images into the executor's own device buffer and returns without
    /// waiting: the host can plan and upload the next batch meanwhile.
    pub fn augment_on_device(
        &mut self,
        plan: &BatchPlan,
        images: &[impl AsImageView],
        dtype: Dtype,
    ) -> Result<DeviceOutput> {
        let views = views(images);
        let slot = self.run(plan, Input::Host(&views), dtype, Target::Own)?;
        self.output_of(slot, plan.len(), dtype)
    }

    /// Augments host images into a caller's device buffer (`dst`, `dst_bytes` long), ordered
    /// after the work already queued on `caller_stream` and before the work queued there
    /// afterwards (a null stream means the legacy default stream).
    ///
    /// # Safety
    /// `dst` must be a device allocation of this executor's context, at least `dst_bytes`
    /// long, not used by anything else until `caller_stream` passes this point; and
    /// `caller_stream` must be a live stream of the same context.
    pub unsafe fn augment_into(
        &mut self,
        plan: &BatchPlan,
        images: &[impl AsImageView],
        dtype: Dtype,
        dst: u64,
        dst_bytes: usize,
        caller_stream: sys::CUstream,
    ) -> Result<()> {
        let views = views(images);
        // SAFETY: forwarded from the caller's contract.
        unsafe {
            self.ordered_with(caller_stream, |me| {
                me.run(
                    plan,
                    Input::Host(&views),
                    dtype,
                    Target::Ptr(dst, dst_bytes),
                )
            })
        }
    }

    /// Augments a batch that is already in device memory: `images` is the address of the
    /// images back to back (row-major RGB bytes), `sizes` their (width, height).
    ///
    /// # Safety
    /// `images` must address at least the sum of `w * h * 3` bytes of this context's memory,
    /// left unchanged until the batch is done (order it with `caller_stream`, as for `dst`).
    /// The same contract as [`augment_into`](Self::augment_into) holds for `dst`.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn augment_device_batch(
        &mut self,
        plan: &BatchPlan,
        images: u64,
        sizes: &[(usize, usize)],
        dtype: Dtype,
        dst: u64,
        dst_bytes: usize,
        caller_stream: sys::CUstream,
    ) -> Result<()> {
        // SAFETY: forwarded from the caller's contract.
        unsafe {
            self.ordered_with(caller_stream, |me| {
                me.run(
                    plan,
                    Input::Device(images, sizes),
                    dtype,
                    Target::Ptr(dst, dst_bytes),
                )
            })
        }
    }

    /// Augments host images into a new [`StreamBuffer`] that the caller owns (a batch to
    /// hand to another framework), and returns without waiting for the GPU.
    pub fn augment_to_buffer(
        &mut self,
        plan: &BatchPlan,
        images: &[impl AsImageView],
        dtype: Dtype,
    ) -> Result<StreamBuffer> {
        let views = views(images);
        self.run_to_buffer(plan, Input::Host(&views), dtype)
    }

    /// [`augment_to_buffer`](Self::augment_to_buffer) for a batch already in device memory,
    /// laid out as for [`augment_device_batch`](Self::augment_device_batch).
    ///
    /// # Safety
    /// `images` must address at least the sum of `w * h * 3` bytes of this context's memory,
    /// written before the work this executor's stream ([`CudaDevice::raw_stream`]) runs
    /// next, and left unchanged until the buffer's [`wait`](StreamBuffer::wait) returns.
    pub unsafe fn augment_device_to_buffer(
        &mut self,
        plan: &BatchPlan,
        images: u64,
        sizes: &[(usize, usize)],
        dtype: Dtype,
    ) -> Result<StreamBuffer> {
        self.run_to_buffer(plan, Input::Device(images, sizes), dtype)
    }

    fn run_to_buffer(
        &mut self,
        plan: &BatchPlan,
        input: Input<'_>,
        dtype: Dtype,
    ) -> Result<StreamBuffer> {
        let s = self.config.size;
        let bytes = plan.len() * 3 * s * s * dtype.size();
        let buffer = StreamBuffer::new(&self.device, bytes)?;
        self.run(plan, input, dtype, Target::Ptr(buffer.ptr(), bytes))?;
        buffer.record_ready()?;
        Ok(buffer)
    }

    /// Waits for every queued batch.
    pub fn synchronize(&self) -> Result<()> {
        self.device
            .stream
            .synchronize()
            .map_err(cuda("waiting for the device"))
    }

    /// Runs `work` on this executor's stream, after what `caller` has queued, and makes
    /// `caller` wait for it.
    unsafe fn ordered_with(
        &mut self,
        caller: sys::CUstream,
        work: impl FnOnce(&mut Self) -> Result<usize>,
    ) -> Result<()> {
        // A null caller stream names the legacy stream of the CURRENT context: make it
        // this device's (another device's context may be current, as after torch used it).
        self.device
            .ctx
            .bind_to_thread()
            .map_err(cuda("making the device current"))?;
        let ours = self.device.raw_stream();
        let wait = sys::CUevent_wait_flags::CU_EVENT_WAIT_DEFAULT;
        // SAFETY: both streams and the event belong to this context (caller's contract).
        unsafe {
            cudarc::driver::result::event::record(self.caller_ready.cu_event(), caller)
                .map_err(cuda("ordering after the caller's stream"))?;
            cudarc::driver::result::stream::wait_event(ours, self.caller_ready.cu_event(), wait)
                .map_err(cuda("ordering after the caller's stream"))?;
        }
        let slot = work(self)?;
        // SAFETY: as above; `done` was recorded on our stream after the last kernel.
        unsafe {
            cudarc::driver::result::stream::wait_event(
                caller,
                self.slots[slot].done.cu_event(),
                wait,
            )
            .map_err(cuda("ordering the caller's stream after the batch"))?;
        }
        Ok(())
    }

    fn output_of(&self, slot: usize, n: usize, dtype: Dtype) -> Result<DeviceOutput> {
        let s = self.config.size;
        let bytes = n * 3 * s * s * dtype.size();
        let ptr = match &self.slots[slot].out {
            Some(b) => b.device_ptr(&self.device.stream).0,
            None => 0,
        };
        Ok(DeviceOutput {
            ptr,
            bytes,
            shape: [n, 3, s, s],
            dtype,
            ready: self.slots[slot].done.cu_event(),
        })
    }

    /// Checks, stages, uploads and launches one batch; returns the slot used.
    fn run(
        &mut self,
        plan: &BatchPlan,
        input: Input<'_>,
        dtype: Dtype,
        target: Target,
    ) -> Result<usize> {
        self.device
            .ctx
            .bind_to_thread()
            .map_err(cuda("making the device current"))?;
        let c = &self.config;
        let s = c.size;
        let mixing = self.mixing.as_ref().ok_or_else(|| {
            Error::MixingSet("no mixing set on the device; call set_mixing first".into())
        })?;
        let sizes: Vec<(usize, usize)> = match input {
            Input::Host(images) => RgbImage::sizes(images),
            Input::Device(_, sizes) => sizes.to_vec(),
        };
        check_batch(c, plan, &sizes, &mixing.sizes)?;
        let n = plan.len();
        if n > MAX_BATCH {
            return Err(Error::Input(format!(
                "a CUDA batch holds at most {MAX_BATCH} samples, got {n}"
            )));
        }
        let out_bytes = n * 3 * s * s * dtype.size();
        if let Target::Ptr(ptr, _) = target
            && !ptr.is_multiple_of(dtype.size() as u64)
        {
            // The kernels store whole elements: a misaligned one would fault the context.
            return Err(Error::Input(format!(
                "destination {ptr:#x} is not aligned to the {} bytes of a {} element",
                dtype.size(),
                dtype.name()
            )));
        }
        if let Target::Ptr(_, len) = target
            && len < out_bytes
        {
            return Err(Error::Input(format!(
                "destination holds {len} bytes; {n} samples of 3x{s}x{s} {} need {out_bytes}",
                dtype.name()
            )));
        }
        // Host images: only the region each sample reads is staged and uploaded.
        let staged = stage(c, plan, &sizes, matches!(input, Input::Host(_)))?;
        let slot_index = self.next;
        self.next = (self.next + 1) % self.slots.len();
        if n == 0 {
            return Ok(slot_index);
        }

        // One upload: plans, descriptors, image table and (host input) the pixels.
        let sections: [&[u8]; 5] = [
            bytemuck::cast_slice(&plan.samples),
            bytemuck::cast_slice(&plan.rounds),
            bytemuck::cast_slice(&staged.descs),
            bytemuck::cast_slice(&staged.image_meta),
            bytemuck::cast_slice(&staged.coeffs),
        ];
        let mut offsets = Vec::with_capacity(6);
        let mut total = 0;
        for sec in sections {
            offsets.push(total);
            total += align(sec.len());
        }
        offsets.push(total);
        if let Input::Host(_) = input {
            total += staged.image_bytes;
        }

        let device = &self.device;
        let slot = &mut self.slots[slot_index];
        // The slot's previous batch may still be reading its buffers.
        slot.done
            .synchronize()
            .map_err(cuda("waiting for an earlier batch"))?;
        if slot.staging.as_ref().is_none_or(|p| p.len() < total) {
            slot.staging = None;
            // SAFETY: the bytes are written below before they are read.
            let pinned = unsafe { device.ctx.alloc_pinned::<u8>(total) }.map_err(|e| {
                Error::Cuda(format!("allocating {total} bytes of pinned memory: {e}"))
            })?;
            slot.staging = Some(pinned);
        }
        let staging = slot
            .staging
            .as_mut()
            .ok_or_else(|| Error::Cuda("no staging buffer".into()))?;
        {
            let host = &mut staging
                .as_mut_slice()
                .map_err(cuda("writing pinned memory"))?[..total];
            let (head, pixels) = host.split_at_mut(offsets[5]);
            for (sec, &at) in sections.iter().zip(&offsets) {
                head[at..at + sec.len()].copy_from_slice(sec);
            }
            if let Input::Host(images) = input {
                stage_pixels(images, &staged.image_meta, pixels);
            }
        }
        let copy = &self.copy;
        // The upload rewrites (or frees and reallocates) the buffer this slot's previous
        // batch read: after it. The input buffer lives in the copy stream's order.
        copy.wait(&slot.done)
            .map_err(cuda("ordering the upload after the slot's last batch"))?;
        let inputs = grow(copy, &mut slot.inputs, total, "the batch's inputs")?;
        {
            // Dropping `recorded` records the staging buffer's event after the copy, so the
            // buffer is rewritten (as_mut_slice) or freed (its drop) only once the copy has
            // read it, whatever happens to this batch or the executor afterwards.
            // SAFETY: the slice is used with the copy stream only.
            let (src, recorded) = unsafe { staging.stream_synced_slice(copy) };
            // SAFETY: `inputs` holds at least `total` bytes of this context, ordered by the
            // events above and below (the raw copy keeps cudarc's per-slice tracking, which
            // would order it after the kernels of the other slot, out of the way).
            unsafe {
                cudarc::driver::result::memcpy_htod_async(inputs, &src[..total], copy.cu_stream())
            }
            .map_err(cuda("uploading the batch"))?;
            drop(recorded);
            slot.uploaded
                .record(copy)
                .map_err(cuda("recording the upload"))?;
            device
                .stream
                .wait(&slot.uploaded)
                .map_err(cuda("ordering the kernels after the upload"))?;
        }
        let temp = grow(
            &device.stream,
            &mut slot.temp,
            staged.temp_bytes,
            "resize intermediates",
        )?;
        let orig = grow(
            &device.stream,
            &mut slot.orig,
            n * s * s * 3,
            "the originals",
        )?;
        let tables = grow(
            &device.stream,
            &mut slot.tables,
            n * TABLE_STRIDE,
            "per-sample tables",
        )?;
        let round_tables = grow(
            &device.stream,
            &mut slot.round_tables,
            plan.rounds.len() * ROUND_TABLE_FLOATS * 4,
            "per-round power tables",
        )?;
        let out = match target {
            Target::Own => grow(&device.stream, &mut slot.out, out_bytes, "the output")?,
            Target::Ptr(ptr, _) => ptr,
        };
        let images = match input {
            Input::Host(_) => inputs + offsets[5] as u64,
            Input::Device(ptr, _) => ptr,
        };
        let (pixels, _p) = mixing.pixels.device_ptr(&device.stream);
        let (meta, _m) = mixing.meta.device_ptr(&device.stream);
        let args = KernelArgs {
            samples: inputs + offsets[0] as u64,
            rounds: inputs + offsets[1] as u64,
            descs: inputs + offsets[2] as u64,
            images,
            image_meta: inputs + offsets[3] as u64,
            temp,
            orig,
            tables,
            mixing: pixels,
            mixing_meta: meta,
            out,
            n: n as u32,
            size: s as u32,
            dtype: dtype_code(dtype),
            reserved: 0,
            mean: c.mean,
            std: c.std,
            coeffs: inputs + offsets[4] as u64,
            round_tables,
        };
        let grid = |elements: usize, rows: usize| LaunchConfig {
            grid_dim: (elements.div_ceil(BLOCK as usize) as u32, rows as u32, 1),
            block_dim: (BLOCK, 1, 1),
            shared_mem_bytes: 0,
        };
        let k = &device.kernels;
        let launches = [
            (
                &k.pass1,
                grid(staged.max_temp_pixels, n),
                staged.max_temp_pixels > 0,
            ),
            (&k.pass2, grid(s * s, n), true),
            (
                &k.stats,
                LaunchConfig {
                    grid_dim: (n as u32, 1, 1),
                    block_dim: (BLOCK, 1, 1),
                    shared_mem_bytes: 0,
                },
                true,
            ),
            (&k.pixel, grid(s * s, n), true),
        ];
        for (f, cfg, needed) in launches {
            if !needed {
                continue;
            }
            let mut b = device.stream.launch_builder(f);
            b.arg(&args);
            // SAFETY: every address in `args` points at a buffer sized for the staged batch
            // (checked plan, grown buffers, caller's contract for external pointers).
            unsafe { b.launch(cfg) }.map_err(cuda("launching a kernel"))?;
        }
        slot.done
            .record(&device.stream)
            .map_err(cuda("recording completion"))?;
        Ok(slot_index)
    }
}
