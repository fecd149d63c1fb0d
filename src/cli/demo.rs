//! `pixmix demo`: no input needed. The bundled photos, a freshly generated fractal set,
//! several PixMix results of each photo and a row of AugMix results, in one picture.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use pixmix::mixing_set::resize_shorter;
use pixmix::{AugMix, AugMixConfig, Config, Dtype, MixingSet, PixMix, Preset, RgbImage};

use super::io::save_png;
use super::sheet::Sheet;
use super::{DeviceChoice, place, place_augmix};

/// The sample photos, built into the binary so the demo runs anywhere.
const PHOTOS: [(&str, &[u8]); 4] = [
    (
        "astronaut",
        include_bytes!("../../assets/photos/astronaut.jpg"),
    ),
    ("chelsea", include_bytes!("../../assets/photos/chelsea.jpg")),
    ("coffee", include_bytes!("../../assets/photos/coffee.jpg")),
    ("rocket", include_bytes!("../../assets/photos/rocket.jpg")),
];

/// Arguments of `pixmix demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where PixMix and AugMix run (the fractals are rendered on the CPU).
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
    /// Output picture.
    #[arg(long, default_value = "pixmix-demo.png")]
    out: PathBuf,
    /// Seed of the fractals and the plans.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true,
          value_parser = super::whole::<u64>(0, u64::MAX as i128))]
    seed: u64,
}

const RESULTS_PER_PHOTO: usize = 6;
const FRACTALS: usize = 12;

/// Runs `pixmix demo`.
pub fn run(a: DemoArgs) -> anyhow::Result<()> {
    super::check_device(a.device)?;
    let config = Config::preset(Preset::Imagenet);
    let photos = PHOTOS
        .iter()
        .map(|(name, bytes)| {
            let img = image::load_from_memory(bytes)
                .with_context(|| format!("decoding the bundled {name}"))?;
            Ok(RgbImage::from_image_crate(img.to_rgb8())?)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;

    let started = std::time::Instant::now();
    let bar = ProgressBar::new(FRACTALS as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} fractals {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mixing = MixingSet::fractals_with_progress(
        FRACTALS,
        config.mixing_resize,
        a.seed,
        |done, tried| {
            bar.set_position(done as u64);
            bar.set_message(format!("({tried} genomes tried)"));
        },
    )?;
    bar.finish_and_clear();
    let fractal_seconds = started.elapsed().as_secs_f64();

    // Every photo RESULTS_PER_PHOTO times, in one batch.
    let batch: Vec<RgbImage> = photos
        .iter()
        .flat_map(|p| std::iter::repeat_n(p.clone(), RESULTS_PER_PHOTO))
        .collect();
    let mut pixmix = PixMix::new(config.clone(), mixing, a.seed)?;
    let ran_on = place(&mut pixmix, a.device)?;
    let tensor = pixmix.augment(&batch, Dtype::F32)?;
    let mixing = pixmix.mixing();
    // The last row: AugMix (released imagenet defaults) on the first photo.
    let mut augmix = AugMix::new(AugMixConfig::preset(Preset::Imagenet), a.seed)?;
    place_augmix(&mut augmix, a.device)?;
    let augmixed = augmix
        .augment(&batch[..RESULTS_PER_PHOTO], Dtype::F32)?
        .to_f32_vec();

    // Row 0: the photos; then every mixing picture; then one row of results per photo;
    // then the AugMix row.
    let cols = RESULTS_PER_PHOTO + 1;
    let mixing_rows = mixing.len().div_ceil(cols);
    let first = 1 + mixing_rows;
    let mut sheet = Sheet::new(first + photos.len() + 1, cols, 200)?;
    for (i, photo) in photos.iter().enumerate() {
        sheet.put(0, i, photo)?;
    }
    for i in 0..mixing.len() {
        let pic = mixing
            .picture(i)
            .map(|p| RgbImage::new(p.width, p.height, p.data.to_vec()));
        if let Some(pic) = pic {
            sheet.put(1 + i / cols, i % cols, &pic?)?;
        }
    }
    let values = tensor.to_f32_vec();
    let s = config.size;
    for (p, photo) in photos.iter().enumerate() {
        sheet.put(first + p, 0, &resize_shorter(photo, s)?)?;
        for r in 0..RESULTS_PER_PHOTO {
            let k = p * RESULTS_PER_PHOTO + r;
            sheet.put(
                first + p,
                1 + r,
                &super::augment::denormalize(&values, s, k, config.mean, config.std)?,
            )?;
        }
    }
    let last = first + photos.len();
    sheet.put(last, 0, &resize_shorter(&photos[0], s)?)?;
    for r in 0..RESULTS_PER_PHOTO {
        sheet.put(
            last,
            1 + r,
            &super::augment::denormalize(&augmixed, s, r, config.mean, config.std)?,
        )?;
    }
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    save_png(&sheet.into_image(), &a.out)?;
    println!(
        "wrote {}: {} photos, {FRACTALS} fractals rendered in {fractal_seconds:.1} s on the cpu, {} PixMix and {RESULTS_PER_PHOTO} AugMix samples on {ran_on}",
        a.out.display(),
        photos.len(),
        batch.len()
    );
    println!(
        "rows: 1 the photos ({}); {} the {FRACTALS} mixing pictures; then per photo the photo \
         resized to {s}x{s} and {RESULTS_PER_PHOTO} PixMix samples; last, {} resized and \
         {RESULTS_PER_PHOTO} AugMix samples (width 3, depth 1 to 3, severity 1)",
        PHOTOS.map(|(name, _)| name).join(", "),
        if mixing_rows == 1 {
            "2".to_string()
        } else {
            format!("2 to {}", 1 + mixing_rows)
        },
        PHOTOS[0].0,
    );
    Ok(())
}
