//! The CPU executor: plans and pixels in, normalized NCHW tensors out, with the per-pixel
//! pipeline fused row by row and samples spread over threads with rayon.

use rayon::prelude::*;

use crate::config::Config;
use crate::config::TrainTransform;
use crate::error::{Error, Result};
use crate::image::{AsImageView, ImageView, RgbImage};
use crate::mix::{PairMemo, RoundTables, normalize, tensorize, tensorize_table};
use crate::mixing_set::{MixingSet, Picture};
use crate::ops::PreparedOp;
use crate::plan::{
    BatchPlan, OpPlan, RoundPlan, SOURCE_AUGMENTED, SOURCE_MIXING, SamplePlan,
    TRANSFORM_FLIP_PAD_CROP, TRANSFORM_RESIZED_CROP_FLIP,
};
use crate::resize::{View, resize_bilinear, resize_bilinear_mirrored};
use crate::tensor::{Dtype, OutputElement, Tensor, TensorData};

/// Runs PixMix on the CPU. The output depends only on (plan, pixels), never on the number
/// of threads.
#[derive(Debug)]
pub struct CpuExecutor {
    config: Config,
    pool: Option<rayon::ThreadPool>,
}

/// The most worker threads an executor starts: four per core of this machine (more only
/// costs memory and start-up time).
pub fn max_threads() -> usize {
    4 * std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A pool of `threads` worker threads, at least one and at most [`max_threads`].
pub(crate) fn thread_pool(threads: usize) -> Result<rayon::ThreadPool> {
    if threads == 0 {
        return Err(Error::Config("threads must be at least 1".into()));
    }
    if threads > max_threads() {
        return Err(Error::Config(format!(
            "threads must be at most {} (4 per core of this machine), got {threads}",
            max_threads()
        )));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Config(format!("cannot start {threads} threads: {e}")))
}

impl CpuExecutor {
    /// An executor for `config` on rayon's global thread pool.
    pub fn new(config: &Config) -> Result<CpuExecutor> {
        config.validate()?;
        Ok(CpuExecutor {
            config: config.clone(),
            pool: None,
        })
    }

    /// An executor with its own pool of `threads` threads.
    pub fn with_threads(config: &Config, threads: usize) -> Result<CpuExecutor> {
        config.validate()?;
        let pool = thread_pool(threads)?;
        Ok(CpuExecutor {
            config: config.clone(),
            pool: Some(pool),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Augments `images` (one per sample of `plan`) and returns an N x 3 x size x size tensor.
    pub fn augment<I: AsImageView + Sync>(
        &self,
        plan: &BatchPlan,
        images: &[I],
        mixing: &MixingSet,
        dtype: Dtype,
    ) -> Result<Tensor> {
        let s = self.config.size;
        let mut t = Tensor::zeros([plan.len(), 3, s, s], dtype);
        match &mut t.data {
            TensorData::F32(v) => self.augment_into(plan, images, mixing, v)?,
            TensorData::F16(v) => self.augment_into(plan, images, mixing, v)?,
            TensorData::Bf16(v) => self.augment_into(plan, images, mixing, v)?,
        }
        Ok(t)
    }

    /// Augments into a caller's NCHW buffer of `plan.len() * 3 * size * size` elements.
    /// Everything is checked before any element is written.
    pub fn augment_into<T: OutputElement, I: AsImageView + Sync>(
        &self,
        plan: &BatchPlan,
        images: &[I],
        mixing: &MixingSet,
        out: &mut [T],
    ) -> Result<()> {
        self.check(plan, images, mixing)?;
        let per_sample = 3 * self.config.size * self.config.size;
        if out.len() != plan.len() * per_sample {
            return Err(Error::Input(format!(
                "output buffer holds {} elements; {} samples of 3x{s}x{s} need {}",
                out.len(),
                plan.len(),
                plan.len() * per_sample,
                s = self.config.size
            )));
        }
        let mut work = || {
            out.par_chunks_mut(per_sample)
                .zip(images.par_iter())
                .enumerate()
                .try_for_each(|(i, (chunk, img))| {
                    let sample = &plan.samples[i];
                    let rounds = plan.rounds_of(i)?;
                    self.sample(sample, rounds, img.as_view(), mixing, chunk)
                })
        };
        match &self.pool {
            Some(pool) => pool.install(work),
            None => work(),
        }
    }

    /// Checks that the plan fits the images, the mixing set and the configuration.
    pub fn check<I: AsImageView>(
        &self,
        plan: &BatchPlan,
        images: &[I],
        mixing: &MixingSet,
    ) -> Result<()> {
        let sizes = RgbImage::sizes(images);
        check_batch(&self.config, plan, &sizes, mixing.sizes())
    }

    /// The `size` x `size` original of one sample: its train transform applied to `img`.
    pub fn train_image(&self, s: &SamplePlan, img: impl AsImageView) -> Result<RgbImage> {
        let img = img.as_view();
        let size = self.config.size;
        if s.transform == TRANSFORM_RESIZED_CROP_FLIP {
            let view = View::new(
                img,
                s.crop_x as usize,
                s.crop_y as usize,
                s.crop_w as usize,
                s.crop_h as usize,
            )?;
            // The flip comes free with the resize: its horizontal pass writes mirrored.
            return if s.flip == 1 {
                resize_bilinear_mirrored(view, size, size)
            } else {
                resize_bilinear(view, size, size)
            };
        }
        // Flip then crop from the zero-padded image.
        let (w, h) = (img.width() as i64, img.height() as i64);
        let mut out = RgbImage::black(size, size)?;
        for y in 0..size {
            let sy = y as i64 + s.crop_y as i64;
            if sy < 0 || sy >= h {
                continue;
            }
            let src = img.row(sy as usize);
            for (x, o) in out.row_mut(y).chunks_exact_mut(3).enumerate() {
                let fx = x as i64 + s.crop_x as i64;
                if fx < 0 || fx >= w {
                    continue;
                }
                let sx = if s.flip == 1 { w - 1 - fx } else { fx } as usize;
                o.copy_from_slice(&src[sx * 3..sx * 3 + 3]);
            }
        }
        Ok(out)
    }

    fn sample<T: OutputElement>(
        &self,
        s: &SamplePlan,
        rounds: &[RoundPlan],
        img: ImageView<'_>,
        mixing: &MixingSet,
        out: &mut [T],
    ) -> Result<()> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.sample_avx2(s, rounds, img, mixing, out) };
        }
        self.sample_rows(s, rounds, img, mixing, out)
    }

    /// [`sample_rows`](Self::sample_rows) with the row loops compiled for AVX2. No FMA:
    /// the IEEE operations, and so the output, are the portable code's.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn sample_avx2<T: OutputElement>(
        &self,
        s: &SamplePlan,
        rounds: &[RoundPlan],
        img: ImageView<'_>,
        mixing: &MixingSet,
        out: &mut [T],
    ) -> Result<()> {
        self.sample_rows(s, rounds, img, mixing, out)
    }

    /// One sample, row by row: every source row is computed, mixed and normalized while
    /// it is in the cache.
    #[inline(always)]
    fn sample_rows<T: OutputElement>(
        &self,
        s: &SamplePlan,
        rounds: &[RoundPlan],
        img: ImageView<'_>,
        mixing: &MixingSet,
        out: &mut [T],
    ) -> Result<()> {
        let c = &self.config;
        let size = c.size;
        let orig = self.train_image(s, img)?;
        let pic = mixing
            .picture(s.mixing_index as usize)
            .ok_or_else(|| Error::Input("mixing index out of range".into()))?;
        let base = Source::of(&s.base, &orig)?;
        let tensor = tensorize_table();
        let stages = rounds
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let source = if r.source == SOURCE_AUGMENTED {
                    Source::of(&r.aug, &orig)?
                } else {
                    Source::Mixing
                };
                Ok((source, RoundTables::new(r, &tensor, i == 0)))
            })
            .collect::<Result<Vec<_>>>()?;

        let mix_pic = (s.mixing_x as usize, s.mixing_y as usize, pic);
        let mut base_bytes = vec![0u8; size * 3];
        let mut bytes = vec![0u8; size * 3];
        let mut mixed = vec![0f32; size * 3];
        let plane = size * size;
        // The first rounds computed once a pair of bytes, where that saves powers.
        let mut memo = None;
        if PairMemo::pays_off(plane * 3) {
            let rounds: Vec<_> = stages
                .iter()
                .map(|(source, tables)| (matches!(source, Source::Mixing), tables))
                .collect();
            memo = PairMemo::new(&rounds, size * 3);
        }
        let last_len = match &memo {
            Some(memo) if memo.needs_last() => size * 3,
            _ => 0,
        };
        let mut last_bytes = vec![0u8; last_len];
        for y in 0..size {
            let base_row = base.row(&orig, &mix_pic, y, &mut base_bytes);
            if stages.is_empty() {
                // ToTensor computed, not looked up: a vector divide beats scattered loads.
                for (m, &b) in mixed.iter_mut().zip(base_row) {
                    *m = tensorize(b);
                }
            }
            let mut done = 0;
            if let Some(memo) = &mut memo {
                done = memo.rounds();
                let key = stages[0].0.row(&orig, &mix_pic, y, &mut bytes);
                let last = match memo.needs_last() {
                    true => stages[done - 1].0.row(&orig, &mix_pic, y, &mut last_bytes),
                    false => &[],
                };
                memo.mix_rows(base_row, key, last, &mut mixed);
            }
            for (r, (source, tables)) in stages.iter().enumerate().skip(done) {
                let row = source.row(&orig, &mix_pic, y, &mut bytes);
                if r == 0 {
                    tables.mix_first_row(base_row, row, &mut mixed);
                } else {
                    tables.mix_row(&mut mixed, row);
                }
            }
            // One pass splits the row into its three planes (a single strided loop
            // vectorises where three would each read the whole row).
            let row = y * size..(y + 1) * size;
            let (r, rest) = out.split_at_mut(plane);
            let (g, b) = rest.split_at_mut(plane);
            let planes = r[row.clone()]
                .iter_mut()
                .zip(&mut g[row.clone()])
                .zip(&mut b[row]);
            let [(m0, s0), (m1, s1), (m2, s2)] = [0, 1, 2].map(|ch| (c.mean[ch], c.std[ch]));
            for (((r, g), b), px) in planes.zip(mixed.chunks_exact(3)) {
                *r = T::from_f32(normalize(px[0], m0, s0));
                *g = T::from_f32(normalize(px[1], m1, s1));
                *b = T::from_f32(normalize(px[2], m2, s2));
            }
        }
        Ok(())
    }
}

/// Checks that `plan` fits images of `image_sizes`, mixing pictures of `mixing_sizes` and
/// `config`: every index, crop, operator and weight, before any work is done.
pub fn check_batch(
    c: &Config,
    plan: &BatchPlan,
    image_sizes: &[(usize, usize)],
    mixing_sizes: &[(usize, usize)],
) -> Result<()> {
    if plan.len() != image_sizes.len() {
        return Err(Error::Input(format!(
            "plan has {} samples but {} images were given",
            plan.len(),
            image_sizes.len()
        )));
    }
    for (i, (s, &(w, h))) in plan.samples.iter().zip(image_sizes).enumerate() {
        check_train(c, i, s, w, h)?;
        let fail = |what: String| Err(Error::Input(format!("sample {i}: {what}")));
        let Some(&(pw, ph)) = mixing_sizes.get(s.mixing_index as usize) else {
            return fail(format!(
                "mixing index {} but the set has {} pictures",
                s.mixing_index,
                mixing_sizes.len()
            ));
        };
        if s.mixing_x as usize + c.size > pw || s.mixing_y as usize + c.size > ph {
            return fail(format!(
                "mixing crop at ({}, {}) does not fit the {pw}x{ph} picture",
                s.mixing_x, s.mixing_y
            ));
        }
        check_op(&s.base).map_err(|e| Error::Input(format!("sample {i}: base: {e}")))?;
        for (r, round) in plan.rounds_of(i)?.iter().enumerate() {
            let bad = |what: String| Error::Input(format!("sample {i} round {r}: {what}"));
            match round.source {
                SOURCE_AUGMENTED => check_op(&round.aug).map_err(|e| bad(e.to_string()))?,
                SOURCE_MIXING => {}
                other => return Err(bad(format!("unknown source {other}"))),
            }
            if round.mix > 1 {
                return Err(bad(format!("unknown mix {}", round.mix)));
            }
            if !(round.a.is_finite() && round.b.is_finite()) {
                return Err(bad(format!(
                    "weights ({}, {}) must be finite",
                    round.a, round.b
                )));
            }
        }
    }
    Ok(())
}

/// Checks the train-transform fields of sample `i`'s plan `s` against `config` and its
/// `w` x `h` image.
pub(crate) fn check_train(c: &Config, i: usize, s: &SamplePlan, w: usize, h: usize) -> Result<()> {
    c.check_image_size(i, w, h)?;
    let fail = |what: String| Err(Error::Input(format!("sample {i}: {what}")));
    match (&c.train, s.transform) {
        (TrainTransform::FlipPadCrop { padding }, TRANSFORM_FLIP_PAD_CROP) => {
            let p = *padding as i64;
            let (x, y) = (s.crop_x as i64, s.crop_y as i64);
            let size = c.size as i64;
            if s.crop_w as usize != c.size
                || s.crop_h as usize != c.size
                || x < -p
                || y < -p
                || x + size > w as i64 + p
                || y + size > h as i64 + p
            {
                return fail(format!(
                    "crop {}x{} at ({x}, {y}) does not fit a {w}x{h} image padded by {p}",
                    s.crop_w, s.crop_h
                ));
            }
        }
        (TrainTransform::ResizedCropFlip { .. }, TRANSFORM_RESIZED_CROP_FLIP) => {
            let (x, y) = (s.crop_x as i64, s.crop_y as i64);
            if x < 0
                || y < 0
                || s.crop_w == 0
                || s.crop_h == 0
                || x + s.crop_w as i64 > w as i64
                || y + s.crop_h as i64 > h as i64
            {
                return fail(format!(
                    "crop {}x{} at ({x}, {y}) does not fit a {w}x{h} image",
                    s.crop_w, s.crop_h
                ));
            }
        }
        (_, t) => return fail(format!("transform {t} does not match the configuration")),
    }
    if s.flip > 1 {
        return fail(format!("flip must be 0 or 1, got {}", s.flip));
    }
    Ok(())
}

pub(crate) fn check_op(op: &OpPlan) -> Result<()> {
    if let Some(o) = op.operator()? {
        o.check_param(op.param)?;
    }
    Ok(())
}

/// Where a picture of the pipeline comes from.
enum Source {
    /// The original through an operator.
    Op(PreparedOp),
    /// The original itself.
    Original,
    /// The sample's mixing picture.
    Mixing,
}

impl Source {
    /// The original through `op`, or the original when there is no operator.
    fn of(op: &OpPlan, orig: &RgbImage) -> Result<Source> {
        Ok(match op.operator()? {
            Some(o) => Source::Op(PreparedOp::new(o, op.param, orig)?),
            None => Source::Original,
        })
    }

    /// Row `y` of this picture; `mixing` is (crop x, crop y, picture). Rows that exist
    /// already (the original's, the mixing picture's) are borrowed; an operator's is
    /// computed into `buf`.
    #[inline(always)]
    fn row<'a>(
        &self,
        orig: &'a RgbImage,
        mixing: &(usize, usize, Picture<'a>),
        y: usize,
        buf: &'a mut [u8],
    ) -> &'a [u8] {
        match self {
            Source::Op(PreparedOp::Identity) | Source::Original => orig.row(y),
            Source::Op(op) => {
                op.row(orig, y, buf);
                buf
            }
            Source::Mixing => {
                let (x0, y0, pic) = *mixing;
                pic.row_span(x0, y0 + y, buf.len() / 3)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::synthetic_photo;
    use crate::plan::Planner;
    use crate::{Config, Preset};

    /// The vector-compiled rows (where the CPU has them) and the portable rows give the
    /// same bits, for every preset and output type.
    #[test]
    fn dispatched_rows_equal_portable_rows() {
        for preset in [Preset::Cifar, Preset::Imagenet] {
            let config = Config::preset(preset);
            let exec = CpuExecutor::with_threads(&config, 1).unwrap();
            let mixing = MixingSet::from_images(
                (0..3).map(|i| synthetic_photo(100 + i, 300, 260)),
                config.mixing_resize,
            )
            .unwrap();
            let images: Vec<_> = (0..24)
                .map(|i| synthetic_photo(i, 250 + i as usize, 231))
                .collect();
            let sizes = RgbImage::sizes(&images);
            let plan = Planner::new(&config, 5)
                .unwrap()
                .plan(&sizes, mixing.sizes())
                .unwrap();
            let per = 3 * config.size * config.size;
            for (i, img) in images.iter().enumerate() {
                let (s, rounds) = (&plan.samples[i], plan.rounds_of(i).unwrap());
                let (mut a, mut b) = (vec![0f32; per], vec![0f32; per]);
                exec.sample(s, rounds, img.view(), &mixing, &mut a).unwrap();
                exec.sample_rows(s, rounds, img.view(), &mixing, &mut b)
                    .unwrap();
                assert!(
                    a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{preset} sample {i}"
                );
                let (mut h, mut g) = (vec![half::bf16::ZERO; per], vec![half::bf16::ZERO; per]);
                exec.sample(s, rounds, img.view(), &mixing, &mut h).unwrap();
                exec.sample_rows(s, rounds, img.view(), &mixing, &mut g)
                    .unwrap();
                assert_eq!(h, g, "{preset} sample {i}");
            }
        }
    }
}
