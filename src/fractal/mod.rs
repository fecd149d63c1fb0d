//! A procedural mixing set: random fractal flames (Draves & Reckase), rendered on the CPU
//! and filtered so that dull pictures are redrawn. Same seed, same pictures.

// The genome layout the kernels read: public for the CUDA path and its tests, not documented.
#[doc(hidden)]
pub mod device;
mod fastmath;
mod filter;
mod genome;
mod lockstep;
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
    use rayon::prelude::*;

    settings.validate()?;
    let start = std::time::Instant::now();
    let mut pictures = Vec::with_capacity(count);
    let mut stats = FractalStats::default();
    let limit = count.saturating_mul(settings.max_attempts_per_picture);
    let mut index = 0u64;
    while pictures.len() < count {
        let tried = stats.accepted + stats.rejected;
        if tried >= limit {
            return Err(Error::Config(format!(
                "only {} of {} tried genomes passed the thresholds; loosen them",
                stats.accepted, tried
            )));
        }
        // About half the genomes pass: judge twice the pictures still missing (at least a
        // round per thread), never past the limit.
        let round = (2 * (count - pictures.len()))
            .max(rayon::current_num_threads())
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
            if pictures.len() == count {
                break;
            }
            index += 1;
            if stats.record(verdict) {
                pictures.push(render(&g, settings.size, settings.quality, render_seed));
            }
            progress(stats.accepted, stats.accepted + stats.rejected);
        }
    }
    stats.seconds = start.elapsed().as_secs_f64();
    Ok((pictures, stats))
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
