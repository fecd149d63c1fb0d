//! Exact results of PTX arithmetic, comparison, bit and conversion instructions.
//!
//! Every function here is pure: it takes operand values (Rust floats, or `u64` register
//! bits with a narrower type's value zero-extended in the low bits) and returns the
//! result the PTX ISA specifies. Inputs' bits above the instruction type's width are
//! ignored and results come back zero-extended.
//!
//! Floating-point results with an explicit rounding (`.rn .rz .rm .rp`) are correctly
//! rounded in that direction, subnormals, overflow and signed zeros included. Round to
//! nearest uses the host's IEEE arithmetic; the directed modes, and everything on
//! `.f16`/`.bf16`, go through a small exact software path (integer significands, one
//! final rounding), so no host rounding-mode state is touched. A NaN result is always
//! the format's canonical NaN (all bits set except the sign), as NVIDIA hardware gives
//! for `.f32`.

use crate::ptx::ast::ScalarType;

// ---------------------------------------------------------------------------------------
// Modifiers
// ---------------------------------------------------------------------------------------

/// A rounding direction: `.rn .rz .rm .rp` for floating-point results, and the same four
/// directions as integer rounding `.rni .rzi .rmi .rpi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Round to nearest, ties to even (`.rn`, `.rni`).
    Nearest,
    /// Round toward zero (`.rz`, `.rzi`).
    Zero,
    /// Round toward negative infinity (`.rm`, `.rmi`).
    Down,
    /// Round toward positive infinity (`.rp`, `.rpi`).
    Up,
}

impl Rounding {
    /// From a modifier with or without its dot: `rn rz rm rp` give `(mode, false)`,
    /// `rni rzi rmi rpi` give `(mode, true)` (integer rounding); None for anything else.
    pub fn from_modifier(m: &str) -> Option<(Rounding, bool)> {
        let m = m.strip_prefix('.').unwrap_or(m);
        Some(match m {
            "rn" => (Rounding::Nearest, false),
            "rz" => (Rounding::Zero, false),
            "rm" => (Rounding::Down, false),
            "rp" => (Rounding::Up, false),
            "rni" => (Rounding::Nearest, true),
            "rzi" => (Rounding::Zero, true),
            "rmi" => (Rounding::Down, true),
            "rpi" => (Rounding::Up, true),
            _ => return None,
        })
    }
}

/// A `setp`/`set` comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `eq`: equal (ordered for floats).
    Eq,
    /// `ne`: not equal (ordered for floats).
    Ne,
    /// `lt`: less than.
    Lt,
    /// `le`: less or equal.
    Le,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater or equal.
    Ge,
    /// `lo`: unsigned lower.
    Lo,
    /// `ls`: unsigned lower or same.
    Ls,
    /// `hi`: unsigned higher.
    Hi,
    /// `hs`: unsigned higher or same.
    Hs,
    /// `equ`: equal or unordered.
    Equ,
    /// `neu`: not equal or unordered.
    Neu,
    /// `ltu`: less than or unordered.
    Ltu,
    /// `leu`: less or equal, or unordered.
    Leu,
    /// `gtu`: greater than or unordered.
    Gtu,
    /// `geu`: greater or equal, or unordered.
    Geu,
    /// `num`: neither operand is NaN.
    Num,
    /// `nan`: either operand is NaN.
    Nan,
}

impl Cmp {
    /// From a modifier with or without its dot (`"lt"`, `".geu"`); None for anything else.
    pub fn from_modifier(m: &str) -> Option<Cmp> {
        let m = m.strip_prefix('.').unwrap_or(m);
        Some(match m {
            "eq" => Cmp::Eq,
            "ne" => Cmp::Ne,
            "lt" => Cmp::Lt,
            "le" => Cmp::Le,
            "gt" => Cmp::Gt,
            "ge" => Cmp::Ge,
            "lo" => Cmp::Lo,
            "ls" => Cmp::Ls,
            "hi" => Cmp::Hi,
            "hs" => Cmp::Hs,
            "equ" => Cmp::Equ,
            "neu" => Cmp::Neu,
            "ltu" => Cmp::Ltu,
            "leu" => Cmp::Leu,
            "gtu" => Cmp::Gtu,
            "geu" => Cmp::Geu,
            "num" => Cmp::Num,
            "nan" => Cmp::Nan,
            _ => return None,
        })
    }

    /// Whether the ISA allows this operator only on floating-point operands
    /// (`equ neu ltu leu gtu geu num nan`).
    pub fn is_float_only(self) -> bool {
        matches!(
            self,
            Cmp::Equ | Cmp::Neu | Cmp::Ltu | Cmp::Leu | Cmp::Gtu | Cmp::Geu | Cmp::Num | Cmp::Nan
        )
    }

    /// Whether the ISA allows this operator only on integer operands (`lo ls hi hs`).
    pub fn is_int_only(self) -> bool {
        matches!(self, Cmp::Lo | Cmp::Ls | Cmp::Hi | Cmp::Hs)
    }
}

/// A `prmt` mode: the generic nibble-selector form, or one of `.f4e .b4e .rc8 .ecl .ecr
/// .rc16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrmtMode {
    /// No mode: four 4-bit selectors in `c[15:0]`, msb replicating the sign.
    Default,
    /// `.f4e`: forward 4 extract.
    F4e,
    /// `.b4e`: backward 4 extract.
    B4e,
    /// `.rc8`: replicate 8.
    Rc8,
    /// `.ecl`: edge clamp left.
    Ecl,
    /// `.ecr`: edge clamp right.
    Ecr,
    /// `.rc16`: replicate 16.
    Rc16,
}

impl PrmtMode {
    /// From a mode modifier with or without its dot (`"f4e"`); None for anything else.
    pub fn from_modifier(m: &str) -> Option<PrmtMode> {
        let m = m.strip_prefix('.').unwrap_or(m);
        Some(match m {
            "f4e" => PrmtMode::F4e,
            "b4e" => PrmtMode::B4e,
            "rc8" => PrmtMode::Rc8,
            "ecl" => PrmtMode::Ecl,
            "ecr" => PrmtMode::Ecr,
            "rc16" => PrmtMode::Rc16,
            _ => return None,
        })
    }
}

/// The modifiers of one `cvt`: a rounding (`integer_rounding` tells `.rni`-style from
/// `.rn`-style), `.sat` and `.ftz`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CvtMode {
    /// The rounding direction written, if any.
    pub rounding: Option<Rounding>,
    /// Whether it was written as an integer rounding (`.rni .rzi .rmi .rpi`).
    pub integer_rounding: bool,
    /// `.sat`: clamp to the integer destination's range, or a float one's [0.0, 1.0].
    pub sat: bool,
    /// `.ftz`: flush `.f32` subnormal inputs and results to sign-preserving zero.
    pub ftz: bool,
}

// ---------------------------------------------------------------------------------------
// Exact software floating point
// ---------------------------------------------------------------------------------------

/// A scalar IEEE binary format PTX computes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatFormat {
    /// IEEE binary16 (`.f16`): 5 exponent bits, 10 fraction bits.
    F16,
    /// bfloat16 (`.bf16`): 8 exponent bits, 7 fraction bits.
    Bf16,
    /// IEEE binary32 (`.f32`).
    F32,
    /// IEEE binary64 (`.f64`).
    F64,
}

impl FloatFormat {
    /// The format of a scalar float type; None for integers, bits, predicates and packed
    /// `.f16x2`/`.bf16x2`.
    pub fn from_type(ty: ScalarType) -> Option<FloatFormat> {
        Some(match ty {
            ScalarType::F16 => FloatFormat::F16,
            ScalarType::Bf16 => FloatFormat::Bf16,
            ScalarType::F32 => FloatFormat::F32,
            ScalarType::F64 => FloatFormat::F64,
            _ => return None,
        })
    }

    fn frac_bits(self) -> u32 {
        match self {
            FloatFormat::F16 => 10,
            FloatFormat::Bf16 => 7,
            FloatFormat::F32 => 23,
            FloatFormat::F64 => 52,
        }
    }

    fn exp_bits(self) -> u32 {
        match self {
            FloatFormat::F16 => 5,
            FloatFormat::Bf16 | FloatFormat::F32 => 8,
            FloatFormat::F64 => 11,
        }
    }

    fn width(self) -> u32 {
        1 + self.exp_bits() + self.frac_bits()
    }

    fn bias(self) -> i32 {
        (1 << (self.exp_bits() - 1)) - 1
    }

    fn max_biased(self) -> i32 {
        (1 << self.exp_bits()) - 1
    }

    fn sign_bit(self) -> u64 {
        1 << (self.width() - 1)
    }

    fn mask(self) -> u64 {
        low_mask(self.width())
    }

    /// The canonical NaN: every bit set except the sign (f32 `0x7FFFFFFF`, f16/bf16
    /// `0x7FFF`, f64 `0x7FFFFFFFFFFFFFFF`).
    pub fn canonical_nan(self) -> u64 {
        self.mask() >> 1
    }

    fn zero(self, neg: bool) -> u64 {
        if neg { self.sign_bit() } else { 0 }
    }

    fn inf(self, neg: bool) -> u64 {
        self.zero(neg) | ((self.max_biased() as u64) << self.frac_bits())
    }

    fn max_finite(self, neg: bool) -> u64 {
        self.inf(neg) - 1
    }

    fn one(self) -> u64 {
        (self.bias() as u64) << self.frac_bits()
    }

    /// Whether `bits` encode a subnormal (nonzero, minimum exponent field).
    fn is_subnormal(self, bits: u64) -> bool {
        let bits = bits & self.mask() & !self.sign_bit();
        bits != 0 && bits >> self.frac_bits() == 0
    }

    /// `.ftz`: a subnormal becomes a zero of the same sign; anything else is unchanged.
    fn flush(self, bits: u64) -> u64 {
        let bits = bits & self.mask();
        if self.is_subnormal(bits) {
            bits & self.sign_bit()
        } else {
            bits
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Nan,
    Inf,
    Zero,
    Finite,
}

/// A decoded value: `(-1)^neg * mant * 2^exp` when finite and nonzero.
#[derive(Clone, Copy, Debug)]
struct Unpacked {
    class: Class,
    neg: bool,
    mant: u64,
    exp: i32,
}

/// An exact finite nonzero operand of the software path: `(-1)^neg * mant * 2^exp`.
#[derive(Clone, Copy, Debug)]
struct Term {
    neg: bool,
    mant: u128,
    exp: i32,
}

fn unpack(f: FloatFormat, bits: u64) -> Unpacked {
    let bits = bits & f.mask();
    let neg = bits & f.sign_bit() != 0;
    let frac = bits & low_mask(f.frac_bits());
    let biased = ((bits >> f.frac_bits()) & low_mask(f.exp_bits())) as i32;
    let (class, mant, exp) = if biased == f.max_biased() {
        (if frac == 0 { Class::Inf } else { Class::Nan }, 0, 0)
    } else if biased == 0 {
        if frac == 0 {
            (Class::Zero, 0, 0)
        } else {
            (Class::Finite, frac, 1 - f.bias() - f.frac_bits() as i32)
        }
    } else {
        let exp = biased - f.bias() - f.frac_bits() as i32;
        (Class::Finite, frac | (1 << f.frac_bits()), exp)
    };
    Unpacked {
        class,
        neg,
        mant,
        exp,
    }
}

impl Unpacked {
    fn term(self) -> Term {
        Term {
            neg: self.neg,
            mant: self.mant as u128,
            exp: self.exp,
        }
    }
}

/// `m / 2^s` rounded to an integer in direction `r` (the value's sign is `neg`).
fn round_shift(m: u128, s: u32, neg: bool, r: Rounding) -> u128 {
    if s == 0 {
        return m;
    }
    let (q, half, sticky) = if s > 128 {
        (0, false, m != 0)
    } else if s == 128 {
        (0, m >> 127 != 0, m << 1 != 0)
    } else {
        (
            m >> s,
            (m >> (s - 1)) & 1 != 0,
            m & ((1u128 << (s - 1)) - 1) != 0,
        )
    };
    let inexact = half || sticky;
    let up = match r {
        Rounding::Nearest => half && (sticky || q & 1 != 0),
        Rounding::Zero => false,
        Rounding::Up => inexact && !neg,
        Rounding::Down => inexact && neg,
    };
    q + up as u128
}

/// The finite value's overflow result: infinity, or the largest finite value when the
/// direction rounds toward zero.
fn overflow(f: FloatFormat, neg: bool, r: Rounding) -> u64 {
    let to_inf = match r {
        Rounding::Nearest => true,
        Rounding::Zero => false,
        Rounding::Up => !neg,
        Rounding::Down => neg,
    };
    if to_inf {
        f.inf(neg)
    } else {
        f.max_finite(neg)
    }
}

/// Rounds the exact value `(-1)^neg * m * 2^e` into format `f` with direction `r`, with
/// gradual underflow and overflow per direction. `m` may carry "sticky" low bits
/// standing for discarded nonzero bits, provided at least two bits lie below the
/// format's rounding position.
fn round_pack(f: FloatFormat, neg: bool, m: u128, e: i32, r: Rounding) -> u64 {
    if m == 0 {
        return f.zero(neg);
    }
    let frac = f.frac_bits() as i32;
    let top = e + 127 - m.leading_zeros() as i32;
    let mut lsb = top.max(1 - f.bias()) - frac;
    let mut q = if lsb <= e {
        m << (e - lsb)
    } else {
        round_shift(m, (lsb - e) as u32, neg, r)
    };
    if q >> (frac + 1) != 0 {
        q >>= 1;
        lsb += 1;
    }
    let biased = if q >> frac == 0 {
        0
    } else {
        lsb + frac + f.bias()
    };
    if biased >= f.max_biased() {
        return overflow(f, neg, r);
    }
    f.zero(neg) | ((biased as u64) << frac) | (q as u64 & low_mask(frac as u32))
}

fn bit_len(m: u128) -> i32 {
    128 - m.leading_zeros() as i32
}

/// Exact sum of two finite nonzero terms, rounded once.
fn add_terms(f: FloatFormat, x: Term, y: Term, r: Rounding) -> u64 {
    let (big, small) = if x.exp + bit_len(x.mant) >= y.exp + bit_len(y.mant) {
        (x, y)
    } else {
        (y, x)
    };
    // The larger-magnitude term's top bit goes to bit 125; the other is aligned to it,
    // its bits below bit 0 folded into a sticky bit (far below any rounding position).
    let shift = 126 - bit_len(big.mant);
    let bm = big.mant << shift;
    let e = big.exp - shift;
    let d = e - small.exp;
    let sm = if d <= 0 {
        small.mant << (-d)
    } else if d >= 128 {
        1
    } else {
        (small.mant >> d) | (small.mant & ((1u128 << d) - 1) != 0) as u128
    };
    if big.neg == small.neg {
        round_pack(f, big.neg, bm + sm, e, r)
    } else if bm > sm {
        round_pack(f, big.neg, bm - sm, e, r)
    } else if sm > bm {
        round_pack(f, small.neg, sm - bm, e, r)
    } else {
        // An exact zero sum of opposite signs is +0, except -0 when rounding down.
        f.zero(r == Rounding::Down)
    }
}

/// IEEE addition in format `f` with rounding `r` (`add.rX`): exact sum rounded once;
/// `x + (-x)` is +0 except -0 under `.rm`; NaN results are canonical.
pub fn float_add(f: FloatFormat, a: u64, b: u64, r: Rounding) -> u64 {
    let (x, y) = (unpack(f, a), unpack(f, b));
    match (x.class, y.class) {
        (Class::Nan, _) | (_, Class::Nan) => f.canonical_nan(),
        (Class::Inf, Class::Inf) if x.neg != y.neg => f.canonical_nan(),
        (Class::Inf, _) => f.inf(x.neg),
        (_, Class::Inf) => f.inf(y.neg),
        (Class::Zero, Class::Zero) => f.zero(if x.neg == y.neg {
            x.neg
        } else {
            r == Rounding::Down
        }),
        (Class::Zero, _) => b & f.mask(),
        (_, Class::Zero) => a & f.mask(),
        _ => add_terms(f, x.term(), y.term(), r),
    }
}

/// IEEE subtraction `a - b` in format `f` with rounding `r` (`sub.rX`).
pub fn float_sub(f: FloatFormat, a: u64, b: u64, r: Rounding) -> u64 {
    float_add(f, a, b ^ f.sign_bit(), r)
}

/// IEEE multiplication in format `f` with rounding `r` (`mul.rX`): the exact product
/// rounded once; `inf * 0` is NaN.
pub fn float_mul(f: FloatFormat, a: u64, b: u64, r: Rounding) -> u64 {
    let (x, y) = (unpack(f, a), unpack(f, b));
    let neg = x.neg != y.neg;
    match (x.class, y.class) {
        (Class::Nan, _) | (_, Class::Nan) => f.canonical_nan(),
        (Class::Inf, Class::Zero) | (Class::Zero, Class::Inf) => f.canonical_nan(),
        (Class::Inf, _) | (_, Class::Inf) => f.inf(neg),
        (Class::Zero, _) | (_, Class::Zero) => f.zero(neg),
        _ => round_pack(f, neg, x.mant as u128 * y.mant as u128, x.exp + y.exp, r),
    }
}

/// IEEE division `a / b` in format `f` with rounding `r` (`div.rX`): correctly rounded
/// quotient; `x / 0` is a signed infinity, `0/0` and `inf/inf` are NaN.
pub fn float_div(f: FloatFormat, a: u64, b: u64, r: Rounding) -> u64 {
    let (x, y) = (unpack(f, a), unpack(f, b));
    let neg = x.neg != y.neg;
    match (x.class, y.class) {
        (Class::Nan, _) | (_, Class::Nan) => f.canonical_nan(),
        (Class::Inf, Class::Inf) | (Class::Zero, Class::Zero) => f.canonical_nan(),
        (Class::Inf, _) | (_, Class::Zero) => f.inf(neg),
        (_, Class::Inf) | (Class::Zero, _) => f.zero(neg),
        _ => {
            // Numerator's top bit at bit 126: the quotient keeps at least 73 bits, and a
            // nonzero remainder becomes a sticky bit.
            let shift = 127 - bit_len(x.mant as u128);
            let n = (x.mant as u128) << shift;
            let d = y.mant as u128;
            let q = (n / d) | !n.is_multiple_of(d) as u128;
            round_pack(f, neg, q, x.exp - shift - y.exp, r)
        }
    }
}

/// Integer square root: the largest `s` with `s * s <= n` (`n < 2^127`).
fn isqrt(n: u128) -> u128 {
    if n == 0 {
        return 0;
    }
    let mut s = ((n as f64).sqrt() as u128).max(1);
    s = (s + n / s) / 2;
    while s * s > n {
        s -= 1;
    }
    while (s + 1) * (s + 1) <= n {
        s += 1;
    }
    s
}

/// IEEE square root in format `f` with rounding `r` (`sqrt.rX`): correctly rounded;
/// `sqrt(-0) = -0`, a negative operand gives NaN.
pub fn float_sqrt(f: FloatFormat, a: u64, r: Rounding) -> u64 {
    let x = unpack(f, a);
    match x.class {
        Class::Nan => f.canonical_nan(),
        Class::Zero => f.zero(x.neg),
        _ if x.neg => f.canonical_nan(),
        Class::Inf => f.inf(false),
        Class::Finite => {
            // Radicand below 2^126 with an even exponent: the root keeps at least 62 bits.
            let mut shift = 126 - bit_len(x.mant as u128);
            if (x.exp - shift) % 2 != 0 {
                shift -= 1;
            }
            let n = (x.mant as u128) << shift;
            let s = isqrt(n);
            let s = s | (s * s != n) as u128;
            round_pack(f, false, s, (x.exp - shift) / 2, r)
        }
    }
}

/// IEEE fused multiply-add `a * b + c` in format `f` with rounding `r` (`fma.rX`): the
/// exact value rounded once; `inf * 0` and `inf - inf` are NaN.
pub fn float_fma(f: FloatFormat, a: u64, b: u64, c: u64, r: Rounding) -> u64 {
    let (x, y, z) = (unpack(f, a), unpack(f, b), unpack(f, c));
    if x.class == Class::Nan || y.class == Class::Nan || z.class == Class::Nan {
        return f.canonical_nan();
    }
    let pneg = x.neg != y.neg;
    let p_inf = x.class == Class::Inf || y.class == Class::Inf;
    let p_zero = x.class == Class::Zero || y.class == Class::Zero;
    if p_inf {
        if p_zero || (z.class == Class::Inf && z.neg != pneg) {
            return f.canonical_nan();
        }
        return f.inf(pneg);
    }
    if z.class == Class::Inf {
        return f.inf(z.neg);
    }
    if p_zero {
        if z.class == Class::Zero {
            return f.zero(if pneg == z.neg {
                pneg
            } else {
                r == Rounding::Down
            });
        }
        return c & f.mask();
    }
    let p = Term {
        neg: pneg,
        mant: x.mant as u128 * y.mant as u128,
        exp: x.exp + y.exp,
    };
    if z.class == Class::Zero {
        return round_pack(f, p.neg, p.mant, p.exp, r);
    }
    add_terms(f, p, z.term(), r)
}

/// Rounds to an integral value in the same format (`cvt.rXi.fT.fT`): `.rni` ties to even,
/// `.rzi` truncates, `.rmi` floors, `.rpi` ceils; zero, infinities and the sign of a zero
/// result are kept; NaN is canonical.
pub fn float_round_int(f: FloatFormat, a: u64, r: Rounding) -> u64 {
    let x = unpack(f, a);
    match x.class {
        Class::Nan => f.canonical_nan(),
        Class::Inf | Class::Zero => a & f.mask(),
        Class::Finite if x.exp >= 0 => a & f.mask(),
        Class::Finite => {
            let q = round_shift(x.mant as u128, x.exp.unsigned_abs(), x.neg, r);
            round_pack(f, x.neg, q, 0, Rounding::Zero)
        }
    }
}

/// Converts between float formats with rounding `r` (exact when widening); NaN becomes
/// the destination's canonical NaN.
pub fn float_convert(from: FloatFormat, to: FloatFormat, bits: u64, r: Rounding) -> u64 {
    let x = unpack(from, bits);
    match x.class {
        Class::Nan => to.canonical_nan(),
        Class::Inf => to.inf(x.neg),
        Class::Zero => to.zero(x.neg),
        Class::Finite => round_pack(to, x.neg, x.mant as u128, x.exp, r),
    }
}

// ---------------------------------------------------------------------------------------
// f32 / f64 arithmetic
// ---------------------------------------------------------------------------------------

/// The canonical `.f32` NaN, bits `0x7FFFFFFF`.
pub fn canonical_nan_f32() -> f32 {
    f32::from_bits(0x7FFF_FFFF)
}

/// The canonical `.f64` NaN, bits `0x7FFFFFFFFFFFFFFF`.
pub fn canonical_nan_f64() -> f64 {
    f64::from_bits(0x7FFF_FFFF_FFFF_FFFF)
}

// NaN checks work on the bits: a float-domain `if x.is_nan() { NAN } else { x }` may be
// folded to `x` by the optimizer, losing the canonical payload.
fn canon32(x: f32) -> f32 {
    let bits = x.to_bits();
    f32::from_bits(if bits & 0x7FFF_FFFF > 0x7F80_0000 {
        0x7FFF_FFFF
    } else {
        bits
    })
}

#[cfg(test)]
fn canon64(x: f64) -> f64 {
    let bits = x.to_bits();
    let nan = 0x7FFF_FFFF_FFFF_FFFF;
    f64::from_bits(if bits & nan > 0x7FF0_0000_0000_0000 {
        nan
    } else {
        bits
    })
}

fn soft32(op: impl Fn(FloatFormat, u64, u64) -> u64, a: f32, b: f32) -> f32 {
    f32::from_bits(op(FloatFormat::F32, a.to_bits() as u64, b.to_bits() as u64) as u32)
}

fn soft64(op: impl Fn(FloatFormat, u64, u64) -> u64, a: f64, b: f64) -> f64 {
    payload64(
        f64::from_bits(op(FloatFormat::F64, a.to_bits(), b.to_bits())),
        &[a, b],
    )
}

/// A NaN result of `.f64` arithmetic: "NaN payloads are supported for double-precision
/// instructions", so the first NaN operand comes back (quieted); a NaN made from numbers
/// (0 * inf, inf - inf, sqrt(-1)) is the canonical one.
fn payload64(r: f64, inputs: &[f64]) -> f64 {
    let bits = r.to_bits();
    if bits & 0x7FFF_FFFF_FFFF_FFFF <= 0x7FF0_0000_0000_0000 {
        return r;
    }
    match inputs.iter().find(|x| x.is_nan()) {
        Some(x) => f64::from_bits(x.to_bits() | 0x0008_0000_0000_0000),
        None => canonical_nan_f64(),
    }
}

/// `add.rX.f32`: `a + b` correctly rounded in direction `r`.
pub fn add_f32(a: f32, b: f32, r: Rounding) -> f32 {
    match r {
        Rounding::Nearest => canon32(a + b),
        _ => soft32(|f, x, y| float_add(f, x, y, r), a, b),
    }
}

/// `sub.rX.f32`: `a - b` correctly rounded in direction `r`.
pub fn sub_f32(a: f32, b: f32, r: Rounding) -> f32 {
    match r {
        Rounding::Nearest => canon32(a - b),
        _ => soft32(|f, x, y| float_sub(f, x, y, r), a, b),
    }
}

/// `mul.rX.f32`: `a * b` correctly rounded in direction `r`.
pub fn mul_f32(a: f32, b: f32, r: Rounding) -> f32 {
    match r {
        Rounding::Nearest => canon32(a * b),
        _ => soft32(|f, x, y| float_mul(f, x, y, r), a, b),
    }
}

/// `div.rX.f32` (IEEE-compliant division): `a / b` correctly rounded in direction `r`.
pub fn div_f32(a: f32, b: f32, r: Rounding) -> f32 {
    match r {
        Rounding::Nearest => canon32(a / b),
        _ => soft32(|f, x, y| float_div(f, x, y, r), a, b),
    }
}

/// `fma.rX.f32`: `a * b + c` with a single rounding in direction `r`.
pub fn fma_f32(a: f32, b: f32, c: f32, r: Rounding) -> f32 {
    match r {
        Rounding::Nearest => canon32(a.mul_add(b, c)),
        _ => f32::from_bits(float_fma(
            FloatFormat::F32,
            a.to_bits() as u64,
            b.to_bits() as u64,
            c.to_bits() as u64,
            r,
        ) as u32),
    }
}

/// `sqrt.rX.f32`: the square root correctly rounded in direction `r`.
pub fn sqrt_f32(a: f32, r: Rounding) -> f32 {
    match r {
        Rounding::Nearest => canon32(a.sqrt()),
        _ => f32::from_bits(float_sqrt(FloatFormat::F32, a.to_bits() as u64, r) as u32),
    }
}

/// `rcp.rX.f32`: `1 / a` correctly rounded in direction `r`.
pub fn rcp_f32(a: f32, r: Rounding) -> f32 {
    div_f32(1.0, a, r)
}

/// `add.rX.f64`: `a + b` correctly rounded in direction `r`.
pub fn add_f64(a: f64, b: f64, r: Rounding) -> f64 {
    match r {
        Rounding::Nearest => payload64(a + b, &[a, b]),
        _ => soft64(|f, x, y| float_add(f, x, y, r), a, b),
    }
}

/// `sub.rX.f64`: `a - b` correctly rounded in direction `r`.
pub fn sub_f64(a: f64, b: f64, r: Rounding) -> f64 {
    match r {
        Rounding::Nearest => payload64(a - b, &[a, b]),
        _ => soft64(|f, x, y| float_sub(f, x, y, r), a, b),
    }
}

/// `mul.rX.f64`: `a * b` correctly rounded in direction `r`.
pub fn mul_f64(a: f64, b: f64, r: Rounding) -> f64 {
    match r {
        Rounding::Nearest => payload64(a * b, &[a, b]),
        _ => soft64(|f, x, y| float_mul(f, x, y, r), a, b),
    }
}

/// `div.rX.f64`: `a / b` correctly rounded in direction `r`.
pub fn div_f64(a: f64, b: f64, r: Rounding) -> f64 {
    match r {
        Rounding::Nearest => payload64(a / b, &[a, b]),
        _ => soft64(|f, x, y| float_div(f, x, y, r), a, b),
    }
}

/// `fma.rX.f64`: `a * b + c` with a single rounding in direction `r`.
pub fn fma_f64(a: f64, b: f64, c: f64, r: Rounding) -> f64 {
    match r {
        Rounding::Nearest => payload64(a.mul_add(b, c), &[a, b, c]),
        _ => payload64(
            f64::from_bits(float_fma(
                FloatFormat::F64,
                a.to_bits(),
                b.to_bits(),
                c.to_bits(),
                r,
            )),
            &[a, b, c],
        ),
    }
}

/// `sqrt.rX.f64`: the square root correctly rounded in direction `r`.
pub fn sqrt_f64(a: f64, r: Rounding) -> f64 {
    match r {
        Rounding::Nearest => payload64(a.sqrt(), &[a]),
        _ => payload64(
            f64::from_bits(float_sqrt(FloatFormat::F64, a.to_bits(), r)),
            &[a],
        ),
    }
}

/// `rcp.rX.f64`: `1 / a` correctly rounded in direction `r`.
pub fn rcp_f64(a: f64, r: Rounding) -> f64 {
    div_f64(1.0, a, r)
}

/// `.sat` on an `.f32` result: clamps to [+0.0, 1.0]; NaN and -0.0 give +0.0.
pub fn sat_f32(x: f32) -> f32 {
    if x.is_nan() || x <= 0.0 {
        0.0
    } else if x > 1.0 {
        1.0
    } else {
        x
    }
}

/// `.ftz` on an `.f32` input or result: a subnormal becomes a zero of the same sign.
pub fn ftz_f32(x: f32) -> f32 {
    f32::from_bits(FloatFormat::F32.flush(x.to_bits() as u64) as u32)
}

/// `min.f32`: the smaller operand, -0.0 below +0.0; one NaN gives the other operand,
/// two NaNs give the canonical NaN.
pub fn min_f32(a: f32, b: f32) -> f32 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => canonical_nan_f32(),
        (true, false) => b,
        (false, true) => a,
        _ if a < b || (a == b && a.is_sign_negative()) => a,
        _ => b,
    }
}

/// `max.f32`: the larger operand, +0.0 above -0.0; one NaN gives the other operand,
/// two NaNs give the canonical NaN.
pub fn max_f32(a: f32, b: f32) -> f32 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => canonical_nan_f32(),
        (true, false) => b,
        (false, true) => a,
        _ if a > b || (a == b && a.is_sign_positive()) => a,
        _ => b,
    }
}

/// `min.f64`: as [`min_f32`], with the `.f64` canonical NaN.
pub fn min_f64(a: f64, b: f64) -> f64 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => canonical_nan_f64(),
        (true, false) => b,
        (false, true) => a,
        _ if a < b || (a == b && a.is_sign_negative()) => a,
        _ => b,
    }
}

/// `max.f64`: as [`max_f32`], with the `.f64` canonical NaN.
pub fn max_f64(a: f64, b: f64) -> f64 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => canonical_nan_f64(),
        (true, false) => b,
        (false, true) => a,
        _ if a > b || (a == b && a.is_sign_positive()) => a,
        _ => b,
    }
}

/// `copysign.f32 d, a, b`: `|b|` with the sign of `a` (note: the operand order is the
/// reverse of C's `copysignf`). Pure bit operation, NaNs included.
pub fn copysign_f32(a: f32, b: f32) -> f32 {
    f32::from_bits((b.to_bits() & 0x7FFF_FFFF) | (a.to_bits() & 0x8000_0000))
}

/// `copysign.f64 d, a, b`: `|b|` with the sign of `a`.
pub fn copysign_f64(a: f64, b: f64) -> f64 {
    let sign = 1u64 << 63;
    f64::from_bits((b.to_bits() & !sign) | (a.to_bits() & sign))
}

fn setp_float(cmp: Cmp, a: f64, b: f64) -> bool {
    let unordered = a.is_nan() || b.is_nan();
    match cmp {
        Cmp::Eq => a == b,
        Cmp::Ne => !unordered && a != b,
        Cmp::Lt | Cmp::Lo => a < b,
        Cmp::Le | Cmp::Ls => a <= b,
        Cmp::Gt | Cmp::Hi => a > b,
        Cmp::Ge | Cmp::Hs => a >= b,
        Cmp::Equ => unordered || a == b,
        Cmp::Neu => unordered || a != b,
        Cmp::Ltu => unordered || a < b,
        Cmp::Leu => unordered || a <= b,
        Cmp::Gtu => unordered || a > b,
        Cmp::Geu => unordered || a >= b,
        Cmp::Num => !unordered,
        Cmp::Nan => unordered,
    }
}

/// `setp.cmp.f32`: ordered comparisons (`eq ne lt le gt ge`) are false when either
/// operand is NaN, the `u` forms are true then, `num`/`nan` test for NaNs; -0.0 == +0.0.
/// The integer-only `lo ls hi hs` (rejected by the ISA on floats) act as `lt le gt ge`.
pub fn setp_f32(cmp: Cmp, a: f32, b: f32) -> bool {
    setp_float(cmp, a as f64, b as f64)
}

/// `setp.cmp.f64`: as [`setp_f32`].
pub fn setp_f64(cmp: Cmp, a: f64, b: f64) -> bool {
    setp_float(cmp, a, b)
}

// ---------------------------------------------------------------------------------------
// Integer arithmetic
// ---------------------------------------------------------------------------------------

fn low_mask(w: u32) -> u64 {
    if w >= 64 { u64::MAX } else { (1u64 << w) - 1 }
}

/// The arithmetic width of a type in bits (`.b128` is not arithmetic here: 64).
fn width(ty: ScalarType) -> u32 {
    (ty.size() as u32 * 8).min(64)
}

/// The low `w` bits of `a`, sign-extended.
fn sext(a: u64, w: u32) -> i64 {
    ((a << (64 - w)) as i64) >> (64 - w)
}

/// The value of `a` at `ty`'s width, sign- or zero-extended per `ty`.
fn int_value(a: u64, ty: ScalarType) -> i128 {
    let w = width(ty);
    if ty.is_signed() {
        sext(a, w) as i128
    } else {
        (a & low_mask(w)) as i128
    }
}

/// The representable range of an integer type.
fn int_range(ty: ScalarType) -> (i128, i128) {
    let w = width(ty);
    if ty.is_signed() {
        (-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1)
    } else {
        (0, (1i128 << w) - 1)
    }
}

/// `add.type`: wrapping sum at the type's width.
pub fn add_int(a: u64, b: u64, ty: ScalarType) -> u64 {
    a.wrapping_add(b) & low_mask(width(ty))
}

/// `sub.type`: wrapping difference at the type's width.
pub fn sub_int(a: u64, b: u64, ty: ScalarType) -> u64 {
    a.wrapping_sub(b) & low_mask(width(ty))
}

/// `add.sat.s32`: the sum clamped to the type's range (MININT..MAXINT; defined for every
/// integer type, unsigned ones clamping to 0..MAX).
pub fn add_sat_int(a: u64, b: u64, ty: ScalarType) -> u64 {
    let (lo, hi) = int_range(ty);
    let v = (int_value(a, ty) + int_value(b, ty)).clamp(lo, hi);
    v as u64 & low_mask(width(ty))
}

/// `sub.sat.s32`: the difference clamped to the type's range.
pub fn sub_sat_int(a: u64, b: u64, ty: ScalarType) -> u64 {
    let (lo, hi) = int_range(ty);
    let v = (int_value(a, ty) - int_value(b, ty)).clamp(lo, hi);
    v as u64 & low_mask(width(ty))
}

/// `mul.lo.type`: the low half of the product (wrapping).
pub fn mul_lo(a: u64, b: u64, ty: ScalarType) -> u64 {
    a.wrapping_mul(b) & low_mask(width(ty))
}

/// `mul.hi.type`: the high half of the full 2N-bit product, signed or unsigned per the
/// type.
pub fn mul_hi(a: u64, b: u64, ty: ScalarType) -> u64 {
    let w = width(ty);
    let p = int_value(a, ty).wrapping_mul(int_value(b, ty));
    (p >> w) as u64 & low_mask(w)
}

/// `mul.wide.type`: the full 2N-bit product of N-bit operands (16->32, 32->64), signed or
/// unsigned per the type. For a 64-bit type (not allowed by the ISA) the low 64 bits.
pub fn mul_wide(a: u64, b: u64, ty: ScalarType) -> u64 {
    let p = int_value(a, ty).wrapping_mul(int_value(b, ty));
    p as u64 & low_mask(2 * width(ty))
}

/// `div.type`: quotient truncated toward zero. The ISA leaves division by zero and signed
/// MIN / -1 unspecified; this returns what the hardware gives: all ones for `x / 0`
/// (unsigned MAX, signed -1) and MIN for MIN / -1.
pub fn div_int(a: u64, b: u64, ty: ScalarType) -> u64 {
    let w = width(ty);
    let m = low_mask(w);
    if b & m == 0 {
        return m;
    }
    if ty.is_signed() {
        let (x, y) = (sext(a, w), sext(b, w));
        x.wrapping_div(y) as u64 & m
    } else {
        ((a & m) / (b & m)) & m
    }
}

/// `rem.type`: remainder with the dividend's sign. The ISA leaves `x % 0` and signed
/// MIN % -1 unspecified; this returns the hardware's results: `a` and 0.
pub fn rem_int(a: u64, b: u64, ty: ScalarType) -> u64 {
    let w = width(ty);
    let m = low_mask(w);
    if b & m == 0 {
        return a & m;
    }
    if ty.is_signed() {
        let (x, y) = (sext(a, w), sext(b, w));
        x.wrapping_rem(y) as u64 & m
    } else {
        ((a & m) % (b & m)) & m
    }
}

/// `min.type`: the smaller value, compared signed or unsigned per the type.
pub fn min_int(a: u64, b: u64, ty: ScalarType) -> u64 {
    let v = int_value(a, ty).min(int_value(b, ty));
    v as u64 & low_mask(width(ty))
}

/// `max.type`: the larger value, compared signed or unsigned per the type.
pub fn max_int(a: u64, b: u64, ty: ScalarType) -> u64 {
    let v = int_value(a, ty).max(int_value(b, ty));
    v as u64 & low_mask(width(ty))
}

/// `abs.type`: absolute value of a signed integer, wrapping (`abs(MIN) = MIN`); an
/// unsigned type's value is returned unchanged.
pub fn abs_int(a: u64, ty: ScalarType) -> u64 {
    int_value(a, ty).unsigned_abs() as u64 & low_mask(width(ty))
}

/// `neg.type`: two's-complement negation, wrapping (`neg(MIN) = MIN`).
pub fn neg_int(a: u64, ty: ScalarType) -> u64 {
    a.wrapping_neg() & low_mask(width(ty))
}

/// `shl.type`: left shift; amounts of the width or more give 0 (the ISA clamps the
/// amount to the width).
pub fn shl(a: u64, amount: u32, ty: ScalarType) -> u64 {
    let w = width(ty);
    if amount >= w {
        0
    } else {
        (a << amount) & low_mask(w)
    }
}

/// `shr.type`: right shift, arithmetic for signed types (amounts of the width or more
/// fill with the sign) and logical for `.uN`/`.bN` (amounts of the width or more give 0).
pub fn shr(a: u64, amount: u32, ty: ScalarType) -> u64 {
    let w = width(ty);
    if ty.is_signed() {
        (sext(a, w) >> amount.min(63)) as u64 & low_mask(w)
    } else if amount >= w {
        0
    } else {
        (a & low_mask(w)) >> amount
    }
}

/// `shf.l.mode.b32`: funnel shift left of `{b, a}` by `c` (`.clamp`: min(c, 32); `.wrap`:
/// c & 31), giving the high word.
pub fn shf_l(a: u32, b: u32, c: u32, clamp: bool) -> u32 {
    let n = if clamp { c.min(32) } else { c & 31 };
    let v = ((b as u64) << 32) | a as u64;
    ((v << n) >> 32) as u32
}

/// `shf.r.mode.b32`: funnel shift right of `{b, a}` by `c` (`.clamp`: min(c, 32); `.wrap`:
/// c & 31), giving the low word.
pub fn shf_r(a: u32, b: u32, c: u32, clamp: bool) -> u32 {
    let n = if clamp { c.min(32) } else { c & 31 };
    let v = ((b as u64) << 32) | a as u64;
    (v >> n) as u32
}

/// `bfe.type d, a, pos, len`: extracts `len` bits of `a` from bit `pos` (each operand
/// uses its low 8 bits). Bits past the field or the type's msb are zero for `.uN`, and
/// for `.sN` copies of `a[min(pos + len - 1, msb)]` (zero when `len` is 0).
pub fn bfe(a: u64, pos: u32, len: u32, ty: ScalarType) -> u64 {
    let w = width(ty);
    let m = low_mask(w);
    let (pos, len) = (pos & 0xff, len & 0xff);
    let sbit = ty.is_signed() && len != 0 && (a >> (pos + len - 1).min(w - 1)) & 1 != 0;
    let n = if pos >= w { 0 } else { len.min(w - pos) };
    let field = if n == 0 {
        0
    } else {
        ((a & m) >> pos) & low_mask(n)
    };
    if sbit {
        field | (m & !low_mask(n))
    } else {
        field
    }
}

/// `bfi.type f, a, b, pos, len`: `b` with bits `pos .. pos + len` replaced by the low bits
/// of `a` (each of pos/len uses its low 8 bits; the field stops at the msb).
pub fn bfi(a: u64, b: u64, pos: u32, len: u32, ty: ScalarType) -> u64 {
    let w = width(ty);
    let m = low_mask(w);
    let (pos, len) = (pos & 0xff, len & 0xff);
    if pos >= w || len == 0 {
        return b & m;
    }
    let field = low_mask(len.min(w - pos)) << pos;
    ((b & !field) | ((a << pos) & field)) & m
}

/// `popc.type`: the number of set bits.
pub fn popc(a: u64, ty: ScalarType) -> u32 {
    (a & low_mask(width(ty))).count_ones()
}

/// `clz.type`: the number of leading zeros at the type's width (the width for 0).
pub fn clz(a: u64, ty: ScalarType) -> u32 {
    let w = width(ty);
    (a & low_mask(w)).leading_zeros() - (64 - w)
}

/// `brev.type`: the bits reversed at the type's width.
pub fn brev(a: u64, ty: ScalarType) -> u64 {
    let w = width(ty);
    (a & low_mask(w)).reverse_bits() >> (64 - w)
}

/// `bfind{.shiftamt}.type`: the bit position of the most significant non-sign bit (for a
/// negative signed value, of the most significant 0), or with `.shiftamt` the left shift
/// that moves it to the msb; 0xFFFFFFFF when there is none.
pub fn bfind(a: u64, ty: ScalarType, shiftamt: bool) -> u32 {
    let w = width(ty);
    let m = low_mask(w);
    let mut x = a & m;
    if ty.is_signed() && (x >> (w - 1)) & 1 != 0 {
        x = !x & m;
    }
    if x == 0 {
        return u32::MAX;
    }
    let d = 63 - x.leading_zeros();
    if shiftamt { w - 1 - d } else { d }
}

/// `prmt.b32{.mode} d, a, b, c`: picks bytes of `{b, a}` (bytes 0-3 from `a`, 4-7 from
/// `b`). Default mode: nibble `i` of `c` selects result byte `i` by its low 3 bits and,
/// when its msb is set, replicates the selected byte's sign bit over the byte. The other
/// modes use `c & 3` with the ISA's fixed tables (f4e, b4e, rc8, ecl, ecr, rc16).
pub fn prmt(a: u32, b: u32, c: u32, mode: PrmtMode) -> u32 {
    let src = ((b as u64) << 32) | a as u64;
    let byte = |i: u32| ((src >> (8 * (i & 7))) & 0xff) as u32;
    let s = c & 3;
    let mut d = 0;
    for i in 0..4u32 {
        let v = match mode {
            PrmtMode::Default => {
                let n = (c >> (4 * i)) & 0xf;
                let v = byte(n & 7);
                if n & 8 == 0 {
                    v
                } else if v & 0x80 != 0 {
                    0xff
                } else {
                    0
                }
            }
            PrmtMode::F4e => byte(s + i),
            PrmtMode::B4e => byte(s.wrapping_sub(i)),
            PrmtMode::Rc8 => byte(s),
            PrmtMode::Ecl => byte(s.max(i)),
            PrmtMode::Ecr => byte(s.min(i)),
            PrmtMode::Rc16 => byte(((s & 1) << 1) | (i & 1)),
        };
        d |= v << (8 * i);
    }
    d
}

fn ext8(x: u32, i: u32, signed: bool) -> i64 {
    let v = (x >> (8 * i)) & 0xff;
    if signed {
        v as u8 as i8 as i64
    } else {
        v as i64
    }
}

/// `dp2a.mode.atype.btype d, a, b, c`: `c + a.h0 * b.byte(i) + a.h1 * b.byte(i + 1)` with
/// i = 0 for `.lo` and 2 for `.hi`; halves of `a` and bytes of `b` are sign- or
/// zero-extended per their types; the sum wraps at 32 bits.
pub fn dp2a(a: u32, b: u32, c: u32, hi: bool, a_signed: bool, b_signed: bool) -> u32 {
    let half = |i: u32| {
        let v = (a >> (16 * i)) & 0xffff;
        if a_signed {
            v as u16 as i16 as i64
        } else {
            v as i64
        }
    };
    let base = if hi { 2 } else { 0 };
    let sum = half(0) * ext8(b, base, b_signed) + half(1) * ext8(b, base + 1, b_signed);
    c.wrapping_add(sum as u32)
}

/// `dp4a.atype.btype d, a, b, c`: `c` plus the four byte products of `a` and `b` (bytes
/// sign- or zero-extended per their types); the sum wraps at 32 bits.
pub fn dp4a(a: u32, b: u32, c: u32, a_signed: bool, b_signed: bool) -> u32 {
    let sum: i64 = (0..4)
        .map(|i| ext8(a, i, a_signed) * ext8(b, i, b_signed))
        .sum();
    c.wrapping_add(sum as u32)
}

/// `setp.cmp.type` on integers: `eq ne lt le gt ge` compare at the type's width with its
/// signedness, `lo ls hi hs` compare unsigned; None for the float-only operators.
pub fn setp_int(cmp: Cmp, a: u64, b: u64, ty: ScalarType) -> Option<bool> {
    let m = low_mask(width(ty));
    let ord = int_value(a, ty).cmp(&int_value(b, ty));
    let uord = (a & m).cmp(&(b & m));
    Some(match cmp {
        Cmp::Eq => uord.is_eq(),
        Cmp::Ne => uord.is_ne(),
        Cmp::Lt => ord.is_lt(),
        Cmp::Le => ord.is_le(),
        Cmp::Gt => ord.is_gt(),
        Cmp::Ge => ord.is_ge(),
        Cmp::Lo => uord.is_lt(),
        Cmp::Ls => uord.is_le(),
        Cmp::Hi => uord.is_gt(),
        Cmp::Hs => uord.is_ge(),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------

/// `cvt.rX.f16.f32`: rounds an `.f32` to `.f16` bits (gradual underflow, overflow per
/// direction, NaN -> 0x7FFF).
pub fn f32_to_f16(x: f32, r: Rounding) -> u16 {
    float_convert(FloatFormat::F32, FloatFormat::F16, x.to_bits() as u64, r) as u16
}

/// `cvt.f32.f16`: exact widening of `.f16` bits (NaN -> canonical NaN).
pub fn f16_to_f32(h: u16) -> f32 {
    f32::from_bits(float_convert(
        FloatFormat::F16,
        FloatFormat::F32,
        h as u64,
        Rounding::Nearest,
    ) as u32)
}

/// `cvt.rX.bf16.f32`: rounds an `.f32` to `.bf16` bits (NaN -> 0x7FFF).
pub fn f32_to_bf16(x: f32, r: Rounding) -> u16 {
    float_convert(FloatFormat::F32, FloatFormat::Bf16, x.to_bits() as u64, r) as u16
}

/// `cvt.f32.bf16`: exact widening of `.bf16` bits (NaN -> canonical NaN).
pub fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits(float_convert(
        FloatFormat::Bf16,
        FloatFormat::F32,
        h as u64,
        Rounding::Nearest,
    ) as u32)
}

/// `cvt.rX.f16.f64`: rounds an `.f64` to `.f16` bits in one step (no double rounding).
pub fn f64_to_f16(x: f64, r: Rounding) -> u16 {
    float_convert(FloatFormat::F64, FloatFormat::F16, x.to_bits(), r) as u16
}

/// `cvt.f64.f16`: exact widening of `.f16` bits.
pub fn f16_to_f64(h: u16) -> f64 {
    f64::from_bits(float_convert(
        FloatFormat::F16,
        FloatFormat::F64,
        h as u64,
        Rounding::Nearest,
    ))
}

/// `cvt.rX.bf16.f64`: rounds an `.f64` to `.bf16` bits in one step.
pub fn f64_to_bf16(x: f64, r: Rounding) -> u16 {
    float_convert(FloatFormat::F64, FloatFormat::Bf16, x.to_bits(), r) as u16
}

/// `cvt.f64.bf16`: exact widening of `.bf16` bits.
pub fn bf16_to_f64(h: u16) -> f64 {
    f64::from_bits(float_convert(
        FloatFormat::Bf16,
        FloatFormat::F64,
        h as u64,
        Rounding::Nearest,
    ))
}

/// `cvt.rX.f32.f64`: rounds an `.f64` to `.f32` in direction `r`.
pub fn f64_to_f32(x: f64, r: Rounding) -> f32 {
    f32::from_bits(float_convert(FloatFormat::F64, FloatFormat::F32, x.to_bits(), r) as u32)
}

/// Float to integer with integer rounding `r`, saturating to the destination range. NaN
/// gives 0, except `1 << (N - 1)` when the source is `.f64` or the destination is 64-bit
/// (the ISA's rule).
fn float_to_int(from: FloatFormat, bits: u64, r: Rounding, dst: ScalarType) -> u64 {
    let w = width(dst);
    let (lo, hi) = int_range(dst);
    let x = unpack(from, bits);
    let v: i128 = match x.class {
        Class::Nan => {
            return if from == FloatFormat::F64 || w == 64 {
                1 << (w - 1)
            } else {
                0
            };
        }
        Class::Inf => {
            if x.neg {
                lo
            } else {
                hi
            }
        }
        Class::Zero => 0,
        Class::Finite => {
            let mag = if x.exp > 64 {
                1u128 << 100
            } else if x.exp >= 0 {
                (x.mant as u128) << x.exp
            } else {
                round_shift(x.mant as u128, x.exp.unsigned_abs(), x.neg, r)
            };
            if x.neg { -(mag as i128) } else { mag as i128 }
        }
    };
    v.clamp(lo, hi) as u64 & low_mask(w)
}

/// Whether every value of integer type `src` fits integer type `dst`.
fn int_covers(dst: ScalarType, src: ScalarType) -> bool {
    let (dl, dh) = int_range(dst);
    let (sl, sh) = int_range(src);
    dl <= sl && sh <= dh
}

fn is_cvt_int(ty: ScalarType) -> bool {
    use ScalarType::*;
    matches!(ty, U8 | U16 | U32 | U64 | S8 | S16 | S32 | S64)
}

/// `.ftz` and `.sat` on a float destination.
fn finish_float(f: FloatFormat, bits: u64, mode: CvtMode) -> u64 {
    let bits = if mode.ftz && f == FloatFormat::F32 {
        f.flush(bits)
    } else {
        bits
    };
    if !mode.sat {
        return bits;
    }
    let x = unpack(f, bits);
    match x.class {
        Class::Nan | Class::Zero => 0,
        _ if x.neg => 0,
        _ if (bits >> f.frac_bits()) as i32 >= f.bias() => f.one(),
        _ => bits,
    }
}

/// `cvt{.rnd}{.ftz}{.sat}.dtype.atype`: converts `bits` of type `src` to type `dst`
/// (types `.u8-.u64 .s8-.s64 .f16 .bf16 .f32 .f64`), per the ISA:
///
/// - int -> int: sign- or zero-extend per the source, then truncate, or with `.sat` clamp
///   to the destination range; no rounding allowed, `.sat` only where it can clamp.
/// - float -> int: integer rounding (`.rni .rzi .rmi .rpi`) required; always saturates;
///   NaN gives 0 (or `1 << (N - 1)` from `.f64` or into a 64-bit type).
/// - int -> float: float rounding (`.rn .rz .rm .rp`) required; exact directed rounding
///   from the full 64-bit value.
/// - float -> float: a float rounding is required when the destination has fewer
///   significand or exponent bits and illegal otherwise (widening is exact); to the same
///   type, an optional integer rounding rounds to an integral value.
/// - `.ftz` (only with an `.f32` source or destination) flushes `.f32` subnormal inputs
///   and results to zero; `.sat` on a float destination clamps to [+0.0, 1.0] (NaN -> +0).
///
/// None for a combination the ISA (as ptxas enforces it) rejects, or for types `cvt`
/// does not take here (`.bN`, `.pred`, packed types).
pub fn cvt(dst: ScalarType, src: ScalarType, bits: u64, mode: CvtMode) -> Option<u64> {
    if mode.integer_rounding && mode.rounding.is_none() {
        return None;
    }
    if mode.ftz && dst != ScalarType::F32 && src != ScalarType::F32 {
        return None;
    }
    let irnd = mode.rounding.filter(|_| mode.integer_rounding);
    let frnd = mode.rounding.filter(|_| !mode.integer_rounding);
    let df = FloatFormat::from_type(dst);
    let sf = FloatFormat::from_type(src);
    if (df.is_none() && !is_cvt_int(dst)) || (sf.is_none() && !is_cvt_int(src)) {
        return None;
    }
    match (df, sf) {
        (None, None) => {
            if mode.rounding.is_some() || (mode.sat && int_covers(dst, src)) {
                return None;
            }
            let v = int_value(bits, src);
            let v = if mode.sat {
                let (lo, hi) = int_range(dst);
                v.clamp(lo, hi)
            } else {
                v
            };
            Some(v as u64 & low_mask(width(dst)))
        }
        (None, Some(sf)) => {
            let r = irnd?;
            let bits = if mode.ftz && sf == FloatFormat::F32 {
                sf.flush(bits)
            } else {
                bits
            };
            Some(float_to_int(sf, bits, r, dst))
        }
        (Some(df), None) => {
            let r = frnd?;
            let v = int_value(bits, src);
            let out = round_pack(df, v < 0, v.unsigned_abs(), 0, r);
            Some(finish_float(df, out, mode))
        }
        (Some(df), Some(sf)) => {
            let x = if mode.ftz && sf == FloatFormat::F32 {
                sf.flush(bits)
            } else {
                bits
            };
            let out = if df == sf {
                if frnd.is_some() {
                    return None;
                }
                match irnd {
                    Some(r) => float_round_int(df, x, r),
                    None if unpack(df, x).class == Class::Nan => df.canonical_nan(),
                    None => x & df.mask(),
                }
            } else {
                if irnd.is_some() {
                    return None;
                }
                let lossy = df.frac_bits() < sf.frac_bits() || df.exp_bits() < sf.exp_bits();
                let r = match (lossy, frnd) {
                    (true, Some(r)) => r,
                    (false, None) => Rounding::Nearest,
                    _ => return None,
                };
                float_convert(sf, df, x, r)
            };
            Some(finish_float(df, out, mode))
        }
    }
}

/// `cvt.rX.f16x2.f32 d, a, b` / `cvt.rX.bf16x2.f32`: `a` converted into the upper half
/// and `b` into the lower half of the result (`bf16` selects the `.bf16x2` form).
pub fn cvt_pack_f32(a: f32, b: f32, r: Rounding, bf16: bool) -> u32 {
    let conv = |x: f32| if bf16 { f32_to_bf16(x, r) } else { f32_to_f16(x, r) } as u32;
    (conv(a) << 16) | conv(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ScalarType::*;

    const N: Rounding = Rounding::Nearest;
    const Z: Rounding = Rounding::Zero;
    const DN: Rounding = Rounding::Down;
    const UP: Rounding = Rounding::Up;
    const ALL: [Rounding; 4] = [N, Z, DN, UP];

    fn f32b(x: f32) -> u32 {
        x.to_bits()
    }

    fn p2(e: i32) -> f64 {
        2f64.powi(e)
    }

    /// A tiny xorshift64 generator: deterministic, no crates.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        /// An f32 drawn from raw bits half the time, otherwise with an exponent near
        /// `near` (so sums and quotients exercise cancellation and ties).
        fn f32_near(&mut self, near: Option<f32>) -> f32 {
            let bits = self.next();
            match near {
                Some(n) if bits & 1 == 0 => {
                    let e = ((n.to_bits() >> 23) & 0xff) as i64 + (bits >> 1) as i64 % 5 - 2;
                    let e = e.clamp(0, 254) as u32;
                    let sign = ((bits >> 8) as u32) & 0x8000_0000;
                    let frac = (bits >> 32) as u32 & 0x7F_FFFF;
                    // Sparse mantissas make exact and tie cases common.
                    let frac = if bits & 2 == 0 {
                        frac & 0x7F_0003
                    } else {
                        frac
                    };
                    f32::from_bits(sign | (e << 23) | frac)
                }
                _ => f32::from_bits((bits >> 16) as u32),
            }
        }

        fn f64_moderate(&mut self) -> f64 {
            let bits = self.next();
            let e = 1023 - 100 + (bits >> 52) % 200;
            f64::from_bits((bits & (1 << 63)) | (e << 52) | (self.next() & ((1 << 52) - 1)))
        }
    }

    #[test]
    fn modifiers_parse() {
        assert_eq!(Rounding::from_modifier("rn"), Some((N, false)));
        assert_eq!(Rounding::from_modifier(".rz"), Some((Z, false)));
        assert_eq!(Rounding::from_modifier("rm"), Some((DN, false)));
        assert_eq!(Rounding::from_modifier("rpi"), Some((UP, true)));
        assert_eq!(Rounding::from_modifier("rni"), Some((N, true)));
        assert_eq!(Rounding::from_modifier("rna"), None);
        assert_eq!(Cmp::from_modifier("geu"), Some(Cmp::Geu));
        assert_eq!(Cmp::from_modifier(".lo"), Some(Cmp::Lo));
        assert_eq!(Cmp::from_modifier("nan"), Some(Cmp::Nan));
        assert_eq!(Cmp::from_modifier("lte"), None);
        assert!(Cmp::Num.is_float_only() && !Cmp::Lt.is_float_only());
        assert!(Cmp::Hs.is_int_only() && !Cmp::Eq.is_int_only());
        assert_eq!(PrmtMode::from_modifier("rc16"), Some(PrmtMode::Rc16));
        assert_eq!(PrmtMode::from_modifier(".ecl"), Some(PrmtMode::Ecl));
        assert_eq!(PrmtMode::from_modifier("b32"), None);
        assert_eq!(FloatFormat::from_type(Bf16), Some(FloatFormat::Bf16));
        assert_eq!(FloatFormat::from_type(F16x2), None);
    }

    #[test]
    fn add_f64_directed_tiny_addend() {
        let t = p2(-60);
        assert_eq!(add_f64(1.0, t, N), 1.0);
        assert_eq!(add_f64(1.0, t, Z), 1.0);
        assert_eq!(add_f64(1.0, t, DN), 1.0);
        assert_eq!(add_f64(1.0, t, UP), 1.0 + p2(-52));
        assert_eq!(add_f64(-1.0, -t, Z), -1.0);
        assert_eq!(add_f64(-1.0, -t, UP), -1.0);
        assert_eq!(add_f64(-1.0, -t, DN), -1.0 - p2(-52));
        // Subtracting the tiny value: below 1.0 the spacing is 2^-53.
        assert_eq!(sub_f64(1.0, t, Z), 1.0 - p2(-53));
        assert_eq!(sub_f64(1.0, t, DN), 1.0 - p2(-53));
        assert_eq!(sub_f64(1.0, t, UP), 1.0);
        assert_eq!(sub_f64(1.0, t, N), 1.0);
        // Far apart exponents in f32: 2^100 + 2^-100.
        let big = 2f32.powi(100);
        let tiny = 2f32.powi(-100);
        assert_eq!(add_f32(big, tiny, UP), big.next_up());
        assert_eq!(add_f32(big, tiny, Z), big);
        assert_eq!(add_f32(big, -tiny, Z), big.next_down());
        assert_eq!(sub_f32(big, tiny, UP), big);
    }

    #[test]
    fn signed_zero_sums() {
        for &x in &[1.5f64, -3.0, 1e-310] {
            for r in [N, Z, UP] {
                let s = add_f64(x, -x, r);
                assert!(s == 0.0 && s.is_sign_positive(), "{x} {r:?}");
                assert!(sub_f64(x, x, r).is_sign_positive());
            }
            assert!(add_f64(x, -x, DN).is_sign_negative());
            assert!(sub_f64(x, x, DN).is_sign_negative());
        }
        for r in ALL {
            assert!(add_f32(-0.0, -0.0, r).is_sign_negative());
            assert!(add_f32(0.0, 0.0, r).is_sign_positive());
            assert!(sub_f32(-0.0, 0.0, r).is_sign_negative());
            assert_eq!(add_f32(-0.0, 2.5, r), 2.5);
        }
        assert!(add_f32(0.0, -0.0, N).is_sign_positive());
        assert!(add_f32(0.0, -0.0, UP).is_sign_positive());
        assert!(add_f32(0.0, -0.0, DN).is_sign_negative());
        assert!(add_f32(2.5, -2.5, DN).is_sign_negative());
        assert!(add_f32(2.5, -2.5, Z).is_sign_positive());
    }

    #[test]
    fn mul_f32_directed_where_nearest_rounds_up() {
        // (1 + 3u) * 1.25 = 1.25 + 3.75u with u = 2^-23: nearest rounds up to 1.25 + 4u.
        let u = 2f32.powi(-23);
        let a = 1.0 + 3.0 * u;
        assert_eq!(mul_f32(a, 1.25, N), 1.25 + 4.0 * u);
        assert_eq!(mul_f32(a, 1.25, Z), 1.25 + 3.0 * u);
        assert_eq!(mul_f32(a, 1.25, DN), 1.25 + 3.0 * u);
        assert_eq!(mul_f32(a, 1.25, UP), 1.25 + 4.0 * u);
        assert_eq!(mul_f32(-a, 1.25, N), -(1.25 + 4.0 * u));
        assert_eq!(mul_f32(-a, 1.25, Z), -(1.25 + 3.0 * u));
        assert_eq!(mul_f32(-a, 1.25, DN), -(1.25 + 4.0 * u));
        assert_eq!(mul_f32(a, -1.25, UP), -(1.25 + 3.0 * u));
        // f64: (1 + 2^-52)^2 = 1 + 2^-51 + 2^-104.
        let b = 1.0 + p2(-52);
        assert_eq!(mul_f64(b, b, N), 1.0 + p2(-51));
        assert_eq!(mul_f64(b, b, Z), 1.0 + p2(-51));
        assert_eq!(mul_f64(b, b, UP), 1.0 + 3.0 * p2(-52));
        assert_eq!(mul_f64(-b, b, DN), -(1.0 + 3.0 * p2(-52)));
        assert_eq!(mul_f64(-b, b, UP), -(1.0 + p2(-51)));
    }

    #[test]
    fn overflow_and_underflow_per_direction() {
        let m = f32::MAX;
        assert_eq!(mul_f32(m, 2.0, N), f32::INFINITY);
        assert_eq!(mul_f32(m, 2.0, Z), m);
        assert_eq!(mul_f32(m, 2.0, DN), m);
        assert_eq!(mul_f32(m, 2.0, UP), f32::INFINITY);
        assert_eq!(mul_f32(-m, 2.0, Z), -m);
        assert_eq!(mul_f32(-m, 2.0, UP), -m);
        assert_eq!(mul_f32(-m, 2.0, DN), f32::NEG_INFINITY);
        assert_eq!(add_f64(f64::MAX, f64::MAX, Z), f64::MAX);
        assert_eq!(add_f64(f64::MAX, f64::MAX, UP), f64::INFINITY);
        // MAX plus a sliver: nearest keeps MAX, up overflows.
        assert_eq!(add_f64(f64::MAX, 1.0, UP), f64::INFINITY);
        assert_eq!(add_f64(f64::MAX, 1.0, N), f64::MAX);
        // Half the smallest subnormal: ties to even gives 0.
        let s = f32::from_bits(1);
        assert_eq!(f32b(mul_f32(s, 0.5, N)), 0);
        assert_eq!(f32b(mul_f32(s, 0.5, Z)), 0);
        assert_eq!(f32b(mul_f32(s, 0.5, DN)), 0);
        assert_eq!(f32b(mul_f32(s, 0.5, UP)), 1);
        assert_eq!(f32b(mul_f32(-s, 0.5, DN)), 0x8000_0001);
        assert_eq!(f32b(mul_f32(-s, 0.5, N)), 0x8000_0000);
        assert_eq!(f32b(mul_f32(s, 0.75, N)), 1);
        // 1.5 * smallest subnormal: tie between 1 and 2 ulps -> 2.
        assert_eq!(f32b(mul_f32(f32::from_bits(3), 0.5, N)), 2);
        assert_eq!(f32b(mul_f32(f32::from_bits(3), 0.5, Z)), 1);
        // Far below: 2^-149 * 2^-60 rounds up to the smallest subnormal only with .rp.
        assert_eq!(f32b(mul_f32(s, 2f32.powi(-60), UP)), 1);
        assert_eq!(f32b(mul_f32(s, 2f32.powi(-60), Z)), 0);
        assert_eq!(
            div_f64(f64::MIN_POSITIVE, 3.0, UP).to_bits(),
            0x0005_5555_5555_5556
        );
        assert_eq!(
            div_f64(f64::MIN_POSITIVE, 3.0, Z).to_bits(),
            0x0005_5555_5555_5555
        );
        // Rounding a subnormal up into the smallest normal.
        let below_min = f32::MIN_POSITIVE.next_down();
        assert_eq!(add_f32(below_min, f32::from_bits(1), Z), f32::MIN_POSITIVE);
    }

    #[test]
    fn div_directed_signs() {
        // 1/3 = 0x3EAAAAAA + 2/3 ulp: nearest and up give ...AB, zero and down ...AA.
        assert_eq!(f32b(div_f32(1.0, 3.0, N)), 0x3EAA_AAAB);
        assert_eq!(f32b(div_f32(1.0, 3.0, Z)), 0x3EAA_AAAA);
        assert_eq!(f32b(div_f32(1.0, 3.0, DN)), 0x3EAA_AAAA);
        assert_eq!(f32b(div_f32(1.0, 3.0, UP)), 0x3EAA_AAAB);
        assert_eq!(f32b(div_f32(-1.0, 3.0, N)), 0xBEAA_AAAB);
        assert_eq!(f32b(div_f32(-1.0, 3.0, Z)), 0xBEAA_AAAA);
        assert_eq!(f32b(div_f32(1.0, -3.0, DN)), 0xBEAA_AAAB);
        assert_eq!(f32b(div_f32(1.0, -3.0, UP)), 0xBEAA_AAAA);
        assert_eq!(f32b(div_f32(-1.0, -3.0, DN)), 0x3EAA_AAAA);
        for r in ALL {
            assert_eq!(div_f32(6.0, -3.0, r), -2.0);
            assert_eq!(div_f64(1.0, 0.0, r), f64::INFINITY);
            assert_eq!(div_f64(-1.0, 0.0, r), f64::NEG_INFINITY);
            assert_eq!(div_f64(0.0, 0.0, r).to_bits(), 0x7FFF_FFFF_FFFF_FFFF);
            assert!(div_f32(-0.0, 5.0, r).is_sign_negative());
            assert_eq!(div_f32(3.0, f32::INFINITY, r), 0.0);
        }
        // 2/3 in f64: 0x3FE5555555555555 is below it by 1/3 ulp.
        assert_eq!(div_f64(2.0, 3.0, N).to_bits(), 0x3FE5_5555_5555_5555);
        assert_eq!(div_f64(2.0, 3.0, UP).to_bits(), 0x3FE5_5555_5555_5556);
        assert_eq!(div_f64(-2.0, 3.0, DN).to_bits(), 0xBFE5_5555_5555_5556);
        assert_eq!(div_f64(-2.0, 3.0, Z).to_bits(), 0xBFE5_5555_5555_5555);
    }

    #[test]
    fn sqrt_directed() {
        // sqrt(2) = 0x1.6A09E6|67F3BCC9...: f32 nearest rounds down, f64 (…BCC|908…) up.
        assert_eq!(f32b(sqrt_f32(2.0, N)), 0x3FB5_04F3);
        assert_eq!(f32b(sqrt_f32(2.0, Z)), 0x3FB5_04F3);
        assert_eq!(f32b(sqrt_f32(2.0, DN)), 0x3FB5_04F3);
        assert_eq!(f32b(sqrt_f32(2.0, UP)), 0x3FB5_04F4);
        assert_eq!(sqrt_f64(2.0, N).to_bits(), 0x3FF6_A09E_667F_3BCD);
        assert_eq!(sqrt_f64(2.0, Z).to_bits(), 0x3FF6_A09E_667F_3BCC);
        assert_eq!(sqrt_f64(2.0, DN).to_bits(), 0x3FF6_A09E_667F_3BCC);
        assert_eq!(sqrt_f64(2.0, UP).to_bits(), 0x3FF6_A09E_667F_3BCD);
        for r in ALL {
            assert_eq!(sqrt_f32(9.0, r), 3.0);
            assert_eq!(sqrt_f64(0.25, r), 0.5);
            assert!(sqrt_f64(-0.0, r).is_sign_negative());
            assert_eq!(f32b(sqrt_f32(-1.0, r)), 0x7FFF_FFFF);
            assert_eq!(sqrt_f32(f32::INFINITY, r), f32::INFINITY);
            // Subnormal radicand: sqrt(2^-148) = 2^-74 exactly.
            assert_eq!(sqrt_f32(f32::from_bits(2), r), 2f32.powi(-74));
        }
    }

    #[test]
    fn rcp_correctly_rounded() {
        assert_eq!(rcp_f64(3.0, N).to_bits(), 0x3FD5_5555_5555_5555);
        assert_eq!(rcp_f64(3.0, Z).to_bits(), 0x3FD5_5555_5555_5555);
        assert_eq!(rcp_f64(3.0, DN).to_bits(), 0x3FD5_5555_5555_5555);
        assert_eq!(rcp_f64(3.0, UP).to_bits(), 0x3FD5_5555_5555_5556);
        assert_eq!(rcp_f64(-3.0, DN).to_bits(), 0xBFD5_5555_5555_5556);
        assert_eq!(f32b(rcp_f32(3.0, N)), 0x3EAA_AAAB);
        assert_eq!(f32b(rcp_f32(3.0, Z)), 0x3EAA_AAAA);
        assert_eq!(rcp_f32(0.0, Z), f32::INFINITY);
        assert_eq!(rcp_f32(-0.0, UP), f32::NEG_INFINITY);
        // 1 / smallest subnormal overflows: MAX toward zero.
        assert_eq!(rcp_f32(f32::from_bits(1), Z), f32::MAX);
        assert_eq!(rcp_f32(f32::from_bits(1), N), f32::INFINITY);
        // Quotients a hair off a representable value or a tie, 53 bits below the last
        // place: only the remainder tells them from exact values and exact ties.
        let just_below_one = 1.0 - p2(-52);
        assert_eq!(rcp_f64(just_below_one, UP), 1.0 + p2(-51)); // 1 + u + u^2
        assert_eq!(rcp_f64(just_below_one, Z), 1.0 + p2(-52));
        let f64s = FloatFormat::F64;
        let tie_above = float_div(f64s, 1f64.to_bits(), (1.0 - p2(-53)).to_bits(), N);
        assert_eq!(f64::from_bits(tie_above), 1.0 + p2(-52)); // 1 + u/2 + u^2/4: up
        assert_eq!(rcp_f64(1.0 - p2(-53), N), 1.0 + p2(-52));
    }

    #[test]
    fn fma_directed_and_specials() {
        let t = p2(-60);
        assert_eq!(fma_f64(1.0, 1.0, t, N), 1.0);
        assert_eq!(fma_f64(1.0, 1.0, t, Z), 1.0);
        assert_eq!(fma_f64(1.0, 1.0, t, UP), 1.0 + p2(-52));
        assert_eq!(fma_f64(1.0, 1.0, -t, DN), 1.0 - p2(-53));
        // The rounding error of a product comes out exactly.
        let a = 1.0 + p2(-30);
        let p = a * a;
        for r in ALL {
            assert_eq!(fma_f64(a, a, -p, r), p2(-60));
            assert_eq!(fma_f32(3.0, 5.0, -1.0, r), 14.0);
        }
        // Only a single rounding: (1 + 2^-12)^2 - 1 in f32 is 2^-11 + 2^-24, exact.
        let b = 1.0 + 2f32.powi(-12);
        assert_eq!(fma_f32(b, b, -1.0, Z), 2f32.powi(-11) + 2f32.powi(-24));
        // Exact zero results: sign per direction; zero product keeps c.
        assert!(fma_f32(1.0, 1.0, -1.0, N).is_sign_positive());
        assert!(fma_f32(1.0, 1.0, -1.0, DN).is_sign_negative());
        assert!(fma_f32(-0.0, 1.0, -0.0, UP).is_sign_negative());
        assert!(fma_f32(-0.0, 1.0, 0.0, UP).is_sign_positive());
        assert!(fma_f32(-0.0, 1.0, 0.0, DN).is_sign_negative());
        assert_eq!(fma_f32(0.0, 7.0, -2.5, Z), -2.5);
        assert_eq!(f32b(fma_f32(f32::INFINITY, 0.0, 1.0, Z)), 0x7FFF_FFFF);
        assert_eq!(
            f32b(fma_f32(f32::INFINITY, 1.0, f32::NEG_INFINITY, Z)),
            0x7FFF_FFFF
        );
        assert_eq!(fma_f32(f32::INFINITY, -1.0, 5.0, Z), f32::NEG_INFINITY);
        assert_eq!(fma_f64(2.0, 3.0, f64::INFINITY, DN), f64::INFINITY);
        assert_eq!(fma_f64(f64::MAX, 2.0, -f64::MAX, Z), f64::MAX);
        // Massive cancellation: product 1 + 2^-29 + 2^-58... minus 1.
        let c = 1.0 + p2(-29);
        assert_eq!(fma_f64(c, c, -1.0, Z), p2(-28) + p2(-58));
    }

    #[test]
    fn f32_nan_results_are_canonical_and_f64_ones_keep_the_payload() {
        let payload = f32::from_bits(0xFFC0_1234);
        for r in ALL {
            assert_eq!(f32b(add_f32(payload, 1.0, r)), 0x7FFF_FFFF);
            assert_eq!(f32b(mul_f32(1.0, payload, r)), 0x7FFF_FFFF);
            assert_eq!(f32b(sub_f32(f32::INFINITY, f32::INFINITY, r)), 0x7FFF_FFFF);
            assert_eq!(f32b(mul_f32(f32::INFINITY, 0.0, r)), 0x7FFF_FFFF);
            // "NaN payloads are supported for double-precision instructions."
            let p64 = f64::from_bits(0x7FF0_0000_0000_0123);
            assert_eq!(add_f64(p64, 1.0, r).to_bits(), 0x7FF8_0000_0000_0123);
            assert_eq!(fma_f64(1.0, 2.0, p64, r).to_bits(), 0x7FF8_0000_0000_0123);
            assert_eq!(sqrt_f64(-2.0, r).to_bits(), 0x7FFF_FFFF_FFFF_FFFF);
        }
        assert_eq!(canonical_nan_f32().to_bits(), 0x7FFF_FFFF);
        assert_eq!(canonical_nan_f64().to_bits(), 0x7FFF_FFFF_FFFF_FFFF);
        assert_eq!(FloatFormat::F16.canonical_nan(), 0x7FFF);
        assert_eq!(FloatFormat::Bf16.canonical_nan(), 0x7FFF);
    }

    #[test]
    fn half_precision_arithmetic() {
        let h = |x: f32| f32_to_f16(x, N) as u64;
        let f16 = FloatFormat::F16;
        assert_eq!(float_add(f16, h(1.0), h(2.0), N), h(3.0));
        // 2048 + 1 is a tie in f16 (spacing 2): even -> 2048; up -> 2050.
        assert_eq!(float_add(f16, h(2048.0), h(1.0), N), h(2048.0));
        assert_eq!(float_add(f16, h(2048.0), h(1.0), UP), h(2050.0));
        assert_eq!(float_mul(f16, h(300.0), h(300.0), N), 0x7C00);
        assert_eq!(float_mul(f16, h(300.0), h(300.0), Z), 0x7BFF);
        assert_eq!(float_fma(f16, h(2.0), h(3.0), h(-6.0), DN), 0x8000);
        assert_eq!(float_div(f16, h(1.0), h(4.0), N), h(0.25));
        assert_eq!(float_sqrt(f16, h(16.0), N), h(4.0));
        assert_eq!(float_sub(f16, h(1.0), h(1.0), DN), 0x8000);
        let bf = FloatFormat::Bf16;
        let b = |x: f32| f32_to_bf16(x, N) as u64;
        assert_eq!(float_add(bf, b(256.0), b(1.0), N), b(256.0));
        assert_eq!(float_add(bf, b(256.0), b(1.0), UP), b(258.0));
        assert_eq!(float_round_int(f16, h(2.5), N), h(2.0));
        assert_eq!(float_round_int(f16, h(-2.5), DN), h(-3.0));
    }

    #[test]
    fn sat_and_ftz() {
        assert_eq!(sat_f32(1.5), 1.0);
        assert_eq!(sat_f32(0.25), 0.25);
        assert_eq!(f32b(sat_f32(-3.0)), 0);
        assert_eq!(f32b(sat_f32(-0.0)), 0);
        assert_eq!(f32b(sat_f32(f32::NAN)), 0);
        assert_eq!(sat_f32(f32::INFINITY), 1.0);
        assert_eq!(f32b(ftz_f32(f32::from_bits(0x8000_0005))), 0x8000_0000);
        assert_eq!(f32b(ftz_f32(f32::from_bits(0x007F_FFFF))), 0);
        assert_eq!(ftz_f32(f32::MIN_POSITIVE), f32::MIN_POSITIVE);
        assert_eq!(ftz_f32(-2.0), -2.0);
    }

    #[test]
    fn min_max_nan_and_zero_rules() {
        let nan = f32::from_bits(0x7FC0_0001);
        assert_eq!(min_f32(nan, 2.0), 2.0);
        assert_eq!(min_f32(-2.0, nan), -2.0);
        assert_eq!(max_f32(nan, 2.0), 2.0);
        assert_eq!(max_f32(3.0, nan), 3.0);
        assert_eq!(f32b(min_f32(nan, f32::NAN)), 0x7FFF_FFFF);
        assert_eq!(f32b(max_f32(nan, nan)), 0x7FFF_FFFF);
        assert!(min_f32(0.0, -0.0).is_sign_negative());
        assert!(min_f32(-0.0, 0.0).is_sign_negative());
        assert!(max_f32(0.0, -0.0).is_sign_positive());
        assert!(max_f32(-0.0, 0.0).is_sign_positive());
        assert_eq!(min_f32(1.0, -1.0), -1.0);
        assert_eq!(max_f32(1.0, -1.0), 1.0);
        assert_eq!(min_f32(f32::NEG_INFINITY, 0.0), f32::NEG_INFINITY);
        assert_eq!(min_f64(f64::NAN, 1.0), 1.0);
        assert_eq!(max_f64(-1.0, f64::NAN), -1.0);
        assert_eq!(min_f64(f64::NAN, f64::NAN).to_bits(), 0x7FFF_FFFF_FFFF_FFFF);
        assert_eq!(
            max_f64(f64::NAN, -f64::NAN).to_bits(),
            0x7FFF_FFFF_FFFF_FFFF
        );
        assert!(min_f64(0.0, -0.0).is_sign_negative());
        assert!(max_f64(-0.0, 0.0).is_sign_positive());
        assert_eq!(max_f64(2.0, 7.0), 7.0);
    }

    #[test]
    fn copysign_takes_sign_from_first_operand() {
        assert_eq!(copysign_f32(-1.0, 3.0), -3.0);
        assert_eq!(copysign_f32(1.0, -3.0), 3.0);
        assert_eq!(copysign_f32(-0.0, -2.0), -2.0);
        assert_eq!(
            f32b(copysign_f32(-1.0, f32::from_bits(0x7FC0_0001))),
            0xFFC0_0001
        );
        assert_eq!(copysign_f64(-5.0, 0.5), -0.5);
        assert_eq!(copysign_f64(5.0, -0.5), 0.5);
        assert!(copysign_f64(-1.0, 0.0).is_sign_negative());
    }

    #[test]
    fn setp_float_nan_rules() {
        let nan = f32::NAN;
        for (cmp, with_nan) in [
            (Cmp::Eq, false),
            (Cmp::Ne, false),
            (Cmp::Lt, false),
            (Cmp::Le, false),
            (Cmp::Gt, false),
            (Cmp::Ge, false),
            (Cmp::Equ, true),
            (Cmp::Neu, true),
            (Cmp::Ltu, true),
            (Cmp::Leu, true),
            (Cmp::Gtu, true),
            (Cmp::Geu, true),
            (Cmp::Num, false),
            (Cmp::Nan, true),
        ] {
            assert_eq!(setp_f32(cmp, nan, 1.0), with_nan, "{cmp:?}");
            assert_eq!(setp_f32(cmp, 1.0, nan), with_nan, "{cmp:?}");
            assert_eq!(setp_f64(cmp, f64::NAN, f64::NAN), with_nan, "{cmp:?}");
        }
        assert!(setp_f32(Cmp::Ltu, 1.0, 2.0));
        assert!(!setp_f32(Cmp::Geu, 1.0, 2.0));
        assert!(!setp_f32(Cmp::Neu, 2.0, 2.0));
        assert!(setp_f32(Cmp::Ne, 1.0, 2.0));
        assert!(setp_f32(Cmp::Eq, 0.0, -0.0));
        assert!(setp_f64(Cmp::Num, 1.0, 2.0));
        assert!(!setp_f64(Cmp::Nan, 1.0, f64::INFINITY));
        assert!(setp_f64(Cmp::Le, -0.0, 0.0));
        assert!(setp_f64(Cmp::Gt, f64::INFINITY, f64::MAX));
        assert!(setp_f64(Cmp::Lo, 1.0, 2.0));
    }

    #[test]
    fn setp_int_signedness_and_width() {
        let m1 = 0xFFFF_FFFFu64; // -1 as s32, MAX as u32
        assert_eq!(setp_int(Cmp::Lt, m1, 0, S32), Some(true));
        assert_eq!(setp_int(Cmp::Lt, m1, 0, U32), Some(false));
        assert_eq!(setp_int(Cmp::Lo, m1, 0, S32), Some(false));
        assert_eq!(setp_int(Cmp::Hs, m1, 0, S32), Some(true));
        assert_eq!(setp_int(Cmp::Hi, 0x8000_0000, 0x7FFF_FFFF, S32), Some(true));
        assert_eq!(
            setp_int(Cmp::Gt, 0x8000_0000, 0x7FFF_FFFF, S32),
            Some(false)
        );
        assert_eq!(setp_int(Cmp::Ls, 5, 5, U64), Some(true));
        assert_eq!(setp_int(Cmp::Ge, u64::MAX, 1, S64), Some(false));
        assert_eq!(setp_int(Cmp::Ge, u64::MAX, 1, U64), Some(true));
        // High garbage above the type's width is ignored.
        assert_eq!(setp_int(Cmp::Eq, 0x1_0000_0005, 5, U32), Some(true));
        assert_eq!(setp_int(Cmp::Lt, 0xFFFF, 0x0001, S16), Some(true));
        assert_eq!(setp_int(Cmp::Ne, 0xAB00_0001, 1, B8), Some(false));
        assert_eq!(setp_int(Cmp::Le, 3, 2, S8), Some(false));
        assert_eq!(setp_int(Cmp::Ltu, 1, 2, S32), None);
        assert_eq!(setp_int(Cmp::Nan, 1, 2, U32), None);
    }

    #[test]
    fn add_sub_wrap_and_saturate() {
        assert_eq!(add_int(0xFFFF_FFFF, 1, U32), 0);
        assert_eq!(add_int(0x7FFF_FFFF, 1, S32), 0x8000_0000);
        assert_eq!(add_int(u64::MAX, 2, S64), 1);
        assert_eq!(sub_int(0, 1, U16), 0xFFFF);
        assert_eq!(sub_int(0x1_0000_0000, 1, U32), 0xFFFF_FFFF);
        assert_eq!(add_sat_int(0x7FFF_FFFF, 1, S32), 0x7FFF_FFFF);
        assert_eq!(add_sat_int(0x8000_0000, 0xFFFF_FFFF, S32), 0x8000_0000);
        assert_eq!(add_sat_int(5, 0xFFFF_FFFD, S32), 2);
        assert_eq!(sub_sat_int(0x8000_0000, 1, S32), 0x8000_0000);
        assert_eq!(sub_sat_int(0x7FFF_FFFF, 0xFFFF_FFFF, S32), 0x7FFF_FFFF);
        assert_eq!(sub_sat_int(3, 5, S32), 0xFFFF_FFFE);
        assert_eq!(add_sat_int(0xFFFF_FFFF, 1, U32), 0xFFFF_FFFF);
        assert_eq!(sub_sat_int(1, 2, U32), 0);
    }

    #[test]
    fn mul_lo_hi_wide() {
        assert_eq!(mul_lo(0x1_0000, 0x1_0001, U32), 0x1_0000);
        assert_eq!(mul_lo(0xFFFF_FFFF, 0xFFFF_FFFF, S32), 1);
        assert_eq!(mul_hi(u64::MAX, u64::MAX, U64), u64::MAX - 1);
        assert_eq!(
            mul_hi(0x8080_8080_8080_8081, 0x8080_8080_8080_8081, U64),
            0x4080_C101_4181_C202
        );
        assert_eq!(mul_hi(u64::MAX, u64::MAX, S64), 0); // -1 * -1 = 1
        assert_eq!(mul_hi(u64::MAX, 5, S64), u64::MAX); // -5: high half all ones
        assert_eq!(mul_hi(1 << 63, 1 << 63, S64), 1 << 62); // MIN*MIN = 2^126
        assert_eq!(mul_hi(1 << 63, 2, S64), u64::MAX);
        assert_eq!(mul_hi(0xFFFF_FFFF, 0xFFFF_FFFF, U32), 0xFFFF_FFFE);
        assert_eq!(mul_hi(0xFFFF_FFFF, 0xFFFF_FFFF, S32), 0);
        assert_eq!(mul_hi(0x8000_0000, 3, S32), 0xFFFF_FFFE);
        assert_eq!(mul_hi(0xFFFF, 0xFFFF, U16), 0xFFFE);
        assert_eq!(mul_wide(0xFFFF_FFFF, 0xFFFF_FFFF, S32), 1);
        assert_eq!(mul_wide(0xFFFF_FFFE, 3, S32), (-6i64) as u64);
        assert_eq!(mul_wide(0x8000_0000, 0x8000_0000, S32), 1 << 62);
        assert_eq!(
            mul_wide(0xFFFF_FFFF, 0xFFFF_FFFF, U32),
            0xFFFF_FFFE_0000_0001
        );
        assert_eq!(mul_wide(0xFFFF, 0xFFFF, S16), 1);
        assert_eq!(mul_wide(0xFFFF, 2, S16), 0xFFFF_FFFE);
        assert_eq!(mul_wide(0xFFFF, 0xFFFF, U16), 0xFFFE_0001);
    }

    #[test]
    fn div_rem_edge_cases() {
        assert_eq!(div_int(7, 0, U32), 0xFFFF_FFFF);
        assert_eq!(div_int(7, 0, S32), 0xFFFF_FFFF);
        assert_eq!(div_int(7, 0, U64), u64::MAX);
        assert_eq!(div_int(7, 0x1_0000_0000, U32), 0xFFFF_FFFF); // divisor's low bits are 0
        assert_eq!(div_int(0x8000_0000, 0xFFFF_FFFF, S32), 0x8000_0000);
        assert_eq!(div_int(1 << 63, u64::MAX, S64), 1 << 63);
        assert_eq!(
            div_int((-7i64) as u64 & 0xFFFF_FFFF, 2, S32),
            (-3i32) as u32 as u64
        );
        assert_eq!(div_int(0xFFFF_FFF9, 2, U32), 0x7FFF_FFFC);
        assert_eq!(rem_int(7, 0, U32), 7);
        assert_eq!(rem_int(0xFFFF_FFF9, 0, S32), 0xFFFF_FFF9);
        assert_eq!(rem_int(0x8000_0000, 0xFFFF_FFFF, S32), 0);
        assert_eq!(rem_int(1 << 63, u64::MAX, S64), 0);
        assert_eq!(rem_int(0xFFFF_FFF9, 2, S32), 0xFFFF_FFFF); // -7 % 2 = -1
        assert_eq!(rem_int(7, 0xFFFF_FFFE, S32), 1); // 7 % -2 = 1
        assert_eq!(rem_int(0xFFFF_FFF9, 2, U32), 1);
        assert_eq!(div_int(0xFF, 0xFF, S8), 1);
        assert_eq!(div_int(0x80, 0xFF, S8), 0x80);
    }

    #[test]
    fn min_max_abs_neg_int() {
        assert_eq!(min_int(0xFFFF_FFFF, 1, S32), 0xFFFF_FFFF);
        assert_eq!(min_int(0xFFFF_FFFF, 1, U32), 1);
        assert_eq!(max_int(0xFFFF_FFFF, 1, S32), 1);
        assert_eq!(max_int(0xFFFF_FFFF, 1, U32), 0xFFFF_FFFF);
        assert_eq!(max_int(u64::MAX, 0, S64), 0);
        assert_eq!(abs_int(0xFFFF_FFFB, S32), 5);
        assert_eq!(abs_int(0x8000_0000, S32), 0x8000_0000);
        assert_eq!(abs_int(1 << 63, S64), 1 << 63);
        assert_eq!(abs_int(0xFFFF, S16), 1);
        assert_eq!(neg_int(5, S32), 0xFFFF_FFFB);
        assert_eq!(neg_int(0x8000_0000, S32), 0x8000_0000);
        assert_eq!(neg_int(0, S64), 0);
        assert_eq!(neg_int(1, S16), 0xFFFF);
    }

    #[test]
    fn shifts_clamp() {
        for (amount, want) in [(31, 0x8000_0000), (32, 0), (33, 0), (64, 0), (100, 0)] {
            assert_eq!(shl(1, amount, B32), want, "shl.b32 {amount}");
        }
        for (amount, want) in [
            (31, 1u64 << 31),
            (32, 1 << 32),
            (33, 1 << 33),
            (63, 1 << 63),
            (64, 0),
            (100, 0),
        ] {
            assert_eq!(shl(1, amount, B64), want, "shl.b64 {amount}");
        }
        let neg = 0x8000_0000u64;
        for (amount, s, u) in [
            (31, 0xFFFF_FFFF, 1),
            (32, 0xFFFF_FFFF, 0),
            (33, 0xFFFF_FFFF, 0),
            (64, 0xFFFF_FFFF, 0),
            (100, 0xFFFF_FFFF, 0),
        ] {
            assert_eq!(shr(neg, amount, S32), s, "shr.s32 {amount}");
            assert_eq!(shr(neg, amount, U32), u, "shr.u32 {amount}");
            assert_eq!(shr(neg, amount, B32), u, "shr.b32 {amount}");
        }
        assert_eq!(shr(0x7FFF_FFFF, 100, S32), 0);
        assert_eq!(shr(0xFFFF_FFF0, 2, S32), 0xFFFF_FFFC);
        for (amount, s, u) in [
            (31, u64::MAX << 32, 1u64 << 32),
            (32, u64::MAX << 31, 1 << 31),
            (33, u64::MAX << 30, 1 << 30),
            (63, u64::MAX, 1),
            (64, u64::MAX, 0),
            (100, u64::MAX, 0),
        ] {
            assert_eq!(shr(1 << 63, amount, S64), s, "shr.s64 {amount}");
            assert_eq!(shr(1 << 63, amount, U64), u, "shr.u64 {amount}");
        }
        assert_eq!(shl(0xFFFF, 4, B16), 0xFFF0);
        assert_eq!(shr(0x8000, 15, S16), 0xFFFF);
        assert_eq!(shr(0x1_0000_0000, 0, U32), 0);
    }

    #[test]
    fn funnel_shifts() {
        assert_eq!(shf_l(0x8000_0000, 0x0000_0001, 1, false), 3);
        assert_eq!(shf_l(0x1234_5678, 0x9ABC_DEF0, 32, true), 0x1234_5678);
        assert_eq!(shf_l(0x1234_5678, 0x9ABC_DEF0, 32, false), 0x9ABC_DEF0);
        assert_eq!(shf_l(0x1234_5678, 0x1234_5678, 8, false), 0x3456_7812); // rotate
        assert_eq!(shf_r(0x0000_0001, 0x0000_0003, 1, false), 0x8000_0000);
        assert_eq!(shf_r(0x1234_5678, 0x9ABC_DEF0, 40, true), 0x9ABC_DEF0);
        assert_eq!(shf_r(0x1234_5678, 0x9ABC_DEF0, 36, false), 0x0123_4567);
        assert_eq!(shf_r(0x1234_5678, 0x9ABC_DEF5, 4, false), 0x5123_4567);
    }

    #[test]
    fn bit_field_extract_insert() {
        assert_eq!(bfe(0xABCD_1234, 8, 8, U32), 0x12);
        assert_eq!(bfe(0xABCD_1234, 28, 8, U32), 0xA);
        assert_eq!(bfe(0xABCD_1234, 28, 8, S32), 0xFFFF_FFFA);
        assert_eq!(bfe(0x0000_0080, 4, 4, S32), 0xFFFF_FFF8);
        assert_eq!(bfe(0x0000_0070, 4, 4, S32), 7);
        assert_eq!(bfe(0x8000_0000, 40, 3, S32), 0xFFFF_FFFF);
        assert_eq!(bfe(0x8000_0000, 40, 3, U32), 0);
        assert_eq!(bfe(0xFFFF_FFFF, 4, 0, S32), 0);
        assert_eq!(bfe(0xFF, 0x104, 0x204, U32), 0xF); // only the low 8 bits count
        assert_eq!(bfe(u64::MAX, 60, 10, S64), u64::MAX);
        assert_eq!(bfe(0xF000_0000_0000_0000, 60, 4, U64), 0xF);
        assert_eq!(bfe(0x1234, 0, 255, U32), 0x1234);
        assert_eq!(bfi(0xF, 0, 4, 4, B32), 0xF0);
        assert_eq!(bfi(0xFF, 0xFFFF_FFFF, 28, 8, B32), 0xFFFF_FFFF);
        assert_eq!(bfi(0x0, 0xFFFF_FFFF, 28, 8, B32), 0x0FFF_FFFF);
        assert_eq!(bfi(0xABCD, 0x1234, 40, 8, B32), 0x1234);
        assert_eq!(bfi(0xABCD, 0x1234, 0, 0, B32), 0x1234);
        assert_eq!(bfi(0x1, 0, 63, 1, B64), 1 << 63);
        assert_eq!(bfi(0x3, 0, 0x120, 0x102, B64), 0x3_0000_0000);
    }

    #[test]
    fn bit_counts() {
        assert_eq!(popc(0xFFFF_FFFF_0000_0001, B32), 1);
        assert_eq!(popc(u64::MAX, B64), 64);
        assert_eq!(clz(0, B32), 32);
        assert_eq!(clz(1, B32), 31);
        assert_eq!(clz(0x1_0000_0000, B32), 32);
        assert_eq!(clz(1, B64), 63);
        assert_eq!(clz(0, B64), 64);
        assert_eq!(brev(1, B32), 0x8000_0000);
        assert_eq!(brev(0x1234_5678, B32), 0x1E6A_2C48);
        assert_eq!(brev(1, B64), 1 << 63);
        assert_eq!(bfind(0, U32, false), 0xFFFF_FFFF);
        assert_eq!(bfind(1, U32, false), 0);
        assert_eq!(bfind(0x8000_0000, U32, false), 31);
        assert_eq!(bfind(0x8000_0000, U32, true), 0);
        assert_eq!(bfind(0x10, U32, true), 27);
        assert_eq!(bfind(0xFFFF_FFFF, S32, false), 0xFFFF_FFFF); // -1: no non-sign bit
        assert_eq!(bfind(0xFFFF_FFFE, S32, false), 0); // -2 = 1...10
        assert_eq!(bfind(0x8000_0000, S32, false), 30);
        assert_eq!(bfind(0x8000_0000, S32, true), 1);
        assert_eq!(bfind(0x7FFF_FFFF, S32, false), 30);
        assert_eq!(bfind(1 << 40, U64, false), 40);
        assert_eq!(bfind(1 << 40, U64, true), 23);
        assert_eq!(bfind(u64::MAX, S64, true), 0xFFFF_FFFF);
    }

    #[test]
    fn prmt_all_modes() {
        let a = 0x8877_6655u32; // bytes 0..3: 55 66 77 88
        let b = 0x1100_FFEEu32; // bytes 4..7: EE FF 00 11
        assert_eq!(prmt(a, b, 0x3210, PrmtMode::Default), a);
        assert_eq!(prmt(a, b, 0x7654, PrmtMode::Default), b);
        assert_eq!(prmt(a, b, 0x0123, PrmtMode::Default), 0x5566_7788);
        assert_eq!(prmt(a, b, 30212, PrmtMode::Default), 0x1100_55EE); // 0x7604
        assert_eq!(prmt(a, b, 0xFFFF_7604, PrmtMode::Default), 0x1100_55EE); // c[31:16] unused
        // Sign replication: 0x8 -> byte0 (0x55, +) = 00; 0xB -> byte3 (0x88, -) = FF;
        // 0xC -> byte4 (0xEE, -) = FF; 0xE -> byte6 (0x00) = 00.
        assert_eq!(prmt(a, b, 0xECB8, PrmtMode::Default), 0x00FF_FF00);
        assert_eq!(prmt(a, b, 0x8F3D, PrmtMode::Default), 0x0000_88FF);
        let mode = |m, s| prmt(a, b, s, m);
        use PrmtMode::*;
        // f4e: bytes {s+3, s+2, s+1, s}.
        assert_eq!(mode(F4e, 0), 0x8877_6655);
        assert_eq!(mode(F4e, 1), 0xEE88_7766);
        assert_eq!(mode(F4e, 2), 0xFFEE_8877);
        assert_eq!(mode(F4e, 3), 0x00FF_EE88);
        assert_eq!(mode(F4e, 0xFFFF_FFF5), 0xEE88_7766); // only c[1:0]
        // b4e: 5670 / 6701 / 7012 / 0123 (d.b3..d.b0).
        assert_eq!(mode(B4e, 0), 0xFF00_1155);
        assert_eq!(mode(B4e, 1), 0x0011_5566);
        assert_eq!(mode(B4e, 2), 0x1155_6677);
        assert_eq!(mode(B4e, 3), 0x5566_7788);
        assert_eq!(mode(Rc8, 0), 0x5555_5555);
        assert_eq!(mode(Rc8, 3), 0x8888_8888);
        // ecl: 3210 / 3211 / 3222 / 3333.
        assert_eq!(mode(Ecl, 0), 0x8877_6655);
        assert_eq!(mode(Ecl, 1), 0x8877_6666);
        assert_eq!(mode(Ecl, 2), 0x8877_7777);
        assert_eq!(mode(Ecl, 3), 0x8888_8888);
        // ecr: 0000 / 1110 / 2210 / 3210.
        assert_eq!(mode(Ecr, 0), 0x5555_5555);
        assert_eq!(mode(Ecr, 1), 0x6666_6655);
        assert_eq!(mode(Ecr, 2), 0x7777_6655);
        assert_eq!(mode(Ecr, 3), 0x8877_6655);
        // rc16: 1010 / 3232 / 1010 / 3232.
        assert_eq!(mode(Rc16, 0), 0x6655_6655);
        assert_eq!(mode(Rc16, 1), 0x8877_8877);
        assert_eq!(mode(Rc16, 2), 0x6655_6655);
        assert_eq!(mode(Rc16, 3), 0x8877_8877);
    }

    #[test]
    fn dot_products() {
        // a = {h1 = 3, h0 = 2}; b bytes 0..3 = 1, 2, 3, 4.
        let a = 0x0003_0002;
        let b = 0x0403_0201;
        assert_eq!(dp2a(a, b, 10, false, false, false), 10 + 2 + 3 * 2);
        assert_eq!(dp2a(a, b, 10, true, false, false), 10 + 2 * 3 + 3 * 4);
        // Signed: a.h0 = -2 (0xFFFE), b.byte2 = -1 (0xFF).
        let a = 0x0003_FFFE;
        let b = 0x04FF_0201;
        assert_eq!(dp2a(a, b, 0, true, true, true), (2 + 12) as u32);
        assert_eq!(dp2a(a, b, 0, true, true, false), (-2i32 * 255 + 12) as u32);
        assert_eq!(dp2a(a, b, 0, true, false, true), (12 - 65534i32) as u32);
        assert_eq!(dp2a(a, b, 0, false, true, true), (-2i32 + 6) as u32);
        assert_eq!(
            dp2a(0xFFFF_FFFF, 0xFFFF_FFFF, 0, false, false, false),
            2 * 65535 * 255
        );
        assert_eq!(dp4a(0x0403_0201, 0x0101_0101, 5, false, false), 15);
        assert_eq!(
            dp4a(0xFF03_0201, 0x0101_01FF, 0, true, true),
            (-1i32 + 2 + 3 - 1) as u32
        );
        assert_eq!(
            dp4a(0xFF00_0000, 0xFF00_0000, 0, false, true),
            (-255i32) as u32
        );
        assert_eq!(
            dp4a(0xFFFF_FFFF, 0xFFFF_FFFF, 0, false, false),
            4 * 255 * 255
        );
        assert_eq!(dp4a(0x8080_8080, 0x8080_8080, 1, true, true), 1 + 4 * 16384);
        assert_eq!(dp4a(1, 1, u32::MAX, false, false), 0); // wraps
    }

    fn irnd(r: Rounding) -> CvtMode {
        CvtMode {
            rounding: Some(r),
            integer_rounding: true,
            ..CvtMode::default()
        }
    }

    fn frnd(r: Rounding) -> CvtMode {
        CvtMode {
            rounding: Some(r),
            ..CvtMode::default()
        }
    }

    #[test]
    fn cvt_float_to_int() {
        let d = |x: f64| x.to_bits();
        let f = |x: f32| x.to_bits() as u64;
        assert_eq!(cvt(S32, F64, d(1e10), irnd(Z)), Some(0x7FFF_FFFF));
        assert_eq!(cvt(S32, F64, d(-1e10), irnd(Z)), Some(0x8000_0000));
        assert_eq!(cvt(U32, F64, d(1e10), irnd(Z)), Some(0xFFFF_FFFF));
        assert_eq!(cvt(U32, F32, f(-1.5), irnd(Z)), Some(0));
        assert_eq!(cvt(U32, F32, f(-0.5), irnd(DN)), Some(0));
        assert_eq!(cvt(S32, F32, f(-1.5), irnd(Z)), Some(0xFFFF_FFFF));
        assert_eq!(cvt(S32, F32, f(-1.5), irnd(N)), Some((-2i32) as u32 as u64));
        assert_eq!(cvt(S32, F32, f(2.5), irnd(N)), Some(2));
        assert_eq!(cvt(S32, F32, f(3.5), irnd(N)), Some(4));
        assert_eq!(cvt(S32, F32, f(2.1), irnd(UP)), Some(3));
        assert_eq!(
            cvt(S32, F32, f(-2.1), irnd(DN)),
            Some((-3i32) as u32 as u64)
        );
        assert_eq!(
            cvt(S32, F32, f(-2.9), irnd(UP)),
            Some((-2i32) as u32 as u64)
        );
        assert_eq!(cvt(S8, F32, f(200.0), irnd(N)), Some(0x7F));
        assert_eq!(cvt(S8, F32, f(-200.0), irnd(N)), Some(0x80));
        assert_eq!(cvt(U64, F64, d(2f64.powi(64)), irnd(Z)), Some(u64::MAX));
        assert_eq!(cvt(S64, F32, f(f32::NEG_INFINITY), irnd(Z)), Some(1 << 63));
        assert_eq!(cvt(S64, F64, d(-(2f64.powi(63))), irnd(Z)), Some(1 << 63));
        assert_eq!(
            cvt(U16, F16, f32_to_f16(65504.0, N) as u64, irnd(N)),
            Some(65504)
        );
        assert_eq!(
            cvt(S32, Bf16, f32_to_bf16(-3.0, N) as u64, irnd(Z)),
            Some(0xFFFF_FFFD)
        );
        // NaN: 0 from f32/f16 into <= 32 bits; 1 << (N - 1) from f64 or into 64 bits.
        assert_eq!(cvt(S32, F32, f(f32::NAN), irnd(Z)), Some(0));
        assert_eq!(cvt(U16, F16, 0x7E00, irnd(Z)), Some(0));
        assert_eq!(cvt(S32, F64, d(f64::NAN), irnd(Z)), Some(0x8000_0000));
        assert_eq!(cvt(U32, F64, d(f64::NAN), irnd(N)), Some(0x8000_0000));
        assert_eq!(cvt(S64, F32, f(f32::NAN), irnd(Z)), Some(1 << 63));
        assert_eq!(cvt(U64, F64, d(f64::NAN), irnd(Z)), Some(1 << 63));
        // .ftz flushes an f32 subnormal input before rounding up.
        let sub = 1u64;
        assert_eq!(cvt(S32, F32, sub, irnd(UP)), Some(1));
        assert_eq!(
            cvt(
                S32,
                F32,
                sub,
                CvtMode {
                    ftz: true,
                    ..irnd(UP)
                }
            ),
            Some(0)
        );
        // Tiny values and huge exponents.
        assert_eq!(cvt(S32, F64, d(1e-300), irnd(UP)), Some(1));
        assert_eq!(cvt(S32, F64, d(-1e-300), irnd(DN)), Some(0xFFFF_FFFF));
        assert_eq!(cvt(S64, F64, d(1e300), irnd(Z)), Some(i64::MAX as u64));
        // Illegal: missing or float rounding.
        assert_eq!(cvt(S32, F32, f(1.0), CvtMode::default()), None);
        assert_eq!(cvt(S32, F32, f(1.0), frnd(N)), None);
    }

    #[test]
    fn cvt_int_to_int() {
        let none = CvtMode::default();
        let sat = CvtMode { sat: true, ..none };
        assert_eq!(cvt(U16, U32, 0x1234_5678, none), Some(0x5678));
        assert_eq!(cvt(S64, S32, 0xFFFF_FFFE, none), Some((-2i64) as u64));
        assert_eq!(cvt(U64, S32, 0xFFFF_FFFE, none), Some((-2i64) as u64));
        assert_eq!(cvt(S64, U32, 0xFFFF_FFFE, none), Some(0xFFFF_FFFE));
        assert_eq!(cvt(S32, S8, 0x80, none), Some(0xFFFF_FF80));
        assert_eq!(cvt(U32, U8, 0xFFFF_FF80, none), Some(0x80));
        assert_eq!(cvt(U8, S32, 300, sat), Some(255));
        assert_eq!(cvt(U8, S32, (-5i32) as u32 as u64, sat), Some(0));
        assert_eq!(cvt(U8, S32, 77, sat), Some(77));
        assert_eq!(cvt(S8, S32, 300, sat), Some(0x7F));
        assert_eq!(cvt(S8, U32, 0xFFFF_FFFF, sat), Some(0x7F));
        assert_eq!(cvt(U32, S64, u64::MAX, sat), Some(0));
        assert_eq!(cvt(S32, U32, 0x8000_0000, sat), Some(0x7FFF_FFFF));
        assert_eq!(cvt(U8, S32, 300, none), Some(44));
        // Illegal: rounding on int->int, .sat where nothing can clamp, .ftz without f32.
        assert_eq!(cvt(S32, S16, 1, frnd(N)), None);
        assert_eq!(cvt(S32, S16, 1, irnd(N)), None);
        assert_eq!(cvt(S32, S16, 1, sat), None);
        assert_eq!(cvt(S32, S32, 1, sat), None);
        assert_eq!(cvt(S32, S16, 1, CvtMode { ftz: true, ..none }), None);
        assert_eq!(cvt(B32, U32, 1, none), None);
        assert_eq!(cvt(U32, Pred, 1, none), None);
    }

    #[test]
    fn cvt_int_to_float_exact_rounding() {
        let f32_of = |ty, bits, r| f32::from_bits(cvt(F32, ty, bits, frnd(r)).unwrap() as u32);
        let s64 = |x: i64| x as u64;
        // 2^24 + 1 is a tie: even (2^24); 2^24 + 3 ties up to 2^24 + 4.
        assert_eq!(f32_of(S64, s64((1 << 24) + 1), N), 16777216.0);
        assert_eq!(f32_of(S64, s64((1 << 24) + 3), N), 16777220.0);
        assert_eq!(f32_of(S64, s64(-(1 << 24) - 1), N), -16777216.0);
        assert_eq!(f32_of(S64, s64((1 << 24) + 1), UP), 16777218.0);
        // Double rounding trap: 2^62 + 2^38 + 1 via f64 becomes a tie and rounds to
        // even (2^62); exact rounding goes up to 2^62 + 2^39.
        let v = (1i64 << 62) + (1 << 38) + 1;
        assert_eq!(
            f32_of(S64, s64(v), N),
            (2f64.powi(62) + 2f64.powi(39)) as f32
        );
        assert_eq!(f32_of(S64, s64((1 << 62) + (1 << 38)), N), 2f32.powi(62));
        assert_eq!(
            f32_of(S64, s64((3 << 61) + (1 << 38)), N),
            3.0 * 2f32.powi(61)
        );
        let odd_tie = (3i64 << 61) + (1 << 39) + (1 << 38);
        assert_eq!(
            f32_of(S64, s64(odd_tie), N),
            3.0 * 2f32.powi(61) + 2f32.powi(40)
        );
        // rz from u64: 2^64 - 1 truncates to the largest f32 below 2^64.
        assert_eq!(f32_of(U64, u64::MAX, Z), 2f32.powi(64).next_down());
        assert_eq!(f32_of(U64, u64::MAX, N), 2f32.powi(64));
        assert_eq!(f32_of(U64, u64::MAX, DN), 2f32.powi(64).next_down());
        assert_eq!(f32_of(S64, s64(i64::MIN), Z), -(2f32.powi(63)));
        assert_eq!(f32_of(S64, s64(-(1 << 40) - 1), Z), -(2f32.powi(40)));
        assert_eq!(
            f32_of(S64, s64(-(1 << 40) - 1), DN),
            -(2f32.powi(40) + 2f32.powi(17))
        );
        assert_eq!(f32_of(U32, 0xFFFF_FFFF, Z), 2f32.powi(32) - 256.0);
        assert_eq!(f32_of(S32, 0xFFFF_FFFF, N), -1.0);
        assert_eq!(f32_of(U8, 0xFFFF_FF03, N), 3.0);
        let d = |bits, r| f64::from_bits(cvt(F64, U64, bits, frnd(r)).unwrap());
        assert_eq!(d(u64::MAX, N), 2f64.powi(64));
        assert_eq!(d(u64::MAX, Z), 2f64.powi(64) - 2048.0);
        assert_eq!(d((1 << 53) + 1, N), 2f64.powi(53));
        assert_eq!(d((1 << 53) + 1, UP), 2f64.powi(53) + 2.0);
        assert_eq!(
            f64::from_bits(cvt(F64, S32, 0x8000_0000, frnd(N)).unwrap()),
            -(2f64.powi(31))
        );
        // Into f16 / bf16, with .sat.
        assert_eq!(cvt(F16, S32, 70000, frnd(N)), Some(0x7C00));
        assert_eq!(cvt(F16, S32, 70000, frnd(Z)), Some(0x7BFF));
        assert_eq!(
            cvt(F16, U16, 2049, frnd(N)),
            Some(f32_to_f16(2048.0, N) as u64)
        );
        assert_eq!(
            cvt(Bf16, S32, 257, frnd(UP)),
            Some(f32_to_bf16(258.0, N) as u64)
        );
        assert_eq!(
            cvt(
                F32,
                S32,
                5,
                CvtMode {
                    sat: true,
                    ..frnd(N)
                }
            ),
            Some(0x3F80_0000)
        );
        assert_eq!(
            cvt(
                F32,
                S32,
                0xFFFF_FFFF,
                CvtMode {
                    sat: true,
                    ..frnd(N)
                }
            ),
            Some(0)
        );
        // A float rounding is required from any integer.
        assert_eq!(cvt(F64, S32, 1, CvtMode::default()), None);
        assert_eq!(cvt(F32, S32, 1, irnd(N)), None);
    }

    #[test]
    fn cvt_float_to_float() {
        let d = |x: f64| x.to_bits();
        let as32 = |v: Option<u64>| f32::from_bits(v.unwrap() as u32);
        // Halfway f64 -> f32: 1 + 2^-24 ties to 1.0; 1 + 3*2^-24 ties up to 1 + 2^-22.
        assert_eq!(as32(cvt(F32, F64, d(1.0 + p2(-24)), frnd(N))), 1.0);
        assert_eq!(
            as32(cvt(F32, F64, d(1.0 + 3.0 * p2(-24)), frnd(N))),
            1.0 + 2f32.powi(-22)
        );
        assert_eq!(
            as32(cvt(F32, F64, d(1.0 + p2(-24) + p2(-50)), frnd(N))),
            1.0 + 2f32.powi(-23)
        );
        // rz / rm / rp.
        let x = 1.0 + p2(-30);
        assert_eq!(as32(cvt(F32, F64, d(x), frnd(Z))), 1.0);
        assert_eq!(as32(cvt(F32, F64, d(x), frnd(UP))), 1.0 + 2f32.powi(-23));
        assert_eq!(as32(cvt(F32, F64, d(-x), frnd(Z))), -1.0);
        assert_eq!(as32(cvt(F32, F64, d(-x), frnd(DN))), -1.0 - 2f32.powi(-23));
        assert_eq!(as32(cvt(F32, F64, d(-x), frnd(UP))), -1.0);
        assert_eq!(as32(cvt(F32, F64, d(1e300), frnd(Z))), f32::MAX);
        assert_eq!(as32(cvt(F32, F64, d(1e300), frnd(N))), f32::INFINITY);
        assert_eq!(as32(cvt(F32, F64, d(-1e300), frnd(UP))), -f32::MAX);
        assert_eq!(as32(cvt(F32, F64, d(1e-50), frnd(UP))).to_bits(), 1);
        assert_eq!(as32(cvt(F32, F64, d(1e-50), frnd(N))).to_bits(), 0);
        assert_eq!(f64_to_f32(1.0 + p2(-30), UP), 1.0 + 2f32.powi(-23));
        // .ftz on an f32 result; NaN canonical.
        let tiny = 1e-40f64;
        assert_ne!(cvt(F32, F64, d(tiny), frnd(N)), Some(0));
        assert_eq!(
            cvt(
                F32,
                F64,
                d(tiny),
                CvtMode {
                    ftz: true,
                    ..frnd(N)
                }
            ),
            Some(0)
        );
        assert_eq!(
            cvt(
                F32,
                F64,
                d(-tiny),
                CvtMode {
                    ftz: true,
                    ..frnd(N)
                }
            ),
            Some(0x8000_0000)
        );
        assert_eq!(cvt(F32, F64, d(f64::NAN), frnd(N)), Some(0x7FFF_FFFF));
        // Widening is exact and takes no rounding.
        let s = f32::from_bits(1);
        assert_eq!(
            cvt(F64, F32, s.to_bits() as u64, CvtMode::default()),
            Some(d(s as f64))
        );
        assert_eq!(
            cvt(
                F64,
                F32,
                1,
                CvtMode {
                    ftz: true,
                    ..CvtMode::default()
                }
            ),
            Some(0)
        );
        assert_eq!(cvt(F64, F32, 1, frnd(N)), None);
        assert_eq!(cvt(F32, F64, d(1.0), CvtMode::default()), None);
        assert_eq!(cvt(F64, F16, 0x3C00, CvtMode::default()), Some(d(1.0)));
        // f16 <-> bf16 lose precision both ways: rounding required.
        assert_eq!(cvt(Bf16, F16, 0x3C00, CvtMode::default()), None);
        assert_eq!(cvt(Bf16, F16, 0x3C00, frnd(N)), Some(0x3F80));
        assert_eq!(cvt(F16, Bf16, 0x3F80, frnd(N)), Some(0x3C00));
        assert_eq!(cvt(F16, Bf16, 0x4780, frnd(N)), Some(0x7C00)); // 65536 overflows f16
        // Same type: integer rounding rounds to integral; .sat and .ftz apply.
        assert_eq!(cvt(F64, F64, d(-2.7), irnd(Z)), Some(d(-2.0)));
        assert_eq!(cvt(F64, F64, d(2.5), irnd(N)), Some(d(2.0)));
        assert_eq!(cvt(F64, F64, d(3.5), irnd(N)), Some(d(4.0)));
        assert_eq!(cvt(F64, F64, d(-0.3), irnd(N)), Some(d(-0.0)));
        assert_eq!(cvt(F64, F64, d(-2.2), irnd(DN)), Some(d(-3.0)));
        assert_eq!(cvt(F64, F64, d(2.2), irnd(UP)), Some(d(3.0)));
        assert_eq!(cvt(F64, F64, d(1e300), irnd(Z)), Some(d(1e300)));
        let f = |x: f32| x.to_bits() as u64;
        assert_eq!(cvt(F32, F32, f(0.5), irnd(N)), Some(f(0.0)));
        assert_eq!(cvt(F32, F32, f(-0.5), irnd(UP)), Some(f(-0.0)));
        assert_eq!(cvt(F32, F32, f(0.7), irnd(N)), Some(f(1.0)));
        assert_eq!(cvt(F32, F32, f(4194304.5), irnd(N)), Some(f(4194304.0)));
        assert_eq!(cvt(F32, F32, f(4194305.5), irnd(N)), Some(f(4194306.0)));
        assert_eq!(
            cvt(
                F32,
                F32,
                1,
                CvtMode {
                    ftz: true,
                    ..irnd(UP)
                }
            ),
            Some(0)
        );
        assert_eq!(cvt(F32, F32, 1, irnd(UP)), Some(f(1.0)));
        let sat = CvtMode {
            sat: true,
            ..CvtMode::default()
        };
        assert_eq!(cvt(F32, F32, f(1.5), sat), Some(f(1.0)));
        assert_eq!(cvt(F32, F32, f(-1.5), sat), Some(0));
        assert_eq!(cvt(F32, F32, f(f32::NAN), sat), Some(0));
        assert_eq!(cvt(F32, F32, f(0.75), sat), Some(f(0.75)));
        assert_eq!(cvt(F32, F32, f(0.75), CvtMode::default()), Some(f(0.75)));
        assert_eq!(
            cvt(F32, F32, 0x7FC0_0001, CvtMode::default()),
            Some(0x7FFF_FFFF)
        );
        assert_eq!(
            cvt(
                F16,
                F32,
                f(3.0),
                CvtMode {
                    sat: true,
                    ..frnd(N)
                }
            ),
            Some(0x3C00)
        );
        assert_eq!(
            cvt(
                F64,
                F64,
                d(7.0),
                CvtMode {
                    sat: true,
                    ..CvtMode::default()
                }
            ),
            Some(d(1.0))
        );
        assert_eq!(cvt(F32, F32, f(1.0), frnd(N)), None);
        assert_eq!(cvt(F32, F64, d(1.0), irnd(N)), None);
        assert_eq!(cvt(F16x2, F32, 0, frnd(N)), None);
        assert_eq!(
            cvt(
                F32,
                F32,
                0,
                CvtMode {
                    integer_rounding: true,
                    ..CvtMode::default()
                }
            ),
            None
        );
    }

    #[test]
    fn f16_conversions() {
        // Every f16 widens exactly and narrows back to itself (NaNs become 0x7FFF).
        for h in 0..=u16::MAX {
            let x = f16_to_f32(h);
            let back = f32_to_f16(x, N);
            if (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0 {
                assert!(x.is_nan());
                assert_eq!(back, 0x7FFF);
            } else {
                assert_eq!(back, h, "{h:#x}");
                for r in ALL {
                    assert_eq!(f32_to_f16(x, r), h);
                    assert_eq!(f64_to_f16(x as f64, r), h);
                }
                assert_eq!(f16_to_f64(h), x as f64);
            }
        }
        assert_eq!(f16_to_f32(0x3C00), 1.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x03FF), 1023.0 * 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x7BFF), 65504.0);
        assert_eq!(f16_to_f32(0xFC00), f32::NEG_INFINITY);
        assert_eq!(f32_to_f16(65504.0, N), 0x7BFF);
        assert_eq!(f32_to_f16(65519.0, N), 0x7BFF);
        assert_eq!(f32_to_f16(65520.0, N), 0x7C00); // halfway to 2^16 rounds to inf
        assert_eq!(f32_to_f16(1e6, Z), 0x7BFF);
        assert_eq!(f32_to_f16(-1e6, UP), 0xFBFF);
        assert_eq!(f32_to_f16(-1e6, DN), 0xFC00);
        assert_eq!(f32_to_f16(2f32.powi(-25), N), 0); // tie -> even (0)
        assert_eq!(f32_to_f16(3.0 * 2f32.powi(-25), N), 2); // tie -> even (2)
        assert_eq!(f32_to_f16(2f32.powi(-25) * 1.5, N), 1);
        assert_eq!(f32_to_f16(1e-10, UP), 1);
        assert_eq!(f32_to_f16(-1e-10, N), 0x8000);
        assert_eq!(f32_to_f16(f32::NAN, N), 0x7FFF);
        assert_eq!(f32_to_f16(1.0 + 2f32.powi(-11), N), 0x3C00); // tie -> even
        assert_eq!(f32_to_f16(1.0 + 3.0 * 2f32.powi(-11), N), 0x3C02);
        assert_eq!(f32_to_f16(1.0 + 2f32.powi(-11), UP), 0x3C01);
        // f64 -> f16 in one rounding: 1 + 2^-11 + 2^-40 is above the tie.
        assert_eq!(f64_to_f16(1.0 + p2(-11) + p2(-40), N), 0x3C01);
        assert_eq!(f32_to_f16(1.0 + 2f32.powi(-11) + 2f32.powi(-23), N), 0x3C01);
    }

    #[test]
    fn bf16_conversions() {
        assert_eq!(f32_to_bf16(1.0, N), 0x3F80);
        assert_eq!(f32_to_bf16(f32::from_bits(0x3F80_8000), N), 0x3F80); // tie -> even
        assert_eq!(f32_to_bf16(f32::from_bits(0x3F81_8000), N), 0x3F82); // tie -> even
        assert_eq!(f32_to_bf16(f32::from_bits(0x3F80_8001), N), 0x3F81);
        assert_eq!(f32_to_bf16(f32::from_bits(0x3F80_7FFF), N), 0x3F80);
        assert_eq!(f32_to_bf16(f32::from_bits(0x3F80_0001), UP), 0x3F81);
        assert_eq!(f32_to_bf16(f32::from_bits(0xBF80_0001), DN), 0xBF81);
        assert_eq!(f32_to_bf16(f32::from_bits(0xBF80_0001), Z), 0xBF80);
        assert_eq!(f32_to_bf16(f32::MAX, N), 0x7F80);
        assert_eq!(f32_to_bf16(f32::MAX, Z), 0x7F7F);
        assert_eq!(f32_to_bf16(f32::from_bits(0x0000_8000), N), 0); // subnormal tie -> even
        assert_eq!(f32_to_bf16(f32::from_bits(0x0001_8000), N), 2);
        assert_eq!(f32_to_bf16(f32::NAN, N), 0x7FFF);
        assert_eq!(bf16_to_f32(0x3F80), 1.0);
        assert_eq!(bf16_to_f32(0xC040), -3.0);
        assert_eq!(bf16_to_f32(0x0001), f32::from_bits(0x0001_0000));
        assert!(bf16_to_f32(0x7FC1).is_nan());
        assert_eq!(bf16_to_f64(0x4048), 3.125);
        assert_eq!(f64_to_bf16(1.0 + p2(-8) + p2(-40), N), 0x3F81);
        assert_eq!(f64_to_bf16(1.0 + p2(-8), N), 0x3F80);
        for h in 0..=u16::MAX {
            if (h & 0x7F80) != 0x7F80 || (h & 0x7F) == 0 {
                assert_eq!(f32_to_bf16(bf16_to_f32(h), Z), h);
            }
        }
        assert_eq!(cvt_pack_f32(1.0, -2.0, N, false), 0x3C00_C000);
        assert_eq!(cvt_pack_f32(1.0, -2.0, N, true), 0x3F80_C000);
    }

    /// Soft-float round-to-nearest must agree bit for bit with the host's IEEE results;
    /// this checks the software path the directed modes share.
    #[test]
    fn soft_nearest_matches_host() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let f32s = FloatFormat::F32;
        let f64s = FloatFormat::F64;
        for _ in 0..100_000 {
            let a = rng.f32_near(None);
            let b = rng.f32_near(Some(a));
            let c = rng.f32_near(Some(a * b));
            let (ab, bb, cb) = (a.to_bits() as u64, b.to_bits() as u64, c.to_bits() as u64);
            let host = |x: f32| canon32(x).to_bits() as u64;
            assert_eq!(float_add(f32s, ab, bb, N), host(a + b), "{a:e} + {b:e}");
            assert_eq!(float_sub(f32s, ab, bb, N), host(a - b), "{a:e} - {b:e}");
            assert_eq!(float_mul(f32s, ab, bb, N), host(a * b), "{a:e} * {b:e}");
            assert_eq!(float_div(f32s, ab, bb, N), host(a / b), "{a:e} / {b:e}");
            assert_eq!(float_sqrt(f32s, ab, N), host(a.sqrt()), "sqrt {a:e}");
            assert_eq!(
                float_fma(f32s, ab, bb, cb, N),
                host(a.mul_add(b, c)),
                "fma {a:e} {b:e} {c:e}"
            );
            assert_eq!(
                float_convert(f32s, f64s, ab, N),
                canon64(a as f64).to_bits()
            );
            let x = f64::from_bits(rng.next());
            let y = if rng.next() & 1 == 0 {
                f64::from_bits(rng.next())
            } else {
                -x * (1.0 + ((rng.next() >> 40) as f64) * p2(-52))
            };
            let z = f64::from_bits(rng.next());
            let host = |v: f64| canon64(v).to_bits();
            let (xb, yb, zb) = (x.to_bits(), y.to_bits(), z.to_bits());
            assert_eq!(float_add(f64s, xb, yb, N), host(x + y), "{x:e} + {y:e}");
            assert_eq!(float_mul(f64s, xb, yb, N), host(x * y), "{x:e} * {y:e}");
            assert_eq!(float_div(f64s, xb, yb, N), host(x / y), "{x:e} / {y:e}");
            assert_eq!(float_sqrt(f64s, xb, N), host(x.sqrt()), "sqrt {x:e}");
            assert_eq!(
                float_fma(f64s, xb, yb, zb, N),
                host(x.mul_add(y, z)),
                "fma {x:e} {y:e} {z:e}"
            );
            assert_eq!(
                float_fma(f64s, xb, yb, host(-(x * y)), N),
                host(x.mul_add(y, -(x * y)))
            );
            assert_eq!(
                float_convert(f64s, f32s, xb, N),
                canon32(x as f32).to_bits() as u64
            );
        }
    }

    /// Checks one directed result set against the exact value's position: `cmp(r)` is
    /// the ordering of `r` against the exact result.
    fn check_bracket(
        what: &str,
        exact_sign: std::cmp::Ordering,
        res: [f32; 4],
        cmp: impl Fn(f32) -> std::cmp::Ordering,
    ) {
        use std::cmp::Ordering::*;
        let [n, z, dn, up] = res;
        let (cd, cu) = (cmp(dn), cmp(up));
        assert!(cd != Greater, "{what}: rm {dn:e} above exact");
        assert!(cu != Less, "{what}: rp {up:e} below exact");
        if cd == Equal || cu == Equal {
            assert!(
                cd == Equal && cu == Equal,
                "{what}: exact but rm {dn:e} rp {up:e}"
            );
            assert_eq!(dn.to_bits(), up.to_bits(), "{what}");
        } else {
            assert_eq!(
                dn.next_up().to_bits(),
                up.to_bits(),
                "{what}: rm {dn:e} rp {up:e} not adjacent"
            );
        }
        let want_z = if exact_sign == Less { up } else { dn };
        assert_eq!(z.to_bits(), want_z.to_bits(), "{what}: rz");
        assert!(
            n.to_bits() == dn.to_bits() || n.to_bits() == up.to_bits(),
            "{what}: rn"
        );
    }

    /// (s, t) with s + t == a + b exactly (TwoSum; no overflow in our ranges).
    fn two_sum(a: f64, b: f64) -> (f64, f64) {
        let s = a + b;
        let bb = s - a;
        (s, (a - (s - bb)) + (b - bb))
    }

    /// Orders finite-or-infinite `r` against the exact value s + t.
    fn cmp_sum(r: f32, s: f64, t: f64) -> std::cmp::Ordering {
        if r.is_infinite() {
            return if r > 0.0 {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Less
            };
        }
        // r and s lie within a factor 2 of each other, so r - s is exact (Sterbenz),
        // or r is far enough from s that the sign of (r - s) - t cannot flip.
        (r as f64 - s).partial_cmp(&t).unwrap()
    }

    fn sign_of(s: f64, t: f64) -> std::cmp::Ordering {
        if s != 0.0 {
            s.partial_cmp(&0.0).unwrap()
        } else {
            t.partial_cmp(&0.0).unwrap()
        }
    }

    /// 100,000 seeded random f32 operand sets: every directed result of add, mul, div,
    /// sqrt and fma brackets the exact value, with rm/rp adjacent (or equal when exact).
    #[test]
    fn directed_f32_brackets_exact_value() {
        use std::cmp::Ordering;
        let mut rng = Rng(0x0123_4567_89AB_CDEF);
        let all = |op: &dyn Fn(Rounding) -> f32| [op(N), op(Z), op(DN), op(UP)];
        for _ in 0..100_000 {
            let a = rng.f32_near(None);
            let b = rng.f32_near(Some(a));
            let c = rng.f32_near(Some(a * b));
            if !(a.is_finite() && b.is_finite() && c.is_finite()) {
                continue;
            }
            let (x, y, w) = (a as f64, b as f64, c as f64);
            // add: exact value s + t from TwoSum in f64.
            let (s, t) = two_sum(x, y);
            if s != 0.0 || t != 0.0 {
                let res = all(&|r| add_f32(a, b, r));
                assert_eq!(res[0].to_bits(), (a + b).to_bits());
                check_bracket(&format!("{a:e} + {b:e}"), sign_of(s, t), res, |r| {
                    cmp_sum(r, s, t)
                });
            }
            // mul: the product of two f32 is exact in f64.
            let p = x * y;
            if p != 0.0 {
                let res = all(&|r| mul_f32(a, b, r));
                check_bracket(&format!("{a:e} * {b:e}"), sign_of(p, 0.0), res, |r| {
                    if r.is_infinite() {
                        cmp_sum(r, 0.0, 0.0)
                    } else {
                        (r as f64).partial_cmp(&p).unwrap()
                    }
                });
            }
            // div: r vs a/b from the sign of a - b*r, exact through one f64 fma.
            if a != 0.0 && b != 0.0 {
                let res = all(&|r| div_f32(a, b, r));
                let q_sign = if (a > 0.0) == (b > 0.0) {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
                check_bracket(&format!("{a:e} / {b:e}"), q_sign, res, |r| {
                    if r.is_infinite() {
                        return cmp_sum(r, 0.0, 0.0);
                    }
                    let resid = (-y).mul_add(r as f64, x); // a - b*r, sign exact
                    let o = 0.0f64.partial_cmp(&resid).unwrap(); // r vs a/b when b > 0
                    if b > 0.0 { o } else { o.reverse() }
                });
            }
            // sqrt: r vs sqrt(a) from r*r vs a (exact in f64).
            if a > 0.0 {
                let res = all(&|r| sqrt_f32(a, r));
                check_bracket(&format!("sqrt {a:e}"), Ordering::Greater, res, |r| {
                    let r = r as f64;
                    (r * r).partial_cmp(&x).unwrap()
                });
            }
            // fma: a*b exact in f64, then TwoSum with c.
            let (s, t) = two_sum(p, w);
            if s.is_finite() && (s != 0.0 || t != 0.0) {
                let res = all(&|r| fma_f32(a, b, c, r));
                check_bracket(&format!("fma {a:e} {b:e} {c:e}"), sign_of(s, t), res, |r| {
                    cmp_sum(r, s, t)
                });
            }
        }
    }

    /// Directed f64 results bracket the exact value, judged by exact residuals (TwoSum,
    /// fma) over moderate exponents where the residuals cannot underflow.
    #[test]
    fn directed_f64_brackets_exact_value() {
        use std::cmp::Ordering::{self, *};
        let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
        fn check(what: &str, positive: bool, res: [f64; 4], cmp: impl Fn(f64) -> Ordering) {
            let [n, z, dn, up] = res;
            let (cd, cu) = (cmp(dn), cmp(up));
            assert!(cd != Greater && cu != Less, "{what}: {dn:e} {up:e}");
            if cd == Equal || cu == Equal {
                assert!(cd == Equal && cu == Equal && dn == up, "{what}");
            } else {
                assert_eq!(dn.next_up(), up, "{what}");
            }
            assert_eq!(z, if positive { dn } else { up }, "{what}: rz");
            assert!(n == dn || n == up, "{what}: rn");
        }
        let all = |op: &dyn Fn(Rounding) -> f64| [op(N), op(Z), op(DN), op(UP)];
        for _ in 0..30_000 {
            let a = rng.f64_moderate();
            let b = if rng.next() & 1 == 0 {
                rng.f64_moderate()
            } else {
                -a * (1.0 + ((rng.next() >> 40) as f64) * p2(-52))
            };
            let (s, t) = two_sum(a, b);
            if s != 0.0 {
                check(
                    &format!("{a:e} + {b:e}"),
                    s > 0.0,
                    all(&|r| add_f64(a, b, r)),
                    |r| (r - s).partial_cmp(&t).unwrap(),
                );
            }
            check(
                &format!("{a:e} * {b:e}"),
                (a > 0.0) == (b > 0.0),
                all(&|r| mul_f64(a, b, r)),
                |r| 0.0f64.partial_cmp(&a.mul_add(b, -r)).unwrap(),
            );
            check(
                &format!("{a:e} / {b:e}"),
                (a > 0.0) == (b > 0.0),
                all(&|r| div_f64(a, b, r)),
                |r| {
                    let o = 0.0f64.partial_cmp(&(-b).mul_add(r, a)).unwrap();
                    if b > 0.0 { o } else { o.reverse() }
                },
            );
            let m = a.abs();
            check(
                &format!("sqrt {m:e}"),
                true,
                all(&|r| sqrt_f64(m, r)),
                |r| 0.0f64.partial_cmp(&(-r).mul_add(r, m)).unwrap(),
            );
        }
    }
}
