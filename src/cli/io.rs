//! Image and array files written by the command line.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use pixmix::RgbImage;

/// Writes `img` as PNG.
pub fn save_png(img: &RgbImage, path: &Path) -> anyhow::Result<()> {
    img.to_image_crate()
        .save_with_format(path, image::ImageFormat::Png)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A `.npy` file (format 1.0) written batch by batch: the header fixes the shape up front.
pub struct NpyWriter {
    file: std::io::BufWriter<std::fs::File>,
}

impl NpyWriter {
    /// Creates `path` for an array of `shape` with numpy dtype `descr` (e.g. `<f4`).
    pub fn create(path: &Path, descr: &str, shape: &[usize]) -> anyhow::Result<NpyWriter> {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut file = std::io::BufWriter::new(file);
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
        file.write_all(b"\x93NUMPY\x01\x00")?;
        file.write_all(&(header.len() as u16).to_le_bytes())?;
        file.write_all(header.as_bytes())?;
        Ok(NpyWriter { file })
    }

    /// Appends raw little-endian elements.
    pub fn append(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        Ok(self.file.write_all(bytes)?)
    }

    /// Flushes to disk.
    pub fn finish(mut self) -> anyhow::Result<()> {
        Ok(self.file.flush()?)
    }
}
