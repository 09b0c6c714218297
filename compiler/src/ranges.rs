//! Ranges of 32-bit values, from how they are computed and from counted
//! loops, after the e-graph pass.
//!
//! A Wasm address is an i32 that the access zero-extends, so an address
//! computed as `a + b` or `a - 32` costs an i32 addition in the loop even
//! where a 64-bit address mode could take both parts for free
//! (`-32(base, a)`), or where `base + a` could be computed once outside the
//! loop: `zext(a + b)` is `zext(a) + zext(b)` only if the sum does not
//! wrap. This module proves that it does not, from the ranges the values
//! can take, and then [`crate::addresses`] rewrites the address.
//!
//! SANDBOX-CRITICAL: a wrong range would move a guest access. Every rule
//! here must hold for every execution, so the analysis gives up (no range)
//! on anything it does not fully understand.
//!
//! A range `(lo, hi)` of an i32 value `v` says: in every execution, `v` is
//! `x mod 2^32` for some integer `x` in `lo..=hi`. These `x` are the
//! "true" values: `i = 0xffff_fff0; i += 1` counts through -16..=-1 and
//! `(0x400400 + i)` is then 0x4003f0..=0x4003ff, without wrapping, although
//! both wrap as unsigned numbers. Ranges are at most 2^32 wide, so `x` is
//! unique, and within ±2^40, so their arithmetic cannot overflow.
//!
//! Sources of ranges: constants (read as signed), masks, unsigned shifts,
//! remainders, narrow loads and extensions, sums, differences and scalings
//! of ranged values, selects and block parameters (the union of what each
//! predecessor passes), and induction variables of counted loops: a loop
//! header's parameter that its only back edge passes as `p + k`, where that
//! back edge is taken only while a counter of the same loop passes a test
//! against a ranged limit (`i' != n`, `i' <u n`, `i <s n`, ...). The test
//! bounds how many times the back edge can be taken in a row (without
//! leaving the loop), and so how far `p` can move from where it entered.

use std::collections::{HashMap, HashSet};

use crate::clif::signed_const;

use cranelift_codegen::dominator_tree::DominatorTree;
use cranelift_codegen::flowgraph::ControlFlowGraph;
use cranelift_codegen::ir::condcodes::{CondCode, IntCC};
use cranelift_codegen::ir::{
    types, Block, BlockArg, Function, Inst, InstructionData, Opcode, Value, ValueDef,
};

/// Inclusive range of true values (see the module comment).
pub(crate) type Range = (i64, i64);

const TWO_32: i64 = 1 << 32;
const TWO_31: i64 = 1 << 31;
/// Bound on the magnitude of range ends.
const LIMIT: i64 = 1 << 40;
/// Bound on the recursion of the analysis (deeply nested expressions or
/// long chains of blocks get no range rather than a deep stack).
const MAX_DEPTH: u32 = 40;

/// `(lo, hi)` if it is a valid range.
fn checked(lo: i64, hi: i64) -> Option<Range> {
    (lo <= hi && hi - lo < TWO_32 && lo > -LIMIT && hi < LIMIT).then_some((lo, hi))
}

/// The smallest range holding both, trying `b` moved by ±2^32 (the same
/// values, read differently).
fn union(a: Range, b: Range) -> Option<Range> {
    [0, TWO_32, -TWO_32]
        .into_iter()
        .filter_map(|shift| checked(a.0.min(b.0 + shift), a.1.max(b.1 + shift)))
        .min_by_key(|r| r.1 - r.0)
}

/// `r` moved by a multiple of 2^32 into `[base, base + 2^32)`, if it fits.
fn into_window(r: Range, base: i64) -> Option<Range> {
    let k = (r.0 - base).div_euclid(TWO_32);
    let (lo, hi) = (r.0 - k * TWO_32, r.1 - k * TWO_32);
    (hi < base + TWO_32).then_some((lo, hi))
}

/// `r` moved into the unsigned window `[0, 2^32)`, if it fits.
pub(crate) fn unsigned_window(r: Range) -> Option<Range> {
    into_window(r, 0)
}

/// `r` moved into the signed window `[-2^31, 2^31)`, if it fits.
pub(crate) fn signed_window(r: Range) -> Option<Range> {
    into_window(r, -TWO_31)
}

/// The step `k` if `a` is `p + k` or `p - k` with `k` constant (0 if `a`
/// is `p` itself).
pub(crate) fn step_of(func: &Function, p: Value, a: Value) -> Option<i64> {
    if a == p {
        return Some(0);
    }
    let ValueDef::Result(inst, 0) = func.dfg.value_def(a) else {
        return None;
    };
    let InstructionData::Binary {
        opcode,
        args: [x, y],
    } = func.dfg.insts[inst]
    else {
        return None;
    };
    match opcode {
        Opcode::Iadd if x == p => signed_const(&func.dfg, y),
        Opcode::Iadd if y == p => signed_const(&func.dfg, x),
        Opcode::Isub if x == p => signed_const(&func.dfg, y).map(|k| -k),
        _ => None,
    }
}

/// The incoming edges of a block: what each branch to it passes for
/// parameter `index`, split into back edges (from blocks the block
/// dominates) and entries. `None` if some argument is not a plain value.
struct Edges {
    entries: Vec<Value>,
    back: Vec<(Inst, Value)>,
}

/// Ranges of i32 values in one function (see the module comment).
pub(crate) struct Ranges<'a> {
    func: &'a Function,
    cfg: &'a ControlFlowGraph,
    domtree: &'a DominatorTree,
    memo: HashMap<Value, Option<Range>>,
    busy: HashSet<Value>,
    trips: HashMap<Block, Option<i64>>,
}

impl<'a> Ranges<'a> {
    pub(crate) fn new(
        func: &'a Function,
        cfg: &'a ControlFlowGraph,
        domtree: &'a DominatorTree,
    ) -> Self {
        Ranges {
            func,
            cfg,
            domtree,
            memo: HashMap::new(),
            busy: HashSet::new(),
            trips: HashMap::new(),
        }
    }

    /// The range of the i32 value `v`, if one is known.
    pub(crate) fn range(&mut self, v: Value) -> Option<Range> {
        self.range_at(v, 0)
    }

    fn range_at(&mut self, v: Value, depth: u32) -> Option<Range> {
        if self.func.dfg.value_type(v) != types::I32 {
            return None;
        }
        if let Some(&r) = self.memo.get(&v) {
            return r;
        }
        // A value met again while its own range is being worked out (a
        // cycle through block parameters) has none.
        if depth > MAX_DEPTH || !self.busy.insert(v) {
            return None;
        }
        let r = self.compute(v, depth + 1);
        self.busy.remove(&v);
        self.memo.insert(v, r);
        r
    }

    fn compute(&mut self, v: Value, depth: u32) -> Option<Range> {
        let func = self.func;
        let inst = match func.dfg.value_def(v) {
            ValueDef::Param(block, index) => return self.param_range(block, index, depth),
            ValueDef::Result(inst, 0) => inst,
            _ => return None,
        };
        if let Some(c) = signed_const(&func.dfg, v) {
            return Some((c, c));
        }
        match func.dfg.insts[inst] {
            InstructionData::Binary {
                opcode,
                args: [x, y],
            } => {
                let c = signed_const(&func.dfg, y);
                match opcode {
                    Opcode::Iadd => {
                        let (a, b) = (self.range_at(x, depth)?, self.range_at(y, depth)?);
                        checked(a.0 + b.0, a.1 + b.1)
                    }
                    Opcode::Isub => {
                        let (a, b) = (self.range_at(x, depth)?, self.range_at(y, depth)?);
                        checked(a.0 - b.1, a.1 - b.0)
                    }
                    Opcode::Imul => {
                        let (r, k) = match (c, signed_const(&func.dfg, x)) {
                            (Some(k), _) => (self.range_at(x, depth)?, k),
                            (None, Some(k)) => (self.range_at(y, depth)?, k),
                            (None, None) => return None,
                        };
                        let (a, b) = (r.0.checked_mul(k)?, r.1.checked_mul(k)?);
                        checked(a.min(b), a.max(b))
                    }
                    // `x << k` is `x * 2^k` modulo 2^32.
                    Opcode::Ishl => {
                        let k = c? & 31;
                        let r = self.range_at(x, depth)?;
                        checked(r.0.checked_mul(1 << k)?, r.1.checked_mul(1 << k)?)
                    }
                    Opcode::Ushr => {
                        let k = c? & 31;
                        match self.range_at(x, depth).and_then(unsigned_window) {
                            Some(r) => Some((r.0 >> k, r.1 >> k)),
                            None => Some((0, (TWO_32 - 1) >> k)),
                        }
                    }
                    // `x & m` is at most `m` as unsigned numbers.
                    Opcode::Band => {
                        let m = c.or_else(|| signed_const(&func.dfg, x))?;
                        Some((0, m & (TWO_32 - 1)))
                    }
                    Opcode::Urem => {
                        let m = c? & (TWO_32 - 1);
                        (m > 0).then_some((0, m - 1))
                    }
                    _ => None,
                }
            }
            InstructionData::Unary {
                opcode: Opcode::Uextend,
                arg,
            } => match func.dfg.value_type(arg) {
                types::I8 => Some((0, 0xff)),
                types::I16 => Some((0, 0xffff)),
                _ => None,
            },
            InstructionData::Load {
                opcode: Opcode::Uload8,
                ..
            } => Some((0, 0xff)),
            InstructionData::Load {
                opcode: Opcode::Uload16,
                ..
            } => Some((0, 0xffff)),
            InstructionData::Ternary {
                opcode: Opcode::Select,
                args: [_, x, y],
            } => {
                let (a, b) = (self.range_at(x, depth)?, self.range_at(y, depth)?);
                union(a, b)
            }
            _ => None,
        }
    }

    /// What the branches to `block` pass for its parameter `index`.
    fn edges(&self, block: Block, index: usize) -> Option<Edges> {
        let func = self.func;
        let mut edges = Edges {
            entries: Vec::new(),
            back: Vec::new(),
        };
        for pred in self.cfg.pred_iter(block) {
            let back = self.domtree.block_dominates(block, pred.block);
            for call in func.dfg.insts[pred.inst]
                .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables)
            {
                if call.block(&func.dfg.value_lists) != block {
                    continue;
                }
                let BlockArg::Value(arg) = call.args(&func.dfg.value_lists).nth(index)? else {
                    return None;
                };
                if back {
                    edges.back.push((pred.inst, arg));
                } else {
                    edges.entries.push(arg);
                }
            }
        }
        Some(edges)
    }

    /// The union of the ranges of what `block`'s entries pass for
    /// parameter `index`, and its back edges.
    fn entry_range(&mut self, block: Block, index: usize, depth: u32) -> Option<(Range, Edges)> {
        let edges = self.edges(block, index)?;
        let mut range: Option<Range> = None;
        for &arg in &edges.entries {
            let r = self.range_at(arg, depth)?;
            range = Some(match range {
                None => r,
                Some(acc) => union(acc, r)?,
            });
        }
        Some((range?, edges))
    }

    fn param_range(&mut self, block: Block, index: usize, depth: u32) -> Option<Range> {
        let p = self.func.dfg.block_params(block)[index];
        let (init, edges) = self.entry_range(block, index, depth)?;
        let [(_, arg)] = edges.back[..] else {
            // No back edge: the parameter is what the entries pass.
            return edges.back.is_empty().then_some(init);
        };
        let k = step_of(self.func, p, arg)?;
        if k == 0 {
            return Some(init);
        }
        let moved = self.trips(block, depth)?.checked_mul(k)?;
        checked(init.0 + moved.min(0), init.1 + moved.max(0))
    }

    /// How many times in a row the only back edge of the loop headed by
    /// `header` can be taken, at most.
    fn trips(&mut self, header: Block, depth: u32) -> Option<i64> {
        if let Some(&t) = self.trips.get(&header) {
            return t;
        }
        // Unknown while being worked out (the limit may depend on it).
        self.trips.insert(header, None);
        let t = self.compute_trips(header, depth);
        self.trips.insert(header, t);
        t
    }

    fn compute_trips(&mut self, header: Block, depth: u32) -> Option<i64> {
        let func = self.func;
        let mut latches = self
            .cfg
            .pred_iter(header)
            .filter(|p| self.domtree.block_dominates(header, p.block));
        let latch = latches.next()?;
        if latches.next().is_some() {
            return None;
        }
        let branch = latch.inst;
        let InstructionData::Brif {
            arg: cond,
            blocks: [then, other],
            ..
        } = func.dfg.insts[branch]
        else {
            return None;
        };
        let (then, other) = (
            then.block(&func.dfg.value_lists),
            other.block(&func.dfg.value_lists),
        );
        if (then == header) == (other == header) {
            return None;
        }
        // `icmp cc x, y`, or an integer tested against zero (`y` is `None`).
        let (x, y, cc) = match func.dfg.value_def(cond) {
            ValueDef::Result(test, 0) => match func.dfg.insts[test] {
                InstructionData::IntCompare {
                    opcode: Opcode::Icmp,
                    args: [x, y],
                    cond,
                } => (x, Some(y), cond),
                _ => (cond, None, IntCC::NotEqual),
            },
            _ => (cond, None, IntCC::NotEqual),
        };
        // The condition under which the back edge is taken.
        let cc = if then == header { cc } else { cc.complement() };
        let call = func.dfg.insts[branch]
            .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables)
            .iter()
            .find(|c| c.block(&func.dfg.value_lists) == header)
            .copied()?;
        let passed: Vec<BlockArg> = call.args(&func.dfg.value_lists).collect();
        let params = func.dfg.block_params(header).to_vec();
        let mut tests = vec![(x, y, cc)];
        if let Some(y) = y {
            tests.push((y, Some(x), cc.swap_args()));
        }
        for (tested, limit, cc) in tests {
            // The counter: a parameter `q` passed round as `q + step`, and
            // tested either as `q + step` (after = 1) or as `q` (after = 0).
            for (index, (&q, arg)) in params.iter().zip(&passed).enumerate() {
                let BlockArg::Value(arg) = *arg else {
                    continue;
                };
                let after = if arg == tested {
                    1
                } else if q == tested {
                    0
                } else {
                    continue;
                };
                let Some(step) = step_of(func, q, arg).filter(|&s| s != 0) else {
                    continue;
                };
                let Some((init, _)) = self.entry_range(header, index, depth) else {
                    continue;
                };
                let limit = match limit {
                    Some(limit) => self.range_at(limit, depth),
                    None => Some((0, 0)),
                };
                let Some(limit) = limit else {
                    continue;
                };
                // The first value tested, for each way in.
                let first = (init.0 + after * step, init.1 + after * step);
                if let Some(t) = count_passes(first, step, cc, limit) {
                    return Some(t);
                }
            }
        }
        None
    }
}

/// How many of the values `first, first + step, first + 2 step, ...` (true
/// values, compared as the i32 values they are) pass `value cc limit` one
/// after the other, at most, for every `first` in its range: the number
/// of back edges taken before the test fails. `None` if the values could
/// wrap round and pass again.
fn count_passes(first: Range, step: i64, cc: IntCC, limit: Range) -> Option<i64> {
    use IntCC::*;
    let up = step > 0;
    let magnitude = step.abs();
    match cc {
        // The values hit the limit exactly: a constant limit ahead of every
        // first value, and each first value a whole number of steps before
        // it (any for steps of ±1, else one first value).
        NotEqual => {
            if limit.0 != limit.1 || (magnitude != 1 && first.0 != first.1) {
                return None;
            }
            [limit.0, limit.0 + TWO_32, limit.0 - TWO_32]
                .into_iter()
                .find_map(|end| {
                    let (near, far) = if up {
                        (end - first.1, end - first.0)
                    } else {
                        (first.0 - end, first.1 - end)
                    };
                    (near >= 0 && far < TWO_32 && far % magnitude == 0).then_some(far / magnitude)
                })
        }
        UnsignedLessThan
        | UnsignedLessThanOrEqual
        | SignedLessThan
        | SignedLessThanOrEqual
        | UnsignedGreaterThan
        | UnsignedGreaterThanOrEqual
        | SignedGreaterThan
        | SignedGreaterThanOrEqual => {
            // The window the comparison reads its operands in.
            let lo_end = if matches!(
                cc,
                SignedLessThan
                    | SignedLessThanOrEqual
                    | SignedGreaterThan
                    | SignedGreaterThanOrEqual
            ) {
                -TWO_31
            } else {
                0
            };
            let hi_end = lo_end + TWO_32 - 1;
            let (first, limit) = (into_window(first, lo_end)?, into_window(limit, lo_end)?);
            // The values stay in the window while they pass, so the
            // comparisons see them in order.
            match cc {
                UnsignedLessThan
                | SignedLessThan
                | UnsignedLessThanOrEqual
                | SignedLessThanOrEqual
                    if up =>
                {
                    let last = if matches!(cc, UnsignedLessThan | SignedLessThan) {
                        limit.1 - 1
                    } else {
                        limit.1
                    };
                    if last + magnitude > hi_end {
                        return None;
                    }
                    Some(if last < first.0 {
                        0
                    } else {
                        (last - first.0) / magnitude + 1
                    })
                }
                UnsignedGreaterThan
                | SignedGreaterThan
                | UnsignedGreaterThanOrEqual
                | SignedGreaterThanOrEqual
                    if !up =>
                {
                    let last = if matches!(cc, UnsignedGreaterThan | SignedGreaterThan) {
                        limit.0 + 1
                    } else {
                        limit.0
                    };
                    if last - magnitude < lo_end {
                        return None;
                    }
                    Some(if last > first.1 {
                        0
                    } else {
                        (first.1 - last) / magnitude + 1
                    })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    //! The analysis against brute force: loops built from random counters,
    //! steps, limits and tests, run step by step in Rust; every value a
    //! parameter takes must lie in the range the analysis claims.
    use super::*;
    use crate::clif::testing::{frontend, nest};
    use cranelift_codegen::ir::InstBuilder;
    use cranelift_codegen::Context;
    use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

    /// Whether the i32 `v` is `x mod 2^32` for some `x` in `r`.
    fn holds(r: Range, v: u32) -> bool {
        let x = r.0 + (i64::from(v) - r.0).rem_euclid(TWO_32);
        x <= r.1
    }

    fn test(cc: IntCC, a: u32, b: u32) -> bool {
        use IntCC::*;
        let (sa, sb) = (a as i32, b as i32);
        match cc {
            Equal => a == b,
            NotEqual => a != b,
            SignedLessThan => sa < sb,
            SignedLessThanOrEqual => sa <= sb,
            SignedGreaterThan => sa > sb,
            SignedGreaterThanOrEqual => sa >= sb,
            UnsignedLessThan => a < b,
            UnsignedLessThanOrEqual => a <= b,
            UnsignedGreaterThan => a > b,
            UnsignedGreaterThanOrEqual => a >= b,
        }
    }

    /// One counted loop: counter `q` and a second variable `p`, each
    /// entering with one of two values, stepping by a constant; the back
    /// edge is taken while `(q or q + kq) cc limit` (or with the operands
    /// swapped, or with the branch the other way round), or while the
    /// counter is not zero.
    #[derive(Clone, Copy, Debug)]
    struct Shape {
        q_init: [u32; 2],
        p_init: [u32; 2],
        kq: u32,
        kp: u32,
        limit: u32,
        cc: IntCC,
        after: bool,
        swap: bool,
        flip: bool,
        zero_test: bool,
        sub: bool,
    }

    impl Shape {
        /// `q = q0; do { p += kp } while ((q += kq) != limit)` from `p = 0`.
        fn counting(q0: u32, kq: u32, limit: u32) -> Shape {
            Shape {
                q_init: [q0, q0],
                p_init: [0, 0],
                kq,
                kp: 1,
                limit,
                cc: IntCC::NotEqual,
                after: true,
                swap: false,
                flip: false,
                zero_test: false,
                sub: false,
            }
        }
    }

    /// The loop as CLIF: `entry(sel)` picks the initial values, `head(q, p)`
    /// loops, and the exit returns `p`.
    fn build(s: &Shape) -> Function {
        let mut func = crate::clif::testing::function("loop", types::I32);
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let (entry, head, exit) = (b.create_block(), b.create_block(), b.create_block());
        b.append_block_params_for_function_params(entry);
        b.append_block_param(head, types::I32);
        b.append_block_param(head, types::I32);
        b.switch_to_block(entry);
        let sel = b.block_params(entry)[0];
        let konst = |b: &mut FunctionBuilder, v: u32| b.ins().iconst(types::I32, i64::from(v));
        let (qa, qb) = (konst(&mut b, s.q_init[0]), konst(&mut b, s.q_init[1]));
        let (pa, pb) = (konst(&mut b, s.p_init[0]), konst(&mut b, s.p_init[1]));
        let q0 = b.ins().select(sel, qa, qb);
        let p0 = b.ins().select(sel, pa, pb);
        b.ins().jump(head, &[q0.into(), p0.into()]);
        b.switch_to_block(head);
        let (q, p) = (b.block_params(head)[0], b.block_params(head)[1]);
        let q2 = if s.sub {
            let minus = konst(&mut b, s.kq.wrapping_neg());
            b.ins().isub(q, minus)
        } else {
            let k = konst(&mut b, s.kq);
            b.ins().iadd(q, k)
        };
        let kp = konst(&mut b, s.kp);
        let p2 = b.ins().iadd(p, kp);
        let tested = if s.after { q2 } else { q };
        let cond = if s.zero_test {
            tested
        } else {
            let limit = konst(&mut b, s.limit);
            let (cc, x, y) = if s.swap {
                (s.cc.swap_args(), limit, tested)
            } else {
                (s.cc, tested, limit)
            };
            // With the branch the other way round, the test is the
            // complement of the condition for going round.
            let cc = if s.flip { cc.complement() } else { cc };
            b.ins().icmp(cc, x, y)
        };
        if s.flip && !s.zero_test {
            b.ins().brif(cond, exit, &[], head, &[q2.into(), p2.into()]);
        } else {
            b.ins().brif(cond, head, &[q2.into(), p2.into()], exit, &[]);
        }
        b.switch_to_block(exit);
        b.ins().return_(&[p]);
        b.seal_all_blocks();
        b.finalize(frontend());
        func
    }

    /// Runs the loop for each way in (at most `cap` iterations) and checks
    /// every value of `q` and `p` against the claimed ranges.
    fn check(s: &Shape, rq: Option<Range>, rp: Option<Range>, cap: u32) {
        for way in 0..2 {
            let (mut q, mut p) = (s.q_init[way], s.p_init[way]);
            for _ in 0..cap {
                if let Some(r) = rq {
                    assert!(holds(r, q), "q = {q:#x} outside {r:?}: {s:?}");
                }
                if let Some(r) = rp {
                    assert!(holds(r, p), "p = {p:#x} outside {r:?}: {s:?}");
                }
                let q2 = q.wrapping_add(s.kq);
                let tested = if s.after { q2 } else { q };
                let go = if s.zero_test {
                    tested != 0
                } else {
                    test(s.cc, tested, s.limit)
                };
                if !go {
                    break;
                }
                (q, p) = (q2, p.wrapping_add(s.kp));
            }
        }
    }

    fn analyse(func: Function) -> (Option<Range>, Option<Range>) {
        let mut ctx = Context::for_function(func);
        ctx.compute_cfg();
        ctx.compute_domtree();
        let head = ctx.func.layout.blocks().nth(1).unwrap();
        let (q, p) = (
            ctx.func.dfg.block_params(head)[0],
            ctx.func.dfg.block_params(head)[1],
        );
        let mut ranges = Ranges::new(&ctx.func, &ctx.cfg, &ctx.domtree);
        (ranges.range(q), ranges.range(p))
    }

    /// A small deterministic generator (xorshift).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn one_in(&mut self, n: u64) -> bool {
            self.next().is_multiple_of(n)
        }
        fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
            xs[(self.next() % xs.len() as u64) as usize]
        }
        /// A value near an interesting boundary.
        fn value(&mut self) -> u32 {
            let base = self.pick(&[
                0u32,
                0,
                0,
                16,
                100,
                1 << 16,
                0x7fff_ffff,
                0x8000_0000,
                0xffff_ffff,
            ]);
            let delta = self.pick(&[0i32, 0, 1, -1, 2, -2, 3, 7, -7, 64, -64, 1000, -1000]);
            if self.one_in(8) {
                self.next() as u32
            } else {
                base.wrapping_add(delta as u32)
            }
        }
        fn step(&mut self) -> u32 {
            let k = self.pick(&[
                1i32,
                1,
                -1,
                -1,
                2,
                -2,
                3,
                -3,
                4,
                8,
                -8,
                16,
                56,
                1 << 20,
                0x4000_0001,
                0x7fff_ffff,
            ]);
            k as u32
        }
    }

    #[test]
    fn claimed_ranges_hold_for_random_counted_loops() {
        use IntCC::*;
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let ccs = [
            Equal,
            NotEqual,
            SignedLessThan,
            SignedLessThanOrEqual,
            SignedGreaterThan,
            SignedGreaterThanOrEqual,
            UnsignedLessThan,
            UnsignedLessThanOrEqual,
            UnsignedGreaterThan,
            UnsignedGreaterThanOrEqual,
        ];
        let mut proven = 0;
        for _ in 0..20_000 {
            let q0 = rng.value();
            let s = Shape {
                q_init: [
                    q0,
                    if rng.one_in(2) {
                        q0
                    } else {
                        q0.wrapping_add(rng.next() as u32 % 5)
                    },
                ],
                p_init: [rng.value(), rng.value()],
                kq: rng.step(),
                kp: rng.step(),
                limit: if rng.one_in(2) {
                    q0.wrapping_add((rng.next() % 300) as u32)
                } else {
                    rng.value()
                },
                cc: rng.pick(&ccs),
                after: rng.one_in(2),
                swap: rng.one_in(2),
                flip: rng.one_in(2),
                zero_test: rng.one_in(8),
                sub: rng.one_in(2),
            };
            let (rq, rp) = analyse(build(&s));
            if rp.is_some_and(|r| r.0 != r.1) {
                proven += 1;
            }
            check(&s, rq, rp, 4096);
        }
        // The generator makes many loops the analysis can bound.
        assert!(proven > 2_000, "only {proven} loops bounded");
    }

    #[test]
    fn a_counter_that_misses_its_limit_has_no_range() {
        // 0, 3, 6, ... never equals 100: the loop runs until the counter
        // wraps round, so nothing bounds `p`.
        let s = Shape::counting(0, 3, 100);
        assert_eq!(analyse(build(&s)), (None, None));
        // 0, 4, ..., 100: 25 trips.
        let s = Shape { kq: 4, ..s };
        assert_eq!(analyse(build(&s)), (Some((0, 96)), Some((0, 24))));
    }

    #[test]
    fn counters_below_zero_are_signed_true_values() {
        // q = -16, -12, ..., 12 (leaves when q + 4 == 16): true values, not
        // 0xffff_fff0..
        let s = Shape {
            p_init: [100, 100],
            kp: (-8i32) as u32,
            ..Shape::counting(0xffff_fff0, 4, 16)
        };
        assert_eq!(analyse(build(&s)), (Some((-16, 12)), Some((44, 100))));
        // Unsigned `q + 4 <u 16` from -16: the first test fails (0xffff_fff4
        // is not below 16), so the loop body runs once.
        let s = Shape {
            cc: IntCC::UnsignedLessThan,
            ..s
        };
        assert_eq!(analyse(build(&s)), (Some((-16, -16)), Some((100, 100))));
    }

    #[test]
    fn nested_loops_bound_the_outer_variable_by_the_outer_counter() {
        // for (r = 0, row = 256; r != 8; r++, row += 64)
        //     for (j = 0; j + 4 != 64; j += 4) ... row + j ...
        let (func, _, _, [r, row, j]) = nest(256, 0, 64, |b, row, j| b.ins().iadd(row, j));
        let mut ctx = Context::for_function(func);
        ctx.compute_cfg();
        ctx.compute_domtree();
        let mut ranges = Ranges::new(&ctx.func, &ctx.cfg, &ctx.domtree);
        assert_eq!(ranges.range(r), Some((0, 7)));
        assert_eq!(ranges.range(row), Some((256, 704)));
        assert_eq!(ranges.range(j), Some((0, 60)));
    }
}
