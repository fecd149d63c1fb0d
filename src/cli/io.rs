//! Image and array files written by the command line: every file is written under a
//! temporary name in its folder and renamed when complete, and every error names its path.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use pixmix::RgbImage;

/// Prefix of the temporary files that become outputs when complete.
pub const TEMP_PREFIX: &str = ".pixmix-tmp-";

/// Name of the lock file that keeps two runs out of one output folder.
pub const LOCK_NAME: &str = ".pixmix.lock";

/// A temporary file in `dir`, created with the permissions an ordinary file gets (0666 less
/// the umask, not tempfile's 0600), so the output it becomes is readable as usual.
fn temp_in(dir: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))
}

/// Writes a file atomically: `write` fills a temporary file beside `path`, which is renamed
/// to `path` once flushed. On any error (or a panic) the temporary file is removed and the
/// error names `path`.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let (file, tmp_path) = temp_in(dir)?.into_parts();
    let mut out = BufWriter::new(file);
    let written = write(&mut out).and_then(|()| {
        out.flush()?;
        Ok(())
    });
    written.with_context(|| format!("cannot write {}", path.display()))?;
    tmp_path
        .persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Writes `img` as PNG, atomically.
pub fn save_png(img: &RgbImage, path: &Path) -> anyhow::Result<()> {
    write_atomic(path, |out| {
        img.to_image_crate()
            .write_to(out, image::ImageFormat::Png)?;
        Ok(())
    })
}

/// A `.npy` file (format 1.0) written batch by batch under a temporary name: the header
/// fixes the shape up front, and [`finish`](Self::finish) renames it into place.
pub struct NpyWriter {
    file: BufWriter<File>,
    tmp: tempfile::TempPath,
    path: PathBuf,
}

impl NpyWriter {
    /// Starts `path` for an array of `shape` with numpy dtype `descr` (e.g. `<f4`).
    pub fn create(path: &Path, descr: &str, shape: &[usize]) -> anyhow::Result<NpyWriter> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let (file, tmp) = temp_in(dir)?.into_parts();
        let file = BufWriter::new(file);
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        let shape = if dims.len() == 1 {
            format!("({},)", dims[0])
        } else {
            format!("({})", dims.join(", "))
        };
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        // Magic (6) + version (2) + length (2) + header + newline, padded to 64 bytes.
        let total = 10 + header.len() + 1;
        header.push_str(&" ".repeat((64 - total % 64) % 64));
        header.push('\n');
        let mut w = NpyWriter {
            file,
            tmp,
            path: path.to_path_buf(),
        };
        w.write(b"\x93NUMPY\x01\x00")?;
        w.write(&(header.len() as u16).to_le_bytes())?;
        w.write(header.as_bytes())?;
        Ok(w)
    }

    fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.file
            .write_all(bytes)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Appends raw little-endian elements.
    pub fn append(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.write(bytes)
    }

    /// Flushes and renames the file into place.
    pub fn finish(mut self) -> anyhow::Result<()> {
        self.file
            .flush()
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        self.tmp
            .persist(&self.path)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}

/// A path as one field of a tab-separated line, reversibly: `\` becomes `\\`, tab, newline
/// and carriage return become `\t`, `\n`, `\r`, other control characters and bytes that are
/// not UTF-8 become `\xHH`. Every other character stands for itself.
pub fn escape_path(path: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    #[cfg(not(unix))]
    let lossy = path.to_string_lossy();
    #[cfg(not(unix))]
    let bytes = lossy.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// A file name's stem made safe for a sample's name: control characters and characters
/// that are not UTF-8 become `_` (sources.tsv keeps the exact name).
pub fn safe_stem(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map_or("image".into(), |s| s.to_string_lossy());
    stem.chars()
        .map(|c| {
            if c.is_control() || c == '\u{FFFD}' {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// An output folder held by one run: created if missing, locked against a second run, and
/// checked for an earlier run's files, which are an error unless `overwrite` allows
/// [`remove_earlier`](Self::remove_earlier) to remove them.
pub struct OutDir {
    dir: PathBuf,
    _lock: File,
    earlier: Vec<PathBuf>,
}

impl OutDir {
    /// Opens `dir` for a run whose files are recognised by `ours(name)`. Temporary files of
    /// an interrupted run count as its files.
    pub fn open(
        dir: &Path,
        overwrite: bool,
        ours: impl Fn(&str) -> bool,
    ) -> anyhow::Result<OutDir> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let lock_path = dir.join(LOCK_NAME);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot create {}", lock_path.display()))?;
        lock_exclusive(&lock, &lock_path, dir)?;
        let mut earlier = Vec::new();
        for entry in
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?
        {
            let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(TEMP_PREFIX) || ours(&name) {
                earlier.push(entry.path());
            }
        }
        earlier.sort();
        if let Some(first) = earlier.first()
            && !overwrite
        {
            bail!(
                "{} already holds {} files of an earlier run (such as {}); pass --overwrite \
                 to remove them first, or choose another --out",
                dir.display(),
                earlier.len(),
                first.display()
            );
        }
        Ok(OutDir {
            dir: dir.to_path_buf(),
            _lock: lock,
            earlier,
        })
    }

    /// Removes the earlier run's files that `--overwrite` allowed; called once the inputs
    /// are checked, just before output starts, so a run that fails on its input leaves them.
    pub fn remove_earlier(&mut self) -> anyhow::Result<()> {
        for path in std::mem::take(&mut self.earlier) {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
        Ok(())
    }

    /// The path of `name` in the folder.
    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

#[cfg(unix)]
fn lock_exclusive(lock: &File, lock_path: &Path, dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a file descriptor this function's caller owns; no memory is shared.
    let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            bail!(
                "another pixmix run is writing into {} (it holds {}); wait for it to finish \
                 or choose another --out",
                dir.display(),
                lock_path.display()
            );
        }
        return Err(err).with_context(|| format!("cannot lock {}", lock_path.display()));
    }
    Ok(())
}

#[cfg(not(unix))]
fn lock_exclusive(_: &File, _: &Path, _: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// A file written piece by piece under a temporary name in its folder, renamed to its
/// final name by [`finish`](Self::finish) and removed if dropped before.
pub struct AtomicFile {
    file: BufWriter<File>,
    tmp: tempfile::TempPath,
    path: PathBuf,
}

impl AtomicFile {
    /// Starts `path`.
    pub fn create(path: &Path) -> anyhow::Result<AtomicFile> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let (file, tmp) = temp_in(dir)?.into_parts();
        Ok(AtomicFile {
            file: BufWriter::new(file),
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// Appends `text`.
    pub fn write(&mut self, text: &str) -> anyhow::Result<()> {
        self.file
            .write_all(text.as_bytes())
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Flushes and renames the file into place.
    pub fn finish(mut self) -> anyhow::Result<()> {
        self.file
            .flush()
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        self.tmp
            .persist(&self.path)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}
