//! AugMix plans for the executor comparisons: drawn, or with operators forced at every
//! chain step.

use pixmix::augmix::MAX_DEPTH;
use pixmix::plan::OpPlan;
use pixmix::{AugMixConfig, AugMixPlan, AugMixPlanner, Operator, RgbImage};

/// The 13 operators, then rotations by 90, 180 and 270 degrees (lossless on squares).
pub const FORCED: usize = 16;

/// Entry `k` of the forced list at `level` (0.1 to 10), negated when `negative` (for the
/// operators whose drawn parameter has a sign), for images of side `size`.
pub fn forced_op(k: usize, level: f64, negative: bool, size: usize) -> OpPlan {
    let (op, param) = match k {
        13..=15 => (Operator::Rotate, [90.0, 180.0, 270.0][k - 13]),
        _ => {
            let op = Operator::ALL[k];
            let p = op.param_from_level(level, size, size);
            let signed = matches!(
                op,
                Operator::Rotate
                    | Operator::ShearX
                    | Operator::ShearY
                    | Operator::TranslateX
                    | Operator::TranslateY
            );
            (op, if signed && negative { -p } else { p })
        }
    };
    OpPlan {
        param,
        op: op as u32,
        reserved: 0,
    }
}

/// Plans drawn for `images` (2N with `jsd`).
pub fn draw(config: &AugMixConfig, images: &[RgbImage], seed: u64, jsd: bool) -> Vec<AugMixPlan> {
    let mut planner = AugMixPlanner::new(config, seed).unwrap();
    let sizes = RgbImage::sizes(images);
    match jsd {
        true => planner.plan_jsd(&sizes).unwrap(),
        false => planner.plan(&sizes).unwrap(),
    }
}

/// Forces operators so that, over the first 16 plans, every entry of the forced list sits
/// at every step of chain 0; the other chains get other combinations. Plan i keeps its
/// drawn width and weights; with `ragged`, chain c of plan i gets depth 1 + (i + c) % 3
/// (else all chains are 3 deep).
pub fn force_every_op(plans: &mut [AugMixPlan], size: usize, ragged: bool) {
    for (i, p) in plans.iter_mut().enumerate() {
        for c in 0..p.width as usize {
            p.depths[c] = if ragged {
                1 + ((i + c) % 3) as u32
            } else {
                MAX_DEPTH as u32
            };
            for d in 0..MAX_DEPTH {
                p.ops[c][d] = if d < p.depths[c] as usize {
                    let k = (i + 3 * c + 5 * d) % FORCED;
                    let level = 0.1 + ((i + c + d) % 10) as f64;
                    forced_op(k, level, (i + c + d) % 2 == 1, size)
                } else {
                    OpPlan::NONE
                };
            }
        }
    }
}
