//! Small queries on Cranelift IR, shared by translation (`translate/`) and
//! the late passes (`latch`).

use cranelift_codegen::ir::{DataFlowGraph, InstructionData, Opcode, Type, Value, ValueDef};

/// The immediate `v` is defined with, if it is an `iconst` (as stored: an
/// i32 constant may be sign-extended).
pub(crate) fn iconst_of(dfg: &DataFlowGraph, v: Value) -> Option<i64> {
    match dfg.value_def(v) {
        ValueDef::Result(inst, 0) => match dfg.insts[inst] {
            InstructionData::UnaryImm {
                opcode: Opcode::Iconst,
                imm,
            } => Some(imm.bits()),
            _ => None,
        },
        _ => None,
    }
}

/// `v` wrapped to the width of the integer type `ty`, as an `iconst`
/// immediate (zero-extended).
pub(crate) fn wrap_to(ty: Type, v: i64) -> i64 {
    match ty.bits() {
        64.. => v,
        bits => ((v as u64) & ((1u64 << bits) - 1)) as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::types;

    #[test]
    fn wrap_to_masks_to_the_width() {
        assert_eq!(wrap_to(types::I32, -1), 0xffff_ffff);
        assert_eq!(wrap_to(types::I32, 1 << 32), 0);
        assert_eq!(wrap_to(types::I64, -1), -1);
        assert_eq!(wrap_to(types::I8, 0x1ff), 0xff);
    }
}
