//! The embedded kernel source (the NVRTC fallback used when nvcc was missing at build
//! time) compiles with NVRTC and defines every kernel. Skipped, loudly, where libnvrtc
//! cannot be loaded; CI puts pip's NVRTC on the library path.

use cudarc::nvrtc::{CompileOptions, compile_ptx_with_opts};
use pixmix::kernels::{FATBIN, KERNEL_NAMES, SOURCE};

#[test]
fn embedded_source_compiles_with_nvrtc() {
    // SAFETY: only tries to open the shared library.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED embedded_source_compiles_with_nvrtc: libnvrtc not found"
        );
        assert!(
            std::env::var("PIXMIX_REQUIRE_NVRTC").is_err(),
            "PIXMIX_REQUIRE_NVRTC is set but libnvrtc cannot be loaded"
        );
        return;
    }
    let compile = |fmad: bool| {
        let opts = CompileOptions {
            fmad: Some(fmad),
            options: vec!["--gpu-architecture=compute_80".into(), "-std=c++17".into()],
            ..Default::default()
        };
        compile_ptx_with_opts(SOURCE, opts)
            .unwrap_or_else(|e| panic!("NVRTC: {e}"))
            .to_src()
    };
    let text = compile(false);
    for name in KERNEL_NAMES {
        assert!(
            text.contains(&format!(".entry {name}")),
            "{name} missing from the PTX"
        );
    }
    // --fmad=false: the only fused multiply-adds are the power's explicit ones (exact
    // error terms, the same on every machine); with contraction allowed, the compiler
    // would fuse many more (the mixing arithmetic, the blends) and GPU and CPU would part.
    let fused = |ptx: &str| ptx.matches("fma.rn").count();
    assert!(
        fused(&text) < fused(&compile(true)),
        "--fmad=false left {} fused multiply-adds, as many as contraction does",
        fused(&text)
    );
}

#[test]
fn the_fatbin_is_embedded_when_kernels_are_required() {
    if option_env!("PIXMIX_REQUIRE_KERNELS") == Some("1") {
        let bin = FATBIN.expect("PIXMIX_REQUIRE_KERNELS=1 builds must embed the fatbin");
        assert!(bin.len() > 10_000);
    }
}

/// Double-precision instructions per kernel in the fatbin's PTX. Most GPUs run them at
/// 1/64 of single precision, so the per-element kernels must do without: the resize passes
/// already do (their filters are computed once per sample on the host); the pixel kernel's
/// power and affine interpolation still use them (listed, not yet required to be zero).
#[test]
fn the_resize_kernels_execute_no_double_precision() {
    let Some(bin) = FATBIN else {
        assert!(
            option_env!("PIXMIX_REQUIRE_KERNELS") != Some("1"),
            "PIXMIX_REQUIRE_KERNELS=1 builds must embed the fatbin"
        );
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED: built without nvcc");
        return;
    };
    let entries = cuda_emu::fatbin::read_image_bytes(bin).expect("the fatbin's PTX");
    assert!(!entries.is_empty());
    for entry in entries {
        let module = cuda_emu::ptx::parse(&entry.text).expect("the PTX parses");
        for f in module.functions.iter().filter(|f| f.is_entry) {
            let f64s = f
                .body
                .iter()
                .filter(|s| match s {
                    cuda_emu::ptx::ast::Statement::Instr(i) => {
                        i.modifiers.iter().any(|m| m == "f64")
                    }
                    _ => false,
                })
                .count();
            println!(
                "compute_{:?} {}: {f64s} f64 instructions",
                entry.arch, f.name
            );
            if f.name.starts_with("pixmix_train_pass") {
                assert_eq!(f64s, 0, "{} uses double precision", f.name);
            }
        }
    }
}

/// f64 instructions of each entry of PTX `text`, by name.
fn f64_counts(text: &str) -> Vec<(String, usize)> {
    let module = cuda_emu::ptx::parse(text).expect("the PTX parses");
    module
        .functions
        .iter()
        .filter(|f| f.is_entry)
        .map(|f| {
            let n = f
                .body
                .iter()
                .filter(|s| match s {
                    cuda_emu::ptx::ast::Statement::Instr(i) => {
                        i.modifiers.iter().any(|m| m == "f64")
                    }
                    _ => false,
                })
                .count();
            (f.name.clone(), n)
        })
        .collect()
}

/// AugMix's per-pixel kernels: a chain step and the mixing pixel.
const AUGMIX_PIXEL_KERNELS: [&str; 2] = ["pixmix_augmix_step_kernel", "pixmix_augmix_pixel_kernel"];

/// Where `pixmix_affine`'s body is in `source`: from its opening brace to its closing one.
fn affine_body(source: &str) -> std::ops::Range<usize> {
    let start = source
        .find("void pixmix_affine(")
        .expect("the source defines pixmix_affine");
    let open = source[start..].find('{').expect("its body opens") + start;
    let close = source[open..].find("\n}\n").expect("its body closes") + open + 2;
    open..close
}

/// AugMix's per-pixel kernels do without double precision: the mixture is float32 and
/// the operators are PixMix's, whose affine resampling (`pixmix_affine`) is the only part
/// still in double. Compiled by NVRTC with that function's body stubbed out, the two
/// kernels hold no f64 instruction; and the fatbin's hold none once `pixmix_affine` is
/// integer-only.
#[test]
fn augmix_pixel_kernels_execute_no_double_precision_beyond_the_affine() {
    let affine = &SOURCE[affine_body(SOURCE)];
    let affine_in_double = affine.contains("double");
    if let Some(bin) = FATBIN {
        let entries = cuda_emu::fatbin::read_image_bytes(bin).expect("the fatbin's PTX");
        for entry in entries {
            let counts = f64_counts(&entry.text);
            for name in AUGMIX_PIXEL_KERNELS {
                let (_, n) = counts
                    .iter()
                    .find(|c| c.0 == name)
                    .unwrap_or_else(|| panic!("{name} missing"));
                println!(
                    "compute_{:?} {name}: {n} f64 instructions (pixmix_affine computes in \
                     double: {affine_in_double})",
                    entry.arch
                );
                if !affine_in_double {
                    assert_eq!(*n, 0, "{name} uses double precision");
                }
            }
        }
    }
    // SAFETY: only tries to open the shared library.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED the stubbed-affine half of augmix_pixel_kernels_execute_no_double_precision: \
             libnvrtc not found"
        );
        assert!(
            std::env::var("PIXMIX_REQUIRE_NVRTC").is_err(),
            "PIXMIX_REQUIRE_NVRTC is set but libnvrtc cannot be loaded"
        );
        return;
    }
    let range = affine_body(SOURCE);
    let stubbed = format!(
        "{}{{ out[0] = 0; out[1] = 0; out[2] = 0; }}{}",
        &SOURCE[..range.start],
        &SOURCE[range.end..]
    );
    let opts = CompileOptions {
        fmad: Some(false),
        options: vec!["--gpu-architecture=compute_80".into(), "-std=c++17".into()],
        ..Default::default()
    };
    let ptx = compile_ptx_with_opts(stubbed, opts).unwrap_or_else(|e| panic!("NVRTC: {e}"));
    let counts = f64_counts(&ptx.to_src());
    for name in AUGMIX_PIXEL_KERNELS {
        let (_, n) = counts
            .iter()
            .find(|c| c.0 == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        println!("{name} with pixmix_affine stubbed: {n} f64 instructions");
        assert_eq!(*n, 0, "{name} uses double precision outside pixmix_affine");
    }
}
