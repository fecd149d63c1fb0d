//! Running a grid: blocks handed out to workers from a shared counter, one block per
//! worker at a time, the first fault stopping every worker. Results do not depend on the
//! number of workers: blocks never share anything but global memory, where the kernels'
//! integer atomics commute and anything else is a race the checks report.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::compile::{CLASSES, Kernel, dynamic_shared_offset};
use super::interp::{Block, Counters, UNTOUCHED};
use super::shadow::RaceShadow;
use crate::memory::{self, Allocation};
use crate::report::Report;

/// Which checks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checks {
    /// Bounds, use after free, alignment, address spaces.
    pub memcheck: bool,
    /// Unordered conflicting accesses of two threads, in shared and global memory.
    pub racecheck: bool,
    /// Loads of memory never written.
    pub initcheck: bool,
}

impl Checks {
    /// Every check on.
    pub const ALL: Checks = Checks {
        memcheck: true,
        racecheck: true,
        initcheck: true,
    };
}

/// How a launch failed, mapped to the driver's error code by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Out of bounds or freed memory (`CUDA_ERROR_ILLEGAL_ADDRESS`).
    Memory,
    /// `CUDA_ERROR_MISALIGNED_ADDRESS`.
    Misaligned,
    /// A race (`CUDA_ERROR_LAUNCH_FAILED`).
    Race,
    /// A read of uninitialized memory (`CUDA_ERROR_LAUNCH_FAILED`).
    Uninitialized,
    /// An instruction that cannot run as written (`CUDA_ERROR_ILLEGAL_INSTRUCTION`).
    Execution,
}

/// A failed launch: what and where.
#[derive(Clone, Debug)]
pub struct Fault {
    pub kind: FaultKind,
    pub report: Report,
}

/// One launch's request.
pub struct Launch<'a> {
    pub kernel: &'a Kernel,
    pub grid: [u32; 3],
    pub block: [u32; 3],
    /// Bytes of dynamic shared memory.
    pub dynamic_shared: u32,
    /// The parameter buffer, laid out as `kernel.params` says.
    pub params: &'a [u8],
    /// The device (context ordinal) launching: memory of other devices is off limits.
    pub device: usize,
    pub checks: Checks,
    /// Worker threads (0: one per available core).
    pub workers: usize,
}

/// What a launch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LaunchStats {
    /// Executed instructions by class (see `compile::CLASS_NAMES`), guarded-off ones
    /// included, as hardware counters count issued instructions.
    pub instructions: [u64; CLASSES],
    pub threads: u64,
    pub global_read: u64,
    pub global_written: u64,
    pub shared_read: u64,
    pub shared_written: u64,
}

/// The bytes a launch touched in one allocation (for the stream hazard checker).
#[derive(Clone)]
pub struct Touched {
    pub alloc: Arc<Allocation>,
    /// Offsets `lo..hi` read, if any.
    pub read: Option<(u64, u64)>,
    /// Offsets `lo..hi` written (atomics included), if any.
    pub written: Option<(u64, u64)>,
}

/// A completed launch.
pub struct Outcome {
    pub stats: LaunchStats,
    pub touched: Vec<Touched>,
}

/// Global memory as a launch sees it.
pub(super) struct GlobalView {
    pub allocs: Vec<Arc<Allocation>>,
    pub shadows: Vec<OnceLock<RaceShadow>>,
}

/// What every block of a launch shares.
pub(super) struct Env<'a> {
    pub kernel: &'a Kernel,
    pub grid: [u32; 3],
    pub block: [u32; 3],
    pub tpb: u64,
    pub params: &'a [u8],
    pub shared_bytes: usize,
    pub device: usize,
    pub checks: Checks,
    pub global: GlobalView,
}

/// The driver's limits on launch shapes.
const MAX_BLOCK: [u32; 3] = [1024, 1024, 64];
const MAX_GRID: [u32; 3] = [u32::MAX >> 1, 65_535, 65_535];
/// Shared memory per block the emulated devices offer (opt-in maximum of sm_80).
pub const MAX_SHARED: usize = 163 * 1024;

/// Why a launch cannot start (`CUDA_ERROR_INVALID_VALUE` and friends).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LaunchError {
    /// Grid or block outside the driver's limits.
    Shape(String),
    /// Parameter buffer of the wrong size.
    Params(String),
    /// Too much shared memory.
    Shared(String),
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaunchError::Shape(s) | LaunchError::Params(s) | LaunchError::Shared(s) => {
                f.write_str(s)
            }
        }
    }
}

/// Checks a launch's shape before it is queued.
pub fn validate(l: &Launch) -> Result<(), LaunchError> {
    let tpb: u64 = l.block.iter().map(|&b| b as u64).product();
    if l.grid.contains(&0) || l.block.contains(&0) {
        return Err(LaunchError::Shape(format!(
            "grid {:?} or block {:?} has a zero dimension",
            l.grid, l.block
        )));
    }
    if tpb > 1024 || (0..3).any(|k| l.block[k] > MAX_BLOCK[k]) {
        return Err(LaunchError::Shape(format!(
            "block {:?} exceeds the limits (1024 threads, {MAX_BLOCK:?})",
            l.block
        )));
    }
    if let Some(max) = l.kernel.max_threads
        && tpb > max
    {
        return Err(LaunchError::Shape(format!(
            "block of {tpb} threads exceeds kernel {}'s declared maximum of {max}",
            l.kernel.name
        )));
    }
    if (0..3).any(|k| l.grid[k] > MAX_GRID[k]) {
        return Err(LaunchError::Shape(format!(
            "grid {:?} exceeds the limits {MAX_GRID:?}",
            l.grid
        )));
    }
    let shared = dynamic_shared_offset(l.kernel.shared_size) + l.dynamic_shared as usize;
    if shared > MAX_SHARED {
        return Err(LaunchError::Shared(format!(
            "{shared} bytes of shared memory exceed the {MAX_SHARED} a block may have"
        )));
    }
    if l.params.len() < l.kernel.param_size {
        return Err(LaunchError::Params(format!(
            "kernel {} takes {} bytes of parameters, got {}",
            l.kernel.name,
            l.kernel.param_size,
            l.params.len()
        )));
    }
    Ok(())
}

/// Runs a validated launch to completion.
pub fn launch(l: &Launch) -> Result<Outcome, Fault> {
    let tpb: u64 = l.block.iter().map(|&b| b as u64).product();
    let shared_bytes = if l.dynamic_shared > 0 {
        dynamic_shared_offset(l.kernel.shared_size) + l.dynamic_shared as usize
    } else {
        l.kernel.shared_size
    };
    let allocs = memory::SPACE.snapshot();
    let shadows = (0..allocs.len()).map(|_| OnceLock::new()).collect();
    let env = Env {
        kernel: l.kernel,
        grid: l.grid,
        block: l.block,
        tpb,
        params: l.params,
        shared_bytes,
        device: l.device,
        checks: l.checks,
        global: GlobalView { allocs, shadows },
    };
    let blocks = l.grid.iter().map(|&g| g as u64).product::<u64>();
    let workers = if l.workers == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        l.workers
    }
    .min(blocks as usize)
    .max(1);
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let first_fault: Mutex<Option<(u64, Fault)>> = Mutex::new(None);
    let totals = Mutex::new((
        Counters::default(),
        vec![UNTOUCHED; env.global.allocs.len()],
    ));
    let work = || {
        let mut block = Block::new(&env);
        loop {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let b = next.fetch_add(1, Ordering::Relaxed);
            if b >= blocks {
                break;
            }
            let g = l.grid;
            let ctaid = [
                (b % g[0] as u64) as u32,
                ((b / g[0] as u64) % g[1] as u64) as u32,
                (b / (g[0] as u64 * g[1] as u64)) as u32,
            ];
            if let Err(f) = block.run(ctaid, b) {
                stop.store(true, Ordering::Relaxed);
                let mut slot = first_fault.lock().unwrap_or_else(|e| e.into_inner());
                // Report the lowest faulting block, so reports do not depend on timing
                // where several blocks fault.
                if slot.as_ref().is_none_or(|(at, _)| b < *at) {
                    *slot = Some((b, f));
                }
                break;
            }
        }
        let mut t = totals.lock().unwrap_or_else(|e| e.into_inner());
        t.0.add(&block.counters);
        for (all, mine) in t.1.iter_mut().zip(&block.ranges) {
            all[0] = all[0].min(mine[0]);
            all[1] = all[1].max(mine[1]);
            all[2] = all[2].min(mine[2]);
            all[3] = all[3].max(mine[3]);
        }
    };
    if workers == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(work);
            }
        });
    }
    if let Some((_, f)) = first_fault.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(f);
    }
    let (c, ranges) = totals.into_inner().unwrap_or_else(|e| e.into_inner());
    let span = |lo: u64, hi: u64| (lo < hi).then_some((lo, hi));
    let touched = env
        .global
        .allocs
        .iter()
        .zip(&ranges)
        .filter(|(_, r)| r[0] < r[1] || r[2] < r[3])
        .map(|(a, r)| Touched {
            alloc: a.clone(),
            read: span(r[0], r[1]),
            written: span(r[2], r[3]),
        })
        .collect();
    Ok(Outcome {
        stats: LaunchStats {
            instructions: c.instructions,
            threads: blocks * tpb,
            global_read: c.global_read,
            global_written: c.global_written,
            shared_read: c.shared_read,
            shared_written: c.shared_written,
        },
        touched,
    })
}
