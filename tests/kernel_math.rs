//! The CUDA kernels' arithmetic, compiled for the host, against the CPU executor on the
//! same plans: a math slip in GPU code fails here, on machines without a GPU.

mod common;

use std::mem::{offset_of, size_of};

use common::{mixing, photos};
use pixmix::fractal::device::{FlameArgs, FlameGenome, FlameXform};
use pixmix::kernels::{HostKernelExecutor, host_bf16, host_f16, host_layout, host_pow};
use pixmix::plan::{MIX_MULTIPLY, OpPlan, RoundPlan, SOURCE_MIXING, SamplePlan};
use pixmix::staging::{ImageMeta, KernelArgs, OpDesc, PictureMeta};
use pixmix::{Config, CpuExecutor, Dtype, Operator, Planner, Preset, RgbImage, TrainTransform};

#[test]
fn struct_layouts_agree_with_the_cuda_header() {
    let expected = [
        size_of::<SamplePlan>(),
        offset_of!(SamplePlan, crop_x),
        offset_of!(SamplePlan, mixing_index),
        offset_of!(SamplePlan, first_round),
        offset_of!(SamplePlan, base),
        size_of::<RoundPlan>(),
        offset_of!(RoundPlan, a),
        offset_of!(RoundPlan, source),
        size_of::<OpPlan>(),
        offset_of!(OpPlan, op),
        size_of::<OpDesc>(),
        offset_of!(OpDesc, fixed),
        offset_of!(OpDesc, f),
        offset_of!(OpDesc, kind),
        offset_of!(OpDesc, fast),
        size_of::<ImageMeta>(),
        offset_of!(ImageMeta, width),
        offset_of!(ImageMeta, vertical_first),
        size_of::<PictureMeta>(),
        offset_of!(PictureMeta, width),
        size_of::<KernelArgs>(),
        offset_of!(KernelArgs, out),
        offset_of!(KernelArgs, n),
        offset_of!(KernelArgs, round_tables),
        offset_of!(KernelArgs, mean),
        offset_of!(KernelArgs, std),
        size_of::<FlameXform>(),
        offset_of!(FlameXform, var_id),
        size_of::<FlameGenome>(),
        offset_of!(FlameGenome, palette),
        offset_of!(FlameGenome, n),
        size_of::<FlameArgs>(),
    ]
    .map(|v| v as u64);
    assert_eq!(host_layout(), expected);
}

#[test]
fn power_and_conversions_are_bit_identical() {
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut n = 0;
    for _ in 0..200_000 {
        let r = next();
        // Bases over [0, 2] and tiny values, exponents over the get_ab ranges.
        let x = match r % 4 {
            0 => (r >> 11) as f32 / (1u64 << 53) as f32 * 2.0,
            1 => f32::from_bits((r >> 32) as u32 & 0x3fff_ffff),
            2 => ((r >> 40) % 256) as f32 / 255.0 * 2.0,
            _ => 1e-37,
        };
        let e = ((next() >> 11) as f64 / (1u64 << 53) as f64 * 3.0 - 1.0) as f32;
        assert_eq!(
            host_pow(x, e).to_bits(),
            pixmix::mix::pow(x, e).to_bits(),
            "pow({x}, {e})"
        );
        let v = f32::from_bits((next() >> 32) as u32);
        assert_eq!(host_f16(v), half::f16::from_f32(v).to_bits(), "f16({v:e})");
        if !v.is_nan() {
            assert_eq!(
                host_bf16(v),
                half::bf16::from_f32(v).to_bits(),
                "bf16({v:e})"
            );
        }
        n += 1;
    }
    for x in [0.0f32, 1.0, 2.0, 1e-37, 0.5] {
        for e in [0.0f32, 1.0, -1.0, 0.25, 2.0] {
            assert_eq!(
                host_pow(x, e).to_bits(),
                pixmix::mix::pow(x, e).to_bits(),
                "pow({x}, {e})"
            );
        }
    }
    assert_eq!(n, 200_000);
}

/// An edit applied to a drawn plan before both executors run it.
type PlanEdit = dyn Fn(usize, &mut pixmix::BatchPlan);

fn compare(config: &Config, images: &[RgbImage], seed: u64, force: Option<&PlanEdit>) {
    let mix = mixing(config);
    let sizes: Vec<_> = images.iter().map(|i| (i.width(), i.height())).collect();
    let mut plan = Planner::new(config, seed)
        .unwrap()
        .plan(&sizes, mix.sizes())
        .unwrap();
    if let Some(f) = force {
        f(images.len(), &mut plan);
    }
    let cpu = CpuExecutor::new(config).unwrap();
    let kernels = HostKernelExecutor::new(config).unwrap();
    for dtype in [Dtype::F32, Dtype::F16, Dtype::Bf16] {
        let a = cpu.augment(&plan, images, &mix, dtype).unwrap();
        let b = kernels.augment(&plan, images, &mix, dtype).unwrap();
        if a.as_bytes() != b.as_bytes() {
            let (fa, fb) = (a.to_f32_vec(), b.to_f32_vec());
            let bad = fa
                .iter()
                .zip(&fb)
                .position(|(x, y)| x.to_bits() != y.to_bits())
                .unwrap();
            let per = 3 * config.size * config.size;
            panic!(
                "{dtype:?}: first difference at value {bad} (sample {}): cpu {} kernels {}; plan {:?} rounds {:?}",
                bad / per,
                fa[bad],
                fb[bad],
                plan.samples[bad / per],
                plan.rounds_of(bad / per).unwrap()
            );
        }
    }
}

#[test]
fn kernels_equal_the_cpu_executor_on_cifar() {
    let config = Config::preset(Preset::Cifar);
    compare(
        &config,
        &photos(48, &[(32, 32), (40, 33), (25, 24)], 100),
        1,
        None,
    );
}

#[test]
fn kernels_equal_the_cpu_executor_on_ragged_imagenet_batches() {
    let config = Config::preset(Preset::Imagenet);
    compare(
        &config,
        &photos(
            12,
            &[(500, 375), (224, 224), (123, 456), (1000, 90), (3, 2)],
            100,
        ),
        2,
        None,
    );
}

#[test]
fn kernels_equal_the_cpu_executor_when_memoized_rounds_multiply() {
    // In samples of this size the CPU executor computes the first rounds once a pair of
    // bytes (base, first other picture) and looks them up: the first round, the rounds
    // after it that mix in the same mixing picture, and the power of the round after
    // those. Every sample with two rounds or more gets multiplying rounds there: a second
    // round after either kind of first round, or a run of mixing-picture rounds with
    // the round after them multiplying.
    let config = Config::preset(Preset::Imagenet);
    let force = |n: usize, plan: &mut pixmix::BatchPlan| {
        let (mut second, mut runs) = (0, 0);
        for i in 0..n {
            let s = plan.samples[i];
            let first = s.first_round as usize;
            let rounds = &mut plan.rounds[first..first + s.round_count as usize];
            match rounds.len() {
                0 | 1 => continue,
                len if len == 2 || i % 3 == 0 => {
                    rounds[0].mix = (i % 2) as u32;
                    rounds[1].mix = MIX_MULTIPLY;
                    second += 1;
                }
                len => {
                    let run = 2 + i % (len - 1);
                    for (r, round) in rounds.iter_mut().enumerate().take(run) {
                        round.source = SOURCE_MIXING;
                        round.aug = OpPlan::NONE;
                        round.mix = ((i + r) % 2) as u32;
                    }
                    if let Some(next) = rounds.get_mut(run) {
                        next.mix = MIX_MULTIPLY;
                    }
                    runs += 1;
                }
            }
        }
        assert!(
            second >= 2 && runs >= 2,
            "{second} and {runs} samples forced"
        );
    };
    compare(
        &config,
        &photos(12, &[(500, 375), (224, 224), (300, 260)], 100),
        7,
        Some(&force),
    );
}

#[test]
fn kernels_equal_the_cpu_executor_for_every_operator() {
    // Odd output size, strong severity, many rounds, every operator forced as base and
    // as the first round's source, including the lossless rotations.
    let mut config = Config::preset(Preset::Cifar);
    config.size = 31;
    config.mixing_resize = 37;
    config.severity = 10;
    config.k = 6;
    let n = 2 * Operator::ALL.len() + 3;
    let force = |n: usize, plan: &mut pixmix::BatchPlan| {
        for i in 0..n {
            let op = Operator::ALL[i % Operator::ALL.len()];
            let param = match (op, i) {
                (Operator::Rotate, i) if i >= 26 => [90.0, 180.0, 270.0][i - 26],
                _ => op.param_from_level(0.1 + (i % 10) as f64, 31, 31),
            };
            let op = if i >= 26 { Operator::Rotate } else { op };
            plan.samples[i].base = OpPlan {
                param,
                op: op as u32,
                reserved: 0,
            };
        }
        for (j, r) in plan.rounds.iter_mut().enumerate() {
            if j % 3 == 0 {
                let op = Operator::ALL[j % Operator::ALL.len()];
                r.source = 0;
                r.aug = OpPlan {
                    param: op.param_from_level(2.5, 31, 31),
                    op: op as u32,
                    reserved: 0,
                };
            }
        }
    };
    compare(
        &config,
        &photos(n, &[(31, 31), (35, 40)], 100),
        3,
        Some(&force),
    );
}

#[test]
fn kernels_equal_the_cpu_executor_on_resized_crops_of_any_shape() {
    // Upscales, downscales in either direction, and both pass orders.
    let mut config = Config::preset(Preset::Imagenet);
    config.size = 48;
    config.mixing_resize = 50;
    config.train = TrainTransform::ResizedCropFlip {
        scale: (0.01, 1.0),
        ratio: (0.2, 5.0),
    };
    compare(
        &config,
        &photos(
            40,
            &[(300, 173), (61, 47), (48, 48), (20, 400), (400, 20)],
            100,
        ),
        4,
        None,
    );
}
