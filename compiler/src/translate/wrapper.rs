//! Array wrappers: `void P_w<N>(void *vmctx, uint64_t *values)`, the only
//! way the runtime enters Wasm (see "Array wrappers" in `abi`).

use super::{clif_type, wasm_signature, ModuleEnv, NS_FUNC, PTR};
use crate::abi;
use cranelift_codegen::ir::{
    self, AbiParam, ExtFuncData, ExternalName, Function, InstBuilder, MemFlagsData, Signature,
    StackSlotData, StackSlotKind, UserExternalName, UserFuncName,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

/// Signature of every array wrapper.
pub fn wrapper_signature(env: &ModuleEnv<'_, '_>) -> Signature {
    let mut sig = Signature::new(env.call_conv);
    sig.params.push(AbiParam::new(PTR));
    sig.params.push(AbiParam::new(PTR));
    sig
}

/// Builds the wrapper of function `func_index`; `wrapper_id` is its own
/// cranelift-module id.
pub fn translate_wrapper(env: &ModuleEnv<'_, '_>, func_index: u32, wrapper_id: u32) -> Function {
    let m = env.module;
    let ty = m.info.func_type(func_index).clone();
    let mut func = Function::with_name_signature(
        UserFuncName::user(NS_FUNC, wrapper_id),
        wrapper_signature(env),
    );
    let mut fctx = FunctionBuilderContext::new();
    let mut builder = FunctionBuilder::new(&mut func, &mut fctx);
    let block = builder.create_block();
    builder.append_block_params_for_function_params(block);
    builder.switch_to_block(block);
    builder.seal_block(block);
    let vmctx = builder.block_params(block)[0];
    let values = builder.block_params(block)[1];
    let flags = MemFlagsData::trusted();

    let imported = func_index < m.num_imported_funcs();
    let (callee, ctx) = if imported {
        let entry = env.layout.func(func_index);
        let callee = builder
            .ins()
            .load(PTR, flags, vmctx, (entry + abi::VMFUNCREF_FN) as i32);
        let ctx = builder
            .ins()
            .load(PTR, flags, vmctx, (entry + abi::VMFUNCREF_VMCTX) as i32);
        let limit = builder
            .ins()
            .load(PTR, flags, vmctx, abi::VMCTX_STACK_LIMIT as i32);
        builder
            .ins()
            .store(flags, limit, ctx, abi::VMCTX_STACK_LIMIT as i32);
        (Some(callee), ctx)
    } else {
        (None, vmctx)
    };

    let mut args = vec![ctx];
    for (i, p) in ty.params.iter().enumerate() {
        args.push(
            builder
                .ins()
                .load(clif_type(*p), flags, values, (i * 8) as i32),
        );
    }
    let slots: Vec<_> = ty
        .results
        .iter()
        .skip(1)
        .map(|t| {
            (
                builder.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    8,
                    3,
                )),
                clif_type(*t),
            )
        })
        .collect();
    for (slot, _) in &slots {
        args.push(builder.ins().stack_addr(PTR, *slot, 0));
    }
    let sig = wasm_signature(&ty, env.call_conv);
    let call = match callee {
        Some(callee) => {
            let sig = builder.import_signature(sig);
            builder.ins().call_indirect(sig, callee, &args)
        }
        None => {
            let id = env.defined_func_ids[(func_index - m.num_imported_funcs()) as usize];
            let sig = builder.import_signature(sig);
            let name = builder
                .func
                .declare_imported_user_function(UserExternalName::new(NS_FUNC, id));
            let f = builder.import_function(ExtFuncData {
                name: ExternalName::user(name),
                signature: sig,
                colocated: true,
                patchable: false,
            });
            builder.ins().call(f, &args)
        }
    };
    let first: Option<ir::Value> = builder.inst_results(call).first().copied();
    if let Some(v) = first {
        store_value(&mut builder, v, values, 0);
    }
    for (i, (slot, t)) in slots.iter().enumerate() {
        let v = builder.ins().stack_load(PTR, *t, *slot, 0);
        store_value(&mut builder, v, values, i + 1);
    }
    builder.ins().return_(&[]);
    builder.finalize(env.frontend_config);
    func
}

/// Stores a result in slot `i`, zero-extending i32/f32 to the full slot.
fn store_value(builder: &mut FunctionBuilder<'_>, v: ir::Value, values: ir::Value, i: usize) {
    let ty = builder.func.dfg.value_type(v);
    let v = match ty {
        ir::types::I32 => builder.ins().uextend(ir::types::I64, v),
        ir::types::F32 => {
            let bits = builder
                .ins()
                .bitcast(ir::types::I32, MemFlagsData::new(), v);
            builder.ins().uextend(ir::types::I64, bits)
        }
        _ => v,
    };
    builder
        .ins()
        .store(MemFlagsData::trusted(), v, values, (i * 8) as i32);
}
