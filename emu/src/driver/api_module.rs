//! Modules and launches: `cuModule*`, `cuFunc*`, `cuLaunchKernel`.

use std::collections::HashMap;
use std::ffi::{CStr, c_char, c_int, c_uint, c_void};
use std::sync::Arc;

use super::api_mem::submit;
use super::api_stream::stream_of;
use super::stream::{check_access, hazard};
use super::{
    CUdeviceptr, CUresult, Handle, ILLEGAL_ADDRESS, ILLEGAL_INSTRUCTION, INVALID_CONTEXT,
    INVALID_HANDLE, INVALID_IMAGE, INVALID_PTX, INVALID_VALUE, LAUNCH_FAILED, MISALIGNED_ADDRESS,
    NO_BINARY_FOR_GPU, NOT_FOUND, OUT_OF_MEMORY, Object, UNSUPPORTED_PTX_VERSION, current_ok,
    driver, out, ret,
};
use crate::exec::{self, FaultKind, Kernel, Launch, Program};
use crate::fatbin::{self, FatbinError, PtxEntry};
use crate::memory::{Allocation, SPACE};
use crate::ptx::ast::StateSpace;

/// A loaded module.
pub struct Module {
    pub ctx: u64,
    pub program: Program,
    /// Module-level variables: name -> (allocation).
    pub globals: HashMap<String, Arc<Allocation>>,
}

impl Drop for Module {
    fn drop(&mut self) {
        for a in self.globals.values() {
            let _ = SPACE.free(a.base, "cuModuleUnload".into());
        }
    }
}

/// A kernel of a loaded module.
pub struct Function {
    pub ctx: u64,
    /// Keeps the module (and its variables) alive while the function is.
    _module: Arc<Module>,
    pub kernel: Arc<Kernel>,
}

fn module_error(what: &str, code: CUresult) -> CUresult {
    eprintln!("cuda-emu: cannot load the module: {what}");
    code
}

/// Picks the PTX entry for a device of compute capability `cc` (e.g. 90): the newest
/// architecture not above it.
fn pick(entries: &[PtxEntry], cc: u32) -> Result<&PtxEntry, CUresult> {
    entries
        .iter()
        .filter(|e| e.plain_text || e.arch.is_none_or(|a| a <= cc))
        .max_by_key(|e| e.arch.unwrap_or(0))
        .ok_or_else(|| {
            let archs: Vec<String> = entries
                .iter()
                .map(|e| format!("compute_{}", e.arch.unwrap_or(0)))
                .collect();
            module_error(
                &format!(
                    "its PTX targets {} and the device is sm_{cc}",
                    archs.join(", ")
                ),
                NO_BINARY_FOR_GPU,
            )
        })
}

fn load(entries: Result<Vec<PtxEntry>, FatbinError>) -> Result<Arc<Module>, CUresult> {
    let ctx = current_ok()?;
    let d = driver()?;
    let entries = entries.map_err(|e| {
        let code = match e {
            FatbinError::MachineCodeOnly { .. } => NO_BINARY_FOR_GPU,
            _ => INVALID_IMAGE,
        };
        module_error(&e.to_string(), code)
    })?;
    let (major, minor) = d.config.compute_capability;
    let cc = (major * 10 + minor) as u32;
    let entry = pick(&entries, cc)?;
    let module =
        crate::ptx::parse(&entry.text).map_err(|e| module_error(&e.to_string(), INVALID_PTX))?;
    let max = d.config.max_ptx_version();
    if module.version > max {
        let v = d.config.driver_version;
        return Err(module_error(
            &format!(
                "PTX ISA {}.{} is newer than this driver accepts: driver version {}.{} loads PTX up to ISA {}.{}",
                module.version.0,
                module.version.1,
                v / 1000,
                (v % 1000) / 10,
                max.0,
                max.1
            ),
            UNSUPPORTED_PTX_VERSION,
        ));
    }
    for t in &module.target {
        if let Some(sm) = t.strip_prefix("sm_") {
            let digits: String = sm.chars().take_while(char::is_ascii_digit).collect();
            if digits.parse::<u32>().is_ok_and(|n| n > cc) {
                return Err(module_error(
                    &format!(".target {t} is newer than the device (sm_{cc})"),
                    INVALID_PTX,
                ));
            }
        }
    }
    let mut globals = HashMap::new();
    let mut addrs = HashMap::new();
    for v in &module.vars {
        if !matches!(v.space, StateSpace::Global | StateSpace::Const) {
            continue;
        }
        let a = SPACE
            .alloc(
                ctx.device(),
                v.size(),
                d.config.memory,
                format!("module variable {}", v.name),
            )
            .map_err(|_| OUT_OF_MEMORY)?;
        // Variables start zeroed (the loader writes them) unless initialized.
        match &v.init {
            Some(bytes) => a.write(0, bytes),
            None => a.write(0, &vec![0u8; v.size() as usize]),
        }
        addrs.insert(v.name.clone(), a.base);
        globals.insert(v.name.clone(), a);
    }
    let program =
        exec::compile(&module, &addrs).map_err(|e| module_error(&e.to_string(), INVALID_PTX))?;
    Ok(Arc::new(Module {
        ctx: ctx.shared.id,
        program,
        globals,
    }))
}

fn register_module(m: Arc<Module>, out_ptr: *mut Handle) -> Result<(), CUresult> {
    let h = driver()?.register(Object::Module(m));
    // SAFETY: caller's pointer.
    unsafe { out(out_ptr, h as Handle) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuModuleLoadData(module: *mut Handle, image: *const c_void) -> CUresult {
    // SAFETY: the image contract of the driver API.
    ret(load(unsafe { fatbin::read_image(image as *const u8) })
        .and_then(|m| register_module(m, module)))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuModuleLoadDataEx(
    module: *mut Handle,
    image: *const c_void,
    _n: c_uint,
    _options: *mut c_int,
    _values: *mut *mut c_void,
) -> CUresult {
    // SAFETY: forwarded.
    unsafe { cuModuleLoadData(module, image) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuModuleLoadFatBinary(
    module: *mut Handle,
    image: *const c_void,
) -> CUresult {
    // SAFETY: forwarded.
    unsafe { cuModuleLoadData(module, image) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuModuleLoad(module: *mut Handle, fname: *const c_char) -> CUresult {
    ret((|| {
        if fname.is_null() {
            return Err(INVALID_VALUE);
        }
        // SAFETY: a NUL-terminated path.
        let path = unsafe { CStr::from_ptr(fname) }
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(&path)
            .map_err(|e| module_error(&format!("reading {path}: {e}"), super::FILE_NOT_FOUND))?;
        let m = load(fatbin::read_image_bytes(&bytes))?;
        register_module(m, module)
    })())
}

/// A symbol name passed by the program.
///
/// # Safety
/// `name` is null or a NUL-terminated string.
unsafe fn c_name(name: *const c_char) -> Result<String, CUresult> {
    if name.is_null() {
        return Err(INVALID_VALUE);
    }
    // SAFETY: the caller's contract.
    Ok(unsafe { CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned())
}

fn module_of(h: Handle) -> Result<Arc<Module>, CUresult> {
    match driver()?.get(h) {
        Some(Object::Module(m)) => Ok(m),
        _ => Err(INVALID_HANDLE),
    }
}

fn function_of(h: Handle) -> Result<Arc<Function>, CUresult> {
    match driver()?.get(h) {
        Some(Object::Function(f)) => Ok(f),
        _ => Err(INVALID_HANDLE),
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuModuleUnload(module: Handle) -> CUresult {
    ret(driver().and_then(|d| {
        let m = module_of(module)?;
        d.unregister(module as usize);
        drop(m);
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuModuleGetFunction(
    f: *mut Handle,
    module: Handle,
    name: *const c_char,
) -> CUresult {
    ret(module_of(module).and_then(|m| {
        // SAFETY: the driver API's NUL-terminated name.
        let name = unsafe { c_name(name) }?;
        let kernel = m.program.kernels.get(&name).cloned().ok_or(NOT_FOUND)?;
        let h = driver()?.register(Object::Function(Arc::new(Function {
            ctx: m.ctx,
            _module: m.clone(),
            kernel,
        })));
        unsafe { out(f, h as Handle) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuModuleGetGlobal_v2(
    dptr: *mut CUdeviceptr,
    bytes: *mut usize,
    module: Handle,
    name: *const c_char,
) -> CUresult {
    ret(module_of(module).and_then(|m| {
        // SAFETY: the driver API's NUL-terminated name.
        let name = unsafe { c_name(name) }?;
        let a = m.globals.get(&name).ok_or(NOT_FOUND)?;
        unsafe {
            if !dptr.is_null() {
                out(dptr, a.base)?;
            }
            if !bytes.is_null() {
                out(bytes, a.size as usize)?;
            }
        }
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuFuncGetAttribute(v: *mut c_int, attrib: c_int, f: Handle) -> CUresult {
    ret(function_of(f).and_then(|f| {
        let k = &f.kernel;
        let a = match attrib {
            0 => k.max_threads.unwrap_or(1024).min(1024) as c_int,
            1 => k.shared_size as c_int,
            2 => 0,
            3 => k.local_size as c_int,
            4 => (k.template.len() as c_int).min(255),
            5 | 6 => 90,
            7 => 0,
            8 => (crate::exec::launch::MAX_SHARED - k.shared_size) as c_int,
            9 => -1,
            _ => return Err(INVALID_VALUE),
        };
        unsafe { out(v, a) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuFuncSetAttribute(f: Handle, _attrib: c_int, _v: c_int) -> CUresult {
    ret(function_of(f).map(|_| ()))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuFuncSetCacheConfig(f: Handle, _config: c_int) -> CUresult {
    ret(function_of(f).map(|_| ()))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuFuncGetName(name: *mut *const c_char, f: Handle) -> CUresult {
    ret(function_of(f).and_then(|f| {
        // Names live as long as the process (few, small).
        let s = std::ffi::CString::new(f.kernel.name.clone()).map_err(|_| INVALID_VALUE)?;
        unsafe { out(name, s.into_raw() as *const c_char) }
    }))
}

/// Copies the parameters a launch passes into one buffer, as the kernel lays them out.
unsafe fn params(
    k: &Kernel,
    list: *mut *mut c_void,
    extra: *mut *mut c_void,
) -> Result<Vec<u8>, CUresult> {
    let mut buf = vec![0u8; k.param_size];
    if !list.is_null() {
        for (i, p) in k.params.iter().enumerate() {
            // SAFETY: the driver API's contract: one pointer per parameter.
            let src = unsafe { *list.add(i) };
            if src.is_null() {
                eprintln!(
                    "cuda-emu: launch of {}: parameter {i} ({}) is a null pointer",
                    k.name, p.name
                );
                return Err(INVALID_VALUE);
            }
            // SAFETY: the parameter's size, as the kernel declares it.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    src as *const u8,
                    buf[p.offset..].as_mut_ptr(),
                    p.size,
                )
            };
        }
        return Ok(buf);
    }
    if extra.is_null() {
        if k.params.is_empty() {
            return Ok(buf);
        }
        eprintln!(
            "cuda-emu: launch of {}: no parameters given, the kernel takes {}",
            k.name,
            k.params.len()
        );
        return Err(INVALID_VALUE);
    }
    // CU_LAUNCH_PARAM_BUFFER_POINTER (1), CU_LAUNCH_PARAM_BUFFER_SIZE (2), END (0).
    let (mut ptr, mut size) = (std::ptr::null::<u8>(), 0usize);
    let mut i = 0;
    loop {
        // SAFETY: a key-value list ended by 0, per the driver API.
        let key = unsafe { *extra.add(i) } as usize;
        match key {
            0 => break,
            1 => ptr = unsafe { *extra.add(i + 1) } as *const u8,
            2 => size = unsafe { *(*extra.add(i + 1) as *const usize) },
            _ => return Err(INVALID_VALUE),
        }
        i += 2;
    }
    if ptr.is_null() || size < k.param_size {
        return Err(INVALID_VALUE);
    }
    // SAFETY: `size` bytes at `ptr`, as the caller said.
    unsafe { std::ptr::copy_nonoverlapping(ptr, buf.as_mut_ptr(), k.param_size) };
    Ok(buf)
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuLaunchKernel(
    f: Handle,
    gx: c_uint,
    gy: c_uint,
    gz: c_uint,
    bx: c_uint,
    by: c_uint,
    bz: c_uint,
    shared: c_uint,
    h: Handle,
    list: *mut *mut c_void,
    extra: *mut *mut c_void,
) -> CUresult {
    ret((|| {
        let func = function_of(f)?;
        let s = stream_of(h)?;
        let ctx = current_ok()?;
        if func.ctx != ctx.shared.id || s.ctx.id != ctx.shared.id {
            eprintln!(
                "cuda-emu: launch of {}: the function, the stream and the current context must belong to one context",
                func.kernel.name
            );
            return Err(INVALID_CONTEXT);
        }
        // SAFETY: the caller's parameter pointers.
        let buf = unsafe { params(&func.kernel, list, extra) }?;
        let d = driver()?;
        let checks = d.config.checks;
        let workers = d.config.workers;
        let probe = Launch {
            kernel: &func.kernel,
            grid: [gx, gy, gz],
            block: [bx, by, bz],
            dynamic_shared: shared,
            params: &buf,
            device: ctx.device(),
            checks,
            workers,
        };
        if let Err(e) = exec::validate(&probe) {
            eprintln!("cuda-emu: launch of {}: {e}", func.kernel.name);
            return Err(INVALID_VALUE);
        }
        let device = ctx.device();
        let s2 = s.clone();
        submit(
            &s,
            Box::new(move |op| {
                if s2.ctx.check().is_err() {
                    return;
                }
                let l = Launch {
                    kernel: &func.kernel,
                    grid: [gx, gy, gz],
                    block: [bx, by, bz],
                    dynamic_shared: shared,
                    params: &buf,
                    device,
                    checks,
                    workers,
                };
                match exec::launch(&l) {
                    Ok(outcome) => {
                        crate::profile::record(&func.kernel.name, &outcome.stats);
                        if driver().is_ok_and(|d| d.config.hazards) {
                            let what = format!("kernel {} on {}", func.kernel.name, s2.describe());
                            for t in &outcome.touched {
                                for (range, write) in [(t.read, false), (t.written, true)] {
                                    if let Some((lo, hi)) = range
                                        && let Some(r) =
                                            check_access(&t.alloc, lo, hi, write, op, &what)
                                    {
                                        hazard(&s2.ctx, r);
                                        return;
                                    }
                                }
                            }
                        }
                    }
                    Err(fault) => {
                        crate::report::record(fault.report);
                        s2.ctx.fail(match fault.kind {
                            FaultKind::Memory => ILLEGAL_ADDRESS,
                            FaultKind::Misaligned => MISALIGNED_ADDRESS,
                            FaultKind::Race | FaultKind::Uninitialized => LAUNCH_FAILED,
                            FaultKind::Execution => ILLEGAL_INSTRUCTION,
                        });
                    }
                }
            }),
        )?;
        Ok(())
    })())
}
