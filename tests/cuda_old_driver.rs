//! A driver older than the toolkit that built the kernels: loading them fails with a
//! message naming the driver's version, the one needed and the NVRTC fallback's outcome.
//! Runs on the CUDA driver emulator in its CUDA 12.4 mode (`CUDA_EMU_DRIVER=12.4`,
//! scripts/ci-emulated.sh), or on a GPU with a 12.x driver; skipped with a newer driver.

use pixmix::{Config, Error, Preset};

#[test]
#[ignore = "needs a CUDA device: run with --include-ignored on a GPU or under scripts/emulated-cuda.sh"]
fn an_old_driver_gets_a_message_naming_both_versions_and_the_fallback() {
    let mut version = 0;
    // SAFETY: only when the driver library is there; writes one int.
    let ok = pixmix::cuda::driver_present()
        && unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut version) }
            == cudarc::driver::sys::CUresult::CUDA_SUCCESS;
    if !ok || version >= 13000 {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: needs a CUDA driver older than 13.0 (found {version})"
        );
        if std::env::var("PIXMIX_REQUIRE_OLD_DRIVER").is_ok_and(|v| v == "1") {
            panic!("PIXMIX_REQUIRE_OLD_DRIVER=1 but the driver is {version}");
        }
        return;
    }
    let err = pixmix::cuda::CudaExecutor::new(&Config::preset(Preset::Cifar), 0).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Cuda(_)), "{text}");
    let have = format!("CUDA {}.{}", version / 1000, (version % 1000) / 10);
    for part in [have.as_str(), "CUDA 13.0 or newer", "NVRTC"] {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }
}
