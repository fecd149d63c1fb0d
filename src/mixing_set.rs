//! The mixing set: pictures resized once when loaded, stored in one buffer plus offsets.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::image::RgbImage;
use crate::resize::{View, resize_bilinear, shorter_side_size};

/// Mixing pictures, each resized so its shorter side is a given length (the released
/// code's `Resize(36)` or `Resize(256)`, done once here instead of per sample).
#[derive(Clone, Debug, Default)]
pub struct MixingSet {
    data: Vec<u8>,
    offsets: Vec<usize>,
    sizes: Vec<(usize, usize)>,
    skipped: Vec<(PathBuf, String)>,
}

/// One stored picture, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct Picture<'a> {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Row-major RGB bytes.
    pub data: &'a [u8],
}

impl<'a> Picture<'a> {
    /// `len` pixels (3 bytes each) of row `y` from column `x`, borrowed from the store.
    pub fn row_span(&self, x: usize, y: usize, len: usize) -> &'a [u8] {
        let start = (y * self.width + x) * 3;
        &self.data[start..start + len * 3]
    }
}

/// Decodes any image file the `image` crate recognises by content, as PIL's
/// `Image.open(path).convert("RGB")` (alpha dropped, gray replicated).
pub fn load_rgb(path: &Path) -> Result<RgbImage> {
    let reader = image::ImageReader::open(path)
        .map_err(|error| Error::Io {
            path: path.to_path_buf(),
            error,
        })?
        .with_guessed_format()
        .map_err(|error| Error::Io {
            path: path.to_path_buf(),
            error,
        })?;
    let decoded = reader.decode().map_err(|e| Error::Decode {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    RgbImage::from_image_crate(decoded.to_rgb8())
}

/// Every file under `dir`, recursively, in a stable (sorted) order; hidden entries skipped.
pub fn list_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|error| Error::Io {
            path: d.clone(),
            error,
        })?;
        for entry in entries {
            let entry = entry.map_err(|error| Error::Io {
                path: d.clone(),
                error,
            })?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

impl MixingSet {
    /// Loads every decodable image under `dir` (recursively, so the ImageFolder layout of
    /// the released set works as is), resizing each so its shorter side is `shorter`.
    /// Unreadable files are skipped and reported in one warning on standard error; a folder
    /// without a usable image is an error.
    pub fn from_dir(dir: &Path, shorter: usize) -> Result<MixingSet> {
        Self::from_dir_with_progress(dir, shorter, |_, _| {})
    }

    /// [`from_dir`](Self::from_dir), calling `progress(done, total)` as files are decoded.
    pub fn from_dir_with_progress(
        dir: &Path,
        shorter: usize,
        progress: impl Fn(usize, usize) + Sync,
    ) -> Result<MixingSet> {
        if shorter == 0 {
            return Err(Error::Config("mixing resize must be at least 1".into()));
        }
        if !dir.is_dir() {
            return Err(Error::MixingSet(format!(
                "{} is not a folder",
                dir.display()
            )));
        }
        let files = list_files(dir)?;
        let done = std::sync::atomic::AtomicUsize::new(0);
        let decoded: Vec<(PathBuf, Result<RgbImage>)> = files
            .par_iter()
            .map(|path| {
                let img = load_rgb(path).and_then(|img| resize_shorter(&img, shorter));
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(n, files.len());
                (path.clone(), img)
            })
            .collect();
        let mut set = MixingSet::default();
        for (path, img) in decoded {
            match img {
                Ok(img) => set.push(img),
                Err(e) => set.skipped.push((path, e.to_string())),
            }
        }
        if set.is_empty() {
            return Err(Error::MixingSet(format!(
                "no usable image under {} ({} files tried)",
                dir.display(),
                files.len()
            )));
        }
        if let Some((path, why)) = set.skipped.first() {
            eprintln!(
                "warning: skipped {} of {} files under {} that could not be read as images \
                 (first: {}: {why})",
                set.skipped.len(),
                files.len(),
                dir.display(),
                path.display()
            );
        }
        Ok(set)
    }

    /// A mixing set of in-memory pictures, each resized so its shorter side is `shorter`.
    pub fn from_images<I>(images: I, shorter: usize) -> Result<MixingSet>
    where
        I: IntoIterator<Item = RgbImage>,
    {
        if shorter == 0 {
            return Err(Error::Config("mixing resize must be at least 1".into()));
        }
        let mut set = MixingSet::default();
        for img in images {
            set.push(resize_shorter(&img, shorter)?);
        }
        if set.is_empty() {
            return Err(Error::MixingSet("no picture given".into()));
        }
        Ok(set)
    }

    /// A mixing set of pictures stored as given (no resize); each must already be at
    /// least as large as the crop it will serve.
    pub fn from_resized(images: impl IntoIterator<Item = RgbImage>) -> Result<MixingSet> {
        let mut set = MixingSet::default();
        for img in images {
            set.push(img);
        }
        if set.is_empty() {
            return Err(Error::MixingSet("no picture given".into()));
        }
        Ok(set)
    }

    /// A procedural set of `count` fractal flames, `size` x `size` (pass the preset's
    /// `mixing_resize`), rendered on the CPU from `seed`: PixMix without a download.
    pub fn fractals(count: usize, size: usize, seed: u64) -> Result<MixingSet> {
        Self::fractals_with_progress(count, size, seed, |_, _| {})
    }

    /// [`fractals`](Self::fractals), calling `progress(accepted, tried)` after each genome.
    pub fn fractals_with_progress(
        count: usize,
        size: usize,
        seed: u64,
        progress: impl Fn(usize, usize),
    ) -> Result<MixingSet> {
        if count == 0 {
            return Err(Error::MixingSet(
                "a fractal set needs at least one picture".into(),
            ));
        }
        let settings = crate::fractal::FractalSettings::new(size);
        let (pictures, _) = crate::fractal::generate(count, &settings, seed, progress)?;
        Self::from_resized(pictures)
    }

    fn push(&mut self, img: RgbImage) {
        self.offsets.push(self.data.len());
        self.sizes.push((img.width(), img.height()));
        self.data.extend_from_slice(img.as_bytes());
    }

    /// Number of pictures.
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    /// Whether there is no picture.
    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }

    /// (width, height) of every picture, as stored.
    pub fn sizes(&self) -> &[(usize, usize)] {
        &self.sizes
    }

    /// Picture `i`, if it exists.
    pub fn picture(&self, i: usize) -> Option<Picture<'_>> {
        let (width, height) = *self.sizes.get(i)?;
        let start = self.offsets[i];
        Some(Picture {
            width,
            height,
            data: &self.data[start..start + width * height * 3],
        })
    }

    /// All pixels of all pictures, back to back (for upload to a device).
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Byte offset of every picture in [`bytes`](Self::bytes).
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// Files that were skipped by [`from_dir`](Self::from_dir), with the reason.
    pub fn skipped(&self) -> &[(PathBuf, String)] {
        &self.skipped
    }
}

/// torchvision's `Resize(shorter)` on a PIL image.
pub fn resize_shorter(img: &RgbImage, shorter: usize) -> Result<RgbImage> {
    let (w, h) = shorter_side_size(img.width(), img.height(), shorter);
    if w == 0 || h == 0 {
        return Err(Error::Input(format!(
            "a {}x{} picture cannot be resized to shorter side {shorter}",
            img.width(),
            img.height()
        )));
    }
    resize_bilinear(View::full(img), w, h)
}
