//! An owned 8-bit RGB image, the unit every operator and executor works on.

use crate::error::{Error, Result};

/// An 8-bit RGB image stored row by row, three bytes a pixel (HWC, like PIL's RGB mode).
#[derive(Clone, PartialEq, Eq)]
pub struct RgbImage {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

impl std::fmt::Debug for RgbImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RgbImage({}x{})", self.width, self.height)
    }
}

impl RgbImage {
    /// Wraps `data` (length `width * height * 3`, row-major RGB) as an image.
    ///
    /// Fails when a side is zero or the length does not match.
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Result<Self> {
        if width == 0 || height == 0 {
            return Err(Error::Input(format!(
                "image is empty ({width}x{height}); both sides must be at least 1"
            )));
        }
        let expected = width
            .checked_mul(height)
            .and_then(|n| n.checked_mul(3))
            .ok_or_else(|| Error::Input(format!("image size {width}x{height} overflows")))?;
        if data.len() != expected {
            return Err(Error::Input(format!(
                "a {width}x{height} RGB image needs {expected} bytes, got {}",
                data.len()
            )));
        }
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// A black image. Fails when a side is zero, or when the image is too large to
    /// allocate (an error, not an abort).
    pub fn black(width: usize, height: usize) -> Result<Self> {
        let len = width
            .checked_mul(height)
            .and_then(|n| n.checked_mul(3))
            .filter(|&n| n <= isize::MAX as usize)
            .ok_or_else(|| Error::Input(format!("image size {width}x{height} overflows")))?;
        if len > 1 << 30 {
            // Large buffers are reserved first, so a failed allocation is an error.
            let mut data = Vec::new();
            data.try_reserve_exact(len)
                .map_err(|_| Error::Input(format!("cannot allocate a {width}x{height} image")))?;
            data.resize(len, 0);
            return Self::new(width, height, data);
        }
        Self::new(width, height, vec![0; len])
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The (width, height) of each image, as planners and executors take them.
    pub fn sizes(images: &[RgbImage]) -> Vec<(usize, usize)> {
        images.iter().map(|i| (i.width, i.height)).collect()
    }

    /// The pixels, row-major RGB.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// The pixels, mutable.
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// Gives the pixel buffer back.
    pub fn into_bytes(self) -> Vec<u8> {
        self.data
    }

    /// Row `y` as `width * 3` bytes.
    pub fn row(&self, y: usize) -> &[u8] {
        let stride = self.width * 3;
        &self.data[y * stride..(y + 1) * stride]
    }

    /// Row `y`, mutable.
    pub fn row_mut(&mut self, y: usize) -> &mut [u8] {
        let stride = self.width * 3;
        &mut self.data[y * stride..(y + 1) * stride]
    }

    /// Converts from the `image` crate's RGB buffer.
    pub fn from_image_crate(img: image::RgbImage) -> Result<Self> {
        let (w, h) = img.dimensions();
        Self::new(w as usize, h as usize, img.into_raw())
    }

    /// Converts to the `image` crate's RGB buffer (for encoding).
    pub fn to_image_crate(&self) -> image::RgbImage {
        image::RgbImage::from_raw(self.width as u32, self.height as u32, self.data.clone())
            .expect("length checked at construction")
    }

    /// The crop `[x, x + w) x [y, y + h)`, which must lie inside the image.
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Result<Self> {
        if w == 0 || h == 0 || x + w > self.width || y + h > self.height {
            return Err(Error::Input(format!(
                "crop {w}x{h} at ({x}, {y}) does not fit a {}x{} image",
                self.width, self.height
            )));
        }
        let mut data = Vec::with_capacity(w * h * 3);
        for row in y..y + h {
            data.extend_from_slice(&self.row(row)[x * 3..(x + w) * 3]);
        }
        Self::new(w, h, data)
    }
}

/// PIL's RGB to grayscale ("L") conversion: ITU-R 601-2 luma in 16-bit fixed point.
#[inline]
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((r as u32 * 19595 + g as u32 * 38470 + b as u32 * 7471 + 0x8000) >> 16) as u8
}
