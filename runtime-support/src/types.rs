//! Function references and the process-wide signature ids compiled code
//! compares in `call_indirect`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::desc::FuncType;

/// `abi::VMFuncRef`: what a funcref points at and what a vmctx function
/// entry holds.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VMFuncRef {
    /// The function's code (C calling convention of `abi`).
    pub fn_ptr: *const u8,
    /// Its first argument: the callee's vmctx, or a `wasm2o_caller` for a
    /// host function.
    pub vmctx: *mut u8,
    /// Canonical signature id ([`intern_signature`]).
    pub type_id: u32,
    pub _pad: u32,
}

/// Returns the canonical id of `ty`: equal function types get equal ids,
/// across all modules of the process. Ids start at 1.
pub fn intern_signature(ty: &FuncType) -> u32 {
    static IDS: OnceLock<Mutex<HashMap<FuncType, u32>>> = OnceLock::new();
    let mut map = IDS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let next = map.len() as u32 + 1;
    *map.entry(ty.clone()).or_insert(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi;
    use crate::desc::ValType;
    use std::mem::{offset_of, size_of};

    #[test]
    fn funcref_layout() {
        assert_eq!(size_of::<VMFuncRef>() as u32, abi::VMFUNCREF_SIZE);
        assert_eq!(size_of::<VMFuncRef>() as u32, abi::VMCTX_FUNC_ENTRY_SIZE);
        assert_eq!(offset_of!(VMFuncRef, fn_ptr) as u32, abi::VMFUNCREF_FN);
        assert_eq!(offset_of!(VMFuncRef, vmctx) as u32, abi::VMFUNCREF_VMCTX);
        assert_eq!(
            offset_of!(VMFuncRef, type_id) as u32,
            abi::VMFUNCREF_TYPE_ID
        );
    }

    #[test]
    fn interning() {
        let a = FuncType {
            params: vec![ValType::I32, ValType::I64],
            results: vec![ValType::F32],
        };
        let b = FuncType {
            params: vec![ValType::I32],
            results: vec![],
        };
        let ia = intern_signature(&a);
        let ib = intern_signature(&b);
        assert_ne!(ia, ib);
        assert_ne!(ia, 0);
        assert_eq!(intern_signature(&a.clone()), ia);
        assert_eq!(intern_signature(&b), ib);
    }
}
