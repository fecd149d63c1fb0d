//! Fractal flames on the GPU: the same genomes, verdicts and pictures as the CPU renderer
//! (the kernels mirror it operation for operation), with the final pictures left in device
//! memory.

use cudarc::driver::{CudaSlice, DevicePtr, DeviceRepr, LaunchConfig, PushKernelArg};

use super::device::{CudaDevice, cuda};
use crate::error::{Error, Result};
use crate::fractal::device::{FlameArgs, FlameGenome, SCRATCH_PER_IMAGE, points};
use crate::fractal::{FractalSettings, FractalStats, Genome, Metrics, frame, preview_size};
use crate::image::RgbImage;

// SAFETY: FlameArgs is #[repr(C)] plain old data, laid out as kernels/flame.cuh declares.
unsafe impl DeviceRepr for FlameArgs {}

/// Genomes judged per preview launch.
const PREVIEW_BATCH: usize = 128;
/// Pictures rendered per final launch.
const RENDER_BATCH: usize = 64;

/// Renders `genomes` (with `seeds`) at `size` on `device`; returns the pictures back to back
/// (size x size x 3 bytes each) in device memory.
pub fn render_flames(
    device: &CudaDevice,
    genomes: &[FlameGenome],
    seeds: &[u64],
    size: usize,
    quality: f64,
) -> Result<CudaSlice<u8>> {
    let stream = &device.stream;
    let n = genomes.len();
    if n == 0 || n != seeds.len() {
        return Err(Error::Input(format!(
            "{n} genomes and {} seeds",
            seeds.len()
        )));
    }
    let side = 2 * size;
    let alloc = |what: &str, bytes: usize| {
        stream
            .alloc_zeros::<u8>(bytes.max(1))
            .map_err(|e| Error::Cuda(format!("allocating {bytes} bytes for {what}: {e}")))
    };
    let d_genomes = stream
        .clone_htod(bytemuck::cast_slice::<_, u8>(genomes))
        .map_err(cuda("uploading genomes"))?;
    let d_seeds = stream.clone_htod(seeds).map_err(cuda("uploading seeds"))?;
    let buckets = alloc("flame histograms", n * side * side * 16)?;
    let scratch = alloc("count histograms", n * SCRATCH_PER_IMAGE * 4)?;
    let nref = alloc("tone-mapping references", n * 4)?;
    let out = alloc("flame pictures", n * size * size * 3)?;
    let ptr = |s: &CudaSlice<u8>| s.device_ptr(stream).0;
    let args = FlameArgs {
        genomes: ptr(&d_genomes),
        seeds: d_seeds.device_ptr(stream).0,
        buckets: ptr(&buckets),
        scratch: ptr(&scratch),
        nref: ptr(&nref),
        out: ptr(&out),
        points: points(size, quality),
        images: n as u32,
        size: size as u32,
    };
    let walkers = args
        .points
        .div_ceil(crate::fractal::device::WALKER_POINTS as u64);
    let block = 128u32;
    let launches = [
        (
            &device.kernels.flame_walk,
            (walkers.div_ceil(block as u64) as u32, n as u32),
        ),
        (&device.kernels.flame_nref, (n as u32, 1)),
        (
            &device.kernels.flame_tonemap,
            ((size * size).div_ceil(block as usize) as u32, n as u32),
        ),
    ];
    for (f, (gx, gy)) in launches {
        let cfg = LaunchConfig {
            grid_dim: (gx, gy, 1),
            block_dim: (block, 1, 1),
            shared_mem_bytes: 0,
        };
        let mut b = stream.launch_builder(f);
        b.arg(&args);
        // SAFETY: every address in `args` points at a buffer allocated above for n pictures.
        unsafe { b.launch(cfg) }.map_err(cuda("launching a flame kernel"))?;
    }
    // The inputs and scratch must outlive the kernels.
    stream.synchronize().map_err(cuda("rendering flames"))?;
    drop((d_genomes, d_seeds, buckets, scratch, nref));
    Ok(out)
}

/// Downloads `n` pictures of side `size` from `pictures`.
pub fn download(
    device: &CudaDevice,
    pictures: &CudaSlice<u8>,
    n: usize,
    size: usize,
) -> Result<Vec<RgbImage>> {
    let mut bytes = vec![0u8; n * size * size * 3];
    device
        .stream
        .memcpy_dtoh(&pictures.slice(0..bytes.len()), &mut bytes[..])
        .map_err(cuda("downloading pictures"))?;
    device
        .stream
        .synchronize()
        .map_err(cuda("downloading pictures"))?;
    bytes
        .chunks_exact(size * size * 3)
        .map(|c| RgbImage::new(size, size, c.to_vec()))
        .collect()
}

/// The genomes [`crate::fractal::generate`] accepts, in its order, judged on GPU-rendered
/// previews (equal to the CPU's), with their render seeds.
fn judge(
    device: &CudaDevice,
    count: usize,
    settings: &FractalSettings,
    seed: u64,
    progress: impl Fn(usize, usize),
) -> Result<(Vec<(FlameGenome, u64)>, FractalStats)> {
    settings.validate()?;
    let limit = count.saturating_mul(settings.max_attempts_per_picture);
    let mut accepted: Vec<(FlameGenome, u64)> = Vec::with_capacity(count);
    let mut stats = FractalStats::default();
    let mut index = 0u64;
    while accepted.len() < count {
        // Frame a batch of genomes on the host (cheap), preview the framed ones on the GPU.
        let mut batch = Vec::with_capacity(PREVIEW_BATCH);
        for _ in 0..PREVIEW_BATCH {
            let mut g = Genome::random(seed, index);
            let render_seed = crate::fractal::render_seed(seed, index);
            index += 1;
            let framed = frame(&mut g, render_seed);
            batch.push(if framed {
                Some((FlameGenome::new(&g)?, render_seed))
            } else {
                None
            });
        }
        let framed: Vec<(FlameGenome, u64)> = batch.iter().flatten().copied().collect();
        let verdicts = if framed.is_empty() {
            Vec::new()
        } else {
            let (genomes, seeds): (Vec<_>, Vec<_>) = framed.iter().copied().unzip();
            let psize = preview_size(settings.size);
            let previews =
                render_flames(device, &genomes, &seeds, psize, settings.preview_quality)?;
            download(device, &previews, genomes.len(), psize)?
                .iter()
                .map(|p| Metrics::of(p).failures(&settings.thresholds))
                .collect()
        };
        let mut verdict = verdicts.into_iter();
        for entry in batch {
            if accepted.len() == count {
                break;
            }
            if stats.accepted + stats.rejected >= limit {
                return Err(Error::Config(format!(
                    "only {} of {} tried genomes passed the thresholds; loosen them",
                    stats.accepted,
                    stats.accepted + stats.rejected
                )));
            }
            let judged = entry.map(|item| (item, verdict.next().unwrap_or([true; 5])));
            if stats.record(judged.map(|(_, f)| f))
                && let Some((item, _)) = judged
            {
                accepted.push(item);
            }
            progress(stats.accepted, stats.accepted + stats.rejected);
        }
    }
    Ok((accepted, stats))
}

/// [`crate::fractal::generate`] on the GPU: the same genomes in the same order, judged on
/// GPU-rendered previews (equal to the CPU's), so the accepted set is the CPU's. The final
/// pictures stay in device memory, back to back.
pub fn generate_on_device(
    device: &CudaDevice,
    count: usize,
    settings: &FractalSettings,
    seed: u64,
    progress: impl Fn(usize, usize),
) -> Result<(CudaSlice<u8>, FractalStats)> {
    let start = std::time::Instant::now();
    let (accepted, mut stats) = judge(device, count, settings, seed, progress)?;
    let size = settings.size;
    let picture = size * size * 3;
    let mut pictures = device
        .stream
        .alloc_zeros::<u8>(count * picture)
        .map_err(|e| {
            Error::Cuda(format!(
                "allocating {} bytes for the mixing set: {e}",
                count * picture
            ))
        })?;
    for (k, chunk) in accepted.chunks(RENDER_BATCH).enumerate() {
        let (genomes, seeds): (Vec<_>, Vec<_>) = chunk.iter().copied().unzip();
        let rendered = render_flames(device, &genomes, &seeds, size, settings.quality)?;
        let at = k * RENDER_BATCH * picture;
        let len = chunk.len() * picture;
        device
            .stream
            .memcpy_dtod(
                &rendered.slice(0..len),
                &mut pictures.slice_mut(at..at + len),
            )
            .map_err(cuda("storing pictures"))?;
    }
    device
        .stream
        .synchronize()
        .map_err(cuda("rendering the mixing set"))?;
    stats.seconds = start.elapsed().as_secs_f64();
    Ok((pictures, stats))
}

/// [`generate_on_device`], handing each picture to `sink(index, picture)` on the host as
/// soon as its batch of 64 is rendered, so host and device memory do not grow with
/// `count` (what `pixmix fractals --device cuda` writes). The pictures are the same.
pub fn generate_each_on_device(
    device: &CudaDevice,
    count: usize,
    settings: &FractalSettings,
    seed: u64,
    progress: impl Fn(usize, usize),
    mut sink: impl FnMut(usize, RgbImage) -> Result<()>,
) -> Result<FractalStats> {
    let start = std::time::Instant::now();
    let (accepted, mut stats) = judge(device, count, settings, seed, progress)?;
    let size = settings.size;
    for (k, chunk) in accepted.chunks(RENDER_BATCH).enumerate() {
        let (genomes, seeds): (Vec<_>, Vec<_>) = chunk.iter().copied().unzip();
        let rendered = render_flames(device, &genomes, &seeds, size, settings.quality)?;
        for (i, pic) in download(device, &rendered, chunk.len(), size)?
            .into_iter()
            .enumerate()
        {
            sink(k * RENDER_BATCH + i, pic)?;
        }
    }
    stats.seconds = start.elapsed().as_secs_f64();
    Ok(stats)
}
