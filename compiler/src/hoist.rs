//! Loop bounds of the form `x + c`, computed once before the loop, after
//! the e-graph pass.
//!
//! Cranelift's e-graph rematerialises an addition of a constant in every
//! block that uses it, to keep registers free: an address `x + c` folds
//! into the access's address mode for free. A loop bound does not: in
//! sieve's inner loop `for (j = i * i; j < n; j += i)`, with `n` computed
//! as `x + 0x100_0000`, the `lea` ran on every iteration, next to the
//! store, the additions and the compare (8 instructions instead of 7).
//!
//! This pass moves such an addition out of an innermost loop, to the end
//! of the block that immediately dominates the loop's header, when an
//! `icmp` in the loop reads it and `x` is defined outside the loop. Only
//! innermost loops: an outer loop's registers are needed by the loops it
//! holds. The value is the same wherever it is computed (the addition is
//! pure and `x` is available there).

use std::collections::HashSet;

use crate::clif::def_block;
use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::dominator_tree::DominatorTree;
use cranelift_codegen::ir::{
    Block, Function, Inst, InstBuilder, InstructionData, Opcode, ValueDef,
};
use cranelift_codegen::loop_analysis::LoopAnalysis;

/// Hoists compared loop-invariant additions as described in the module
/// comment.
pub(crate) fn hoist_compared_constants(
    func: &mut Function,
    domtree: &DominatorTree,
    loops: &LoopAnalysis,
) {
    // Loops that hold another loop.
    let outer: HashSet<_> = loops.loops().filter_map(|l| loops.loop_parent(l)).collect();
    let mut moves: Vec<(Inst, Block)> = Vec::new();
    let mut planned: HashSet<Inst> = HashSet::new();
    for block in func.layout.blocks() {
        let Some(lp) = loops.innermost_loop(block) else {
            continue;
        };
        if outer.contains(&lp) {
            continue;
        }
        let Some(before) = domtree.idom(loops.loop_header(lp)) else {
            continue;
        };
        for inst in func.layout.block_insts(block) {
            if func.dfg.insts[inst].opcode() != Opcode::Icmp {
                continue;
            }
            for &a in func.dfg.inst_args(inst) {
                let ValueDef::Result(add, 0) = func.dfg.value_def(a) else {
                    continue;
                };
                let InstructionData::Binary {
                    opcode: Opcode::Iadd,
                    args: [x, k],
                } = func.dfg.insts[add]
                else {
                    continue;
                };
                if crate::clif::iconst_of(&func.dfg, k).is_none()
                    || func.layout.inst_block(add) != Some(block)
                {
                    continue;
                }
                if def_block(func, x)
                    .is_some_and(|b| !loops.is_in_loop(b, lp) && domtree.block_dominates(b, before))
                    && planned.insert(add)
                {
                    moves.push((add, before));
                }
            }
        }
    }
    for (add, before) in moves {
        let [x, k] = *func.dfg.inst_args(add) else {
            unreachable!("an iadd")
        };
        let c = crate::clif::iconst_of(&func.dfg, k).expect("checked above");
        let ty = func.dfg.value_type(k);
        let term = func
            .layout
            .last_inst(before)
            .expect("a block ends in a branch");
        let mut pos = FuncCursor::new(func).at_inst(term);
        let k = pos.ins().iconst(ty, c);
        let hoisted = pos.ins().iadd(x, k);
        let old = func.dfg.first_result(add);
        func.layout.remove_inst(add);
        func.dfg.clear_results(add);
        func.dfg.change_to_alias(old, hoisted);
    }
}

/// Rewrites each `x - c`, `c` a constant, as `x + (-c)` (x86-64). Its
/// instruction selection folds additions of constants into `lea` and
/// address modes, through further additions and scaled indexes
/// (`lea -0x80(%rdx,%rax,4)`), but not subtractions: interp's
/// `stack[sp - 1]`, on a shadow-stack frame `fp - 128` that the e-graph
/// rematerialises in every block that uses it, took `mov; sub; lea` where
/// one `lea` does. Runs before `latch`, whose `i - (-k)` is meant to stay
/// a subtraction. Wrapping arithmetic: the same value in every case.
pub(crate) fn subtractions_as_additions(func: &mut Function) {
    let mut subs = Vec::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            if let InstructionData::Binary {
                opcode: Opcode::Isub,
                args: [x, y],
            } = func.dfg.insts[inst]
            {
                if let Some(c) = crate::clif::iconst_of(&func.dfg, y) {
                    subs.push((inst, x, c));
                }
            }
        }
    }
    for (inst, x, c) in subs {
        let ty = func.dfg.value_type(x);
        let mut pos = FuncCursor::new(func).at_inst(inst);
        let k = pos
            .ins()
            .iconst(ty, crate::clif::wrap_to(ty, c.wrapping_neg()));
        func.replace(inst).iadd(x, k);
    }
}
