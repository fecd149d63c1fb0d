//! The CUDA path with two devices: a caller's stream is ordered on the executor's device,
//! whatever context is current. Needs two GPUs, or the CUDA driver emulator with
//! `CUDA_EMU_DEVICES=2` (scripts/ci-emulated.sh); skipped otherwise, failed instead when
//! PIXMIX_REQUIRE_CUDA=1.

mod common;

use common::{mixing, photos};
use cudarc::driver::DevicePtr;
use pixmix::cuda::CudaExecutor;
use pixmix::{Config, CpuExecutor, Dtype, Planner, Preset};

fn two_executors(config: &Config) -> Option<(CudaExecutor, CudaExecutor)> {
    let n = pixmix::cuda::devices().map(|d| d.len()).unwrap_or(0);
    if n < 2 {
        let why = format!("needs two CUDA devices, found {n}");
        if std::env::var("PIXMIX_REQUIRE_CUDA").is_ok_and(|v| v == "1") {
            panic!("PIXMIX_REQUIRE_CUDA=1 but this test {why}");
        }
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
        return None;
    }
    Some((
        CudaExecutor::new(config, 0).unwrap(),
        CudaExecutor::new(config, 1).unwrap(),
    ))
}

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn caller_streams_are_ordered_on_the_executors_device() {
    let config = Config::preset(Preset::Cifar);
    let Some((mut first, second)) = two_executors(&config) else {
        return;
    };
    let mix = mixing(&config);
    first.set_mixing(&mix).unwrap();
    let images = photos(8, &[(32, 32)], 3);
    let plan = Planner::new(&config, 3)
        .unwrap()
        .plan(&[(32, 32); 8], mix.sizes())
        .unwrap();
    let want = CpuExecutor::new(&config)
        .unwrap()
        .augment(&plan, &images, &mix, Dtype::F32)
        .unwrap()
        .to_f32_vec();
    let stream = first.device().stream().clone();
    let dst = stream.alloc_zeros::<f32>(want.len()).unwrap();
    let (ptr, sync) = dst.device_ptr(&stream);
    // The second device's context is current on this thread, as after torch touched
    // cuda:1; a null caller stream means the legacy stream, of the executor's device.
    second.device().context().bind_to_thread().unwrap();
    // SAFETY: dst is a live allocation of the first device, large enough, used by nothing
    // else; the null stream is always live.
    unsafe {
        first.augment_into(
            &plan,
            &images,
            Dtype::F32,
            ptr,
            want.len() * 4,
            std::ptr::null_mut(),
        )
    }
    .unwrap();
    drop(sync);
    let got = stream.clone_dtoh(&dst).unwrap();
    assert_eq!(got, want);
    drop(second);
}
