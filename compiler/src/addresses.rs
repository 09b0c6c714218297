//! 32-bit address arithmetic moved into 64-bit address modes, after the
//! e-graph pass (x86-64 only).
//!
//! A Wasm access at `a + b` (an i32 sum: clang's `row + j`, or a pointer
//! minus a field offset, `p - 32`) becomes `base + zext(a + b) + offset`:
//! the i32 addition runs on every iteration even when `a` is loop-invariant
//! (matmul's `c[i] + j`, where clang's own code keeps `&c[i]` in a register)
//! or a constant that the address mode could carry. When
//! [`crate::ranges`] proves that the sum cannot wrap, the address is
//! rewritten exactly, term by term: `base + ext(a) + ext(b) + offset'`,
//! where each `ext` is the zero- or sign-extension that gives the term's
//! true value and constants join the instruction's offset. The partial sum
//! of the terms defined outside the access's loop is computed once, right
//! after the last of them is defined; the access then needs at most one
//! more register from the loop (its address mode takes it).
//!
//! SANDBOX-CRITICAL: the rewritten address is the same number as before in
//! every execution the ranges describe, so the access reaches the same
//! byte and traps the same way. Accesses are only rewritten when at most
//! one term varies in the access's loop, so no more instructions run per
//! iteration than before.

use std::collections::HashMap;

use crate::clif::{def_block, signed_const};
use crate::ranges::{signed_window, unsigned_window, Range, Ranges};
use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::dominator_tree::DominatorTree;
use cranelift_codegen::flowgraph::ControlFlowGraph;
use cranelift_codegen::ir::{
    types, Function, Inst, InstBuilder, InstructionData, Opcode, ProgramPoint, Value, ValueDef,
};
use cranelift_codegen::loop_analysis::LoopAnalysis;

/// Most terms an address is split into.
const MAX_TERMS: usize = 4;

/// One access to rewrite: `base + Σ ext(term) + offset`.
struct Plan {
    access: Inst,
    base: Value,
    terms: Vec<(Value, Opcode)>,
    offset: i32,
}

/// Splits the i32 `e` into terms with known ranges plus a constant
/// (`e == Σ terms + constant` modulo 2^32), through additions, at most
/// [`MAX_TERMS`] terms and as many additions deep. False if some part has
/// no range; `terms` and `constant` are then as they were.
fn split(
    ranges: &mut Ranges<'_>,
    func: &Function,
    e: Value,
    terms: &mut Vec<(Value, Range)>,
    constant: &mut i64,
    depth: usize,
) -> bool {
    if let Some(c) = signed_const(&func.dfg, e) {
        *constant += c;
        return true;
    }
    let inst = match func.dfg.value_def(e) {
        ValueDef::Result(inst, 0) if depth < MAX_TERMS => Some(inst),
        _ => None,
    };
    if let Some(inst) = inst {
        if let InstructionData::Binary {
            opcode: Opcode::Iadd,
            args: [x, y],
        } = func.dfg.insts[inst]
        {
            let (n, c) = (terms.len(), *constant);
            if split(ranges, func, x, terms, constant, depth + 1)
                && split(ranges, func, y, terms, constant, depth + 1)
                && terms.len() <= MAX_TERMS
            {
                return true;
            }
            terms.truncate(n);
            *constant = c;
        }
    }
    match ranges.range(e) {
        Some(r) => {
            terms.push((e, r));
            true
        }
        None => false,
    }
}

/// `(base, e)` if `addr` is `base + uextend.i64 e` with `e` an i32.
fn heap_sum(func: &Function, addr: Value) -> Option<(Value, Value)> {
    let ValueDef::Result(add, 0) = func.dfg.value_def(addr) else {
        return None;
    };
    let InstructionData::Binary {
        opcode: Opcode::Iadd,
        args,
    } = func.dfg.insts[add]
    else {
        return None;
    };
    for (base, index) in [(args[0], args[1]), (args[1], args[0])] {
        if let ValueDef::Result(ext, 0) = func.dfg.value_def(index) {
            if let InstructionData::Unary {
                opcode: Opcode::Uextend,
                arg,
            } = func.dfg.insts[ext]
            {
                if func.dfg.value_type(arg) == types::I32 {
                    return Some((base, arg));
                }
            }
        }
    }
    None
}

/// Where `v` is defined, as a program point.
fn def_point(func: &Function, v: Value) -> ProgramPoint {
    match func.dfg.value_def(v) {
        ValueDef::Result(inst, _) => inst.into(),
        ValueDef::Param(block, _) => block.into(),
        ValueDef::Union(..) => unreachable!("no unions outside the e-graph"),
    }
}

/// The address operand and static offset of a plain load or store.
fn address_of(func: &Function, inst: Inst) -> Option<(Value, i32)> {
    match func.dfg.insts[inst] {
        InstructionData::Load { arg, offset, .. } => Some((arg, offset.into())),
        InstructionData::Store {
            args: [_, addr],
            offset,
            ..
        } => Some((addr, offset.into())),
        _ => None,
    }
}

struct Rewriter<'a> {
    domtree: &'a DominatorTree,
    loops: &'a LoopAnalysis,
    /// Instructions already made, by opcode, operands and whether they sit
    /// just before a given access (else after their last operand).
    made: HashMap<(Opcode, Value, Value, Option<Inst>), Value>,
}

impl Rewriter<'_> {
    /// Whether computing something right after `point` runs it no more
    /// often than `access`: `point` is in no loop that `access` is not in.
    fn hoistable(&self, func: &Function, point: ProgramPoint, access: Inst) -> bool {
        let block = match point {
            ProgramPoint::Inst(i) => func.layout.inst_block(i).expect("in the layout"),
            ProgramPoint::Block(b) => b,
        };
        let access_block = func.layout.inst_block(access).expect("in the layout");
        self.loops
            .innermost_loop(block)
            .is_none_or(|lp| self.loops.is_in_loop(access_block, lp))
    }

    /// `op a, b` (`op a` when `a == b`, for the extensions), made once,
    /// right after the later of its operands is defined, or just before
    /// `access` when that place is in a loop `access` is not in.
    fn make(&mut self, func: &mut Function, op: Opcode, a: Value, b: Value, access: Inst) -> Value {
        let (pa, pb) = (def_point(func, a), def_point(func, b));
        let later = if self.domtree.dominates(pa, pb, &func.layout) {
            pb
        } else {
            pa
        };
        let hoist = self.hoistable(func, later, access);
        let key = (op, a, b, (!hoist).then_some(access));
        if let Some(&v) = self.made.get(&key) {
            return v;
        }
        let mut pos = FuncCursor::new(func);
        if !hoist {
            pos.goto_inst(access);
        } else {
            match later {
                ProgramPoint::Inst(i) => pos.goto_after_inst(i),
                ProgramPoint::Block(b) => pos.goto_first_insertion_point(b),
            }
        }
        let v = match op {
            Opcode::Uextend => pos.ins().uextend(types::I64, a),
            Opcode::Sextend => pos.ins().sextend(types::I64, a),
            _ => pos.ins().iadd(a, b),
        };
        self.made.insert(key, v);
        v
    }
}

/// Rewrites addresses as described in the module comment.
pub(crate) fn fold_addresses(
    func: &mut Function,
    cfg: &ControlFlowGraph,
    domtree: &DominatorTree,
    loops: &LoopAnalysis,
) {
    let mut plans = Vec::new();
    {
        let mut ranges = Ranges::new(func, cfg, domtree);
        for block in func.layout.blocks() {
            for access in func.layout.block_insts(block) {
                if let Some(plan) = plan(func, loops, &mut ranges, access) {
                    plans.push(plan);
                }
            }
        }
    }
    let mut rewriter = Rewriter {
        domtree,
        loops,
        made: HashMap::new(),
    };
    for plan in plans {
        // The terms' extensions, then the sum from the outermost term in.
        let mut parts = vec![plan.base];
        for &(term, ext) in &plan.terms {
            parts.push(rewriter.make(func, ext, term, term, plan.access));
        }
        parts.sort_by(|&a, &b| {
            let (pa, pb) = (def_point(func, a), def_point(func, b));
            if pa == pb {
                std::cmp::Ordering::Equal
            } else if domtree.dominates(pa, pb, &func.layout) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            }
        });
        let mut addr = parts[0];
        for &part in &parts[1..] {
            addr = rewriter.make(func, Opcode::Iadd, addr, part, plan.access);
        }
        match &mut func.dfg.insts[plan.access] {
            InstructionData::Load { arg, offset, .. } => {
                *arg = addr;
                *offset = plan.offset.into();
            }
            InstructionData::Store { args, offset, .. } => {
                args[1] = addr;
                *offset = plan.offset.into();
            }
            _ => unreachable!("planned for loads and stores"),
        }
    }
}

/// The rewrite of `access`, if it has a 32-bit address that gains from it.
fn plan(
    func: &Function,
    loops: &LoopAnalysis,
    ranges: &mut Ranges<'_>,
    access: Inst,
) -> Option<Plan> {
    let (addr, offset) = address_of(func, access)?;
    let (base, e) = heap_sum(func, addr)?;
    let (mut terms, mut constant) = (Vec::new(), 0i64);
    if !split(ranges, func, e, &mut terms, &mut constant, 0)
        || (terms.len() == 1 && terms[0].0 == e)
    {
        return None;
    }
    // The sum of the true values must lie in [0, 2^32): then it is zext(e).
    let sum = terms
        .iter()
        .fold((constant, constant), |s, (_, r)| (s.0 + r.0, s.1 + r.1));
    if unsigned_window(sum) != Some(sum) {
        return None;
    }
    let access_block = func.layout.inst_block(access)?;
    let access_loop = loops.innermost_loop(access_block);
    let mut varying = 0;
    let mut extended = Vec::new();
    for &(term, r) in &terms {
        // The extension that gives the term's true value: zero for values
        // in [0, 2^32), sign for values in [-2^31, 0).
        let ext = if unsigned_window(r) == Some(r) {
            Opcode::Uextend
        } else if signed_window(r) == Some(r) {
            Opcode::Sextend
        } else {
            return None;
        };
        extended.push((term, ext));
        let term_block = def_block(func, term)?;
        if access_loop.is_none_or(|lp| loops.is_in_loop(term_block, lp)) {
            varying += 1;
        }
    }
    if varying > 1 {
        return None;
    }
    let offset = i32::try_from(i64::from(offset) + constant).ok()?;
    Some(Plan {
        access,
        base,
        terms: extended,
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clif::testing::nest;
    use cranelift_codegen::ir::Block;
    use cranelift_codegen::Context;
    use cranelift_frontend::FunctionBuilder;

    /// Runs the pass; returns the load's address operand and offset.
    fn rewrite(func: Function, load: Inst) -> (Function, Value, i32) {
        let mut ctx = Context::for_function(func);
        ctx.compute_cfg();
        ctx.compute_domtree();
        ctx.compute_loop_analysis();
        fold_addresses(&mut ctx.func, &ctx.cfg, &ctx.domtree, &ctx.loop_analysis);
        cranelift_codegen::verifier::verify_function(
            &ctx.func,
            &cranelift_codegen::settings::Flags::new(cranelift_codegen::settings::builder()),
        )
        .unwrap();
        let (addr, offset) = address_of(&ctx.func, load).unwrap();
        (ctx.func, addr, offset)
    }

    /// The instruction defining `v` and its operands.
    fn def(func: &Function, v: Value) -> (Opcode, Vec<Value>, Option<Block>) {
        let ValueDef::Result(inst, _) = func.dfg.value_def(v) else {
            panic!("{v} is not an instruction result")
        };
        (
            func.dfg.insts[inst].opcode(),
            func.dfg.inst_args(inst).to_vec(),
            func.layout.inst_block(inst),
        )
    }

    #[test]
    fn the_invariant_part_is_added_outside_the_loop_and_constants_join_the_offset() {
        // row + j + 8: row in 256..=704, j in 0..=60.
        let (func, load, inner, _) = nest(256, 0, 64, |b, row, j| {
            let s = b.ins().iadd(row, j);
            b.ins().iadd_imm_s(s, 8)
        });
        let (func, addr, offset) = rewrite(func, load);
        assert_eq!(offset, 8, "{}", func.display());
        // addr = (base + zext(row)) + zext(j), the first sum outside the
        // inner loop.
        let (op, args, block) = def(&func, addr);
        assert_eq!((op, block), (Opcode::Iadd, Some(inner)));
        let (op, _, block) = def(&func, args[0]);
        assert_eq!(op, Opcode::Iadd);
        assert_ne!(block, Some(inner), "{}", func.display());
        assert_eq!(def(&func, args[1]).0, Opcode::Uextend);
    }

    #[test]
    fn negative_true_values_are_sign_extended() {
        // j from -256 to -4, read at j + 2048.
        let (func, load, _, _) = nest(0, -256, 0, |b, _, j| b.ins().iadd_imm_s(j, 2048));
        let (func, addr, offset) = rewrite(func, load);
        assert_eq!(offset, 2048);
        let (_, args, _) = def(&func, addr);
        assert_eq!(def(&func, args[1]).0, Opcode::Sextend, "{}", func.display());
    }

    /// `nest`'s first three arguments and its address.
    type Case = (
        i64,
        i64,
        i64,
        fn(&mut FunctionBuilder, Value, Value) -> Value,
    );

    #[test]
    fn sums_that_wrap_or_are_unknown_stay_as_they_are() {
        let cases: [Case; 4] = [
            // j - 64 for j in 0..=60: below zero, the i32 sum wraps.
            (0, 0, 64, |b, _, j| b.ins().iadd_imm_s(j, -64)),
            // row + j for row up to 0x7fff_ffc0 + 448 and j up to 2^31:
            // past 2^32.
            (0x7fff_ffc0, 0, 1 << 31, |b, row, j| b.ins().iadd(row, j)),
            // j + j: two terms that vary in the loop gain nothing.
            (0, 0, 64, |b, _, j| b.ins().iadd(j, j)),
            // A term with no range: row * j.
            (0, 0, 64, |b, row, j| {
                let m = b.ins().imul(row, j);
                b.ins().iadd_imm_s(m, 4)
            }),
        ];
        for (row0, j0, j_end, address) in cases {
            let (func, load, _, _) = nest(row0, j0, j_end, address);
            let before = address_of(&func, load).unwrap();
            let (func, addr, offset) = rewrite(func, load);
            assert_eq!((addr, offset), before, "{}", func.display());
        }
    }
}
