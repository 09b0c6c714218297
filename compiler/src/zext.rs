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
//! Also here, [`widen_loop_params`]: the same for an i32 block parameter
//! (a loop counter or pointer) that an access zero-extends; and
//! [`drop_redundant_masks`]: `x & c` where `x` is zero-extended
//! from fewer bits than `c` keeps (`load8_u(p) & 0xff`, which clang writes
//! for `unsigned char` values) is `x`.

use crate::ranges::step_of;
use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::{
    types, Function, Inst, InstBuilder, InstructionData, Opcode, Value, ValueDef,
};

/// The i32 value `inst` zero-extends to i64, if it is such a `uextend`.
fn extended_i32(func: &Function, inst: Inst) -> Option<Value> {
    let InstructionData::Unary {
        opcode: Opcode::Uextend,
        arg,
    } = func.dfg.insts[inst]
    else {
        return None;
    };
    (func.dfg.value_type(arg) == types::I32
        && func.dfg.value_type(func.dfg.first_result(inst)) == types::I64)
        .then_some(arg)
}

/// Rewrites zero-extended 32-bit loads as described in the module comment.
pub(crate) fn widen_loads(func: &mut Function) {
    // `(load, uextend)` pairs, in layout order.
    let mut extends = Vec::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            let Some(arg) = extended_i32(func, inst) else {
                continue;
            };
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
fn zero_extended_from(func: &Function, v: Value) -> Option<u32> {
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

/// x86-64: an i32 block parameter `p` with a `uextend.i64 p` among its
/// users becomes an i64 parameter `w` that every branch passes as
/// `uextend.i64 arg`; `p` is then `ireduce.i32 w` (no instruction) and
/// each `uextend.i64 p` is `w`. Instruction selection cannot see through a
/// block parameter, so a loop counter or pointer used as an address paid
/// a `mov %r13d, %edx` in every iteration; the extension now happens where
/// the value is computed, by an ALU instruction that clears the upper half
/// anyway. Only for a loop header's parameter that every back edge passes
/// as `p + c` or `p - c` (so no iteration pays more), that nothing after
/// the loop reads (not even through an address computed from it), and
/// whose block every branch reaches by `jump` or `brif`. The values are
/// the same: `w` is `zext(p)` on every edge.
pub(crate) fn widen_loop_params(
    func: &mut Function,
    cfg: &cranelift_codegen::flowgraph::ControlFlowGraph,
    domtree: &cranelift_codegen::dominator_tree::DominatorTree,
    loops: &cranelift_codegen::loop_analysis::LoopAnalysis,
) {
    use cranelift_codegen::ir::{Block, BlockArg};
    use std::collections::HashMap;
    // The `uextend.i64` users of each i32 value, and the blocks that use
    // each value.
    let mut extends: HashMap<Value, Vec<Inst>> = HashMap::new();
    let mut used_in: HashMap<Value, Vec<(Inst, Block)>> = HashMap::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            for v in func.dfg.inst_values(inst) {
                used_in.entry(v).or_default().push((inst, block));
            }
            if let Some(arg) = extended_i32(func, inst) {
                extends.entry(arg).or_default().push(inst);
            }
        }
    }
    let blocks: Vec<_> = func.layout.blocks().collect();
    for block in blocks {
        // Parameters by value, as indexes shift when one is removed.
        let params: Vec<Value> = func.dfg.block_params(block).to_vec();
        for p in params {
            let Some(users) = extends.get(&p) else {
                continue;
            };
            if func.dfg.value_type(p) != types::I32 {
                continue;
            }
            // A loop's own parameter, read only inside the loop: read after
            // the exit, the wide value would be live across the step and
            // the step could no longer update it in place.
            let Some(lp) = loops.is_loop_header(block) else {
                continue;
            };
            // Also not through an address computed from it in the loop and
            // read after it (folded into the later access's address mode,
            // that too would keep the wide value live).
            let outside = |v: Value| {
                used_in
                    .get(&v)
                    .is_some_and(|us| us.iter().any(|&(_, b)| !loops.is_in_loop(b, lp)))
            };
            let escapes = |v: Value| {
                outside(v)
                    || used_in.get(&v).is_some_and(|us| {
                        us.iter().any(|&(i, _)| {
                            func.dfg.insts[i].opcode() == Opcode::Iadd
                                && outside(func.dfg.first_result(i))
                        })
                    })
            };
            if outside(p) || users.iter().any(|&u| escapes(func.dfg.first_result(u))) {
                continue;
            }
            let index = func
                .dfg
                .block_params(block)
                .iter()
                .position(|&q| q == p)
                .expect("a parameter of its block");
            // Every branch here is a jump or brif passing plain values, and
            // every back edge a step of `p`.
            let mut ok = true;
            let preds: Vec<_> = cfg.pred_iter(block).map(|p| (p.block, p.inst)).collect();
            for &(pred, branch) in &preds {
                let data = &func.dfg.insts[branch];
                if !matches!(data.opcode(), Opcode::Jump | Opcode::Brif) {
                    ok = false;
                    break;
                }
                let back = domtree.block_dominates(block, pred);
                for call in
                    data.branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables)
                {
                    if call.block(&func.dfg.value_lists) != block {
                        continue;
                    }
                    match call.args(&func.dfg.value_lists).nth(index) {
                        Some(BlockArg::Value(arg)) => {
                            // `p + c` or `p - c`: a 32-bit ALU result,
                            // which clears the upper half of its register.
                            if back && (arg == p || step_of(func, p, arg).is_none()) {
                                ok = false;
                            }
                        }
                        _ => ok = false,
                    }
                }
            }
            if !ok || preds.is_empty() {
                continue;
            }
            let users = users.clone();
            // The wide parameter, passed as `uextend.i64 arg` by every branch.
            let wide = func.dfg.append_block_param(block, types::I64);
            for &(_, branch) in &preds {
                let args: Vec<Value> = func.dfg.insts[branch]
                    .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables)
                    .iter()
                    .filter(|c| c.block(&func.dfg.value_lists) == block)
                    .map(|c| match c.args(&func.dfg.value_lists).nth(index) {
                        Some(BlockArg::Value(v)) => v,
                        _ => unreachable!("checked above"),
                    })
                    .collect();
                let mut pos = FuncCursor::new(func).at_inst(branch);
                let widened: Vec<Value> = args
                    .iter()
                    .map(|&a| pos.ins().uextend(types::I64, a))
                    .collect();
                let mut widened = widened.into_iter();
                let dfg = &mut func.dfg;
                for call in dfg.insts[branch]
                    .branch_destination_mut(&mut dfg.jump_tables, &mut dfg.exception_tables)
                {
                    if call.block(&dfg.value_lists) != block {
                        continue;
                    }
                    call.remove(index, &mut dfg.value_lists);
                    let w = widened.next().expect("one per call");
                    call.append_argument(w, &mut dfg.value_lists);
                }
            }
            // `p` is the low half of `wide`; its extensions are `wide`.
            func.dfg.remove_block_param(p);
            let first = func
                .layout
                .first_inst(block)
                .expect("a block has a terminator");
            let mut pos = FuncCursor::new(func).at_inst(first);
            let narrow = pos.ins().ireduce(types::I32, wide);
            func.dfg.change_to_alias(p, narrow);
            for ext in users {
                let result = func.dfg.first_result(ext);
                func.layout.remove_inst(ext);
                func.dfg.clear_results(ext);
                func.dfg.change_to_alias(result, wide);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clif::testing::nest;
    use cranelift_codegen::cursor::{Cursor, FuncCursor};
    use cranelift_codegen::dominator_tree::DominatorTree;
    use cranelift_codegen::flowgraph::ControlFlowGraph;
    use cranelift_codegen::ir::{Block, BlockArg};
    use cranelift_codegen::loop_analysis::LoopAnalysis;

    fn widen(func: &mut Function) {
        let cfg = ControlFlowGraph::with_function(func);
        let domtree = DominatorTree::with_function(func, &cfg);
        let mut loops = LoopAnalysis::new();
        loops.compute(func, &cfg, &domtree);
        widen_loop_params(func, &cfg, &domtree, &loops);
        let flags = cranelift_codegen::settings::Flags::new(cranelift_codegen::settings::builder());
        cranelift_codegen::verify_function(&*func, &flags).expect("verifies");
    }

    /// What every branch to `block` passes as its last parameter.
    fn last_args(func: &Function, block: Block) -> Vec<Value> {
        let mut out = Vec::new();
        for b in func.layout.blocks() {
            let Some(term) = func.layout.last_inst(b) else {
                continue;
            };
            for call in func.dfg.insts[term]
                .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables)
            {
                if call.block(&func.dfg.value_lists) == block {
                    match call.args(&func.dfg.value_lists).last() {
                        Some(BlockArg::Value(v)) => out.push(v),
                        other => panic!("{other:?}"),
                    }
                }
            }
        }
        out
    }

    #[test]
    fn a_stepped_counter_used_as_an_address_is_passed_zero_extended() {
        let (mut func, load, inner, [_, _, j]) = nest(0, 0, 64, |_, _, j| j);
        widen(&mut func);
        // The counter is now the low half of a 64-bit parameter...
        let params = func.dfg.block_params(inner).to_vec();
        assert!(!params.contains(&j));
        let wide = *params.last().unwrap();
        assert_eq!(func.dfg.value_type(wide), types::I64);
        // ...that the access adds to the base without extending it...
        let InstructionData::Load { arg: addr, .. } = func.dfg.insts[load] else {
            panic!()
        };
        let ValueDef::Result(add, 0) = func.dfg.value_def(addr) else {
            panic!()
        };
        assert!(func
            .dfg
            .inst_values(add)
            .any(|v| func.dfg.resolve_aliases(v) == wide));
        // ...and both ways in pass it zero-extended, never sign-extended:
        // a pointer stepped below 0 must stay near 2^32.
        let args = last_args(&func, inner);
        assert_eq!(args.len(), 2);
        for v in args {
            let ValueDef::Result(ext, 0) = func.dfg.value_def(v) else {
                panic!()
            };
            assert_eq!(func.dfg.insts[ext].opcode(), Opcode::Uextend);
        }
    }

    #[test]
    fn a_counter_read_after_its_loop_keeps_its_type() {
        let (mut func, _, inner, [_, _, j]) = nest(0, 0, 64, |_, _, j| j);
        // Read `j` after the loop (in the block that returns).
        let exit = func.layout.last_block().unwrap();
        let ret = func.layout.last_inst(exit).unwrap();
        let mut pos = FuncCursor::new(&mut func).at_inst(ret);
        let read = pos.ins().iadd(j, j);
        let _ = read;
        let before = func.dfg.block_params(inner).to_vec();
        widen(&mut func);
        assert_eq!(func.dfg.block_params(inner), &before[..]);
    }
}
