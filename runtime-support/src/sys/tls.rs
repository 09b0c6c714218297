//! Per-thread trap state, read and written by the signal handler.
//!
//! Every item is a const-initialised `Cell` of a `Copy` type without
//! `Drop`: accessing it never allocates, never registers a destructor and
//! is therefore async-signal-safe — once the thread's thread-local block
//! exists. The one item the handler reads on any thread, the entry
//! buffer, is a pthread key on macOS instead (see `buf_key`).

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
    #[cfg(not(target_vendor = "apple"))]
    static CURRENT_BUF: Cell<*const JmpBuf> = const { Cell::new(std::ptr::null()) };
    static LAST_TRAP: Cell<TrapRecord> = const { Cell::new(NO_TRAP) };
    static IN_HELPER: Cell<bool> = const { Cell::new(false) };
    static STACK_LIMIT: Cell<usize> = const { Cell::new(0) };
    static ALTSTACK_CHECKED: Cell<bool> = const { Cell::new(false) };
}

/// The innermost entry on this thread (null outside Wasm). The signal
/// handler reads it on any thread, even one that never used the runtime.
#[cfg(not(target_vendor = "apple"))]
pub fn current_buf() -> *const JmpBuf {
    CURRENT_BUF.with(|c| c.get())
}

/// Installs `buf` as the innermost entry; returns the previous one.
#[cfg(not(target_vendor = "apple"))]
pub fn swap_buf(buf: *const JmpBuf) -> *const JmpBuf {
    CURRENT_BUF.with(|c| c.replace(buf))
}

// macOS: a `thread_local!` is a Mach-O thread-local variable, whose
// per-thread block dyld allocates with `malloc` on the thread's first
// access. The signal handler reads the entry buffer on whatever thread
// faulted — possibly a host thread that never touched one (a host crash
// to be chained) — and must not call `malloc` there. A pthread key's
// slot lives in the thread's own structure: `pthread_getspecific` is a
// plain load that never allocates (null on a thread that never set it).
// The handler reads the other items only when this one is set, on a
// thread that entered Wasm through `enter::call_wrapper`, which touched
// them first (`altstack_checked`, `cached_stack_limit`).
// Type-checked for the Apple targets, never run (docs/cross.md).
#[cfg(target_vendor = "apple")]
mod buf_key {
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The key plus one (0: not created yet).
    static KEY: AtomicUsize = AtomicUsize::new(0);

    /// The key, if created.
    pub fn get() -> Option<libc::pthread_key_t> {
        match KEY.load(Ordering::Acquire) {
            0 => None,
            k => Some((k - 1) as libc::pthread_key_t),
        }
    }

    /// The key, created on first use (before any entry is installed, so
    /// before the handler can need it).
    pub fn get_or_create() -> libc::pthread_key_t {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let mut k: libc::pthread_key_t = 0;
            // SAFETY: valid out-pointer; no destructor (the value is a
            // pointer to a stack frame, nothing to free).
            if unsafe { libc::pthread_key_create(&mut k, None) } != 0 {
                eprintln!("wasm2o: cannot create a thread-specific key; aborting");
                std::process::abort();
            }
            KEY.store(k as usize + 1, Ordering::Release);
        });
        get().expect("created above")
    }
}

/// The innermost entry on this thread (null outside Wasm). The signal
/// handler reads it on any thread, even one that never used the runtime.
#[cfg(target_vendor = "apple")]
pub fn current_buf() -> *const JmpBuf {
    match buf_key::get() {
        // SAFETY: reading our own key's slot of the calling thread.
        Some(k) => unsafe { libc::pthread_getspecific(k) as *const JmpBuf },
        None => std::ptr::null(),
    }
}

/// Installs `buf` as the innermost entry; returns the previous one.
#[cfg(target_vendor = "apple")]
pub fn swap_buf(buf: *const JmpBuf) -> *const JmpBuf {
    let k = buf_key::get_or_create();
    // SAFETY: our own key; the slot holds a plain pointer.
    unsafe {
        let prev = libc::pthread_getspecific(k) as *const JmpBuf;
        if libc::pthread_setspecific(k, buf as *const libc::c_void) != 0 {
            eprintln!("wasm2o: cannot set a thread-specific value; aborting");
            std::process::abort();
        }
        prev
    }
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
