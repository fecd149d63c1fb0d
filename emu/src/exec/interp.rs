//! The interpreter: one block at a time on one worker. A kernel without barriers runs its
//! threads one after another to completion on one register file; a kernel with barriers
//! keeps a register file per thread and runs every thread up to the next barrier, then
//! the next phase. Every access goes through [`Block::access`], where the checks live.

use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};

use super::arith::{self, Rounding};
use super::compile::{AtomOp, CLASSES, Inst, Kernel, NONE, Op, Space, special};
use super::launch::{Env, Fault, FaultKind};
use super::shadow::{Conflict, RaceShadow, Who};
use crate::memory::{self, Allocation};
use crate::ptx::ast::ScalarType;
use crate::report::Check;

/// Generic addresses of shared memory start here (`cvta.shared`).
pub const SHARED_WINDOW: u64 = 0x0000_1000_0000_0000;
/// Generic addresses of local memory start here (`cvta.local`).
pub const LOCAL_WINDOW: u64 = 0x0000_2000_0000_0000;
/// Generic addresses of the kernel's parameters start here (`cvta.param`).
pub const PARAM_WINDOW: u64 = 0x0000_3000_0000_0000;
/// Size of each window.
const WINDOW: u64 = 1 << 32;

/// What a worker counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    pub instructions: [u64; CLASSES],
    pub global_read: u64,
    pub global_written: u64,
    pub shared_read: u64,
    pub shared_written: u64,
}

impl Counters {
    pub fn add(&mut self, o: &Counters) {
        for (a, b) in self.instructions.iter_mut().zip(o.instructions) {
            *a += b;
        }
        self.global_read += o.global_read;
        self.global_written += o.global_written;
        self.shared_read += o.shared_read;
        self.shared_written += o.shared_written;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Running,
    Barrier,
    Exited,
}

struct Thread {
    regs: Vec<u64>,
    pc: u32,
    linear: u32,
    tid: [u32; 3],
    local: Vec<u8>,
    local_init: Vec<u8>,
    status: Status,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
    Atomic,
}

/// One block's state.
pub(super) struct Block<'e> {
    env: &'e Env<'e>,
    kernel: &'e Kernel,
    ctaid: [u32; 3],
    linear: u64,
    epoch: u32,
    shared: Vec<u8>,
    shared_init: Vec<u8>,
    shared_race: Option<RaceShadow>,
    /// Index of the last global allocation hit (most accesses repeat it).
    last: usize,
    pub counters: Counters,
    /// Per allocation of the launch's view: bytes read (lo, hi) and written (lo, hi).
    pub ranges: Vec<[u64; 4]>,
}

/// An empty range set.
pub const UNTOUCHED: [u64; 4] = [u64::MAX, 0, u64::MAX, 0];

fn mask(ty: ScalarType) -> u64 {
    match ty.size() {
        1 => 0xff,
        2 => 0xffff,
        4 => 0xffff_ffff,
        _ => u64::MAX,
    }
}

fn sign_extend(bits: u64, size: usize) -> u64 {
    let shift = 64 - 8 * size as u32;
    (((bits << shift) as i64) >> shift) as u64
}

fn f32_of(bits: u64) -> f32 {
    f32::from_bits(bits as u32)
}

fn f64_of(bits: u64) -> f64 {
    f64::from_bits(bits)
}

impl<'e> Block<'e> {
    pub(super) fn new(env: &'e Env<'e>) -> Block<'e> {
        let shared_bytes = env.shared_bytes;
        Block {
            env,
            kernel: env.kernel,
            ctaid: [0; 3],
            linear: 0,
            epoch: 0,
            shared: vec![0; shared_bytes],
            shared_init: vec![0; shared_bytes],
            shared_race: None,
            last: 0,
            counters: Counters::default(),
            ranges: vec![UNTOUCHED; env.global.allocs.len()],
        }
    }

    fn new_thread(&self) -> Thread {
        Thread {
            regs: self.kernel.template.clone(),
            pc: 0,
            linear: 0,
            tid: [0; 3],
            local: vec![0; self.kernel.local_size],
            local_init: vec![0; self.kernel.local_size],
            status: Status::Running,
        }
    }

    fn start(&self, t: &mut Thread, linear: u32) {
        let b = self.env.block;
        let tid = [
            linear % b[0],
            (linear / b[0]) % b[1],
            linear / (b[0] * b[1]),
        ];
        t.linear = linear;
        t.tid = tid;
        t.pc = 0;
        t.status = Status::Running;
        t.local_init.fill(0);
        let g = self.env.grid;
        let r = &mut t.regs;
        for k in 0..3 {
            r[(special::TID + k as u32) as usize] = tid[k] as u64;
            r[(special::NTID + k as u32) as usize] = b[k] as u64;
            r[(special::CTAID + k as u32) as usize] = self.ctaid[k] as u64;
            r[(special::NCTAID + k as u32) as usize] = g[k] as u64;
        }
        r[special::LANEID as usize] = (linear % 32) as u64;
        r[special::WARPID as usize] = (linear / 32) as u64;
        r[special::NWARPID as usize] = (b[0] * b[1] * b[2]).div_ceil(32) as u64;
    }

    /// Runs block `ctaid` (linear index `linear`) to completion.
    pub(super) fn run(&mut self, ctaid: [u32; 3], linear: u64) -> Result<(), Fault> {
        self.ctaid = ctaid;
        self.linear = linear;
        self.epoch = 0;
        self.shared_init.fill(0);
        if self.env.checks.racecheck && !self.shared.is_empty() {
            self.shared_race = Some(RaceShadow::new(self.shared.len()));
        }
        let n = self.env.tpb as u32;
        if !self.kernel.has_barrier {
            let mut t = self.new_thread();
            for linear in 0..n {
                self.start(&mut t, linear);
                self.step(&mut t)?;
            }
            return Ok(());
        }
        let mut threads: Vec<Thread> = (0..n)
            .map(|i| {
                let mut t = self.new_thread();
                self.start(&mut t, i);
                t
            })
            .collect();
        loop {
            let mut waiting = 0u32;
            for t in threads.iter_mut() {
                if t.status == Status::Exited {
                    continue;
                }
                t.status = Status::Running;
                self.step(t)?;
                if t.status == Status::Barrier {
                    waiting += 1;
                }
            }
            if waiting == 0 {
                return Ok(());
            }
            self.epoch += 1;
        }
    }

    fn fault(
        &self,
        t: &Thread,
        kind: FaultKind,
        check: Check,
        summary: String,
        mut extra: Vec<String>,
    ) -> Fault {
        let pc = t.pc.saturating_sub(1) as usize;
        let inst = &self.kernel.insts[pc.min(self.kernel.insts.len() - 1)];
        let mut details = vec![
            format!("kernel {}", self.kernel.name),
            format!(
                "PTX line {}: `{}`",
                inst.line,
                self.kernel.text.get(pc).map(String::as_str).unwrap_or("")
            ),
            format!(
                "block ({}, {}, {}), thread ({}, {}, {})",
                self.ctaid[0], self.ctaid[1], self.ctaid[2], t.tid[0], t.tid[1], t.tid[2]
            ),
        ];
        details.append(&mut extra);
        Fault {
            kind,
            report: crate::report::Report {
                check,
                summary,
                details,
            },
        }
    }

    fn who(&self, t: &Thread) -> Who {
        Who {
            gtid: self.linear * self.env.tpb + t.linear as u64,
            block: self.linear,
            epoch: self.epoch,
            tpb: self.env.tpb,
        }
    }

    fn race_fault(
        &self,
        t: &Thread,
        space: &str,
        addr: u64,
        len: usize,
        access: Access,
        c: Conflict,
    ) -> Fault {
        let other_block = c.gtid / self.env.tpb;
        let other_thread = (c.gtid % self.env.tpb) as u32;
        let (g, b) = (self.env.grid, self.env.block);
        let ob = [
            (other_block % g[0] as u64) as u32,
            ((other_block / g[0] as u64) % g[1] as u64) as u32,
            (other_block / (g[0] as u64 * g[1] as u64)) as u32,
        ];
        let ot = [
            other_thread % b[0],
            (other_thread / b[0]) % b[1],
            other_thread / (b[0] * b[1]),
        ];
        let what = match access {
            Access::Read => "read",
            Access::Write => "write",
            Access::Atomic => "atomic",
        };
        let earlier = match (c.earlier_write, c.earlier_atomic) {
            (true, true) => "an atomic",
            (true, false) => "a write",
            (false, _) if c.several => "reads",
            (false, _) => "a read",
        };
        let barrier = if other_block == self.linear {
            "with no barrier between them"
        } else {
            "from another block (blocks are never ordered within a launch)"
        };
        self.fault(
            t,
            FaultKind::Race,
            Check::Racecheck,
            format!("{what} of {len} bytes of {space} memory at {addr:#x} races with {earlier} {barrier}"),
            vec![format!(
                "the other access: block ({}, {}, {}), thread ({}, {}, {}){}",
                ob[0],
                ob[1],
                ob[2],
                ot[0],
                ot[1],
                ot[2],
                if c.several { " and others" } else { "" }
            )],
        )
    }

    /// Checks an access and returns the host address of its bytes.
    #[inline]
    fn access(
        &mut self,
        t: &mut Thread,
        space: Space,
        addr: u64,
        len: usize,
        access: Access,
    ) -> Result<*mut u8, Fault> {
        let checks = self.env.checks;
        if checks.memcheck && !addr.is_multiple_of(len.min(16) as u64) {
            return Err(self.fault(
                t,
                FaultKind::Misaligned,
                Check::Memcheck,
                format!("misaligned {len}-byte access at {addr:#x} ({space:?} memory)"),
                vec![],
            ));
        }
        match space {
            Space::Global | Space::Const => self.global(t, addr, len, access),
            Space::Generic => {
                if (SHARED_WINDOW..SHARED_WINDOW + WINDOW).contains(&addr) {
                    self.shared(t, addr - SHARED_WINDOW, len, access)
                } else if (LOCAL_WINDOW..LOCAL_WINDOW + WINDOW).contains(&addr) {
                    self.local(t, addr - LOCAL_WINDOW, len, access)
                } else if (PARAM_WINDOW..PARAM_WINDOW + WINDOW).contains(&addr) {
                    self.access(t, Space::Param, addr - PARAM_WINDOW, len, access)
                } else {
                    self.global(t, addr, len, access)
                }
            }
            Space::Shared => self.shared(t, addr & 0xffff_ffff, len, access),
            Space::Local => self.local(t, addr & 0xffff_ffff, len, access),
            Space::Param => {
                let params = self.env.params;
                if access != Access::Read || addr as usize + len > params.len() {
                    return Err(self.fault(
                        t,
                        FaultKind::Memory,
                        Check::Memcheck,
                        format!(
                            "{} of {len} bytes at parameter offset {addr} outside the {}-byte parameter buffer",
                            if access == Access::Read { "read" } else { "write" },
                            params.len()
                        ),
                        vec![],
                    ));
                }
                Ok(params[addr as usize..].as_ptr() as *mut u8)
            }
        }
    }

    fn shared(
        &mut self,
        t: &mut Thread,
        off: u64,
        len: usize,
        access: Access,
    ) -> Result<*mut u8, Fault> {
        let initcheck = self.env.checks.initcheck;
        let at = match window_access(
            "shared",
            "the block",
            off,
            len,
            &mut self.shared_init,
            access,
            initcheck,
        ) {
            Ok(at) => at,
            Err((kind, check, summary)) => return Err(self.fault(t, kind, check, summary, vec![])),
        };
        if access == Access::Read {
            self.counters.shared_read += len as u64;
        } else {
            self.counters.shared_written += len as u64;
        }
        if let Some(race) = &self.shared_race {
            let who = self.who(t);
            let c = match access {
                Access::Read => race.read(at, len, &who),
                Access::Write => race.write(at, len, &who, false),
                Access::Atomic => race.write(at, len, &who, true),
            };
            if let Some(c) = c {
                return Err(self.race_fault(t, "shared", off, len, access, c));
            }
        }
        Ok(self.shared[at..].as_mut_ptr())
    }

    fn local(
        &mut self,
        t: &mut Thread,
        off: u64,
        len: usize,
        access: Access,
    ) -> Result<*mut u8, Fault> {
        let initcheck = self.env.checks.initcheck;
        match window_access(
            "local",
            "a thread",
            off,
            len,
            &mut t.local_init,
            access,
            initcheck,
        ) {
            Ok(at) => Ok(t.local[at..].as_mut_ptr()),
            Err((kind, check, summary)) => Err(self.fault(t, kind, check, summary, vec![])),
        }
    }

    fn find(&mut self, addr: u64, len: usize) -> Option<usize> {
        let allocs = &self.env.global.allocs;
        let hit = |a: &Allocation| addr >= a.base && addr + len as u64 <= a.end();
        if let Some(a) = allocs.get(self.last)
            && hit(a)
        {
            return Some(self.last);
        }
        let i = allocs.partition_point(|a| a.base <= addr);
        if i == 0 || !hit(&allocs[i - 1]) {
            return None;
        }
        self.last = i - 1;
        Some(i - 1)
    }

    fn global(
        &mut self,
        t: &mut Thread,
        addr: u64,
        len: usize,
        access: Access,
    ) -> Result<*mut u8, Fault> {
        let Some(i) = self.find(addr, len) else {
            let lookup = memory::SPACE.find(addr);
            let what = match access {
                Access::Read => "read",
                Access::Write => "write",
                Access::Atomic => "atomic",
            };
            let summary = match &lookup {
                memory::Lookup::Freed(_) => {
                    format!("use after free: {what} of {len} bytes at {addr:#x}")
                }
                _ => format!("out-of-bounds global {what} of {len} bytes at {addr:#x}"),
            };
            return Err(self.fault(
                t,
                FaultKind::Memory,
                Check::Memcheck,
                summary,
                vec![memory::describe_miss(addr, len as u64, &lookup)],
            ));
        };
        let env = self.env;
        let a = &env.global.allocs[i];
        if a.device != env.device {
            return Err(self.fault(
                t,
                FaultKind::Memory,
                Check::Memcheck,
                format!(
                    "access to another device's memory at {addr:#x} from device {}",
                    env.device
                ),
                vec![a.describe()],
            ));
        }
        let off = addr - a.base;
        let r = &mut self.ranges[i];
        if access == Access::Read {
            r[0] = r[0].min(off);
            r[1] = r[1].max(off + len as u64);
        } else {
            r[2] = r[2].min(off);
            r[3] = r[3].max(off + len as u64);
        }
        if access == Access::Read {
            self.counters.global_read += len as u64;
            if env.checks.initcheck
                && let Some(first) = a.first_uninit(off, len as u64)
            {
                return Err(self.fault(
                    t,
                    FaultKind::Uninitialized,
                    Check::Initcheck,
                    format!(
                        "read of {len} bytes at {addr:#x} includes uninitialized device memory (first at {:#x})",
                        a.base + first
                    ),
                    vec![a.describe()],
                ));
            }
        } else {
            if access == Access::Atomic {
                self.counters.global_read += len as u64;
            }
            self.counters.global_written += len as u64;
            a.mark_init(off, len as u64);
        }
        if env.checks.racecheck {
            let who = self.who(t);
            let shadow = env.global.shadows[i].get_or_init(|| RaceShadow::new(a.size as usize));
            let c = match access {
                Access::Read => shadow.read(off as usize, len, &who),
                Access::Write => shadow.write(off as usize, len, &who, false),
                Access::Atomic => shadow.write(off as usize, len, &who, true),
            };
            if let Some(c) = c {
                let mut f = self.race_fault(t, "global", addr, len, access, c);
                f.report.details.push(a.describe());
                return Err(f);
            }
        }
        Ok(a.data(off))
    }

    /// Runs `t` until it exits or reaches a barrier.
    fn step(&mut self, t: &mut Thread) -> Result<(), Fault> {
        let kernel = self.kernel;
        let insts = &kernel.insts;
        loop {
            let i: &Inst = &insts[t.pc as usize];
            t.pc += 1;
            self.counters.instructions[i.class as usize] += 1;
            if i.guard != NONE && (t.regs[i.guard as usize] != 0) == i.guard_neg {
                continue;
            }
            match i.op {
                Op::Bra => t.pc = i.target,
                Op::Exit => {
                    t.status = Status::Exited;
                    return Ok(());
                }
                Op::Bar => {
                    if i.off != 0 && i.off as u64 != self.env.tpb {
                        return Err(self.fault(
                            t,
                            FaultKind::Execution,
                            Check::Execution,
                            format!(
                                "bar.sync with a thread count of {} in a block of {} threads is not supported",
                                i.off, self.env.tpb
                            ),
                            vec![],
                        ));
                    }
                    t.status = Status::Barrier;
                    return Ok(());
                }
                Op::Ld { space, n } => {
                    let size = i.ty.size();
                    let addr = t.regs[i.a[0] as usize].wrapping_add(i.off as u64);
                    let p = self.access(t, space, addr, size * n as usize, Access::Read)?;
                    for k in 0..n as usize {
                        let mut bytes = [0u8; 8];
                        // SAFETY: `access` checked the whole range.
                        unsafe {
                            std::ptr::copy_nonoverlapping(p.add(k * size), bytes.as_mut_ptr(), size)
                        };
                        let mut v = u64::from_le_bytes(bytes);
                        if i.ty.is_signed() {
                            v = sign_extend(v, size);
                        }
                        t.regs[i.d[k] as usize] = v;
                    }
                }
                Op::St { space, n } => {
                    let size = i.ty.size();
                    let addr = t.regs[i.a[0] as usize].wrapping_add(i.off as u64);
                    let p = self.access(t, space, addr, size * n as usize, Access::Write)?;
                    for k in 0..n as usize {
                        let bytes = t.regs[i.d[k] as usize].to_le_bytes();
                        // SAFETY: `access` checked the whole range.
                        unsafe {
                            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.add(k * size), size)
                        };
                    }
                }
                Op::Atom { space, op } | Op::Red { space, op } => {
                    let size = i.ty.size();
                    let addr = t.regs[i.a[0] as usize].wrapping_add(i.off as u64);
                    let p = self.access(t, space, addr, size, Access::Atomic)?;
                    let b = t.regs[i.a[1] as usize];
                    let c = if i.na > 2 { t.regs[i.a[2] as usize] } else { 0 };
                    // atom.add.f32 on global memory flushes subnormals (the ISA); shared keeps them.
                    let windowed = space == Space::Generic
                        && (SHARED_WINDOW..LOCAL_WINDOW + WINDOW).contains(&addr);
                    let global = !(matches!(space, Space::Shared | Space::Local) || windowed);
                    // SAFETY: checked, aligned (memcheck) bytes of this size.
                    let old = unsafe { atomic(p, i.ty, op, b, c, global) };
                    if let Op::Atom { .. } = i.op {
                        t.regs[i.d[0] as usize] = old;
                    }
                }
                _ => {
                    let v = self.compute(t, i);
                    if let Some(v) = v {
                        t.regs[i.d[0] as usize] = v;
                    }
                }
            }
        }
    }

    /// Register-to-register operations; the value of `d[0]` (others written here).
    #[inline]
    fn compute(&mut self, t: &mut Thread, i: &Inst) -> Option<u64> {
        let r = &mut t.regs;
        let a = |k: usize| r[i.a[k] as usize];
        let ty = i.ty;
        let m = mask(ty);
        let f32op = |f: fn(f32, f32, Rounding) -> f32, rd: Rounding, sat: bool| {
            let x = f(f32_of(a(0)), f32_of(a(1)), rd);
            (if sat { arith::sat_f32(x) } else { x }).to_bits() as u64
        };
        let v = match i.op {
            Op::Mov => a(0) & m,
            Op::Selp => {
                if a(2) != 0 {
                    a(0)
                } else {
                    a(1)
                }
            }
            Op::Cvt { src, mode } => {
                let v = arith::cvt(ty, src, a(0), mode).unwrap_or(0);
                // A narrow signed result is sign-extended into its register.
                if ty.is_signed() {
                    sign_extend(v, ty.size())
                } else {
                    v
                }
            }
            Op::Cvta { to_generic, space } => {
                let window = match space {
                    Space::Shared => SHARED_WINDOW,
                    Space::Local => LOCAL_WINDOW,
                    Space::Param => PARAM_WINDOW,
                    _ => 0,
                };
                if to_generic {
                    if window != 0 {
                        (a(0) & 0xffff_ffff) + window
                    } else {
                        a(0)
                    }
                } else {
                    a(0).wrapping_sub(window)
                }
            }
            Op::Pack => {
                let w = ty.size() as u32 * 8 / i.na as u32;
                let pm = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
                (0..i.na as usize).fold(0u64, |acc, k| acc | ((a(k) & pm) << (w * k as u32)))
            }
            Op::Unpack => {
                let w = ty.size() as u32 * 8 / i.nd as u32;
                let pm = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
                let x = a(0);
                for k in 0..i.nd as usize {
                    r[i.d[k] as usize] = (x >> (w * k as u32)) & pm;
                }
                return None;
            }
            Op::Add { sat: false } => arith::add_int(a(0), a(1), ty),
            Op::Sub { sat: false } => arith::sub_int(a(0), a(1), ty),
            Op::Add { sat: true } => (a(0) as i32).saturating_add(a(1) as i32) as u32 as u64,
            Op::Sub { sat: true } => (a(0) as i32).saturating_sub(a(1) as i32) as u32 as u64,
            Op::MulLo => arith::mul_lo(a(0), a(1), ty),
            Op::MulHi => arith::mul_hi(a(0), a(1), ty),
            Op::MulWide => arith::mul_wide(a(0), a(1), ty),
            Op::MadLo => arith::add_int(arith::mul_lo(a(0), a(1), ty), a(2), ty),
            Op::MadHi => arith::add_int(arith::mul_hi(a(0), a(1), ty), a(2), ty),
            Op::MadWide => {
                let wt = match ty {
                    ScalarType::S16 => ScalarType::S32,
                    ScalarType::U16 => ScalarType::U32,
                    ScalarType::S32 => ScalarType::S64,
                    _ => ScalarType::U64,
                };
                arith::add_int(arith::mul_wide(a(0), a(1), ty), a(2), wt)
            }
            Op::Div => arith::div_int(a(0), a(1), ty),
            Op::Rem => arith::rem_int(a(0), a(1), ty),
            Op::Min => arith::min_int(a(0), a(1), ty),
            Op::Max => arith::max_int(a(0), a(1), ty),
            Op::Abs => arith::abs_int(a(0), ty),
            Op::Neg => arith::neg_int(a(0), ty),
            Op::And => a(0) & a(1) & m,
            Op::Or => (a(0) | a(1)) & m,
            Op::Xor => (a(0) ^ a(1)) & m,
            Op::Not if ty == ScalarType::Pred => (a(0) == 0) as u64,
            Op::Not => !a(0) & m,
            Op::CNot => (a(0) & m == 0) as u64,
            Op::Shl => arith::shl(a(0), a(1) as u32, ty),
            Op::Shr => arith::shr(a(0), a(1) as u32, ty),
            Op::Popc => arith::popc(a(0), ty) as u64,
            Op::Clz => arith::clz(a(0), ty) as u64,
            Op::Brev => arith::brev(a(0), ty),
            Op::Bfind { shiftamt } => arith::bfind(a(0), ty, shiftamt) as u64,
            Op::Bfe => arith::bfe(a(0), a(1) as u32, a(2) as u32, ty),
            Op::Bfi => arith::bfi(a(0), a(1), a(2) as u32, a(3) as u32, ty),
            Op::Prmt(mode) => arith::prmt(a(0) as u32, a(1) as u32, a(2) as u32, mode) as u64,
            Op::Dp2a {
                hi,
                a_signed,
                b_signed,
            } => arith::dp2a(
                a(0) as u32,
                a(1) as u32,
                a(2) as u32,
                hi,
                a_signed,
                b_signed,
            ) as u64,
            Op::Dp4a { a_signed, b_signed } => {
                arith::dp4a(a(0) as u32, a(1) as u32, a(2) as u32, a_signed, b_signed) as u64
            }
            Op::FAdd(rd, sat) if ty == ScalarType::F32 => f32op(arith::add_f32, rd, sat),
            Op::FSub(rd, sat) if ty == ScalarType::F32 => f32op(arith::sub_f32, rd, sat),
            Op::FMul(rd, sat) if ty == ScalarType::F32 => f32op(arith::mul_f32, rd, sat),
            Op::FAdd(rd, _) => arith::add_f64(f64_of(a(0)), f64_of(a(1)), rd).to_bits(),
            Op::FSub(rd, _) => arith::sub_f64(f64_of(a(0)), f64_of(a(1)), rd).to_bits(),
            Op::FMul(rd, _) => arith::mul_f64(f64_of(a(0)), f64_of(a(1)), rd).to_bits(),
            Op::FFma(rd, sat) if ty == ScalarType::F32 => {
                let x = arith::fma_f32(f32_of(a(0)), f32_of(a(1)), f32_of(a(2)), rd);
                (if sat { arith::sat_f32(x) } else { x }).to_bits() as u64
            }
            Op::FFma(rd, _) => {
                arith::fma_f64(f64_of(a(0)), f64_of(a(1)), f64_of(a(2)), rd).to_bits()
            }
            Op::FDiv(rd) if ty == ScalarType::F32 => f32op(arith::div_f32, rd, false),
            Op::FDiv(rd) => arith::div_f64(f64_of(a(0)), f64_of(a(1)), rd).to_bits(),
            Op::FSqrt(rd) if ty == ScalarType::F32 => {
                arith::sqrt_f32(f32_of(a(0)), rd).to_bits() as u64
            }
            Op::FSqrt(rd) => arith::sqrt_f64(f64_of(a(0)), rd).to_bits(),
            Op::FRcp(rd) if ty == ScalarType::F32 => {
                arith::rcp_f32(f32_of(a(0)), rd).to_bits() as u64
            }
            Op::FRcp(rd) => arith::rcp_f64(f64_of(a(0)), rd).to_bits(),
            Op::FMin if ty == ScalarType::F32 => {
                arith::min_f32(f32_of(a(0)), f32_of(a(1))).to_bits() as u64
            }
            Op::FMin => arith::min_f64(f64_of(a(0)), f64_of(a(1))).to_bits(),
            Op::FMax if ty == ScalarType::F32 => {
                arith::max_f32(f32_of(a(0)), f32_of(a(1))).to_bits() as u64
            }
            Op::FMax => arith::max_f64(f64_of(a(0)), f64_of(a(1))).to_bits(),
            // abs.f64 passes a NaN through unchanged (the ISA); other types clear the sign.
            Op::FAbs if ty == ScalarType::F64 && f64_of(a(0)).is_nan() => a(0),
            Op::FAbs => a(0) & (m >> 1),
            Op::FNeg => (a(0) ^ !(m >> 1)) & m,
            Op::Copysign if ty == ScalarType::F32 => {
                arith::copysign_f32(f32_of(a(0)), f32_of(a(1))).to_bits() as u64
            }
            Op::Copysign => arith::copysign_f64(f64_of(a(0)), f64_of(a(1))).to_bits(),
            Op::FApprox(k, ftz) => {
                let flush = |bits: u64| {
                    if ftz && ty == ScalarType::F32 {
                        arith::ftz_f32(f32_of(bits)).to_bits() as u64
                    } else {
                        bits
                    }
                };
                let y = if i.na > 1 { flush(a(1)) } else { 0 };
                flush(approx(k, ty, flush(a(0)), y))
            }
            Op::Setp { cmp, combine } => {
                let t0 = if ty == ScalarType::F32 {
                    arith::setp_f32(cmp, f32_of(a(0)), f32_of(a(1)))
                } else if ty == ScalarType::F64 {
                    arith::setp_f64(cmp, f64_of(a(0)), f64_of(a(1)))
                } else {
                    arith::setp_int(cmp, a(0), a(1), ty).unwrap_or(false)
                };
                let c = combine.is_some() && a(2) != 0;
                let join = |x: bool| match combine {
                    None => x,
                    Some(super::compile::BoolOp::And) => x && c,
                    Some(super::compile::BoolOp::Or) => x || c,
                    Some(super::compile::BoolOp::Xor) => x ^ c,
                };
                if i.nd > 1 {
                    r[i.d[1] as usize] = join(!t0) as u64;
                }
                join(t0) as u64
            }
            Op::Nop => return None,
            // Handled by `step`.
            Op::Ld { .. }
            | Op::St { .. }
            | Op::Atom { .. }
            | Op::Red { .. }
            | Op::Bar
            | Op::Bra
            | Op::Exit => {
                return None;
            }
        };
        Some(v)
    }
}

/// Bounds and initialization of an access to `init.len()` bytes of shared or local memory
/// (`space`, owned by `owner`); marks written bytes. The offset of the access, or what is
/// wrong with it.
fn window_access(
    space: &str,
    owner: &str,
    off: u64,
    len: usize,
    init: &mut [u8],
    access: Access,
    initcheck: bool,
) -> Result<usize, (FaultKind, Check, String)> {
    let size = init.len() as u64;
    if off + len as u64 > size {
        return Err((
            FaultKind::Memory,
            Check::Memcheck,
            format!(
                "out-of-bounds {space} memory access: {len} bytes at offset {off:#x}, {owner} has {size} bytes"
            ),
        ));
    }
    let at = off as usize;
    if access == Access::Read {
        if initcheck && init[at..at + len].contains(&0) {
            return Err((
                FaultKind::Uninitialized,
                Check::Initcheck,
                format!("read of {len} bytes of uninitialized {space} memory at offset {off:#x}"),
            ));
        }
    } else {
        init[at..at + len].fill(1);
    }
    Ok(at)
}

/// One approximate function on one float type (the host's function, within the PTX bounds).
macro_rules! approx_in {
    ($k:expr, $x:expr, $y:expr) => {{
        use super::compile::Approx::*;
        let (x, y) = ($x, $y);
        match $k {
            Lg2 => x.log2(),
            Ex2 => x.exp2(),
            Sin => x.sin(),
            Cos => x.cos(),
            Rsqrt => 1.0 / x.sqrt(),
            Sqrt => x.sqrt(),
            Rcp => 1.0 / x,
            Div | DivFull => x / y,
            Tanh => x.tanh(),
        }
    }};
}

fn approx(k: super::compile::Approx, ty: ScalarType, x: u64, y: u64) -> u64 {
    if ty == ScalarType::F64 {
        return approx_in!(k, f64_of(x), f64_of(y)).to_bits();
    }
    let (x, y) = (f32_of(x), f32_of(y));
    let huge = (2f32.powi(126)..=f32::MAX).contains(&y.abs()) && y.abs() != 2f32.powi(126);
    if k == super::compile::Approx::Div && huge {
        // d = a * (1/b), and 1/b is below the normal range: a sign-preserving zero, NaN for
        // an infinite a (the ISA's div.approx.f32).
        let zero = if (x.is_sign_negative()) ^ (y.is_sign_negative()) {
            -0.0f32
        } else {
            0.0
        };
        let v = if x.is_infinite() { f32::NAN } else { zero };
        return v.to_bits() as u64;
    }
    approx_in!(k, x, y).to_bits() as u64
}

/// Performs an atomic operation on host memory; the old value.
///
/// # Safety
/// `p` must address `ty.size()` bytes, aligned to that size.
unsafe fn atomic(p: *mut u8, ty: ScalarType, op: AtomOp, b: u64, c: u64, ftz: bool) -> u64 {
    macro_rules! rmw {
        ($atomic:ty, $int:ty) => {{
            // SAFETY: caller's contract.
            let x = unsafe { <$atomic>::from_ptr(p as *mut $int) };
            let b = b as $int;
            let c = c as $int;
            let old = match op {
                AtomOp::Add => x.fetch_add(b, Relaxed),
                AtomOp::Min => x.fetch_min(b, Relaxed),
                AtomOp::Max => x.fetch_max(b, Relaxed),
                AtomOp::And => x.fetch_and(b, Relaxed),
                AtomOp::Or => x.fetch_or(b, Relaxed),
                AtomOp::Xor => x.fetch_xor(b, Relaxed),
                AtomOp::Exch => x.swap(b, Relaxed),
                AtomOp::Cas => match x.compare_exchange(b, c, Relaxed, Relaxed) {
                    Ok(v) | Err(v) => v,
                },
                // inc: old >= b ? 0 : old + 1; dec: old == 0 || old > b ? b : old - 1
                AtomOp::Inc => x
                    .fetch_update(Relaxed, Relaxed, |o| Some(if o >= b { 0 } else { o + 1 }))
                    .unwrap_or_else(|v| v),
                AtomOp::Dec => x
                    .fetch_update(Relaxed, Relaxed, |o| {
                        Some(if o == 0 || o > b { b } else { o - 1 })
                    })
                    .unwrap_or_else(|v| v),
            };
            old as u64
        }};
    }
    match ty {
        ScalarType::F32 => {
            // SAFETY: caller's contract.
            let x = unsafe { AtomicU32::from_ptr(p as *mut u32) };
            let flush = |v: f32| if ftz { arith::ftz_f32(v) } else { v };
            let old = x
                .fetch_update(Relaxed, Relaxed, |o| {
                    let sum = flush(f32::from_bits(o)) + flush(f32::from_bits(b as u32));
                    Some(flush(sum).to_bits())
                })
                .unwrap_or_else(|v| v);
            old as u64
        }
        ScalarType::F64 => {
            // SAFETY: caller's contract.
            let x = unsafe { AtomicU64::from_ptr(p as *mut u64) };
            x.fetch_update(Relaxed, Relaxed, |o| {
                Some((f64::from_bits(o) + f64::from_bits(b)).to_bits())
            })
            .unwrap_or_else(|v| v)
        }
        ScalarType::S32 => (rmw!(AtomicI32, i32)) & 0xffff_ffff,
        ScalarType::S64 => rmw!(AtomicI64, i64),
        t if t.size() == 4 => rmw!(AtomicU32, u32),
        _ => rmw!(AtomicU64, u64),
    }
}
