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

/// The message of a trap: `code.message()`, followed by `": reason"` for a
/// refused memory-control request ("memory-control request refused:
/// unaligned").
pub(crate) fn trap_message(code: TrapCode, reason: Option<&'static str>) -> String {
    match reason {
        Some(r) => format!("{}: {r}", code.message()),
        None => code.message().to_string(),
    }
}

/// Why a memory-control request was refused (the design's list). Each is
/// appended to "memory-control request refused: ".
pub mod refused {
    pub const BAD_PROT: &str = "bad prot";
    pub const ZERO_SIZE: &str = "zero size";
    pub const UNALIGNED: &str = "unaligned";
    pub const ALREADY_MAPPED: &str = "already mapped";
    pub const NOT_MAPPED: &str = "not mapped";
    pub const NOT_GRANTED: &str = "not granted";
    pub const ABOVE_GRANT: &str = "above grant";
    pub const OUT_OF_RESOURCES: &str = "out of resources";
    pub const ALL: [&str; 8] = [
        BAD_PROT,
        ZERO_SIZE,
        UNALIGNED,
        ALREADY_MAPPED,
        NOT_MAPPED,
        NOT_GRANTED,
        ABOVE_GRANT,
        OUT_OF_RESOURCES,
    ];
}

/// A trap found by the runtime's own checks (bulk operations, host-side
/// memory access, memory-control requests) before anything was touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RuntimeTrap {
    pub code: TrapCode,
    /// First offending Wasm address, for memory traps.
    pub address: Option<u64>,
    /// Base of the memory concerned (0 if none), so the instance can name
    /// the memory index.
    pub memory_base: usize,
    /// Reason of a refused memory-control request.
    pub reason: Option<&'static str>,
}

impl From<TrapCode> for RuntimeTrap {
    fn from(code: TrapCode) -> RuntimeTrap {
        RuntimeTrap {
            code,
            address: None,
            memory_base: 0,
            reason: None,
        }
    }
}

impl RuntimeTrap {
    /// The host-facing trap (`memory`: the index, if the caller knows it).
    pub(crate) fn into_trap(self, memory: Option<u32>) -> Trap {
        Trap {
            code: self.code,
            memory,
            address: self.address,
            message: trap_message(self.code, self.reason),
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
