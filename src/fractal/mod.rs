//! A procedural mixing set: random fractal flames (Draves & Reckase), rendered on the CPU
//! and filtered so that dull pictures are redrawn. Same seed, same pictures.

// The genome layout the kernels read: public for the CUDA path and its tests, not documented.
#[doc(hidden)]
pub mod device;
mod fastmath;
mod filter;
mod genome;
mod lockstep;
mod log_exp;
mod render;
mod variation;

pub use filter::{Metrics, Thresholds};
pub use genome::{Frame, Genome, Transform};
pub use render::{frame, render};
pub use variation::Variation;

use crate::error::{Error, Result};
use crate::image::RgbImage;

/// How fractals are rendered and judged.
#[derive(Clone, Debug, PartialEq)]
pub struct FractalSettings {
    /// Side of the square pictures.
    pub size: usize,
    /// Plotted points per output pixel of the final render.
    pub quality: f64,
    /// Plotted points per output pixel of the preview the verdict is based on.
    pub preview_quality: f64,
    /// Acceptance thresholds.
    pub thresholds: Thresholds,
    /// Give up after this many genomes per requested picture.
    pub max_attempts_per_picture: usize,
}

impl FractalSettings {
    /// The design's defaults at `size`: quality 25, preview quality 10.
    pub fn new(size: usize) -> FractalSettings {
        FractalSettings {
            size,
            quality: 25.0,
            preview_quality: 10.0,
            thresholds: Thresholds::default(),
            max_attempts_per_picture: 40,
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        if !(8..=4096).contains(&self.size) {
            return Err(Error::Config(format!(
                "fractal size must be in 8..=4096, got {}",
                self.size
            )));
        }
        for (name, q) in [
            ("quality", self.quality),
            ("preview_quality", self.preview_quality),
        ] {
            if !(q.is_finite() && q > 0.0 && q <= 10_000.0) {
                return Err(Error::Config(format!(
                    "{name} must be in (0, 10000], got {q}"
                )));
            }
        }
        if self.max_attempts_per_picture == 0 {
            return Err(Error::Config(
                "max_attempts_per_picture must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// What a generation run did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FractalStats {
    /// Pictures kept.
    pub accepted: usize,
    /// Genomes whose preview failed the thresholds (or that never settled).
    pub rejected: usize,
    /// Rejected genomes whose points never settled into a frame.
    pub unframed: usize,
    /// How many rejected previews failed each threshold (coverage, dimension, black, white,
    /// top share); a preview can fail several.
    pub failed: [usize; 5],
    /// Wall seconds.
    pub seconds: f64,
}

impl FractalStats {
    /// Share of genomes kept.
    pub fn acceptance_rate(&self) -> f64 {
        self.accepted as f64 / (self.accepted + self.rejected).max(1) as f64
    }

    /// Counts a verdict: `None` for a genome that never settled.
    pub fn record(&mut self, verdict: Option<[bool; 5]>) -> bool {
        match verdict {
            None => {
                self.rejected += 1;
                self.unframed += 1;
                false
            }
            Some(f) if f == [false; 5] => {
                self.accepted += 1;
                true
            }
            Some(f) => {
                self.rejected += 1;
                for (n, failed) in self.failed.iter_mut().zip(f) {
                    *n += failed as usize;
                }
                false
            }
        }
    }

    /// One line on why genomes were rejected.
    pub fn rejection_summary(&self) -> String {
        let names = [
            "coverage",
            "dimension",
            "black share",
            "white share",
            "brightest 1%",
        ];
        let parts: Vec<String> = names
            .iter()
            .zip(self.failed)
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| format!("{name} {n}"))
            .chain((self.unframed > 0).then(|| format!("unsettled {}", self.unframed)))
            .collect();
        if parts.is_empty() {
            "none rejected".into()
        } else {
            format!("rejections: {}", parts.join(", "))
        }
    }
}

/// Genomes judged per thread in one parallel round of [`generate_each`].
const ROUND_PER_THREAD: usize = 16;

/// The most fractals one call generates (a million; 196 GB at 256x256).
pub const MAX_COUNT: usize = 1_000_000;

/// Generates `count` accepted fractals from `seed` on the CPU, calling
/// `progress(accepted, tried)` after each genome.
///
/// Genomes are framed and their previews judged in parallel, a round of candidates at a
/// time, then taken in index order: the pictures and the statistics are those of judging
/// one genome after another, whatever the number of threads.
pub fn generate(
    count: usize,
    settings: &FractalSettings,
    seed: u64,
    progress: impl Fn(usize, usize),
) -> Result<(Vec<RgbImage>, FractalStats)> {
    let bytes = count
        .checked_mul(settings.size)
        .and_then(|n| n.checked_mul(settings.size))
        .and_then(|n| n.checked_mul(3));
    if bytes.is_none_or(|b| b > crate::mixing_set::DEFAULT_MIXING_BUDGET) {
        return Err(Error::Config(format!(
            "{count} fractals of {0}x{0} would need more than the {1} MiB a generated set \
             may hold; use fewer (generate_each, and pixmix fractals, handle each picture \
             when it is done)",
            settings.size,
            crate::mixing_set::DEFAULT_MIXING_BUDGET >> 20
        )));
    }
    let mut pictures = Vec::with_capacity(count);
    let stats = generate_each(count, settings, seed, progress, |_, pic| {
        pictures.push(pic);
        Ok(true)
    })?;
    Ok((pictures, stats))
}

/// [`generate`], handing each accepted picture to `sink(index, picture)` as soon as it is
/// rendered instead of keeping it, so memory does not grow with `count`. `sink` returns
/// `Ok(false)` to stop early (the statistics then count what was done) or an error to
/// abort. The pictures are the same as [`generate`]'s.
pub fn generate_each(
    count: usize,
    settings: &FractalSettings,
    seed: u64,
    progress: impl Fn(usize, usize),
    mut sink: impl FnMut(usize, RgbImage) -> Result<bool>,
) -> Result<FractalStats> {
    use rayon::prelude::*;

    settings.validate()?;
    if count > MAX_COUNT {
        return Err(Error::Config(format!(
            "fractal count must be at most {MAX_COUNT}, got {count}"
        )));
    }
    let start = std::time::Instant::now();
    let mut stats = FractalStats::default();
    let limit = count.saturating_mul(settings.max_attempts_per_picture);
    let mut index = 0u64;
    'rounds: while stats.accepted < count {
        let tried = stats.accepted + stats.rejected;
        if tried >= limit {
            return Err(Error::Config(format!(
                "only {} of {} tried genomes passed the thresholds; loosen them",
                stats.accepted, tried
            )));
        }
        // About half the genomes pass: judge twice the pictures still missing (at least a
        // round per thread), never past the limit, and at most a few per thread, so the
        // first pictures reach `sink` soon (a round is judged before any is rendered).
        let threads = rayon::current_num_threads();
        let round = (2 * (count - stats.accepted))
            .max(threads)
            .min(ROUND_PER_THREAD * threads)
            .min(limit - tried) as u64;
        let judged: Vec<(Genome, u64, Option<[bool; 5]>)> = (index..index + round)
            .into_par_iter()
            .map(|i| {
                let mut g = Genome::random(seed, i);
                let render_seed = render_seed(seed, i);
                let verdict = frame(&mut g, render_seed).then(|| {
                    Metrics::of(&render(
                        &g,
                        preview_size(settings.size),
                        settings.preview_quality,
                        render_seed,
                    ))
                    .failures(&settings.thresholds)
                });
                (g, render_seed, verdict)
            })
            .collect();
        for (g, render_seed, verdict) in judged {
            if stats.accepted == count {
                break;
            }
            index += 1;
            let go_on = if stats.record(verdict) {
                let pic = render(&g, settings.size, settings.quality, render_seed);
                sink(stats.accepted - 1, pic)?
            } else {
                true
            };
            progress(stats.accepted, stats.accepted + stats.rejected);
            if !go_on {
                break 'rounds;
            }
        }
    }
    stats.seconds = start.elapsed().as_secs_f64();
    Ok(stats)
}

/// The random stream genome `index` of `seed` is framed and rendered with.
pub fn render_seed(seed: u64, index: u64) -> u64 {
    seed.wrapping_add(index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Previews are judged at half size (at least 64 pixels): a quarter of the points for the
/// same density, and still six box sizes for the dimension estimate.
pub fn preview_size(size: usize) -> usize {
    (size / 2).max(64).min(size)
}
