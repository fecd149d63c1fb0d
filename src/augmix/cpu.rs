//! [`AugMixExecutor`]: AugMix plans and pixels in, NCHW tensors out, on the CPU.

use std::cell::RefCell;

use rayon::prelude::*;

use super::AugMixConfig;
use super::chain;
use super::plan::{AugMixPlan, MAX_DEPTH, MAX_WIDTH};
use crate::cpu::{CpuExecutor, check_op, check_train, thread_pool};
use crate::error::{Error, Result};
use crate::image::{AsImageView, ImageView, RgbImage};
use crate::mix::{normalize, tensorize};
use crate::tensor::{Dtype, OutputElement, Tensor, TensorData};

/// Runs AugMix on the CPU, samples spread over threads with rayon. The output depends only
/// on (plans, pixels), never on the number of threads.
#[derive(Debug)]
pub struct AugMixExecutor {
    config: AugMixConfig,
    train: CpuExecutor,
    pool: Option<rayon::ThreadPool>,
}

/// What one output block of 3 x size x size holds.
#[derive(Clone, Copy)]
enum View<'a> {
    /// `preprocess(orig)`, the train transform of this plan's image.
    Clean(&'a AugMixPlan),
    /// An AugMix sample.
    Augmented(&'a AugMixPlan),
}

impl AugMixExecutor {
    /// An executor for `config` on rayon's global thread pool.
    pub fn new(config: &AugMixConfig) -> Result<AugMixExecutor> {
        config.validate()?;
        Ok(AugMixExecutor {
            config: config.clone(),
            train: CpuExecutor::new(&config.base)?,
            pool: None,
        })
    }

    /// An executor with its own pool of `threads` threads.
    pub fn with_threads(config: &AugMixConfig, threads: usize) -> Result<AugMixExecutor> {
        config.validate()?;
        let pool = thread_pool(threads)?;
        Ok(AugMixExecutor {
            config: config.clone(),
            train: CpuExecutor::new(&config.base)?,
            pool: Some(pool),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AugMixConfig {
        &self.config
    }

    /// AugMix samples of `images` (`plans[i]` for `images[i]`): an N x 3 x size x size
    /// tensor.
    pub fn augment<I: AsImageView + Sync>(
        &self,
        plans: &[AugMixPlan],
        images: &[I],
        dtype: Dtype,
    ) -> Result<Tensor> {
        self.check(plans, images)?;
        let views = augmented_views(plans, images);
        self.run(&views, dtype)
    }

    /// [`augment`](Self::augment) into a caller's NCHW buffer of `plans.len() * 3 * size *
    /// size` elements. Everything is checked before any element is written.
    pub fn augment_into<T: OutputElement, I: AsImageView + Sync>(
        &self,
        plans: &[AugMixPlan],
        images: &[I],
        out: &mut [T],
    ) -> Result<()> {
        self.check(plans, images)?;
        let per_sample = 3 * self.config.base.size * self.config.base.size;
        if out.len() != plans.len() * per_sample {
            return Err(Error::Input(format!(
                "output buffer holds {} elements; {} samples of 3x{s}x{s} need {}",
                out.len(),
                plans.len(),
                plans.len() * per_sample,
                s = self.config.base.size
            )));
        }
        self.run_into(&augmented_views(plans, images), out)
    }

    /// The three JSD views of every image: `plans` holds 2N plans, `[first views; second
    /// views]` as [`AugMixPlanner::plan_jsd`](super::AugMixPlanner::plan_jsd) returns
    /// them, `plans[i]` and `plans[N + i]` for `images[i]` with the same train transform.
    /// The result is 3N x 3 x size x size in three stacked blocks `[clean(N); aug1(N);
    /// aug2(N)]`: `torch.split(x, N)` gives the three views of timm's JSD loss.
    pub fn augment_jsd<I: AsImageView + Sync>(
        &self,
        plans: &[AugMixPlan],
        images: &[I],
        dtype: Dtype,
    ) -> Result<Tensor> {
        check_jsd(&self.config, plans, &RgbImage::sizes(images))?;
        let (first, second) = plans.split_at(images.len());
        let images: Vec<_> = images.iter().map(|i| i.as_view()).collect();
        let views: Vec<_> = first
            .iter()
            .map(View::Clean)
            .chain(first.iter().map(View::Augmented))
            .chain(second.iter().map(View::Augmented))
            .zip(images.iter().cycle().copied())
            .collect();
        self.run(&views, dtype)
    }

    /// Checks that `plans` fit `images` and the configuration: every crop, depth,
    /// operator and weight, before any work is done.
    pub fn check<I: AsImageView>(&self, plans: &[AugMixPlan], images: &[I]) -> Result<()> {
        check_plans(&self.config, plans, &RgbImage::sizes(images))
    }

    fn run(&self, views: &[(View<'_>, ImageView<'_>)], dtype: Dtype) -> Result<Tensor> {
        let s = self.config.base.size;
        let mut t = Tensor::zeros([views.len(), 3, s, s], dtype);
        match &mut t.data {
            TensorData::F32(v) => self.run_into(views, v)?,
            TensorData::F16(v) => self.run_into(views, v)?,
            TensorData::Bf16(v) => self.run_into(views, v)?,
        }
        Ok(t)
    }

    fn run_into<T: OutputElement>(
        &self,
        views: &[(View<'_>, ImageView<'_>)],
        out: &mut [T],
    ) -> Result<()> {
        let s = self.config.base.size;
        let mut work = || {
            out.par_chunks_mut(3 * s * s)
                .zip(views.par_iter())
                .try_for_each(|(chunk, &(view, img))| self.view(view, img, chunk))
        };
        match &self.pool {
            Some(pool) => pool.install(work),
            None => work(),
        }
    }

    /// One output block (3 x size x size, planar).
    fn view<T: OutputElement>(
        &self,
        view: View<'_>,
        img: ImageView<'_>,
        out: &mut [T],
    ) -> Result<()> {
        let (View::Clean(p) | View::Augmented(p)) = view;
        let orig = self.train.train_image(&p.train_plan(), img)?;
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => self.mix(view, &orig, &mut scratch, out),
            // Only if a thread ever re-entered (it does not): fresh memory.
            Err(_) => self.mix(view, &orig, &mut Scratch::default(), out),
        })
    }

    fn mix<T: OutputElement>(
        &self,
        view: View<'_>,
        orig: &RgbImage,
        scratch: &mut Scratch,
        out: &mut [T],
    ) -> Result<()> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.mix_avx2(view, orig, scratch, out) };
        }
        self.mix_rows(view, orig, scratch, out)
    }

    /// [`mix_rows`](Self::mix_rows) with the row loops compiled for AVX2. No FMA: the
    /// IEEE operations, and so the output, are the portable code's.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn mix_avx2<T: OutputElement>(
        &self,
        view: View<'_>,
        orig: &RgbImage,
        scratch: &mut Scratch,
        out: &mut [T],
    ) -> Result<()> {
        self.mix_rows(view, orig, scratch, out)
    }

    /// The chains and the mixture of one view of `orig`, the train transform's output.
    ///
    /// Every chain runs up to its rows ([`chain::run`]: whole images in memory reused from
    /// sample to sample, byte-wise operators folded into tables); the chains' last
    /// operators, unless byte-wise, then give their rows one output row at a time, and
    /// each row is mixed and written out while it is in the cache. The float
    /// arithmetic is the released code's, element by element and in its order:
    /// `mix = 0; mix += w_i * preprocess(chain_i)` for each chain i, then `(1 - m) *
    /// preprocess(orig) + m * mix`. The products of a weight and `preprocess` depend on the
    /// byte alone, so they are tabled per chain (the first chain's with the `0 +` of the
    /// zeroed `mix`, which turns -0 into +0; a chain's pending byte-wise operators looked
    /// up first), as is `(1 - m) * preprocess`: the same products, so the same bits.
    #[inline(always)]
    fn mix_rows<T: OutputElement>(
        &self,
        view: View<'_>,
        orig: &RgbImage,
        scratch: &mut Scratch,
        out: &mut [T],
    ) -> Result<()> {
        let c = &self.config.base;
        let size = c.size;
        let plane = size * size;
        // preprocess = ToTensor then Normalize: (x / 255 - mean) / std in float32.
        let pre: [[f32; 256]; 3] = std::array::from_fn(|ch| {
            std::array::from_fn(|v| normalize(tensorize(v as u8), c.mean[ch], c.std[ch]))
        });
        let (r, rest) = out.split_at_mut(plane);
        let (g, b) = rest.split_at_mut(plane);
        let View::Augmented(p) = view else {
            for y in 0..size {
                let row = y * size..(y + 1) * size;
                store_row(
                    &pre,
                    orig.row(y),
                    &mut r[row.clone()],
                    &mut g[row.clone()],
                    &mut b[row],
                );
            }
            return Ok(());
        };
        let width = p.width as usize;
        scratch.fit(size, width)?;
        let Scratch { images, rows } = scratch;
        let (temp, images) = images
            .split_first_mut()
            .expect("fit keeps a temporary image");
        // Every chain up to its rows: its image in images[i] (or the original), then its
        // last operator unless byte-wise, or its byte-wise operators after that image.
        let mut orig_hist = None;
        let mut ends = Vec::with_capacity(width);
        for (i, own) in images.iter_mut().take(width).enumerate() {
            ends.push(chain::run(p.chain(i), orig, &mut orig_hist, temp, own)?);
        }
        let sources: Vec<&RgbImage> = ends
            .iter()
            .zip(images.iter())
            .map(|(end, own)| match end.source {
                chain::Source::Orig => orig,
                chain::Source::Own => own,
            })
            .collect();
        // The products of the weights and preprocess, the first chain's with the `0 +` of
        // the zeroed mix; a chain's byte-wise operators after its image looked up first.
        let weighted: Vec<[[f32; 256]; 3]> = ends
            .iter()
            .enumerate()
            .map(|(i, end)| {
                let w = p.weights[i];
                let product = |x: f32| match i {
                    0 => 0.0 + w * x,
                    _ => w * x,
                };
                std::array::from_fn(|ch| match &end.lut {
                    Some(l) => l[ch].map(|v| product(pre[ch][v as usize])),
                    None => pre[ch].map(product),
                })
            })
            .collect();
        let (m, keep) = (p.m, 1.0 - p.m);
        let kept = pre.map(|t| t.map(|x| keep * x));
        let n = size * 3;
        let mix = match width {
            1 => mix_row::<T, 1>,
            2 => mix_row::<T, 2>,
            3 => mix_row::<T, 3>,
            4 => mix_row::<T, 4>,
            5 => mix_row::<T, 5>,
            6 => mix_row::<T, 6>,
            7 => mix_row::<T, 7>,
            _ => mix_row::<T, 8>,
        };
        let mut rows: Vec<&mut [u8]> = rows.chunks_exact_mut(n).take(width).collect();
        for y in 0..size {
            let mut chain_rows: [&[u8]; MAX_WIDTH] = [&[]; MAX_WIDTH];
            for (i, ((end, src), buf)) in ends.iter().zip(&sources).zip(rows.iter_mut()).enumerate()
            {
                chain_rows[i] = match &end.last {
                    Some(op) => {
                        op.row(src, y, buf);
                        buf
                    }
                    None => src.row(y),
                };
            }
            let row = y * size..(y + 1) * size;
            let planes = [&mut r[row.clone()], &mut g[row.clone()], &mut b[row]];
            mix(&weighted, &kept, m, &chain_rows, orig.row(y), planes);
        }
        Ok(())
    }
}

/// `plans[i]` for `images[i]`.
fn augmented_views<'a, I: AsImageView>(
    plans: &'a [AugMixPlan],
    images: &'a [I],
) -> Vec<(View<'a>, ImageView<'a>)> {
    plans
        .iter()
        .zip(images)
        .map(|(p, img)| (View::Augmented(p), img.as_view()))
        .collect()
}

/// Per-thread memory of [`AugMixExecutor`], reused from sample to sample.
#[derive(Default)]
struct Scratch {
    /// A temporary image, then one image per chain: the image its rows are read from.
    images: Vec<RgbImage>,
    /// One row of every chain's last operator.
    rows: Vec<u8>,
}

impl Scratch {
    /// Makes room for `width` chains of `size` x `size` images.
    fn fit(&mut self, size: usize, width: usize) -> Result<()> {
        if self
            .images
            .first()
            .is_some_and(|i| i.width() != size || i.height() != size)
        {
            self.images.clear();
        }
        while self.images.len() < width + 1 {
            self.images.push(RgbImage::black(size, size)?);
        }
        self.rows.resize(self.rows.len().max(width * size * 3), 0);
        Ok(())
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// One output row of a view mixing `W` chains (the first `W` of `rows`, whose products
/// with their weights `weighted` tables): for every element, `(0 + w_0 * pre(a_0)) + w_1
/// * pre(a_1) + ...` summed in order, then `kept(orig) + m * sum`, as the released code.
#[inline(always)]
fn mix_row<T: OutputElement, const W: usize>(
    weighted: &[[[f32; 256]; 3]],
    kept: &[[f32; 256]; 3],
    m: f32,
    rows: &[&[u8]; MAX_WIDTH],
    orig: &[u8],
    [r, g, b]: [&mut [T]; 3],
) {
    let n = orig.len();
    let rows: [&[u8]; W] = std::array::from_fn(|i| &rows[i][..n]);
    let tables: [&[[f32; 256]; 3]; W] = std::array::from_fn(|i| &weighted[i]);
    let planes = r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut());
    for (x, ((r, g), b)) in planes.enumerate().take(n / 3) {
        let k = 3 * x;
        let mixed = |ch: usize| {
            let mut sum = tables[0][ch][rows[0][k + ch] as usize];
            for i in 1..W {
                sum += tables[i][ch][rows[i][k + ch] as usize];
            }
            kept[ch][orig[k + ch] as usize] + m * sum
        };
        *r = T::from_f32(mixed(0));
        *g = T::from_f32(mixed(1));
        *b = T::from_f32(mixed(2));
    }
}

/// One interleaved row `px` through per-channel `tables` into the three planes' rows (one
/// pass over the row: a single strided loop beats three).
#[inline(always)]
fn store_row<T: OutputElement>(
    tables: &[[f32; 256]; 3],
    px: &[u8],
    r: &mut [T],
    g: &mut [T],
    b: &mut [T],
) {
    let planes = r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut());
    for (((r, g), b), px) in planes.zip(px.chunks_exact(3)) {
        *r = T::from_f32(tables[0][px[0] as usize]);
        *g = T::from_f32(tables[1][px[1] as usize]);
        *b = T::from_f32(tables[2][px[2] as usize]);
    }
}

/// Checks that `plans` fit images of `sizes` (one plan each) and `config`: every crop, depth,
/// operator and weight. Shared by the CPU and CUDA executors.
pub(crate) fn check_plans(
    config: &AugMixConfig,
    plans: &[AugMixPlan],
    sizes: &[(usize, usize)],
) -> Result<()> {
    if plans.len() != sizes.len() {
        return Err(Error::Input(format!(
            "{} plans but {} images were given",
            plans.len(),
            sizes.len()
        )));
    }
    let c = &config.base;
    for (i, (p, &(w, h))) in plans.iter().zip(sizes).enumerate() {
        check_train(c, i, &p.train_plan(), w, h)?;
        let bad = |what: String| Err(Error::Input(format!("sample {i}: {what}")));
        if !(1..=MAX_WIDTH as u32).contains(&p.width) {
            return bad(format!("width must be in 1..={MAX_WIDTH}, got {}", p.width));
        }
        if !p.m.is_finite() {
            return bad(format!("m must be finite, got {}", p.m));
        }
        for chain in 0..p.width as usize {
            if !(1..=MAX_DEPTH as u32).contains(&p.depths[chain]) {
                return bad(format!(
                    "chain {chain}: depth must be in 1..={MAX_DEPTH}, got {}",
                    p.depths[chain]
                ));
            }
            if !p.weights[chain].is_finite() {
                return bad(format!(
                    "chain {chain}: weight must be finite, got {}",
                    p.weights[chain]
                ));
            }
            for (d, op) in p.chain(chain).iter().enumerate() {
                if op.operator()?.is_none() {
                    return bad(format!("chain {chain} operator {d}: no operator"));
                }
                check_op(op).map_err(|e| {
                    Error::Input(format!("sample {i} chain {chain} operator {d}: {e}"))
                })?;
            }
        }
    }
    Ok(())
}

/// Checks the 2N plans of the JSD views of N images of `sizes`: each half as
/// [`check_plans`], and the two plans of an image sharing their train transform.
pub(crate) fn check_jsd(
    config: &AugMixConfig,
    plans: &[AugMixPlan],
    sizes: &[(usize, usize)],
) -> Result<()> {
    let n = sizes.len();
    if plans.len() != 2 * n {
        return Err(Error::Input(format!(
            "JSD views of {n} images need {} plans, got {}",
            2 * n,
            plans.len()
        )));
    }
    let (first, second) = plans.split_at(n);
    check_plans(config, first, sizes)?;
    check_plans(config, second, sizes)?;
    if let Some(i) = (0..n).find(|&i| !first[i].same_train(&second[i])) {
        return Err(Error::Input(format!(
            "image {i}: the two JSD plans have different train transforms"
        )));
    }
    Ok(())
}
