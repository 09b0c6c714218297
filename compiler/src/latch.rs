//! Loop exit tests on the incremented counter, after the e-graph pass.
//!
//! clang ends almost every counted loop with
//! `i' = i + k; br_if loop (i' != n)`, and passes `i'` to the next
//! iteration. Cranelift's e-graph rewrites the test into `i != n - k`,
//! which no longer needs `i'` but keeps `i` alive past the addition. Then
//! `i` and `i'` need two registers at the branch, and register allocation
//! has to put a move on the back edge, in a block of its own: every
//! iteration pays `lea; cmp; je; mov; jmp` where `add; cmp; jne` would do
//! (seen in matmul, sieve and fib's loops).
//!
//! This pass runs between Cranelift's optimisation and its lowering. In a
//! block whose terminator passes `i' = i + k` (k a constant) to a
//! successor but not `i` itself, it turns a test `icmp eq|ne i, c` feeding
//! that terminator back into `icmp eq|ne i', c + k`. Equality is kept by
//! adding the same constant to both sides in wrapping arithmetic, so the
//! rewrite holds for every value of `i`; only `eq` and `ne` are touched.

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    BlockArg, Function, InstBuilder, InstructionData, Opcode, Value, ValueDef,
};

/// The constant `v` is defined as, if it is an `iconst`.
fn iconst_of(func: &Function, v: Value) -> Option<i64> {
    match func.dfg.value_def(v) {
        ValueDef::Result(inst, 0) => match func.dfg.insts[inst] {
            InstructionData::UnaryImm {
                opcode: Opcode::Iconst,
                imm,
            } => Some(imm.bits()),
            _ => None,
        },
        _ => None,
    }
}

/// Rewrites loop exit tests as described in the module comment.
pub(crate) fn retarget_exit_tests(func: &mut Function) {
    let blocks: Vec<_> = func.layout.blocks().collect();
    for block in blocks {
        let Some(term) = func.layout.last_inst(block) else {
            continue;
        };
        if func.dfg.insts[term].opcode() != Opcode::Brif {
            continue;
        }
        let cond = func.dfg.inst_args(term)[0];
        let ValueDef::Result(test, 0) = func.dfg.value_def(cond) else {
            continue;
        };
        let InstructionData::IntCompare {
            opcode: Opcode::Icmp,
            args: [old, limit],
            cond: cc,
        } = func.dfg.insts[test]
        else {
            continue;
        };
        if !matches!(cc, IntCC::Equal | IntCC::NotEqual) {
            continue;
        }
        let Some(limit) = iconst_of(func, limit) else {
            continue;
        };
        // The values the terminator passes on.
        let passed: Vec<Value> = func.dfg.insts[term]
            .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables)
            .iter()
            .flat_map(|call| call.args(&func.dfg.value_lists))
            .filter_map(|a| match a {
                BlockArg::Value(v) => Some(v),
                _ => None,
            })
            .collect();
        if passed.contains(&old) {
            continue;
        }
        // `new = old + k`, passed on (so it dominates the terminator).
        let found = passed.iter().find_map(|&new| {
            let ValueDef::Result(add, 0) = func.dfg.value_def(new) else {
                return None;
            };
            if func.dfg.insts[add].opcode() != Opcode::Iadd {
                return None;
            }
            let [a, b] = func.dfg.inst_args(add) else {
                return None;
            };
            let k = if *a == old {
                iconst_of(func, *b)?
            } else if *b == old {
                iconst_of(func, *a)?
            } else {
                return None;
            };
            Some((new, k))
        });
        let Some((new, k)) = found else {
            continue;
        };
        let ty = func.dfg.value_type(old);
        let bits = ty.bits();
        let mask = if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let shifted = ((limit as u64).wrapping_add(k as u64) & mask) as i64;
        // A new test just before the terminator: the old one may come
        // before `new` is computed. Left without uses, the old one is not
        // lowered.
        let mut pos = FuncCursor::new(func).at_inst(term);
        let shifted = pos.ins().iconst(ty, shifted);
        let retargeted = pos.ins().icmp(cc, new, shifted);
        func.dfg.inst_args_mut(term)[0] = retargeted;
    }
}
