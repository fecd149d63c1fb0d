//! A CUDA driver emulator: `libcuda.so` for machines without a GPU (built as
//! `libcuda_emu.so`, so nothing loads it by accident; `scripts/emulated-cuda.sh` gives it
//! the driver's names).
//!
//! Programs that open the driver by name (cudarc, anything built on the driver API) load
//! this library instead when its folder comes first on `LD_LIBRARY_PATH`. It loads the PTX
//! of a module (a fatbin's PTX entry, or PTX text), executes kernels on the CPU with the
//! PTX ISA's exact arithmetic, and checks what compute-sanitizer checks on a GPU:
//! out-of-bounds and freed accesses, misalignment, reads of uninitialized memory, races
//! between threads (shared and global memory), and more: stream operations that touch the
//! same bytes with no event or stream order between them, and pinned host buffers reused
//! under a queued copy. A violation fails the launch with a sticky error, as a device fault
//! would, and prints a report naming the kernel, PTX line, block, thread and address.
//!
//! It proves behaviour, never speed: its profile counts instructions and bytes, and it
//! runs neither the machine code of a fatbin nor a real driver's scheduling.
//!
//! Settings are environment variables, read at `cuInit` (see [`config`]).

pub mod config;
mod driver;
pub mod exec;
pub mod fatbin;
pub mod memory;
pub mod profile;
pub mod ptx;
pub mod report;

pub use report::{Check, Report, drain_reports};
