//! The AugMix CPU executor against the released computation written out on whole images:
//! every chain applied operator after operator (`ops::apply`, one image per step), then
//! `mix = 0; mix += w_i * preprocess(chain_i)` chain after chain and `(1 - m) *
//! preprocess(orig) + m * mix`, element by element in float32. Bit for bit, for every
//! width, depth and operator, the JSD views, unusual weights (signed zeros, negative, huge)
//! and every output type.

mod common;

use common::augmix::{draw, force_every_op};
use common::photos;
use pixmix::augmix::MAX_WIDTH;
use pixmix::mix::{normalize, tensorize};
use pixmix::ops::apply;
use pixmix::{AugMixConfig, AugMixExecutor, AugMixPlan, CpuExecutor, Dtype, Preset, RgbImage};

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

/// One AugMix sample (or the clean view) as the released code computes it.
fn reference(c: &AugMixConfig, p: &AugMixPlan, img: &RgbImage, clean: bool) -> Vec<f32> {
    let train = CpuExecutor::new(&c.base).unwrap();
    let orig = train.train_image(&p.train_plan(), img).unwrap();
    let po = preprocess(c, &orig);
    if clean {
        return po;
    }
    let mut mix = vec![0f32; po.len()];
    for chain in 0..p.width as usize {
        let mut aug = orig.clone();
        for op in p.chain(chain) {
            aug = apply(op.operator().unwrap().unwrap(), op.param, &aug).unwrap();
        }
        let w = p.weights[chain];
        for (m, x) in mix.iter_mut().zip(preprocess(c, &aug)) {
            *m += w * x;
        }
    }
    let (m, keep) = (p.m, 1.0 - p.m);
    po.iter()
        .zip(&mix)
        .map(|(&o, &x)| keep * o + m * x)
        .collect()
}

/// The executor on `plans` (2N with `jsd`), every output type, against [`reference`].
fn compare(c: &AugMixConfig, images: &[RgbImage], plans: &[AugMixPlan], jsd: bool, what: &str) {
    let exec = AugMixExecutor::with_threads(c, 2).unwrap();
    let n = images.len();
    let mut expected = Vec::new();
    if jsd {
        for (p, img) in plans[..n].iter().zip(images) {
            expected.extend(reference(c, p, img, true));
        }
    }
    for (p, img) in plans.iter().zip(images.iter().cycle()) {
        expected.extend(reference(c, p, img, false));
    }
    for dtype in [Dtype::F32, Dtype::F16, Dtype::Bf16] {
        let got = match jsd {
            true => exec.augment_jsd(plans, images, dtype),
            false => exec.augment(plans, images, dtype),
        }
        .unwrap()
        .to_f32_vec();
        let want: Vec<f32> = expected
            .iter()
            .map(|&x| match dtype {
                Dtype::F32 => x,
                Dtype::F16 => half::f16::from_f32(x).to_f32(),
                Dtype::Bf16 => half::bf16::from_f32(x).to_f32(),
            })
            .collect();
        assert_eq!(got.len(), want.len(), "{what} {dtype:?}");
        if !jsd && dtype == Dtype::F32 {
            // The same into a caller's buffer, whatever it held; a wrong length is refused.
            let mut into = vec![f32::NAN; got.len()];
            exec.augment_into(plans, images, &mut into).unwrap();
            assert_eq!(
                into.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "{what} augment_into"
            );
            assert!(exec.augment_into(plans, images, &mut into[1..]).is_err());
        }
        if let Some(k) = (0..got.len()).find(|&k| got[k].to_bits() != want[k].to_bits()) {
            panic!(
                "{what} {dtype:?}: element {k} is {} ({:#x}), expected {} ({:#x})",
                got[k],
                got[k].to_bits(),
                want[k],
                want[k].to_bits()
            );
        }
    }
}

fn config(preset: Preset, size: usize) -> AugMixConfig {
    let mut c = AugMixConfig::preset(preset);
    c.base.size = size;
    c.base.all_ops = true;
    c
}

#[test]
fn drawn_plans_equal_whole_images() {
    for (preset, size) in [(Preset::Cifar, 32), (Preset::Imagenet, 56)] {
        for width in [1, 2, 3, 5, MAX_WIDTH as u32] {
            for depth in [-1, 1, 3] {
                let mut c = config(preset, size);
                (c.width, c.depth) = (width, depth);
                let images = photos(6, &[(70, 50), (33, 47), (64, 64)], width as u64);
                let plans = draw(&c, &images, 40 + width as u64, false);
                let what = format!("{preset} width {width} depth {depth}");
                compare(&c, &images, &plans, false, &what);
                let plans = draw(&c, &images, 50 + width as u64, true);
                compare(&c, &images, &plans, true, &format!("{what} jsd"));
            }
        }
    }
}

#[test]
fn every_operator_at_every_step_equals_whole_images() {
    for (preset, size) in [(Preset::Cifar, 32), (Preset::Imagenet, 48)] {
        for ragged in [false, true] {
            let mut c = config(preset, size);
            c.width = 4;
            let images = photos(16, &[(70, 50), (33, 47), (64, 64)], 7);
            let mut plans = draw(&c, &images, 8, false);
            force_every_op(&mut plans, size, ragged);
            compare(
                &c,
                &images,
                &plans,
                false,
                &format!("{preset} ragged {ragged}"),
            );
        }
    }
}

/// Weights and m no planner draws, but the plan checks accept: every one must still give
/// the released arithmetic's bits (signed zeros included: `0 + -0` is `+0`).
#[test]
fn unusual_weights_equal_whole_images() {
    let cases: [(&[f32], f32); 9] = [
        (&[-0.0], 0.5),
        (&[-0.0, -0.0], -0.0),
        (&[0.0, -0.0, 0.0], 1.0),
        (&[-0.25, 1.25], 0.0),
        (&[1.0], -0.0),
        (&[3e38, 3e38, -3e38], 0.7),
        (&[1e-45, -1e-45], 1e-45),
        (
            &[
                0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.0078125,
            ],
            2.5,
        ),
        (&[-1.0, 2.0, -0.0], -3.0),
    ];
    for (preset, size) in [(Preset::Cifar, 32), (Preset::Imagenet, 40)] {
        let c = config(preset, size);
        let images = photos(3, &[(70, 50), (64, 64)], 11);
        for (k, (weights, m)) in cases.iter().enumerate() {
            let mut plans = draw(&c, &images, 12 + k as u64, false);
            for p in &mut plans {
                p.width = weights.len() as u32;
                for (i, w) in weights.iter().enumerate() {
                    p.weights[i] = *w;
                    if p.depths[i] == 0 {
                        p.depths[i] = 1;
                        p.ops[i][0] = p.ops[0][0];
                    }
                }
                p.m = *m;
            }
            compare(&c, &images, &plans, false, &format!("{preset} case {k}"));
        }
    }
}

/// Every sequence of one to three operators among the byte-wise ones (whose runs the
/// executor folds into tables), a rotation by 360 degrees (a copy), a rotation and an
/// enhance: the tables, the histograms carried through them and the
/// images written for the other operators give the operators' bytes.
#[test]
fn byte_wise_runs_equal_whole_images() {
    use pixmix::Operator::*;
    use pixmix::plan::OpPlan;
    let kinds = [
        (Autocontrast, 0.0),
        (Equalize, 0.0),
        (Posterize, 2.0),
        (Posterize, 7.0),
        (Solarize, 100.0),
        (Solarize, 256.0),
        (Rotate, 360.0),
        (Rotate, -17.0),
        (Contrast, 1.7),
    ];
    let op = |k: usize| OpPlan {
        param: kinds[k].1,
        op: kinds[k].0 as u32,
        reserved: 0,
    };
    let n = kinds.len();
    // Every sequence, as a chain 3, 2 and 1 deep (its last steps).
    let chains: Vec<Vec<usize>> = (0..n * n * n)
        .map(|i| [i / (n * n), i / n % n, i % n])
        .flat_map(|ks| (0..3).map(move |skip| ks[skip..].to_vec()))
        .collect();
    for (preset, size) in [(Preset::Cifar, 32), (Preset::Imagenet, 24)] {
        let mut c = config(preset, size);
        c.width = MAX_WIDTH as u32;
        let images = photos(chains.len().div_ceil(MAX_WIDTH), &[(40, 36), (24, 24)], 13);
        let mut plans = draw(&c, &images, 14, false);
        for (i, p) in plans.iter_mut().enumerate() {
            for j in 0..MAX_WIDTH {
                let ks = &chains[(i * MAX_WIDTH + j) % chains.len()];
                p.depths[j] = ks.len() as u32;
                p.ops[j] = [OpPlan::NONE; 3];
                for (d, &k) in ks.iter().enumerate() {
                    p.ops[j][d] = op(k);
                }
            }
        }
        compare(
            &c,
            &images,
            &plans,
            false,
            &format!("{preset} byte-wise runs"),
        );
    }
}
