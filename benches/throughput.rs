//! Throughput per preset: the CPU path on one thread and on all cores, and the CUDA path
//! when a GPU is present (`cargo bench`).

use std::time::Duration;

use pixmix::bench::{measure_cpu, measure_cuda, measure_fractals};
use pixmix::{Dtype, Preset};

fn main() -> Result<(), pixmix::Error> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut cpu_one = Vec::new();
    for preset in Preset::ALL {
        for threads in [1, cores] {
            let r = measure_cpu(preset, 256, threads, Duration::from_secs(3))?;
            println!(
                "cpu {preset:>8} batch {:>4} threads {threads}: {:>9.0} images/s ({:.0} per thread; plan {:.1}%)",
                r.batch,
                r.images_per_second(),
                r.images_per_second_per_thread(),
                100.0 * r.plan_seconds / (r.plan_seconds + r.execute_seconds)
            );
            if threads == 1 {
                cpu_one.push(r.images_per_second());
            }
        }
    }
    let runs = [
        (Preset::Cifar, 256, Dtype::F32),
        (Preset::Cifar, 1024, Dtype::F32),
        (Preset::Cifar, 1024, Dtype::F16),
        (Preset::Imagenet, 256, Dtype::F16),
        (Preset::Imagenet, 256, Dtype::F32),
    ];
    for (preset, batch, dtype) in runs {
        match measure_cuda(preset, batch, dtype, 0, Duration::from_secs(2)) {
            Ok(r) => {
                let cpu = cpu_one[if preset == Preset::Cifar { 0 } else { 1 }];
                println!(
                    "cuda {preset:>8} batch {batch:>4} {}: {:>11.0} images/s on {}; fused kernel traffic {:.1} GB/s = {:.0}% of measured copy bandwidth {:.1} GB/s; {:.0}x one CPU thread here",
                    dtype.name(),
                    r.images_per_second(),
                    r.device,
                    r.fused_bandwidth() / 1e9,
                    100.0 * r.bandwidth_ratio(),
                    r.copy_bandwidth / 1e9,
                    r.images_per_second() / cpu
                );
            }
            Err(e) => {
                println!("cuda: skipped ({e})");
                break;
            }
        }
    }
    let (rate, stats) = measure_fractals(256, 24, None)?;
    println!(
        "cpu fractals 256x256 quality 25, {cores} threads: {rate:.2} fractals/s ({:.2} per thread; {:.0}% of genomes accepted)",
        rate / cores as f64,
        100.0 * stats.acceptance_rate()
    );
    match measure_fractals(256, 2048, Some(0)) {
        Ok((rate, stats)) => println!(
            "cuda fractals 256x256 quality 25: {rate:.0} fractals/s ({:.0}% of genomes accepted)",
            100.0 * stats.acceptance_rate()
        ),
        Err(e) => println!("cuda fractals: skipped ({e})"),
    }
    Ok(())
}
