//! The threads proposal's atomic operators: atomic loads, stores,
//! read-modify-writes and compare-exchange (bounds checked explicitly, then
//! alignment, as the spec orders them), `atomic.fence`, and
//! `memory.atomic.wait32/64` / `notify` through runtime builtins.

use super::memory::{check_writable, heap_address, heap_flags, memory_index, widen};
use super::{clif_trap, FuncCx};
use crate::abi::{builtins, TrapCode};
use crate::Error;
use cranelift_codegen::ir::{self, types, AtomicRmwOp, InstBuilder, Value};
use wasmparser::{MemArg, Operator};

#[derive(Clone, Copy)]
enum Kind {
    Load,
    Store,
    Rmw(AtomicRmwOp),
    Cmpxchg,
}

/// (kind, Wasm value type, access width in bytes) of an atomic access.
fn classify(op: &Operator<'_>) -> Option<(Kind, ir::Type, u8, MemArg)> {
    use types::{I32, I64};
    use AtomicRmwOp::*;
    use Kind::*;
    use Operator as O;
    let r = match *op {
        O::I32AtomicLoad { memarg } => (Load, I32, 4, memarg),
        O::I64AtomicLoad { memarg } => (Load, I64, 8, memarg),
        O::I32AtomicLoad8U { memarg } => (Load, I32, 1, memarg),
        O::I32AtomicLoad16U { memarg } => (Load, I32, 2, memarg),
        O::I64AtomicLoad8U { memarg } => (Load, I64, 1, memarg),
        O::I64AtomicLoad16U { memarg } => (Load, I64, 2, memarg),
        O::I64AtomicLoad32U { memarg } => (Load, I64, 4, memarg),
        O::I32AtomicStore { memarg } => (Store, I32, 4, memarg),
        O::I64AtomicStore { memarg } => (Store, I64, 8, memarg),
        O::I32AtomicStore8 { memarg } => (Store, I32, 1, memarg),
        O::I32AtomicStore16 { memarg } => (Store, I32, 2, memarg),
        O::I64AtomicStore8 { memarg } => (Store, I64, 1, memarg),
        O::I64AtomicStore16 { memarg } => (Store, I64, 2, memarg),
        O::I64AtomicStore32 { memarg } => (Store, I64, 4, memarg),
        O::I32AtomicRmwAdd { memarg } => (Rmw(Add), I32, 4, memarg),
        O::I64AtomicRmwAdd { memarg } => (Rmw(Add), I64, 8, memarg),
        O::I32AtomicRmw8AddU { memarg } => (Rmw(Add), I32, 1, memarg),
        O::I32AtomicRmw16AddU { memarg } => (Rmw(Add), I32, 2, memarg),
        O::I64AtomicRmw8AddU { memarg } => (Rmw(Add), I64, 1, memarg),
        O::I64AtomicRmw16AddU { memarg } => (Rmw(Add), I64, 2, memarg),
        O::I64AtomicRmw32AddU { memarg } => (Rmw(Add), I64, 4, memarg),
        O::I32AtomicRmwSub { memarg } => (Rmw(Sub), I32, 4, memarg),
        O::I64AtomicRmwSub { memarg } => (Rmw(Sub), I64, 8, memarg),
        O::I32AtomicRmw8SubU { memarg } => (Rmw(Sub), I32, 1, memarg),
        O::I32AtomicRmw16SubU { memarg } => (Rmw(Sub), I32, 2, memarg),
        O::I64AtomicRmw8SubU { memarg } => (Rmw(Sub), I64, 1, memarg),
        O::I64AtomicRmw16SubU { memarg } => (Rmw(Sub), I64, 2, memarg),
        O::I64AtomicRmw32SubU { memarg } => (Rmw(Sub), I64, 4, memarg),
        O::I32AtomicRmwAnd { memarg } => (Rmw(And), I32, 4, memarg),
        O::I64AtomicRmwAnd { memarg } => (Rmw(And), I64, 8, memarg),
        O::I32AtomicRmw8AndU { memarg } => (Rmw(And), I32, 1, memarg),
        O::I32AtomicRmw16AndU { memarg } => (Rmw(And), I32, 2, memarg),
        O::I64AtomicRmw8AndU { memarg } => (Rmw(And), I64, 1, memarg),
        O::I64AtomicRmw16AndU { memarg } => (Rmw(And), I64, 2, memarg),
        O::I64AtomicRmw32AndU { memarg } => (Rmw(And), I64, 4, memarg),
        O::I32AtomicRmwOr { memarg } => (Rmw(Or), I32, 4, memarg),
        O::I64AtomicRmwOr { memarg } => (Rmw(Or), I64, 8, memarg),
        O::I32AtomicRmw8OrU { memarg } => (Rmw(Or), I32, 1, memarg),
        O::I32AtomicRmw16OrU { memarg } => (Rmw(Or), I32, 2, memarg),
        O::I64AtomicRmw8OrU { memarg } => (Rmw(Or), I64, 1, memarg),
        O::I64AtomicRmw16OrU { memarg } => (Rmw(Or), I64, 2, memarg),
        O::I64AtomicRmw32OrU { memarg } => (Rmw(Or), I64, 4, memarg),
        O::I32AtomicRmwXor { memarg } => (Rmw(Xor), I32, 4, memarg),
        O::I64AtomicRmwXor { memarg } => (Rmw(Xor), I64, 8, memarg),
        O::I32AtomicRmw8XorU { memarg } => (Rmw(Xor), I32, 1, memarg),
        O::I32AtomicRmw16XorU { memarg } => (Rmw(Xor), I32, 2, memarg),
        O::I64AtomicRmw8XorU { memarg } => (Rmw(Xor), I64, 1, memarg),
        O::I64AtomicRmw16XorU { memarg } => (Rmw(Xor), I64, 2, memarg),
        O::I64AtomicRmw32XorU { memarg } => (Rmw(Xor), I64, 4, memarg),
        O::I32AtomicRmwXchg { memarg } => (Rmw(Xchg), I32, 4, memarg),
        O::I64AtomicRmwXchg { memarg } => (Rmw(Xchg), I64, 8, memarg),
        O::I32AtomicRmw8XchgU { memarg } => (Rmw(Xchg), I32, 1, memarg),
        O::I32AtomicRmw16XchgU { memarg } => (Rmw(Xchg), I32, 2, memarg),
        O::I64AtomicRmw8XchgU { memarg } => (Rmw(Xchg), I64, 1, memarg),
        O::I64AtomicRmw16XchgU { memarg } => (Rmw(Xchg), I64, 2, memarg),
        O::I64AtomicRmw32XchgU { memarg } => (Rmw(Xchg), I64, 4, memarg),
        O::I32AtomicRmwCmpxchg { memarg } => (Cmpxchg, I32, 4, memarg),
        O::I64AtomicRmwCmpxchg { memarg } => (Cmpxchg, I64, 8, memarg),
        O::I32AtomicRmw8CmpxchgU { memarg } => (Cmpxchg, I32, 1, memarg),
        O::I32AtomicRmw16CmpxchgU { memarg } => (Cmpxchg, I32, 2, memarg),
        O::I64AtomicRmw8CmpxchgU { memarg } => (Cmpxchg, I64, 1, memarg),
        O::I64AtomicRmw16CmpxchgU { memarg } => (Cmpxchg, I64, 2, memarg),
        O::I64AtomicRmw32CmpxchgU { memarg } => (Cmpxchg, I64, 4, memarg),
        _ => return None,
    };
    Some(r)
}

pub(super) fn is_atomic_operator(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::AtomicFence { .. }
            | Operator::MemoryAtomicNotify { .. }
            | Operator::MemoryAtomicWait32 { .. }
            | Operator::MemoryAtomicWait64 { .. }
    ) || classify(op).is_some()
}

pub(super) fn translate_atomic(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    op: &Operator<'_>,
) -> Result<(), Error> {
    match op {
        Operator::AtomicFence { .. } => {
            cx.builder.ins().fence();
        }
        Operator::MemoryAtomicNotify { memarg } => {
            let count = cx.pop1();
            let index = cx.pop1();
            let addr = wasm_address(cx, memarg, index, 4);
            let m = cx
                .builder
                .ins()
                .iconst(types::I32, memory_index(memarg) as i64);
            let r = cx.call_builtin(builtins::ATOMIC_NOTIFY, &[m, addr, count], &[types::I32])[0];
            cx.push(r);
        }
        Operator::MemoryAtomicWait32 { memarg } | Operator::MemoryAtomicWait64 { memarg } => {
            let wide = matches!(op, Operator::MemoryAtomicWait64 { .. });
            let timeout = cx.pop1();
            let expected = cx.pop1();
            let index = cx.pop1();
            let addr = wasm_address(cx, memarg, index, if wide { 8 } else { 4 });
            let m = cx
                .builder
                .ins()
                .iconst(types::I32, memory_index(memarg) as i64);
            let name = if wide {
                builtins::ATOMIC_WAIT64
            } else {
                builtins::ATOMIC_WAIT32
            };
            let r = cx.call_builtin(name, &[m, addr, expected, timeout], &[types::I32])[0];
            cx.push(r);
        }
        _ => {
            let (kind, ty, width, memarg) = classify(op).expect("dispatched here only for atomics");
            translate_access(cx, kind, ty, width, &memarg)?;
        }
    }
    Ok(())
}

/// The Wasm effective address (`index + offset`, as i64) for the runtime's
/// wait/notify, after the same bounds and alignment checks as an access.
fn wasm_address(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    memarg: &MemArg,
    index: Value,
    width: u8,
) -> Value {
    let native = checked_native_address(cx, memarg, index, width);
    let base_off = cx.env.layout.memory(memory_index(memarg)) + crate::abi::VMCTX_MEMORY_BASE;
    let base = cx.load_vmctx_readonly(base_off);
    cx.builder.ins().isub(native, base)
}

/// Native address of an atomic access: explicit bounds check first, then
/// the alignment check (the spec's order), so no fault can happen later.
fn checked_native_address(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    memarg: &MemArg,
    index: Value,
    width: u8,
) -> Value {
    let index = widen(cx, index);
    let (addr, off) = heap_address(cx, memarg, index, width, true);
    let addr = if off != 0 {
        cx.builder.ins().iadd_imm_s(addr, off as i64)
    } else {
        addr
    };
    if width > 1 {
        // The base is page-aligned, so the native address has the Wasm
        // address's low bits.
        let low = cx.builder.ins().band_imm_u(addr, (width - 1) as i64);
        cx.builder
            .ins()
            .trapnz(low, clif_trap(TrapCode::UnalignedAtomic));
    }
    addr
}

fn translate_access(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    kind: Kind,
    ty: ir::Type,
    width: u8,
    memarg: &MemArg,
) -> Result<(), Error> {
    let mem = memory_index(memarg);
    if !matches!(kind, Kind::Load) {
        check_writable(cx, mem, "an atomic write")?;
    }
    let access = match width {
        1 => types::I8,
        2 => types::I16,
        4 => types::I32,
        _ => types::I64,
    };
    let flags = heap_flags(cx, mem);
    let narrow = |cx: &mut FuncCx<'_, '_, '_, '_>, v: Value| {
        if access == ty {
            v
        } else {
            cx.builder.ins().ireduce(access, v)
        }
    };
    let extend = |cx: &mut FuncCx<'_, '_, '_, '_>, v: Value| {
        if access == ty {
            v
        } else {
            cx.builder.ins().uextend(ty, v)
        }
    };
    match kind {
        Kind::Load => {
            let index = cx.pop1();
            let addr = checked_native_address(cx, memarg, index, width);
            let v = cx.builder.ins().atomic_load(access, flags, addr);
            let v = extend(cx, v);
            cx.push(v);
        }
        Kind::Store => {
            let (index, value) = cx.pop2();
            let addr = checked_native_address(cx, memarg, index, width);
            let value = narrow(cx, value);
            cx.builder.ins().atomic_store(flags, value, addr);
        }
        Kind::Rmw(op) => {
            let (index, value) = cx.pop2();
            let addr = checked_native_address(cx, memarg, index, width);
            let value = narrow(cx, value);
            let old = cx.builder.ins().atomic_rmw(access, flags, op, addr, value);
            let old = extend(cx, old);
            cx.push(old);
        }
        Kind::Cmpxchg => {
            let (index, expected, replacement) = cx.pop3();
            let addr = checked_native_address(cx, memarg, index, width);
            // The expected value is compared at the access width.
            let expected = narrow(cx, expected);
            let replacement = narrow(cx, replacement);
            if !cx.env.cas_writes_on_failure {
                // A failing compare must still need write access (see
                // `TargetInfo::cas_writes_on_failure`): `or 0` writes the
                // value it read, atomically, so it changes nothing where
                // the page is writable and faults where it is not.
                let zero = cx.builder.ins().iconst(access, 0);
                cx.builder
                    .ins()
                    .atomic_rmw(access, flags, AtomicRmwOp::Or, addr, zero);
            }
            let old = cx
                .builder
                .ins()
                .atomic_cas(flags, addr, expected, replacement);
            let old = extend(cx, old);
            cx.push(old);
        }
    }
    Ok(())
}
