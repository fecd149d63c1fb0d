//! Finding a GPU and loading the kernels onto it.

use std::sync::Arc;

use cudarc::driver::{CudaContext, CudaFunction, CudaModule, CudaStream, DriverError};
use cudarc::nvrtc::{CompileOptions, Ptx};

use crate::error::{Error, Result};
use crate::kernels::{FATBIN, SOURCE};

/// Turns a driver error into the library's error, naming what was being done.
pub(crate) fn cuda(what: &str) -> impl Fn(DriverError) -> Error + '_ {
    move |e| Error::Cuda(format!("{what}: {e}"))
}

/// Whether the CUDA driver library can be loaded (it says nothing about devices).
pub fn driver_present() -> bool {
    // SAFETY: only tries to open the shared library.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// What a CUDA device is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Device ordinal.
    pub ordinal: usize,
    /// Marketing name, e.g. "NVIDIA H200".
    pub name: String,
    /// Compute capability (major, minor).
    pub compute_capability: (i32, i32),
    /// Device memory in bytes.
    pub total_memory: usize,
}

fn info(ctx: &Arc<CudaContext>) -> Result<DeviceInfo> {
    Ok(DeviceInfo {
        ordinal: ctx.ordinal(),
        name: ctx.name().map_err(cuda("reading the device name"))?,
        compute_capability: ctx
            .compute_capability()
            .map_err(cuda("reading the compute capability"))?,
        total_memory: ctx.total_mem().map_err(cuda("reading the memory size"))?,
    })
}

fn device_count() -> Result<usize> {
    if !driver_present() {
        return Err(Error::NoCuda(
            "the CUDA driver library (libcuda) was not found".into(),
        ));
    }
    let n = CudaContext::device_count()
        .map_err(|e| Error::NoCuda(format!("the CUDA driver reports no usable device: {e}")))?;
    Ok(n.max(0) as usize)
}

/// Every CUDA device of this machine. Fails with [`Error::NoCuda`] when there is no driver
/// or no device.
pub fn devices() -> Result<Vec<DeviceInfo>> {
    let n = device_count()?;
    if n == 0 {
        return Err(Error::NoCuda("the CUDA driver found no device".into()));
    }
    (0..n)
        .map(|i| info(&CudaContext::new(i).map_err(cuda("opening the device"))?))
        .collect()
}

/// The kernels: four for a PixMix batch, three for fractal flames, three more for AugMix
/// (after PixMix's two train-transform passes).
pub(crate) struct Kernels {
    pub pass1: CudaFunction,
    pub pass2: CudaFunction,
    pub stats: CudaFunction,
    pub pixel: CudaFunction,
    pub flame_walk: CudaFunction,
    pub flame_nref: CudaFunction,
    pub flame_tonemap: CudaFunction,
    pub augmix_stats: CudaFunction,
    pub augmix_step: CudaFunction,
    pub augmix_pixel: CudaFunction,
}

/// One GPU with the kernels loaded and a stream of its own.
pub struct CudaDevice {
    pub(crate) ctx: Arc<CudaContext>,
    pub(crate) stream: Arc<CudaStream>,
    pub(crate) kernels: Kernels,
    _module: Arc<CudaModule>,
    info: DeviceInfo,
}

impl std::fmt::Debug for CudaDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CudaDevice({:?})", self.info)
    }
}

impl CudaDevice {
    /// Opens device `ordinal`, creates a stream and loads the kernels (the embedded fatbin,
    /// or the embedded source compiled by NVRTC for this device when nvcc was missing at
    /// build time).
    pub fn new(ordinal: usize) -> Result<CudaDevice> {
        let n = device_count()?;
        if n == 0 {
            return Err(Error::NoCuda("the CUDA driver found no device".into()));
        }
        if ordinal >= n {
            return Err(Error::Config(format!(
                "CUDA device {ordinal} does not exist; this machine has {n} (0..{n})"
            )));
        }
        let ctx = CudaContext::new(ordinal).map_err(cuda("opening the device"))?;
        let info = info(&ctx)?;
        keep_pool_memory(&ctx).map_err(cuda("configuring the memory pool"))?;
        let stream = ctx.new_stream().map_err(cuda("creating a stream"))?;
        let module = load_module(&ctx, info.compute_capability)?;
        let f = |name: &str| {
            module
                .load_function(name)
                .map_err(|e| Error::Cuda(format!("loading kernel {name}: {e}")))
        };
        let kernels = Kernels {
            pass1: f("pixmix_train_pass1_kernel")?,
            pass2: f("pixmix_train_pass2_kernel")?,
            stats: f("pixmix_stats_kernel")?,
            pixel: f("pixmix_pixel_kernel")?,
            flame_walk: f("pixmix_flame_walk_kernel")?,
            flame_nref: f("pixmix_flame_nref_kernel")?,
            flame_tonemap: f("pixmix_flame_tonemap_kernel")?,
            augmix_stats: f("pixmix_augmix_stats_kernel")?,
            augmix_step: f("pixmix_augmix_step_kernel")?,
            augmix_pixel: f("pixmix_augmix_pixel_kernel")?,
        };
        Ok(CudaDevice {
            ctx,
            stream,
            kernels,
            _module: module,
            info,
        })
    }

    /// What the device is.
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// The driver context (for allocating buffers to hand to the executor).
    pub fn context(&self) -> &Arc<CudaContext> {
        &self.ctx
    }

    /// The stream the executor launches on.
    pub fn stream(&self) -> &Arc<CudaStream> {
        &self.stream
    }

    /// The raw stream the executor launches on (for ordering with a caller's stream).
    pub fn raw_stream(&self) -> cudarc::driver::sys::CUstream {
        self.stream.cu_stream()
    }
}

/// Batches allocate stream-ordered memory (owned buffers, grown slots). With the default
/// release threshold of 0 the pool hands freed memory back at every synchronization, so
/// each batch would pay a real allocation: keep it instead, as torch's allocator does.
fn keep_pool_memory(ctx: &Arc<CudaContext>) -> std::result::Result<(), DriverError> {
    use cudarc::driver::{result, sys};
    let dev = ctx.cu_device();
    // SAFETY: plain queries and settings of this device's default pool.
    unsafe {
        let pools = result::device::get_attribute(
            dev,
            sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED,
        )?;
        if pools == 0 {
            return Ok(());
        }
        let mut pool = std::ptr::null_mut();
        sys::cuDeviceGetDefaultMemPool(&mut pool, dev).result()?;
        let mut keep = u64::MAX;
        sys::cuMemPoolSetAttribute(
            pool,
            sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
            &mut keep as *mut u64 as *mut std::ffi::c_void,
        )
        .result()
    }
}

/// The driver's CUDA version as "13.0", or "unknown".
fn driver_version() -> String {
    let mut v = 0;
    // SAFETY: writes one int.
    match unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut v) } {
        cudarc::driver::sys::CUresult::CUDA_SUCCESS => format!("{}.{}", v / 1000, (v % 1000) / 10),
        _ => "unknown".into(),
    }
}

/// The embedded source compiled by NVRTC for compute capability `major.minor`.
fn nvrtc_ptx((major, minor): (i32, i32)) -> Result<Ptx> {
    // SAFETY: only tries to open the shared library.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(Error::NoCuda(
            "NVRTC (libnvrtc) was not found to compile the embedded kernel source".into(),
        ));
    }
    let opts = CompileOptions {
        fmad: Some(false),
        options: vec![
            format!("--gpu-architecture=compute_{major}{minor}"),
            "-std=c++17".into(),
        ],
        ..Default::default()
    };
    cudarc::nvrtc::compile_ptx_with_opts(SOURCE, opts)
        .map_err(|e| Error::Cuda(format!("NVRTC could not compile the kernels: {e}")))
}

/// Loads the embedded fatbin; where the driver refuses it (older than the toolkit that
/// built it, or a GPU it holds no code for), the embedded source compiled by the NVRTC
/// library found at run time, whose PTX an older driver may accept.
fn load_module(ctx: &Arc<CudaContext>, cc: (i32, i32)) -> Result<Arc<CudaModule>> {
    let Some(bin) = FATBIN else {
        return match nvrtc_ptx(cc) {
            Ok(ptx) => ctx.load_module(ptx).map_err(cuda("loading the kernels")),
            Err(Error::NoCuda(_)) => Err(Error::NoCuda(
                "the kernels were built without nvcc and NVRTC (libnvrtc) was not found to \
                 compile them; install the CUDA toolkit or pip's nvidia-cuda-nvcc and rebuild"
                    .into(),
            )),
            Err(e) => Err(e),
        };
    };
    let refused = match ctx.load_module(Ptx::from_binary(bin.to_vec())) {
        Ok(m) => return Ok(m),
        Err(e) => e,
    };
    let why = format!(
        "the embedded kernels (nvcc 13.0: PTX ISA 9.0 for compute_75, machine code for sm_75 \
         to sm_120) did not load on this sm_{}{} device: {refused}; they need a driver for CUDA \
         13.0 or newer (the 580 series), and this driver is CUDA {}",
        cc.0,
        cc.1,
        driver_version()
    );
    let fallback = nvrtc_ptx(cc).and_then(|ptx| ctx.load_module(ptx).map_err(cuda("loading")));
    fallback.map_err(|e| {
        Error::Cuda(format!(
            "{why}. The fallback, the embedded source compiled by the NVRTC library found at \
             run time, failed too ({e}): update the driver, or put the NVRTC of a CUDA toolkit \
             this driver supports on the library path (e.g. pip's nvidia-cuda-nvrtc-cu12 for a \
             12.x driver)"
        ))
    })
}
