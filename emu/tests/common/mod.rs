//! Shared helpers of the check tests: the driver API as a C program declares it (resolved
//! against the `cuda` rlib's exports), a serialized session with a fresh context, modules,
//! launches, the report log, and re-executing this test binary under another configuration.

#![allow(dead_code, clippy::missing_safety_doc)]

use std::ffi::{CString, c_char, c_int, c_uint, c_void};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

pub use cuda_emu::{Check, Report};

pub type CUresult = c_int;
pub type CUdevice = c_int;
pub type CUdeviceptr = u64;
pub type CUcontext = *mut c_void;
pub type CUmodule = *mut c_void;
pub type CUfunction = *mut c_void;
pub type CUstream = *mut c_void;
pub type CUevent = *mut c_void;
pub type CUgraph = *mut c_void;

pub const CUDA_SUCCESS: CUresult = 0;
pub const CUDA_ERROR_OUT_OF_MEMORY: CUresult = 2;
pub const CUDA_ERROR_NO_BINARY_FOR_GPU: CUresult = 209;
pub const CUDA_ERROR_INVALID_PTX: CUresult = 218;
pub const CUDA_ERROR_UNSUPPORTED_PTX_VERSION: CUresult = 222;
pub const CUDA_ERROR_ILLEGAL_ADDRESS: CUresult = 700;
pub const CUDA_ERROR_MISALIGNED_ADDRESS: CUresult = 716;
pub const CUDA_ERROR_LAUNCH_FAILED: CUresult = 719;
pub const CUDA_ERROR_NOT_SUPPORTED: CUresult = 801;

pub const CU_STREAM_DEFAULT: c_uint = 0;
pub const CU_STREAM_NON_BLOCKING: c_uint = 1;
/// The legacy default stream.
pub const LEGACY: CUstream = std::ptr::null_mut();

unsafe extern "C" {
    pub fn cuInit(flags: c_uint) -> CUresult;
    pub fn cuDriverGetVersion(version: *mut c_int) -> CUresult;
    pub fn cuDeviceComputeCapability(
        major: *mut c_int,
        minor: *mut c_int,
        dev: CUdevice,
    ) -> CUresult;
    pub fn cuDeviceGetCount(count: *mut c_int) -> CUresult;
    pub fn cuDeviceGet(device: *mut CUdevice, ordinal: c_int) -> CUresult;
    pub fn cuDevicePrimaryCtxRetain(ctx: *mut CUcontext, dev: CUdevice) -> CUresult;
    pub fn cuDevicePrimaryCtxRelease_v2(dev: CUdevice) -> CUresult;
    pub fn cuCtxCreate_v2(ctx: *mut CUcontext, flags: c_uint, dev: CUdevice) -> CUresult;
    pub fn cuCtxDestroy_v2(ctx: CUcontext) -> CUresult;
    pub fn cuCtxSetCurrent(ctx: CUcontext) -> CUresult;
    pub fn cuCtxGetCurrent(ctx: *mut CUcontext) -> CUresult;
    pub fn cuCtxGetDevice(device: *mut CUdevice) -> CUresult;
    pub fn cuCtxSynchronize() -> CUresult;
    pub fn cuModuleLoadData(module: *mut CUmodule, image: *const c_void) -> CUresult;
    pub fn cuModuleUnload(module: CUmodule) -> CUresult;
    pub fn cuModuleGetFunction(f: *mut CUfunction, m: CUmodule, name: *const c_char) -> CUresult;
    pub fn cuLaunchKernel(
        f: CUfunction,
        grid_x: c_uint,
        grid_y: c_uint,
        grid_z: c_uint,
        block_x: c_uint,
        block_y: c_uint,
        block_z: c_uint,
        shared_bytes: c_uint,
        stream: CUstream,
        params: *mut *mut c_void,
        extra: *mut *mut c_void,
    ) -> CUresult;
    pub fn cuMemAlloc_v2(dptr: *mut CUdeviceptr, bytes: usize) -> CUresult;
    pub fn cuMemFree_v2(dptr: CUdeviceptr) -> CUresult;
    pub fn cuMemAllocAsync(dptr: *mut CUdeviceptr, bytes: usize, stream: CUstream) -> CUresult;
    pub fn cuMemFreeAsync(dptr: CUdeviceptr, stream: CUstream) -> CUresult;
    pub fn cuMemGetInfo_v2(free: *mut usize, total: *mut usize) -> CUresult;
    pub fn cuMemHostAlloc(pp: *mut *mut c_void, bytes: usize, flags: c_uint) -> CUresult;
    pub fn cuMemFreeHost(p: *mut c_void) -> CUresult;
    pub fn cuMemcpyHtoD_v2(dst: CUdeviceptr, src: *const c_void, bytes: usize) -> CUresult;
    pub fn cuMemcpyDtoH_v2(dst: *mut c_void, src: CUdeviceptr, bytes: usize) -> CUresult;
    pub fn cuMemcpyHtoDAsync_v2(
        dst: CUdeviceptr,
        src: *const c_void,
        bytes: usize,
        stream: CUstream,
    ) -> CUresult;
    pub fn cuMemcpyDtoHAsync_v2(
        dst: *mut c_void,
        src: CUdeviceptr,
        bytes: usize,
        stream: CUstream,
    ) -> CUresult;
    pub fn cuMemsetD32_v2(dst: CUdeviceptr, value: c_uint, count: usize) -> CUresult;
    pub fn cuMemsetD32Async(
        dst: CUdeviceptr,
        value: c_uint,
        count: usize,
        stream: CUstream,
    ) -> CUresult;
    pub fn cuPointerGetAttribute(data: *mut c_void, attribute: c_int, ptr: CUdeviceptr)
    -> CUresult;
    pub fn cuStreamCreate(stream: *mut CUstream, flags: c_uint) -> CUresult;
    pub fn cuStreamDestroy_v2(stream: CUstream) -> CUresult;
    pub fn cuStreamSynchronize(stream: CUstream) -> CUresult;
    pub fn cuStreamWaitEvent(stream: CUstream, event: CUevent, flags: c_uint) -> CUresult;
    pub fn cuEventCreate(event: *mut CUevent, flags: c_uint) -> CUresult;
    pub fn cuEventDestroy_v2(event: CUevent) -> CUresult;
    pub fn cuEventRecord(event: CUevent, stream: CUstream) -> CUresult;
    pub fn cuEventSynchronize(event: CUevent) -> CUresult;
    /// Not emulated: one of build.rs's stubs.
    pub fn cuGraphCreate(graph: *mut CUgraph, flags: c_uint) -> CUresult;
}

/// Asserts that a driver call succeeded.
#[track_caller]
pub fn ok(r: CUresult) {
    assert_eq!(r, CUDA_SUCCESS, "driver call failed with {r}");
}

/// The test data folder.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The committed PTX of tests/kernels/checks.cu.
pub fn checks_ptx() -> String {
    let path = data("checks.ptx");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Every test of a binary runs under this lock: the report log and the host's stream
/// clock are process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

/// Takes the test lock (a test that failed holding it does not stop the others).
pub fn lock() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Takes the test lock and initializes the driver; every report recorded so far is dropped.
pub fn serial() -> MutexGuard<'static, ()> {
    let guard = lock();
    // SAFETY: plain driver call.
    ok(unsafe { cuInit(0) });
    cuda_emu::drain_reports();
    guard
}

/// One test's exclusive use of the emulator, with a fresh context of device 0 (current on
/// this thread), destroyed at the end.
pub struct Session {
    pub ctx: CUcontext,
    _guard: MutexGuard<'static, ()>,
}

impl Session {
    pub fn new() -> Session {
        let guard = serial();
        let mut ctx = std::ptr::null_mut();
        // SAFETY: out-pointer to a local.
        ok(unsafe { cuCtxCreate_v2(&mut ctx, 0, 0) });
        Session { ctx, _guard: guard }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: a context this session created (a poisoned one is destroyed too).
        unsafe { cuCtxDestroy_v2(self.ctx) };
        cuda_emu::drain_reports();
    }
}

/// A loaded module (unloaded on drop).
pub struct Module(pub CUmodule);

impl Module {
    /// Loads NUL-terminated `image` (PTX text or a fatbin) with `cuModuleLoadData`.
    pub fn try_load(image: &[u8]) -> Result<Module, CUresult> {
        let mut m = std::ptr::null_mut();
        // SAFETY: the image is complete (text is NUL-terminated by the callers).
        match unsafe { cuModuleLoadData(&mut m, image.as_ptr() as *const c_void) } {
            CUDA_SUCCESS => Ok(Module(m)),
            e => Err(e),
        }
    }

    /// Loads a fatbin file of tests/data (copied to 8-byte aligned memory, as nvcc embeds
    /// fatbins).
    pub fn try_fatbin(name: &str) -> Result<Module, CUresult> {
        let bytes = std::fs::read(data(name)).expect("a fixture");
        let mut image = vec![0u64; bytes.len().div_ceil(8)];
        // SAFETY: the vector holds at least bytes.len() bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                image.as_mut_ptr() as *mut u8,
                bytes.len(),
            )
        };
        // SAFETY: the u64s' bytes.
        let image =
            unsafe { std::slice::from_raw_parts(image.as_ptr() as *const u8, 8 * image.len()) };
        Module::try_load(image)
    }

    /// Loads PTX text.
    pub fn try_ptx(text: &str) -> Result<Module, CUresult> {
        let c = CString::new(text).expect("PTX without NUL");
        Module::try_load(c.as_bytes_with_nul())
    }

    /// The committed checks.ptx.
    pub fn checks() -> Module {
        Module::try_ptx(&checks_ptx()).expect("checks.ptx loads")
    }

    pub fn function(&self, name: &str) -> CUfunction {
        let c = CString::new(name).expect("a name without NUL");
        let mut f = std::ptr::null_mut();
        // SAFETY: a live module and a NUL-terminated name.
        ok(unsafe { cuModuleGetFunction(&mut f, self.0, c.as_ptr()) });
        f
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        // SAFETY: a module this value loaded.
        unsafe { cuModuleUnload(self.0) };
    }
}

/// A kernel argument: the address of its value, as `cuLaunchKernel` takes it.
pub trait Arg {
    fn ptr(&self) -> *mut c_void;
}

impl<T: Copy> Arg for T {
    fn ptr(&self) -> *mut c_void {
        self as *const T as *mut c_void
    }
}

/// Launches `f` on a 1-D grid; the launch's own result (errors of the kernel come later).
pub fn launch(
    f: CUfunction,
    grid: u32,
    block: u32,
    stream: CUstream,
    args: &[&dyn Arg],
) -> CUresult {
    // `<dyn Arg>::ptr`: `a.ptr()` on a `&&dyn Arg` would take the reference's address.
    let mut ptrs: Vec<*mut c_void> = args.iter().map(|a| <dyn Arg>::ptr(*a)).collect();
    // SAFETY: one pointer per kernel parameter, each to a value of the parameter's type.
    unsafe {
        cuLaunchKernel(
            f,
            grid,
            1,
            1,
            block,
            1,
            1,
            0,
            stream,
            ptrs.as_mut_ptr(),
            std::ptr::null_mut(),
        )
    }
}

/// `cuMemAlloc` of `n` i32s.
pub fn alloc_i32(n: usize) -> CUdeviceptr {
    let mut d = 0;
    // SAFETY: out-pointer to a local.
    ok(unsafe { cuMemAlloc_v2(&mut d, n * 4) });
    d
}

pub fn upload<T: Copy>(dst: CUdeviceptr, src: &[T]) {
    // SAFETY: the slice's bytes.
    ok(unsafe { cuMemcpyHtoD_v2(dst, src.as_ptr() as *const c_void, size_of_val(src)) });
}

pub fn download<T: Copy + Default>(src: CUdeviceptr, n: usize) -> Vec<T> {
    let mut v = vec![T::default(); n];
    // SAFETY: the vector's bytes.
    ok(unsafe { cuMemcpyDtoH_v2(v.as_mut_ptr() as *mut c_void, src, n * size_of::<T>()) });
    v
}

pub fn stream(flags: c_uint) -> CUstream {
    let mut s = std::ptr::null_mut();
    // SAFETY: out-pointer to a local.
    ok(unsafe { cuStreamCreate(&mut s, flags) });
    s
}

pub fn event() -> CUevent {
    let mut e = std::ptr::null_mut();
    // SAFETY: out-pointer to a local.
    ok(unsafe { cuEventCreate(&mut e, 0) });
    e
}

/// Page-locked host memory of `n` values of `T` (freed by the caller with cuMemFreeHost).
pub fn host_alloc<T>(n: usize) -> *mut T {
    let mut p = std::ptr::null_mut();
    // SAFETY: out-pointer to a local.
    ok(unsafe { cuMemHostAlloc(&mut p, n * size_of::<T>(), 0) });
    p as *mut T
}

/// After a faulting launch: the next synchronizing call and every later call in the
/// context fail with `code`.
#[track_caller]
pub fn assert_sticky(sync: impl Fn() -> CUresult, code: CUresult) {
    assert_eq!(sync(), code, "the synchronizing call after the violation");
    let mut d = 0;
    // SAFETY: out-pointer to a local.
    assert_eq!(
        unsafe { cuMemAlloc_v2(&mut d, 64) },
        code,
        "a later call in the poisoned context"
    );
    // SAFETY: plain driver call.
    assert_eq!(unsafe { cuCtxSynchronize() }, code, "the error is sticky");
}

/// `cuCtxSynchronize` as a closure for [`assert_sticky`].
pub fn ctx_sync() -> CUresult {
    // SAFETY: plain driver call.
    unsafe { cuCtxSynchronize() }
}

/// Every report recorded since the last call.
pub fn reports() -> Vec<Report> {
    cuda_emu::drain_reports()
}

fn show(rs: &[Report]) -> String {
    rs.iter().map(|r| format!("{r}\n")).collect()
}

/// Asserts that nothing was reported since the last call.
#[track_caller]
pub fn assert_clean() {
    let rs = reports();
    assert!(rs.is_empty(), "expected no reports, got:\n{}", show(&rs));
}

/// The one report recorded since the last call, which must be of kind `check`.
#[track_caller]
pub fn one_report(check: Check) -> Report {
    let rs = reports();
    assert!(
        rs.len() == 1 && rs[0].check == check,
        "expected one {check:?} report, got:\n{}",
        show(&rs)
    );
    rs.into_iter().next().expect("one report")
}

/// Asserts that one of the report's lines (summary or details) contains `what`.
#[track_caller]
pub fn assert_says(r: &Report, what: &str) {
    assert!(
        r.summary.contains(what) || r.details.iter().any(|d| d.contains(what)),
        "the report does not say {what:?}:\n{r}"
    );
}

/// The kernel, PTX line, block and thread of a launch report: checks that the report names
/// `kernel`, that its `PTX line N` lies in that kernel's body in `ptx` and holds an
/// instruction containing `opcode` (the one the report quotes); returns N.
#[track_caller]
pub fn assert_located(r: &Report, ptx: &str, kernel: &str, opcode: &str) -> usize {
    assert!(
        r.details.iter().any(|d| d == &format!("kernel {kernel}")),
        "the report does not name kernel {kernel}:\n{r}"
    );
    let line = r
        .details
        .iter()
        .find_map(|d| d.strip_prefix("PTX line "))
        .unwrap_or_else(|| panic!("the report names no PTX line:\n{r}"));
    let (n, quoted) = line.split_once(": ").expect("`PTX line N: `text``");
    let n: usize = n.parse().expect("a line number");
    let lines: Vec<&str> = ptx.lines().collect();
    let entry = lines
        .iter()
        .position(|l| l.contains(&format!(".entry {kernel}(")))
        .unwrap_or_else(|| panic!("no kernel {kernel} in the PTX"));
    let end = lines[entry + 1..]
        .iter()
        .position(|l| l.contains(".entry "))
        .map_or(lines.len(), |k| entry + 1 + k);
    assert!(
        entry < n && n <= end,
        "PTX line {n} is outside kernel {kernel} (lines {}..={end}):\n{r}",
        entry + 1
    );
    let text = lines[n - 1];
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let quoted = words(quoted.trim_matches('`'));
    assert!(
        text.contains(opcode),
        "PTX line {n} is `{}`, not a {opcode}:\n{r}",
        text.trim()
    );
    assert!(
        words(text).contains(quoted.trim_end_matches(';')),
        "the report quotes `{quoted}`, PTX line {n} is `{}`",
        text.trim()
    );
    n
}

/// Runs this test binary's test `test` again in a child process with `env` set (and every
/// other `CUDA_EMU_*` variable removed): settings are read once, at `cuInit`. The child's
/// test sees `EMU_TEST_CHILD=1`.
pub fn rerun(test: &str, env: &[(&str, &str)]) -> Output {
    let exe = std::env::current_exe().expect("the test executable");
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    for (k, _) in std::env::vars() {
        if k.starts_with("CUDA_EMU_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("EMU_TEST_CHILD", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("re-running the test binary");
    assert!(
        out.status.success(),
        "child {test} with {env:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("test {test} ... "))
            && stdout.contains("test result: ok. 1 passed"),
        "child {test} did not run:\n{stdout}"
    );
    out
}

/// Whether this process is a [`rerun`] child.
pub fn is_child() -> bool {
    std::env::var_os("EMU_TEST_CHILD").is_some()
}

/// The values a child printed as `RESULT key value` lines (the harness may have printed
/// `test name ... ` before the first on its line).
pub fn results(out: &Output, key: &str) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.find("RESULT ").map(|at| &l[at + "RESULT ".len()..]))
        .filter_map(|l| l.split_once(' '))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v.to_owned())
        .collect()
}

/// FNV-1a of bytes, for comparing results across processes.
pub fn digest<T: Copy>(v: &[T]) -> u64 {
    // SAFETY: plain values' bytes.
    let bytes = unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, size_of_val(v)) };
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}
