//! Wasm → Cranelift IR, one function at a time.
//!
//! `translate_function` builds a `cranelift_codegen::ir::Function` from a
//! validated body. The per-function state is [`FuncCx`]; the operator
//! dispatcher (`translate_operator`) is thin and hands each family to its
//! file: `control.rs`, `numeric.rs`, `memory.rs`, `calls.rs`, `table.rs`,
//! `globals.rs`.

mod atomics;
mod calls;
mod control;
mod globals;
mod memory;
mod numeric;
mod table;
mod tail;
pub mod wrapper;

use crate::abi::{self, TrapCode as AbiTrap, VmctxLayout};
use crate::desc::{FuncType, ValType};
use crate::module::{Body, Module};
use crate::{BoundsChecks, Error};
use control::Frame;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self, types, AbiParam, ArgumentPurpose, ExtFuncData, ExternalName, FuncRef, Function,
    InstBuilder, MemFlagsData, Signature, UserExternalName, UserFuncName, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use std::collections::HashMap;
use wasmparser::Operator;

/// Pointer type of every supported target.
pub const PTR: ir::Type = types::I64;

/// Maps a wasm2o trap code to the Cranelift trap code emitted for it.
pub fn clif_trap(code: AbiTrap) -> ir::TrapCode {
    match code {
        AbiTrap::StackOverflow => ir::TrapCode::STACK_OVERFLOW,
        AbiTrap::IntegerOverflow => ir::TrapCode::INTEGER_OVERFLOW,
        AbiTrap::MemoryOutOfBounds => ir::TrapCode::HEAP_OUT_OF_BOUNDS,
        AbiTrap::IntegerDivideByZero => ir::TrapCode::INTEGER_DIVISION_BY_ZERO,
        AbiTrap::BadConversionToInteger => ir::TrapCode::BAD_CONVERSION_TO_INTEGER,
        other => ir::TrapCode::unwrap_user(other as u8),
    }
}

/// Maps a Cranelift trap code back to ours (for the object's trap table).
pub fn abi_trap(code: ir::TrapCode) -> AbiTrap {
    match code {
        ir::TrapCode::STACK_OVERFLOW => AbiTrap::StackOverflow,
        ir::TrapCode::INTEGER_OVERFLOW => AbiTrap::IntegerOverflow,
        ir::TrapCode::HEAP_OUT_OF_BOUNDS => AbiTrap::MemoryOutOfBounds,
        ir::TrapCode::INTEGER_DIVISION_BY_ZERO => AbiTrap::IntegerDivideByZero,
        ir::TrapCode::BAD_CONVERSION_TO_INTEGER => AbiTrap::BadConversionToInteger,
        other => {
            AbiTrap::from_u32(other.as_raw().get() as u32).expect("only our trap codes are emitted")
        }
    }
}

/// The Cranelift type of a Wasm value type.
pub fn clif_type(t: ValType) -> ir::Type {
    match t {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::FuncRef | ValType::ExternRef => PTR,
    }
}

/// The native signature of a Wasm function (see `abi` for the convention):
/// `(vmctx, params..., out-pointers for results[1..]) -> results[0]`.
pub fn wasm_signature(ty: &FuncType, call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params
        .push(AbiParam::special(PTR, ArgumentPurpose::VMContext));
    for p in &ty.params {
        sig.params.push(AbiParam::new(clif_type(*p)));
    }
    for _ in ty.results.iter().skip(1) {
        sig.params.push(AbiParam::new(PTR));
    }
    if let Some(r) = ty.results.first() {
        sig.returns.push(AbiParam::new(clif_type(*r)));
    }
    sig
}

/// Namespaces of `UserExternalName`s (cranelift-module's convention).
pub const NS_FUNC: u32 = 0;

/// What every function translation needs to know about the module,
/// shared read-only between threads.
pub struct ModuleEnv<'m, 'a> {
    pub module: &'m Module<'a>,
    pub layout: VmctxLayout,
    pub call_conv: CallConv,
    pub frontend_config: TargetFrontendConfig,
    pub bounds_checks: BoundsChecks,
    /// `TargetInfo::cas_writes_on_failure`.
    pub cas_writes_on_failure: bool,
    /// cranelift-module `FuncId` (as u32) of each *defined* function,
    /// indexed by `func_index - num_imported_funcs`.
    pub defined_func_ids: Vec<u32>,
    /// cranelift-module `FuncId`s of the runtime builtins, by symbol name.
    pub builtin_ids: HashMap<&'static str, u32>,
    /// Count trailing zeros with `popcnt` (x86-64 without BMI1's `tzcnt`;
    /// see `numeric`).
    pub ctz_by_popcnt: bool,
    /// `Module::funcrefs_are_own`: `call_indirect` passes its own vmctx.
    pub own_funcrefs: bool,
}

/// Where a function checks the stack limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackCheck {
    /// One compare of the stack pointer with the limit at the top of the
    /// body, after the prologue has allocated the frame, and none at all
    /// in functions that call nothing. Sound only for frames of at most
    /// [`MAX_FRAME_AFTER_CHECK`] bytes: such a frame may sit that far below
    /// the limit before the compare traps, inside the runtime's
    /// `STACK_MARGIN` (256 KiB) of stack kept free below the limit.
    AfterPrologue,
    /// Cranelift's check in the prologue, before the frame is allocated:
    /// `limit + frame size > sp` traps (a load, an add and a compare). For
    /// functions whose frame is too large for `AfterPrologue`.
    InPrologue,
}

/// Largest frame (below the frame pointer) compiled with
/// [`StackCheck::AfterPrologue`]; larger ones are compiled again with
/// [`StackCheck::InPrologue`]. The runtime's `abi::STACK_MARGIN` is sized
/// for it.
pub use abi::MAX_FRAME_AFTER_CHECK;

/// Builds the CLIF function for one defined function.
pub fn translate_function(
    env: &ModuleEnv<'_, '_>,
    body: &Body<'_>,
    stack_check: StackCheck,
) -> Result<Function, Error> {
    let m = env.module;
    let ty = m.info.func_type(body.func_index).clone();
    let sig = wasm_signature(&ty, env.call_conv);
    let defined = body.func_index - m.num_imported_funcs();
    let name = UserFuncName::user(NS_FUNC, env.defined_func_ids[defined as usize]);
    let mut func = Function::with_name_signature(name, sig);
    let mut fctx = FunctionBuilderContext::new();
    let name_for_errors = || m.func_name(body.func_index);
    validate_body(body).map_err(|e| e.in_func(body.func_index, name_for_errors()))?;
    let check = translate_body(env, body, &ty, stack_check, &mut func, &mut fctx)
        .map_err(|e| e.in_func(body.func_index, name_for_errors()))?;
    if let Some(check) = check {
        if !makes_calls(&func) {
            // A leaf's frame (at most MAX_FRAME_AFTER_CHECK, or it is
            // compiled again with the prologue check) fits in the margin
            // below its caller's checked stack pointer.
            for inst in check.into_iter().rev() {
                func.layout.remove_inst(inst);
            }
        }
    }
    tail::duplicate_return_blocks(&mut func);
    Ok(func)
}

/// Validates one function body (wasmparser), so translation can assume a
/// well-typed operator stream.
fn validate_body(body: &Body<'_>) -> Result<(), Error> {
    let v = &body.validator;
    let func = wasmparser::FuncToValidate {
        resources: v.resources.clone(),
        index: v.index,
        ty: v.ty,
        features: v.features,
    };
    func.into_validator(Default::default())
        .validate(&body.body)?;
    Ok(())
}

/// Whether `func` calls anything (Wasm functions, imports or builtins).
fn makes_calls(func: &Function) -> bool {
    func.layout
        .blocks()
        .flat_map(|b| func.layout.block_insts(b))
        .any(|inst| func.dfg.insts[inst].opcode().is_call())
}

/// Translates one body into `func`; returns the instructions of the
/// stack check it placed at the top of the body (`StackCheck::AfterPrologue`).
fn translate_body(
    env: &ModuleEnv<'_, '_>,
    body: &Body<'_>,
    ty: &FuncType,
    stack_check: StackCheck,
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
) -> Result<Option<[ir::Inst; 4]>, Error> {
    let mut builder = FunctionBuilder::new(func, fctx);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    builder.seal_block(entry);
    let params = builder.block_params(entry).to_vec();
    let vmctx = params[0];

    let check = match stack_check {
        StackCheck::InPrologue => {
            // Cranelift's check: sp - frame_size < *vmctx → trap.
            let vmctx_gv = builder.create_global_value(ir::GlobalValueData::VMContext);
            let trusted = builder
                .func
                .dfg
                .mem_flags
                .insert(MemFlagsData::trusted())
                .expect("few distinct flags");
            let limit_gv = builder.create_global_value(ir::GlobalValueData::Load {
                base: vmctx_gv,
                offset: (abi::VMCTX_STACK_LIMIT as i32).into(),
                global_type: PTR,
                flags: trusted,
            });
            builder.func.stack_limit = Some(limit_gv);
            None
        }
        StackCheck::AfterPrologue => {
            // sp < *vmctx → trap, with the frame already allocated.
            let sp = builder.ins().get_stack_pointer(PTR);
            let limit = builder.ins().load(
                PTR,
                MemFlagsData::trusted(),
                vmctx,
                abi::VMCTX_STACK_LIMIT as i32,
            );
            let below = builder.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
            let trap = builder.ins().trapnz(below, ir::TrapCode::STACK_OVERFLOW);
            let def = |v: Value| builder.func.dfg.value_def(v).unwrap_inst();
            Some([def(sp), def(limit), def(below), trap])
        }
    };

    // Locals: parameters, then declared locals (zero-initialised).
    let mut locals = Vec::new();
    for (i, p) in ty.params.iter().enumerate() {
        let var = builder.declare_var(clif_type(*p));
        builder.def_var(var, params[1 + i]);
        locals.push((var, *p));
    }
    let out_ptrs = params[1 + ty.params.len()..].to_vec();

    let mut reader = body.body.get_binary_reader();
    let local_groups = reader.read_var_u32()?;
    for _ in 0..local_groups {
        let pos = reader.original_position();
        let count = reader.read_var_u32()?;
        let t = crate::module::val_type(reader.read()?, pos)?;
        for _ in 0..count {
            let var = builder.declare_var(clif_type(t));
            let zero = zero_value(&mut builder, t);
            builder.def_var(var, zero);
            locals.push((var, t));
        }
    }

    let exit = builder.create_block();
    for r in &ty.results {
        builder.append_block_param(exit, clif_type(*r));
    }

    let mut cx = FuncCx {
        builder,
        env,
        vmctx,
        locals,
        stack: Vec::new(),
        control: Vec::new(),
        unreachable_depth: 0,
        func_refs: HashMap::new(),
        sig_refs: HashMap::new(),
        offset: 0,
        out_ptrs,
        exit_used: false,
    };
    cx.control.push(Frame::function(exit, ty.results.len()));

    let mut ops = wasmparser::OperatorsReader::new(reader);
    while !ops.eof() {
        let offset = ops.original_position();
        let op = ops.read()?;
        cx.offset = offset;
        cx.builder.set_srcloc(ir::SourceLoc::new(offset as u32));
        translate_operator(&mut cx, &op).map_err(|e| {
            if e.offset.is_none() {
                Error {
                    offset: Some(offset),
                    ..e
                }
            } else {
                e
            }
        })?;
    }

    // `return` and the final `end` returned where they stood; branches to
    // the function's frame (`br_if`, `br_table`) jump to `exit`.
    if cx.exit_used {
        cx.builder.switch_to_block(exit);
        cx.builder.seal_block(exit);
        let rets = cx.builder.block_params(exit).to_vec();
        cx.emit_return(&rets);
    }
    let FuncCx { builder, .. } = cx;
    builder.finalize(env.frontend_config);
    Ok(check)
}

fn zero_value(builder: &mut FunctionBuilder<'_>, t: ValType) -> Value {
    match t {
        ValType::I32 => builder.ins().iconst(types::I32, 0),
        ValType::I64 => builder.ins().iconst(types::I64, 0),
        ValType::F32 => builder.ins().f32const(0.0),
        ValType::F64 => builder.ins().f64const(0.0),
        ValType::FuncRef | ValType::ExternRef => builder.ins().iconst(PTR, 0),
    }
}

/// Per-function translation state.
pub struct FuncCx<'a, 'e, 'm, 'w> {
    pub builder: FunctionBuilder<'a>,
    pub env: &'e ModuleEnv<'m, 'w>,
    pub vmctx: Value,
    /// Cranelift variable and Wasm type of each local.
    pub locals: Vec<(Variable, ValType)>,
    /// The operand stack.
    pub stack: Vec<Value>,
    pub control: Vec<Frame>,
    /// When > 0, we are in unreachable code: operators are skipped, and this
    /// counts nested blocks opened since code became unreachable (+1).
    pub unreachable_depth: u32,
    func_refs: HashMap<FuncKey, FuncRef>,
    sig_refs: HashMap<u32, ir::SigRef>,
    /// Byte offset of the operator being translated.
    pub offset: u64,
    /// Where results after the first go (multi-value functions).
    out_ptrs: Vec<Value>,
    /// Whether a branch targets the function's exit block.
    exit_used: bool,
}

/// Disjoint kinds of memory state (see `FuncCx::region`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// The bytes of linear memory N.
    Heap(u32),
    /// `VMMemoryDef::length` of memory N.
    MemoryLength(u32),
    /// Global cells.
    Globals,
    /// Table definitions and elements.
    Tables,
    /// The stack-limit word at the start of every vmctx / caller object.
    StackLimit,
    /// `VMFuncRef` entries (written only at instantiation).
    FuncRefs,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum FuncKey {
    Defined(u32),
    Builtin(&'static str),
}

impl FuncCx<'_, '_, '_, '_> {
    /// Returns `results` from the function: the first in the return
    /// register, the others through the caller's out-pointers.
    ///
    /// `return` (and `br` to the function's frame) return where they stand
    /// rather than jump to one shared exit block: on current x86 cores a
    /// `jmp` to a shared epilogue right after a call's return costs far
    /// more than the duplicated epilogue (bintrees ran 1.6x slower).
    pub fn emit_return(&mut self, results: &[Value]) {
        for (v, ptr) in results.iter().skip(1).zip(&self.out_ptrs) {
            self.builder
                .ins()
                .store(MemFlagsData::trusted(), *v, *ptr, 0);
        }
        match results.first() {
            Some(r) => self.builder.ins().return_(&[*r]),
            None => self.builder.ins().return_(&[]),
        };
    }

    pub fn push(&mut self, v: Value) {
        self.stack.push(v);
    }
    pub fn pop1(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }
    pub fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop1();
        let a = self.pop1();
        (a, b)
    }
    pub fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop1();
        let (a, b) = self.pop2();
        (a, b, c)
    }
    /// Pops `n` values, in stack order.
    pub fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }
    pub fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    /// Emits a conditional trap: traps with `code` when `cond` is non-zero.
    pub fn trap_if(&mut self, cond: Value, code: AbiTrap) {
        self.builder.ins().trapnz(cond, clif_trap(code));
    }

    /// A `FuncRef` for a direct call to defined function `func_index`.
    pub fn make_defined_func_ref(&mut self, func_index: u32) -> FuncRef {
        let key = FuncKey::Defined(func_index);
        if let Some(r) = self.func_refs.get(&key) {
            return *r;
        }
        let defined = func_index - self.env.module.num_imported_funcs();
        let id = self.env.defined_func_ids[defined as usize];
        let ty = self.env.module.info.func_type(func_index).clone();
        let sig = self
            .builder
            .import_signature(wasm_signature(&ty, self.env.call_conv));
        let name = self
            .builder
            .func
            .declare_imported_user_function(UserExternalName::new(NS_FUNC, id));
        let r = self.builder.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature: sig,
            colocated: true,
            patchable: false,
        });
        self.func_refs.insert(key, r);
        r
    }

    /// A `FuncRef` for a runtime builtin with the given signature
    /// (vmctx first, then `params`).
    pub fn make_builtin_ref(
        &mut self,
        name: &'static str,
        params: &[ir::Type],
        returns: &[ir::Type],
    ) -> FuncRef {
        let key = FuncKey::Builtin(name);
        if let Some(r) = self.func_refs.get(&key) {
            return *r;
        }
        let mut sig = Signature::new(self.env.call_conv);
        sig.params.push(AbiParam::new(PTR));
        sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
        sig.returns
            .extend(returns.iter().map(|t| AbiParam::new(*t)));
        let sig = self.builder.import_signature(sig);
        let id = self.env.builtin_ids[name];
        let name = self
            .builder
            .func
            .declare_imported_user_function(UserExternalName::new(NS_FUNC, id));
        let r = self.builder.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature: sig,
            colocated: false,
            patchable: false,
        });
        self.func_refs.insert(key, r);
        r
    }

    /// Calls a builtin with the vmctx prepended; returns its results.
    pub fn call_builtin(
        &mut self,
        name: &'static str,
        args: &[Value],
        returns: &[ir::Type],
    ) -> Vec<Value> {
        let params: Vec<ir::Type> = args
            .iter()
            .map(|a| self.builder.func.dfg.value_type(*a))
            .collect();
        let f = self.make_builtin_ref(name, &params, returns);
        let mut all = vec![self.vmctx];
        all.extend_from_slice(args);
        let call = self.builder.ins().call(f, &all);
        self.builder.inst_results(call).to_vec()
    }

    /// A `SigRef` for Wasm type index `type_index`.
    pub fn make_sig_ref(&mut self, type_index: u32) -> ir::SigRef {
        if let Some(s) = self.sig_refs.get(&type_index) {
            return *s;
        }
        let ty = self.env.module.info.types[type_index as usize].clone();
        let s = self
            .builder
            .import_signature(wasm_signature(&ty, self.env.call_conv));
        self.sig_refs.insert(type_index, s);
        s
    }

    /// Loads a pointer-sized field of the vmctx that never changes.
    pub fn load_vmctx_readonly(&mut self, offset: u32) -> Value {
        let flags = MemFlagsData::trusted().with_readonly().with_can_move();
        self.builder
            .ins()
            .load(PTR, flags, self.vmctx, offset as i32)
    }

    /// The alias region of a kind of state, so Cranelift's alias analysis
    /// knows, e.g., that a store to linear memory cannot change a global.
    pub fn region(&mut self, r: Region) -> ir::AliasRegion {
        let (user_id, description) = match r {
            Region::Heap(m) => (m, format!("memory {m}")),
            Region::MemoryLength(m) => (0x4000_0000 | m, format!("memory {m} length")),
            Region::Globals => (0x1000_0000, "globals".to_string()),
            Region::Tables => (0x2000_0000, "tables".to_string()),
            Region::StackLimit => (0x3000_0000, "stack limit".to_string()),
            Region::FuncRefs => (0x3000_0001, "funcrefs".to_string()),
        };
        self.builder
            .func
            .dfg
            .alias_regions
            .insert(ir::AliasRegionData {
                user_id,
                description: description.into(),
            })
    }

    /// Trusted (non-trapping, aligned) flags in region `r`.
    pub fn trusted_in(&mut self, r: Region) -> MemFlagsData {
        let region = self.region(r);
        MemFlagsData::trusted().with_alias_region(Some(region))
    }

    pub fn iconst_ptr(&mut self, v: u64) -> Value {
        self.builder.ins().iconst(PTR, v as i64)
    }
}

/// The operator dispatcher: each family lives in its own file.
fn translate_operator(cx: &mut FuncCx<'_, '_, '_, '_>, op: &Operator<'_>) -> Result<(), Error> {
    if cx.unreachable_depth > 0 {
        return control::translate_unreachable_operator(cx, op);
    }
    use Operator::*;
    match op {
        Unreachable
        | Nop
        | Block { .. }
        | Loop { .. }
        | If { .. }
        | Else
        | End
        | Br { .. }
        | BrIf { .. }
        | BrTable { .. }
        | Return
        | Drop
        | Select
        | TypedSelect { .. } => control::translate_control(cx, op),
        LocalGet { .. }
        | LocalSet { .. }
        | LocalTee { .. }
        | GlobalGet { .. }
        | GlobalSet { .. } => globals::translate_variable(cx, op),
        Call { .. } | CallIndirect { .. } => calls::translate_call(cx, op),
        TableGet { .. }
        | TableSet { .. }
        | TableSize { .. }
        | TableGrow { .. }
        | TableFill { .. }
        | TableCopy { .. }
        | TableInit { .. }
        | ElemDrop { .. }
        | RefNull { .. }
        | RefIsNull
        | RefFunc { .. } => table::translate_table(cx, op),
        _ if memory::is_memory_operator(op) => memory::translate_memory(cx, op),
        _ if atomics::is_atomic_operator(op) => atomics::translate_atomic(cx, op),
        _ => numeric::translate_numeric(cx, op),
    }
}
