//! The flat buffers the kernels read: operator descriptors, image and picture tables, and
//! the kernels' argument block. `kernels/plan.cuh` mirrors every struct here; both the CUDA
//! executor and the host build of the kernels ([`crate::kernels`]) are fed from this one
//! builder.

use bytemuck::{Pod, Zeroable};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::mixing_set::MixingSet;
use crate::ops::{Operator, PreparedOp, Transpose, geometry};
use crate::plan::{BatchPlan, OpPlan, SOURCE_MIXING, TRANSFORM_RESIZED_CROP_FLIP};
use crate::tensor::Dtype;

/// `OpDesc::kind`: the original itself.
pub const KIND_ORIGINAL: u32 = 0;
/// `OpDesc::kind`: the sample's mixing picture.
pub const KIND_MIXING: u32 = 1;
/// `OpDesc::kind`: the per-sample autocontrast table.
pub const KIND_AUTOCONTRAST: u32 = 2;
/// `OpDesc::kind`: the per-sample equalize table.
pub const KIND_EQUALIZE: u32 = 3;
/// `OpDesc::kind`: posterize to `u` bits.
pub const KIND_POSTERIZE: u32 = 4;
/// `OpDesc::kind`: solarize at threshold `u`.
pub const KIND_SOLARIZE: u32 = 5;
/// `OpDesc::kind`: rotate by 90 degrees (lossless).
pub const KIND_ROTATE90: u32 = 6;
/// `OpDesc::kind`: rotate by 180 degrees (lossless).
pub const KIND_ROTATE180: u32 = 7;
/// `OpDesc::kind`: rotate by 270 degrees (lossless).
pub const KIND_ROTATE270: u32 = 8;
/// `OpDesc::kind`: bilinear affine resampling with matrix `m`.
pub const KIND_AFFINE: u32 = 9;
/// `OpDesc::kind`: `ImageEnhance.Color` with factor `f`.
pub const KIND_COLOR: u32 = 10;
/// `OpDesc::kind`: `ImageEnhance.Contrast` with factor `f`.
pub const KIND_CONTRAST: u32 = 11;
/// `OpDesc::kind`: `ImageEnhance.Brightness` with factor `f`.
pub const KIND_BRIGHTNESS: u32 = 12;
/// `OpDesc::kind`: `ImageEnhance.Sharpness` with factor `f`.
pub const KIND_SHARPNESS: u32 = 13;

/// Bytes of per-sample tables: autocontrast (768), equalize (768), mean luma, padding.
pub const TABLE_STRIDE: usize = 1544;

/// An operator resolved for the kernels.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct OpDesc {
    /// Affine matrix (output pixel centre to input point).
    pub m: [f64; 6],
    /// The matrix in fixed point for the kernels' affine fast path (`pixmix_fast_matrix`).
    pub fixed: [i64; 6],
    /// Enhance factor, as Pillow's C `float`.
    pub f: f32,
    /// One of the `KIND_` constants.
    pub kind: u32,
    /// Bits (posterize) or threshold (solarize).
    pub u: u32,
    /// The affine fast path's flags (`pixmix_fast_matrix`).
    pub fast: u32,
}

impl OpDesc {
    fn kind(kind: u32) -> OpDesc {
        OpDesc {
            kind,
            ..OpDesc::zeroed()
        }
    }

    /// The descriptor of `op` for originals of side `size`.
    pub fn new(op: &OpPlan, size: usize) -> Result<OpDesc> {
        let Some(o) = op.operator()? else {
            return Ok(OpDesc::kind(KIND_ORIGINAL));
        };
        o.check_param(op.param)?;
        let factor = |kind| OpDesc {
            f: op.param as f32,
            ..OpDesc::kind(kind)
        };
        Ok(match o {
            Operator::Autocontrast => OpDesc::kind(KIND_AUTOCONTRAST),
            Operator::Equalize => OpDesc::kind(KIND_EQUALIZE),
            Operator::Posterize => OpDesc {
                u: op.param as u32,
                ..OpDesc::kind(KIND_POSTERIZE)
            },
            Operator::Solarize => OpDesc {
                u: op.param as u32,
                ..OpDesc::kind(KIND_SOLARIZE)
            },
            Operator::Color => factor(KIND_COLOR),
            Operator::Contrast => factor(KIND_CONTRAST),
            Operator::Brightness => factor(KIND_BRIGHTNESS),
            // Pillow leaves images smaller than the 3x3 kernel unfiltered.
            Operator::Sharpness if size < 3 => OpDesc::kind(KIND_ORIGINAL),
            Operator::Sharpness => factor(KIND_SHARPNESS),
            _ => match geometry(o, op.param, size, size) {
                PreparedOp::Affine(m) => {
                    let (fixed, fast) = crate::kernels::host_fast_matrix(&m);
                    OpDesc {
                        m,
                        fixed,
                        fast,
                        ..OpDesc::kind(KIND_AFFINE)
                    }
                }
                PreparedOp::Transpose(Transpose::Rotate90) => OpDesc::kind(KIND_ROTATE90),
                PreparedOp::Transpose(Transpose::Rotate180) => OpDesc::kind(KIND_ROTATE180),
                PreparedOp::Transpose(Transpose::Rotate270) => OpDesc::kind(KIND_ROTATE270),
                _ => OpDesc::kind(KIND_ORIGINAL),
            },
        })
    }
}

/// Where a sample's source image and its resize intermediate live.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct ImageMeta {
    /// Byte offset of the image in the batch's image buffer.
    pub offset: u64,
    /// Byte offset of the intermediate in the temp buffer.
    pub temp_offset: u64,
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// Intermediate width (0 when the sample needs none).
    pub temp_width: u32,
    /// Intermediate height.
    pub temp_height: u32,
    /// 1 when the vertical pass runs first (Pillow's rule).
    pub vertical_first: u32,
    /// Index in the coefficient buffer of the first pass's filter, the second's following
    /// it (see `resize::kernel_coeffs`); unused without an intermediate.
    pub coeffs: u32,
    /// Column of the source image where the staged pixels start (`width` x `height` of
    /// them): the crop's when only the crop was staged, else 0.
    pub x0: u32,
    /// Row of the source image where the staged pixels start.
    pub y0: u32,
}

/// Where a mixing picture lives.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct PictureMeta {
    /// Byte offset in the mixing set's buffer.
    pub offset: u64,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// The argument block of every kernel: buffer addresses (device or host) and sizes.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct KernelArgs {
    /// `SamplePlan`s.
    pub samples: u64,
    /// `RoundPlan`s.
    pub rounds: u64,
    /// `OpDesc`s: the samples' base operators, then every round's.
    pub descs: u64,
    /// Source images, back to back.
    pub images: u64,
    /// `ImageMeta`s.
    pub image_meta: u64,
    /// Resize intermediates.
    pub temp: u64,
    /// Train-transformed originals, n x size x size x 3.
    pub orig: u64,
    /// Per-sample tables, n x [`TABLE_STRIDE`].
    pub tables: u64,
    /// Mixing pictures, back to back.
    pub mixing: u64,
    /// `PictureMeta`s.
    pub mixing_meta: u64,
    /// The output, n x 3 x size x size of `dtype`.
    pub out: u64,
    /// Samples.
    pub n: u32,
    /// Output side.
    pub size: u32,
    /// 0 f32, 1 f16, 2 bf16.
    pub dtype: u32,
    /// Keeps the layout free of implicit padding.
    pub reserved: u32,
    /// Normalization mean.
    pub mean: [f32; 3],
    /// Normalization standard deviation.
    pub std: [f32; 3],
    /// The resize filters of the samples that need them (`i32`s, see `ImageMeta::coeffs`).
    pub coeffs: u64,
    /// Per round, [`ROUND_TABLE_FLOATS`] floats of powers, written by the statistics
    /// kernel: `max(2y, 1e-37) ^ b` for each byte y, then a first round's `(2x) ^ a`.
    pub round_tables: u64,
}

/// Floats per round in [`KernelArgs::round_tables`] (the kernels' `PIXMIX_ROUND_TABLE`).
pub const ROUND_TABLE_FLOATS: usize = 512;

/// The kernels' code for a dtype.
pub fn dtype_code(dtype: Dtype) -> u32 {
    match dtype {
        Dtype::F32 => 0,
        Dtype::F16 => 1,
        Dtype::Bf16 => 2,
    }
}

/// A batch laid out for the kernels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StagedBatch {
    /// Base operators of the samples, then the operator of every round.
    pub descs: Vec<OpDesc>,
    /// One per sample.
    pub image_meta: Vec<ImageMeta>,
    /// Bytes of all source images back to back.
    pub image_bytes: usize,
    /// Bytes of all resize intermediates.
    pub temp_bytes: usize,
    /// The largest intermediate, in pixels (sizes the first pass's grid).
    pub max_temp_pixels: usize,
    /// The resize filters, two per resized sample (`ImageMeta::coeffs`).
    pub coeffs: Vec<i32>,
}

/// Lays `plan` out for the kernels, for source images of `image_sizes` stored back to back
/// in order: whole, or (`crop_only`) only the crop box of each sample that resizes a crop,
/// which is all it reads. The plan must have passed [`crate::cpu::check_batch`].
pub fn stage(
    config: &Config,
    plan: &BatchPlan,
    image_sizes: &[(usize, usize)],
    crop_only: bool,
) -> Result<StagedBatch> {
    if plan.len() != image_sizes.len() {
        return Err(Error::Input(format!(
            "plan has {} samples but {} images were given",
            plan.len(),
            image_sizes.len()
        )));
    }
    let size = config.size;
    let mut staged = StagedBatch::default();
    for s in &plan.samples {
        staged.descs.push(OpDesc::new(&s.base, size)?);
    }
    for r in &plan.rounds {
        staged.descs.push(if r.source == SOURCE_MIXING {
            OpDesc::kind(KIND_MIXING)
        } else {
            OpDesc::new(&r.aug, size)?
        });
    }
    for (s, &(w, h)) in plan.samples.iter().zip(image_sizes) {
        let mut meta = ImageMeta {
            offset: staged.image_bytes as u64,
            temp_offset: staged.temp_bytes as u64,
            width: w as u32,
            height: h as u32,
            ..ImageMeta::zeroed()
        };
        if s.transform == TRANSFORM_RESIZED_CROP_FLIP {
            let (cw, ch) = (s.crop_w as i64, s.crop_h as i64);
            let out = size as i64;
            meta.vertical_first = (ch > out && ch - out > (cw - out) * 2) as u32;
            (meta.temp_width, meta.temp_height) = if meta.vertical_first == 1 {
                (cw as u32, size as u32)
            } else {
                (size as u32, ch as u32)
            };
            meta.coeffs = u32::try_from(staged.coeffs.len()).map_err(|_| {
                Error::Input("the batch's resize filters exceed 2^32 entries".into())
            })?;
            // First pass over the crop's first axis, second over the intermediate's other.
            let (first_in, second_in) = if meta.vertical_first == 1 {
                (ch as usize, cw as usize)
            } else {
                (cw as usize, ch as usize)
            };
            crate::resize::kernel_coeffs(first_in, size, &mut staged.coeffs);
            crate::resize::kernel_coeffs(second_in, size, &mut staged.coeffs);
            let pixels = meta.temp_width as usize * meta.temp_height as usize;
            staged.temp_bytes += pixels * 3;
            staged.max_temp_pixels = staged.max_temp_pixels.max(pixels);
        }
        if crop_only && s.transform == TRANSFORM_RESIZED_CROP_FLIP {
            (meta.x0, meta.y0) = (s.crop_x as u32, s.crop_y as u32);
            (meta.width, meta.height) = (s.crop_w, s.crop_h);
        }
        staged.image_bytes += meta.width as usize * meta.height as usize * 3;
        staged.image_meta.push(meta);
    }
    Ok(staged)
}

/// The picture table of a mixing set.
pub fn picture_meta(mixing: &MixingSet) -> Vec<PictureMeta> {
    mixing
        .sizes()
        .iter()
        .zip(mixing.offsets())
        .map(|(&(w, h), &offset)| PictureMeta {
            offset: offset as u64,
            width: w as u32,
            height: h as u32,
        })
        .collect()
}
