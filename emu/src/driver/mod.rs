//! The driver API: the exported `cu*` functions. Handles are numbers the program cannot
//! forge into something else: each names an entry of a registry, so a stale or foreign
//! handle is `CUDA_ERROR_INVALID_HANDLE`, not undefined behaviour. Every name cudarc may
//! resolve is exported (see `symbols.txt`); those not implemented here return
//! `CUDA_ERROR_NOT_SUPPORTED` and say which was called.

#![allow(non_snake_case, clippy::missing_safety_doc)]

mod api_mem;
mod api_module;
mod api_stream;
pub mod stream;

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_uint, c_void};
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use crate::config::Config;
use stream::{CtxShared, Stream};

/// `CUresult`.
pub type CUresult = c_int;
pub const SUCCESS: CUresult = 0;
pub const INVALID_VALUE: CUresult = 1;
pub const OUT_OF_MEMORY: CUresult = 2;
pub const NOT_INITIALIZED: CUresult = 3;
pub const NO_DEVICE: CUresult = 100;
pub const INVALID_DEVICE: CUresult = 101;
pub const INVALID_IMAGE: CUresult = 200;
pub const INVALID_CONTEXT: CUresult = 201;
pub const NO_BINARY_FOR_GPU: CUresult = 209;
pub const INVALID_PTX: CUresult = 218;
pub const UNSUPPORTED_PTX_VERSION: CUresult = 222;
pub const FILE_NOT_FOUND: CUresult = 301;
pub const INVALID_HANDLE: CUresult = 400;
pub const NOT_FOUND: CUresult = 500;
pub const NOT_READY: CUresult = 600;
pub const ILLEGAL_ADDRESS: CUresult = 700;
pub const ILLEGAL_INSTRUCTION: CUresult = 715;
pub const MISALIGNED_ADDRESS: CUresult = 716;
pub const LAUNCH_FAILED: CUresult = 719;
pub const NOT_PERMITTED: CUresult = 800;
pub const NOT_SUPPORTED: CUresult = 801;
pub const UNKNOWN: CUresult = 999;

/// Device pointers.
pub type CUdeviceptr = u64;
/// Device ordinals.
pub type CUdevice = c_int;
/// Every opaque handle.
pub type Handle = *mut c_void;

/// What an unimplemented entry point says.
pub fn unsupported(name: &str) -> CUresult {
    eprintln!("cuda-emu: {name} is not supported by the emulator (CUDA_ERROR_NOT_SUPPORTED)");
    NOT_SUPPORTED
}

include!(concat!(env!("OUT_DIR"), "/unsupported.rs"));

/// One emulated device.
struct Device {
    primary: Mutex<Option<(Arc<Context>, u32)>>,
}

/// A context: its streams, modules and allocations.
pub struct Context {
    pub handle: usize,
    pub shared: Arc<CtxShared>,
    pub primary: bool,
    pub legacy: Arc<Stream>,
    /// Every stream created in it, for synchronization and teardown.
    pub streams: Mutex<Vec<Arc<Stream>>>,
    pub per_thread: Mutex<HashMap<std::thread::ThreadId, Arc<Stream>>>,
    /// Device allocations made in it (freed when it is destroyed).
    pub allocations: Mutex<Vec<u64>>,
    pub pool: Arc<api_mem::Pool>,
    pub flags: c_uint,
}

impl Context {
    pub fn device(&self) -> usize {
        self.shared.device
    }

    /// Waits for every stream of the context.
    pub fn synchronize(&self) {
        let streams: Vec<Arc<Stream>> = lock(&self.streams).clone();
        self.legacy.synchronize();
        for s in streams {
            s.synchronize();
        }
        for s in lock(&self.per_thread).values() {
            s.synchronize();
        }
        lock(&self.streams).retain(|s| !s.finished());
    }
}

/// Something a handle can name.
#[derive(Clone)]
pub enum Object {
    Context(Arc<Context>),
    Stream(Arc<Stream>),
    Event(Arc<stream::Event>),
    Module(Arc<api_module::Module>),
    Function(Arc<api_module::Function>),
    Pool(Arc<api_mem::Pool>),
}

pub struct Driver {
    pub config: Config,
    devices: Vec<Device>,
    handles: Mutex<HashMap<usize, Object>>,
}

static DRIVER: OnceLock<Result<Driver, String>> = OnceLock::new();
static NEXT_HANDLE: AtomicUsize = AtomicUsize::new(0x10_0000);
static CTX_IDS: AtomicU64 = AtomicU64::new(1);

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The driver, once `cuInit` succeeded.
pub fn driver() -> Result<&'static Driver, CUresult> {
    match DRIVER.get() {
        Some(Ok(d)) => Ok(d),
        _ => Err(NOT_INITIALIZED),
    }
}

impl Driver {
    /// A fresh handle value.
    pub fn reserve(&self) -> usize {
        NEXT_HANDLE.fetch_add(16, Ordering::Relaxed)
    }

    /// Names `o` by a fresh handle.
    pub fn register(&self, o: Object) -> usize {
        let h = self.reserve();
        self.register_at(h, o);
        h
    }

    /// Names `o` by handle `h` (from [`reserve`](Self::reserve)).
    pub fn register_at(&self, h: usize, o: Object) {
        lock(&self.handles).insert(h, o);
    }

    /// The context with internal id `id`.
    pub fn context_by_id(&self, id: u64) -> Option<Arc<Context>> {
        lock(&self.handles).values().find_map(|o| match o {
            Object::Context(c) if c.shared.id == id => Some(c.clone()),
            _ => None,
        })
    }

    pub fn unregister(&self, h: usize) -> Option<Object> {
        lock(&self.handles).remove(&h)
    }

    pub fn get(&self, h: Handle) -> Option<Object> {
        lock(&self.handles).get(&(h as usize)).cloned()
    }

    /// Fails for an ordinal that names no device.
    pub fn device_checked(&self, dev: CUdevice) -> Result<(), CUresult> {
        self.device(dev).map(|_| ())
    }

    /// The handle of a context's memory pool (registered at first use).
    pub fn pool_handle(&self, c: &Context) -> usize {
        let mut handles = lock(&self.handles);
        for (&h, o) in handles.iter() {
            if let Object::Pool(p) = o
                && Arc::ptr_eq(p, &c.pool)
            {
                return h;
            }
        }
        let h = self.reserve();
        handles.insert(h, Object::Pool(c.pool.clone()));
        h
    }

    /// The handle of `device`'s primary context, or of any context on it.
    pub fn primary_or_any(&self, device: usize) -> Option<usize> {
        if let Some(d) = self.devices.get(device)
            && let Some((c, _)) = lock(&d.primary).as_ref()
        {
            return Some(c.handle);
        }
        lock(&self.handles).values().find_map(|o| match o {
            Object::Context(c) if c.device() == device => Some(c.handle),
            _ => None,
        })
    }

    fn device(&self, dev: CUdevice) -> Result<&Device, CUresult> {
        usize::try_from(dev)
            .ok()
            .and_then(|d| self.devices.get(d))
            .ok_or(INVALID_DEVICE)
    }

    /// A new context on `device`.
    fn new_context(&self, device: usize, primary: bool, flags: c_uint) -> Arc<Context> {
        let shared = Arc::new(CtxShared {
            id: CTX_IDS.fetch_add(1, Ordering::Relaxed),
            device,
            sticky: AtomicI32::new(0),
        });
        let jitter = self.config.jitter.map(|s| (s, self.config.jitter_us));
        let legacy = Stream::new(0, shared.clone(), 0, true, jitter);
        let handle = NEXT_HANDLE.fetch_add(16, Ordering::Relaxed);
        let ctx = Arc::new(Context {
            handle,
            shared,
            primary,
            legacy,
            streams: Mutex::new(Vec::new()),
            per_thread: Mutex::new(HashMap::new()),
            allocations: Mutex::new(Vec::new()),
            pool: Arc::new(api_mem::Pool::new()),
            flags,
        });
        lock(&self.handles).insert(handle, Object::Context(ctx.clone()));
        ctx
    }

    /// Tears a context down: waits for its work, frees its memory and forgets its handles.
    fn destroy_context(&self, ctx: &Arc<Context>) {
        ctx.synchronize();
        let streams: Vec<Arc<Stream>> = lock(&ctx.streams).drain(..).collect();
        for s in streams.iter().chain(std::iter::once(&ctx.legacy)) {
            s.close();
        }
        for s in lock(&ctx.per_thread).drain() {
            s.1.close();
        }
        for base in lock(&ctx.allocations).drain(..) {
            if let Ok(a) = crate::memory::SPACE.free(base, "context teardown".into()) {
                stream::forget(a.id);
            }
        }
        let mut handles = lock(&self.handles);
        handles.retain(|_, o| match o {
            Object::Context(c) => !Arc::ptr_eq(c, ctx),
            Object::Stream(s) => s.ctx.id != ctx.shared.id,
            Object::Module(m) => m.ctx != ctx.shared.id,
            Object::Function(f) => f.ctx != ctx.shared.id,
            _ => true,
        });
        CURRENT.with(|c| c.borrow_mut().retain(|x| !Arc::ptr_eq(x, ctx)));
    }
}

thread_local! {
    /// This thread's context stack; the last is current.
    static CURRENT: RefCell<Vec<Arc<Context>>> = const { RefCell::new(Vec::new()) };
}

/// The current context, or `CUDA_ERROR_INVALID_CONTEXT`.
pub fn current() -> Result<Arc<Context>, CUresult> {
    CURRENT
        .with(|c| c.borrow().last().cloned())
        .ok_or(INVALID_CONTEXT)
}

/// The current context, failing with its sticky error if it has one.
pub fn current_ok() -> Result<Arc<Context>, CUresult> {
    let c = current()?;
    c.shared.check()?;
    Ok(c)
}

/// Runs an entry point body, turning `Err(code)` into the code.
pub fn ret(r: Result<(), CUresult>) -> CUresult {
    match r {
        Ok(()) => SUCCESS,
        Err(e) => e,
    }
}

/// Writes `v` through an out-pointer, or fails for a null one.
pub unsafe fn out<T>(p: *mut T, v: T) -> Result<(), CUresult> {
    if p.is_null() {
        return Err(INVALID_VALUE);
    }
    // SAFETY: non-null; the caller's contract says it is valid for a write.
    unsafe { p.write(v) };
    Ok(())
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuInit(flags: c_uint) -> CUresult {
    if flags != 0 {
        return INVALID_VALUE;
    }
    let r = DRIVER.get_or_init(|| {
        let config = Config::from_env()?;
        if let Some(path) = config.profile.clone() {
            PROFILE_PATH.get_or_init(|| path);
            // SAFETY: registers a plain function.
            unsafe { atexit(write_profile) };
        }
        let devices = (0..config.devices)
            .map(|_| Device {
                primary: Mutex::new(None),
            })
            .collect();
        Ok(Driver {
            config,
            devices,
            handles: Mutex::new(HashMap::new()),
        })
    });
    match r {
        Ok(_) => SUCCESS,
        Err(e) => {
            eprintln!("cuda-emu: {e}");
            INVALID_VALUE
        }
    }
}

static PROFILE_PATH: OnceLock<String> = OnceLock::new();

unsafe extern "C" {
    fn atexit(f: extern "C" fn()) -> c_int;
}

extern "C" fn write_profile() {
    if let Some(p) = PROFILE_PATH.get()
        && let Err(e) = crate::profile::write(p)
    {
        eprintln!("cuda-emu: writing the profile to {p}: {e}");
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDriverGetVersion(v: *mut c_int) -> CUresult {
    // Callable before cuInit, as the real driver's.
    let version = match DRIVER.get() {
        Some(Ok(d)) => d.config.driver_version,
        _ => Config::from_env().map_or(13000, |c| c.driver_version),
    };
    // SAFETY: caller's pointer.
    ret(unsafe { out(v, version) })
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDeviceGetCount(n: *mut c_int) -> CUresult {
    ret(driver().and_then(|d| unsafe { out(n, d.devices.len() as c_int) }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDeviceGet(dev: *mut CUdevice, ordinal: c_int) -> CUresult {
    ret(driver().and_then(|d| {
        d.device(ordinal)?;
        unsafe { out(dev, ordinal) }
    }))
}

fn device_name(d: &Driver, dev: CUdevice) -> String {
    let (major, minor) = d.config.compute_capability;
    format!("CUDA emulator device {dev} (cuda-emu, sm_{major}{minor})")
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDeviceGetName(name: *mut c_char, len: c_int, dev: CUdevice) -> CUresult {
    ret(driver().and_then(|d| {
        d.device(dev)?;
        if name.is_null() || len <= 0 {
            return Err(INVALID_VALUE);
        }
        let s = device_name(d, dev);
        let n = s.len().min(len as usize - 1);
        // SAFETY: the caller's buffer holds `len` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), name as *mut u8, n);
            *name.add(n) = 0;
        }
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDeviceTotalMem_v2(bytes: *mut usize, dev: CUdevice) -> CUresult {
    ret(driver().and_then(|d| {
        d.device(dev)?;
        unsafe { out(bytes, d.config.memory as usize) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDeviceGetUuid(uuid: *mut [u8; 16], dev: CUdevice) -> CUresult {
    ret(driver().and_then(|d| {
        d.device(dev)?;
        let mut u = *b"cuda-emu-device-";
        u[15] = dev as u8;
        unsafe { out(uuid, u) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDeviceGetUuid_v2(uuid: *mut [u8; 16], dev: CUdevice) -> CUresult {
    // SAFETY: forwarded.
    unsafe { cuDeviceGetUuid(uuid, dev) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDeviceComputeCapability(
    major: *mut c_int,
    minor: *mut c_int,
    dev: CUdevice,
) -> CUresult {
    ret(driver().and_then(|d| {
        d.device(dev)?;
        let (a, b) = d.config.compute_capability;
        unsafe { out(major, a).and_then(|_| out(minor, b)) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDeviceCanAccessPeer(
    can: *mut c_int,
    dev: CUdevice,
    peer: CUdevice,
) -> CUresult {
    ret(driver().and_then(|d| {
        d.device(dev)?;
        d.device(peer)?;
        unsafe { out(can, 0) }
    }))
}

/// `cuDeviceGetAttribute`'s answers: an sm_80/sm_90-like device.
fn attribute(d: &Driver, attrib: c_int) -> Option<c_int> {
    let (major, minor) = d.config.compute_capability;
    Some(match attrib {
        1 => 1024,                                      // max threads per block
        2 | 3 => 1024,                                  // max block dim x, y
        4 => 64,                                        // max block dim z
        5 => i32::MAX,                                  // max grid dim x
        6 | 7 => 65_535,                                // max grid dim y, z
        8 => 48 * 1024,                                 // shared memory per block
        9 => 64 * 1024,                                 // constant memory
        10 => 32,                                       // warp size
        11 => i32::MAX,                                 // max pitch
        12 => 65_536,                                   // registers per block
        13 => 1_000_000,                                // clock rate (kHz)
        14 => 512,                                      // texture alignment
        15 => 1,                                        // gpu overlap
        16 => 16,                                       // multiprocessors
        17 => 0,                                        // kernel exec timeout
        18 => 0,                                        // integrated
        19 => 1,                                        // can map host memory
        20 => 0,                                        // compute mode default
        31 => 1,                                        // concurrent kernels
        32 => 0,                                        // ECC
        33 => 0,                                        // PCI bus id
        34 => 0,                                        // PCI device id
        36 => 1_000_000,                                // memory clock rate
        37 => 4096,                                     // memory bus width
        38 => 40 * 1024 * 1024,                         // L2 cache
        39 => 2048,                                     // threads per multiprocessor
        40 => 2,                                        // async engines
        41 => 1,                                        // unified addressing
        50 => 0,                                        // PCI domain
        75 => major,                                    // compute capability major
        76 => minor,                                    // compute capability minor
        81 => 228 * 1024,                               // shared memory per multiprocessor
        82 => 65_536,                                   // registers per multiprocessor
        83 => 1,                                        // managed memory
        86 => 0,                                        // multi-GPU board
        95 => 0,                                        // cooperative launch
        97 => crate::exec::launch::MAX_SHARED as c_int, // shared memory per block, opt-in
        106 => 32,                                      // max blocks per multiprocessor
        115 => 1,                                       // memory pools supported
        0..=140 => 0,
        _ => return None,
    })
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDeviceGetAttribute(
    v: *mut c_int,
    attrib: c_int,
    dev: CUdevice,
) -> CUresult {
    ret(driver().and_then(|d| {
        d.device(dev)?;
        let a = attribute(d, attrib).ok_or(INVALID_VALUE)?;
        unsafe { out(v, a) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDevicePrimaryCtxRetain(ctx: *mut Handle, dev: CUdevice) -> CUresult {
    ret(driver().and_then(|d| {
        let device = d.device(dev)?;
        let mut p = lock(&device.primary);
        let c = match p.as_mut() {
            Some((c, refs)) => {
                *refs += 1;
                c.clone()
            }
            None => {
                let c = d.new_context(dev as usize, true, 0);
                *p = Some((c.clone(), 1));
                c
            }
        };
        unsafe { out(ctx, c.handle as Handle) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDevicePrimaryCtxRelease_v2(dev: CUdevice) -> CUresult {
    ret(driver().and_then(|d| {
        let device = d.device(dev)?;
        let mut p = lock(&device.primary);
        let Some((c, refs)) = p.as_mut() else {
            return Err(INVALID_CONTEXT);
        };
        *refs -= 1;
        if *refs == 0 {
            let c = c.clone();
            *p = None;
            drop(p);
            d.destroy_context(&c);
        }
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDevicePrimaryCtxReset_v2(dev: CUdevice) -> CUresult {
    ret(driver().and_then(|d| {
        let device = d.device(dev)?;
        let taken = lock(&device.primary).take();
        if let Some((c, _)) = taken {
            d.destroy_context(&c);
        }
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDevicePrimaryCtxGetState(
    dev: CUdevice,
    flags: *mut c_uint,
    active: *mut c_int,
) -> CUresult {
    ret(driver().and_then(|d| {
        let device = d.device(dev)?;
        let on = lock(&device.primary).is_some();
        unsafe { out(flags, 0).and_then(|_| out(active, on as c_int)) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDevicePrimaryCtxSetFlags_v2(dev: CUdevice, _flags: c_uint) -> CUresult {
    ret(driver().and_then(|d| d.device(dev).map(|_| ())))
}

fn context_of(h: Handle) -> Result<Arc<Context>, CUresult> {
    match driver()?.get(h) {
        Some(Object::Context(c)) => Ok(c),
        _ => Err(INVALID_CONTEXT),
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuCtxCreate_v2(
    ctx: *mut Handle,
    flags: c_uint,
    dev: CUdevice,
) -> CUresult {
    ret(driver().and_then(|d| {
        d.device(dev)?;
        let c = d.new_context(dev as usize, false, flags);
        CURRENT.with(|s| s.borrow_mut().push(c.clone()));
        unsafe { out(ctx, c.handle as Handle) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuCtxCreate_v3(
    ctx: *mut Handle,
    _params: *mut c_void,
    _n: c_int,
    flags: c_uint,
    dev: CUdevice,
) -> CUresult {
    // SAFETY: forwarded.
    unsafe { cuCtxCreate_v2(ctx, flags, dev) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuCtxCreate_v4(
    ctx: *mut Handle,
    _params: *mut c_void,
    flags: c_uint,
    dev: CUdevice,
) -> CUresult {
    // SAFETY: forwarded.
    unsafe { cuCtxCreate_v2(ctx, flags, dev) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuCtxDestroy_v2(ctx: Handle) -> CUresult {
    ret(driver().and_then(|d| {
        let c = context_of(ctx)?;
        if c.primary {
            return Err(INVALID_CONTEXT);
        }
        d.destroy_context(&c);
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuCtxGetCurrent(ctx: *mut Handle) -> CUresult {
    ret(driver().and_then(|_| {
        let h = CURRENT.with(|c| c.borrow().last().map_or(0, |c| c.handle));
        unsafe { out(ctx, h as Handle) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuCtxSetCurrent(ctx: Handle) -> CUresult {
    ret(driver().and_then(|_| {
        if ctx.is_null() {
            CURRENT.with(|c| {
                c.borrow_mut().pop();
            });
            return Ok(());
        }
        let c = context_of(ctx)?;
        CURRENT.with(|s| {
            let mut s = s.borrow_mut();
            s.pop();
            s.push(c);
        });
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuCtxPushCurrent_v2(ctx: Handle) -> CUresult {
    ret(driver().and_then(|_| {
        let c = context_of(ctx)?;
        CURRENT.with(|s| s.borrow_mut().push(c));
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuCtxPopCurrent_v2(ctx: *mut Handle) -> CUresult {
    ret(driver().and_then(|_| {
        let c = CURRENT
            .with(|s| s.borrow_mut().pop())
            .ok_or(INVALID_CONTEXT)?;
        if !ctx.is_null() {
            unsafe { out(ctx, c.handle as Handle) }?;
        }
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuCtxGetDevice(dev: *mut CUdevice) -> CUresult {
    ret(current().and_then(|c| unsafe { out(dev, c.device() as CUdevice) }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuCtxGetFlags(flags: *mut c_uint) -> CUresult {
    ret(current().and_then(|c| unsafe { out(flags, c.flags) }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuCtxGetApiVersion(ctx: Handle, v: *mut c_uint) -> CUresult {
    ret(context_of(ctx).and_then(|_| unsafe { out(v, 3020) }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuCtxGetStreamPriorityRange(
    least: *mut c_int,
    greatest: *mut c_int,
) -> CUresult {
    ret(current().and_then(|_| unsafe {
        if !least.is_null() {
            out(least, 0)?;
        }
        if !greatest.is_null() {
            out(greatest, -5)?;
        }
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuCtxSynchronize() -> CUresult {
    ret(current().and_then(|c| {
        c.synchronize();
        api_mem::trim_after_sync(&c);
        c.shared.check()
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuCtxSetLimit(_limit: c_int, _value: usize) -> CUresult {
    ret(current().map(|_| ()))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuCtxGetLimit(value: *mut usize, limit: c_int) -> CUresult {
    ret(current().and_then(|_| {
        let v = match limit {
            0 => 1024,    // stack size
            1 => 1 << 20, // printf FIFO
            2 => 8 << 20, // malloc heap
            _ => return Err(INVALID_VALUE),
        };
        unsafe { out(value, v) }
    }))
}

static ERROR_STRINGS: &[(CUresult, &str, &str)] = &[
    (SUCCESS, "CUDA_SUCCESS\0", "no error\0"),
    (
        INVALID_VALUE,
        "CUDA_ERROR_INVALID_VALUE\0",
        "invalid argument\0",
    ),
    (
        OUT_OF_MEMORY,
        "CUDA_ERROR_OUT_OF_MEMORY\0",
        "out of memory\0",
    ),
    (
        NOT_INITIALIZED,
        "CUDA_ERROR_NOT_INITIALIZED\0",
        "initialization error\0",
    ),
    (
        NO_DEVICE,
        "CUDA_ERROR_NO_DEVICE\0",
        "no CUDA-capable device is detected\0",
    ),
    (
        INVALID_DEVICE,
        "CUDA_ERROR_INVALID_DEVICE\0",
        "invalid device ordinal\0",
    ),
    (
        INVALID_IMAGE,
        "CUDA_ERROR_INVALID_IMAGE\0",
        "device kernel image is invalid\0",
    ),
    (
        INVALID_CONTEXT,
        "CUDA_ERROR_INVALID_CONTEXT\0",
        "invalid device context\0",
    ),
    (
        NO_BINARY_FOR_GPU,
        "CUDA_ERROR_NO_BINARY_FOR_GPU\0",
        "no kernel image is available for execution on the device\0",
    ),
    (
        INVALID_PTX,
        "CUDA_ERROR_INVALID_PTX\0",
        "a PTX JIT compilation failed\0",
    ),
    (
        UNSUPPORTED_PTX_VERSION,
        "CUDA_ERROR_UNSUPPORTED_PTX_VERSION\0",
        "the provided PTX was compiled with an unsupported toolchain.\0",
    ),
    (
        FILE_NOT_FOUND,
        "CUDA_ERROR_FILE_NOT_FOUND\0",
        "file not found\0",
    ),
    (
        INVALID_HANDLE,
        "CUDA_ERROR_INVALID_HANDLE\0",
        "invalid resource handle\0",
    ),
    (
        NOT_FOUND,
        "CUDA_ERROR_NOT_FOUND\0",
        "named symbol not found\0",
    ),
    (NOT_READY, "CUDA_ERROR_NOT_READY\0", "device not ready\0"),
    (
        ILLEGAL_ADDRESS,
        "CUDA_ERROR_ILLEGAL_ADDRESS\0",
        "an illegal memory access was encountered\0",
    ),
    (
        ILLEGAL_INSTRUCTION,
        "CUDA_ERROR_ILLEGAL_INSTRUCTION\0",
        "an illegal instruction was encountered\0",
    ),
    (
        MISALIGNED_ADDRESS,
        "CUDA_ERROR_MISALIGNED_ADDRESS\0",
        "misaligned address\0",
    ),
    (
        LAUNCH_FAILED,
        "CUDA_ERROR_LAUNCH_FAILED\0",
        "unspecified launch failure\0",
    ),
    (
        NOT_PERMITTED,
        "CUDA_ERROR_NOT_PERMITTED\0",
        "operation not permitted\0",
    ),
    (
        NOT_SUPPORTED,
        "CUDA_ERROR_NOT_SUPPORTED\0",
        "operation not supported\0",
    ),
    (UNKNOWN, "CUDA_ERROR_UNKNOWN\0", "unknown error\0"),
];

fn error_entry(e: CUresult) -> Option<&'static (CUresult, &'static str, &'static str)> {
    ERROR_STRINGS.iter().find(|x| x.0 == e)
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuGetErrorString(e: CUresult, s: *mut *const c_char) -> CUresult {
    match error_entry(e) {
        Some(x) => ret(unsafe { out(s, x.2.as_ptr() as *const c_char) }),
        None => {
            // SAFETY: caller's pointer.
            let _ = unsafe { out(s, std::ptr::null()) };
            INVALID_VALUE
        }
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuGetErrorName(e: CUresult, s: *mut *const c_char) -> CUresult {
    match error_entry(e) {
        Some(x) => ret(unsafe { out(s, x.1.as_ptr() as *const c_char) }),
        None => {
            // SAFETY: caller's pointer.
            let _ = unsafe { out(s, std::ptr::null()) };
            INVALID_VALUE
        }
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuProfilerStart() -> CUresult {
    SUCCESS
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuProfilerStop() -> CUresult {
    write_profile();
    SUCCESS
}

// Extensions of the emulator (not part of the driver API): a program finds them with
// dlsym, which also tells it that it runs on the emulator.

/// Number of kernels profiled so far (every launch is counted, whatever
/// `CUDA_EMU_PROFILE` says).
#[unsafe(no_mangle)]
pub extern "C" fn cuEmuProfileCount() -> c_int {
    crate::profile::snapshot().len() as c_int
}

/// Kernel `index`'s totals (kernels sorted by name): its name, NUL-terminated, into `name`
/// (`len` bytes), and into `counts` 13 numbers: launches, threads, executed instructions
/// by class (f64, f32, integer, branch, atomic, memory, other), global bytes read and
/// written, shared bytes read and written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuEmuProfileGet(
    index: c_int,
    name: *mut c_char,
    len: usize,
    counts: *mut u64,
) -> CUresult {
    let p = crate::profile::snapshot();
    let Some((k, v)) = usize::try_from(index).ok().and_then(|i| p.iter().nth(i)) else {
        return INVALID_VALUE;
    };
    if name.is_null() || len == 0 || counts.is_null() {
        return INVALID_VALUE;
    }
    let s = &v.stats;
    let mut all = vec![v.launches, s.threads];
    all.extend_from_slice(&s.instructions);
    all.extend_from_slice(&[
        s.global_read,
        s.global_written,
        s.shared_read,
        s.shared_written,
    ]);
    let n = k.len().min(len - 1);
    // SAFETY: the caller's buffers hold `len` bytes and 13 numbers.
    unsafe {
        std::ptr::copy_nonoverlapping(k.as_ptr(), name as *mut u8, n);
        *name.add(n) = 0;
        std::ptr::copy_nonoverlapping(all.as_ptr(), counts, all.len());
    }
    SUCCESS
}

/// Reports the checks recorded since the process started: a program's tests compare it
/// before and after a scenario.
#[unsafe(no_mangle)]
pub extern "C" fn cuEmuReportCount() -> u64 {
    crate::report::report_count()
}

/// Worker threads a launch uses.
#[unsafe(no_mangle)]
pub extern "C" fn cuEmuWorkers() -> c_int {
    let configured = driver().map_or(0, |d| d.config.workers);
    if configured > 0 {
        configured as c_int
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get()) as c_int
    }
}
