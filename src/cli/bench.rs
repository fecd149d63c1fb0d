//! `pixmix bench`: throughput of the CPU or the CUDA path.

use std::time::Duration;

use clap::{Args, ValueEnum};
use pixmix::bench::{
    measure_cpu, measure_cpu_augmix, measure_cuda, measure_cuda_augmix, measure_fractals,
};
use pixmix::{Dtype, Preset};

use super::{MAX_BATCH, max_threads, real, whole};

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
#[command(allow_negative_numbers = true)]
pub struct BenchArgs {
    /// Preset to measure (cifar or imagenet); both when omitted.
    #[arg(long)]
    preset: Option<Preset>,
    /// Executor to measure.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    device: Device,
    /// Samples per batch (default: 256; for cuda also 1024 for cifar; at most 1024).
    #[arg(long, value_parser = whole::<usize>(1, MAX_BATCH))]
    batch: Option<usize>,
    /// Worker threads of the CPU path and the CPU fractal renderer (default: all cores; at
    /// most four per core).
    #[arg(long, value_parser = whole::<usize>(1, max_threads()))]
    threads: Option<usize>,
    /// Output type of the CUDA path (default: f16 for imagenet, f32 for cifar).
    #[arg(long)]
    dtype: Option<Dtype>,
    /// CUDA device ordinal.
    #[arg(long, default_value_t = 0, value_parser = whole::<usize>(0, 1023))]
    ordinal: usize,
    /// Seconds to measure each configuration for (at most a day, 86400).
    #[arg(long, default_value_t = 3.0, value_parser = real(0.0, 86_400.0))]
    seconds: f64,
    /// Also measure fractal generation (256x256, quality 25) on the chosen device.
    #[arg(long)]
    fractals: bool,
    /// The augmentation measured: pixmix, or augmix (the released defaults).
    #[arg(long, value_enum, default_value_t = super::augment::Method::Pixmix)]
    method: super::augment::Method,
}

/// Runs `pixmix bench`.
pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.batch != Some(0), "--batch must be at least 1");
    anyhow::ensure!(
        a.seconds.is_finite() && a.seconds >= 0.0,
        "--seconds must be a non-negative number"
    );
    let duration = Duration::from_secs_f64(a.seconds);
    let augmix = a.method == super::augment::Method::Augmix;
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
            Device::Cuda if emulated_driver() => println!(
                "fractals: not measured on the CUDA driver emulator (no GPU timing); \
                 `pixmix fractals --device cuda` runs the renderer there"
            ),
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
    #[cfg(feature = "cuda")]
    if a.device == Device::Cuda && emulated_driver() {
        return emulated(&a, &presets);
    }
    for preset in presets {
        match a.device {
            Device::Cpu => {
                let threads = a
                    .threads
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
                let batch = a.batch.unwrap_or(256);
                let r = match augmix {
                    true => measure_cpu_augmix(preset, batch, threads, duration)?,
                    false => measure_cpu(preset, batch, threads, duration)?,
                };
                println!(
                    "{preset}{}: {:.0} images/s (cpu, batch {}, {}, {:.0} images/s per thread, {} batches)",
                    if augmix { " augmix" } else { "" },
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
                    if augmix {
                        let (rate, device) =
                            measure_cuda_augmix(preset, batch, dtype, a.ordinal, duration)?;
                        println!(
                            "{preset} augmix: {rate:.0} images/s (cuda, {device}, batch {batch}, {}; \
                             each batch's crops uploaded from the host)",
                            dtype.name()
                        );
                        continue;
                    }
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

/// Whether libcuda is the CUDA driver emulator (never without the `cuda` feature).
fn emulated_driver() -> bool {
    #[cfg(feature = "cuda")]
    return pixmix::cuda::emulator::is_emulated();
    #[cfg(not(feature = "cuda"))]
    false
}

/// `bench --device cuda` on the CUDA driver emulator: counts per image, never a rate.
#[cfg(feature = "cuda")]
fn emulated(a: &BenchArgs, presets: &[Preset]) -> anyhow::Result<()> {
    use pixmix::cuda::emulator::CLASSES;
    println!(
        "EMULATED: libcuda is the CUDA driver emulator; what follows are counts of emulated PTX \
         instructions and bytes, not GPU measurements (no images/s)"
    );
    for &preset in presets {
        let dtype = a.dtype.unwrap_or(if preset == Preset::Imagenet {
            Dtype::F16
        } else {
            Dtype::F32
        });
        // Small batches: the emulator runs about 10^8 instructions a second.
        let batch = a.batch.unwrap_or(match preset {
            Preset::Cifar => 64,
            Preset::Imagenet => 4,
        });
        let augmix = a.method == super::augment::Method::Augmix;
        let p = match augmix {
            true => {
                pixmix::bench::profile_emulated_cuda_augmix(preset, batch, 1, dtype, a.ordinal)?
            }
            false => pixmix::bench::profile_emulated_cuda(preset, batch, 1, dtype, a.ordinal)?,
        };
        let per = |x: u64| x as f64 / p.images as f64;
        println!(
            "{preset}{} (emulated, batch {batch}, {}): {:.0} PTX instructions per image",
            if augmix { " augmix" } else { "" },
            dtype.name(),
            p.instructions_per_image()
        );
        for k in &p.kernels {
            let classes: Vec<String> = CLASSES
                .iter()
                .zip(k.instructions)
                .filter(|(_, n)| *n > 0)
                .map(|(c, n)| format!("{c} {:.0}", per(n)))
                .collect();
            println!(
                "  {}: {:.0} instructions per image ({}); global memory {:.0} bytes read, {:.0} written; shared memory {:.0} read, {:.0} written",
                k.name,
                per(k.total()),
                classes.join(", "),
                per(k.global_read),
                per(k.global_written),
                per(k.shared_read),
                per(k.shared_written)
            );
        }
        println!(
            "  (the emulator itself ran {:.1} million PTX instructions a second per worker thread, {} threads, all checks as configured)",
            p.emulator_rate_per_worker() / 1e6,
            p.workers
        );
    }
    Ok(())
}
