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
