//! Settings of a PixMix pipeline and the two presets of the released code.

use crate::error::{Error, Result, number};
use crate::ops::Operator;

/// The released code's two recipes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Preset {
    /// CIFAR-10/100: 32x32, flip + padded crop, k = 4, beta = 3, severity 3, mean/std 0.5.
    Cifar,
    /// ImageNet: 224x224, RandomResizedCrop + flip, k = 4, beta = 4, severity 1, ImageNet
    /// mean/std.
    Imagenet,
}

impl Preset {
    /// Both presets.
    pub const ALL: [Preset; 2] = [Preset::Cifar, Preset::Imagenet];

    /// The lowercase name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Cifar => "cifar",
            Preset::Imagenet => "imagenet",
        }
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Preset {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cifar" => Ok(Preset::Cifar),
            "imagenet" => Ok(Preset::Imagenet),
            _ => Err(Error::Config(format!(
                "unknown preset '{s}'; expected cifar or imagenet"
            ))),
        }
    }
}

/// How a training image becomes the `size` x `size` original that PixMix augments.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainTransform {
    /// `RandomHorizontalFlip()` then `RandomCrop(size, padding)` with zero padding.
    FlipPadCrop {
        /// Zero padding on every side before the crop.
        padding: usize,
    },
    /// `RandomResizedCrop(size, scale, ratio)` (bilinear, antialiased as Pillow) then
    /// `RandomHorizontalFlip()`.
    ResizedCropFlip {
        /// Range of the crop's area as a share of the image's.
        scale: (f64, f64),
        /// Range of the crop's aspect ratio (width / height).
        ratio: (f64, f64),
    },
}

/// Every setting of a PixMix pipeline. Start from [`Config::preset`] and override fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Side of the square output (and of the augmented original).
    pub size: usize,
    /// The train transform of the original.
    pub train: TrainTransform,
    /// Mixing pictures are resized once so their shorter side is this long, then cropped to
    /// `size` at a random offset per sample.
    pub mixing_resize: usize,
    /// Maximum number of mixing rounds; each sample draws 0..=k uniformly.
    pub k: u32,
    /// Shape parameter of the Beta distributions of the mixing weights.
    pub beta: f64,
    /// Operator severity, 1 to 10.
    pub severity: u32,
    /// Use all 13 operators (the paper's recipes) instead of the default 9.
    pub all_ops: bool,
    /// Per-channel mean subtracted after mixing.
    pub mean: [f32; 3],
    /// Per-channel standard deviation divided by after subtracting the mean.
    pub std: [f32; 3],
}

/// The largest `k` accepted: more rounds only saturate the picture.
pub const MAX_K: u32 = 64;
/// The largest output side accepted.
pub const MAX_SIZE: usize = 4096;

impl Config {
    /// The released code's settings for `preset`, with `all_ops` on as in the paper.
    pub fn preset(preset: Preset) -> Config {
        match preset {
            Preset::Cifar => Config {
                size: 32,
                train: TrainTransform::FlipPadCrop { padding: 4 },
                mixing_resize: 36,
                k: 4,
                beta: 3.0,
                severity: 3,
                all_ops: true,
                mean: [0.5; 3],
                std: [0.5; 3],
            },
            Preset::Imagenet => Config {
                size: 224,
                train: TrainTransform::ResizedCropFlip {
                    scale: (0.08, 1.0),
                    ratio: (3.0 / 4.0, 4.0 / 3.0),
                },
                mixing_resize: 256,
                k: 4,
                beta: 4.0,
                severity: 1,
                all_ops: true,
                mean: [0.485, 0.456, 0.406],
                std: [0.229, 0.224, 0.225],
            },
        }
    }

    /// The operators drawn from.
    pub fn operators(&self) -> &'static [Operator] {
        if self.all_ops {
            &Operator::ALL
        } else {
            &Operator::DEFAULT
        }
    }

    /// Checks every field; the message names the field and the accepted range.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::Config(msg));
        if self.size == 0 || self.size > MAX_SIZE {
            return bad(format!("size must be in 1..={MAX_SIZE}, got {}", self.size));
        }
        if self.mixing_resize < self.size || self.mixing_resize > 4 * MAX_SIZE {
            return bad(format!(
                "mixing_resize must be at least size ({}) and at most {}, got {}",
                self.size,
                4 * MAX_SIZE,
                self.mixing_resize
            ));
        }
        if self.k > MAX_K {
            return bad(format!("k must be at most {MAX_K}, got {}", self.k));
        }
        if !(self.beta.is_finite() && self.beta > 0.0 && self.beta <= 1e6) {
            return bad(format!(
                "beta must be a finite number in (0, 1e6], got {}",
                number(self.beta)
            ));
        }
        if !(1..=10).contains(&self.severity) {
            return bad(format!("severity must be in 1..=10, got {}", self.severity));
        }
        for c in 0..3 {
            if !self.mean[c].is_finite() {
                return bad(format!(
                    "mean[{c}] must be finite, got {}",
                    number(self.mean[c])
                ));
            }
            if !(self.std[c].is_finite() && self.std[c] != 0.0) {
                return bad(format!(
                    "std[{c}] must be finite and non-zero, got {}",
                    number(self.std[c])
                ));
            }
        }
        match self.train {
            TrainTransform::FlipPadCrop { padding } => {
                if padding > MAX_SIZE {
                    return bad(format!("padding must be at most {MAX_SIZE}, got {padding}"));
                }
            }
            TrainTransform::ResizedCropFlip { scale, ratio } => {
                let (s0, s1) = scale;
                if !(s0.is_finite() && s1.is_finite() && 0.0 < s0 && s0 <= s1 && s1 <= 1.0) {
                    return bad(format!(
                        "scale must satisfy 0 < min <= max <= 1, got ({s0}, {s1})"
                    ));
                }
                let (r0, r1) = ratio;
                if !(r0.is_finite() && r1.is_finite() && 0.0 < r0 && r0 <= r1 && r1 <= 1e3) {
                    return bad(format!(
                        "ratio must satisfy 0 < min <= max <= 1000, got ({r0}, {r1})"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks that a `width` x `height` training image can go through the train transform.
    pub fn check_image_size(&self, index: usize, width: usize, height: usize) -> Result<()> {
        if width == 0 || height == 0 {
            return Err(Error::Input(format!(
                "image {index} is empty ({width}x{height})"
            )));
        }
        if let TrainTransform::FlipPadCrop { padding } = self.train
            && (width + 2 * padding < self.size || height + 2 * padding < self.size)
        {
            return Err(Error::Input(format!(
                "image {index} is {width}x{height}, smaller than the {0}x{0} crop even with \
                 padding {padding}",
                self.size
            )));
        }
        Ok(())
    }
}
