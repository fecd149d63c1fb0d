//! [`StreamBuffer`]: an augmented batch in device memory that the caller owns, for handing
//! to another framework (DLPack) whose streams this crate does not know in advance.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cudarc::driver::{CudaContext, CudaEvent, CudaStream, sys};

use super::device::{CudaDevice, cuda};
use crate::error::Result;

/// A device allocation written on the executor's stream and freed in stream order.
///
/// The batch is complete when the executor's stream reaches the `ready` event; a consumer
/// stream handed the buffer ([`hand_to`](Self::hand_to)) waits for that event, and the
/// memory is freed on the last such stream, after the work its consumer queued there: the
/// stream-ordered allocator then cannot give it to anyone before that work has read it.
pub struct StreamBuffer {
    ctx: Arc<CudaContext>,
    home: Arc<CudaStream>,
    ptr: sys::CUdeviceptr,
    bytes: usize,
    ready: CudaEvent,
    /// Raw handle of the stream to free on; 0 means `home`.
    release: AtomicU64,
    pooled: bool,
}

impl std::fmt::Debug for StreamBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StreamBuffer({:#x}, {} bytes)", self.ptr, self.bytes)
    }
}

impl StreamBuffer {
    /// Allocates `bytes` (at least one) on `device`'s stream; the contents are undefined.
    pub(crate) fn new(device: &CudaDevice, bytes: usize) -> Result<StreamBuffer> {
        let ctx = device.ctx.clone();
        let home = device.stream.clone();
        let pooled = ctx.has_async_alloc();
        ctx.bind_to_thread().map_err(cuda("binding the context"))?;
        // SAFETY: the stream belongs to this context; the memory is written by the batch
        // before anything reads it (the ready event orders readers).
        let ptr = unsafe {
            if pooled {
                cudarc::driver::result::malloc_async(home.cu_stream(), bytes.max(1))
            } else {
                cudarc::driver::result::malloc_sync(bytes.max(1))
            }
        }
        .map_err(cuda("allocating the batch"))?;
        let ready = match ctx.new_event(None) {
            Ok(e) => e,
            Err(e) => {
                // SAFETY: just allocated above and not yet shared.
                let _ = unsafe { free(pooled, ptr, home.cu_stream()) };
                return Err(crate::Error::Cuda(format!("creating an event: {e}")));
            }
        };
        Ok(StreamBuffer {
            ctx,
            home,
            ptr,
            bytes,
            ready,
            release: AtomicU64::new(0),
            pooled,
        })
    }

    /// Marks the end of the work that writes the buffer on the executor's stream.
    pub(crate) fn record_ready(&self) -> Result<()> {
        self.ready
            .record(&self.home)
            .map_err(cuda("recording the end of the batch"))
    }

    /// Device address of the first byte.
    pub fn ptr(&self) -> u64 {
        self.ptr
    }

    /// Size in bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Device ordinal of the allocation.
    pub fn ordinal(&self) -> usize {
        self.ctx.ordinal()
    }

    /// Makes `stream` wait until the batch is written, and frees the buffer on `stream`
    /// (after what is queued there by then) instead of the executor's stream. Handed to
    /// several streams, the buffer is freed on the last one: work on the others must be
    /// ordered before that stream's (or finished) when the buffer is dropped.
    ///
    /// # Safety
    /// `stream` must be a stream of this buffer's context (or the legacy or per-thread
    /// default stream handle, 1 or 2) that lives at least as long as the buffer.
    pub unsafe fn hand_to(&self, stream: sys::CUstream) -> Result<()> {
        self.ctx
            .bind_to_thread()
            .map_err(cuda("binding the context"))?;
        // SAFETY: the event belongs to this context; the stream per the caller's contract.
        unsafe {
            cudarc::driver::result::stream::wait_event(
                stream,
                self.ready.cu_event(),
                sys::CUevent_wait_flags::CU_EVENT_WAIT_DEFAULT,
            )
        }
        .map_err(cuda("ordering the consumer's stream after the batch"))?;
        self.release.store(stream as u64, Ordering::Release);
        Ok(())
    }

    /// Blocks the host until the batch is written (and its inputs are read).
    pub fn wait(&self) -> Result<()> {
        self.ready
            .synchronize()
            .map_err(cuda("waiting for the batch"))
    }
}

/// Frees `ptr` on `stream` (pooled) or synchronously.
unsafe fn free(
    pooled: bool,
    ptr: sys::CUdeviceptr,
    stream: sys::CUstream,
) -> std::result::Result<(), cudarc::driver::DriverError> {
    // SAFETY: forwarded from the caller: `ptr` is a live allocation of the bound context.
    unsafe {
        if pooled {
            cudarc::driver::result::free_async(ptr, stream)
        } else {
            cudarc::driver::result::free_sync(ptr)
        }
    }
}

impl Drop for StreamBuffer {
    fn drop(&mut self) {
        if self.ctx.bind_to_thread().is_err() {
            return;
        }
        let release = self.release.load(Ordering::Acquire);
        let stream = if release == 0 {
            self.home.cu_stream()
        } else {
            release as sys::CUstream
        };
        // SAFETY: the allocation is ours and freed once; a consumer stream that has gone
        // away makes the first free fail, and the device is then drained before freeing
        // on our own stream, which cannot hand the memory to anyone too early.
        unsafe {
            if free(self.pooled, self.ptr, stream).is_err() {
                let _ = self.ctx.synchronize();
                let _ = free(self.pooled, self.ptr, self.home.cu_stream());
            }
        }
    }
}
