//! Async-signal-safe registries the signal handler consults: compiled code
//! (with its trap sites) and linear-memory reservations.
//!
//! Code: an append-only, lock-free list of leaked nodes, newest first, so a
//! module reloaded at an address another one used wins the lookup. Memories:
//! a fixed array of slots with a high-water mark; a slot is published by
//! storing its base last and retired by clearing the base first.

use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::abi::{RawFunc, RawTrap};
use crate::memory::VMMemoryDef;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CodeFunc {
    start: usize,
    end: usize,
    trap_start: usize,
    trap_count: usize,
}

struct CodeNode {
    next: *const CodeNode,
    raw: usize,
    start: usize,
    end: usize,
    /// Sorted by address.
    funcs: &'static [CodeFunc],
    /// Copied from the descriptor; groups sorted by offset.
    traps: &'static [(u32, u32)],
}

static CODE_HEAD: AtomicPtr<CodeNode> = AtomicPtr::new(std::ptr::null_mut());
static CODE_LOCK: Mutex<()> = Mutex::new(());

fn nodes() -> impl Iterator<Item = &'static CodeNode> {
    let mut p = CODE_HEAD.load(Ordering::Acquire) as *const CodeNode;
    std::iter::from_fn(move || {
        // SAFETY: nodes are leaked (never freed) and fully written before
        // being published with a Release store.
        let n = unsafe { p.as_ref() }?;
        p = n.next;
        Some(n)
    })
}

/// Registers the code of a module (identified by its descriptor address).
/// Registering the same code twice is a no-op. Returns an error if the
/// function or trap tables are inconsistent.
pub fn register_code(raw: usize, funcs: &[RawFunc], traps: &[RawTrap]) -> Result<(), String> {
    let mut list = Vec::with_capacity(funcs.len());
    for (i, f) in funcs.iter().enumerate() {
        let start = f.ptr as usize;
        let trap_start = f.trap_start as usize;
        let trap_count = f.trap_count as usize;
        if trap_start
            .checked_add(trap_count)
            .is_none_or(|e| e > traps.len())
        {
            return Err(format!("function {i}: trap sites out of range"));
        }
        list.push(CodeFunc {
            start,
            end: start + f.len as usize,
            trap_start,
            trap_count,
        });
    }
    list.sort_by_key(|f| f.start);
    let copied: Vec<(u32, u32)> = traps.iter().map(|t| (t.offset, t.code)).collect();
    let start = list.first().map_or(0, |f| f.start);
    let end = list.iter().map(|f| f.end).max().unwrap_or(0);

    let _g = CODE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if nodes().any(|n| n.raw == raw && n.funcs == &list[..] && n.traps == &copied[..]) {
        return Ok(());
    }
    let node = Box::leak(Box::new(CodeNode {
        next: CODE_HEAD.load(Ordering::Acquire),
        raw,
        start,
        end,
        funcs: Box::leak(list.into_boxed_slice()),
        traps: Box::leak(copied.into_boxed_slice()),
    }));
    CODE_HEAD.store(node, Ordering::Release);
    Ok(())
}

fn find_func(pc: usize) -> Option<(&'static CodeNode, &'static CodeFunc)> {
    for n in nodes() {
        if pc < n.start || pc >= n.end {
            continue;
        }
        let i = n.funcs.partition_point(|f| f.start <= pc);
        if i > 0 && pc < n.funcs[i - 1].end {
            return Some((n, &n.funcs[i - 1]));
        }
    }
    None
}

/// Whether `pc` is inside registered compiled code. Async-signal-safe.
pub fn in_compiled_code(pc: usize) -> bool {
    find_func(pc).is_some()
}

/// The trap code of the trap site exactly at `pc`. Async-signal-safe.
pub fn trap_code_at(pc: usize) -> Option<u32> {
    let (n, f) = find_func(pc)?;
    let off = u32::try_from(pc - f.start).ok()?;
    let sites = &n.traps[f.trap_start..f.trap_start + f.trap_count];
    let i = sites.binary_search_by_key(&off, |s| s.0).ok()?;
    Some(sites[i].1)
}

// ---------------------------------------------------------------------------
// Memory reservations
// ---------------------------------------------------------------------------

const MAX_MEMORIES: usize = 16384;
/// A slot being written (claimed but not yet published).
const CLAIMED: usize = 1;

struct Slot {
    base: AtomicUsize,
    len: AtomicUsize,
    def: AtomicPtr<VMMemoryDef>,
}

static SLOTS: [Slot; MAX_MEMORIES] = [const {
    Slot {
        base: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        def: AtomicPtr::new(std::ptr::null_mut()),
    }
}; MAX_MEMORIES];
static HIGH_WATER: AtomicUsize = AtomicUsize::new(0);

/// Registers the reservation `[base, base+len)` whose accessible length is
/// `def.length`. The def must stay alive until [`unregister_memory`].
pub fn register_memory(base: usize, len: usize, def: *const VMMemoryDef) -> Option<usize> {
    assert!(base > CLAIMED);
    for (i, s) in SLOTS.iter().enumerate() {
        if s.base
            .compare_exchange(0, CLAIMED, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            s.len.store(len, Ordering::Relaxed);
            s.def.store(def as *mut VMMemoryDef, Ordering::Relaxed);
            s.base.store(base, Ordering::Release);
            HIGH_WATER.fetch_max(i + 1, Ordering::AcqRel);
            return Some(i);
        }
    }
    None
}

pub fn unregister_memory(slot: usize) {
    SLOTS[slot].base.store(0, Ordering::Release);
}

/// A fault address inside a registered reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryFault {
    pub base: usize,
    /// `fault - base`.
    pub wasm_address: u64,
    /// Whether the address is below the memory's current length (so the
    /// fault is a protected page rather than out of bounds).
    pub within_length: bool,
}

/// Async-signal-safe.
pub fn find_memory(addr: usize) -> Option<MemoryFault> {
    let hw = HIGH_WATER.load(Ordering::Acquire).min(MAX_MEMORIES);
    for s in &SLOTS[..hw] {
        let base = s.base.load(Ordering::Acquire);
        if base <= CLAIMED || addr < base {
            continue;
        }
        let off = addr - base;
        if off >= s.len.load(Ordering::Relaxed) {
            continue;
        }
        let def = s.def.load(Ordering::Relaxed);
        // SAFETY: the def outlives the registration (it is unregistered
        // before being freed) and its length is atomic.
        let length = unsafe { def.as_ref() }.map_or(0, |d| d.length.load(Ordering::Acquire));
        return Some(MemoryFault {
            base,
            wasm_address: off as u64,
            within_length: (off as u64) < length,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_lookup() {
        let base = 0x7000_0000_0000usize;
        let funcs = [
            RawFunc {
                ptr: (base + 0x100) as *const u8,
                len: 0x40,
                trap_start: 1,
                trap_count: 2,
                _pad: 0,
            },
            RawFunc {
                ptr: base as *const u8,
                len: 0x80,
                trap_start: 0,
                trap_count: 1,
                _pad: 0,
            },
        ];
        let traps = [
            RawTrap {
                offset: 0x10,
                code: 1,
            },
            RawTrap {
                offset: 0x4,
                code: 2,
            },
            RawTrap {
                offset: 0x8,
                code: 9,
            },
        ];
        register_code(base, &funcs, &traps).unwrap();
        register_code(base, &funcs, &traps).unwrap();
        assert_eq!(nodes().filter(|n| n.raw == base).count(), 1);
        assert!(in_compiled_code(base + 0x7f));
        assert!(!in_compiled_code(base + 0x80));
        assert!(in_compiled_code(base + 0x100));
        assert!(!in_compiled_code(base + 0x140));
        assert_eq!(trap_code_at(base + 0x10), Some(1));
        assert_eq!(trap_code_at(base + 0x11), None);
        assert_eq!(trap_code_at(base + 0x108), Some(9));
        assert_eq!(trap_code_at(base + 0x104), Some(2));
        let bad = [RawFunc {
            ptr: base as *const u8,
            len: 1,
            trap_start: 2,
            trap_count: 5,
            _pad: 0,
        }];
        assert!(register_code(base + 1, &bad, &traps).is_err());
    }

    #[test]
    fn memory_slots() {
        let def = VMMemoryDef::new(0x5000_0000_0000 as *mut u8, 0x1000);
        let slot = register_memory(0x5000_0000_0000, 0x10000, &def).unwrap();
        let f = find_memory(0x5000_0000_0800).unwrap();
        assert_eq!(f.wasm_address, 0x800);
        assert!(f.within_length);
        assert!(!find_memory(0x5000_0000_2000).unwrap().within_length);
        assert!(find_memory(0x5000_0001_0000).is_none());
        unregister_memory(slot);
        assert!(find_memory(0x5000_0000_0800).is_none());
    }
}
