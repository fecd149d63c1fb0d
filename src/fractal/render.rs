//! The CPU renderer: the chaos game into a 2x histogram, tone mapping, box filter down.

use rayon::prelude::*;

use super::fastmath::Stream;
use super::genome::{Frame, Genome, Transform};
use crate::image::RgbImage;

/// Steps each walker runs before it plots.
const SKIP: usize = 20;
/// Points per walker; walkers are the unit of parallel work and of random streams.
const WALKER_POINTS: usize = 1 << 16;

/// One walker step through `t`.
#[inline]
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
fn cumulative(g: &Genome) -> Vec<f64> {
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
fn walk(
    g: &Genome,
    cum: &[f64],
    seed: u64,
    stream: u64,
    points: usize,
    mut plot: impl FnMut(f64, f64, f64),
) {
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
    let q = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        (v[n / 200], v[n - 1 - n / 200])
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

    fn merge(mut self, other: Histogram) -> Histogram {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            for k in 0..4 {
                a[k] = a[k].saturating_add(b[k]);
            }
        }
        self
    }
}

/// Renders `g` at `size` x `size` with `quality` plotted points per output pixel.
pub fn render(g: &Genome, size: usize, quality: f64, seed: u64) -> RgbImage {
    let side = 2 * size;
    let cum = cumulative(g);
    let palette: Vec<[u32; 3]> = g
        .palette
        .iter()
        .map(|p| p.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u32))
        .collect();
    let total = (quality * (size * size) as f64).ceil() as usize;
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
            let mut h = Histogram::new(side);
            for w in group * per_group..((group + 1) * per_group).min(walkers) {
                let points = WALKER_POINTS.min(total - w * WALKER_POINTS);
                walk(g, &cum, seed, w as u64, points, |x, y, c| {
                    let (fx, fy) = ((x - ox) * scale, (y - oy) * scale);
                    if fx >= 0.0 && fy >= 0.0 && fx < side as f64 && fy < side as f64 {
                        let b = &mut h.buckets[fy as usize * side + fx as usize];
                        let p = palette[((c.clamp(0.0, 1.0) * 255.0) as usize).min(255)];
                        b[0] = b[0].saturating_add(1);
                        for k in 0..3 {
                            b[k + 1] = b[k + 1].saturating_add(p[k]);
                        }
                    }
                });
            }
            h
        })
        .reduce_with(Histogram::merge)
        .unwrap_or_else(|| Histogram::new(side));
    tone_map(&hist, g.gamma, size)
}

/// alpha = min(1, ln(1 + n) / ln(1 + n_ref)) with n_ref the 99.5th percentile of non-zero
/// counts; pixel = mean colour * alpha^(1/gamma); then 2x2 box filter.
fn tone_map(h: &Histogram, gamma: f64, size: usize) -> RgbImage {
    let mut nonzero: Vec<u32> = h.buckets.iter().map(|b| b[0]).filter(|&c| c > 0).collect();
    let n_ref = if nonzero.is_empty() {
        1.0
    } else {
        let k = (nonzero.len() * 995 / 1000).min(nonzero.len() - 1);
        *nonzero.select_nth_unstable(k).1 as f64
    };
    let denom = (1.0 + n_ref).ln().max(1e-9);
    let value = |i: usize| -> [f64; 3] {
        let [n, r, g, b] = h.buckets[i];
        if n == 0 {
            return [0.0; 3];
        }
        let alpha = ((1.0 + n as f64).ln() / denom).min(1.0).powf(1.0 / gamma);
        [r, g, b].map(|s| s as f64 / n as f64 * alpha)
    };
    let side = h.side;
    let mut data = Vec::with_capacity(size * size * 3);
    for y in 0..size {
        for x in 0..size {
            let mut acc = [0.0; 3];
            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let v = value((2 * y + dy) * side + 2 * x + dx);
                for c in 0..3 {
                    acc[c] += v[c];
                }
            }
            data.extend(acc.map(|v| (v / 4.0).round().clamp(0.0, 255.0) as u8));
        }
    }
    RgbImage::new(size, size, data).unwrap_or_else(|_| unreachable!("sizes are consistent"))
}
