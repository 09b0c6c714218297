//! Calls: direct calls to defined functions, calls to imports through their
//! `VMFuncRef`, and `call_indirect` (bounds, null and one-compare signature
//! check). Results after the first come back through stack-slot
//! out-pointers (see the calling convention in `abi`).

use super::{clif_trap, clif_type, FuncCx, Region, PTR};
use crate::abi::{self, TrapCode};
use crate::desc::FuncType;
use crate::Error;
use cranelift_codegen::ir::{
    self, condcodes::IntCC, types, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value,
};
use wasmparser::Operator;

pub(super) fn translate_call(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    op: &Operator<'_>,
) -> Result<(), Error> {
    match *op {
        Operator::Call { function_index } => translate_direct_call(cx, function_index),
        Operator::CallIndirect {
            type_index,
            table_index,
        } => {
            translate_call_indirect(cx, type_index, table_index);
            Ok(())
        }
        _ => unreachable!("not a call operator: {op:?}"),
    }
}

/// Stack slots for results after the first, and their addresses.
fn make_result_slots(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    ty: &FuncType,
) -> Vec<(ir::StackSlot, ir::Type)> {
    ty.results
        .iter()
        .skip(1)
        .map(|t| {
            let slot = cx.builder.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                8,
                3,
            ));
            (slot, clif_type(*t))
        })
        .collect()
}

/// Pushes the call's results: the return value, then the out-slots.
fn push_results(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    call: ir::Inst,
    slots: &[(ir::StackSlot, ir::Type)],
) {
    let first = cx.builder.inst_results(call).first().copied();
    if let Some(v) = first {
        cx.push(v);
    }
    for (slot, ty) in slots {
        let v = cx.builder.ins().stack_load(PTR, *ty, *slot, 0);
        cx.push(v);
    }
}

/// Arguments after `ctx`: the Wasm arguments, then the out-slot addresses.
fn call_args(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    ctx: Value,
    ty: &FuncType,
    slots: &[(ir::StackSlot, ir::Type)],
) -> Vec<Value> {
    let mut args = vec![ctx];
    args.extend(cx.popn(ty.params.len()));
    for (slot, _) in slots {
        let addr = cx.builder.ins().stack_addr(PTR, *slot, 0);
        args.push(addr);
    }
    args
}

fn translate_direct_call(cx: &mut FuncCx<'_, '_, '_, '_>, func_index: u32) -> Result<(), Error> {
    if let Some(intrinsic) = cx.env.module.intrinsics.get(&func_index).copied() {
        return super::memory::translate_intrinsic(cx, intrinsic);
    }
    let ty = cx.env.module.info.func_type(func_index).clone();
    let slots = make_result_slots(cx, &ty);
    if func_index < cx.env.module.num_imported_funcs() {
        let type_index = cx.env.module.info.funcs[func_index as usize];
        let entry = cx.env.layout.func(func_index);
        let flags = MemFlagsData::trusted().with_readonly().with_can_move();
        let callee =
            cx.builder
                .ins()
                .load(PTR, flags, cx.vmctx, (entry + abi::VMFUNCREF_FN) as i32);
        let ctx =
            cx.builder
                .ins()
                .load(PTR, flags, cx.vmctx, (entry + abi::VMFUNCREF_VMCTX) as i32);
        call_through(cx, type_index, &ty, callee, ctx, &slots);
    } else {
        let f = cx.make_defined_func_ref(func_index);
        let args = call_args(cx, cx.vmctx, &ty, &slots);
        let call = cx.builder.ins().call(f, &args);
        push_results(cx, call, &slots);
    }
    Ok(())
}

/// Calls `callee(ctx, ...)` after handing our stack limit to `ctx`.
fn call_through(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    type_index: u32,
    ty: &FuncType,
    callee: Value,
    ctx: Value,
    slots: &[(ir::StackSlot, ir::Type)],
) {
    let flags = cx.trusted_in(Region::StackLimit);
    let limit = cx
        .builder
        .ins()
        .load(PTR, flags, cx.vmctx, abi::VMCTX_STACK_LIMIT as i32);
    cx.builder
        .ins()
        .store(flags, limit, ctx, abi::VMCTX_STACK_LIMIT as i32);
    let sig = cx.make_sig_ref(type_index);
    let args = call_args(cx, ctx, ty, slots);
    let call = cx.builder.ins().call_indirect(sig, callee, &args);
    push_results(cx, call, slots);
}

fn translate_call_indirect(cx: &mut FuncCx<'_, '_, '_, '_>, type_index: u32, table_index: u32) {
    let ty = cx.env.module.info.types[type_index as usize].clone();
    let index = cx.pop1();
    let elem = super::table::load_table_element(cx, table_index, index, TrapCode::TableOutOfBounds);
    let is_null = cx.builder.ins().icmp_imm_u(IntCC::Equal, elem, 0);
    cx.builder
        .ins()
        .trapnz(is_null, clif_trap(TrapCode::UninitializedElement));

    // Signature check: one compare against the canonical id of our type.
    let type_ids = cx.load_vmctx_readonly(abi::VMCTX_TYPE_IDS);
    let flags = MemFlagsData::trusted().with_readonly().with_can_move();
    let expected = cx
        .builder
        .ins()
        .load(types::I32, flags, type_ids, (type_index * 4) as i32);
    let funcref_flags = cx.trusted_in(Region::FuncRefs).with_readonly();
    let actual = cx.builder.ins().load(
        types::I32,
        funcref_flags,
        elem,
        abi::VMFUNCREF_TYPE_ID as i32,
    );
    let mismatch = cx.builder.ins().icmp(IntCC::NotEqual, expected, actual);
    cx.builder
        .ins()
        .trapnz(mismatch, clif_trap(TrapCode::IndirectCallTypeMismatch));

    let callee = cx
        .builder
        .ins()
        .load(PTR, funcref_flags, elem, abi::VMFUNCREF_FN as i32);
    let slots = make_result_slots(cx, &ty);
    if cx.env.own_funcrefs {
        // Every reference is to one of our own functions: its vmctx is
        // ours, and so is the stack limit in it.
        let sig = cx.make_sig_ref(type_index);
        let args = call_args(cx, cx.vmctx, &ty, &slots);
        let call = cx.builder.ins().call_indirect(sig, callee, &args);
        push_results(cx, call, &slots);
        return;
    }
    let ctx = cx
        .builder
        .ins()
        .load(PTR, funcref_flags, elem, abi::VMFUNCREF_VMCTX as i32);
    call_through(cx, type_index, &ty, callee, ctx, &slots);
}
