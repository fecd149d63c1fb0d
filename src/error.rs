//! The error type of the library.

use std::path::PathBuf;

/// Everything that can go wrong in the library. Each variant carries a message that names
/// the offending value, so a caller can show it to a user as is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is out of range or inconsistent with another.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// An input image or buffer has the wrong shape, size or length.
    #[error("invalid input: {0}")]
    Input(String),
    /// An operator name or parameter is not valid.
    #[error("invalid operator: {0}")]
    Operator(String),
    /// A mixing set could not be built.
    #[error("mixing set: {0}")]
    MixingSet(String),
    /// No CUDA driver, no device, or no way to get the kernels onto it.
    #[error("CUDA unavailable: {0}")]
    NoCuda(String),
    /// A CUDA call failed (out of memory, launch failure, ...).
    #[error("CUDA error: {0}")]
    Cuda(String),
    /// A file could not be read or written.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error (shown in the message rather than chained, so it prints once).
        error: std::io::Error,
    },
    /// A file could be read but not decoded as an image.
    #[error("{}: cannot decode image: {message}", path.display())]
    Decode {
        /// The file involved.
        path: PathBuf,
        /// What the decoder said.
        message: String,
    },
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A number as an error message shows it: plainly, or in scientific notation when its
/// magnitude would otherwise print hundreds of digits (`1e300`, `-3.5e-12`).
pub(crate) fn number<T>(x: T) -> String
where
    T: Copy + Into<f64> + std::fmt::Display + std::fmt::LowerExp,
{
    let v: f64 = x.into();
    if v != 0.0 && v.is_finite() && !(1e-6..1e9).contains(&v.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn numbers_stay_short() {
        assert_eq!(number(1e300), "1e300");
        assert_eq!(number(-2.5e12), "-2.5e12");
        assert_eq!(number(3e-9), "3e-9");
        assert_eq!(number(-1.0), "-1");
        assert_eq!(number(0.3), "0.3");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "inf");
        // f32 values print as f32 (0.1, not 0.10000000149011612).
        assert_eq!(number(0.1f32), "0.1");
        assert_eq!(number(3e30f32), "3e30");
    }
}
