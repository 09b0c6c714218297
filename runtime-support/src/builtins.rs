//! The runtime functions compiled code calls (`abi::builtins`).
//!
//! Each entry point finds its instance through `vmctx[VMCTX_INSTANCE]`,
//! does its work in safe code that returns `Result<_, TrapCode>` (checking
//! the whole range before writing anything, per Wasm 2.0), and raises the
//! trap only after everything it allocated or locked is dropped, because
//! raising discards the frames up to the entry trampoline.

use std::ffi::c_void;

use crate::abi::TrapCode;
use crate::instance::InstanceInner;
use crate::memory::Memory;
use crate::sys::{enter, mmap::Mmap, tls, vmctx};
use crate::table::Table;

/// # Safety
///
/// `vmctx` must be the live vmctx of an instance (compiled code passes its own).
unsafe fn instance<'a>(vmctx: *mut u8) -> &'a InstanceInner {
    // SAFETY: caller contract; the instance outlives any call into it.
    unsafe { &*(vmctx::instance_of(vmctx) as *const InstanceInner) }
}

/// Raises `r`'s trap, if any.
///
/// # Safety
///
/// Called from a builtin entry point with nothing left to drop.
unsafe fn check(r: Result<(), TrapCode>) {
    if let Err(code) = r {
        // SAFETY: caller contract: we are under an entry, nothing to drop.
        unsafe { enter::raise(code as u32, None, 0) }
    }
}

fn memory(inst: &InstanceInner, i: u32) -> Result<&Memory, TrapCode> {
    inst.memories.get(i as usize).ok_or(TrapCode::MemoryOutOfBounds)
}

fn table(inst: &InstanceInner, i: u32) -> Result<&Table, TrapCode> {
    inst.tables.get(i as usize).ok_or(TrapCode::TableOutOfBounds)
}

/// Runs `f` with faults in memory reservations counted as traps (bulk
/// copies of memory-control-protected pages).
fn guarded<R>(f: impl FnOnce() -> R) -> R {
    let prev = tls::set_in_helper(true);
    let r = f();
    tls::set_in_helper(prev);
    r
}

fn memory_fill(inst: &InstanceInner, mem: u32, dst: u64, val: u32, len: u64) -> Result<(), TrapCode> {
    let m = memory(inst, mem)?;
    let d = m.check_range(dst, len)?;
    guarded(|| m.map().fill(d, val as u8, len as usize));
    Ok(())
}

fn memory_copy(inst: &InstanceInner, dm: u32, sm: u32, dst: u64, src: u64, len: u64) -> Result<(), TrapCode> {
    let (d, s) = (memory(inst, dm)?, memory(inst, sm)?);
    let doff = d.check_range(dst, len)?;
    let soff = s.check_range(src, len)?;
    guarded(|| Mmap::copy_within(d.map(), doff, s.map(), soff, len as usize));
    Ok(())
}

fn memory_init(inst: &InstanceInner, mem: u32, data: u32, dst: u64, src: u32, len: u32) -> Result<(), TrapCode> {
    let m = memory(inst, mem)?;
    if data as usize >= inst.num_datas() {
        return Err(TrapCode::MemoryOutOfBounds);
    }
    let bytes = inst.data_segment(data);
    let end = (src as u64 + len as u64) as usize;
    let s = bytes.get(src as usize..end).ok_or(TrapCode::MemoryOutOfBounds)?;
    let d = m.check_range(dst, len as u64)?;
    guarded(|| m.map().write(d, s));
    Ok(())
}

fn table_init(inst: &InstanceInner, t: u32, elem: u32, dst: u64, src: u32, len: u32) -> Result<(), TrapCode> {
    let t = table(inst, t)?;
    if elem as usize >= inst.num_elems() {
        return Err(TrapCode::TableOutOfBounds);
    }
    let vals = inst.elem_segment(elem);
    let end = src as u64 + len as u64;
    let s = vals.get(src as usize..end as usize).ok_or(TrapCode::TableOutOfBounds)?;
    t.init(dst, s)
}

fn table_copy(inst: &InstanceInner, dt: u32, st: u32, dst: u64, src: u64, len: u64) -> Result<(), TrapCode> {
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
pub unsafe extern "C" fn wasm2o_rt_memory_fill(vmctx: *mut u8, mem: u32, dst: u64, val: u32, len: u64) {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { check(memory_fill(instance(vmctx), mem, dst, val, len)) }
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
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { check(memory_copy(instance(vmctx), dst_mem, src_mem, dst, src, len)) }
}

/// `void (vmctx, mem, data, dst, src, len)`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_memory_init(vmctx: *mut u8, mem: u32, data: u32, dst: u64, src: u32, len: u32) {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { check(memory_init(instance(vmctx), mem, data, dst, src, len)) }
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
pub unsafe extern "C" fn wasm2o_rt_table_grow(vmctx: *mut u8, t: u32, init: usize, delta: u64) -> u64 {
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
pub unsafe extern "C" fn wasm2o_rt_table_fill(vmctx: *mut u8, t: u32, dst: u64, val: usize, len: u64) {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { check(table(instance(vmctx), t).and_then(|t| t.fill(dst, val, len))) }
}

/// `void (vmctx, dst_table, src_table, dst, src, len)`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_table_copy(vmctx: *mut u8, dst_t: u32, src_t: u32, dst: u64, src: u64, len: u64) {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { check(table_copy(instance(vmctx), dst_t, src_t, dst, src, len)) }
}

/// `void (vmctx, table, elem, dst, src, len)`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_table_init(vmctx: *mut u8, t: u32, elem: u32, dst: u64, src: u32, len: u32) {
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

struct Builtins([(&'static str, *const c_void); 11]);
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
    (crate::abi::builtins::DATA_DROP, wasm2o_rt_data_drop as *const c_void),
    (crate::abi::builtins::TABLE_GROW, wasm2o_rt_table_grow as *const c_void),
    (crate::abi::builtins::TABLE_FILL, wasm2o_rt_table_fill as *const c_void),
    (crate::abi::builtins::TABLE_COPY, wasm2o_rt_table_copy as *const c_void),
    (crate::abi::builtins::TABLE_INIT, wasm2o_rt_table_init as *const c_void),
    (crate::abi::builtins::ELEM_DROP, wasm2o_rt_elem_drop as *const c_void),
    (crate::abi::builtins::RAISE_TRAP, wasm2o_rt_raise_trap as *const c_void),
]);

/// Referenced from instantiation so that any program that instantiates
/// also links the builtins (compiled code loaded with `dlopen` resolves
/// them from the executable).
#[inline(never)]
pub(crate) fn keep() {
    std::hint::black_box(&BUILTINS);
}
