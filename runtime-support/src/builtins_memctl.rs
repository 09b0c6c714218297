//! The builtins of memory-control II (`map`, `unmap`, `protect`,
//! `map_handle` on a virtual memory) and the runtime's own bindings of
//! the `memory-control` imports of the same names (`op` and `op@N`), for
//! calls through tables. The rules are in `mapping`.

use std::ffi::c_void;
use std::sync::atomic::Ordering;

use crate::builtins::{check, instance};
use crate::desc::{FuncType, MemoryType, ValType};
use crate::func::VMCaller;
use crate::instance::InstanceInner;
use crate::mapping::{self, Requester};
use crate::memory::MemoryInner;
use crate::trap::RuntimeTrap;

fn memory(inst: &InstanceInner, i: u32) -> Result<&MemoryInner, RuntimeTrap> {
    inst.memories
        .get(i as usize)
        .map(|m| &*m.inner)
        .ok_or_else(|| crate::abi::TrapCode::MemoryOutOfBounds.into())
}

/// `map` → `addr`, or all ones when out of resources.
pub(crate) fn memory_map(
    inst: &InstanceInner,
    mem: u32,
    addr: u64,
    size: u64,
    prot: u32,
) -> Result<u64, RuntimeTrap> {
    Ok(if mapping::map(memory(inst, mem)?, addr, size, prot)? {
        addr
    } else {
        u64::MAX
    })
}

pub(crate) fn memory_unmap(
    inst: &InstanceInner,
    mem: u32,
    addr: u64,
    size: u64,
) -> Result<(), RuntimeTrap> {
    mapping::unmap(memory(inst, mem)?, addr, size)
}

pub(crate) fn memory_protect(
    inst: &InstanceInner,
    mem: u32,
    addr: u64,
    size: u64,
    prot: u32,
) -> Result<(), RuntimeTrap> {
    mapping::protect(memory(inst, mem)?, addr, size, prot, Requester::Guest)
}

/// `map_handle` → `addr`, or all ones when out of resources.
pub(crate) fn memory_map_handle(
    inst: &InstanceInner,
    mem: u32,
    addr: u64,
    size: u64,
    prot: u32,
    handle: u32,
    offset: u64,
) -> Result<u64, RuntimeTrap> {
    let m = memory(inst, mem)?;
    let resolve = |p| inst.grants.resolve(handle, offset, size, p);
    Ok(
        if mapping::map_file(m, addr, size, prot, offset, resolve)? {
            addr
        } else {
            u64::MAX
        },
    )
}

/// Returns `r`'s value or raises its trap.
///
/// # Safety
///
/// As for `builtins::check`: called from Wasm, nothing left to drop.
unsafe fn value_or_raise<V: Copy>(r: Result<V, RuntimeTrap>) -> V {
    match r {
        Ok(v) => v,
        Err(t) => {
            // SAFETY: caller contract.
            unsafe { check::<RuntimeTrap>(Err(t)) };
            unreachable!("check raises on Err")
        }
    }
}

/// `u64 (vmctx, mem, addr, size, prot)` → `addr` or `u64::MAX`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_memory_map(
    vmctx: *mut u8,
    mem: u32,
    addr: u64,
    size: u64,
    prot: u32,
) -> u64 {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { value_or_raise(memory_map(instance(vmctx), mem, addr, size, prot)) }
}

/// `void (vmctx, mem, addr, size)`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_memory_unmap(vmctx: *mut u8, mem: u32, addr: u64, size: u64) {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { check(memory_unmap(instance(vmctx), mem, addr, size)) }
}

/// `void (vmctx, mem, addr, size, prot)`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_memory_protect(
    vmctx: *mut u8,
    mem: u32,
    addr: u64,
    size: u64,
    prot: u32,
) {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe { check(memory_protect(instance(vmctx), mem, addr, size, prot)) }
}

/// `u64 (vmctx, mem, addr, size, prot, handle, offset)` → `addr` or
/// `u64::MAX`.
///
/// # Safety
///
/// Called by compiled code with its own vmctx.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_rt_memory_map_handle(
    vmctx: *mut u8,
    mem: u32,
    addr: u64,
    size: u64,
    prot: u32,
    handle: u32,
    offset: u64,
) -> u64 {
    // SAFETY: caller contract; the result holds nothing to drop.
    unsafe {
        value_or_raise(memory_map_handle(
            instance(vmctx),
            mem,
            addr,
            size,
            prot,
            handle,
            offset,
        ))
    }
}

// ---------------------------------------------------------------------------
// The imports, as host functions (env = the memory index)
// ---------------------------------------------------------------------------

/// The importing instance and the memory index of a `memory-control`
/// import's caller object.
///
/// # Safety
///
/// `caller` is the runtime's `VMCaller` of an import bound by [`import`],
/// called from Wasm (the instance is alive and running).
unsafe fn target<'a>(caller: *mut VMCaller) -> (&'a InstanceInner, u32) {
    // SAFETY: caller contract.
    let c = unsafe { &*caller };
    let mem = c.env.load(Ordering::Acquire) as usize as u32;
    // SAFETY: set before any code of the instance runs (caller contract).
    (unsafe { &*c.instance.load(Ordering::Acquire) }, mem)
}

// Each binding runs the operation and raises its trap; `target` and the
// result hold nothing to drop. SAFETY (all): only bound by `import`.

unsafe extern "C" fn mc_map32(caller: *mut VMCaller, addr: i32, size: i32, prot: i32) -> i32 {
    // SAFETY: see above.
    unsafe {
        let (i, m) = target(caller);
        value_or_raise(memory_map(
            i,
            m,
            addr as u32 as u64,
            size as u32 as u64,
            prot as u32,
        )) as i32
    }
}

unsafe extern "C" fn mc_map64(caller: *mut VMCaller, addr: i64, size: i64, prot: i32) -> i64 {
    // SAFETY: see above.
    unsafe {
        let (i, m) = target(caller);
        value_or_raise(memory_map(i, m, addr as u64, size as u64, prot as u32)) as i64
    }
}

unsafe extern "C" fn mc_unmap32(caller: *mut VMCaller, addr: i32, size: i32) {
    // SAFETY: see above.
    unsafe {
        let (i, m) = target(caller);
        check(memory_unmap(i, m, addr as u32 as u64, size as u32 as u64))
    }
}

unsafe extern "C" fn mc_unmap64(caller: *mut VMCaller, addr: i64, size: i64) {
    // SAFETY: see above.
    unsafe {
        let (i, m) = target(caller);
        check(memory_unmap(i, m, addr as u64, size as u64))
    }
}

unsafe extern "C" fn mc_protect32(caller: *mut VMCaller, addr: i32, size: i32, prot: i32) {
    // SAFETY: see above.
    unsafe {
        let (i, m) = target(caller);
        check(memory_protect(
            i,
            m,
            addr as u32 as u64,
            size as u32 as u64,
            prot as u32,
        ))
    }
}

unsafe extern "C" fn mc_protect64(caller: *mut VMCaller, addr: i64, size: i64, prot: i32) {
    // SAFETY: see above.
    unsafe {
        let (i, m) = target(caller);
        check(memory_protect(i, m, addr as u64, size as u64, prot as u32))
    }
}

unsafe extern "C" fn mc_map_handle32(
    caller: *mut VMCaller,
    addr: i32,
    size: i32,
    prot: i32,
    handle: i32,
    offset: i64,
) -> i32 {
    // SAFETY: see above.
    unsafe {
        let (i, m) = target(caller);
        let r = memory_map_handle(
            i,
            m,
            addr as u32 as u64,
            size as u32 as u64,
            prot as u32,
            handle as u32,
            offset as u64,
        );
        value_or_raise(r) as i32
    }
}

unsafe extern "C" fn mc_map_handle64(
    caller: *mut VMCaller,
    addr: i64,
    size: i64,
    prot: i32,
    handle: i32,
    offset: i64,
) -> i64 {
    // SAFETY: see above.
    unsafe {
        let (i, m) = target(caller);
        let r = memory_map_handle(
            i,
            m,
            addr as u64,
            size as u64,
            prot as u32,
            handle as u32,
            offset as u64,
        );
        value_or_raise(r) as i64
    }
}

/// The type and implementation of `memory-control` operation `op`
/// (`map`, `unmap`, `protect`, `map_handle`) on a memory of type `mt`:
/// `None` for another operation, `Err` (the detail of "incompatible import
/// type") if the memory is not virtual.
pub(crate) fn import(
    op: &str,
    mt: &MemoryType,
) -> Option<Result<(FuncType, *const c_void), String>> {
    use ValType::{I32, I64};
    let idx = if mt.memory64 { I64 } else { I32 };
    let pick = |f32: *const c_void, f64: *const c_void| if mt.memory64 { f64 } else { f32 };
    let (params, results, f) = match op {
        "map" => (
            vec![idx, idx, I32],
            vec![idx],
            pick(mc_map32 as *const c_void, mc_map64 as *const c_void),
        ),
        "unmap" => (
            vec![idx, idx],
            vec![],
            pick(mc_unmap32 as *const c_void, mc_unmap64 as *const c_void),
        ),
        "protect" => (
            vec![idx, idx, I32],
            vec![],
            pick(mc_protect32 as *const c_void, mc_protect64 as *const c_void),
        ),
        "map_handle" => (
            vec![idx, idx, I32, I32, I64],
            vec![idx],
            pick(
                mc_map_handle32 as *const c_void,
                mc_map_handle64 as *const c_void,
            ),
        ),
        _ => return None,
    };
    if !mt.control.is_virtual {
        return Some(Err(format!("`{op}` needs a virtual memory")));
    }
    Some(Ok((FuncType { params, results }, f)))
}
