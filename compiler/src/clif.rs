//! Small queries on Cranelift IR, shared by translation (`translate/`) and
//! the late passes (`addresses`, `hoist`, `latch`, `ranges`).

use cranelift_codegen::ir::{
    types, Block, DataFlowGraph, Function, InstructionData, Opcode, Type, Value, ValueDef,
};

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

/// The value of an i32 constant, read as signed.
pub(crate) fn signed_const(dfg: &DataFlowGraph, v: Value) -> Option<i64> {
    if dfg.value_type(v) != types::I32 {
        return None;
    }
    iconst_of(dfg, v).map(|bits| i64::from(bits as u32 as i32))
}

/// The block that defines `v`.
pub(crate) fn def_block(func: &Function, v: Value) -> Option<Block> {
    match func.dfg.value_def(v) {
        ValueDef::Result(inst, _) => func.layout.inst_block(inst),
        ValueDef::Param(block, _) => Some(block),
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

/// Builders of CLIF functions for the late passes' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use cranelift_codegen::ir::condcodes::IntCC;
    use cranelift_codegen::ir::{
        types, AbiParam, Block, Function, Inst, InstBuilder, MemFlagsData, Opcode, Signature, Type,
        UserFuncName, Value,
    };
    use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
    use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

    /// What `FunctionBuilder::finalize` needs: x86-64 System V.
    pub(crate) fn frontend() -> TargetFrontendConfig {
        TargetFrontendConfig {
            default_call_conv: CallConv::SystemV,
            pointer_width: target_lexicon::PointerWidth::U64,
            page_size_align_log2: 12,
        }
    }

    /// An empty System V function `name(param) -> i32`.
    pub(crate) fn function(name: &str, param: Type) -> Function {
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(param));
        sig.returns.push(AbiParam::new(types::I32));
        Function::with_name_signature(UserFuncName::testcase(name), sig)
    }

    /// `for (r = 0, row = row0; r != 8; r++, row += 64)
    ///      for (j = j0; j + 4 != j_end; j += 4) acc += load(base + zext(e))`
    /// where `e` is built from `row` and `j` by `address`; returns the
    /// function, the load, the inner loop's block and `[r, row, j]`.
    pub(crate) fn nest(
        row0: i64,
        j0: i64,
        j_end: i64,
        address: impl Fn(&mut FunctionBuilder, Value, Value) -> Value,
    ) -> (Function, Inst, Block, [Value; 3]) {
        let mut func = function("nest", types::I64);
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let blocks: Vec<Block> = (0..5).map(|_| b.create_block()).collect();
        let [entry, outer, inner, latch, exit] = blocks[..] else {
            unreachable!()
        };
        b.append_block_params_for_function_params(entry);
        for _ in 0..2 {
            b.append_block_param(outer, types::I32);
            b.append_block_param(inner, types::I32);
        }
        b.switch_to_block(entry);
        let base = b.block_params(entry)[0];
        let zero = b.ins().iconst(types::I32, 0);
        let row0 = b.ins().iconst(types::I32, row0);
        b.ins().jump(outer, &[zero.into(), row0.into()]);
        b.switch_to_block(outer);
        let (r, row) = (b.block_params(outer)[0], b.block_params(outer)[1]);
        let j0 = b.ins().iconst(types::I32, j0);
        let acc0 = b.ins().iconst(types::I32, 0);
        b.ins().jump(inner, &[j0.into(), acc0.into()]);
        b.switch_to_block(inner);
        let (j, acc) = (b.block_params(inner)[0], b.block_params(inner)[1]);
        let e = address(&mut b, row, j);
        let index = b.ins().uextend(types::I64, e);
        let addr = b.ins().iadd(base, index);
        let loaded = b.ins().load(types::I32, MemFlagsData::new(), addr, 0);
        let acc2 = b.ins().iadd(acc, loaded);
        let j2 = b.ins().iadd_imm_s(j, 4);
        let more = b.ins().icmp_imm_s(IntCC::NotEqual, j2, j_end);
        b.ins()
            .brif(more, inner, &[j2.into(), acc2.into()], latch, &[]);
        b.switch_to_block(latch);
        let r2 = b.ins().iadd_imm_s(r, 1);
        let row2 = b.ins().iadd_imm_s(row, 64);
        let more = b.ins().icmp_imm_s(IntCC::NotEqual, r2, 8);
        b.ins()
            .brif(more, outer, &[r2.into(), row2.into()], exit, &[]);
        b.switch_to_block(exit);
        b.ins().return_(&[acc2]);
        b.seal_all_blocks();
        b.finalize(frontend());
        let load = func
            .layout
            .block_insts(inner)
            .find(|&i| func.dfg.insts[i].opcode() == Opcode::Load)
            .unwrap();
        (func, load, inner, [r, row, j])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_to_masks_to_the_width() {
        assert_eq!(wrap_to(types::I32, -1), 0xffff_ffff);
        assert_eq!(wrap_to(types::I32, 1 << 32), 0);
        assert_eq!(wrap_to(types::I64, -1), -1);
        assert_eq!(wrap_to(types::I8, 0x1ff), 0xff);
    }
}
