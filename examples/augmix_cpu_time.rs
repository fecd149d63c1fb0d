//! The CPU time one AugMix sample takes on one thread: the released defaults of a preset,
//! the inputs and plans of `pixmix bench --method augmix`, batches of 64 on a pool of one
//! thread whose CPU time (`CLOCK_THREAD_CPUTIME_ID`) is summed around the executor's calls
//! (planning and setup excluded). The machine's other load slows this figure less than it
//! slows wall-clock time; `tools/augmix_baseline.py` prints the released loop's alike.
//!
//!     cargo run --release --example augmix_cpu_time [cifar|imagenet] [batches] [into|fresh]
//!
//! `into` (the default) writes every batch into one buffer, as the bench does; `fresh`
//! takes a new tensor per batch (`AugMixExecutor::augment`), whose first writes add the
//! kernel's page faults.

use pixmix::{AugMixConfig, AugMixExecutor, AugMixPlanner, Dtype, Preset, RgbImage};

/// This thread's CPU time in seconds.
fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn main() -> pixmix::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let preset: Preset = args.get(1).map_or("imagenet", |s| s.as_str()).parse()?;
    let batches: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
    let fresh = args.get(3).is_some_and(|s| s == "fresh");
    let batch = 64;
    let config = AugMixConfig::preset(preset);
    let (images, _) = pixmix::bench::bench_inputs(&config.base, preset, batch)?;
    let sizes = RgbImage::sizes(&images);
    let mut planner = AugMixPlanner::new(&config, 0)?;
    // An executor on the current pool: the one thread of this one, measured from inside.
    let exec = AugMixExecutor::new(&config)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("one thread");
    let s = config.base.size;
    let mut out = vec![0f32; batch * 3 * s * s];
    let (cpu, wall) = pool.install(|| -> pixmix::Result<(f64, f64)> {
        let (mut cpu, mut wall) = (0.0, 0.0);
        // One warm-up batch, then the counted ones.
        for b in 0..=batches {
            let plans = planner.plan(&sizes)?;
            let (c0, w0) = (thread_cpu_seconds(), std::time::Instant::now());
            if fresh {
                std::hint::black_box(exec.augment(&plans, &images, Dtype::F32)?);
            } else {
                exec.augment_into(&plans, &images, &mut out)?;
                std::hint::black_box(&out);
            }
            if b > 0 {
                cpu += thread_cpu_seconds() - c0;
                wall += w0.elapsed().as_secs_f64();
            }
        }
        Ok((cpu, wall))
    })?;
    let n = (batches * batch) as f64;
    println!(
        "{preset} augmix ({}): {:.4} ms of CPU time an image ({:.0} images/s of CPU time), {:.0} images/s wall",
        if fresh { "fresh tensors" } else { "one buffer" },
        1e3 * cpu / n,
        n / cpu,
        n / wall
    );
    Ok(())
}
