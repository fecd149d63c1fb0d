//! The AugMix kernels' stages, compiled for the host and run in the CUDA executor's launch
//! order, against the CPU executor on the same plans, bit for bit: every operator at every
//! chain step, fixed and random depths, widths 1 to 4, the JSD views, every output type.

mod common;

use std::mem::{offset_of, size_of};

use common::augmix::{FORCED, draw, force_every_op};
use common::photos;
use pixmix::augmix::staging::{
    AugMixArgs, AugMixLaunch, AugMixStep, AugMixView, LAUNCH_MIX, LAUNCH_STATS, LAUNCH_STEP,
    MAX_LAUNCH, stage_augmix,
};
use pixmix::kernels::{HostAugMixExecutor, host_augmix_layout};
use pixmix::{AugMixConfig, AugMixExecutor, AugMixPlan, Dtype, Preset, RgbImage};

#[test]
fn augmix_struct_layouts_agree_with_the_cuda_header() {
    let expected = [
        size_of::<AugMixStep>(),
        offset_of!(AugMixStep, dst),
        size_of::<AugMixView>(),
        offset_of!(AugMixView, m),
        offset_of!(AugMixView, weights),
        offset_of!(AugMixView, descs),
        offset_of!(AugMixView, srcs),
        size_of::<AugMixArgs>(),
        offset_of!(AugMixArgs, images),
        offset_of!(AugMixArgs, out),
        offset_of!(AugMixArgs, first),
        offset_of!(AugMixArgs, dtype),
        offset_of!(AugMixArgs, mean),
        offset_of!(AugMixArgs, std),
        size_of::<AugMixLaunch>(),
        offset_of!(AugMixLaunch, count),
    ]
    .map(|v| v as u64);
    assert_eq!(host_augmix_layout(), expected);
}

/// A plan's chains, weights and m, briefly.
fn describe(p: &AugMixPlan) -> String {
    let chains: Vec<String> = (0..p.width as usize)
        .map(|c| {
            let ops: Vec<String> = p
                .chain(c)
                .iter()
                .map(|o| format!("{:?}({})", o.operator().ok().flatten(), o.param))
                .collect();
            format!("{} x [{}]", p.weights[c], ops.join(", "))
        })
        .collect();
    format!("m {}, chains {}", p.m, chains.join("; "))
}

/// Both executors on the same plans, every dtype: the bytes must be equal.
fn compare(c: &AugMixConfig, images: &[RgbImage], plans: &[AugMixPlan], jsd: bool, what: &str) {
    let cpu = AugMixExecutor::new(c).unwrap();
    let host = HostAugMixExecutor::new(c).unwrap();
    for dtype in [Dtype::F32, Dtype::F16, Dtype::Bf16] {
        let (a, b) = match jsd {
            true => (
                cpu.augment_jsd(plans, images, dtype).unwrap(),
                host.augment_jsd(plans, images, dtype).unwrap(),
            ),
            false => (
                cpu.augment(plans, images, dtype).unwrap(),
                host.augment(plans, images, dtype).unwrap(),
            ),
        };
        assert_eq!(a.shape, b.shape);
        if a.as_bytes() != b.as_bytes() {
            let (fa, fb) = (a.to_f32_vec(), b.to_f32_vec());
            let bad = fa
                .iter()
                .zip(&fb)
                .position(|(x, y)| x.to_bits() != y.to_bits())
                .unwrap();
            let per = 3 * c.base.size * c.base.size;
            let view = bad / per;
            let n = images.len();
            let plan = match (jsd, view) {
                (true, v) if v < n => None,
                (true, v) => Some(plans[v - n]),
                (false, v) => Some(plans[v]),
            };
            panic!(
                "{what} {dtype:?}: first difference at value {bad} (view {view}, pixel {}): \
                 cpu {} kernels {}; {}",
                bad % per,
                fa[bad],
                fb[bad],
                plan.map_or("the clean view".into(), |p| describe(&p))
            );
        }
    }
}

#[test]
fn augmix_kernels_equal_the_cpu_executor_on_cifar() {
    let images = photos(24, &[(32, 32), (40, 33), (25, 24)], 100);
    for (k, (width, depth, all_ops)) in [
        (1, -1, false),
        (2, 1, true),
        (3, -1, false),
        (3, -1, true),
        (4, 2, false),
        (3, 3, true),
    ]
    .into_iter()
    .enumerate()
    {
        let mut c = AugMixConfig::preset(Preset::Cifar);
        (c.width, c.depth, c.base.all_ops) = (width, depth, all_ops);
        let what = format!("width {width} depth {depth} all_ops {all_ops}");
        compare(
            &c,
            &images,
            &draw(&c, &images, k as u64, false),
            false,
            &what,
        );
        compare(
            &c,
            &images,
            &draw(&c, &images, 50 + k as u64, true),
            true,
            &what,
        );
    }
}

#[test]
fn augmix_kernels_equal_the_cpu_executor_on_ragged_imagenet_batches() {
    let images = photos(
        10,
        &[(500, 375), (224, 224), (123, 456), (1000, 90), (3, 2)],
        100,
    );
    for all_ops in [false, true] {
        let mut c = AugMixConfig::preset(Preset::Imagenet);
        c.base.all_ops = all_ops;
        let what = format!("imagenet all_ops {all_ops}");
        compare(&c, &images, &draw(&c, &images, 2, false), false, &what);
        compare(&c, &images, &draw(&c, &images, 3, true), true, &what);
    }
}

#[test]
fn augmix_kernels_equal_the_cpu_executor_for_every_operator_at_every_step() {
    // Odd size, strong severity; each of the 16 forced operators (the 13 and the lossless
    // rotations) at each of the three steps of chain 0, in chains 1 to 3 other orders.
    let mut c = AugMixConfig::preset(Preset::Cifar);
    c.base.size = 31;
    c.base.severity = 10;
    c.base.all_ops = true;
    let images = photos(2 * FORCED, &[(31, 31), (35, 40), (64, 48)], 100);
    for (width, ragged) in [(4, false), (1, false), (2, true), (3, true)] {
        c.width = width;
        for jsd in [false, true] {
            let mut plans = draw(&c, &images, width as u64, jsd);
            force_every_op(&mut plans, c.base.size, ragged);
            let what = format!("width {width} ragged {ragged} jsd {jsd}");
            compare(&c, &images, &plans, jsd, &what);
        }
    }
}

#[test]
fn staging_shares_the_originals_statistics_and_orders_the_launches() {
    let mut c = AugMixConfig::preset(Preset::Cifar);
    c.width = 4;
    c.base.all_ops = true;
    let images = photos(FORCED, &[(32, 32)], 1);
    let mut plans = draw(&c, &images, 1, true);
    force_every_op(&mut plans, 32, true);
    let staged = stage_augmix(&c, &plans, &RgbImage::sizes(&images), true, false).unwrap();
    let n = images.len();
    assert_eq!(staged.views.len(), 3 * n);
    // One step per operator but each chain's last; one descriptor per operator.
    let ops: usize = plans
        .iter()
        .map(|p| (0..4).map(|c| p.depths[c] as usize).sum::<usize>())
        .sum();
    assert_eq!(staged.descs.len(), ops);
    assert_eq!(staged.steps.len(), ops - 2 * n * 4);
    assert_eq!(staged.slots, n + staged.steps.len());
    // Each slot's statistics at most once; before any launch that reads the slot.
    let mut seen = staged.stats.clone();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), staged.stats.len());
    let mut ready = vec![false; staged.slots];
    let mut written = vec![false; staged.slots];
    written[..n].fill(true);
    for l in &staged.launches {
        let range = l.first as usize..(l.first + l.count) as usize;
        match l.kernel {
            LAUNCH_STATS => {
                for &s in &staged.stats[range] {
                    assert!(written[s as usize]);
                    ready[s as usize] = true;
                }
            }
            LAUNCH_STEP => {
                for st in &staged.steps[range] {
                    assert!(written[st.src as usize] && !written[st.dst as usize]);
                    let kind = staged.descs[st.desc as usize].kind;
                    assert!(!matches!(kind, 2 | 3 | 11) || ready[st.src as usize]);
                    written[st.dst as usize] = true;
                }
            }
            _ => {
                assert_eq!(l.kernel, LAUNCH_MIX);
                for v in &staged.views[range] {
                    for i in 0..v.width as usize {
                        assert!(written[v.srcs[i] as usize]);
                        let kind = staged.descs[v.descs[i] as usize].kind;
                        assert!(!matches!(kind, 2 | 3 | 11) || ready[v.srcs[i] as usize]);
                    }
                }
            }
        }
    }
    assert!(written.iter().all(|&w| w));
}

#[test]
fn lists_longer_than_a_grid_are_split_into_launches() {
    // 70,000 JSD samples: 210,000 views, 140,000 AugMix draws of chains 2 deep.
    let mut c = AugMixConfig::preset(Preset::Cifar);
    (c.width, c.depth) = (1, 2);
    let n = 70_000;
    let sizes = vec![(32, 32); n];
    let plans = pixmix::AugMixPlanner::new(&c, 1)
        .unwrap()
        .plan_jsd(&sizes)
        .unwrap();
    let staged = stage_augmix(&c, &plans, &sizes, true, true).unwrap();
    assert_eq!(staged.views.len(), 3 * n);
    assert_eq!(staged.steps.len(), 2 * n);
    for (kernel, total) in [
        (LAUNCH_STATS, staged.stats.len()),
        (LAUNCH_STEP, staged.steps.len()),
        (LAUNCH_MIX, staged.views.len()),
    ] {
        let launches: Vec<_> = staged
            .launches
            .iter()
            .filter(|l| l.kernel == kernel)
            .collect();
        assert!(
            launches
                .iter()
                .all(|l| l.count as usize <= MAX_LAUNCH && l.count > 0)
        );
        // Consecutive, covering every entry once.
        let mut next = 0;
        for l in &launches {
            assert_eq!(l.first as usize, next);
            next += l.count as usize;
        }
        assert_eq!(next, total, "kernel {kernel}");
    }
    assert_eq!(
        staged
            .launches
            .iter()
            .filter(|l| l.kernel == LAUNCH_MIX)
            .count(),
        (3 * n).div_ceil(MAX_LAUNCH)
    );
}
