//! From a parsed kernel to a flat program. Every register, special register and constant
//! gets a slot in the thread's register file (constants are slots too, filled once, so an
//! instruction's sources are always slot numbers); labels become instruction indices; each
//! opcode and modifier set is checked here, so an unsupported form fails the module load
//! with its line, never a launch with a silent wrong result.

use std::collections::HashMap;
use std::fmt;

use super::arith::{Cmp, CvtMode, PrmtMode, Rounding};
use crate::ptx::ast::{self, AddrBase, Imm, Operand, ScalarType, StateSpace, Statement};

/// "No slot": an absent guard or operand.
pub const NONE: u32 = u32::MAX;

/// Special registers live in the first slots of every register file.
pub mod special {
    pub const TID: u32 = 0;
    pub const NTID: u32 = 3;
    pub const CTAID: u32 = 6;
    pub const NCTAID: u32 = 9;
    pub const LANEID: u32 = 12;
    pub const WARPID: u32 = 13;
    pub const NWARPID: u32 = 14;
    /// A write-only slot for `_` operands.
    pub const SINK: u32 = 15;
    /// Scratch slots for negated predicate operands.
    pub const SCRATCH: u32 = 16;
    /// First slot of the declared registers.
    pub const FIRST: u32 = 20;
}

/// Where an access goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    Global,
    Shared,
    Local,
    Param,
    Const,
    Generic,
}

/// The operation of `atom` and `red`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtomOp {
    Add,
    Min,
    Max,
    Inc,
    Dec,
    And,
    Or,
    Xor,
    Exch,
    Cas,
}

/// How `setp` combines its result with a third predicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoolOp {
    And,
    Or,
    Xor,
}

/// Approximate functions: computed with the host's correctly rounded (or libm) function,
/// which is within the PTX bounds but not the hardware's bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Approx {
    Lg2,
    Ex2,
    Sin,
    Cos,
    Rsqrt,
    Sqrt,
    Rcp,
    /// `div.approx.f32`: a * (1/b), zero for |b| beyond 2^126.
    Div,
    /// `div.full.f32`: full range.
    DivFull,
    Tanh,
}

/// One operation, with what its modifiers decided.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Mov,
    /// `mov.b64 d, {a, b}`: the sources' bits side by side, first lowest.
    Pack,
    /// `mov.b64 {a, b}, s`: the reverse.
    Unpack,
    Selp,
    Cvt {
        src: ScalarType,
        mode: CvtMode,
    },
    /// `cvta[.to].space`: to or from a generic address.
    Cvta {
        to_generic: bool,
        space: Space,
    },
    Add {
        sat: bool,
    },
    Sub {
        sat: bool,
    },
    MulLo,
    MulHi,
    /// Source type `ty`, result twice as wide.
    MulWide,
    MadLo,
    MadHi,
    MadWide,
    Div,
    Rem,
    Min,
    Max,
    Abs,
    Neg,
    And,
    Or,
    Xor,
    Not,
    CNot,
    Shl,
    Shr,
    Popc,
    Clz,
    Brev,
    Bfe,
    Bfi,
    Bfind {
        shiftamt: bool,
    },
    Prmt(PrmtMode),
    Dp2a {
        hi: bool,
        a_signed: bool,
        b_signed: bool,
    },
    Dp4a {
        a_signed: bool,
        b_signed: bool,
    },
    FAdd(Rounding, bool),
    FSub(Rounding, bool),
    FMul(Rounding, bool),
    FFma(Rounding, bool),
    FDiv(Rounding),
    FSqrt(Rounding),
    FRcp(Rounding),
    FMin,
    FMax,
    FAbs,
    FNeg,
    Copysign,
    /// An approximate function; `true`: `.ftz` (subnormal inputs and results flushed).
    FApprox(Approx, bool),
    Setp {
        cmp: Cmp,
        combine: Option<BoolOp>,
    },
    Ld {
        space: Space,
        n: u8,
    },
    St {
        space: Space,
        n: u8,
    },
    Atom {
        space: Space,
        op: AtomOp,
    },
    Red {
        space: Space,
        op: AtomOp,
    },
    Bar,
    Bra,
    Exit,
    Nop,
}

/// Instruction classes counted by the profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Class {
    F64 = 0,
    F32 = 1,
    Integer = 2,
    Branch = 3,
    Atomic = 4,
    Memory = 5,
    Other = 6,
}

/// Number of [`Class`]es.
pub const CLASSES: usize = 7;

/// Names of the classes, in order.
pub const CLASS_NAMES: [&str; CLASSES] = [
    "f64", "f32", "integer", "branch", "atomic", "memory", "other",
];

/// One instruction, its operands as slots.
#[derive(Clone, Debug)]
pub struct Inst {
    pub op: Op,
    /// The instruction's type (the destination type for `cvt`, the source type for
    /// `mul.wide`).
    pub ty: ScalarType,
    /// Guard predicate slot, or [`NONE`].
    pub guard: u32,
    /// `@!p`.
    pub guard_neg: bool,
    /// Destinations (vector loads: up to four; `setp`: the second is `|q`); for `st`, the
    /// values stored.
    pub d: [u32; 4],
    pub nd: u8,
    /// Sources; for memory operations `a[0]` is the address base.
    pub a: [u32; 4],
    pub na: u8,
    /// Address offset of memory operations.
    pub off: i64,
    /// Branch target (instruction index).
    pub target: u32,
    /// 1-based PTX line.
    pub line: u32,
    pub class: Class,
}

/// A kernel parameter's place in the parameter buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamInfo {
    pub name: String,
    pub offset: usize,
    pub size: usize,
    pub align: usize,
}

/// A compiled kernel.
#[derive(Clone, Debug)]
pub struct Kernel {
    pub name: String,
    pub insts: Vec<Inst>,
    /// The register file a thread starts with (constants filled in).
    pub template: Vec<u64>,
    pub params: Vec<ParamInfo>,
    /// Bytes of the parameter buffer.
    pub param_size: usize,
    /// Bytes of static shared memory (dynamic shared memory starts here).
    pub shared_size: usize,
    /// Bytes of local memory per thread.
    pub local_size: usize,
    /// Whether any `bar.sync` occurs (threads then run to each barrier in turn).
    pub has_barrier: bool,
    /// `.reqntid` / `.maxntid`, when declared.
    pub max_threads: Option<u64>,
    /// Source text of each instruction, for reports.
    pub text: Vec<String>,
}

/// Every kernel of a module.
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub kernels: HashMap<String, std::sync::Arc<Kernel>>,
}

/// Why a module cannot be executed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PTX line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for CompileError {}

type R<T> = Result<T, CompileError>;

fn err<T>(line: usize, message: impl Into<String>) -> R<T> {
    Err(CompileError {
        line,
        message: message.into(),
    })
}

/// Compiles every entry of `module`. `globals` gives the device address of each
/// module-level `.global`/`.const` variable (allocated by the caller).
pub fn compile(module: &ast::Module, globals: &HashMap<String, u64>) -> R<Program> {
    if module.address_size != 64 {
        return err(
            1,
            format!(
                ".address_size {} is not supported (64 only)",
                module.address_size
            ),
        );
    }
    let mut program = Program::default();
    for f in &module.functions {
        if !f.is_entry {
            // Device functions are reached only through `call`, expanded in place.
            continue;
        }
        let f = super::inline::expand(module, f)?;
        let k = Compiler::new(module, &f, globals)?.run()?;
        program
            .kernels
            .insert(k.name.clone(), std::sync::Arc::new(k));
    }
    Ok(program)
}

struct Compiler<'a> {
    f: &'a ast::Function,
    regs: HashMap<String, (u32, ScalarType)>,
    next_slot: u32,
    consts: Vec<u64>,
    const_slots: HashMap<u64, u32>,
    /// Symbols: shared variables (offset in shared memory), local (offset in local
    /// memory), global (device address).
    shared: HashMap<String, u64>,
    local: HashMap<String, u64>,
    globals: &'a HashMap<String, u64>,
    params: Vec<ParamInfo>,
    param_size: usize,
    shared_size: usize,
    local_size: usize,
    labels: HashMap<String, u32>,
    insts: Vec<Inst>,
    text: Vec<String>,
    fixups: Vec<(usize, String, usize)>,
    scratch: u32,
}

fn align_up(x: usize, a: usize) -> usize {
    x.div_ceil(a.max(1)) * a.max(1)
}

fn vector_len(m: &str) -> Option<u8> {
    match m {
        "v2" => Some(2),
        "v4" => Some(4),
        "v8" => Some(8),
        _ => None,
    }
}

fn space_of(m: &str) -> Option<Space> {
    Some(match m {
        "global" => Space::Global,
        "shared" => Space::Shared,
        "local" => Space::Local,
        "param" => Space::Param,
        "const" => Space::Const,
        _ => return None,
    })
}

/// Modifiers that change nothing in a sequential, coherent memory model: cache and
/// eviction hints, memory-order and scope qualifiers of plain accesses, `.uni`.
fn is_hint(m: &str) -> bool {
    matches!(
        m,
        "ca" | "cg"
            | "cs"
            | "lu"
            | "cv"
            | "wb"
            | "wt"
            | "nc"
            | "weak"
            | "relaxed"
            | "acquire"
            | "release"
            | "acq_rel"
            | "volatile"
            | "cta"
            | "gpu"
            | "sys"
            | "uni"
            | "aligned"
    ) || m.starts_with("L1::")
        || m.starts_with("L2::")
}

fn wide(ty: ScalarType) -> Option<ScalarType> {
    use ScalarType::*;
    Some(match ty {
        U16 => U32,
        S16 => S32,
        U32 => U64,
        S32 => S64,
        _ => return None,
    })
}

fn class_of(op: &Op, ty: ScalarType) -> Class {
    match op {
        Op::Bra | Op::Exit => Class::Branch,
        Op::Atom { .. } | Op::Red { .. } => Class::Atomic,
        Op::Ld { .. } | Op::St { .. } => Class::Memory,
        Op::Bar | Op::Nop => Class::Other,
        Op::Cvt { src, .. } => {
            if ty == ScalarType::F64 || *src == ScalarType::F64 {
                Class::F64
            } else if ty.is_float() || src.is_float() {
                Class::F32
            } else {
                Class::Integer
            }
        }
        _ if ty == ScalarType::F64 => Class::F64,
        _ if ty.is_float() => Class::F32,
        Op::Mov | Op::Pack | Op::Unpack | Op::Selp => Class::Other,
        _ => Class::Integer,
    }
}

/// Bits of an immediate as type `ty`.
fn imm_bits(imm: Imm, ty: ScalarType) -> Option<u64> {
    use ScalarType::*;
    let mask = |bits: u64| match ty.size() {
        1 => bits & 0xff,
        2 => bits & 0xffff,
        4 => bits & 0xffff_ffff,
        _ => bits,
    };
    Some(match (imm, ty) {
        (Imm::Int(i), F32) => (i as f32).to_bits() as u64,
        (Imm::Int(i), F64) => (i as f64).to_bits(),
        (Imm::Int(i), Pred) => (i != 0) as u64,
        (Imm::Int(i), _) => mask(i as u64),
        (Imm::F32(b), F32) => b as u64,
        (Imm::F32(b), F64) => (f32::from_bits(b) as f64).to_bits(),
        (Imm::F64(b), F64) => b,
        (Imm::F64(b), F32) => (f64::from_bits(b) as f32).to_bits() as u64,
        (Imm::Float(x), F32) => (x as f32).to_bits() as u64,
        (Imm::Float(x), F64) => x.to_bits(),
        (Imm::F32(b), B32 | U32 | S32) => b as u64,
        (Imm::F64(b), B64 | U64 | S64) => b,
        _ => return None,
    })
}

impl<'a> Compiler<'a> {
    fn new(
        module: &'a ast::Module,
        f: &'a ast::Function,
        globals: &'a HashMap<String, u64>,
    ) -> R<Compiler<'a>> {
        let mut c = Compiler {
            f,
            regs: HashMap::new(),
            next_slot: special::FIRST,
            consts: Vec::new(),
            const_slots: HashMap::new(),
            shared: HashMap::new(),
            local: HashMap::new(),
            globals,
            params: Vec::new(),
            param_size: 0,
            shared_size: 0,
            local_size: 0,
            labels: HashMap::new(),
            insts: Vec::new(),
            text: Vec::new(),
            fixups: Vec::new(),
            scratch: special::SCRATCH,
        };
        for r in &f.regs {
            match r.count {
                Some(n) => {
                    for i in 0..n {
                        c.declare(format!("{}{}", r.name, i), r.ty);
                    }
                }
                None => c.declare(r.name.clone(), r.ty),
            }
        }
        for p in &f.params {
            let align = (p.align as usize).max(1);
            let offset = align_up(c.param_size, align);
            c.param_size = offset + p.size() as usize;
            c.params.push(ParamInfo {
                name: p.name.clone(),
                offset,
                size: p.size() as usize,
                align,
            });
        }
        let mut extern_shared = Vec::new();
        for v in module.vars.iter().chain(&f.vars) {
            match v.space {
                StateSpace::Shared if v.elements == 0 => extern_shared.push(v),
                StateSpace::Shared => {
                    let at = align_up(c.shared_size, v.align as usize);
                    c.shared.insert(v.name.clone(), at as u64);
                    c.shared_size = at + v.size() as usize;
                }
                StateSpace::Local => {
                    let at = align_up(c.local_size, v.align as usize);
                    c.local.insert(v.name.clone(), at as u64);
                    c.local_size = at + v.size() as usize;
                }
                StateSpace::Global | StateSpace::Const => {}
                other => {
                    return err(
                        v.line,
                        format!("variable {} in {other:?} space is not supported", v.name),
                    );
                }
            }
        }
        // Dynamic shared memory (`.extern .shared x[]`) starts after the static part.
        let dynamic_at = dynamic_shared_offset(c.shared_size);
        for v in extern_shared {
            c.shared.insert(v.name.clone(), dynamic_at as u64);
        }
        Ok(c)
    }

    fn declare(&mut self, name: String, ty: ScalarType) {
        if !self.regs.contains_key(&name) {
            self.regs.insert(name, (self.next_slot, ty));
            self.next_slot += 1;
        }
    }

    fn constant(&mut self, bits: u64) -> u32 {
        if let Some(&s) = self.const_slots.get(&bits) {
            return s;
        }
        let s = self.consts.len() as u32;
        self.consts.push(bits);
        // Constant slots are numbered after the registers; resolved in `finish`.
        let slot = CONST_BASE + s;
        self.const_slots.insert(bits, slot);
        slot
    }

    fn special(&self, name: &str, line: usize) -> R<Option<u32>> {
        let (base, comp) = match name.rsplit_once('.') {
            Some((b, c)) => (b, c),
            None => (name, ""),
        };
        let axis = match comp {
            "x" => 0,
            "y" => 1,
            "z" => 2,
            _ => 3,
        };
        let slot = match (base, axis) {
            ("%tid", a) if a < 3 => special::TID + a,
            ("%ntid", a) if a < 3 => special::NTID + a,
            ("%ctaid", a) if a < 3 => special::CTAID + a,
            ("%nctaid", a) if a < 3 => special::NCTAID + a,
            ("%laneid", 3) => special::LANEID,
            ("%warpid", 3) => special::WARPID,
            ("%nwarpid", 3) => special::NWARPID,
            _ => {
                if name.starts_with('%') && !self.regs.contains_key(name) {
                    let known = [
                        "%clock",
                        "%clock64",
                        "%smid",
                        "%nsmid",
                        "%gridid",
                        "%globaltimer",
                        "%lanemask_eq",
                        "%lanemask_lt",
                        "%lanemask_le",
                        "%lanemask_gt",
                        "%lanemask_ge",
                        "%pm0",
                        "%dynamic_smem_size",
                        "%envreg",
                    ];
                    if known.iter().any(|k| name.starts_with(k)) {
                        return err(
                            line,
                            format!("special register {name} is not supported by the emulator"),
                        );
                    }
                }
                return Ok(None);
            }
        };
        Ok(Some(slot))
    }

    fn reg(&self, name: &str, line: usize) -> R<u32> {
        if name == "_" {
            return Ok(special::SINK);
        }
        if let Some(s) = self.special(name, line)? {
            return Ok(s);
        }
        match self.regs.get(name) {
            Some(&(s, _)) => Ok(s),
            None => err(line, format!("register {name} is not declared")),
        }
    }

    /// A source operand of type `ty` as a slot.
    fn src(&mut self, o: &Operand, ty: ScalarType, line: usize) -> R<u32> {
        match o {
            Operand::Reg(r) => self.reg(r, line),
            Operand::NotReg(r) => {
                // `!%p`: negate into a scratch slot just before the instruction.
                let p = self.reg(r, line)?;
                let s = self.scratch;
                if s >= special::FIRST {
                    return err(line, "too many negated predicate operands");
                }
                self.scratch += 1;
                self.push_raw(
                    Inst {
                        op: Op::Not,
                        ty: ScalarType::Pred,
                        guard: NONE,
                        guard_neg: false,
                        d: [s, NONE, NONE, NONE],
                        nd: 1,
                        a: [p, NONE, NONE, NONE],
                        na: 1,
                        off: 0,
                        target: NONE,
                        line: line as u32,
                        class: Class::Integer,
                    },
                    format!("not.pred (for !{r})"),
                );
                Ok(s)
            }
            Operand::Imm(i) => match imm_bits(*i, ty) {
                Some(bits) => Ok(self.constant(bits)),
                None => err(line, format!("immediate {i:?} cannot be a .{ty:?} operand")),
            },
            Operand::Symbol(name) => {
                let addr = self.symbol_address(name, line)?;
                Ok(self.constant(addr))
            }
            other => err(line, format!("operand {other:?} cannot be a source here")),
        }
    }

    fn dst(&self, o: &Operand, line: usize) -> R<u32> {
        match o {
            Operand::Reg(r) => {
                let s = self.reg(r, line)?;
                if s < special::SINK {
                    return err(line, format!("special register {r} cannot be written"));
                }
                Ok(s)
            }
            other => err(line, format!("operand {other:?} cannot be a destination")),
        }
    }

    /// Address of a variable: shared and local variables by their offset in their window,
    /// globals by their device address.
    fn symbol_address(&self, name: &str, line: usize) -> R<u64> {
        if let Some(&a) = self.shared.get(name) {
            return Ok(a);
        }
        if let Some(&a) = self.local.get(name) {
            return Ok(a);
        }
        if let Some(&a) = self.globals.get(name) {
            return Ok(a);
        }
        // A kernel parameter's address is its offset in the parameter space (`ld.param`
        // through a register; `cvta.param` makes it generic).
        if let Some(p) = self.params.iter().find(|p| p.name == name) {
            return Ok(p.offset as u64);
        }
        err(line, format!("unknown symbol {name}"))
    }

    /// An address operand: (base slot, offset).
    fn address(&mut self, o: &Operand, space: Space, line: usize) -> R<(u32, i64)> {
        let Operand::Address { base, offset } = o else {
            return err(line, format!("expected an address, found {o:?}"));
        };
        match base {
            AddrBase::Reg(r) => Ok((self.reg(r, line)?, *offset)),
            AddrBase::Absolute => Ok((self.constant(0), *offset)),
            AddrBase::Symbol(s) => {
                if space == Space::Param {
                    let Some(p) = self.params.iter().find(|p| &p.name == s) else {
                        return err(line, format!("unknown parameter {s}"));
                    };
                    let at = p.offset as i64 + offset;
                    return Ok((self.constant(0), at));
                }
                let a = self.symbol_address(s, line)?;
                Ok((self.constant(a), *offset))
            }
        }
    }

    fn push_raw(&mut self, inst: Inst, text: String) {
        self.insts.push(inst);
        self.text.push(text);
    }

    fn run(mut self) -> R<Kernel> {
        // Branches may go forward: targets are filled in at the end.
        let body = &self.f.body;
        for s in body {
            match s {
                Statement::Label(l) => {
                    let at = self.insts.len() as u32;
                    self.labels.insert(l.clone(), at);
                }
                Statement::Instr(i) => self.instruction(i)?,
            }
        }
        // Falling off the end exits.
        self.push_raw(
            Inst {
                op: Op::Exit,
                ty: ScalarType::B32,
                guard: NONE,
                guard_neg: false,
                d: [NONE; 4],
                nd: 0,
                a: [NONE; 4],
                na: 0,
                off: 0,
                target: NONE,
                line: self.f.line as u32,
                class: Class::Branch,
            },
            "(end of kernel)".into(),
        );
        for (at, label, line) in std::mem::take(&mut self.fixups) {
            match self.labels.get(&label) {
                Some(&t) => self.insts[at].target = t,
                _ => return err(line, format!("branch to unknown label {label}")),
            }
        }
        // Constants go after the registers.
        let nregs = self.next_slot;
        for inst in &mut self.insts {
            for s in inst.a.iter_mut().chain(inst.d.iter_mut()) {
                if *s != NONE && *s >= CONST_BASE {
                    *s = *s - CONST_BASE + nregs;
                }
            }
            if inst.guard != NONE && inst.guard >= CONST_BASE {
                inst.guard = inst.guard - CONST_BASE + nregs;
            }
        }
        let mut template = vec![0u64; nregs as usize];
        template.extend_from_slice(&self.consts);
        let has_barrier = self.insts.iter().any(|i| i.op == Op::Bar);
        let max_threads = self
            .f
            .directives
            .iter()
            .find(|(n, _)| n == "reqntid" || n == "maxntid")
            .map(|(_, v)| v.iter().product());
        Ok(Kernel {
            name: self.f.name.clone(),
            insts: self.insts,
            template,
            params: self.params,
            param_size: self.param_size,
            shared_size: self.shared_size,
            local_size: self.local_size,
            has_barrier,
            max_threads,
            text: self.text,
        })
    }

    fn instruction(&mut self, i: &ast::Instruction) -> R<()> {
        let line = i.line;
        self.scratch = special::SCRATCH;
        let (guard, guard_neg) = match &i.guard {
            Some((neg, p)) => (self.reg(p, line)?, *neg),
            None => (NONE, false),
        };
        let unsupported = |what: &str| -> R<()> {
            err(
                line,
                format!("{what} is not supported by the emulator: `{}`", i.text),
            )
        };
        let mods: Vec<&str> = i.modifiers.iter().map(String::as_str).collect();
        let types: Vec<ScalarType> = mods
            .iter()
            .filter_map(|m| ScalarType::from_name(m))
            .collect();
        let ty = types.last().copied();
        let has = |m: &str| mods.contains(&m);
        let rounding = mods.iter().find_map(|m| Rounding::from_modifier(m));
        let ops = &i.operands;
        let mut inst = Inst {
            op: Op::Nop,
            ty: ty.unwrap_or(ScalarType::B32),
            guard,
            guard_neg,
            d: [NONE; 4],
            nd: 0,
            a: [NONE; 4],
            na: 0,
            off: 0,
            target: NONE,
            line: line as u32,
            class: Class::Other,
        };
        // Modifiers no operation below uses are rejected, so nothing is silently ignored.
        let mut allowed: Vec<&str> = Vec::new();
        let need_ty = |t: Option<ScalarType>| -> R<ScalarType> {
            t.ok_or_else(|| CompileError {
                line,
                message: format!("`{}` has no type", i.text),
            })
        };
        let n_ops = |n: usize| -> R<()> {
            if ops.len() == n {
                Ok(())
            } else {
                err(
                    line,
                    format!("`{}` needs {n} operands, has {}", i.text, ops.len()),
                )
            }
        };
        macro_rules! sources {
            ($($t:expr),*) => {{
                let tys = [$($t),*];
                for (k, t) in tys.iter().enumerate() {
                    inst.a[k] = self.src(&ops[k + 1], *t, line)?;
                }
                inst.na = tys.len() as u8;
                inst.d[0] = self.dst(&ops[0], line)?;
                inst.nd = 1;
            }};
        }
        match i.opcode.as_str() {
            "mov" => {
                let t = need_ty(ty)?;
                n_ops(2)?;
                match (&ops[0], &ops[1]) {
                    (Operand::Vector(parts), src) => {
                        inst.op = Op::Unpack;
                        inst.a[0] = self.src(src, t, line)?;
                        inst.na = 1;
                        if parts.len() > 4 {
                            return unsupported("a vector of more than four");
                        }
                        for (k, p) in parts.iter().enumerate() {
                            inst.d[k] = self.dst(p, line)?;
                        }
                        inst.nd = parts.len() as u8;
                    }
                    (d, Operand::Vector(parts)) => {
                        inst.op = Op::Pack;
                        inst.d[0] = self.dst(d, line)?;
                        inst.nd = 1;
                        if parts.len() > 4 {
                            return unsupported("a vector of more than four");
                        }
                        let part = match (t.size(), parts.len()) {
                            (8, 2) => ScalarType::B32,
                            (8, 4) | (4, 2) => ScalarType::B16,
                            (4, 4) => ScalarType::B8,
                            _ => return unsupported("this vector shape"),
                        };
                        for (k, p) in parts.iter().enumerate() {
                            inst.a[k] = self.src(p, part, line)?;
                        }
                        inst.na = parts.len() as u8;
                    }
                    _ => {
                        inst.op = Op::Mov;
                        sources!(t);
                    }
                }
            }
            "selp" => {
                let t = need_ty(ty)?;
                n_ops(4)?;
                inst.op = Op::Selp;
                sources!(t, t, ScalarType::Pred);
            }
            "cvt" => {
                if types.len() != 2 {
                    return unsupported("cvt without two types");
                }
                let (dt, st) = (types[0], types[1]);
                n_ops(2)?;
                let mut mode = CvtMode::default();
                for m in &mods {
                    if let Some((r, integer)) = Rounding::from_modifier(m) {
                        mode.rounding = Some(r);
                        mode.integer_rounding = integer;
                        allowed.push(m);
                    }
                }
                mode.sat = has("sat");
                mode.ftz = has("ftz");
                allowed.extend(["sat", "ftz"]);
                // Check the combination now, not at run time.
                if super::arith::cvt(dt, st, 0, mode).is_none() {
                    return unsupported("this cvt combination or rounding");
                }
                inst.op = Op::Cvt { src: st, mode };
                inst.ty = dt;
                sources!(st);
            }
            "cvta" => {
                let t = need_ty(ty)?;
                if t.size() != 8 {
                    return unsupported("cvta on 32-bit addresses");
                }
                let space = mods.iter().find_map(|m| space_of(m));
                let Some(space) = space else {
                    return unsupported("cvta without a state space");
                };
                allowed.push("to");
                for m in &mods {
                    if space_of(m).is_some() {
                        allowed.push(m);
                    }
                }
                inst.op = Op::Cvta {
                    to_generic: !has("to"),
                    space,
                };
                n_ops(2)?;
                sources!(t);
            }
            "add" | "sub" | "mul" | "mad" | "fma" | "div" | "rem" | "min" | "max" => {
                let t = need_ty(ty)?;
                let opn = i.opcode.as_str();
                let sat = has("sat");
                allowed.extend(["sat", "ftz", "full", "approx", "NaN", "xorsign", "abs"]);
                if has("NaN") || has("xorsign") || has("abs") {
                    return unsupported("this min/max modifier");
                }
                if t.is_float() {
                    if !matches!(t, ScalarType::F32 | ScalarType::F64) {
                        return unsupported("half-precision arithmetic");
                    }
                    let ftz = has("ftz");
                    let approx_div =
                        opn == "div" && (has("approx") || (has("full") && t == ScalarType::F32));
                    if ftz && !approx_div {
                        return unsupported(".ftz (flush to zero) on exact arithmetic");
                    }
                    let r = rounding.map(|r| r.0).unwrap_or(Rounding::Nearest);
                    if let Some((_, true)) = rounding {
                        return unsupported("integer rounding on arithmetic");
                    }
                    for m in &mods {
                        if Rounding::from_modifier(m).is_some() {
                            allowed.push(m);
                        }
                    }
                    inst.op = match opn {
                        "add" => Op::FAdd(r, sat),
                        "sub" => Op::FSub(r, sat),
                        "mul" => Op::FMul(r, sat),
                        "mad" | "fma" => {
                            if opn == "mad" && rounding.is_none() {
                                return unsupported("mad.f32 without rounding (fused or not)");
                            }
                            Op::FFma(r, sat)
                        }
                        "div" if approx_div && has("full") => Op::FApprox(Approx::DivFull, ftz),
                        "div" if approx_div => Op::FApprox(Approx::Div, ftz),
                        "div" => {
                            if rounding.is_none() {
                                return unsupported("div without rounding");
                            }
                            Op::FDiv(r)
                        }
                        "min" => Op::FMin,
                        "max" => Op::FMax,
                        _ => return unsupported("this float operation"),
                    };
                    if sat && t != ScalarType::F32 {
                        return unsupported(".sat on f64");
                    }
                    let n = if matches!(inst.op, Op::FFma(..)) {
                        3
                    } else {
                        2
                    };
                    n_ops(n + 1)?;
                    if n == 3 {
                        sources!(t, t, t);
                    } else {
                        sources!(t, t);
                    }
                } else {
                    let mode = mods.iter().find(|m| matches!(**m, "lo" | "hi" | "wide"));
                    allowed.extend(["lo", "hi", "wide"]);
                    if sat && !(t == ScalarType::S32 && matches!(opn, "add" | "sub")) {
                        return unsupported(".sat on this integer operation");
                    }
                    if has("cc") {
                        return unsupported("carry (.cc)");
                    }
                    match opn {
                        "add" | "sub" | "div" | "rem" | "min" | "max" => {
                            inst.op = match opn {
                                "add" => Op::Add { sat },
                                "sub" => Op::Sub { sat },
                                "div" => Op::Div,
                                "rem" => Op::Rem,
                                "min" => Op::Min,
                                _ => Op::Max,
                            };
                            n_ops(3)?;
                            sources!(t, t);
                        }
                        "mul" => {
                            let w = mode.copied();
                            inst.op = match w {
                                Some("hi") => Op::MulHi,
                                Some("wide") => Op::MulWide,
                                _ => Op::MulLo,
                            };
                            if w == Some("wide") && wide(t).is_none() {
                                return unsupported("mul.wide of this type");
                            }
                            n_ops(3)?;
                            sources!(t, t);
                        }
                        "mad" => {
                            let w = mode.copied();
                            inst.op = match w {
                                Some("hi") => Op::MadHi,
                                Some("wide") => Op::MadWide,
                                _ => Op::MadLo,
                            };
                            n_ops(4)?;
                            if w == Some("wide") {
                                let Some(wt) = wide(t) else {
                                    return unsupported("mad.wide of this type");
                                };
                                sources!(t, t, wt);
                            } else {
                                sources!(t, t, t);
                            }
                        }
                        _ => return unsupported("fma on integers"),
                    }
                }
            }
            "neg" | "abs" => {
                let t = need_ty(ty)?;
                allowed.push("ftz");
                if has("ftz") {
                    return unsupported(".ftz (flush to zero)");
                }
                n_ops(2)?;
                inst.op = match (i.opcode.as_str(), t.is_float()) {
                    ("neg", true) => Op::FNeg,
                    ("abs", true) => Op::FAbs,
                    ("neg", false) => Op::Neg,
                    _ => Op::Abs,
                };
                sources!(t);
            }
            "sqrt" | "rcp" | "lg2" | "ex2" | "sin" | "cos" | "rsqrt" | "tanh" => {
                let t = need_ty(ty)?;
                allowed.extend(["approx", "ftz", "full"]);
                let ftz = has("ftz");
                n_ops(2)?;
                for m in &mods {
                    if Rounding::from_modifier(m).is_some() {
                        allowed.push(m);
                    }
                }
                let exact = rounding.filter(|r| !r.1).map(|r| r.0);
                inst.op = match (i.opcode.as_str(), exact) {
                    (_, Some(_)) if ftz => {
                        return unsupported(".ftz (flush to zero) on exact arithmetic");
                    }
                    ("sqrt", Some(r)) => Op::FSqrt(r),
                    ("rcp", Some(r)) => Op::FRcp(r),
                    ("sqrt", None) => Op::FApprox(Approx::Sqrt, ftz),
                    ("rcp", None) => Op::FApprox(Approx::Rcp, ftz),
                    ("lg2", None) => Op::FApprox(Approx::Lg2, ftz),
                    ("ex2", None) => Op::FApprox(Approx::Ex2, ftz),
                    ("sin", None) => Op::FApprox(Approx::Sin, ftz),
                    ("cos", None) => Op::FApprox(Approx::Cos, ftz),
                    ("rsqrt", None) => Op::FApprox(Approx::Rsqrt, ftz),
                    ("tanh", None) => Op::FApprox(Approx::Tanh, ftz),
                    _ => return unsupported("this rounding"),
                };
                sources!(t);
            }
            "copysign" => {
                let t = need_ty(ty)?;
                n_ops(3)?;
                inst.op = Op::Copysign;
                sources!(t, t);
            }
            "and" | "or" | "xor" => {
                let t = need_ty(ty)?;
                n_ops(3)?;
                inst.op = match i.opcode.as_str() {
                    "and" => Op::And,
                    "or" => Op::Or,
                    _ => Op::Xor,
                };
                sources!(t, t);
            }
            "not" | "cnot" | "popc" | "clz" | "brev" => {
                let t = need_ty(ty)?;
                n_ops(2)?;
                inst.op = match i.opcode.as_str() {
                    "not" => Op::Not,
                    "cnot" => Op::CNot,
                    "popc" => Op::Popc,
                    "clz" => Op::Clz,
                    _ => Op::Brev,
                };
                sources!(t);
            }
            "bfind" => {
                let t = need_ty(ty)?;
                allowed.push("shiftamt");
                n_ops(2)?;
                inst.op = Op::Bfind {
                    shiftamt: has("shiftamt"),
                };
                sources!(t);
            }
            "shl" | "shr" => {
                let t = need_ty(ty)?;
                n_ops(3)?;
                inst.op = if i.opcode == "shl" { Op::Shl } else { Op::Shr };
                sources!(t, ScalarType::U32);
            }
            "bfe" => {
                let t = need_ty(ty)?;
                n_ops(4)?;
                inst.op = Op::Bfe;
                sources!(t, ScalarType::U32, ScalarType::U32);
            }
            "bfi" => {
                let t = need_ty(ty)?;
                n_ops(5)?;
                inst.op = Op::Bfi;
                sources!(t, t, ScalarType::U32, ScalarType::U32);
            }
            "prmt" => {
                let mode = match mods.iter().find(|m| !matches!(**m, "b32")) {
                    None => PrmtMode::Default,
                    Some(&"f4e") => PrmtMode::F4e,
                    Some(&"b4e") => PrmtMode::B4e,
                    Some(&"rc8") => PrmtMode::Rc8,
                    Some(&"ecl") => PrmtMode::Ecl,
                    Some(&"ecr") => PrmtMode::Ecr,
                    Some(&"rc16") => PrmtMode::Rc16,
                    Some(_) => return unsupported("this prmt mode"),
                };
                allowed.extend(["f4e", "b4e", "rc8", "ecl", "ecr", "rc16"]);
                n_ops(4)?;
                inst.op = Op::Prmt(mode);
                inst.ty = ScalarType::B32;
                sources!(ScalarType::B32, ScalarType::B32, ScalarType::B32);
            }
            "dp2a" | "dp4a" => {
                if types.len() != 2 {
                    return unsupported("dp2a/dp4a without two types");
                }
                let (a_signed, b_signed) = (types[0].is_signed(), types[1].is_signed());
                allowed.extend(["lo", "hi"]);
                n_ops(4)?;
                inst.op = if i.opcode == "dp2a" {
                    Op::Dp2a {
                        hi: has("hi"),
                        a_signed,
                        b_signed,
                    }
                } else {
                    Op::Dp4a { a_signed, b_signed }
                };
                inst.ty = ScalarType::B32;
                sources!(ScalarType::B32, ScalarType::B32, ScalarType::B32);
            }
            "setp" => {
                let t = need_ty(ty)?;
                let Some(cmp) = mods
                    .iter()
                    .find_map(|m| super::arith::Cmp::from_modifier(m))
                else {
                    return unsupported("setp without a comparison");
                };
                for m in &mods {
                    if super::arith::Cmp::from_modifier(m).is_some() {
                        allowed.push(m);
                    }
                }
                allowed.push("ftz");
                if has("ftz") {
                    return unsupported(".ftz (flush to zero)");
                }
                let combine = mods.iter().find_map(|m| match *m {
                    "and" => Some(BoolOp::And),
                    "or" => Some(BoolOp::Or),
                    "xor" => Some(BoolOp::Xor),
                    _ => None,
                });
                allowed.extend(["and", "or", "xor"]);
                if !t.is_float() && super::arith::setp_int(cmp, 0, 0, t).is_none() {
                    return unsupported("this comparison on integers");
                }
                // Destination: `p` or `p|q` (parsed as a vector).
                let (p, q) = match &ops.first() {
                    Some(Operand::Vector(v)) if v.len() == 2 => (&v[0], Some(&v[1])),
                    Some(o) => (*o, None),
                    None => return unsupported("setp without operands"),
                };
                let want = if combine.is_some() { 4 } else { 3 };
                n_ops(want)?;
                inst.op = Op::Setp { cmp, combine };
                inst.a[0] = self.src(&ops[1], t, line)?;
                inst.a[1] = self.src(&ops[2], t, line)?;
                inst.na = 2;
                if combine.is_some() {
                    inst.a[2] = self.src(&ops[3], ScalarType::Pred, line)?;
                    inst.na = 3;
                }
                inst.d[0] = self.dst(p, line)?;
                inst.nd = 1;
                if let Some(q) = q {
                    inst.d[1] = self.dst(q, line)?;
                    inst.nd = 2;
                }
            }
            "ld" | "st" | "ldu" => {
                let t = need_ty(ty)?;
                let space = mods
                    .iter()
                    .find_map(|m| space_of(m))
                    .unwrap_or(Space::Generic);
                let n = mods.iter().find_map(|m| vector_len(m)).unwrap_or(1);
                for m in &mods {
                    if space_of(m).is_some() || vector_len(m).is_some() {
                        allowed.push(m);
                    }
                }
                if n > 4 {
                    return unsupported("vectors of eight");
                }
                n_ops(2)?;
                let (data, addr) = if i.opcode == "st" {
                    (&ops[1], &ops[0])
                } else {
                    (&ops[0], &ops[1])
                };
                let (base, off) = self.address(addr, space, line)?;
                inst.a[0] = base;
                inst.off = off;
                let parts: Vec<&Operand> = match data {
                    Operand::Vector(v) => v.iter().collect(),
                    o => vec![o],
                };
                if parts.len() != n as usize {
                    return unsupported("a vector operand of the wrong length");
                }
                if i.opcode == "st" {
                    // The stored values in `d` (a[0] is the address base; four of them
                    // would not fit beside it).
                    inst.op = Op::St { space, n };
                    for (k, p) in parts.iter().enumerate() {
                        inst.d[k] = self.src(p, t, line)?;
                    }
                    inst.na = 1;
                } else {
                    inst.op = Op::Ld { space, n };
                    for (k, p) in parts.iter().enumerate() {
                        inst.d[k] = self.dst(p, line)?;
                    }
                    inst.nd = n;
                    inst.na = 1;
                }
            }
            "atom" | "red" => {
                let t = need_ty(ty)?;
                let space = mods
                    .iter()
                    .find_map(|m| space_of(m))
                    .unwrap_or(Space::Generic);
                let op = mods.iter().find_map(|m| {
                    Some(match *m {
                        "add" => AtomOp::Add,
                        "min" => AtomOp::Min,
                        "max" => AtomOp::Max,
                        "inc" => AtomOp::Inc,
                        "dec" => AtomOp::Dec,
                        "and" => AtomOp::And,
                        "or" => AtomOp::Or,
                        "xor" => AtomOp::Xor,
                        "exch" => AtomOp::Exch,
                        "cas" => AtomOp::Cas,
                        _ => return None,
                    })
                });
                let Some(op) = op else {
                    return unsupported("atom without an operation");
                };
                for m in &mods {
                    if space_of(m).is_some()
                        || matches!(
                            *m,
                            "add"
                                | "min"
                                | "max"
                                | "inc"
                                | "dec"
                                | "and"
                                | "or"
                                | "xor"
                                | "exch"
                                | "cas"
                        )
                    {
                        allowed.push(m);
                    }
                }
                if t.is_float()
                    && !(op == AtomOp::Add && matches!(t, ScalarType::F32 | ScalarType::F64))
                {
                    return unsupported("this float atomic");
                }
                if !matches!(t.size(), 4 | 8) {
                    return unsupported("atomics narrower than 32 bits");
                }
                let is_atom = i.opcode == "atom";
                let first = usize::from(is_atom);
                let values = if op == AtomOp::Cas { 2 } else { 1 };
                n_ops(first + 1 + values)?;
                let (base, off) = self.address(&ops[first], space, line)?;
                inst.a[0] = base;
                inst.off = off;
                for k in 0..values {
                    inst.a[1 + k] = self.src(&ops[first + 1 + k], t, line)?;
                }
                inst.na = 1 + values as u8;
                if is_atom {
                    inst.d[0] = self.dst(&ops[0], line)?;
                    inst.nd = 1;
                    inst.op = Op::Atom { space, op };
                } else {
                    inst.op = Op::Red { space, op };
                }
            }
            "bar" | "barrier" => {
                allowed.extend(["sync", "aligned"]);
                if !has("sync") || i.opcode == "barrier" && !has("sync") {
                    return unsupported("barriers other than bar.sync");
                }
                if !(ops.len() == 1 || ops.len() == 2) {
                    return unsupported("this barrier form");
                }
                if !matches!(ops[0], Operand::Imm(Imm::Int(0))) {
                    return unsupported("named barriers other than 0");
                }
                if ops.len() == 2 {
                    // A thread count: accepted only as a number, checked at launch.
                    let Operand::Imm(Imm::Int(n)) = ops[1] else {
                        return unsupported("a barrier thread count in a register");
                    };
                    inst.off = n as i64;
                }
                inst.op = Op::Bar;
            }
            "bra" => {
                allowed.push("uni");
                n_ops(1)?;
                let Operand::Symbol(label) = &ops[0] else {
                    return unsupported("indirect branches");
                };
                inst.op = Op::Bra;
                self.fixups.push((self.insts.len(), label.clone(), line));
            }
            "ret" | "exit" => {
                allowed.push("uni");
                inst.op = Op::Exit;
            }
            "membar" | "fence" => {
                // Accesses are sequentially consistent in the emulator.
                allowed.extend(mods.iter().copied());
                inst.op = Op::Nop;
            }
            "shfl" | "vote" | "match" | "redux" | "activemask" | "bar.warp" => {
                return unsupported("warp-level instructions");
            }
            // inline::expand leaves none.
            "call" => return unsupported("function calls"),
            "tex" | "tld4" | "suld" | "sust" | "txq" | "suq" => {
                return unsupported("textures and surfaces");
            }
            _ => return unsupported(&format!("opcode {}", i.opcode)),
        }
        for m in &mods {
            if ScalarType::from_name(m).is_some() || is_hint(m) || allowed.contains(m) {
                continue;
            }
            return unsupported(&format!("modifier .{m}"));
        }
        inst.class = class_of(&inst.op, inst.ty);
        self.push_raw(inst, i.text.clone());
        Ok(())
    }
}

/// Constant slots are numbered from here until `finish` moves them after the registers.
const CONST_BASE: u32 = 1 << 30;

/// Where dynamic shared memory starts after `static_size` bytes of static shared memory.
pub fn dynamic_shared_offset(static_size: usize) -> usize {
    align_up(static_size, 16)
}
