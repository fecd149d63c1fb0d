//! Contact sheets: pictures laid out in a grid, so a person can look instead of read.

use pixmix::RgbImage;
use pixmix::resize::{View, resize_bilinear};

const GAP: usize = 4;
const BACKGROUND: u8 = 24;

/// A grid of `rows` x `cols` square cells of side `cell`.
pub struct Sheet {
    img: RgbImage,
    cell: usize,
}

impl Sheet {
    /// An empty sheet.
    pub fn new(rows: usize, cols: usize, cell: usize) -> anyhow::Result<Sheet> {
        let w = cols * cell + (cols + 1) * GAP;
        let h = rows * cell + (rows + 1) * GAP;
        let img = RgbImage::new(w, h, vec![BACKGROUND; w * h * 3])?;
        Ok(Sheet { img, cell })
    }

    /// Draws `pic` into cell (row, col), scaled to fit and centred.
    pub fn put(&mut self, row: usize, col: usize, pic: &RgbImage) -> anyhow::Result<()> {
        let scale = self.cell as f64 / pic.width().max(pic.height()) as f64;
        let (w, h) = (
            ((pic.width() as f64 * scale).round() as usize).clamp(1, self.cell),
            ((pic.height() as f64 * scale).round() as usize).clamp(1, self.cell),
        );
        let fitted = if scale >= 2.0 {
            nearest(pic, w, h)?
        } else {
            resize_bilinear(View::full(pic), w, h)?
        };
        let x0 = GAP + col * (self.cell + GAP) + (self.cell - w) / 2;
        let y0 = GAP + row * (self.cell + GAP) + (self.cell - h) / 2;
        for y in 0..h {
            let dst = &mut self.img.row_mut(y0 + y)[x0 * 3..(x0 + w) * 3];
            dst.copy_from_slice(fitted.row(y));
        }
        Ok(())
    }

    /// The finished picture.
    pub fn into_image(self) -> RgbImage {
        self.img
    }
}

/// Nearest-neighbour upscale, which keeps small pictures crisp.
fn nearest(pic: &RgbImage, w: usize, h: usize) -> anyhow::Result<RgbImage> {
    let mut data = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let sy = y * pic.height() / h;
        for x in 0..w {
            let sx = x * pic.width() / w;
            data.extend_from_slice(&pic.row(sy)[sx * 3..sx * 3 + 3]);
        }
    }
    Ok(RgbImage::new(w, h, data)?)
}
