//! The runtime functions compiled code calls (`abi::builtins`).
//!
//! Each entry point finds its instance through `vmctx[VMCTX_INSTANCE]`,
//! does its work in safe code that returns `Result<_, RuntimeTrap>` (checking
//! the whole range before writing anything, per Wasm 2.0), and raises the
//! trap only after everything it allocated or locked is dropped, because
//! raising discards the frames up to the entry trampoline.
//!
//! The `memory-control` imports (`discard`, `discard@N`) are bound here too:
//! the runtime serves them as host functions, never the host.

use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::abi::TrapCode;
use crate::desc::{FuncType, ImportKind, ModuleInfo, ValType};
use crate::func::{Func, VMCaller};
use crate::instance::InstanceInner;
use crate::memory::Memory;
use crate::sys::tls::TrapRecord;
use crate::sys::{enter, mmap::Mmap, tls, vmctx};
use crate::table::Table;
use crate::trap::RuntimeTrap;

/// # Safety
///
/// `vmctx` must be the live vmctx of an instance (compiled code passes its own).
pub(crate) unsafe fn instance<'a>(vmctx: *mut u8) -> &'a InstanceInner {
    // SAFETY: caller contract; the instance outlives any call into it.
    unsafe { &*(vmctx::instance_of(vmctx) as *const InstanceInner) }
}

/// Raises `r`'s trap, if any.
///
/// # Safety
///
/// Called from a builtin entry point (or a runtime host function called
/// from Wasm) with nothing left to drop.
pub(crate) unsafe fn check<T: Into<RuntimeTrap>>(r: Result<(), T>) {
    if let Err(t) = r {
        let t: RuntimeTrap = t.into();
        // SAFETY: caller contract: we are under an entry, nothing to drop.
        unsafe {
            enter::raise_record(TrapRecord {
                code: t.code as u32,
                address: t.address,
                memory_base: t.memory_base,
                pc: 0,
                reason: t.reason,
            })
        }
    }
}

fn memory(inst: &InstanceInner, i: u32) -> Result<&Memory, TrapCode> {
    inst.memories
        .get(i as usize)
        .ok_or(TrapCode::MemoryOutOfBounds)
}

fn table(inst: &InstanceInner, i: u32) -> Result<&Table, TrapCode> {
    inst.tables
        .get(i as usize)
        .ok_or(TrapCode::TableOutOfBounds)
}

/// Runs `f` with faults in memory reservations counted as traps (bulk
/// copies of memory-control-protected pages).
fn guarded<R>(f: impl FnOnce() -> R) -> R {
    let prev = tls::set_in_helper(true);
    let r = f();
    tls::set_in_helper(prev);
    r
}

// Bulk operations check the whole range first — bounds (destination, then
// source), then protection (destination writable, then source readable) —
// so a trapping operation writes nothing; empty ranges never trap for
// protection.

pub(crate) fn memory_fill(
    inst: &InstanceInner,
    mem: u32,
    dst: u64,
    val: u32,
    len: u64,
) -> Result<(), RuntimeTrap> {
    let m = memory(inst, mem)?;
    let d = m.inner.writable(dst, len)?;
    guarded(|| m.map().fill(d, val as u8, len as usize));
    Ok(())
}

pub(crate) fn memory_copy(
    inst: &InstanceInner,
    dm: u32,
    sm: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> Result<(), RuntimeTrap> {
    let (d, s) = (memory(inst, dm)?, memory(inst, sm)?);
    let doff = d.inner.in_bounds(dst, len)?;
    let soff = s.inner.in_bounds(src, len)?;
    d.inner.check_write(dst, len, false)?;
    s.inner.check_read(src, len)?;
    guarded(|| Mmap::copy_within(d.map(), doff, s.map(), soff, len as usize));
    Ok(())
}

pub(crate) fn memory_init(
    inst: &InstanceInner,
    mem: u32,
    data: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> Result<(), RuntimeTrap> {
    let m = memory(inst, mem)?;
    if data as usize >= inst.num_datas() {
        return Err(TrapCode::MemoryOutOfBounds.into());
    }
    let bytes = inst.data_segment(data);
    let end = (src as u64 + len as u64) as usize;
    let s = bytes
        .get(src as usize..end)
        .ok_or(TrapCode::MemoryOutOfBounds)?;
    let d = m.inner.writable(dst, len as u64)?;
    guarded(|| m.map().write(d, s));
    Ok(())
}

pub(crate) fn memory_discard(
    inst: &InstanceInner,
    mem: u32,
    addr: u64,
    size: u64,
) -> Result<(), RuntimeTrap> {
    memory(inst, mem)?.inner.discard(addr, size)
}

fn table_init(
    inst: &InstanceInner,
    t: u32,
    elem: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> Result<(), TrapCode> {
    let t = table(inst, t)?;
    if elem as usize >= inst.num_elems() {
        return Err(TrapCode::TableOutOfBounds);
    }
    let vals = inst.elem_segment(elem);
    let end = src as u64 + len as u64;
    let s = vals
        .get(src as usize..end as usize)
        .ok_or(TrapCode::TableOutOfBounds)?;
    t.init(dst, s)
}

fn table_copy(
    inst: &InstanceInner,
    dt: u32,
    st: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> Result<(), TrapCode> {
    Table::copy(table(inst, dt)?, table(inst, st)?, dst, src, len)
}

/// `u64 (vmctx, mem, delta)` → old size in pages, or `u64::MAX`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_memory_grow(vmctx: *mut u8, mem: u32, delta: u64) -> u64 {
    // SAFETY: caller contract.
    let inst = unsafe { instance(vmctx) };
    inst.memories
        .get(mem as usize)
        .and_then(|m| m.grow(delta))
        .unwrap_or(u64::MAX)
}

/// `void (vmctx, mem, dst, val, len)`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_memory_fill(
    vmctx: *mut u8,
    mem: u32,
    dst: u64,
    val: u32,
    len: u64,
) {
    // SAFETY: caller contract.
    let inst = unsafe { instance(vmctx) };
    if let Some(d) = inst
        .memories
        .get(mem as usize)
        .and_then(|m| m.inner.fast_range(dst, len, true))
    {
        // SAFETY: `fast_range` checked the whole range is in bounds and
        // accessible; raw guest memory no Rust reference covers.
        guarded(|| unsafe { std::ptr::write_bytes(d, val as u8, len as usize) });
        return;
    }
    // SAFETY: caller contract.
    unsafe { memory_fill_checked(inst, mem, dst, val, len) }
}

/// `memory.fill` through the full checks (page map, traps). Kept out of
/// line so that the fast path above needs no large frame.
///
/// # Safety
///
/// Called under an entry (a trap unwinds to it).
#[cold]
#[inline(never)]
unsafe fn memory_fill_checked(inst: &InstanceInner, mem: u32, dst: u64, val: u32, len: u64) {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { check(memory_fill(inst, mem, dst, val, len)) }
}

/// `void (vmctx, dst_mem, src_mem, dst, src, len)`: memmove semantics.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_memory_copy(
    vmctx: *mut u8,
    dst_mem: u32,
    src_mem: u32,
    dst: u64,
    src: u64,
    len: u64,
) {
    // SAFETY: caller contract.
    let inst = unsafe { instance(vmctx) };
    let ms = &inst.memories;
    if let (Some(d), Some(s)) = (
        ms.get(dst_mem as usize)
            .and_then(|m| m.inner.fast_range(dst, len, true)),
        ms.get(src_mem as usize)
            .and_then(|m| m.inner.fast_range(src, len, false)),
    ) {
        // SAFETY: `fast_range` checked both ranges are in bounds and
        // accessible; `copy` has memmove semantics for overlapping ones.
        guarded(|| unsafe { std::ptr::copy(s as *const u8, d, len as usize) });
        return;
    }
    // SAFETY: caller contract.
    unsafe { memory_copy_checked(inst, dst_mem, src_mem, dst, src, len) }
}

/// `memory.copy` through the full checks (page map, traps). Kept out of
/// line so that the fast path above needs no large frame.
///
/// # Safety
///
/// Called under an entry (a trap unwinds to it).
#[cold]
#[inline(never)]
unsafe fn memory_copy_checked(
    inst: &InstanceInner,
    dst_mem: u32,
    src_mem: u32,
    dst: u64,
    src: u64,
    len: u64,
) {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { check(memory_copy(inst, dst_mem, src_mem, dst, src, len)) }
}

/// `void (vmctx, mem, data, dst, src, len)`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_memory_init(
    vmctx: *mut u8,
    mem: u32,
    data: u32,
    dst: u64,
    src: u32,
    len: u32,
) {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { check(memory_init(instance(vmctx), mem, data, dst, src, len)) }
}

/// `void (vmctx, mem, addr, size)`: `memory.discard` (see
/// `MemoryInner::discard` for the order of checks).
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_memory_discard(vmctx: *mut u8, mem: u32, addr: u64, size: u64) {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { check(memory_discard(instance(vmctx), mem, addr, size)) }
}

/// `void (vmctx, data)`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_data_drop(vmctx: *mut u8, data: u32) {
    // SAFETY: caller contract.
    let inst = unsafe { instance(vmctx) };
    if (data as usize) < inst.num_datas() {
        inst.data_drop(data);
    }
}

/// `u64 (vmctx, table, init, delta)` → old size, or `u64::MAX`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_table_grow(
    vmctx: *mut u8,
    t: u32,
    init: usize,
    delta: u64,
) -> u64 {
    // SAFETY: caller contract.
    let inst = unsafe { instance(vmctx) };
    inst.tables
        .get(t as usize)
        .and_then(|t| t.grow_raw(delta, init))
        .unwrap_or(u64::MAX)
}

/// `void (vmctx, table, dst, val, len)`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_table_fill(
    vmctx: *mut u8,
    t: u32,
    dst: u64,
    val: usize,
    len: u64,
) {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { check(table(instance(vmctx), t).and_then(|t| t.fill(dst, val, len))) }
}

/// `void (vmctx, dst_table, src_table, dst, src, len)`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_table_copy(
    vmctx: *mut u8,
    dst_t: u32,
    src_t: u32,
    dst: u64,
    src: u64,
    len: u64,
) {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { check(table_copy(instance(vmctx), dst_t, src_t, dst, src, len)) }
}

/// `void (vmctx, table, elem, dst, src, len)`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_table_init(
    vmctx: *mut u8,
    t: u32,
    elem: u32,
    dst: u64,
    src: u32,
    len: u32,
) {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { check(table_init(instance(vmctx), t, elem, dst, src, len)) }
}

/// `void (vmctx, elem)`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_elem_drop(vmctx: *mut u8, elem: u32) {
    // SAFETY: caller contract.
    let inst = unsafe { instance(vmctx) };
    if (elem as usize) < inst.num_elems() {
        inst.elem_drop(elem);
    }
}

// ---------------------------------------------------------------------------
// Threads: memory.atomic.wait / notify (see `parking` for the semantics)
// ---------------------------------------------------------------------------

/// `memory.atomic.wait{32,64}` on the `width`-byte cell at `addr`, which
/// compiled code already bounds- and alignment-checked. Checks, in order:
/// the memory is shared (else "expected shared memory"), the cell is
/// readable (memory-control prefix: "access denied"). Then parks the thread
/// if `equal(cell)` holds, evaluated atomically with respect to notify.
/// `timeout_ns < 0` waits forever.
fn atomic_wait(
    inst: &InstanceInner,
    mem: u32,
    addr: u64,
    width: u64,
    timeout_ns: i64,
    equal: impl FnOnce(usize) -> bool,
) -> Result<u32, RuntimeTrap> {
    let m = memory(inst, mem)?;
    if !m.ty().shared {
        return Err(TrapCode::ExpectedSharedMemory.into());
    }
    let off = m.inner.readable(addr, width)?;
    let cell = m.data_ptr() as usize + off;
    // Touch the cell first with faults counted as traps, so the load made
    // under the parking-lot lock cannot fault (a trap there would unwind
    // past the held lock): shared memories never unmap committed pages.
    // SAFETY: in bounds (checked above), aligned (checked by the caller).
    guarded(|| unsafe { std::ptr::read_volatile(cell as *const u8) });
    let timeout = u64::try_from(timeout_ns)
        .ok()
        .map(std::time::Duration::from_nanos);
    Ok(crate::parking::wait(cell, timeout, || equal(cell)) as u32)
}

/// `memory.atomic.notify`: wakes up to `count` waiters of the cell at `addr`
/// (bounds- and alignment-checked by compiled code) and returns how many.
/// On an unshared memory nobody can wait, so it returns 0.
fn atomic_notify(
    inst: &InstanceInner,
    mem: u32,
    addr: u64,
    count: u32,
) -> Result<u32, RuntimeTrap> {
    let m = memory(inst, mem)?;
    if !m.ty().shared {
        return Ok(0);
    }
    let off = m.inner.in_bounds(addr, 4)?;
    Ok(crate::parking::notify(m.data_ptr() as usize + off, count))
}

/// Returns `r`'s value or raises its trap.
///
/// # Safety
///
/// As [`check`].
unsafe fn value_or_raise<V>(r: Result<V, RuntimeTrap>) -> V {
    match r {
        Ok(v) => v,
        Err(t) => {
            // SAFETY: caller contract.
            unsafe { check(Err(t)) };
            unreachable!("check raises on Err")
        }
    }
}

/// `u32 (vmctx, mem, addr, count)` → number of waiters woken.
///
/// # Safety
///
/// Called by compiled code with its own vmctx, `addr` bounds- and
/// alignment-checked.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_atomic_notify(
    vmctx: *mut u8,
    mem: u32,
    addr: u64,
    count: u32,
) -> u32 {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { value_or_raise(atomic_notify(instance(vmctx), mem, addr, count)) }
}

/// `u32 (vmctx, mem, addr, expected, timeout_ns)` → 0 woken, 1 not equal,
/// 2 timed out.
///
/// # Safety
///
/// Called by compiled code with its own vmctx, `addr` bounds- and
/// alignment-checked.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_atomic_wait32(
    vmctx: *mut u8,
    mem: u32,
    addr: u64,
    expected: u32,
    timeout_ns: i64,
) -> u32 {
    // SAFETY: `cell` is an in-bounds, readable, 4-byte-aligned address of a
    // live shared memory (checked by `atomic_wait` and the caller).
    let equal =
        |cell: usize| unsafe { (*(cell as *const AtomicU32)).load(Ordering::SeqCst) == expected };
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe {
        value_or_raise(atomic_wait(
            instance(vmctx),
            mem,
            addr,
            4,
            timeout_ns,
            equal,
        ))
    }
}

/// `u32 (vmctx, mem, addr, expected, timeout_ns)`: as `wait32`, on 8 bytes.
///
/// # Safety
///
/// As [`wasm2o_rt_atomic_wait32`].
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_atomic_wait64(
    vmctx: *mut u8,
    mem: u32,
    addr: u64,
    expected: u64,
    timeout_ns: i64,
) -> u32 {
    // SAFETY: as in `wasm2o_rt_atomic_wait32`, 8-byte-aligned.
    let equal =
        |cell: usize| unsafe { (*(cell as *const AtomicU64)).load(Ordering::SeqCst) == expected };
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe {
        value_or_raise(atomic_wait(
            instance(vmctx),
            mem,
            addr,
            8,
            timeout_ns,
            equal,
        ))
    }
}

/// `void (vmctx, code)`: raises trap `code`; never returns. Usable by any
/// code running under an entry (compiled code, builtins, C host functions:
/// frames in between are discarded without cleanup).
///
/// # Safety
///
/// Must run on a thread that is executing Wasm entered by this runtime.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_raise_trap(_vmctx: *mut u8, code: u32) -> ! {
    // SAFETY: caller contract.
    unsafe { enter::raise(code, None, 0) }
}

/// Every builtin with its symbol name, for hosts that resolve compiled
/// code's undefined symbols themselves (and so the linker keeps them).
pub fn builtin_symbols() -> &'static [(&'static str, *const c_void)] {
    &BUILTINS.0
}

struct Builtins([(&'static str, *const c_void); 19]);
// SAFETY: read-only table of code addresses.
unsafe impl Sync for Builtins {}

#[used]
static BUILTINS: Builtins = Builtins([
    (
        crate::abi::builtins::MEMORY_GROW,
        wasm2o_rt_memory_grow as *const c_void,
    ),
    (
        crate::abi::builtins::MEMORY_FILL,
        wasm2o_rt_memory_fill as *const c_void,
    ),
    (
        crate::abi::builtins::MEMORY_COPY,
        wasm2o_rt_memory_copy as *const c_void,
    ),
    (
        crate::abi::builtins::MEMORY_INIT,
        wasm2o_rt_memory_init as *const c_void,
    ),
    (
        crate::abi::builtins::DATA_DROP,
        wasm2o_rt_data_drop as *const c_void,
    ),
    (
        crate::abi::builtins::TABLE_GROW,
        wasm2o_rt_table_grow as *const c_void,
    ),
    (
        crate::abi::builtins::TABLE_FILL,
        wasm2o_rt_table_fill as *const c_void,
    ),
    (
        crate::abi::builtins::TABLE_COPY,
        wasm2o_rt_table_copy as *const c_void,
    ),
    (
        crate::abi::builtins::TABLE_INIT,
        wasm2o_rt_table_init as *const c_void,
    ),
    (
        crate::abi::builtins::ELEM_DROP,
        wasm2o_rt_elem_drop as *const c_void,
    ),
    (
        crate::abi::builtins::RAISE_TRAP,
        wasm2o_rt_raise_trap as *const c_void,
    ),
    (
        crate::abi::builtins::MEMORY_DISCARD,
        wasm2o_rt_memory_discard as *const c_void,
    ),
    (
        crate::abi::builtins::ATOMIC_NOTIFY,
        wasm2o_rt_atomic_notify as *const c_void,
    ),
    (
        crate::abi::builtins::ATOMIC_WAIT32,
        wasm2o_rt_atomic_wait32 as *const c_void,
    ),
    (
        crate::abi::builtins::ATOMIC_WAIT64,
        wasm2o_rt_atomic_wait64 as *const c_void,
    ),
    // Memory-control II (`builtins_memctl`).
    (
        crate::abi::builtins::MEMORY_MAP,
        crate::builtins_memctl::wasm2o_rt_memory_map as *const c_void,
    ),
    (
        crate::abi::builtins::MEMORY_UNMAP,
        crate::builtins_memctl::wasm2o_rt_memory_unmap as *const c_void,
    ),
    (
        crate::abi::builtins::MEMORY_PROTECT,
        crate::builtins_memctl::wasm2o_rt_memory_protect as *const c_void,
    ),
    (
        crate::abi::builtins::MEMORY_MAP_HANDLE,
        crate::builtins_memctl::wasm2o_rt_memory_map_handle as *const c_void,
    ),
]);

/// Referenced from instantiation so that any program that instantiates
/// also links the builtins (compiled code loaded with `dlopen` resolves
/// them from the executable).
#[inline(never)]
pub(crate) fn keep() {
    std::hint::black_box(&BUILTINS);
}

// ---------------------------------------------------------------------------
// The `memory-control` imports, served by the runtime (never by the host)
// ---------------------------------------------------------------------------

/// The import module whose fields the runtime serves itself.
pub(crate) const MEMORY_CONTROL: &str = "memory-control";

/// Runs the `discard` import on memory `env` of the importing instance.
///
/// # Safety
///
/// `caller` is the runtime's `VMCaller` of a `memory-control` import made by
/// [`memory_control_import`], called from Wasm (under an entry).
unsafe fn mc_discard(caller: *mut VMCaller, addr: u64, size: u64) {
    // SAFETY: caller contract: the caller object lives as long as its
    // instance, which is running.
    let c = unsafe { &*caller };
    let mem = c.env.load(std::sync::atomic::Ordering::Acquire) as usize as u32;
    // SAFETY: set before any code of the instance runs; the instance is
    // alive while its code runs.
    let inst = unsafe { &*c.instance.load(std::sync::atomic::Ordering::Acquire) };
    let r = memory_discard(inst, mem, addr, size);
    // SAFETY: called from Wasm; `r` holds nothing to drop.
    unsafe { check(r) }
}

/// `discard` for a 32-bit memory: `[i32 i32] -> []`.
unsafe extern "C" fn mc_discard32(caller: *mut VMCaller, addr: i32, size: i32) {
    // SAFETY: only bound by `memory_control_import` (see `mc_discard`).
    unsafe { mc_discard(caller, addr as u32 as u64, size as u32 as u64) }
}

/// `discard` for a memory64: `[i64 i64] -> []`.
unsafe extern "C" fn mc_discard64(caller: *mut VMCaller, addr: i64, size: i64) {
    // SAFETY: only bound by `memory_control_import` (see `mc_discard`).
    unsafe { mc_discard(caller, addr as u64, size as u64) }
}

/// Splits `op@N` into `(op, N)`; a plain `op` is memory 0.
fn split_field(name: &str) -> Option<(&str, u32)> {
    match name.split_once('@') {
        None => Some((name, 0)),
        Some((op, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            Some((op, n.parse().ok()?))
        }
        Some(_) => None,
    }
}

/// Binds an import of module `memory-control` to the runtime's own
/// implementation, for an instance of the module `info` describes. `Err` is
/// the full link error.
pub(crate) fn memory_control_import(
    info: &ModuleInfo,
    imp: &crate::desc::Import,
) -> Result<Func, String> {
    let unsupported = || format!("memory-control: {} is not supported yet", imp.name);
    let (op, mem) = split_field(&imp.name).ok_or_else(unsupported)?;
    if !matches!(op, "discard" | "map" | "unmap" | "protect" | "map_handle") {
        return Err(unsupported());
    }
    let incompatible = |detail: String| {
        format!(
            "incompatible import type: {}::{}: {detail}",
            imp.module, imp.name
        )
    };
    let Some(mt) = info.memories.get(mem as usize) else {
        return Err(incompatible(format!("the module has no memory {mem}")));
    };
    let idx = if mt.memory64 {
        ValType::I64
    } else {
        ValType::I32
    };
    // `map`, `unmap`, `protect`, `map_handle`: see `builtins_memctl`.
    let (want, f) = match crate::builtins_memctl::import(op, mt) {
        Some(r) => r.map_err(incompatible)?,
        None => {
            let f: *const c_void = if mt.memory64 {
                mc_discard64 as *const c_void
            } else {
                mc_discard32 as *const c_void
            };
            let want = FuncType {
                params: vec![idx, idx],
                results: vec![],
            };
            (want, f)
        }
    };
    let ImportKind::Func(t) = imp.kind else {
        return Err(incompatible("expected a function".into()));
    };
    let have = &info.types[t as usize];
    if *have != want {
        return Err(incompatible(format!(
            "expected function {want}, got {have}"
        )));
    }
    // SAFETY: `f` has the C signature of `want` with a `VMCaller` first
    // argument; `env` is the memory index, not a pointer.
    Ok(unsafe { Func::host(want, f, mem as usize as *mut c_void) })
}
