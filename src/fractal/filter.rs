//! The verdict on a preview: is the picture structured and colourful enough to mix with?

use crate::image::RgbImage;

/// Acceptance thresholds (the design's defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct Thresholds {
    /// Allowed share of pixels with luminance above 0.05.
    pub coverage: (f64, f64),
    /// Least box-counting dimension (box sizes 2 to 64 pixels); drops thin strokes.
    pub min_dimension: f64,
    /// Least share of black pixels (luminance at most 0.02).
    pub min_black: f64,
    /// Largest share of white pixels (luminance at least 0.98).
    pub max_white: f64,
    /// Largest share of the total luminance held by the brightest 1% of pixels.
    pub max_top_share: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            coverage: (0.10, 0.85),
            min_dimension: 1.55,
            min_black: 0.01,
            max_white: 0.05,
            max_top_share: 0.20,
        }
    }
}

/// The measurements a verdict is based on.
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    /// Share of pixels with luminance above 0.05.
    pub coverage: f64,
    /// Box-counting dimension of those pixels.
    pub dimension: f64,
    /// Share of pixels with luminance at most 0.02.
    pub black: f64,
    /// Share of pixels with luminance at least 0.98.
    pub white: f64,
    /// Share of the total luminance in the brightest 1% of pixels.
    pub top_share: f64,
}

impl Metrics {
    /// Measures `img`.
    pub fn of(img: &RgbImage) -> Metrics {
        let (w, h) = (img.width(), img.height());
        let luma: Vec<f64> = img
            .as_bytes()
            .chunks_exact(3)
            .map(|p| (0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64) / 255.0)
            .collect();
        let n = luma.len() as f64;
        let share = |f: &dyn Fn(f64) -> bool| luma.iter().filter(|&&l| f(l)).count() as f64 / n;
        let mut sorted = luma.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let total: f64 = sorted.iter().sum();
        let top: f64 = sorted[..(luma.len() / 100).max(1)].iter().sum();
        Metrics {
            coverage: share(&|l| l > 0.05),
            dimension: box_dimension(&luma, w, h),
            black: share(&|l| l <= 0.02),
            white: share(&|l| l >= 0.98),
            top_share: if total > 0.0 { top / total } else { 1.0 },
        }
    }

    /// Whether every threshold holds.
    pub fn passes(&self, t: &Thresholds) -> bool {
        self.failures(t) == [false; 5]
    }

    /// Which thresholds fail, in the order coverage, dimension, black, white, top share.
    pub fn failures(&self, t: &Thresholds) -> [bool; 5] {
        [
            !(t.coverage.0..=t.coverage.1).contains(&self.coverage),
            self.dimension < t.min_dimension,
            self.black < t.min_black,
            self.white > t.max_white,
            self.top_share > t.max_top_share,
        ]
    }
}

/// Least-squares slope of ln N(s) against ln(1/s) for boxes of 2 to 64 pixels, where N(s)
/// counts the boxes holding a pixel brighter than 0.05.
fn box_dimension(luma: &[f64], w: usize, h: usize) -> f64 {
    let mut pts = Vec::new();
    let mut s = 2;
    while s <= 64 && s <= w.min(h) {
        let (bw, bh) = (w.div_ceil(s), h.div_ceil(s));
        let mut boxes = vec![false; bw * bh];
        for y in 0..h {
            for x in 0..w {
                if luma[y * w + x] > 0.05 {
                    boxes[(y / s) * bw + x / s] = true;
                }
            }
        }
        let count = boxes.iter().filter(|&&b| b).count();
        if count > 0 {
            pts.push(((1.0 / s as f64).ln(), (count as f64).ln()));
        }
        s *= 2;
    }
    if pts.len() < 2 {
        return 0.0;
    }
    let k = pts.len() as f64;
    let (mx, my) = (
        pts.iter().map(|p| p.0).sum::<f64>() / k,
        pts.iter().map(|p| p.1).sum::<f64>() / k,
    );
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    sxy / sxx
}
