//! Output tensors: NCHW, float32, float16 or bfloat16.

use half::{bf16, f16};

use crate::error::{Error, Result};

/// Element type of an output tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// 32-bit float.
    F32,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    Bf16,
}

impl Dtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 | Dtype::Bf16 => 2,
        }
    }

    /// The lowercase name (`f32`, `f16`, `bf16`).
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F16 => "f16",
            Dtype::Bf16 => "bf16",
        }
    }
}

impl std::str::FromStr for Dtype {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "f32" | "float32" => Ok(Dtype::F32),
            "f16" | "float16" | "half" => Ok(Dtype::F16),
            "bf16" | "bfloat16" => Ok(Dtype::Bf16),
            _ => Err(Error::Config(format!(
                "unknown dtype '{s}'; expected f32, f16 or bf16"
            ))),
        }
    }
}

/// An element type an executor can write: converted from f32 with round-to-nearest-even.
pub trait OutputElement: bytemuck::Pod + Send + Sync {
    /// The matching [`Dtype`].
    const DTYPE: Dtype;
    /// Converts from f32.
    fn from_f32(v: f32) -> Self;
    /// Converts to f32 (exact).
    fn to_f32(self) -> f32;
}

impl OutputElement for f32 {
    const DTYPE: Dtype = Dtype::F32;
    fn from_f32(v: f32) -> Self {
        v
    }
    fn to_f32(self) -> f32 {
        self
    }
}

impl OutputElement for f16 {
    const DTYPE: Dtype = Dtype::F16;
    fn from_f32(v: f32) -> Self {
        f16::from_f32(v)
    }
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }
}

impl OutputElement for bf16 {
    const DTYPE: Dtype = Dtype::Bf16;
    fn from_f32(v: f32) -> Self {
        bf16::from_f32(v)
    }
    fn to_f32(self) -> f32 {
        bf16::to_f32(self)
    }
}

/// The elements of a [`Tensor`].
#[derive(Clone, Debug, PartialEq)]
pub enum TensorData {
    /// float32 elements.
    F32(Vec<f32>),
    /// float16 elements.
    F16(Vec<f16>),
    /// bfloat16 elements.
    Bf16(Vec<bf16>),
}

/// A dense NCHW tensor on the host.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// (N, C, H, W).
    pub shape: [usize; 4],
    /// The elements, row-major over `shape`.
    pub data: TensorData,
}

impl Tensor {
    /// A zero tensor of `shape` and `dtype`.
    pub fn zeros(shape: [usize; 4], dtype: Dtype) -> Tensor {
        let n = shape.iter().product();
        let data = match dtype {
            Dtype::F32 => TensorData::F32(vec![0.0; n]),
            Dtype::F16 => TensorData::F16(vec![f16::ZERO; n]),
            Dtype::Bf16 => TensorData::Bf16(vec![bf16::ZERO; n]),
        };
        Tensor { shape, data }
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        match self.data {
            TensorData::F32(_) => Dtype::F32,
            TensorData::F16(_) => Dtype::F16,
            TensorData::Bf16(_) => Dtype::Bf16,
        }
    }

    /// The elements as little-endian bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.data {
            TensorData::F32(v) => bytemuck::cast_slice(v),
            TensorData::F16(v) => bytemuck::cast_slice(v),
            TensorData::Bf16(v) => bytemuck::cast_slice(v),
        }
    }

    /// The elements converted to f32.
    pub fn to_f32_vec(&self) -> Vec<f32> {
        match &self.data {
            TensorData::F32(v) => v.clone(),
            TensorData::F16(v) => v.iter().map(|x| x.to_f32()).collect(),
            TensorData::Bf16(v) => v.iter().map(|x| x.to_f32()).collect(),
        }
    }
}
