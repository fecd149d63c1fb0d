//! The CUDA kernels' code: the compiled fatbin or the source for NVRTC, and the same
//! stages compiled for the host ([`HostKernelExecutor`]), which proves the GPU arithmetic
//! on machines without a GPU.

use crate::augmix::staging::{AugMixArgs, AugMixBuffers, AugMixLaunch, stage_augmix};
use crate::augmix::{AugMixConfig, AugMixPlan};
use crate::config::Config;
use crate::cpu::check_batch;
use crate::error::Result;
use crate::fractal::device::{FlameArgs, FlameGenome, SCRATCH_PER_IMAGE, points};
use crate::image::RgbImage;
use crate::mixing_set::MixingSet;
use crate::plan::BatchPlan;
use crate::staging::{
    KernelArgs, ROUND_TABLE_FLOATS, TABLE_STRIDE, dtype_code, picture_meta, stage,
};
use crate::tensor::{Dtype, Tensor, TensorData};

/// The kernel source with its headers inlined (compiled by NVRTC when no fatbin was built).
pub const SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/pixmix_kernels.cu"));

/// The fatbin nvcc built (compute_80 PTX and sm_90 code), if nvcc was found at build time.
#[cfg(pixmix_fatbin)]
pub const FATBIN: Option<&[u8]> = Some(include_bytes!(concat!(env!("OUT_DIR"), "/pixmix.fatbin")));
/// The fatbin nvcc built, if nvcc was found at build time.
#[cfg(not(pixmix_fatbin))]
pub const FATBIN: Option<&[u8]> = None;

/// Names of the kernels, in launch order.
pub const KERNEL_NAMES: [&str; 10] = [
    "pixmix_train_pass1_kernel",
    "pixmix_train_pass2_kernel",
    "pixmix_stats_kernel",
    "pixmix_pixel_kernel",
    "pixmix_flame_walk_kernel",
    "pixmix_flame_nref_kernel",
    "pixmix_flame_tonemap_kernel",
    "pixmix_augmix_stats_kernel",
    "pixmix_augmix_step_kernel",
    "pixmix_augmix_pixel_kernel",
];

unsafe extern "C" {
    fn pixmix_host_run(args: *const KernelArgs);
    fn pixmix_host_flames(args: *const FlameArgs);
    fn pixmix_host_pow(x: f32, e: f32) -> f32;
    fn pixmix_host_log2(x: f64) -> f64;
    fn pixmix_host_exp2(y: f64) -> f64;
    fn pixmix_host_f16(v: f32) -> u16;
    fn pixmix_host_bf16(v: f32) -> u16;
    fn pixmix_host_layout(out: *mut u64);
    fn pixmix_augmix_host_run(
        train: *const KernelArgs,
        args: *const AugMixArgs,
        launches: *const AugMixLaunch,
        count: u32,
    );
    fn pixmix_host_augmix_layout(out: *mut u64);
    fn pixmix_host_dmul(a: u64, b: u64) -> u64;
    fn pixmix_host_dadd(a: u64, b: u64) -> u64;
    fn pixmix_host_bilinear(pixels: *const u8, dx: u64, dy: u64, out: *mut u8);
    fn pixmix_host_affine_point(
        w: i32,
        h: i32,
        m: *const u64,
        x: i32,
        y: i32,
        whole: *mut i64,
        weights: *mut u64,
    ) -> bool;
    fn pixmix_host_affine(
        img: *const u8,
        w: i32,
        h: i32,
        m: *const u64,
        x: i32,
        y: i32,
        out: *mut u8,
    );
    fn pixmix_host_fast_matrix(m: *const u64, fixed: *mut i64) -> u32;
    fn pixmix_host_affine_exact(
        img: *const u8,
        w: i32,
        h: i32,
        m: *const u64,
        x: i32,
        y: i32,
        out: *mut u8,
    );
    fn pixmix_host_affine_fast(
        img: *const u8,
        w: i32,
        h: i32,
        m: *const u64,
        x: i32,
        y: i32,
        out: *mut u8,
    ) -> bool;
    fn pixmix_host_fast_lerp(
        a: i32,
        b: i32,
        c: i32,
        d: i32,
        dx: i64,
        dy: i64,
        ex: i64,
        ey: i64,
        bound: *mut i64,
    ) -> i64;
    fn pixmix_host_affine_fast_point(
        w: i32,
        h: i32,
        m: *const u64,
        x: i32,
        y: i32,
        out: *mut i64,
    ) -> bool;
}

/// The kernels' `pixmix_pow`, compiled for the host.
pub fn host_pow(x: f32, e: f32) -> f32 {
    // SAFETY: a pure function of two floats.
    unsafe { pixmix_host_pow(x, e) }
}

/// The kernels' `pixmix_log2` (the flames' tone mapping, in double), compiled for the host.
pub fn host_log2(x: f64) -> f64 {
    // SAFETY: a pure function of a double.
    unsafe { pixmix_host_log2(x) }
}

/// The kernels' `pixmix_exp2` (the flames' tone mapping, in double), compiled for the host.
pub fn host_exp2(y: f64) -> f64 {
    // SAFETY: a pure function of a double.
    unsafe { pixmix_host_exp2(y) }
}

/// The kernels' f32-to-f16 conversion (bits), compiled for the host.
pub fn host_f16(v: f32) -> u16 {
    // SAFETY: a pure function of a float.
    unsafe { pixmix_host_f16(v) }
}

/// The kernels' f32-to-bf16 conversion (bits), compiled for the host.
pub fn host_bf16(v: f32) -> u16 {
    // SAFETY: a pure function of a float.
    unsafe { pixmix_host_bf16(v) }
}

/// The kernels' integer emulation of the double product `a * b`, compiled for the host
/// (IEEE for finite operands; NaN for a non-finite one).
#[doc(hidden)]
pub fn host_dmul(a: f64, b: f64) -> f64 {
    // SAFETY: a pure function of two integers.
    f64::from_bits(unsafe { pixmix_host_dmul(a.to_bits(), b.to_bits()) })
}

/// The kernels' integer emulation of the double sum `a + b`, compiled for the host (IEEE
/// for finite operands; NaN for a non-finite one).
#[doc(hidden)]
pub fn host_dadd(a: f64, b: f64) -> f64 {
    // SAFETY: a pure function of two integers.
    f64::from_bits(unsafe { pixmix_host_dadd(a.to_bits(), b.to_bits()) })
}

/// The kernels' bilinear interpolation of the pixels `[p00, p01, p10, p11]` (row above,
/// row below) with weights `dx / 2^53` and `dy / 2^53` (each at most 2^53), compiled for
/// the host.
#[doc(hidden)]
pub fn host_bilinear(pixels: [[u8; 3]; 4], dx: u64, dy: u64) -> [u8; 3] {
    assert!(dx <= 1 << 53 && dy <= 1 << 53, "weights above 1");
    let mut out = [0u8; 3];
    // SAFETY: reads the twelve bytes, writes three.
    unsafe { pixmix_host_bilinear(pixels.as_flattened().as_ptr(), dx, dy, out.as_mut_ptr()) };
    out
}

/// Where the kernels' affine sampler reads for output pixel (x, y) of a `w` x `h` image
/// under `m`, compiled for the host: `None` outside the image, else the whole pixels at or
/// below the input point less a half and the weights toward the next ones, in units of
/// 2^-53.
#[doc(hidden)]
pub fn host_affine_point(
    w: i32,
    h: i32,
    m: &[f64; 6],
    x: i32,
    y: i32,
) -> Option<([i64; 2], [u64; 2])> {
    assert!(w > 0 && h > 0 && (0..w).contains(&x) && (0..h).contains(&y));
    let bits = m.map(f64::to_bits);
    let (mut whole, mut weights) = ([0i64; 2], [0u64; 2]);
    // SAFETY: reads six doubles' bits, writes two values to each array.
    let inside = unsafe {
        pixmix_host_affine_point(
            w,
            h,
            bits.as_ptr(),
            x,
            y,
            whole.as_mut_ptr(),
            weights.as_mut_ptr(),
        )
    };
    inside.then_some((whole, weights))
}

/// The kernels' bilinear sample of the affine map `m` at output pixel (x, y) of `img`,
/// compiled for the host.
#[doc(hidden)]
pub fn host_affine(img: &RgbImage, m: &[f64; 6], x: usize, y: usize) -> [u8; 3] {
    let (w, h) = (img.width(), img.height());
    assert!(x < w && y < h && w <= i32::MAX as usize / 3 && h <= i32::MAX as usize);
    let bits = m.map(f64::to_bits);
    let mut out = [0u8; 3];
    // SAFETY: the image holds w * h pixels of three bytes, which is all the function
    // reads; it writes three bytes.
    unsafe {
        pixmix_host_affine(
            img.as_bytes().as_ptr(),
            w as i32,
            h as i32,
            bits.as_ptr(),
            x as i32,
            y as i32,
            out.as_mut_ptr(),
        )
    };
    out
}

/// The kernels' `pixmix_fast_matrix`: the affine matrix `m` in fixed point for the fast
/// path, and its flags (what `OpDesc` carries).
pub fn host_fast_matrix(m: &[f64; 6]) -> ([i64; 6], u32) {
    let bits = m.map(f64::to_bits);
    let mut fixed = [0i64; 6];
    // SAFETY: reads six values, writes six.
    let flags = unsafe { pixmix_host_fast_matrix(bits.as_ptr(), fixed.as_mut_ptr()) };
    (fixed, flags)
}

/// Which of the kernels' affine samplers [`host_affine_with`] runs.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AffinePath {
    /// `pixmix_affine`: the fast path, or the exact one where it declines.
    Kernel,
    /// `pixmix_affine_exact` alone.
    Exact,
    /// `pixmix_affine_fast` alone.
    Fast,
}

/// Output pixel (x, y) of `img` under the affine map `m` by one of the kernels' samplers,
/// compiled for the host: `None` where the fast path alone declines.
#[doc(hidden)]
pub fn host_affine_with(
    path: AffinePath,
    img: &RgbImage,
    m: &[f64; 6],
    x: usize,
    y: usize,
) -> Option<[u8; 3]> {
    let (w, h) = (img.width(), img.height());
    assert!(x < w && y < h && w <= i32::MAX as usize / 3 && h <= i32::MAX as usize);
    let bits = m.map(f64::to_bits);
    let mut out = [0u8; 3];
    let args = (
        img.as_bytes().as_ptr(),
        w as i32,
        h as i32,
        bits.as_ptr(),
        x as i32,
        y as i32,
        out.as_mut_ptr(),
    );
    // SAFETY: the image holds w * h pixels of three bytes, which is all the functions
    // read; they write three bytes.
    let decided = unsafe {
        match path {
            AffinePath::Kernel => {
                pixmix_host_affine(args.0, args.1, args.2, args.3, args.4, args.5, args.6);
                true
            }
            AffinePath::Exact => {
                pixmix_host_affine_exact(args.0, args.1, args.2, args.3, args.4, args.5, args.6);
                true
            }
            AffinePath::Fast => {
                pixmix_host_affine_fast(args.0, args.1, args.2, args.3, args.4, args.5, args.6)
            }
        }
    };
    decided.then_some(out)
}

/// The affine fast path's input point for output pixel (x, y) of a `w` x `h` image under
/// `m`, compiled for the host: `[X, X's bound, Y, Y's bound]` in units of 2^-40, or `None`
/// outside the fast path's range.
#[doc(hidden)]
pub fn host_affine_fast_point(w: i32, h: i32, m: &[f64; 6], x: i32, y: i32) -> Option<[i64; 4]> {
    assert!(w > 0 && h > 0 && (0..w).contains(&x) && (0..h).contains(&y));
    let bits = m.map(f64::to_bits);
    let mut out = [0i64; 4];
    // SAFETY: reads six doubles' bits, writes four values.
    let ok = unsafe { pixmix_host_affine_fast_point(w, h, bits.as_ptr(), x, y, out.as_mut_ptr()) };
    ok.then_some(out)
}

/// The affine fast path's value of one channel with bytes `[a, b, c, d]` (row above, row
/// below), weights `dx`, `dy` and their bounds `ex`, `ey` (all in units of 2^-40, as
/// [`host_affine_fast_point`] gives them), compiled for the host: the value and its bound,
/// in units of 2^-40.
#[doc(hidden)]
pub fn host_fast_lerp([a, b, c, d]: [u8; 4], dx: i64, dy: i64, ex: i64, ey: i64) -> (i64, i64) {
    assert!((0..=1 << 40).contains(&dx) && (0..=1 << 40).contains(&dy));
    assert!((0..1 << 15).contains(&ex) && (0..1 << 15).contains(&ey));
    let mut bound = 0;
    // SAFETY: a pure function of its arguments; writes one value.
    let v = unsafe {
        pixmix_host_fast_lerp(
            a as i32, b as i32, c as i32, d as i32, dx, dy, ex, ey, &mut bound,
        )
    };
    (v, bound)
}

/// Sizes and offsets of the shared structs as the C++ compiler lays them out.
pub fn host_layout() -> [u64; 32] {
    let mut out = [0u64; 32];
    // SAFETY: the function writes exactly 32 values.
    unsafe { pixmix_host_layout(out.as_mut_ptr()) };
    out
}

/// Sizes and offsets of the AugMix structs as the C++ compiler lays them out.
pub fn host_augmix_layout() -> [u64; 16] {
    let mut out = [0u64; 16];
    // SAFETY: the function writes exactly 16 values.
    unsafe { pixmix_host_augmix_layout(out.as_mut_ptr()) };
    out
}

/// Runs the CUDA kernels' stages on the CPU, one element at a time, on one thread: slow,
/// and meant for verification. Given the same plan it must equal
/// [`CpuExecutor`](crate::CpuExecutor), and the GPU must equal it.
#[derive(Debug)]
pub struct HostKernelExecutor {
    config: Config,
}

impl HostKernelExecutor {
    /// An executor for `config`.
    pub fn new(config: &Config) -> Result<Self> {
        config.validate()?;
        Ok(HostKernelExecutor {
            config: config.clone(),
        })
    }

    /// Augments a batch as the kernels do.
    pub fn augment(
        &self,
        plan: &BatchPlan,
        images: &[RgbImage],
        mixing: &MixingSet,
        dtype: Dtype,
    ) -> Result<Tensor> {
        let c = &self.config;
        let sizes = RgbImage::sizes(images);
        check_batch(c, plan, &sizes, mixing.sizes())?;
        let staged = stage(c, plan, &sizes, false)?;
        let image_bytes: Vec<u8> = images
            .iter()
            .flat_map(|i| i.as_bytes().iter().copied())
            .collect();
        let pictures = picture_meta(mixing);
        let mut temp = vec![0u8; staged.temp_bytes.max(1)];
        let mut orig = vec![0u8; plan.len() * c.size * c.size * 3];
        let mut tables = vec![0u8; plan.len() * TABLE_STRIDE];
        let mut round_tables = vec![0f32; plan.rounds.len() * ROUND_TABLE_FLOATS];
        let mut out = Tensor::zeros([plan.len(), 3, c.size, c.size], dtype);
        let out_ptr = match &mut out.data {
            TensorData::F32(v) => v.as_mut_ptr() as u64,
            TensorData::F16(v) => v.as_mut_ptr() as u64,
            TensorData::Bf16(v) => v.as_mut_ptr() as u64,
        };
        let args = KernelArgs {
            samples: plan.samples.as_ptr() as u64,
            rounds: plan.rounds.as_ptr() as u64,
            descs: staged.descs.as_ptr() as u64,
            images: image_bytes.as_ptr() as u64,
            image_meta: staged.image_meta.as_ptr() as u64,
            temp: temp.as_mut_ptr() as u64,
            orig: orig.as_mut_ptr() as u64,
            tables: tables.as_mut_ptr() as u64,
            mixing: mixing.bytes().as_ptr() as u64,
            mixing_meta: pictures.as_ptr() as u64,
            out: out_ptr,
            n: plan.len() as u32,
            size: c.size as u32,
            dtype: dtype_code(dtype),
            reserved: 0,
            mean: c.mean,
            std: c.std,
            coeffs: staged.coeffs.as_ptr() as u64,
            round_tables: round_tables.as_mut_ptr() as u64,
        };
        // SAFETY: every pointer addresses a live buffer of the size the stages index
        // (checked plan, staged offsets), and nothing else touches them during the call.
        unsafe { pixmix_host_run(&args) };
        Ok(out)
    }
}

/// Renders flames with the CUDA kernels' code compiled for the host (one thread): the
/// verification twin of the GPU renderer. Picture i is genome i with seed i, at `size` x
/// `size` and `quality` points per pixel.
pub fn host_flames(
    genomes: &[FlameGenome],
    seeds: &[u64],
    size: usize,
    quality: f64,
) -> Result<Vec<RgbImage>> {
    if genomes.len() != seeds.len() {
        return Err(crate::Error::Input(format!(
            "{} genomes but {} seeds",
            genomes.len(),
            seeds.len()
        )));
    }
    let n = genomes.len();
    let side = 2 * size;
    let mut buckets = vec![0u32; n * side * side * 4];
    let mut scratch = vec![0u32; n * SCRATCH_PER_IMAGE];
    let mut nref = vec![0u32; n];
    let mut out = vec![0u8; n * size * size * 3];
    let args = FlameArgs {
        genomes: genomes.as_ptr() as u64,
        seeds: seeds.as_ptr() as u64,
        buckets: buckets.as_mut_ptr() as u64,
        scratch: scratch.as_mut_ptr() as u64,
        nref: nref.as_mut_ptr() as u64,
        out: out.as_mut_ptr() as u64,
        points: points(size, quality),
        images: n as u32,
        size: size as u32,
    };
    // SAFETY: every buffer is sized for n pictures of `size` as the stages index them.
    unsafe { pixmix_host_flames(&args) };
    out.chunks_exact(size * size * 3)
        .map(|c| RgbImage::new(size, size, c.to_vec()))
        .collect()
}

/// Runs the AugMix kernels' stages on the CPU, one element at a time, on one thread, in
/// the CUDA executor's launch order: the verification twin of the GPU path, equal to
/// [`AugMixExecutor`](crate::AugMixExecutor) for the same plans.
#[derive(Debug)]
pub struct HostAugMixExecutor {
    config: AugMixConfig,
}

impl HostAugMixExecutor {
    /// An executor for `config`.
    pub fn new(config: &AugMixConfig) -> Result<Self> {
        config.validate()?;
        Ok(HostAugMixExecutor {
            config: config.clone(),
        })
    }

    /// One AugMix sample per image, as [`AugMixExecutor::augment`](crate::AugMixExecutor::augment).
    pub fn augment(
        &self,
        plans: &[AugMixPlan],
        images: &[RgbImage],
        dtype: Dtype,
    ) -> Result<Tensor> {
        crate::augmix::check_plans(&self.config, plans, &RgbImage::sizes(images))?;
        self.run(plans, images, dtype, false)
    }

    /// The JSD views, as [`AugMixExecutor::augment_jsd`](crate::AugMixExecutor::augment_jsd).
    pub fn augment_jsd(
        &self,
        plans: &[AugMixPlan],
        images: &[RgbImage],
        dtype: Dtype,
    ) -> Result<Tensor> {
        crate::augmix::check_jsd(&self.config, plans, &RgbImage::sizes(images))?;
        self.run(plans, images, dtype, true)
    }

    fn run(
        &self,
        plans: &[AugMixPlan],
        images: &[RgbImage],
        dtype: Dtype,
        jsd: bool,
    ) -> Result<Tensor> {
        let c = &self.config.base;
        let s = c.size;
        let batch = stage_augmix(&self.config, plans, &RgbImage::sizes(images), jsd, false)?;
        let image_bytes: Vec<u8> = images
            .iter()
            .flat_map(|i| i.as_bytes().iter().copied())
            .collect();
        let mut temp = vec![0u8; batch.staged.temp_bytes.max(1)];
        let mut slots = vec![0u8; batch.image_bytes(&self.config).max(1)];
        let mut tables = vec![0u8; batch.table_bytes().max(1)];
        let mut out = Tensor::zeros([batch.views.len(), 3, s, s], dtype);
        let out_ptr = match &mut out.data {
            TensorData::F32(v) => v.as_mut_ptr() as u64,
            TensorData::F16(v) => v.as_mut_ptr() as u64,
            TensorData::Bf16(v) => v.as_mut_ptr() as u64,
        };
        let train = KernelArgs {
            samples: batch.train.samples.as_ptr() as u64,
            descs: 0,
            rounds: 0,
            images: image_bytes.as_ptr() as u64,
            image_meta: batch.staged.image_meta.as_ptr() as u64,
            temp: temp.as_mut_ptr() as u64,
            orig: slots.as_mut_ptr() as u64,
            tables: 0,
            mixing: 0,
            mixing_meta: 0,
            out: 0,
            n: images.len() as u32,
            size: s as u32,
            dtype: dtype_code(dtype),
            reserved: 0,
            mean: c.mean,
            std: c.std,
            coeffs: batch.staged.coeffs.as_ptr() as u64,
            // Only the train passes run with these arguments.
            round_tables: 0,
        };
        let buffers = AugMixBuffers {
            descs: batch.descs.as_ptr() as u64,
            steps: batch.steps.as_ptr() as u64,
            stats: batch.stats.as_ptr() as u64,
            views: batch.views.as_ptr() as u64,
            images: slots.as_mut_ptr() as u64,
            tables: tables.as_mut_ptr() as u64,
            out: out_ptr,
        };
        let args = batch.args(&self.config, buffers, dtype_code(dtype));
        // SAFETY: every pointer addresses a live buffer of the size the stages index (checked
        // plans, staged offsets and slots), and nothing else touches them during the call.
        unsafe {
            pixmix_augmix_host_run(
                &train,
                &args,
                batch.launches.as_ptr(),
                batch.launches.len() as u32,
            )
        };
        Ok(out)
    }
}
