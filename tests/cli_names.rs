//! The command line's names and defaults: dtype names shared with Python, `op`'s output
//! format following the extension, counts in words, and the defaults shared by the
//! subcommands.

use std::path::PathBuf;
use std::process::Command;

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
    let dir = std::env::temp_dir().join(format!("pixmix-names-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn photo() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/assets/photos/coffee.jpg").to_string()
}

#[test]
fn op_writes_the_format_its_extension_names() {
    let dir = scratch("op");
    for (name, magic) in [
        ("a.png", &b"\x89PNG"[..]),
        ("b.jpg", b"\xff\xd8"),
        ("c.JPEG", b"\xff\xd8"),
    ] {
        let out = dir.join(name);
        let (ok, text) = pixmix(&["op", "equalize", &photo(), out.to_str().unwrap()]);
        assert!(ok, "{text}");
        assert!(std::fs::read(&out).unwrap().starts_with(magic), "{name}");
    }
    let bmp = dir.join("d.bmp");
    let (ok, text) = pixmix(&["op", "equalize", &photo(), bmp.to_str().unwrap()]);
    assert!(
        !ok && text.contains(".png, .jpg or .jpeg") && !bmp.exists(),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dtype_names_are_the_same_as_in_python() {
    for name in ["f32", "float32", "f16", "float16", "half"] {
        let dir = scratch(&format!("dtype-{name}"));
        let (ok, text) = pixmix(&[
            "augment",
            "--images",
            concat!(env!("CARGO_MANIFEST_DIR"), "/assets/photos"),
            "--mixing",
            concat!(env!("CARGO_MANIFEST_DIR"), "/assets/mixing"),
            "--preset",
            "cifar",
            "--count",
            "2",
            "--format",
            "npy",
            "--dtype",
            name,
            "--device",
            "cpu",
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(ok, "{name}: {text}");
        let npy = std::fs::read(dir.join("augmented.npy")).unwrap();
        let want = if name.contains("32") {
            "'<f4'"
        } else {
            "'<f2'"
        };
        assert!(String::from_utf8_lossy(&npy[..80]).contains(want), "{name}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// The default clap prints for `flag` in `help`.
fn default_of(help: &str, flag: &str) -> String {
    let at = help
        .find(&format!("{flag} "))
        .unwrap_or_else(|| panic!("{flag}: {help}"));
    let rest = &help[at..];
    let start = rest.find("[default: ").unwrap() + "[default: ".len();
    rest[start..start + rest[start..].find(']').unwrap()].to_string()
}

#[test]
fn defaults_agree_across_subcommands() {
    let (_, augment) = pixmix(&["augment", "--help"]);
    let (_, fractals) = pixmix(&["fractals", "--help"]);
    let (_, demo) = pixmix(&["demo", "--help"]);
    for help in [&augment, &fractals, &demo] {
        assert_eq!(default_of(help, "--device"), "auto", "{help}");
    }
    assert_eq!(default_of(&augment, "--fractals"), "64");
    assert_eq!(default_of(&fractals, "--count"), "64");
}

#[test]
fn one_thread_is_one_thread() {
    let (ok, text) = pixmix(&[
        "bench",
        "--preset",
        "cifar",
        "--seconds",
        "0",
        "--batch",
        "2",
        "--threads",
        "1",
    ]);
    assert!(
        ok && text.contains("1 thread,") && !text.contains("1 threads"),
        "{text}"
    );
}

#[test]
fn the_demo_shows_every_fractal_it_names_and_says_what_the_rows_are() {
    let dir = scratch("demo");
    let out = dir.join("demo.png");
    let (ok, text) = pixmix(&["demo", "--device", "cpu", "--out", out.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert!(text.contains("12 fractals") && text.contains("2 to 3 the 12 mixing pictures"));
    assert!(
        text.contains("last, astronaut resized and 6 AugMix samples"),
        "{text}"
    );
    // 1 row of photos, 2 of fractals (7 a row), 4 of PixMix results, 1 of AugMix results:
    // 8 rows of 7 200-pixel cells, 4-pixel gaps.
    let img = pixmix::mixing_set::load_rgb(&out).unwrap();
    assert_eq!(
        (img.width(), img.height()),
        (7 * 204 + 4, 8 * 204 + 4),
        "8 rows of 7 cells"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `augment` of two bundled photos into `dir` as npy, with `extra` flags.
fn augment_npy(dir: &std::path::Path, extra: &[&str]) -> (bool, String) {
    let mut args = vec![
        "augment",
        concat!("--images=", env!("CARGO_MANIFEST_DIR"), "/assets/photos"),
        concat!("--mixing=", env!("CARGO_MANIFEST_DIR"), "/assets/mixing"),
        "--preset",
        "cifar",
        "--count",
        "2",
        "--format",
        "npy",
        "--device",
        "cpu",
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    pixmix(&args)
}

#[test]
fn augment_takes_every_setting() {
    let dir = scratch("settings");
    let (ok, text) = augment_npy(
        &dir,
        &[
            "--size",
            "24",
            "--padding",
            "2",
            "--no-normalize",
            "--layout",
            "nhwc",
        ],
    );
    assert!(ok, "{text}");
    let npy = std::fs::read(dir.join("augmented.npy")).unwrap();
    let header_len = u16::from_le_bytes([npy[8], npy[9]]) as usize;
    let header = String::from_utf8_lossy(&npy[10..10 + header_len]);
    assert!(header.contains("'shape': (2, 24, 24, 3)"), "{header}");
    let values: Vec<f32> = npy[10 + header_len..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(values.len(), 2 * 24 * 24 * 3);
    assert!(
        values.iter().all(|v| (0.0..=1.0).contains(v)),
        "[0, 1] without normalization"
    );
    for (flags, says) in [
        (&["--scale", "0.9,0.1"][..], "got (0.9, 0.1)"),
        (&["--mean", "1,2"][..], "R,G,B"),
        (
            &["--padding", "1", "--ratio", "1,2"][..],
            "one or the other",
        ),
        (&["--size", "0"][..], "size must be in 1..=4096, got 0"),
    ] {
        let (ok, text) = augment_npy(&dir, flags);
        assert!(!ok && text.contains(says), "{flags:?}: {text}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
