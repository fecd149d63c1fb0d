//! The AugMix CUDA executor against the CPU executor on the same plans, byte for byte. The
//! tests that need a device are ignored by default: `cargo test --release --test
//! cuda_augmix -- --include-ignored` runs them on a GPU or under the CUDA driver emulator
//! (scripts/emulated-cuda.sh). Without a device they say that they were skipped; with
//! PIXMIX_REQUIRE_CUDA=1 a missing device fails them.

mod common;

use common::augmix::{FORCED, draw, force_every_op};
use common::photos;
use pixmix::augmix::MAX_DEPTH;
use pixmix::cuda::{AugMixCudaExecutor, driver_present};
use pixmix::plan::OpPlan;
use pixmix::{
    AugMix, AugMixConfig, AugMixExecutor, AugMixPlan, Dtype, Error, Operator, Preset, RgbImage,
};

/// Says so on the real standard error, which the test harness does not capture.
fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

fn require() -> bool {
    std::env::var("PIXMIX_REQUIRE_CUDA").is_ok_and(|v| v == "1")
}

fn executor(config: &AugMixConfig, test: &str) -> Option<AugMixCudaExecutor> {
    match AugMixCudaExecutor::new(config, 0) {
        Ok(e) => Some(e),
        Err(e) if require() => panic!("PIXMIX_REQUIRE_CUDA=1 but {e}"),
        Err(e) => {
            skipped(test, &e.to_string());
            None
        }
    }
}

/// Reports of the CUDA driver emulator's checks so far (None on a GPU).
fn emulator_reports() -> Option<u64> {
    pixmix::cuda::emulator::report_count()
}

/// The GPU and the CPU on the same plans in `dtypes`: the bytes must be equal.
fn agree(
    gpu: &mut AugMixCudaExecutor,
    images: &[RgbImage],
    plans: &[AugMixPlan],
    jsd: bool,
    dtypes: &[Dtype],
    what: &str,
) {
    let cpu = AugMixExecutor::new(gpu.config()).unwrap();
    let before = emulator_reports();
    for &dtype in dtypes {
        let (a, b) = match jsd {
            true => (
                cpu.augment_jsd(plans, images, dtype).unwrap(),
                gpu.augment_jsd(plans, images, dtype).unwrap(),
            ),
            false => (
                cpu.augment(plans, images, dtype).unwrap(),
                gpu.augment(plans, images, dtype).unwrap(),
            ),
        };
        assert_eq!(a.shape, b.shape, "{what}");
        if a.as_bytes() != b.as_bytes() {
            let (fa, fb) = (a.to_f32_vec(), b.to_f32_vec());
            let differ = fa
                .iter()
                .zip(&fb)
                .filter(|(x, y)| x.to_bits() != y.to_bits())
                .count();
            let bad = fa
                .iter()
                .zip(&fb)
                .position(|(x, y)| x.to_bits() != y.to_bits())
                .unwrap();
            let per = a.shape[1] * a.shape[2] * a.shape[3];
            panic!(
                "{what} {dtype:?}: {differ} of {} values differ; the first is value {bad} \
                 (view {}): cpu {} cuda {}",
                fa.len(),
                bad / per,
                fa[bad],
                fb[bad]
            );
        }
        println!("{what} {dtype:?}: {} bytes equal", a.as_bytes().len());
    }
    assert_eq!(
        emulator_reports(),
        before,
        "{what}: see the emulator's report"
    );
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn augmix_cuda_equals_cpu_on_cifar_batches() {
    let test = "augmix_cuda_equals_cpu_on_cifar_batches";
    let images = photos(96, &[(32, 32), (40, 33)], 7);
    for (k, (width, depth, all_ops)) in [(3, -1, false), (4, 2, true), (1, 3, true)]
        .into_iter()
        .enumerate()
    {
        let mut c = AugMixConfig::preset(Preset::Cifar);
        (c.width, c.depth, c.base.all_ops) = (width, depth, all_ops);
        let Some(mut gpu) = executor(&c, test) else {
            return;
        };
        let what = format!("cifar width {width} depth {depth} all_ops {all_ops}");
        // Every dtype with the released defaults; f32 for the others.
        let dtypes: &[Dtype] = match k {
            0 => &[Dtype::F32, Dtype::F16, Dtype::Bf16],
            _ => &[Dtype::F32],
        };
        let plans = draw(&c, &images, k as u64, false);
        agree(&mut gpu, &images, &plans, false, dtypes, &what);
        let plans = draw(&c, &images, 10 + k as u64, true);
        agree(
            &mut gpu,
            &images,
            &plans,
            true,
            dtypes,
            &format!("{what} jsd"),
        );
    }
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn augmix_cuda_equals_cpu_on_ragged_imagenet_batches() {
    let test = "augmix_cuda_equals_cpu_on_ragged_imagenet_batches";
    let mut c = AugMixConfig::preset(Preset::Imagenet);
    c.base.all_ops = true;
    let Some(mut gpu) = executor(&c, test) else {
        return;
    };
    let images = photos(
        8,
        &[(500, 375), (224, 224), (123, 456), (1000, 90), (3, 2)],
        7,
    );
    let plans = draw(&c, &images, 2, false);
    agree(&mut gpu, &images, &plans, false, &[Dtype::F32], "imagenet");
    let plans = draw(&c, &images, 3, true);
    agree(
        &mut gpu,
        &images,
        &plans,
        true,
        &[Dtype::Bf16],
        "imagenet jsd",
    );
    c.base.all_ops = false;
    let Some(mut gpu) = executor(&c, test) else {
        return;
    };
    let plans = draw(&c, &images, 4, false);
    agree(
        &mut gpu,
        &images,
        &plans,
        false,
        &[Dtype::F16],
        "imagenet default ops",
    );
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn augmix_cuda_equals_cpu_for_every_operator_at_every_step() {
    let test = "augmix_cuda_equals_cpu_for_every_operator_at_every_step";
    let mut c = AugMixConfig::preset(Preset::Cifar);
    c.base.size = 31;
    c.base.severity = 10;
    c.base.all_ops = true;
    let images = photos(2 * FORCED, &[(31, 31), (35, 40), (64, 48)], 100);
    for (width, ragged) in [(4, false), (2, true), (3, true)] {
        c.width = width;
        let Some(mut gpu) = executor(&c, test) else {
            return;
        };
        for jsd in [false, true] {
            let mut plans = draw(&c, &images, width as u64, jsd);
            force_every_op(&mut plans, c.base.size, ragged);
            let what = format!("width {width} ragged {ragged} jsd {jsd}");
            agree(
                &mut gpu,
                &images,
                &plans,
                jsd,
                &[Dtype::F32, Dtype::F16, Dtype::Bf16],
                &what,
            );
        }
    }
}

/// Chains of geometric operators the affine sampler's fast path declines everywhere (shears
/// beyond 2, offsets beyond 2^13), in part, or not at all, at every step (the step kernel)
/// and last (the mixing pixel kernel).
#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn augmix_cuda_equals_cpu_where_the_affine_fast_path_declines() {
    let test = "augmix_cuda_equals_cpu_where_the_affine_fast_path_declines";
    let cases = [
        (Operator::ShearX, 2.5),
        (Operator::ShearY, -3.0),
        (Operator::TranslateX, 9000.0),
        (Operator::Rotate, 45.5),
        (Operator::ShearX, 0.5),
        (Operator::TranslateY, -1.5),
        (Operator::ShearY, 1.999),
    ];
    let mut c = AugMixConfig::preset(Preset::Cifar);
    c.base.size = 31;
    c.width = 3;
    let Some(mut gpu) = executor(&c, test) else {
        return;
    };
    let images = photos(8, &[(31, 31), (35, 40)], 11);
    let mut plans = draw(&c, &images, 6, false);
    for (i, p) in plans.iter_mut().enumerate() {
        for ch in 0..p.width as usize {
            p.depths[ch] = 1 + ((i + ch) % 3) as u32;
            for d in 0..MAX_DEPTH {
                let (op, param) = cases[(i + 2 * ch + 3 * d) % cases.len()];
                p.ops[ch][d] = match d < p.depths[ch] as usize {
                    true => OpPlan {
                        param,
                        op: op as u32,
                        reserved: 0,
                    },
                    false => OpPlan::NONE,
                };
            }
        }
    }
    agree(&mut gpu, &images, &plans, false, &[Dtype::F32], test);
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn augmix_batches_in_owned_buffers_are_read_on_a_consumer_stream() {
    let test = "augmix_batches_in_owned_buffers_are_read_on_a_consumer_stream";
    let c = AugMixConfig::preset(Preset::Cifar);
    let Some(mut gpu) = executor(&c, test) else {
        return;
    };
    let cpu = AugMixExecutor::new(&c).unwrap();
    let images = photos(16, &[(32, 32)], 3);
    let consumer = gpu.device().context().new_stream().unwrap();
    let before = emulator_reports();
    let mut kept = Vec::new();
    for seed in 0..3 {
        let plans = draw(&c, &images, seed, true);
        let want = cpu.augment_jsd(&plans, &images, Dtype::F16).unwrap();
        let buffer = gpu
            .augment_jsd_to_buffer(&plans, &images, Dtype::F16)
            .unwrap();
        assert_eq!(buffer.bytes(), want.as_bytes().len());
        // SAFETY: the consumer stream belongs to the buffer's context and outlives it.
        unsafe { buffer.hand_to(consumer.cu_stream()) }.unwrap();
        let mut got = vec![0u8; buffer.bytes()];
        // SAFETY: the buffer holds that many bytes; the copy is ordered after the batch.
        unsafe {
            cudarc::driver::result::memcpy_dtoh_async(
                &mut got[..],
                buffer.ptr(),
                consumer.cu_stream(),
            )
        }
        .unwrap();
        consumer.synchronize().unwrap();
        assert_eq!(got, want.as_bytes(), "batch {seed}");
        kept.push(buffer);
    }
    drop(kept);
    consumer.synchronize().unwrap();
    gpu.synchronize().unwrap();
    assert_eq!(emulator_reports(), before, "see the emulator's report");
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn bad_augmix_plans_are_errors_before_any_launch() {
    let test = "bad_augmix_plans_are_errors_before_any_launch";
    let c = AugMixConfig::preset(Preset::Cifar);
    let Some(mut gpu) = executor(&c, test) else {
        return;
    };
    let images = photos(4, &[(32, 32)], 5);
    let plans = draw(&c, &images, 5, true);
    let cases: [fn(&mut AugMixPlan); 4] = [
        |p| p.width = 0,
        |p| p.depths[0] = 4,
        |p| p.ops[0][0].op = 99,
        |p| p.crop_x = 1000,
    ];
    for (i, f) in cases.iter().enumerate() {
        let mut bad = plans.clone();
        f(&mut bad[1]);
        assert!(
            matches!(
                gpu.augment(&bad[..4], &images, Dtype::F32),
                Err(Error::Input(_))
            ),
            "case {i} accepted"
        );
        assert!(gpu.augment_jsd(&bad, &images, Dtype::F32).is_err());
    }
    // The second JSD plans must share the first ones' train transform.
    let mut bad = plans.clone();
    bad[5].flip ^= 1;
    assert!(gpu.augment_jsd(&bad, &images, Dtype::F32).is_err());
    // The executor is intact: an empty batch, then a good one.
    let empty: [RgbImage; 0] = [];
    assert_eq!(
        gpu.augment(&[], &empty, Dtype::F32).unwrap().shape,
        [0, 3, 32, 32]
    );
    agree(
        &mut gpu,
        &images,
        &plans,
        true,
        &[Dtype::F32],
        "after errors",
    );
}

#[test]
fn augmix_on_cuda_gives_the_cpu_bytes_and_stays_put_without_a_gpu() {
    let c = AugMixConfig::preset(Preset::Cifar);
    let images = photos(8, &[(32, 32), (36, 40)], 40);
    let mut cpu = AugMix::new(c.clone(), 9).unwrap();
    let mut gpu = AugMix::new(c, 9).unwrap();
    match gpu.use_cuda(0) {
        Ok(()) => {
            assert!(gpu.device().starts_with("cuda"), "{}", gpu.device());
            for _ in 0..2 {
                let a = cpu.augment(&images, Dtype::F32).unwrap();
                let b = gpu.augment(&images, Dtype::F32).unwrap();
                assert_eq!(a.as_bytes(), b.as_bytes());
                let a = cpu.augment_jsd(&images, Dtype::Bf16).unwrap();
                let b = gpu.augment_jsd(&images, Dtype::Bf16).unwrap();
                assert_eq!(a.as_bytes(), b.as_bytes());
            }
            // A failing batch consumes nothing on the GPU either.
            let tiny = photos(1, &[(8, 8)], 1);
            assert!(gpu.augment(&tiny, Dtype::F32).is_err());
            assert_eq!(gpu.planner().position(), cpu.planner().position());
        }
        Err(e) if require() => panic!("PIXMIX_REQUIRE_CUDA=1 but {e}"),
        Err(e) => {
            skipped("augmix_on_cuda_gives_the_cpu_bytes", &e.to_string());
            assert!(matches!(e, Error::NoCuda(_)) || driver_present(), "{e}");
            // The failed switch leaves the augmenter working on the CPU.
            assert_eq!(gpu.device(), "cpu");
            assert_eq!(
                gpu.augment(&images, Dtype::F32).unwrap(),
                cpu.augment(&images, Dtype::F32).unwrap()
            );
        }
    }
}
