//! `pixmix augment`: augmented samples of a folder of photos, and a contact sheet.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use pixmix::augmix::{MAX_ALPHA, MAX_DEPTH, MAX_WIDTH, MIN_ALPHA};
use pixmix::mixing_set::{load_rgb, scan_dir, summarize};
use pixmix::{AugMix, AugMixConfig, Config, Dtype, MixingSet, PixMix, Preset, RgbImage, Tensor};
use rayon::prelude::*;

use super::io::{AtomicFile, NpyWriter, OutDir, escape_path, safe_stem, save_png};
use super::settings::{Layout, reorder};
use super::sheet::Sheet;
use super::{DeviceChoice, MAX_BATCH, Stop, max_threads, place, real, whole};

/// The most samples one run writes.
const MAX_COUNT: i128 = 1_000_000_000;
/// The most pictures of a generated fractal set (further bounded by --mixing-budget).
const MAX_FRACTALS: i128 = pixmix::fractal::MAX_COUNT as i128;
/// The default of --mixing-budget, in MiB.
const DEFAULT_MIXING_BUDGET_MIB: usize = pixmix::mixing_set::DEFAULT_MIXING_BUDGET >> 20;

/// Whether `name` is a file `pixmix augment` writes into its output folder.
fn is_augment_output(name: &str) -> bool {
    matches!(name, "sources.tsv" | "contact-sheet.png" | "augmented.npy")
        || (name.ends_with(".png")
            && name.len() > 7
            && name.as_bytes()[..6].iter().all(u8::is_ascii_digit)
            && name[6..]
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .starts_with('-'))
}

/// The augmentation `augment` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// PixMix (Hendrycks et al., CVPR 2022), with a mixing set.
    Pixmix,
    /// AugMix (Hendrycks et al., ICLR 2020); needs no mixing set.
    Augmix,
}

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
#[command(allow_negative_numbers = true)]
pub struct AugmentArgs {
    /// Folder of training photos (searched recursively, used in sorted order).
    #[arg(long)]
    images: PathBuf,
    /// The augmentation: pixmix, or augmix (its settings are --width, --depth, --alpha,
    /// --severity, --all-ops and --jsd).
    #[arg(long, value_enum, default_value_t = Method::Pixmix)]
    method: Method,
    /// AugMix: number of chains mixed (the released code's mixture_width, default 3).
    #[arg(long, value_parser = whole::<u32>(1, MAX_WIDTH as i128))]
    width: Option<u32>,
    /// AugMix: operators per chain, 1 to 3, or -1 for uniform in 1..=3 per chain (the
    /// released code's mixture_depth, default -1).
    #[arg(long, value_parser = depth, allow_negative_numbers = true)]
    depth: Option<i32>,
    /// AugMix: the Dirichlet and Beta concentration (mixture_alpha, default 1).
    #[arg(long, value_parser = real(MIN_ALPHA, MAX_ALPHA))]
    alpha: Option<f64>,
    /// AugMix: write the three views of the JSD loss per photo (clean, aug1, aug2): PNGs
    /// named -clean, -aug1 and -aug2, or an npy of count x 3 views x 3 x H x W.
    #[arg(long)]
    jsd: bool,
    /// Folder of mixing pictures (searched recursively; e.g. the released fractal set).
    /// Without it, a procedural fractal set is generated (see --fractals).
    #[arg(long)]
    mixing: Option<PathBuf>,
    /// Size of the generated fractal set when no --mixing folder is given (as in Python).
    #[arg(long, default_value_t = 64, value_parser = whole::<usize>(1, MAX_FRACTALS))]
    fractals: usize,
    /// Memory budget of the mixing set's resized pictures, in MiB; a --mixing folder that
    /// needs more is an error.
    #[arg(long, default_value_t = DEFAULT_MIXING_BUDGET_MIB, value_parser = whole::<usize>(1, 1 << 30))]
    mixing_budget: usize,
    /// Preset: cifar (32x32) or imagenet (224x224).
    #[arg(long, default_value = "imagenet")]
    preset: Preset,
    /// Number of samples; the photos are cycled in order (default: one per photo).
    #[arg(long, value_parser = whole::<usize>(1, MAX_COUNT))]
    count: Option<usize>,
    /// Seed of the plans.
    #[arg(long, default_value_t = 0, value_parser = whole::<u64>(0, u64::MAX as i128))]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Png)]
    format: Format,
    /// Element type of the npy output: f32 (float32) or f16 (float16, half).
    #[arg(long, default_value = "f32")]
    dtype: Dtype,
    /// Output folder (created if missing). A folder holding an earlier run's files is an
    /// error unless --overwrite is given; two runs cannot write into one folder at once.
    #[arg(long)]
    out: PathBuf,
    /// Remove an earlier run's files from --out (samples, npy, sheet, sources.tsv) first.
    #[arg(long)]
    overwrite: bool,
    /// Samples per batch (at most 1024).
    #[arg(long, default_value_t = 64, value_parser = whole::<usize>(1, MAX_BATCH))]
    batch: usize,
    /// Worker threads (default: all cores; at most four per core).
    #[arg(long, value_parser = whole::<usize>(1, max_threads()))]
    threads: Option<usize>,
    /// Override the preset's maximum number of mixing rounds.
    #[arg(long, value_parser = whole::<u32>(0, pixmix::config::MAX_K as i128))]
    k: Option<u32>,
    /// Override the preset's beta.
    #[arg(long, allow_negative_numbers = true)]
    beta: Option<f64>,
    /// Override the preset's severity (1 to 10).
    #[arg(long, value_parser = whole::<u32>(1, u32::MAX as i128))]
    severity: Option<u32>,
    /// Draw from the nine default operators only (PixMix's presets use all 13; AugMix's
    /// default).
    #[arg(long, conflicts_with = "all_ops")]
    default_ops: bool,
    /// Draw from all 13 operators (PixMix's default; AugMix's --all-ops).
    #[arg(long)]
    all_ops: bool,
    /// Settings beyond the preset's k, beta and severity.
    #[command(flatten)]
    settings: Box<super::settings::SettingsArgs>,
    /// Where PixMix or AugMix runs (auto: the GPU when one is usable, as demo and fractals).
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
}

/// Columns of augmentations per photo on the contact sheet, and photos shown.
const SHEET_COLS: usize = 6;
const SHEET_ROWS: usize = 8;

/// A photo of the input folder that passed the checks: only its path is kept between
/// batches; its pixels are decoded when a batch needs them.
struct Photo {
    path: PathBuf,
}

/// `--depth`: -1 or 1..=3.
fn depth(s: &str) -> Result<i32, String> {
    match whole::<i32>(-1, MAX_DEPTH as i128)(s)? {
        0 => Err(format!(
            "must be -1 (random in 1..=3) or in 1..={MAX_DEPTH}"
        )),
        d => Ok(d),
    }
}

/// The augmenter of a run.
enum Augmenter {
    PixMix(Box<PixMix>),
    /// With whether the JSD views are written.
    AugMix(Box<AugMix>, bool),
}

impl Augmenter {
    /// Output blocks per photo: 1, or 3 with the JSD views.
    fn views(&self) -> usize {
        match self {
            Augmenter::AugMix(_, true) => 3,
            _ => 1,
        }
    }

    /// The blocks of a batch of n photos: view v of photo j is block v * n + j.
    fn augment(&mut self, batch: &[RgbImage], dtype: Dtype) -> pixmix::Result<Tensor> {
        match self {
            Augmenter::PixMix(p) => p.augment(batch, dtype),
            Augmenter::AugMix(a, false) => a.augment(batch, dtype),
            Augmenter::AugMix(a, true) => a.augment_jsd(batch, dtype),
        }
    }
}

/// Runs `pixmix augment`.
pub fn run(a: AugmentArgs) -> anyhow::Result<()> {
    let augmix = a.method == Method::Augmix;
    if augmix {
        let pixmix_only = [
            ("--mixing", a.mixing.is_some()),
            ("--k", a.k.is_some()),
            ("--beta", a.beta.is_some()),
        ];
        if let Some((flag, _)) = pixmix_only.iter().find(|(_, given)| *given) {
            bail!("{flag} belongs to --method pixmix; AugMix runs without a mixing set");
        }
    } else {
        let augmix_only = [
            ("--width", a.width.is_some()),
            ("--depth", a.depth.is_some()),
            ("--alpha", a.alpha.is_some()),
            ("--jsd", a.jsd),
        ];
        if let Some((flag, _)) = augmix_only.iter().find(|(_, given)| *given) {
            bail!("{flag} belongs to --method augmix");
        }
    }
    let mut am = AugMixConfig::preset(a.preset);
    let mut config = if augmix {
        am.base.clone()
    } else {
        Config::preset(a.preset)
    };
    if let Some(k) = a.k {
        config.k = k;
    }
    if let Some(beta) = a.beta {
        config.beta = beta;
    }
    if let Some(s) = a.severity {
        config.severity = s;
    }
    config.all_ops = if augmix { a.all_ops } else { !a.default_ops };
    a.settings.apply(&mut config)?;
    if augmix {
        am.base = config.clone();
        am.width = a.width.unwrap_or(am.width);
        am.depth = a.depth.unwrap_or(am.depth);
        am.alpha = a.alpha.unwrap_or(am.alpha);
        am.validate()?;
    } else {
        config.validate()?;
    }
    super::check_device(a.device)?;
    if a.format == Format::Npy && a.dtype == Dtype::Bf16 {
        bail!("npy has no bfloat16 type; use --dtype f32 or f16");
    }
    let budget = a.mixing_budget.saturating_mul(1 << 20);
    if a.mixing.is_none() && !augmix {
        let need = a.fractals as u128 * (config.mixing_resize as u128).pow(2) * 3;
        if need > budget as u128 {
            bail!(
                "--fractals {} at {side}x{side} needs {} MiB, more than --mixing-budget {} MiB; \
                 raise --mixing-budget or use fewer fractals",
                a.fractals,
                need >> 20,
                a.mixing_budget,
                side = config.mixing_resize,
            );
        }
    }

    // The output folder first: an earlier or a concurrent run is found before any work.
    let mut out = OutDir::open(&a.out, a.overwrite, is_augment_output)?;
    let photos = check_photos(&a.images, &config, a.count)?;
    let count = a.count.unwrap_or(photos.len());
    let mixing = match &a.mixing {
        _ if augmix => None,
        Some(dir) => Some(MixingSet::from_dir_with_budget(
            dir,
            config.mixing_resize,
            budget,
            |_, _| {},
        )?),
        None => {
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
            Some(set)
        }
    };

    let size = config.size;
    let (mean, std) = (config.mean, config.std);
    let (mut augmenter, ran_on) = match mixing {
        Some(mixing) => {
            let mut pixmix = PixMix::new(config, mixing, a.seed)?;
            if let Some(t) = a.threads {
                pixmix = pixmix.with_threads(t)?;
            }
            let ran_on = place(&mut pixmix, a.device)?;
            (Augmenter::PixMix(Box::new(pixmix)), ran_on)
        }
        None => {
            let mut augmix = AugMix::new(am, a.seed)?;
            if let Some(t) = a.threads {
                augmix = augmix.with_threads(t)?;
            }
            let ran_on = super::place_augmix(&mut augmix, a.device)?;
            (Augmenter::AugMix(Box::new(augmix), a.jsd), ran_on)
        }
    };
    let views = augmenter.views();
    let view_names: &[&str] = if views == 3 {
        &["-clean", "-aug1", "-aug2"]
    } else {
        &[""]
    };
    let dtype = if a.format == Format::Npy {
        a.dtype
    } else {
        Dtype::F32
    };
    let sheet_rows = photos.len().min(SHEET_ROWS);
    let mut sheet = Sheet::new(sheet_rows, SHEET_COLS + 1, size.max(96))?;
    let mut sheet_filled = vec![0usize; sheet_rows];
    for (r, photo) in photos.iter().take(sheet_rows).enumerate() {
        sheet.put(r, 0, &load_rgb(&photo.path)?)?;
    }

    // Output starts: from here a signal stops the run after the file being written.
    out.remove_earlier()?;
    let stop = Stop::catch()?;
    let mut npy = match a.format {
        Format::Npy => {
            let descr = if dtype == Dtype::F16 { "<f2" } else { "<f4" };
            let sample = match a.settings.layout {
                Layout::Nchw => [3, size, size],
                Layout::Nhwc => [size, size, 3],
            };
            let shape: Vec<usize> = match views {
                1 => [&[count][..], &sample].concat(),
                _ => [&[count, views][..], &sample].concat(),
            };
            Some(NpyWriter::create(
                &out.join("augmented.npy"),
                descr,
                &shape,
            )?)
        }
        Format::Png => None,
    };
    let bar = ProgressBar::new(count as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} samples, {rate}, eta {eta}")
            .map(|s| s.with_key("rate", super::rate))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // Streamed to a temporary file, so memory does not grow with --count.
    let mut sources = AtomicFile::create(&out.join("sources.tsv"))?;
    sources.write(&format!(
        "# pixmix augment, a complete run: preset {}, seed {}, count {count}, format {}, \
         method {}{}\n\
         # command: {}\n\
         # index\tphoto (\\\\, \\t, \\n, \\r and \\xHH escaped)\n",
        a.preset,
        a.seed,
        match a.format {
            Format::Png => "png",
            Format::Npy => "npy",
        },
        if augmix { "augmix" } else { "pixmix" },
        if views == 3 {
            " (JSD views clean, aug1, aug2)"
        } else {
            ""
        },
        std::env::args_os()
            .map(|s| escape_path(Path::new(&s)))
            .collect::<Vec<_>>()
            .join(" ")
    ))?;
    let incomplete = |written: usize, what: &str| {
        format!(
            "wrote {written} of {count} {what} to {}; the run is incomplete (no sources.tsv)",
            a.out.display()
        )
    };
    let started = std::time::Instant::now();
    let mut done = 0;
    while done < count {
        let n = a.batch.min(count - done);
        let indices: Vec<usize> = (done..done + n).map(|i| i % photos.len()).collect();
        let batch: Vec<RgbImage> = indices
            .par_iter()
            .map(|&i| load_rgb(&photos[i].path))
            .collect::<Result<_, _>>()?;
        stop.check(|| incomplete(done, "samples"))?;
        let tensor = augmenter.augment(&batch, dtype)?;
        drop(batch);
        let values = tensor.to_f32_vec();
        // Block v * n + j holds view v of photo j.
        let block = |j: usize, v: usize| v * n + j;
        if let Some(npy) = npy.as_mut() {
            let elem = dtype.size();
            let per = 3 * size * size * elem;
            let bytes = tensor.as_bytes();
            // Photo-major: the views of a photo next to each other.
            let ordered: Vec<u8> = (0..n)
                .flat_map(|j| (0..views).map(move |v| block(j, v)))
                .flat_map(|b| &bytes[b * per..(b + 1) * per])
                .copied()
                .collect();
            npy.append(&reorder(&ordered, n * views, size, elem, a.settings.layout))?;
        }
        for (j, &src) in indices.iter().enumerate() {
            let index = done + j;
            sources.write(&format!("{index}\t{}\n", escape_path(&photos[src].path)))?;
            let needs_picture =
                a.format == Format::Png || (src < sheet_rows && sheet_filled[src] < SHEET_COLS);
            if !needs_picture {
                continue;
            }
            for (v, suffix) in view_names.iter().enumerate() {
                let pic = denormalize(&values, size, block(j, v), mean, std)?;
                if a.format == Format::Png {
                    stop.check(|| incomplete(index, "samples"))?;
                    let stem = safe_stem(&photos[src].path);
                    save_png(&pic, &out.join(&format!("{index:06}-{stem}{suffix}.png")))?;
                }
                // The sheet shows augmented views only.
                let augmented = views == 1 || v > 0;
                if augmented && src < sheet_rows && sheet_filled[src] < SHEET_COLS {
                    sheet_filled[src] += 1;
                    sheet.put(src, sheet_filled[src], &pic)?;
                }
            }
        }
        done += n;
        bar.set_position(done as u64);
    }
    bar.finish_and_clear();
    let written = if a.format == Format::Png { count } else { 0 };
    stop.check(|| incomplete(written, "samples"))?;
    if let Some(npy) = npy {
        npy.finish()?;
    }
    stop.check(|| format!("{}, augmented.npy complete", incomplete(count, "samples")))?;
    save_png(&sheet.into_image(), &out.join("contact-sheet.png"))?;
    // Last: the run is complete exactly when sources.tsv exists.
    sources.finish()?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "wrote {count} {}{} samples{} of {} photos to {} ({:.0} samples/s on {ran_on}), contact-sheet.png beside them",
        a.preset,
        if augmix { " augmix" } else { "" },
        if views == 3 {
            " (3 JSD views each)"
        } else {
            ""
        },
        photos.len(),
        a.out.display(),
        count as f64 / secs.max(1e-9)
    );
    Ok(())
}

/// The photos under `dir` that can serve the preset, in sorted order, found before any
/// output: each is decoded once (and dropped) and its size checked against the crop.
/// Photos that cannot serve are skipped with a warning naming each; with `count` given,
/// only as many photos as the run uses are checked.
fn check_photos(dir: &Path, config: &Config, count: Option<usize>) -> anyhow::Result<Vec<Photo>> {
    anyhow::ensure!(dir.is_dir(), "{} is not a folder", dir.display());
    let listing = scan_dir(dir)?;
    let wanted = count.unwrap_or(usize::MAX);
    let mut photos = Vec::new();
    let mut skipped = listing.skipped.clone();
    let chunk = 8 * rayon::current_num_threads().max(1);
    for paths in listing.files.chunks(chunk) {
        if photos.len() >= wanted {
            break;
        }
        let checked: Vec<Result<(), String>> = paths
            .par_iter()
            .map(|path| {
                let img = load_rgb(path).map_err(|e| e.to_string())?;
                config
                    .check_image_size(0, img.width(), img.height())
                    .map_err(|_| {
                        format!(
                            "{}: {}x{} is smaller than the {crop}x{crop} crop{}",
                            path.display(),
                            img.width(),
                            img.height(),
                            match config.train {
                                pixmix::TrainTransform::FlipPadCrop { padding } =>
                                    format!(" even with padding {padding}"),
                                _ => String::new(),
                            },
                            crop = config.size,
                        )
                    })
            })
            .collect();
        for (path, result) in paths.iter().zip(checked) {
            match result {
                Ok(()) => photos.push(Photo { path: path.clone() }),
                Err(why) => skipped.push((path.clone(), why)),
            }
        }
    }
    if !skipped.is_empty() {
        eprintln!(
            "warning: skipped {} entries under {} that cannot serve as photos ({}):",
            skipped.len(),
            dir.display(),
            summarize(&skipped)
        );
        for (path, why) in &skipped {
            if why.starts_with(&path.display().to_string()) {
                eprintln!("  {why}");
            } else {
                eprintln!("  {}: {why}", path.display());
            }
        }
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
