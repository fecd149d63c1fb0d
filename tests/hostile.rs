//! The command line against hostile inputs, interruptions and full disks: every case is a
//! clean error or a warning naming what was skipped, never a panic, an abort, a hang or a
//! half-written file under its final name.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use pixmix::mixing_set::{MAX_MIXING_PIXELS, load_rgb, scan_dir};
use pixmix::{MixingSet, RgbImage};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pixmix"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

/// A clean exit: success or an error status, never a panic (101) or a signal.
fn assert_clean(out: &Output) {
    assert!(
        out.status.signal().is_none() && out.status.code() != Some(101),
        "{:?}: {}",
        out.status,
        text(out)
    );
    assert!(!text(out).contains("panicked"), "{}", text(out));
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pixmix-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn assets(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(sub)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A folder with copies of the bundled photos (or mixing pictures).
fn copy_of(sub: &str, to: &Path) -> usize {
    std::fs::create_dir_all(to).unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(assets(sub)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        n += 1;
    }
    n
}

fn save(img: &RgbImage, path: &Path) {
    img.to_image_crate().save(path).unwrap();
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

fn no_temporaries(dir: &Path) {
    let names = files_in(dir);
    assert!(
        !names.iter().any(|n| n.starts_with(".pixmix-tmp")),
        "{names:?}"
    );
}

/// `augment --preset cifar` of `images` with `mixing`, into `out`, plus `extra`.
fn augment(images: &Path, mixing: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "augment",
        "--images",
        s(images),
        "--mixing",
        s(mixing),
        "--preset",
        "cifar",
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn symlink_loops_and_special_files_are_skipped_and_counted() {
    let dir = scratch("loops");
    let mix = dir.join("mix");
    let n = copy_of("mixing", &mix);
    symlink(".", mix.join("a")).unwrap();
    symlink(".", mix.join("b")).unwrap();
    symlink("/dev/urandom", mix.join("noise.jpg")).unwrap();
    symlink("missing.png", mix.join("broken.png")).unwrap();
    let fifo = std::ffi::CString::new(mix.join("fifo.png").as_os_str().as_bytes()).unwrap();
    // SAFETY: a plain libc call with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    // A second path to one folder: its files are read once.
    std::fs::create_dir(dir.join("more")).unwrap();
    symlink(&mix, dir.join("more/again")).unwrap();

    let listing = scan_dir(&mix).unwrap();
    assert_eq!(listing.files.len(), n, "{listing:?}");
    let summary = listing.summary();
    assert!(
        summary.contains("2 symlink loops") && summary.contains("2 special files"),
        "{summary}"
    );
    assert_eq!(MixingSet::from_dir(&mix, 36).unwrap().len(), n);

    let photos = dir.join("photos");
    copy_of("photos", &photos);
    symlink(".", photos.join("loop")).unwrap();
    let out = augment(&photos, &mix, &dir.join("out"), &["--count", "2"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 symlink loops"), "{}", text(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn thin_mixing_pictures_are_skipped_or_a_clean_error() {
    let dir = scratch("thin");
    let mix = dir.join("mix");
    let n = copy_of("mixing", &mix);
    // 1 x 10,000 becomes 256 x 2,560,000 at the imagenet preset: past the bound.
    save(&RgbImage::black(1, 10_000).unwrap(), &mix.join("thin.png"));
    let set = MixingSet::from_dir(&mix, 256).unwrap();
    assert_eq!(set.len(), n);
    assert!(
        set.skipped()[0]
            .1
            .contains("pixels a mixing picture may have")
    );
    assert!(set.sizes().iter().all(|&(w, h)| w * h <= MAX_MIXING_PIXELS));

    // A folder of only a 1 x 1,000,000 picture: an error naming the file, not an abort.
    let only = dir.join("only");
    std::fs::create_dir(&only).unwrap();
    save(
        &RgbImage::black(1_000_000, 1).unwrap(),
        &only.join("line.png"),
    );
    let out = run(&[
        "augment",
        "--images",
        s(&assets("photos")),
        "--mixing",
        s(&only),
        "--out",
        s(&dir.join("out")),
    ]);
    assert_clean(&out);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("line.png") && text(&out).contains("no usable image"),
        "{}",
        text(&out)
    );

    // A budget too small for the set is an error naming the budget and how to raise it.
    let out = run(&[
        "augment",
        "--images",
        s(&assets("photos")),
        "--mixing",
        s(&mix),
        "--mixing-budget",
        "1",
        "--out",
        s(&dir.join("out")),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("budget of 1 MiB") && text(&out).contains("--mixing-budget"),
        "{}",
        text(&out)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn truncated_jpegs_are_errors_as_in_pillow() {
    let dir = scratch("truncated");
    let photos = dir.join("photos");
    let n = copy_of("photos", &photos);
    let whole = std::fs::read(assets("photos/astronaut.jpg")).unwrap();
    let cut = photos.join("cut.jpg");
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let err = load_rgb(&cut).unwrap_err().to_string();
    assert!(
        err.contains("truncated") && err.contains("cut.jpg"),
        "{err}"
    );
    // The same bytes with their end restored decode (the check is not a false alarm).
    assert!(load_rgb(&assets("photos/astronaut.jpg")).is_ok());
    // 1.6 KB declaring 13000 x 13000 (or 9000 x 9000, under the pixel bound): refused from
    // the header or as truncated, before any pixel is allocated.
    let sof = whole
        .windows(2)
        .position(|w| w[0] == 0xFF && (0xC0..=0xC2).contains(&w[1]))
        .unwrap();
    for (side, expected) in [(13_000u16, "MAX_IMAGE_PIXELS"), (9_000, "truncated")] {
        let mut bomb = whole[..1600].to_vec();
        bomb[sof + 5..sof + 7].copy_from_slice(&side.to_be_bytes());
        bomb[sof + 7..sof + 9].copy_from_slice(&side.to_be_bytes());
        let path = dir.join(format!("bomb-{side}.jpg"));
        std::fs::write(&path, &bomb).unwrap();
        let err = load_rgb(&path).unwrap_err().to_string();
        assert!(err.contains(expected), "{err}");
    }

    let out = augment(&photos, &assets("mixing"), &dir.join("out"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("1 truncated images") && t.contains("cut.jpg"),
        "{t}"
    );
    assert!(
        t.contains(&format!("wrote {n} cifar samples of {n} photos")),
        "{t}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn photos_smaller_than_the_crop_are_found_before_output() {
    let dir = scratch("small");
    let photos = dir.join("photos");
    let n = copy_of("photos", &photos);
    save(
        &RgbImage::black(20, 20).unwrap(),
        &photos.join("b-tiny.png"),
    );
    let out_dir = dir.join("out");
    let out = augment(&photos, &assets("mixing"), &out_dir, &["--count", "12"]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("b-tiny.png: 20x20 is smaller than the 32x32 crop even with padding 4"),
        "{t}"
    );
    let sources = std::fs::read_to_string(out_dir.join("sources.tsv")).unwrap();
    assert!(!sources.contains("b-tiny"), "{sources}");
    let rows: Vec<&str> = sources.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rows.len(), 12);
    // The cycle goes through the usable photos only.
    assert_eq!(rows[0].split('\t').nth(1), rows[n].split('\t').nth(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn names_map_back_through_escapes() {
    let dir = scratch("names");
    let photos = dir.join("photos");
    std::fs::create_dir(&photos).unwrap();
    let jpg = std::fs::read(assets("photos/chelsea.jpg")).unwrap();
    let odd: [&[u8]; 3] = [b"tab\there.jpg", b"new\nline.jpg", b"bad\xff\\byte.jpg"];
    for name in odd {
        std::fs::write(photos.join(std::ffi::OsStr::from_bytes(name)), &jpg).unwrap();
    }
    let out_dir = dir.join("out");
    let out = augment(&photos, &assets("mixing"), &out_dir, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let sources = std::fs::read_to_string(out_dir.join("sources.tsv")).unwrap();
    let rows: Vec<&str> = sources.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rows.len(), 3, "{sources}");
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r.split('\t').nth(1).unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        names,
        ["bad\\xff\\\\byte.jpg", "new\\nline.jpg", "tab\\there.jpg"]
    );
    // Three samples, the sheet, sources.tsv and the lock.
    assert_eq!(files_in(&out_dir).len(), 6);
    // Outputs get an ordinary file's permissions (the umask's), not a temporary file's 0600.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let ordinary = dir.join("ordinary");
    std::fs::File::create(&ordinary).unwrap();
    assert_eq!(mode(&out_dir.join("sources.tsv")), mode(&ordinary));
    assert_eq!(mode(&out_dir.join("contact-sheet.png")), mode(&ordinary));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_interrupted_run_stops_after_a_file_and_says_so() {
    let dir = scratch("signal");
    let out_dir = dir.join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pixmix"))
        .args([
            "augment",
            "--images",
            s(&assets("photos")),
            "--mixing",
            s(&assets("mixing")),
            "--preset",
            "cifar",
            "--count",
            "1000000",
            "--batch",
            "8",
            "--out",
            s(&out_dir),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (without a time limit) for the first sample, then interrupt.
    while !out_dir.join("000000-astronaut.png").exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{status:?}: {}", text(&child.wait_with_output().unwrap()));
        }
        std::thread::yield_now();
    }
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("interrupted by SIGINT") && t.contains("the run is incomplete"),
        "{t}"
    );
    assert!(!out_dir.join("sources.tsv").exists());
    no_temporaries(&out_dir);
    // Every sample written is a complete PNG.
    let pngs: Vec<String> = files_in(&out_dir)
        .into_iter()
        .filter(|n| n.ends_with(".png"))
        .collect();
    assert!(!pngs.is_empty());
    for name in &pngs {
        load_rgb(&out_dir.join(name)).unwrap();
    }

    // The folder now holds an incomplete run: an error without --overwrite ...
    let rerun = |extra: &[&str]| {
        let mut args = vec!["--count", "2"];
        args.extend_from_slice(extra);
        augment(&assets("photos"), &assets("mixing"), &out_dir, &args)
    };
    let out = rerun(&[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("--overwrite"), "{}", text(&out));
    // ... a run with --overwrite that fails on its input leaves them ...
    let before = files_in(&out_dir);
    let out = augment(
        &dir.join("missing"),
        &assets("mixing"),
        &out_dir,
        &["--overwrite"],
    );
    assert!(!out.status.success() && text(&out).contains("is not a folder"));
    assert_eq!(files_in(&out_dir), before);
    // ... and with it, the old files go first.
    let out = rerun(&["--overwrite"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        files_in(&out_dir),
        [
            ".pixmix.lock",
            "000000-astronaut.png",
            "000001-chelsea.png",
            "contact-sheet.png",
            "sources.tsv"
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_second_run_into_the_same_folder_is_refused() {
    use std::os::unix::io::AsRawFd;
    let dir = scratch("lock");
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let lock = std::fs::File::create(out_dir.join(".pixmix.lock")).unwrap();
    // SAFETY: flock on a file this test owns, as a running pixmix holds it.
    assert_eq!(
        unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
        0
    );
    let out = augment(&assets("photos"), &assets("mixing"), &out_dir, &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("another pixmix run is writing into"),
        "{}",
        text(&out)
    );
    assert_eq!(files_in(&out_dir), [".pixmix.lock"]);
    drop(lock);
    let out = augment(&assets("photos"), &assets("mixing"), &out_dir, &[]);
    assert!(out.status.success(), "{}", text(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs pixmix with a file-size limit (`ulimit -f`), as a full disk would stop it.
fn run_with_file_limit(bytes: u64, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pixmix"));
    cmd.args(args).stdin(Stdio::null());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().unwrap()
}

#[test]
fn a_full_disk_leaves_no_partial_file_and_names_the_path() {
    let dir = scratch("full");
    for (format, limit, name) in [
        ("npy", 50_000, "augmented.npy"),
        ("png", 20_000, "contact-sheet.png"),
    ] {
        let out_dir = dir.join(format);
        let out = run_with_file_limit(
            limit,
            &[
                "augment",
                "--images",
                s(&assets("photos")),
                "--mixing",
                s(&assets("mixing")),
                "--preset",
                "cifar",
                "--count",
                "8",
                "--format",
                format,
                "--out",
                s(&out_dir),
            ],
        );
        assert_clean(&out);
        assert!(!out.status.success());
        let t = text(&out);
        assert!(
            t.contains(&format!("cannot write {}", out_dir.join(name).display())),
            "{t}"
        );
        assert!(!out_dir.join(name).exists() && !out_dir.join("sources.tsv").exists());
        no_temporaries(&out_dir);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sources_tsv_as_a_folder_is_found_before_any_sample() {
    let dir = scratch("tsvdir");
    let out_dir = dir.join("out");
    std::fs::create_dir_all(out_dir.join("sources.tsv")).unwrap();
    let out = augment(&assets("photos"), &assets("mixing"), &out_dir, &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("sources.tsv"), "{}", text(&out));
    let out = augment(
        &assets("photos"),
        &assets("mixing"),
        &out_dir,
        &["--overwrite"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!(
            "cannot remove {}",
            out_dir.join("sources.tsv").display()
        )),
        "{}",
        text(&out)
    );
    assert_eq!(files_in(&out_dir), [".pixmix.lock", "sources.tsv"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn extreme_arguments_are_clean_errors() {
    let dir = scratch("args");
    let out = dir.join("out");
    let (photos, mixing) = (assets("photos"), assets("mixing"));
    let aug = |extra: &[&str]| {
        let mut args = vec!["augment", "--images", s(&photos), "--out", s(&out)];
        args.extend_from_slice(extra);
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>()
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (aug(&["--count", "-1"]), "must be at least 1"),
        (aug(&["--count", "0"]), "must be at least 1"),
        (aug(&["--batch", "4096"]), "must be at most 1024"),
        (aug(&["--batch", "10000000"]), "must be at most 1024"),
        (aug(&["--threads", "100000"]), "must be at most"),
        (aug(&["--threads", "-3"]), "must be at least 1"),
        (
            aug(&["--fractals", "18446744073709551615"]),
            "must be at most",
        ),
        (aug(&["--fractals", "100000"]), "--mixing-budget"),
        (aug(&["--seed", "-1"]), "must be at least 0"),
        (aug(&["--severity", "-1"]), "must be at least 1"),
        (aug(&["--k", "1e9"]), "must be a whole number"),
        (aug(&["--beta", "-1"]), "beta must be"),
        (
            aug(&["--mixing", s(&mixing), "--count", "2.5"]),
            "must be a whole number",
        ),
        (
            [
                "fractals",
                "--count",
                "18446744073709551615",
                "--out",
                s(&out),
            ]
            .map(String::from)
            .to_vec(),
            "must be at most 1000000",
        ),
        (
            ["fractals", "--count", "1000000000000", "--out", s(&out)]
                .map(String::from)
                .to_vec(),
            "must be at most 1000000",
        ),
        (
            ["fractals", "--size", "-5", "--out", s(&out)]
                .map(String::from)
                .to_vec(),
            "must be at least 8",
        ),
        (
            ["bench", "--seconds", "1e20"].map(String::from).to_vec(),
            "must be at most 86400",
        ),
        (
            ["bench", "--seconds", "-1"].map(String::from).to_vec(),
            "must be at least 0",
        ),
        (
            ["bench", "--batch", "1000000000"]
                .map(String::from)
                .to_vec(),
            "must be at most 1024",
        ),
        (
            ["bench", "--threads", "100000"].map(String::from).to_vec(),
            "must be at most",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args);
        assert_clean(&out);
        assert!(!out.status.success(), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(expected), "{args:?}: {}", text(&out));
    }
    // No argument error left anything behind.
    assert!(!out.join("sources.tsv").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fractals_write_each_picture_and_a_manifest_last() {
    let dir = scratch("fractals");
    let out_dir = dir.join("fr");
    let args = [
        "fractals",
        "--count",
        "2",
        "--size",
        "32",
        "--quality",
        "2",
        "--device",
        "cpu",
        "--out",
    ];
    let mut all = args.to_vec();
    all.push(s(&out_dir));
    let out = run(&all);
    assert!(out.status.success(), "{}", text(&out));
    let manifest = std::fs::read_to_string(out_dir.join("fractals.tsv")).unwrap();
    assert!(
        manifest.starts_with("# pixmix fractals, a complete run: seed 0, count 2, size 32"),
        "{manifest}"
    );
    assert!(manifest.ends_with("0\tfractal-00000.png\n1\tfractal-00001.png\n"));
    let out = run(&all);
    assert!(!out.status.success() && text(&out).contains("--overwrite"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unreadable_folders_are_skipped_like_unreadable_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("unreadable");
    let mix = dir.join("mix");
    let n = copy_of("mixing", &mix);
    let locked = mix.join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::copy(assets("photos/coffee.jpg"), locked.join("x.jpg")).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let listing = scan_dir(&mix).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    // SAFETY: a plain libc call.
    if unsafe { libc::geteuid() } == 0 {
        // Permissions do not stop root; the folder is read.
        assert_eq!(listing.files.len(), n + 1);
    } else {
        assert_eq!(listing.files.len(), n);
        assert!(
            listing.summary().contains("1 unreadable entries"),
            "{listing:?}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sigterm_stops_fractals_after_a_picture() {
    let dir = scratch("sigterm");
    let out_dir = dir.join("fr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pixmix"))
        .args([
            "fractals",
            "--count",
            "100000",
            "--size",
            "32",
            "--quality",
            "2",
            "--device",
            "cpu",
            "--out",
            s(&out_dir),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while !out_dir.join("fractal-00000.png").exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{status:?}: {}", text(&child.wait_with_output().unwrap()));
        }
        std::thread::yield_now();
    }
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(128 + libc::SIGTERM),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("interrupted by SIGTERM: wrote")
            && text(&out).contains("the run is incomplete (no fractals.tsv)"),
        "{}",
        text(&out)
    );
    assert!(!out_dir.join("fractals.tsv").exists());
    no_temporaries(&out_dir);
    std::fs::remove_dir_all(&dir).unwrap();
}
