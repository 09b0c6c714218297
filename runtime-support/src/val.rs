//! Wasm values as the host sees them.

use crate::desc::ValType;

/// A Wasm value. Floats are bit patterns (so NaN payloads survive);
/// references are pointer-sized, 0 meaning null (a funcref points at a
/// `VMFuncRef`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Val {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    FuncRef(usize),
    ExternRef(usize),
}

impl Val {
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// The value in the low bits of a 64-bit slot (array wrappers, globals).
    pub fn to_bits(&self) -> u64 {
        match *self {
            Val::I32(v) => v as u32 as u64,
            Val::I64(v) => v as u64,
            Val::F32(v) => v as u64,
            Val::F64(v) => v,
            Val::FuncRef(v) | Val::ExternRef(v) => v as u64,
        }
    }

    pub fn from_bits(ty: ValType, bits: u64) -> Val {
        match ty {
            ValType::I32 => Val::I32(bits as u32 as i32),
            ValType::I64 => Val::I64(bits as i64),
            ValType::F32 => Val::F32(bits as u32),
            ValType::F64 => Val::F64(bits),
            ValType::FuncRef => Val::FuncRef(bits as usize),
            ValType::ExternRef => Val::ExternRef(bits as usize),
        }
    }

    /// The null reference of a reference type, zero otherwise.
    pub fn default_for(ty: ValType) -> Val {
        Val::from_bits(ty, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_roundtrip() {
        for v in [
            Val::I32(-1),
            Val::I64(-2),
            Val::F32(0x7fc0_0001),
            Val::F64(1 << 63),
            Val::FuncRef(0x1000),
            Val::ExternRef(0),
        ] {
            assert_eq!(Val::from_bits(v.ty(), v.to_bits()), v);
        }
        assert_eq!(Val::I32(-1).to_bits(), 0xffff_ffff);
    }
}
