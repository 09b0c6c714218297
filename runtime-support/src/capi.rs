//! The C API declared in `include/wasm2o.h`.
//!
//! Handles: `wasm2o_instance *` is `Arc::into_raw` of the instance;
//! `wasm2o_memory *` points at a memory owned by an instance;
//! `wasm2o_extern *` at an export cached in its instance (valid until the
//! instance is freed); `wasm2o_caller *` is the runtime's `VMCaller`.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::{Arc, Mutex};

use crate::abi::{RawModule, TrapCode};
use crate::desc::{ImportKind, ValType};
use crate::func::{Func, VMCaller};
use crate::instance::{Extern, Instance, InstanceInner, InstanceOptions};
use crate::memory::MemoryInner;
use crate::module::Module;
use crate::trap::{CallError, InstantiateError, Trap};
use crate::val::Val;

/// Opaque C handle types.
#[allow(non_camel_case_types)]
pub type wasm2o_instance = InstanceInner;
#[allow(non_camel_case_types)]
pub type wasm2o_memory = MemoryInner;
#[allow(non_camel_case_types)]
pub type wasm2o_extern = Extern;
#[allow(non_camel_case_types)]
pub type wasm2o_caller = VMCaller;
#[allow(non_camel_case_types)]
pub type wasm2o_module = RawModule;

pub const WASM2O_OK: u32 = 0;
pub const WASM2O_ERR_LINK: u32 = 1;
pub const WASM2O_ERR_TRAP: u32 = 2;
pub const WASM2O_ERR_RESOURCE: u32 = 3;
pub const WASM2O_ERR_INVALID: u32 = 4;

/// `wasm2o_val`: a kind tag and a union, 16 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(non_camel_case_types)]
pub struct wasm2o_val {
    pub kind: u32,
    /// The union's bytes: the value in its low bits, little-endian.
    pub of: u64,
}

#[repr(C)]
#[allow(non_camel_case_types)]
pub struct wasm2o_import {
    pub module: *const c_char,
    pub name: *const c_char,
    pub func: *mut c_void,
    pub env: *mut c_void,
    pub ext: *const wasm2o_extern,
}

#[repr(C)]
#[allow(non_camel_case_types)]
pub struct wasm2o_options {
    pub max_stack_bytes: u64,
}

/// A pointer to a static C string (so the trap info can sit in a `Mutex`).
#[repr(transparent)]
#[derive(Clone, Copy, Debug)]
pub struct StaticCStr(pub *const c_char);
// SAFETY: points at immutable static data.
unsafe impl Send for StaticCStr {}
// SAFETY: as above.
unsafe impl Sync for StaticCStr {}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(non_camel_case_types)]
pub struct wasm2o_trap_info {
    pub code: u32,
    pub memory: u32,
    pub has_address: c_int,
    pub address: u64,
    pub message: StaticCStr,
}

/// C-side state of an instance: the last trap and the export handles.
pub(crate) struct CState {
    trap: Mutex<wasm2o_trap_info>,
    exports: Mutex<Vec<(String, Box<Extern>)>>,
}

impl Default for CState {
    fn default() -> Self {
        CState {
            trap: Mutex::new(wasm2o_trap_info {
                code: 0,
                memory: 0,
                has_address: 0,
                address: 0,
                message: StaticCStr(message(0).as_ptr()),
            }),
            exports: Mutex::new(Vec::new()),
        }
    }
}

impl CState {
    pub(crate) fn record_trap(&self, t: &Trap) {
        let mut g = self.trap.lock().unwrap_or_else(|e| e.into_inner());
        *g = wasm2o_trap_info {
            code: t.code as u32,
            memory: t.memory.unwrap_or(0),
            has_address: t.address.is_some() as c_int,
            address: t.address.unwrap_or(0),
            message: StaticCStr(trap_cstr(t).as_ptr()),
        };
    }
}

/// The static C text of a trap's message: the code's message, or for a
/// refused memory-control request, "memory-control request refused: REASON".
fn trap_cstr(t: &Trap) -> &'static CStr {
    const REFUSED: [&CStr; 8] = [
        c"memory-control request refused: bad prot",
        c"memory-control request refused: zero size",
        c"memory-control request refused: unaligned",
        c"memory-control request refused: already mapped",
        c"memory-control request refused: not mapped",
        c"memory-control request refused: not granted",
        c"memory-control request refused: above grant",
        c"memory-control request refused: out of resources",
    ];
    REFUSED
        .iter()
        .find(|c| c.to_bytes() == t.message.as_bytes())
        .copied()
        .unwrap_or_else(|| message(t.code as u32))
}

fn message(code: u32) -> &'static CStr {
    match TrapCode::from_u32(code) {
        None if code == 0 => c"no trap",
        None => c"unknown trap",
        Some(c) => match c {
            TrapCode::Unreachable => c"unreachable",
            TrapCode::MemoryOutOfBounds => c"out of bounds memory access",
            TrapCode::MemoryAccessDenied => c"access denied",
            TrapCode::IntegerDivideByZero => c"integer divide by zero",
            TrapCode::IntegerOverflow => c"integer overflow",
            TrapCode::BadConversionToInteger => c"invalid conversion to integer",
            TrapCode::IndirectCallTypeMismatch => c"indirect call type mismatch",
            TrapCode::UninitializedElement => c"uninitialized element",
            TrapCode::TableOutOfBounds => c"out of bounds table access",
            TrapCode::NullReference => c"null reference",
            TrapCode::StackOverflow => c"call stack exhausted",
            TrapCode::UnalignedAtomic => c"unaligned atomic",
            TrapCode::HostError => c"host error",
            TrapCode::MemoryControlRefused => c"memory-control request refused",
            TrapCode::ExpectedSharedMemory => c"expected shared memory",
        },
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub(crate) fn set_error(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).expect("no NUL");
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

thread_local! {
    /// The details of this thread's last failing host memory call
    /// (`wasm2o_last_trap`). Host memory calls belong to no instance, so
    /// they never touch an instance's `wasm2o_instance_trap` (another
    /// thread may be running an instance that uses the memory).
    static LAST_TRAP: Cell<wasm2o_trap_info> = Cell::new(wasm2o_trap_info {
        code: 0,
        memory: 0,
        has_address: 0,
        address: 0,
        message: StaticCStr(message(0).as_ptr()),
    });
}

/// Records a failing host memory call: `wasm2o_last_error()` gets the
/// message with its details, `wasm2o_last_trap()` the trap. Returns the
/// code.
pub(crate) fn host_trap(t: &Trap) -> u32 {
    set_error(&t.to_string());
    LAST_TRAP.with(|c| {
        c.set(wasm2o_trap_info {
            code: t.code as u32,
            memory: 0,
            has_address: t.address.is_some() as c_int,
            address: t.address.unwrap_or(0),
            message: StaticCStr(trap_cstr(t).as_ptr()),
        })
    });
    t.code as u32
}

/// A host memory call with a bad argument (`msg` says which):
/// `WASM2O_TRAP_HOST_ERROR`, recorded as [`host_trap`] does.
pub(crate) fn host_arg_error(msg: &str) -> u32 {
    let code = host_trap(&Trap::new(TrapCode::HostError));
    set_error(msg);
    code
}

/// # Safety
///
/// `p` is null or a NUL-terminated string.
unsafe fn cstr<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: caller contract.
    unsafe { CStr::from_ptr(p) }.to_str().ok()
}

/// # Safety
///
/// `p` is a live handle from `wasm2o_instance_new` (or a caller's instance).
unsafe fn inst<'a>(p: *const wasm2o_instance) -> Option<&'a InstanceInner> {
    // SAFETY: caller contract.
    unsafe { p.as_ref() }
}

/// See `wasm2o.h`.
///
/// # Safety
///
/// Pointers as documented in `wasm2o.h`.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_instance_new(
    module: *const wasm2o_module,
    imports: *const wasm2o_import,
    nimports: usize,
    options: *const wasm2o_options,
    out: *mut *mut wasm2o_instance,
) -> u32 {
    if out.is_null() || module.is_null() || (imports.is_null() && nimports != 0) {
        set_error("wasm2o_instance_new: null argument");
        return WASM2O_ERR_INVALID;
    }
    // SAFETY: `out` is non-null (checked) and writable (contract).
    unsafe { *out = std::ptr::null_mut() };
    // SAFETY: the module comes from a linked object (contract).
    let module = match unsafe { Module::from_raw_cached(module) } {
        Ok(m) => m,
        Err(e) => {
            set_error(&e);
            return WASM2O_ERR_INVALID;
        }
    };
    let imports: &[wasm2o_import] = if nimports == 0 {
        &[]
    } else {
        // SAFETY: non-null (checked), `nimports` entries (contract).
        unsafe { std::slice::from_raw_parts(imports, nimports) }
    };
    let types = &module.info().types;
    let mut resolve = |imp: &crate::desc::Import| -> Option<Extern> {
        let found = imports.iter().find(|i| {
            // SAFETY: NUL-terminated strings (contract).
            unsafe {
                cstr(i.module) == Some(imp.module.as_str())
                    && cstr(i.name) == Some(imp.name.as_str())
            }
        })?;
        if !found.func.is_null() {
            let ImportKind::Func(t) = imp.kind else {
                return None;
            };
            // SAFETY: the header's typed prototypes make the function's C
            // type match the import's type; `env` is the host's.
            return Some(Extern::Func(unsafe {
                Func::host(types[t as usize].clone(), found.func, found.env)
            }));
        }
        // SAFETY: an export handle of a live instance (contract).
        unsafe { found.ext.as_ref() }.cloned()
    };
    // SAFETY: null or a valid options struct (contract).
    let opts = InstanceOptions {
        max_stack_bytes: unsafe { options.as_ref() }.map_or(0, |o| o.max_stack_bytes),
    };
    match Instance::new_with_options(&module, &mut resolve, &opts) {
        Ok(i) => {
            // SAFETY: `out` checked above.
            unsafe { *out = Arc::into_raw(i.inner) as *mut wasm2o_instance };
            WASM2O_OK
        }
        Err(e) => {
            set_error(&e.to_string());
            match e {
                InstantiateError::Link(_) => WASM2O_ERR_LINK,
                InstantiateError::Trap(_) => WASM2O_ERR_TRAP,
                InstantiateError::Resource(_) => WASM2O_ERR_RESOURCE,
            }
        }
    }
}

/// # Safety
///
/// `p` is null or a handle from `wasm2o_instance_new`, freed once.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_instance_free(p: *mut wasm2o_instance) {
    if p.is_null() {
        return;
    }
    // SAFETY: from Arc::into_raw in wasm2o_instance_new (contract).
    let arc = unsafe { Arc::from_raw(p as *const InstanceInner) };
    // Export handles of functions hold the instance: break the cycle.
    let exports = std::mem::take(&mut *arc.c.exports.lock().unwrap_or_else(|e| e.into_inner()));
    drop(exports);
    drop(arc);
}

/// Thread-local text of the last failure (empty if none).
#[no_mangle]
pub extern "C" fn wasm2o_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// See `wasm2o.h`: this thread's last failing host memory call.
#[no_mangle]
pub extern "C" fn wasm2o_last_trap() -> *const wasm2o_trap_info {
    LAST_TRAP.with(|c| c.as_ptr() as *const wasm2o_trap_info)
}

/// # Safety
///
/// As documented in `wasm2o.h`.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_instance_call(
    instance: *mut wasm2o_instance,
    name: *const c_char,
    args: *const wasm2o_val,
    nargs: usize,
    results: *mut wasm2o_val,
    nresults: usize,
) -> u32 {
    let host_error = |msg: String| {
        set_error(&msg);
        TrapCode::HostError as u32
    };
    // SAFETY: contract.
    let (Some(inst), Some(name)) = (unsafe { inst(instance) }, unsafe { cstr(name) }) else {
        return host_error("wasm2o_instance_call: null argument".into());
    };
    let info = inst.module().info();
    let Some(e) = info
        .exports
        .iter()
        .find(|e| e.name == name && e.kind == crate::desc::ExternKind::Func)
    else {
        return host_error(format!("no exported function named `{name}`"));
    };
    let ty = info.func_type(e.index);
    if nresults != ty.results.len()
        || (nargs != 0 && args.is_null())
        || (nresults != 0 && results.is_null())
    {
        return host_error(format!("wasm2o_instance_call: `{name}` has type {ty}"));
    }
    let args: &[wasm2o_val] = if nargs == 0 {
        &[]
    } else {
        // SAFETY: non-null, `nargs` entries (contract).
        unsafe { std::slice::from_raw_parts(args, nargs) }
    };
    let mut vals = Vec::with_capacity(args.len());
    for a in args {
        let ty = match a.kind {
            0 => ValType::I32,
            1 => ValType::I64,
            2 => ValType::F32,
            3 => ValType::F64,
            4 => ValType::FuncRef,
            5 => ValType::ExternRef,
            k => return host_error(format!("wasm2o_instance_call: bad value kind {k}")),
        };
        vals.push(Val::from_bits(ty, a.of));
    }
    match inst.call_index(e.index, &vals) {
        Ok(rs) => {
            for (i, r) in rs.iter().enumerate() {
                let kind = match r.ty() {
                    ValType::I32 => 0,
                    ValType::I64 => 1,
                    ValType::F32 => 2,
                    ValType::F64 => 3,
                    ValType::FuncRef => 4,
                    ValType::ExternRef => 5,
                };
                // SAFETY: `nresults` == rs.len() writable entries (checked, contract).
                unsafe {
                    results.add(i).write(wasm2o_val {
                        kind,
                        of: r.to_bits(),
                    })
                };
            }
            0
        }
        Err(CallError::Trap(t)) => t.code as u32,
        Err(e) => host_error(e.to_string()),
    }
}

/// # Safety
///
/// `values` holds max(params, results) slots of function `func_index`.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_instance_call_index(
    instance: *mut wasm2o_instance,
    func_index: u32,
    values: *mut u64,
) -> u32 {
    // SAFETY: contract.
    let Some(inst) = (unsafe { inst(instance) }) else {
        return TrapCode::HostError as u32;
    };
    let info = inst.module().info();
    if func_index as usize >= info.funcs.len() {
        set_error("wasm2o_instance_call_index: no such function");
        return TrapCode::HostError as u32;
    }
    let ty = info.func_type(func_index);
    let n = ty.params.len().max(ty.results.len());
    let mut none = [0u64; 1];
    let slots: &mut [u64] = if n == 0 || values.is_null() {
        &mut none
    } else {
        // SAFETY: `n` slots (contract).
        unsafe { std::slice::from_raw_parts_mut(values, n) }
    };
    if slots.len() < n {
        set_error("wasm2o_instance_call_index: null values");
        return TrapCode::HostError as u32;
    }
    match inst.invoke(func_index, slots) {
        Ok(()) => 0,
        Err(CallError::Trap(t)) => t.code as u32,
        Err(e) => {
            set_error(&e.to_string());
            TrapCode::HostError as u32
        }
    }
}

/// # Safety
///
/// `instance` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_instance_trap(
    instance: *const wasm2o_instance,
) -> *const wasm2o_trap_info {
    // SAFETY: contract.
    match unsafe { inst(instance) } {
        Some(i) => &*i.c.trap.lock().unwrap_or_else(|e| e.into_inner()) as *const wasm2o_trap_info,
        None => std::ptr::null(),
    }
}

/// # Safety
///
/// `instance` is a live handle; `name` a C string.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_instance_export(
    instance: *mut wasm2o_instance,
    name: *const c_char,
) -> *const wasm2o_extern {
    // SAFETY: contract.
    let (Some(_), Some(name)) = (unsafe { inst(instance) }, unsafe { cstr(name) }) else {
        return std::ptr::null();
    };
    // SAFETY: the handle is a live Arc (contract); take one more count for
    // the duration of this call.
    let arc = unsafe {
        Arc::increment_strong_count(instance as *const InstanceInner);
        Arc::from_raw(instance as *const InstanceInner)
    };
    let mut cache = arc.c.exports.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, e)) = cache.iter().find(|(n, _)| n == name) {
        return &**e as *const Extern;
    }
    let Some(e) = arc.export(name) else {
        return std::ptr::null();
    };
    let b = Box::new(e);
    let p = &*b as *const Extern;
    cache.push((name.to_string(), b));
    p
}

/// # Safety
///
/// `instance` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_instance_memory(
    instance: *mut wasm2o_instance,
    index: u32,
) -> *mut wasm2o_memory {
    // SAFETY: contract.
    match unsafe { inst(instance) }.and_then(|i| i.memories.get(index as usize)) {
        Some(m) => Arc::as_ptr(&m.inner) as *mut wasm2o_memory,
        None => std::ptr::null_mut(),
    }
}

/// # Safety
///
/// `memory` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_memory_data(memory: *mut wasm2o_memory) -> *mut u8 {
    // SAFETY: contract.
    unsafe { memory.as_ref() }.map_or(std::ptr::null_mut(), |m| m.data_ptr())
}

/// # Safety
///
/// `memory` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_memory_size(memory: *mut wasm2o_memory) -> u64 {
    // SAFETY: contract.
    unsafe { memory.as_ref() }.map_or(0, |m| m.size_bytes())
}

/// The trap code of a host-side memory operation's result (0 = success),
/// setting the thread's last error text on failure.
pub(crate) fn memory_result(r: Result<(), Trap>) -> u32 {
    match r {
        Ok(()) => 0,
        Err(t) => host_trap(&t),
    }
}

/// The host's `memory.discard`: see `wasm2o.h`.
///
/// # Safety
///
/// `memory` is null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_memory_discard(
    memory: *mut wasm2o_memory,
    addr: u64,
    len: u64,
) -> u32 {
    // SAFETY: contract.
    let Some(m) = (unsafe { memory.as_ref() }) else {
        return host_arg_error("wasm2o_memory_discard: null memory");
    };
    memory_result(m.discard(addr, len).map_err(|t| t.into_trap(None)))
}

/// Checked host write: see `wasm2o.h`.
///
/// # Safety
///
/// `memory` is null or a live handle; `src` holds `len` readable bytes
/// (may be null if `len` is 0) outside the memory's protected pages.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_memory_write(
    memory: *mut wasm2o_memory,
    offset: u64,
    src: *const u8,
    len: usize,
) -> u32 {
    // SAFETY: contract.
    let Some(m) = (unsafe { memory.as_ref() }) else {
        return host_arg_error("wasm2o_memory_write: null memory");
    };
    if src.is_null() && len != 0 {
        return host_arg_error("wasm2o_memory_write: null source");
    }
    let data: &[u8] = if len == 0 {
        &[]
    } else {
        // SAFETY: non-null, `len` readable bytes (contract).
        unsafe { std::slice::from_raw_parts(src, len) }
    };
    memory_result(m.write(offset, data, false).map_err(|t| t.into_trap(None)))
}

/// Checked host read: see `wasm2o.h`.
///
/// # Safety
///
/// `memory` is null or a live handle; `dst` holds `len` writable bytes
/// (may be null if `len` is 0) that do not overlap the memory.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_memory_read(
    memory: *mut wasm2o_memory,
    offset: u64,
    dst: *mut u8,
    len: usize,
) -> u32 {
    // SAFETY: contract.
    let Some(m) = (unsafe { memory.as_ref() }) else {
        return host_arg_error("wasm2o_memory_read: null memory");
    };
    if dst.is_null() && len != 0 {
        return host_arg_error("wasm2o_memory_read: null destination");
    }
    let buf: &mut [u8] = if len == 0 {
        &mut []
    } else {
        // SAFETY: non-null, `len` writable bytes not overlapping the memory
        // (contract).
        unsafe { std::slice::from_raw_parts_mut(dst, len) }
    };
    memory_result(m.read(offset, buf).map_err(|t| t.into_trap(None)))
}

/// # Safety
///
/// `caller` is the first argument a host function received.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_caller_env(caller: *mut wasm2o_caller) -> *mut c_void {
    // SAFETY: contract.
    unsafe { caller.as_ref() }.map_or(std::ptr::null_mut(), |c| {
        c.env.load(std::sync::atomic::Ordering::Acquire)
    })
}

/// # Safety
///
/// `caller` is the first argument a host function received.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_caller_instance(
    caller: *mut wasm2o_caller,
) -> *mut wasm2o_instance {
    // SAFETY: contract.
    unsafe { caller.as_ref() }.map_or(std::ptr::null_mut(), |c| {
        c.instance.load(std::sync::atomic::Ordering::Acquire)
    })
}

/// Raises a trap from a host function: never returns; the C frames
/// between the Wasm call and here are discarded (no cleanup runs).
///
/// # Safety
///
/// Only inside a host function called from Wasm.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_caller_trap(_caller: *mut wasm2o_caller, code: u32) -> ! {
    let code = if code == 0 {
        TrapCode::HostError as u32
    } else {
        code
    };
    // SAFETY: contract: we are under an entry.
    unsafe { crate::sys::enter::raise(code, None, 0) }
}

/// The message of a trap code (static; "no trap" for 0).
#[no_mangle]
pub extern "C" fn wasm2o_trap_message(code: u32) -> *const c_char {
    message(code).as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn c_layouts() {
        assert_eq!(size_of::<wasm2o_val>(), 16);
        assert_eq!(offset_of!(wasm2o_val, of), 8);
        assert_eq!(size_of::<wasm2o_import>(), 40);
        assert_eq!(offset_of!(wasm2o_trap_info, address), 16);
        assert_eq!(offset_of!(wasm2o_trap_info, message), 24);
        assert_eq!(offset_of!(VMCaller, stack_limit), 0);
    }

    #[test]
    fn header_matches_abi() {
        let h = include_str!("../include/wasm2o.h");
        for c in TrapCode::ALL {
            let line = format!("{} = {}", c.c_name(), c as u32);
            assert!(h.contains(&line), "wasm2o.h lacks `{line}`");
        }
    }

    #[test]
    fn refused_messages_are_static() {
        for r in crate::trap::refused::ALL {
            let t = Trap {
                message: crate::trap::trap_message(TrapCode::MemoryControlRefused, Some(r)),
                ..Trap::new(TrapCode::MemoryControlRefused)
            };
            assert_eq!(trap_cstr(&t).to_str().unwrap(), t.message);
        }
    }

    #[test]
    fn messages_match_abi() {
        for c in TrapCode::ALL {
            assert_eq!(message(c as u32).to_str().unwrap(), c.message());
        }
    }
}
