//! The `spectest` module every spec script may import from: print
//! functions (silent here), four immutable globals, a table and a memory.

#![allow(unsafe_code)]

use std::collections::HashMap;
use std::ffi::c_void;

use wasm2o_runtime::desc::{FuncType, GlobalType, MemoryControl, MemoryType, TableType, ValType};
use wasm2o_runtime::{Extern, Func, Global, Memory, Table, Val};

// Host functions: C ABI, the `wasm2o_caller *` first (abi.rs calling
// convention). The reference interpreter prints the values; a test run
// has no use for the noise.
extern "C" fn print(_caller: *mut c_void) {}
extern "C" fn print_i32(_caller: *mut c_void, _a: i32) {}
extern "C" fn print_i64(_caller: *mut c_void, _a: i64) {}
extern "C" fn print_f32(_caller: *mut c_void, _a: f32) {}
extern "C" fn print_f64(_caller: *mut c_void, _a: f64) {}
extern "C" fn print_i32_f32(_caller: *mut c_void, _a: i32, _b: f32) {}
extern "C" fn print_f64_f64(_caller: *mut c_void, _a: f64, _b: f64) {}

fn host(params: &[ValType], f: *const c_void) -> Extern {
    let ty = FuncType {
        params: params.to_vec(),
        results: Vec::new(),
    };
    // SAFETY: each `f` above is an `extern "C"` function taking the caller
    // pointer then exactly `params` (i32 → i32, f32 → f32, ...) and
    // returning nothing, which is the C signature the runtime calls for
    // `ty`; it needs no environment.
    Extern::Func(unsafe { Func::host(ty, f, std::ptr::null_mut()) })
}

fn global(ty: ValType, val: Val) -> Extern {
    Extern::Global(Global::new(GlobalType { ty, mutable: false }, val))
}

/// Builds the module's exports (fresh for every script).
pub fn exports() -> Result<HashMap<&'static str, Extern>, String> {
    use ValType::*;
    let mut m = HashMap::new();
    m.insert("print", host(&[], print as *const c_void));
    m.insert("print_i32", host(&[I32], print_i32 as *const c_void));
    m.insert("print_i64", host(&[I64], print_i64 as *const c_void));
    m.insert("print_f32", host(&[F32], print_f32 as *const c_void));
    m.insert("print_f64", host(&[F64], print_f64 as *const c_void));
    m.insert(
        "print_i32_f32",
        host(&[I32, F32], print_i32_f32 as *const c_void),
    );
    m.insert(
        "print_f64_f64",
        host(&[F64, F64], print_f64_f64 as *const c_void),
    );
    m.insert("global_i32", global(I32, Val::I32(666)));
    m.insert("global_i64", global(I64, Val::I64(666)));
    m.insert("global_f32", global(F32, Val::F32(666.6f32.to_bits())));
    m.insert("global_f64", global(F64, Val::F64(666.6f64.to_bits())));
    let table = Table::new(
        TableType {
            elem: FuncRef,
            min: 10,
            max: Some(20),
            table64: false,
        },
        Val::FuncRef(0),
    )
    .map_err(|e| format!("spectest table: {e}"))?;
    m.insert("table", Extern::Table(table));
    let memory = Memory::new(MemoryType {
        min: 1,
        max: Some(2),
        memory64: false,
        shared: false,
        control: MemoryControl::default(),
    })
    .map_err(|e| format!("spectest memory: {e}"))?;
    m.insert("memory", Extern::Memory(memory));
    let shared_memory = Memory::new(MemoryType {
        min: 1,
        max: Some(2),
        memory64: false,
        shared: true,
        control: MemoryControl::default(),
    })
    .map_err(|e| format!("spectest shared_memory: {e}"))?;
    m.insert("shared_memory", Extern::Memory(shared_memory));
    Ok(m)
}
