//! One AugMix chain on the CPU, with its byte-wise operators folded into tables.
//!
//! Autocontrast, equalize, posterize and solarize map every byte through a per-channel
//! table. A run of them is one table (their composition), applied to nothing until an
//! operator needs the pixels: a geometric or enhance operator reads the image with the
//! table applied (written once), and at the end of the chain the table goes into the
//! mixture's tables.
//! Autocontrast and equalize build their table from the histogram of the image they see,
//! which is the histogram of the last written image carried through the pending table.
//! Integer tables and counts all along: the bytes are those of the operators applied one
//! after the other.

use crate::error::Result;
use crate::image::RgbImage;
use crate::ops::lut::{
    Histograms, Lut, apply_row, autocontrast_table, equalize_table, histograms, posterize_mask,
};
use crate::ops::{Operator, PreparedOp, geometry};
use crate::plan::OpPlan;

/// Where a chain's image lies when its operators have run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Source {
    /// The original (no operator wrote an image).
    Orig,
    /// The chain's own image.
    Own,
}

/// A chain run up to its rows: row y of the chain's output is `lut` applied to row y of
/// `last` applied to the source image (the original or the chain's own image), where a
/// missing `last` or `lut` does nothing (the two are never both present).
pub(super) struct ChainEnd {
    pub source: Source,
    /// The last operator when it is not byte-wise (geometric or an enhance), applied row
    /// by row.
    pub last: Option<PreparedOp>,
    /// The byte-wise operators after the last written image.
    pub lut: Option<Lut>,
}

/// The image an operator sees: the original, or one of the two work images.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Image {
    Orig,
    Temp,
    Own,
}

/// Runs the operators of `chain` on `orig` (with its histograms `orig_hist`, computed
/// when first needed), writing images into `temp` and `own` only; the result lies in `own`
/// (or is the original). The last operator, unless byte-wise, is left to the caller's rows.
pub(super) fn run(
    chain: &[OpPlan],
    orig: &RgbImage,
    orig_hist: &mut Option<Histograms>,
    temp: &mut RgbImage,
    own: &mut RgbImage,
) -> Result<ChainEnd> {
    let (width, height) = (orig.width(), orig.height());
    let mut cur = Image::Orig;
    // The histograms of `cur`, when computed.
    let mut cur_hist: Option<Histograms> = None;
    let mut lut: Option<Lut> = None;
    for (k, op) in chain.iter().enumerate() {
        let o = op
            .operator()?
            .expect("checked: every chain step has an operator");
        let table = match o {
            Operator::Autocontrast | Operator::Equalize => {
                let hist = match cur {
                    Image::Orig => *orig_hist.get_or_insert_with(|| histograms(orig)),
                    Image::Temp => *cur_hist.get_or_insert_with(|| histograms(temp)),
                    Image::Own => *cur_hist.get_or_insert_with(|| histograms(own)),
                };
                let hist = match &lut {
                    Some(l) => through(&hist, l),
                    None => hist,
                };
                Some(hist.map(|h| match o {
                    Operator::Autocontrast => autocontrast_table(&h),
                    _ => equalize_table(&h),
                }))
            }
            Operator::Posterize => {
                let mask = posterize_mask(op.param as u32);
                Some([std::array::from_fn(|v| v as u8 & mask); 3])
            }
            Operator::Solarize => {
                // Bytes at or above the threshold (0 to 256) are inverted.
                let t = op.param as u16;
                Some(
                    [std::array::from_fn(|v| if v < t as usize { v as u8 } else { !(v as u8) }); 3],
                )
            }
            _ => None,
        };
        if let Some(table) = table {
            lut = Some(match &lut {
                Some(l) => std::array::from_fn(|ch| l[ch].map(|v| table[ch][v as usize])),
                None => table,
            });
            continue;
        }
        let geometric = matches!(
            o,
            Operator::Rotate
                | Operator::ShearX
                | Operator::ShearY
                | Operator::TranslateX
                | Operator::TranslateY
        );
        // A rotation by a multiple of 360 degrees is a copy: nothing to do.
        if geometric && matches!(geometry(o, op.param, width, height), PreparedOp::Identity) {
            continue;
        }
        // The other operators read the image with the pending tables applied (the
        // histograms of `cur` are not needed again: the operator writes the next image).
        if let Some(l) = lut.take().filter(|l| !is_identity(l)) {
            cur = write(cur, orig, temp, own, |src, dst| {
                for y in 0..height {
                    apply_row(&l, src.row(y), dst.row_mut(y));
                }
            });
        }
        let image = match cur {
            Image::Orig => orig,
            Image::Temp => &*temp,
            Image::Own => &*own,
        };
        let g = PreparedOp::new(o, op.param, image)?;
        if k + 1 == chain.len() {
            return Ok(end(cur, temp, own, Some(g), None));
        }
        cur = write(cur, orig, temp, own, |src, dst| {
            for y in 0..height {
                g.row(src, y, dst.row_mut(y));
            }
        });
        cur_hist = None;
    }
    Ok(end(cur, temp, own, None, lut))
}

/// The chain's end, its image moved into `own` if it lies in `temp` (the two swap).
fn end(
    cur: Image,
    temp: &mut RgbImage,
    own: &mut RgbImage,
    last: Option<PreparedOp>,
    lut: Option<Lut>,
) -> ChainEnd {
    let source = match cur {
        Image::Orig => Source::Orig,
        Image::Temp => {
            std::mem::swap(temp, own);
            Source::Own
        }
        Image::Own => Source::Own,
    };
    ChainEnd { source, last, lut }
}

/// Writes `f(cur's image, another work image)` and returns which image that was.
#[inline(always)]
fn write(
    cur: Image,
    orig: &RgbImage,
    temp: &mut RgbImage,
    own: &mut RgbImage,
    f: impl FnOnce(&RgbImage, &mut RgbImage),
) -> Image {
    match cur {
        Image::Orig => {
            f(orig, own);
            Image::Own
        }
        Image::Temp => {
            f(temp, own);
            Image::Own
        }
        Image::Own => {
            f(own, temp);
            Image::Temp
        }
    }
}

/// The histograms of an image after `lut`, from the image's: every count moves to the
/// byte its value maps to.
fn through(hist: &Histograms, lut: &Lut) -> Histograms {
    let mut out = [[0u32; 256]; 3];
    for ch in 0..3 {
        for v in 0..256 {
            out[ch][lut[ch][v] as usize] += hist[ch][v];
        }
    }
    out
}

fn is_identity(lut: &Lut) -> bool {
    lut.iter()
        .all(|t| t.iter().enumerate().all(|(v, &x)| x as usize == v))
}
