//! The `pixmix` command line, run as a user would.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use pixmix::mixing_set::load_rgb;
use pixmix::{Config, Dtype, MixingSet, PixMix, Preset};

fn pixmix(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pixmix"))
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pixmix-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn assets(sub: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(sub)
        .display()
        .to_string()
}

#[test]
fn every_subcommand_has_help() {
    for sub in ["op", "augment", "bench", "fractals", "demo"] {
        let (ok, text) = pixmix(&[sub, "--help"]);
        assert!(ok && text.contains("Usage"), "{sub}: {text}");
    }
    let (_, text) = pixmix(&["op", "--help"]);
    assert!(text.contains("sharpness") && text.contains("threshold"));
}

#[test]
fn op_writes_what_the_library_computes() {
    let dir = scratch("op");
    let input = dir.join("in.png");
    common::make_image("smooth", 3, 45, 31)
        .to_image_crate()
        .save(&input)
        .unwrap();
    let output = dir.join("out.png");
    let (ok, text) = pixmix(&[
        "op",
        "shear_x",
        "--param",
        "-0.21",
        input.to_str().unwrap(),
        output.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    let expected =
        pixmix::ops::apply(pixmix::Operator::ShearX, -0.21, &load_rgb(&input).unwrap()).unwrap();
    assert_eq!(load_rgb(&output).unwrap(), expected);

    let (ok, text) = pixmix(&[
        "op",
        "rotate",
        input.to_str().unwrap(),
        output.to_str().unwrap(),
    ]);
    assert!(!ok && text.contains("rotate needs --param"), "{text}");
    let (ok, text) = pixmix(&[
        "op",
        "posterize",
        "--param",
        "9",
        input.to_str().unwrap(),
        output.to_str().unwrap(),
    ]);
    assert!(!ok && text.contains("0..=8"), "{text}");
    let (ok, text) = pixmix(&[
        "op",
        "equalize",
        dir.join("missing.png").to_str().unwrap(),
        output.to_str().unwrap(),
    ]);
    assert!(!ok && text.contains("missing.png"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `pixmix augment` of the bundled assets: cifar preset, 6 samples in batches of 4, seed 9.
fn augment_cifar(out: &Path, extra: &[&str]) -> (bool, String) {
    let (photos, mixing) = (assets("photos"), assets("mixing"));
    let mut args = vec![
        "augment", "--images", &photos, "--mixing", &mixing, "--preset", "cifar", "--count", "6",
        "--batch", "4", "--seed", "9",
    ];
    args.extend_from_slice(extra);
    args.extend(["--out", out.to_str().unwrap()]);
    pixmix(&args)
}

#[test]
fn augment_writes_samples_sheet_and_matching_npy() {
    let dir = scratch("augment");
    let png = dir.join("png");
    let (ok, text) = augment_cifar(&png, &[]);
    assert!(ok, "{text}");
    let pngs = std::fs::read_dir(&png).unwrap().filter(|e| {
        let name = e
            .as_ref()
            .unwrap()
            .file_name()
            .to_string_lossy()
            .to_string();
        name.ends_with(".png") && name != "contact-sheet.png"
    });
    assert_eq!(pngs.count(), 6);
    let sheet = load_rgb(&png.join("contact-sheet.png")).unwrap();
    assert!(sheet.width() > 96 * 7 && sheet.height() > 96 * 4);
    let sources = std::fs::read_to_string(png.join("sources.tsv")).unwrap();
    assert!(
        sources.starts_with("# pixmix augment, a complete run: preset cifar, seed 9, count 6"),
        "{sources}"
    );
    assert_eq!(sources.lines().filter(|l| !l.starts_with('#')).count(), 6);

    let npy = dir.join("npy");
    let (ok, text) = augment_cifar(&npy, &["--format", "npy"]);
    assert!(ok, "{text}");
    let bytes = std::fs::read(npy.join("augmented.npy")).unwrap();
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(
        header.contains("'shape': (6, 3, 32, 32)") && header.contains("<f4"),
        "{header}"
    );
    assert_eq!((10 + header_len) % 64, 0);
    let values: Vec<f32> = bytes[10 + header_len..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();

    // The same seed through the library gives the same tensor.
    let config = Config::preset(Preset::Cifar);
    let mixing = MixingSet::from_dir(Path::new(&assets("mixing")), config.mixing_resize).unwrap();
    let photos: Vec<_> = pixmix::mixing_set::list_files(Path::new(&assets("photos")))
        .unwrap()
        .iter()
        .map(|p| load_rgb(p).unwrap())
        .collect();
    let mut pm = PixMix::new(config, mixing, 9).unwrap();
    let first = pm
        .augment(&[0, 1, 2, 3].map(|i| photos[i].clone()), Dtype::F32)
        .unwrap();
    let second = pm
        .augment(&[0, 1].map(|i| photos[i].clone()), Dtype::F32)
        .unwrap();
    let mut expected = first.to_f32_vec();
    expected.extend(second.to_f32_vec());
    assert_eq!(values, expected);

    let (ok, text) = pixmix(&[
        "augment",
        "--images",
        &assets("photos"),
        "--mixing",
        dir.join("nothing").to_str().unwrap(),
        "--out",
        dir.join("x").to_str().unwrap(),
    ]);
    assert!(!ok && text.contains("is not a folder"), "{text}");
    let (ok, text) = pixmix(&[
        "augment",
        "--images",
        &assets("photos"),
        "--mixing",
        &assets("mixing"),
        "--severity",
        "11",
        "--out",
        dir.join("x").to_str().unwrap(),
    ]);
    assert!(!ok && text.contains("severity must be in 1..=10"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bench_prints_images_per_second_for_each_preset() {
    let (ok, text) = pixmix(&["bench", "--seconds", "0", "--batch", "4", "--threads", "1"]);
    assert!(ok, "{text}");
    for preset in ["cifar", "imagenet"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(preset))
            .unwrap_or_else(|| panic!("{text}"));
        let rate: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(rate > 0.0 && line.contains("images/s"), "{line}");
    }
}

#[test]
fn demo_needs_no_input() {
    let dir = scratch("demo");
    let out = dir.join("new-folder").join("demo.png");
    let (ok, text) = pixmix(&["demo", "--device", "cpu", "--out", out.to_str().unwrap()]);
    assert!(ok, "{text}");
    let pic = load_rgb(&out).unwrap();
    // Photos, mixing pictures, one row of results per photo, then the AugMix row.
    assert!(
        pic.width() > 7 * 200 && pic.height() > 8 * 200,
        "{}x{}",
        pic.width(),
        pic.height()
    );
    assert!(
        text.contains("24 PixMix and 6 AugMix samples on cpu"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn augment_and_fractals_work_without_a_mixing_folder() {
    let dir = scratch("fractals");
    let (ok, text) = pixmix(&[
        "augment",
        "--images",
        &assets("photos"),
        "--preset",
        "cifar",
        "--fractals",
        "3",
        "--count",
        "4",
        "--out",
        dir.join("aug").to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert!(dir.join("aug/contact-sheet.png").exists());
    let (ok, text) = pixmix(&[
        "fractals",
        "--count",
        "3",
        "--size",
        "48",
        "--out",
        dir.join("fr").to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert!(
        text.contains("3 accepted") && text.contains("fractals/s"),
        "{text}"
    );
    assert!(dir.join("fr/fractal-00002.png").exists() && dir.join("fr/contact-sheet.png").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn augment_augmix_writes_jsd_views_equal_to_the_library() {
    let dir = scratch("augmix");
    let photos_dir = assets("photos");
    let run = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "augment",
            "--method",
            "augmix",
            "--images",
            &photos_dir,
            "--preset",
            "cifar",
            "--count",
            "6",
            "--batch",
            "4",
            "--seed",
            "9",
            "--jsd",
        ];
        args.extend_from_slice(extra);
        let out = out.to_str().unwrap().to_string();
        args.extend(["--out", &out]);
        pixmix(&args)
    };
    let png = dir.join("png");
    let (ok, text) = run(&png, &[]);
    assert!(
        ok && text.contains("augmix samples (3 JSD views each)"),
        "{text}"
    );
    let names: Vec<String> = std::fs::read_dir(&png)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    for view in ["-clean.png", "-aug1.png", "-aug2.png"] {
        assert_eq!(
            names.iter().filter(|n| n.ends_with(view)).count(),
            6,
            "{names:?}"
        );
    }

    let npy = dir.join("npy");
    let (ok, text) = run(
        &npy,
        &[
            "--format", "npy", "--width", "4", "--depth", "2", "--alpha", "0.5",
        ],
    );
    assert!(ok, "{text}");
    let bytes = std::fs::read(npy.join("augmented.npy")).unwrap();
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(header.contains("'shape': (6, 3, 3, 32, 32)"), "{header}");
    let values: Vec<f32> = bytes[10 + header_len..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    // The library's [clean(N); aug1(N); aug2(N)] blocks, photo-major in the file.
    let mut config = pixmix::AugMixConfig::preset(Preset::Cifar);
    (config.width, config.depth, config.alpha) = (4, 2, 0.5);
    let photos: Vec<_> = pixmix::mixing_set::list_files(Path::new(&assets("photos")))
        .unwrap()
        .iter()
        .map(|p| load_rgb(p).unwrap())
        .collect();
    let mut am = pixmix::AugMix::new(config, 9).unwrap();
    let per = 3 * 32 * 32;
    let mut expected = Vec::new();
    for batch in [vec![0, 1, 2, 3], vec![0, 1]] {
        let images: Vec<_> = batch.iter().map(|&i| photos[i].clone()).collect();
        let t = am.augment_jsd(&images, Dtype::F32).unwrap().to_f32_vec();
        let n = images.len();
        for j in 0..n {
            for v in 0..3 {
                expected.extend_from_slice(&t[(v * n + j) * per..(v * n + j + 1) * per]);
            }
        }
    }
    assert_eq!(values, expected);

    for (flags, message) in [
        (&["--depth", "0"][..], "must be -1"),
        (&["--width", "9"][..], "must be at most 8"),
        (&["--k", "2"][..], "--k belongs to --method pixmix"),
    ] {
        let (ok, text) = run(&dir.join("x"), flags);
        assert!(!ok && text.contains(message), "{flags:?}: {text}");
    }
    let (ok, text) = pixmix(&[
        "bench",
        "--method",
        "augmix",
        "--preset",
        "cifar",
        "--seconds",
        "0",
        "--batch",
        "4",
        "--threads",
        "1",
    ]);
    assert!(ok && text.starts_with("cifar augmix: "), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}
