//! Builds the kernels: the stages compiled for the host (always, with the cc crate, so the
//! GPU arithmetic is tested on every machine), and the CUDA fatbin (compute_75 PTX plus
//! machine code for sm_75 to sm_120) when nvcc is found. The kernel source, with its
//! headers inlined, is always embedded so NVRTC can compile it at first use where nvcc was
//! missing, or where the driver refuses the fatbin.
//!
//! nvcc is looked up in NVCC, CUDA_HOME/CUDA_PATH, PATH, then pip-installed toolchains
//! (`nvidia/cu13/bin/nvcc` in this crate's `.cache/cuda-venv` or the python3 on PATH).
//! PIXMIX_REQUIRE_KERNELS=1 turns a missing or failing nvcc into a build error.
//!
//! All of this belongs to the `cuda` feature: without it the build script compiles nothing
//! (no C++ compiler, no nvcc), except the `tch` feature's shim.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The architectures the fatbin holds machine code for: Turing to Blackwell.
const ARCHS: [u32; 7] = [75, 80, 86, 89, 90, 100, 120];

const HEADERS: [&str; 12] = [
    "augmix.cuh",
    "common.cuh",
    "exact_double.cuh",
    "pow_tables.cuh",
    "flame.cuh",
    "flame_log.cuh",
    "plan.cuh",
    "mixing.cuh",
    "pixel_ops.cuh",
    "resample.cuh",
    "tables.cuh",
    "stages.cuh",
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rustc-check-cfg=cfg(pixmix_fatbin)");
    write_pow_tables(&manifest, &out);
    if std::env::var_os("CARGO_FEATURE_TCH").is_some() {
        build_torch_shim(&manifest);
    }
    if std::env::var_os("CARGO_FEATURE_CUDA").is_some() {
        build_kernels(&manifest, &out);
    } else {
        // Without a rerun-if line cargo would rerun the script on any change in the crate.
        println!("cargo:rerun-if-changed=build.rs");
    }
}

/// The power's tables (kernels/pow_tables.cuh, one source for both executors) as Rust
/// arrays of float bit patterns: every `name[len] = { 0x...u, ... };` array of the header.
fn write_pow_tables(manifest: &Path, out: &Path) {
    let header = manifest.join("kernels").join("pow_tables.cuh");
    println!("cargo:rerun-if-changed={}", header.display());
    let text = std::fs::read_to_string(&header).expect("read kernels/pow_tables.cuh");
    let mut rust = String::new();
    for (name, (start, end)) in [
        ("POW_LOG", "pixmix_pow_log["),
        ("POW_EXP", "pixmix_pow_exp["),
    ]
    .map(|(n, s)| (n, (s, "};")))
    {
        let at = text.find(start).expect("a table of kernels/pow_tables.cuh");
        let body = &text[at..];
        let open = body.find('{').expect("the table's opening brace");
        let close = body.find(end).expect("the table's closing brace");
        let words: Vec<&str> = body[open + 1..close]
            .split(',')
            .map(|w| w.trim().trim_end_matches('u'))
            .filter(|w| !w.is_empty())
            .collect();
        for w in &words {
            assert!(w.starts_with("0x") && w.len() == 10, "table word {w}");
        }
        rust += &format!(
            "pub(super) const {name}: [u32; {}] = [{}];\n",
            words.len(),
            words.join(", ")
        );
    }
    std::fs::write(out.join("pow_tables.rs"), rust).expect("write pow_tables.rs");
}

/// The host build of the kernels, the inlined source for NVRTC, and the fatbin when nvcc
/// is found.
fn build_kernels(manifest: &Path, out: &Path) {
    let kernels = manifest.join("kernels");
    println!("cargo:rerun-if-changed=kernels");
    // Not PATH: activating a virtualenv changes it and would rebuild the crate each time.
    // The nvcc found on it is watched instead (below); NVCC or CUDA_HOME pick another.
    for var in ["NVCC", "CUDA_HOME", "CUDA_PATH", "PIXMIX_REQUIRE_KERNELS"] {
        println!("cargo:rerun-if-env-changed={var}");
    }

    cc::Build::new()
        .cpp(true)
        .file(kernels.join("host.cpp"))
        .flag_if_supported("-std=c++17")
        .flag_if_supported("-ffp-contract=off")
        .opt_level(2)
        .warnings(true)
        .compile("pixmix_kernels_host");

    std::fs::write(
        out.join("pixmix_kernels.cu"),
        inline_source(&kernels, "pixmix.cu"),
    )
    .expect("write the inlined kernel source");

    let require = std::env::var("PIXMIX_REQUIRE_KERNELS").is_ok_and(|v| v == "1");
    let fatbin = out.join("pixmix.fatbin");
    match find_nvcc(manifest) {
        Some(nvcc) => {
            println!("cargo:rerun-if-changed={}", nvcc.display());
            let status = Command::new(&nvcc)
                .args(["-fatbin", "--fmad=false", "-O3", "-std=c++17"])
                // PTX for the oldest architecture (any newer GPU JITs it) and machine code
                // for each architecture CUDA 13 supports, so no GPU needs the JIT.
                .args(["-gencode", "arch=compute_75,code=compute_75"])
                .args(ARCHS.iter().flat_map(|a| {
                    [
                        "-gencode".to_string(),
                        format!("arch=compute_{a},code=sm_{a}"),
                    ]
                }))
                .arg("-o")
                .arg(&fatbin)
                .arg(kernels.join("pixmix.cu"))
                .status();
            match status {
                Ok(s) if s.success() => println!("cargo:rustc-cfg=pixmix_fatbin"),
                other => {
                    let why = format!(
                        "{} failed to compile kernels/pixmix.cu: {other:?}",
                        nvcc.display()
                    );
                    if require {
                        panic!("{why}");
                    }
                    println!(
                        "cargo:warning={why}; the CUDA path will compile the kernels with NVRTC at first use"
                    );
                }
            }
        }
        None => {
            let why = "nvcc not found (NVCC, CUDA_HOME, CUDA_PATH, PATH, pip nvidia-cuda-nvcc)";
            if require {
                panic!("PIXMIX_REQUIRE_KERNELS=1 but {why}");
            }
            // A supported setup, not a problem: no cargo warning, which cargo would repeat
            // on every later command. `cargo build -vv` shows this line.
            eprintln!("{why}; the CUDA path will compile the kernels with NVRTC at first use");
        }
    }
}

/// The `tch` feature's C++ shim (torch's current CUDA stream), compiled against the
/// libtorch that torch-sys found (it reports the library folder; headers sit beside it).
fn build_torch_shim(manifest: &Path) {
    let shim = manifest.join("src/torch/current_stream.cpp");
    println!("cargo:rerun-if-changed={}", shim.display());
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    let lib = PathBuf::from(
        std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys reports its libtorch folder"),
    );
    let include = lib
        .parent()
        .map(|root| root.join("include"))
        .filter(|dir| dir.join("c10/core/Stream.h").is_file())
        .unwrap_or_else(|| panic!("no libtorch headers beside {}", lib.display()));
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into());
    cc::Build::new()
        .cpp(true)
        .file(shim)
        .include(include)
        .flag("-std=c++17")
        .define("_GLIBCXX_USE_CXX11_ABI", abi.as_str())
        .warnings(false)
        .compile("pixmix_torch_shim");
    // Keep libtorch_cuda (and with it torch's CUDA stream registry) in this crate's own
    // binaries, where libtorch has it; --as-needed would drop it, as nothing names it. Its
    // own dependencies (cuBLAS, cuDNN, ...) may exist only where the binary runs, in a
    // PyTorch install, so they are not checked at link time.
    if lib.join("libtorch_cuda.so").is_file() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        println!("cargo:rustc-link-arg=-Wl,--allow-shlib-undefined");
    }
}

/// The kernel source with every `#include "x.cuh"` replaced by the header (once each), so
/// NVRTC needs no include path.
fn inline_source(dir: &Path, file: &str) -> String {
    fn expand(dir: &Path, file: &str, seen: &mut Vec<String>, out: &mut String) {
        if seen.iter().any(|s| s == file) {
            return;
        }
        seen.push(file.to_string());
        let text = std::fs::read_to_string(dir.join(file))
            .unwrap_or_else(|e| panic!("read kernels/{file}: {e}"));
        for line in text.lines() {
            let t = line.trim();
            if let Some(name) = t
                .strip_prefix("#include \"")
                .and_then(|r| r.strip_suffix('"'))
            {
                expand(dir, name, seen, out);
            } else if t != "#pragma once" {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    for h in HEADERS {
        assert!(dir.join(h).exists(), "kernels/{h} is missing");
    }
    let mut out = String::new();
    expand(dir, file, &mut Vec::new(), &mut out);
    out
}

fn find_nvcc(manifest: &Path) -> Option<PathBuf> {
    let is_file = |p: &Path| p.is_file().then(|| p.to_path_buf());
    if let Some(p) = std::env::var_os("NVCC") {
        return is_file(Path::new(&p));
    }
    for var in ["CUDA_HOME", "CUDA_PATH"] {
        if let Some(home) = std::env::var_os(var)
            && let Some(p) = is_file(&Path::new(&home).join("bin").join("nvcc"))
        {
            return Some(p);
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if let Some(p) = is_file(&dir.join("nvcc")) {
                return Some(p);
            }
        }
    }
    // pip's nvidia-cuda-nvcc: in this crate's cache venv, or in python3's site-packages.
    let mut sites = Vec::new();
    if let Ok(entries) = std::fs::read_dir(manifest.join(".cache/cuda-venv/lib")) {
        sites.extend(entries.flatten().map(|e| e.path().join("site-packages")));
    }
    if let Ok(out) = Command::new("python3")
        .args(["-c", "import site, sys; print('\\n'.join(site.getsitepackages() + [site.getusersitepackages()]))"])
        .output()
    {
        sites.extend(String::from_utf8_lossy(&out.stdout).lines().map(PathBuf::from));
    }
    sites
        .iter()
        .find_map(|s| is_file(&s.join("nvidia/cu13/bin/nvcc")))
}
