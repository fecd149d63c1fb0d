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
    let sizes: Vec<_> = images.iter().map(|i| (i.width(), i.height())).collect();
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
