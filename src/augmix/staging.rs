//! An AugMix batch laid out for the kernels (`kernels/augmix.cuh` mirrors every struct
//! here): the images' train transforms staged as PixMix's, the chains' operator
//! descriptors, their steps over a pool of image slots, the slots whose statistics the
//! operators need, the output views, and the launches that run all of it in order. The
//! CUDA executor and the host build of the kernels ([`crate::kernels`]) are fed from this
//! one builder.
//!
//! Slots 0..n hold the n originals. Chain i of a sample runs its operators in sequence:
//! every operator but the last is a step writing a fresh slot; the last is evaluated by
//! the mixing kernel at each output pixel, on the slot its predecessor wrote (or the
//! original), so a chain of depth d costs d - 1 image writes.

use bytemuck::{Pod, Zeroable};

use super::AugMixConfig;
use super::plan::{AugMixPlan, MAX_DEPTH, MAX_WIDTH};
use crate::error::{Error, Result};
use crate::plan::BatchPlan;
use crate::staging::{
    KIND_AUTOCONTRAST, KIND_CONTRAST, KIND_EQUALIZE, OpDesc, StagedBatch, TABLE_STRIDE, stage,
};

/// The most entries (blocks or grid rows) one launch covers; longer lists are split.
pub const MAX_LAUNCH: usize = 65_535;

/// `AugMixView::kind`: the preprocessed original (the JSD loss's clean view).
pub const VIEW_CLEAN: u32 = 0;
/// `AugMixView::kind`: an AugMix sample.
pub const VIEW_AUGMENTED: u32 = 1;
/// `AugMixLaunch::kernel`: statistics of image slots.
pub const LAUNCH_STATS: u32 = 0;
/// `AugMixLaunch::kernel`: chain steps.
pub const LAUNCH_STEP: u32 = 1;
/// `AugMixLaunch::kernel`: the output views.
pub const LAUNCH_MIX: u32 = 2;

/// One operator of a chain applied to a whole image slot.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct AugMixStep {
    /// Index of the operator in the descriptors.
    pub desc: u32,
    /// Slot read.
    pub src: u32,
    /// Slot written.
    pub dst: u32,
    /// Keeps the layout free of implicit padding.
    pub reserved: u32,
}

/// One output block of 3 x size x size.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct AugMixView {
    /// [`VIEW_CLEAN`] or [`VIEW_AUGMENTED`].
    pub kind: u32,
    /// Slot of the original.
    pub orig: u32,
    /// Chains mixed.
    pub width: u32,
    /// The weight of the mixture against the original.
    pub m: f32,
    /// The chains' weights.
    pub weights: [f32; MAX_WIDTH],
    /// Each chain's last operator (index in the descriptors).
    pub descs: [u32; MAX_WIDTH],
    /// The slot each chain's last operator reads.
    pub srcs: [u32; MAX_WIDTH],
}

/// The argument block of every AugMix kernel: buffer addresses (device or host) and sizes.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct AugMixArgs {
    /// `OpDesc`s.
    pub descs: u64,
    /// [`AugMixStep`]s.
    pub steps: u64,
    /// Slots to compute statistics of (`u32`s).
    pub stats: u64,
    /// [`AugMixView`]s.
    pub views: u64,
    /// The image slots, slots x size x size x 3.
    pub images: u64,
    /// Their statistics, slots x [`TABLE_STRIDE`].
    pub tables: u64,
    /// The output, views x 3 x size x size of `dtype`.
    pub out: u64,
    /// The launch's first entry of `stats`, `steps` or `views`.
    pub first: u32,
    /// The launch's number of entries.
    pub count: u32,
    /// Image side.
    pub size: u32,
    /// 0 f32, 1 f16, 2 bf16.
    pub dtype: u32,
    /// Normalization mean.
    pub mean: [f32; 3],
    /// Normalization standard deviation.
    pub std: [f32; 3],
}

/// One launch: a kernel ([`LAUNCH_STATS`], [`LAUNCH_STEP`] or [`LAUNCH_MIX`]) over
/// `count` entries from `first`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct AugMixLaunch {
    /// Which kernel.
    pub kernel: u32,
    /// First entry.
    pub first: u32,
    /// Entries (blocks of the statistics kernel, grid rows of the others).
    pub count: u32,
    /// Keeps the layout free of implicit padding.
    pub reserved: u32,
}

/// An AugMix batch laid out for the kernels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StagedAugMix {
    /// The images' train transforms, as PixMix samples (the originals' kernels read them).
    pub train: BatchPlan,
    /// Their staging: image table, resize intermediates and filters.
    pub staged: StagedBatch,
    /// Every chain operator's descriptor.
    pub descs: Vec<OpDesc>,
    /// Every step, by depth.
    pub steps: Vec<AugMixStep>,
    /// The slots whose statistics are computed, by depth.
    pub stats: Vec<u32>,
    /// One per output block.
    pub views: Vec<AugMixView>,
    /// The launches, in order.
    pub launches: Vec<AugMixLaunch>,
    /// Image slots: the originals, then one per step.
    pub slots: usize,
}

impl StagedAugMix {
    /// The argument block for buffers at these addresses (the launch fields zero).
    pub fn args(&self, config: &AugMixConfig, buffers: AugMixBuffers, dtype: u32) -> AugMixArgs {
        AugMixArgs {
            descs: buffers.descs,
            steps: buffers.steps,
            stats: buffers.stats,
            views: buffers.views,
            images: buffers.images,
            tables: buffers.tables,
            out: buffers.out,
            first: 0,
            count: 0,
            size: config.base.size as u32,
            dtype,
            mean: config.base.mean,
            std: config.base.std,
        }
    }

    /// Bytes of the image slots.
    pub fn image_bytes(&self, config: &AugMixConfig) -> usize {
        self.slots * config.base.size * config.base.size * 3
    }

    /// Bytes of the slots' statistics.
    pub fn table_bytes(&self) -> usize {
        self.slots * TABLE_STRIDE
    }
}

/// Where the buffers of [`AugMixArgs`] are.
#[derive(Clone, Copy, Debug, Default)]
pub struct AugMixBuffers {
    /// Descriptors.
    pub descs: u64,
    /// Steps.
    pub steps: u64,
    /// Slots for statistics.
    pub stats: u64,
    /// Views.
    pub views: u64,
    /// Image slots.
    pub images: u64,
    /// Statistics.
    pub tables: u64,
    /// Output.
    pub out: u64,
}

/// Whether the kernels read an operator's statistics.
fn needs_stats(d: &OpDesc) -> bool {
    matches!(d.kind, KIND_AUTOCONTRAST | KIND_EQUALIZE | KIND_CONTRAST)
}

/// Lays out AugMix samples of images of `sizes` stored back to back (whole, or with
/// `crop_only` only the crop of each resized crop): with `jsd` false, one per plan
/// (`plans[i]` for image i); with `jsd` true, `plans` holds 2N plans and the views are
/// `[clean(N); aug1(N); aug2(N)]`, as [`AugMixExecutor`](super::AugMixExecutor) returns
/// them. The plans must have passed the executor's checks.
pub fn stage_augmix(
    config: &AugMixConfig,
    plans: &[AugMixPlan],
    sizes: &[(usize, usize)],
    jsd: bool,
    crop_only: bool,
) -> Result<StagedAugMix> {
    let n = sizes.len();
    let expected = if jsd { 2 * n } else { n };
    if plans.len() != expected {
        return Err(Error::Input(format!(
            "{} plans for {n} images, expected {expected}",
            plans.len()
        )));
    }
    let size = config.base.size;
    let train = BatchPlan {
        samples: plans[..n].iter().map(AugMixPlan::train_plan).collect(),
        rounds: Vec::new(),
    };
    let staged = stage(&config.base, &train, sizes, crop_only)?;
    let mut out = StagedAugMix {
        train,
        staged,
        slots: n,
        ..StagedAugMix::default()
    };
    let mut steps: [Vec<AugMixStep>; MAX_DEPTH - 1] = Default::default();
    let mut stats: [Vec<u32>; MAX_DEPTH] = Default::default();
    // Whether a slot's statistics are already asked for (the originals are shared).
    let mut has_stats = vec![false; n];
    if jsd {
        out.views.extend((0..n).map(|j| AugMixView {
            kind: VIEW_CLEAN,
            orig: j as u32,
            ..AugMixView::zeroed()
        }));
    }
    let slot = |i: usize| {
        u32::try_from(i).map_err(|_| Error::Input("an AugMix batch needs over 2^32 images".into()))
    };
    for (q, p) in plans.iter().enumerate() {
        let orig = slot(q % n)?;
        let mut view = AugMixView {
            kind: VIEW_AUGMENTED,
            orig,
            width: p.width,
            m: p.m,
            weights: p.weights,
            ..AugMixView::zeroed()
        };
        for chain in 0..(p.width as usize).min(MAX_WIDTH) {
            let mut src = orig;
            let ops = p.chain(chain);
            for (d, op) in ops.iter().enumerate() {
                let desc = OpDesc::new(op, size)?;
                let index = slot(out.descs.len())?;
                if needs_stats(&desc) && !has_stats[src as usize] {
                    has_stats[src as usize] = true;
                    stats[d].push(src);
                }
                out.descs.push(desc);
                if d + 1 == ops.len() {
                    view.descs[chain] = index;
                    view.srcs[chain] = src;
                } else {
                    let dst = slot(out.slots)?;
                    out.slots += 1;
                    has_stats.push(false);
                    steps[d].push(AugMixStep {
                        desc: index,
                        src,
                        dst,
                        reserved: 0,
                    });
                    src = dst;
                }
            }
        }
        out.views.push(view);
    }
    let mut launch = |kernel: u32, first: usize, count: usize| {
        for start in (0..count).step_by(MAX_LAUNCH) {
            out.launches.push(AugMixLaunch {
                kernel,
                first: (first + start) as u32,
                count: (count - start).min(MAX_LAUNCH) as u32,
                reserved: 0,
            });
        }
    };
    for (d, slots) in stats.iter_mut().enumerate() {
        launch(LAUNCH_STATS, out.stats.len(), slots.len());
        out.stats.append(slots);
        if let Some(list) = steps.get_mut(d) {
            launch(LAUNCH_STEP, out.steps.len(), list.len());
            out.steps.append(list);
        }
    }
    launch(LAUNCH_MIX, 0, out.views.len());
    Ok(out)
}
