//! `pixmix op`: one operator, one image.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use pixmix::Operator;
use pixmix::mixing_set::load_rgb;

use super::io::save_png;

/// Arguments of `pixmix op`.
#[derive(Args, Debug)]
#[command(after_help = operator_help())]
pub struct OpArgs {
    /// Operator name (see the list below).
    operator: String,
    /// The operator's parameter; required by every operator but autocontrast and equalize.
    #[arg(long, allow_negative_numbers = true)]
    param: Option<f64>,
    /// Input image (any format the decoder recognises; converted to RGB).
    input: PathBuf,
    /// Output image: .png, or .jpg / .jpeg (quality 95).
    output: PathBuf,
}

fn operator_help() -> String {
    let mut s = String::from("Operators and their parameter:\n");
    for op in Operator::ALL {
        s.push_str(&format!("  {:<13} {}\n", op.name(), op.param_meaning()));
    }
    s
}

/// Runs `pixmix op`.
pub fn run(a: OpArgs) -> anyhow::Result<()> {
    let op = Operator::from_name(&a.operator)?;
    let takes_param = !matches!(op, Operator::Autocontrast | Operator::Equalize);
    let param = match (takes_param, a.param) {
        (true, Some(p)) => p,
        (true, None) => bail!("{op} needs --param ({})", op.param_meaning()),
        (false, Some(_)) => bail!("{op} takes no parameter"),
        (false, None) => 0.0,
    };
    let format = image::ImageFormat::from_path(&a.output)
        .ok()
        .filter(|f| matches!(f, image::ImageFormat::Png | image::ImageFormat::Jpeg));
    let Some(format) = format else {
        bail!(
            "{}: write .png, .jpg or .jpeg (the format follows the extension)",
            a.output.display()
        );
    };
    let img = load_rgb(&a.input)?;
    let out = pixmix::ops::apply(op, param, &img)?;
    if format == image::ImageFormat::Png {
        save_png(&out, &a.output).with_context(|| format!("writing {}", a.output.display()))?;
    } else {
        let file = std::fs::File::create(&a.output)
            .with_context(|| format!("cannot create {}", a.output.display()))?;
        let mut writer = std::io::BufWriter::new(file);
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut writer, 95)
            .encode_image(&out.to_image_crate())
            .with_context(|| format!("writing {}", a.output.display()))?;
        std::io::Write::flush(&mut writer)
            .with_context(|| format!("writing {}", a.output.display()))?;
    }
    println!(
        "{op}({param}) of {} ({}x{}) -> {}",
        a.input.display(),
        img.width(),
        img.height(),
        a.output.display()
    );
    Ok(())
}
