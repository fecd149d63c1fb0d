//! Property tests of the library's public entry points: any configuration, plan request,
//! batch or mixing set either works or is an error; nothing panics.

mod common;

use pixmix::mixing_set::{MAX_MIXING_PIXELS, decode_rgb};
use pixmix::{
    Config, CpuExecutor, Dtype, MixingSet, PixMix, Planner, Preset, RgbImage, TrainTransform,
};
use proptest::prelude::*;

fn preset() -> impl Strategy<Value = Preset> {
    prop_oneof![Just(Preset::Cifar), Just(Preset::Imagenet)]
}

/// Finite and non-finite, tiny and huge, negative and positive numbers.
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e3..1e3f64,
        Just(0.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-f64::INFINITY),
        Just(1e300),
        Just(-1e-300),
    ]
}

fn any_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        -10.0..10.0f32,
        Just(0.0),
        Just(f32::NAN),
        Just(f32::INFINITY)
    ]
}

prop_compose! {
    fn config()(
        preset in preset(),
        size in prop_oneof![0usize..80, Just(usize::MAX), Just(5000usize)],
        resize in prop_oneof![0usize..100, Just(usize::MAX)],
        k in prop_oneof![0u32..80, Just(u32::MAX)],
        beta in any_f64(),
        severity in prop_oneof![0u32..12, Just(u32::MAX)],
        all_ops in any::<bool>(),
        mean in any_f32(),
        std in any_f32(),
        padding in prop_oneof![0usize..10, Just(usize::MAX)],
        scale in (any_f64(), any_f64()),
        ratio in (any_f64(), any_f64()),
        resized_crop in any::<bool>(),
    ) -> Config {
        let mut c = Config::preset(preset);
        c.size = size;
        c.mixing_resize = resize;
        c.k = k;
        c.beta = beta;
        c.severity = severity;
        c.all_ops = all_ops;
        c.mean[1] = mean;
        c.std[2] = std;
        c.train = if resized_crop {
            TrainTransform::ResizedCropFlip { scale, ratio }
        } else {
            TrainTransform::FlipPadCrop { padding }
        };
        c
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Validation accepts or refuses any configuration; what it accepts builds a planner
    /// and an executor.
    #[test]
    fn configs_validate_without_panic(c in config(), seed in any::<u64>()) {
        if c.validate().is_ok() {
            prop_assert!(Planner::new(&c, seed).is_ok());
            prop_assert!(CpuExecutor::new(&c).is_ok());
        } else {
            prop_assert!(Planner::new(&c, seed).is_err());
            prop_assert!(CpuExecutor::new(&c).is_err());
        }
    }

    /// Plans for any image and mixing sizes: valid requests plan, others are errors.
    #[test]
    fn plans_never_panic(
        preset in preset(),
        seed in any::<u64>(),
        images in prop::collection::vec((0usize..600, 0usize..600), 0..12),
        mixing in prop::collection::vec((0usize..600, 0usize..600), 0..4),
    ) {
        let c = Config::preset(preset);
        let mut planner = Planner::new(&c, seed).unwrap();
        let result = planner.plan(&images, &mixing);
        let mixing_ok = !mixing.is_empty() && mixing.iter().all(|&(w, h)| w >= c.size && h >= c.size);
        let images_ok = images.iter().enumerate().all(|(i, &(w, h))| c.check_image_size(i, w, h).is_ok());
        prop_assert_eq!(result.is_ok(), mixing_ok && images_ok, "{:?}", result.err());
        if let Ok(plan) = result {
            prop_assert_eq!(plan.len(), images.len());
        }
    }

    /// Batches of random sizes and contents through the CPU path: images the preset cannot
    /// take are errors; the others give a tensor of the right shape with finite values.
    #[test]
    fn batches_never_panic(
        seed in any::<u64>(),
        sizes in prop::collection::vec((1usize..48, 1usize..48), 0..6),
        fill in any::<u8>(),
        threads in 0usize..3,
    ) {
        let c = Config::preset(Preset::Cifar);
        let mixing = common::mixing(&c);
        let mut pm = PixMix::new(c.clone(), mixing, seed).unwrap();
        match pm.with_threads(threads) {
            Ok(p) => pm = p,
            Err(_) => {
                prop_assert_eq!(threads, 0);
                return Ok(());
            }
        }
        let photos: Vec<RgbImage> = sizes
            .iter()
            .enumerate()
            .map(|(i, &(w, h))| {
                let mut img = common::make_image("noise", seed ^ i as u64, w, h);
                img.as_bytes_mut()[0] = fill;
                img
            })
            .collect();
        let fits = sizes.iter().all(|&(w, h)| w + 8 >= 32 && h + 8 >= 32);
        match pm.augment(&photos, Dtype::F32) {
            Ok(t) => {
                prop_assert!(fits);
                let v = t.to_f32_vec();
                prop_assert_eq!(v.len(), photos.len() * 3 * 32 * 32);
                prop_assert!(v.iter().all(|x| x.is_finite()));
            }
            Err(_) => prop_assert!(!fits),
        }
    }

    /// Mixing sets of any picture sizes, thin ones included: resized within the bound, or an
    /// error naming the size.
    #[test]
    fn mixing_sets_never_panic(
        sizes in prop::collection::vec(
            prop_oneof![(1usize..40, 1usize..40), (1usize..3, 1usize..200_000)],
            0..4,
        ),
        shorter in prop_oneof![0usize..300, Just(usize::MAX)],
    ) {
        let pics: Vec<RgbImage> = sizes.iter().map(|&(w, h)| RgbImage::black(w, h).unwrap()).collect();
        match MixingSet::from_images(pics, shorter) {
            Ok(set) => {
                prop_assert_eq!(set.len(), sizes.len());
                prop_assert!(set.sizes().iter().all(|&(w, h)| w * h <= MAX_MIXING_PIXELS));
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    /// Any bytes given as an image file: decoded or an error, never a panic or a huge
    /// allocation (a declared size past the bound is refused from the header).
    #[test]
    fn decoding_any_bytes_never_panics(
        prefix in prop_oneof![
            Just(b"\x89PNG\r\n\x1a\n".to_vec()),
            Just(vec![0xFF, 0xD8, 0xFF]),
            Just(Vec::new()),
        ],
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut bytes = prefix;
        bytes.extend(body);
        let _ = decode_rgb(&bytes, std::path::Path::new("random.bin"));
    }

    /// Raw buffers of any length and shape: wrapped when they match, errors otherwise.
    #[test]
    fn images_of_any_shape(w in 0usize..64, h in 0usize..64, len in 0usize..13_000) {
        let ok = w > 0 && h > 0 && len == w * h * 3;
        prop_assert_eq!(RgbImage::new(w, h, vec![0; len]).is_ok(), ok);
    }
}

#[test]
fn huge_shapes_are_errors() {
    assert!(RgbImage::new(usize::MAX, 3, Vec::new()).is_err());
    assert!(
        RgbImage::black(usize::MAX, usize::MAX).is_err() || cfg!(not(target_pointer_width = "64"))
    );
    assert!(MixingSet::fractals(usize::MAX, 256, 0).is_err());
    assert!(MixingSet::fractals(1_000_000_000_000, 256, 0).is_err());
}
