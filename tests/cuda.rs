//! The CUDA executor against the CPU executor on the same plans. The tests that need a
//! device are ignored by default, so a run without one does not count them as passed:
//! `cargo test --release --test cuda -- --include-ignored` runs them on a GPU or under the
//! CUDA driver emulator (scripts/emulated-cuda.sh). Without a device they then say that
//! they were skipped; with PIXMIX_REQUIRE_CUDA=1 a missing device fails them.

mod common;

use common::{mixing, photos};
use cudarc::driver::DevicePtr;
use pixmix::cuda::{CudaExecutor, driver_present};
use pixmix::plan::OpPlan;
use pixmix::{
    BatchPlan, Config, CpuExecutor, Dtype, Error, MixingSet, Operator, Planner, Preset, RgbImage,
};

/// Says so on the real standard error, which the test harness does not capture.
fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

fn require() -> bool {
    std::env::var("PIXMIX_REQUIRE_CUDA").is_ok_and(|v| v == "1")
}

fn executor(config: &Config, test: &str) -> Option<CudaExecutor> {
    match CudaExecutor::new(config, 0) {
        Ok(e) => Some(e),
        Err(e) if require() => panic!("PIXMIX_REQUIRE_CUDA=1 but {e}"),
        Err(e) => {
            skipped(test, &e.to_string());
            None
        }
    }
}

/// Runs both executors on one plan for every dtype and demands agreement within 1e-5
/// (and reports how much is bit-exact).
fn agree(
    config: &Config,
    images: &[RgbImage],
    plan: &BatchPlan,
    gpu: &mut CudaExecutor,
    mix: &MixingSet,
) {
    let cpu = CpuExecutor::new(config).unwrap();
    for dtype in [Dtype::F32, Dtype::F16, Dtype::Bf16] {
        let a = cpu.augment(plan, images, mix, dtype).unwrap().to_f32_vec();
        let b = gpu.augment(plan, images, dtype).unwrap().to_f32_vec();
        assert_eq!(a.len(), b.len());
        let exact = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| x.to_bits() == y.to_bits())
            .count();
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        println!(
            "{dtype:?}: {exact} of {} values bit-exact, max difference {worst:e}",
            a.len()
        );
        let tolerance = if dtype == Dtype::F32 { 1e-5 } else { 1e-2 };
        assert!(
            worst <= tolerance,
            "{dtype:?}: CUDA and CPU differ by {worst}"
        );
    }
}

fn run(
    config: &Config,
    images: &[RgbImage],
    seed: u64,
    edit: Option<&dyn Fn(&mut BatchPlan)>,
    test: &str,
) {
    let Some(mut gpu) = executor(config, test) else {
        return;
    };
    let mix = mixing(config);
    gpu.set_mixing(&mix).unwrap();
    let sizes: Vec<_> = images.iter().map(|i| (i.width(), i.height())).collect();
    let mut plan = Planner::new(config, seed)
        .unwrap()
        .plan(&sizes, mix.sizes())
        .unwrap();
    if let Some(edit) = edit {
        edit(&mut plan);
    }
    agree(config, images, &plan, &mut gpu, &mix);
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn cuda_equals_cpu_on_cifar_batches_of_1024() {
    let config = Config::preset(Preset::Cifar);
    run(
        &config,
        &photos(1024, &[(32, 32), (40, 33)], 7),
        1,
        None,
        "cuda_equals_cpu_on_cifar_batches_of_1024",
    );
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn cuda_equals_cpu_on_ragged_imagenet_batches() {
    let config = Config::preset(Preset::Imagenet);
    let images = photos(
        64,
        &[(500, 375), (224, 224), (123, 456), (1000, 90), (3, 2)],
        7,
    );
    run(
        &config,
        &images,
        2,
        None,
        "cuda_equals_cpu_on_ragged_imagenet_batches",
    );
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn cuda_equals_cpu_for_every_operator_at_odd_sizes() {
    let mut config = Config::preset(Preset::Cifar);
    config.size = 31;
    config.mixing_resize = 37;
    config.severity = 10;
    config.k = 6;
    let edit = |plan: &mut BatchPlan| {
        for (i, s) in plan.samples.iter_mut().enumerate() {
            let op = Operator::ALL[i % 13];
            s.base = OpPlan {
                param: op.param_from_level(0.1 + (i % 10) as f64, 31, 31),
                op: op as u32,
                reserved: 0,
            };
        }
    };
    run(
        &config,
        &photos(130, &[(31, 31), (35, 40)], 7),
        3,
        Some(&edit),
        "cuda_equals_cpu_for_every_operator_at_odd_sizes",
    );
}

/// Geometric operators the affine sampler's fast path declines everywhere (matrices out of
/// its range: shears beyond 2, offsets beyond 2^13), in part, or not at all (dyadic
/// shears and translations, which it computes exactly).
const AFFINE_EDGE_CASES: [(Operator, f64); 8] = [
    (Operator::ShearX, 2.5),
    (Operator::ShearY, -3.0),
    (Operator::TranslateX, 9000.0),
    (Operator::Rotate, 45.5),
    (Operator::ShearX, 0.5),
    (Operator::TranslateY, -1.5),
    (Operator::ShearY, 1.999),
    (Operator::Rotate, -7.0),
];

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn cuda_equals_cpu_where_the_affine_fast_path_declines() {
    let mut config = Config::preset(Preset::Cifar);
    config.size = 31;
    config.mixing_resize = 37;
    let edit = |plan: &mut BatchPlan| {
        for (i, s) in plan.samples.iter_mut().enumerate() {
            let (op, param) = AFFINE_EDGE_CASES[i % AFFINE_EDGE_CASES.len()];
            s.base = OpPlan {
                param,
                op: op as u32,
                reserved: 0,
            };
        }
    };
    run(
        &config,
        &photos(24, &[(31, 31), (35, 40)], 9),
        5,
        Some(&edit),
        "cuda_equals_cpu_where_the_affine_fast_path_declines",
    );
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn cuda_writes_into_a_callers_buffer_on_a_callers_stream() {
    let config = Config::preset(Preset::Cifar);
    let Some(mut gpu) = executor(
        &config,
        "cuda_writes_into_a_callers_buffer_on_a_callers_stream",
    ) else {
        return;
    };
    let mix = mixing(&config);
    gpu.set_mixing(&mix).unwrap();
    let images = photos(16, &[(32, 32)], 7);
    let plan = Planner::new(&config, 4)
        .unwrap()
        .plan(&vec![(32, 32); 16], mix.sizes())
        .unwrap();
    let expected = CpuExecutor::new(&config)
        .unwrap()
        .augment(&plan, &images, &mix, Dtype::F16)
        .unwrap();
    let ctx = gpu.device().context().clone();
    let caller = ctx.new_stream().unwrap();
    let dst = caller.alloc_zeros::<u16>(16 * 3 * 32 * 32).unwrap();
    let (ptr, sync) = dst.device_ptr(&caller);
    // SAFETY: dst is a live allocation of this context, large enough, used by nothing else.
    unsafe {
        gpu.augment_into(
            &plan,
            &images,
            Dtype::F16,
            ptr,
            16 * 3 * 32 * 32 * 2,
            caller.cu_stream(),
        )
    }
    .unwrap();
    drop(sync);
    let got: Vec<u16> = caller.clone_dtoh(&dst).unwrap();
    let want: Vec<u16> = expected
        .to_f32_vec()
        .iter()
        .map(|&v| half::f16::from_f32(v).to_bits())
        .collect();
    let close = got.iter().zip(&want).filter(|(a, b)| a == b).count();
    assert!(
        close as f64 >= 0.999 * want.len() as f64,
        "only {close} of {} equal",
        want.len()
    );
    // Too small a destination is an error, not a write past its end.
    let small = caller.alloc_zeros::<u8>(10).unwrap();
    let (p, _s) = small.device_ptr(&caller);
    // SAFETY: as above; the call must refuse before writing.
    let err = unsafe { gpu.augment_into(&plan, &images, Dtype::F16, p, 10, caller.cu_stream()) }
        .unwrap_err();
    assert!(
        err.to_string().contains("destination holds 10 bytes"),
        "{err}"
    );
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn owned_buffers_are_handed_to_a_consumer_stream_and_freed_there() {
    let config = Config::preset(Preset::Cifar);
    let test = "owned_buffers_are_handed_to_a_consumer_stream_and_freed_there";
    let Some(mut gpu) = executor(&config, test) else {
        return;
    };
    let mix = mixing(&config);
    gpu.set_mixing(&mix).unwrap();
    let images = photos(16, &[(32, 32)], 9);
    let mut planner = Planner::new(&config, 5).unwrap();
    let cpu = CpuExecutor::new(&config).unwrap();
    let ctx = gpu.device().context().clone();
    let consumer = ctx.new_stream().unwrap();
    // Several batches alive at once, each read on the consumer's stream after hand_to.
    let mut kept = Vec::new();
    for _ in 0..3 {
        let plan = planner.plan(&vec![(32, 32); 16], mix.sizes()).unwrap();
        let want = cpu.augment(&plan, &images, &mix, Dtype::F32).unwrap();
        let buffer = gpu.augment_to_buffer(&plan, &images, Dtype::F32).unwrap();
        assert_eq!(buffer.bytes(), 16 * 3 * 32 * 32 * 4);
        // SAFETY: the consumer stream belongs to the buffer's context and outlives it.
        unsafe { buffer.hand_to(consumer.cu_stream()) }.unwrap();
        let mut got = vec![0f32; 16 * 3 * 32 * 32];
        // SAFETY: the buffer holds that many f32 and the copy is ordered after the batch.
        unsafe {
            cudarc::driver::result::memcpy_dtoh_async(
                &mut got[..],
                buffer.ptr(),
                consumer.cu_stream(),
            )
        }
        .unwrap();
        consumer.synchronize().unwrap();
        let worst = got
            .iter()
            .zip(want.to_f32_vec())
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            worst <= 1e-5,
            "owned buffer differs from the CPU by {worst}"
        );
        kept.push(buffer);
    }
    drop(kept);
    consumer.synchronize().unwrap();
    gpu.synchronize().unwrap();
}

#[test]
fn without_a_driver_the_cuda_path_is_an_error_not_a_panic() {
    if driver_present() {
        skipped(
            "without_a_driver_the_cuda_path_is_an_error_not_a_panic",
            "a CUDA driver is present",
        );
        return;
    }
    let config = Config::preset(Preset::Cifar);
    match CudaExecutor::new(&config, 0) {
        Err(Error::NoCuda(msg)) => assert!(msg.contains("libcuda"), "{msg}"),
        other => panic!("expected NoCuda, got {other:?}"),
    }
    assert!(matches!(pixmix::cuda::devices(), Err(Error::NoCuda(_))));
}

#[test]
fn pixmix_on_cuda_gives_the_cpu_pixels_and_stays_put_without_a_gpu() {
    let config = Config::preset(Preset::Imagenet);
    let images = photos(8, &[(500, 375), (300, 173)], 40);
    let mut cpu = pixmix::PixMix::new(config.clone(), mixing(&config), 9).unwrap();
    let mut gpu =
        pixmix::PixMix::new(config, mixing(&Config::preset(Preset::Imagenet)), 9).unwrap();
    match gpu.use_cuda(0) {
        Ok(()) => {
            assert!(gpu.device().starts_with("cuda"));
            let a = cpu.augment(&images, Dtype::F32).unwrap().to_f32_vec();
            let b = gpu.augment(&images, Dtype::F32).unwrap().to_f32_vec();
            let worst = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            assert!(worst <= 1e-5, "PixMix on CUDA differs by {worst}");
        }
        Err(e) if require() => panic!("PIXMIX_REQUIRE_CUDA=1 but {e}"),
        Err(e) => {
            skipped("pixmix_on_cuda_gives_the_cpu_pixels", &e.to_string());
            // The failed switch leaves the augmenter working on the CPU.
            assert_eq!(gpu.device(), "cpu");
            assert_eq!(
                gpu.augment(&images, Dtype::F32).unwrap(),
                cpu.augment(&images, Dtype::F32).unwrap()
            );
        }
    }
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn gpu_fractals_are_the_cpu_fractals_and_feed_pixmix_from_device_memory() {
    use pixmix::cuda::CudaDevice;
    use pixmix::cuda::fractal::{download, generate_on_device};
    use pixmix::fractal::{FractalSettings, generate};
    let device = match CudaDevice::new(0) {
        Ok(d) => d,
        Err(e) if require() => panic!("PIXMIX_REQUIRE_CUDA=1 but {e}"),
        Err(e) => return skipped("gpu_fractals_are_the_cpu_fractals", &e.to_string()),
    };
    let settings = FractalSettings::new(96);
    let (cpu, cpu_stats) = generate(6, &settings, 3, |_, _| {}).unwrap();
    let (buffer, gpu_stats) = generate_on_device(&device, 6, &settings, 3, |_, _| {}).unwrap();
    assert_eq!(
        (cpu_stats.accepted, cpu_stats.rejected),
        (gpu_stats.accepted, gpu_stats.rejected)
    );
    assert_eq!(download(&device, &buffer, 6, 96).unwrap(), cpu);

    // A resident fractal set generated on the device gives the CPU's PixMix pixels.
    let mut config = Config::preset(Preset::Cifar);
    config.mixing_resize = 40;
    let mut gpu = CudaExecutor::new(&config, 0).unwrap();
    let stats = gpu.set_fractal_mixing(5, 8).unwrap();
    assert_eq!(stats.accepted, 5);
    let host_set = MixingSet::fractals(5, 40, 8).unwrap();
    let images = photos(32, &[(32, 32)], 60);
    let plan = Planner::new(&config, 2)
        .unwrap()
        .plan(&vec![(32, 32); 32], host_set.sizes())
        .unwrap();
    let want = CpuExecutor::new(&config)
        .unwrap()
        .augment(&plan, &images, &host_set, Dtype::F32)
        .unwrap();
    let got = gpu.augment(&plan, &images, Dtype::F32).unwrap();
    let worst = want
        .to_f32_vec()
        .iter()
        .zip(got.to_f32_vec())
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst <= 1e-5, "differs by {worst}");
}

/// Reports of the CUDA driver emulator's checks so far (None on a GPU, where
/// compute-sanitizer's memcheck in scripts/device-check.sh plays that part).
fn emulator_reports() -> Option<u64> {
    pixmix::cuda::emulator::report_count()
}

/// Everything to run one small cifar batch.
fn small_cifar(
    test: &str,
    seed: u64,
) -> Option<(CudaExecutor, Config, Vec<RgbImage>, BatchPlan, MixingSet)> {
    let config = Config::preset(Preset::Cifar);
    let mut gpu = executor(&config, test)?;
    let mix = mixing(&config);
    gpu.set_mixing(&mix).unwrap();
    let images = photos(16, &[(32, 32)], seed);
    let plan = Planner::new(&config, seed)
        .unwrap()
        .plan(&vec![(32, 32); 16], mix.sizes())
        .unwrap();
    Some((gpu, config, images, plan, mix))
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn a_dropped_executor_frees_nothing_a_queued_upload_still_reads() {
    let test = "a_dropped_executor_frees_nothing_a_queued_upload_still_reads";
    let Some((mut gpu, _, images, plan, _)) = small_cifar(test, 11) else {
        return;
    };
    let before = emulator_reports();
    // Queued, not waited for: the upload from page-locked staging may still be pending.
    gpu.augment_on_device(&plan, &images, Dtype::F32).unwrap();
    drop(gpu);
    assert_eq!(
        emulator_reports(),
        before,
        "dropping the executor freed or reused memory a queued copy still used (see the report above)"
    );
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn a_misaligned_destination_is_an_error_not_a_fault() {
    let test = "a_misaligned_destination_is_an_error_not_a_fault";
    let Some((mut gpu, _, images, plan, _)) = small_cifar(test, 12) else {
        return;
    };
    let ctx = gpu.device().context().clone();
    let caller = ctx.new_stream().unwrap();
    let bytes = 16 * 3 * 32 * 32 * 4;
    let dst = caller.alloc_zeros::<u8>(bytes + 16).unwrap();
    let (ptr, sync) = dst.device_ptr(&caller);
    // SAFETY: a live allocation of this context with room for the batch after 2 bytes; the
    // call must refuse before anything runs.
    let err = unsafe {
        gpu.augment_into(
            &plan,
            &images,
            Dtype::F32,
            ptr + 2,
            bytes,
            caller.cu_stream(),
        )
    }
    .unwrap_err();
    assert!(err.to_string().contains("aligned"), "{err}");
    // The context is intact: the aligned call works.
    // SAFETY: as above, aligned.
    unsafe { gpu.augment_into(&plan, &images, Dtype::F32, ptr, bytes, caller.cu_stream()) }
        .unwrap();
    drop(sync);
    caller.synchronize().unwrap();
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn owned_buffers_come_from_a_pool_that_keeps_its_memory_between_batches() {
    use cudarc::driver::sys;
    let test = "owned_buffers_come_from_a_pool_that_keeps_its_memory_between_batches";
    let Some((mut gpu, _, images, plan, _)) = small_cifar(test, 13) else {
        return;
    };
    for _ in 0..2 {
        let b = gpu.augment_to_buffer(&plan, &images, Dtype::F32).unwrap();
        b.wait().unwrap();
        drop(b);
    }
    gpu.synchronize().unwrap();
    let ordinal = gpu.device().info().ordinal as i32;
    let mut pool = std::ptr::null_mut();
    let (mut reserved, mut used) = (0u64, 0u64);
    // SAFETY: plain driver queries on the executor's (current) context.
    unsafe {
        let _ = gpu.device().context().bind_to_thread();
        assert_eq!(
            sys::cuDeviceGetDefaultMemPool(&mut pool, ordinal),
            sys::CUresult::CUDA_SUCCESS
        );
        for (attr, v) in [
            (
                sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT,
                &mut reserved,
            ),
            (
                sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_USED_MEM_CURRENT,
                &mut used,
            ),
        ] {
            assert_eq!(
                sys::cuMemPoolGetAttribute(pool, attr, v as *mut u64 as *mut std::ffi::c_void),
                sys::CUresult::CUDA_SUCCESS
            );
        }
    }
    // The freed batches' memory stays in the pool for the next batch.
    assert!(
        reserved - used >= (16 * 3 * 32 * 32 * 4) as u64,
        "the pool released the freed batches' memory at the synchronization \
         ({reserved} bytes reserved, {used} in use)"
    );
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn another_stream_reads_a_device_output_after_waiting_on_its_event() {
    use cudarc::driver::{result, sys};
    let test = "another_stream_reads_a_device_output_after_waiting_on_its_event";
    let Some((mut gpu, config, images, plan, mix)) = small_cifar(test, 14) else {
        return;
    };
    let want = CpuExecutor::new(&config)
        .unwrap()
        .augment(&plan, &images, &mix, Dtype::F32)
        .unwrap()
        .to_f32_vec();
    let before = emulator_reports();
    let out = gpu.augment_on_device(&plan, &images, Dtype::F32).unwrap();
    let reader = gpu.device().context().new_stream().unwrap();
    let mut got = vec![0f32; want.len()];
    // SAFETY: the event and the buffer belong to the executor's context, valid until its
    // next-but-one call; the copy is ordered after the batch by the wait.
    unsafe {
        result::stream::wait_event(
            reader.cu_stream(),
            out.ready,
            sys::CUevent_wait_flags::CU_EVENT_WAIT_DEFAULT,
        )
        .unwrap();
        result::memcpy_dtoh_async(&mut got[..], out.ptr, reader.cu_stream()).unwrap();
    }
    reader.synchronize().unwrap();
    assert_eq!(got, want);
    assert_eq!(emulator_reports(), before, "the read raced the batch");
}
