//! The pipeline settings every subcommand that augments takes beyond the preset's k, beta
//! and severity: the names Python uses, as flags.

use clap::{Args, ValueEnum};
use pixmix::{Config, TrainTransform};

/// Settings that override the preset.
#[derive(Args, Debug, Default)]
pub struct SettingsArgs {
    /// Output side (default: the preset's, 32 or 224).
    #[arg(long)]
    size: Option<usize>,
    /// Zero padding of the flip + padded crop (selects that crop).
    #[arg(long)]
    padding: Option<usize>,
    /// Area range of the random resized crop, "MIN,MAX" (selects that crop).
    #[arg(long, value_parser = pair)]
    scale: Option<(f64, f64)>,
    /// Aspect-ratio range of the random resized crop, "MIN,MAX" (selects that crop).
    #[arg(long, value_parser = pair)]
    ratio: Option<(f64, f64)>,
    /// Shorter side mixing pictures are resized to (default: in the preset's proportion to
    /// the size, 36 for 32 and 256 for 224).
    #[arg(long)]
    mixing_resize: Option<usize>,
    /// Per-channel mean, one number or "R,G,B".
    #[arg(long, value_parser = channels, allow_negative_numbers = true)]
    mean: Option<[f32; 3]>,
    /// Per-channel standard deviation, one number or "R,G,B".
    #[arg(long, value_parser = channels, allow_negative_numbers = true)]
    std: Option<[f32; 3]>,
    /// No normalization: values in [0, 1].
    #[arg(long, conflicts_with_all = ["mean", "std"])]
    no_normalize: bool,
    /// Layout of the npy output.
    #[arg(long, value_enum, default_value_t = Layout::Nchw)]
    pub layout: Layout,
}

/// Axis order of an output tensor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Layout {
    /// N x 3 x S x S.
    #[default]
    Nchw,
    /// N x S x S x 3 (channels last).
    Nhwc,
}

fn pair(s: &str) -> Result<(f64, f64), String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let [a, b] = parts[..] else {
        return Err(format!("expected MIN,MAX, got '{s}'"));
    };
    let num = |x: &str| {
        x.parse::<f64>()
            .map_err(|_| format!("'{x}' is not a number"))
    };
    Ok((num(a)?, num(b)?))
}

fn channels(s: &str) -> Result<[f32; 3], String> {
    let values = s
        .split(',')
        .map(|x| {
            x.trim()
                .parse::<f32>()
                .map_err(|_| format!("'{x}' is not a number"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    match values[..] {
        [v] => Ok([v; 3]),
        [r, g, b] => Ok([r, g, b]),
        _ => Err(format!("expected one number or R,G,B, got '{s}'")),
    }
}

impl SettingsArgs {
    /// Applies the settings given to `config` (the preset's), as Python's keywords do.
    pub fn apply(&self, config: &mut Config) -> anyhow::Result<()> {
        let base = config.clone();
        if let Some(size) = self.size {
            config.size = size;
            config.mixing_resize = (size * base.mixing_resize).div_ceil(base.size);
        }
        if let Some(m) = self.mixing_resize {
            config.mixing_resize = m;
        }
        if self.padding.is_some() && (self.scale.is_some() || self.ratio.is_some()) {
            anyhow::bail!(
                "--padding belongs to the flip + padded crop, --scale and --ratio to the random \
                 resized crop; give one or the other"
            );
        }
        if let Some(padding) = self.padding {
            config.train = TrainTransform::FlipPadCrop { padding };
        }
        if self.scale.is_some() || self.ratio.is_some() {
            let (scale, ratio) = match (base.train, Config::preset(pixmix::Preset::Imagenet).train)
            {
                (TrainTransform::ResizedCropFlip { scale, ratio }, _)
                | (_, TrainTransform::ResizedCropFlip { scale, ratio }) => (scale, ratio),
                _ => unreachable!("the imagenet preset crops at random"),
            };
            config.train = TrainTransform::ResizedCropFlip {
                scale: self.scale.unwrap_or(scale),
                ratio: self.ratio.unwrap_or(ratio),
            };
        }
        if self.no_normalize {
            config.mean = [0.0; 3];
            config.std = [1.0; 3];
        }
        if let Some(mean) = self.mean {
            config.mean = mean;
        }
        if let Some(std) = self.std {
            config.std = std;
        }
        Ok(())
    }
}

/// `n` NCHW samples of `size` x `size` with `elem`-byte elements, reordered to `layout`.
pub fn reorder(bytes: &[u8], n: usize, size: usize, elem: usize, layout: Layout) -> Vec<u8> {
    if layout == Layout::Nchw {
        return bytes.to_vec();
    }
    let plane = size * size;
    let mut out = vec![0u8; bytes.len()];
    for s in 0..n {
        let sample = &bytes[s * 3 * plane * elem..(s + 1) * 3 * plane * elem];
        let dst = &mut out[s * 3 * plane * elem..(s + 1) * 3 * plane * elem];
        for p in 0..plane {
            for c in 0..3 {
                let from = (c * plane + p) * elem;
                let to = (p * 3 + c) * elem;
                dst[to..to + elem].copy_from_slice(&sample[from..from + elem]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_and_apply() {
        assert_eq!(pair("0.5, 1"), Ok((0.5, 1.0)));
        assert!(pair("0.5").unwrap_err().contains("MIN,MAX"));
        assert_eq!(channels("0.5"), Ok([0.5; 3]));
        assert_eq!(channels("1,2,3"), Ok([1.0, 2.0, 3.0]));
        assert!(channels("1,2").unwrap_err().contains("R,G,B"));
        let mut c = Config::preset(pixmix::Preset::Cifar);
        let s = SettingsArgs {
            size: Some(64),
            scale: Some((0.5, 1.0)),
            no_normalize: true,
            ..Default::default()
        };
        s.apply(&mut c).unwrap();
        assert_eq!(
            (c.size, c.mixing_resize, c.mean, c.std),
            (64, 72, [0.0; 3], [1.0; 3])
        );
        assert!(matches!(
            c.train,
            TrainTransform::ResizedCropFlip {
                scale: (0.5, 1.0),
                ..
            }
        ));
    }

    #[test]
    fn channels_last_moves_each_value() {
        // One 1x1... two samples of 2x2, one byte per element: value = c * 4 + p (+ 100 for
        // the second sample).
        let bytes: Vec<u8> = (0..2u8)
            .flat_map(|s| (0..12u8).map(move |i| i + 100 * s))
            .collect();
        let out = reorder(&bytes, 2, 2, 1, Layout::Nhwc);
        assert_eq!(&out[..6], &[0, 4, 8, 1, 5, 9]);
        assert_eq!(out[12], 100);
        assert_eq!(reorder(&bytes, 2, 2, 1, Layout::Nchw), bytes);
    }
}
