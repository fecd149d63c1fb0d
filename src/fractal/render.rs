//! The CPU renderer: the chaos game into a 2x histogram, tone mapping, box filter down.

use rayon::prelude::*;

use super::fastmath::Stream;
use super::genome::{Frame, Genome, Transform};
use super::lockstep::walk_all;
use crate::image::RgbImage;

/// Steps each walker runs before it plots.
pub(super) const SKIP: usize = 20;
/// Points per walker; walkers are the unit of parallel work and of random streams (small,
/// so a GPU gets thousands of them per picture).
pub const WALKER_POINTS: usize = 1024;
/// Counts above this are treated as this when choosing the tone-mapping reference, so the
/// GPU can pick it from a fixed-size histogram.
pub const COUNT_CAP: u32 = 65_535;

/// One walker step through `t`.
#[inline(always)]
fn step(t: &Transform, x: f64, y: f64, c: f64, coin: bool) -> (f64, f64, f64) {
    let [a, b, cc, d, e, f] = t.affine;
    let (u, v) = (a * x + b * y + e, cc * x + d * y + f);
    let (mut nx, mut ny) = (0.0, 0.0);
    for &(var, w) in &t.variations {
        let (vx, vy) = var.apply(u, v, coin);
        nx += w * vx;
        ny += w * vy;
    }
    if let Some([a, b, cc, d, e, f]) = t.post {
        (nx, ny) = (a * nx + b * ny + e, cc * nx + d * ny + f);
    }
    (nx, ny, (1.0 - t.color_speed) * c + t.color_speed * t.color)
}

/// Cumulative weights for picking a transform with one uniform draw.
pub(crate) fn cumulative(g: &Genome) -> Vec<f64> {
    let total: f64 = g.transforms.iter().map(|t| t.weight).sum();
    let mut acc = 0.0;
    g.transforms
        .iter()
        .map(|t| {
            acc += t.weight / total;
            acc
        })
        .collect()
}

/// Runs one walker for `points` plotted points, calling `plot(x, y, colour)`.
pub(super) fn walk(
    g: &Genome,
    cum: &[f64],
    seed: u64,
    stream: u64,
    points: usize,
    mut plot: impl FnMut(f64, f64, f64),
) {
    if g.transforms.is_empty() || cum.len() != g.transforms.len() {
        return;
    }
    let mut rng = Stream::new(seed, stream);
    let restart = |rng: &mut Stream| (rng.unit() * 2.0 - 1.0, rng.unit() * 2.0 - 1.0, rng.unit());
    let (mut x, mut y, mut c) = restart(&mut rng);
    let mut skip = SKIP;
    let mut plotted = 0;
    let last = cum.len() - 1;
    while plotted < points {
        let bits = rng.next_u64();
        let pick = (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let i = cum.iter().position(|&p| pick < p).unwrap_or(last);
        (x, y, c) = step(&g.transforms[i], x, y, c, bits & 1 == 1);
        if !(x.is_finite() && y.is_finite()) || x.abs() > 1e10 || y.abs() > 1e10 {
            (x, y, c) = restart(&mut rng);
            skip = SKIP;
            continue;
        }
        if skip > 0 {
            skip -= 1;
            continue;
        }
        let (px, py, pc) = match &g.final_transform {
            Some(f) => step(f, x, y, c, bits & 2 == 2),
            None => (x, y, c),
        };
        plot(px, py, pc);
        plotted += 1;
    }
}

/// Frames the genome: ~20k warm-up points, the 0.5% to 99.5% quantile box, squared, with
/// a 5% margin. Returns false when the points do not settle (the genome is unusable).
pub fn frame(g: &mut Genome, seed: u64) -> bool {
    let cum = cumulative(g);
    let (mut xs, mut ys) = (Vec::with_capacity(20_000), Vec::with_capacity(20_000));
    walk(g, &cum, seed, u64::MAX, 20_000, |x, y, _| {
        if x.is_finite() && y.is_finite() {
            xs.push(x);
            ys.push(y);
        }
    });
    if xs.len() < 1000 {
        return false;
    }
    // The two order statistics a full sort would give, by selection.
    let q = |v: &mut Vec<f64>| {
        let n = v.len();
        let lo = *v.select_nth_unstable_by(n / 200, f64::total_cmp).1;
        let hi = *v.select_nth_unstable_by(n - 1 - n / 200, f64::total_cmp).1;
        (lo, hi)
    };
    let ((x0, x1), (y0, y1)) = (q(&mut xs), q(&mut ys));
    let side = (x1 - x0).max(y1 - y0) * 1.1;
    if !(side.is_finite() && side > 1e-9) {
        return false;
    }
    g.frame = Frame {
        cx: (x0 + x1) / 2.0,
        cy: (y0 + y1) / 2.0,
        side,
    };
    true
}

/// A 2x histogram of [count, r, g, b] per bucket (one cache line touch a point), colour
/// sums in fixed point (8 bits a channel), so the result does not depend on how walkers
/// are grouped.
struct Histogram {
    side: usize,
    buckets: Vec<[u32; 4]>,
}

impl Histogram {
    fn new(side: usize) -> Histogram {
        Histogram {
            side,
            buckets: vec![[0; 4]; side * side],
        }
    }

    /// One point of `colour` into bucket `b`.
    #[inline]
    fn add(&mut self, b: usize, colour: [u32; 3]) {
        let b = &mut self.buckets[b];
        b[0] = b[0].saturating_add(1);
        for k in 0..3 {
            b[k + 1] = b[k + 1].saturating_add(colour[k]);
        }
    }

    /// Sums two histograms, rows in parallel.
    fn merge(mut self, other: Histogram) -> Histogram {
        let side = self.side.max(1);
        self.buckets
            .par_chunks_mut(side)
            .zip(other.buckets.par_chunks(side))
            .for_each(|(a, b)| {
                for (a, b) in a.iter_mut().zip(b) {
                    for k in 0..4 {
                        a[k] = a[k].saturating_add(b[k]);
                    }
                }
            });
        self
    }
}

/// Points added to a histogram a few points late: each new point's bucket is prefetched
/// when it is plotted and added [`LATE`] points later, so the walker computes on while the
/// bucket's cache line arrives (the histogram is far larger than a core's cache). Integer
/// sums do not depend on the order.
struct Late {
    hist: Histogram,
    queue: [(usize, [u32; 3]); LATE],
    queued: usize,
}

/// How many points a histogram update trails the walker.
const LATE: usize = 128;

impl Late {
    fn new(hist: Histogram) -> Late {
        Late {
            hist,
            queue: [(0, [0; 3]); LATE],
            queued: 0,
        }
    }

    #[inline]
    fn plot(&mut self, bucket: usize, colour: [u32; 3]) {
        prefetch(&self.hist.buckets[bucket]);
        let slot = self.queued % LATE;
        if self.queued >= LATE {
            let (b, c) = self.queue[slot];
            self.hist.add(b, c);
        }
        self.queue[slot] = (bucket, colour);
        self.queued += 1;
    }

    fn finish(mut self) -> Histogram {
        for i in self.queued.saturating_sub(LATE)..self.queued {
            let (b, c) = self.queue[i % LATE];
            self.hist.add(b, c);
        }
        self.hist
    }
}

/// Asks for `x`'s cache line (a hint: no effect on results).
#[inline(always)]
fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint that never faults, and `x` is a valid reference.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (x as *const T).cast(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// The palette as 8-bit RGB.
pub(crate) fn palette_bytes(g: &Genome) -> Vec<[u32; 3]> {
    g.palette
        .iter()
        .map(|p| p.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u32))
        .collect()
}

/// Renders `g` at `size` x `size` with `quality` plotted points per output pixel.
pub fn render(g: &Genome, size: usize, quality: f64, seed: u64) -> RgbImage {
    let side = 2 * size;
    let cum = cumulative(g);
    let palette = palette_bytes(g);
    let total = super::device::points(size, quality) as usize;
    let walkers = total.div_ceil(WALKER_POINTS).max(1);
    let scale = side as f64 / g.frame.side;
    let (ox, oy) = (
        g.frame.cx - g.frame.side / 2.0,
        g.frame.cy - g.frame.side / 2.0,
    );
    // A few large groups of walkers, one histogram each: integer sums do not depend on
    // the grouping, and few histograms keep allocation and merging cheap.
    let groups = rayon::current_num_threads().clamp(1, walkers);
    let per_group = walkers.div_ceil(groups);
    let hist = (0..groups)
        .into_par_iter()
        .map(|group| {
            let mut h = Late::new(Histogram::new(side));
            let range = (group * per_group).min(walkers)..((group + 1) * per_group).min(walkers);
            let points = |w: usize| WALKER_POINTS.min(total - w * WALKER_POINTS);
            walk_all(g, &cum, seed, range, points, |_, x, y, c| {
                let (fx, fy) = ((x - ox) * scale, (y - oy) * scale);
                if fx >= 0.0 && fy >= 0.0 && fx < side as f64 && fy < side as f64 {
                    let p = palette[((c.clamp(0.0, 1.0) * 255.0) as usize).min(255)];
                    h.plot(fy as usize * side + fx as usize, p);
                }
            });
            h.finish()
        })
        .reduce_with(Histogram::merge)
        .unwrap_or_else(|| Histogram::new(side));
    tone_map(&hist, g.gamma, size)
}

/// alpha = min(1, ln(1 + n) / ln(1 + n_ref)) with n_ref the 99.5th percentile of non-zero
/// counts (capped at [`COUNT_CAP`]); pixel = mean colour * alpha^(1/gamma); then 2x2 box
/// filter. Logarithms and powers go through the kernels' own base-2 functions, so the GPU
/// tone-maps to the same bytes.
fn tone_map(h: &Histogram, gamma: f64, size: usize) -> RgbImage {
    let mut nonzero: Vec<u32> = h
        .buckets
        .iter()
        .map(|b| b[0].min(COUNT_CAP))
        .filter(|&c| c > 0)
        .collect();
    let n_ref = if nonzero.is_empty() {
        1
    } else {
        let k = (nonzero.len() * 995 / 1000).min(nonzero.len() - 1);
        *nonzero.select_nth_unstable(k).1
    };
    let side = h.side;
    let mut data = vec![0u8; size * size * 3];
    // Rows in parallel: every pixel is a pure function of its four buckets.
    data.par_chunks_mut(size * 3)
        .enumerate()
        .for_each(|(y, row)| {
            for (x, px) in row.chunks_exact_mut(3).enumerate() {
                let quad = [(0, 0), (0, 1), (1, 0), (1, 1)]
                    .map(|(dy, dx)| h.buckets[(2 * y + dy) * side + 2 * x + dx]);
                px.copy_from_slice(&tone_map_pixel(&quad, n_ref, gamma));
            }
        });
    RgbImage::new(size, size, data).unwrap_or_else(|_| unreachable!("sizes are consistent"))
}

/// One output pixel from its four histogram buckets ([count, r, g, b] each).
pub fn tone_map_pixel(quad: &[[u32; 4]; 4], n_ref: u32, gamma: f64) -> [u8; 3] {
    use super::log_exp::{exp2, log2};
    let denom = log2(1.0 + n_ref as f64);
    let mut acc = [0.0f64; 3];
    for &[n, r, g, b] in quad {
        if n == 0 {
            continue;
        }
        let alpha = (log2(1.0 + n as f64) / denom).min(1.0);
        let a = exp2(log2(alpha) / gamma);
        for (acc, s) in acc.iter_mut().zip([r, g, b]) {
            *acc += s as f64 / n as f64 * a;
        }
    }
    acc.map(|v| (v / 4.0).round().clamp(0.0, 255.0) as u8)
}
