//! End-to-end tests of memory-control I (static protection, immutable
//! memories, discard) with hand-made modules whose "compiled code" is Rust
//! functions following the ABI, as in `tests.rs`.

use std::sync::Arc;

use crate::abi::{self, RawFunc, RawWrapper, TrapCode, WASM_PAGE_SIZE as P};
use crate::desc::*;
use crate::types::VMFuncRef;
use crate::*;

type WrapperFn = unsafe extern "C" fn(*mut u8, *mut u64);

/// Layout of the "protected" module: 1 memory, no globals/tables, 7 funcs.
const LAYOUT: abi::VmctxLayout = abi::VmctxLayout {
    num_memories: 1,
    num_globals: 0,
    num_tables: 0,
    num_funcs: 7,
};

/// # Safety
///
/// `vmctx` is a live vmctx with [`LAYOUT`].
unsafe fn mem_base(vmctx: *mut u8) -> *mut u8 {
    // SAFETY: caller contract.
    unsafe { *(vmctx.add(LAYOUT.memory(0) as usize) as *const *mut u8) }
}

/// `load(addr: i32) -> i32` (a real load that may fault).
unsafe extern "C" fn w_load(vmctx: *mut u8, values: *mut u64) {
    // SAFETY: test: a load the runtime turns into a trap if it faults.
    unsafe {
        let addr = *values as u32 as usize;
        *values = std::ptr::read_volatile(mem_base(vmctx).add(addr) as *const u32) as u64;
    }
}

/// `store(addr: i32, v: i32)` (a real store that may fault).
unsafe extern "C" fn w_store(vmctx: *mut u8, values: *mut u64) {
    // SAFETY: test: a store the runtime turns into a trap if it faults.
    unsafe {
        let addr = *values as u32 as usize;
        std::ptr::write_volatile(mem_base(vmctx).add(addr) as *mut u32, *values.add(1) as u32);
    }
}

/// `discard(addr: i32, size: i32)` through the imported function 0
/// (`memory-control::discard`), as a `call` of the import would.
unsafe extern "C" fn w_call_import(vmctx: *mut u8, values: *mut u64) {
    // SAFETY: test: function 0 is the memory-control import of type
    // [i32 i32] -> [].
    unsafe {
        let imp = (vmctx.add(LAYOUT.func(0) as usize) as *const VMFuncRef).read();
        let f: unsafe extern "C" fn(*mut u8, i32, i32) = std::mem::transmute(imp.fn_ptr);
        f(imp.vmctx, *values as i32, *values.add(1) as i32);
    }
}

/// `rt_discard(addr: i32, size: i32)`: `memory.discard` lowered to the builtin.
unsafe extern "C" fn w_rt_discard(vmctx: *mut u8, values: *mut u64) {
    // SAFETY: test: under an entry with our vmctx.
    unsafe {
        crate::builtins::wasm2o_rt_memory_discard(
            vmctx,
            0,
            *values as u32 as u64,
            *values.add(1) as u32 as u64,
        )
    }
}

/// `fill(dst, val, len)`.
unsafe extern "C" fn w_fill(vmctx: *mut u8, values: *mut u64) {
    // SAFETY: test: under an entry with our vmctx.
    unsafe {
        crate::builtins::wasm2o_rt_memory_fill(
            vmctx,
            0,
            *values as u32 as u64,
            *values.add(1) as u32,
            *values.add(2) as u32 as u64,
        )
    }
}

/// `copy(dst, src, len)`.
unsafe extern "C" fn w_copy(vmctx: *mut u8, values: *mut u64) {
    // SAFETY: test: under an entry with our vmctx.
    unsafe {
        crate::builtins::wasm2o_rt_memory_copy(
            vmctx,
            0,
            0,
            *values as u32 as u64,
            *values.add(1) as u32 as u64,
            *values.add(2) as u32 as u64,
        )
    }
}

/// Builds a module from `info` (without data segments) whose defined
/// functions are `code` (each its own array wrapper, registered as 512 bytes
/// of compiled code), with active data segments `(memory, offset, bytes)`.
fn build(mut info: ModuleInfo, code: &[WrapperFn], segs: &[(u32, u32, &[u8])]) -> Arc<Module> {
    let mut blob = Vec::new();
    for (mem, off, bytes) in segs {
        let data_offset = blob.len() as u64;
        blob.extend_from_slice(bytes);
        blob.resize(blob.len().next_multiple_of(4096), 0);
        info.datas.push(DataSegment {
            mode: SegmentMode::Active {
                index: *mem,
                offset: ConstExpr::I32(*off as i32),
            },
            data_offset,
            len: bytes.len() as u64,
        });
    }
    let nimported = info.num_imported(ExternKind::Func);
    let meta: &'static [u8] = Box::leak(info.encode().into_boxed_slice());
    let funcs: &'static [RawFunc] = Box::leak(
        code.iter()
            .map(|&f| RawFunc {
                ptr: f as *const u8,
                len: 512,
                trap_start: 0,
                trap_count: 0,
                _pad: 0,
            })
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let wrappers: &'static [RawWrapper] = Box::leak(
        code.iter()
            .enumerate()
            .map(|(i, &f)| RawWrapper {
                func_index: nimported + i as u32,
                _pad: 0,
                ptr: f as *const u8,
            })
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let data: &'static [u8] = Box::leak(blob.into_boxed_slice());
    let raw = Box::leak(Box::new(crate::module::raw_with_code_for_tests(
        meta, funcs, wrappers, data,
    )));
    // SAFETY: a leaked, well-formed descriptor.
    unsafe { Module::from_raw(raw) }.unwrap()
}

fn fty(params: &[ValType], results: &[ValType]) -> FuncType {
    FuncType {
        params: params.to_vec(),
        results: results.to_vec(),
    }
}

fn export(name: &str, kind: ExternKind, index: u32) -> Export {
    Export {
        name: name.into(),
        kind,
        index,
    }
}

fn control(na: u64, ro: u64, immutable: bool) -> MemoryControl {
    MemoryControl {
        no_access_pages: na,
        read_only_pages: ro,
        is_virtual: false,
        immutable,
    }
}

/// The protected module: memory 0 is `no-access=1 read-only=1` with a
/// read-write part of 2..4 pages (so 4 pages: rw base 0x20000); function 0
/// imports `memory-control::<discard_field>`.
fn protected_with(mem: MemoryType, discard_field: &str, segs: &[(u32, u32, &[u8])]) -> Arc<Module> {
    use ValType::I32;
    let info = ModuleInfo {
        types: vec![
            fty(&[I32], &[I32]),
            fty(&[I32, I32], &[]),
            fty(&[I32, I32, I32], &[]),
        ],
        imports: vec![Import {
            module: "memory-control".into(),
            name: discard_field.into(),
            kind: ImportKind::Func(1),
        }],
        funcs: vec![1, 0, 1, 1, 1, 2, 2],
        memories: vec![mem],
        exports: vec![
            export("load", ExternKind::Func, 1),
            export("store", ExternKind::Func, 2),
            export("discard", ExternKind::Func, 3),
            export("rt_discard", ExternKind::Func, 4),
            export("fill", ExternKind::Func, 5),
            export("copy", ExternKind::Func, 6),
            export("mem", ExternKind::Memory, 0),
        ],
        ..Default::default()
    };
    assert_eq!(info.vmctx_layout(), LAYOUT);
    build(
        info,
        &[w_load, w_store, w_call_import, w_rt_discard, w_fill, w_copy],
        segs,
    )
}

const MEM: MemoryType = MemoryType {
    min: 2,
    max: Some(4),
    memory64: false,
    shared: false,
    control: MemoryControl {
        no_access_pages: 1,
        read_only_pages: 1,
        is_virtual: false,
        immutable: false,
    },
};
const RO: u32 = P as u32;
const RW: u32 = 2 * P as u32;

fn protected() -> Arc<Module> {
    protected_with(
        MEM,
        "discard",
        &[(0, RO + 16, b"ROdata"), (0, RW, b"RWdata")],
    )
}

fn no_host_imports(imp: &Import) -> Option<Extern> {
    panic!("the host was asked for {}::{}", imp.module, imp.name)
}

fn call(inst: &mut Instance, name: &str, args: &[i32]) -> Result<Vec<Val>, Trap> {
    let args: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
    inst.call(name, &args).map_err(|e| match e {
        CallError::Trap(t) => t,
        e => panic!("{e}"),
    })
}

fn load(inst: &mut Instance, addr: u32) -> Result<u32, Trap> {
    match call(inst, "load", &[addr as i32])?[..] {
        [Val::I32(v)] => Ok(v as u32),
        ref r => panic!("{r:?}"),
    }
}

fn denied_at(t: Trap, addr: u32) {
    assert_eq!(
        (t.code, t.memory, t.address, t.message.as_str()),
        (
            TrapCode::MemoryAccessDenied,
            Some(0),
            Some(addr as u64),
            "access denied"
        ),
        "{t}"
    );
}

#[test]
fn compiled_accesses_on_protected_pages() {
    let mut inst = Instance::new(&protected(), &mut no_host_imports).unwrap();
    let Some(Extern::Memory(mem)) = inst.export("mem") else {
        panic!()
    };
    assert_eq!(mem.pages(), 4);
    // The defining module's segment wrote the read-only part.
    assert_eq!(
        load(&mut inst, RO + 16).unwrap(),
        u32::from_le_bytes(*b"ROda")
    );
    assert_eq!(load(&mut inst, RW).unwrap(), u32::from_le_bytes(*b"RWda"));
    // A real load on a no-access page: access denied, memory 0, the address.
    denied_at(load(&mut inst, 100).unwrap_err(), 100);
    denied_at(load(&mut inst, RO - 4).unwrap_err(), RO - 4);
    // A real store on a read-only page.
    denied_at(
        call(&mut inst, "store", &[(RO + 16) as i32, 7]).unwrap_err(),
        RO + 16,
    );
    assert_eq!(
        load(&mut inst, RO + 16).unwrap(),
        u32::from_le_bytes(*b"ROda")
    );
    // The read-write part works; past the end is out of bounds.
    call(&mut inst, "store", &[(RW + 100) as i32, 7]).unwrap();
    assert_eq!(load(&mut inst, RW + 100).unwrap(), 7);
    let t = load(&mut inst, 4 * P as u32).unwrap_err();
    assert_eq!(
        (t.code, t.address),
        (TrapCode::MemoryOutOfBounds, Some(4 * P))
    );
    // grow extends the read-write part only and returns the old total.
    assert_eq!(mem.grow(1), Some(4));
    assert_eq!(load(&mut inst, 4 * P as u32).unwrap(), 0);
    denied_at(load(&mut inst, 0).unwrap_err(), 0);
    denied_at(call(&mut inst, "store", &[RO as i32, 7]).unwrap_err(), RO);
    assert_eq!(mem.grow(1), Some(5));
    assert_eq!(mem.grow(1), None);
}

#[test]
fn discard_from_wasm() {
    let mut inst = Instance::new(&protected(), &mut no_host_imports).unwrap();
    for f in ["discard", "rt_discard"] {
        call(&mut inst, "store", &[(RW + 8) as i32, 5]).unwrap();
        call(&mut inst, "store", &[(3 * P) as i32, 6]).unwrap();
        // (1) unaligned: refused, with its reason in the message.
        let t = call(&mut inst, f, &[RW as i32 + 1, P as i32]).unwrap_err();
        assert_eq!(t.code, TrapCode::MemoryControlRefused);
        assert_eq!(t.message, "memory-control request refused: unaligned");
        assert_eq!(t.to_string(), "memory-control request refused: unaligned");
        let t = call(&mut inst, f, &[RW as i32, 1]).unwrap_err();
        assert_eq!(t.code, TrapCode::MemoryControlRefused);
        // (2) out of bounds.
        let t = call(&mut inst, f, &[RW as i32, 3 * P as i32]).unwrap_err();
        assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
        let t = call(&mut inst, f, &[0, 5 * P as i32]).unwrap_err();
        assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
        // (3) access denied (no-access and read-only parts).
        denied_at(call(&mut inst, f, &[0, P as i32]).unwrap_err(), 0);
        denied_at(
            call(&mut inst, f, &[RO as i32, 2 * P as i32]).unwrap_err(),
            RO,
        );
        // Nothing was changed by the failures.
        assert_eq!(load(&mut inst, RW + 8).unwrap(), 5);
        assert_eq!(
            load(&mut inst, RO + 16).unwrap(),
            u32::from_le_bytes(*b"ROda")
        );
        // Size 0 is a no-op anywhere up to the size.
        call(&mut inst, f, &[0, 0]).unwrap();
        call(&mut inst, f, &[4 * P as i32, 0]).unwrap();
        // Success: the page reads zeros, its neighbour is intact.
        call(&mut inst, f, &[RW as i32, P as i32]).unwrap();
        assert_eq!(load(&mut inst, RW + 8).unwrap(), 0);
        assert_eq!(load(&mut inst, 3 * P as u32).unwrap(), 6);
        call(&mut inst, "store", &[(RW + 8) as i32, 9]).unwrap();
        assert_eq!(load(&mut inst, RW + 8).unwrap(), 9);
    }
    // The C view of the last trap carries the reason too.
    let _ = call(&mut inst, "discard", &[1, 0]).unwrap_err();
    // SAFETY: a live instance.
    let info = unsafe { &*capi::wasm2o_instance_trap(Arc::as_ptr(&inst.inner)) };
    // SAFETY: a static C string.
    let msg = unsafe { std::ffi::CStr::from_ptr(info.message.0) };
    assert_eq!(
        msg.to_str().unwrap(),
        "memory-control request refused: unaligned"
    );
    assert_eq!(info.code, TrapCode::MemoryControlRefused as u32);
}

#[test]
fn bulk_operations_check_protection_first() {
    let mut inst = Instance::new(&protected(), &mut no_host_imports).unwrap();
    let fill =
        |inst: &mut Instance, d: u32, v: i32, n: u32| call(inst, "fill", &[d as i32, v, n as i32]);
    let copy = |inst: &mut Instance, d: u32, s: u32, n: u32| {
        call(inst, "copy", &[d as i32, s as i32, n as i32])
    };
    // Writes need dst >= the read-write base; the whole range is checked
    // first, so a straddling fill writes nothing.
    denied_at(fill(&mut inst, RW - 1, 9, 2).unwrap_err(), RW - 1);
    assert_eq!(load(&mut inst, RW).unwrap(), u32::from_le_bytes(*b"RWda"));
    denied_at(fill(&mut inst, 0, 9, 1).unwrap_err(), 0);
    // Bounds first, then protection.
    let t = fill(&mut inst, RO, 9, 4 * P as u32).unwrap_err();
    assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
    // Zero length never traps for protection.
    fill(&mut inst, 0, 9, 0).unwrap();
    fill(&mut inst, RO, 9, 0).unwrap();
    fill(&mut inst, RW, 0x11, 4).unwrap();
    assert_eq!(load(&mut inst, RW).unwrap(), 0x1111_1111);
    // Copy: reads need src >= the read-only base, writes dst >= rw base.
    copy(&mut inst, RW, RO + 16, 4).unwrap();
    assert_eq!(load(&mut inst, RW).unwrap(), u32::from_le_bytes(*b"ROda"));
    denied_at(copy(&mut inst, RW, 100, 4).unwrap_err(), 100);
    denied_at(copy(&mut inst, RW, RO - 2, 4).unwrap_err(), RO - 2);
    denied_at(copy(&mut inst, RO + 4, RW, 4).unwrap_err(), RO + 4);
    assert_eq!(load(&mut inst, RO + 4).unwrap(), 0);
    copy(&mut inst, 0, 0, 0).unwrap();
    copy(&mut inst, RO, 0, 0).unwrap();
    // The builtins' own checks, directly.
    let r = crate::builtins::memory_init(&inst.inner, 0, 0, RO as u64, 0, 0);
    assert!(r.is_ok());
    let r = crate::builtins::memory_fill(&inst.inner, 0, RW as u64 - 1, 0, 1).unwrap_err();
    assert_eq!(
        (r.code, r.address),
        (TrapCode::MemoryAccessDenied, Some(RW as u64 - 1))
    );
}

fn importer(mem: MemoryType, segs: &[(u32, u32, &[u8])]) -> Arc<Module> {
    let info = ModuleInfo {
        imports: vec![Import {
            module: "env".into(),
            name: "mem".into(),
            kind: ImportKind::Memory(mem),
        }],
        memories: vec![mem],
        ..Default::default()
    };
    build(info, &[], segs)
}

#[test]
fn data_segments_and_imports() {
    // The defining module may not write its no-access part.
    let e = Instance::new(
        &protected_with(MEM, "discard", &[(0, 100, b"x")]),
        &mut no_host_imports,
    )
    .err()
    .unwrap();
    let InstantiateError::Trap(t) = e else {
        panic!("{e}")
    };
    denied_at(t, 100);
    // Bounds are checked before protection.
    let e = Instance::new(
        &protected_with(MEM, "discard", &[(0, 4 * RO - 2, b"xyzw")]),
        &mut no_host_imports,
    )
    .err()
    .unwrap();
    let InstantiateError::Trap(t) = e else {
        panic!("{e}")
    };
    assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
    // Zero-length segments never trap for protection.
    Instance::new(
        &protected_with(MEM, "discard", &[(0, 0, b"")]),
        &mut no_host_imports,
    )
    .unwrap();

    let exporter = Instance::new(&protected(), &mut no_host_imports).unwrap();
    let Some(Extern::Memory(mem)) = exporter.export("mem") else {
        panic!()
    };
    let mut link = |imp: &Import| (imp.name == "mem").then(|| Extern::Memory(mem.clone()));
    // An importer may write the read-write part only.
    Instance::new(&importer(MEM, &[(0, RW + 32, b"imp")]), &mut link).unwrap();
    let mut b = [0u8; 3];
    mem.read(RW as u64 + 32, &mut b).unwrap();
    assert_eq!(&b, b"imp");
    for (off, bytes) in [(RO + 8, &b"imp"[..]), (RW - 1, b"imp"), (10, b"imp")] {
        let e = Instance::new(&importer(MEM, &[(0, off, bytes)]), &mut link)
            .err()
            .unwrap();
        let InstantiateError::Trap(t) = e else {
            panic!("{e}")
        };
        denied_at(t, off);
    }
    Instance::new(&importer(MEM, &[(0, RO, b"")]), &mut link).unwrap();
    let e = Instance::new(&importer(MEM, &[(0, 4 * RO - 1, b"imp")]), &mut link)
        .err()
        .unwrap();
    let InstantiateError::Trap(t) = e else {
        panic!("{e}")
    };
    assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
    // The read-only part is still intact.
    mem.read(RO as u64 + 16, &mut b).unwrap();
    assert_eq!(&b, b"ROd");

    // Import matching: memory-control attributes exactly, limits on the
    // read-write part (current 2 pages, max 4).
    let incompatible = |want: MemoryType, link: &mut dyn FnMut(&Import) -> Option<Extern>| {
        let e = Instance::new(&importer(want, &[]), link).err().unwrap();
        assert!(matches!(e, InstantiateError::Link(_)), "{e}");
        assert!(e.to_string().starts_with("incompatible import type"), "{e}");
    };
    for c in [
        control(1, 0, false),
        control(0, 1, false),
        control(1, 2, false),
        control(1, 1, true),
    ] {
        incompatible(MemoryType { control: c, ..MEM }, &mut link);
    }
    incompatible(MemoryType { min: 3, ..MEM }, &mut link);
    incompatible(
        MemoryType {
            max: Some(3),
            ..MEM
        },
        &mut link,
    );
    Instance::new(
        &importer(
            MemoryType {
                min: 1,
                max: None,
                ..MEM
            },
            &[],
        ),
        &mut link,
    )
    .unwrap();
    Instance::new(
        &importer(
            MemoryType {
                min: 2,
                max: Some(5),
                ..MEM
            },
            &[],
        ),
        &mut link,
    )
    .unwrap();
}

#[test]
fn memory_control_imports() {
    // discard@0 is discard; the host is never asked.
    let mut inst =
        Instance::new(&protected_with(MEM, "discard@0", &[]), &mut no_host_imports).unwrap();
    call(&mut inst, "discard", &[RW as i32, P as i32]).unwrap();
    denied_at(
        call(&mut inst, "discard", &[RO as i32, P as i32]).unwrap_err(),
        RO,
    );
    // Unknown operations and bad fields.
    for f in ["frob", "discard@x", "discard@"] {
        let e = Instance::new(&protected_with(MEM, f, &[]), &mut no_host_imports)
            .err()
            .unwrap();
        assert!(matches!(e, InstantiateError::Link(_)), "{e}");
        assert_eq!(
            e.to_string(),
            format!("memory-control: {f} is not supported yet")
        );
    }
    // map, unmap, protect, map_handle need a virtual memory.
    for f in ["protect", "map", "unmap@0", "map_handle"] {
        let e = Instance::new(&protected_with(MEM, f, &[]), &mut no_host_imports)
            .err()
            .unwrap();
        assert!(matches!(e, InstantiateError::Link(_)), "{e}");
        assert!(e.to_string().ends_with("needs a virtual memory"), "{e}");
    }
    // No memory 1; a memory64 type for a 32-bit memory.
    let e = Instance::new(&protected_with(MEM, "discard@1", &[]), &mut no_host_imports)
        .err()
        .unwrap();
    assert!(e.to_string().starts_with("incompatible import type"), "{e}");
    let m64 = MemoryType {
        memory64: true,
        ..MEM
    };
    let e = Instance::new(&protected_with(m64, "discard", &[]), &mut no_host_imports)
        .err()
        .unwrap();
    assert!(e.to_string().starts_with("incompatible import type"), "{e}");
    // Reachable as a funcref too: the import's VMFuncRef is a host function
    // whose context is the runtime's caller object for this instance.
    let r = inst.inner.vmctx().func(0);
    assert_ne!(r.vmctx, inst.inner.vmctx().as_ptr());
}

#[test]
fn immutable_memory() {
    let imm = MemoryType {
        min: 1,
        max: Some(2),
        control: control(0, 0, true),
        ..MEM
    };
    // The defining module's segments write it during instantiation.
    let m = protected_with(imm, "discard", &[(0, 16, b"const")]);
    let mut inst = Instance::new(&m, &mut no_host_imports).unwrap();
    assert_eq!(load(&mut inst, 16).unwrap(), u32::from_le_bytes(*b"cons"));
    denied_at(call(&mut inst, "store", &[16, 1]).unwrap_err(), 16);
    denied_at(
        call(&mut inst, "store", &[P as i32 - 4, 1]).unwrap_err(),
        P as u32 - 4,
    );
    denied_at(call(&mut inst, "fill", &[100, 1, 1]).unwrap_err(), 100);
    call(&mut inst, "fill", &[100, 1, 0]).unwrap();
    denied_at(call(&mut inst, "copy", &[100, 16, 4]).unwrap_err(), 100);
    denied_at(
        call(&mut inst, "rt_discard", &[0, P as i32]).unwrap_err(),
        0,
    );
    let Some(Extern::Memory(mem)) = inst.export("mem") else {
        panic!()
    };
    assert_eq!(mem.grow(1), None);
    assert_eq!(
        mem.write(0, b"x").unwrap_err().code,
        TrapCode::MemoryAccessDenied
    );
    // An importer cannot write it either.
    let mut link = |imp: &Import| (imp.name == "mem").then(|| Extern::Memory(mem.clone()));
    let e = Instance::new(&importer(imm, &[(0, 32, b"x")]), &mut link)
        .err()
        .unwrap();
    let InstantiateError::Trap(t) = e else {
        panic!("{e}")
    };
    denied_at(t, 32);
    Instance::new(&importer(imm, &[]), &mut link).unwrap();
}

#[test]
fn capi_memory_access_and_discard() {
    let m = protected();
    let mut inst = std::ptr::null_mut();
    let last_error = || {
        // SAFETY: the thread's last error text.
        unsafe { std::ffi::CStr::from_ptr(capi::wasm2o_last_error()) }
            .to_str()
            .unwrap()
            .to_string()
    };
    // SAFETY: valid arguments; no host imports needed (memory-control is
    // the runtime's).
    unsafe {
        assert_eq!(
            capi::wasm2o_instance_new(m.raw(), std::ptr::null(), 0, std::ptr::null(), &mut inst),
            capi::WASM2O_OK
        );
        let mem = capi::wasm2o_instance_memory(inst, 0);
        let mut buf = [0u8; 4];
        let last_trap = || {
            let t = *capi::wasm2o_last_trap();
            let msg = std::ffi::CStr::from_ptr(t.message.0).to_str().unwrap();
            (t.code, (t.has_address != 0).then_some(t.address), msg)
        };
        assert_eq!(last_trap(), (0, None, "no trap"));
        assert_eq!(capi::wasm2o_memory_read(mem, 0, buf.as_mut_ptr(), 4), 3);
        assert_eq!(last_error(), "access denied (address 0x0)");
        // The details, as for a trap in compiled code; the instance's own
        // last trap is not a host call's.
        assert_eq!(last_trap(), (3, Some(0), "access denied"));
        assert_eq!((*capi::wasm2o_instance_trap(inst)).code, 0);
        assert_eq!(
            capi::wasm2o_memory_write(mem, RO as u64 + 5, buf.as_ptr(), 4),
            3
        );
        assert_eq!(last_trap(), (3, Some(RO as u64 + 5), "access denied"));
        assert_eq!(
            capi::wasm2o_memory_read(mem, RO as u64 + 16, buf.as_mut_ptr(), 4),
            0
        );
        assert_eq!(&buf, b"ROda");
        assert_eq!(
            capi::wasm2o_memory_write(mem, RO as u64, buf.as_ptr(), 4),
            3
        );
        assert_eq!(
            capi::wasm2o_memory_write(mem, RW as u64, buf.as_ptr(), 4),
            0
        );
        assert_eq!(capi::wasm2o_memory_write(mem, 0, std::ptr::null(), 0), 0);
        assert_eq!(capi::wasm2o_memory_write(mem, 4 * P, buf.as_ptr(), 1), 2);
        assert_eq!(capi::wasm2o_memory_discard(mem, 1, 0), 14);
        assert_eq!(last_error(), "memory-control request refused: unaligned");
        assert_eq!(
            last_trap(),
            (14, None, "memory-control request refused: unaligned")
        );
        assert_eq!(capi::wasm2o_memory_discard(mem, 5 * P, 0), 2);
        assert_eq!(capi::wasm2o_memory_discard(mem, RO as u64, P), 3);
        assert_eq!(capi::wasm2o_memory_discard(mem, RW as u64, P), 0);
        assert_eq!(
            capi::wasm2o_memory_read(mem, RW as u64, buf.as_mut_ptr(), 4),
            0
        );
        assert_eq!(buf, [0; 4]);
        assert_eq!(capi::wasm2o_memory_discard(std::ptr::null_mut(), 0, 0), 13);
        assert_eq!(last_trap(), (13, None, "host error"));
        assert_eq!(last_error(), "wasm2o_memory_discard: null memory");
        // A success leaves the details of the last failure.
        assert_eq!(
            capi::wasm2o_memory_read(mem, RW as u64, buf.as_mut_ptr(), 4),
            0
        );
        assert_eq!(last_trap().0, 13);
        capi::wasm2o_instance_free(inst);
    }
}
