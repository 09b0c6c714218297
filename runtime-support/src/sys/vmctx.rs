//! The vmctx allocation: a zeroed, 16-byte aligned block laid out by
//! `abi::VmctxLayout`, written by the runtime at instantiation and read
//! (and its stack-limit word written) by compiled code.

use std::alloc::{alloc_zeroed, dealloc, Layout};

use crate::abi::{self, VmctxLayout};
use crate::types::VMFuncRef;

pub struct VmCtx {
    ptr: *mut u8,
    layout: VmctxLayout,
    alloc: Layout,
}

// SAFETY: the block is plain memory owned by this value; concurrent use is
// governed by the instance (one thread at a time), like any Wasm state.
unsafe impl Send for VmCtx {}
// SAFETY: as above.
unsafe impl Sync for VmCtx {}

impl VmCtx {
    pub fn new(layout: VmctxLayout) -> VmCtx {
        let size = (layout.size() as usize).max(abi::VMCTX_HEADER_SIZE as usize);
        let alloc = Layout::from_size_align(size, 16).expect("vmctx layout");
        // SAFETY: non-zero size.
        let ptr = unsafe { alloc_zeroed(alloc) };
        if ptr.is_null() {
            std::alloc::handle_alloc_error(alloc);
        }
        VmCtx { ptr, layout, alloc }
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }

    fn write<T>(&self, offset: u32, v: T) {
        assert!(offset as usize + std::mem::size_of::<T>() <= self.alloc.size());
        // SAFETY: in bounds (checked), 8-byte aligned (all vmctx fields
        // are); the block is raw memory no reference covers.
        unsafe { (self.ptr.add(offset as usize) as *mut T).write(v) }
    }

    pub fn set_instance(&self, p: *const ()) {
        self.write(abi::VMCTX_INSTANCE, p);
    }

    pub fn set_type_ids(&self, p: *const u32) {
        self.write(abi::VMCTX_TYPE_IDS, p);
    }

    pub fn set_memory(&self, i: u32, base: *mut u8, def: *const crate::memory::VMMemoryDef) {
        let off = self.layout.memory(i);
        self.write(off + abi::VMCTX_MEMORY_BASE, base);
        self.write(off + abi::VMCTX_MEMORY_DEF, def);
    }

    pub fn set_global(&self, i: u32, p: *const crate::global::VMGlobal) {
        self.write(self.layout.global(i), p);
    }

    pub fn set_table(&self, i: u32, p: *const crate::table::VMTableDef) {
        self.write(self.layout.table(i), p);
    }

    pub fn set_func(&self, i: u32, f: VMFuncRef) {
        self.write(self.layout.func(i), f);
    }

    /// Address of function entry `i` (the value of `ref.func i`).
    pub fn func_addr(&self, i: u32) -> usize {
        assert!(i < self.layout.num_funcs);
        self.ptr as usize + self.layout.func(i) as usize
    }

    /// A copy of function entry `i`.
    pub fn func(&self, i: u32) -> VMFuncRef {
        // SAFETY: `func_addr` checked the index; the entry was written at
        // instantiation (or is zero, a valid VMFuncRef).
        unsafe { (self.func_addr(i) as *const VMFuncRef).read() }
    }
}

impl Drop for VmCtx {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.ptr, self.alloc) }
    }
}

/// Reads the instance pointer of a vmctx.
///
/// # Safety
///
/// `vmctx` must be a live vmctx built by this runtime.
pub unsafe fn instance_of(vmctx: *const u8) -> *const () {
    // SAFETY: caller contract.
    unsafe { (vmctx.add(abi::VMCTX_INSTANCE as usize) as *const *const ()).read() }
}
