//! The AugMix CPU executor: independent of the thread count, the JSD layout, the chain
//! semantics (each operator on the previous one's 8-bit output) and the plan checks.

mod common;

use pixmix::augmix::MAX_WIDTH;
use pixmix::mix::{normalize, tensorize};
use pixmix::plan::{NO_OP, OpPlan};
use pixmix::{
    AugMixConfig, AugMixExecutor, AugMixPlan, AugMixPlanner, CpuExecutor, Dtype, Operator, Preset,
    RgbImage,
};

fn setup(preset: Preset, n: usize, seed: u64) -> (AugMixConfig, Vec<RgbImage>, Vec<AugMixPlan>) {
    let mut c = AugMixConfig::preset(preset);
    if preset == Preset::Imagenet {
        c.base.size = 64; // keeps the test fast; the transform is the preset's
    }
    c.base.all_ops = true;
    let images = common::photos(n, &[(70, 50), (33, 47), (64, 64)], seed);
    let plans = AugMixPlanner::new(&c, seed)
        .unwrap()
        .plan_jsd(&RgbImage::sizes(&images))
        .unwrap();
    (c, images, plans)
}

/// `preprocess(img)`, planar.
fn preprocess(c: &AugMixConfig, img: &RgbImage) -> Vec<f32> {
    let plane = img.width() * img.height();
    let mut out = vec![0f32; 3 * plane];
    for (i, px) in img.as_bytes().chunks_exact(3).enumerate() {
        for ch in 0..3 {
            out[ch * plane + i] = normalize(tensorize(px[ch]), c.base.mean[ch], c.base.std[ch]);
        }
    }
    out
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn output_is_independent_of_threads_and_dtype_converts_f32() {
    for preset in Preset::ALL {
        let (c, images, plans) = setup(preset, 12, 3);
        let plans = &plans[..12];
        let one = AugMixExecutor::with_threads(&c, 1).unwrap();
        let three = AugMixExecutor::with_threads(&c, 3).unwrap();
        let a = one.augment(plans, &images, Dtype::F32).unwrap();
        let b = three.augment(plans, &images, Dtype::F32).unwrap();
        assert_eq!(a.shape, [12, 3, c.base.size, c.base.size]);
        assert_eq!(bits(&a.to_f32_vec()), bits(&b.to_f32_vec()), "{preset}");
        let f32s = a.to_f32_vec();
        for dtype in [Dtype::F16, Dtype::Bf16] {
            let h = three.augment(plans, &images, dtype).unwrap();
            let expected: Vec<f32> = f32s
                .iter()
                .map(|&x| match dtype {
                    Dtype::F16 => half::f16::from_f32(x).to_f32(),
                    _ => half::bf16::from_f32(x).to_f32(),
                })
                .collect();
            assert_eq!(bits(&h.to_f32_vec()), bits(&expected), "{preset} {dtype:?}");
        }
    }
}

#[test]
fn jsd_views_are_clean_then_two_augmix_blocks() {
    for preset in Preset::ALL {
        let (c, images, plans) = setup(preset, 5, 4);
        let exec = AugMixExecutor::new(&c).unwrap();
        let jsd = exec.augment_jsd(&plans, &images, Dtype::F32).unwrap();
        let per = 3 * c.base.size * c.base.size;
        assert_eq!(jsd.shape, [15, 3, c.base.size, c.base.size]);
        let jsd = jsd.to_f32_vec();
        let aug1 = exec.augment(&plans[..5], &images, Dtype::F32).unwrap();
        let aug2 = exec.augment(&plans[5..], &images, Dtype::F32).unwrap();
        assert_eq!(bits(&jsd[5 * per..10 * per]), bits(&aug1.to_f32_vec()));
        assert_eq!(bits(&jsd[10 * per..]), bits(&aug2.to_f32_vec()));
        assert_ne!(bits(&jsd[5 * per..10 * per]), bits(&jsd[10 * per..]));
        let train = CpuExecutor::new(&c.base).unwrap();
        for (i, img) in images.iter().enumerate() {
            let orig = train.train_image(&plans[i].train_plan(), img).unwrap();
            let clean = &jsd[i * per..(i + 1) * per];
            assert_eq!(
                bits(clean),
                bits(&preprocess(&c, &orig)),
                "{preset} image {i}"
            );
        }
        // Plans whose train transforms differ are refused.
        let mut bad = plans.clone();
        bad[6].flip ^= 1;
        assert!(exec.augment_jsd(&bad, &images, Dtype::F32).is_err());
        assert!(exec.augment_jsd(&plans[1..], &images, Dtype::F32).is_err());
    }
}

#[test]
fn chains_compose_operators_on_8_bit_results_and_mix_in_float32() {
    let (c, images, plans) = setup(Preset::Cifar, 1, 5);
    let exec = AugMixExecutor::new(&c).unwrap();
    let train = CpuExecutor::new(&c.base).unwrap();
    let orig = train
        .train_image(&plans[0].train_plan(), &images[0])
        .unwrap();
    let op = |o: Operator, param: f64| OpPlan {
        param,
        op: o as u32,
        reserved: 0,
    };
    // Two chains: rotate then posterize (2 bits) then equalize; solarize alone.
    let mut p = plans[0];
    p.width = 2;
    p.depths = [0; MAX_WIDTH];
    p.depths[..2].copy_from_slice(&[3, 1]);
    p.ops = [[OpPlan::NONE; 3]; MAX_WIDTH];
    p.ops[0] = [
        op(Operator::Rotate, 17.5),
        op(Operator::Posterize, 2.0),
        op(Operator::Equalize, 0.0),
    ];
    p.ops[1][0] = op(Operator::Solarize, 100.0);
    p.weights = [0.0; MAX_WIDTH];
    p.weights[..2].copy_from_slice(&[0.3, 0.7]);
    p.m = 0.6;
    let got = exec
        .augment(&[p], &images, Dtype::F32)
        .unwrap()
        .to_f32_vec();
    let apply = pixmix::ops::apply;
    let chain0 = apply(Operator::Rotate, 17.5, &orig).unwrap();
    let chain0 = apply(Operator::Posterize, 2.0, &chain0).unwrap();
    let chain0 = apply(Operator::Equalize, 0.0, &chain0).unwrap();
    let chain1 = apply(Operator::Solarize, 100.0, &orig).unwrap();
    let (p0, p1, po) = (
        preprocess(&c, &chain0),
        preprocess(&c, &chain1),
        preprocess(&c, &orig),
    );
    let expected: Vec<f32> = (0..po.len())
        .map(|k| {
            let mut mix = 0f32;
            mix += 0.3f32 * p0[k];
            mix += 0.7f32 * p1[k];
            (1.0f32 - 0.6) * po[k] + 0.6f32 * mix
        })
        .collect();
    assert_eq!(bits(&got), bits(&expected));
    // m = 0 is the clean view; reordering a chain changes the result.
    let mut clean = p;
    clean.m = 0.0;
    let got = exec.augment(&[clean], &images, Dtype::F32).unwrap();
    assert_eq!(bits(&got.to_f32_vec()), bits(&po));
    let mut swapped = p;
    swapped.ops[0].swap(1, 2);
    let got = exec.augment(&[swapped], &images, Dtype::F32).unwrap();
    assert_ne!(bits(&got.to_f32_vec()), bits(&expected));
}

#[test]
fn bad_plans_are_refused_before_any_work() {
    let (c, images, plans) = setup(Preset::Cifar, 2, 6);
    let exec = AugMixExecutor::new(&c).unwrap();
    let plans = &plans[..2];
    exec.augment(plans, &images, Dtype::F32).unwrap();
    let cases: [fn(&mut AugMixPlan); 8] = [
        |p| p.width = 0,
        |p| p.width = MAX_WIDTH as u32 + 1,
        |p| p.depths[0] = 0,
        |p| p.depths[1] = 4,
        |p| p.ops[0][0].op = 99,
        |p| p.ops[0][0].op = NO_OP,
        |p| p.weights[0] = f32::NAN,
        |p| p.crop_x = 1000,
    ];
    for (i, f) in cases.iter().enumerate() {
        let mut bad = plans.to_vec();
        f(&mut bad[1]);
        assert!(
            exec.augment(&bad, &images, Dtype::F32).is_err(),
            "case {i} accepted"
        );
    }
    assert!(exec.augment(&plans[..1], &images, Dtype::F32).is_err());
}

#[test]
fn augmix_api_is_batch_independent_and_rewinds_on_failure() {
    let mut c = AugMixConfig::preset(Preset::Cifar);
    c.base.all_ops = true;
    let images = common::photos(6, &[(40, 36), (32, 32)], 9);
    let whole = pixmix::AugMix::new(c.clone(), 9)
        .unwrap()
        .augment(&images, Dtype::F32)
        .unwrap()
        .to_f32_vec();
    let mut split = pixmix::AugMix::new(c.clone(), 9)
        .unwrap()
        .with_threads(2)
        .unwrap();
    let mut parts = split
        .augment(&images[..2], Dtype::F32)
        .unwrap()
        .to_f32_vec();
    // A failing batch (an image too small for the crop) consumes nothing.
    let tiny = common::photos(1, &[(8, 8)], 1);
    assert!(split.augment(&tiny, Dtype::F32).is_err());
    assert!(split.augment_jsd(&tiny, Dtype::F32).is_err());
    assert_eq!(split.planner().position(), 2);
    let views: Vec<_> = images[2..].iter().map(|i| i.view()).collect();
    parts.extend(split.augment(&views, Dtype::F32).unwrap().to_f32_vec());
    assert_eq!(bits(&whole), bits(&parts));
    // The JSD batch's first AugMix block is the plain batch.
    let jsd = pixmix::AugMix::new(c, 9)
        .unwrap()
        .augment_jsd(&images, Dtype::F32)
        .unwrap();
    assert_eq!(jsd.shape, [18, 3, 32, 32]);
    let per = 3 * 32 * 32;
    assert_eq!(bits(&jsd.to_f32_vec()[6 * per..12 * per]), bits(&whole));
}
