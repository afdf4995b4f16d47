//! SQL beyond queries: what a text asks for ([`statement`]) and the writes
//! it may make ([`writes`]), shared by every SQL front end.

pub mod diff;
pub mod history;
pub mod statement;
pub mod versions;
pub mod writes;

pub use statement::{Query, Statement};
