//! The embedded kernel source (the NVRTC fallback used when nvcc was missing at build
//! time) compiles with NVRTC and defines every kernel. Skipped, loudly, where libnvrtc
//! cannot be loaded; CI puts pip's NVRTC on the library path.

use cudarc::nvrtc::{CompileOptions, compile_ptx_with_opts};
use pixmix::kernels::{FATBIN, KERNEL_NAMES, SOURCE};

/// Whether libnvrtc loads; says so on stderr where it does not (an error under
/// PIXMIX_REQUIRE_NVRTC).
fn nvrtc_present(test: &str) -> bool {
    // SAFETY: only tries to open the shared library.
    if unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return true;
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: libnvrtc not found");
    assert!(
        std::env::var("PIXMIX_REQUIRE_NVRTC").is_err(),
        "PIXMIX_REQUIRE_NVRTC is set but libnvrtc cannot be loaded"
    );
    false
}

/// `source` compiled by NVRTC for compute_80, without fused multiply-adds, as PTX.
fn nvrtc_ptx(source: &str) -> String {
    nvrtc_ptx_fmad(source, false)
}

/// `source` compiled by NVRTC for compute_80, with or without contraction into fused
/// multiply-adds, as PTX.
fn nvrtc_ptx_fmad(source: &str, fmad: bool) -> String {
    let opts = CompileOptions {
        fmad: Some(fmad),
        options: vec!["--gpu-architecture=compute_80".into(), "-std=c++17".into()],
        ..Default::default()
    };
    let ptx = compile_ptx_with_opts(source, opts).unwrap_or_else(|e| panic!("NVRTC: {e}"));
    ptx.to_src()
}

/// Double-precision (`.f64`) instructions of each entry of a PTX module, those of the device
/// functions it calls (directly or not) included.
fn f64_instructions(ptx: &str) -> Vec<(String, usize)> {
    use cuda_emu::ptx::ast::{Function, Operand, Statement};
    let module = cuda_emu::ptx::parse(ptx).expect("the PTX parses");
    let find = |name: &str| module.functions.iter().find(|f| f.name == name);
    // f's own f64 instructions and the names it calls.
    let scan = |f: &Function| {
        let (mut count, mut calls) = (0, Vec::new());
        for s in &f.body {
            if let Statement::Instr(i) = s {
                count += i.modifiers.iter().any(|m| m == "f64") as usize;
                if i.opcode == "call" {
                    calls.extend(i.operands.iter().find_map(|o| match o {
                        Operand::Symbol(name) => Some(name.clone()),
                        _ => None,
                    }));
                }
            }
        }
        (count, calls)
    };
    module
        .functions
        .iter()
        .filter(|f| f.is_entry)
        .map(|f| {
            let (mut count, mut pending) = scan(f);
            let mut seen = std::collections::HashSet::new();
            while let Some(name) = pending.pop() {
                if seen.insert(name.clone())
                    && let Some(g) = find(&name)
                {
                    let (c, more) = scan(g);
                    count += c;
                    pending.extend(more);
                }
            }
            (f.name.clone(), count)
        })
        .collect()
}

#[test]
fn embedded_source_compiles_with_nvrtc() {
    if !nvrtc_present("embedded_source_compiles_with_nvrtc") {
        return;
    }
    let text = nvrtc_ptx(SOURCE);
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
        fused(&text) < fused(&nvrtc_ptx_fmad(SOURCE, true)),
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

/// The kernels that run per element (the train passes, PixMix's pixel kernel, AugMix's
/// chain steps and mixing pixel).
const PER_ELEMENT_KERNELS: [&str; 5] = [
    "pixmix_train_pass1_kernel",
    "pixmix_train_pass2_kernel",
    "pixmix_pixel_kernel",
    "pixmix_augmix_step_kernel",
    "pixmix_augmix_pixel_kernel",
];

/// Double-precision instructions per kernel in the fatbin's PTX. Most GPUs run them at
/// 1/64 of single precision, so the per-element kernels hold none: the resize filters are
/// computed once per sample on the host, the mixing power is single precision and the
/// affine sampler emulates Pillow's doubles with integers. The statistics kernels (a few
/// per table entry) and the flame renderer keep theirs.
#[test]
fn the_per_element_kernels_execute_no_double_precision() {
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
        let counts = f64_instructions(&entry.text);
        for (name, f64s) in &counts {
            println!("compute_{:?} {name}: {f64s} f64 instructions", entry.arch);
        }
        for kernel in PER_ELEMENT_KERNELS {
            let (_, f64s) = counts
                .iter()
                .find(|(name, _)| name == kernel)
                .unwrap_or_else(|| panic!("{kernel} missing from the PTX"));
            assert_eq!(*f64s, 0, "{kernel} uses double precision");
        }
    }
}

/// The pixel kernel's affine sampler (rotate, shear, translate) alone, in a probe kernel
/// compiled by NVRTC: Pillow's double arithmetic emulated with integers, so no
/// double-precision instruction at all, the loads of the matrix included.
#[test]
fn the_affine_sampler_executes_no_double_precision() {
    if !nvrtc_present("the_affine_sampler_executes_no_double_precision") {
        return;
    }
    let probe = format!(
        "{SOURCE}
extern \"C\" __global__ void pixmix_affine_probe(const u8* img, i32 w, i32 h, const OpDesc* d, u8* out) {{
    i32 x = (i32)threadIdx.x, y = (i32)blockIdx.x;
    pixmix_affine(img, w, h, *d, x, y, out + ((u64)y * w + x) * 3);
}}
"
    );
    let counts = f64_instructions(&nvrtc_ptx(&probe));
    let (_, f64s) = counts
        .iter()
        .find(|(name, _)| name == "pixmix_affine_probe")
        .expect("the probe kernel");
    println!("compute_80 pixmix_affine (probe kernel): {f64s} f64 instructions");
    assert_eq!(*f64s, 0, "the affine sampler uses double precision");
}
