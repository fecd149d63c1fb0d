//! `pixmix bench`: throughput of the CPU or the CUDA path.

use std::time::Duration;

use clap::{Args, ValueEnum};
use pixmix::bench::{measure_cpu, measure_cuda, measure_fractals};
use pixmix::{Dtype, Preset};

/// Which executor to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Device {
    /// The CPU path.
    Cpu,
    /// The CUDA path (source images resident on the GPU).
    Cuda,
}

/// Arguments of `pixmix bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Preset to measure (cifar or imagenet); both when omitted.
    #[arg(long)]
    preset: Option<Preset>,
    /// Executor to measure.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    device: Device,
    /// Samples per batch (default: 256; for cuda also 1024 for cifar).
    #[arg(long)]
    batch: Option<usize>,
    /// Worker threads of the CPU path and the CPU fractal renderer (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Output type of the CUDA path (default: f16 for imagenet, f32 for cifar).
    #[arg(long)]
    dtype: Option<Dtype>,
    /// CUDA device ordinal.
    #[arg(long, default_value_t = 0)]
    ordinal: usize,
    /// Seconds to measure each configuration for.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Also measure fractal generation (256x256, quality 25) on the chosen device.
    #[arg(long)]
    fractals: bool,
}

/// Runs `pixmix bench`.
pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.batch != Some(0), "--batch must be at least 1");
    anyhow::ensure!(
        a.seconds.is_finite() && a.seconds >= 0.0,
        "--seconds must be a non-negative number"
    );
    let duration = Duration::from_secs_f64(a.seconds);
    if a.fractals {
        let accepted = |stats: &pixmix::fractal::FractalStats| 100.0 * stats.acceptance_rate();
        match a.device {
            Device::Cpu => {
                let threads = a
                    .threads
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
                anyhow::ensure!(threads > 0, "--threads must be at least 1");
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()?;
                let count = 16;
                let (rate, stats) = pool.install(|| measure_fractals(256, count, None))?;
                println!(
                    "fractals: {rate:.2} fractals/s (cpu, {}, {:.2} per thread, 256x256, quality 25, {count} pictures, {:.0}% of genomes accepted)",
                    super::threads(threads),
                    rate / threads as f64,
                    accepted(&stats)
                );
            }
            Device::Cuda => {
                let count = 2048;
                let (rate, stats) = measure_fractals(256, count, Some(a.ordinal))?;
                println!(
                    "fractals: {rate:.2} fractals/s (cuda, 256x256, quality 25, {count} pictures, {:.0}% of genomes accepted)",
                    accepted(&stats)
                );
            }
        }
    }
    let presets = a.preset.map_or(Preset::ALL.to_vec(), |p| vec![p]);
    for preset in presets {
        match a.device {
            Device::Cpu => {
                let threads = a
                    .threads
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
                let r = measure_cpu(preset, a.batch.unwrap_or(256), threads, duration)?;
                println!(
                    "{preset}: {:.0} images/s (cpu, batch {}, {}, {:.0} images/s per thread, {} batches)",
                    r.images_per_second(),
                    r.batch,
                    super::threads(r.threads),
                    r.images_per_second_per_thread(),
                    r.batches
                );
            }
            Device::Cuda => {
                let dtype = a.dtype.unwrap_or(if preset == Preset::Imagenet {
                    Dtype::F16
                } else {
                    Dtype::F32
                });
                let batches = match (a.batch, preset) {
                    (Some(b), _) => vec![b],
                    (None, Preset::Cifar) => vec![256, 1024],
                    (None, Preset::Imagenet) => vec![256],
                };
                for batch in batches {
                    let r = measure_cuda(preset, batch, dtype, a.ordinal, duration)?;
                    println!(
                        "{preset}: {:.0} images/s (cuda, {}, batch {batch}, {}); fused kernel moves {:.1} GB/s, {:.0}% of the {:.1} GB/s device copy bandwidth measured in this run",
                        r.images_per_second(),
                        r.device,
                        dtype.name(),
                        r.fused_bandwidth() / 1e9,
                        100.0 * r.bandwidth_ratio(),
                        r.copy_bandwidth / 1e9
                    );
                }
            }
        }
    }
    Ok(())
}
