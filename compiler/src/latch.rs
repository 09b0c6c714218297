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
//!
//! The same two-registers problem comes back in instruction selection: x64
//! folds `i' + y` into `lea k(i, y)`, an address mode that reads `i`, so a
//! use of `i'` after the loop (fib's `n - 2 + acc`) keeps `i` alive across
//! the back edge. [`hide_increments`] writes a passed-on `i' = i + k` as
//! `i' = i - (-k)`, which instruction selection does not look through, so
//! `i'` is one register that the subtraction updates in place. It does so
//! when `i` dies there, after moving `i`'s later uses onto `i'` where that
//! is cheap: `i + c` in the same block becomes `i' + (c - k)`, and uses
//! after the loop's exit read `i' - k` (what LLVM does with exit values).
//! Loops like `while (v[i] < x) i++`, which pass `i + 1` round and leave
//! with `i`, then need no move on the back edge either.

use std::collections::{HashMap, HashSet};

use crate::clif::{def_block, iconst_of, wrap_to};
use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::dominator_tree::DominatorTree;
use cranelift_codegen::flowgraph::ControlFlowGraph;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    Block, BlockArg, Function, Inst, InstBuilder, InstructionData, Opcode, Value, ValueDef,
};

/// The values a block's terminator passes to its successors.
fn passed_values(func: &Function, term: Inst) -> Vec<Value> {
    func.dfg.insts[term]
        .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables)
        .iter()
        .flat_map(|call| call.args(&func.dfg.value_lists))
        .filter_map(|a| match a {
            BlockArg::Value(v) => Some(v),
            _ => None,
        })
        .collect()
}

/// `(x, k)` if `v` is `iadd x, k` (either order) with `k` an `iconst`.
fn add_of_const(func: &Function, v: Value) -> Option<(Inst, Value, i64)> {
    let ValueDef::Result(add, 0) = func.dfg.value_def(v) else {
        return None;
    };
    if func.dfg.insts[add].opcode() != Opcode::Iadd {
        return None;
    }
    let [a, b] = *func.dfg.inst_args(add) else {
        return None;
    };
    match (iconst_of(&func.dfg, a), iconst_of(&func.dfg, b)) {
        (_, Some(k)) => Some((add, a, k)),
        (Some(k), None) => Some((add, b, k)),
        (None, None) => None,
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
        let Some(limit) = iconst_of(&func.dfg, limit) else {
            continue;
        };
        let passed = passed_values(func, term);
        if passed.contains(&old) {
            continue;
        }
        // `new = old + k`, passed on (so it dominates the terminator).
        let found = passed
            .iter()
            .find_map(|&new| match add_of_const(func, new) {
                Some((_, x, k)) if x == old => Some((new, k)),
                _ => None,
            });
        let Some((new, k)) = found else {
            continue;
        };
        let ty = func.dfg.value_type(old);
        let shifted = wrap_to(ty, limit.wrapping_add(k));
        // A new test just before the terminator: the old one may come
        // before `new` is computed. Left without uses, the old one is not
        // lowered.
        let mut pos = FuncCursor::new(func).at_inst(term);
        let shifted = pos.ins().iconst(ty, shifted);
        let retargeted = pos.ins().icmp(cc, new, shifted);
        func.dfg.inst_args_mut(term)[0] = retargeted;
    }
}

/// An `icmp` whose result nothing uses.
fn is_unused_icmp(func: &Function, users: &HashMap<Value, Vec<Inst>>, inst: Inst) -> bool {
    func.dfg.insts[inst].opcode() == Opcode::Icmp
        && !users.contains_key(&func.dfg.first_result(inst))
}

/// Largest number of blocks searched for later uses of a counter.
const MAX_SEARCH: usize = 256;

/// The blocks reachable from `from`'s successors without passing through
/// `stop` (where the value in question is defined again); `None` when
/// more than [`MAX_SEARCH`].
fn reachable_after(cfg: &ControlFlowGraph, from: Block, stop: Block) -> Option<HashSet<Block>> {
    let mut seen = HashSet::new();
    let mut work: Vec<Block> = cfg.succ_iter(from).collect();
    while let Some(b) = work.pop() {
        if b == stop || !seen.insert(b) {
            continue;
        }
        if seen.len() > MAX_SEARCH {
            return None;
        }
        work.extend(cfg.succ_iter(b));
    }
    Some(seen)
}

/// The constant `inst` adds to `x`, if it is `iadd x, c` (either order).
fn adds_constant_to(func: &Function, inst: Inst, x: Value) -> Option<i64> {
    if func.dfg.insts[inst].opcode() != Opcode::Iadd {
        return None;
    }
    match *func.dfg.inst_args(inst) {
        [a, b] if a == x => iconst_of(&func.dfg, b),
        [a, b] if b == x => iconst_of(&func.dfg, a),
        _ => None,
    }
}

/// Makes `use_` read `new = x + k` instead of `x`: `x + c` becomes
/// `new + (c - k)`; any other use reads `new - k`, computed once at the top
/// of `exit` (and remembered in `recomputed`).
fn read_new_instead(
    func: &mut Function,
    users: &mut HashMap<Value, Vec<Inst>>,
    (x, new, k): (Value, Value, i64),
    use_: Inst,
    exit: Option<Block>,
    recomputed: &mut Option<Value>,
) {
    let ty = func.dfg.value_type(new);
    if let Some(c) = adds_constant_to(func, use_, x) {
        let mut pos = FuncCursor::new(func).at_inst(use_);
        let c = pos.ins().iconst(ty, wrap_to(ty, c.wrapping_sub(k)));
        func.replace(use_).iadd(new, c);
        users.entry(new).or_default().push(use_);
        return;
    }
    let exit = exit.expect("only uses after an exit are not additions");
    let value = *recomputed.get_or_insert_with(|| {
        let mut pos = FuncCursor::new(func).at_first_insertion_point(exit);
        let minus_k = pos.ins().iconst(ty, wrap_to(ty, k.wrapping_neg()));
        let v = pos.ins().iadd(new, minus_k);
        if let ValueDef::Result(inst, _) = pos.func.dfg.value_def(v) {
            users.entry(new).or_default().push(inst);
        }
        v
    });
    func.dfg
        .map_inst_values(use_, |v| if v == x { value } else { v });
    users.entry(value).or_default().push(use_);
}

/// Whether `term` passes `new` to a block whose parameter at that place is
/// `x` (a loop variable going round).
fn passes_in_place(func: &Function, term: Inst, new: Value, x: Value) -> bool {
    func.dfg.insts[term]
        .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables)
        .iter()
        .any(|call| {
            let params = func.dfg.block_params(call.block(&func.dfg.value_lists));
            call.args(&func.dfg.value_lists)
                .zip(params)
                .any(|(a, &p)| a == BlockArg::Value(new) && p == x)
        })
}

/// Instructions x64 instruction selection may fold into the `lea` or
/// address mode of their result's reader.
fn is_foldable(func: &Function, inst: Inst) -> bool {
    matches!(
        func.dfg.insts[inst].opcode(),
        Opcode::Iadd | Opcode::Ishl | Opcode::Uextend | Opcode::Sextend | Opcode::Imul
    )
}

/// Rewrites passed-on increments as described in the module comment.
///
/// Only loop variables: `new = x + k` is passed to the block whose
/// parameter at that place is `x`. `x` must die at the addition. Uses of
/// `x` before it in its block, or where `x` cannot be reached from after
/// it, are fine. Other uses read `new` instead, which is `x + k` wherever
/// it is defined: later additions of a constant in the same block (`x + c`
/// becomes `new + (c - k)`), and uses below an exit that only this block
/// reaches (after the loop, where one more instruction to compute
/// `new - k` is cheap). Other later reads in the block are passed by
/// moving the addition below them, if nothing reads `new` before. A read
/// of `x` by a shift or addition whose result is used after the addition
/// counts as a later read: x64 folds it into its reader.
pub(crate) fn hide_increments(
    func: &mut Function,
    cfg: &ControlFlowGraph,
    domtree: &DominatorTree,
) {
    // Every instruction that uses each value (branch arguments included).
    let mut users: HashMap<Value, Vec<Inst>> = HashMap::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            for v in func.dfg.inst_values(inst) {
                users.entry(v).or_default().push(inst);
            }
        }
    }
    let blocks: Vec<_> = func.layout.blocks().collect();
    let mut done = HashSet::new();
    for block in blocks {
        let Some(term) = func.layout.last_inst(block) else {
            continue;
        };
        if !matches!(func.dfg.insts[term].opcode(), Opcode::Jump | Opcode::Brif) {
            continue;
        }
        let passed = passed_values(func, term);
        for &new in &passed {
            let Some((add, x, k)) = add_of_const(func, new) else {
                continue;
            };
            if passed.contains(&x)
                || func.layout.inst_block(add) != Some(block)
                || !done.insert(add)
            {
                continue;
            }
            // Only a loop variable: `x` is the parameter that `new`
            // replaces in the block it goes to.
            if !passes_in_place(func, term, new, x) {
                continue;
            }
            let (Some(x_block), Some(x_users)) = (def_block(func, x), users.get(&x)) else {
                continue;
            };
            // x64 folds a shift or addition of `x` into the address mode or
            // `lea` of whatever reads its result, so such a read made before
            // the addition but consumed after it keeps `x` alive too.
            let folded_late = x_users.iter().any(|&r| {
                r != add
                    && func.layout.inst_block(r) == Some(block)
                    && func.layout.pp_cmp(r, add) == std::cmp::Ordering::Less
                    && is_foldable(func, r)
                    && func.dfg.inst_results(r).iter().any(|v| {
                        users.get(v).is_some_and(|us| {
                            us.iter().any(|&u| {
                                func.layout.inst_block(u) != Some(block)
                                    || func.layout.pp_cmp(u, add) == std::cmp::Ordering::Greater
                            })
                        })
                    })
            });
            if folded_late {
                continue;
            }
            let uses: Vec<Inst> = x_users
                .iter()
                .copied()
                .filter(|&u| u != add && !is_unused_icmp(func, &users, u))
                .collect();
            // Split the uses: in this block after the addition, in blocks
            // reachable from here before `x` is defined again, the rest.
            let (mut here, mut later) = (Vec::new(), Vec::new());
            let mut after = None;
            let mut ok = true;
            for u in uses {
                let Some(b) = func.layout.inst_block(u) else {
                    continue;
                };
                if b == block {
                    if func.layout.pp_cmp(u, add) == std::cmp::Ordering::Greater {
                        here.push(u);
                    }
                    continue;
                }
                if after.is_none() {
                    after = reachable_after(cfg, block, x_block);
                }
                match &after {
                    Some(reached) if reached.contains(&b) => later.push(u),
                    Some(_) => {}
                    None => ok = false,
                }
            }
            if !ok {
                continue;
            }
            if !here.iter().all(|&u| adds_constant_to(func, u, x).is_some()) {
                // `x` is read after the addition (`acc += i` placed after
                // `i + 1`). The addition can move down past those reads if
                // nothing reads `new` before them; then `x` dies there.
                let last_read = *here
                    .iter()
                    .max_by(|&&a, &&b| func.layout.pp_cmp(a, b))
                    .unwrap();
                let new_read_early = users.get(&new).is_some_and(|us| {
                    us.iter().any(|&u| {
                        func.layout.inst_block(u) == Some(block)
                            && func.layout.pp_cmp(u, last_read) != std::cmp::Ordering::Greater
                    })
                });
                if new_read_early || last_read == term {
                    continue;
                }
                func.layout.remove_inst(add);
                let after_last = func
                    .layout
                    .next_inst(last_read)
                    .expect("the terminator follows");
                func.layout.insert_inst(add, after_last);
                here.clear();
            }
            let exit = if later.is_empty() {
                None
            } else {
                let exit = cfg.succ_iter(block).find(|&e| {
                    e != x_block
                        && cfg.pred_iter(e).all(|p| p.block == block)
                        && later.iter().all(|&u| {
                            func.layout
                                .inst_block(u)
                                .is_some_and(|b| domtree.block_dominates(e, b))
                        })
                });
                match exit {
                    Some(e) => Some(e),
                    None => continue,
                }
            };
            // `x`'s own list keeps these uses: that only makes the
            // decisions on the increments still to come more cautious.
            let mut recomputed = None;
            for u in here.into_iter().chain(later) {
                read_new_instead(func, &mut users, (x, new, k), u, exit, &mut recomputed);
            }
            let ty = func.dfg.value_type(new);
            let mut pos = FuncCursor::new(func).at_inst(add);
            let negated = pos.ins().iconst(ty, wrap_to(ty, k.wrapping_neg()));
            func.replace(add).isub(x, negated);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Target;
    use crate::Options;
    use cranelift_codegen::control::ControlPlane;
    use cranelift_codegen::ir::types;
    use cranelift_codegen::Context;
    use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

    /// `acc = 0; i = start; do { acc += i; i += 1 } while (i != 100);
    /// return acc + i_before_last_increment * 1000`: clang's shape, with
    /// the old counter used after the loop.
    fn counted_loop(target: &Target) -> Function {
        let mut func = crate::clif::testing::function("loop", types::I32);
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let entry = b.create_block();
        let head = b.create_block();
        let exit = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.append_block_param(head, types::I32);
        b.append_block_param(head, types::I32);
        b.switch_to_block(entry);
        let start = b.block_params(entry)[0];
        let zero = b.ins().iconst(types::I32, 0);
        b.ins().jump(head, &[start.into(), zero.into()]);
        b.switch_to_block(head);
        let (i, acc) = (b.block_params(head)[0], b.block_params(head)[1]);
        let acc2 = b.ins().iadd(acc, i);
        let i2 = b.ins().iadd_imm_s(i, 1);
        let more = b.ins().icmp_imm_s(IntCC::NotEqual, i2, 100);
        b.ins()
            .brif(more, head, &[i2.into(), acc2.into()], exit, &[]);
        b.switch_to_block(exit);
        let scaled = b.ins().imul_imm_s(i, 1000);
        let result = b.ins().iadd(acc2, scaled);
        b.ins().return_(&[result]);
        b.seal_all_blocks();
        b.finalize(target.isa.frontend_config());
        func
    }

    /// Cranelift's optimiser, then the two passes; checks the result.
    fn optimised_and_rewritten() -> Context {
        let target = Target::new(Some("x86_64-unknown-linux-gnu"), &Options::default()).unwrap();
        let mut ctx = Context::for_function(counted_loop(&target));
        ctx.optimize(&*target.isa, &mut ControlPlane::default())
            .unwrap();
        retarget_exit_tests(&mut ctx.func);
        hide_increments(&mut ctx.func, &ctx.cfg, &ctx.domtree);
        cranelift_codegen::verify_function(&ctx.func, &*target.isa).unwrap();
        ctx
    }

    /// The loop's block (the one whose `brif` branches to itself), its
    /// terminator and its counter (first parameter).
    fn latch(func: &Function) -> (Block, Inst, Value) {
        func.layout
            .blocks()
            .find_map(|b| {
                let term = func.layout.last_inst(b)?;
                let targets = func.dfg.insts[term]
                    .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables);
                targets
                    .iter()
                    .any(|c| c.block(&func.dfg.value_lists) == b)
                    .then_some((b, term, func.dfg.block_params(b)[0]))
            })
            .expect("a loop")
    }

    #[test]
    fn the_exit_test_reads_the_incremented_counter() {
        let ctx = optimised_and_rewritten();
        let func = &ctx.func;
        let (_, term, i) = latch(func);
        let cond = func.dfg.inst_args(term)[0];
        let ValueDef::Result(test, _) = func.dfg.value_def(cond) else {
            panic!("the condition is an instruction result")
        };
        let InstructionData::IntCompare {
            args: [counter, limit],
            cond: cc,
            ..
        } = func.dfg.insts[test]
        else {
            panic!("the condition is an icmp: {}", func.display())
        };
        assert_eq!(cc, IntCC::NotEqual);
        assert_eq!(iconst_of(&func.dfg, limit), Some(100), "{}", func.display());
        // The counter tested is the one passed round, computed from `i`.
        assert!(passed_values(func, term).contains(&counter));
        assert_ne!(counter, i);
    }

    #[test]
    fn the_increment_is_a_subtraction_and_the_exit_reads_the_new_counter() {
        let ctx = optimised_and_rewritten();
        let func = &ctx.func;
        let (head, term, i) = latch(func);
        let new = passed_values(func, term)[0];
        let ValueDef::Result(inc, _) = func.dfg.value_def(new) else {
            panic!("the increment is an instruction")
        };
        assert_eq!(
            func.dfg.insts[inc].opcode(),
            Opcode::Isub,
            "{}",
            func.display()
        );
        assert_eq!(func.dfg.inst_args(inc)[0], i);
        assert_eq!(
            iconst_of(&func.dfg, func.dfg.inst_args(inc)[1]),
            Some(-1i64 as u32 as i64)
        );
        // `i` dies at the increment: nothing after it reads `i`, in the
        // loop or after it (the exit reads `new - 1`).
        for block in func.layout.blocks() {
            for n in func.layout.block_insts(block) {
                if func.dfg.inst_values(n).any(|v| v == i) {
                    assert!(
                        block == head && func.layout.pp_cmp(n, inc) != std::cmp::Ordering::Greater,
                        "{n} reads the old counter: {}",
                        func.display()
                    );
                }
            }
        }
    }
}
