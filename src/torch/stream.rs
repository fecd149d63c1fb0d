//! torch's current CUDA stream, from a small C++ shim compiled against libtorch's headers.

use crate::cuda::RawStream;
use crate::error::{Error, Result};

unsafe extern "C" {
    fn pixmix_torch_current_cuda_stream(device: i32, stream: *mut *mut std::ffi::c_void) -> i32;
}

/// The CUDA stream torch currently uses on device `index` (what
/// `torch.cuda.current_stream()` gives in Python): the default stream unless a trainer set
/// another.
pub fn current_cuda_stream(index: usize) -> Result<RawStream> {
    let device =
        i32::try_from(index).map_err(|_| Error::Input(format!("no CUDA device index {index}")))?;
    let mut stream = std::ptr::null_mut();
    // SAFETY: the shim writes one pointer through `stream` and catches every C++ exception.
    match unsafe { pixmix_torch_current_cuda_stream(device, &mut stream) } {
        0 => Ok(stream as RawStream),
        1 => Err(Error::NoCuda(
            "libtorch_cuda is not loaded: link the binary with -Wl,--no-as-needed -ltorch_cuda \
             (see README, \"Training with tch\")"
                .into(),
        )),
        _ => Err(Error::NoCuda(format!(
            "torch has no current stream on cuda:{index}"
        ))),
    }
}
