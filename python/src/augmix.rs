//! The AugMix class of the extension: `pixmix::AugMix` behind the same lock, thread pool
//! and numpy conversions as the PixMix augmenter. `pixmix/__init__.py` adds the front.

use std::sync::{Mutex, MutexGuard};

use numpy::{PyReadonlyArray3, PyReadonlyArray4};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use pixmix::{AugMix, AugMixConfig, Dtype, ImageView, Tensor};

use crate::dlpack::Storage;
use crate::settings::configure_augmix;
use crate::{Batch, Pool, batch_views, dtype_of, err, lock, to_numpy, views_of};

/// An AugMix augmenter. See `pixmix.AugMix`. Safe to share between threads: calls take
/// turns (a lock, waited for without the GIL).
#[pyclass(module = "pixmix._pixmix")]
pub struct AugMixer {
    inner: Mutex<Inner>,
}

/// The augmenter's state, behind its lock.
struct Inner {
    augmix: AugMix,
    /// The CUDA device asked for, or None for the CPU.
    ordinal: Option<usize>,
    /// Whether a batch returns the three JSD views of every image.
    jsd: bool,
    pool: Pool,
}

/// An AugMix pipeline for `config` seeded with `stream_seed`, on the device `ordinal`
/// names (None: the CPU). Every (re)build goes through here.
fn build(config: AugMixConfig, stream_seed: u64, ordinal: Option<usize>) -> PyResult<AugMix> {
    let mut augmix = AugMix::new(config, stream_seed).map_err(err)?;
    if let Some(o) = ordinal {
        augmix.use_cuda(o).map_err(err)?;
    }
    Ok(augmix)
}

impl Inner {
    /// Augments `images` without the GIL on this process's thread pool: N samples, or with
    /// `jsd` the 3N views `[clean; aug1; aug2]`. A failed batch consumes no samples.
    fn run(&mut self, py: Python<'_>, images: &[ImageView<'_>], dtype: Dtype) -> PyResult<Tensor> {
        let pool = self.pool.get()?;
        let (augmix, jsd) = (&mut self.augmix, self.jsd);
        py.detach(|| {
            pool.install(|| match jsd {
                true => augmix.augment_jsd(images, dtype),
                false => augmix.augment(images, dtype),
            })
        })
        .map_err(err)
    }
}

impl AugMixer {
    fn lock(&self, py: Python<'_>) -> MutexGuard<'_, Inner> {
        lock(&self.inner, py)
    }
}

#[pymethods]
impl AugMixer {
    /// Builds an augmenter: `preset` "cifar" or "imagenet" (AugMix's released defaults),
    /// whose settings `settings` (a dict) overrides; `stream_seed` the seed of the random
    /// stream (the seed with rank and worker folded in); `ordinal` a CUDA device or None
    /// for the CPU; `jsd` whether a batch returns the three JSD views of every image.
    #[new]
    #[pyo3(signature = (preset, stream_seed, ordinal, settings, jsd=false, threads=None))]
    fn new(
        preset: &str,
        stream_seed: u64,
        ordinal: Option<usize>,
        settings: &Bound<'_, PyDict>,
        jsd: bool,
        threads: Option<usize>,
    ) -> PyResult<Self> {
        let config = configure_augmix(preset, settings)?;
        if threads == Some(0) {
            return Err(PyValueError::new_err("threads must be at least 1, got 0"));
        }
        let inner = Inner {
            augmix: build(config, stream_seed, ordinal)?,
            ordinal,
            jsd,
            pool: Pool::new(threads),
        };
        Ok(AugMixer {
            inner: Mutex::new(inner),
        })
    }

    /// Starts the random stream of `stream_seed` at the current position (a DataLoader
    /// worker folds its id into the seed at its first batch).
    fn reseed(&self, py: Python<'_>, stream_seed: u64) -> PyResult<()> {
        let mut me = self.lock(py);
        let position = me.augmix.planner().position();
        let mut augmix = build(me.augmix.config().clone(), stream_seed, me.ordinal)?;
        augmix.seek(position);
        me.augmix = augmix;
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

    /// Whether a batch returns the three JSD views of every image.
    #[getter]
    fn jsd(&self, py: Python<'_>) -> bool {
        self.lock(py).jsd
    }

    /// Output side.
    #[getter]
    fn size(&self, py: Python<'_>) -> usize {
        self.lock(py).augmix.config().base.size
    }

    /// Per-channel normalization mean.
    #[getter]
    fn mean(&self, py: Python<'_>) -> Vec<f32> {
        self.lock(py).augmix.config().base.mean.to_vec()
    }

    /// Per-channel normalization standard deviation.
    #[getter]
    fn std(&self, py: Python<'_>) -> Vec<f32> {
        self.lock(py).augmix.config().base.std.to_vec()
    }

    /// The settings in effect: width, depth, alpha, severity and all_ops.
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let config = self.lock(py).augmix.config().clone();
        let d = PyDict::new(py);
        d.set_item("width", config.width)?;
        d.set_item("depth", config.depth)?;
        d.set_item("alpha", config.alpha)?;
        d.set_item("severity", config.base.severity)?;
        d.set_item("all_ops", config.base.all_ops)?;
        Ok(d)
    }

    /// Index of the next sample of the random stream.
    #[getter]
    fn position(&self, py: Python<'_>) -> u64 {
        self.lock(py).augmix.planner().position()
    }

    /// Moves the random stream to sample `index` (to resume a run from a checkpoint).
    #[setter]
    fn set_position(&self, py: Python<'_>, index: u64) {
        self.lock(py).augmix.seek(index);
    }

    /// Augments an N x H x W x 3 uint8 array on the host; returns N (3N with the JSD views)
    /// x 3 x S x S float32 (`dtype` "float32") or float16.
    fn augment_numpy<'py>(
        &self,
        py: Python<'py>,
        batch: PyReadonlyArray4<'py, u8>,
        dtype: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut me = self.lock(py);
        let dtype = dtype_of(dtype)?;
        let images = batch_views(&batch)?;
        let tensor = me.run(py, &images, dtype)?;
        to_numpy(py, tensor)
    }

    /// Augments a list of H x W x 3 uint8 arrays of any sizes (the imagenet preset crops
    /// each); returns N (3N with the JSD views) x 3 x S x S float32 or float16.
    fn augment_images_numpy<'py>(
        &self,
        py: Python<'py>,
        images: Vec<PyReadonlyArray3<'py, u8>>,
        dtype: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut me = self.lock(py);
        let dtype = dtype_of(dtype)?;
        let images = views_of(&images)?;
        let tensor = me.run(py, &images, dtype)?;
        to_numpy(py, tensor)
    }

    /// Augments a list of H x W x 3 uint8 host arrays into a host DLPack [`Batch`] (any
    /// dtype, bfloat16 included).
    fn augment_images_dlpack(
        &self,
        py: Python<'_>,
        images: Vec<PyReadonlyArray3<'_, u8>>,
        dtype: &str,
    ) -> PyResult<Batch> {
        let mut me = self.lock(py);
        let dtype = dtype_of(dtype)?;
        let images = views_of(&images)?;
        let tensor = me.run(py, &images, dtype)?;
        let [n, c, h, w] = tensor.shape;
        Ok(Batch::new(Storage::Host(tensor), [n, c, h, w], dtype))
    }
}
