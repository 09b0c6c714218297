//! Structured control flow: block, loop, if/else, br, br_if, br_table,
//! return, unreachable, drop, select — and skipping unreachable code.
//!
//! Each Wasm block maps to Cranelift blocks whose parameters carry the
//! block's results (or, for a loop header, its parameters), so values flow
//! through block arguments and never through memory.

use super::{clif_type, FuncCx};
use crate::abi::TrapCode;
use crate::desc::ValType;
use crate::Error;
use cranelift_codegen::ir::{self, BlockArg, InstBuilder, JumpTableData, Value};
use wasmparser::{BlockType, Operator};

#[derive(Debug)]
pub enum FrameKind {
    Function,
    Block,
    Loop,
    If {
        /// Where the condition goes when false; params = the if's params.
        else_block: ir::Block,
        /// Whether an `else` was seen.
        has_else: bool,
        /// Whether the `if` was reached (so the else path is live).
        else_reachable: bool,
    },
}

/// One entry of the control stack.
#[derive(Debug)]
pub struct Frame {
    pub kind: FrameKind,
    /// The block after `end`; its params are the frame's results.
    pub next: ir::Block,
    /// Where `br` to this frame goes: `next`, or the loop header.
    pub br_dest: ir::Block,
    pub num_params: usize,
    pub num_results: usize,
    /// Operand stack height below this frame's params.
    pub stack_height: usize,
    /// Whether any edge reaches `next`.
    pub next_reachable: bool,
}

impl Frame {
    pub fn function(exit: ir::Block, num_results: usize) -> Frame {
        Frame {
            kind: FrameKind::Function,
            next: exit,
            br_dest: exit,
            num_params: 0,
            num_results,
            stack_height: 0,
            next_reachable: false,
        }
    }

    /// Number of values a branch to this frame carries.
    fn br_arity(&self) -> usize {
        match self.kind {
            FrameKind::Loop => self.num_params,
            _ => self.num_results,
        }
    }
}

pub fn block_args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|v| BlockArg::Value(*v)).collect()
}

/// Params and results of a block type.
fn block_signature(
    cx: &FuncCx<'_, '_, '_, '_>,
    bt: BlockType,
) -> Result<(Vec<ValType>, Vec<ValType>), Error> {
    Ok(match bt {
        BlockType::Empty => (vec![], vec![]),
        BlockType::Type(t) => (vec![], vec![crate::module::val_type(t, cx.offset)?]),
        BlockType::FuncType(i) => {
            let t = &cx.env.module.info.types[i as usize];
            (t.params.clone(), t.results.clone())
        }
    })
}

fn block_with_params(cx: &mut FuncCx<'_, '_, '_, '_>, types: &[ValType]) -> ir::Block {
    let b = cx.builder.create_block();
    for t in types {
        cx.builder.append_block_param(b, clif_type(*t));
    }
    b
}

fn jump(cx: &mut FuncCx<'_, '_, '_, '_>, dest: ir::Block, values: &[Value]) {
    let args = block_args(values);
    cx.builder.ins().jump(dest, &args);
}

/// Index into `cx.control` of the frame `depth` levels out.
fn frame_index(cx: &FuncCx<'_, '_, '_, '_>, depth: u32) -> usize {
    cx.control.len() - 1 - depth as usize
}

pub(super) fn translate_control(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    op: &Operator<'_>,
) -> Result<(), Error> {
    match op {
        Operator::Nop => {}
        Operator::Unreachable => {
            cx.builder
                .ins()
                .trap(super::clif_trap(TrapCode::Unreachable));
            cx.unreachable_depth = 1;
        }
        Operator::Block { blockty } => translate_block(cx, *blockty)?,
        Operator::Loop { blockty } => translate_loop(cx, *blockty)?,
        Operator::If { blockty } => translate_if(cx, *blockty)?,
        Operator::Else => translate_else(cx, true),
        Operator::End => translate_end(cx, true),
        Operator::Br { relative_depth } => {
            translate_br(cx, *relative_depth);
            cx.unreachable_depth = 1;
        }
        Operator::BrIf { relative_depth } => translate_br_if(cx, *relative_depth),
        Operator::BrTable { targets } => {
            translate_br_table(cx, targets)?;
            cx.unreachable_depth = 1;
        }
        Operator::Return => {
            translate_br(cx, (cx.control.len() - 1) as u32);
            cx.unreachable_depth = 1;
        }
        Operator::Drop => {
            cx.pop1();
        }
        Operator::Select | Operator::TypedSelect { .. } => {
            let (a, b, cond) = cx.pop3();
            let v = cx.builder.ins().select(cond, a, b);
            cx.push(v);
        }
        _ => unreachable!("not a control operator: {op:?}"),
    }
    Ok(())
}

fn translate_block(cx: &mut FuncCx<'_, '_, '_, '_>, bt: BlockType) -> Result<(), Error> {
    let (params, results) = block_signature(cx, bt)?;
    let next = block_with_params(cx, &results);
    cx.control.push(Frame {
        kind: FrameKind::Block,
        next,
        br_dest: next,
        num_params: params.len(),
        num_results: results.len(),
        stack_height: cx.stack.len() - params.len(),
        next_reachable: false,
    });
    Ok(())
}

fn translate_loop(cx: &mut FuncCx<'_, '_, '_, '_>, bt: BlockType) -> Result<(), Error> {
    let (params, results) = block_signature(cx, bt)?;
    let header = block_with_params(cx, &params);
    let next = block_with_params(cx, &results);
    let args = cx.popn(params.len());
    jump(cx, header, &args);
    cx.builder.switch_to_block(header);
    let header_params = cx.builder.block_params(header).to_vec();
    let stack_height = cx.stack.len();
    cx.stack.extend(header_params);
    cx.control.push(Frame {
        kind: FrameKind::Loop,
        next,
        br_dest: header,
        num_params: params.len(),
        num_results: results.len(),
        stack_height,
        next_reachable: false,
    });
    Ok(())
}

fn translate_if(cx: &mut FuncCx<'_, '_, '_, '_>, bt: BlockType) -> Result<(), Error> {
    let (params, results) = block_signature(cx, bt)?;
    let cond = cx.pop1();
    let then_block = block_with_params(cx, &params);
    let else_block = block_with_params(cx, &params);
    let next = block_with_params(cx, &results);
    let args = block_args(cx.peekn(params.len()));
    cx.builder
        .ins()
        .brif(cond, then_block, &args, else_block, &args);
    cx.builder.seal_block(then_block);
    cx.builder.seal_block(else_block);
    cx.builder.switch_to_block(then_block);
    let stack_height = cx.stack.len() - params.len();
    cx.stack.truncate(stack_height);
    let then_params = cx.builder.block_params(then_block).to_vec();
    cx.stack.extend(then_params);
    cx.control.push(Frame {
        kind: FrameKind::If {
            else_block,
            has_else: false,
            else_reachable: true,
        },
        next,
        br_dest: next,
        num_params: params.len(),
        num_results: results.len(),
        stack_height,
        next_reachable: false,
    });
    Ok(())
}

/// `else`; `reachable` says whether the end of the then-arm is reachable.
fn translate_else(cx: &mut FuncCx<'_, '_, '_, '_>, reachable: bool) {
    let frame = cx.control.last_mut().expect("validated: else inside if");
    let FrameKind::If {
        else_block,
        has_else,
        else_reachable,
    } = &mut frame.kind
    else {
        unreachable!("validated: else matches an if")
    };
    *has_else = true;
    let else_block = *else_block;
    let else_reachable = *else_reachable;
    let (next, n, height) = (frame.next, frame.num_results, frame.stack_height);
    if reachable {
        frame.next_reachable = true;
        let results = cx.popn(n);
        jump(cx, next, &results);
    }
    cx.stack.truncate(height);
    if else_reachable {
        cx.builder.switch_to_block(else_block);
        let params = cx.builder.block_params(else_block).to_vec();
        cx.stack.extend(params);
        cx.unreachable_depth = 0;
    } else {
        cx.unreachable_depth = 1;
    }
}

/// `end`; `reachable` says whether the end of the body is reachable.
fn translate_end(cx: &mut FuncCx<'_, '_, '_, '_>, reachable: bool) {
    let mut frame = cx.control.pop().expect("validated: end matches a frame");
    if reachable && matches!(frame.kind, FrameKind::Function) {
        let results = cx.popn(frame.num_results);
        cx.emit_return(&results);
    } else if reachable {
        let results = cx.popn(frame.num_results);
        jump(cx, frame.next, &results);
        frame.next_reachable = true;
    }
    if let FrameKind::If {
        else_block,
        has_else: false,
        else_reachable: true,
    } = frame.kind
    {
        // No else: the false edge passes the params straight through
        // (validation guarantees params == results).
        cx.builder.switch_to_block(else_block);
        let params = cx.builder.block_params(else_block).to_vec();
        jump(cx, frame.next, &params);
        frame.next_reachable = true;
    }
    if let FrameKind::Loop = frame.kind {
        cx.builder.seal_block(frame.br_dest);
    }
    cx.stack.truncate(frame.stack_height);
    if matches!(frame.kind, FrameKind::Function) {
        // Branches that reached `exit` (`br_if`, `br_table`): the caller
        // switches to it and returns.
        cx.exit_used = frame.next_reachable;
        cx.unreachable_depth = 1;
        return;
    }
    cx.builder.seal_block(frame.next);
    if frame.next_reachable {
        cx.builder.switch_to_block(frame.next);
        let results = cx.builder.block_params(frame.next).to_vec();
        cx.stack.extend(results);
        cx.unreachable_depth = 0;
    } else {
        cx.unreachable_depth = 1;
    }
}

fn translate_br(cx: &mut FuncCx<'_, '_, '_, '_>, depth: u32) {
    let i = frame_index(cx, depth);
    if i == 0 {
        // A branch to the function's frame is a return.
        let results = cx.popn(cx.control[0].num_results);
        cx.emit_return(&results);
        return;
    }
    let (dest, arity) = (cx.control[i].br_dest, cx.control[i].br_arity());
    if !matches!(cx.control[i].kind, FrameKind::Loop) {
        cx.control[i].next_reachable = true;
    }
    let args = cx.popn(arity);
    jump(cx, dest, &args);
}

fn translate_br_if(cx: &mut FuncCx<'_, '_, '_, '_>, depth: u32) {
    let cond = cx.pop1();
    let i = frame_index(cx, depth);
    let (dest, arity) = (cx.control[i].br_dest, cx.control[i].br_arity());
    if !matches!(cx.control[i].kind, FrameKind::Loop) {
        cx.control[i].next_reachable = true;
    }
    let args = block_args(cx.peekn(arity));
    let cont = cx.builder.create_block();
    cx.builder.ins().brif(cond, dest, &args, cont, &[]);
    cx.builder.seal_block(cont);
    cx.builder.switch_to_block(cont);
}

fn translate_br_table(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    targets: &wasmparser::BrTable<'_>,
) -> Result<(), Error> {
    let index = cx.pop1();
    let default = targets.default();
    let depths = targets.targets().collect::<Result<Vec<u32>, _>>()?;
    let arity = cx.control[frame_index(cx, default)].br_arity();
    let args = block_args(cx.peekn(arity));
    let call_for = |cx: &mut FuncCx<'_, '_, '_, '_>, depth: u32| {
        let i = frame_index(cx, depth);
        if !matches!(cx.control[i].kind, FrameKind::Loop) {
            cx.control[i].next_reachable = true;
        }
        let dest = cx.control[i].br_dest;
        cx.builder.func.dfg.block_call(dest, &args)
    };
    let default_call = call_for(cx, default);
    let table: Vec<_> = depths.iter().map(|d| call_for(cx, *d)).collect();
    let jt = cx
        .builder
        .create_jump_table(JumpTableData::new(default_call, &table));
    cx.builder.ins().br_table(index, jt);
    cx.popn(arity);
    Ok(())
}

/// In unreachable code, only block structure matters: count nesting and
/// resume at the `else`/`end` that makes code reachable again.
pub(super) fn translate_unreachable_operator(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    op: &Operator<'_>,
) -> Result<(), Error> {
    match op {
        Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
            cx.unreachable_depth += 1;
        }
        Operator::Else if cx.unreachable_depth == 1 => translate_else(cx, false),
        Operator::End => {
            if cx.unreachable_depth == 1 {
                translate_end(cx, false);
            } else {
                cx.unreachable_depth -= 1;
            }
        }
        _ => {}
    }
    Ok(())
}
