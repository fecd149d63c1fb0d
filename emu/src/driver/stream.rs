//! Streams, events and the ordering between them. Each stream runs its operations in
//! order on a worker thread of its own; an operation may first wait for operations of
//! other streams (an event wait, the legacy stream's implicit synchronization). Beside the
//! real waiting, every operation carries a vector clock of what it is ordered after, built
//! when it is queued (not when it runs), so the hazard checker's verdict does not depend on
//! timing: jitter only makes the program's own mistakes visible in its results.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::CUresult;
use crate::report::{self, Check, Report};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What an operation is ordered after: for each stream, the last of its operations.
/// Stream 0 is the host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Clock(BTreeMap<u64, u64>);

impl Clock {
    pub fn get(&self, stream: u64) -> u64 {
        self.0.get(&stream).copied().unwrap_or(0)
    }

    pub fn join(&mut self, other: &Clock) {
        for (&s, &n) in &other.0 {
            let e = self.0.entry(s).or_insert(0);
            *e = (*e).max(n);
        }
    }

    fn set(&mut self, stream: u64, n: u64) {
        let e = self.0.entry(stream).or_insert(0);
        *e = (*e).max(n);
    }
}

/// What the host has synchronized with (one host: calls from any thread count).
static HOST: Mutex<Clock> = Mutex::new(Clock(BTreeMap::new()));

/// Joins `c` into the host's clock (after a synchronization).
pub fn host_join(c: &Clock) {
    lock(&HOST).join(c);
}

/// The host's clock now.
pub fn host_clock() -> Clock {
    lock(&HOST).clone()
}

/// The parts of a context its streams need (a stream must not keep its context alive).
pub struct CtxShared {
    pub id: u64,
    pub device: usize,
    /// A sticky error: once set, the context is unusable, as after a device fault.
    pub sticky: AtomicI32,
}

impl CtxShared {
    /// The sticky error, if any.
    pub fn check(&self) -> Result<(), CUresult> {
        match self.sticky.load(Ordering::Acquire) {
            0 => Ok(()),
            e => Err(e),
        }
    }

    /// Makes the context fail from now on.
    pub fn fail(&self, code: CUresult) {
        let _ = self
            .sticky
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire);
    }
}

/// Identifies one queued operation.
#[derive(Clone, Debug)]
pub struct OpInfo {
    pub stream: u64,
    pub seq: u64,
    pub clock: Arc<Clock>,
}

type Work = Box<dyn FnOnce(&OpInfo) + Send>;

struct Task {
    info: OpInfo,
    waits: Vec<(Arc<Stream>, u64)>,
    work: Work,
}

#[derive(Default)]
struct Queue {
    tasks: VecDeque<Task>,
    enqueued: u64,
    completed: u64,
    clock: Clock,
    closed: bool,
    worker: bool,
}

/// A stream.
pub struct Stream {
    /// Distinct across the process (never 0: that is the host).
    pub id: u64,
    /// The handle the program sees.
    pub handle: usize,
    pub ctx: Arc<CtxShared>,
    /// Synchronizes with the legacy default stream (created without
    /// `CU_STREAM_NON_BLOCKING`).
    pub blocking: bool,
    pub legacy: bool,
    pub flags: u32,
    q: Mutex<Queue>,
    cv: Condvar,
    jitter: Option<(u64, u64)>,
}

static STREAM_IDS: AtomicU64 = AtomicU64::new(1);

impl Stream {
    pub fn new(
        handle: usize,
        ctx: Arc<CtxShared>,
        flags: u32,
        legacy: bool,
        jitter: Option<(u64, u64)>,
    ) -> Arc<Stream> {
        Arc::new(Stream {
            id: STREAM_IDS.fetch_add(1, Ordering::Relaxed),
            handle,
            ctx,
            blocking: flags & 1 == 0,
            legacy,
            flags,
            q: Mutex::new(Queue::default()),
            cv: Condvar::new(),
            jitter,
        })
    }

    /// A description for reports.
    pub fn describe(&self) -> String {
        match self.handle {
            0 | 1 => "the legacy default stream".into(),
            2 => "the per-thread default stream".into(),
            h => format!("stream {h:#x}"),
        }
    }

    /// Queues `work` after `waits` (other streams' operations) and `clock` (what those and
    /// any event waits are ordered after). Returns the operation.
    pub fn enqueue(
        self: &Arc<Stream>,
        waits: Vec<(Arc<Stream>, u64)>,
        clock: Option<&Clock>,
        work: Work,
    ) -> OpInfo {
        let host = host_clock();
        let mut wait_clocks = Vec::new();
        for (s, n) in &waits {
            if !Arc::ptr_eq(s, self)
                && let Some(c) = s.clock_if_latest(*n)
            {
                wait_clocks.push(c);
            }
        }
        let mut q = lock(&self.q);
        q.enqueued += 1;
        let seq = q.enqueued;
        q.clock.join(&host);
        for c in &wait_clocks {
            q.clock.join(c);
        }
        if let Some(c) = clock {
            q.clock.join(c);
        }
        q.clock.set(self.id, seq);
        let info = OpInfo {
            stream: self.id,
            seq,
            clock: Arc::new(q.clock.clone()),
        };
        q.tasks.push_back(Task {
            info: info.clone(),
            waits,
            work,
        });
        if !q.worker {
            q.worker = true;
            let me = self.clone();
            std::thread::Builder::new()
                .name(format!("cuda-emu stream {:#x}", self.handle))
                .spawn(move || me.run())
                .expect("spawning a stream worker");
        }
        drop(q);
        self.cv.notify_all();
        info
    }

    /// The clock after the stream's first `n` operations when `n` is all of them so far
    /// (a wait for everything queued); None otherwise: streams keep only their latest
    /// clock, so a wait for an earlier operation (an event) passes that operation's clock.
    fn clock_if_latest(&self, n: u64) -> Option<Clock> {
        let q = lock(&self.q);
        (q.enqueued == n).then(|| q.clock.clone())
    }

    /// Operations queued so far.
    pub fn enqueued(&self) -> u64 {
        lock(&self.q).enqueued
    }

    /// Whether the first `n` operations are done.
    pub fn done(&self, n: u64) -> bool {
        lock(&self.q).completed >= n
    }

    /// Waits until the first `n` operations are done.
    pub fn wait(&self, n: u64) {
        let mut q = lock(&self.q);
        while q.completed < n {
            q = self.cv.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Waits for everything queued so far; the host is then ordered after it.
    pub fn synchronize(&self) {
        let (n, clock) = {
            let q = lock(&self.q);
            (q.enqueued, q.clock.clone())
        };
        self.wait(n);
        host_join(&clock);
    }

    /// Whether it was destroyed and has nothing left to run.
    pub fn finished(&self) -> bool {
        let q = lock(&self.q);
        q.closed && q.completed == q.enqueued
    }

    /// Lets the worker end once the queue is empty.
    pub fn close(&self) {
        lock(&self.q).closed = true;
        self.cv.notify_all();
    }

    fn run(self: Arc<Stream>) {
        let mut rng = self
            .jitter
            .map(|(seed, _)| seed ^ (self.handle as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        loop {
            let task = {
                let mut q = lock(&self.q);
                loop {
                    if let Some(t) = q.tasks.pop_front() {
                        break t;
                    }
                    if q.closed {
                        q.worker = false;
                        return;
                    }
                    q = self.cv.wait(q).unwrap_or_else(|e| e.into_inner());
                }
            };
            for (s, n) in &task.waits {
                if !Arc::ptr_eq(s, &self) {
                    s.wait(*n);
                }
            }
            if let (Some(state), Some((_, max_us))) = (rng.as_mut(), self.jitter) {
                // xorshift64: a fixed sequence per stream and seed.
                *state ^= *state << 13;
                *state ^= *state >> 7;
                *state ^= *state << 17;
                if max_us > 0 {
                    std::thread::sleep(Duration::from_micros(*state % (max_us + 1)));
                }
            }
            (task.work)(&task.info);
            let mut q = lock(&self.q);
            q.completed = task.info.seq;
            drop(q);
            self.cv.notify_all();
        }
    }
}

/// An event.
pub struct Event {
    /// The context it was created in (internal id).
    pub ctx: u64,
    pub recorded: Mutex<Option<Recorded>>,
}

/// Where an event was last recorded.
#[derive(Clone)]
pub struct Recorded {
    pub stream: Arc<Stream>,
    pub seq: u64,
    pub clock: Arc<Clock>,
    pub time: Arc<Mutex<Option<Instant>>>,
}

impl Event {
    /// Records the event on `stream`.
    pub fn record(&self, stream: &Arc<Stream>) {
        let time = Arc::new(Mutex::new(None));
        let t = time.clone();
        let info = stream.enqueue(
            vec![],
            None,
            Box::new(move |_| *lock(&t) = Some(Instant::now())),
        );
        *lock(&self.recorded) = Some(Recorded {
            stream: stream.clone(),
            seq: info.seq,
            clock: info.clock,
            time,
        });
    }

    pub fn last(&self) -> Option<Recorded> {
        lock(&self.recorded).clone()
    }
}

/// One access of a stream operation to an allocation, kept for the hazard checker.
#[derive(Clone, Debug)]
struct AccessRec {
    lo: u64,
    hi: u64,
    write: bool,
    stream: u64,
    seq: u64,
    what: String,
}

/// Recent accesses per allocation (by allocation id).
static ACCESSES: Mutex<Option<HashMap<u64, Vec<AccessRec>>>> = Mutex::new(None);
/// Accesses kept per allocation: older ones are dropped (a bound on memory, at the price
/// of missing a hazard against an operation that many operations back).
const KEEP: usize = 256;

/// Checks an operation's access to bytes `lo..hi` of allocation `alloc` against earlier
/// operations of other streams, then records it. A report if they are unordered.
pub fn check_access(
    alloc: &crate::memory::Allocation,
    lo: u64,
    hi: u64,
    write: bool,
    op: &OpInfo,
    what: &str,
) -> Option<Report> {
    let host = host_clock();
    let mut all = lock(&ACCESSES);
    let map = all.get_or_insert_with(HashMap::new);
    let recs = map.entry(alloc.id).or_default();
    let mut found = None;
    for r in recs.iter() {
        if r.hi <= lo || hi <= r.lo || !(r.write || write) || r.stream == op.stream {
            continue;
        }
        if op.clock.get(r.stream) >= r.seq {
            continue;
        }
        let (a, b) = (r.lo.max(lo), r.hi.min(hi));
        found = Some(Report {
            check: Check::Hazard,
            summary: format!(
                "{what} {} bytes {:#x}..{:#x} that {} {} with no event or stream order between them",
                if write { "writes" } else { "reads" },
                alloc.base + a,
                alloc.base + b,
                r.what,
                if r.write { "writes" } else { "reads" },
            ),
            details: vec![alloc.describe()],
        });
        break;
    }
    recs.retain(|r| {
        host.get(r.stream) < r.seq && !(write && r.stream == op.stream && lo <= r.lo && r.hi <= hi)
    });
    recs.push(AccessRec {
        lo,
        hi,
        write,
        stream: op.stream,
        seq: op.seq,
        what: what.to_string(),
    });
    if recs.len() > KEEP {
        let excess = recs.len() - KEEP;
        recs.drain(..excess);
    }
    found
}

/// Forgets an allocation's accesses (it was freed).
pub fn forget(alloc_id: u64) {
    if let Some(map) = lock(&ACCESSES).as_mut() {
        map.remove(&alloc_id);
    }
}

/// Records a hazard report and fails the context.
pub fn hazard(ctx: &CtxShared, r: Report) {
    report::record(r);
    ctx.fail(super::LAUNCH_FAILED);
}
