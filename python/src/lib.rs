//! The `pixmix._pixmix` extension: a planner, a mixing set and an executor (CPU, or CUDA
//! with device buffers handed in by address or by DLPack) behind a small class.
//! `pixmix/__init__.py` adds the numpy, torch and DLPack front.

mod dlpack;

use std::sync::Arc;

use numpy::{
    IntoPyArray, PyArrayMethods, PyReadonlyArray3, PyReadonlyArray4, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyBufferError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use pixmix::cuda::{CudaExecutor, RawStream};
use pixmix::plan::rank_seed;
use pixmix::{
    BatchPlan, Config, CpuExecutor, Dtype, MixingSet, Planner, Preset, RgbImage, Tensor, TensorData,
};

use dlpack::{DEVICE_CUDA, Storage};

fn err(e: pixmix::Error) -> PyErr {
    match e {
        pixmix::Error::NoCuda(_) | pixmix::Error::Cuda(_) => PyRuntimeError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// A PixMix augmenter. See `pixmix.PixMix`.
#[pyclass(module = "pixmix._pixmix", unsendable)]
struct Augmenter {
    config: Config,
    planner: Planner,
    mixing: MixingSet,
    cpu: CpuExecutor,
    gpu: Option<CudaExecutor>,
}

fn dtype_of(name: &str) -> PyResult<Dtype> {
    name.parse::<Dtype>().map_err(err)
}

/// A list of H x W x 3 uint8 arrays (sizes may differ) as images.
fn images_of(list: &[PyReadonlyArray3<'_, u8>]) -> PyResult<Vec<RgbImage>> {
    list.iter()
        .enumerate()
        .map(|(i, a)| {
            let shape = a.shape();
            if shape[2] != 3 {
                return Err(PyValueError::new_err(format!(
                    "image {i}: expected H x W x 3 uint8 (RGB), got shape {shape:?}"
                )));
            }
            let data = a
                .as_slice()
                .map_err(|_| PyValueError::new_err(format!("image {i} must be C-contiguous")))?;
            RgbImage::new(shape[1], shape[0], data.to_vec())
                .map_err(|e| PyValueError::new_err(format!("image {i}: {e}")))
        })
        .collect()
}

/// An N x 3 x S x S host tensor as a numpy array.
fn to_numpy(py: Python<'_>, tensor: Tensor) -> PyResult<Bound<'_, PyAny>> {
    let shape = tensor.shape;
    Ok(match tensor.data {
        TensorData::F32(v) => v.into_pyarray(py).reshape(shape)?.into_any(),
        TensorData::F16(v) => v.into_pyarray(py).reshape(shape)?.into_any(),
        TensorData::Bf16(_) => {
            return Err(PyValueError::new_err(
                "numpy has no bfloat16; use float32 or float16",
            ));
        }
    })
}

impl Augmenter {
    /// Plans a batch of images of `sizes` and runs `work` on it without the GIL; when it
    /// fails, the batch consumes no samples.
    fn planned<T: Send>(
        &mut self,
        py: Python<'_>,
        sizes: &[(usize, usize)],
        work: impl FnOnce(&mut Engines<'_>, &BatchPlan) -> pixmix::Result<T> + Send,
    ) -> PyResult<T> {
        let start = self.planner.position();
        let plan = self.planner.plan(sizes, self.mixing.sizes()).map_err(err)?;
        let mut engines = Engines {
            cpu: &self.cpu,
            mixing: &self.mixing,
            gpu: self.gpu.as_mut(),
        };
        let result = py.detach(|| work(&mut engines, &plan));
        result
            .inspect_err(|_| self.planner.seek(start))
            .map_err(err)
    }

    /// [`planned`](Self::planned) for work that needs this augmenter's GPU.
    fn on_gpu<T: Send>(
        &mut self,
        py: Python<'_>,
        sizes: &[(usize, usize)],
        work: impl FnOnce(&mut CudaExecutor, &BatchPlan) -> pixmix::Result<T> + Send,
    ) -> PyResult<T> {
        if self.gpu.is_none() {
            return Err(PyRuntimeError::new_err(
                "this augmenter runs on the CPU; create it with a CUDA device",
            ));
        }
        self.planned(py, sizes, |engines, plan| {
            match engines.gpu.as_deref_mut() {
                Some(gpu) => work(gpu, plan),
                None => Err(pixmix::Error::NoCuda("no CUDA device".into())),
            }
        })
    }

    /// Plans and augments host images, on the GPU when there is one.
    fn augment_host(
        &mut self,
        py: Python<'_>,
        images: &[RgbImage],
        dtype: Dtype,
    ) -> PyResult<Tensor> {
        let sizes = RgbImage::sizes(images);
        self.planned(py, &sizes, |e, plan| match e.gpu.as_deref_mut() {
            Some(g) => g.augment(plan, images, dtype),
            None => e.cpu.augment(plan, images, e.mixing, dtype),
        })
    }
}

/// An augmented N x 3 x S x S batch that any framework imports without a copy through
/// DLPack: `torch.from_dlpack(b)`, `cupy.from_dlpack(b)`, `jax.dlpack.from_dlpack(b)`, or
/// `numpy.from_dlpack(b)` for a batch on the host.
#[pyclass(module = "pixmix._pixmix", frozen)]
struct Batch {
    storage: Arc<Storage>,
    shape: [usize; 4],
    dtype: Dtype,
}

impl Batch {
    fn new(storage: Storage, shape: [usize; 4], dtype: Dtype) -> Batch {
        Batch {
            storage: Arc::new(storage),
            shape,
            dtype,
        }
    }
}

#[pymethods]
impl Batch {
    /// The DLPack capsule. On the GPU, `stream` (a CUstream address; 1 the legacy and 2 the
    /// per-thread default stream; None means 1; -1 skips ordering) waits for the batch, and
    /// the memory is freed on that stream once every importer has let go of it (imported on
    /// several streams: on the last one, so order or finish the others' reads first).
    #[pyo3(signature = (*, stream=None, max_version=None, dl_device=None, copy=None))]
    fn __dlpack__(
        &self,
        py: Python<'_>,
        stream: Option<i64>,
        max_version: Option<(u32, u32)>,
        dl_device: Option<(i32, i32)>,
        copy: Option<bool>,
    ) -> PyResult<Py<PyAny>> {
        dlpack::check_request(&self.storage, dl_device, copy)?;
        if let Storage::Device(buffer, _) = &*self.storage {
            let stream = stream.unwrap_or(1);
            if stream != -1 {
                if stream < 0 {
                    return Err(PyBufferError::new_err(format!(
                        "stream must be a CUstream address, 1, 2 or -1, got {stream}"
                    )));
                }
                // SAFETY: DLPack's contract: the consumer passes a live stream of the
                // device `__dlpack_device__` names, which keeps the memory it imports.
                unsafe { buffer.hand_to(stream as usize as RawStream) }.map_err(err)?;
            }
        }
        let versioned = max_version.is_some_and(|(major, _)| major >= 1);
        dlpack::export(py, self.storage.clone(), self.shape, self.dtype, versioned)
    }

    /// The DLPack device: (1, 0) for the host, (2, ordinal) for a CUDA device.
    fn __dlpack_device__(&self) -> (i32, i32) {
        self.storage.device()
    }

    /// (N, 3, S, S).
    #[getter]
    fn shape(&self) -> (usize, usize, usize, usize) {
        let [n, c, h, w] = self.shape;
        (n, c, h, w)
    }

    /// "float32", "float16" or "bfloat16".
    #[getter]
    fn dtype(&self) -> &'static str {
        match self.dtype {
            Dtype::F32 => "float32",
            Dtype::F16 => "float16",
            Dtype::Bf16 => "bfloat16",
        }
    }

    fn __repr__(&self) -> String {
        let (kind, id) = self.storage.device();
        let device = if kind == DEVICE_CUDA {
            format!("cuda:{id}")
        } else {
            "cpu".into()
        };
        format!(
            "pixmix.Batch(shape={:?}, dtype={}, device={device})",
            self.shape(),
            self.dtype()
        )
    }
}

/// What a batch runs on.
struct Engines<'a> {
    cpu: &'a CpuExecutor,
    mixing: &'a MixingSet,
    gpu: Option<&'a mut CudaExecutor>,
}

#[pymethods]
impl Augmenter {
    /// Builds an augmenter: `preset` "cifar" or "imagenet"; `mixing` a folder or None for
    /// `fractals` generated pictures; `ordinal` a CUDA device or None for the CPU; `rank`,
    /// when given, derives a distinct stream per data-parallel rank from `seed`.
    #[new]
    #[pyo3(signature = (preset, mixing, seed, ordinal, rank, fractals, k=None, beta=None, severity=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        preset: &str,
        mixing: Option<String>,
        seed: u64,
        ordinal: Option<usize>,
        rank: Option<u64>,
        fractals: usize,
        k: Option<u32>,
        beta: Option<f64>,
        severity: Option<u32>,
    ) -> PyResult<Self> {
        let mut config = Config::preset(preset.parse::<Preset>().map_err(err)?);
        if let Some(k) = k {
            config.k = k;
        }
        if let Some(b) = beta {
            config.beta = b;
        }
        if let Some(s) = severity {
            config.severity = s;
        }
        config.validate().map_err(err)?;
        let seed = rank.map_or(seed, |r| rank_seed(seed, r));
        let mixing = match mixing {
            Some(dir) => MixingSet::from_dir(dir.as_ref(), config.mixing_resize),
            None => MixingSet::fractals(fractals, config.mixing_resize, seed),
        }
        .map_err(err)?;
        let gpu = match ordinal {
            Some(o) => {
                let mut g = CudaExecutor::new(&config, o).map_err(err)?;
                g.set_mixing(&mixing).map_err(err)?;
                Some(g)
            }
            None => None,
        };
        Ok(Augmenter {
            planner: Planner::new(&config, seed).map_err(err)?,
            cpu: CpuExecutor::new(&config).map_err(err)?,
            config,
            mixing,
            gpu,
        })
    }

    /// Output side.
    #[getter]
    fn size(&self) -> usize {
        self.config.size
    }

    /// Per-channel normalization mean.
    #[getter]
    fn mean(&self) -> Vec<f32> {
        self.config.mean.to_vec()
    }

    /// Per-channel normalization standard deviation.
    #[getter]
    fn std(&self) -> Vec<f32> {
        self.config.std.to_vec()
    }

    /// Index of the next sample of the random stream.
    #[getter]
    fn position(&self) -> u64 {
        self.planner.position()
    }

    /// Moves the random stream to sample `index` (to resume a run from a checkpoint).
    #[setter]
    fn set_position(&mut self, index: u64) {
        self.planner.seek(index);
    }

    /// Augments an N x H x W x 3 uint8 array on the host; returns N x 3 x S x S float32
    /// (`dtype` "float32") or float16.
    fn augment_numpy<'py>(
        &mut self,
        py: Python<'py>,
        batch: PyReadonlyArray4<'py, u8>,
        dtype: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let dtype = dtype_of(dtype)?;
        let shape = batch.shape().to_vec();
        if shape[3] != 3 || shape[1] == 0 || shape[2] == 0 {
            return Err(PyValueError::new_err(format!(
                "expected N x H x W x 3 uint8 (RGB) with H, W > 0, got shape {shape:?}"
            )));
        }
        let (h, w) = (shape[1], shape[2]);
        let data = batch
            .as_slice()
            .map_err(|_| PyValueError::new_err("the batch must be C-contiguous"))?;
        let images = data
            .chunks_exact(h * w * 3)
            .map(|c| RgbImage::new(w, h, c.to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        let tensor = self.augment_host(py, &images, dtype)?;
        to_numpy(py, tensor)
    }

    /// Augments a list of H x W x 3 uint8 arrays of any sizes (the imagenet preset crops
    /// each); returns N x 3 x S x S float32 or float16.
    fn augment_images_numpy<'py>(
        &mut self,
        py: Python<'py>,
        images: Vec<PyReadonlyArray3<'py, u8>>,
        dtype: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let dtype = dtype_of(dtype)?;
        let images = images_of(&images)?;
        let tensor = self.augment_host(py, &images, dtype)?;
        to_numpy(py, tensor)
    }

    /// Augments a list of host images of any sizes on this CUDA device into a caller's
    /// buffer (`dst`, `dst_bytes` long), ordered on the caller's stream.
    fn augment_images_into(
        &mut self,
        py: Python<'_>,
        images: Vec<PyReadonlyArray3<'_, u8>>,
        dst: u64,
        dst_bytes: usize,
        stream: u64,
        dtype: &str,
    ) -> PyResult<()> {
        let dtype = dtype_of(dtype)?;
        let images = images_of(&images)?;
        let sizes = RgbImage::sizes(&images);
        self.on_gpu(py, &sizes, |gpu, plan| {
            let raw = stream as usize as RawStream;
            // SAFETY: the caller (pixmix/__init__.py) passes a torch tensor's address of
            // `dst_bytes` bytes on this device, ordered by the caller's current stream.
            unsafe { gpu.augment_into(plan, &images, dtype, dst, dst_bytes, raw) }
        })
    }

    /// Augments an N x H x W x 3 uint8 batch already on this CUDA device (address `src`)
    /// into a caller's buffer (`dst`, `dst_bytes` long), ordered on the caller's stream
    /// (`stream`, a CUstream address; 0 is the legacy default stream).
    #[allow(clippy::too_many_arguments)]
    fn augment_device(
        &mut self,
        py: Python<'_>,
        src: u64,
        n: usize,
        h: usize,
        w: usize,
        dst: u64,
        dst_bytes: usize,
        stream: u64,
        dtype: &str,
    ) -> PyResult<()> {
        let dtype = dtype_of(dtype)?;
        let sizes = vec![(w, h); n];
        self.on_gpu(py, &sizes, |gpu, plan| {
            let raw = stream as usize as RawStream;
            // SAFETY: the caller (pixmix/__init__.py) passes torch tensors' addresses of
            // the sizes given, on this device, ordered by the caller's current stream.
            unsafe { gpu.augment_device_batch(plan, src, &sizes, dtype, dst, dst_bytes, raw) }
        })
    }

    /// The stream this augmenter's GPU work runs on (a CUstream address for a DLPack
    /// producer's `__dlpack__(stream=...)`), or None on the CPU.
    #[getter]
    fn stream(&self) -> Option<u64> {
        self.gpu.as_ref().map(|g| g.device().raw_stream() as u64)
    }

    /// Augments a list of H x W x 3 uint8 host arrays into a DLPack [`Batch`]: in device
    /// memory when this augmenter has a GPU, else on the host.
    fn augment_images_dlpack(
        &mut self,
        py: Python<'_>,
        images: Vec<PyReadonlyArray3<'_, u8>>,
        dtype: &str,
    ) -> PyResult<Batch> {
        let dtype = dtype_of(dtype)?;
        let images = images_of(&images)?;
        let s = self.config.size;
        let shape = [images.len(), 3, s, s];
        let sizes = RgbImage::sizes(&images);
        let storage = self.planned(py, &sizes, |e, plan| match e.gpu.as_deref_mut() {
            Some(g) => Ok(Storage::Device(
                g.augment_to_buffer(plan, &images, dtype)?,
                None,
            )),
            None => Ok(Storage::Host(
                e.cpu.augment(plan, &images, e.mixing, dtype)?,
            )),
        })?;
        Ok(Batch::new(storage, shape, dtype))
    }

    /// Augments the uint8 N x H x W x 3 CUDA batch of a producer's legacy DLPack capsule
    /// (made ready on [`stream`](Self::stream)) into a DLPack [`Batch`] on this device.
    /// The producer gets its batch back when the result is released and the kernels that
    /// read it are done.
    fn augment_dlpack(
        &mut self,
        py: Python<'_>,
        capsule: &Bound<'_, PyAny>,
        dtype: &str,
    ) -> PyResult<Batch> {
        let dtype = dtype_of(dtype)?;
        let input = dlpack::import(capsule)?;
        let ordinal = self.gpu.as_ref().map(|g| g.device().info().ordinal);
        if input.device.0 != DEVICE_CUDA || Some(input.device.1 as usize) != ordinal {
            return Err(PyValueError::new_err(format!(
                "the batch is on DLPack device {:?}; this augmenter runs on {}",
                input.device,
                ordinal.map_or("the CPU".into(), |o| format!("CUDA device {o}"))
            )));
        }
        let [n, h, w] = input.shape;
        let sizes = vec![(w, h); n];
        let s = self.config.size;
        let src = input.ptr;
        let buffer = self.on_gpu(py, &sizes, |gpu, plan| {
            // SAFETY: the producer made the batch ready on this executor's stream (the
            // front passes it to `__dlpack__`), and `input` keeps it alive and unchanged
            // until the buffer's kernels are done (Storage's drop waits for them).
            unsafe { gpu.augment_device_to_buffer(plan, src, &sizes, dtype) }
        });
        let buffer = buffer.inspect_err(|_| {
            // A batch that failed half-way may have queued reads of the input: let them
            // finish before the producer gets it back.
            if let Some(gpu) = &self.gpu {
                let _ = gpu.synchronize();
            }
        })?;
        Ok(Batch::new(
            Storage::Device(buffer, Some(input)),
            [n, 3, s, s],
            dtype,
        ))
    }
}

/// The extension module.
#[pymodule]
fn _pixmix(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Augmenter>()?;
    m.add_class::<Batch>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
