//! The CUDA path: device detection, kernel loading, and [`CudaExecutor`], which runs the
//! same plans as [`CpuExecutor`](crate::CpuExecutor) with every picture kept in device
//! memory. Nothing here panics on a machine without libcuda or without a GPU: each entry
//! checks for the driver first and returns [`Error::NoCuda`](crate::Error::NoCuda).

mod augmix;
mod buffer;
mod device;
pub mod emulator;
mod executor;
pub mod fractal;

pub use augmix::AugMixCudaExecutor;
pub use buffer::StreamBuffer;
pub use device::{CudaDevice, DeviceInfo, devices, driver_present};
pub use executor::{CudaExecutor, DeviceOutput};

/// A driver stream handle, as `augment_into` takes it (e.g. torch's `cuda_stream`).
pub type RawStream = cudarc::driver::sys::CUstream;
/// A driver event handle (`DeviceOutput::ready`).
pub type RawEvent = cudarc::driver::sys::CUevent;
