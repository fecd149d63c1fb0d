//! Device memory: one address space for every emulated device (like unified virtual
//! addressing), allocations that never reuse an address (so a use after free is always
//! seen as one) with a guard gap between them (so an access one past the end never lands
//! in a neighbour), and a shadow byte per byte recording whether it was ever written.

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// First device address handed out (device pointers look like real ones, and 0 and small
/// integers are never valid).
const BASE: u64 = 0x7f00_0000_0000;
/// Allocation granularity and alignment (the driver guarantees 256).
const ALIGN: u64 = 512;
/// Unmapped bytes after each allocation.
const GUARD: u64 = 4096;

/// A zeroed heap block that is freed on drop (pages materialise when touched).
struct Block {
    ptr: *mut u8,
    layout: Layout,
}

impl Block {
    fn new(size: u64) -> Option<Block> {
        let size = usize::try_from(size.max(1)).ok()?;
        let layout = Layout::from_size_align(size, 64).ok()?;
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        (!ptr.is_null()).then_some(Block { ptr, layout })
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.ptr, self.layout) }
    }
}

/// One device allocation.
pub struct Allocation {
    /// Distinct for every allocation of the process.
    pub id: u64,
    /// First device address.
    pub base: u64,
    /// Size in bytes as requested.
    pub size: u64,
    /// The emulated device (context ordinal) it belongs to.
    pub device: usize,
    /// How it was made ("cuMemAllocAsync on stream 0x..", "module global tbl", ...).
    pub what: String,
    data: Block,
    init: Block,
    freed: AtomicBool,
}

// SAFETY: the blocks are plain bytes; concurrent access is what the emulated program does,
// and the checks report the races among it.
unsafe impl Send for Allocation {}
unsafe impl Sync for Allocation {}

impl Allocation {
    /// Host address of the byte at `offset`.
    #[inline]
    pub fn data(&self, offset: u64) -> *mut u8 {
        // SAFETY: callers check offset <= size.
        unsafe { self.data.ptr.add(offset as usize) }
    }

    /// Host address of the initialization shadow of the byte at `offset` (0: never written).
    #[inline]
    pub fn init(&self, offset: u64) -> *mut u8 {
        // SAFETY: as for `data`.
        unsafe { self.init.ptr.add(offset as usize) }
    }

    /// One past the last device address.
    #[inline]
    pub fn end(&self) -> u64 {
        self.base + self.size
    }

    /// Whether `cuMemFree*` already released it.
    pub fn is_freed(&self) -> bool {
        self.freed.load(Ordering::Acquire)
    }

    /// Marks `len` bytes from `offset` written.
    pub fn mark_init(&self, offset: u64, len: u64) {
        // SAFETY: callers pass a range inside the allocation.
        unsafe { std::ptr::write_bytes(self.init(offset), 1, len as usize) }
    }

    /// Whether every byte of the range was written; the first one never written otherwise.
    pub fn first_uninit(&self, offset: u64, len: u64) -> Option<u64> {
        // SAFETY: callers pass a range inside the allocation.
        let shadow = unsafe { std::slice::from_raw_parts(self.init(offset), len as usize) };
        shadow
            .iter()
            .position(|&b| b == 0)
            .map(|i| offset + i as u64)
    }

    /// Copies the bytes and their initialization out.
    pub fn read(&self, offset: u64, out: &mut [u8]) {
        // SAFETY: callers pass a range inside the allocation.
        unsafe { std::ptr::copy_nonoverlapping(self.data(offset), out.as_mut_ptr(), out.len()) }
    }

    /// Writes bytes and marks them initialized.
    pub fn write(&self, offset: u64, bytes: &[u8]) {
        // SAFETY: callers pass a range inside the allocation.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.data(offset), bytes.len()) }
        self.mark_init(offset, bytes.len() as u64);
    }

    /// A description for reports: `allocation 0x... of N bytes (what)`.
    pub fn describe(&self) -> String {
        format!(
            "allocation {:#x}..{:#x} ({} bytes, {}, device {})",
            self.base,
            self.end(),
            self.size,
            self.what,
            self.device
        )
    }
}

/// An allocation already freed, kept for reports.
#[derive(Clone, Debug)]
pub struct Freed {
    pub base: u64,
    pub size: u64,
    pub what: String,
    pub freed_by: String,
}

/// What an address is.
pub enum Lookup {
    Live(Arc<Allocation>),
    Freed(Freed),
    /// In no allocation; the nearest live one below it, if any, for the report.
    Wild(Option<Arc<Allocation>>),
}

#[derive(Default)]
struct Inner {
    live: BTreeMap<u64, Arc<Allocation>>,
    freed: BTreeMap<u64, Freed>,
    next: u64,
    ids: u64,
    /// Bytes in use per device.
    used: Vec<u64>,
}

/// Every allocation of every emulated device.
pub struct AddressSpace {
    inner: RwLock<Inner>,
    generation: AtomicU64,
}

/// Why an allocation failed.
#[derive(Debug, PartialEq, Eq)]
pub enum AllocError {
    /// The device's configured memory would be exceeded.
    OutOfMemory {
        requested: u64,
        used: u64,
        capacity: u64,
    },
    /// The host could not provide the bytes.
    HostExhausted(u64),
}

impl AddressSpace {
    const fn new() -> AddressSpace {
        AddressSpace {
            inner: RwLock::new(Inner {
                live: BTreeMap::new(),
                freed: BTreeMap::new(),
                next: BASE,
                ids: 0,
                used: Vec::new(),
            }),
            generation: AtomicU64::new(0),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Allocates `size` bytes on `device`, whose memory holds `capacity` bytes.
    pub fn alloc(
        &self,
        device: usize,
        size: u64,
        capacity: u64,
        what: String,
    ) -> Result<Arc<Allocation>, AllocError> {
        let mut inner = self.write();
        if inner.used.len() <= device {
            inner.used.resize(device + 1, 0);
        }
        let used = inner.used[device];
        let rounded = size.max(1).div_ceil(ALIGN) * ALIGN;
        if used.saturating_add(rounded) > capacity {
            return Err(AllocError::OutOfMemory {
                requested: size,
                used,
                capacity,
            });
        }
        let data = Block::new(size).ok_or(AllocError::HostExhausted(size))?;
        let init = Block::new(size).ok_or(AllocError::HostExhausted(size))?;
        let base = inner.next;
        inner.next = base + rounded + GUARD;
        inner.ids += 1;
        inner.used[device] += rounded;
        let a = Arc::new(Allocation {
            id: inner.ids,
            base,
            size,
            device,
            what,
            data,
            init,
            freed: AtomicBool::new(false),
        });
        inner.live.insert(base, a.clone());
        self.generation.fetch_add(1, Ordering::Release);
        Ok(a)
    }

    /// Releases the allocation that starts at `base`; `by` says who (for later reports).
    pub fn free(&self, base: u64, by: String) -> Result<Arc<Allocation>, Lookup> {
        let mut inner = self.write();
        let Some(a) = inner.live.remove(&base) else {
            drop(inner);
            return Err(self.find(base));
        };
        a.freed.store(true, Ordering::Release);
        let rounded = a.size.max(1).div_ceil(ALIGN) * ALIGN;
        inner.used[a.device] -= rounded;
        inner.freed.insert(
            base,
            Freed {
                base,
                size: a.size,
                what: a.what.clone(),
                freed_by: by,
            },
        );
        self.generation.fetch_add(1, Ordering::Release);
        Ok(a)
    }

    /// What `addr` is.
    pub fn find(&self, addr: u64) -> Lookup {
        let inner = self.read();
        if let Some((_, a)) = inner.live.range(..=addr).next_back()
            && (addr < a.end() || (a.size == 0 && addr == a.base))
        {
            return Lookup::Live(a.clone());
        }
        if let Some((_, f)) = inner.freed.range(..=addr).next_back()
            && addr < f.base + f.size.max(1)
        {
            return Lookup::Freed(f.clone());
        }
        Lookup::Wild(
            inner
                .live
                .range(..=addr)
                .next_back()
                .map(|(_, a)| a.clone()),
        )
    }

    /// The live allocation holding `[addr, addr + len)`, or what is there instead.
    pub fn find_range(&self, addr: u64, len: u64) -> Result<(Arc<Allocation>, u64), Lookup> {
        match self.find(addr) {
            Lookup::Live(a) if addr + len <= a.end() => {
                let off = addr - a.base;
                Ok((a, off))
            }
            Lookup::Live(a) => Err(Lookup::Wild(Some(a))),
            other => Err(other),
        }
    }

    /// Every live allocation, sorted by address (what a launch sees).
    pub fn snapshot(&self) -> Vec<Arc<Allocation>> {
        self.read().live.values().cloned().collect()
    }

    /// Bytes in use on `device`.
    pub fn used(&self, device: usize) -> u64 {
        self.read().used.get(device).copied().unwrap_or(0)
    }
}

/// The process's device address space.
pub static SPACE: AddressSpace = AddressSpace::new();

/// Describes an address that is not in a live allocation, for reports.
pub fn describe_miss(addr: u64, len: u64, lookup: &Lookup) -> String {
    match lookup {
        Lookup::Freed(f) => format!(
            "address {addr:#x} is in allocation {:#x}..{:#x} ({} bytes, {}), already freed by {}",
            f.base,
            f.base + f.size,
            f.size,
            f.what,
            f.freed_by
        ),
        Lookup::Live(a) | Lookup::Wild(Some(a))
            if addr >= a.base && addr.saturating_sub(a.end()) < 1 << 20 =>
        {
            format!(
                "{len} bytes at {addr:#x} are {} bytes past the end of {}",
                (addr + len).saturating_sub(a.end()),
                a.describe()
            )
        }
        _ => format!("address {addr:#x} is in no allocation"),
    }
}
