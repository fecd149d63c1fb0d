//! Genomes laid out for the kernels (`kernels/flame.cuh` mirrors these structs).

use bytemuck::{Pod, Zeroable};

use super::genome::{Genome, Transform};
use super::variation::Variation;
use crate::error::{Error, Result};

/// Most transforms a genome may have on the device (6 plus symmetry copies).
pub const MAX_XFORMS: usize = 24;
/// Most variations a transform may blend.
pub const MAX_VARIATIONS: usize = 4;

/// One transform, flattened.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct FlameXform {
    /// Pre-affine.
    pub affine: [f64; 6],
    /// Post-affine (used when `has_post` is 1).
    pub post: [f64; 6],
    /// Variation weights.
    pub var_weight: [f64; MAX_VARIATIONS],
    /// Colour coordinate.
    pub color: f64,
    /// Colour speed.
    pub color_speed: f64,
    /// Cumulative selection probability up to and including this transform.
    pub cum: f64,
    /// Variation ids (positions in [`Variation::ALL`]).
    pub var_id: [u32; MAX_VARIATIONS],
    /// Variations in use.
    pub n_vars: u32,
    /// 1 when `post` applies.
    pub has_post: u32,
}

/// A genome, flattened.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct FlameGenome {
    /// Transforms; `n` are used.
    pub xf: [FlameXform; MAX_XFORMS],
    /// The final transform (used when `has_final` is 1).
    pub final_xf: FlameXform,
    /// Palette, 8-bit RGB (fourth entry unused).
    pub palette: [[u32; 4]; 256],
    /// Frame centre x.
    pub cx: f64,
    /// Frame centre y.
    pub cy: f64,
    /// Frame side.
    pub side: f64,
    /// Tone-mapping gamma.
    pub gamma: f64,
    /// Transforms in use.
    pub n: u32,
    /// 1 when `final_xf` applies.
    pub has_final: u32,
    /// Keeps the layout free of implicit padding.
    pub reserved: [u32; 2],
}

fn xform(t: &Transform, cum: f64) -> Result<FlameXform> {
    if t.variations.len() > MAX_VARIATIONS {
        return Err(Error::Config(format!(
            "a transform blends {} variations; at most {MAX_VARIATIONS}",
            t.variations.len()
        )));
    }
    let mut x = FlameXform::zeroed();
    x.affine = t.affine;
    if let Some(p) = t.post {
        x.post = p;
        x.has_post = 1;
    }
    for (i, &(v, w)) in t.variations.iter().enumerate() {
        x.var_id[i] = Variation::ALL.iter().position(|&a| a == v).unwrap_or(0) as u32;
        x.var_weight[i] = w;
    }
    x.n_vars = t.variations.len() as u32;
    x.color = t.color;
    x.color_speed = t.color_speed;
    x.cum = cum;
    Ok(x)
}

impl FlameGenome {
    /// Flattens `g` (after framing).
    pub fn new(g: &Genome) -> Result<FlameGenome> {
        if g.transforms.is_empty() || g.transforms.len() > MAX_XFORMS {
            return Err(Error::Config(format!(
                "a genome has {} transforms; 1 to {MAX_XFORMS} fit",
                g.transforms.len()
            )));
        }
        let mut out = FlameGenome::zeroed();
        let cum = super::render::cumulative(g);
        for (i, (t, c)) in g.transforms.iter().zip(cum).enumerate() {
            out.xf[i] = xform(t, c)?;
        }
        out.n = g.transforms.len() as u32;
        if let Some(f) = &g.final_transform {
            out.final_xf = xform(f, 1.0)?;
            out.has_final = 1;
        }
        for (dst, p) in out.palette.iter_mut().zip(super::render::palette_bytes(g)) {
            *dst = [p[0], p[1], p[2], 0];
        }
        (out.cx, out.cy, out.side, out.gamma) = (g.frame.cx, g.frame.cy, g.frame.side, g.gamma);
        Ok(out)
    }
}

/// The argument block of the flame kernels: buffer addresses (device or host) and sizes.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct FlameArgs {
    /// One [`FlameGenome`] per picture.
    pub genomes: u64,
    /// One seed per picture.
    pub seeds: u64,
    /// images x (2 size)^2 x [count, r, g, b] u32, zeroed.
    pub buckets: u64,
    /// images x 65,536 u32 (histograms of capped counts).
    pub scratch: u64,
    /// images u32 (tone-mapping references).
    pub nref: u64,
    /// images x size x size x 3 bytes.
    pub out: u64,
    /// Plotted points per picture.
    pub points: u64,
    /// Pictures.
    pub images: u32,
    /// Output side.
    pub size: u32,
}

/// Plotted points per picture for `quality` points per output pixel.
pub fn points(size: usize, quality: f64) -> u64 {
    (quality * (size * size) as f64).ceil() as u64
}

pub use super::render::WALKER_POINTS;

/// Entries of each picture's capped-count histogram.
pub const SCRATCH_PER_IMAGE: usize = super::render::COUNT_CAP as usize + 1;
