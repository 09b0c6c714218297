//! Zero-extended 32-bit loads, after the e-graph pass.
//!
//! A Wasm address is an i32 that the access zero-extends to 64 bits. When
//! the i32 comes from an ALU instruction, x64 instruction selection knows
//! the upper half of its register is already zero and emits nothing; when
//! it comes from a plain 32-bit `load`, it does not, and emits
//! `mov %ecx, %edx` before the access. Pointer chasing (`p = p->next`)
//! pays that on every hop, on its critical path.
//!
//! This pass runs between Cranelift's optimisation and its lowering (like
//! `crate::latch`). A `v = load.i32` with a `uextend.i64 v` among its users
//! becomes `w = uload32.i64` (the same access: same address, offset and
//! flags, so the same trap) followed by `v = ireduce.i32 w`, which costs no
//! instruction; each `uextend.i64 v` becomes `w` itself.
//!
//! Also here, [`drop_redundant_masks`]: `x & c` where `x` is zero-extended
//! from fewer bits than `c` keeps (`load8_u(p) & 0xff`, which clang writes
//! for `unsigned char` values) is `x`.

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::{types, Function, InstBuilder, InstructionData, Opcode, ValueDef};

/// Rewrites zero-extended 32-bit loads as described in the module comment.
pub(crate) fn widen_loads(func: &mut Function) {
    // `(load, uextend)` pairs, in layout order.
    let mut extends = Vec::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            let InstructionData::Unary {
                opcode: Opcode::Uextend,
                arg,
            } = func.dfg.insts[inst]
            else {
                continue;
            };
            if func.dfg.value_type(func.dfg.first_result(inst)) != types::I64
                || func.dfg.value_type(arg) != types::I32
            {
                continue;
            }
            let ValueDef::Result(load, 0) = func.dfg.value_def(arg) else {
                continue;
            };
            if matches!(
                func.dfg.insts[load],
                InstructionData::Load {
                    opcode: Opcode::Load,
                    ..
                }
            ) {
                extends.push((load, inst));
            }
        }
    }
    let mut widened = std::collections::HashMap::new();
    for (load, extend) in extends {
        let wide = *widened.entry(load).or_insert_with(|| {
            let InstructionData::Load { arg, offset, .. } = func.dfg.insts[load] else {
                unreachable!("collected as a load")
            };
            let flags = func.dfg.insts[load]
                .memflags_data(&func.dfg)
                .expect("a load has memory flags");
            let mut pos = FuncCursor::new(func).at_inst(load);
            pos.use_srcloc(load);
            let wide = pos.ins().uload32(flags, arg, offset);
            func.replace(load).ireduce(types::I32, wide);
            wide
        });
        let result = func.dfg.first_result(extend);
        func.layout.remove_inst(extend);
        func.dfg.clear_results(extend);
        func.dfg.change_to_alias(result, wide);
    }
}

/// How many low bits of `v` can be non-zero, when its definition says so:
/// a narrow unsigned load or a zero extension.
fn zero_extended_from(func: &Function, v: cranelift_codegen::ir::Value) -> Option<u32> {
    let ValueDef::Result(inst, 0) = func.dfg.value_def(v) else {
        return None;
    };
    match func.dfg.insts[inst] {
        InstructionData::Load { opcode, .. } => match opcode {
            Opcode::Uload8 => Some(8),
            Opcode::Uload16 => Some(16),
            Opcode::Uload32 => Some(32),
            _ => None,
        },
        InstructionData::Unary {
            opcode: Opcode::Uextend,
            arg,
        } => Some(func.dfg.value_type(arg).bits()),
        _ => None,
    }
}

/// Removes each `band x, c` (or `band c, x`) whose constant `c` keeps every
/// bit `x` can have (see `zero_extended_from`): its result is `x`.
pub(crate) fn drop_redundant_masks(func: &mut Function) {
    let mut redundant = Vec::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            let InstructionData::Binary {
                opcode: Opcode::Band,
                args: [a, b],
            } = func.dfg.insts[inst]
            else {
                continue;
            };
            let ty = func.dfg.value_type(a);
            if !ty.is_int() || ty.bits() > 64 {
                continue;
            }
            for (x, c) in [(a, b), (b, a)] {
                let (Some(bits), Some(mask)) = (
                    zero_extended_from(func, x),
                    crate::clif::iconst_of(&func.dfg, c),
                ) else {
                    continue;
                };
                let kept = if bits >= 64 {
                    u64::MAX
                } else {
                    (1u64 << bits) - 1
                };
                if bits <= ty.bits() && (mask as u64) & kept == kept {
                    redundant.push((inst, x));
                    break;
                }
            }
        }
    }
    for (inst, x) in redundant {
        let result = func.dfg.first_result(inst);
        func.layout.remove_inst(inst);
        func.dfg.clear_results(inst);
        func.dfg.change_to_alias(result, x);
    }
}
