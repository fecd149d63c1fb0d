//! The built `libcuda.so` exports every driver function that cudarc resolves by name
//! (src/driver/symbols.txt): cudarc panics at first use of a missing one. Functions the
//! emulator does not implement are build.rs's stubs, which return CUDA_ERROR_NOT_SUPPORTED.

use std::collections::BTreeSet;
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

const CUDA_ERROR_NOT_SUPPORTED: i32 = 801;

/// The names in src/driver/symbols.txt.
fn listed() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/driver/symbols.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The `extern "C" fn cuXxx` names defined under src/driver (build.rs's rule).
fn implemented() -> BTreeSet<String> {
    fn walk(dir: &Path, names: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("list src/driver").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, names);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).expect("read a driver source");
                for line in source.lines() {
                    if line.trim_start().starts_with("//") {
                        continue;
                    }
                    for part in line.split("extern \"C\" fn ").skip(1) {
                        let name: String = part
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        if name.starts_with("cu") {
                            names.insert(name);
                        }
                    }
                }
            }
        }
    }
    let mut names = BTreeSet::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/driver"),
        &mut names,
    );
    names
}

/// The cdylib that cargo built with this test: `cargo test` writes it beside the test
/// executable (target/<profile>/deps/libcuda_emu.so, cdylibs carry no hash) and `cargo build`
/// copies it up to target/<profile>/libcuda_emu.so.
fn library() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let deps = exe
        .parent()
        .expect("the test runs from target/<profile>/deps");
    let candidates = [
        deps.join("libcuda_emu.so"),
        deps.parent().unwrap_or(deps).join("libcuda_emu.so"),
    ];
    candidates
        .iter()
        .find(|lib| lib.is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "neither {} nor {} exists: build the cdylib first (cargo build -p cuda-emu, \
                 with the same profile)",
                candidates[0].display(),
                candidates[1].display()
            )
        })
}

/// Owns a dlopen handle.
struct Library(*mut libc::c_void);

impl Library {
    fn open(path: &Path) -> Library {
        let c = CString::new(path.as_os_str().as_encoded_bytes()).expect("a path without NUL");
        // SAFETY: c is a NUL-terminated path; dlopen runs the library's initializers, which
        // is what loading it as the driver does too.
        let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if handle.is_null() {
            // SAFETY: dlerror returns null or a NUL-terminated message.
            let why = unsafe { libc::dlerror() };
            let why = if why.is_null() {
                "unknown error".into()
            } else {
                // SAFETY: non-null dlerror messages are NUL-terminated strings.
                unsafe { CStr::from_ptr(why) }.to_string_lossy()
            };
            panic!("dlopen {}: {why}", path.display());
        }
        Library(handle)
    }

    fn symbol(&self, name: &str) -> *mut libc::c_void {
        let c = CString::new(name).expect("a name without NUL");
        // SAFETY: self.0 is a live handle and c a NUL-terminated name.
        unsafe { libc::dlsym(self.0, c.as_ptr()) }
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        // SAFETY: self.0 came from dlopen and is closed once.
        unsafe { libc::dlclose(self.0) };
    }
}

#[test]
fn every_listed_driver_function_is_exported() {
    let names = listed();
    assert!(names.len() > 400, "symbols.txt lists only {}", names.len());
    let lib = Library::open(&library());
    let missing: Vec<&String> = names.iter().filter(|n| lib.symbol(n).is_null()).collect();
    assert!(
        missing.is_empty(),
        "{} of {} listed names are not exported: {missing:?}",
        missing.len(),
        names.len()
    );
}

#[test]
fn an_unimplemented_function_returns_not_supported() {
    let implemented = implemented();
    let names = listed();
    let unsupported: Vec<&String> = names.iter().filter(|n| !implemented.contains(*n)).collect();
    // cuTexRefCreate (texture references, deprecated) is the likeliest to stay a stub.
    let name = unsupported
        .iter()
        .find(|n| n.as_str() == "cuTexRefCreate")
        .or_else(|| unsupported.first())
        .expect("every listed function is implemented: no stub left to check");
    let lib = Library::open(&library());
    let f = lib.symbol(name);
    assert!(!f.is_null(), "{name} is not exported");
    // SAFETY: build.rs's stubs are `extern "C" fn() -> CUresult` (i32), taking no arguments.
    let stub: extern "C" fn() -> i32 = unsafe { std::mem::transmute(f) };
    assert_eq!(stub(), CUDA_ERROR_NOT_SUPPORTED, "{name}");
}
