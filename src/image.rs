//! 8-bit RGB images: [`Rgb8Image`] owns its pixels, [`ImageView`] borrows them (a crop, a
//! row stride, memory of another library) without a copy.

use crate::error::{Error, Result};

/// An 8-bit RGB image stored row by row, three bytes a pixel (HWC, like PIL's RGB mode).
///
/// Converts to and from the `image` crate's `RgbImage` with `From`, and lends an
/// [`ImageView`] with [`view`](Self::view).
#[derive(Clone, PartialEq, Eq)]
pub struct Rgb8Image {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

/// The former name of [`Rgb8Image`], kept so code written against it still compiles.
#[doc(hidden)]
pub type RgbImage = Rgb8Image;

impl std::fmt::Debug for Rgb8Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rgb8Image({}x{})", self.width, self.height)
    }
}

/// `width * height * 3`, or an error naming the size.
fn row_bytes(width: usize, height: usize) -> Result<usize> {
    if width == 0 || height == 0 {
        return Err(Error::Input(format!(
            "image is empty ({width}x{height}); both sides must be at least 1"
        )));
    }
    width
        .checked_mul(height)
        .and_then(|n| n.checked_mul(3))
        .ok_or_else(|| Error::Input(format!("image size {width}x{height} overflows")))
}

impl Rgb8Image {
    /// Wraps `data` (length `width * height * 3`, row-major RGB) as an image.
    ///
    /// Fails when a side is zero or the length does not match.
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Result<Self> {
        let expected = row_bytes(width, height)?;
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
    pub fn sizes<I: AsImageView>(images: &[I]) -> Vec<(usize, usize)> {
        images
            .iter()
            .map(|i| {
                let v = i.as_view();
                (v.width(), v.height())
            })
            .collect()
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

    /// The whole image, borrowed.
    pub fn view(&self) -> ImageView<'_> {
        ImageView {
            width: self.width,
            height: self.height,
            stride: self.width * 3,
            data: &self.data,
        }
    }

    /// Converts from the `image` crate's RGB buffer (as `TryFrom` does; kept for
    /// existing callers).
    #[doc(hidden)]
    pub fn from_image_crate(img: image::RgbImage) -> Result<Self> {
        img.try_into()
    }

    /// Converts to the `image` crate's RGB buffer (for encoding).
    pub fn to_image_crate(&self) -> image::RgbImage {
        image::RgbImage::from_raw(self.width as u32, self.height as u32, self.data.clone())
            .expect("length checked at construction")
    }

    /// The crop `[x, x + w) x [y, y + h)`, which must lie inside the image, as a new image
    /// (see [`ImageView::crop`] for one without a copy).
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Result<Self> {
        Ok(self.view().crop(x, y, w, h)?.to_image())
    }
}

/// An 8-bit RGB image borrowed from memory someone else owns: `height` rows of
/// `width * 3` bytes, each `stride` bytes after the previous. Executors read views in place
/// (a numpy array, a decoder's buffer, a crop), so nothing is copied per batch.
///
/// ```
/// use pixmix::{ImageView, Rgb8Image};
///
/// let pixels = vec![7u8; 40 * 30 * 3];
/// let view = ImageView::new(40, 30, &pixels)?;      // no copy
/// let crop = view.crop(5, 5, 20, 20)?;              // still no copy
/// assert_eq!(crop.to_image(), Rgb8Image::new(20, 20, vec![7; 20 * 20 * 3])?);
/// # Ok::<(), pixmix::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ImageView<'a> {
    width: usize,
    height: usize,
    stride: usize,
    data: &'a [u8],
}

impl std::fmt::Debug for ImageView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ImageView({}x{})", self.width, self.height)
    }
}

impl<'a> ImageView<'a> {
    /// Views `data` (exactly `width * height * 3` bytes, row-major RGB) as an image.
    pub fn new(width: usize, height: usize, data: &'a [u8]) -> Result<Self> {
        let expected = row_bytes(width, height)?;
        if data.len() != expected {
            return Err(Error::Input(format!(
                "a {width}x{height} RGB image needs {expected} bytes, got {}",
                data.len()
            )));
        }
        Ok(Self {
            width,
            height,
            stride: width * 3,
            data,
        })
    }

    /// Views rows `stride` bytes apart (`stride >= width * 3`; the last row needs only
    /// `width * 3` bytes), as padded or cropped buffers lay them out.
    pub fn with_stride(width: usize, height: usize, stride: usize, data: &'a [u8]) -> Result<Self> {
        let row = row_bytes(width, 1)?;
        row_bytes(width, height)?;
        if stride < row {
            return Err(Error::Input(format!(
                "stride {stride} is shorter than a row of {width} RGB pixels ({row} bytes)"
            )));
        }
        let needed = (height - 1)
            .checked_mul(stride)
            .and_then(|n| n.checked_add(row))
            .ok_or_else(|| Error::Input(format!("image size {width}x{height} overflows")))?;
        if data.len() < needed {
            return Err(Error::Input(format!(
                "a {width}x{height} RGB image with stride {stride} needs {needed} bytes, got {}",
                data.len()
            )));
        }
        Ok(Self {
            width,
            height,
            stride,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Bytes from one row to the next.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Row `y` as `width * 3` bytes.
    pub fn row(&self, y: usize) -> &'a [u8] {
        let start = y * self.stride;
        &self.data[start..start + self.width * 3]
    }

    /// The pixels as one slice when the rows are contiguous (stride `width * 3`).
    pub fn as_contiguous(&self) -> Option<&'a [u8]> {
        (self.stride == self.width * 3).then(|| &self.data[..self.width * self.height * 3])
    }

    /// The crop `[x, x + w) x [y, y + h)`, which must lie inside the view, without a copy.
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Result<ImageView<'a>> {
        let fits = w > 0
            && h > 0
            && x.checked_add(w).is_some_and(|r| r <= self.width)
            && y.checked_add(h).is_some_and(|b| b <= self.height);
        if !fits {
            return Err(Error::Input(format!(
                "crop {w}x{h} at ({x}, {y}) does not fit a {}x{} image",
                self.width, self.height
            )));
        }
        Ok(ImageView {
            width: w,
            height: h,
            stride: self.stride,
            data: &self.data[y * self.stride + x * 3..],
        })
    }

    /// A copy as an owned image.
    pub fn to_image(&self) -> Rgb8Image {
        let mut data = Vec::with_capacity(self.width * self.height * 3);
        for y in 0..self.height {
            data.extend_from_slice(self.row(y));
        }
        Rgb8Image {
            width: self.width,
            height: self.height,
            data,
        }
    }
}

/// What executors and planners read pixels from: an owned [`Rgb8Image`], an
/// [`ImageView`], or a reference to either.
pub trait AsImageView {
    /// The pixels, borrowed.
    fn as_view(&self) -> ImageView<'_>;
}

impl AsImageView for Rgb8Image {
    fn as_view(&self) -> ImageView<'_> {
        self.view()
    }
}

impl AsImageView for ImageView<'_> {
    fn as_view(&self) -> ImageView<'_> {
        *self
    }
}

impl<T: AsImageView + ?Sized> AsImageView for &T {
    fn as_view(&self) -> ImageView<'_> {
        (**self).as_view()
    }
}

impl<'a> From<&'a Rgb8Image> for ImageView<'a> {
    fn from(img: &'a Rgb8Image) -> Self {
        img.view()
    }
}

/// Fails only for an empty image (a side of zero), which this type does not hold.
impl TryFrom<image::RgbImage> for Rgb8Image {
    type Error = Error;
    fn try_from(img: image::RgbImage) -> Result<Self> {
        let (w, h) = img.dimensions();
        Self::new(w as usize, h as usize, img.into_raw())
    }
}

impl From<Rgb8Image> for image::RgbImage {
    fn from(img: Rgb8Image) -> Self {
        image::RgbImage::from_raw(img.width as u32, img.height as u32, img.data)
            .expect("length checked at construction")
    }
}

/// Converts any decoded image to 8-bit RGB, as PIL's `convert("RGB")` does for the
/// common modes.
impl TryFrom<image::DynamicImage> for Rgb8Image {
    type Error = Error;
    fn try_from(img: image::DynamicImage) -> Result<Self> {
        img.into_rgb8().try_into()
    }
}

impl<'a> TryFrom<&'a image::RgbImage> for ImageView<'a> {
    type Error = Error;
    fn try_from(img: &'a image::RgbImage) -> Result<Self> {
        ImageView::new(img.width() as usize, img.height() as usize, img.as_raw())
    }
}

/// PIL's RGB to grayscale ("L") conversion: ITU-R 601-2 luma in 16-bit fixed point.
#[inline]
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((r as u32 * 19595 + g as u32 * 38470 + b as u32 * 7471 + 0x8000) >> 16) as u8
}
