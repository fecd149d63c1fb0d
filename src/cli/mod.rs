//! Subcommands of the `pixmix` command line.

mod augment;
mod bench;
mod demo;
mod fractals;
mod io;
mod op;
mod settings;
mod sheet;

use clap::{Parser, Subcommand, ValueEnum};
use pixmix::PixMix;

/// PixMix data augmentation: Pillow-exact operators, seeded plans, fast batch executors.
#[derive(Parser, Debug)]
#[command(name = "pixmix", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show PixMix on the bundled photos with a generated fractal set; needs no input.
    Demo(demo::DemoArgs),
    /// Apply one base operator with an explicit parameter to one image.
    Op(op::OpArgs),
    /// Write augmented samples of a folder of photos, and a contact sheet.
    Augment(augment::AugmentArgs),
    /// Measure the throughput of the CPU or CUDA path.
    Bench(bench::BenchArgs),
    /// Generate procedural fractal mixing pictures.
    Fractals(fractals::FractalsArgs),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Op(a) => op::run(a),
        Command::Augment(a) => augment::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Fractals(a) => fractals::run(a),
    }
}

/// A progress bar's rate as a person reads it: "249/s" rather than "249.1673/s".
pub fn rate(state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write) {
    let _ = write!(w, "{}", per_second(state.per_sec()));
}

/// `per_sec` rounded for display: whole numbers from 10 a second up, one decimal below.
pub fn per_second(per_sec: f64) -> String {
    if per_sec >= 10.0 {
        format!("{per_sec:.0}/s")
    } else {
        format!("{per_sec:.1}/s")
    }
}

/// "1 thread", "2 threads".
pub fn threads(n: usize) -> String {
    format!("{n} thread{}", if n == 1 { "" } else { "s" })
}

/// Where PixMix runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DeviceChoice {
    /// CUDA when a GPU is usable, else the CPU.
    Auto,
    /// The CPU path.
    Cpu,
    /// The CUDA path (an error without a GPU).
    Cuda,
}

/// Fails at once for `--device cuda` where no GPU is usable, before any work is done.
pub fn check_device(choice: DeviceChoice) -> anyhow::Result<()> {
    if choice == DeviceChoice::Cuda {
        #[cfg(feature = "cuda")]
        pixmix::cuda::CudaDevice::new(0)?;
        #[cfg(not(feature = "cuda"))]
        anyhow::bail!("pixmix was built without the `cuda` feature");
    }
    Ok(())
}

/// Moves `pixmix` to the chosen device and says where it runs; with `Auto`, a GPU that is
/// not usable leaves it on the CPU, and the reason is part of the answer.
pub fn place(pixmix: &mut PixMix, choice: DeviceChoice) -> anyhow::Result<String> {
    match choice {
        DeviceChoice::Cpu => Ok("cpu".into()),
        DeviceChoice::Cuda => {
            pixmix.use_cuda(0)?;
            Ok(pixmix.device())
        }
        DeviceChoice::Auto => Ok(match pixmix.use_cuda(0) {
            Ok(()) => pixmix.device(),
            Err(e) => format!("cpu (no GPU: {e})"),
        }),
    }
}

/// [`place`] for AugMix.
pub fn place_augmix(augmix: &mut pixmix::AugMix, choice: DeviceChoice) -> anyhow::Result<String> {
    match choice {
        DeviceChoice::Cpu => Ok("cpu".into()),
        DeviceChoice::Cuda => {
            augmix.use_cuda(0)?;
            Ok(augmix.device())
        }
        DeviceChoice::Auto => Ok(match augmix.use_cuda(0) {
            Ok(()) => augmix.device(),
            Err(e) => format!("cpu (no GPU: {e})"),
        }),
    }
}

/// A value parser for whole numbers in `min..=max` whose messages name the broken bound
/// ("must be at least 1"), so negative or huge values are clean errors, never panics.
pub fn whole<T>(min: i128, max: i128) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync
where
    T: TryFrom<i128>,
{
    move |s: &str| {
        let v: i128 = match s.trim().parse() {
            Ok(v) => v,
            Err(_) if s.trim().parse::<f64>().is_ok() => {
                return Err(format!("must be a whole number in {min}..={max}"));
            }
            Err(_) => return Err(format!("is not a number (expected {min}..={max})")),
        };
        if v < min {
            return Err(format!("must be at least {min}"));
        }
        if v > max {
            return Err(format!("must be at most {max}"));
        }
        T::try_from(v).map_err(|_| format!("must be in {min}..={max}"))
    }
}

/// A value parser for real numbers in `min..=max` (finite), naming the broken bound.
pub fn real(min: f64, max: f64) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync {
    move |s: &str| {
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("is not a number (expected {min} to {max})"))?;
        if v.is_nan() {
            return Err(format!("must be a number from {min} to {max}"));
        }
        if v < min {
            return Err(format!("must be at least {min}"));
        }
        if v > max {
            return Err(format!("must be at most {max}"));
        }
        Ok(v)
    }
}

/// The most worker threads `--threads` accepts: four per core (see `pixmix::cpu::max_threads`).
pub fn max_threads() -> i128 {
    pixmix::cpu::max_threads() as i128
}

/// The most samples in one batch (`--batch`): 1,024 imagenet samples hold about 1.7 GB.
pub const MAX_BATCH: i128 = 1024;

/// A run stopped by SIGINT or SIGTERM; the process exits with 128 + the signal's number.
#[derive(Debug)]
pub struct Interrupted {
    /// The signal's number.
    pub signal: i32,
    /// What was done and what was not.
    pub message: String,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Interrupted {}

/// SIGINT and SIGTERM, caught from output's start: the run stops after the file it is
/// writing. A second signal of the same kind ends the process at once.
pub struct Stop {
    signal: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Stop {
    /// Starts catching SIGINT and SIGTERM.
    pub fn catch() -> anyhow::Result<Stop> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let signal = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for sig in [SIGINT, SIGTERM] {
            let seen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            // The order matters: the first signal only arms the shutdown, the second exits.
            signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, seen.clone())?;
            signal_hook::flag::register(sig, seen)?;
            signal_hook::flag::register_usize(sig, signal.clone(), sig as usize)?;
        }
        Ok(Stop { signal })
    }

    /// The signal received, if any.
    pub fn received(&self) -> Option<i32> {
        match self.signal.load(std::sync::atomic::Ordering::SeqCst) {
            0 => None,
            s => Some(s as i32),
        }
    }

    /// An [`Interrupted`] error when a signal came: `done` says what was written.
    pub fn check(&self, done: impl FnOnce() -> String) -> anyhow::Result<()> {
        match self.received() {
            None => Ok(()),
            Some(signal) => {
                let name = if signal == signal_hook::consts::SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                };
                Err(Interrupted {
                    signal,
                    message: format!("interrupted by {name}: {}", done()),
                }
                .into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{per_second, threads};

    #[test]
    fn rates_and_counts_read_as_words() {
        assert_eq!(per_second(249.1673), "249/s");
        assert_eq!(per_second(3.04), "3.0/s");
        assert_eq!(threads(1), "1 thread");
        assert_eq!(threads(2), "2 threads");
    }
}
