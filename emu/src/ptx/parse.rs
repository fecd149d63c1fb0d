//! The PTX text parser: turns a module's source into the [`Module`] AST.
//!
//! The text is first split into tokens (comments dropped, line numbers kept), then parsed by
//! recursive descent. Debug directives (`.file`, `.loc`, `.section`) and `.pragma`s are
//! skipped; function declarations without a body (`.extern .func ...;`) are skipped too, so
//! `Module::functions` holds only definitions.

use super::ast::*;
use std::collections::{HashMap, HashSet};

/// A parse failure: the 1-based line where it was found and what was wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// 1-based line in the module text.
    pub line: usize,
    /// What was wrong, naming what was found.
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PTX line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parses a whole PTX module.
///
/// Missing `.version`, `.target` and `.address_size` leave `(0, 0)`, no targets and 32 (the
/// PTX default) in the result.
pub fn parse(text: &str) -> Result<Module, ParseError> {
    let toks = lex(text)?;
    Parser {
        text,
        toks,
        pos: 0,
        regs: RegNames::default(),
    }
    .module()
}

type R<T> = Result<T, ParseError>;

fn err<T>(line: usize, message: impl Into<String>) -> R<T> {
    Err(ParseError {
        line,
        message: message.into(),
    })
}

/// Deepest nesting of `{}`/`()` accepted inside an operand or an initializer.
const MAX_NEST: usize = 16;
/// Largest initialized variable accepted (its bytes are materialized).
const MAX_INIT_BYTES: u64 = 1 << 28;

// ---------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `ld.global.u32`, `%r1`, `%tid.x`, `$L__BB0_4`, `sm_80`, `_`
    Ident,
    /// `.reg`, `.u32` (the dot kept)
    Dir,
    /// `42`, `0x1F`, `0f3F800000`, `9.0`, `2.5e-3` (no sign)
    Num,
    /// `"nounroll"` (quotes kept)
    Str,
    /// One of `,;:{}[]()<>+-!@=|`
    Punct,
}

#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    kind: Kind,
    s: &'a str,
    line: usize,
    start: usize,
    end: usize,
}

impl Tok<'_> {
    fn is(&self, c: u8) -> bool {
        self.kind == Kind::Punct && self.s.as_bytes()[0] == c
    }

    fn is_dir(&self, name: &str) -> bool {
        self.kind == Kind::Dir && self.s == name
    }
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

fn lex(text: &str) -> R<Vec<Tok<'_>>> {
    let b = text.as_bytes();
    let mut toks = Vec::with_capacity(b.len() / 4);
    let mut i = 0;
    let mut line = 1;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind = match c {
            b'\n' => {
                line += 1;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' | 0x0b | 0x0c => {
                i += 1;
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let open = line;
                i += 2;
                loop {
                    if i + 1 >= b.len() {
                        return err(open, "unterminated `/*` comment");
                    }
                    if b[i] == b'*' && b[i + 1] == b'/' {
                        i += 2;
                        break;
                    }
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                continue;
            }
            b'"' => {
                i += 1;
                loop {
                    match b.get(i) {
                        None | Some(b'\n') => return err(line, "unterminated string literal"),
                        Some(b'"') => break,
                        Some(b'\\') if b.get(i + 1).is_some_and(|&n| n != b'\n') => i += 2,
                        Some(_) => i += 1,
                    }
                }
                i += 1;
                Kind::Str
            }
            b'.' => {
                i += 1;
                if !b
                    .get(i)
                    .is_some_and(|&n| n.is_ascii_alphabetic() || n == b'_')
                {
                    return err(line, "unexpected `.`");
                }
                while i < b.len() && is_ident_char(b[i]) {
                    i += 1;
                }
                Kind::Dir
            }
            b'0'..=b'9' => {
                let decimal = !(c == b'0'
                    && matches!(
                        b.get(i + 1),
                        Some(b'x' | b'X' | b'b' | b'B' | b'f' | b'F' | b'd' | b'D')
                    ));
                i += 1;
                while i < b.len() {
                    let n = b[i];
                    let exponent_sign = decimal
                        && (n == b'+' || n == b'-')
                        && matches!(b[i - 1], b'e' | b'E')
                        && b.get(i + 1).is_some_and(u8::is_ascii_digit);
                    if !(n.is_ascii_alphanumeric() || n == b'.' || exponent_sign) {
                        break;
                    }
                    i += 1;
                }
                Kind::Num
            }
            b'%' | b'_' | b'$' | b'a'..=b'z' | b'A'..=b'Z' => {
                i += 1;
                while i < b.len() {
                    if is_ident_char(b[i]) {
                        i += 1;
                    } else if b[i] == b'.' && b.get(i + 1).is_some_and(|&n| is_ident_char(n)) {
                        i += 2;
                    } else {
                        break;
                    }
                }
                if c == b'%' && i == start + 1 {
                    return err(line, "`%` not followed by a register name");
                }
                Kind::Ident
            }
            b',' | b';' | b':' | b'{' | b'}' | b'[' | b']' | b'(' | b')' | b'<' | b'>' | b'+'
            | b'-' | b'!' | b'@' | b'=' | b'|' => {
                i += 1;
                Kind::Punct
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return err(line, format!("unexpected character {ch:?}"));
            }
        };
        toks.push(Tok {
            kind,
            s: &text[start..i],
            line,
            start,
            end: i,
        });
    }
    Ok(toks)
}

/// Parses a number token (no sign) as written.
fn parse_number(s: &str) -> Option<Imm> {
    let b = s.as_bytes();
    let all_hex = |t: &str| t.bytes().all(|c| c.is_ascii_hexdigit());
    if b.len() > 2 && b[0] == b'0' {
        match b[1] {
            b'f' | b'F' => {
                let h = &s[2..];
                return (h.len() == 8 && all_hex(h))
                    .then(|| u32::from_str_radix(h, 16).ok().map(Imm::F32))
                    .flatten();
            }
            b'd' | b'D' => {
                let h = &s[2..];
                return (h.len() == 16 && all_hex(h))
                    .then(|| u64::from_str_radix(h, 16).ok().map(Imm::F64))
                    .flatten();
            }
            _ => {}
        }
    }
    let t = s.strip_suffix(['U', 'u']).unwrap_or(s);
    let (digits, radix) = if let Some(r) = t.strip_prefix("0x").or(t.strip_prefix("0X")) {
        (r, 16)
    } else if let Some(r) = t.strip_prefix("0b").or(t.strip_prefix("0B")) {
        (r, 2)
    } else if s.contains(['.', 'e', 'E']) {
        let ok = s
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'));
        return if ok {
            s.parse().ok().map(Imm::Float)
        } else {
            None
        };
    } else if t.len() > 1 && t.starts_with('0') {
        (&t[1..], 8)
    } else {
        (t, 10)
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i128 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        v = v.checked_mul(radix as i128)?.checked_add(d as i128)?;
    }
    Some(Imm::Int(v))
}

fn negate(v: Imm) -> Option<Imm> {
    Some(match v {
        Imm::Int(i) => Imm::Int(i.checked_neg()?),
        Imm::F32(b) => Imm::F32(b ^ 0x8000_0000),
        Imm::F64(b) => Imm::F64(b ^ (1 << 63)),
        Imm::Float(f) => Imm::Float(-f),
    })
}

/// Appends the little-endian bytes of `v` stored as `ty`.
fn encode(ty: ScalarType, v: Imm, out: &mut Vec<u8>) -> Result<(), String> {
    use ScalarType::*;
    let bits: u128 = match (ty, v) {
        (F32, Imm::Int(i)) => (i as f32).to_bits() as u128,
        (F32, Imm::F32(b)) => b as u128,
        (F32, Imm::F64(b)) => (f64::from_bits(b) as f32).to_bits() as u128,
        (F32, Imm::Float(f)) => (f as f32).to_bits() as u128,
        (F64, Imm::Int(i)) => (i as f64).to_bits() as u128,
        (F64, Imm::F32(b)) => (f32::from_bits(b) as f64).to_bits() as u128,
        (F64, Imm::F64(b)) => b as u128,
        (F64, Imm::Float(f)) => f.to_bits() as u128,
        (_, Imm::Int(i)) => i as u128,
        (_, Imm::F32(b)) => b as u128,
        (_, Imm::F64(b)) => b as u128,
        (_, Imm::Float(f)) => {
            return Err(format!(
                "decimal initializer {f} for a {ty:?} variable is not supported"
            ));
        }
    };
    out.extend_from_slice(&bits.to_le_bytes()[..ty.size()]);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------

/// The register names declared so far in the current function (to tell a bare register
/// name such as `p` from a symbol).
#[derive(Default)]
struct RegNames {
    single: HashSet<String>,
    /// `r<10>` declares `r0` .. `r9`: prefix -> count.
    counted: HashMap<String, u32>,
}

impl RegNames {
    fn contains(&self, name: &str) -> bool {
        if self.single.contains(name) {
            return true;
        }
        let prefix = name.trim_end_matches(|c: char| c.is_ascii_digit());
        let digits = &name[prefix.len()..];
        if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
            return false;
        }
        match (self.counted.get(prefix), digits.parse::<u32>()) {
            (Some(&count), Ok(n)) => n < count,
            _ => false,
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<Tok<'a>>,
    pos: usize,
    regs: RegNames,
}

const SPACES: [(&str, StateSpace); 5] = [
    (".global", StateSpace::Global),
    (".shared", StateSpace::Shared),
    (".const", StateSpace::Const),
    (".local", StateSpace::Local),
    (".param", StateSpace::Param),
];

fn space_of(t: &Tok) -> Option<StateSpace> {
    if t.kind != Kind::Dir {
        return None;
    }
    SPACES.iter().find(|(n, _)| *n == t.s).map(|&(_, s)| s)
}

fn type_of(t: &Tok) -> Option<ScalarType> {
    if t.kind != Kind::Dir {
        return None;
    }
    ScalarType::from_name(&t.s[1..])
}

/// Function attributes kept in `Function::directives`.
const FUNC_DIRECTIVES: [&str; 9] = [
    ".maxntid",
    ".reqntid",
    ".minnctapersm",
    ".maxnreg",
    ".maxnctapersm",
    ".maxclusterrank",
    ".reqnctapercluster",
    ".explicitcluster",
    ".noreturn",
];

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Tok<'a>> {
        self.toks.get(self.pos).copied()
    }

    fn peek_at(&self, k: usize) -> Option<Tok<'a>> {
        self.toks.get(self.pos + k).copied()
    }

    fn bump(&mut self) -> Option<Tok<'a>> {
        let t = self.peek();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    /// The line of the next token (the last line with a token at the end of input).
    fn line(&self) -> usize {
        self.peek()
            .or_else(|| self.toks.last().copied())
            .map_or(1, |t| t.line)
    }

    /// The next token as it reads in a message.
    fn found(&self) -> String {
        match self.peek() {
            Some(t) => format!("`{}`", t.s),
            None => "end of input".to_string(),
        }
    }

    fn fail<T>(&self, expected: &str) -> R<T> {
        err(
            self.line(),
            format!("expected {expected}, found {}", self.found()),
        )
    }

    fn at(&self, c: u8) -> bool {
        self.peek().is_some_and(|t| t.is(c))
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.at(c);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn expect(&mut self, c: u8, context: &str) -> R<Tok<'a>> {
        match self.peek() {
            Some(t) if t.is(c) => {
                self.pos += 1;
                Ok(t)
            }
            _ => self.fail(&format!("`{}` {context}", c as char)),
        }
    }

    fn expect_kind(&mut self, kind: Kind, what: &str) -> R<Tok<'a>> {
        match self.peek() {
            Some(t) if t.kind == kind => {
                self.pos += 1;
                Ok(t)
            }
            _ => self.fail(what),
        }
    }

    fn ident(&mut self, what: &str) -> R<Tok<'a>> {
        self.expect_kind(Kind::Ident, what)
    }

    /// An unsigned integer token.
    fn uint(&mut self, what: &str) -> R<u64> {
        let t = self.expect_kind(Kind::Num, what)?;
        match parse_number(t.s) {
            Some(Imm::Int(v)) => u64::try_from(v).or_else(|_| err(t.line, "number out of range")),
            _ => err(t.line, format!("expected {what}, found `{}`", t.s)),
        }
    }

    fn skip_line(&mut self, line: usize) {
        while self.peek().is_some_and(|t| t.line == line) {
            self.pos += 1;
        }
    }

    /// Skips up to and including the next `;`.
    fn skip_statement(&mut self, what: &str, line: usize) -> R<()> {
        while let Some(t) = self.bump() {
            if t.is(b';') {
                return Ok(());
            }
        }
        err(line, format!("{what} is missing its `;`"))
    }

    fn module(&mut self) -> R<Module> {
        let mut m = Module {
            version: (0, 0),
            target: Vec::new(),
            address_size: 32,
            vars: Vec::new(),
            functions: Vec::new(),
        };
        while let Some(t) = self.peek() {
            if t.kind != Kind::Dir {
                return err(
                    t.line,
                    format!("expected a directive at module level, found `{}`", t.s),
                );
            }
            match t.s {
                ".version" => {
                    self.pos += 1;
                    let v = self.expect_kind(Kind::Num, "a version number after `.version`")?;
                    let parsed =
                        v.s.split_once('.')
                            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
                    match parsed {
                        Some(p) => m.version = p,
                        None => return err(v.line, format!("malformed version `{}`", v.s)),
                    }
                }
                ".target" => {
                    self.pos += 1;
                    loop {
                        m.target.push(self.ident("a target name")?.s.to_string());
                        if !self.eat(b',') {
                            break;
                        }
                    }
                }
                ".address_size" => {
                    self.pos += 1;
                    let n = self.uint("an address size")?;
                    if n != 32 && n != 64 {
                        return err(t.line, format!("address size {n} is not 32 or 64"));
                    }
                    m.address_size = n as u32;
                }
                ".file" | ".loc" => {
                    self.pos += 1;
                    self.skip_line(t.line);
                }
                ".pragma" => {
                    self.pos += 1;
                    self.skip_statement("`.pragma`", t.line)?;
                }
                ".section" => self.skip_section()?,
                _ => self.module_decl(&mut m)?,
            }
        }
        Ok(m)
    }

    /// `.section .debug_xxx { ... }`: skipped whole.
    fn skip_section(&mut self) -> R<()> {
        let line = self.line();
        self.pos += 1;
        while self.peek().is_some_and(|t| !t.is(b'{') && !t.is(b';')) {
            self.pos += 1;
        }
        if self.eat(b';') {
            return Ok(());
        }
        let open = self.expect(b'{', "to open the `.section`")?;
        let mut depth = 1;
        while let Some(t) = self.bump() {
            if t.is(b'{') {
                depth += 1;
            } else if t.is(b'}') {
                depth -= 1;
                if depth == 0 {
                    return Ok(());
                }
            }
        }
        err(
            open.line,
            format!("`.section` at line {line}: `{{` is never closed"),
        )
    }

    /// A linkage-prefixed or plain function or variable at module level.
    fn module_decl(&mut self, m: &mut Module) -> R<()> {
        let first = self.line();
        let mut visible = false;
        while let Some(t) = self.peek() {
            match t.s {
                ".visible" | ".weak" => visible = true,
                ".extern" | ".common" => {}
                _ => break,
            }
            self.pos += 1;
        }
        let Some(t) = self.peek() else {
            return self.fail("`.entry`, `.func` or a variable after the linkage directive");
        };
        if t.is_dir(".entry") || t.is_dir(".func") {
            self.pos += 1;
            if let Some(f) = self.function(t.s == ".entry", visible, t.line)? {
                m.functions.push(f);
            }
            return Ok(());
        }
        match space_of(&t) {
            Some(StateSpace::Param) | None if t.kind == Kind::Dir => err(
                t.line,
                format!("unknown or misplaced module-level directive `{}`", t.s),
            ),
            Some(space) => {
                self.pos += 1;
                let vars = self.var_decl(space, first)?;
                m.vars.extend(vars);
                Ok(())
            }
            None => self.fail("a directive at module level"),
        }
    }

    /// The rest of a variable declaration after its state space, through the `;`.
    fn var_decl(&mut self, space: StateSpace, line: usize) -> R<Vec<Variable>> {
        let mut align = None;
        let mut vec = 1u64;
        let ty = loop {
            let Some(t) = self.peek() else {
                return self.fail("a type in the variable declaration");
            };
            if let Some(ty) = type_of(&t) {
                self.pos += 1;
                break ty;
            }
            match t.s {
                ".align" => {
                    self.pos += 1;
                    align = Some(self.align_value()?);
                }
                ".v2" | ".v4" | ".v8" => {
                    self.pos += 1;
                    vec = t.s[2..].parse().unwrap_or(1);
                }
                ".attribute" => {
                    self.pos += 1;
                    self.skip_parens()?;
                }
                _ => return self.fail("a type in the variable declaration"),
            }
        };
        let mut vars = Vec::new();
        loop {
            let name = self.ident("a variable name")?;
            let dims = self.dims()?;
            let init = if self.eat(b'=') {
                let mut vals = Vec::new();
                self.init_values(&mut vals, 0)?;
                Some(vals)
            } else {
                None
            };
            let elem = |n: u64| n.checked_mul(vec);
            let known = dims
                .iter()
                .flatten()
                .try_fold(1u64, |a, &d| a.checked_mul(d))
                .and_then(elem);
            let Some(known) = known else {
                return err(name.line, format!("`{}` has too many elements", name.s));
            };
            let elements = match (&init, dims.contains(&None)) {
                (Some(vals), true) if known > 0 => (vals.len() as u64).div_ceil(known) * known,
                (_, true) => 0,
                (_, false) => known,
            };
            let size = elements.saturating_mul(ty.size() as u64);
            let init = match init {
                None => None,
                Some(vals) => {
                    if vals.len() as u64 > elements {
                        return err(
                            name.line,
                            format!(
                                "`{}` has {} initializers for {elements} elements",
                                name.s,
                                vals.len()
                            ),
                        );
                    }
                    if size > MAX_INIT_BYTES {
                        return err(
                            name.line,
                            format!("initialized variable `{}` is too large", name.s),
                        );
                    }
                    let mut bytes = Vec::with_capacity(size as usize);
                    for v in vals {
                        encode(ty, v, &mut bytes).or_else(|m| err(name.line, m))?;
                    }
                    bytes.resize(size as usize, 0);
                    Some(bytes)
                }
            };
            vars.push(Variable {
                space,
                name: name.s.to_string(),
                align: align.unwrap_or((ty.size() as u64 * vec) as u32),
                ty,
                elements,
                init,
                line,
            });
            if !self.eat(b',') {
                break;
            }
        }
        self.expect(b';', "after the variable declaration")?;
        Ok(vars)
    }

    fn align_value(&mut self) -> R<u32> {
        let line = self.line();
        let n = self.uint("an alignment")?;
        if n == 0 || !n.is_power_of_two() || n > 1 << 16 {
            return err(line, format!("alignment {n} is not a power of two"));
        }
        Ok(n as u32)
    }

    /// `[N][M]...`; `[]` is None.
    fn dims(&mut self) -> R<Vec<Option<u64>>> {
        let mut dims = Vec::new();
        while self.eat(b'[') {
            if self.eat(b']') {
                dims.push(None);
            } else {
                dims.push(Some(self.uint("an array size")?));
                self.expect(b']', "after the array size")?;
            }
        }
        Ok(dims)
    }

    /// `(...)` skipped, nesting allowed.
    fn skip_parens(&mut self) -> R<()> {
        let open = self.expect(b'(', "after `.attribute`")?;
        let mut depth = 1;
        while let Some(t) = self.bump() {
            if t.is(b'(') {
                depth += 1;
            } else if t.is(b')') {
                depth -= 1;
                if depth == 0 {
                    return Ok(());
                }
            }
        }
        err(open.line, "`(` is never closed")
    }

    /// An initializer: a constant or a (nested) `{...}` list, flattened into `out`.
    fn init_values(&mut self, out: &mut Vec<Imm>, depth: usize) -> R<()> {
        if self.eat(b'{') {
            if depth >= MAX_NEST {
                return err(self.line(), "initializer nested too deeply");
            }
            if self.eat(b'}') {
                return Ok(());
            }
            loop {
                self.init_values(out, depth + 1)?;
                if self.eat(b'}') {
                    return Ok(());
                }
                self.expect(b',', "or `}` in the initializer")?;
            }
        }
        match self.peek() {
            Some(t) if t.kind == Kind::Ident => err(
                t.line,
                format!("symbolic initializer `{}` is not supported", t.s),
            ),
            Some(t) if t.kind == Kind::Num || t.is(b'-') => {
                out.push(self.signed_number()?);
                Ok(())
            }
            _ => self.fail("an initializer value"),
        }
    }

    /// A number token, optionally preceded by `-`.
    fn signed_number(&mut self) -> R<Imm> {
        let neg = self.eat(b'-');
        let t = self.expect_kind(Kind::Num, "a number")?;
        let v = parse_number(t.s);
        let v = if neg { v.and_then(negate) } else { v };
        v.ok_or_else(|| ParseError {
            line: t.line,
            message: format!("malformed number `{}{}`", if neg { "-" } else { "" }, t.s),
        })
    }

    /// `.entry`/`.func` after the keyword; None for a declaration without a body.
    fn function(&mut self, is_entry: bool, visible: bool, line: usize) -> R<Option<Function>> {
        self.regs = RegNames::default();
        let returns = if !is_entry && self.at(b'(') {
            self.param_list()?
        } else {
            Vec::new()
        };
        let name = self.ident("a function name")?;
        let params = if self.at(b'(') {
            self.param_list()?
        } else {
            Vec::new()
        };
        let mut directives = Vec::new();
        while let Some(t) = self.peek() {
            if t.kind != Kind::Dir || !FUNC_DIRECTIVES.contains(&t.s) {
                break;
            }
            self.pos += 1;
            let mut nums = Vec::new();
            if self.peek().is_some_and(|t| t.kind == Kind::Num) {
                loop {
                    nums.push(self.uint("a number")?);
                    if !self.eat(b',') {
                        break;
                    }
                }
            }
            directives.push((t.s[1..].to_string(), nums));
        }
        if self.eat(b';') {
            return Ok(None);
        }
        let open = self.expect(b'{', &format!("to open the body of `{}`", name.s))?;
        let mut f = Function {
            name: name.s.to_string(),
            is_entry,
            visible,
            params,
            returns,
            regs: Vec::new(),
            vars: Vec::new(),
            body: Vec::new(),
            directives,
            line,
        };
        self.body(&mut f, open.line)?;
        Ok(Some(f))
    }

    /// `( .param ..., .param ... )`
    fn param_list(&mut self) -> R<Vec<Param>> {
        self.expect(b'(', "to open the parameter list")?;
        let mut out = Vec::new();
        if self.eat(b')') {
            return Ok(out);
        }
        loop {
            out.push(self.param()?);
            if self.eat(b')') {
                return Ok(out);
            }
            self.expect(b',', "or `)` in the parameter list")?;
        }
    }

    /// `.param [.align N] .type [.ptr [.space] [.align N]] name[dims]`
    fn param(&mut self) -> R<Param> {
        match self.peek() {
            Some(t) if t.is_dir(".param") => self.pos += 1,
            _ => return self.fail("`.param`"),
        }
        let mut align = None;
        let mut ty = None;
        let mut vec = 1u64;
        let mut after_ptr = false;
        let name = loop {
            let Some(t) = self.peek() else {
                return self.fail("a parameter name");
            };
            if t.kind == Kind::Ident {
                self.pos += 1;
                break t;
            }
            if let Some(tt) = type_of(&t) {
                if ty.is_some() {
                    return self.fail("a parameter name");
                }
                ty = Some(tt);
                self.pos += 1;
                continue;
            }
            match t.s {
                ".align" => {
                    self.pos += 1;
                    let a = self.align_value()?;
                    // After `.ptr` it is the pointee's alignment, not the parameter's.
                    if !after_ptr {
                        align = Some(a);
                    }
                }
                ".ptr" => {
                    self.pos += 1;
                    after_ptr = true;
                }
                ".v2" | ".v4" | ".v8" => {
                    self.pos += 1;
                    vec = t.s[2..].parse().unwrap_or(1);
                }
                _ if after_ptr && space_of(&t).is_some() => self.pos += 1,
                _ => return self.fail("a parameter type or name"),
            }
        };
        let Some(ty) = ty else {
            return err(name.line, format!("parameter `{}` has no type", name.s));
        };
        let dims = self.dims()?;
        if dims.contains(&None) {
            return err(
                name.line,
                format!("parameter `{}` has an unsized array", name.s),
            );
        }
        let elements = dims
            .iter()
            .flatten()
            .try_fold(vec, |a, &d| a.checked_mul(d));
        let Some(elements) = elements else {
            return err(name.line, format!("parameter `{}` is too large", name.s));
        };
        Ok(Param {
            name: name.s.to_string(),
            ty,
            align: align.unwrap_or((ty.size() as u64 * vec) as u32),
            elements,
        })
    }

    /// The statements of a body after its `{`, through the matching `}`.
    fn body(&mut self, f: &mut Function, open_line: usize) -> R<()> {
        let mut depth = 1usize;
        loop {
            let Some(t) = self.peek() else {
                return err(
                    open_line,
                    format!(
                        "body of `{}`: `{{` is never closed (end of input reached)",
                        f.name
                    ),
                );
            };
            match t.kind {
                Kind::Punct if t.is(b'{') => {
                    self.pos += 1;
                    depth += 1;
                }
                Kind::Punct if t.is(b'}') => {
                    self.pos += 1;
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Kind::Punct if t.is(b';') => self.pos += 1,
                Kind::Punct if t.is(b'@') => {
                    let i = self.instruction()?;
                    f.body.push(Statement::Instr(i));
                }
                Kind::Dir => self.body_directive(f, t)?,
                Kind::Ident if self.peek_at(1).is_some_and(|n| n.is(b':')) => {
                    self.pos += 2;
                    if t.s.starts_with('%') {
                        return err(t.line, format!("`{}` is not a valid label", t.s));
                    }
                    match self.peek() {
                        Some(n) if n.is_dir(".callprototype") => {
                            self.skip_statement("`.callprototype`", n.line)?;
                        }
                        Some(n) if n.kind == Kind::Dir && n.s == ".branchtargets" => {
                            return err(n.line, "`.branchtargets` is not supported");
                        }
                        _ => f.body.push(Statement::Label(t.s.to_string())),
                    }
                }
                Kind::Ident => {
                    let i = self.instruction()?;
                    f.body.push(Statement::Instr(i));
                }
                _ => {
                    return err(t.line, format!("expected an instruction, found `{}`", t.s));
                }
            }
        }
    }

    fn body_directive(&mut self, f: &mut Function, t: Tok<'a>) -> R<()> {
        if let Some(space) = space_of(&t) {
            self.pos += 1;
            let vars = self.var_decl(space, t.line)?;
            f.vars.extend(vars);
            return Ok(());
        }
        match t.s {
            ".reg" => {
                self.pos += 1;
                self.reg_decl(f, t.line)
            }
            ".pragma" => {
                self.pos += 1;
                self.skip_statement("`.pragma`", t.line)
            }
            ".loc" | ".file" => {
                self.pos += 1;
                self.skip_line(t.line);
                Ok(())
            }
            _ => err(
                t.line,
                format!("unknown directive `{}` in the body of `{}`", t.s, f.name),
            ),
        }
    }

    /// `.reg .type name<N>, name;` after `.reg`.
    fn reg_decl(&mut self, f: &mut Function, line: usize) -> R<()> {
        let next = self.peek();
        let ty = match (next, next.as_ref().and_then(type_of)) {
            (_, Some(ty)) => {
                self.pos += 1;
                ty
            }
            (Some(t), None) if t.kind == Kind::Dir && t.s.starts_with(".v") => {
                return err(t.line, "vector registers (`.reg .vN`) are not supported");
            }
            _ => return self.fail("a register type after `.reg`"),
        };
        loop {
            let name = self.ident("a register name")?;
            if name.s.contains('.') {
                return err(
                    name.line,
                    format!("`{}` is not a valid register name", name.s),
                );
            }
            let count = if self.eat(b'<') {
                let n = self.uint("a register count")?;
                self.expect(b'>', "after the register count")?;
                let Ok(n) = u32::try_from(n) else {
                    return err(name.line, format!("register count {n} is too large"));
                };
                Some(n)
            } else {
                None
            };
            match count {
                Some(n) => {
                    let c = self.regs.counted.entry(name.s.to_string()).or_insert(0);
                    *c = (*c).max(n);
                }
                None => {
                    self.regs.single.insert(name.s.to_string());
                }
            }
            f.regs.push(RegDecl {
                ty,
                name: name.s.to_string(),
                count,
                line,
            });
            if !self.eat(b',') {
                break;
            }
        }
        self.expect(b';', "after the register declaration")?;
        Ok(())
    }

    fn is_reg(&self, name: &str) -> bool {
        name.starts_with('%') || name == "_" || self.regs.contains(name)
    }

    /// `[@[!]guard] opcode[.mod]* [operand {, operand}] ;`
    fn instruction(&mut self) -> R<Instruction> {
        let first = self.peek().map_or(0, |t| t.start);
        let line = self.line();
        let guard = if self.eat(b'@') {
            let neg = self.eat(b'!');
            let g = self.ident("a predicate register after `@`")?;
            if !self.is_reg(g.s) {
                return err(
                    g.line,
                    format!("guard `{}` is not a declared register", g.s),
                );
            }
            Some((neg, g.s.to_string()))
        } else {
            None
        };
        let op = self.ident("an instruction opcode")?;
        if !op.s.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return err(op.line, format!("`{}` is not an instruction opcode", op.s));
        }
        let mut parts = op.s.split('.');
        let opcode = parts.next().unwrap_or_default().to_string();
        let modifiers = parts.map(str::to_string).collect();
        let mut operands = Vec::new();
        let mut end = op.end;
        if !self.at(b';') {
            loop {
                operands.push(self.operand(0)?);
                end = self.toks[self.pos - 1].end;
                if self.at(b';') {
                    break;
                }
                if self.at(b'|') {
                    return err(
                        self.line(),
                        "`|` (dual predicate destinations) is not supported",
                    );
                }
                self.expect(b',', "or `;` after the operand")?;
            }
        }
        self.pos += 1; // the `;`
        Ok(Instruction {
            line,
            guard,
            opcode,
            modifiers,
            operands,
            text: self.text[first..end].to_string(),
        })
    }

    fn operand(&mut self, depth: usize) -> R<Operand> {
        let Some(t) = self.peek() else {
            return self.fail("an operand");
        };
        match t.kind {
            Kind::Ident => {
                self.pos += 1;
                if self.is_reg(t.s) {
                    Ok(Operand::Reg(t.s.to_string()))
                } else {
                    Ok(Operand::Symbol(t.s.to_string()))
                }
            }
            Kind::Num => Ok(Operand::Imm(self.signed_number()?)),
            Kind::Punct if t.is(b'-') => Ok(Operand::Imm(self.signed_number()?)),
            Kind::Punct if t.is(b'!') => {
                self.pos += 1;
                match self.peek() {
                    Some(r) if r.kind == Kind::Ident && self.is_reg(r.s) => {
                        self.pos += 1;
                        Ok(Operand::NotReg(r.s.to_string()))
                    }
                    _ => self.fail("a predicate register after `!`"),
                }
            }
            Kind::Punct if t.is(b'{') || t.is(b'(') => {
                let close = if t.is(b'{') { b'}' } else { b')' };
                if depth >= MAX_NEST {
                    return err(t.line, "operand nested too deeply");
                }
                self.pos += 1;
                let mut items = Vec::new();
                if self.eat(close) {
                    return Ok(Operand::Vector(items));
                }
                loop {
                    items.push(self.operand(depth + 1)?);
                    if self.eat(close) {
                        return Ok(Operand::Vector(items));
                    }
                    let ctx = format!("or `{}` in the operand list", close as char);
                    self.expect(b',', &ctx)?;
                }
            }
            Kind::Punct if t.is(b'[') => {
                self.pos += 1;
                self.address()
            }
            _ => err(t.line, format!("malformed operand: found `{}`", t.s)),
        }
    }

    /// `[base]`, `[base+N]`, `[base+-N]`, `[base-N]`, `[N]` after the `[`.
    fn address(&mut self) -> R<Operand> {
        let line = self.line();
        let (base, mut offset) = match self.peek() {
            Some(t) if t.kind == Kind::Ident => {
                self.pos += 1;
                if self.is_reg(t.s) {
                    (AddrBase::Reg(t.s.to_string()), 0)
                } else {
                    (AddrBase::Symbol(t.s.to_string()), 0)
                }
            }
            Some(t) if t.kind == Kind::Num || t.is(b'-') => {
                (AddrBase::Absolute, self.offset_value()?)
            }
            _ => return self.fail("a register, symbol or number in the address"),
        };
        loop {
            let neg = if self.eat(b'+') {
                false
            } else if self.eat(b'-') {
                true
            } else {
                break;
            };
            let v = self.offset_value()?;
            let v = if neg { v.checked_neg() } else { Some(v) };
            match v.and_then(|v| offset.checked_add(v)) {
                Some(o) => offset = o,
                None => return err(line, "address offset out of range"),
            }
        }
        self.expect(b']', "to close the address")?;
        Ok(Operand::Address { base, offset })
    }

    /// An integer offset (optionally negative); u64 values above i64::MAX wrap.
    fn offset_value(&mut self) -> R<i64> {
        let line = self.line();
        match self.signed_number()? {
            Imm::Int(v) => match i64::try_from(v) {
                Ok(o) => Ok(o),
                Err(_) => match u64::try_from(v) {
                    Ok(u) => Ok(u as i64),
                    Err(_) => err(line, "address offset out of range"),
                },
            },
            _ => err(line, "address offset is not an integer"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = ".version 9.0\n.target sm_80\n.address_size 64\n";

    /// The body statements of a kernel whose body is `body` (its first line is line 6).
    fn body_of(body: &str) -> Vec<Statement> {
        let src = format!("{HEAD}.visible .entry k()\n{{\n{body}\n}}\n");
        let m = parse(&src).unwrap_or_else(|e| panic!("{e}"));
        m.functions.into_iter().next().unwrap().body
    }

    /// The one instruction of `line`, with `.reg .pred p;` declared before it.
    fn instr(line: &str) -> Instruction {
        let body = body_of(&format!(".reg .pred p;\n{line}"));
        match body.as_slice() {
            [Statement::Instr(i)] => i.clone(),
            other => panic!("expected one instruction, got {other:?}"),
        }
    }

    fn ops(line: &str) -> Vec<Operand> {
        instr(line).operands
    }

    fn reg(s: &str) -> Operand {
        Operand::Reg(s.to_string())
    }

    fn sym(s: &str) -> Operand {
        Operand::Symbol(s.to_string())
    }

    fn int(v: i128) -> Operand {
        Operand::Imm(Imm::Int(v))
    }

    fn addr(base: AddrBase, offset: i64) -> Operand {
        Operand::Address { base, offset }
    }

    fn parse_err(src: &str) -> ParseError {
        match parse(src) {
            Ok(m) => panic!("expected an error, parsed {m:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn header() {
        let m = parse(HEAD).unwrap();
        assert_eq!(m.version, (9, 0));
        assert_eq!(m.target, vec!["sm_80"]);
        assert_eq!(m.address_size, 64);
        assert!(m.vars.is_empty() && m.functions.is_empty());
        let m =
            parse(".version 7.8\n.target sm_90a, texmode_independent\n.address_size 32").unwrap();
        assert_eq!(m.version, (7, 8));
        assert_eq!(m.target, vec!["sm_90a", "texmode_independent"]);
        assert_eq!(m.address_size, 32);
    }

    #[test]
    fn opcode_and_modifiers() {
        let cases: [(&str, &str, &[&str]); 10] = [
            (
                "ld.global.v2.u32 {%r1, %r2}, [%rd1];",
                "ld",
                &["global", "v2", "u32"],
            ),
            ("setp.lt.f64 %p1, %fd1, %fd2;", "setp", &["lt", "f64"]),
            ("cvt.rzi.s32.f64 %r1, %fd1;", "cvt", &["rzi", "s32", "f64"]),
            (
                "atom.shared.add.u64 %rd1, [%r1], %rd2;",
                "atom",
                &["shared", "add", "u64"],
            ),
            ("bra.uni $L__BB0_1;", "bra", &["uni"]),
            ("mul.wide.u32 %rd1, %r1, %r2;", "mul", &["wide", "u32"]),
            (
                "dp2a.lo.u32.u32 %r1, %r2, %r3, %r4;",
                "dp2a",
                &["lo", "u32", "u32"],
            ),
            ("mov.b32 %r1, %r2;", "mov", &["b32"]),
            ("ret;", "ret", &[]),
            ("bar.sync 0;", "bar", &["sync"]),
        ];
        for (line, opcode, mods) in cases {
            let i = instr(line);
            assert_eq!(i.opcode, opcode, "{line}");
            assert_eq!(i.modifiers, mods, "{line}");
        }
        assert_eq!(instr("ret;").operands, vec![]);
        assert_eq!(instr("bar.sync 0;").operands, vec![int(0)]);
    }

    #[test]
    fn text_line_and_guard() {
        let body = body_of(".reg .pred %p<4>;\n\t@%p1 bra \t$L__BB0_2;\n  @!%p3 ret ;\n");
        let want = [
            Instruction {
                line: 7,
                guard: Some((false, "%p1".into())),
                opcode: "bra".into(),
                modifiers: vec![],
                operands: vec![sym("$L__BB0_2")],
                text: "@%p1 bra \t$L__BB0_2".into(),
            },
            Instruction {
                line: 8,
                guard: Some((true, "%p3".into())),
                opcode: "ret".into(),
                modifiers: vec![],
                operands: vec![],
                text: "@!%p3 ret".into(),
            },
        ];
        assert_eq!(body, want.map(Statement::Instr).to_vec());
        // A bare declared predicate works as a guard too.
        assert_eq!(instr("@!p bra L;").guard, Some((true, "p".into())));
    }

    #[test]
    fn registers_and_symbols() {
        assert_eq!(ops("mov.u32 %r1, %tid.x;"), vec![reg("%r1"), reg("%tid.x")]);
        for special in ["%ntid.x", "%ctaid.y", "%nctaid.x", "%laneid", "%clock64"] {
            assert_eq!(ops(&format!("mov.u32 %r1, {special};"))[1], reg(special));
        }
        assert_eq!(ops("mov.u32 %r1, hist;"), vec![reg("%r1"), sym("hist")]);
        // `p` is a declared register, `q` is not.
        assert_eq!(
            ops("setp.eq.s32 p, %r1, q;"),
            vec![reg("p"), reg("%r1"), sym("q")]
        );
        assert_eq!(
            ops("mov.b64 {_, %r1}, %rd1;")[0],
            Operand::Vector(vec![reg("_"), reg("%r1")])
        );
        // Counted bare names: `r<3>` declares r0..r2 only.
        let body = body_of(".reg .b32 r<3>;\nadd.s32 r2, r0, r3;");
        let Statement::Instr(i) = &body[0] else {
            panic!()
        };
        assert_eq!(i.operands, vec![reg("r2"), reg("r0"), sym("r3")]);
    }

    #[test]
    fn not_reg() {
        assert_eq!(
            ops("selp.b32 %r1, 1, 0, !%p1;"),
            vec![reg("%r1"), int(1), int(0), Operand::NotReg("%p1".into())]
        );
        assert_eq!(
            ops("and.pred %p1, !p, %p2;")[1],
            Operand::NotReg("p".into())
        );
    }

    #[test]
    fn vectors() {
        assert_eq!(
            ops("ld.global.v4.u32 {%r1, %r2,%r3 , %r4}, [%rd1];")[0],
            Operand::Vector(vec![reg("%r1"), reg("%r2"), reg("%r3"), reg("%r4")])
        );
        assert_eq!(
            ops("mov.b64 %rd1, {%r1, %r2};")[1],
            Operand::Vector(vec![reg("%r1"), reg("%r2")])
        );
    }

    #[test]
    fn addresses() {
        let r = |s: &str| AddrBase::Reg(s.into());
        let s = |s: &str| AddrBase::Symbol(s.into());
        let cases = [
            ("[%rd4]", addr(r("%rd4"), 0)),
            ("[%rd4+8]", addr(r("%rd4"), 8)),
            ("[%rd4+-8]", addr(r("%rd4"), -8)),
            ("[%rd4-8]", addr(r("%rd4"), -8)),
            ("[ %rd4 + 0x10 ]", addr(r("%rd4"), 16)),
            ("[k_param_0+88]", addr(s("k_param_0"), 88)),
            ("[hist]", addr(s("hist"), 0)),
            ("[hist+40]", addr(s("hist"), 40)),
            ("[0x100]", addr(AddrBase::Absolute, 0x100)),
            ("[p+4]", addr(r("p"), 4)),
        ];
        for (text, want) in cases {
            assert_eq!(ops(&format!("ld.u32 %r1, {text};"))[1], want, "{text}");
        }
        assert_eq!(
            ops("st.shared.u64 [luma], %rd1;"),
            vec![addr(s("luma"), 0), reg("%rd1")]
        );
    }

    #[test]
    fn immediates() {
        let cases = [
            ("30212", Imm::Int(30212)),
            ("-9187201950435737471", Imm::Int(-9187201950435737471)),
            ("18446744073709551615", Imm::Int(u64::MAX as i128)),
            ("0x1F", Imm::Int(31)),
            ("0X1f", Imm::Int(31)),
            ("-0x10", Imm::Int(-16)),
            ("017", Imm::Int(15)),
            ("0", Imm::Int(0)),
            ("0b101", Imm::Int(5)),
            ("42U", Imm::Int(42)),
            ("0xFFU", Imm::Int(255)),
            ("0f3F800000", Imm::F32(0x3F80_0000)),
            ("0F3f800000", Imm::F32(0x3F80_0000)),
            ("0d3FF0000000000000", Imm::F64(0x3FF0_0000_0000_0000)),
            ("1.0", Imm::Float(1.0)),
            ("2.5e-3", Imm::Float(2.5e-3)),
            ("1E+2", Imm::Float(100.0)),
            ("-0.5", Imm::Float(-0.5)),
        ];
        for (text, want) in cases {
            assert_eq!(
                ops(&format!("mov.b64 %rd1, {text};"))[1],
                Operand::Imm(want),
                "{text}"
            );
        }
    }

    #[test]
    fn entry_params() {
        let src = format!(
            "{HEAD}.visible .entry k(\n\t.param .align 8 .b8 k_param_0[128],\n\t.param .u64 k_param_1,\n\t.param .u64 .ptr .global .align 1 k_param_2,\n\t.param .f32 k_param_3[2][3]\n)\n{{\n\tret;\n}}\n"
        );
        let f = &parse(&src).unwrap().functions[0];
        let p = |name: &str, ty, align, elements| Param {
            name: name.into(),
            ty,
            align,
            elements,
        };
        assert_eq!(
            f.params,
            vec![
                p("k_param_0", ScalarType::B8, 8, 128),
                p("k_param_1", ScalarType::U64, 8, 1),
                p("k_param_2", ScalarType::U64, 8, 1),
                p("k_param_3", ScalarType::F32, 4, 6),
            ]
        );
        assert!(f.is_entry && f.visible && f.returns.is_empty());
        assert_eq!(f.line, 4);
    }

    #[test]
    fn funcs_declarations_and_calls() {
        let src = format!(
            "{HEAD}.extern .func  (.param .b32 func_retval0) vprintf\n(\n\t.param .b64 vprintf_param_0,\n\t.param .b64 vprintf_param_1\n)\n;\n\
             .weak .func  (.param .b32 func_retval0) f(\n\t.param .b32 f_param_0\n)\n{{\n\tst.param.b32 [func_retval0], 0;\n\tret;\n}}\n\
             .func g\n{{\n\tcall.uni (retval0), vprintf, (param0, param1);\n\tcall.uni g, ();\n\tcall g;\n}}\n"
        );
        let m = parse(&src).unwrap();
        assert_eq!(m.functions.len(), 2, "the extern declaration is skipped");
        let f = &m.functions[0];
        assert_eq!(f.name, "f");
        assert!(!f.is_entry && f.visible);
        assert_eq!(f.line, 10);
        let b32 = |name: &str| Param {
            name: name.into(),
            ty: ScalarType::B32,
            align: 4,
            elements: 1,
        };
        assert_eq!(f.returns, vec![b32("func_retval0")]);
        assert_eq!(f.params, vec![b32("f_param_0")]);
        let g = &m.functions[1];
        assert!(!g.visible && g.params.is_empty() && g.returns.is_empty());
        let calls: Vec<_> = g
            .body
            .iter()
            .map(|s| match s {
                Statement::Instr(i) => (i.opcode.clone(), i.modifiers.clone(), i.operands.clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            calls,
            vec![
                (
                    "call".to_string(),
                    vec!["uni".to_string()],
                    vec![
                        Operand::Vector(vec![sym("retval0")]),
                        sym("vprintf"),
                        Operand::Vector(vec![sym("param0"), sym("param1")]),
                    ]
                ),
                (
                    "call".to_string(),
                    vec!["uni".to_string()],
                    vec![sym("g"), Operand::Vector(vec![])]
                ),
                ("call".to_string(), vec![], vec![sym("g")]),
            ]
        );
    }

    #[test]
    fn reg_decls_and_nested_scopes() {
        let src = format!(
            "{HEAD}.entry k()\n{{\n\t.reg .pred \t%p<87>;\n\t.reg .b32 \t%r<202>, x;\n\t{{\n\t.reg .b16 %temp;\n\tmov.b32 \t{{%temp, %rs1}}, %r1;\n\t}}\n\tret;\n}}\n"
        );
        let f = &parse(&src).unwrap().functions[0];
        let d = |ty, name: &str, count, line| RegDecl {
            ty,
            name: name.into(),
            count,
            line,
        };
        assert_eq!(
            f.regs,
            vec![
                d(ScalarType::Pred, "%p", Some(87), 6),
                d(ScalarType::B32, "%r", Some(202), 7),
                d(ScalarType::B32, "x", None, 7),
                d(ScalarType::B16, "%temp", None, 9),
            ]
        );
        assert!(!f.visible && f.is_entry);
        let Statement::Instr(i) = &f.body[0] else {
            panic!()
        };
        assert_eq!(i.line, 10);
        assert_eq!(
            i.operands,
            vec![Operand::Vector(vec![reg("%temp"), reg("%rs1")]), reg("%r1")]
        );
        assert_eq!(f.body.len(), 2);
    }

    #[test]
    fn module_variables() {
        let src = format!(
            "{HEAD}.global .align 4 .u32 tbl[4] = {{1, 2, 3, 4}};\n\
             .const .align 8 .f64 coef[2] = {{0d3FF0000000000000, 2.0}};\n\
             .global .b8 x[2] = {{1,2}};\n\
             .shared .align 4 .b8 hist[3072];\n\
             .visible .global .f32 fl[] = {{1.5, 0f40000000, -1}};\n\
             .const .s16 m[2][2] = {{{{-1, 2}}, {{3}}}};\n\
             .extern .shared .align 16 .b8 smem[];\n\
             .global .u64 a, b = 7;\n"
        );
        let m = parse(&src).unwrap();
        let v = |space, name: &str, align, ty, elements, init: Option<Vec<u8>>, line| Variable {
            space,
            name: name.into(),
            align,
            ty,
            elements,
            init,
            line,
        };
        use ScalarType::*;
        use StateSpace::*;
        let le32 = |xs: &[u32]| xs.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let mut coef = 1.0f64.to_bits().to_le_bytes().to_vec();
        coef.extend(2.0f64.to_bits().to_le_bytes());
        let fl = le32(&[1.5f32.to_bits(), 2.0f32.to_bits(), (-1.0f32).to_bits()]);
        let mat = [(-1i16), 2, 3, 0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(
            m.vars,
            vec![
                v(Global, "tbl", 4, U32, 4, Some(le32(&[1, 2, 3, 4])), 4),
                v(Const, "coef", 8, F64, 2, Some(coef), 5),
                v(Global, "x", 1, B8, 2, Some(vec![1, 2]), 6),
                v(Shared, "hist", 4, B8, 3072, None, 7),
                v(Global, "fl", 4, F32, 3, Some(fl), 8),
                v(Const, "m", 2, S16, 4, Some(mat), 9),
                v(Shared, "smem", 16, B8, 0, None, 10),
                v(Global, "a", 8, U64, 1, None, 11),
                v(
                    Global,
                    "b",
                    8,
                    U64,
                    1,
                    Some(7u64.to_le_bytes().to_vec()),
                    11
                ),
            ]
        );
        assert_eq!(m.vars[0].size(), 16);
    }

    #[test]
    fn function_variables_and_directives() {
        let src = format!(
            "{HEAD}.visible .entry k()\n.maxntid 256, 1, 1\n.minnctapersm 2\n{{\n\
             \t.local .align 8 .b8 \t__local_depot0[16];\n\
             \t.shared .align 4 .b8 x[3072];\n\
             \t.param .b64 param0;\n\tret;\n}}\n\
             .entry k2() .reqntid 32 .maxnreg 64 {{ ret; }}\n"
        );
        let m = parse(&src).unwrap();
        let f = &m.functions[0];
        assert_eq!(
            f.directives,
            vec![
                ("maxntid".to_string(), vec![256, 1, 1]),
                ("minnctapersm".to_string(), vec![2])
            ]
        );
        let v = |space, name: &str, align, ty, elements, line| Variable {
            space,
            name: name.into(),
            align,
            ty,
            elements,
            init: None,
            line,
        };
        assert_eq!(
            f.vars,
            vec![
                v(
                    StateSpace::Local,
                    "__local_depot0",
                    8,
                    ScalarType::B8,
                    16,
                    8
                ),
                v(StateSpace::Shared, "x", 4, ScalarType::B8, 3072, 9),
                v(StateSpace::Param, "param0", 8, ScalarType::B64, 1, 10),
            ]
        );
        assert_eq!(
            m.functions[1].directives,
            vec![
                ("reqntid".to_string(), vec![32]),
                ("maxnreg".to_string(), vec![64])
            ]
        );
    }

    #[test]
    fn skipped_directives_comments_and_labels() {
        let src = format!(
            "{HEAD}.file\t1 \"/tmp/a.cu\"\n// .globl k\n.entry k()\n{{\n\
             \t.loc\t1 12 3\n\t/* a\n\t   b */ .pragma \"nounroll\";\n\
             $L__BB0_4:\n\tbra.uni \t$L__BB0_4; // loop\n\
             done: ret;\n}}\n\
             \t.section\t.debug_str\n\t{{\n$L__info_string0:\n.b8 95,90,0\n\t}}\n"
        );
        let m = parse(&src).unwrap();
        let f = &m.functions[0];
        assert_eq!(f.line, 6);
        assert_eq!(
            f.body,
            vec![
                Statement::Label("$L__BB0_4".into()),
                Statement::Instr(Instruction {
                    line: 12,
                    guard: None,
                    opcode: "bra".into(),
                    modifiers: vec!["uni".into()],
                    operands: vec![sym("$L__BB0_4")],
                    text: "bra.uni \t$L__BB0_4".into(),
                }),
                Statement::Label("done".into()),
                Statement::Instr(Instruction {
                    line: 13,
                    guard: None,
                    opcode: "ret".into(),
                    modifiers: vec![],
                    operands: vec![],
                    text: "ret".into(),
                }),
            ]
        );
    }

    #[test]
    fn multi_line_instruction_starts_where_it_starts() {
        let body = body_of("add.s32 %r1,\n\t%r2,\n\t%r3;");
        let Statement::Instr(i) = &body[0] else {
            panic!()
        };
        assert_eq!(i.line, 6);
        assert_eq!(i.operands, vec![reg("%r1"), reg("%r2"), reg("%r3")]);
    }

    #[test]
    fn errors_name_the_line_and_what_was_found() {
        let cases: [(&str, usize, &str); 14] = [
            (".version 9.0\n.bogus 1;\n", 2, "`.bogus`"),
            (".version 9.0\nfoo\n", 2, "`foo`"),
            (".version 9.x\n", 1, "version"),
            (".entry k()\n{\n\tret;\n", 2, "never closed"),
            (
                ".entry k()\n{\n\tadd.s32 %r1, , %r2;\n}\n",
                3,
                "malformed operand: found `,`",
            ),
            (
                ".entry k()\n{\n\tmov.b32 %r1, 0x;\n}\n",
                3,
                "malformed number `0x`",
            ),
            (".entry k()\n{\n\tmov.f32 %f1, 0f3F80;\n}\n", 3, "`0f3F80`"),
            (
                ".entry k()\n{\n\tmov.b32 %r1, 2\n\tret;\n}\n",
                4,
                "found `ret`",
            ),
            (
                ".entry k()\n{\n\t.frob 3;\n}\n",
                3,
                "unknown directive `.frob`",
            ),
            (
                ".entry k()\n{\n\tld.u32 %r1, [%r2+];\n}\n",
                3,
                "expected a number",
            ),
            ("/* x\n\n", 1, "unterminated `/*`"),
            ("\n.version 9.0 #\n", 2, "'#'"),
            (".global .u64 p = tbl;\n", 1, "symbolic initializer `tbl`"),
            (
                ".global .u8 x[1] = {1, 2};\n",
                1,
                "2 initializers for 1 elements",
            ),
        ];
        for (src, line, needle) in cases {
            let e = parse_err(src);
            assert_eq!(e.line, line, "{src:?}: {e}");
            assert!(e.message.contains(needle), "{src:?}: {e}");
        }
    }

    #[test]
    fn error_display() {
        let e = parse_err("\n\n.bogus\n");
        assert_eq!(e.to_string(), format!("PTX line 3: {}", e.message));
        let _: &dyn std::error::Error = &e;
    }

    /// A representative excerpt of nvcc output.
    const EXCERPT: &str = r#"//
// Generated by NVIDIA NVVM Compiler
//
.version 9.0
.target sm_80
.address_size 64

	// .globl	demo_kernel
.extern .func  (.param .b32 func_retval0) vprintf
(
	.param .b64 vprintf_param_0,
	.param .b64 vprintf_param_1
)
;
.global .align 4 .u32 tbl[4] = {1, 2, 3, 4};
.const .align 8 .f64 coef[2] = {0d3FF0000000000000, 0d4000000000000000};
.shared .align 4 .b8 hist[3072];
.global .align 1 .b8 $str[3] = {104, 105, 0};

.visible .func  (.param .b32 func_retval0) helper(
	.param .b32 helper_param_0,
	.param .u64 .ptr .global .align 1 helper_param_1
)
{
	.reg .pred 	%p<2>;
	.reg .b32 	%r<4>;
	.reg .b64 	%rd<2>;

	ld.param.u32 	%r1, [helper_param_0];
	ld.param.u64 	%rd1, [helper_param_1];
	setp.lt.u32 	%p1, %r1, 0x1F;
	@!%p1 bra 	$L__BB1_2;
	ld.global.u32 	%r1, [%rd1+-8];
$L__BB1_2:
	st.param.b32 	[func_retval0], %r1;
	ret;
}

.visible .entry demo_kernel(
	.param .align 8 .b8 demo_kernel_param_0[128]
)
.maxntid 256, 1, 1
{
	.local .align 8 .b8 	__local_depot0[16];
	.reg .pred 	%p<4>;
	.reg .b16 	%rs<3>;
	.reg .f32 	%f<3>;
	.reg .b32 	%r<10>;
	.reg .f64 	%fd<3>;
	.reg .b64 	%rd<8>;
	.shared .align 8 .u64 luma;
	/* block comment
	   spanning lines */
	.loc	1 12 3
	ld.param.v2.u32 	{%r1, %r2}, [demo_kernel_param_0+88];
	ld.param.u64 	%rd1, [demo_kernel_param_0];
	mov.u32 	%r3, %tid.x;
	mov.u32 	%r4, %ntid.x;
	mov.u32 	%r5, %ctaid.y;
	mov.u32 	%r6, %nctaid.x;
	mov.u32 	%r7, hist;
	setp.ne.s32 	%p1, %r3, 0;
	@%p1 bra 	$L__BB0_2;
	st.shared.u64 	[luma], %rd1;
$L__BB0_2:
	bar.sync 	0;
	.pragma "nounroll";
	mov.f32 	%f1, 0f3F800000;
	mov.f64 	%fd1, 0d3FF0000000000000;
	and.b64  	%rd2, %rd1, -9187201950435737471;
	mad.lo.s32 	%r8, %r3, 30212, %r4;
	ld.global.u32 	%r9, [%rd1+8];
	{
	.reg .b16 %temp;
	mov.b32 	{%temp, %rs1}, %r9;
	}
	{ // callseq 0, 0
	.param .b64 param0;
	st.param.b64 	[param0], %rd1;
	.param .b32 param1;
	st.param.b32 	[param1], %r8;
	.param .b32 retval0;
	call.uni (retval0), helper, (param0, param1);
	ld.param.b32 	%r2, [retval0];
	} // callseq 0
	ret;
}
	.file	1 "/tmp/demo.cu"
	.section	.debug_str
	{
$L__info_string0:
.b8 95,90,0
	}
"#;

    #[test]
    fn representative_excerpt() {
        let m = parse(EXCERPT).unwrap();
        assert_eq!((m.version, m.address_size), ((9, 0), 64));
        let names: Vec<_> = m
            .vars
            .iter()
            .map(|v| (v.name.as_str(), v.space, v.size()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("tbl", StateSpace::Global, 16),
                ("coef", StateSpace::Const, 16),
                ("hist", StateSpace::Shared, 3072),
                ("$str", StateSpace::Global, 3),
            ]
        );
        assert_eq!(m.vars[3].init, Some(b"hi\0".to_vec()));
        assert_eq!(m.functions.len(), 2);

        let h = &m.functions[0];
        assert_eq!(
            (h.name.as_str(), h.is_entry, h.visible, h.line),
            ("helper", false, true, 20)
        );
        assert_eq!(h.params.len(), 2);
        assert_eq!(h.returns[0].name, "func_retval0");
        assert_eq!(h.body.len(), 8);
        assert_eq!(h.body[5], Statement::Label("$L__BB1_2".into()));
        let Statement::Instr(i) = &h.body[3] else {
            panic!()
        };
        assert_eq!(i.guard, Some((true, "%p1".into())));
        let Statement::Instr(i) = &h.body[4] else {
            panic!()
        };
        assert_eq!(i.operands[1], addr(AddrBase::Reg("%rd1".into()), -8));

        let k = &m.functions[1];
        assert_eq!(
            (k.name.as_str(), k.is_entry, k.line),
            ("demo_kernel", true, 39)
        );
        assert_eq!(
            k.params,
            vec![Param {
                name: "demo_kernel_param_0".into(),
                ty: ScalarType::B8,
                align: 8,
                elements: 128,
            }]
        );
        assert_eq!(k.directives, vec![("maxntid".to_string(), vec![256, 1, 1])]);
        assert_eq!(k.regs.len(), 7);
        assert_eq!(k.regs[6].name, "%temp");
        let vars: Vec<_> = k
            .vars
            .iter()
            .map(|v| (v.name.as_str(), v.space, v.line))
            .collect();
        assert_eq!(
            vars,
            vec![
                ("__local_depot0", StateSpace::Local, 44),
                ("luma", StateSpace::Shared, 51),
                ("param0", StateSpace::Param, 78),
                ("param1", StateSpace::Param, 80),
                ("retval0", StateSpace::Param, 82),
            ]
        );
        let instrs: Vec<&Instruction> = k
            .body
            .iter()
            .filter_map(|s| match s {
                Statement::Instr(i) => Some(i),
                Statement::Label(_) => None,
            })
            .collect();
        assert_eq!(instrs.len(), 22);
        assert_eq!(instrs[0].line, 55);
        assert_eq!(
            instrs[0].text,
            "ld.param.v2.u32 \t{%r1, %r2}, [demo_kernel_param_0+88]"
        );
        assert_eq!(instrs[6].operands[1], sym("hist"));
        assert_eq!(instrs[11].operands[1], Operand::Imm(Imm::F32(0x3F80_0000)));
        assert_eq!(instrs[13].operands[2], int(-9187201950435737471));
        let call = instrs.iter().find(|i| i.opcode == "call").unwrap();
        assert_eq!(call.line, 83);
        assert_eq!(call.operands[1], sym("helper"));
        assert_eq!(instrs.last().unwrap().opcode, "ret");
    }

    /// Cheap deterministic pseudo-random numbers (xorshift).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn never_panics() {
        // Every prefix of the excerpt.
        for (i, _) in EXCERPT.char_indices() {
            let _ = parse(&EXCERPT[..i]);
        }
        // Single-byte mutations of the excerpt, and garbage built from PTX-ish pieces.
        let alphabet: Vec<char> = "%.{}[]()<>+-!@=|,;:\"/*_$0123456789abcdefxXfdU \n\té"
            .chars()
            .collect();
        let pieces = [
            ".reg",
            ".b32",
            ".param",
            ".entry",
            ".func",
            "k",
            "(",
            ")",
            "{",
            "}",
            "[",
            "]",
            "%r1",
            "0x",
            "0f",
            "0d",
            "-",
            "+",
            ";",
            ",",
            "=",
            "<",
            ">",
            "@",
            "!",
            ".global",
            ".u8",
            "x[",
            "99999999999999999999999999999999999999999",
            "/*",
            "//",
            "\"",
            "\n",
            "1.5e",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let bytes: Vec<char> = EXCERPT.chars().collect();
        for _ in 0..2000 {
            let mut s = bytes.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() as usize) % s.len();
                match rng.next() % 3 {
                    0 => s[at] = alphabet[(rng.next() as usize) % alphabet.len()],
                    1 => {
                        s.remove(at);
                    }
                    _ => s.insert(at, alphabet[(rng.next() as usize) % alphabet.len()]),
                }
            }
            let _ = parse(&s.iter().collect::<String>());
        }
        for _ in 0..2000 {
            let n = rng.next() % 40;
            let mut s = String::from(HEAD);
            for _ in 0..n {
                s.push_str(pieces[(rng.next() as usize) % pieces.len()]);
                if rng.next().is_multiple_of(2) {
                    s.push(' ');
                }
            }
            let _ = parse(&s);
        }
        let deep = format!(
            "{HEAD}.entry k() {{ mov.b32 %r1, {}; }}",
            "{".repeat(10_000)
        );
        assert!(parse(&deep).is_err());
        let deep = format!("{HEAD}.global .u8 x[] = {};", "{".repeat(10_000));
        assert!(parse(&deep).is_err());
    }
}
