//! Race detection state: for every byte, the last writer and the last reader(s), each as
//! one word. Two accesses of a launch are ordered only when they come from the same
//! thread, or from one block with a barrier between them (a thread's epoch is the number
//! of barriers its block has passed); accesses of different blocks are never ordered.
//! Two atomics never race with each other.

use std::sync::atomic::{
    AtomicU64,
    Ordering::{Relaxed, SeqCst},
};

const ATOMIC: u64 = 1;
/// Several threads of one block read in the recorded epoch.
const MANY: u64 = 2;
/// Threads of several blocks read.
const MULTIBLOCK: u64 = 4;

/// The thread making an access.
#[derive(Clone, Copy, Debug)]
pub struct Who {
    /// Linear thread index in the grid.
    pub gtid: u64,
    /// Linear block index.
    pub block: u64,
    /// Barriers passed.
    pub epoch: u32,
    /// Threads per block.
    pub tpb: u64,
}

impl Who {
    fn cell(&self, flags: u64) -> u64 {
        ((self.gtid + 1) << 20) | (u64::from(self.epoch & 0xffff) << 4) | flags
    }

    /// Whether an earlier access recorded as `prev` is unordered with this thread's.
    fn unordered(&self, prev: u64) -> bool {
        let gtid = (prev >> 20) - 1;
        if prev & MULTIBLOCK != 0 {
            return true;
        }
        if gtid == self.gtid && prev & MANY == 0 {
            return false;
        }
        if gtid / self.tpb != self.block {
            return true;
        }
        ((prev >> 4) & 0xffff) as u32 == self.epoch & 0xffff
    }
}

/// The other side of a race: its thread and what it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// Linear grid thread index of the earlier access (one of them, for several readers).
    pub gtid: u64,
    pub earlier_write: bool,
    pub earlier_atomic: bool,
    /// Several threads read (the one named is the last).
    pub several: bool,
}

fn conflict(prev: u64, write: bool) -> Conflict {
    Conflict {
        gtid: (prev >> 20) - 1,
        earlier_write: write,
        earlier_atomic: prev & ATOMIC != 0,
        several: prev & (MANY | MULTIBLOCK) != 0,
    }
}

/// Writer and reader words for a run of bytes.
pub struct RaceShadow {
    w: Box<[AtomicU64]>,
    r: Box<[AtomicU64]>,
}

fn zeroed(n: usize) -> Box<[AtomicU64]> {
    // Zeroed pages: only the bytes a launch touches cost memory.
    let layout = std::alloc::Layout::array::<AtomicU64>(n.max(1)).expect("shadow size");
    // SAFETY: non-zero size; all-zero bytes are a valid AtomicU64.
    unsafe {
        let p = std::alloc::alloc_zeroed(layout) as *mut AtomicU64;
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, n.max(1)))
    }
}

impl RaceShadow {
    /// State for `n` bytes, none accessed.
    pub fn new(n: usize) -> RaceShadow {
        RaceShadow {
            w: zeroed(n),
            r: zeroed(n),
        }
    }

    /// Records a read of bytes `at..at + len`; the first unordered earlier write if any.
    #[inline]
    pub fn read(&self, at: usize, len: usize, who: &Who) -> Option<Conflict> {
        // The reader records itself before it looks at the writer, and a writer swaps
        // itself in before it looks at the readers (all sequentially consistent): of two
        // threads of different workers at the same byte, at least one sees the other.
        for i in at..at + len {
            let r = self.r[i].load(Relaxed);
            let next = if r == 0 {
                who.cell(0)
            } else if !who.unordered(r) {
                if (r >> 20) - 1 == who.gtid && r & MANY == 0 {
                    r
                } else {
                    who.cell(0)
                }
            } else {
                let other_block = ((r >> 20) - 1) / who.tpb != who.block;
                let flags = if other_block || r & MULTIBLOCK != 0 {
                    MULTIBLOCK
                } else {
                    MANY
                };
                who.cell(flags)
            };
            if next != r {
                self.r[i].store(next, SeqCst);
            }
            let w = self.w[i].load(SeqCst);
            if w != 0 && who.unordered(w) {
                return Some(conflict(w, true));
            }
        }
        None
    }

    /// Records a write (or an atomic read-modify-write) of bytes `at..at + len`; the first
    /// unordered earlier access if any.
    #[inline]
    pub fn write(&self, at: usize, len: usize, who: &Who, atomic: bool) -> Option<Conflict> {
        let flags = if atomic { ATOMIC } else { 0 };
        for i in at..at + len {
            let w = self.w[i].swap(who.cell(flags), SeqCst);
            if w != 0 && who.unordered(w) && !(atomic && w & ATOMIC != 0) {
                return Some(conflict(w, true));
            }
            let r = self.r[i].load(SeqCst);
            if r != 0 {
                if who.unordered(r) {
                    return Some(conflict(r, false));
                }
                self.r[i].store(0, Relaxed);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(gtid: u64, epoch: u32) -> Who {
        Who {
            gtid,
            block: gtid / 4,
            epoch,
            tpb: 4,
        }
    }

    #[test]
    fn same_thread_never_races() {
        let s = RaceShadow::new(8);
        assert!(s.write(0, 4, &who(1, 0), false).is_none());
        assert!(s.read(0, 4, &who(1, 0)).is_none());
        assert!(s.write(0, 4, &who(1, 0), false).is_none());
    }

    #[test]
    fn a_barrier_orders_a_block_but_not_other_blocks() {
        let s = RaceShadow::new(8);
        assert!(s.write(0, 4, &who(1, 0), false).is_none());
        // Same block, same epoch: race.
        assert!(s.read(0, 1, &who(2, 0)).is_some());
        let s = RaceShadow::new(8);
        assert!(s.write(0, 4, &who(1, 0), false).is_none());
        // Same block after a barrier: ordered.
        assert!(s.read(0, 4, &who(2, 1)).is_none());
        // Another block: never ordered.
        let c = s.read(0, 4, &who(5, 1)).expect("race across blocks");
        assert_eq!(c.gtid, 1);
        assert!(c.earlier_write);
    }

    #[test]
    fn readers_then_a_writer() {
        let s = RaceShadow::new(4);
        assert!(s.read(0, 1, &who(0, 0)).is_none());
        assert!(s.read(0, 1, &who(1, 0)).is_none());
        // One of the two readers writes in the same epoch: races with the other.
        let c = s
            .write(0, 1, &who(0, 0), false)
            .expect("write after another's read");
        assert!(!c.earlier_write && c.several);
        // After a barrier the write is ordered after both reads.
        let s = RaceShadow::new(4);
        assert!(s.read(0, 1, &who(0, 0)).is_none());
        assert!(s.read(0, 1, &who(1, 0)).is_none());
        assert!(s.write(0, 1, &who(2, 1), false).is_none());
        // Readers in two blocks: any later write races.
        let s = RaceShadow::new(4);
        assert!(s.read(0, 1, &who(0, 0)).is_none());
        assert!(s.read(0, 1, &who(4, 0)).is_none());
        assert!(s.write(0, 1, &who(0, 3), false).is_some());
    }

    #[test]
    fn atomics_do_not_race_with_atomics_but_do_with_plain_accesses() {
        let s = RaceShadow::new(4);
        assert!(s.write(0, 4, &who(0, 0), true).is_none());
        assert!(s.write(0, 4, &who(5, 0), true).is_none());
        assert!(s.write(0, 4, &who(9, 0), false).is_some());
        let s = RaceShadow::new(4);
        assert!(s.write(0, 4, &who(0, 0), true).is_none());
        assert!(s.read(0, 4, &who(1, 0)).is_some());
    }
}
