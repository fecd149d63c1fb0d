//! `pixmix fractals`: the procedural mixing set, as PNGs and a contact sheet.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
#[cfg(feature = "cuda")]
use pixmix::cuda::CudaDevice;
#[cfg(feature = "cuda")]
use pixmix::cuda::fractal::{download, generate_on_device};
use pixmix::fractal::{FractalSettings, generate};

use super::DeviceChoice;
use super::io::save_png;
use super::sheet::Sheet;

/// Arguments of `pixmix fractals`.
#[derive(Args, Debug)]
pub struct FractalsArgs {
    /// Number of pictures (64, as `augment --fractals` and Python generate).
    #[arg(long, default_value_t = 64)]
    count: usize,
    /// Side of the square pictures.
    #[arg(long, default_value_t = 256)]
    size: usize,
    /// Seed: the same seed gives the same pictures.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Plotted points per pixel of the final render.
    #[arg(long, default_value_t = 25.0)]
    quality: f64,
    /// Where the flames are rendered (the GPU gives the same pictures).
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
}

/// Runs `pixmix fractals`.
pub fn run(a: FractalsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.count > 0, "--count must be at least 1");
    let mut settings = FractalSettings::new(a.size);
    settings.quality = a.quality;
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let bar = ProgressBar::new(a.count as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} fractals {msg}, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report = |accepted: usize, tried: usize| {
        bar.set_position(accepted as u64);
        bar.set_message(format!("({tried} genomes tried)"));
    };
    #[cfg(feature = "cuda")]
    let gpu = match a.device {
        DeviceChoice::Cpu => Err("--device cpu".to_string()),
        DeviceChoice::Cuda => Ok(CudaDevice::new(0)?),
        DeviceChoice::Auto => CudaDevice::new(0).map_err(|e| e.to_string()),
    };
    #[cfg(not(feature = "cuda"))]
    let gpu: Result<std::convert::Infallible, String> = match a.device {
        DeviceChoice::Cpu => Err("--device cpu".to_string()),
        DeviceChoice::Cuda => anyhow::bail!("pixmix was built without the `cuda` feature"),
        DeviceChoice::Auto => Err("built without the `cuda` feature".to_string()),
    };
    let (pictures, stats, ran_on) = match gpu {
        #[cfg(not(feature = "cuda"))]
        Ok(never) => match never {},
        #[cfg(feature = "cuda")]
        Ok(device) => {
            let (buffer, stats) = generate_on_device(&device, a.count, &settings, a.seed, report)?;
            let pictures = download(&device, &buffer, a.count, a.size)?;
            (pictures, stats, format!("cuda ({})", device.info().name))
        }
        Err(why) => {
            let (pictures, stats) = generate(a.count, &settings, a.seed, report)?;
            let on = if a.device == DeviceChoice::Cpu {
                "cpu".to_string()
            } else {
                format!("cpu ({why})")
            };
            (pictures, stats, on)
        }
    };
    bar.finish_and_clear();
    let cols = (a.count as f64).sqrt().ceil() as usize;
    let rows = a.count.div_ceil(cols);
    let mut sheet = Sheet::new(rows, cols, a.size.min(160))?;
    for (i, pic) in pictures.iter().enumerate() {
        save_png(pic, &a.out.join(format!("fractal-{i:05}.png")))?;
        sheet.put(i / cols, i % cols, pic)?;
    }
    save_png(&sheet.into_image(), &a.out.join("contact-sheet.png"))?;
    println!(
        "wrote {} fractals ({}x{}, quality {}) to {}: {} accepted, {} rejected ({:.0}% accepted; {}), {:.2} fractals/s on {ran_on}",
        stats.accepted,
        a.size,
        a.size,
        a.quality,
        a.out.display(),
        stats.accepted,
        stats.rejected,
        100.0 * stats.acceptance_rate(),
        stats.rejection_summary(),
        stats.accepted as f64 / stats.seconds.max(1e-9)
    );
    Ok(())
}
