//! The instruction forms the executor accepts, end to end: parse -> compile -> interpret ->
//! device memory, checked against values worked out by hand from the PTX ISA (9.1), never
//! against `exec::arith` (whose own unit tests cover the pure functions).
//!
//! The table: a [`Form`] is one instruction (or a few lines of PTX) reading typed sources
//! `%a %b %c %x` and writing typed destinations `%d %e %f %g`; [`run`] wraps it in a kernel
//! whose thread `i` loads row `i`'s sources from a global buffer, runs the form and stores
//! the destinations, so each row is one thread of one launch. Expected values are bit
//! patterns; results the ISA leaves open are written `Nan*` (any NaN of the format), `Near`
//! (the approximate instructions, within the ISA's error bound) or sit in rows labelled
//! "machine-specific" (the emulator's documented choice, which the ISA leaves unspecified). The `isa_*` tests at the end quote the ISA
//! for rules an emulator easily gets wrong (NaN payloads, flushing, approximation ranges).
//!
//! Grid-shaped forms (barriers, shared memory, atomics, special registers, vector and
//! parameter loads, calls of device functions) have their own kernels, and the last tests
//! check that unsupported forms fail at module load naming their line.

use std::collections::HashMap;
use std::sync::Arc;

use cuda_emu::exec::{self, Checks, Kernel, Launch};
use cuda_emu::memory::{Allocation, SPACE};

// ---------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------

/// Register kinds of a form's operands: `.pred`, `.b16`, `.b32`, `.b64`, `.f32`, `.f64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum T {
    P,
    H,
    W,
    L,
    F,
    D,
}
use T::*;

impl T {
    fn reg(self) -> &'static str {
        match self {
            P => "pred",
            H => "b16",
            W => "b32",
            L => "b64",
            F => "f32",
            D => "f64",
        }
    }

    /// The type of the `ld.global`/`st.global` that moves it (a predicate travels as a
    /// `.u32` 0 or 1).
    fn mem(self) -> &'static str {
        match self {
            P | W => "u32",
            H => "u16",
            L => "u64",
            F => "f32",
            D => "f64",
        }
    }

    fn size(self) -> usize {
        match self {
            H => 2,
            P | W | F => 4,
            L | D => 8,
        }
    }
}

/// An expected result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// These bits (masked to the destination's width).
    B(u64),
    /// Any `.f16` NaN (the ISA leaves the NaN unspecified).
    NanH,
    /// Any `.bf16` NaN.
    NanBf,
    /// Any `.f32` NaN ("single-precision instructions return an unspecified NaN").
    NanF,
    /// Any `.f64` NaN.
    NanD,
    /// A float of the destination's width within this many ulps of these bits (same sign):
    /// the approximate instructions' error bounds.
    Near(u64, u64),
}
use Want::*;

fn mask(size: usize) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * size)) - 1
    }
}

impl Want {
    fn accepts(self, got: u64, size: usize) -> bool {
        match self {
            B(x) => got == x & mask(size),
            NanH => got & 0x7C00 == 0x7C00 && got & 0x03FF != 0,
            NanBf => got & 0x7F80 == 0x7F80 && got & 0x007F != 0,
            NanF => got & 0x7F80_0000 == 0x7F80_0000 && got & 0x007F_FFFF != 0,
            NanD => {
                got & 0x7FF0_0000_0000_0000 == 0x7FF0_0000_0000_0000
                    && got & 0x000F_FFFF_FFFF_FFFF != 0
            }
            Near(x, ulps) => {
                let sign = 1u64 << (8 * size - 1);
                (got ^ x) & sign == 0 && got.abs_diff(x & mask(size)) <= ulps
            }
        }
    }
}

impl std::fmt::Display for Want {
    fn fmt(&self, fm: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            B(x) => write!(fm, "{x:#x}"),
            NanH => fm.write_str("any .f16 NaN"),
            NanBf => fm.write_str("any .bf16 NaN"),
            NanF => fm.write_str("any .f32 NaN"),
            NanD => fm.write_str("any .f64 NaN"),
            Near(x, u) => write!(fm, "{x:#x} within {u} ulps"),
        }
    }
}

/// One or several expected destinations.
trait Wants {
    fn wants(self) -> Vec<Want>;
}

impl Wants for Want {
    fn wants(self) -> Vec<Want> {
        vec![self]
    }
}

impl<const N: usize> Wants for [Want; N] {
    fn wants(self) -> Vec<Want> {
        self.to_vec()
    }
}

/// Sources (bits, low bits used at the source's width) and expected destinations.
type Row = (Vec<u64>, Vec<Want>);

/// `rows![[a, b] => B(x), [c, d] => [B(y), B(z)]]`.
macro_rules! rows {
    ($([$($x:expr),* $(,)?] => $w:expr),* $(,)?) => {
        vec![$((vec![$({ let v: u64 = $x; v }),*], Wants::wants($w))),*]
    };
}

/// A form under test.
struct Form {
    name: String,
    body: String,
    dst: Vec<T>,
    src: Vec<T>,
    rows: Vec<Row>,
}

const SRC: [&str; 4] = ["%a", "%b", "%c", "%x"];
const DST: [&str; 4] = ["%d", "%e", "%f", "%g"];

/// `opcode %d, %a[, %b[, %c]];` with the opcode the first word of `name` (the rest is a
/// label for messages).
fn op(name: &str, dst: T, src: &[T], rows: Vec<Row>) -> Form {
    let opcode = name.split_whitespace().next().unwrap_or_default();
    let body = format!("{opcode} %d, {};", SRC[..src.len()].join(", "));
    custom(name, &body, &[dst], src, rows)
}

/// A form written out as PTX lines over `%a..` and `%d..` (and the scratch registers
/// `%t1..%t3`, `%q0..%q3`; `%rd3` holds the thread's source slot, `%rd4` its result slot).
fn custom(name: &str, body: &str, dst: &[T], src: &[T], rows: Vec<Row>) -> Form {
    Form {
        name: name.to_string(),
        body: body.to_string(),
        dst: dst.to_vec(),
        src: src.to_vec(),
        rows,
    }
}

/// `f32` bits.
fn f(x: f32) -> u64 {
    x.to_bits() as u64
}

/// `f64` bits.
fn d(x: f64) -> u64 {
    x.to_bits()
}

/// A signed value's two's-complement bits (used at the operand's width).
fn s(x: i64) -> u64 {
    x as u64
}

const F_INF: u64 = 0x7F80_0000;
const F_NINF: u64 = 0xFF80_0000;
const F_NAN: u64 = 0x7FC0_0000;
const F_MAX: u64 = 0x7F7F_FFFF;
const F_NEG0: u64 = 0x8000_0000;
const D_INF: u64 = 0x7FF0_0000_0000_0000;
const D_NINF: u64 = 0xFFF0_0000_0000_0000;
const D_NAN: u64 = 0x7FF8_0000_0000_0000;
const D_MAX: u64 = 0x7FEF_FFFF_FFFF_FFFF;
const D_NEG0: u64 = 0x8000_0000_0000_0000;

/// Bytes of sources and of destinations per thread.
const SLOTS: usize = 32;

/// A device allocation freed on drop.
struct Buf(Arc<Allocation>);

impl Buf {
    fn new(bytes: &[u8]) -> Buf {
        let a = SPACE
            .alloc(0, bytes.len() as u64, 1 << 40, "tests/forms.rs".into())
            .unwrap_or_else(|e| panic!("device allocation: {e:?}"));
        a.write(0, bytes);
        Buf(a)
    }

    fn base(&self) -> u64 {
        self.0.base
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = vec![0; self.0.size as usize];
        self.0.read(0, &mut out);
        out
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        let _ = SPACE.free(self.0.base, "tests/forms.rs".into());
    }
}

fn numbered(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| format!("{:4} {l}\n", i + 1))
        .collect()
}

/// Parses and compiles `text`; the error as `PTX line N: ...` (parse or compile).
fn load(text: &str) -> Result<exec::Program, (usize, String)> {
    let module = cuda_emu::ptx::parse(text).map_err(|e| (e.line, e.message))?;
    exec::compile(&module, &HashMap::new()).map_err(|e| (e.line, e.message))
}

fn kernel(text: &str, name: &str) -> Arc<Kernel> {
    let program =
        load(text).unwrap_or_else(|(l, m)| panic!("PTX line {l}: {m}\n{}", numbered(text)));
    program.kernels.get(name).cloned().expect("the kernel")
}

/// Runs a grid with every check on.
fn launch(k: &Kernel, grid: [u32; 3], block: [u32; 3], params: &[u8]) -> Result<(), String> {
    let l = Launch {
        kernel: k,
        grid,
        block,
        dynamic_shared: 0,
        params,
        device: 0,
        checks: Checks::ALL,
        workers: 2,
    };
    exec::validate(&l).map_err(|e| e.to_string())?;
    exec::launch(&l)
        .map(|_| ())
        .map_err(|f| format!("{:?}: {}", f.kind, f.report))
}

/// The parameter buffer of `k` with each `.u64` parameter set.
fn params(k: &Kernel, values: &[u64]) -> Vec<u8> {
    let mut p = vec![0u8; k.param_size];
    for (info, v) in k.params.iter().zip(values) {
        p[info.offset..info.offset + 8].copy_from_slice(&v.to_le_bytes());
    }
    p
}

/// The kernel of a form: thread `i` loads row `i`'s sources, runs the body, stores.
fn form_text(f: &Form) -> String {
    let mut decls = String::new();
    let mut loads = String::new();
    let mut stores = String::new();
    for (k, t) in f.src.iter().enumerate() {
        let r = SRC[k];
        decls += &format!("\t.reg .{} {r};\n", t.reg());
        if *t == P {
            decls += &format!("\t.reg .b32 {r}_bits;\n");
            loads += &format!("\tld.global.u32 {r}_bits, [%rd3+{}];\n", 8 * k);
            loads += &format!("\tsetp.ne.u32 {r}, {r}_bits, 0;\n");
        } else {
            loads += &format!("\tld.global.{} {r}, [%rd3+{}];\n", t.mem(), 8 * k);
        }
    }
    for (k, t) in f.dst.iter().enumerate() {
        let r = DST[k];
        decls += &format!("\t.reg .{} {r};\n", t.reg());
        if *t == P {
            decls += &format!("\t.reg .b32 {r}_bits;\n");
            stores += &format!("\tselp.u32 {r}_bits, 1, 0, {r};\n");
            stores += &format!("\tst.global.u32 [%rd4+{}], {r}_bits;\n", 8 * k);
        } else {
            stores += &format!("\tst.global.{} [%rd4+{}], {r};\n", t.mem(), 8 * k);
        }
    }
    let body: String = f
        .body
        .lines()
        .map(|l| format!("\t{}\n", l.trim()))
        .collect();
    format!(
        ".version 9.0\n.target sm_80\n.address_size 64\n\n\
         .visible .entry form(\n\t.param .u64 form_out,\n\t.param .u64 form_in\n)\n{{\n\
         \t.reg .pred %q<4>;\n\t.reg .b32 %t<4>;\n\t.reg .b64 %rd<5>;\n{decls}\n\
         \tld.param.u64 %rd0, [form_out];\n\tld.param.u64 %rd1, [form_in];\n\
         \tcvta.to.global.u64 %rd0, %rd0;\n\tcvta.to.global.u64 %rd1, %rd1;\n\
         \tmov.u32 %t0, %tid.x;\n\tmul.wide.u32 %rd2, %t0, {SLOTS};\n\
         \tadd.s64 %rd3, %rd1, %rd2;\n\tadd.s64 %rd4, %rd0, %rd2;\n\
         {loads}{body}{stores}\tret;\n}}\n"
    )
}

fn hex(v: &[u64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:#x}")).collect();
    parts.join(", ")
}

/// Runs every row of `f` (one thread each); the mismatches.
fn run(f: &Form) -> Vec<String> {
    let text = form_text(f);
    let k = kernel(&text, "form");
    let n = f.rows.len();
    assert!(n > 0 && n <= 1024, "{}: {n} rows", f.name);
    let mut input = vec![0u8; n * SLOTS];
    for (i, (srcs, wants)) in f.rows.iter().enumerate() {
        assert_eq!(srcs.len(), f.src.len(), "{} row {i}: sources", f.name);
        assert_eq!(wants.len(), f.dst.len(), "{} row {i}: results", f.name);
        for (k, v) in srcs.iter().enumerate() {
            let at = i * SLOTS + 8 * k;
            input[at..at + 8].copy_from_slice(&v.to_le_bytes());
        }
    }
    let inp = Buf::new(&input);
    // Bytes no store reaches read back as 0xAB.
    let out = Buf::new(&vec![0xAB; n * SLOTS]);
    let p = params(&k, &[out.base(), inp.base()]);
    if let Err(e) = launch(&k, [1, 1, 1], [n as u32, 1, 1], &p) {
        return vec![format!(
            "{}: launch failed: {e}\n{}",
            f.name,
            numbered(&text)
        )];
    }
    let bytes = out.bytes();
    let mut bad = Vec::new();
    for (i, (srcs, wants)) in f.rows.iter().enumerate() {
        for (k, (want, t)) in wants.iter().zip(&f.dst).enumerate() {
            let at = i * SLOTS + 8 * k;
            let mut b = [0u8; 8];
            b[..t.size()].copy_from_slice(&bytes[at..at + t.size()]);
            let got = u64::from_le_bytes(b);
            if !want.accepts(got, t.size()) {
                bad.push(format!(
                    "{} [{}] -> {}: want {want}, got {got:#x}",
                    f.name,
                    hex(srcs),
                    DST[k]
                ));
            }
        }
    }
    bad
}

/// Runs every form; fails listing every mismatch.
fn check(forms: Vec<Form>) {
    let bad: Vec<String> = forms.iter().flat_map(run).collect();
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// Integer arithmetic
// ---------------------------------------------------------------------------------------

#[test]
fn integer_add_sub_mul_mad() {
    check(vec![
        op(
            "add.s32",
            W,
            &[W, W],
            rows![
                [1, 2] => B(3),
                [0x7FFF_FFFF, 1] => B(0x8000_0000),
                [0xFFFF_FFFF, 1] => B(0),
                [s(-5), 3] => B(s(-2)),
            ],
        ),
        custom(
            "add.s32 (immediate)",
            "add.s32 %d, %a, -1;",
            &[W],
            &[W],
            rows![[0] => B(0xFFFF_FFFF), [5] => B(4)],
        ),
        op(
            "add.s64",
            L,
            &[L, L],
            rows![
                [0xFFFF_FFFF, 1] => B(0x1_0000_0000),
                [0x7FFF_FFFF_FFFF_FFFF, 1] => B(0x8000_0000_0000_0000),
                [u64::MAX, 2] => B(1),
            ],
        ),
        op(
            "sub.s32",
            W,
            &[W, W],
            rows![
                [3, 5] => B(s(-2)),
                [0x8000_0000, 1] => B(0x7FFF_FFFF),
                [0, 0xFFFF_FFFF] => B(1),
            ],
        ),
        op(
            "sub.s64",
            L,
            &[L, L],
            rows![
                [0, 1] => B(u64::MAX),
                [0x8000_0000_0000_0000, 1] => B(0x7FFF_FFFF_FFFF_FFFF),
                [0x1_0000_0000, 1] => B(0xFFFF_FFFF),
            ],
        ),
        op(
            "mul.lo.s32",
            W,
            &[W, W],
            rows![
                [0x1_0000, 0x1_0000] => B(0),
                [s(-3), 7] => B(s(-21)),
                [0x7FFF_FFFF, 2] => B(0xFFFF_FFFE),
                [0xFFFF_FFFF, 0xFFFF_FFFF] => B(1),
                [0x12345, 0x10] => B(0x123450),
            ],
        ),
        op(
            "mul.lo.s64",
            L,
            &[L, L],
            rows![
                [0x1_0000_0000, 0x1_0000_0000] => B(0),
                [s(-3), 7] => B(s(-21)),
                [0xFFFF_FFFF, 0xFFFF_FFFF] => B(0xFFFF_FFFE_0000_0001),
            ],
        ),
        custom(
            "mul.lo.s64 (immediate)",
            "mul.lo.s64 %d, %a, 40;",
            &[L],
            &[L],
            rows![[3] => B(120), [s(-1)] => B(s(-40))],
        ),
        op(
            "mul.hi.u64",
            L,
            &[L, L],
            rows![
                // (2^64 - 1)^2 = 2^128 - 2^65 + 1: high half 2^64 - 2.
                [u64::MAX, u64::MAX] => B(0xFFFF_FFFF_FFFF_FFFE),
                [0x1_0000_0000, 0x1_0000_0000] => B(1),
                [1 << 63, 1 << 63] => B(1 << 62),
                [u64::MAX, 2] => B(1),
                [5, 7] => B(0),
            ],
        ),
        op(
            "mul.hi.s64",
            L,
            &[L, L],
            rows![
                [s(-1), s(-1)] => B(0),
                [1 << 63, 2] => B(u64::MAX),
                [1 << 63, 1 << 63] => B(1 << 62),
            ],
        ),
        op(
            "mul.hi.u32",
            W,
            &[W, W],
            rows![[0xFFFF_FFFF, 0xFFFF_FFFF] => B(0xFFFF_FFFE), [0x8000_0000, 4] => B(2)],
        ),
        op(
            "mul.wide.s32",
            L,
            &[W, W],
            rows![
                [s(-2), 3] => B(s(-6)),
                [0x8000_0000, 0x8000_0000] => B(0x4000_0000_0000_0000),
                [0x7FFF_FFFF, s(-1)] => B(0xFFFF_FFFF_8000_0001),
                [0x7FFF_FFFF, 0x7FFF_FFFF] => B(0x3FFF_FFFF_0000_0001),
            ],
        ),
        op(
            "mul.wide.u32",
            L,
            &[W, W],
            rows![
                [0xFFFF_FFFF, 0xFFFF_FFFF] => B(0xFFFF_FFFE_0000_0001),
                [0x8000_0000, 2] => B(0x1_0000_0000),
            ],
        ),
        custom(
            "mul.wide.u32 (immediate)",
            "mul.wide.u32 %d, %a, 64;",
            &[L],
            &[W],
            rows![[0xFFFF_FFFF] => B(0x3F_FFFF_FFC0)],
        ),
        op(
            "mul.wide.u16",
            W,
            &[H, H],
            rows![[0xFFFF, 0xFFFF] => B(0xFFFE_0001), [0x8000, 2] => B(0x1_0000)],
        ),
        custom(
            "mul.wide.u16 (immediate)",
            "mul.wide.u16 %d, %a, 4;",
            &[W],
            &[H],
            rows![[0xFFFF] => B(0x3_FFFC), [3] => B(12)],
        ),
        op(
            "mad.lo.s32",
            W,
            &[W, W, W],
            rows![
                [3, 4, 5] => B(17),
                [0x1_0000, 0x1_0000, 7] => B(7),
                [s(-2), 3, 1] => B(s(-5)),
                [0x7FFF_FFFF, 2, 3] => B(1),
            ],
        ),
        op(
            "add.sat.s32",
            W,
            &[W, W],
            rows![
                [0x7FFF_FFFF, 1] => B(0x7FFF_FFFF),
                [0x8000_0000, s(-1)] => B(0x8000_0000),
                [s(-3), 1] => B(s(-2)),
            ],
        ),
    ]);
}

#[test]
fn integer_div_rem_min_max_neg() {
    check(vec![
        op(
            "div.u32",
            W,
            &[W, W],
            rows![[7, 2] => B(3), [0xFFFF_FFFF, 0x10] => B(0x0FFF_FFFF), [5, 7] => B(0)],
        ),
        op(
            "div.u64",
            L,
            &[L, L],
            rows![
                [100, 7] => B(14),
                [u64::MAX, 2] => B(0x7FFF_FFFF_FFFF_FFFF),
                [0x1234_5678_9ABC_DEF0, 0x10] => B(0x0123_4567_89AB_CDEF),
            ],
        ),
        op(
            "div.s32",
            W,
            &[W, W],
            rows![
                // Truncation toward zero.
                [7, s(-2)] => B(s(-3)),
                [s(-7), 2] => B(s(-3)),
                [s(-7), s(-2)] => B(3),
                [6, 3] => B(2),
            ],
        ),
        op("div.s64", L, &[L, L], rows![[s(-7), 2] => B(s(-3))]),
        op(
            "rem.u32",
            W,
            &[W, W],
            rows![[7, 3] => B(1), [0xFFFF_FFFF, 10] => B(5)],
        ),
        op(
            "rem.s32",
            W,
            &[W, W],
            rows![
                // The sign of the dividend (the ISA: machine-dependent, NVIDIA truncates).
                [s(-7), 2] => B(s(-1)),
                [7, s(-2)] => B(1),
                [s(-7), s(-2)] => B(s(-1)),
                // MIN % -1 is 0: no overflow in the remainder.
                [0x8000_0000, s(-1)] => B(0),
            ],
        ),
        op(
            "max.s32",
            W,
            &[W, W],
            rows![[s(-1), 1] => B(1), [0x8000_0000, 0x7FFF_FFFF] => B(0x7FFF_FFFF)],
        ),
        op(
            "max.u32",
            W,
            &[W, W],
            rows![[0xFFFF_FFFF, 1] => B(0xFFFF_FFFF), [3, 4] => B(4)],
        ),
        op(
            "max.s64",
            L,
            &[L, L],
            rows![[s(-1), 0] => B(0), [1 << 63, s(-5)] => B(s(-5))],
        ),
        op(
            "min.s32",
            W,
            &[W, W],
            rows![[s(-1), 1] => B(s(-1)), [0x8000_0000, 0x7FFF_FFFF] => B(0x8000_0000)],
        ),
        op(
            "min.u32",
            W,
            &[W, W],
            rows![[0xFFFF_FFFF, 1] => B(1), [3, 4] => B(3)],
        ),
        op(
            "min.s64",
            L,
            &[L, L],
            rows![[s(-1), 0] => B(s(-1)), [1 << 63, s(-5)] => B(1 << 63)],
        ),
        op(
            "min.u64",
            L,
            &[L, L],
            rows![[u64::MAX, 255] => B(255), [1 << 63, 1] => B(1)],
        ),
        custom(
            "min.u64 (immediate)",
            "min.u64 %d, %a, 255;",
            &[L],
            &[L],
            rows![[u64::MAX] => B(255), [7] => B(7)],
        ),
        op(
            "neg.s32",
            W,
            &[W],
            rows![[5] => B(s(-5)), [0x8000_0000] => B(0x8000_0000), [0] => B(0)],
        ),
        op(
            "neg.s64",
            L,
            &[L],
            rows![[1] => B(u64::MAX), [1 << 63] => B(1 << 63), [s(-9)] => B(9)],
        ),
    ]);
}

/// Division by zero ("yields an unspecified, machine-specific value") and signed MIN / -1
/// (an overflow the ISA does not define): the emulator's documented hardware values
/// (arith.rs `div_int`, `rem_int`: all ones for `x / 0`, `x % 0 = x`, `MIN / -1 = MIN`).
/// Forms nvcc does not emit for the project's kernels but the compiler accepts.
#[test]
fn integer_forms_beyond_the_kernels() {
    check(vec![
        op(
            "abs.s32",
            W,
            &[W],
            rows![[s(-5)] => B(5), [0x8000_0000] => B(0x8000_0000)],
        ),
        op(
            "sub.sat.s32",
            W,
            &[W, W],
            rows![[0x8000_0000, 1] => B(0x8000_0000), [0x7FFF_FFFF, s(-1)] => B(0x7FFF_FFFF)],
        ),
        op(
            "mad.hi.u32",
            W,
            &[W, W, W],
            rows![[0xFFFF_FFFF, 0xFFFF_FFFF, 1] => B(0xFFFF_FFFF)],
        ),
        op(
            "mad.lo.s64",
            L,
            &[L, L, L],
            rows![[0x1_0000_0000, 0x1_0000_0000, 7] => B(7), [s(-2), 3, 1] => B(s(-5))],
        ),
        op(
            "mad.wide.u32",
            L,
            &[W, W, L],
            rows![[0xFFFF_FFFF, 0xFFFF_FFFF, 1] => B(0xFFFF_FFFE_0000_0002)],
        ),
        op("mad.wide.s32", L, &[W, W, L], rows![[s(-1), 2, 5] => B(3)]),
        op("rem.u64", L, &[L, L], rows![[u64::MAX, 10] => B(5)]),
        op("rem.s64", L, &[L, L], rows![[s(-7), 2] => B(s(-1))]),
        op(
            "neg.s16",
            H,
            &[H],
            rows![[1] => B(0xFFFF), [0x8000] => B(0x8000)],
        ),
        // 16-bit types compare and shift at 16 bits.
        op(
            "min.s16",
            H,
            &[H, H],
            rows![[0x8000, 1] => B(0x8000), [0xFFFF, 1] => B(0xFFFF)],
        ),
        op("min.u16", H, &[H, H], rows![[0x8000, 1] => B(1)]),
        op(
            "setp.lt.s16",
            P,
            &[H, H],
            rows![[0x8000, 1] => B(1), [1, 0xFFFF] => B(0)],
        ),
        op(
            "setp.lt.u16",
            P,
            &[H, H],
            rows![[0x8000, 1] => B(0), [1, 0xFFFF] => B(1)],
        ),
        op(
            "shl.b16",
            H,
            &[H, W],
            rows![[1, 15] => B(0x8000), [1, 16] => B(0)],
        ),
        op(
            "shr.u16",
            H,
            &[H, W],
            rows![[0x8000, 15] => B(1), [0x8000, 16] => B(0)],
        ),
        op(
            "shr.s16",
            H,
            &[H, W],
            rows![[0x8000, 15] => B(0xFFFF), [0x8000, 20] => B(0xFFFF)],
        ),
        op("not.b16", H, &[H], rows![[0x00FF] => B(0xFF00)]),
        op("not.pred", P, &[P], rows![[0] => B(1), [1] => B(0)]),
        op(
            "xor.pred",
            P,
            &[P, P],
            rows![[1, 1] => B(0), [1, 0] => B(1)],
        ),
        op(
            "xor.b32",
            W,
            &[W, W],
            rows![[0xFFFF_0000, 0x0F0F_0F0F] => B(0xF0F0_0F0F)],
        ),
        op("cnot.b32", W, &[W], rows![[0] => B(1), [5] => B(0)]),
        op(
            "clz.b64",
            W,
            &[L],
            rows![[1] => B(63), [0] => B(64), [1 << 63] => B(0)],
        ),
        op(
            "brev.b32",
            W,
            &[W],
            rows![[1] => B(0x8000_0000), [0x1234_5678] => B(0x1E6A_2C48)],
        ),
        // The most significant non-sign bit; 0xFFFFFFFF when there is none.
        op(
            "bfind.u32",
            W,
            &[W],
            rows![[0x0001_0000] => B(16), [0] => B(0xFFFF_FFFF), [0x8000_0000] => B(31)],
        ),
        op(
            "bfind.s32",
            W,
            &[W],
            rows![[0xFFFF_FFFF] => B(0xFFFF_FFFF), [0xFFFF_0000] => B(15), [5] => B(2)],
        ),
        op(
            "bfind.shiftamt.u32",
            W,
            &[W],
            rows![[0x0001_0000] => B(15), [0] => B(0xFFFF_FFFF)],
        ),
        // bfi f, a, b, pos, len: b with bits pos..pos+len from a's low bits.
        custom(
            "bfi.b32",
            "bfi.b32 %d, %a, %b, %c, %x;",
            &[W],
            &[W, W, W, W],
            rows![
                [0xF, 0x1234_5678, 8, 4] => B(0x1234_5F78),
                [0xFF, 0, 28, 8] => B(0xF000_0000),
                [0xFF, 0x1234_5678, 4, 0] => B(0x1234_5678),
                [0xFF, 0x1234_5678, 32, 4] => B(0x1234_5678),
            ],
        ),
        op(
            "dp4a.u32.u32",
            W,
            &[W, W, W],
            rows![
                [0x0102_0304, 0x0101_0101, 10] => B(20),
                [0xFFFF_FFFF, 0xFFFF_FFFF, 0] => B(0x3_F804),
            ],
        ),
        op(
            "dp4a.s32.s32",
            W,
            &[W, W, W],
            rows![[0xFF02_0304, 0x0202_0202, 0] => B(16), [0xFFFF_FFFF, 0xFFFF_FFFF, 0] => B(4)],
        ),
    ]);
}

#[test]
fn integer_division_machine_specific() {
    check(vec![
        op(
            "div.u32 by zero",
            W,
            &[W, W],
            rows![[5, 0] => B(0xFFFF_FFFF)],
        ),
        op("div.u64 by zero", L, &[L, L], rows![[5, 0] => B(u64::MAX)]),
        op(
            "div.s32 by zero, MIN / -1",
            W,
            &[W, W],
            rows![[5, 0] => B(0xFFFF_FFFF), [0x8000_0000, s(-1)] => B(0x8000_0000)],
        ),
        op(
            "div.s64 MIN / -1",
            L,
            &[L, L],
            rows![[1 << 63, s(-1)] => B(1 << 63)],
        ),
        op("rem.u32 by zero", W, &[W, W], rows![[5, 0] => B(5)]),
        op("rem.s32 by zero", W, &[W, W], rows![[s(-5), 0] => B(s(-5))]),
    ]);
}

// ---------------------------------------------------------------------------------------
// Logic, shifts, bit fields
// ---------------------------------------------------------------------------------------

#[test]
fn logic_and_shifts() {
    check(vec![
        op("and.b16", H, &[H, H], rows![[0xF0F0, 0xFF00] => B(0xF000)]),
        custom(
            "and.b16 (immediate)",
            "and.b16 %d, %a, 255;",
            &[H],
            &[H],
            rows![[0x1234] => B(0x34)],
        ),
        op(
            "and.b32",
            W,
            &[W, W],
            rows![[0xFF00_FF00, 0x0FF0_0FF0] => B(0x0F00_0F00)],
        ),
        op(
            "and.b64",
            L,
            &[L, L],
            rows![[0xFFFF_0000_FFFF_0000, 0x00FF_FF00_00FF_FF00] => B(0x00FF_0000_00FF_0000)],
        ),
        op("or.b16", H, &[H, H], rows![[0xF000, 0x000F] => B(0xF00F)]),
        op(
            "or.b32",
            W,
            &[W, W],
            rows![[0x8000_0000, 1] => B(0x8000_0001)],
        ),
        op(
            "or.b64",
            L,
            &[L, L],
            rows![[1 << 63, 1] => B(0x8000_0000_0000_0001)],
        ),
        op("xor.b16", H, &[H, H], rows![[0xFFFF, 0x0F0F] => B(0xF0F0)]),
        op(
            "xor.b64",
            L,
            &[L, L],
            rows![[0xAAAA_AAAA_AAAA_AAAA, u64::MAX] => B(0x5555_5555_5555_5555)],
        ),
        op(
            "not.b32",
            W,
            &[W],
            rows![[0] => B(0xFFFF_FFFF), [0x0F0F_0F0F] => B(0xF0F0_F0F0)],
        ),
        op(
            "not.b64",
            L,
            &[L],
            rows![[0] => B(u64::MAX), [0xFFFF_FFFF] => B(0xFFFF_FFFF_0000_0000)],
        ),
        op(
            "and.pred",
            P,
            &[P, P],
            rows![[0, 0] => B(0), [0, 1] => B(0), [1, 0] => B(0), [1, 1] => B(1)],
        ),
        op(
            "or.pred",
            P,
            &[P, P],
            rows![[0, 0] => B(0), [0, 1] => B(1), [1, 0] => B(1), [1, 1] => B(1)],
        ),
        // "Shift amounts greater than the register width N are clamped to N."
        op(
            "shl.b32",
            W,
            &[W, W],
            rows![
                [1, 31] => B(0x8000_0000),
                [1, 32] => B(0),
                [0xFFFF_FFFF, 40] => B(0),
                [0x1234_5678, 4] => B(0x2345_6780),
                [0x1234_5678, 0] => B(0x1234_5678),
                [1, 0xFFFF_FFFF] => B(0),
            ],
        ),
        op(
            "shl.b64",
            L,
            &[L, W],
            rows![[1, 63] => B(1 << 63), [1, 64] => B(0), [0xFF, 8] => B(0xFF00)],
        ),
        custom(
            "shl.b64 (immediate)",
            "shl.b64 %d, %a, 8;",
            &[L],
            &[L],
            rows![[0x00FF_0000_0000_0001] => B(0xFF00_0000_0000_0100)],
        ),
        op(
            "shr.u32",
            W,
            &[W, W],
            rows![
                [0x8000_0000, 31] => B(1),
                [0x8000_0000, 32] => B(0),
                [0xFFFF_FFFF, 100] => B(0),
                [0xF000_0000, 4] => B(0x0F00_0000),
            ],
        ),
        // "Signed shifts fill with the sign bit."
        op(
            "shr.s32",
            W,
            &[W, W],
            rows![
                [0x8000_0000, 31] => B(0xFFFF_FFFF),
                [0x8000_0000, 32] => B(0xFFFF_FFFF),
                [0x8000_0000, 40] => B(0xFFFF_FFFF),
                [0x7FFF_FFFF, 40] => B(0),
                [s(-8), 1] => B(s(-4)),
                [0xFFFF_FFF0, 0xFFFF_FFFF] => B(0xFFFF_FFFF),
                [0x4000_0000, 30] => B(1),
            ],
        ),
        custom(
            "shr.s32 (immediate)",
            "shr.s32 %d, %a, 22;",
            &[W],
            &[W],
            rows![[0x8040_0000] => B(0xFFFF_FE01)],
        ),
        op(
            "shr.u64",
            L,
            &[L, W],
            rows![[1 << 63, 63] => B(1), [u64::MAX, 64] => B(0), [u64::MAX, 0xFFFF_FFFF] => B(0)],
        ),
        op(
            "shr.s64",
            L,
            &[L, W],
            rows![
                [1 << 63, 63] => B(u64::MAX),
                [1 << 63, 64] => B(u64::MAX),
                [1 << 63, 1000] => B(u64::MAX),
                [0x7FFF_FFFF_FFFF_FFFF, 64] => B(0),
                [s(-16), 2] => B(s(-4)),
            ],
        ),
        op(
            "shr.b32",
            W,
            &[W, W],
            rows![[0x8000_0000, 4] => B(0x0800_0000)],
        ),
    ]);
}

#[test]
fn bit_fields_counts_permutes_dot_products() {
    check(vec![
        // d[i] = (i < len && pos + i <= msb) ? a[pos + i] : sbit; pos, len use 8 bits.
        op(
            "bfe.u32",
            W,
            &[W, W, W],
            rows![
                [0x1234_5678, 4, 8] => B(0x67),
                [0xF000_0000, 28, 8] => B(0xF),
                [0x1234_5678, 0, 32] => B(0x1234_5678),
                [0x1234_5678, 8, 0] => B(0),
                [0xFFFF_FFFF, 40, 8] => B(0),
                [0x1234_5678, 0x104, 0x108] => B(0x67),
            ],
        ),
        op(
            "bfe.s32",
            W,
            &[W, W, W],
            rows![
                [0x0000_00F0, 4, 4] => B(0xFFFF_FFFF),
                [0x0000_0070, 4, 4] => B(7),
                // The field passes the msb: sbit = a[31].
                [0x8000_0000, 28, 8] => B(0xFFFF_FFF8),
                [0x8000_0000, 40, 4] => B(0xFFFF_FFFF),
                [0xFFFF_FFFF, 4, 0] => B(0),
            ],
        ),
        op(
            "popc.b32",
            W,
            &[W],
            rows![
                [0] => B(0),
                [0xFFFF_FFFF] => B(32),
                [0x8000_0001] => B(2),
                [0x1234_5678] => B(13),
            ],
        ),
        op(
            "popc.b64",
            W,
            &[L],
            rows![[u64::MAX] => B(64), [0x8000_0000_0000_0001] => B(2)],
        ),
        op(
            "clz.b32",
            W,
            &[W],
            rows![[0] => B(32), [1] => B(31), [0x8000_0000] => B(0), [0x0001_0000] => B(15)],
        ),
        // Bytes of {b, a}: a = 0x44332211 (bytes 0-3), b = 0x88776655 (bytes 4-7).
        custom(
            "prmt.b32 (selector 0x7604)",
            "prmt.b32 %d, %a, %b, 30212;",
            &[W],
            &[W, W],
            rows![
                [0x4433_2211, 0x8877_6655] => B(0x8877_1155),
                [0x0000_00FF, 0x0403_0201] => B(0x0403_FF01),
            ],
        ),
        op(
            "prmt.b32",
            W,
            &[W, W, W],
            rows![
                [0x4433_2211, 0x8877_6655, 0x3210] => B(0x4433_2211),
                [0x4433_2211, 0x8877_6655, 0x7654] => B(0x8877_6655),
                [0x4433_2211, 0x8877_6655, 0x0123] => B(0x1122_3344),
                // Selector msb set: replicate the selected byte's sign.
                [0x0000_00F0, 0, 0x8880] => B(0xFFFF_FFF0),
                [0x0000_0070, 0, 0x8880] => B(0x0000_0070),
                [0x4433_2211, 0x8877_6655, 0x000F] => B(0x1111_11FF),
                [0x4433_2211, 0x8877_6655, 0x0008] => B(0x1111_1100),
                // Only c[15:0] is used.
                [0x4433_2211, 0x8877_6655, 0xFFFF_3210] => B(0x4433_2211),
            ],
        ),
        op(
            "prmt.b32.f4e",
            W,
            &[W, W, W],
            rows![[0x4433_2211, 0x8877_6655, 1] => B(0x5544_3322), [0x4433_2211, 0x8877_6655, 5] => B(0x5544_3322)],
        ),
        op(
            "prmt.b32.b4e",
            W,
            &[W, W, W],
            rows![[0x4433_2211, 0x8877_6655, 0] => B(0x6677_8811)],
        ),
        op(
            "prmt.b32.rc8",
            W,
            &[W, W, W],
            rows![[0x4433_2211, 0x8877_6655, 2] => B(0x3333_3333)],
        ),
        op(
            "prmt.b32.ecl",
            W,
            &[W, W, W],
            rows![[0x4433_2211, 0x8877_6655, 2] => B(0x4433_3333)],
        ),
        op(
            "prmt.b32.ecr",
            W,
            &[W, W, W],
            rows![[0x4433_2211, 0x8877_6655, 1] => B(0x2222_2211)],
        ),
        op(
            "prmt.b32.rc16",
            W,
            &[W, W, W],
            rows![[0x4433_2211, 0x8877_6655, 1] => B(0x4433_4433)],
        ),
        // d = c + a.h0 * b.byte0 + a.h1 * b.byte1 (.lo), bytes 2 and 3 for .hi.
        op(
            "dp2a.lo.u32.u32",
            W,
            &[W, W, W],
            rows![
                [0x0003_0002, 0x0000_0504, 100] => B(123),
                [0x0003_0002, 0xFFFF_0504, 100] => B(123),
                [0xFFFF_FFFF, 0x0000_FFFF, 0] => B(0x01FD_FE02),
                [1, 1, 0xFFFF_FFFF] => B(0),
            ],
        ),
        op(
            "dp2a.hi.u32.u32",
            W,
            &[W, W, W],
            rows![[0x0003_0002, 0x0504_0000, 0] => B(23)],
        ),
        op(
            "dp2a.lo.s32.s32",
            W,
            &[W, W, W],
            rows![
                [0xFFFF_0002, 0x0000_FF04, 0] => B(9),
                [0x0001_FFFF, 0x0000_0302, 0] => B(1),
                [0xFFFF_FFFF, 0x0000_0101, 5] => B(3),
            ],
        ),
    ]);
}

// ---------------------------------------------------------------------------------------
// Floating point
// ---------------------------------------------------------------------------------------

#[test]
fn float_add_sub() {
    check(vec![
        op(
            "add.rn.f32",
            F,
            &[F, F],
            rows![
                [f(1.5), f(2.25)] => B(f(3.75)),
                // 1 + 2^-24 + 2^-30: above the half ulp, up.
                [f(1.0), 0x3382_0000] => B(0x3F80_0001),
                // 1 + 2^-24: a tie, to even.
                [f(1.0), 0x3380_0000] => B(0x3F80_0000),
                [0x3F80_0001, 0x3380_0000] => B(0x3F80_0002),
                [f(-1.0), 0xB382_0000] => B(0xBF80_0001),
                [0, F_NEG0] => B(0),
                [F_NEG0, F_NEG0] => B(F_NEG0),
                [f(1.0), f(-1.0)] => B(0),
                [F_MAX, F_MAX] => B(F_INF),
                [F_INF, F_NINF] => NanF,
                [F_NAN, f(1.0)] => NanF,
                // Subnormals are kept (no .ftz).
                [1, 1] => B(2),
            ],
        ),
        op(
            "add.rz.f32",
            F,
            &[F, F],
            rows![
                [f(1.0), 0x3382_0000] => B(0x3F80_0000),
                [0x3F80_0001, 0x3380_0000] => B(0x3F80_0001),
                [f(-1.0), 0xB382_0000] => B(0xBF80_0000),
                [F_MAX, F_MAX] => B(F_MAX),
                [0xFF7F_FFFF, 0xFF7F_FFFF] => B(0xFF7F_FFFF),
                [f(1.0), f(-1.0)] => B(0),
                [F_INF, f(1.0)] => B(F_INF),
            ],
        ),
        op(
            "sub.rn.f32",
            F,
            &[F, F],
            rows![
                [f(1.0), f(0.75)] => B(f(0.25)),
                [0, 0] => B(0),
                [F_NEG0, 0] => B(F_NEG0),
                [f(1.0), 0xB382_0000] => B(0x3F80_0001),
                [F_INF, F_INF] => NanF,
                [f(1.0), f(1.0)] => B(0),
            ],
        ),
        op(
            "add.rn.f64",
            D,
            &[D, D],
            rows![
                // 3 * 0x1999999999999A * 2^-56: exactly half way, to the even 0x...334.
                [d(0.1), d(0.2)] => B(0x3FD3_3333_3333_3334),
                // 1 + 2^-53: a tie, to even; 1 + 2^-53 + 2^-60: up.
                [d(1.0), 0x3CA0_0000_0000_0000] => B(0x3FF0_0000_0000_0000),
                [d(1.0), 0x3CA0_2000_0000_0000] => B(0x3FF0_0000_0000_0001),
                [d(-1.0), 0xBCA0_2000_0000_0000] => B(0xBFF0_0000_0000_0001),
                [0, D_NEG0] => B(0),
                [D_NEG0, D_NEG0] => B(D_NEG0),
                [D_MAX, D_MAX] => B(D_INF),
                [D_INF, D_NINF] => NanD,
                [D_NAN, d(1.0)] => NanD,
                [1, 1] => B(2),
            ],
        ),
        op(
            "add.rz.f64",
            D,
            &[D, D],
            rows![
                [d(0.1), d(0.2)] => B(0x3FD3_3333_3333_3333),
                [d(1.0), 0x3CA0_2000_0000_0000] => B(0x3FF0_0000_0000_0000),
                [d(-1.0), 0xBCA0_2000_0000_0000] => B(0xBFF0_0000_0000_0000),
                [D_MAX, D_MAX] => B(D_MAX),
                [d(1.0), d(-1.0)] => B(0),
                [d(1.5), d(2.25)] => B(d(3.75)),
            ],
        ),
        op(
            "sub.rn.f64",
            D,
            &[D, D],
            rows![
                [d(5.5), d(2.25)] => B(d(3.25)),
                [d(1.0), d(1.0)] => B(0),
                [D_NEG0, 0] => B(D_NEG0),
                [D_INF, D_INF] => NanD,
                [d(1.0), 0xBCA0_2000_0000_0000] => B(0x3FF0_0000_0000_0001),
                // 1 - 2^-54: a tie between 1 - 2^-53 (odd) and 1 (even).
                [d(1.0), 0x3C90_0000_0000_0000] => B(0x3FF0_0000_0000_0000),
                [d(1.0), 0x3C90_0000_0000_0001] => B(0x3FEF_FFFF_FFFF_FFFF),
            ],
        ),
    ]);
}

#[test]
fn float_mul_div_fma_sqrt_rcp() {
    check(vec![
        op(
            "mul.rn.f32",
            F,
            &[F, F],
            rows![
                [f(1.5), f(2.0)] => B(f(3.0)),
                // (1 + 2^-23) * 1.5 = 1.5 + 2^-23 + 2^-24: a tie, to the even 0x3FC00002.
                [0x3F80_0001, f(1.5)] => B(0x3FC0_0002),
                [0xBF80_0001, f(1.5)] => B(0xBFC0_0002),
                [F_NEG0, f(5.0)] => B(F_NEG0),
                [0, F_INF] => NanF,
                [F_MAX, f(2.0)] => B(F_INF),
                [0x0080_0000, f(0.5)] => B(0x0040_0000),
                // 3 * 2^-150: a tie between 1 and 2 (* 2^-149), to even.
                [3, f(0.5)] => B(2),
            ],
        ),
        op(
            "mul.rz.f32",
            F,
            &[F, F],
            rows![
                [0x3F80_0001, f(1.5)] => B(0x3FC0_0001),
                [0xBF80_0001, f(1.5)] => B(0xBFC0_0001),
                [F_MAX, f(2.0)] => B(F_MAX),
                [0xFF7F_FFFF, f(2.0)] => B(0xFF7F_FFFF),
                [f(1.5), f(2.0)] => B(f(3.0)),
                [3, f(0.5)] => B(1),
                [0x8000_0001, f(0.5)] => B(F_NEG0),
            ],
        ),
        op(
            "mul.rn.f64",
            D,
            &[D, D],
            rows![
                [d(1.5), d(2.0)] => B(d(3.0)),
                [0x3FF0_0000_0000_0001, d(1.5)] => B(0x3FF8_0000_0000_0002),
                [D_MAX, d(2.0)] => B(D_INF),
                [0, D_NINF] => NanD,
                [D_NEG0, 0] => B(D_NEG0),
                [d(0.1), d(10.0)] => B(d(1.0)),
                [d(0.1), d(3.0)] => B(0x3FD3_3333_3333_3334),
            ],
        ),
        op(
            "div.rn.f32",
            F,
            &[F, F],
            rows![
                [f(1.0), f(3.0)] => B(0x3EAA_AAAB),
                [f(2.0), f(3.0)] => B(0x3F2A_AAAB),
                [f(6.0), f(3.0)] => B(f(2.0)),
                [f(1.0), 0] => B(F_INF),
                [f(-1.0), 0] => B(F_NINF),
                [f(1.0), F_NEG0] => B(F_NINF),
                [0, 0] => NanF,
                [F_INF, F_INF] => NanF,
                [F_NEG0, f(5.0)] => B(F_NEG0),
            ],
        ),
        op(
            "div.rn.f64",
            D,
            &[D, D],
            rows![
                [d(1.0), d(3.0)] => B(0x3FD5_5555_5555_5555),
                [d(2.0), d(3.0)] => B(0x3FE5_5555_5555_5555),
                [d(10.0), d(4.0)] => B(d(2.5)),
                [d(1.0), 0] => B(D_INF),
                [d(1.0), D_NEG0] => B(D_NINF),
                [0, 0] => NanD,
                [D_NEG0, d(5.0)] => B(D_NEG0),
            ],
        ),
        op(
            "fma.rn.f32",
            F,
            &[F, F, F],
            rows![
                // (1 + 2^-23)(1 - 2^-23) - 1 = -2^-46 exactly: one rounding only.
                [0x3F80_0001, 0x3F7F_FFFE, f(-1.0)] => B(0xA880_0000),
                [0x3F80_0001, 0x3F80_0001, 0xBF80_0002] => B(0x2880_0000),
                [f(2.0), f(3.0), f(4.0)] => B(f(10.0)),
                [F_INF, 0, f(1.0)] => NanF,
                [f(1.0), f(1.0), f(-1.0)] => B(0),
            ],
        ),
        op(
            "fma.rn.f64",
            D,
            &[D, D, D],
            rows![
                [0x3FF0_0000_0000_0001, 0x3FEF_FFFF_FFFF_FFFE, d(-1.0)] => B(0xB970_0000_0000_0000),
                [d(2.0), d(3.0), d(4.0)] => B(d(10.0)),
                [D_INF, 0, d(1.0)] => NanD,
            ],
        ),
        op(
            "rcp.rn.f64",
            D,
            &[D],
            rows![
                [d(3.0)] => B(0x3FD5_5555_5555_5555),
                [d(10.0)] => B(0x3FB9_9999_9999_999A),
                [d(2.0)] => B(d(0.5)),
                [0] => B(D_INF),
                [D_NEG0] => B(D_NINF),
                [D_INF] => B(0),
                [D_NINF] => B(D_NEG0),
                [D_NAN] => NanD,
            ],
        ),
        op("rcp.rn.f32", F, &[F], rows![[f(3.0)] => B(0x3EAA_AAAB)]),
        op(
            "sqrt.rn.f64",
            D,
            &[D],
            rows![
                [d(4.0)] => B(d(2.0)),
                [d(2.0)] => B(0x3FF6_A09E_667F_3BCD),
                [0] => B(0),
                [D_NEG0] => B(D_NEG0),
                [d(-1.0)] => NanD,
                [D_INF] => B(D_INF),
                // sqrt(2^-1074) = 2^-537.
                [1] => B(0x1E60_0000_0000_0000),
            ],
        ),
        op("sqrt.rn.f32", F, &[F], rows![[f(2.0)] => B(0x3FB5_04F3)]),
    ]);
}

#[test]
fn float_directed_roundings_and_saturation() {
    check(vec![
        // An exact zero sum is +0 in every rounding but toward -infinity, where it is -0.
        op(
            "add.rm.f32",
            F,
            &[F, F],
            rows![[f(1.0), f(-1.0)] => B(F_NEG0), [f(1.0), 0x3382_0000] => B(0x3F80_0000), [f(-1.0), 0xB382_0000] => B(0xBF80_0001)],
        ),
        op(
            "add.rp.f32",
            F,
            &[F, F],
            rows![[f(1.0), f(-1.0)] => B(0), [f(1.0), 0x3080_0000] => B(0x3F80_0001), [F_MAX, F_MAX] => B(F_INF)],
        ),
        op(
            "add.rm.f64",
            D,
            &[D, D],
            rows![[d(1.0), d(-1.0)] => B(D_NEG0)],
        ),
        op(
            "sub.rz.f64",
            D,
            &[D, D],
            rows![[d(1.0), 0x3C90_0000_0000_0001] => B(0x3FEF_FFFF_FFFF_FFFF), [d(1.0), d(1.0)] => B(0)],
        ),
        op(
            "div.rz.f32",
            F,
            &[F, F],
            rows![[f(1.0), f(3.0)] => B(0x3EAA_AAAA), [f(2.0), f(3.0)] => B(0x3F2A_AAAA)],
        ),
        op(
            "div.rp.f32",
            F,
            &[F, F],
            rows![[f(1.0), f(3.0)] => B(0x3EAA_AAAB)],
        ),
        op(
            "div.rm.f32",
            F,
            &[F, F],
            rows![[f(-1.0), f(3.0)] => B(0xBEAA_AAAB)],
        ),
        op(
            "div.rz.f64",
            D,
            &[D, D],
            rows![[d(2.0), d(3.0)] => B(0x3FE5_5555_5555_5555)],
        ),
        op(
            "div.rp.f64",
            D,
            &[D, D],
            rows![[d(2.0), d(3.0)] => B(0x3FE5_5555_5555_5556)],
        ),
        op(
            "fma.rm.f32",
            F,
            &[F, F, F],
            rows![[f(1.0), f(1.0), f(-1.0)] => B(F_NEG0)],
        ),
        op(
            "fma.rz.f64",
            D,
            &[D, D, D],
            rows![[0x3FF0_0000_0000_0001, 0x3FF0_0000_0000_0001, 0] => B(0x3FF0_0000_0000_0002)],
        ),
        op("sqrt.rp.f32", F, &[F], rows![[f(2.0)] => B(0x3FB5_04F4)]),
        op(
            "sqrt.rn.f32",
            F,
            &[F],
            rows![[F_NEG0] => B(F_NEG0), [f(-4.0)] => NanF],
        ),
        // .sat clamps to [0.0, 1.0], NaN results to +0.0.
        op(
            "add.sat.f32",
            F,
            &[F, F],
            rows![
                [f(0.75), f(0.5)] => B(f(1.0)),
                [f(0.25), f(0.5)] => B(f(0.75)),
                [f(-1.0), f(0.5)] => B(0),
                [F_INF, F_NINF] => B(0),
                [F_NEG0, 0] => B(0),
            ],
        ),
        op(
            "mul.sat.f32",
            F,
            &[F, F],
            rows![[f(3.0), f(0.5)] => B(f(1.0)), [F_NAN, f(1.0)] => B(0)],
        ),
        op(
            "cvt.sat.f32.f32",
            F,
            &[F],
            rows![[f(1.5)] => B(f(1.0)), [f(-0.5)] => B(0), [F_NAN] => B(0), [f(0.5)] => B(f(0.5))],
        ),
    ]);
}

/// The approximate forms: the ISA's corner-case tables exactly, other values within the
/// stated error bounds.
#[test]
fn float_approximations() {
    check(vec![
        op(
            "ex2.approx.f32",
            F,
            &[F],
            rows![
                [F_NINF] => B(0),
                [F_NEG0] => B(f(1.0)),
                [0] => B(f(1.0)),
                [F_INF] => B(F_INF),
                [F_NAN] => NanF,
                // "The maximum ulp error is 2."
                [f(3.0)] => Near(f(8.0), 2),
                [f(-1.0)] => Near(f(0.5), 2),
                [f(0.5)] => Near(0x3FB5_04F3, 2),
            ],
        ),
        op(
            "lg2.approx.f32",
            F,
            &[F],
            rows![
                [F_NINF] => NanF,
                [f(-1.0)] => NanF,
                [F_NEG0] => B(F_NINF),
                [0] => B(F_NINF),
                [F_INF] => B(F_INF),
                [F_NAN] => NanF,
                // Relative error 2^-22 outside (0.5, 2): log2(10) = 3.32.. within 4 ulps.
                [f(10.0)] => Near(0x4054_9A78, 4),
                [f(8.0)] => Near(f(3.0), 4),
            ],
        ),
        op(
            "rsqrt.approx.f32",
            F,
            &[F],
            rows![
                [F_NINF] => NanF,
                [f(-1.0)] => NanF,
                [F_NEG0] => B(F_NINF),
                [0] => B(F_INF),
                [F_INF] => B(0),
                [F_NAN] => NanF,
                [f(4.0)] => Near(f(0.5), 2),
            ],
        ),
        op(
            "rsqrt.approx.f64",
            D,
            &[D],
            rows![[D_NEG0] => B(D_NINF), [0] => B(D_INF), [D_INF] => B(0), [d(-1.0)] => NanD],
        ),
        op(
            "sqrt.approx.f32",
            F,
            &[F],
            rows![
                [F_NINF] => NanF,
                [f(-1.0)] => NanF,
                [F_NEG0] => B(F_NEG0),
                [0] => B(0),
                [F_INF] => B(F_INF),
                [f(4.0)] => Near(f(2.0), 1),
            ],
        ),
        op(
            "rcp.approx.f32",
            F,
            &[F],
            rows![
                [F_NINF] => B(F_NEG0),
                [F_NEG0] => B(F_NINF),
                [0] => B(F_INF),
                [F_INF] => B(0),
                [F_NAN] => NanF,
                [f(4.0)] => Near(f(0.25), 1),
            ],
        ),
        // Absolute error 2^-20.5 on [-2pi, 2pi]: about 12 ulps near 0.5..1.
        op(
            "sin.approx.f32",
            F,
            &[F],
            rows![
                [F_NINF] => NanF,
                [F_NEG0] => B(F_NEG0),
                [0] => B(0),
                [F_INF] => NanF,
                [F_NAN] => NanF,
                [f(1.0)] => Near(0x3F57_6AA4, 12),
            ],
        ),
        op(
            "cos.approx.f32",
            F,
            &[F],
            rows![
                [F_NINF] => NanF,
                [F_NEG0] => B(f(1.0)),
                [0] => B(f(1.0)),
                [F_INF] => NanF,
                [f(1.0)] => Near(0x3F0A_5140, 12),
            ],
        ),
        // Relative error 2^-11; subnormal inputs pass through.
        op(
            "tanh.approx.f32",
            F,
            &[F],
            rows![
                [F_NINF] => B(f(-1.0)),
                [F_NEG0] => B(F_NEG0),
                [0] => B(0),
                [F_INF] => B(f(1.0)),
                [F_NAN] => NanF,
                [0x100] => B(0x100),
                [f(0.5)] => Near(0x3EEC_9A9F, 8192),
            ],
        ),
        op(
            "div.approx.f32",
            F,
            &[F, F],
            rows![[f(1.0), f(4.0)] => Near(f(0.25), 2), [f(6.0), f(3.0)] => Near(f(2.0), 2)],
        ),
        op(
            "div.full.f32",
            F,
            &[F, F],
            rows![[f(1.0), f(3.0)] => Near(0x3EAA_AAAB, 2), [f(1.0), 0x7F00_0000] => Near(0x0040_0000, 2)],
        ),
    ]);
}

#[test]
fn float_min_max_abs_neg_copysign() {
    check(vec![
        // One NaN: the other operand; two: NaN; "+0.0 > -0.0".
        op(
            "max.f32",
            F,
            &[F, F],
            rows![
                [f(1.0), f(2.0)] => B(f(2.0)),
                [F_NAN, f(1.0)] => B(f(1.0)),
                [f(1.0), F_NAN] => B(f(1.0)),
                [F_NAN, F_NAN] => NanF,
                [F_NEG0, 0] => B(0),
                [0, F_NEG0] => B(0),
                [F_NINF, f(-1.0)] => B(f(-1.0)),
                [F_NINF, 0xFFC0_0000] => B(F_NINF),
            ],
        ),
        op(
            "min.f32",
            F,
            &[F, F],
            rows![
                [f(1.0), f(2.0)] => B(f(1.0)),
                [F_NAN, f(2.0)] => B(f(2.0)),
                [f(2.0), F_NAN] => B(f(2.0)),
                [F_NAN, F_NAN] => NanF,
                [0, F_NEG0] => B(F_NEG0),
                [F_NEG0, 0] => B(F_NEG0),
                [F_INF, f(1e30)] => B(f(1e30)),
            ],
        ),
        op(
            "min.f64",
            D,
            &[D, D],
            rows![
                [d(1.0), d(2.0)] => B(d(1.0)),
                [D_NAN, d(-3.0)] => B(d(-3.0)),
                [d(-3.0), D_NAN] => B(d(-3.0)),
                [0, D_NEG0] => B(D_NEG0),
                [D_NEG0, 0] => B(D_NEG0),
                [D_NAN, D_NAN] => NanD,
                [D_NINF, 0] => B(D_NINF),
            ],
        ),
        op(
            "max.f64",
            D,
            &[D, D],
            rows![[D_NAN, d(-3.0)] => B(d(-3.0)), [D_NEG0, 0] => B(0), [d(2.0), d(1.0)] => B(d(2.0))],
        ),
        // "NaN inputs yield an unspecified NaN."
        op(
            "neg.f32",
            F,
            &[F],
            rows![
                [f(1.0)] => B(0xBF80_0000),
                [0] => B(F_NEG0),
                [F_NEG0] => B(0),
                [F_INF] => B(F_NINF),
                [F_NAN] => NanF,
            ],
        ),
        op(
            "neg.f64",
            D,
            &[D],
            rows![
                [d(1.5)] => B(d(-1.5)),
                [0] => B(D_NEG0),
                [D_NINF] => B(D_INF),
                [D_NAN] => NanD,
                [1] => B(0x8000_0000_0000_0001),
            ],
        ),
        // "For abs.f32, NaN input yields unspecified NaN."
        op(
            "abs.f32",
            F,
            &[F],
            rows![
                [f(-2.5)] => B(f(2.5)),
                [F_NEG0] => B(0),
                [F_NINF] => B(F_INF),
                [0xFFC0_0000] => NanF,
                [0x8000_0001] => B(1),
            ],
        ),
        op(
            "abs.f64",
            D,
            &[D],
            rows![[d(-2.0)] => B(d(2.0)), [D_NEG0] => B(0), [D_NINF] => B(D_INF)],
        ),
        // "Copy sign bit of a into value of b."
        op(
            "copysign.f64",
            D,
            &[D, D],
            rows![
                [d(-1.0), d(2.0)] => B(d(-2.0)),
                [d(1.0), d(-2.0)] => B(d(2.0)),
                [D_NEG0, d(3.5)] => B(d(-3.5)),
                [d(-1.0), D_INF] => B(D_NINF),
                [d(1.0), 0xFFF8_0000_0000_0001] => B(0x7FF8_0000_0000_0001),
            ],
        ),
        op(
            "copysign.f32",
            F,
            &[F, F],
            rows![[f(-1.0), f(2.0)] => B(f(-2.0)), [f(1.0), f(-0.5)] => B(f(0.5))],
        ),
    ]);
}

// ---------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------

#[test]
fn cvt_integer_to_integer() {
    check(vec![
        op(
            "cvt.s64.s32",
            L,
            &[W],
            rows![
                [s(-1)] => B(u64::MAX),
                [0x7FFF_FFFF] => B(0x7FFF_FFFF),
                [0x8000_0000] => B(0xFFFF_FFFF_8000_0000),
            ],
        ),
        op(
            "cvt.u16.u32",
            H,
            &[W],
            rows![[0x1234_5678] => B(0x5678), [0xFFFF_0000] => B(0)],
        ),
        op(
            "cvt.u16.u64",
            H,
            &[L],
            rows![[0x1234_5678_9ABC_DEF0] => B(0xDEF0)],
        ),
        op(
            "cvt.u32.u16",
            W,
            &[H],
            rows![[0xFFFF] => B(0xFFFF), [0x8000] => B(0x8000)],
        ),
        op(
            "cvt.u32.u64",
            W,
            &[L],
            rows![[0x1_0000_0005] => B(5), [u64::MAX] => B(0xFFFF_FFFF)],
        ),
        op(
            "cvt.u64.u32",
            L,
            &[W],
            rows![[0xFFFF_FFFF] => B(0xFFFF_FFFF), [0x8000_0000] => B(0x8000_0000)],
        ),
        // "A source register wider than the specified type may be used ... the lower n bits";
        // a signed result is sign-extended to the destination register.
        op(
            "cvt.s32.s8",
            W,
            &[W],
            rows![[0x0000_0080] => B(0xFFFF_FF80), [0x1234_567F] => B(0x7F)],
        ),
        op(
            "cvt.s32.s16",
            W,
            &[W],
            rows![[0x1234_8000] => B(0xFFFF_8000)],
        ),
        op(
            "cvt.s8.s32",
            W,
            &[W],
            rows![[0x17F] => B(0x7F), [0xFF] => B(0xFFFF_FFFF)],
        ),
        op("cvt.u8.u32", W, &[W], rows![[0x1FF] => B(0xFF)]),
        // ".sat limits the result to MININT..MAXINT for the size of the operation."
        op(
            "cvt.sat.u8.s32",
            W,
            &[W],
            rows![[300] => B(255), [s(-5)] => B(0), [17] => B(17)],
        ),
    ]);
}

#[test]
fn cvt_float_to_integer() {
    check(vec![
        // Float-to-integer saturates; NaN from an .f64 source gives 1 << (N - 1).
        op(
            "cvt.rzi.s32.f64",
            W,
            &[D],
            rows![
                [d(1e10)] => B(0x7FFF_FFFF),
                [d(-1e10)] => B(0x8000_0000),
                [d(-2.9)] => B(s(-2)),
                [d(2147483647.9)] => B(0x7FFF_FFFF),
                [d(-2147483648.9)] => B(0x8000_0000),
                [D_NAN] => B(0x8000_0000),
                [D_INF] => B(0x7FFF_FFFF),
                [D_NINF] => B(0x8000_0000),
                [d(-0.9)] => B(0),
            ],
        ),
        op(
            "cvt.rzi.s64.f64",
            L,
            &[D],
            rows![
                [d(1e19)] => B(0x7FFF_FFFF_FFFF_FFFF),
                [d(-1e19)] => B(1 << 63),
                [D_NAN] => B(1 << 63),
                [d(-3.99)] => B(s(-3)),
                [d(4611686018427387904.0)] => B(1 << 62),
                [d(9223372036854775808.0)] => B(0x7FFF_FFFF_FFFF_FFFF),
            ],
        ),
        // NaN from an .f32 source into a 32-bit type gives 0.
        op(
            "cvt.rzi.u32.f32",
            W,
            &[F],
            rows![
                [f(3.9)] => B(3),
                [f(-1.0)] => B(0),
                [f(5e9)] => B(0xFFFF_FFFF),
                [F_NAN] => B(0),
                [F_INF] => B(0xFFFF_FFFF),
                [F_NINF] => B(0),
                [f(-0.5)] => B(0),
                [f(4294967040.0)] => B(0xFFFF_FF00),
            ],
        ),
        op(
            "cvt.rzi.u32.f64",
            W,
            &[D],
            rows![
                [d(-0.5)] => B(0),
                [d(4294967295.5)] => B(0xFFFF_FFFF),
                [d(4294967296.0)] => B(0xFFFF_FFFF),
                [D_NAN] => B(0x8000_0000),
                [d(-1e10)] => B(0),
                [d(123.999)] => B(123),
            ],
        ),
        op(
            "cvt.rzi.u64.f64",
            L,
            &[D],
            rows![
                [d(1e20)] => B(u64::MAX),
                [d(-5.0)] => B(0),
                [D_NAN] => B(1 << 63),
                [d(9223372036854775808.0)] => B(1 << 63),
                [d(12345.678)] => B(12345),
                [d(18446744073709549568.0)] => B(0xFFFF_FFFF_FFFF_F800),
            ],
        ),
        op(
            "cvt.rni.s32.f32",
            W,
            &[F],
            rows![
                [f(2.5)] => B(2),
                [f(3.5)] => B(4),
                [f(-2.5)] => B(s(-2)),
                [f(0.5)] => B(0),
                [f(1.5)] => B(2),
            ],
        ),
        op(
            "cvt.rmi.s32.f64",
            W,
            &[D],
            rows![[d(-0.5)] => B(s(-1)), [d(1.9)] => B(1)],
        ),
        op(
            "cvt.rpi.s32.f64",
            W,
            &[D],
            rows![[d(0.1)] => B(1), [d(-1.9)] => B(s(-1))],
        ),
    ]);
}

#[test]
fn cvt_integer_to_float() {
    check(vec![
        op(
            "cvt.rn.f32.s32",
            F,
            &[W],
            rows![
                // 2^24 + 1 and 2^24 + 3: ties, to even.
                [0x100_0001] => B(0x4B80_0000),
                [0x100_0003] => B(0x4B80_0002),
                [s(-1)] => B(0xBF80_0000),
                [0x8000_0000] => B(0xCF00_0000),
                [0x7FFF_FFFF] => B(0x4F00_0000),
                [0] => B(0),
            ],
        ),
        op(
            "cvt.rz.f32.s32",
            F,
            &[W],
            rows![[0x100_0003] => B(0x4B80_0001), [0x7FFF_FFFF] => B(0x4EFF_FFFF)],
        ),
        op(
            "cvt.rn.f32.u16",
            F,
            &[H],
            rows![[0xFFFF] => B(0x477F_FF00), [0x8000] => B(0x4700_0000), [0] => B(0)],
        ),
        op(
            "cvt.rn.f64.s32",
            D,
            &[W],
            rows![
                [s(-1)] => B(d(-1.0)),
                [0x8000_0000] => B(0xC1E0_0000_0000_0000),
                [0x7FFF_FFFF] => B(d(2147483647.0)),
            ],
        ),
        op(
            "cvt.rn.f64.s64",
            D,
            &[L],
            rows![
                [(1 << 53) + 1] => B(0x4340_0000_0000_0000),
                [(1 << 53) + 3] => B(0x4340_0000_0000_0002),
                [1 << 63] => B(0xC3E0_0000_0000_0000),
                [s(-1)] => B(d(-1.0)),
                [0x7FFF_FFFF_FFFF_FFFF] => B(0x43E0_0000_0000_0000),
            ],
        ),
        op(
            "cvt.rn.f64.u16",
            D,
            &[H],
            rows![[0xFFFF] => B(0x40EF_FFE0_0000_0000), [0x8000] => B(d(32768.0))],
        ),
        op(
            "cvt.rn.f64.u32",
            D,
            &[W],
            rows![[0xFFFF_FFFF] => B(0x41EF_FFFF_FFE0_0000), [0x8000_0000] => B(0x41E0_0000_0000_0000)],
        ),
        op(
            "cvt.rn.f64.u64",
            D,
            &[L],
            rows![
                [u64::MAX] => B(0x43F0_0000_0000_0000),
                [1 << 63] => B(0x43E0_0000_0000_0000),
                [(1 << 53) + 1] => B(0x4340_0000_0000_0000),
                // 2^64 - 1024: a tie between 2^64 - 2048 (odd) and 2^64 (even).
                [0xFFFF_FFFF_FFFF_FC00] => B(0x43F0_0000_0000_0000),
                [0xFFFF_FFFF_FFFF_FBFF] => B(0x43EF_FFFF_FFFF_FFFF),
            ],
        ),
    ]);
}

#[test]
fn cvt_float_to_float() {
    check(vec![
        op(
            "cvt.f64.f32",
            D,
            &[F],
            rows![
                [f(1.5)] => B(d(1.5)),
                [1] => B(0x36A0_0000_0000_0000),
                [F_NEG0] => B(D_NEG0),
                [F_INF] => B(D_INF),
                [F_NAN] => NanD,
                [0x3DCC_CCCD] => B(0x3FB9_9999_A000_0000),
            ],
        ),
        op(
            "cvt.rn.f32.f64",
            F,
            &[D],
            rows![
                [d(0.1)] => B(0x3DCC_CCCD),
                [d(1e39)] => B(F_INF),
                [d(-1e39)] => B(F_NINF),
                // 2^-150: a tie between 0 and 2^-149, to even; 1.5 * 2^-150: up.
                [0x3690_0000_0000_0000] => B(0),
                [0x3698_0000_0000_0000] => B(1),
                [0x3FF0_0000_1000_0000] => B(0x3F80_0000),
                [0x3FF0_0000_1000_1000] => B(0x3F80_0001),
                // FLT_MAX + half an ulp rounds to infinity; just below it does not.
                [0x47EF_FFFF_F000_0000] => B(F_INF),
                [0x47EF_FFFF_EFFF_FFFF] => B(F_MAX),
                [D_NAN] => NanF,
                [D_NEG0] => B(F_NEG0),
            ],
        ),
        op(
            "cvt.rz.f32.f64",
            F,
            &[D],
            rows![[d(1e39)] => B(F_MAX), [0x3FF0_0000_1000_1000] => B(0x3F80_0000)],
        ),
        op(
            "cvt.rzi.f64.f64",
            D,
            &[D],
            rows![
                [d(2.7)] => B(d(2.0)),
                [d(-2.7)] => B(d(-2.0)),
                [d(-0.5)] => B(D_NEG0),
                [d(0.5)] => B(0),
                [d(1e300)] => B(d(1e300)),
                [D_INF] => B(D_INF),
                [D_NINF] => B(D_NINF),
                [D_NAN] => NanD,
                [d(4503599627370495.5)] => B(d(4503599627370495.0)),
            ],
        ),
        op(
            "cvt.rni.f64.f64",
            D,
            &[D],
            rows![[d(2.5)] => B(d(2.0)), [d(3.5)] => B(d(4.0)), [d(-0.4)] => B(D_NEG0)],
        ),
        // .ftz flushes an .f32 subnormal input to a zero of its sign.
        op(
            "cvt.ftz.f64.f32",
            D,
            &[F],
            rows![[1] => B(0), [0x8000_0001] => B(D_NEG0), [f(1.5)] => B(d(1.5))],
        ),
        op("cvt.rmi.f64.f64", D, &[D], rows![[d(-0.5)] => B(d(-1.0))]),
        op(
            "cvt.rpi.f64.f64",
            D,
            &[D],
            rows![[d(-0.5)] => B(D_NEG0), [d(0.1)] => B(d(1.0))],
        ),
        op(
            "cvt.rn.f16.f32",
            H,
            &[F],
            rows![
                [f(1.0)] => B(0x3C00),
                [f(-2.0)] => B(0xC000),
                [f(65504.0)] => B(0x7BFF),
                [f(65519.0)] => B(0x7BFF),
                // 65520 = max + half an ulp: to even, which overflows.
                [f(65520.0)] => B(0x7C00),
                [f(1e6)] => B(0x7C00),
                [0x3380_0000] => B(0x0001),
                [0x3300_0000] => B(0x0000),
                [0x3340_0000] => B(0x0001),
                [F_NEG0] => B(0x8000),
                [F_NAN] => NanH,
                [0x3F80_1000] => B(0x3C00),
                [0x3F80_1008] => B(0x3C01),
                [0x3DCC_CCCD] => B(0x2E66),
            ],
        ),
        op(
            "cvt.f32.f16",
            F,
            &[H],
            rows![
                [0x3C00] => B(f(1.0)),
                [0x7BFF] => B(0x477F_E000),
                [0x0001] => B(0x3380_0000),
                [0x03FF] => B(0x387F_C000),
                [0x8000] => B(F_NEG0),
                [0x7C00] => B(F_INF),
                [0xFC00] => B(F_NINF),
                [0x7E00] => NanF,
                [0x3555] => B(0x3EAA_A000),
            ],
        ),
        op(
            "cvt.rn.bf16.f32",
            H,
            &[F],
            rows![
                [f(1.0)] => B(0x3F80),
                [0x3F80_8000] => B(0x3F80),
                [0x3F81_8000] => B(0x3F82),
                [0x3F80_8001] => B(0x3F81),
                [F_MAX] => B(0x7F80),
                [F_NEG0] => B(0x8000),
                [F_NAN] => NanBf,
                [1] => B(0),
                [0xC049_0FDB] => B(0xC049),
            ],
        ),
        op(
            "cvt.f32.bf16",
            F,
            &[H],
            rows![[0x3F80] => B(f(1.0)), [0xC049] => B(0xC049_0000)],
        ),
    ]);
}

// ---------------------------------------------------------------------------------------
// Moves, selection, comparison, predicates, control flow
// ---------------------------------------------------------------------------------------

#[test]
fn mov_and_selp() {
    check(vec![
        op("mov.u32", W, &[W], rows![[0xDEAD_BEEF] => B(0xDEAD_BEEF)]),
        op(
            "mov.u64",
            L,
            &[L],
            rows![[0x0123_4567_89AB_CDEF] => B(0x0123_4567_89AB_CDEF)],
        ),
        custom(
            "mov.u64 (immediate)",
            "mov.u64 %d, -1;",
            &[L],
            &[],
            rows![[] => B(u64::MAX)],
        ),
        op("mov.u16", H, &[H], rows![[0xBEEF] => B(0xBEEF)]),
        custom(
            "mov.u16 (immediate)",
            "mov.u16 %d, 65535;",
            &[H],
            &[],
            rows![[] => B(0xFFFF)],
        ),
        // Bit moves between float and bit registers copy the bits, NaN payloads included.
        op(
            "mov.b32 (from .f32)",
            W,
            &[F],
            rows![[f(1.0)] => B(0x3F80_0000), [0xFFC0_0001] => B(0xFFC0_0001)],
        ),
        custom(
            "mov.b32 (to .f32)",
            "mov.b32 %d, %a;",
            &[F],
            &[W],
            rows![[0x7F80_0001] => B(0x7F80_0001)],
        ),
        op(
            "mov.b64 (from .f64)",
            L,
            &[D],
            rows![[0x7FF0_0000_0000_0001] => B(0x7FF0_0000_0000_0001)],
        ),
        custom(
            "mov.b64 (to .f64)",
            "mov.b64 %d, %a;",
            &[D],
            &[L],
            rows![[0xFFF8_0000_0000_0123] => B(0xFFF8_0000_0000_0123)],
        ),
        op(
            "mov.f64",
            D,
            &[D],
            rows![[0xFFF8_0000_0000_0123] => B(0xFFF8_0000_0000_0123)],
        ),
        custom(
            "mov.f64 (immediates)",
            "mov.f64 %d, 0d3FF8000000000000;\nmov.f64 %e, 0dFFF0000000000000;",
            &[D, D],
            &[],
            rows![[] => [B(d(1.5)), B(D_NINF)]],
        ),
        custom(
            "mov.f32 (immediate)",
            "mov.f32 %d, 0f7F7FFFFF;",
            &[F],
            &[],
            rows![[] => B(F_MAX)],
        ),
        op("mov.pred", P, &[P], rows![[0] => B(0), [1] => B(1)]),
        custom(
            "mov.pred (immediates)",
            "mov.pred %d, -1;\nmov.pred %e, 0;",
            &[P, P],
            &[],
            rows![[] => [B(1), B(0)]],
        ),
        // Packing: d = a.x | (a.y << 32); unpacking the reverse.
        custom(
            "mov.b64 {a, b} (pack)",
            "mov.b64 %d, {%a, %b};",
            &[L],
            &[W, W],
            rows![[0x1111_1111, 0x2222_2222] => B(0x2222_2222_1111_1111)],
        ),
        custom(
            "mov.b64 {d, e} (unpack)",
            "mov.b64 {%d, %e}, %a;",
            &[W, W],
            &[L],
            rows![[0x2222_2222_1111_1111] => [B(0x1111_1111), B(0x2222_2222)]],
        ),
        custom(
            "mov.b64 {_, e} (unpack to a sink)",
            "mov.u32 %d, 7;\nmov.b64 {_, %d}, %a;",
            &[W],
            &[L],
            rows![[0x2222_2222_1111_1111] => B(0x2222_2222)],
        ),
        custom(
            "mov.b32 {a, b} (pack halves)",
            "mov.b32 %d, {%a, %b};",
            &[W],
            &[H, H],
            rows![[0x1111, 0x2222] => B(0x2222_1111)],
        ),
        custom(
            "mov.b32 {d, e} (unpack halves)",
            "mov.b32 {%d, %e}, %a;",
            &[H, H],
            &[W],
            rows![[0xBBBB_AAAA] => [B(0xAAAA), B(0xBBBB)]],
        ),
        // d = (c == 1) ? a : b, the bits untouched.
        op(
            "selp.b16",
            H,
            &[H, H, P],
            rows![[0x1111, 0x2222, 1] => B(0x1111), [0x1111, 0x2222, 0] => B(0x2222)],
        ),
        custom(
            "selp.b16 (immediates)",
            "selp.b16 %d, -1, 0, %a;",
            &[H],
            &[P],
            rows![[1] => B(0xFFFF), [0] => B(0)],
        ),
        op(
            "selp.b32",
            W,
            &[W, W, P],
            rows![[1, 2, 1] => B(1), [1, 2, 0] => B(2)],
        ),
        op(
            "selp.u32",
            W,
            &[W, W, P],
            rows![[0xFFFF_FFFF, 0, 1] => B(0xFFFF_FFFF), [0xFFFF_FFFF, 0, 0] => B(0)],
        ),
        op(
            "selp.b64",
            L,
            &[L, L, P],
            rows![[u64::MAX, 1, 1] => B(u64::MAX), [u64::MAX, 1, 0] => B(1)],
        ),
        op(
            "selp.f32",
            F,
            &[F, F, P],
            rows![[0x7FC0_0001, f(1.0), 1] => B(0x7FC0_0001), [0x7FC0_0001, f(1.0), 0] => B(f(1.0))],
        ),
        op(
            "selp.f64",
            D,
            &[D, D, P],
            rows![
                [0xFFF0_0000_0000_0001, d(2.0), 1] => B(0xFFF0_0000_0000_0001),
                [0xFFF0_0000_0000_0001, d(2.0), 0] => B(d(2.0)),
            ],
        ),
        custom(
            "selp.f64 (immediate)",
            "selp.f64 %d, 0d3FF0000000000000, %a, %b;",
            &[D],
            &[D, P],
            rows![[d(5.0), 1] => B(d(1.0)), [d(5.0), 0] => B(d(5.0))],
        ),
    ]);
}

/// `setp.<cmp>.<ty>` over integer pairs: a truth column per pair.
fn setp_forms(ty: &str, t: T, pairs: &[(u64, u64)], table: &[(&str, &str)]) -> Vec<Form> {
    table
        .iter()
        .map(|(cmp, truth)| {
            let rows = pairs
                .iter()
                .zip(truth.chars())
                .map(|(&(a, b), c)| (vec![a, b], vec![B((c == 'T') as u64)]))
                .collect();
            op(&format!("setp.{cmp}.{ty}"), P, &[t, t], rows)
        })
        .collect()
}

#[test]
fn setp_integers() {
    // Pairs (-1, 1), (1, -1), (5, 5), (MIN, MAX).
    let s32 = [(s(-1), 1), (1, s(-1)), (5, 5), (0x8000_0000, 0x7FFF_FFFF)];
    let s64 = [
        (u64::MAX, 1),
        (1, u64::MAX),
        (5, 5),
        (1 << 63, 0x7FFF_FFFF_FFFF_FFFF),
    ];
    let signed = [
        ("eq", "FFTF"),
        ("ne", "TTFT"),
        ("lt", "TFFT"),
        ("le", "TFTT"),
        ("gt", "FTFF"),
        ("ge", "FTTF"),
    ];
    // The same bits unsigned: 0xFFFF_FFFF > 1, 0x8000_0000 > 0x7FFF_FFFF.
    let unsigned = [
        ("eq", "FFTF"),
        ("ne", "TTFT"),
        ("lt", "FTFF"),
        ("le", "FTTF"),
        ("gt", "TFFT"),
        ("ge", "TFTT"),
        ("lo", "FTFF"),
        ("ls", "FTTF"),
        ("hi", "TFFT"),
        ("hs", "TFTT"),
    ];
    let mut forms = setp_forms("s32", W, &s32, &signed);
    forms.extend(setp_forms("u32", W, &s32, &unsigned));
    forms.extend(setp_forms("s64", L, &s64, &signed));
    forms.extend(setp_forms("u64", L, &s64, &unsigned));
    forms.extend(setp_forms("b32", W, &s32, &signed[..2]));
    forms.extend(setp_forms("b64", L, &s64, &signed[..2]));
    check(forms);
}

#[test]
fn setp_floats() {
    // Pairs (1, 2), (2, 1), (2, 2), (+0, -0), (NaN, 1), (1, NaN), (NaN, NaN), (-inf, inf).
    // Ordered comparisons are false with a NaN, the `u` forms true.
    let table = [
        ("eq", "FFTTFFFF"),
        ("ne", "TTFFFFFT"),
        ("lt", "TFFFFFFT"),
        ("le", "TFTTFFFT"),
        ("gt", "FTFFFFFF"),
        ("ge", "FTTTFFFF"),
        ("equ", "FFTTTTTF"),
        ("neu", "TTFFTTTT"),
        ("ltu", "TFFFTTTT"),
        ("leu", "TFTTTTTT"),
        ("gtu", "FTFFTTTF"),
        ("geu", "FTTTTTTF"),
        ("num", "TTTTFFFT"),
        ("nan", "FFFFTTTF"),
    ];
    let f32s = [
        (f(1.0), f(2.0)),
        (f(2.0), f(1.0)),
        (f(2.0), f(2.0)),
        (0, F_NEG0),
        (F_NAN, f(1.0)),
        (f(1.0), F_NAN),
        (F_NAN, F_NAN),
        (F_NINF, F_INF),
    ];
    let f64s = [
        (d(1.0), d(2.0)),
        (d(2.0), d(1.0)),
        (d(2.0), d(2.0)),
        (0, D_NEG0),
        (D_NAN, d(1.0)),
        (d(1.0), D_NAN),
        (D_NAN, D_NAN),
        (D_NINF, D_INF),
    ];
    let mut forms = setp_forms("f32", F, &f32s, &table);
    forms.extend(setp_forms("f64", D, &f64s, &table));
    check(forms);
}

#[test]
fn setp_with_a_boolean_operator() {
    // p = BoolOp(a cmp b, c).
    check(vec![
        op(
            "setp.lt.and.s32",
            P,
            &[W, W, P],
            rows![[1, 2, 1] => B(1), [1, 2, 0] => B(0), [2, 1, 1] => B(0), [2, 1, 0] => B(0)],
        ),
        op(
            "setp.lt.or.s32",
            P,
            &[W, W, P],
            rows![[1, 2, 0] => B(1), [2, 1, 1] => B(1), [2, 1, 0] => B(0)],
        ),
        op(
            "setp.lt.xor.s32",
            P,
            &[W, W, P],
            rows![[1, 2, 1] => B(0), [1, 2, 0] => B(1), [2, 1, 1] => B(1), [2, 1, 0] => B(0)],
        ),
        custom(
            "setp.lt.and.s32 with !c",
            "setp.lt.and.s32 %d, %a, %b, !%c;",
            &[P],
            &[W, W, P],
            rows![[1, 2, 0] => B(1), [1, 2, 1] => B(0)],
        ),
        op(
            "setp.ne.and.f32",
            P,
            &[F, F, P],
            rows![[F_NAN, f(1.0), 1] => B(0), [f(2.0), f(1.0), 1] => B(1)],
        ),
        op(
            "setp.nan.or.f64",
            P,
            &[D, D, P],
            rows![[d(1.0), d(2.0), 1] => B(1), [d(1.0), d(2.0), 0] => B(0), [D_NAN, d(2.0), 0] => B(1)],
        ),
    ]);
}

#[test]
fn guards_branches_and_exit() {
    check(vec![
        custom(
            "@p (guarded mov)",
            "mov.u32 %d, 7;\n@%b mov.u32 %d, %a;",
            &[W],
            &[W, P],
            rows![[5, 1] => B(5), [5, 0] => B(7)],
        ),
        custom(
            "@!p (negated guard)",
            "mov.u32 %d, 7;\n@!%b mov.u32 %d, %a;",
            &[W],
            &[W, P],
            rows![[5, 1] => B(7), [5, 0] => B(5)],
        ),
        custom(
            "@p (guarded add.rn.f64)",
            "mov.f64 %d, %a;\n@%b add.rn.f64 %d, %d, %a;",
            &[D],
            &[D, P],
            rows![[d(1.5), 1] => B(d(3.0)), [d(1.5), 0] => B(d(1.5))],
        ),
        // A counted loop: 1 + 2 + ... + n (at least one trip).
        custom(
            "bra (backward, guarded)",
            "mov.u32 %d, 0;\nmov.u32 %t1, 0;\n$L__loop:\nadd.s32 %t1, %t1, 1;\n\
             add.s32 %d, %d, %t1;\nsetp.lt.u32 %q0, %t1, %a;\n@%q0 bra $L__loop;",
            &[W],
            &[W],
            rows![[10] => B(55), [1] => B(1), [0] => B(1), [100] => B(5050)],
        ),
        custom(
            "bra.uni (forward)",
            "mov.u32 %d, 1;\nbra.uni $L__skip;\nmov.u32 %d, 2;\n$L__skip:\nadd.s32 %d, %d, %a;",
            &[W],
            &[W],
            rows![[5] => B(6)],
        ),
        custom(
            "@!p bra (forward, per thread)",
            "mov.u32 %d, 1;\n@!%b bra $L__done;\nmov.u32 %d, %a;\n$L__done:",
            &[W],
            &[W, P],
            rows![[9, 1] => B(9), [9, 0] => B(1)],
        ),
        // A thread that returns before the stores leaves its output untouched (0xAB..).
        custom(
            "@p ret (early exit)",
            "mov.u32 %d, %a;\n@%b ret;",
            &[W],
            &[W, P],
            rows![[7, 0] => B(7), [7, 1] => B(0xABAB_ABAB)],
        ),
        custom(
            "exit",
            "mov.u32 %d, %a;\n@%b exit;",
            &[W],
            &[W, P],
            rows![[7, 0] => B(7), [7, 1] => B(0xABAB_ABAB)],
        ),
    ]);
}

// ---------------------------------------------------------------------------------------
// Memory, parameters, shared memory, barriers, atomics, special registers
// ---------------------------------------------------------------------------------------

const HEAD: &str = ".version 9.0\n.target sm_80\n.address_size 64\n\n";

#[test]
fn global_loads_and_stores() {
    let text = format!(
        "{HEAD}.visible .entry mem(\n\t.param .u64 mem_out,\n\t.param .u64 mem_in\n)\n{{\n\
         \t.reg .b16 %rs<2>;\n\t.reg .b32 %r<8>;\n\t.reg .f32 %f<8>;\n\t.reg .f64 %fd<2>;\n\
         \t.reg .b64 %rd<8>;\n\
         \tld.param.u64 %rd0, [mem_out];\n\tld.param.u64 %rd1, [mem_in];\n\
         \tcvta.to.global.u64 %rd2, %rd0;\n\tcvta.to.global.u64 %rd3, %rd1;\n\
         \tld.global.u8 %r0, [%rd3];\n\tld.global.u8 %r1, [%rd3+1];\n\
         \tst.global.u32 [%rd2], %r0;\n\tst.global.u32 [%rd2+4], %r1;\n\
         \tld.global.v2.u32 {{%r2, %r3}}, [%rd3+8];\n\
         \tst.global.u32 [%rd2+8], %r3;\n\tst.global.u32 [%rd2+12], %r2;\n\
         \tld.global.v2.f32 {{%f0, %f1}}, [%rd3+16];\n\
         \tst.global.v2.f32 [%rd2+16], {{%f1, %f0}};\n\
         \tld.global.v4.f32 {{%f2, %f3, %f4, %f5}}, [%rd3+32];\n\
         \tst.global.v2.f32 [%rd2+24], {{%f5, %f4}};\n\
         \tst.global.v2.f32 [%rd2+32], {{%f3, %f2}};\n\
         \tld.global.u32 %r4, [%rd3+48];\n\
         \tst.global.u8 [%rd2+40], %r4;\n\tst.global.u16 [%rd2+44], %r4;\n\
         \tld.global.u16 %rs0, [%rd3+48];\n\tst.global.u16 [%rd2+46], %rs0;\n\
         \tld.global.u64 %rd4, [%rd3+56];\n\tst.global.u64 [%rd2+48], %rd4;\n\
         \tld.global.f64 %fd0, [%rd3+56];\n\tst.global.f64 [%rd2+56], %fd0;\n\
         \tadd.s64 %rd5, %rd3, 56;\n\tld.global.f32 %f6, [%rd5+-8];\n\
         \tst.global.f32 [%rd2+64], %f6;\n\
         \tld.global.s8 %r5, [%rd3];\n\tst.global.u32 [%rd2+68], %r5;\n\
         \tst.global.v4.f32 [%rd2+80], {{%f5, %f4, %f3, %f2}};\n\
         \tret;\n}}\n"
    );
    let k = kernel(&text, "mem");
    let mut input = vec![0u8; 64];
    input[0] = 0x80;
    input[1] = 0xFF;
    input[8..16].copy_from_slice(&[1, 0, 0, 0, 2, 0, 0, 0]);
    input[16..20].copy_from_slice(&1.5f32.to_le_bytes());
    input[20..24].copy_from_slice(&(-2.0f32).to_le_bytes());
    for (i, v) in [10.0f32, 20.0, 30.0, 40.0].iter().enumerate() {
        input[32 + 4 * i..36 + 4 * i].copy_from_slice(&v.to_le_bytes());
    }
    input[48..52].copy_from_slice(&0x1234_5678u32.to_le_bytes());
    input[56..64].copy_from_slice(&0xC00C_0000_0000_0000u64.to_le_bytes());
    let inp = Buf::new(&input);
    let out = Buf::new(&[0xAB; 96]);
    launch(&k, [1; 3], [1; 3], &params(&k, &[out.base(), inp.base()])).unwrap();
    let mut want = vec![0xABu8; 96];
    // ld.global.u8 zero-extends.
    want[0..4].copy_from_slice(&0x80u32.to_le_bytes());
    want[4..8].copy_from_slice(&0xFFu32.to_le_bytes());
    want[8..12].copy_from_slice(&2u32.to_le_bytes());
    want[12..16].copy_from_slice(&1u32.to_le_bytes());
    want[16..20].copy_from_slice(&(-2.0f32).to_le_bytes());
    want[20..24].copy_from_slice(&1.5f32.to_le_bytes());
    for (i, v) in [40.0f32, 30.0, 20.0, 10.0].iter().enumerate() {
        want[24 + 4 * i..28 + 4 * i].copy_from_slice(&v.to_le_bytes());
    }
    // st.global.u8 / .u16 store the low bytes of a wider register, nothing more.
    want[40] = 0x78;
    want[44..46].copy_from_slice(&[0x78, 0x56]);
    want[46..48].copy_from_slice(&[0x78, 0x56]);
    want[48..56].copy_from_slice(&0xC00C_0000_0000_0000u64.to_le_bytes());
    want[56..64].copy_from_slice(&0xC00C_0000_0000_0000u64.to_le_bytes());
    // [%rd5+-8] with %rd5 = in + 56: bytes 48..52.
    want[64..68].copy_from_slice(&0x1234_5678u32.to_le_bytes());
    // ld.global.s8 sign-extends 0x80.
    want[68..72].copy_from_slice(&0xFFFF_FF80u32.to_le_bytes());
    // st.global.v4 stores four elements.
    for (i, v) in [40.0f32, 30.0, 20.0, 10.0].iter().enumerate() {
        want[80 + 4 * i..84 + 4 * i].copy_from_slice(&v.to_le_bytes());
    }
    assert_eq!(out.bytes(), want);
}

#[test]
fn param_loads() {
    let text = format!(
        "{HEAD}.visible .entry prm(\n\t.param .align 8 .b8 prm_param_0[40]\n)\n{{\n\
         \t.reg .b32 %r<2>;\n\t.reg .f32 %f<2>;\n\t.reg .b64 %rd<4>;\n\
         \tld.param.u64 %rd0, [prm_param_0];\n\
         \tld.param.v2.u32 {{%r0, %r1}}, [prm_param_0+8];\n\
         \tld.param.v2.f32 {{%f0, %f1}}, [prm_param_0+16];\n\
         \tld.param.u64 %rd1, [prm_param_0+32];\n\
         \tcvta.to.global.u64 %rd2, %rd0;\n\
         \tst.global.u32 [%rd2], %r1;\n\tst.global.u32 [%rd2+4], %r0;\n\
         \tst.global.f32 [%rd2+8], %f1;\n\tst.global.f32 [%rd2+12], %f0;\n\
         \tst.global.u64 [%rd2+16], %rd1;\n\tret;\n}}\n"
    );
    let k = kernel(&text, "prm");
    assert_eq!(k.param_size, 40);
    let out = Buf::new(&[0xAB; 24]);
    let mut p = vec![0u8; 40];
    p[0..8].copy_from_slice(&out.base().to_le_bytes());
    p[8..12].copy_from_slice(&7u32.to_le_bytes());
    p[12..16].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
    p[16..20].copy_from_slice(&0.25f32.to_le_bytes());
    p[20..24].copy_from_slice(&f32::NEG_INFINITY.to_le_bytes());
    p[32..40].copy_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes());
    launch(&k, [1; 3], [1; 3], &p).unwrap();
    let mut want = Vec::new();
    want.extend(0xFFFF_FFFFu32.to_le_bytes());
    want.extend(7u32.to_le_bytes());
    want.extend(f32::NEG_INFINITY.to_le_bytes());
    want.extend(0.25f32.to_le_bytes());
    want.extend(0x0102_0304_0506_0708u64.to_le_bytes());
    assert_eq!(out.bytes(), want);
}

/// 64 threads: shared stores, `bar.sync 0`, a neighbour's value, generic addresses of shared
/// memory, shared atomics (32- and 64-bit), and a second barrier before reading the totals.
#[test]
fn shared_memory_barriers_and_shared_atomics() {
    let text = format!(
        "{HEAD}.visible .entry shm(\n\t.param .u64 shm_out\n)\n{{\n\
         \t.reg .pred %p<2>;\n\t.reg .b32 %r<18>;\n\t.reg .b64 %rd<12>;\n\
         \t.shared .align 4 .b8 shm_buf[256];\n\t.shared .align 8 .u64 shm_total;\n\
         \t.shared .align 4 .u32 shm_count;\n\
         \tld.param.u64 %rd0, [shm_out];\n\tcvta.to.global.u64 %rd1, %rd0;\n\
         \tmov.u32 %r0, %tid.x;\n\tmov.u32 %r1, shm_buf;\n\
         \tshl.b32 %r2, %r0, 2;\n\tadd.s32 %r3, %r1, %r2;\n\
         \tmad.lo.s32 %r4, %r0, 3, 1000;\n\tst.shared.u32 [%r3], %r4;\n\
         \tsetp.ne.s32 %p0, %r0, 0;\n\t@%p0 bra $L__init_done;\n\
         \tmov.u64 %rd2, 0;\n\tst.shared.u64 [shm_total], %rd2;\n\
         \tmov.u32 %r5, 0;\n\tst.shared.u32 [shm_count], %r5;\n\
         $L__init_done:\n\
         \tbar.sync 0;\n\
         \tadd.s32 %r6, %r0, 1;\n\tand.b32 %r6, %r6, 63;\n\tshl.b32 %r6, %r6, 2;\n\
         \tadd.s32 %r7, %r1, %r6;\n\tld.shared.u32 %r8, [%r7];\n\
         \tmov.u32 %r13, 0;\n\t@%p0 ld.shared.u32 %r13, [%r3+-4];\n\
         \tmov.u32 %r9, shm_count;\n\tatom.shared.add.u32 %r10, [%r9], 1;\n\
         \tmov.u32 %r11, shm_total;\n\tmov.u64 %rd3, 4294967297;\n\
         \tatom.shared.add.u64 %rd4, [%r11], %rd3;\n\
         \tbar.sync 0;\n\
         \tld.shared.u32 %r12, [shm_count];\n\tld.shared.u64 %rd5, [shm_total];\n\
         \tmov.u64 %rd8, shm_buf;\n\tcvta.shared.u64 %rd8, %rd8;\n\
         \tcvt.u64.u32 %rd9, %r2;\n\tadd.s64 %rd8, %rd8, %rd9;\n\tld.u32 %r14, [%rd8];\n\
         \tcvta.to.shared.u64 %rd10, %rd8;\n\tcvt.u32.u64 %r15, %rd10;\n\
         \tld.shared.u32 %r16, [%r15];\n\
         \tmul.wide.u32 %rd6, %r0, 40;\n\tadd.s64 %rd7, %rd1, %rd6;\n\
         \tst.global.u32 [%rd7], %r8;\n\tst.global.u32 [%rd7+4], %r10;\n\
         \tst.global.u64 [%rd7+8], %rd4;\n\tst.global.u32 [%rd7+16], %r12;\n\
         \tst.global.u32 [%rd7+20], %r13;\n\tst.global.u64 [%rd7+24], %rd5;\n\
         \tst.global.u32 [%rd7+32], %r14;\n\tst.global.u32 [%rd7+36], %r16;\n\
         \tret;\n}}\n"
    );
    let k = kernel(&text, "shm");
    assert!(k.has_barrier);
    let out = Buf::new(&[0xAB; 64 * 40]);
    launch(&k, [1; 3], [64, 1, 1], &params(&k, &[out.base()])).unwrap();
    let bytes = out.bytes();
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    let mut counts = Vec::new();
    let mut totals = Vec::new();
    for t in 0..64u32 {
        let at = 40 * t as usize;
        assert_eq!(
            u32_at(at),
            1000 + 3 * ((t + 1) % 64),
            "thread {t}: neighbour"
        );
        // Its own element through a generic address (cvta.shared), and back (cvta.to.shared).
        assert_eq!(u32_at(at + 32), 1000 + 3 * t, "thread {t}: generic ld");
        assert_eq!(u32_at(at + 36), 1000 + 3 * t, "thread {t}: cvta.to.shared");
        let before = if t == 0 { 0 } else { 1000 + 3 * (t - 1) };
        assert_eq!(u32_at(at + 20), before, "thread {t}: [%r3+-4]");
        counts.push(u32_at(at + 4));
        totals.push(u64_at(at + 8));
        assert_eq!(u32_at(at + 16), 64, "thread {t}: final count");
        assert_eq!(
            u64_at(at + 24),
            64 * 0x1_0000_0001,
            "thread {t}: final total"
        );
    }
    // Each atomic returned the value before it: every count 0..63 once, every total
    // k * 0x1_0000_0001 once.
    counts.sort_unstable();
    totals.sort_unstable();
    assert_eq!(counts, (0..64).collect::<Vec<u32>>());
    assert_eq!(
        totals,
        (0..64u64).map(|k| k * 0x1_0000_0001).collect::<Vec<_>>()
    );
}

/// `instr %d, [mem], b[, c]` on the thread's own source slot (which holds `%a`, the initial
/// value), then the memory read back into `%e`: rows are `[initial, b(, c)] => [old, new]`.
fn atom(instr: &str, t: T, operands: usize, rows: Vec<Row>) -> Form {
    let opcode = instr.split_whitespace().next().unwrap_or_default();
    let body = format!(
        "{opcode} %d, [%rd3+0], {};\nld.global.{} %e, [%rd3+0];",
        SRC[1..1 + operands].join(", "),
        t.mem()
    );
    custom(instr, &body, &[t, t], &vec![t; 1 + operands], rows)
}

/// atomic { d = *a; *a = op(*a, b) }, with inc(r, s) = r >= s ? 0 : r + 1,
/// dec(r, s) = (r == 0 || r > s) ? s : r - 1, cas(r, s, t) = r == s ? t : r.
#[test]
fn atomic_operations() {
    check(vec![
        atom(
            "atom.global.add.u32",
            W,
            1,
            rows![[5, 3] => [B(5), B(8)], [0xFFFF_FFFF, 2] => [B(0xFFFF_FFFF), B(1)]],
        ),
        atom(
            "atom.global.add.s32",
            W,
            1,
            rows![[s(-5), 3] => [B(s(-5)), B(s(-2))]],
        ),
        atom(
            "atom.global.add.u64",
            L,
            1,
            rows![[u64::MAX, 2] => [B(u64::MAX), B(1)]],
        ),
        atom(
            "atom.global.add.f32",
            F,
            1,
            rows![[f(1.5), f(2.25)] => [B(f(1.5)), B(f(3.75))]],
        ),
        atom(
            "atom.global.add.f64",
            D,
            1,
            rows![[d(1.5), d(2.25)] => [B(d(1.5)), B(d(3.75))]],
        ),
        atom(
            "atom.global.min.s32",
            W,
            1,
            rows![[s(-5), 3] => [B(s(-5)), B(s(-5))], [3, s(-5)] => [B(3), B(s(-5))]],
        ),
        atom(
            "atom.global.max.s32",
            W,
            1,
            rows![[s(-5), 3] => [B(s(-5)), B(3)]],
        ),
        atom(
            "atom.global.min.u32",
            W,
            1,
            rows![[0xFFFF_FFFF, 3] => [B(0xFFFF_FFFF), B(3)]],
        ),
        atom(
            "atom.global.max.u64",
            L,
            1,
            rows![[1, u64::MAX] => [B(1), B(u64::MAX)]],
        ),
        atom(
            "atom.global.min.s64",
            L,
            1,
            rows![[1, s(-1)] => [B(1), B(s(-1))]],
        ),
        atom(
            "atom.global.inc.u32",
            W,
            1,
            rows![[5, 10] => [B(5), B(6)], [10, 10] => [B(10), B(0)], [11, 10] => [B(11), B(0)]],
        ),
        atom(
            "atom.global.dec.u32",
            W,
            1,
            rows![[0, 10] => [B(0), B(10)], [11, 10] => [B(11), B(10)], [5, 10] => [B(5), B(4)]],
        ),
        atom(
            "atom.global.and.b32",
            W,
            1,
            rows![[0xFF00_FF00, 0x0FF0_0FF0] => [B(0xFF00_FF00), B(0x0F00_0F00)]],
        ),
        atom(
            "atom.global.or.b32",
            W,
            1,
            rows![[0xF0, 0x0F] => [B(0xF0), B(0xFF)]],
        ),
        atom(
            "atom.global.xor.b32",
            W,
            1,
            rows![[0xFF, 0x0F] => [B(0xFF), B(0xF0)]],
        ),
        atom("atom.global.exch.b32", W, 1, rows![[7, 9] => [B(7), B(9)]]),
        atom(
            "atom.global.exch.b64",
            L,
            1,
            rows![[u64::MAX, 9] => [B(u64::MAX), B(9)]],
        ),
        atom(
            "atom.global.cas.b32",
            W,
            2,
            rows![[5, 5, 9] => [B(5), B(9)], [5, 6, 9] => [B(5), B(5)]],
        ),
        atom(
            "atom.global.cas.b64",
            L,
            2,
            rows![[u64::MAX, u64::MAX, 1] => [B(u64::MAX), B(1)]],
        ),
        // A generic address of global memory.
        atom(
            "atom.add.u32 (generic)",
            W,
            1,
            rows![[5, 3] => [B(5), B(8)]],
        ),
        custom(
            "red.global.add.u32",
            "red.global.add.u32 [%rd3+0], %b;\nld.global.u32 %d, [%rd3+0];",
            &[W],
            &[W, W],
            rows![[5, 3] => B(8)],
        ),
        custom(
            "atom.global.add.u32 _ (sink)",
            "atom.global.add.u32 _, [%rd3+0], %b;\nld.global.u32 %d, [%rd3+0];",
            &[W],
            &[W, W],
            rows![[5, 3] => B(8)],
        ),
    ]);
}

/// Generic and local addressing: `ld`/`st` without a space through a generic address, and a
/// `.local` array.
#[test]
fn generic_and_local_addressing() {
    check(vec![
        custom(
            "ld/st (generic, global)",
            "st.u32 [%rd3+4], %a;\nld.u32 %d, [%rd3+4];",
            &[W],
            &[W],
            rows![[0xCAFE] => B(0xCAFE)],
        ),
        custom(
            "ld.local/st.local",
            ".local .align 8 .b8 lbuf[16];\nst.local.u32 [lbuf+4], %a;\n\
             st.local.u64 [lbuf+8], %b;\nld.local.u32 %d, [lbuf+4];\nld.local.u64 %e, [lbuf+8];",
            &[W, L],
            &[W, L],
            rows![[7, u64::MAX] => [B(7), B(u64::MAX)]],
        ),
        custom(
            "cvta.local.u64 + generic ld/st",
            ".local .align 8 .b8 gbuf[8];\nmov.u64 %rd0, gbuf;\ncvta.local.u64 %rd0, %rd0;\n\
             st.u32 [%rd0], %a;\nld.local.u32 %d, [gbuf];",
            &[W],
            &[W],
            rows![[0x1234] => B(0x1234)],
        ),
    ]);
}

/// The harness itself: a wrong expectation, an unexpected NaN and a NaN where bits were
/// expected are all reported.
#[test]
fn harness_reports_mismatches() {
    let bad = run(&op(
        "add.s32",
        W,
        &[W, W],
        rows![[1, 2] => B(4), [1, 2] => B(3)],
    ));
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].contains("want 0x4, got 0x3"), "{bad:?}");
    let bad = run(&op(
        "add.rn.f32",
        F,
        &[F, F],
        rows![[f(1.0), f(1.0)] => NanF, [F_NAN, f(1.0)] => B(F_NAN), [F_NAN, f(1.0)] => NanF],
    ));
    assert_eq!(bad.len(), 2, "{bad:?}");
}

/// 4 blocks of 32 threads add `tid + 1` to one global counter starting at 1000.
#[test]
fn global_atomics_across_blocks() {
    let text = format!(
        "{HEAD}.visible .entry atm(\n\t.param .u64 atm_out,\n\t.param .u64 atm_counter\n)\n{{\n\
         \t.reg .b32 %r<8>;\n\t.reg .b64 %rd<8>;\n\
         \tld.param.u64 %rd0, [atm_out];\n\tld.param.u64 %rd1, [atm_counter];\n\
         \tcvta.to.global.u64 %rd2, %rd0;\n\tcvta.to.global.u64 %rd3, %rd1;\n\
         \tmov.u32 %r0, %tid.x;\n\tmov.u32 %r1, %ctaid.x;\n\tmov.u32 %r2, %ntid.x;\n\
         \tmad.lo.s32 %r3, %r1, %r2, %r0;\n\tadd.s32 %r4, %r0, 1;\n\
         \tatom.global.add.u32 %r5, [%rd3], %r4;\n\
         \tmul.wide.u32 %rd4, %r3, 8;\n\tadd.s64 %rd5, %rd2, %rd4;\n\
         \tst.global.u32 [%rd5], %r5;\n\tst.global.u32 [%rd5+4], %r4;\n\tret;\n}}\n"
    );
    let k = kernel(&text, "atm");
    let out = Buf::new(&[0xAB; 128 * 8]);
    let counter = Buf::new(&1000u32.to_le_bytes());
    launch(
        &k,
        [4, 1, 1],
        [32, 1, 1],
        &params(&k, &[out.base(), counter.base()]),
    )
    .unwrap();
    // 1000 + 4 * (1 + ... + 32).
    assert_eq!(counter.bytes(), 3112u32.to_le_bytes());
    let bytes = out.bytes();
    let mut seen: Vec<(u32, u32)> = (0..128)
        .map(|i| {
            let w = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
            (w(8 * i), w(8 * i + 4))
        })
        .collect();
    // The old values chain: sorted, each is the previous plus the previous addend.
    seen.sort_unstable();
    let mut next = 1000;
    for (old, add) in seen {
        assert_eq!(old, next);
        next = old + add;
    }
    assert_eq!(next, 3112);
}

#[test]
fn special_registers() {
    let names = [
        "%tid.x",
        "%tid.y",
        "%ntid.x",
        "%ntid.y",
        "%ctaid.x",
        "%ctaid.y",
        "%nctaid.x",
        "%nctaid.y",
        "%laneid",
    ];
    let mut body = String::new();
    for (i, n) in names.iter().enumerate() {
        body += &format!(
            "\tmov.u32 %r{}, {n};\n\tst.global.u32 [%rd4+{}], %r{};\n",
            10 + i,
            4 * i,
            10 + i
        );
    }
    // Global linear index: ((ctaid.y * nctaid.x + ctaid.x) * ntid.y + tid.y) * ntid.x + tid.x.
    let text = format!(
        "{HEAD}.visible .entry sreg(\n\t.param .u64 sreg_out\n)\n{{\n\
         \t.reg .b32 %r<20>;\n\t.reg .b64 %rd<5>;\n\
         \tld.param.u64 %rd0, [sreg_out];\n\tcvta.to.global.u64 %rd1, %rd0;\n\
         \tmov.u32 %r0, %ctaid.y;\n\tmov.u32 %r1, %nctaid.x;\n\tmov.u32 %r2, %ctaid.x;\n\
         \tmad.lo.s32 %r3, %r0, %r1, %r2;\n\
         \tmov.u32 %r4, %ntid.y;\n\tmov.u32 %r5, %tid.y;\n\tmad.lo.s32 %r3, %r3, %r4, %r5;\n\
         \tmov.u32 %r6, %ntid.x;\n\tmov.u32 %r7, %tid.x;\n\tmad.lo.s32 %r3, %r3, %r6, %r7;\n\
         \tmul.wide.u32 %rd2, %r3, 36;\n\tadd.s64 %rd4, %rd1, %rd2;\n\
         {body}\tret;\n}}\n"
    );
    let k = kernel(&text, "sreg");
    let (grid, block) = ([3u32, 2, 1], [20u32, 2, 1]);
    let n = 6 * 40;
    let out = Buf::new(&vec![0xAB; n * 36]);
    launch(&k, grid, block, &params(&k, &[out.base()])).unwrap();
    let bytes = out.bytes();
    for by in 0..2u32 {
        for bx in 0..3u32 {
            for ty in 0..2u32 {
                for tx in 0..20u32 {
                    let g = (((by * 3 + bx) * 2 + ty) * 20 + tx) as usize;
                    let got: Vec<u32> = (0..names.len())
                        .map(|i| {
                            let at = g * 36 + 4 * i;
                            u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
                        })
                        .collect();
                    // %laneid: the thread's linear index in its block, mod 32.
                    let lane = (ty * 20 + tx) % 32;
                    assert_eq!(
                        got,
                        vec![tx, ty, 20, 2, bx, by, 3, 2, lane],
                        "block ({bx}, {by}) thread ({tx}, {ty})"
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Forms that must fail at module load, naming their line
// ---------------------------------------------------------------------------------------

/// The load error of a kernel whose body has `bad` as one line; checks the line number.
/// nvcc's calls of `__noinline__` device functions (tests/kernels/calls.cu, compiled to
/// tests/data/calls.ptx): parameters of 4 and 8 bytes and a struct by value, return values
/// likewise, a local array in the callee, calls inside a called function and under a
/// divergent branch, call sites whose `.param` variables reuse names at other sizes; with
/// every check on (the parameters pass through local memory, written before read).
#[test]
fn device_function_calls() {
    let text = include_str!("data/calls.ptx");
    let k = kernel(text, "calls");
    let input: Vec<i32> = (0..32)
        .map(|i: i32| match i % 4 {
            0 => 0,
            1 => i * 37 + 1,
            2 => -(i * 1001),
            _ => i32::MAX - i,
        })
        .collect();
    let bytes: Vec<u8> = input.iter().flat_map(|v| v.to_le_bytes()).collect();
    let inp = Buf::new(&bytes);
    let out = Buf::new(&[0xAB; 32 * 8 * 4]);
    launch(
        &k,
        [1; 3],
        [32, 1, 1],
        &params(&k, &[inp.base(), out.base()]),
    )
    .unwrap();
    let got: Vec<u32> = out
        .bytes()
        .chunks(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let add_or = |a: i32, b: i32| if a == 0 { 99 } else { a.wrapping_add(b) };
    for (i, &v) in input.iter().enumerate() {
        let i32_ = i as i32;
        let r = add_or(v, i32_);
        let buf: Vec<i32> = (0..8).map(|j| add_or(i32_ + j, j)).collect();
        let m = (v as i64 as u64)
            .wrapping_mul(3)
            .wrapping_add(buf[i & 7] as i64 as u64);
        let untouched = 0xABAB_ABABu32;
        let (p0, p1) = if v & 1 != 0 {
            (r as u32, ((v as f32) * 2.0).to_bits())
        } else {
            (untouched, untouched)
        };
        let want = [
            r as u32,
            m as u32,
            p0,
            p1,
            r as u32,
            v as u32,
            (m >> 32) as u32,
            untouched,
        ];
        assert_eq!(got[i * 8..i * 8 + 8], want, "thread {i}, input {v}");
    }
}

/// Calls written by hand: a guarded call (threads whose guard is false skip it, keeping
/// their value), an early `@%p ret` and a return from either side of a branch in the
/// callee, a call from a called function.
#[test]
fn guarded_calls_and_early_returns() {
    let text = format!(
        "{HEAD}.func (.param .b32 func_retval0) clamp_or(\n\t.param .b32 clamp_or_param_0\n)\n{{\n\
         \t.reg .pred %p<2>;\n\t.reg .b32 %r<4>;\n\
         \tld.param.u32 %r1, [clamp_or_param_0];\n\tsetp.lt.s32 %p1, %r1, 0;\n\t@%p1 bra $L__neg;\n\
         \tst.param.b32 [func_retval0+0], %r1;\n\tret;\n\
         $L__neg:\n\tneg.s32 %r2, %r1;\n\tst.param.b32 [func_retval0+0], %r2;\n\
         \tsetp.gt.s32 %p1, %r2, 100;\n\t@%p1 ret;\n\tadd.s32 %r3, %r2, 1000;\n\
         \tst.param.b32 [func_retval0+0], %r3;\n\tret;\n}}\n\
         .func (.param .b32 func_retval0) twice(\n\t.param .b32 twice_param_0\n)\n{{\n\
         \t.reg .b32 %r<4>;\n\tld.param.u32 %r1, [twice_param_0];\n\
         \t{{\n\t.param .b32 param0;\n\tst.param.b32 [param0+0], %r1;\n\t.param .b32 retval0;\n\
         \tcall.uni (retval0), clamp_or, (param0);\n\tld.param.b32 %r2, [retval0+0];\n\t}}\n\
         \tadd.s32 %r3, %r2, %r2;\n\tst.param.b32 [func_retval0+0], %r3;\n\tret;\n}}\n\
         .visible .entry hw(\n\t.param .u64 hw_out,\n\t.param .u64 hw_in\n)\n{{\n\
         \t.reg .pred %p<2>;\n\t.reg .b32 %r<4>;\n\t.reg .b64 %rd<6>;\n\
         \tld.param.u64 %rd1, [hw_out];\n\tld.param.u64 %rd2, [hw_in];\n\tmov.u32 %r1, %tid.x;\n\
         \tmul.wide.u32 %rd3, %r1, 4;\n\tadd.s64 %rd4, %rd2, %rd3;\n\tld.global.u32 %r2, [%rd4];\n\
         \tmov.u32 %r3, -7;\n\tsetp.ne.s32 %p1, %r2, 5;\n\
         \t{{\n\t.param .b32 param0;\n\tst.param.b32 [param0+0], %r2;\n\t.param .b32 retval0;\n\
         \t@%p1 call.uni (retval0), twice, (param0);\n\t@%p1 ld.param.b32 %r3, [retval0+0];\n\t}}\n\
         \tadd.s64 %rd5, %rd1, %rd3;\n\tst.global.u32 [%rd5], %r3;\n\tret;\n}}\n"
    );
    let k = kernel(&text, "hw");
    let input = [5i32, 0, 17, -3, -100, -101, -5000, 5];
    let bytes: Vec<u8> = input.iter().flat_map(|v| v.to_le_bytes()).collect();
    let inp = Buf::new(&bytes);
    let out = Buf::new(&[0; 32]);
    launch(
        &k,
        [1; 3],
        [8, 1, 1],
        &params(&k, &[out.base(), inp.base()]),
    )
    .unwrap();
    let got: Vec<i32> = out
        .bytes()
        .chunks(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let clamp_or = |v: i32| match v {
        0.. => v,
        _ if -v > 100 => -v,
        _ => -v + 1000,
    };
    let want: Vec<i32> = input
        .iter()
        .map(|&v| if v == 5 { -7 } else { 2 * clamp_or(v) })
        .collect();
    assert_eq!(got, want);
}

/// Calls the emulator cannot expand fail at load, naming the call's line (recursion: the
/// innermost): a function calling itself, one not in the module or declared `.extern`,
/// arguments that do not match.
#[test]
fn calls_that_cannot_be_expanded_fail_at_load() {
    let funcs = ".extern .func (.param .b32 func_retval0) ext(\n\t.param .b32 ext_param_0\n);\n\
                 .func self_call()\n{\n\tcall.uni self_call, ();\n\tret;\n}\n\
                 .func one(\n\t.param .b32 one_param_0\n)\n{\n\tret;\n}\n";
    for (call, needle) in [
        ("call.uni self_call, ();", "nested deeper"),
        ("call.uni nowhere, ();", "body is not in the module"),
        (
            "call.uni (param0), ext, (param0);",
            "body is not in the module",
        ),
        ("call.uni one, ();", "0 arguments; it declares 0 and 1"),
        ("call.uni one, (param0, param0);", "2 arguments"),
    ] {
        let text = format!(
            "{HEAD}{funcs}.visible .entry k()\n{{\n\t.param .b32 param0;\n\t{call}\n\tret;\n}}\n"
        );
        let line = text.lines().position(|l| l.trim() == call).unwrap() + 1;
        match load(&text) {
            Ok(_) => panic!("`{call}` loaded:\n{}", numbered(&text)),
            Err((l, m)) => {
                assert!(
                    m.contains(needle),
                    "`{call}`: {m:?} does not mention {needle:?}"
                );
                if needle != "nested deeper" {
                    assert_eq!(l, line, "`{call}`: {m}");
                }
            }
        }
    }
}

fn load_error(bad: &str) -> String {
    let text = format!(
        "{HEAD}.func helper()\n{{\n\tret;\n}}\n\n\
         .visible .entry neg(\n\t.param .u64 neg_out\n)\n{{\n\
         \t.reg .pred %p<4>;\n\t.reg .b32 %r<8>;\n\t.reg .f32 %f<8>;\n\t.reg .b64 %rd<4>;\n\
         \tmov.u32 %r1, 1;\n\t{bad}\n\tret;\n}}\n"
    );
    let line = text
        .lines()
        .position(|l| l.trim() == bad)
        .expect("the line")
        + 1;
    match load(&text) {
        Ok(_) => panic!("`{bad}` loaded:\n{}", numbered(&text)),
        Err((l, m)) => {
            assert_eq!(l, line, "`{bad}`: {m}");
            m
        }
    }
}

#[test]
fn unsupported_forms_fail_at_load_naming_the_line() {
    let cases = [
        ("shfl.sync.idx.b32 %r2, %r1, 0, 31, -1;", "warp-level"),
        ("vote.sync.all.pred %p1, %p0, -1;", "warp-level"),
        ("txq.width.b32 %r2, [tex_a];", "textures"),
        // The parser already refuses tex's `[texref, {coordinates}]` operand.
        (
            "tex.1d.v4.s32.s32 {%r1, %r2, %r3, %r4}, [tex_a, {%r5}];",
            "address",
        ),
        ("add.ftz.f32 %f1, %f2, %f3;", ".ftz"),
        ("setp.lt.ftz.f32 %p1, %f2, %f3;", ".ftz"),
        ("frobnicate.b32 %r1, %r2;", "opcode frobnicate"),
        ("add.s32 %r1, %r2, %zz;", "%zz"),
        ("@%p9 bra $L__nowhere;", "%p9"),
        ("bra $L__nowhere;", "unknown label $L__nowhere"),
        ("min.NaN.f32 %f1, %f2, %f3;", "min/max"),
        ("add.cc.u32 %r1, %r2, %r3;", "carry"),
        ("mad.f32 %f1, %f2, %f3, %f4;", "mad.f32"),
        ("div.f32 %f1, %f2, %f3;", "div"),
        // The ISA requires a rounding for int -> float and forbids one on a widening.
        ("cvt.f32.s32 %f1, %r1;", "cvt"),
        ("cvt.rn.f64.f32 %rd1, %f1;", "cvt"),
        ("cvt.rn.s32.f32 %r1, %f1;", "cvt"),
        ("atom.global.add.u16 %r1, [%rd1], %r2;", "narrower"),
        ("bar.sync 1;", "named barriers"),
    ];
    let mut bad = Vec::new();
    for (text, needle) in cases {
        let m = load_error(text);
        if !m.contains(needle) {
            bad.push(format!("`{text}`: {m:?} does not mention {needle:?}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// `setp` with two destinations `p|q` is not parsed (a load error naming the line), so no
/// kernel can silently drop `q`.
#[test]
fn setp_with_two_destinations_is_rejected() {
    let m = load_error("setp.lt.s32 %p1|%p2, %r1, %r2;");
    assert!(m.contains('|'), "{m}");
}

// ---------------------------------------------------------------------------------------
// Rules quoted from the ISA that an emulator easily gets wrong
// ---------------------------------------------------------------------------------------

/// PTX ISA 9.1, 9.7.3 (Floating Point Instructions, overview): "NaN payloads are supported
/// for double-precision instructions (except for rcp.approx.ftz.f64 and rsqrt.approx.ftz.f64,
/// which maps input NaNs to a canonical NaN)".
#[test]
fn isa_f64_nan_payloads() {
    const PAYLOAD: u64 = 0x7FF8_0000_0000_0123;
    check(vec![
        op(
            "add.rn.f64",
            D,
            &[D, D],
            rows![[PAYLOAD, d(1.0)] => B(PAYLOAD)],
        ),
        op(
            "add.rz.f64",
            D,
            &[D, D],
            rows![[d(1.0), PAYLOAD] => B(PAYLOAD)],
        ),
        op(
            "sub.rn.f64",
            D,
            &[D, D],
            rows![[PAYLOAD, d(1.0)] => B(PAYLOAD)],
        ),
        op(
            "mul.rn.f64",
            D,
            &[D, D],
            rows![[PAYLOAD, d(2.0)] => B(PAYLOAD)],
        ),
        op(
            "div.rn.f64",
            D,
            &[D, D],
            rows![[PAYLOAD, d(2.0)] => B(PAYLOAD)],
        ),
        op(
            "fma.rn.f64",
            D,
            &[D, D, D],
            rows![[d(2.0), d(3.0), PAYLOAD] => B(PAYLOAD)],
        ),
        op("sqrt.rn.f64", D, &[D], rows![[PAYLOAD] => B(PAYLOAD)]),
        op("rcp.rn.f64", D, &[D], rows![[PAYLOAD] => B(PAYLOAD)]),
    ]);
}

/// PTX ISA 9.1, 9.7.3.9 (abs): "For abs.f64, NaN input is passed through unchanged. Future
/// implementations may comply with the IEEE 754 standard by preserving payload and modifying
/// only the sign bit."
#[test]
fn isa_abs_f64_nan() {
    check(vec![op(
        "abs.f64",
        D,
        &[D],
        rows![[0xFFF8_0000_0000_0123] => B(0xFFF8_0000_0000_0123)],
    )]);
}

/// PTX ISA 9.1, 9.7.13.5 (atom): "Current implementation of atom.add.f32 on global memory
/// flushes subnormal inputs and results to sign-preserving zero; whereas atom.add.f32 on
/// shared memory supports subnormal inputs and results".
#[test]
fn isa_atom_global_add_f32_subnormals() {
    check(vec![atom(
        "atom.global.add.f32",
        F,
        1,
        rows![
            [1, 1] => [B(1), B(0)],
            // Normal inputs, a subnormal sum: flushed.
            [0x0080_0001, 0x8080_0000] => [B(0x0080_0001), B(0)],
        ],
    )]);
}

/// PTX ISA 9.1, 9.7.3.8 (div): "div.approx.f32 implements a fast approximation to divide,
/// computed as d = a * (1/b). ... For 2^126 < |b| < 2^128, if a is infinity, div.approx.f32
/// returns NaN, otherwise it returns a sign-preserving zero."
#[test]
fn isa_div_approx_f32_huge_divisor() {
    check(vec![op(
        "div.approx.f32",
        F,
        &[F, F],
        rows![
            [f(1.0), 0x7F00_0000] => B(0),
            [f(-1.0), 0x7F00_0000] => B(F_NEG0),
            [F_INF, 0x7F00_0000] => NanF,
        ],
    )]);
}
