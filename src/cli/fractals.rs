//! `pixmix fractals`: the procedural mixing set, as PNGs and a contact sheet.

use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
#[cfg(feature = "cuda")]
use pixmix::cuda::CudaDevice;
#[cfg(feature = "cuda")]
use pixmix::cuda::fractal::generate_each_on_device;
use pixmix::fractal::{FractalSettings, generate_each};

use super::io::{OutDir, escape_path, save_png, write_atomic};
use super::sheet::Sheet;
use super::{DeviceChoice, Stop, real, whole};

/// Arguments of `pixmix fractals`.
#[derive(Args, Debug)]
#[command(allow_negative_numbers = true)]
pub struct FractalsArgs {
    /// Number of pictures (64, as `augment --fractals` and Python generate; each is written
    /// when done; at most 1,000,000).
    #[arg(long, default_value_t = 64, value_parser = whole::<usize>(1, pixmix::fractal::MAX_COUNT as i128))]
    count: usize,
    /// Side of the square pictures (8 to 4096).
    #[arg(long, default_value_t = 256, value_parser = whole::<usize>(8, 4096))]
    size: usize,
    /// Seed: the same seed gives the same pictures.
    #[arg(long, default_value_t = 0, value_parser = whole::<u64>(0, u64::MAX as i128))]
    seed: u64,
    /// Plotted points per pixel of the final render.
    #[arg(long, default_value_t = 25.0, value_parser = real(0.0, 10_000.0))]
    quality: f64,
    /// Where the flames are rendered (the GPU gives the same pictures; both write each
    /// picture when it is done).
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
    /// Output folder (created if missing). A folder holding an earlier run's files is an
    /// error unless --overwrite is given; two runs cannot write into one folder at once.
    #[arg(long)]
    out: PathBuf,
    /// Remove an earlier run's files from --out (fractals, sheet, fractals.tsv) first.
    #[arg(long)]
    overwrite: bool,
}

/// Pictures shown on the contact sheet (the first ones).
const SHEET_MAX: usize = 64;

/// Whether `name` is a file `pixmix fractals` writes into its output folder.
fn is_fractals_output(name: &str) -> bool {
    matches!(name, "fractals.tsv" | "contact-sheet.png")
        || name
            .strip_prefix("fractal-")
            .and_then(|n| n.strip_suffix(".png"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Runs `pixmix fractals`.
pub fn run(a: FractalsArgs) -> anyhow::Result<()> {
    let mut settings = FractalSettings::new(a.size);
    settings.quality = a.quality;
    settings.validate()?;
    let mut out = OutDir::open(&a.out, a.overwrite, is_fractals_output)?;
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
    let shown = a.count.min(SHEET_MAX);
    let cols = (shown as f64).sqrt().ceil() as usize;
    let rows = shown.div_ceil(cols);
    let mut sheet = Sheet::new(rows, cols, a.size.min(160))?;
    out.remove_earlier()?;
    let stop = Stop::catch()?;
    let mut index = String::new();
    let mut written = 0;
    let mut write = |i: usize, pic: &pixmix::RgbImage| -> anyhow::Result<()> {
        stop.check(|| {
            format!(
                "wrote {i} of {} fractals to {}; the run is incomplete (no fractals.tsv)",
                a.count,
                a.out.display()
            )
        })?;
        let name = format!("fractal-{i:05}.png");
        save_png(pic, &out.join(&name))?;
        index.push_str(&format!("{i}\t{name}\n"));
        if i < shown {
            sheet.put(i / cols, i % cols, pic)?;
        }
        written = i + 1;
        Ok(())
    };
    let (stats, ran_on) = match gpu {
        #[cfg(not(feature = "cuda"))]
        Ok(never) => match never {},
        #[cfg(feature = "cuda")]
        Ok(device) => {
            let mut failed = None;
            let stats =
                generate_each_on_device(&device, a.count, &settings, a.seed, report, |i, pic| {
                    write(i, &pic).map_err(|e| {
                        let why = pixmix::Error::Input(e.to_string());
                        failed = Some(e);
                        why
                    })
                });
            if let Some(e) = failed {
                return Err(e);
            }
            (stats?, format!("cuda ({})", device.info().name))
        }
        Err(why) => {
            let mut failed = None;
            let stats = generate_each(a.count, &settings, a.seed, report, |i, pic| {
                match write(i, &pic) {
                    Ok(()) => Ok(true),
                    Err(e) => {
                        failed = Some(e);
                        Ok(false)
                    }
                }
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
            let on = if a.device == DeviceChoice::Cpu {
                "cpu".to_string()
            } else {
                format!("cpu ({why})")
            };
            (stats, on)
        }
    };
    bar.finish_and_clear();
    anyhow::ensure!(
        written == a.count,
        "only {written} of {} fractals written",
        a.count
    );
    save_png(&sheet.into_image(), &out.join("contact-sheet.png"))?;
    // Last: the run is complete exactly when fractals.tsv exists.
    let manifest = format!(
        "# pixmix fractals, a complete run: seed {}, count {}, size {}, quality {}\n\
         # command: {}\n\
         # index\tfile\n{index}",
        a.seed,
        a.count,
        a.size,
        a.quality,
        std::env::args_os()
            .map(|s| escape_path(Path::new(&s)))
            .collect::<Vec<_>>()
            .join(" ")
    );
    write_atomic(&out.join("fractals.tsv"), |f| {
        use std::io::Write;
        Ok(f.write_all(manifest.as_bytes())?)
    })?;
    // The CUDA driver emulator's pace is no GPU's.
    #[cfg(feature = "cuda")]
    let emulated = ran_on.starts_with("cuda") && pixmix::cuda::emulator::is_emulated();
    #[cfg(not(feature = "cuda"))]
    let emulated = false;
    let rate = if emulated {
        "no rate: emulated CUDA".to_string()
    } else {
        format!(
            "{:.2} fractals/s",
            stats.accepted as f64 / stats.seconds.max(1e-9)
        )
    };
    println!(
        "wrote {} fractals ({}x{}, quality {}) to {}: {} accepted, {} rejected ({:.0}% accepted; {}), {rate} on {ran_on}",
        stats.accepted,
        a.size,
        a.size,
        a.quality,
        a.out.display(),
        stats.accepted,
        stats.rejected,
        100.0 * stats.acceptance_rate(),
        stats.rejection_summary(),
    );
    Ok(())
}
