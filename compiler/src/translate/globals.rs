//! Locals (Cranelift variables) and globals (cells reached through the vmctx).
//!
//! Immutable globals defined with a numeric constant are folded into
//! constants; every other global is a load or store through its cell pointer.

use super::{clif_type, FuncCx, Region};
use crate::desc::ConstExpr;
use crate::Error;
use cranelift_codegen::ir::{immediates::Ieee32, immediates::Ieee64, InstBuilder, Value};
use wasmparser::Operator;

pub(super) fn translate_variable(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    op: &Operator<'_>,
) -> Result<(), Error> {
    match *op {
        Operator::LocalGet { local_index } => {
            let (var, _) = cx.locals[local_index as usize];
            let v = cx.builder.use_var(var);
            cx.push(v);
        }
        Operator::LocalSet { local_index } => {
            let v = cx.pop1();
            let (var, _) = cx.locals[local_index as usize];
            cx.builder.def_var(var, v);
        }
        Operator::LocalTee { local_index } => {
            let v = *cx.stack.last().expect("validated: local.tee operand");
            let (var, _) = cx.locals[local_index as usize];
            cx.builder.def_var(var, v);
        }
        Operator::GlobalGet { global_index } => {
            let v = translate_global_get(cx, global_index);
            cx.push(v);
        }
        Operator::GlobalSet { global_index } => {
            let v = cx.pop1();
            let cell = global_cell(cx, global_index);
            let flags = cx.trusted_in(Region::Globals);
            cx.builder.ins().store(flags, v, cell, 0);
        }
        _ => unreachable!("not a variable operator: {op:?}"),
    }
    Ok(())
}

/// The address of global `index`'s 16-byte cell.
fn global_cell(cx: &mut FuncCx<'_, '_, '_, '_>, index: u32) -> Value {
    let off = cx.env.layout.global(index);
    cx.load_vmctx_readonly(off)
}

fn translate_global_get(cx: &mut FuncCx<'_, '_, '_, '_>, index: u32) -> Value {
    let g = &cx.env.module.info.globals[index as usize];
    if !g.ty.mutable {
        match g.init {
            Some(ConstExpr::I32(v)) => {
                return cx
                    .builder
                    .ins()
                    .iconst(cranelift_codegen::ir::types::I32, v as i64)
            }
            Some(ConstExpr::I64(v)) => {
                return cx
                    .builder
                    .ins()
                    .iconst(cranelift_codegen::ir::types::I64, v)
            }
            Some(ConstExpr::F32(bits)) => {
                return cx.builder.ins().f32const(Ieee32::with_bits(bits))
            }
            Some(ConstExpr::F64(bits)) => {
                return cx.builder.ins().f64const(Ieee64::with_bits(bits))
            }
            _ => {}
        }
    }
    let ty = clif_type(g.ty.ty);
    let mutable = g.ty.mutable;
    let cell = global_cell(cx, index);
    let mut flags = cx.trusted_in(Region::Globals);
    if !mutable {
        flags = flags.with_readonly().with_can_move();
    }
    cx.builder.ins().load(ty, flags, cell, 0)
}
