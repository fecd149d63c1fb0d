//! `pixmix augment`: augmented samples of a folder of photos, and a contact sheet.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use pixmix::mixing_set::{list_files, load_rgb};
use pixmix::{Config, Dtype, MixingSet, PixMix, Preset, RgbImage};

use super::io::{NpyWriter, save_png};
use super::settings::{Layout, reorder};
use super::sheet::Sheet;
use super::{DeviceChoice, place};

/// Output format of the samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One PNG per sample, de-normalized to 8 bits.
    Png,
    /// One `augmented.npy` holding the normalized N x 3 x H x W tensor.
    Npy,
}

/// Arguments of `pixmix augment`.
#[derive(Args, Debug)]
pub struct AugmentArgs {
    /// Folder of training photos (searched recursively, used in sorted order).
    #[arg(long)]
    images: PathBuf,
    /// Folder of mixing pictures (searched recursively; e.g. the released fractal set).
    /// Without it, a procedural fractal set is generated (see --fractals).
    #[arg(long)]
    mixing: Option<PathBuf>,
    /// Size of the generated fractal set when no --mixing folder is given (as in Python).
    #[arg(long, default_value_t = 64)]
    fractals: usize,
    /// Preset: cifar (32x32) or imagenet (224x224).
    #[arg(long, default_value = "imagenet")]
    preset: Preset,
    /// Number of samples; the photos are cycled in order (default: one per photo).
    #[arg(long)]
    count: Option<usize>,
    /// Seed of the plans.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Png)]
    format: Format,
    /// Element type of the npy output: f32 (float32) or f16 (float16, half).
    #[arg(long, default_value = "f32")]
    dtype: Dtype,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Samples per batch.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Override the preset's maximum number of mixing rounds.
    #[arg(long)]
    k: Option<u32>,
    /// Override the preset's beta.
    #[arg(long, allow_negative_numbers = true)]
    beta: Option<f64>,
    /// Override the preset's severity (1 to 10).
    #[arg(long)]
    severity: Option<u32>,
    /// Draw from the nine default operators only (the presets use all 13).
    #[arg(long)]
    default_ops: bool,
    /// Settings beyond the preset's k, beta and severity.
    #[command(flatten)]
    settings: Box<super::settings::SettingsArgs>,
    /// Where PixMix runs (auto: the GPU when one is usable, as demo and fractals).
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
}

/// Columns of augmentations per photo on the contact sheet, and photos shown.
const SHEET_COLS: usize = 6;
const SHEET_ROWS: usize = 8;

/// Runs `pixmix augment`.
pub fn run(a: AugmentArgs) -> anyhow::Result<()> {
    let mut config = Config::preset(a.preset);
    if let Some(k) = a.k {
        config.k = k;
    }
    if let Some(beta) = a.beta {
        config.beta = beta;
    }
    if let Some(s) = a.severity {
        config.severity = s;
    }
    config.all_ops = !a.default_ops;
    a.settings.apply(&mut config)?;
    config.validate()?;
    super::check_device(a.device)?;
    anyhow::ensure!(a.batch > 0, "--batch must be at least 1");
    if a.format == Format::Npy && a.dtype == Dtype::Bf16 {
        bail!("npy has no bfloat16 type; use --dtype f32 or f16");
    }

    let photos = load_photos(&a.images)?;
    let count = a.count.unwrap_or(photos.len());
    anyhow::ensure!(count > 0, "--count must be at least 1");
    let mixing = match &a.mixing {
        Some(dir) => MixingSet::from_dir(dir, config.mixing_resize)?,
        None => {
            anyhow::ensure!(a.fractals > 0, "--fractals must be at least 1");
            let bar = ProgressBar::new(a.fractals as u64).with_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} fractals for the mixing set")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let set = MixingSet::fractals_with_progress(
                a.fractals,
                config.mixing_resize,
                a.seed,
                |done, _| bar.set_position(done as u64),
            )?;
            bar.finish_and_clear();
            set
        }
    };
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;

    let size = config.size;
    let (mean, std) = (config.mean, config.std);
    let mut pixmix = PixMix::new(config, mixing, a.seed)?;
    if let Some(t) = a.threads {
        pixmix = pixmix.with_threads(t)?;
    }
    let ran_on = place(&mut pixmix, a.device)?;
    let dtype = if a.format == Format::Npy {
        a.dtype
    } else {
        Dtype::F32
    };
    let mut npy = match a.format {
        Format::Npy => {
            let descr = if dtype == Dtype::F16 { "<f2" } else { "<f4" };
            Some(NpyWriter::create(
                &a.out.join("augmented.npy"),
                descr,
                &match a.settings.layout {
                    Layout::Nchw => [count, 3, size, size],
                    Layout::Nhwc => [count, size, size, 3],
                },
            )?)
        }
        Format::Png => None,
    };

    let sheet_rows = photos.len().min(SHEET_ROWS);
    let mut sheet = Sheet::new(sheet_rows, SHEET_COLS + 1, size.max(96))?;
    let mut sheet_filled = vec![0usize; sheet_rows];
    for (r, (_, photo)) in photos.iter().take(sheet_rows).enumerate() {
        sheet.put(r, 0, photo)?;
    }

    let bar = ProgressBar::new(count as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} samples, {rate}, eta {eta}")
            .map(|s| s.with_key("rate", super::rate))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut sources = String::new();
    let started = std::time::Instant::now();
    let mut done = 0;
    while done < count {
        let n = a.batch.min(count - done);
        let indices: Vec<usize> = (done..done + n).map(|i| i % photos.len()).collect();
        let batch: Vec<RgbImage> = indices.iter().map(|&i| photos[i].1.clone()).collect();
        let tensor = pixmix.augment(&batch, dtype)?;
        let values = tensor.to_f32_vec();
        if let Some(npy) = npy.as_mut() {
            let elem = dtype.size();
            npy.append(&reorder(
                tensor.as_bytes(),
                n,
                size,
                elem,
                a.settings.layout,
            ))?;
        }
        for (j, &src) in indices.iter().enumerate() {
            let index = done + j;
            let stem = photos[src]
                .0
                .file_stem()
                .map_or("image".into(), |s| s.to_string_lossy());
            sources.push_str(&format!("{index}\t{}\n", photos[src].0.display()));
            let needs_picture =
                a.format == Format::Png || (src < sheet_rows && sheet_filled[src] < SHEET_COLS);
            if !needs_picture {
                continue;
            }
            let pic = denormalize(&values, size, j, mean, std)?;
            if a.format == Format::Png {
                save_png(&pic, &a.out.join(format!("{index:06}-{stem}.png")))?;
            }
            if src < sheet_rows && sheet_filled[src] < SHEET_COLS {
                sheet_filled[src] += 1;
                sheet.put(src, sheet_filled[src], &pic)?;
            }
        }
        done += n;
        bar.set_position(done as u64);
    }
    bar.finish_and_clear();
    if let Some(npy) = npy {
        npy.finish()?;
    }
    std::fs::write(a.out.join("sources.tsv"), sources)?;
    save_png(&sheet.into_image(), &a.out.join("contact-sheet.png"))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "wrote {count} {} samples of {} photos to {} ({:.0} samples/s on {ran_on}), contact-sheet.png beside them",
        a.preset,
        photos.len(),
        a.out.display(),
        count as f64 / secs.max(1e-9)
    );
    Ok(())
}

/// Every decodable image under `dir`, sorted by path; unreadable files are reported once.
fn load_photos(dir: &std::path::Path) -> anyhow::Result<Vec<(PathBuf, RgbImage)>> {
    anyhow::ensure!(dir.is_dir(), "{} is not a folder", dir.display());
    let mut photos = Vec::new();
    let mut skipped = Vec::new();
    for path in list_files(dir)? {
        match load_rgb(&path) {
            Ok(img) => photos.push((path, img)),
            Err(e) => skipped.push(e.to_string()),
        }
    }
    if let Some(first) = skipped.first() {
        eprintln!(
            "warning: skipped {} unreadable files under {} (first: {first})",
            skipped.len(),
            dir.display()
        );
    }
    anyhow::ensure!(
        !photos.is_empty(),
        "no usable image under {}",
        dir.display()
    );
    Ok(photos)
}

/// Sample `i` of NCHW values (side `size`) back to 8-bit RGB: `round((x * std + mean) * 255)`.
pub fn denormalize(
    values: &[f32],
    size: usize,
    i: usize,
    mean: [f32; 3],
    std: [f32; 3],
) -> anyhow::Result<RgbImage> {
    let (h, w) = (size, size);
    let plane = h * w;
    let sample = &values[i * 3 * plane..(i + 1) * 3 * plane];
    let mut data = vec![0u8; plane * 3];
    for p in 0..plane {
        for c in 0..3 {
            let v = (sample[c * plane + p] * std[c] + mean[c]) * 255.0;
            data[p * 3 + c] = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    Ok(RgbImage::new(w, h, data)?)
}
