//! PixMix data augmentation (Hendrycks et al., CVPR 2022), reproducing the authors'
//! released code: the same random choices with the same distributions, and base operators
//! equal to Pillow pixel for pixel.
//!
//! The shape is one plan, several executors: a seeded [`Planner`] draws every random choice
//! of a batch into plain-old-data [`SamplePlan`]s, and an executor ([`CpuExecutor`]) turns
//! (plan, pixels) into normalized NCHW tensors as a pure function.

pub mod error;
pub mod image;
pub mod ops;
pub mod resize;

pub use error::{Error, Result};
pub use image::RgbImage;
pub use ops::{Operator, PreparedOp};
