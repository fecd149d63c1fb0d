//! The settings of `pixmix.PixMix` and `pixmix.AugMix` (a dict of keyword values) applied
//! to the preset's configuration, with a ValueError naming any bad value.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use pixmix::{AugMixConfig, Config, Preset, TrainTransform};

use crate::err;

/// `value` extracted, or a ValueError naming the setting and the value.
macro_rules! take {
    ($value:expr, $name:literal, $what:literal) => {
        $value.extract().map_err(|_| {
            PyValueError::new_err(format!(
                concat!($name, " must be ", $what, ", got {}"),
                $value
                    .repr()
                    .map_or_else(|_| "?".to_string(), |r| r.to_string())
            ))
        })?
    };
}

/// The settings the train transform, the operators and the preprocessing share (the
/// fields of PixMix's `Config` that AugMix's `AugMixConfig::base` uses too).
const SHARED: [&str; 9] = [
    "size",
    "padding",
    "scale",
    "ratio",
    "severity",
    "all_ops",
    "mean",
    "std",
    "normalize",
];

/// PixMix's own settings.
const PIXMIX: [&str; 3] = ["mixing_resize", "k", "beta"];

/// AugMix's own settings.
const AUGMIX: [&str; 3] = ["width", "depth", "alpha"];

/// A settings dict whose keys were checked against one method's names.
struct Settings<'a, 'py> {
    dict: &'a Bound<'py, PyDict>,
}

impl<'a, 'py> Settings<'a, 'py> {
    /// `dict`, refusing any key outside `SHARED` and `own`.
    fn new(dict: &'a Bound<'py, PyDict>, own: &[&str]) -> PyResult<Self> {
        for key in dict.keys() {
            let key: String = key.extract()?;
            if !SHARED.contains(&key.as_str()) && !own.contains(&key.as_str()) {
                return Err(PyValueError::new_err(format!("unknown setting '{key}'")));
            }
        }
        Ok(Settings { dict })
    }

    /// The value of `key`, or None when absent or None (the preset's value is kept).
    fn get(&self, key: &str) -> Option<Bound<'py, PyAny>> {
        self.dict
            .get_item(key)
            .ok()
            .flatten()
            .filter(|v| !v.is_none())
    }

    /// Applies the shared settings to `config` (the preset's, as given).
    fn apply_shared(&self, config: &mut Config) -> PyResult<()> {
        let base = config.clone();
        if let Some(v) = self.get("size") {
            config.size = take!(v, "size", "an integer in 1..=4096");
        }
        let padding = self.get("padding");
        let (scale, ratio) = (self.get("scale"), self.get("ratio"));
        if padding.is_some() && (scale.is_some() || ratio.is_some()) {
            return Err(PyValueError::new_err(
                "padding belongs to the flip + padded crop (cifar), scale and ratio to the \
                 random resized crop (imagenet); give one or the other",
            ));
        }
        if let Some(p) = padding {
            config.train = TrainTransform::FlipPadCrop {
                padding: take!(p, "padding", "an integer >= 0"),
            };
        }
        if scale.is_some() || ratio.is_some() {
            let (mut s, mut r) = match Config::preset(Preset::Imagenet).train {
                TrainTransform::ResizedCropFlip { scale, ratio } => (scale, ratio),
                TrainTransform::FlipPadCrop { .. } => unreachable!("imagenet crops at random"),
            };
            if let TrainTransform::ResizedCropFlip { scale, ratio } = base.train {
                (s, r) = (scale, ratio);
            }
            if let Some(v) = scale {
                s = take!(v, "scale", "a pair (min, max)");
            }
            if let Some(v) = ratio {
                r = take!(v, "ratio", "a pair (min, max)");
            }
            config.train = TrainTransform::ResizedCropFlip { scale: s, ratio: r };
        }
        if let Some(v) = self.get("severity") {
            config.severity = take!(v, "severity", "an integer in 1..=10");
        }
        if let Some(v) = self.get("all_ops") {
            config.all_ops = take!(v, "all_ops", "True or False");
        }
        let normalize = match self.get("normalize") {
            Some(v) => take!(v, "normalize", "True or False"),
            None => true,
        };
        if !normalize {
            if self.get("mean").is_some() || self.get("std").is_some() {
                return Err(PyValueError::new_err(
                    "normalize=False gives [0, 1] output; it takes no mean or std",
                ));
            }
            config.mean = [0.0; 3];
            config.std = [1.0; 3];
        }
        if let Some(v) = self.get("mean") {
            config.mean = channels(&v, "mean")?;
        }
        if let Some(v) = self.get("std") {
            config.std = channels(&v, "std")?;
        }
        Ok(())
    }
}

/// The PixMix preset's configuration with the overrides of `settings` (keys as
/// `pixmix.PixMix` names them), validated.
pub fn configure(preset: &str, settings: &Bound<'_, PyDict>) -> PyResult<Config> {
    let preset = preset.parse::<Preset>().map_err(err)?;
    let mut config = Config::preset(preset);
    let base = config.clone();
    let s = Settings::new(settings, &PIXMIX)?;
    s.apply_shared(&mut config)?;
    if s.get("size").is_some() && s.get("mixing_resize").is_none() {
        // The preset's proportion (32 -> 36, 224 -> 256), as torchvision resizes 256 for a
        // 224 crop.
        config.mixing_resize = (config.size * base.mixing_resize).div_ceil(base.size);
    }
    if let Some(v) = s.get("mixing_resize") {
        config.mixing_resize = take!(v, "mixing_resize", "a positive integer");
    }
    if let Some(v) = s.get("k") {
        config.k = take!(v, "k", "an integer in 0..=64");
    }
    if let Some(v) = s.get("beta") {
        config.beta = take!(v, "beta", "a number > 0");
    }
    config.validate().map_err(err)?;
    Ok(config)
}

/// The AugMix preset's configuration (`AugMixConfig::preset`: the released defaults) with
/// the overrides of `settings` (keys as `pixmix.AugMix` names them), validated.
pub fn configure_augmix(preset: &str, settings: &Bound<'_, PyDict>) -> PyResult<AugMixConfig> {
    let preset = preset.parse::<Preset>().map_err(err)?;
    let mut config = AugMixConfig::preset(preset);
    let s = Settings::new(settings, &AUGMIX)?;
    s.apply_shared(&mut config.base)?;
    if let Some(v) = s.get("width") {
        config.width = take!(v, "width", "an integer in 1..=8");
    }
    if let Some(v) = s.get("depth") {
        config.depth = take!(v, "depth", "-1 or an integer in 1..=3");
    }
    if let Some(v) = s.get("alpha") {
        config.alpha = take!(v, "alpha", "a number > 0");
    }
    config.validate().map_err(err)?;
    Ok(config)
}

/// A per-channel value: one number for all three channels, or three.
fn channels(v: &Bound<'_, PyAny>, name: &str) -> PyResult<[f32; 3]> {
    if let Ok(x) = v.extract::<f32>() {
        return Ok([x; 3]);
    }
    let list: Vec<f32> = v.extract().map_err(|_| {
        PyValueError::new_err(format!("{name} must be a number or three numbers, got {v}"))
    })?;
    <[f32; 3]>::try_from(list.as_slice()).map_err(|_| {
        PyValueError::new_err(format!(
            "{name} must be a number or three numbers, got {} numbers",
            list.len()
        ))
    })
}
