//! CPU throughput per preset, on one thread and on all cores: `cargo bench`.

use std::time::Duration;

use pixmix::Preset;
use pixmix::bench::measure_cpu;

fn main() -> Result<(), pixmix::Error> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
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
        }
    }
    Ok(())
}
