//! Executing PTX: [`arith`] gives each instruction form its exact result, [`compile()`] turns
//! a parsed kernel into a flat program of slot-addressed instructions (every form the
//! executor supports is decided here, at module load, naming the line of any other; calls
//! of device functions are expanded in place first), and
//! [`launch()`] runs a grid: blocks in parallel over the machine's cores, the threads of a
//! block one after another up to each barrier, every access checked.

pub mod arith;
pub mod compile;
mod inline;
mod interp;
pub mod launch;
mod shadow;

pub use compile::{CompileError, Kernel, Program, compile};
pub use launch::{
    Checks, Fault, FaultKind, Launch, LaunchError, LaunchStats, Outcome, Touched, launch, validate,
};
