//! Table operators: autocontrast, equalize, posterize, solarize (`ImageOps`).

use crate::image::RgbImage;

/// Per-channel histograms, as `Image.histogram()` for an RGB image.
pub fn histograms(img: &RgbImage) -> [[u32; 256]; 3] {
    let mut h = [[0u32; 256]; 3];
    for px in img.as_bytes().chunks_exact(3) {
        h[0][px[0] as usize] += 1;
        h[1][px[1] as usize] += 1;
        h[2][px[2] as usize] += 1;
    }
    h
}

fn identity() -> [u8; 256] {
    std::array::from_fn(|i| i as u8)
}

/// `ImageOps.autocontrast(img)` with cutoff 0.
pub fn autocontrast(img: &RgbImage) -> [[u8; 256]; 3] {
    histograms(img).map(|h| autocontrast_table(&h))
}

fn autocontrast_table(h: &[u32; 256]) -> [u8; 256] {
    let lo = h.iter().position(|&c| c != 0);
    let hi = h.iter().rposition(|&c| c != 0);
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return identity();
    };
    if hi <= lo {
        return identity();
    }
    let scale = 255.0 / (hi - lo) as f64;
    let offset = -(lo as f64) * scale;
    // Python's int() truncates toward zero before the clamp.
    std::array::from_fn(|i| ((i as f64 * scale + offset) as i64).clamp(0, 255) as u8)
}

/// `ImageOps.equalize(img)`.
pub fn equalize(img: &RgbImage) -> [[u8; 256]; 3] {
    histograms(img).map(|h| equalize_table(&h))
}

fn equalize_table(h: &[u32; 256]) -> [u8; 256] {
    let nonzero = h.iter().filter(|&&c| c != 0).count();
    let Some(last) = h.iter().rposition(|&c| c != 0) else {
        return identity();
    };
    if nonzero <= 1 {
        return identity();
    }
    let total: u64 = h.iter().map(|&c| c as u64).sum();
    let step = (total - h[last] as u64) / 255;
    if step == 0 {
        return identity();
    }
    let mut n = step / 2;
    let mut table = [0u8; 256];
    for (i, entry) in table.iter_mut().enumerate() {
        // Image.point() clips table values to 0..=255.
        *entry = (n / step).min(255) as u8;
        n += h[i] as u64;
    }
    table
}

/// `ImageOps.posterize(img, bits)`: keep the top `bits` bits.
pub fn posterize(bits: u32) -> [[u8; 256]; 3] {
    let mask = !((1u32 << (8 - bits.min(8))) - 1);
    [std::array::from_fn(|i| (i as u32 & mask) as u8); 3]
}

/// `ImageOps.solarize(img, threshold)`: invert values at or above the threshold.
pub fn solarize(threshold: u32) -> [[u8; 256]; 3] {
    [std::array::from_fn(|i| {
        if (i as u32) < threshold {
            i as u8
        } else {
            255 - i as u8
        }
    }); 3]
}

/// Applies per-channel tables to one row.
#[inline(always)]
pub fn apply_row(tables: &[[u8; 256]; 3], src: &[u8], out: &mut [u8]) {
    for (o, s) in out.chunks_exact_mut(3).zip(src.chunks_exact(3)) {
        o[0] = tables[0][s[0] as usize];
        o[1] = tables[1][s[1] as usize];
        o[2] = tables[2][s[2] as usize];
    }
}
