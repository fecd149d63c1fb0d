//! The parsed form of a PTX module: what the text says, before any meaning is given to it.
//! Opcodes and their modifiers stay strings here; `exec::compile` interprets them, so an
//! instruction the executor does not know fails there, naming its line.

/// A PTX scalar type (`.u32`, `.f64`, `.pred`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarType {
    B8,
    B16,
    B32,
    B64,
    B128,
    U8,
    U16,
    U32,
    U64,
    S8,
    S16,
    S32,
    S64,
    F16,
    F16x2,
    Bf16,
    Bf16x2,
    F32,
    F64,
    Pred,
}

impl ScalarType {
    /// From a modifier without its dot ("u32" -> U32); None for anything else.
    pub fn from_name(name: &str) -> Option<ScalarType> {
        use ScalarType::*;
        Some(match name {
            "b8" => B8,
            "b16" => B16,
            "b32" => B32,
            "b64" => B64,
            "b128" => B128,
            "u8" => U8,
            "u16" => U16,
            "u32" => U32,
            "u64" => U64,
            "s8" => S8,
            "s16" => S16,
            "s32" => S32,
            "s64" => S64,
            "f16" => F16,
            "f16x2" => F16x2,
            "bf16" => Bf16,
            "bf16x2" => Bf16x2,
            "f32" => F32,
            "f64" => F64,
            "pred" => Pred,
            _ => return None,
        })
    }

    /// Size in bytes (a predicate counts as 1).
    pub fn size(self) -> usize {
        use ScalarType::*;
        match self {
            B8 | U8 | S8 | Pred => 1,
            B16 | U16 | S16 | F16 | Bf16 => 2,
            B32 | U32 | S32 | F32 | F16x2 | Bf16x2 => 4,
            B64 | U64 | S64 | F64 => 8,
            B128 => 16,
        }
    }

    /// Whether values are signed integers.
    pub fn is_signed(self) -> bool {
        matches!(
            self,
            ScalarType::S8 | ScalarType::S16 | ScalarType::S32 | ScalarType::S64
        )
    }

    /// Whether values are floating point (any width, packed included).
    pub fn is_float(self) -> bool {
        use ScalarType::*;
        matches!(self, F16 | F16x2 | Bf16 | Bf16x2 | F32 | F64)
    }
}

/// Where a variable or an access lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateSpace {
    Global,
    Shared,
    Const,
    Local,
    Param,
    /// No space named: a generic address.
    Generic,
}

/// A module-level or function-level variable (`.shared .align 4 .b8 hist[3072];`).
#[derive(Clone, Debug, PartialEq)]
pub struct Variable {
    pub space: StateSpace,
    pub name: String,
    /// Alignment in bytes (the element size when not given).
    pub align: u32,
    pub ty: ScalarType,
    /// Number of elements: 1 for a scalar, the product of the dimensions for an array.
    pub elements: u64,
    /// Initial bytes (`= {...}`), little-endian, `elements * ty.size()` long, when given.
    pub init: Option<Vec<u8>>,
    /// 1-based line of the declaration.
    pub line: usize,
}

impl Variable {
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.elements * self.ty.size() as u64
    }
}

/// A kernel parameter (`.param .align 8 .b8 name[128]` or `.param .u64 name`).
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    pub ty: ScalarType,
    pub align: u32,
    pub elements: u64,
}

impl Param {
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.elements * self.ty.size() as u64
    }
}

/// A register declaration: `.reg .b32 %r<202>;` declares `%r0` .. `%r201` (`count:
/// Some(202)`), `.reg .pred p;` declares the single name `p` (`count: None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegDecl {
    pub ty: ScalarType,
    pub name: String,
    pub count: Option<u32>,
    pub line: usize,
}

/// An immediate value as written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Imm {
    /// An integer literal (decimal, 0x hex, 0 octal, 0b binary; a leading minus allowed),
    /// kept wide so both i64 and u64 literals fit.
    Int(i128),
    /// `0fXXXXXXXX`: the bits of an f32.
    F32(u32),
    /// `0dXXXXXXXXXXXXXXXX`: the bits of an f64.
    F64(u64),
    /// A decimal floating-point literal (`1.5`, `1e-3`).
    Float(f64),
}

/// The base of an address operand.
#[derive(Clone, Debug, PartialEq)]
pub enum AddrBase {
    /// `[%rd4+8]`
    Reg(String),
    /// `[kernel_param_0+40]`, `[hist]`
    Symbol(String),
    /// `[0x1000]`
    Absolute,
}

/// An operand.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// `%r5`, `%p1`, `%tid.x`, `%ctaid.y` (special registers keep their dotted name).
    Reg(String),
    /// `!%p1` (only as a predicate source, e.g. of `selp` or `and.pred`).
    NotReg(String),
    Imm(Imm),
    /// `{%r1, %r2}`; `_` (a sink) is `Reg("_")`.
    Vector(Vec<Operand>),
    /// `[base+offset]`
    Address {
        base: AddrBase,
        offset: i64,
    },
    /// A bare symbol: a variable (`mov.u32 %r1, hist;`) or a label (`bra $L__BB0_4;`).
    Symbol(String),
}

/// One instruction.
#[derive(Clone, Debug, PartialEq)]
pub struct Instruction {
    /// 1-based line in the module text.
    pub line: usize,
    /// `@%p1` is `Some((false, "%p1"))`, `@!%p1` is `Some((true, "%p1"))`.
    pub guard: Option<(bool, String)>,
    /// The opcode without modifiers: "add", "ld", "setp", "bar", ...
    pub opcode: String,
    /// The dotted modifiers in order, without dots: `setp.lt.f64` -> ["lt", "f64"],
    /// `ld.global.v2.u32` -> ["global", "v2", "u32"], `bar.sync` -> ["sync"].
    pub modifiers: Vec<String>,
    pub operands: Vec<Operand>,
    /// The instruction as written (for reports), without the trailing `;`.
    pub text: String,
}

/// A statement of a function body.
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    Label(String),
    Instr(Instruction),
}

/// A function: `.entry` (a kernel) or `.func`.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    pub name: String,
    /// `.entry` rather than `.func`.
    pub is_entry: bool,
    /// `.visible` or `.weak` (callable by name from the host when an entry).
    pub visible: bool,
    pub params: Vec<Param>,
    /// `.func` return parameters.
    pub returns: Vec<Param>,
    /// Every `.reg` declaration of the body, nested `{ }` scopes flattened.
    pub regs: Vec<RegDecl>,
    /// Variables declared inside the body (`.shared`, `.local`).
    pub vars: Vec<Variable>,
    pub body: Vec<Statement>,
    /// Performance directives (`.maxntid 256, 1, 1`, `.reqntid`, `.minnctapersm`), by name.
    pub directives: Vec<(String, Vec<u64>)>,
    /// 1-based line of the `.entry`/`.func` keyword.
    pub line: usize,
}

/// A whole module.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    /// `.version 9.0` -> (9, 0)
    pub version: (u32, u32),
    /// `.target sm_80` -> ["sm_80"] (with any extra targets such as "texmode_independent").
    pub target: Vec<String>,
    /// `.address_size 64`
    pub address_size: u32,
    /// Module-level variables (`.global`, `.const`, `.shared`).
    pub vars: Vec<Variable>,
    pub functions: Vec<Function>,
}
