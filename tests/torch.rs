//! Batches written into tch tensors (feature `tch`): CPU tensors everywhere; CUDA tensors
//! where torch sees a GPU (skipped loudly otherwise, failed with PIXMIX_REQUIRE_CUDA=1).

mod common;

use common::{mixing, photos};
use pixmix::{Config, Dtype, Error, PixMix, Preset};
use tch::{Device, Kind, Tensor};

fn augmenter(preset: Preset, seed: u64) -> PixMix {
    let config = Config::preset(preset);
    let set = mixing(&config);
    PixMix::new(config, set, seed).unwrap()
}

/// The tensor's bytes as a pixmix tensor's would be.
fn bytes_of(t: &Tensor) -> Vec<u8> {
    let n = t.numel() * t.kind().elt_size_in_bytes();
    let mut out = vec![0u8; n];
    t.to_device(Device::Cpu)
        .contiguous()
        .copy_data_u8(&mut out, t.numel());
    out
}

#[test]
fn cpu_tensors_receive_the_pixmix_batch() {
    let sizes = [(32, 32), (40, 36), (33, 47)];
    let images = photos(5, &sizes, 11);
    for (dtype, kind) in [
        (Dtype::F32, Kind::Float),
        (Dtype::F16, Kind::Half),
        (Dtype::Bf16, Kind::BFloat16),
    ] {
        let want = augmenter(Preset::Cifar, 3).augment(&images, dtype).unwrap();
        let mut out = Tensor::zeros([5, 3, 32, 32], (kind, Device::Cpu));
        augmenter(Preset::Cifar, 3)
            .augment_into_tch(&images, &mut out)
            .unwrap();
        assert_eq!(bytes_of(&out), want.as_bytes(), "{dtype:?}");
    }
}

#[test]
fn uint8_batches_come_back_as_new_tensors() {
    let images = photos(4, &[(48, 40)], 5);
    let mut pixels = Vec::new();
    for image in &images {
        pixels.extend_from_slice(image.as_bytes());
    }
    let batch = Tensor::from_slice(&pixels).reshape([4, 40, 48, 3]);
    let out = augmenter(Preset::Cifar, 9)
        .augment_tch(&batch, Kind::Half)
        .unwrap();
    assert_eq!(out.size(), [4, 3, 32, 32]);
    assert_eq!(out.kind(), Kind::Half);
    let want = augmenter(Preset::Cifar, 9)
        .augment(&images, Dtype::F16)
        .unwrap();
    assert_eq!(bytes_of(&out), want.as_bytes());
}

#[test]
fn wrong_tensors_are_clear_errors_and_consume_no_samples() {
    let images = photos(2, &[(32, 32)], 1);
    let mut pixmix = augmenter(Preset::Cifar, 4);
    let mut cases = vec![
        (
            Tensor::zeros([2, 3, 32, 31], (Kind::Float, Device::Cpu)),
            "shape",
        ),
        (
            Tensor::zeros([2, 3, 32, 32], (Kind::Int, Device::Cpu)),
            "Int",
        ),
        (
            Tensor::zeros([2, 32, 32, 3], (Kind::Float, Device::Cpu)).permute([0, 3, 1, 2]),
            "contiguous",
        ),
        (Tensor::new(), "undefined"),
    ];
    for (out, says) in &mut cases {
        let err = pixmix.augment_into_tch(&images, out).unwrap_err();
        assert!(matches!(err, Error::Input(_)), "{err}");
        assert!(err.to_string().contains(*says), "{err}");
    }
    let rgba = Tensor::zeros([2, 32, 32, 4], (Kind::Uint8, Device::Cpu));
    let err = pixmix.augment_tch(&rgba, Kind::Float).unwrap_err();
    assert!(err.to_string().contains("(N, H, W, 3)"), "{err}");
    let small = Tensor::zeros([2, 8, 8, 3], (Kind::Uint8, Device::Cpu));
    assert!(pixmix.augment_tch(&small, Kind::Float).is_err());
    let err = pixmix
        .augment_tch(
            &Tensor::zeros([1, 32, 32, 3], (Kind::Uint8, Device::Cpu)),
            Kind::Int64,
        )
        .unwrap_err();
    assert!(err.to_string().contains("float, half or bfloat16"), "{err}");

    // After all that, the stream is where a fresh augmenter's is.
    let mut out = Tensor::zeros([2, 3, 32, 32], (Kind::Float, Device::Cpu));
    pixmix.augment_into_tch(&images, &mut out).unwrap();
    let want = augmenter(Preset::Cifar, 4)
        .augment(&images, Dtype::F32)
        .unwrap();
    assert_eq!(bytes_of(&out), want.as_bytes());
}

fn require() -> bool {
    std::env::var("PIXMIX_REQUIRE_CUDA").is_ok_and(|v| v == "1")
}

/// Says so on the real standard error, which the test harness does not capture.
fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

#[test]
fn cuda_tensors_are_written_in_place_on_torchs_stream() {
    let test = "cuda_tensors_are_written_in_place_on_torchs_stream";
    if !tch::Cuda::is_available() {
        assert!(
            !require(),
            "PIXMIX_REQUIRE_CUDA=1 but torch sees no CUDA device"
        );
        let err = pixmix::torch::current_cuda_stream(0).unwrap_err();
        assert!(matches!(err, Error::NoCuda(_)), "{err}");
        return skipped(test, "torch sees no CUDA device");
    }
    let cuda = Device::Cuda(0);
    pixmix::torch::current_cuda_stream(0).unwrap();
    for preset in [Preset::Cifar, Preset::Imagenet] {
        let s = Config::preset(preset).size as i64;
        let images = photos(6, &[(256, 240), (300, 173), (231, 260)], 21);
        let want = augmenter(preset, 7).augment(&images, Dtype::F16).unwrap();
        let mut gpu = augmenter(preset, 7);
        gpu.use_cuda(0).unwrap();

        // Host images into a CUDA tensor: same memory before and after.
        let mut out = Tensor::zeros([6, 3, s, s], (Kind::Half, cuda));
        let before = out.data_ptr();
        gpu.augment_into_tch(&images, &mut out).unwrap();
        assert_eq!(out.data_ptr(), before, "the tensor was reallocated");
        assert_eq!(bytes_of(&out), want.as_bytes(), "{preset:?} host input");

        // A uint8 batch already on the GPU.
        let same = photos(4, &[(256, 240)], 22);
        let mut pixels = Vec::new();
        for image in &same {
            pixels.extend_from_slice(image.as_bytes());
        }
        let batch = Tensor::from_slice(&pixels)
            .reshape([4, 240, 256, 3])
            .to_device(cuda);
        let out = gpu.augment_tch(&batch, Kind::Float).unwrap();
        assert_eq!(out.device(), cuda);
        let mut want = augmenter(preset, 7);
        want.augment(&images, Dtype::F16).unwrap();
        let want = want.augment(&same, Dtype::F32).unwrap();
        assert_eq!(bytes_of(&out), want.as_bytes(), "{preset:?} device input");
    }
}
