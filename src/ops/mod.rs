//! The 13 base operators of PixMix, each equal to its Pillow call pixel for pixel.
//!
//! An operator is first *prepared* for one source image ([`PreparedOp::new`]): tables,
//! matrices and image statistics are computed once. The prepared operator then yields any
//! output row on demand ([`PreparedOp::row`]), which lets the executor fuse the operator
//! into its per-row pipeline without materialising the augmented image.

mod affine;
mod enhance;
pub(crate) mod lut;
mod params;

pub use affine::Transpose;
pub use params::{float_param, int_param};

use crate::error::{Error, Result, number};
use crate::image::RgbImage;

/// A base operator. The first nine form the paper's default list; `all_ops` adds the four
/// `ImageEnhance` operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Operator {
    /// `ImageOps.autocontrast(img)`; no parameter.
    Autocontrast = 0,
    /// `ImageOps.equalize(img)`; no parameter.
    Equalize = 1,
    /// `ImageOps.posterize(img, bits)`; parameter: bits kept, 0 to 8.
    Posterize = 2,
    /// `img.rotate(deg, resample=BILINEAR)`; parameter: degrees counter-clockwise.
    Rotate = 3,
    /// `ImageOps.solarize(img, thr)`; parameter: threshold, 0 to 256.
    Solarize = 4,
    /// Affine `(1, s, 0, 0, 1, 0)`, bilinear; parameter: shear factor.
    ShearX = 5,
    /// Affine `(1, 0, 0, s, 1, 0)`, bilinear; parameter: shear factor.
    ShearY = 6,
    /// Affine `(1, 0, t, 0, 1, 0)`, bilinear; parameter: pixels.
    TranslateX = 7,
    /// Affine `(1, 0, 0, 0, 1, t)`, bilinear; parameter: pixels.
    TranslateY = 8,
    /// `ImageEnhance.Color(img).enhance(f)`; parameter: factor.
    Color = 9,
    /// `ImageEnhance.Contrast(img).enhance(f)`; parameter: factor.
    Contrast = 10,
    /// `ImageEnhance.Brightness(img).enhance(f)`; parameter: factor.
    Brightness = 11,
    /// `ImageEnhance.Sharpness(img).enhance(f)`; parameter: factor.
    Sharpness = 12,
}

impl Operator {
    /// All 13 operators, in the order of the released code's `augmentations_all`.
    pub const ALL: [Operator; 13] = [
        Operator::Autocontrast,
        Operator::Equalize,
        Operator::Posterize,
        Operator::Rotate,
        Operator::Solarize,
        Operator::ShearX,
        Operator::ShearY,
        Operator::TranslateX,
        Operator::TranslateY,
        Operator::Color,
        Operator::Contrast,
        Operator::Brightness,
        Operator::Sharpness,
    ];

    /// The nine operators of the default list (`augmentations`).
    pub const DEFAULT: [Operator; 9] = [
        Operator::Autocontrast,
        Operator::Equalize,
        Operator::Posterize,
        Operator::Rotate,
        Operator::Solarize,
        Operator::ShearX,
        Operator::ShearY,
        Operator::TranslateX,
        Operator::TranslateY,
    ];

    /// The snake_case name used by the command line and the golden fixtures.
    pub fn name(self) -> &'static str {
        match self {
            Operator::Autocontrast => "autocontrast",
            Operator::Equalize => "equalize",
            Operator::Posterize => "posterize",
            Operator::Rotate => "rotate",
            Operator::Solarize => "solarize",
            Operator::ShearX => "shear_x",
            Operator::ShearY => "shear_y",
            Operator::TranslateX => "translate_x",
            Operator::TranslateY => "translate_y",
            Operator::Color => "color",
            Operator::Contrast => "contrast",
            Operator::Brightness => "brightness",
            Operator::Sharpness => "sharpness",
        }
    }

    /// Looks an operator up by [`name`](Self::name).
    pub fn from_name(name: &str) -> Result<Operator> {
        Operator::ALL
            .into_iter()
            .find(|op| op.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Operator::ALL.iter().map(|op| op.name()).collect();
                Error::Operator(format!(
                    "unknown operator '{name}'; expected one of {}",
                    names.join(", ")
                ))
            })
    }

    /// The operator with this numeric id (its position in [`ALL`](Self::ALL)).
    pub fn from_id(id: u32) -> Option<Operator> {
        Operator::ALL.get(id as usize).copied()
    }

    /// What the parameter means, for help texts.
    pub fn param_meaning(self) -> &'static str {
        match self {
            Operator::Autocontrast | Operator::Equalize => "none",
            Operator::Posterize => "bits kept (0..=8)",
            Operator::Rotate => "degrees, counter-clockwise",
            Operator::Solarize => "threshold (0..=256)",
            Operator::ShearX | Operator::ShearY => "shear factor",
            Operator::TranslateX | Operator::TranslateY => "offset in pixels",
            Operator::Color | Operator::Contrast | Operator::Brightness | Operator::Sharpness => {
                "enhance factor (1 = unchanged)"
            }
        }
    }

    /// Whether the released code negates the parameter with probability 1/2.
    pub fn random_sign(self) -> bool {
        matches!(
            self,
            Operator::Rotate
                | Operator::ShearX
                | Operator::ShearY
                | Operator::TranslateX
                | Operator::TranslateY
        )
    }

    /// The parameter the released code derives from `level` (before the random sign), for an
    /// image of `width` x `height` (translate scales with the image side, as `IMAGE_SIZE / 3`).
    pub fn param_from_level(self, level: f64, width: usize, height: usize) -> f64 {
        match self {
            Operator::Autocontrast | Operator::Equalize => 0.0,
            Operator::Posterize => (4 - int_param(level, 4.0)) as f64,
            Operator::Rotate => int_param(level, 30.0) as f64,
            Operator::Solarize => (256 - int_param(level, 256.0)) as f64,
            Operator::ShearX | Operator::ShearY => float_param(level, 0.3),
            Operator::TranslateX => int_param(level, width as f64 / 3.0) as f64,
            Operator::TranslateY => int_param(level, height as f64 / 3.0) as f64,
            Operator::Color | Operator::Contrast | Operator::Brightness | Operator::Sharpness => {
                float_param(level, 1.8) + 0.1
            }
        }
    }

    /// Checks that `param` is meaningful for this operator.
    pub fn check_param(self, param: f64) -> Result<()> {
        if !param.is_finite() {
            return Err(Error::Operator(format!(
                "{}: parameter must be finite, got {}",
                self.name(),
                number(param)
            )));
        }
        let integral = param.fract() == 0.0;
        match self {
            Operator::Posterize if !(integral && (0.0..=8.0).contains(&param)) => {
                Err(Error::Operator(format!(
                    "posterize: bits must be an integer in 0..=8, got {}",
                    number(param)
                )))
            }
            Operator::Solarize if !(integral && (0.0..=256.0).contains(&param)) => {
                Err(Error::Operator(format!(
                    "solarize: threshold must be an integer in 0..=256, got {}",
                    number(param)
                )))
            }
            _ if param.abs() > 1e9 => Err(Error::Operator(format!(
                "{}: parameter {} is absurdly large",
                self.name(),
                number(param)
            ))),
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Operator {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Operator::from_name(s)
    }
}

/// An operator bound to one source image: everything that depends on the whole image
/// (tables, statistics, matrices) is computed here, once.
#[derive(Clone, Debug)]
pub enum PreparedOp {
    /// A per-channel lookup table: autocontrast and equalize.
    Lut(Box<[[u8; 256]; 3]>),
    /// `ImageOps.posterize`: every byte ANDed with this mask.
    Posterize(u8),
    /// `ImageOps.solarize`: bytes at or above this threshold (0 to 256) inverted.
    Solarize(u16),
    /// An exact copy (rotation by a multiple of 360 degrees).
    Identity,
    /// A lossless pixel permutation: Pillow's `transpose` fast paths of `rotate`.
    Transpose(affine::Transpose),
    /// An affine map from output pixel centres to input points, sampled bilinearly.
    Affine([f64; 6]),
    /// An `ImageEnhance` blend of the image with its degenerate image: color, contrast,
    /// brightness and sharpness.
    Enhance(enhance::Blend),
}

impl PreparedOp {
    /// Prepares `op` with `param` for `img`.
    pub fn new(op: Operator, param: f64, img: &RgbImage) -> Result<PreparedOp> {
        op.check_param(param)?;
        Ok(match op {
            Operator::Autocontrast => PreparedOp::Lut(Box::new(lut::autocontrast(img))),
            Operator::Equalize => PreparedOp::Lut(Box::new(lut::equalize(img))),
            Operator::Posterize => PreparedOp::Posterize(lut::posterize_mask(param as u32)),
            Operator::Solarize => PreparedOp::Solarize(param as u16),
            Operator::Rotate
            | Operator::ShearX
            | Operator::ShearY
            | Operator::TranslateX
            | Operator::TranslateY => geometry(op, param, img.width(), img.height()),
            Operator::Color => PreparedOp::Enhance(enhance::Blend::color(param)),
            Operator::Contrast => PreparedOp::Enhance(enhance::Blend::contrast(param, img)),
            Operator::Brightness => PreparedOp::Enhance(enhance::Blend::brightness(param)),
            Operator::Sharpness => PreparedOp::Enhance(enhance::Blend::sharpness(param, img)),
        })
    }

    /// Writes output row `y` (`width * 3` bytes) of this operator applied to `img`, the
    /// image it was prepared for.
    #[inline(always)]
    pub fn row(&self, img: &RgbImage, y: usize, out: &mut [u8]) {
        match self {
            PreparedOp::Lut(tables) => lut::apply_row(tables, img.row(y), out),
            PreparedOp::Posterize(mask) => lut::posterize_row(*mask, img.row(y), out),
            PreparedOp::Solarize(threshold) => lut::solarize_row(*threshold, img.row(y), out),
            PreparedOp::Identity => out.copy_from_slice(img.row(y)),
            PreparedOp::Transpose(t) => t.row(img, y, out),
            PreparedOp::Affine(m) => affine::row(m, img, y, out),
            PreparedOp::Enhance(blend) => blend.row(img, y, out),
        }
    }
}

/// The geometric operators, which depend on the image's size only: an identity, a lossless
/// transpose or an affine matrix. Other operators give the identity.
pub fn geometry(op: Operator, param: f64, width: usize, height: usize) -> PreparedOp {
    match op {
        Operator::Rotate => affine::rotate(param, width, height),
        Operator::ShearX => PreparedOp::Affine([1.0, param, 0.0, 0.0, 1.0, 0.0]),
        Operator::ShearY => PreparedOp::Affine([1.0, 0.0, 0.0, param, 1.0, 0.0]),
        Operator::TranslateX => PreparedOp::Affine([1.0, 0.0, param, 0.0, 1.0, 0.0]),
        Operator::TranslateY => PreparedOp::Affine([1.0, 0.0, 0.0, 0.0, 1.0, param]),
        _ => PreparedOp::Identity,
    }
}

/// Applies `op` with an explicit `param` to `img`, as the corresponding Pillow call does.
pub fn apply(op: Operator, param: f64, img: &RgbImage) -> Result<RgbImage> {
    let prepared = PreparedOp::new(op, param, img)?;
    let mut out = RgbImage::black(img.width(), img.height())?;
    for y in 0..img.height() {
        prepared.row(img, y, out.row_mut(y));
    }
    Ok(out)
}
