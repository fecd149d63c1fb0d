//! PixMix data augmentation (Hendrycks et al., CVPR 2022), reproducing the authors'
//! released code: the same random choices with the same distributions, and base operators
//! equal to Pillow pixel for pixel.
//!
//! The shape is one plan, several executors: a seeded [`Planner`] draws every random choice
//! of a batch into plain-old-data [`SamplePlan`]s, and an executor ([`CpuExecutor`]) turns
//! (plan, pixels) into normalized NCHW tensors as a pure function.
//!
//! [`AugMix`] (module [`augmix`]) does the same for AugMix (Hendrycks et al., ICLR 2020)
//! with the same operators, on the CPU or a GPU.

#![warn(missing_docs)]

// Internals that the command line, tests and benchmarks reach: public, not documented, not
// part of the API's promise.
#[doc(hidden)]
pub mod bench;
#[doc(hidden)]
#[cfg(feature = "cuda")]
pub mod kernels;
#[doc(hidden)]
pub mod mix;
#[doc(hidden)]
pub mod resize;
#[doc(hidden)]
#[cfg(feature = "cuda")]
pub mod staging;

pub mod augmix;
pub mod config;
pub mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod error;
pub mod fractal;
pub mod image;
pub mod mixing_set;
pub mod ops;
pub mod pipeline;
pub mod plan;
pub mod tensor;
#[cfg(test)]
mod test_rng;
#[cfg(feature = "tch")]
pub mod torch;

pub use augmix::{AugMix, AugMixConfig, AugMixExecutor, AugMixPlan, AugMixPlanner};
pub use config::{Config, Preset, TrainTransform};
pub use cpu::CpuExecutor;
pub use error::{Error, Result};
#[doc(hidden)]
pub use image::RgbImage;
pub use image::{AsImageView, ImageView, Rgb8Image};
pub use mixing_set::MixingSet;
pub use ops::{Operator, PreparedOp};
pub use pipeline::PixMix;
pub use plan::{BatchPlan, OpPlan, Planner, RoundPlan, SamplePlan};
pub use tensor::{Dtype, Tensor, TensorData};
