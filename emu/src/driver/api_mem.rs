//! Memory: device allocations (synchronous and stream-ordered, with a memory pool's
//! accounting), copies, memsets and page-locked host memory. Copies from page-locked
//! memory run when their stream reaches them, as on a GPU; a checksum taken when the copy
//! is queued shows whether the host changed the bytes meanwhile. Copies from pageable
//! memory take the bytes when queued, as the real driver stages them.

use std::alloc::Layout;
use std::collections::BTreeMap;
use std::ffi::{c_uint, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use super::api_stream::{implicit_waits, stream_of};
use super::stream::{OpInfo, Stream, check_access, forget, hazard, host_join};
use super::{
    CUdeviceptr, CUresult, Context, Handle, ILLEGAL_ADDRESS, INVALID_HANDLE, INVALID_VALUE,
    OUT_OF_MEMORY, Object, current, current_ok, driver, lock, out, ret,
};
use crate::memory::{self, AllocError, Allocation, Lookup, SPACE};
use crate::report::{self, Check, Report};

/// A device's memory pool: only accounting (the emulator's allocations are always fresh
/// addresses), so that the release threshold and reserved sizes behave as documented.
pub struct Pool {
    threshold: AtomicU64,
    used: AtomicU64,
    cached: AtomicU64,
    reserved_high: AtomicU64,
    used_high: AtomicU64,
}

impl Pool {
    pub fn new() -> Pool {
        Pool {
            threshold: AtomicU64::new(0),
            used: AtomicU64::new(0),
            cached: AtomicU64::new(0),
            reserved_high: AtomicU64::new(0),
            used_high: AtomicU64::new(0),
        }
    }

    fn take(&self, size: u64) {
        // Freed memory the pool kept serves new allocations first.
        let _ = self
            .cached
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                Some(c.saturating_sub(size))
            });
        let used = self.used.fetch_add(size, Ordering::AcqRel) + size;
        self.used_high.fetch_max(used, Ordering::AcqRel);
        let reserved = used + self.cached.load(Ordering::Acquire);
        self.reserved_high.fetch_max(reserved, Ordering::AcqRel);
    }

    fn give(&self, size: u64) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(size))
            });
        self.cached.fetch_add(size, Ordering::AcqRel);
    }

    /// At a synchronization the pool returns memory above its release threshold.
    fn trim(&self, keep: u64) {
        let used = self.used.load(Ordering::Acquire);
        let limit = keep.saturating_sub(used);
        let _ = self
            .cached
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| Some(c.min(limit)));
    }
}

/// After a stream, event or context synchronization: the pool releases what exceeds its
/// threshold, as the driver does.
pub fn trim_after_sync(c: &Context) {
    c.pool.trim(c.pool.threshold.load(Ordering::Acquire));
}

/// Queues `work` on `s` after what the legacy stream rules order it after.
pub fn submit(s: &Arc<Stream>, work: Box<dyn FnOnce(&OpInfo) + Send>) -> Result<OpInfo, CUresult> {
    s.ctx.check()?;
    let waits = implicit_waits(s)?;
    Ok(s.enqueue(waits, None, work))
}

/// Waits for one operation (the synchronous API's behaviour).
fn finish(s: &Arc<Stream>, op: &OpInfo) -> Result<(), CUresult> {
    s.wait(op.seq);
    host_join(&op.clock);
    s.ctx.check()
}

fn memcheck_report(summary: String, lookup: &Lookup, addr: u64, len: u64) -> Report {
    Report {
        check: Check::Memcheck,
        summary,
        details: vec![memory::describe_miss(addr, len, lookup)],
    }
}

/// The live allocation holding `[addr, addr + len)` on the current device, or a report
/// and `CUDA_ERROR_INVALID_VALUE`.
fn device_range(addr: u64, len: u64, what: &str) -> Result<(Arc<Allocation>, u64), CUresult> {
    match SPACE.find_range(addr, len) {
        Ok(x) => Ok(x),
        Err(lookup) => {
            report::record(memcheck_report(
                format!(
                    "{what}: {len} bytes at {addr:#x} are not inside one live device allocation"
                ),
                &lookup,
                addr,
                len,
            ));
            Err(INVALID_VALUE)
        }
    }
}

/// In a stream worker: the allocation is still live when the operation runs.
fn still_live(a: &Allocation, s: &Stream, what: &str) -> bool {
    if a.is_freed() {
        report::record(Report {
            check: Check::Memcheck,
            summary: format!("{what} on {} uses memory freed before it ran", s.describe()),
            details: vec![a.describe()],
        });
        s.ctx.fail(ILLEGAL_ADDRESS);
        return false;
    }
    true
}

fn hazards_on() -> bool {
    driver().is_ok_and(|d| d.config.hazards)
}

/// Hazard check for a stream operation; on a hazard the context fails.
fn checked(
    s: &Stream,
    a: &Allocation,
    lo: u64,
    hi: u64,
    write: bool,
    op: &OpInfo,
    what: &str,
) -> bool {
    if !hazards_on() {
        return true;
    }
    let what = format!("{what} on {}", s.describe());
    match check_access(a, lo, hi, write, op, &what) {
        Some(r) => {
            hazard(&s.ctx, r);
            false
        }
        None => true,
    }
}

fn alloc(ctx: &Context, size: u64, what: String) -> Result<Arc<Allocation>, CUresult> {
    let d = driver()?;
    match SPACE.alloc(ctx.device(), size, d.config.memory, what) {
        Ok(a) => {
            lock(&ctx.allocations).push(a.base);
            Ok(a)
        }
        Err(AllocError::OutOfMemory { .. }) | Err(AllocError::HostExhausted(_)) => {
            Err(OUT_OF_MEMORY)
        }
    }
}

fn release(ctx: &Context, base: u64, by: String) -> Result<Arc<Allocation>, CUresult> {
    match SPACE.free(base, by) {
        Ok(a) => {
            lock(&ctx.allocations).retain(|&b| b != base);
            forget(a.id);
            Ok(a)
        }
        Err(lookup) => {
            report::record(memcheck_report(
                format!("free of {base:#x}, which is not the start of a live allocation"),
                &lookup,
                base,
                1,
            ));
            Err(INVALID_VALUE)
        }
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuMemAlloc_v2(dptr: *mut CUdeviceptr, size: usize) -> CUresult {
    ret(current_ok().and_then(|c| {
        if size == 0 {
            return Err(INVALID_VALUE);
        }
        let a = alloc(&c, size as u64, "cuMemAlloc".into())?;
        unsafe { out(dptr, a.base) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuMemFree_v2(dptr: CUdeviceptr) -> CUresult {
    ret(current_ok().and_then(|c| {
        // cuMemFree waits for the device's work first.
        c.synchronize();
        release(&c, dptr, "cuMemFree".into()).map(|_| ())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuMemAllocAsync(
    dptr: *mut CUdeviceptr,
    size: usize,
    h: Handle,
) -> CUresult {
    ret(stream_of(h).and_then(|s| {
        let c = current_ok()?;
        if size == 0 {
            return Err(INVALID_VALUE);
        }
        let a = alloc(
            &c,
            size as u64,
            format!("cuMemAllocAsync on {}", s.describe()),
        )?;
        c.pool.take(size as u64);
        let (a2, s2) = (a.clone(), s.clone());
        // The allocation exists from this point of the stream on: an unordered use from
        // another stream is a hazard.
        submit(
            &s,
            Box::new(move |op| {
                checked(&s2, &a2, 0, a2.size, true, op, "cuMemAllocAsync");
            }),
        )?;
        unsafe { out(dptr, a.base) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuMemAllocFromPoolAsync(
    dptr: *mut CUdeviceptr,
    size: usize,
    _pool: Handle,
    h: Handle,
) -> CUresult {
    // SAFETY: forwarded.
    unsafe { cuMemAllocAsync(dptr, size, h) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuMemFreeAsync(dptr: CUdeviceptr, h: Handle) -> CUresult {
    ret(stream_of(h).and_then(|s| {
        let c = current_ok()?;
        let a = match SPACE.find(dptr) {
            Lookup::Live(a) if a.base == dptr => a,
            other => {
                report::record(memcheck_report(
                    format!(
                        "cuMemFreeAsync of {dptr:#x}, which is not the start of a live allocation"
                    ),
                    &other,
                    dptr,
                    1,
                ));
                return Err(INVALID_VALUE);
            }
        };
        let s2 = s.clone();
        let pool = c.pool.clone();
        let ctx = c.clone();
        submit(
            &s,
            Box::new(move |op| {
                checked(&s2, &a, 0, a.size, true, op, "cuMemFreeAsync");
                let by = format!("cuMemFreeAsync on {}", s2.describe());
                if release(&ctx, a.base, by).is_ok() {
                    pool.give(a.size);
                }
            }),
        )?;
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuMemGetInfo_v2(free: *mut usize, total: *mut usize) -> CUresult {
    ret(current().and_then(|c| {
        let d = driver()?;
        let used = SPACE.used(c.device());
        unsafe {
            out(free, d.config.memory.saturating_sub(used) as usize)?;
            out(total, d.config.memory as usize)
        }
    }))
}

/// Copies queued and not yet run on a page-locked buffer, with a condition to wait on.
type Pending = Arc<(Mutex<u64>, Condvar)>;

/// A copy queued from or into a page-locked buffer, until the host is ordered after it.
#[derive(Clone, Copy)]
struct PinnedCopy {
    lo: usize,
    hi: usize,
    stream: u64,
    seq: u64,
    /// The source bytes' checksum when queued (copies to the device).
    sum: Option<u64>,
}

/// Copies of a buffer the host has not synchronized with. Unlike the pending count, this
/// does not depend on whether a copy already ran: the verdict is the same on every run.
type Copies = Arc<Mutex<Vec<PinnedCopy>>>;

/// Page-locked host buffers.
struct Pinned {
    ptr: usize,
    layout: Layout,
    /// Copies queued and not yet run.
    pending: Pending,
    copies: Copies,
}

static PINNED: Mutex<BTreeMap<usize, Pinned>> = Mutex::new(BTreeMap::new());

/// The pinned buffer holding `[p, p + len)`: its start, pending-copy counter and copies.
fn pinned(p: usize, len: usize) -> Option<(usize, Pending, Copies)> {
    let map = lock(&PINNED);
    let (&base, buf) = map.range(..=p).next_back()?;
    (p + len <= base + buf.layout.size()).then(|| (base, buf.pending.clone(), buf.copies.clone()))
}

/// The copies the host is not yet ordered after (the others are forgotten).
fn unsynchronized(copies: &Copies) -> Vec<PinnedCopy> {
    let host = super::stream::host_clock();
    let mut c = lock(copies);
    c.retain(|x| host.get(x.stream) < x.seq);
    c.clone()
}

fn checksum(bytes: &[u8]) -> u64 {
    // FNV-1a over 8-byte words: enough to see that the host wrote the buffer.
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = (h ^ u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).wrapping_mul(0x100_0000_01b3);
    }
    for &b in chunks.remainder() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    h
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuMemHostAlloc(
    pp: *mut *mut c_void,
    size: usize,
    _flags: c_uint,
) -> CUresult {
    ret(driver().and_then(|_| {
        if size == 0 {
            return Err(INVALID_VALUE);
        }
        let layout = Layout::from_size_align(size, 4096).map_err(|_| INVALID_VALUE)?;
        // SAFETY: non-zero size.
        let p = unsafe { std::alloc::alloc(layout) };
        if p.is_null() {
            return Err(OUT_OF_MEMORY);
        }
        lock(&PINNED).insert(
            p as usize,
            Pinned {
                ptr: p as usize,
                layout,
                pending: Arc::new((Mutex::new(0), Condvar::new())),
                copies: Arc::new(Mutex::new(Vec::new())),
            },
        );
        unsafe { out(pp, p as *mut c_void) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuMemAllocHost_v2(pp: *mut *mut c_void, size: usize) -> CUresult {
    // SAFETY: forwarded.
    unsafe { cuMemHostAlloc(pp, size, 0) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuMemFreeHost(p: *mut c_void) -> CUresult {
    ret(driver().and_then(|_| {
        let buf = lock(&PINNED).remove(&(p as usize)).ok_or(INVALID_VALUE)?;
        let open = unsynchronized(&buf.copies);
        if !open.is_empty() && hazards_on() {
            let r = Report {
                check: Check::Hazard,
                summary: format!(
                    "cuMemFreeHost of page-locked buffer {:#x} ({} bytes) with {} queued copies the host never waited for",
                    buf.ptr,
                    buf.layout.size(),
                    open.len()
                ),
                details: vec![
                    "on a GPU the copies may still read or write freed host memory: wait for them (an event, a stream synchronization) first".into(),
                ],
            };
            match current() {
                Ok(c) => hazard(&c.shared, r),
                Err(_) => report::record(r),
            }
        }
        let (m, cv) = &*buf.pending;
        let mut n = lock(m);
        // Let the copies finish before the bytes go away (here, unlike on a GPU).
        while *n > 0 {
            n = cv.wait(n).unwrap_or_else(|e| e.into_inner());
        }
        drop(n);
        // SAFETY: allocated in cuMemHostAlloc with this layout.
        unsafe { std::alloc::dealloc(buf.ptr as *mut u8, buf.layout) };
        Ok(())
    }))
}

struct SendPtr(*mut u8);
// SAFETY: the pointer is used by the stream worker under the driver API's contract (the
// caller keeps host memory valid until the copy completes).
unsafe impl Send for SendPtr {}

fn htod(dst: u64, src: *const u8, n: usize, h: Handle, sync: bool) -> Result<(), CUresult> {
    let s = stream_of(h)?;
    current_ok()?;
    if n == 0 {
        return Ok(());
    }
    if src.is_null() {
        return Err(INVALID_VALUE);
    }
    let (a, off) = device_range(dst, n as u64, "cuMemcpyHtoD")?;
    let s2 = s.clone();
    let op = match pinned(src as usize, n) {
        Some((base, pending, copies)) => {
            // SAFETY: the caller's buffer holds n bytes.
            let sum = checksum(unsafe { std::slice::from_raw_parts(src, n) });
            let (lo, hi) = (src as usize, src as usize + n);
            let rewritten = unsynchronized(&copies)
                .into_iter()
                .find(|c| c.lo == lo && c.hi == hi && c.sum.is_some_and(|x| x != sum));
            if let Some(c) = rewritten
                && hazards_on()
            {
                hazard(
                    &s.ctx,
                    Report {
                        check: Check::Hazard,
                        summary: format!(
                            "page-locked bytes {lo:#x}..{hi:#x} were rewritten by the host after a copy from them was queued, and the host never waited for that copy"
                        ),
                        details: vec![format!(
                            "the earlier copy was operation {} of stream id {}: on a GPU it may read the new bytes",
                            c.seq, c.stream
                        )],
                    },
                );
                return Err(super::LAUNCH_FAILED);
            }
            *lock(&pending.0) += 1;
            let p = SendPtr(src as *mut u8);
            let op = submit(
                &s,
                Box::new(move |op| {
                    let p = p;
                    // SAFETY: pinned memory stays allocated while copies are pending.
                    let bytes = unsafe { std::slice::from_raw_parts(p.0 as *const u8, n) };
                    if hazards_on() && checksum(bytes) != sum {
                        hazard(
                            &s2.ctx,
                            Report {
                                check: Check::Hazard,
                                summary: format!(
                                    "page-locked buffer {:#x} (bytes {}..{} of the buffer at {base:#x}) was written by the host while a copy from it was queued on {}",
                                    p.0 as usize,
                                    p.0 as usize - base,
                                    p.0 as usize - base + n,
                                    s2.describe()
                                ),
                                details: vec![
                                    format!(
                                        "the copy to {dst:#x} would have read the new bytes on a GPU"
                                    ),
                                    a.describe(),
                                ],
                            },
                        );
                    }
                    if s2.ctx.check().is_ok()
                        && still_live(&a, &s2, "cuMemcpyHtoDAsync")
                        && checked(&s2, &a, off, off + n as u64, true, op, "cuMemcpyHtoDAsync")
                    {
                        a.write(off, bytes);
                    }
                    let (m, cv) = &*pending;
                    *lock(m) -= 1;
                    cv.notify_all();
                }),
            )?;
            lock(&copies).push(PinnedCopy {
                lo,
                hi,
                stream: op.stream,
                seq: op.seq,
                sum: Some(sum),
            });
            op
        }
        None => {
            // SAFETY: the caller's buffer holds n bytes.
            let bytes = unsafe { std::slice::from_raw_parts(src, n) }.to_vec();
            submit(
                &s,
                Box::new(move |op| {
                    if s2.ctx.check().is_ok()
                        && still_live(&a, &s2, "cuMemcpyHtoDAsync")
                        && checked(&s2, &a, off, off + n as u64, true, op, "cuMemcpyHtoDAsync")
                    {
                        a.write(off, &bytes);
                    }
                }),
            )?
        }
    };
    if sync { finish(&s, &op) } else { Ok(()) }
}

fn dtoh(dst: *mut u8, src: u64, n: usize, h: Handle, sync: bool) -> Result<(), CUresult> {
    let s = stream_of(h)?;
    current_ok()?;
    if n == 0 {
        return Ok(());
    }
    if dst.is_null() {
        return Err(INVALID_VALUE);
    }
    let (a, off) = device_range(src, n as u64, "cuMemcpyDtoH")?;
    let s2 = s.clone();
    let is_pinned = pinned(dst as usize, n);
    if let Some((_, pending, _)) = &is_pinned {
        *lock(&pending.0) += 1;
    }
    let pending = is_pinned.as_ref().map(|p| p.1.clone());
    let p = SendPtr(dst);
    let op = submit(
        &s,
        Box::new(move |op| {
            let p = p;
            if s2.ctx.check().is_ok()
                && still_live(&a, &s2, "cuMemcpyDtoHAsync")
                && checked(&s2, &a, off, off + n as u64, false, op, "cuMemcpyDtoHAsync")
            {
                // SAFETY: the caller's buffer holds n bytes until the copy completes.
                a.read(off, unsafe { std::slice::from_raw_parts_mut(p.0, n) });
            }
            if let Some(pending) = pending {
                let (m, cv) = &*pending;
                *lock(m) -= 1;
                cv.notify_all();
            }
        }),
    )?;
    if let Some((_, _, copies)) = &is_pinned {
        lock(copies).push(PinnedCopy {
            lo: dst as usize,
            hi: dst as usize + n,
            stream: op.stream,
            seq: op.seq,
            sum: None,
        });
    }
    // Into pageable memory the copy completes before the call returns.
    if sync || is_pinned.is_none() {
        finish(&s, &op)
    } else {
        Ok(())
    }
}

fn dtod(dst: u64, src: u64, n: usize, h: Handle, sync: bool) -> Result<(), CUresult> {
    let s = stream_of(h)?;
    current_ok()?;
    if n == 0 {
        return Ok(());
    }
    let (sa, so) = device_range(src, n as u64, "cuMemcpyDtoD (source)")?;
    let (da, doff) = device_range(dst, n as u64, "cuMemcpyDtoD (destination)")?;
    let s2 = s.clone();
    let op = submit(
        &s,
        Box::new(move |op| {
            if s2.ctx.check().is_err()
                || !still_live(&sa, &s2, "cuMemcpyDtoDAsync")
                || !still_live(&da, &s2, "cuMemcpyDtoDAsync")
                || !checked(&s2, &sa, so, so + n as u64, false, op, "cuMemcpyDtoDAsync")
                || !checked(
                    &s2,
                    &da,
                    doff,
                    doff + n as u64,
                    true,
                    op,
                    "cuMemcpyDtoDAsync",
                )
            {
                return;
            }
            let mut buf = vec![0u8; n];
            sa.read(so, &mut buf);
            // SAFETY: both ranges were checked; `copy` handles overlap.
            unsafe {
                std::ptr::copy(buf.as_ptr(), da.data(doff), n);
                std::ptr::copy(sa.init(so), da.init(doff), n);
            }
        }),
    )?;
    if sync { finish(&s, &op) } else { Ok(()) }
}

fn memset(
    dst: u64,
    value: u32,
    width: usize,
    count: usize,
    h: Handle,
    sync: bool,
) -> Result<(), CUresult> {
    let s = stream_of(h)?;
    current_ok()?;
    let n = count * width;
    if n == 0 {
        return Ok(());
    }
    if !dst.is_multiple_of(width as u64) {
        return Err(INVALID_VALUE);
    }
    let (a, off) = device_range(dst, n as u64, "cuMemset")?;
    let s2 = s.clone();
    let op = submit(
        &s,
        Box::new(move |op| {
            if s2.ctx.check().is_err()
                || !still_live(&a, &s2, "cuMemsetAsync")
                || !checked(&s2, &a, off, off + n as u64, true, op, "cuMemsetAsync")
            {
                return;
            }
            let pattern = value.to_le_bytes();
            let bytes: Vec<u8> = (0..n).map(|i| pattern[i % width]).collect();
            a.write(off, &bytes);
        }),
    )?;
    if sync { finish(&s, &op) } else { Ok(()) }
}

/// Whether an address is device memory (for the unified `cuMemcpy`).
fn is_device(p: u64) -> bool {
    !matches!(SPACE.find(p), Lookup::Wild(_))
}

macro_rules! export {
    ($name:ident ($($arg:ident : $ty:ty),*) => $body:expr) => {
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> CUresult {
            ret($body)
        }
    };
}

export!(cuMemcpyHtoDAsync_v2(dst: CUdeviceptr, src: *const c_void, n: usize, h: Handle) => htod(dst, src as *const u8, n, h, false));
export!(cuMemcpyHtoD_v2(dst: CUdeviceptr, src: *const c_void, n: usize) => htod(dst, src as *const u8, n, std::ptr::null_mut(), true));
export!(cuMemcpyDtoHAsync_v2(dst: *mut c_void, src: CUdeviceptr, n: usize, h: Handle) => dtoh(dst as *mut u8, src, n, h, false));
export!(cuMemcpyDtoH_v2(dst: *mut c_void, src: CUdeviceptr, n: usize) => dtoh(dst as *mut u8, src, n, std::ptr::null_mut(), true));
export!(cuMemcpyDtoDAsync_v2(dst: CUdeviceptr, src: CUdeviceptr, n: usize, h: Handle) => dtod(dst, src, n, h, false));
export!(cuMemcpyDtoD_v2(dst: CUdeviceptr, src: CUdeviceptr, n: usize) => dtod(dst, src, n, std::ptr::null_mut(), true));
export!(cuMemsetD8Async(dst: CUdeviceptr, v: u8, n: usize, h: Handle) => memset(dst, v as u32, 1, n, h, false));
export!(cuMemsetD8_v2(dst: CUdeviceptr, v: u8, n: usize) => memset(dst, v as u32, 1, n, std::ptr::null_mut(), true));
export!(cuMemsetD16Async(dst: CUdeviceptr, v: u16, n: usize, h: Handle) => memset(dst, v as u32, 2, n, h, false));
export!(cuMemsetD16_v2(dst: CUdeviceptr, v: u16, n: usize) => memset(dst, v as u32, 2, n, std::ptr::null_mut(), true));
export!(cuMemsetD32Async(dst: CUdeviceptr, v: u32, n: usize, h: Handle) => memset(dst, v, 4, n, h, false));
export!(cuMemsetD32_v2(dst: CUdeviceptr, v: u32, n: usize) => memset(dst, v, 4, n, std::ptr::null_mut(), true));

fn unified(dst: u64, src: u64, n: usize, h: Handle, sync: bool) -> Result<(), CUresult> {
    match (is_device(dst), is_device(src)) {
        (true, true) => dtod(dst, src, n, h, sync),
        (true, false) => htod(dst, src as *const u8, n, h, sync),
        (false, true) => dtoh(dst as *mut u8, src, n, h, sync),
        (false, false) => Err(INVALID_VALUE),
    }
}

export!(cuMemcpy(dst: CUdeviceptr, src: CUdeviceptr, n: usize) => unified(dst, src, n, std::ptr::null_mut(), true));
export!(cuMemcpyAsync(dst: CUdeviceptr, src: CUdeviceptr, n: usize, h: Handle) => unified(dst, src, n, h, false));

fn pool_of(h: Handle) -> Result<Arc<Pool>, CUresult> {
    match driver()?.get(h) {
        Some(Object::Pool(p)) => Ok(p),
        _ => Err(INVALID_HANDLE),
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDeviceGetDefaultMemPool(
    pool: *mut Handle,
    dev: super::CUdevice,
) -> CUresult {
    ret(driver().and_then(|d| {
        d.device_checked(dev)?;
        // The pool of the device's primary context (or the current one on that device).
        let c = current()
            .ok()
            .filter(|c| c.device() == dev as usize)
            .ok_or(super::INVALID_CONTEXT)?;
        let h = d.pool_handle(&c);
        unsafe { out(pool, h as Handle) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuDeviceGetMemPool(pool: *mut Handle, dev: super::CUdevice) -> CUresult {
    // SAFETY: forwarded.
    unsafe { cuDeviceGetDefaultMemPool(pool, dev) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuMemPoolSetAttribute(
    pool: Handle,
    attr: std::ffi::c_int,
    value: *mut c_void,
) -> CUresult {
    ret(pool_of(pool).and_then(|p| {
        if value.is_null() {
            return Err(INVALID_VALUE);
        }
        match attr {
            1..=3 => Ok(()),
            // SAFETY: the release threshold is a u64.
            4 => {
                p.threshold
                    .store(unsafe { *(value as *const u64) }, Ordering::Release);
                Ok(())
            }
            6 => {
                p.reserved_high.store(0, Ordering::Release);
                Ok(())
            }
            8 => {
                p.used_high.store(0, Ordering::Release);
                Ok(())
            }
            _ => Err(INVALID_VALUE),
        }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuMemPoolGetAttribute(
    pool: Handle,
    attr: std::ffi::c_int,
    value: *mut c_void,
) -> CUresult {
    ret(pool_of(pool).and_then(|p| {
        if value.is_null() {
            return Err(INVALID_VALUE);
        }
        let used = p.used.load(Ordering::Acquire);
        let cached = p.cached.load(Ordering::Acquire);
        // SAFETY: the caller's pointer holds the attribute's type (int or u64).
        unsafe {
            match attr {
                1..=3 => *(value as *mut std::ffi::c_int) = 1,
                4 => *(value as *mut u64) = p.threshold.load(Ordering::Acquire),
                5 => *(value as *mut u64) = used + cached,
                6 => *(value as *mut u64) = p.reserved_high.load(Ordering::Acquire),
                7 => *(value as *mut u64) = used,
                8 => *(value as *mut u64) = p.used_high.load(Ordering::Acquire),
                _ => return Err(INVALID_VALUE),
            }
        }
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuMemPoolTrimTo(pool: Handle, keep: usize) -> CUresult {
    ret(pool_of(pool).map(|p| p.trim(keep as u64)))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuPointerGetAttribute(
    data: *mut c_void,
    attr: std::ffi::c_int,
    ptr: CUdeviceptr,
) -> CUresult {
    ret(driver().and_then(|d| {
        if data.is_null() {
            return Err(INVALID_VALUE);
        }
        let a = match SPACE.find(ptr) {
            Lookup::Live(a) => a,
            _ => return Err(INVALID_VALUE),
        };
        // SAFETY: the caller's pointer holds the attribute's type.
        unsafe {
            match attr {
                1 => {
                    let c = d.primary_or_any(a.device).ok_or(INVALID_VALUE)?;
                    *(data as *mut Handle) = c as Handle;
                }
                2 => *(data as *mut c_uint) = 2, // CU_MEMORYTYPE_DEVICE
                3 => *(data as *mut CUdeviceptr) = ptr,
                9 => *(data as *mut std::ffi::c_int) = a.device as std::ffi::c_int,
                11 => *(data as *mut CUdeviceptr) = a.base,
                12 => *(data as *mut usize) = a.size as usize,
                _ => return Err(INVALID_VALUE),
            }
        }
        Ok(())
    }))
}
