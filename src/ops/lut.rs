//! The `ImageOps` operators that map each byte on its own: autocontrast and equalize as
//! per-channel tables, posterize and solarize as rules computed in vector code.

use crate::image::RgbImage;

/// Per-channel counts of every byte value.
pub type Histograms = [[u32; 256]; 3];

/// A per-channel byte map.
pub type Lut = [[u8; 256]; 3];

/// Per-channel histograms, as `Image.histogram()` for an RGB image.
pub fn histograms(img: &RgbImage) -> Histograms {
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
pub fn autocontrast(img: &RgbImage) -> Lut {
    histograms(img).map(|h| autocontrast_table(&h))
}

/// The autocontrast table of one channel's histogram.
pub fn autocontrast_table(h: &[u32; 256]) -> [u8; 256] {
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
pub fn equalize(img: &RgbImage) -> Lut {
    histograms(img).map(|h| equalize_table(&h))
}

/// The equalize table of one channel's histogram.
pub fn equalize_table(h: &[u32; 256]) -> [u8; 256] {
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

/// `ImageOps.posterize(img, bits)` keeps the top `bits` bits of every byte: this mask.
pub fn posterize_mask(bits: u32) -> u8 {
    !((1u32 << (8 - bits.min(8))) - 1) as u8
}

/// [`posterize_mask`] applied to a row: one AND a byte, which the compiler vectorises
/// (a table costs a load a byte).
#[inline(always)]
pub fn posterize_row(mask: u8, src: &[u8], out: &mut [u8]) {
    for (o, &s) in out.iter_mut().zip(src) {
        *o = s & mask;
    }
}

/// `ImageOps.solarize(img, threshold)` on a row: bytes at or above the threshold (0 to
/// 256) are inverted. A compare and a select a byte, in vector code.
#[inline(always)]
pub fn solarize_row(threshold: u16, src: &[u8], out: &mut [u8]) {
    if threshold > 255 {
        return out.copy_from_slice(src);
    }
    let t = threshold as u8;
    for (o, &s) in out.iter_mut().zip(src) {
        *o = if s < t { s } else { !s };
    }
}

/// Applies per-channel tables to one row.
#[inline(always)]
pub fn apply_row(tables: &Lut, src: &[u8], out: &mut [u8]) {
    for (o, s) in out.chunks_exact_mut(3).zip(src.chunks_exact(3)) {
        o[0] = tables[0][s[0] as usize];
        o[1] = tables[1][s[1] as usize];
        o[2] = tables[2][s[2] as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The row rules are `ImageOps`' per-byte definitions for every byte and parameter.
    #[test]
    fn posterize_and_solarize_rows_follow_their_definitions() {
        let bytes: Vec<u8> = (0..=255).collect();
        let mut out = vec![0u8; 256];
        for bits in 0..=8u32 {
            posterize_row(posterize_mask(bits), &bytes, &mut out);
            for (v, &o) in out.iter().enumerate() {
                // Keep the top `bits` bits: v rounded down to a multiple of 2^(8 - bits).
                let step = 1u32 << (8 - bits);
                assert_eq!(
                    o as u32,
                    v as u32 / step * step,
                    "posterize {bits} bits, {v}"
                );
            }
        }
        for threshold in 0..=256u16 {
            solarize_row(threshold, &bytes, &mut out);
            for (v, &o) in out.iter().enumerate() {
                let want = if (v as u16) < threshold { v } else { 255 - v };
                assert_eq!(o as usize, want, "solarize at {threshold}, {v}");
            }
        }
    }
}
