//! The `pixmix._pixmix` extension: a planner, a mixing set and an executor (CPU, or CUDA
//! with device buffers handed in by address or by DLPack) behind a small class.
//! `pixmix/__init__.py` adds the numpy, torch and DLPack front.

mod augmix;
mod dlpack;
mod settings;

use std::cell::Cell;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Instant;

use numpy::{
    IntoPyArray, PyArrayMethods, PyReadonlyArray3, PyReadonlyArray4, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyBufferError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use pixmix::cuda::{CudaExecutor, RawStream};
use pixmix::{
    BatchPlan, Config, CpuExecutor, Dtype, ImageView, MixingSet, Planner, Rgb8Image, Tensor,
    TensorData,
};

use dlpack::{DEVICE_CUDA, Storage};
use settings::configure;

fn err(e: pixmix::Error) -> PyErr {
    match e {
        pixmix::Error::NoCuda(_) | pixmix::Error::Cuda(_) => PyRuntimeError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// Mixing pictures as a pickled augmenter carries them: sizes (width, height) and bytes.
type Pictures = (Vec<(usize, usize)>, Vec<u8>);

/// A PixMix augmenter. See `pixmix.PixMix`. Safe to share between threads: calls take
/// turns (a lock, waited for without the GIL).
#[pyclass(module = "pixmix._pixmix")]
struct Augmenter {
    inner: Mutex<Inner>,
}

/// The augmenter's state, behind its lock.
struct Inner {
    config: Config,
    planner: Planner,
    mixing: MixingSet,
    cpu: CpuExecutor,
    gpu: Option<CudaExecutor>,
    pool: Pool,
}

/// A rayon pool that belongs to one process. A forked child finds its parent's pool
/// without its threads (fork copies only the calling thread), so it leaks that pool and
/// starts its own instead of waiting forever for threads that do not exist.
struct Pool {
    threads: Option<usize>,
    live: Option<(u32, rayon::ThreadPool)>,
}

impl Pool {
    fn new(threads: Option<usize>) -> Pool {
        Pool {
            threads,
            live: None,
        }
    }

    /// Uses `threads` threads (None: rayon's default) from the next batch on.
    fn set_threads(&mut self, threads: Option<usize>) {
        self.threads = threads;
        if let Some((owner, pool)) = self.live.take()
            && owner != std::process::id()
        {
            std::mem::forget(pool);
        }
    }

    /// This process's pool, started on first use.
    fn get(&mut self) -> PyResult<&rayon::ThreadPool> {
        let pid = std::process::id();
        if let Some((owner, pool)) = self.live.take() {
            if owner == pid {
                self.live = Some((owner, pool));
            } else {
                // Dropping would signal the parent's threads, which are not in this process.
                std::mem::forget(pool);
            }
        }
        if self.live.is_none() {
            let mut builder = rayon::ThreadPoolBuilder::new();
            if let Some(n) = self.threads {
                builder = builder.num_threads(n);
            }
            let pool = builder.build().map_err(|e| {
                PyRuntimeError::new_err(format!("cannot start the thread pool: {e}"))
            })?;
            self.live = Some((pid, pool));
        }
        Ok(&self.live.as_ref().expect("started above").1)
    }
}

/// The state behind `mutex`, waiting (without the GIL) while another thread uses it.
fn lock<'a, T: Send>(mutex: &'a Mutex<T>, py: Python<'_>) -> MutexGuard<'a, T> {
    loop {
        match mutex.try_lock() {
            Ok(guard) => return guard,
            Err(TryLockError::Poisoned(p)) => return p.into_inner(),
            Err(TryLockError::WouldBlock) => py.detach(|| drop(mutex.lock())),
        }
    }
}

impl Augmenter {
    /// The state, waiting (without the GIL) while another thread uses it.
    fn lock(&self, py: Python<'_>) -> MutexGuard<'_, Inner> {
        lock(&self.inner, py)
    }
}

fn dtype_of(name: &str) -> PyResult<Dtype> {
    name.parse::<Dtype>().map_err(err)
}

/// A list of H x W x 3 uint8 arrays (sizes may differ) as owned images (for the GPU).
fn images_of(list: &[PyReadonlyArray3<'_, u8>]) -> PyResult<Vec<Rgb8Image>> {
    Ok(views_of(list)?.iter().map(ImageView::to_image).collect())
}

/// A list of H x W x 3 uint8 arrays (sizes may differ) as views of numpy's memory.
fn views_of<'a>(list: &'a [PyReadonlyArray3<'_, u8>]) -> PyResult<Vec<ImageView<'a>>> {
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
            ImageView::new(shape[1], shape[0], data)
                .map_err(|e| PyValueError::new_err(format!("image {i}: {e}")))
        })
        .collect()
}

/// The images of an N x H x W x 3 uint8 array, as views of numpy's memory.
fn batch_views<'a>(batch: &'a PyReadonlyArray4<'_, u8>) -> PyResult<Vec<ImageView<'a>>> {
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
    data.chunks_exact(h * w * 3)
        .map(|c| ImageView::new(w, h, c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)
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

impl Inner {
    /// Plans a batch of images of `sizes` and runs `work` on it without the GIL, on this
    /// process's thread pool; when it fails, the batch consumes no samples.
    fn planned<T: Send>(
        &mut self,
        py: Python<'_>,
        sizes: &[(usize, usize)],
        work: impl FnOnce(&mut Engines<'_>, &BatchPlan) -> pixmix::Result<T> + Send,
    ) -> PyResult<T> {
        let start = self.planner.position();
        let plan = self.planner.plan(sizes, self.mixing.sizes()).map_err(err)?;
        let pool = self.pool.get()?;
        let mut engines = Engines {
            cpu: &self.cpu,
            mixing: &self.mixing,
            gpu: self.gpu.as_mut(),
        };
        let result = py.detach(|| pool.install(|| work(&mut engines, &plan)));
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

    /// Plans and augments host images, on the GPU when there is one. The CPU reads the
    /// views in place (numpy's memory: no copy); the GPU path uploads owned copies.
    fn augment_host(
        &mut self,
        py: Python<'_>,
        images: &[ImageView<'_>],
        dtype: Dtype,
    ) -> PyResult<Tensor> {
        let sizes = Rgb8Image::sizes(images);
        self.planned(py, &sizes, |e, plan| match e.gpu.as_deref_mut() {
            Some(g) => {
                let owned: Vec<Rgb8Image> = images.iter().map(ImageView::to_image).collect();
                g.augment(plan, &owned, dtype)
            }
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
    /// Builds an augmenter: `preset` "cifar" or "imagenet", whose settings `settings`
    /// (a dict) overrides; `mixing` a folder, or None for `fractals` generated pictures
    /// (seeded by `seed` alone, so every rank and worker mixes with the same pictures) or
    /// the `pictures` of a pickled augmenter; `ordinal` a CUDA device or None for the CPU;
    /// `stream_seed` the seed of the random stream (the seed with rank and worker folded
    /// in). The device is checked before the mixing set is built.
    #[new]
    #[pyo3(signature = (preset, mixing, seed, stream_seed, ordinal, fractals, settings, threads=None, pictures=None, progress=true))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        preset: &str,
        mixing: Option<String>,
        seed: u64,
        stream_seed: u64,
        ordinal: Option<usize>,
        fractals: usize,
        settings: &Bound<'_, pyo3::types::PyDict>,
        threads: Option<usize>,
        pictures: Option<Pictures>,
        progress: bool,
    ) -> PyResult<Self> {
        let config = configure(preset, settings)?;
        if threads == Some(0) {
            return Err(PyValueError::new_err("threads must be at least 1, got 0"));
        }
        let mut gpu = match ordinal {
            Some(o) => Some(CudaExecutor::new(&config, o).map_err(err)?),
            None => None,
        };
        let mut pool = Pool::new(threads);
        let resize = config.mixing_resize;
        let mixing = match (mixing, pictures) {
            (Some(dir), _) => {
                let pool = pool.get()?;
                py.detach(|| pool.install(|| MixingSet::from_dir(dir.as_ref(), resize)))
            }
            (None, Some((sizes, bytes))) => carried(&sizes, &bytes),
            (None, None) => {
                let pool = pool.get()?;
                py.detach(|| pool.install(|| render_fractals(fractals, resize, seed, progress)))
            }
        }
        .map_err(err)?;
        if let Some(g) = &mut gpu {
            g.set_mixing(&mixing).map_err(err)?;
        }
        let inner = Inner {
            planner: Planner::new(&config, stream_seed).map_err(err)?,
            cpu: CpuExecutor::new(&config).map_err(err)?,
            config,
            mixing,
            gpu,
            pool,
        };
        Ok(Augmenter {
            inner: Mutex::new(inner),
        })
    }

    /// Starts the random stream of `stream_seed` at the current position (a DataLoader
    /// worker folds its id into the seed at its first batch).
    fn reseed(&self, py: Python<'_>, stream_seed: u64) -> PyResult<()> {
        let mut me = self.lock(py);
        let position = me.planner.position();
        let mut planner = Planner::new(&me.config, stream_seed).map_err(err)?;
        planner.seek(position);
        me.planner = planner;
        Ok(())
    }

    /// CPU threads: the number asked for, or None for rayon's default (all cores, or
    /// RAYON_NUM_THREADS).
    #[getter]
    fn threads(&self, py: Python<'_>) -> Option<usize> {
        self.lock(py).pool.threads
    }

    /// Uses `threads` CPU threads from the next batch on.
    #[setter]
    fn set_threads(&self, py: Python<'_>, threads: Option<usize>) -> PyResult<()> {
        if threads == Some(0) {
            return Err(PyValueError::new_err("threads must be at least 1, got 0"));
        }
        self.lock(py).pool.set_threads(threads);
        Ok(())
    }

    /// The mixing pictures as stored, `([(width, height), ...], bytes)`: what a pickled
    /// augmenter carries instead of rendering its fractals again.
    fn pictures<'py>(&self, py: Python<'py>) -> (Vec<(usize, usize)>, Bound<'py, PyBytes>) {
        let me = self.lock(py);
        (
            me.mixing.sizes().to_vec(),
            PyBytes::new(py, me.mixing.bytes()),
        )
    }

    /// Number of mixing pictures.
    #[getter]
    fn mixing_len(&self, py: Python<'_>) -> usize {
        self.lock(py).mixing.len()
    }

    /// Output side.
    #[getter]
    fn size(&self, py: Python<'_>) -> usize {
        let me = self.lock(py);
        me.config.size
    }

    /// Per-channel normalization mean.
    #[getter]
    fn mean(&self, py: Python<'_>) -> Vec<f32> {
        let me = self.lock(py);
        me.config.mean.to_vec()
    }

    /// Per-channel normalization standard deviation.
    #[getter]
    fn std(&self, py: Python<'_>) -> Vec<f32> {
        let me = self.lock(py);
        me.config.std.to_vec()
    }

    /// Index of the next sample of the random stream.
    #[getter]
    fn position(&self, py: Python<'_>) -> u64 {
        let me = self.lock(py);
        me.planner.position()
    }

    /// Moves the random stream to sample `index` (to resume a run from a checkpoint).
    #[setter]
    fn set_position(&self, py: Python<'_>, index: u64) {
        let mut me = self.lock(py);
        me.planner.seek(index);
    }

    /// Augments an N x H x W x 3 uint8 array on the host; returns N x 3 x S x S float32
    /// (`dtype` "float32") or float16.
    fn augment_numpy<'py>(
        &self,
        py: Python<'py>,
        batch: PyReadonlyArray4<'py, u8>,
        dtype: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut me = self.lock(py);
        let dtype = dtype_of(dtype)?;
        let images = batch_views(&batch)?;
        let tensor = me.augment_host(py, &images, dtype)?;
        to_numpy(py, tensor)
    }

    /// Augments a list of H x W x 3 uint8 arrays of any sizes (the imagenet preset crops
    /// each); returns N x 3 x S x S float32 or float16.
    fn augment_images_numpy<'py>(
        &self,
        py: Python<'py>,
        images: Vec<PyReadonlyArray3<'py, u8>>,
        dtype: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut me = self.lock(py);
        let dtype = dtype_of(dtype)?;
        let images = views_of(&images)?;
        let tensor = me.augment_host(py, &images, dtype)?;
        to_numpy(py, tensor)
    }

    /// Augments a list of host images of any sizes on this CUDA device into a caller's
    /// buffer (`dst`, `dst_bytes` long), ordered on the caller's stream.
    fn augment_images_into(
        &self,
        py: Python<'_>,
        images: Vec<PyReadonlyArray3<'_, u8>>,
        dst: u64,
        dst_bytes: usize,
        stream: u64,
        dtype: &str,
    ) -> PyResult<()> {
        let mut me = self.lock(py);
        let dtype = dtype_of(dtype)?;
        let images = images_of(&images)?;
        let sizes = Rgb8Image::sizes(&images);
        me.on_gpu(py, &sizes, |gpu, plan| {
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
        &self,
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
        let mut me = self.lock(py);
        let dtype = dtype_of(dtype)?;
        let sizes = vec![(w, h); n];
        me.on_gpu(py, &sizes, |gpu, plan| {
            let raw = stream as usize as RawStream;
            // SAFETY: the caller (pixmix/__init__.py) passes torch tensors' addresses of
            // the sizes given, on this device, ordered by the caller's current stream.
            unsafe { gpu.augment_device_batch(plan, src, &sizes, dtype, dst, dst_bytes, raw) }
        })
    }

    /// The stream this augmenter's GPU work runs on (a CUstream address for a DLPack
    /// producer's `__dlpack__(stream=...)`), or None on the CPU.
    #[getter]
    fn stream(&self, py: Python<'_>) -> Option<u64> {
        let me = self.lock(py);
        me.gpu.as_ref().map(|g| g.device().raw_stream() as u64)
    }

    /// Augments a list of H x W x 3 uint8 host arrays into a DLPack [`Batch`]: in device
    /// memory when this augmenter has a GPU, else on the host.
    fn augment_images_dlpack(
        &self,
        py: Python<'_>,
        images: Vec<PyReadonlyArray3<'_, u8>>,
        dtype: &str,
    ) -> PyResult<Batch> {
        let mut me = self.lock(py);
        let dtype = dtype_of(dtype)?;
        let images = images_of(&images)?;
        let s = me.config.size;
        let shape = [images.len(), 3, s, s];
        let sizes = Rgb8Image::sizes(&images);
        let storage = me.planned(py, &sizes, |e, plan| match e.gpu.as_deref_mut() {
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
        &self,
        py: Python<'_>,
        capsule: &Bound<'_, PyAny>,
        dtype: &str,
    ) -> PyResult<Batch> {
        let mut me = self.lock(py);
        let dtype = dtype_of(dtype)?;
        let input = dlpack::import(capsule)?;
        let ordinal = me.gpu.as_ref().map(|g| g.device().info().ordinal);
        if input.device.0 != DEVICE_CUDA || Some(input.device.1 as usize) != ordinal {
            return Err(PyValueError::new_err(format!(
                "the batch is on DLPack device {:?}; this augmenter runs on {}",
                input.device,
                ordinal.map_or("the CPU".into(), |o| format!("CUDA device {o}"))
            )));
        }
        let [n, h, w] = input.shape;
        let sizes = vec![(w, h); n];
        let s = me.config.size;
        let src = input.ptr;
        let buffer = me.on_gpu(py, &sizes, |gpu, plan| {
            // SAFETY: the producer made the batch ready on this executor's stream (the
            // front passes it to `__dlpack__`), and `input` keeps it alive and unchanged
            // until the buffer's kernels are done (Storage's drop waits for them).
            unsafe { gpu.augment_device_to_buffer(plan, src, &sizes, dtype) }
        });
        let buffer = buffer.inspect_err(|_| {
            // A batch that failed half-way may have queued reads of the input: let them
            // finish before the producer gets it back.
            if let Some(gpu) = &me.gpu {
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

/// The mixing set a pickled augmenter carried.
fn carried(sizes: &[(usize, usize)], bytes: &[u8]) -> pixmix::Result<MixingSet> {
    let mut images = Vec::with_capacity(sizes.len());
    let mut at = 0usize;
    for &(w, h) in sizes {
        let len = w.saturating_mul(h).saturating_mul(3);
        let data = bytes.get(at..at.saturating_add(len)).ok_or_else(|| {
            pixmix::Error::MixingSet("the carried pictures are shorter than their sizes".into())
        })?;
        images.push(Rgb8Image::new(w, h, data.to_vec())?);
        at += len;
    }
    if at != bytes.len() {
        return Err(pixmix::Error::MixingSet(
            "the carried pictures are longer than their sizes".into(),
        ));
    }
    MixingSet::from_resized(images)
}

/// `count` fractal flames from `seed`, with a progress line on standard error once the
/// rendering has taken more than a second.
fn render_fractals(
    count: usize,
    size: usize,
    seed: u64,
    progress: bool,
) -> pixmix::Result<MixingSet> {
    let start = Instant::now();
    let shown = Cell::new(false);
    let set = MixingSet::fractals_with_progress(count, size, seed, |accepted, _| {
        if progress && start.elapsed().as_secs_f64() > 1.0 {
            shown.set(true);
            eprint!("\rpixmix: rendering {count} fractal flames: {accepted}/{count}");
        }
    });
    if shown.get() {
        eprintln!();
    }
    set
}

/// The seed of the random stream of `rank` (or of a DataLoader worker) from `seed`.
#[pyfunction]
fn rank_seed(seed: u64, rank: u64) -> u64 {
    pixmix::plan::rank_seed(seed, rank)
}

/// The extension module.
#[pymodule]
fn _pixmix(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Augmenter>()?;
    m.add_class::<augmix::AugMixer>()?;
    m.add_class::<Batch>()?;
    m.add_function(wrap_pyfunction!(rank_seed, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
