//! End-to-end tests of instantiation, calls and traps with a hand-made
//! module whose "compiled code" is Rust functions following the ABI.

use std::sync::Arc;

use crate::abi::{self, RawFunc, RawWrapper, TrapCode};
use crate::desc::*;
use crate::sys::{enter, registry};
use crate::types::VMFuncRef;
use crate::*;

fn layout_of(vmctx: *mut u8) -> abi::VmctxLayout {
    // The test module's layout: 1 memory, 1 global, 1 table, 3 funcs.
    let _ = vmctx;
    abi::VmctxLayout {
        num_memories: 1,
        num_globals: 1,
        num_tables: 1,
        num_funcs: 3,
    }
}

/// f1 = `add(a, b) = a + b + imported(a)`, reading the import from vmctx.
unsafe extern "C" fn f_add(vmctx: *mut u8, a: i32, b: i32) -> i32 {
    let l = layout_of(vmctx);
    // SAFETY: test: the vmctx was built by the runtime with this layout.
    let imp = unsafe { (vmctx.add(l.func(0) as usize) as *const VMFuncRef).read() };
    // SAFETY: the import entry holds a host function of this type.
    let f: unsafe extern "C" fn(*mut u8, i32) -> i32 = unsafe { std::mem::transmute(imp.fn_ptr) };
    // SAFETY: as above.
    a.wrapping_add(b).wrapping_add(unsafe { f(imp.vmctx, a) })
}

unsafe extern "C" fn w_add(vmctx: *mut u8, values: *mut u64) {
    // SAFETY: test wrapper contract.
    unsafe {
        let r = f_add(vmctx, *values as i32, *values.add(1) as i32);
        *values = r as u32 as u64;
    }
}

/// f2 = `load(addr) -> i32` from memory 0 (a fault beyond the size traps).
unsafe extern "C" fn w_load(vmctx: *mut u8, values: *mut u64) {
    let l = layout_of(vmctx);
    // SAFETY: test: reading the memory base from the vmctx, then a load
    // that may fault (the runtime turns the fault into a trap).
    unsafe {
        let base = *(vmctx.add(l.memory(0) as usize) as *const *const u8);
        let addr = *values as u32 as usize;
        *values = std::ptr::read_volatile(base.add(addr) as *const u32) as u64;
    }
}

/// The start function: calls raise_trap if global 0 is 99.
unsafe extern "C" fn w_start(vmctx: *mut u8, _values: *mut u64) {
    let l = layout_of(vmctx);
    // SAFETY: test: the global entry points at a live cell.
    unsafe {
        let g = *(vmctx.add(l.global(0) as usize) as *const *const i32);
        if *g == 99 {
            builtins_raise(vmctx);
        }
    }
}

unsafe fn builtins_raise(vmctx: *mut u8) {
    // SAFETY: under an entry.
    unsafe { crate::builtins::wasm2o_rt_raise_trap(vmctx, TrapCode::Unreachable as u32) }
}

unsafe extern "C" fn host_double(caller: *mut u8, x: i32) -> i32 {
    // SAFETY: the caller object is the runtime's.
    let env = unsafe { capi::wasm2o_caller_env(caller as *mut capi::wasm2o_caller) } as usize;
    x * 2 + env as i32
}

fn module(global_init: i32) -> Arc<Module> {
    let info = ModuleInfo {
        types: vec![
            FuncType {
                params: vec![ValType::I32],
                results: vec![ValType::I32],
            },
            FuncType {
                params: vec![ValType::I32, ValType::I32],
                results: vec![ValType::I32],
            },
            FuncType::default(),
        ],
        imports: vec![Import {
            module: "env".into(),
            name: "double".into(),
            kind: ImportKind::Func(0),
        }],
        funcs: vec![0, 1, 0, 2],
        memories: vec![MemoryType {
            min: 1,
            max: Some(2),
            memory64: false,
            shared: false,
            control: Default::default(),
        }],
        tables: vec![TableType {
            elem: ValType::FuncRef,
            min: 4,
            max: None,
            table64: false,
        }],
        globals: vec![GlobalDef {
            ty: GlobalType {
                ty: ValType::I32,
                mutable: true,
            },
            init: Some(ConstExpr::I32(global_init)),
        }],
        exports: vec![
            Export {
                name: "add".into(),
                kind: ExternKind::Func,
                index: 1,
            },
            Export {
                name: "load".into(),
                kind: ExternKind::Func,
                index: 2,
            },
            Export {
                name: "mem".into(),
                kind: ExternKind::Memory,
                index: 0,
            },
            Export {
                name: "g".into(),
                kind: ExternKind::Global,
                index: 0,
            },
            Export {
                name: "t".into(),
                kind: ExternKind::Table,
                index: 0,
            },
        ],
        start: Some(3),
        elems: vec![ElemSegment {
            mode: SegmentMode::Active {
                index: 0,
                offset: ConstExpr::I32(1),
            },
            elem: ValType::FuncRef,
            items: vec![ConstExpr::RefFunc(1), ConstExpr::RefNull(ValType::FuncRef)],
        }],
        datas: vec![DataSegment {
            mode: SegmentMode::Active {
                index: 0,
                offset: ConstExpr::GlobalGet(0),
            },
            data_offset: 0,
            len: 4,
        }],
    };
    let meta: &'static [u8] = Box::leak(info.encode().into_boxed_slice());
    let funcs: &'static [RawFunc] = Box::leak(Box::new([
        RawFunc {
            ptr: f_add as *const u8,
            len: 1,
            trap_start: 0,
            trap_count: 0,
            _pad: 0,
        },
        // The "code" of `load` is its wrapper, registered with a generous
        // length so the faulting load inside it counts as compiled code.
        RawFunc {
            ptr: w_load as *const u8,
            len: 512,
            trap_start: 0,
            trap_count: 0,
            _pad: 0,
        },
        RawFunc {
            ptr: w_start as *const u8,
            len: 1,
            trap_start: 0,
            trap_count: 0,
            _pad: 0,
        },
    ]));
    let wrappers: &'static [RawWrapper] = Box::leak(Box::new([
        RawWrapper {
            func_index: 1,
            _pad: 0,
            ptr: w_add as *const u8,
        },
        RawWrapper {
            func_index: 2,
            _pad: 0,
            ptr: w_load as *const u8,
        },
        RawWrapper {
            func_index: 3,
            _pad: 0,
            ptr: w_start as *const u8,
        },
    ]));
    let data: &'static [u8] = b"\x2a\0\0\0";
    let raw = Box::leak(Box::new(crate::module::raw_with_code_for_tests(
        meta, funcs, wrappers, data,
    )));
    // SAFETY: a leaked, well-formed descriptor.
    unsafe { Module::from_raw(raw) }.unwrap()
}

fn host(env: usize) -> Extern {
    let ty = FuncType {
        params: vec![ValType::I32],
        results: vec![ValType::I32],
    };
    // SAFETY: host_double has the ABI signature of `ty`.
    Extern::Func(unsafe { Func::host(ty, host_double as *const _, env as *mut _) })
}

#[test]
fn instantiate_call_and_trap() {
    let m = module(8);
    let mut inst = Instance::new(&m, &mut |imp| (imp.name == "double").then(|| host(1))).unwrap();
    // add(3, 4) = 3 + 4 + (3*2 + 1)
    assert_eq!(
        inst.call("add", &[Val::I32(3), Val::I32(4)]).unwrap(),
        vec![Val::I32(14)]
    );
    // The data segment went to offset = global 0 = 8.
    assert_eq!(
        inst.call("load", &[Val::I32(8)]).unwrap(),
        vec![Val::I32(42)]
    );
    // Out of bounds: a real SIGSEGV turned into a trap.
    let e = inst.call("load", &[Val::I32(70000)]).unwrap_err();
    let CallError::Trap(t) = e else { panic!("{e}") };
    assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
    assert_eq!((t.memory, t.address), (Some(0), Some(70000)));
    assert_eq!(t.message, "out of bounds memory access");
    // Still usable after the trap.
    assert_eq!(
        inst.call("add", &[Val::I32(1), Val::I32(1)]).unwrap(),
        vec![Val::I32(5)]
    );
    // Exports.
    let Some(Extern::Memory(mem)) = inst.export("mem") else {
        panic!()
    };
    assert_eq!(mem.grow(1), Some(1));
    assert_eq!(
        inst.call("load", &[Val::I32(70000)]).unwrap(),
        vec![Val::I32(0)]
    );
    let Some(Extern::Table(t)) = inst.export("t") else {
        panic!()
    };
    let Some(Extern::Func(add)) = inst.export("add") else {
        panic!()
    };
    assert_eq!(t.get(1), Some(Val::FuncRef(add.funcref().unwrap())));
    assert_eq!(t.get(2), Some(Val::FuncRef(0)));
    // Bad arguments and unknown exports.
    assert!(matches!(
        inst.call("add", &[Val::I32(1)]),
        Err(CallError::BadArguments(_))
    ));
    assert!(matches!(
        inst.call("nope", &[]),
        Err(CallError::NoSuchExport(_))
    ));
}

#[test]
fn link_errors() {
    let m = module(0);
    let e = Instance::new(&m, &mut |_| None).err().unwrap();
    assert!(e.to_string().starts_with("unknown import"), "{e}");
    let wrong = Global::new(
        GlobalType {
            ty: ValType::I32,
            mutable: false,
        },
        Val::I32(0),
    );
    let e = Instance::new(&m, &mut |_| Some(Extern::Global(wrong.clone())))
        .err()
        .unwrap();
    assert!(e.to_string().starts_with("incompatible import type"), "{e}");
    let ty = FuncType {
        params: vec![],
        results: vec![],
    };
    // SAFETY: never called.
    let f = unsafe { Func::host(ty, host_double as *const _, std::ptr::null_mut()) };
    let e = Instance::new(&m, &mut |_| Some(Extern::Func(f.clone())))
        .err()
        .unwrap();
    assert!(e.to_string().starts_with("incompatible import type"), "{e}");
}

#[test]
fn start_trap_and_data_trap_fail_instantiation() {
    let e = Instance::new(&module(99), &mut |_| Some(host(0)))
        .err()
        .unwrap();
    let InstantiateError::Trap(t) = e else {
        panic!("{e}")
    };
    assert_eq!(t.code, TrapCode::Unreachable);
    let e = Instance::new(&module(65533), &mut |_| Some(host(0)))
        .err()
        .unwrap();
    let InstantiateError::Trap(t) = e else {
        panic!("{e}")
    };
    assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
}

#[test]
fn capi_roundtrip() {
    let m = module(8);
    let imports = [capi::wasm2o_import {
        module: c"env".as_ptr(),
        name: c"double".as_ptr(),
        func: host_double as *mut _,
        env: 5usize as *mut _,
        ext: std::ptr::null(),
    }];
    let mut inst = std::ptr::null_mut();
    // SAFETY: valid arguments.
    unsafe {
        let st =
            capi::wasm2o_instance_new(m.raw(), imports.as_ptr(), 1, std::ptr::null(), &mut inst);
        assert_eq!(st, capi::WASM2O_OK);
        let args = [
            capi::wasm2o_val { kind: 0, of: 2 },
            capi::wasm2o_val { kind: 0, of: 3 },
        ];
        let mut res = [capi::wasm2o_val { kind: 9, of: 0 }];
        assert_eq!(
            capi::wasm2o_instance_call(
                inst,
                c"add".as_ptr(),
                args.as_ptr(),
                2,
                res.as_mut_ptr(),
                1
            ),
            0
        );
        assert_eq!((res[0].kind, res[0].of), (0, 2 + 3 + 2 * 2 + 5));
        let mut vals = [100_000u64];
        assert_eq!(
            capi::wasm2o_instance_call_index(inst, 2, vals.as_mut_ptr()),
            TrapCode::MemoryOutOfBounds as u32
        );
        let info = &*capi::wasm2o_instance_trap(inst);
        assert_eq!((info.code, info.has_address, info.address), (2, 1, 100_000));
        let mem = capi::wasm2o_instance_memory(inst, 0);
        assert_eq!(capi::wasm2o_memory_size(mem), 65536);
        assert_eq!(*capi::wasm2o_memory_data(mem).add(8), 42);
        let e = capi::wasm2o_instance_export(inst, c"add".as_ptr());
        assert!(!e.is_null());
        assert_eq!(e, capi::wasm2o_instance_export(inst, c"add".as_ptr()));
        capi::wasm2o_instance_free(inst);
    }
}

#[test]
fn raise_unwinds_nested_entries() {
    unsafe extern "C" fn raising(_vmctx: *mut u8, values: *mut u64) {
        // SAFETY: test: under an entry.
        unsafe {
            *values += 1;
            crate::builtins::wasm2o_rt_raise_trap(
                std::ptr::null_mut(),
                TrapCode::IntegerOverflow as u32,
            )
        }
    }
    unsafe extern "C" fn nesting(vmctx: *mut u8, values: *mut u64) {
        // SAFETY: test: a nested entry with the same vmctx.
        let r = unsafe { enter::call_wrapper(raising as *const u8, vmctx, values, 0) };
        // SAFETY: test.
        unsafe { *values += if r.is_err() { 10 } else { 1000 } };
    }
    let mut vmctx = [0u64; 8];
    let mut values = [0u64; 1];
    // SAFETY: the wrappers only touch values; the vmctx is a zeroed block.
    let r = unsafe {
        enter::call_wrapper(
            nesting as *const u8,
            vmctx.as_mut_ptr() as *mut u8,
            values.as_mut_ptr(),
            0,
        )
    };
    assert!(r.is_ok());
    assert_eq!(values[0], 11);
    // SAFETY: as above.
    let r = unsafe {
        enter::call_wrapper(
            raising as *const u8,
            vmctx.as_mut_ptr() as *mut u8,
            values.as_mut_ptr(),
            0,
        )
    };
    assert_eq!(r.unwrap_err().code, TrapCode::IntegerOverflow as u32);
    assert_eq!(values[0], 12);
    assert_ne!(vmctx[0], 0, "stack limit written");
    let _ = registry::in_compiled_code(0);
}
