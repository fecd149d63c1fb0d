//! Random flame genomes: transforms, variations, symmetry, palette and framing.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};

use super::variation::Variation;

/// One transform of a flame.
#[derive(Clone, Debug, PartialEq)]
pub struct Transform {
    /// Selection weight.
    pub weight: f64,
    /// Pre-affine (a, b, c, d, e, f): (u, v) = (a x + b y + e, c x + d y + f).
    pub affine: [f64; 6],
    /// Post-affine applied after the variations (None: identity).
    pub post: Option<[f64; 6]>,
    /// Variations and their blending weights (summing to 1).
    pub variations: Vec<(Variation, f64)>,
    /// Colour coordinate in [0, 1].
    pub color: f64,
    /// Colour speed: 0 leaves the walker's colour unchanged (symmetry transforms).
    pub color_speed: f64,
}

/// The square of the plane that maps onto the picture.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    /// Centre x.
    pub cx: f64,
    /// Centre y.
    pub cy: f64,
    /// Side length.
    pub side: f64,
}

/// A flame: transforms, an optional final transform, a palette and a gamma.
#[derive(Clone, Debug, PartialEq)]
pub struct Genome {
    /// The transforms walkers pick from.
    pub transforms: Vec<Transform>,
    /// Applied to the plotted copy of each point only.
    pub final_transform: Option<Transform>,
    /// 256 RGB entries in [0, 1].
    pub palette: Vec<[f64; 3]>,
    /// Tone-mapping gamma, U(2, 4).
    pub gamma: f64,
    /// Where the picture looks (set by framing).
    pub frame: Frame,
}

const TRANSFORM_COUNTS: [usize; 14] = [2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 6];

fn affine(rng: &mut ChaCha8Rng) -> [f64; 6] {
    let u = Uniform::new(-1.0, 1.0).unwrap_or_else(|_| unreachable!("valid range"));
    std::array::from_fn(|_| u.sample(rng))
}

fn hsv(h: f64, s: f64, v: f64) -> [f64; 3] {
    let h = h.rem_euclid(1.0) * 6.0;
    let i = h.floor();
    let f = h - i;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    match i as i32 {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    }
}

/// 3 to 7 HSV keys, hue random-walking by up to 0.25 with a 25% chance of a complementary
/// jump, S in [0.5, 1], V in [0.6, 1], interpolated into 256 entries.
fn palette(rng: &mut ChaCha8Rng) -> Vec<[f64; 3]> {
    let n = rng.random_range(3..=7);
    let mut h = rng.random::<f64>();
    let keys: Vec<[f64; 3]> = (0..n)
        .map(|_| {
            h +=
                rng.random_range(-0.25..=0.25) + if rng.random::<f64>() < 0.25 { 0.5 } else { 0.0 };
            hsv(h, rng.random_range(0.5..=1.0), rng.random_range(0.6..=1.0))
        })
        .collect();
    (0..256)
        .map(|i| {
            let t = i as f64 / 255.0 * (n - 1) as f64;
            let k = (t.floor() as usize).min(n - 2);
            let f = t - k as f64;
            std::array::from_fn(|c| keys[k][c] * (1.0 - f) + keys[k + 1][c] * f)
        })
        .collect()
}

fn variations(rng: &mut ChaCha8Rng) -> Vec<(Variation, f64)> {
    let n = rng.random_range(1..=4);
    let mut v: Vec<(Variation, f64)> = (0..n)
        .map(|_| {
            (
                Variation::ALL[rng.random_range(0..Variation::ALL.len())],
                rng.random::<f64>() + 1e-3,
            )
        })
        .collect();
    let total: f64 = v.iter().map(|x| x.1).sum();
    for x in &mut v {
        x.1 /= total;
    }
    v
}

fn rotation(angle: f64, mirror: bool) -> [f64; 6] {
    let (s, c) = angle.sin_cos();
    let m = if mirror { -1.0 } else { 1.0 };
    [c * m, -s, s * m, c, 0.0, 0.0]
}

impl Genome {
    /// Genome `index` of `seed`: the same pair always gives the same genome. The frame is
    /// left at the unit square; [`frame`](super::render::frame) sets it.
    pub fn random(seed: u64, index: u64) -> Genome {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x666c_616d_6573);
        rng.set_stream(index);
        let rng = &mut rng;
        let n = TRANSFORM_COUNTS[rng.random_range(0..TRANSFORM_COUNTS.len())];
        let reuse = rng.random::<f64>() < 0.5;
        let mut transforms: Vec<Transform> = Vec::with_capacity(n + 6);
        for i in 0..n {
            let vars = match (reuse, transforms.last()) {
                (true, Some(prev)) if i > 0 => prev.variations.clone(),
                _ => variations(rng),
            };
            transforms.push(Transform {
                weight: rng.random_range(0.25..=1.0),
                affine: affine(rng),
                post: if rng.random::<f64>() < 0.6 {
                    None
                } else {
                    Some(affine(rng))
                },
                variations: vars,
                color: rng.random::<f64>(),
                color_speed: 0.5,
            });
        }
        let final_transform = (rng.random::<f64>() < 0.15).then(|| Transform {
            weight: 1.0,
            affine: affine(rng),
            post: None,
            variations: variations(rng),
            color: rng.random::<f64>(),
            color_speed: 0.0,
        });
        if final_transform.is_none() && rng.random::<f64>() < 0.25 {
            // Rotational symmetry of order 2 to 6, optionally mirrored.
            let order = rng.random_range(2..=6);
            let mirrored = rng.random::<f64>() < 0.5;
            let weight = transforms.iter().map(|t| t.weight).sum::<f64>() / n as f64;
            for k in 1..order {
                for mirror in [false, true].into_iter().take(1 + mirrored as usize) {
                    let angle = 2.0 * std::f64::consts::PI * k as f64 / order as f64;
                    transforms.push(Transform {
                        weight,
                        affine: rotation(angle, mirror),
                        post: None,
                        variations: vec![(Variation::Linear, 1.0)],
                        color: 0.0,
                        color_speed: 0.0,
                    });
                }
            }
        }
        Genome {
            transforms,
            final_transform,
            palette: palette(rng),
            gamma: rng.random_range(2.0..=4.0),
            frame: Frame {
                cx: 0.0,
                cy: 0.0,
                side: 2.0,
            },
        }
    }
}
