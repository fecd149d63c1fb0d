//! Walkers in lockstep. A walker's points form one long dependency chain, and the transform
//! each point goes through is random, so a lone walker stalls on every sine and square root
//! and mispredicts which variation comes next. Here [`LANES`] walkers step together: each
//! step groups them by the transform they drew, and every variation then runs over its
//! group, a run of independent points with no unpredictable branch between them, which the
//! core overlaps. Each walker computes exactly the points of [`walk`](super::render::walk), the
//! same IEEE operations in the same order, so the pictures do not change.

use std::ops::Range;

use super::fastmath::Stream;
use super::genome::{Genome, Transform};
use super::render::SKIP;
use super::variation::Variation;

/// Walkers stepping together (a power of two, so lane indices need no bounds checks).
const LANES: usize = 64;
const MASK: usize = LANES - 1;

/// Per-lane state, one array per quantity.
struct Lanes {
    rng: Vec<Stream>,
    walker: [usize; LANES],
    left: [usize; LANES],
    skip: [usize; LANES],
    bits: [u64; LANES],
    x: [f64; LANES],
    y: [f64; LANES],
    c: [f64; LANES],
    /// A step's results: position and colour.
    nx: [f64; LANES],
    ny: [f64; LANES],
    nc: [f64; LANES],
    coin: [bool; LANES],
    /// Scratch for one group, contiguous: affine image, coins, variation sums.
    gu: [f64; LANES],
    gv: [f64; LANES],
    gcoin: [bool; LANES],
    gx: [f64; LANES],
    gy: [f64; LANES],
    active: usize,
}

/// `walk`'s restart: a fresh random point and colour.
fn restart(rng: &mut Stream) -> (f64, f64, f64) {
    (rng.unit() * 2.0 - 1.0, rng.unit() * 2.0 - 1.0, rng.unit())
}

impl Lanes {
    fn new() -> Lanes {
        Lanes {
            rng: Vec::with_capacity(LANES),
            walker: [0; LANES],
            left: [0; LANES],
            skip: [0; LANES],
            bits: [0; LANES],
            x: [0.0; LANES],
            y: [0.0; LANES],
            c: [0.0; LANES],
            nx: [0.0; LANES],
            ny: [0.0; LANES],
            nc: [0.0; LANES],
            coin: [false; LANES],
            gu: [0.0; LANES],
            gv: [0.0; LANES],
            gcoin: [false; LANES],
            gx: [0.0; LANES],
            gy: [0.0; LANES],
            active: 0,
        }
    }

    /// Starts walker `w` (of `points` points) in lane `l`.
    fn start(&mut self, l: usize, seed: u64, w: usize, points: usize) {
        let mut rng = Stream::new(seed, w as u64);
        (self.x[l], self.y[l], self.c[l]) = restart(&mut rng);
        if l < self.rng.len() {
            self.rng[l] = rng;
        } else {
            self.rng.push(rng);
        }
        self.walker[l] = w;
        self.left[l] = points;
        self.skip[l] = SKIP;
    }

    /// Moves the last active lane into lane `l` (whose walker is done).
    fn retire(&mut self, l: usize) {
        let last = self.active - 1;
        self.rng.swap(l, last);
        self.rng.pop();
        for a in [&mut self.walker, &mut self.left, &mut self.skip] {
            a[l] = a[last];
        }
        for a in [&mut self.x, &mut self.y, &mut self.c] {
            a[l] = a[last];
        }
        self.active = last;
    }

    /// Applies `t` to the lanes listed in `group` (their inputs in `x`, `y`, `c`, their
    /// coins in `coin`), leaving the result in `nx`, `ny` and the colour in `nc`. The group
    /// is gathered into contiguous scratch first, so the variations run over plain slices.
    #[inline(always)]
    fn apply(&mut self, t: &Transform, group: &[u8]) {
        let len = group.len();
        let [a, b, cc, d, e, f] = t.affine;
        for (k, &l) in group.iter().enumerate() {
            let l = l as usize & MASK;
            let k = k & MASK;
            let (x, y) = (self.x[l], self.y[l]);
            self.gu[k] = a * x + b * y + e;
            self.gv[k] = cc * x + d * y + f;
            self.gcoin[k] = self.coin[l];
            self.gx[k] = 0.0;
            self.gy[k] = 0.0;
        }
        let (u, v, coin) = (&self.gu[..len], &self.gv[..len], &self.gcoin[..len]);
        let (gx, gy) = (&mut self.gx[..len], &mut self.gy[..len]);
        for &(var, w) in &t.variations {
            variation(var, w, u, v, coin, gx, gy);
        }
        let (keep, speed) = (1.0 - t.color_speed, t.color_speed * t.color);
        for (k, &l) in group.iter().enumerate() {
            let l = l as usize & MASK;
            let k = k & MASK;
            let (nx, ny) = (self.gx[k], self.gy[k]);
            (self.nx[l], self.ny[l]) = match t.post {
                Some([a, b, cc, d, e, f]) => (a * nx + b * ny + e, cc * nx + d * ny + f),
                None => (nx, ny),
            };
            self.nc[l] = keep * self.c[l] + speed;
        }
    }
}

/// Adds `w * var(u, v)` to `nx`, `ny` over whole slices; the variation is chosen once,
/// outside the loop.
#[inline(always)]
fn variation(
    var: Variation,
    w: f64,
    u: &[f64],
    v: &[f64],
    coin: &[bool],
    nx: &mut [f64],
    ny: &mut [f64],
) {
    macro_rules! over {
        ($($name:ident),*) => {
            match var {
                $(Variation::$name => {
                    let points = u.iter().zip(v).zip(coin).zip(nx.iter_mut().zip(ny.iter_mut()));
                    for (((&u, &v), &coin), (nx, ny)) in points {
                        let (vx, vy) = Variation::$name.eval(u, v, coin);
                        *nx += w * vx;
                        *ny += w * vy;
                    }
                })*
            }
        };
    }
    over!(
        Linear,
        Sinusoidal,
        Spherical,
        Swirl,
        Horseshoe,
        Polar,
        Handkerchief,
        Heart,
        Disc,
        Spiral,
        Hyperbolic,
        Diamond,
        Julia,
        Bubble,
        Exponential
    );
}

/// Runs walkers `walkers` of `g` (walker `w` plots `points(w)` points, which must be at
/// least one) and calls `plot(walker, x, y, colour)` for every point, each walker's points
/// in the order [`walk`](super::render::walk) plots them.
pub(super) fn walk_all(
    g: &Genome,
    cum: &[f64],
    seed: u64,
    walkers: Range<usize>,
    points: impl Fn(usize) -> usize,
    plot: impl FnMut(usize, f64, f64, f64),
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { walk_all_avx2(g, cum, seed, walkers, points, plot) };
    }
    walk_all_lanes(g, cum, seed, walkers, points, plot)
}

/// [`walk_all`] with the variations' loops compiled for 4-wide double vectors. No FMA: the
/// IEEE operations, and so the points, are the portable code's.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn walk_all_avx2(
    g: &Genome,
    cum: &[f64],
    seed: u64,
    walkers: Range<usize>,
    points: impl Fn(usize) -> usize,
    plot: impl FnMut(usize, f64, f64, f64),
) {
    walk_all_lanes(g, cum, seed, walkers, points, plot)
}

#[inline(always)]
fn walk_all_lanes(
    g: &Genome,
    cum: &[f64],
    seed: u64,
    walkers: Range<usize>,
    points: impl Fn(usize) -> usize,
    mut plot: impl FnMut(usize, f64, f64, f64),
) {
    let n = g.transforms.len();
    if n == 0 || cum.len() != n {
        return;
    }
    let last = n - 1;
    let mut s = Lanes::new();
    let mut next = walkers.start;
    while s.active < LANES && next < walkers.end {
        s.start(s.active, seed, next, points(next));
        s.active += 1;
        next += 1;
    }
    let mut pick = [0usize; LANES];
    let (mut counts, mut starts, mut fill) = (vec![0; n], vec![0; n + 1], vec![0; n]);
    let mut order = [0u8; LANES];
    let mut plotting = [0u8; LANES];
    while s.active > 0 {
        // Draw each lane's transform, then list the lanes transform by transform. Each
        // pass runs over all lanes at once, so the random streams and the comparisons with
        // the cumulative weights are computed as vectors.
        let active = s.active;
        for (rng, bits) in s.rng.iter_mut().zip(&mut s.bits[..active]) {
            *bits = rng.next_u64();
        }
        let mut unit = [0f64; LANES];
        for (u, &bits) in unit[..active].iter_mut().zip(&s.bits[..active]) {
            *u = (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        }
        // `walk`'s first p with u < p, as the count of p <= u (`cum` never falls).
        pick[..active].fill(0);
        for &p in cum {
            for (i, &u) in pick[..active].iter_mut().zip(&unit[..active]) {
                *i += (p <= u) as usize;
            }
        }
        counts.fill(0);
        for (l, i) in pick[..active].iter_mut().enumerate() {
            *i = (*i).min(last);
            s.coin[l] = s.bits[l] & 1 == 1;
            counts[*i] += 1;
        }
        for i in 0..n {
            starts[i + 1] = starts[i] + counts[i];
        }
        fill.copy_from_slice(&starts[..n]);
        for (l, &i) in pick[..active].iter().enumerate() {
            order[fill[i]] = l as u8;
            fill[i] += 1;
        }
        for (i, t) in g.transforms.iter().enumerate() {
            if starts[i] < starts[i + 1] {
                s.apply(t, &order[starts[i]..starts[i + 1]]);
            }
        }
        // Restarts, warm-up, then the points that plot (through the final transform).
        let mut plots = 0;
        for l in 0..active {
            let (x, y, c) = (s.nx[l], s.ny[l], s.nc[l]);
            if !(x.is_finite() && y.is_finite()) || x.abs() > 1e10 || y.abs() > 1e10 {
                (s.x[l], s.y[l], s.c[l]) = restart(&mut s.rng[l]);
                s.skip[l] = SKIP;
            } else {
                (s.x[l], s.y[l], s.c[l]) = (x, y, c);
                if s.skip[l] > 0 {
                    s.skip[l] -= 1;
                } else {
                    plotting[plots] = l as u8;
                    plots += 1;
                }
            }
        }
        let plotted = &plotting[..plots];
        match &g.final_transform {
            Some(f) => {
                for &l in plotted {
                    let l = l as usize & MASK;
                    s.coin[l] = s.bits[l] & 2 == 2;
                }
                s.apply(f, plotted);
            }
            None => {
                for &l in plotted {
                    let l = l as usize & MASK;
                    (s.nx[l], s.ny[l], s.nc[l]) = (s.x[l], s.y[l], s.c[l]);
                }
            }
        }
        for &l in plotted {
            let l = l as usize & MASK;
            plot(s.walker[l], s.nx[l], s.ny[l], s.nc[l]);
            s.left[l] -= 1;
        }
        // Finished walkers hand their lane to the next walker, or give it up. Going down
        // keeps the lanes still to visit in place when the last one moves.
        for &l in plotted.iter().rev() {
            let l = l as usize & MASK;
            if s.left[l] == 0 {
                if next < walkers.end {
                    s.start(l, seed, next, points(next));
                    next += 1;
                } else {
                    s.retire(l);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fractal::render::{cumulative, frame, walk};

    type Points = Vec<Vec<[u64; 3]>>;

    fn bits(x: f64, y: f64, c: f64) -> [u64; 3] {
        [x.to_bits(), y.to_bits(), c.to_bits()]
    }

    #[test]
    fn every_walker_plots_the_points_of_a_lone_walker() {
        let points = |w: usize| [1, 7, 300][w % 3];
        for i in 0..40 {
            let mut g = Genome::random(3, i);
            if !frame(&mut g, i) {
                continue;
            }
            let cum = cumulative(&g);
            let walkers = 10..150;
            let mut lone: Points = vec![Vec::new(); walkers.end];
            for w in walkers.clone() {
                walk(&g, &cum, 9, w as u64, points(w), |x, y, c| {
                    lone[w].push(bits(x, y, c))
                });
            }
            let mut together: Points = vec![Vec::new(); walkers.end];
            walk_all(&g, &cum, 9, walkers, points, |w, x, y, c| {
                together[w].push(bits(x, y, c))
            });
            assert_eq!(lone, together, "genome {i}");
        }
    }

    #[test]
    fn a_genome_without_transforms_plots_nothing() {
        let mut g = Genome::random(3, 0);
        g.transforms.clear();
        let mut plotted = 0;
        walk_all(
            &g,
            &cumulative(&g),
            0,
            0..4,
            |_| 5,
            |_, _, _, _| plotted += 1,
        );
        assert_eq!(plotted, 0);
    }
}
