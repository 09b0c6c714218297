//! Numeric operators: constants, integer and float arithmetic, comparisons and conversions.
//!
//! Every Wasm numeric operator maps onto one Cranelift instruction whose
//! semantics already match Wasm exactly (verified against the x86-64 and
//! aarch64 lowerings of cranelift-codegen 0.135):
//!
//! - `sdiv`/`udiv`/`srem`/`urem` trap with `INTEGER_DIVISION_BY_ZERO` on a
//!   zero divisor; `sdiv` traps with `INTEGER_OVERFLOW` on `INT_MIN / -1`.
//!   `srem` does *not* trap on `INT_MIN % -1` and yields 0, as Wasm requires
//!   (x86-64 uses `CheckedSRemSeq`, which short-circuits a `-1` divisor to 0;
//!   aarch64 computes `x - (x sdiv y) * y`, and its `sdiv` does not fault), so
//!   no guard is emitted.
//! - `fcvt_to_sint`/`fcvt_to_uint` trap with `BAD_CONVERSION_TO_INTEGER` on NaN
//!   and with `INTEGER_OVERFLOW` when out of range; the `_sat` forms saturate
//!   and map NaN to 0 (the `trunc_sat` semantics).
//! - Shift and rotate amounts are taken modulo the bit width.
//! - `fmin`/`fmax` propagate NaN and order -0 below +0; `nearest` rounds
//!   half to even.
//!
//! Comparisons produce an `i8` in Cranelift and are zero-extended to `i32`.
//! Operators of proposals we do not implement (SIMD, threads, GC, ...) are
//! reported as unsupported features, naming the feature and the operator.

use super::FuncCx;
use crate::Error;
use cranelift_codegen::ir::condcodes::{CondCode, FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::types::{F32, F64, I16, I32, I64, I8};
use cranelift_codegen::ir::{
    InstBuilder, InstructionData, MemFlagsData, Opcode, Type, Value, ValueDef,
};
use wasmparser::Operator;

pub(super) fn translate_numeric(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    op: &Operator<'_>,
) -> Result<(), Error> {
    use Operator::*;
    let v = match *op {
        // Constants (floats by bit pattern, to keep NaN payloads).
        I32Const { value } => cx.builder.ins().iconst(I32, i64::from(value)),
        I64Const { value } => cx.builder.ins().iconst(I64, value),
        F32Const { value } => cx.builder.ins().f32const(Ieee32::with_bits(value.bits())),
        F64Const { value } => cx.builder.ins().f64const(Ieee64::with_bits(value.bits())),

        // Integer binary operators.
        I32Add | I64Add => binary(cx, Opcode::Iadd),
        I32Sub | I64Sub => binary(cx, Opcode::Isub),
        I32Mul | I64Mul => binary(cx, Opcode::Imul),
        I32DivS | I64DivS => binary(cx, Opcode::Sdiv),
        I32DivU | I64DivU => binary(cx, Opcode::Udiv),
        I32RemS | I64RemS => binary(cx, Opcode::Srem),
        I32RemU | I64RemU => binary(cx, Opcode::Urem),
        I32And | I64And => binary(cx, Opcode::Band),
        I32Or | I64Or => binary(cx, Opcode::Bor),
        I32Xor | I64Xor => binary(cx, Opcode::Bxor),
        I32Shl | I64Shl => binary(cx, Opcode::Ishl),
        I32ShrS | I64ShrS => binary(cx, Opcode::Sshr),
        I32ShrU | I64ShrU => binary(cx, Opcode::Ushr),
        I32Rotl | I64Rotl => binary(cx, Opcode::Rotl),
        I32Rotr | I64Rotr => binary(cx, Opcode::Rotr),

        // Integer unary operators.
        I32Clz | I64Clz => unary(cx, Opcode::Clz),
        I32Ctz | I64Ctz if cx.env.ctz_by_popcnt => {
            // The trailing zeros of `x` are the ones of `!x & (x - 1)`
            // (all bits for 0). Without BMI1, Cranelift's x86-64 `ctz` is
            // `bsf` + `cmov`, and `bsf` waits for the old value of its
            // destination register; `popcnt` (in our x86-64-v2 baseline)
            // does not, here: 20% faster on `bench/kernels/bitcount.c`.
            let a = cx.pop1();
            let below = cx.builder.ins().iadd_imm_s(a, -1);
            let not = cx.builder.ins().bnot(a);
            let mask = cx.builder.ins().band(not, below);
            cx.builder.ins().popcnt(mask)
        }
        I32Ctz | I64Ctz => unary(cx, Opcode::Ctz),
        I32Popcnt | I64Popcnt => unary(cx, Opcode::Popcnt),
        I32Extend8S => sign_extend_low(cx, I8, I32),
        I32Extend16S => sign_extend_low(cx, I16, I32),
        I64Extend8S => sign_extend_low(cx, I8, I64),
        I64Extend16S => sign_extend_low(cx, I16, I64),
        I64Extend32S => sign_extend_low(cx, I32, I64),

        // Integer comparisons.
        I32Eqz | I64Eqz => eqz(cx),
        I32Eq | I64Eq => icmp(cx, IntCC::Equal),
        I32Ne | I64Ne => icmp(cx, IntCC::NotEqual),
        I32LtS | I64LtS => icmp(cx, IntCC::SignedLessThan),
        I32LtU | I64LtU => icmp(cx, IntCC::UnsignedLessThan),
        I32GtS | I64GtS => icmp(cx, IntCC::SignedGreaterThan),
        I32GtU | I64GtU => icmp(cx, IntCC::UnsignedGreaterThan),
        I32LeS | I64LeS => icmp(cx, IntCC::SignedLessThanOrEqual),
        I32LeU | I64LeU => icmp(cx, IntCC::UnsignedLessThanOrEqual),
        I32GeS | I64GeS => icmp(cx, IntCC::SignedGreaterThanOrEqual),
        I32GeU | I64GeU => icmp(cx, IntCC::UnsignedGreaterThanOrEqual),

        // Float binary operators.
        F32Add | F64Add => binary(cx, Opcode::Fadd),
        F32Sub | F64Sub => binary(cx, Opcode::Fsub),
        F32Mul | F64Mul => binary(cx, Opcode::Fmul),
        F32Div | F64Div => binary(cx, Opcode::Fdiv),
        F32Min | F64Min => binary(cx, Opcode::Fmin),
        F32Max | F64Max => binary(cx, Opcode::Fmax),
        F32Copysign | F64Copysign => binary(cx, Opcode::Fcopysign),

        // Float unary operators.
        F32Abs | F64Abs => unary(cx, Opcode::Fabs),
        F32Neg | F64Neg => unary(cx, Opcode::Fneg),
        F32Sqrt | F64Sqrt => unary(cx, Opcode::Sqrt),
        F32Ceil | F64Ceil => unary(cx, Opcode::Ceil),
        F32Floor | F64Floor => unary(cx, Opcode::Floor),
        F32Trunc | F64Trunc => unary(cx, Opcode::Trunc),
        F32Nearest | F64Nearest => unary(cx, Opcode::Nearest),

        // Float comparisons (`ne` is true on unordered operands, the others false).
        F32Eq | F64Eq => fcmp(cx, FloatCC::Equal),
        F32Ne | F64Ne => fcmp(cx, FloatCC::NotEqual),
        F32Lt | F64Lt => fcmp(cx, FloatCC::LessThan),
        F32Gt | F64Gt => fcmp(cx, FloatCC::GreaterThan),
        F32Le | F64Le => fcmp(cx, FloatCC::LessThanOrEqual),
        F32Ge | F64Ge => fcmp(cx, FloatCC::GreaterThanOrEqual),

        // Integer width changes.
        I32WrapI64 => convert(cx, Opcode::Ireduce, I32),
        I64ExtendI32S => convert(cx, Opcode::Sextend, I64),
        I64ExtendI32U => convert(cx, Opcode::Uextend, I64),

        // Trapping float → integer truncations.
        I32TruncF32S | I32TruncF64S => convert(cx, Opcode::FcvtToSint, I32),
        I32TruncF32U | I32TruncF64U => convert(cx, Opcode::FcvtToUint, I32),
        I64TruncF32S | I64TruncF64S => convert(cx, Opcode::FcvtToSint, I64),
        I64TruncF32U | I64TruncF64U => convert(cx, Opcode::FcvtToUint, I64),

        // Saturating float → integer truncations.
        I32TruncSatF32S | I32TruncSatF64S => convert(cx, Opcode::FcvtToSintSat, I32),
        I32TruncSatF32U | I32TruncSatF64U => convert(cx, Opcode::FcvtToUintSat, I32),
        I64TruncSatF32S | I64TruncSatF64S => convert(cx, Opcode::FcvtToSintSat, I64),
        I64TruncSatF32U | I64TruncSatF64U => convert(cx, Opcode::FcvtToUintSat, I64),

        // Integer → float conversions (correctly rounded).
        F32ConvertI32S | F32ConvertI64S => convert(cx, Opcode::FcvtFromSint, F32),
        F32ConvertI32U | F32ConvertI64U => convert(cx, Opcode::FcvtFromUint, F32),
        F64ConvertI32S | F64ConvertI64S => convert(cx, Opcode::FcvtFromSint, F64),
        F64ConvertI32U | F64ConvertI64U => convert(cx, Opcode::FcvtFromUint, F64),

        // Float width changes.
        F32DemoteF64 => convert(cx, Opcode::Fdemote, F32),
        F64PromoteF32 => convert(cx, Opcode::Fpromote, F64),

        // Bit-preserving reinterpretations.
        I32ReinterpretF32 => reinterpret(cx, I32),
        I64ReinterpretF64 => reinterpret(cx, I64),
        F32ReinterpretI32 => reinterpret(cx, F32),
        F64ReinterpretI64 => reinterpret(cx, F64),

        _ => return Err(unsupported_operator(cx.offset, op)),
    };
    cx.push(v);
    Ok(())
}

// ---------------------------------------------------------------------------
// Arithmetic: one instruction whose controlling type is the operand type.
// ---------------------------------------------------------------------------

/// `a op b` for a two-operand instruction of the `Binary` format.
fn binary(cx: &mut FuncCx<'_, '_, '_, '_>, opcode: Opcode) -> Value {
    let (a, b) = cx.pop2();
    let ty = cx.builder.func.dfg.value_type(a);
    let (inst, dfg) = cx.builder.ins().Binary(opcode, ty, a, b);
    dfg.first_result(inst)
}

/// `op a` for a one-operand instruction whose result type is the operand's.
fn unary(cx: &mut FuncCx<'_, '_, '_, '_>, opcode: Opcode) -> Value {
    let a = cx
        .stack
        .last()
        .copied()
        .expect("validated: operand stack underflow");
    let ty = cx.builder.func.dfg.value_type(a);
    convert(cx, opcode, ty)
}

// ---------------------------------------------------------------------------
// Comparisons: Cranelift yields an `i8` 0/1, Wasm an `i32`.
// ---------------------------------------------------------------------------

fn icmp(cx: &mut FuncCx<'_, '_, '_, '_>, cc: IntCC) -> Value {
    let (a, b) = cx.pop2();
    let c = cx.builder.ins().icmp(cc, a, b);
    bool_to_i32(cx, c)
}

fn eqz(cx: &mut FuncCx<'_, '_, '_, '_>) -> Value {
    let a = cx.pop1();
    // `eqz` of a float comparison is the complementary comparison (`lt`
    // becomes "unordered or `ge`"), which a branch tests directly. Cranelift
    // simplifies this for `icmp` but not for `fcmp`, where it would
    // otherwise materialise the flag, widen it and test it again.
    if let Some((cc, x, y)) = float_compare_of(cx, a) {
        let c = cx.builder.ins().fcmp(cc.complement(), x, y);
        return bool_to_i32(cx, c);
    }
    let c = cx.builder.ins().icmp_imm_u(IntCC::Equal, a, 0);
    bool_to_i32(cx, c)
}

/// `(cc, x, y)` when `v` is `uextend(fcmp cc x y)`, as `fcmp` below makes.
fn float_compare_of(cx: &FuncCx<'_, '_, '_, '_>, v: Value) -> Option<(FloatCC, Value, Value)> {
    let dfg = &cx.builder.func.dfg;
    let ValueDef::Result(ext, 0) = dfg.value_def(v) else {
        return None;
    };
    let InstructionData::Unary {
        opcode: Opcode::Uextend,
        arg,
    } = dfg.insts[ext]
    else {
        return None;
    };
    let ValueDef::Result(cmp, 0) = dfg.value_def(arg) else {
        return None;
    };
    match dfg.insts[cmp] {
        InstructionData::FloatCompare {
            opcode: Opcode::Fcmp,
            cond,
            args: [x, y],
        } => Some((cond, x, y)),
        _ => None,
    }
}

fn fcmp(cx: &mut FuncCx<'_, '_, '_, '_>, cc: FloatCC) -> Value {
    let (a, b) = cx.pop2();
    let c = cx.builder.ins().fcmp(cc, a, b);
    bool_to_i32(cx, c)
}

fn bool_to_i32(cx: &mut FuncCx<'_, '_, '_, '_>, c: Value) -> Value {
    cx.builder.ins().uextend(I32, c)
}

// ---------------------------------------------------------------------------
// Conversions: the controlling type is the result type.
// ---------------------------------------------------------------------------

/// A one-operand conversion to `to` (extend, reduce, fcvt_*, demote, promote).
fn convert(cx: &mut FuncCx<'_, '_, '_, '_>, opcode: Opcode, to: Type) -> Value {
    let a = cx.pop1();
    let (inst, dfg) = cx.builder.ins().Unary(opcode, to, a);
    dfg.first_result(inst)
}

/// Sign-extends the low `narrow` bits of the operand to `wide`
/// (`i32.extend8_s`, `i64.extend32_s`, ...).
fn sign_extend_low(cx: &mut FuncCx<'_, '_, '_, '_>, narrow: Type, wide: Type) -> Value {
    let a = cx.pop1();
    let low = cx.builder.ins().ireduce(narrow, a);
    cx.builder.ins().sextend(wide, low)
}

/// Reinterprets the operand's bits as `to` (same width).
fn reinterpret(cx: &mut FuncCx<'_, '_, '_, '_>, to: Type) -> Value {
    let a = cx.pop1();
    cx.builder.ins().bitcast(to, MemFlagsData::new(), a)
}

// ---------------------------------------------------------------------------
// Operators of unsupported proposals.
// ---------------------------------------------------------------------------

/// The error for an operator no translator handles, naming its feature.
fn unsupported_operator(offset: u64, op: &Operator<'_>) -> Error {
    let (proposal, name) = proposal_of(op);
    let feature = match proposal {
        "simd" => "SIMD",
        "relaxed_simd" => "relaxed SIMD",
        "threads" | "shared_everything_threads" | "acquire_release_atomics" => "threads (atomics)",
        "tail_call" => "tail calls",
        "exceptions" | "legacy_exceptions" => "exception handling",
        "gc" | "custom_descriptors" => "GC",
        "function_references" => "typed function references",
        "stack_switching" => "stack switching",
        "wide_arithmetic" => "wide arithmetic",
        "memory_control" => "memory control",
        _ => {
            return Error::at(
                offset,
                format!("operator not supported: {name} ({proposal})"),
            )
        }
    };
    Error::unsupported(offset, &format!("{feature} (operator {name})"))
}

/// Defines `proposal_of`, mapping an operator to its wasmparser proposal
/// group (`mvp`, `simd`, `threads`, ...) and its variant name.
macro_rules! define_proposal_of {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        fn proposal_of(op: &Operator<'_>) -> (&'static str, &'static str) {
            match op {
                $( Operator::$op { .. } => (stringify!($proposal), stringify!($op)), )*
                #[allow(unreachable_patterns)]
                _ => ("unknown", "unknown operator"),
            }
        }
    };
}
wasmparser::for_each_operator!(define_proposal_of);
