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

/// The most pixels a decoded image may have: Pillow's `Image.MAX_IMAGE_PIXELS`
/// (89,478,485), past which Pillow warns of a decompression bomb. Larger images are errors
/// naming the file, before any pixel is allocated.
pub const MAX_IMAGE_PIXELS: u64 = 89_478_485;

/// The largest image file read, in bytes (256 MiB); larger files are errors naming the file.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// The most pixels a mixing picture may have once resized so its shorter side is the
/// preset's (16,777,216, e.g. 256 x 65,536): a thin picture (1 x 1,000,000) would otherwise
/// become gigabytes. Such pictures are skipped and counted by [`MixingSet::from_dir`].
pub const MAX_MIXING_PIXELS: usize = 1 << 24;

/// The default memory budget of a mixing set's pixels (4 GiB): loading a folder whose
/// resized pictures need more is an error naming the budget (see
/// [`MixingSet::from_dir_with_budget`]).
pub const DEFAULT_MIXING_BUDGET: usize = 4 << 30;

/// Decodes any image file the `image` crate recognises by content, as PIL's
/// `Image.open(path).convert("RGB")` (alpha dropped, gray replicated).
///
/// Only regular files are read (a FIFO or a device is an error, never a hang), at most
/// [`MAX_FILE_BYTES`] of them; images of more than [`MAX_IMAGE_PIXELS`] pixels are errors
/// found from the header, before decoding; a JPEG whose data ends before its last scan is
/// complete is an error ("image file is truncated"), as in Pillow.
pub fn load_rgb(path: &Path) -> Result<RgbImage> {
    let bytes = read_image_file(path)?;
    decode_rgb(&bytes, path)
}

/// Reads a regular file of at most [`MAX_FILE_BYTES`], without blocking on special files.
fn read_image_file(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let io = |error: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        error,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A FIFO opened for reading would wait for a writer; non-blocking, it opens at once
        // and is then refused as not a regular file.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(Error::Decode {
            path: path.to_path_buf(),
            message: "not a regular file".into(),
        });
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::Decode {
            path: path.to_path_buf(),
            message: format!(
                "the file has {} bytes, more than the {MAX_FILE_BYTES} an image file may have",
                meta.len()
            ),
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Ok(bytes)
}

/// Whether JPEG data ends after its last scan (an end-of-image marker follows the last
/// start-of-scan marker). Entropy-coded data escapes 0xFF, so neither marker occurs inside it.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last = |marker: u8| bytes.windows(2).rposition(|w| w == [0xFF, marker]);
    match (last(0xDA), last(0xD9)) {
        (Some(sos), Some(eoi)) => eoi > sos,
        (None, Some(_)) => true,
        (_, None) => false,
    }
}

/// Decodes an image file's bytes (`path` names it in errors), as [`load_rgb`].
pub fn decode_rgb(bytes: &[u8], path: &Path) -> Result<RgbImage> {
    let fail = |message: String| Error::Decode {
        path: path.to_path_buf(),
        message,
    };
    let reader = || {
        image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|error| Error::Io {
                path: path.to_path_buf(),
                error,
            })
    };
    let (w, h) = reader()?
        .into_dimensions()
        .map_err(|e| fail(e.to_string()))?;
    if w as u64 * h as u64 > MAX_IMAGE_PIXELS {
        return Err(fail(format!(
            "{w}x{h} is more than {MAX_IMAGE_PIXELS} pixels (Pillow's MAX_IMAGE_PIXELS); \
             a possible decompression bomb"
        )));
    }
    let mut reader = reader()?;
    if reader.format() == Some(image::ImageFormat::Jpeg) && !jpeg_is_complete(bytes) {
        return Err(fail("image file is truncated".into()));
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(5 * MAX_IMAGE_PIXELS);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| fail(e.to_string()))?;
    RgbImage::from_image_crate(decoded.to_rgb8())
}

/// What [`scan_dir`] found under a folder: the regular files to read, in sorted order, and
/// every entry passed over with the reason.
#[derive(Clone, Debug, Default)]
pub struct Listing {
    /// Regular files (symlinks followed), each once, sorted by path.
    pub files: Vec<PathBuf>,
    /// Entries not listed: special files (FIFOs, sockets, devices), unreadable files and
    /// folders, broken links, symlink loops and files reached a second time through a link.
    pub skipped: Vec<(PathBuf, String)>,
}

impl Listing {
    /// One line counting the skipped entries by kind, e.g. `2 symlink loops, 1 special file`.
    pub fn summary(&self) -> String {
        summarize(&self.skipped)
    }
}

/// Counts skipped entries by kind of reason, for one warning line.
pub fn summarize(skipped: &[(PathBuf, String)]) -> String {
    const KINDS: [&str; 8] = [
        "symlink loops",
        "special files",
        "files reached twice",
        "pictures too thin to resize",
        "truncated images",
        "images larger than MAX_IMAGE_PIXELS",
        "unreadable entries",
        "files that are not decodable images",
    ];
    let mut counts = [0usize; KINDS.len()];
    for (_, why) in skipped {
        let kind = if why.starts_with("symlink loop") {
            0
        } else if why.starts_with("special file") || why.ends_with("not a regular file") {
            1
        } else if why.starts_with("duplicate") {
            2
        } else if why.contains("a mixing picture may have") {
            3
        } else if why.contains("truncated") {
            4
        } else if why.contains("MAX_IMAGE_PIXELS") {
            5
        } else if why.starts_with("unreadable") || why.contains("ermission denied") {
            6
        } else {
            7
        };
        counts[kind] += 1;
    }
    KINDS
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every regular file under `dir`, recursively, in a stable (sorted) order; hidden entries
/// skipped. Symlinks are followed with loop detection, each file is listed once (by device
/// and inode), and special files or unreadable entries are skipped and reported; only an
/// unreadable `dir` itself is an error.
pub fn scan_dir(dir: &Path) -> Result<Listing> {
    let mut listing = Listing::default();
    let mut seen: std::collections::HashSet<(u64, u64)> = std::collections::HashSet::new();
    let walk = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walk {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().unwrap_or(dir).to_path_buf();
                if e.depth() == 0 {
                    let error = e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("cannot read the folder"));
                    return Err(Error::Io { path, error });
                }
                let why = match e.loop_ancestor() {
                    Some(a) => format!("symlink loop: back to {}", a.display()),
                    None => match e.io_error() {
                        Some(io) => format!("unreadable: {io}"),
                        None => format!("unreadable: {e}"),
                    },
                };
                listing.skipped.push((path, why));
                continue;
            }
        };
        let kind = entry.file_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            listing
                .skipped
                .push((entry.into_path(), "special file: not a regular file".into()));
            continue;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if let Ok(meta) = entry.metadata()
                && !seen.insert((meta.dev(), meta.ino()))
            {
                listing.skipped.push((
                    entry.into_path(),
                    "duplicate: the same file was reached through another path".into(),
                ));
                continue;
            }
        }
        listing.files.push(entry.into_path());
    }
    listing.files.sort();
    Ok(listing)
}

/// Every regular file under `dir` ([`scan_dir`]'s files), in a stable (sorted) order.
pub fn list_files(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(scan_dir(dir)?.files)
}

impl MixingSet {
    /// Loads every decodable image under `dir` (recursively, so the ImageFolder layout of
    /// the released set works as is), resizing each so its shorter side is `shorter`.
    /// Unreadable files, special files, symlink loops and pictures whose resize would exceed
    /// [`MAX_MIXING_PIXELS`] are skipped and reported in one warning on standard error; a
    /// folder without a usable image is an error, and so is a set that would need more than
    /// [`DEFAULT_MIXING_BUDGET`] bytes.
    pub fn from_dir(dir: &Path, shorter: usize) -> Result<MixingSet> {
        Self::from_dir_with_progress(dir, shorter, |_, _| {})
    }

    /// [`from_dir`](Self::from_dir), calling `progress(done, total)` as files are decoded.
    pub fn from_dir_with_progress(
        dir: &Path,
        shorter: usize,
        progress: impl Fn(usize, usize) + Sync,
    ) -> Result<MixingSet> {
        Self::from_dir_with_budget(dir, shorter, DEFAULT_MIXING_BUDGET, progress)
    }

    /// [`from_dir_with_progress`](Self::from_dir_with_progress) with a memory budget of
    /// `budget` bytes for the resized pictures: a folder whose pictures need more is an error
    /// naming the budget. Files are decoded a few dozen at a time and stored as they come, so
    /// the peak memory is the set plus one chunk of decoded files.
    pub fn from_dir_with_budget(
        dir: &Path,
        shorter: usize,
        budget: usize,
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
        let listing = scan_dir(dir)?;
        let files = &listing.files;
        let done = std::sync::atomic::AtomicUsize::new(0);
        let mut set = MixingSet {
            skipped: listing.skipped.clone(),
            ..MixingSet::default()
        };
        let chunk = 8 * rayon::current_num_threads().max(1);
        for paths in files.chunks(chunk) {
            let decoded: Vec<Result<RgbImage>> = paths
                .par_iter()
                .map(|path| {
                    let img = load_rgb(path).and_then(|img| resize_shorter(&img, shorter));
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    progress(n, files.len());
                    img
                })
                .collect();
            for (path, img) in paths.iter().zip(decoded) {
                match img {
                    Ok(img) => {
                        if set.data.len() + img.as_bytes().len() > budget {
                            return Err(Error::MixingSet(format!(
                                "the pictures under {} need more than the mixing set's budget \
                                 of {} MiB (reached at {}, picture {} of {} files); raise the \
                                 budget (pixmix augment --mixing-budget MIB) or use fewer or \
                                 smaller pictures",
                                dir.display(),
                                budget >> 20,
                                path.display(),
                                set.len() + 1,
                                files.len()
                            )));
                        }
                        set.push(img)
                    }
                    Err(e) => set.skipped.push((path.clone(), e.to_string())),
                }
            }
        }
        if set.is_empty() {
            return Err(Error::MixingSet(format!(
                "no usable image under {} ({} files tried{})",
                dir.display(),
                files.len(),
                match set.skipped.first() {
                    Some((path, why)) => format!("; first: {}: {why}", path.display()),
                    None => String::new(),
                }
            )));
        }
        if let Some((path, why)) = set.skipped.first() {
            eprintln!(
                "warning: skipped {} entries under {} that could not be read as images \
                 ({}; first: {}: {why})",
                set.skipped.len(),
                dir.display(),
                summarize(&set.skipped),
                path.display()
            );
        }
        set.data.shrink_to_fit();
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
    if w.saturating_mul(h) > MAX_MIXING_PIXELS {
        return Err(Error::Input(format!(
            "a {}x{} picture resized to shorter side {shorter} would be {w}x{h}, more than the \
             {MAX_MIXING_PIXELS} pixels a mixing picture may have",
            img.width(),
            img.height()
        )));
    }
    resize_bilinear(View::full(img), w, h)
}
