//! PTX text: the syntax tree ([`ast`]) and the parser ([`parse()`]).

pub mod ast;
pub mod parse;

pub use parse::{ParseError, parse};
