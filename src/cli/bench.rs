//! `pixmix bench`: throughput of the CPU path.

use std::time::Duration;

use clap::Args;
use pixmix::Preset;
use pixmix::bench::measure_cpu;

/// Arguments of `pixmix bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Preset to measure (cifar or imagenet); both when omitted.
    #[arg(long)]
    preset: Option<Preset>,
    /// Samples per batch.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Seconds to measure each preset for.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
}

/// Runs `pixmix bench`.
pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.batch > 0, "--batch must be at least 1");
    anyhow::ensure!(
        a.seconds.is_finite() && a.seconds >= 0.0,
        "--seconds must be a non-negative number"
    );
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let presets = a.preset.map_or(Preset::ALL.to_vec(), |p| vec![p]);
    for preset in presets {
        let r = measure_cpu(preset, a.batch, threads, Duration::from_secs_f64(a.seconds))?;
        println!(
            "{preset}: {:.0} images/s (cpu, batch {}, {} threads, {:.0} images/s per thread, {} batches)",
            r.images_per_second(),
            r.batch,
            r.threads,
            r.images_per_second_per_thread(),
            r.batches
        );
    }
    Ok(())
}
