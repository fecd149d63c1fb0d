//! Calls to device functions (`.func`), expanded in place before a kernel is compiled, so
//! the executor itself never calls: each `call` becomes the callee's body with its
//! registers, labels and local variables renamed for that call site, and `ret` a branch to
//! the end of the copy. Parameters pass through per-thread memory as on a GPU: the call
//! site's `.param` variables become `.local` ones, written with `st.param` before the call
//! and read with `ld.param` after it; the copy reads its parameters from, and writes its
//! return values to, the call site's variables in their order. Recursion, calls through a
//! pointer, functions whose body is not in the module and parameter counts that disagree
//! fail the load, naming the call's line.

use std::collections::{HashMap, HashSet};

use super::compile::CompileError;
use crate::ptx::ast::{
    AddrBase, Function, Instruction, Module, Operand, RegDecl, StateSpace, Statement, Variable,
};

type R<T> = Result<T, CompileError>;

fn err<T>(line: usize, message: impl Into<String>) -> R<T> {
    Err(CompileError {
        line,
        message: message.into(),
    })
}

/// Calls nested deeper than this fail the load (recursion included).
const MAX_DEPTH: usize = 16;

/// `f` with every call expanded; `f` itself where it calls nothing.
pub fn expand(module: &Module, f: &Function) -> R<Function> {
    if !f.body.iter().any(is_call) {
        return Ok(f.clone());
    }
    let mut count = 0;
    expand_function(module, f, &mut count, 0)
}

fn is_call(s: &Statement) -> bool {
    matches!(s, Statement::Instr(i) if i.opcode == "call")
}

/// `f` with its calls expanded and its `.param` variables made `.local` (a body's `.param`
/// variables are call-site parameters; one per name, sized for its largest declaration, as
/// the call sequences' scopes are flattened).
fn expand_function(module: &Module, f: &Function, count: &mut usize, depth: usize) -> R<Function> {
    let mut out = Function {
        body: Vec::with_capacity(f.body.len()),
        vars: Vec::new(),
        ..f.clone()
    };
    let mut call_params: HashMap<String, Variable> = HashMap::new();
    for v in &f.vars {
        if v.space == StateSpace::Param {
            let e = call_params
                .entry(v.name.clone())
                .or_insert_with(|| Variable {
                    space: StateSpace::Local,
                    init: None,
                    ..v.clone()
                });
            e.align = e.align.max(v.align);
            if v.size() > e.size() {
                e.ty = v.ty;
                e.elements = v.elements;
            }
        } else {
            out.vars.push(v.clone());
        }
    }
    let mut names: Vec<_> = call_params.keys().cloned().collect();
    names.sort();
    let param_names: HashSet<String> = names.iter().cloned().collect();
    for n in names {
        out.vars.push(call_params.remove(&n).unwrap());
    }
    for s in &f.body {
        match s {
            Statement::Instr(i) if i.opcode == "call" => {
                inline_call(module, i, &mut out, count, depth)?;
            }
            Statement::Instr(i) => out
                .body
                .push(Statement::Instr(param_to_local(i, &param_names))),
            other => out.body.push(other.clone()),
        }
    }
    Ok(out)
}

/// `ld.param`/`st.param` of a call-site parameter as a local access.
fn param_to_local(i: &Instruction, params: &HashSet<String>) -> Instruction {
    let through_param = i.operands.iter().any(
        |o| matches!(o, Operand::Address { base: AddrBase::Symbol(s), .. } if params.contains(s)),
    );
    if !through_param || !matches!(i.opcode.as_str(), "ld" | "st") {
        return i.clone();
    }
    let mut i = i.clone();
    for m in &mut i.modifiers {
        if m == "param" {
            *m = "local".into();
        }
    }
    i
}

/// Appends the expansion of `call` to `out`.
fn inline_call(
    module: &Module,
    call: &Instruction,
    out: &mut Function,
    count: &mut usize,
    depth: usize,
) -> R<()> {
    let line = call.line;
    let none: &[Operand] = &[];
    let (rets, callee, args) = match call.operands.as_slice() {
        [Operand::Vector(r), Operand::Symbol(c), Operand::Vector(a)] => {
            (r.as_slice(), c, a.as_slice())
        }
        [Operand::Vector(r), Operand::Symbol(c)] => (r.as_slice(), c, none),
        [Operand::Symbol(c), Operand::Vector(a)] => (none, c, a.as_slice()),
        [Operand::Symbol(c)] => (none, c, none),
        _ => {
            return err(
                line,
                format!("call form not supported by the emulator: `{}`", call.text),
            );
        }
    };
    if depth >= MAX_DEPTH {
        return err(
            line,
            format!(
                "calls nested deeper than {MAX_DEPTH} (recursion?) at `{}`",
                call.text
            ),
        );
    }
    let Some(g) = module
        .functions
        .iter()
        .find(|g| &g.name == callee && !g.is_entry)
    else {
        return err(
            line,
            format!(
                "call of {callee}, whose body is not in the module (declared `.extern`, or not \
                 a device function; calls through a pointer are not supported)"
            ),
        );
    };
    let symbols = |ops: &[Operand], what: &str| -> R<Vec<String>> {
        ops.iter()
            .map(|o| match o {
                Operand::Symbol(s) => Ok(s.clone()),
                other => err(
                    line,
                    format!("{what} of a call must be parameter variables, found {other:?}"),
                ),
            })
            .collect()
    };
    let (rets, args) = (symbols(rets, "return values")?, symbols(args, "arguments")?);
    if rets.len() != g.returns.len() || args.len() != g.params.len() {
        return err(
            line,
            format!(
                "call of {callee} with {} return values and {} arguments; it declares {} and {}",
                rets.len(),
                args.len(),
                g.returns.len(),
                g.params.len()
            ),
        );
    }
    // The callee with its own calls expanded, then renamed for this call site.
    let g = expand_function(module, g, count, depth + 1)?;
    *count += 1;
    let tag = format!("_inl{}", count);
    let end = format!("$L__ret_{callee}{tag}");
    // Registers: every declared name, counted ones one by one.
    let mut regs: HashSet<String> = HashSet::new();
    for r in &g.regs {
        match r.count {
            Some(n) => {
                for k in 0..n {
                    let name = format!("{}{k}", r.name);
                    out.regs.push(RegDecl {
                        ty: r.ty,
                        name: format!("{name}{tag}"),
                        count: None,
                        line: r.line,
                    });
                    regs.insert(name);
                }
            }
            None => {
                out.regs.push(RegDecl {
                    name: format!("{}{tag}", r.name),
                    ..r.clone()
                });
                regs.insert(r.name.clone());
            }
        }
    }
    let labels: HashSet<&String> = g
        .body
        .iter()
        .filter_map(|s| match s {
            Statement::Label(l) => Some(l),
            _ => None,
        })
        .collect();
    // Parameters and return values read and written through the call site's variables;
    // the callee's variables renamed.
    let mut symbols: HashMap<String, String> = HashMap::new();
    for (p, a) in g.params.iter().zip(&args) {
        symbols.insert(p.name.clone(), a.clone());
    }
    for (p, r) in g.returns.iter().zip(&rets) {
        symbols.insert(p.name.clone(), r.clone());
    }
    let passed: HashSet<String> = symbols.keys().cloned().collect();
    for v in &g.vars {
        symbols.insert(v.name.clone(), format!("{}{tag}", v.name));
        out.vars.push(Variable {
            name: format!("{}{tag}", v.name),
            ..v.clone()
        });
    }
    let reg = |name: &String| {
        if regs.contains(name) {
            format!("{name}{tag}")
        } else {
            name.clone()
        }
    };
    let operand = |o: &Operand| -> Operand {
        fn walk(o: &Operand, f: &dyn Fn(&Operand) -> Option<Operand>) -> Operand {
            if let Some(n) = f(o) {
                return n;
            }
            match o {
                Operand::Vector(v) => Operand::Vector(v.iter().map(|x| walk(x, f)).collect()),
                other => other.clone(),
            }
        }
        walk(o, &|o| match o {
            Operand::Reg(r) => Some(Operand::Reg(reg(r))),
            Operand::NotReg(r) => Some(Operand::NotReg(reg(r))),
            Operand::Address {
                base: AddrBase::Reg(r),
                offset,
            } => Some(Operand::Address {
                base: AddrBase::Reg(reg(r)),
                offset: *offset,
            }),
            Operand::Address {
                base: AddrBase::Symbol(s),
                offset,
            } => Some(Operand::Address {
                base: AddrBase::Symbol(symbols.get(s).cloned().unwrap_or_else(|| s.clone())),
                offset: *offset,
            }),
            Operand::Symbol(s) if labels.contains(s) => Some(Operand::Symbol(format!("{s}{tag}"))),
            Operand::Symbol(s) if !passed.contains(s) => Some(Operand::Symbol(
                symbols.get(s).cloned().unwrap_or_else(|| s.clone()),
            )),
            _ => None,
        })
    };
    // A guarded call skips the copy where its guard is false.
    let skip = format!("$L__skip_{callee}{tag}");
    if let Some((neg, p)) = &call.guard {
        out.body.push(Statement::Instr(Instruction {
            line,
            guard: Some((!neg, p.clone())),
            opcode: "bra".into(),
            modifiers: vec![],
            operands: vec![Operand::Symbol(skip.clone())],
            text: format!("{} (around the call)", call.text),
        }));
    }
    for s in &g.body {
        match s {
            Statement::Label(l) => out.body.push(Statement::Label(format!("{l}{tag}"))),
            Statement::Instr(i) if i.opcode == "ret" => {
                out.body.push(Statement::Instr(Instruction {
                    guard: i.guard.as_ref().map(|(n, p)| (*n, reg(p))),
                    opcode: "bra".into(),
                    modifiers: vec![],
                    operands: vec![Operand::Symbol(end.clone())],
                    text: format!("{} (of {callee}, inlined)", i.text),
                    ..i.clone()
                }))
            }
            Statement::Instr(i) => {
                let mut i = Instruction {
                    guard: i.guard.as_ref().map(|(n, p)| (*n, reg(p))),
                    operands: i.operands.iter().map(operand).collect(),
                    ..i.clone()
                };
                // The parameters and return values live in the call site's local variables.
                let passes = i.operands.iter().any(|o| {
                    matches!(o, Operand::Address { base: AddrBase::Symbol(s), .. } if args.contains(s) || rets.contains(s))
                });
                if passes && matches!(i.opcode.as_str(), "ld" | "st") {
                    for m in &mut i.modifiers {
                        if m == "param" {
                            *m = "local".into();
                        }
                    }
                }
                out.body.push(Statement::Instr(i));
            }
        }
    }
    out.body.push(Statement::Label(end));
    if call.guard.is_some() {
        out.body.push(Statement::Label(skip));
    }
    Ok(())
}
