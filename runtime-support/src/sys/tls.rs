//! Per-thread trap state, read and written by the signal handler.
//!
//! Every item is a const-initialised `Cell` of a `Copy` type without
//! `Drop`: accessing it never allocates, never registers a destructor and
//! is therefore async-signal-safe.

use std::cell::Cell;

/// Where the entry trampoline resumes after a trap (see `enter.rs`).
#[repr(C)]
#[derive(Debug, Default)]
pub struct JmpBuf {
    /// Stack pointer inside `wasm2o_rt_enter`'s frame.
    pub sp: usize,
    /// Address of the trampoline's resume label.
    pub resume: usize,
}

/// What the last trap on this thread was.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrapRecord {
    pub code: u32,
    /// Wasm address of a faulting memory access.
    pub address: Option<u64>,
    /// Base of the memory the fault hit (0 if none), so the runtime can
    /// find the memory index.
    pub memory_base: usize,
    /// Faulting program counter (0 for traps raised by the runtime).
    pub pc: usize,
    /// Why a memory-control request was refused ("unaligned", ...), for
    /// `TrapCode::MemoryControlRefused`; appended to the trap message.
    pub reason: Option<&'static str>,
}

const NO_TRAP: TrapRecord = TrapRecord {
    code: 0,
    address: None,
    memory_base: 0,
    pc: 0,
    reason: None,
};

thread_local! {
    static CURRENT_BUF: Cell<*const JmpBuf> = const { Cell::new(std::ptr::null()) };
    static LAST_TRAP: Cell<TrapRecord> = const { Cell::new(NO_TRAP) };
    static IN_HELPER: Cell<bool> = const { Cell::new(false) };
    static STACK_LIMIT: Cell<usize> = const { Cell::new(0) };
    static ALTSTACK_CHECKED: Cell<bool> = const { Cell::new(false) };
}

pub fn current_buf() -> *const JmpBuf {
    CURRENT_BUF.with(|c| c.get())
}

/// Installs `buf` as the innermost entry; returns the previous one.
pub fn swap_buf(buf: *const JmpBuf) -> *const JmpBuf {
    CURRENT_BUF.with(|c| c.replace(buf))
}

pub fn record_trap(rec: TrapRecord) {
    LAST_TRAP.with(|c| c.set(rec));
}

pub fn last_trap() -> TrapRecord {
    LAST_TRAP.with(|c| c.get())
}

/// Runtime helpers that touch guest memory set this so the signal handler
/// treats their faults in a reservation as traps too.
pub fn set_in_helper(v: bool) -> bool {
    IN_HELPER.with(|c| c.replace(v))
}

pub fn in_helper() -> bool {
    IN_HELPER.with(|c| c.get())
}

pub fn cached_stack_limit() -> usize {
    STACK_LIMIT.with(|c| c.get())
}

pub fn set_cached_stack_limit(v: usize) {
    STACK_LIMIT.with(|c| c.set(v))
}

pub fn altstack_checked() -> bool {
    ALTSTACK_CHECKED.with(|c| c.replace(true))
}
