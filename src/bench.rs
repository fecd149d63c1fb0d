//! Throughput measurement shared by `pixmix bench` and `cargo bench`.

use std::time::{Duration, Instant};

use crate::config::{Config, Preset};
use crate::cpu::CpuExecutor;
use crate::error::Result;
use crate::image::RgbImage;
use crate::mixing_set::MixingSet;
use crate::plan::Planner;
use crate::tensor::{Dtype, Tensor};

/// What one benchmark run measured.
#[derive(Clone, Debug)]
pub struct BenchResult {
    /// The preset measured.
    pub preset: Preset,
    /// Samples per batch.
    pub batch: usize,
    /// Worker threads.
    pub threads: usize,
    /// Batches timed (after one warm-up batch).
    pub batches: usize,
    /// Seconds spent planning, per batch.
    pub plan_seconds: f64,
    /// Seconds spent executing, per batch.
    pub execute_seconds: f64,
}

impl BenchResult {
    /// Whole-pipeline throughput (planning and execution).
    pub fn images_per_second(&self) -> f64 {
        self.batch as f64 / (self.plan_seconds + self.execute_seconds)
    }

    /// Throughput per thread.
    pub fn images_per_second_per_thread(&self) -> f64 {
        self.images_per_second() / self.threads as f64
    }
}

/// Deterministic synthetic photos: smooth gradients with texture, `w` x `h`.
pub fn synthetic_photo(seed: u64, w: usize, h: usize) -> RgbImage {
    let mut state = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    let mut data = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let v = (x * (c + 1) + y * (3 - c)) as u64 / 3 + seed * 37 + (state & 31);
                data.push((v & 255) as u8);
            }
        }
    }
    RgbImage::new(w, h, data).unwrap_or_else(|_| unreachable!("sizes are consistent"))
}

/// The inputs a preset is benchmarked on: 32x32 originals for cifar, 500x375 for imagenet
/// (a typical ImageNet photo), and 16 mixing pictures.
pub fn bench_inputs(
    config: &Config,
    preset: Preset,
    batch: usize,
) -> Result<(Vec<RgbImage>, MixingSet)> {
    let (w, h) = match preset {
        Preset::Cifar => (32, 32),
        Preset::Imagenet => (500, 375),
    };
    let images = (0..batch.min(64))
        .map(|i| synthetic_photo(i as u64, w, h))
        .collect::<Vec<_>>();
    let images = (0..batch)
        .map(|i| images[i % images.len()].clone())
        .collect();
    let mixing = MixingSet::from_images(
        (0..16).map(|i| synthetic_photo(1000 + i, 300 + 7 * i as usize, 260)),
        config.mixing_resize,
    )?;
    Ok((images, mixing))
}

/// Measures the CPU path for `preset` with `batch` samples per batch on `threads` threads,
/// timing whole batches until `duration` has passed (at least 3).
pub fn measure_cpu(
    preset: Preset,
    batch: usize,
    threads: usize,
    duration: Duration,
) -> Result<BenchResult> {
    let config = Config::preset(preset);
    let (images, mixing) = bench_inputs(&config, preset, batch)?;
    let sizes = RgbImage::sizes(&images);
    let mut planner = Planner::new(&config, 0)?;
    let exec = CpuExecutor::with_threads(&config, threads)?;
    let s = config.size;
    let mut out = Tensor::zeros([batch, 3, s, s], Dtype::F32);
    let crate::tensor::TensorData::F32(buf) = &mut out.data else {
        unreachable!("allocated as f32")
    };
    // Warm-up.
    let plan = planner.plan(&sizes, mixing.sizes())?;
    exec.augment_into(&plan, &images, &mixing, buf)?;
    let (mut plan_s, mut exec_s, mut batches) = (0.0, 0.0, 0);
    let start = Instant::now();
    while batches < 3 || start.elapsed() < duration {
        let t0 = Instant::now();
        let plan = planner.plan(&sizes, mixing.sizes())?;
        let t1 = Instant::now();
        exec.augment_into(&plan, &images, &mixing, buf)?;
        plan_s += (t1 - t0).as_secs_f64();
        exec_s += t1.elapsed().as_secs_f64();
        batches += 1;
    }
    Ok(BenchResult {
        preset,
        batch,
        threads,
        batches,
        plan_seconds: plan_s / batches as f64,
        execute_seconds: exec_s / batches as f64,
    })
}

/// [`measure_cpu`] for AugMix (the released defaults of `preset`, the same photos): plans
/// and one AugMix sample per photo, batch after batch, into one output buffer (as
/// [`measure_cpu`]: a fresh tensor per batch would time the kernel's page faults).
pub fn measure_cpu_augmix(
    preset: Preset,
    batch: usize,
    threads: usize,
    duration: Duration,
) -> Result<BenchResult> {
    let config = crate::augmix::AugMixConfig::preset(preset);
    let (images, _) = bench_inputs(&config.base, preset, batch)?;
    let sizes = RgbImage::sizes(&images);
    let mut planner = crate::augmix::AugMixPlanner::new(&config, 0)?;
    let exec = crate::augmix::AugMixExecutor::with_threads(&config, threads)?;
    let s = config.base.size;
    let mut out = vec![0f32; batch * 3 * s * s];
    // Warm-up.
    exec.augment_into(&planner.plan(&sizes)?, &images, &mut out)?;
    let (mut plan_s, mut exec_s, mut batches) = (0.0, 0.0, 0);
    let start = Instant::now();
    while batches < 3 || start.elapsed() < duration {
        let t0 = Instant::now();
        let plans = planner.plan(&sizes)?;
        let t1 = Instant::now();
        exec.augment_into(&plans, &images, &mut out)?;
        std::hint::black_box(&out);
        plan_s += (t1 - t0).as_secs_f64();
        exec_s += t1.elapsed().as_secs_f64();
        batches += 1;
    }
    Ok(BenchResult {
        preset,
        batch,
        threads,
        batches,
        plan_seconds: plan_s / batches as f64,
        execute_seconds: exec_s / batches as f64,
    })
}

/// What one CUDA benchmark run measured.
#[derive(Clone, Debug)]
pub struct CudaBenchResult {
    /// The preset measured.
    pub preset: Preset,
    /// The device.
    pub device: String,
    /// Samples per batch.
    pub batch: usize,
    /// Output element type.
    pub dtype: Dtype,
    /// Batches timed.
    pub batches: usize,
    /// Wall seconds per batch (plans pre-drawn; source images already on the device).
    pub seconds_per_batch: f64,
    /// Bytes the fused pixel kernel must move per image: read the original and the mixing
    /// crop once, write the output.
    pub fused_bytes_per_image: usize,
    /// Device-to-device copy bandwidth measured in the same run (bytes read + written / s).
    pub copy_bandwidth: f64,
}

impl CudaBenchResult {
    /// Images per second.
    pub fn images_per_second(&self) -> f64 {
        self.batch as f64 / self.seconds_per_batch
    }

    /// Bytes per second the fused kernel's traffic amounts to.
    pub fn fused_bandwidth(&self) -> f64 {
        self.images_per_second() * self.fused_bytes_per_image as f64
    }

    /// Share of the measured copy bandwidth.
    pub fn bandwidth_ratio(&self) -> f64 {
        self.fused_bandwidth() / self.copy_bandwidth
    }
}

/// The CUDA benchmark in a build without the `cuda` feature: always `Error::NoCuda`.
#[cfg(not(feature = "cuda"))]
pub fn measure_cuda(
    _preset: Preset,
    _batch: usize,
    _dtype: Dtype,
    _ordinal: usize,
    _duration: Duration,
) -> Result<CudaBenchResult> {
    Err(crate::error::Error::NoCuda(
        "pixmix was built without the `cuda` feature".into(),
    ))
}

/// Measures the CUDA path on device `ordinal`: source images resident on the device, plans
/// drawn beforehand, batches of `batch` written to a device buffer, timed until `duration`
/// has passed (at least 5 batches), plus a device-to-device copy for the bandwidth ratio.
#[cfg(feature = "cuda")]
pub fn measure_cuda(
    preset: Preset,
    batch: usize,
    dtype: Dtype,
    ordinal: usize,
    duration: Duration,
) -> Result<CudaBenchResult> {
    use crate::cuda::CudaExecutor;
    use crate::error::Error;
    use cudarc::driver::DevicePtr;

    let config = Config::preset(preset);
    let (images, mixing) = bench_inputs(&config, preset, batch)?;
    let sizes = RgbImage::sizes(&images);
    let mut exec = CudaExecutor::new(&config, ordinal)?;
    exec.set_mixing(&mixing)?;
    let device = exec.device().info().name.clone();
    let stream = exec.device().stream().clone();
    let err = |what: &'static str| {
        move |e: cudarc::driver::DriverError| Error::Cuda(format!("{what}: {e}"))
    };
    let pixels: Vec<u8> = images
        .iter()
        .flat_map(|i| i.as_bytes().iter().copied())
        .collect();
    let d_images = stream
        .clone_htod(&pixels)
        .map_err(err("uploading images"))?;
    let s = config.size;
    let out_bytes = batch * 3 * s * s * dtype.size();
    let d_out = stream
        .alloc_zeros::<u8>(out_bytes)
        .map_err(err("allocating the output"))?;
    let mut planner = Planner::new(&config, 0)?;
    let plans = (0..8)
        .map(|_| planner.plan(&sizes, mixing.sizes()))
        .collect::<Result<Vec<_>>>()?;
    let (img_ptr, _a) = d_images.device_ptr(&stream);
    let (out_ptr, _b) = d_out.device_ptr(&stream);
    let raw = stream.cu_stream();
    let mut run = |i: usize| -> Result<()> {
        // SAFETY: both buffers belong to the executor's context and outlive the run; the
        // executor's own stream orders everything.
        unsafe {
            exec.augment_device_batch(
                &plans[i % plans.len()],
                img_ptr,
                &sizes,
                dtype,
                out_ptr,
                out_bytes,
                raw,
            )
        }
    };
    for i in 0..3 {
        run(i)?;
    }
    stream.synchronize().map_err(err("warm-up"))?;
    let start = Instant::now();
    let mut batches = 0;
    while batches < 5 || start.elapsed() < duration {
        run(batches)?;
        batches += 1;
        if batches % 16 == 0 {
            stream.synchronize().map_err(err("timing"))?;
        }
    }
    stream.synchronize().map_err(err("timing"))?;
    let seconds_per_batch = start.elapsed().as_secs_f64() / batches as f64;

    // Device copy bandwidth, same run: 1 GiB copied a few times.
    let len = 1usize << 30;
    let a = stream
        .alloc_zeros::<u8>(len)
        .map_err(err("allocating the copy buffers"))?;
    let mut b = stream
        .alloc_zeros::<u8>(len)
        .map_err(err("allocating the copy buffers"))?;
    stream.memcpy_dtod(&a, &mut b).map_err(err("copying"))?;
    stream.synchronize().map_err(err("copying"))?;
    let t = Instant::now();
    let copies = 10;
    for _ in 0..copies {
        stream.memcpy_dtod(&a, &mut b).map_err(err("copying"))?;
    }
    stream.synchronize().map_err(err("copying"))?;
    let copy_bandwidth = (2 * len * copies) as f64 / t.elapsed().as_secs_f64();
    Ok(CudaBenchResult {
        preset,
        device,
        batch,
        dtype,
        batches,
        seconds_per_batch,
        fused_bytes_per_image: s * s * 3 * (2 + dtype.size()),
        copy_bandwidth,
    })
}

#[cfg(feature = "cuda")]
/// What the CUDA driver emulator counted for batches of one preset: PTX instructions and
/// bytes per kernel, never a time on a GPU.
#[derive(Clone, Debug)]
pub struct EmulatedProfile {
    /// The preset.
    pub preset: Preset,
    /// Samples per batch.
    pub batch: usize,
    /// Output type.
    pub dtype: Dtype,
    /// Images the counts cover.
    pub images: usize,
    /// Per kernel, over those images.
    pub kernels: Vec<crate::cuda::emulator::KernelCounts>,
    /// Wall-clock seconds the emulator took for them.
    pub seconds: f64,
    /// The emulator's worker threads.
    pub workers: usize,
}

#[cfg(feature = "cuda")]
impl EmulatedProfile {
    /// Executed PTX instructions per image, all kernels.
    pub fn instructions_per_image(&self) -> f64 {
        self.kernels.iter().map(|k| k.total()).sum::<u64>() as f64 / self.images as f64
    }

    /// The emulator's own speed: PTX instructions a second per worker thread.
    pub fn emulator_rate_per_worker(&self) -> f64 {
        let total: u64 = self.kernels.iter().map(|k| k.total()).sum();
        total as f64 / self.seconds / self.workers as f64
    }
}

#[cfg(feature = "cuda")]
/// An error unless libcuda is the CUDA driver emulator (whose profile the callers read).
fn require_emulator() -> Result<()> {
    if !crate::cuda::emulator::is_emulated() {
        return Err(crate::error::Error::NoCuda(
            "libcuda is not the CUDA driver emulator (scripts/emulated-cuda.sh)".into(),
        ));
    }
    Ok(())
}

#[cfg(feature = "cuda")]
/// Runs the CUDA path under the driver emulator (as [`measure_cuda`] would, source images
/// resident in device memory) for one warm-up and `batches` counted batches, and returns
/// the emulator's counts for the counted ones. Fails when libcuda is not the emulator.
pub fn profile_emulated_cuda(
    preset: Preset,
    batch: usize,
    batches: usize,
    dtype: Dtype,
    ordinal: usize,
) -> Result<EmulatedProfile> {
    use crate::cuda::{CudaExecutor, emulator};

    require_emulator()?;
    let config = Config::preset(preset);
    let (images, mixing) = bench_inputs(&config, preset, batch)?;
    let sizes = RgbImage::sizes(&images);
    let mut exec = CudaExecutor::new(&config, ordinal)?;
    exec.set_mixing(&mixing)?;
    let mut planner = Planner::new(&config, 0)?;
    exec.augment_on_device(&planner.plan(&sizes, mixing.sizes())?, &images, dtype)?;
    exec.synchronize()?;
    let (kernels, seconds) = emulated_counts(|| {
        for _ in 0..batches {
            exec.augment_on_device(&planner.plan(&sizes, mixing.sizes())?, &images, dtype)?;
        }
        exec.synchronize()
    })?;
    Ok(EmulatedProfile {
        preset,
        batch,
        dtype,
        images: batch * batches,
        kernels,
        seconds,
        workers: emulator::workers().unwrap_or(1),
    })
}

#[cfg(feature = "cuda")]
/// The emulator's counts of the kernels `work` launches (and waits for), and the seconds
/// it took.
fn emulated_counts(
    work: impl FnOnce() -> Result<()>,
) -> Result<(Vec<crate::cuda::emulator::KernelCounts>, f64)> {
    use crate::cuda::emulator;
    let before = emulator::profile().unwrap_or_default();
    let start = Instant::now();
    work()?;
    let seconds = start.elapsed().as_secs_f64();
    let kernels = emulator::profile()
        .unwrap_or_default()
        .iter()
        .map(|k| k.since(before.iter().find(|b| b.name == k.name)))
        .filter(|k| k.launches > 0)
        .collect();
    Ok((kernels, seconds))
}

#[cfg(feature = "cuda")]
/// [`profile_emulated_cuda`] for AugMix (the released defaults of `preset`, the same
/// photos): one warm-up and `batches` counted batches of one AugMix sample per photo, the
/// photos uploaded from the host (their crops) as `AugMix` does. Fails when libcuda is not
/// the emulator.
pub fn profile_emulated_cuda_augmix(
    preset: Preset,
    batch: usize,
    batches: usize,
    dtype: Dtype,
    ordinal: usize,
) -> Result<EmulatedProfile> {
    use crate::cuda::{AugMixCudaExecutor, emulator};

    require_emulator()?;
    let config = crate::augmix::AugMixConfig::preset(preset);
    let (images, _) = bench_inputs(&config.base, preset, batch)?;
    let sizes = RgbImage::sizes(&images);
    let mut exec = AugMixCudaExecutor::new(&config, ordinal)?;
    let mut planner = crate::augmix::AugMixPlanner::new(&config, 0)?;
    exec.augment_to_buffer(&planner.plan(&sizes)?, &images, dtype)?;
    exec.synchronize()?;
    let (kernels, seconds) = emulated_counts(|| {
        let mut kept = Vec::with_capacity(batches);
        for _ in 0..batches {
            kept.push(exec.augment_to_buffer(&planner.plan(&sizes)?, &images, dtype)?);
        }
        exec.synchronize()
    })?;
    Ok(EmulatedProfile {
        preset,
        batch,
        dtype,
        images: batch * batches,
        kernels,
        seconds,
        workers: emulator::workers().unwrap_or(1),
    })
}

/// The AugMix CUDA benchmark in a build without the `cuda` feature: always
/// `Error::NoCuda`.
#[cfg(not(feature = "cuda"))]
pub fn measure_cuda_augmix(
    _preset: Preset,
    _batch: usize,
    _dtype: Dtype,
    _ordinal: usize,
    _duration: Duration,
) -> Result<(f64, String)> {
    Err(crate::error::Error::NoCuda(
        "pixmix was built without the `cuda` feature".into(),
    ))
}

/// AugMix on CUDA device `ordinal` (the released defaults of `preset`, the same photos):
/// images per second and the device's name, plans drawn beforehand, each batch's crops
/// uploaded from the host and its output left in device memory, timed until `duration`
/// has passed (at least 5 batches).
#[cfg(feature = "cuda")]
pub fn measure_cuda_augmix(
    preset: Preset,
    batch: usize,
    dtype: Dtype,
    ordinal: usize,
    duration: Duration,
) -> Result<(f64, String)> {
    let config = crate::augmix::AugMixConfig::preset(preset);
    let (images, _) = bench_inputs(&config.base, preset, batch)?;
    let sizes = RgbImage::sizes(&images);
    let mut exec = crate::cuda::AugMixCudaExecutor::new(&config, ordinal)?;
    let device = exec.device().info().name.clone();
    let mut planner = crate::augmix::AugMixPlanner::new(&config, 0)?;
    let plans = (0..8)
        .map(|_| planner.plan(&sizes))
        .collect::<Result<Vec<_>>>()?;
    for p in &plans[..3] {
        exec.augment_to_buffer(p, &images, dtype)?;
    }
    exec.synchronize()?;
    let start = Instant::now();
    let mut batches = 0;
    while batches < 5 || start.elapsed() < duration {
        // Dropped at once: freed in the stream's order, after the batch.
        exec.augment_to_buffer(&plans[batches % plans.len()], &images, dtype)?;
        batches += 1;
        if batches % 16 == 0 {
            exec.synchronize()?;
        }
    }
    exec.synchronize()?;
    let per_second = (batches * batch) as f64 / start.elapsed().as_secs_f64();
    Ok((per_second, device))
}

/// Fractals per second at `size` x `size`, quality 25 (design defaults, rejection included),
/// on the CPU (`ordinal` None) or on CUDA device `ordinal`, generating `count` pictures.
pub fn measure_fractals(
    size: usize,
    count: usize,
    ordinal: Option<usize>,
) -> Result<(f64, crate::fractal::FractalStats)> {
    let settings = crate::fractal::FractalSettings::new(size);
    let start = Instant::now();
    let stats = match ordinal {
        None => crate::fractal::generate(count, &settings, 0, |_, _| {})?.1,
        #[cfg(not(feature = "cuda"))]
        Some(_) => {
            return Err(crate::error::Error::NoCuda(
                "pixmix was built without the `cuda` feature".into(),
            ));
        }
        #[cfg(feature = "cuda")]
        Some(o) => {
            let device = crate::cuda::CudaDevice::new(o)?;
            // Warm-up: module load and first launches.
            crate::cuda::fractal::generate_on_device(&device, 1, &settings, 99, |_, _| {})?;
            let start = Instant::now();
            let stats =
                crate::cuda::fractal::generate_on_device(&device, count, &settings, 0, |_, _| {})?
                    .1;
            return Ok((count as f64 / start.elapsed().as_secs_f64(), stats));
        }
    };
    Ok((count as f64 / start.elapsed().as_secs_f64(), stats))
}
