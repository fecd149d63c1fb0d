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
