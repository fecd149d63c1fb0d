//! The DLPack exchange protocol (dmlc/dlpack, `dlpack.h` v1.1): the C structs, capsules
//! that export a [`Storage`] to any framework's `from_dlpack`, and the import of a uint8
//! CUDA batch from any producer's `__dlpack__`.

use std::ffi::{CStr, c_void};
use std::ptr::null_mut;
use std::sync::Arc;

use pyo3::exceptions::{PyBufferError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;

use pixmix::cuda::StreamBuffer;
use pixmix::{Dtype, Tensor};

/// `DLDeviceType::kDLCPU`.
pub const DEVICE_CPU: i32 = 1;
/// `DLDeviceType::kDLCUDA`.
pub const DEVICE_CUDA: i32 = 2;
const CODE_UINT: u8 = 1;
const CODE_FLOAT: u8 = 2;
const CODE_BFLOAT: u8 = 4;

const LEGACY: &CStr = c"dltensor";
const LEGACY_USED: &CStr = c"used_dltensor";
const VERSIONED: &CStr = c"dltensor_versioned";

#[repr(C)]
#[derive(Clone, Copy)]
struct DlDevice {
    device_type: i32,
    device_id: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct DlDataType {
    code: u8,
    bits: u8,
    lanes: u16,
}

#[repr(C)]
struct DlTensor {
    data: *mut c_void,
    device: DlDevice,
    ndim: i32,
    dtype: DlDataType,
    shape: *mut i64,
    strides: *mut i64,
    byte_offset: u64,
}

#[repr(C)]
struct DlManagedTensor {
    dl_tensor: DlTensor,
    manager_ctx: *mut c_void,
    deleter: Option<unsafe extern "C" fn(*mut DlManagedTensor)>,
}

#[repr(C)]
struct DlPackVersion {
    major: u32,
    minor: u32,
}

#[repr(C)]
struct DlManagedTensorVersioned {
    version: DlPackVersion,
    manager_ctx: *mut c_void,
    deleter: Option<unsafe extern "C" fn(*mut DlManagedTensorVersioned)>,
    flags: u64,
    dl_tensor: DlTensor,
}

/// Where a batch's bytes live.
pub enum Storage {
    /// Host memory.
    Host(Tensor),
    /// Device memory, and the imported batch it was computed from, which must stay
    /// untouched until the kernels that read it are done.
    Device(StreamBuffer, Option<Imported>),
}

impl Storage {
    fn data(&self) -> *mut c_void {
        match self {
            Storage::Host(t) => t.as_bytes().as_ptr() as *mut c_void,
            Storage::Device(b, _) => b.ptr() as *mut c_void,
        }
    }

    /// The DLPack device (type, id).
    pub fn device(&self) -> (i32, i32) {
        match self {
            Storage::Host(_) => (DEVICE_CPU, 0),
            Storage::Device(b, _) => (DEVICE_CUDA, b.ordinal() as i32),
        }
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Storage::Device(buffer, input) = self
            && input.is_some()
        {
            // The input goes back to its producer only after the kernels have read it.
            let _ = buffer.wait();
        }
    }
}

/// What one exported capsule keeps alive.
struct Export {
    storage: Arc<Storage>,
    shape: [i64; 4],
}

fn dl_dtype(dtype: Dtype) -> DlDataType {
    let (code, bits) = match dtype {
        Dtype::F32 => (CODE_FLOAT, 32),
        Dtype::F16 => (CODE_FLOAT, 16),
        Dtype::Bf16 => (CODE_BFLOAT, 16),
    };
    DlDataType {
        code,
        bits,
        lanes: 1,
    }
}

fn tensor(export: &mut Export, dtype: Dtype) -> DlTensor {
    let (device_type, device_id) = export.storage.device();
    DlTensor {
        data: export.storage.data(),
        device: DlDevice {
            device_type,
            device_id,
        },
        ndim: 4,
        dtype: dl_dtype(dtype),
        shape: export.shape.as_mut_ptr(),
        // Null strides: compact and row-major.
        strides: null_mut(),
        byte_offset: 0,
    }
}

unsafe extern "C" fn delete_legacy(managed: *mut DlManagedTensor) {
    if !managed.is_null() {
        // SAFETY: `managed` and its context were leaked from boxes by `export` and come
        // back here exactly once (the protocol's contract).
        unsafe {
            drop(Box::from_raw((*managed).manager_ctx as *mut Export));
            drop(Box::from_raw(managed));
        }
    }
}

unsafe extern "C" fn delete_versioned(managed: *mut DlManagedTensorVersioned) {
    if !managed.is_null() {
        // SAFETY: as in `delete_legacy`.
        unsafe {
            drop(Box::from_raw((*managed).manager_ctx as *mut Export));
            drop(Box::from_raw(managed));
        }
    }
}

/// Frees a capsule's tensor if no consumer took it (the consumer renames the capsule).
unsafe extern "C" fn capsule_destructor(capsule: *mut ffi::PyObject) {
    // SAFETY: called by Python with a live capsule; the names say who owns the tensor.
    unsafe {
        if ffi::PyCapsule_IsValid(capsule, LEGACY.as_ptr()) == 1 {
            let p = ffi::PyCapsule_GetPointer(capsule, LEGACY.as_ptr());
            delete_legacy(p as *mut DlManagedTensor);
        } else if ffi::PyCapsule_IsValid(capsule, VERSIONED.as_ptr()) == 1 {
            let p = ffi::PyCapsule_GetPointer(capsule, VERSIONED.as_ptr());
            delete_versioned(p as *mut DlManagedTensorVersioned);
        } else {
            // A consumer took it (and renamed it): its deleter is theirs to call.
            ffi::PyErr_Clear();
        }
    }
}

/// A DLPack capsule of `storage` as an N x 3 x S x S tensor of `dtype`: the versioned
/// (1.x) struct when the consumer asked for it, else the legacy one.
pub fn export(
    py: Python<'_>,
    storage: Arc<Storage>,
    shape: [usize; 4],
    dtype: Dtype,
    versioned: bool,
) -> PyResult<Py<PyAny>> {
    let mut ctx = Box::new(Export {
        storage,
        shape: shape.map(|d| d as i64),
    });
    let dl_tensor = tensor(&mut ctx, dtype);
    let ctx = Box::into_raw(ctx) as *mut c_void;
    let (pointer, name) = if versioned {
        let managed = Box::new(DlManagedTensorVersioned {
            version: DlPackVersion { major: 1, minor: 1 },
            manager_ctx: ctx,
            deleter: Some(delete_versioned),
            flags: 0,
            dl_tensor,
        });
        (Box::into_raw(managed) as *mut c_void, VERSIONED)
    } else {
        let managed = Box::new(DlManagedTensor {
            dl_tensor,
            manager_ctx: ctx,
            deleter: Some(delete_legacy),
        });
        (Box::into_raw(managed) as *mut c_void, LEGACY)
    };
    // SAFETY: `pointer` is a leaked managed tensor that the destructor or the consumer
    // frees; the name is a static string, as capsules require.
    unsafe {
        let capsule = ffi::PyCapsule_New(pointer, name.as_ptr(), Some(capsule_destructor));
        if capsule.is_null() {
            if versioned {
                delete_versioned(pointer as *mut DlManagedTensorVersioned);
            } else {
                delete_legacy(pointer as *mut DlManagedTensor);
            }
            return Err(PyErr::fetch(py));
        }
        Ok(Bound::from_owned_ptr(py, capsule).unbind())
    }
}

/// A uint8 N x H x W x 3 batch taken from a producer's legacy DLPack capsule; the
/// producer's deleter runs when this is dropped.
pub struct Imported {
    managed: *mut DlManagedTensor,
    /// Address of the first pixel.
    pub ptr: u64,
    /// (N, H, W).
    pub shape: [usize; 3],
    /// DLPack device (type, id).
    pub device: (i32, i32),
}

// SAFETY: the managed tensor is only touched by its deleter, which the protocol allows on
// any thread.
unsafe impl Send for Imported {}
unsafe impl Sync for Imported {}

impl Drop for Imported {
    fn drop(&mut self) {
        // SAFETY: the capsule was renamed when this took ownership, so its deleter runs
        // exactly once, here.
        unsafe {
            if let Some(deleter) = (*self.managed).deleter {
                deleter(self.managed);
            }
        }
    }
}

/// Takes the tensor out of a legacy DLPack capsule and checks it is a C-contiguous uint8
/// N x H x W x 3 (or H x W x 3) batch.
pub fn import(capsule: &Bound<'_, PyAny>) -> PyResult<Imported> {
    let py = capsule.py();
    let raw = capsule.as_ptr();
    // SAFETY: checks the capsule's name before reading its pointer; renaming it marks the
    // tensor as ours, so the capsule's own destructor leaves it alone.
    let managed = unsafe {
        if ffi::PyCapsule_IsValid(raw, LEGACY.as_ptr()) != 1 {
            return Err(PyValueError::new_err(
                "expected an unused DLPack capsule named 'dltensor'",
            ));
        }
        let p = ffi::PyCapsule_GetPointer(raw, LEGACY.as_ptr()) as *mut DlManagedTensor;
        if p.is_null() {
            return Err(PyErr::fetch(py));
        }
        if ffi::PyCapsule_SetName(raw, LEGACY_USED.as_ptr()) != 0 {
            return Err(PyErr::fetch(py));
        }
        p
    };
    // SAFETY: a producer's managed tensor, valid until its deleter runs (Imported's drop).
    let t = unsafe { &(*managed).dl_tensor };
    let dims: Vec<i64> = if t.shape.is_null() || t.ndim < 0 {
        Vec::new()
    } else {
        // SAFETY: `shape` holds `ndim` entries (DLPack).
        unsafe { std::slice::from_raw_parts(t.shape, t.ndim as usize).to_vec() }
    };
    let mut imported = Imported {
        managed,
        ptr: t.data as u64 + t.byte_offset,
        shape: [0; 3],
        device: (t.device.device_type, t.device.device_id),
    };
    let dtype = t.dtype;
    if (dtype.code, dtype.bits, dtype.lanes) != (CODE_UINT, 8, 1) {
        return Err(PyValueError::new_err(format!(
            "expected uint8 pixels, got DLPack type code {} with {} bits x {} lanes",
            dtype.code, dtype.bits, dtype.lanes
        )));
    }
    let bad_shape = || PyValueError::new_err(format!("expected N x H x W x 3, got shape {dims:?}"));
    let mut shape = dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| bad_shape()))
        .collect::<PyResult<Vec<usize>>>()?;
    if shape.len() == 3 {
        shape.insert(0, 1);
    }
    if shape.len() != 4 || shape[3] != 3 || shape[..3].contains(&0) {
        return Err(PyValueError::new_err(format!(
            "expected N x H x W x 3 with N, H, W > 0, got shape {dims:?}"
        )));
    }
    if !t.strides.is_null() {
        // SAFETY: `strides` holds `ndim` entries when not null (DLPack).
        let strides = unsafe { std::slice::from_raw_parts(t.strides, dims.len()) };
        let compact = [shape[1] * shape[2] * 3, shape[2] * 3, 3, 1];
        let skip = 4 - strides.len();
        let ok = strides
            .iter()
            .zip(&compact[skip..])
            .zip(&shape[skip..])
            .all(|((&s, &c), &d)| d == 1 || s == c as i64);
        if !ok {
            return Err(PyValueError::new_err(format!(
                "the batch must be C-contiguous, got strides {strides:?}"
            )));
        }
    }
    imported.shape = [shape[0], shape[1], shape[2]];
    Ok(imported)
}

/// Checks the `dl_device` and `copy` requests of `__dlpack__` against `storage`.
pub fn check_request(
    storage: &Storage,
    dl_device: Option<(i32, i32)>,
    copy: Option<bool>,
) -> PyResult<()> {
    if let Some(d) = dl_device
        && d != storage.device()
    {
        return Err(PyBufferError::new_err(format!(
            "the batch lives on DLPack device {:?}, not {d:?}; move it after import",
            storage.device()
        )));
    }
    if copy == Some(true) {
        return Err(PyBufferError::new_err(
            "pixmix exports batches without copying; copy after import",
        ));
    }
    Ok(())
}
