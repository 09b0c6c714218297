//! Tables and references: table.get/set/size inline (bounds-checked against
//! the live length), grow/fill/copy/init/elem.drop through runtime
//! builtins, and ref.null / ref.is_null / ref.func.

use super::{clif_trap, FuncCx, Region, PTR};
use crate::abi::{self, builtins, TrapCode};
use crate::Error;
use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, Value};
use wasmparser::Operator;

pub(super) fn translate_table(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    op: &Operator<'_>,
) -> Result<(), Error> {
    match *op {
        Operator::TableGet { table } => {
            let index = cx.pop1();
            let v = load_table_element(cx, table, index, TrapCode::TableOutOfBounds);
            cx.push(v);
        }
        Operator::TableSet { table } => {
            let (index, value) = cx.pop2();
            let addr = table_element_addr(cx, table, index, TrapCode::TableOutOfBounds);
            let flags = cx.trusted_in(Region::Tables);
            cx.builder.ins().store(flags, value, addr, 0);
        }
        Operator::TableSize { table } => {
            let def = table_def(cx, table);
            let flags = cx.trusted_in(Region::Tables);
            let len = cx
                .builder
                .ins()
                .load(types::I64, flags, def, abi::VMTABLE_DEF_LENGTH as i32);
            let v = narrow_index(cx, table, len);
            cx.push(v);
        }
        Operator::TableGrow { table } => {
            let (init, delta) = cx.pop2();
            let t = cx.builder.ins().iconst(types::I32, table as i64);
            let delta = widen_index(cx, table, delta);
            let r = cx.call_builtin(builtins::TABLE_GROW, &[t, init, delta], &[types::I64])[0];
            let v = narrow_index(cx, table, r);
            cx.push(v);
        }
        Operator::TableFill { table } => {
            let (dst, val, len) = cx.pop3();
            let t = cx.builder.ins().iconst(types::I32, table as i64);
            let dst = widen_index(cx, table, dst);
            let len = widen_index(cx, table, len);
            cx.call_builtin(builtins::TABLE_FILL, &[t, dst, val, len], &[]);
        }
        Operator::TableCopy {
            dst_table,
            src_table,
        } => {
            let (dst, src, len) = cx.pop3();
            let dt = cx.builder.ins().iconst(types::I32, dst_table as i64);
            let st = cx.builder.ins().iconst(types::I32, src_table as i64);
            // With mixed index types, `len` has the smaller of the two.
            let dst = widen_index(cx, dst_table, dst);
            let src = widen_index(cx, src_table, src);
            let len = widen_any(cx, len);
            cx.call_builtin(builtins::TABLE_COPY, &[dt, st, dst, src, len], &[]);
        }
        Operator::TableInit { elem_index, table } => {
            let (dst, src, len) = cx.pop3();
            let t = cx.builder.ins().iconst(types::I32, table as i64);
            let e = cx.builder.ins().iconst(types::I32, elem_index as i64);
            let dst = widen_index(cx, table, dst);
            cx.call_builtin(builtins::TABLE_INIT, &[t, e, dst, src, len], &[]);
        }
        Operator::ElemDrop { elem_index } => {
            let e = cx.builder.ins().iconst(types::I32, elem_index as i64);
            cx.call_builtin(builtins::ELEM_DROP, &[e], &[]);
        }
        Operator::RefNull { .. } => {
            let v = cx.builder.ins().iconst(PTR, 0);
            cx.push(v);
        }
        Operator::RefIsNull => {
            let r = cx.pop1();
            let b = cx.builder.ins().icmp_imm_u(IntCC::Equal, r, 0);
            let v = cx.builder.ins().uextend(types::I32, b);
            cx.push(v);
        }
        Operator::RefFunc { function_index } => {
            let off = cx.env.layout.func(function_index);
            let v = cx.builder.ins().iadd_imm_u(cx.vmctx, off as i64);
            cx.push(v);
        }
        _ => unreachable!("not a table operator: {op:?}"),
    }
    Ok(())
}

fn is_table64(cx: &FuncCx<'_, '_, '_, '_>, table: u32) -> bool {
    cx.env.module.info.tables[table as usize].table64
}

/// A table index operand as i64.
fn widen_index(cx: &mut FuncCx<'_, '_, '_, '_>, table: u32, v: Value) -> Value {
    if is_table64(cx, table) {
        v
    } else {
        cx.builder.ins().uextend(types::I64, v)
    }
}

fn widen_any(cx: &mut FuncCx<'_, '_, '_, '_>, v: Value) -> Value {
    if cx.builder.func.dfg.value_type(v) == types::I64 {
        v
    } else {
        cx.builder.ins().uextend(types::I64, v)
    }
}

/// An i64 size/result as the table's index type.
fn narrow_index(cx: &mut FuncCx<'_, '_, '_, '_>, table: u32, v: Value) -> Value {
    if is_table64(cx, table) {
        v
    } else {
        cx.builder.ins().ireduce(types::I32, v)
    }
}

fn table_def(cx: &mut FuncCx<'_, '_, '_, '_>, table: u32) -> Value {
    let off = cx.env.layout.table(table);
    cx.load_vmctx_readonly(off)
}

/// Address of element `index` of `table`, trapping with `oob` past the end.
fn table_element_addr(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    table: u32,
    index: Value,
    oob: TrapCode,
) -> Value {
    let def = table_def(cx, table);
    let index = widen_index(cx, table, index);
    // A table whose limits are equal (what wasm-ld emits for C function
    // pointers) can never grow: its length is the constant `min` (an
    // importer's equal limits match only such a table) and its elements
    // never move, so the check is a compare with an immediate and the
    // elements pointer a load Cranelift may hoist out of loops.
    let fixed = {
        let t = &cx.env.module.info.tables[table as usize];
        (t.max == Some(t.min)).then_some(t.min)
    };
    let out = match fixed {
        Some(len) => {
            cx.builder
                .ins()
                .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, index, len as i64)
        }
        None => {
            let flags = cx.trusted_in(Region::Tables);
            let len = cx
                .builder
                .ins()
                .load(types::I64, flags, def, abi::VMTABLE_DEF_LENGTH as i32);
            cx.builder
                .ins()
                .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len)
        }
    };
    cx.builder.ins().trapnz(out, clif_trap(oob));
    let mut flags = cx.trusted_in(Region::Tables);
    if fixed.is_some() {
        flags = flags.with_readonly().with_can_move();
    }
    let elements = cx
        .builder
        .ins()
        .load(PTR, flags, def, abi::VMTABLE_DEF_ELEMENTS as i32);
    let scaled = cx.builder.ins().ishl_imm_u(index, 3);
    cx.builder.ins().iadd(elements, scaled)
}

/// Loads element `index` of `table` (0 = null).
pub(super) fn load_table_element(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    table: u32,
    index: Value,
    oob: TrapCode,
) -> Value {
    let addr = table_element_addr(cx, table, index, oob);
    let flags = cx.trusted_in(Region::Tables);
    cx.builder.ins().load(PTR, flags, addr, 0)
}
