//! The CPU executor's contract: determinism across thread counts, dtypes, ragged batches,
//! and clear errors (never panics) on bad input.

mod common;

use common::{make_image, mixing};

fn photos(n: usize, sizes: &[(usize, usize)]) -> Vec<RgbImage> {
    common::photos(n, sizes, 0)
}
use half::{bf16, f16};
use pixmix::plan::OpPlan;
use pixmix::{Config, CpuExecutor, Dtype, Error, MixingSet, PixMix, Planner, Preset, RgbImage};

#[test]
fn output_does_not_depend_on_thread_count() {
    for preset in Preset::ALL {
        let config = Config::preset(preset);
        let mix = mixing(&config);
        let images = photos(24, &[(32, 32), (300, 173), (250, 260)]);
        let sizes: Vec<_> = images.iter().map(|i| (i.width(), i.height())).collect();
        let plan = Planner::new(&config, 5)
            .unwrap()
            .plan(&sizes, mix.sizes())
            .unwrap();
        let one = CpuExecutor::with_threads(&config, 1).unwrap();
        let two = CpuExecutor::with_threads(&config, 2).unwrap();
        let a = one.augment(&plan, &images, &mix, Dtype::F32).unwrap();
        let b = two.augment(&plan, &images, &mix, Dtype::F32).unwrap();
        assert_eq!(a.as_bytes(), b.as_bytes(), "{preset}");
        assert_eq!(a.shape, [24, 3, config.size, config.size]);
        assert!(a.to_f32_vec().iter().all(|v| v.is_finite()));
    }
}

#[test]
fn half_outputs_are_the_rounded_f32_output() {
    let config = Config::preset(Preset::Cifar);
    let mix = mixing(&config);
    let images = photos(8, &[(32, 32)]);
    let plan = Planner::new(&config, 6)
        .unwrap()
        .plan(&[(32, 32); 8], mix.sizes())
        .unwrap();
    let ex = CpuExecutor::new(&config).unwrap();
    let f32s = ex
        .augment(&plan, &images, &mix, Dtype::F32)
        .unwrap()
        .to_f32_vec();
    let h = ex.augment(&plan, &images, &mix, Dtype::F16).unwrap();
    let b = ex.augment(&plan, &images, &mix, Dtype::Bf16).unwrap();
    assert_eq!(h.dtype(), Dtype::F16);
    let expect_h: Vec<f32> = f32s.iter().map(|&v| f16::from_f32(v).to_f32()).collect();
    let expect_b: Vec<f32> = f32s.iter().map(|&v| bf16::from_f32(v).to_f32()).collect();
    assert_eq!(h.to_f32_vec(), expect_h);
    assert_eq!(b.to_f32_vec(), expect_b);
}

#[test]
fn no_operator_and_no_round_is_the_normalized_original() {
    let config = Config::preset(Preset::Cifar);
    let mix = mixing(&config);
    let images = photos(6, &[(40, 36)]);
    let mut plan = Planner::new(&config, 7)
        .unwrap()
        .plan(&[(40, 36); 6], mix.sizes())
        .unwrap();
    for s in &mut plan.samples {
        s.base = OpPlan::NONE;
        s.round_count = 0;
    }
    let ex = CpuExecutor::new(&config).unwrap();
    let out = ex
        .augment(&plan, &images, &mix, Dtype::F32)
        .unwrap()
        .to_f32_vec();
    for (i, s) in plan.samples.iter().enumerate() {
        let orig = ex.train_image(s, &images[i]).unwrap();
        for y in 0..32 {
            for x in 0..32 {
                for c in 0..3 {
                    let v = orig.row(y)[x * 3 + c] as f32 / 255.0;
                    let expected = (v - 0.5) / 0.5;
                    assert_eq!(out[i * 3072 + c * 1024 + y * 32 + x], expected);
                }
            }
        }
        // Flip and padded crop: pixel (x, y) comes from the mirrored source column.
        let (cx, cy) = (s.crop_x, s.crop_y);
        let (sx, sy) = (16 + cx, 16 + cy);
        if (0..40).contains(&sx) && (0..36).contains(&sy) {
            let col = if s.flip == 1 { 39 - sx } else { sx } as usize;
            assert_eq!(
                &orig.row(16)[48..51],
                &images[i].row(sy as usize)[col * 3..col * 3 + 3]
            );
        }
    }
}

#[test]
fn pixmix_facade_runs_ragged_imagenet_batches() {
    let config = Config::preset(Preset::Imagenet);
    let mix = mixing(&config);
    let mut pm = PixMix::new(config, mix, 8)
        .unwrap()
        .with_threads(2)
        .unwrap();
    let images = photos(5, &[(500, 375), (224, 224), (123, 456), (1, 1)]);
    let (t, plan) = pm.augment_with_plan(&images, Dtype::F16).unwrap();
    assert_eq!(t.shape, [5, 3, 224, 224]);
    assert_eq!(plan.len(), 5);
    assert_eq!(pm.planner().position(), 5);
}

fn expect_err<T: std::fmt::Debug>(r: Result<T, Error>, needle: &str) {
    let e = r.expect_err("expected an error");
    let msg = e.to_string();
    assert!(
        msg.contains(needle),
        "error '{msg}' does not mention '{needle}'"
    );
}

#[test]
fn invalid_settings_are_errors() {
    let base = Config::preset(Preset::Cifar);
    type Mutation = Box<dyn Fn(&mut Config)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (Box::new(|c| c.beta = 0.0), "beta"),
        (Box::new(|c| c.beta = -1.0), "beta"),
        (Box::new(|c| c.beta = f64::NAN), "beta"),
        (Box::new(|c| c.beta = f64::INFINITY), "beta"),
        (Box::new(|c| c.k = 65), "k must be"),
        (Box::new(|c| c.severity = 0), "severity"),
        (Box::new(|c| c.severity = 11), "severity"),
        (Box::new(|c| c.size = 0), "size"),
        (Box::new(|c| c.mixing_resize = 10), "mixing_resize"),
        (Box::new(|c| c.std = [0.5, 0.0, 0.5]), "std[1]"),
        (Box::new(|c| c.mean = [f32::NAN, 0.0, 0.5]), "mean[0]"),
        (
            Box::new(|c| {
                c.train = pixmix::TrainTransform::ResizedCropFlip {
                    scale: (0.5, 0.1),
                    ratio: (0.75, 1.3),
                }
            }),
            "scale",
        ),
    ];
    for (mutate, needle) in cases {
        let mut c = base.clone();
        mutate(&mut c);
        expect_err(c.validate(), needle);
        expect_err(Planner::new(&c, 0), needle);
        expect_err(CpuExecutor::new(&c), needle);
    }
    expect_err(CpuExecutor::with_threads(&base, 0), "threads");
}

#[test]
fn bad_inputs_are_errors() {
    let config = Config::preset(Preset::Cifar);
    let mix = mixing(&config);
    let mut planner = Planner::new(&config, 1).unwrap();
    expect_err(
        planner.plan(&[(20, 40)], mix.sizes()),
        "smaller than the 32x32 crop",
    );
    expect_err(planner.plan(&[(0, 40)], mix.sizes()), "empty");
    expect_err(planner.plan(&[(32, 32)], &[]), "empty");
    expect_err(
        planner.plan(&[(32, 32)], &[(31, 40)]),
        "smaller than the 32x32 crop",
    );
    assert_eq!(planner.position(), 0, "failed plans consume no samples");

    let images = photos(2, &[(32, 32)]);
    let plan = planner.plan(&[(32, 32), (32, 32)], mix.sizes()).unwrap();
    let ex = CpuExecutor::new(&config).unwrap();
    expect_err(
        ex.augment(&plan, &images[..1], &mix, Dtype::F32),
        "2 samples but 1 images",
    );
    let mut out = vec![0f32; 10];
    expect_err(
        ex.augment_into(&plan, &images, &mix, &mut out),
        "output buffer",
    );
    assert!(out.iter().all(|&v| v == 0.0), "nothing written on error");

    let mut bad = plan.clone();
    bad.samples[1].mixing_index = 99;
    expect_err(
        ex.augment(&bad, &images, &mix, Dtype::F32),
        "mixing index 99",
    );
    let mut bad = plan.clone();
    bad.samples[0].base = OpPlan {
        param: 0.0,
        op: 77,
        reserved: 0,
    };
    expect_err(
        ex.augment(&bad, &images, &mix, Dtype::F32),
        "unknown operator id 77",
    );
    let mut bad = plan.clone();
    bad.samples[0].base = OpPlan {
        param: 12.0,
        op: 2,
        reserved: 0,
    };
    expect_err(ex.augment(&bad, &images, &mix, Dtype::F32), "posterize");
    let mut bad = plan.clone();
    bad.samples[0].round_count = 1000;
    expect_err(ex.augment(&bad, &images, &mix, Dtype::F32), "rounds");
    let mut bad = plan.clone();
    bad.samples[0].crop_x = 30;
    expect_err(ex.augment(&bad, &images, &mix, Dtype::F32), "does not fit");
    let mut bad = plan;
    bad.samples[0].transform = 1;
    expect_err(ex.augment(&bad, &images, &mix, Dtype::F32), "transform");

    expect_err(RgbImage::new(2, 2, vec![0; 11]), "needs 12 bytes");
    expect_err(RgbImage::new(0, 2, vec![]), "empty");
    expect_err(
        MixingSet::from_images(Vec::<RgbImage>::new(), 36),
        "no picture",
    );
    expect_err(
        pixmix::ops::apply(pixmix::Operator::Rotate, f64::NAN, &images[0]),
        "finite",
    );
}

#[test]
fn mixing_folders_skip_unreadable_files_and_reject_empty_ones() {
    let dir = std::env::temp_dir().join(format!("pixmix-mixing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("class_a/nested")).unwrap();
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    make_image("smooth", 1, 60, 45)
        .to_image_crate()
        .save(dir.join("class_a/one.png"))
        .unwrap();
    make_image("noise", 2, 40, 80)
        .to_image_crate()
        .save(dir.join("class_a/nested/two.jpg"))
        .unwrap();
    std::fs::write(
        dir.join("class_a/broken.png"),
        b"\x89PNG\r\n\x1a\nnot really",
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), b"hello").unwrap();
    let set = MixingSet::from_dir(&dir, 36).unwrap();
    assert_eq!(set.len(), 2);
    assert_eq!(set.skipped().len(), 2);
    assert_eq!(set.sizes(), &[(36, 72), (48, 36)]);
    assert_eq!(set.offsets(), &[0, 36 * 72 * 3]);
    expect_err(
        MixingSet::from_dir(&dir.join("empty"), 36),
        "no usable image",
    );
    expect_err(
        MixingSet::from_dir(&dir.join("missing"), 36),
        "not a folder",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Plans made of random bytes (and random edits of valid plans) are rejected or executed,
/// never a panic; whatever the CPU executor accepts, the kernels' host build accepts and
/// computes identically, so no plan the checks let through can index out of bounds.
#[test]
#[cfg(feature = "cuda")]
fn arbitrary_plans_are_errors_or_results_never_panics() {
    use pixmix::kernels::HostKernelExecutor;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for preset in Preset::ALL {
        let config = Config::preset(preset);
        let mix = mixing(&config);
        let images = photos(4, &[(40, 36), (300, 200)]);
        let sizes: Vec<_> = images.iter().map(|i| (i.width(), i.height())).collect();
        let cpu = CpuExecutor::new(&config).unwrap();
        let kernels = HostKernelExecutor::new(&config).unwrap();
        let valid = Planner::new(&config, 1)
            .unwrap()
            .plan(&sizes, mix.sizes())
            .unwrap();
        let (mut accepted, mut rejected) = (0, 0);
        for trial in 0..400 {
            let mut plan = valid.clone();
            if trial % 4 == 0 {
                // Entirely random bytes.
                let s: &mut [u8] = bytemuck::cast_slice_mut(&mut plan.samples);
                s.iter_mut().for_each(|b| *b = next() as u8);
                let r: &mut [u8] = bytemuck::cast_slice_mut(&mut plan.rounds);
                r.iter_mut().for_each(|b| *b = next() as u8);
            } else {
                // One field of one sample or round set to a random or boundary value.
                let i = (next() % plan.samples.len() as u64) as usize;
                let words: &mut [u32] =
                    bytemuck::cast_slice_mut(std::slice::from_mut(&mut plan.samples[i]));
                let w = (next() % words.len() as u64) as usize;
                words[w] = [0, 1, 2, 31, 32, 255, u32::MAX, u32::MAX - 1, next() as u32]
                    [(next() % 9) as usize];
                if !plan.rounds.is_empty() {
                    let j = (next() % plan.rounds.len() as u64) as usize;
                    let rw: &mut [u32] =
                        bytemuck::cast_slice_mut(std::slice::from_mut(&mut plan.rounds[j]));
                    let k = (next() % rw.len() as u64) as usize;
                    if trial % 3 == 0 {
                        rw[k] = next() as u32;
                    }
                }
            }
            let a = cpu.augment(&plan, &images, &mix, Dtype::F32);
            match a {
                Ok(a) => {
                    accepted += 1;
                    let b = kernels.augment(&plan, &images, &mix, Dtype::F32).unwrap();
                    let same = a
                        .to_f32_vec()
                        .iter()
                        .zip(b.to_f32_vec())
                        .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()));
                    assert!(same, "{preset}: executors differ on an accepted plan");
                }
                Err(e) => {
                    rejected += 1;
                    assert!(
                        kernels.augment(&plan, &images, &mix, Dtype::F32).is_err(),
                        "{e}"
                    );
                }
            }
        }
        println!("{preset}: {accepted} arbitrary plans executed, {rejected} rejected");
        assert!(accepted > 20 && rejected > 100);
    }
}
