//! The CUDA driver emulator (`emu/`), when it stands in for libcuda: recognized by its
//! extension symbols, and asked for its per-kernel counts. Nothing it reports is a GPU
//! measurement: its counts are of emulated PTX instructions and bytes.

/// Totals of one kernel over the process's launches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelCounts {
    /// Kernel name.
    pub name: String,
    /// Launches.
    pub launches: u64,
    /// Threads over all launches.
    pub threads: u64,
    /// Executed PTX instructions by class, in [`CLASSES`] order.
    pub instructions: [u64; 7],
    /// Bytes read from global memory.
    pub global_read: u64,
    /// Bytes written to global memory.
    pub global_written: u64,
    /// Bytes read from shared memory.
    pub shared_read: u64,
    /// Bytes written to shared memory.
    pub shared_written: u64,
}

/// Names of the instruction classes.
pub const CLASSES: [&str; 7] = [
    "f64", "f32", "integer", "branch", "atomic", "memory", "other",
];

impl KernelCounts {
    /// All executed instructions.
    pub fn total(&self) -> u64 {
        self.instructions.iter().sum()
    }

    /// `self - earlier` (counts accumulated since `earlier` was taken).
    pub fn since(&self, earlier: Option<&KernelCounts>) -> KernelCounts {
        let Some(e) = earlier else {
            return self.clone();
        };
        let mut d = self.clone();
        d.launches -= e.launches;
        d.threads -= e.threads;
        for (a, b) in d.instructions.iter_mut().zip(e.instructions) {
            *a -= b;
        }
        d.global_read -= e.global_read;
        d.global_written -= e.global_written;
        d.shared_read -= e.shared_read;
        d.shared_written -= e.shared_written;
        d
    }
}

type Count = unsafe extern "C" fn() -> i32;
type Get = unsafe extern "C" fn(i32, *mut std::ffi::c_char, usize, *mut u64) -> i32;

fn library() -> Option<libloading::Library> {
    if !super::driver_present() {
        return None;
    }
    // The driver library cudarc already opened: the same names, so the same handle.
    ["libcuda.so", "libcuda.so.1"]
        .iter()
        // SAFETY: opening the library cudarc loads anyway runs no new initialisers.
        .find_map(|&n| unsafe { libloading::Library::new(n) }.ok())
}

/// Whether libcuda is the emulator.
pub fn is_emulated() -> bool {
    library().is_some_and(|lib| {
        // SAFETY: only looks the symbol up.
        unsafe { lib.get::<Count>(b"cuEmuProfileCount\0") }.is_ok()
    })
}

/// Reports the emulator's checks (memcheck, racecheck, initcheck, stream hazards) made
/// since the process started (None without the emulator): tests compare it before and
/// after a scenario, so a hazard that fails no call still fails the test.
pub fn report_count() -> Option<u64> {
    let lib = library()?;
    // SAFETY: the emulator's `uint64_t cuEmuReportCount(void)`.
    let f = unsafe { lib.get::<unsafe extern "C" fn() -> u64>(b"cuEmuReportCount\0") }.ok()?;
    // SAFETY: no arguments.
    Some(unsafe { f() })
}

/// Worker threads the emulator runs a launch on (None without the emulator).
pub fn workers() -> Option<usize> {
    let lib = library()?;
    // SAFETY: the emulator's `int cuEmuWorkers(void)`.
    let f = unsafe { lib.get::<Count>(b"cuEmuWorkers\0") }.ok()?;
    // SAFETY: no arguments.
    Some(unsafe { f() }.max(1) as usize)
}

/// Every kernel's totals so far (None without the emulator).
pub fn profile() -> Option<Vec<KernelCounts>> {
    let lib = library()?;
    // SAFETY: the emulator's signatures, as declared above.
    let (count, get) = unsafe {
        (
            lib.get::<Count>(b"cuEmuProfileCount\0").ok()?,
            lib.get::<Get>(b"cuEmuProfileGet\0").ok()?,
        )
    };
    // SAFETY: no arguments.
    let n = unsafe { count() };
    let mut out = Vec::new();
    for i in 0..n {
        let mut name = [0 as std::ffi::c_char; 256];
        let mut c = [0u64; 13];
        // SAFETY: buffers of the sizes passed.
        if unsafe { get(i, name.as_mut_ptr(), name.len(), c.as_mut_ptr()) } != 0 {
            continue;
        }
        // SAFETY: NUL-terminated by the emulator.
        let name = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        out.push(KernelCounts {
            name,
            launches: c[0],
            threads: c[1],
            instructions: [c[2], c[3], c[4], c[5], c[6], c[7], c[8]],
            global_read: c[9],
            global_written: c[10],
            shared_read: c[11],
            shared_written: c[12],
        });
    }
    Some(out)
}
