//! The flame variations (Draves & Reckase), with the flame convention
//! `theta = atan2(u, v)` and a tiny epsilon in every denominator.

use std::f64::consts::PI;

use super::fastmath::{atan2, cos, exp, sin, sin_cos};

const EPS: f64 = 1e-10;

/// A variation function V(u, v).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variation {
    /// (u, v)
    Linear,
    /// (sin u, sin v)
    Sinusoidal,
    /// (u, v) / r^2
    Spherical,
    /// (u sin r^2 - v cos r^2, u cos r^2 + v sin r^2)
    Swirl,
    /// ((u - v)(u + v), 2uv) / r
    Horseshoe,
    /// (theta / pi, r - 1)
    Polar,
    /// r (sin(theta + r), cos(theta - r))
    Handkerchief,
    /// r (sin(theta r), -cos(theta r))
    Heart,
    /// (theta / pi)(sin(pi r), cos(pi r))
    Disc,
    /// (cos theta + sin r, sin theta - cos r) / r
    Spiral,
    /// (sin theta / r, r cos theta)
    Hyperbolic,
    /// (sin theta cos r, cos theta sin r)
    Diamond,
    /// sqrt(r) (cos(theta/2 + w), sin(theta/2 + w)), w in {0, pi} at random
    Julia,
    /// 4 (u, v) / (r^2 + 4)
    Bubble,
    /// e^(u - 1) (cos(pi v), sin(pi v))
    Exponential,
}

impl Variation {
    /// All variations.
    pub const ALL: [Variation; 15] = [
        Variation::Linear,
        Variation::Sinusoidal,
        Variation::Spherical,
        Variation::Swirl,
        Variation::Horseshoe,
        Variation::Polar,
        Variation::Handkerchief,
        Variation::Heart,
        Variation::Disc,
        Variation::Spiral,
        Variation::Hyperbolic,
        Variation::Diamond,
        Variation::Julia,
        Variation::Bubble,
        Variation::Exponential,
    ];

    /// V(u, v); `coin` picks Julia's branch.
    #[inline]
    pub fn apply(self, u: f64, v: f64, coin: bool) -> (f64, f64) {
        self.eval(u, v, coin)
    }

    /// [`apply`](Self::apply), always inlined: where the variation is a constant only its
    /// own arm remains, and a loop over many points can be vectorised.
    #[inline(always)]
    pub(super) fn eval(self, u: f64, v: f64, coin: bool) -> (f64, f64) {
        let r2 = || u * u + v * v;
        let r = || (u * u + v * v).sqrt();
        let theta = || atan2(u, v);
        match self {
            Variation::Linear => (u, v),
            Variation::Sinusoidal => (sin(u), sin(v)),
            Variation::Spherical => {
                let k = 1.0 / (r2() + EPS);
                (u * k, v * k)
            }
            Variation::Swirl => {
                let (s, c) = sin_cos(r2());
                (u * s - v * c, u * c + v * s)
            }
            Variation::Horseshoe => {
                let k = 1.0 / (r() + EPS);
                ((u - v) * (u + v) * k, 2.0 * u * v * k)
            }
            Variation::Polar => (theta() / PI, r() - 1.0),
            Variation::Handkerchief => {
                let (r, t) = (r(), theta());
                (r * sin(t + r), r * cos(t - r))
            }
            Variation::Heart => {
                let (r, t) = (r(), theta());
                let (s, c) = sin_cos(t * r);
                (r * s, -r * c)
            }
            Variation::Disc => {
                let (r, t) = (r(), theta());
                let (s, c) = sin_cos(PI * r);
                (t / PI * s, t / PI * c)
            }
            Variation::Spiral => {
                let (r, t) = (r(), theta());
                let k = 1.0 / (r + EPS);
                let ((st, ct), (sr, cr)) = (sin_cos(t), sin_cos(r));
                ((ct + sr) * k, (st - cr) * k)
            }
            Variation::Hyperbolic => {
                let (r, t) = (r(), theta());
                let (st, ct) = sin_cos(t);
                (st / (r + EPS), r * ct)
            }
            Variation::Diamond => {
                let (r, t) = (r(), theta());
                let ((st, ct), (sr, cr)) = (sin_cos(t), sin_cos(r));
                (st * cr, ct * sr)
            }
            Variation::Julia => {
                let (r, t) = (r(), theta());
                let w = if coin { PI } else { 0.0 };
                let (s, c) = sin_cos(t / 2.0 + w);
                let q = r.sqrt();
                (q * c, q * s)
            }
            Variation::Bubble => {
                let k = 4.0 / (r2() + 4.0);
                (u * k, v * k)
            }
            Variation::Exponential => {
                let e = exp(u - 1.0);
                let (s, c) = sin_cos(PI * v);
                (e * c, e * s)
            }
        }
    }
}
