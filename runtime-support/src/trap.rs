//! Traps and the errors of instantiation and calls.

use std::fmt;

use crate::abi::TrapCode;

/// A Wasm trap, as the host receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    pub code: TrapCode,
    /// Memory index of a faulting access, if known.
    pub memory: Option<u32>,
    /// Wasm address of a faulting access (the byte the hardware reported).
    pub address: Option<u64>,
    /// `code.message()`, which `.wast` scripts match by prefix.
    pub message: String,
}

impl Trap {
    pub fn new(code: TrapCode) -> Trap {
        Trap {
            code,
            memory: None,
            address: None,
            message: code.message().to_string(),
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(a) = self.address {
            write!(f, " (address 0x{a:x}")?;
            if let Some(m) = self.memory {
                write!(f, " in memory {m}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl std::error::Error for Trap {}

/// Why `Instance::new` failed.
#[derive(Clone, Debug)]
pub enum InstantiateError {
    /// "unknown import: ..." or "incompatible import type: ...".
    Link(String),
    /// A segment initialiser or the start function trapped.
    Trap(Trap),
    /// Out of address space, memory, registry slots, or a bad descriptor.
    Resource(String),
}

impl fmt::Display for InstantiateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstantiateError::Link(s) | InstantiateError::Resource(s) => f.write_str(s),
            InstantiateError::Trap(t) => t.fmt(f),
        }
    }
}

impl std::error::Error for InstantiateError {}

/// Why `Instance::call` failed.
#[derive(Clone, Debug)]
pub enum CallError {
    Trap(Trap),
    NoSuchExport(String),
    BadArguments(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Trap(t) => t.fmt(f),
            CallError::NoSuchExport(n) => write!(f, "no exported function named `{n}`"),
            CallError::BadArguments(s) => write!(f, "bad arguments: {s}"),
        }
    }
}

impl std::error::Error for CallError {}
