//! Function values: host functions and functions exported by instances,
//! plus the `wasm2o_caller` object host functions receive.

use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, AtomicUsize};
use std::sync::Arc;

use crate::desc::FuncType;
use crate::instance::InstanceInner;
use crate::types::{intern_signature, VMFuncRef};

/// `wasm2o_caller`: the first argument of a host function. Allocated by
/// the runtime per (importing instance, import).
#[repr(C)]
#[derive(Debug)]
pub struct VMCaller {
    /// Scratch: compiled code stores its stack limit here before every
    /// call through a `VMFuncRef` (see `abi`), as it would into a vmctx.
    pub stack_limit: AtomicUsize,
    /// The host's `env` pointer given with the import.
    pub env: AtomicPtr<c_void>,
    /// The importing instance.
    pub instance: AtomicPtr<InstanceInner>,
}

/// A function: a host function not yet bound to an instance, or a
/// function of an instance (which it keeps alive).
#[derive(Clone)]
pub struct Func {
    pub(crate) inner: Arc<FuncInner>,
}

pub(crate) struct FuncInner {
    pub(crate) ty: FuncType,
    pub(crate) type_id: u32,
    pub(crate) kind: FuncKind,
}

pub(crate) enum FuncKind {
    Host {
        fn_ptr: usize,
        env: usize,
    },
    Instance {
        owner: Arc<InstanceInner>,
        index: u32,
    },
}

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.inner.kind {
            FuncKind::Host { .. } => "host",
            FuncKind::Instance { .. } => "wasm",
        };
        write!(f, "Func({kind} {})", self.inner.ty)
    }
}

impl Func {
    /// A host function. `fn_ptr` has the C signature `abi` gives for `ty`,
    /// with a `wasm2o_caller *` first argument; `env` is what
    /// `wasm2o_caller_env` returns inside it.
    ///
    /// # Safety
    ///
    /// `fn_ptr` must really have that signature, and `env` must stay valid
    /// as long as any instance importing the function.
    pub unsafe fn host(ty: FuncType, fn_ptr: *const c_void, env: *mut c_void) -> Func {
        let type_id = intern_signature(&ty);
        Func {
            inner: Arc::new(FuncInner {
                ty,
                type_id,
                kind: FuncKind::Host {
                    fn_ptr: fn_ptr as usize,
                    env: env as usize,
                },
            }),
        }
    }

    pub(crate) fn of_instance(
        owner: Arc<InstanceInner>,
        index: u32,
        ty: FuncType,
        type_id: u32,
    ) -> Func {
        Func {
            inner: Arc::new(FuncInner {
                ty,
                type_id,
                kind: FuncKind::Instance { owner, index },
            }),
        }
    }

    pub fn ty(&self) -> &FuncType {
        &self.inner.ty
    }

    /// The funcref value of this function (a pointer to its `VMFuncRef`),
    /// or `None` for a host function not yet imported anywhere.
    pub fn funcref(&self) -> Option<usize> {
        match &self.inner.kind {
            FuncKind::Host { .. } => None,
            FuncKind::Instance { owner, index } => Some(owner.vmctx().func_addr(*index)),
        }
    }

    /// The `VMFuncRef` an importer copies into its vmctx; for a host
    /// function, `caller` becomes its context.
    pub(crate) fn bind(&self, caller: *mut VMCaller) -> VMFuncRef {
        match &self.inner.kind {
            FuncKind::Host { fn_ptr, .. } => VMFuncRef {
                fn_ptr: *fn_ptr as *const u8,
                vmctx: caller as *mut u8,
                type_id: self.inner.type_id,
                _pad: 0,
            },
            FuncKind::Instance { owner, index } => owner.vmctx().func(*index),
        }
    }

    pub(crate) fn host_env(&self) -> Option<usize> {
        match &self.inner.kind {
            FuncKind::Host { env, .. } => Some(*env),
            FuncKind::Instance { .. } => None,
        }
    }
}
