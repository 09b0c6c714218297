//! Linear-memory accesses and the bulk memory operators.
//!
//! SANDBOX-CRITICAL. Every guest address is computed here. A 32-bit memory
//! owns a reservation of 4 GiB + `abi::GUARD_SIZE` bytes, so
//! `base + zext(index) + offset` stays inside it whenever
//! `offset + access_size <= GUARD_SIZE`: such accesses need no check, the
//! MMU faults on unmapped pages and the runtime turns that into a trap.
//! Every other access (memory64, a large static offset, or
//! `--bounds-checks always`) is checked explicitly against the live length,
//! with overflow-free arithmetic, before it is made.

use super::{clif_trap, FuncCx, Region};
use crate::abi::{self, builtins, TrapCode};
use crate::clif::{iconst_of, wrap_to};
use crate::memctl::Intrinsic;
use crate::BoundsChecks;
use crate::Error;
use cranelift_codegen::ir::{self, condcodes::IntCC, types, InstBuilder, MemFlagsData, Value};
use wasmparser::{MemArg, Operator};

pub(super) fn is_memory_operator(op: &Operator<'_>) -> bool {
    use Operator::*;
    matches!(
        op,
        I32Load { .. }
            | I64Load { .. }
            | F32Load { .. }
            | F64Load { .. }
            | I32Load8S { .. }
            | I32Load8U { .. }
            | I32Load16S { .. }
            | I32Load16U { .. }
            | I64Load8S { .. }
            | I64Load8U { .. }
            | I64Load16S { .. }
            | I64Load16U { .. }
            | I64Load32S { .. }
            | I64Load32U { .. }
            | I32Store { .. }
            | I64Store { .. }
            | F32Store { .. }
            | F64Store { .. }
            | I32Store8 { .. }
            | I32Store16 { .. }
            | I64Store8 { .. }
            | I64Store16 { .. }
            | I64Store32 { .. }
            | MemorySize { .. }
            | MemoryGrow { .. }
            | MemoryFill { .. }
            | MemoryCopy { .. }
            | MemoryInit { .. }
            | DataDrop { .. }
            | MemoryDiscard { .. }
    )
}

#[derive(Clone, Copy)]
enum Load {
    Plain(ir::Type),
    /// (result type, bytes, signed)
    Extend(ir::Type, u8, bool),
}

pub(super) fn translate_memory(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    op: &Operator<'_>,
) -> Result<(), Error> {
    use types::{F32, F64, I32, I64};
    use Operator::*;
    match op {
        I32Load { memarg } => translate_load(cx, memarg, Load::Plain(I32)),
        I64Load { memarg } => translate_load(cx, memarg, Load::Plain(I64)),
        F32Load { memarg } => translate_load(cx, memarg, Load::Plain(F32)),
        F64Load { memarg } => translate_load(cx, memarg, Load::Plain(F64)),
        I32Load8S { memarg } => translate_load(cx, memarg, Load::Extend(I32, 1, true)),
        I32Load8U { memarg } => translate_load(cx, memarg, Load::Extend(I32, 1, false)),
        I32Load16S { memarg } => translate_load(cx, memarg, Load::Extend(I32, 2, true)),
        I32Load16U { memarg } => translate_load(cx, memarg, Load::Extend(I32, 2, false)),
        I64Load8S { memarg } => translate_load(cx, memarg, Load::Extend(I64, 1, true)),
        I64Load8U { memarg } => translate_load(cx, memarg, Load::Extend(I64, 1, false)),
        I64Load16S { memarg } => translate_load(cx, memarg, Load::Extend(I64, 2, true)),
        I64Load16U { memarg } => translate_load(cx, memarg, Load::Extend(I64, 2, false)),
        I64Load32S { memarg } => translate_load(cx, memarg, Load::Extend(I64, 4, true)),
        I64Load32U { memarg } => translate_load(cx, memarg, Load::Extend(I64, 4, false)),
        I32Store { memarg } | I64Store { memarg } | F32Store { memarg } | F64Store { memarg } => {
            translate_store(cx, memarg, None)?
        }
        I32Store8 { memarg } | I64Store8 { memarg } => translate_store(cx, memarg, Some(1))?,
        I32Store16 { memarg } | I64Store16 { memarg } => translate_store(cx, memarg, Some(2))?,
        I64Store32 { memarg } => translate_store(cx, memarg, Some(4))?,
        MemorySize { mem } => {
            let len = memory_length(cx, *mem);
            let pages = cx.builder.ins().ushr_imm_u(len, 16);
            let v = narrow(cx, *mem, pages);
            cx.push(v);
        }
        MemoryGrow { mem } => {
            let delta = cx.pop1();
            let delta = widen(cx, delta);
            let m = cx.builder.ins().iconst(I32, *mem as i64);
            let r = cx.call_builtin(builtins::MEMORY_GROW, &[m, delta], &[I64])[0];
            let v = narrow(cx, *mem, r);
            cx.push(v);
        }
        MemoryFill { mem } => {
            check_writable(cx, *mem, "memory.fill")?;
            let (dst, val, len) = cx.pop3();
            let m = cx.builder.ins().iconst(I32, *mem as i64);
            let dst = widen(cx, dst);
            let len = widen(cx, len);
            cx.call_builtin(builtins::MEMORY_FILL, &[m, dst, val, len], &[]);
        }
        MemoryCopy { dst_mem, src_mem } => {
            check_writable(cx, *dst_mem, "memory.copy")?;
            let (dst, src, len) = cx.pop3();
            let dm = cx.builder.ins().iconst(I32, *dst_mem as i64);
            let sm = cx.builder.ins().iconst(I32, *src_mem as i64);
            let dst = widen(cx, dst);
            let src = widen(cx, src);
            let len = widen(cx, len);
            cx.call_builtin(builtins::MEMORY_COPY, &[dm, sm, dst, src, len], &[]);
        }
        MemoryInit { data_index, mem } => {
            check_writable(cx, *mem, "memory.init")?;
            let (dst, src, len) = cx.pop3();
            let m = cx.builder.ins().iconst(I32, *mem as i64);
            let d = cx.builder.ins().iconst(I32, *data_index as i64);
            let dst = widen(cx, dst);
            cx.call_builtin(builtins::MEMORY_INIT, &[m, d, dst, src, len], &[]);
        }
        MemoryDiscard { mem } => translate_intrinsic(cx, Intrinsic::Discard(*mem))?,
        DataDrop { data_index } => {
            let d = cx.builder.ins().iconst(I32, *data_index as i64);
            cx.call_builtin(builtins::DATA_DROP, &[d], &[]);
        }
        _ => unreachable!("not a memory operator: {op:?}"),
    }
    Ok(())
}

/// Lowers a memory-control operation (the opcode or a `memory-control`
/// import) to its runtime builtin.
pub(super) fn translate_intrinsic(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    intrinsic: Intrinsic,
) -> Result<(), Error> {
    match intrinsic {
        Intrinsic::Discard(mem) => {
            check_writable(cx, mem, "memory.discard")?;
            let (addr, size) = cx.pop2();
            let (m, addr, size) = memctl_operands(cx, mem, addr, size);
            cx.call_builtin(builtins::MEMORY_DISCARD, &[m, addr, size], &[]);
        }
        Intrinsic::Unmap(mem) => {
            let (addr, size) = cx.pop2();
            let (m, addr, size) = memctl_operands(cx, mem, addr, size);
            cx.call_builtin(builtins::MEMORY_UNMAP, &[m, addr, size], &[]);
        }
        Intrinsic::Protect(mem) => {
            let (addr, size, prot) = cx.pop3();
            let (m, addr, size) = memctl_operands(cx, mem, addr, size);
            cx.call_builtin(builtins::MEMORY_PROTECT, &[m, addr, size, prot], &[]);
        }
        Intrinsic::Map(mem) => {
            let (addr, size, prot) = cx.pop3();
            let (m, addr, size) = memctl_operands(cx, mem, addr, size);
            let r = cx.call_builtin(builtins::MEMORY_MAP, &[m, addr, size, prot], &[types::I64])[0];
            let r = narrow(cx, mem, r);
            cx.push(r);
        }
        Intrinsic::MapHandle(mem) => {
            let offset = cx.pop1();
            let handle = cx.pop1();
            let (addr, size, prot) = cx.pop3();
            let (m, addr, size) = memctl_operands(cx, mem, addr, size);
            let args = [m, addr, size, prot, handle, offset];
            let r = cx.call_builtin(builtins::MEMORY_MAP_HANDLE, &args, &[types::I64])[0];
            let r = narrow(cx, mem, r);
            cx.push(r);
        }
    }
    Ok(())
}

/// The memory index constant and the address/size widened to i64.
fn memctl_operands(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    mem: u32,
    addr: Value,
    size: Value,
) -> (Value, Value, Value) {
    let m = cx.builder.ins().iconst(types::I32, mem as i64);
    let addr = widen(cx, addr);
    let size = widen(cx, size);
    (m, addr, size)
}

/// Code that writes to an `immutable` memory is rejected at compile time.
pub(super) fn check_writable(
    cx: &FuncCx<'_, '_, '_, '_>,
    mem: u32,
    what: &str,
) -> Result<(), Error> {
    if cx.env.module.info.memories[mem as usize].control.immutable {
        return Err(Error::at(
            cx.offset,
            format!("{what} writes to memory {mem}, which is immutable"),
        ));
    }
    Ok(())
}

/// An address or length operand as i64 (zero-extended).
pub(super) fn widen(cx: &mut FuncCx<'_, '_, '_, '_>, v: Value) -> Value {
    if cx.builder.func.dfg.value_type(v) == types::I64 {
        v
    } else {
        cx.builder.ins().uextend(types::I64, v)
    }
}

/// An i64 page count as the memory's index type.
fn narrow(cx: &mut FuncCx<'_, '_, '_, '_>, mem: u32, v: Value) -> Value {
    if cx.env.module.info.memories[mem as usize].memory64 {
        v
    } else {
        cx.builder.ins().ireduce(types::I32, v)
    }
}

fn memory_base(cx: &mut FuncCx<'_, '_, '_, '_>, mem: u32) -> Value {
    let off = cx.env.layout.memory(mem) + abi::VMCTX_MEMORY_BASE;
    cx.load_vmctx_readonly(off)
}

/// The memory's current length in bytes (changes with `memory.grow`).
fn memory_length(cx: &mut FuncCx<'_, '_, '_, '_>, mem: u32) -> Value {
    let off = cx.env.layout.memory(mem) + abi::VMCTX_MEMORY_DEF;
    let def = cx.load_vmctx_readonly(off);
    let flags = cx.trusted_in(Region::MemoryLength(mem));
    cx.builder
        .ins()
        .load(types::I64, flags, def, abi::VMMEMORY_DEF_LENGTH as i32)
}

/// Flags of a guest memory access: little-endian, may fault (a fault is a
/// heap trap at this instruction).
pub(super) fn heap_flags(cx: &mut FuncCx<'_, '_, '_, '_>, mem: u32) -> MemFlagsData {
    let region = cx.region(Region::Heap(mem));
    MemFlagsData::new()
        .with_endianness(ir::Endianness::Little)
        .with_trap_code(Some(clif_trap(TrapCode::MemoryOutOfBounds)))
        .with_alias_region(Some(region))
}

/// Computes the native address of an access of `size` bytes at
/// `index + memarg.offset`, with a bounds check where the reservation does
/// not already guarantee a fault. Returns `(address, static offset)`; the
/// static offset is folded into the load/store instruction.
pub(super) fn heap_address(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    memarg: &MemArg,
    index: Value,
    size: u8,
    force_check: bool,
) -> (Value, i32) {
    let mem = memory_index(memarg);
    let ty = cx.env.module.info.memories[mem as usize];
    let mut offset = memarg.offset;
    let needs_check = force_check
        || ty.memory64
        || cx.env.bounds_checks == BoundsChecks::Always
        || offset.saturating_add(size as u64) > abi::GUARD_SIZE;
    let index = if needs_check {
        widen(cx, index)
    } else {
        // Unchecked: the effective address only has to equal
        // `zext(index) + offset`, which `split_index` keeps exactly.
        let (index, extra) = split_index(cx, index);
        offset += extra;
        index
    };
    if needs_check {
        match offset.checked_add(size as u64) {
            Some(end_offset) => {
                // end = index + offset + size, trapping on u64 overflow;
                // then trap if end > length.
                let end_c = cx.builder.ins().iconst(types::I64, end_offset as i64);
                let end = cx.builder.ins().uadd_overflow_trap(
                    index,
                    end_c,
                    clif_trap(TrapCode::MemoryOutOfBounds),
                );
                let len = memory_length(cx, mem);
                let out = cx.builder.ins().icmp(IntCC::UnsignedGreaterThan, end, len);
                cx.builder
                    .ins()
                    .trapnz(out, clif_trap(TrapCode::MemoryOutOfBounds));
            }
            None => {
                cx.builder
                    .ins()
                    .trap(clif_trap(TrapCode::MemoryOutOfBounds));
                // Keep building valid (dead) code below.
                let dead = cx.builder.create_block();
                cx.builder.switch_to_block(dead);
                cx.builder.seal_block(dead);
            }
        }
    }
    let base = memory_base(cx, mem);
    let addr = cx.builder.ins().iadd(base, index);
    match i32::try_from(offset) {
        Ok(off) => (addr, off),
        Err(_) => {
            let a = cx.builder.ins().iadd_imm_u(addr, offset as i64);
            (a, 0)
        }
    }
}

/// Widens a 32-bit address operand to 64 bits so that Cranelift can fold
/// its parts into the access's addressing mode. `zext(x + c)` is
/// `zext(x) + c` and `zext(y << k)` is `zext(y) << k` only when the i32
/// operation cannot wrap, which [`u32_bound`] proves from how the value was
/// computed (masks, shifts, narrow loads: a table index like
/// `((c ^ b) & 0xff) << 2) + 1024`). Returns `(index, extra)` with
/// `index + extra == zext(v)` exactly; `extra` joins the static offset.
/// Anything not proven is widened as is.
fn split_index(cx: &mut FuncCx<'_, '_, '_, '_>, v: Value) -> (Value, u64) {
    let dfg = &cx.builder.func.dfg;
    if dfg.value_type(v) != types::I32 {
        return (v, 0);
    }
    if let Some((op, [x, y])) = binary_of(dfg, v) {
        if op == ir::Opcode::Iadd {
            for (a, b) in [(x, y), (y, x)] {
                if let Some(c) = i32_const(dfg, b) {
                    if u32_bound(dfg, a, 0) + c <= u64::from(u32::MAX) {
                        return (widen_exact(cx, a), c);
                    }
                }
            }
        }
    }
    (widen_exact(cx, v), 0)
}

/// `zext(v)` for an i32 `v`, as `zext(y) << k` when `v = y << k` provably
/// does not wrap (so the shift can become an addressing-mode scale).
fn widen_exact(cx: &mut FuncCx<'_, '_, '_, '_>, v: Value) -> Value {
    let dfg = &cx.builder.func.dfg;
    if let Some((ir::Opcode::Ishl, [y, k])) = binary_of(dfg, v) {
        if let Some(k) = i32_const(dfg, k).map(|k| k & 31) {
            if u32_bound(dfg, y, 0) << k <= u64::from(u32::MAX) {
                let y = cx.builder.ins().uextend(types::I64, y);
                return cx.builder.ins().ishl_imm_u(y, k as i64);
            }
        }
    }
    cx.builder.ins().uextend(types::I64, v)
}

/// The opcode and operands of `v` if it is the result of a binary
/// instruction.
fn binary_of(dfg: &ir::DataFlowGraph, v: Value) -> Option<(ir::Opcode, [Value; 2])> {
    let ir::ValueDef::Result(inst, 0) = dfg.value_def(v) else {
        return None;
    };
    match dfg.insts[inst] {
        ir::InstructionData::Binary { opcode, args } => Some((opcode, args)),
        _ => None,
    }
}

/// The value of an integer constant, as the unsigned number it is at its
/// type's width (i32 constants are stored sign-extended).
fn unsigned_const(dfg: &ir::DataFlowGraph, v: Value) -> Option<u64> {
    iconst_of(dfg, v).map(|bits| wrap_to(dfg.value_type(v), bits) as u64)
}

/// The value of an i32 constant, as the unsigned 32-bit number it is.
fn i32_const(dfg: &ir::DataFlowGraph, v: Value) -> Option<u64> {
    unsigned_const(dfg, v).filter(|_| dfg.value_type(v) == types::I32)
}

/// An upper bound of the unsigned value of the i32 `v`, from the
/// instructions that computed it (`u32::MAX` when nothing is known).
/// Sound for every input: each rule bounds the wrapped 32-bit result.
fn u32_bound(dfg: &ir::DataFlowGraph, v: Value, depth: u32) -> u64 {
    const MAX: u64 = u32::MAX as u64;
    if depth > 6 || dfg.value_type(v) != types::I32 {
        return MAX;
    }
    if let Some(c) = i32_const(dfg, v) {
        return c;
    }
    let ir::ValueDef::Result(inst, 0) = dfg.value_def(v) else {
        return MAX;
    };
    let bound = |x| u32_bound(dfg, x, depth + 1);
    match dfg.insts[inst] {
        ir::InstructionData::Binary {
            opcode,
            args: [x, y],
        } => match opcode {
            ir::Opcode::Band => bound(x).min(bound(y)),
            // A sum or shift that might wrap bounds nothing.
            ir::Opcode::Iadd => (bound(x) + bound(y)).min(MAX),
            ir::Opcode::Ishl => match i32_const(dfg, y) {
                Some(k) => {
                    let b = bound(x) << (k & 31);
                    if b <= MAX {
                        b
                    } else {
                        MAX
                    }
                }
                None => MAX,
            },
            ir::Opcode::Ushr => match i32_const(dfg, y) {
                Some(k) => bound(x) >> (k & 31),
                None => bound(x),
            },
            ir::Opcode::Urem => bound(x).min(bound(y).saturating_sub(1)),
            ir::Opcode::Udiv => bound(x),
            _ => MAX,
        },
        ir::InstructionData::Load {
            opcode: ir::Opcode::Uload8,
            ..
        } => 0xff,
        ir::InstructionData::Load {
            opcode: ir::Opcode::Uload16,
            ..
        } => 0xffff,
        _ => MAX,
    }
}

pub(super) fn memory_index(memarg: &MemArg) -> u32 {
    match memarg.target {
        wasmparser::MemArgTarget::Memory(m) => m,
        wasmparser::MemArgTarget::Array(_) => unreachable!("GC arrays are rejected by validation"),
    }
}

/// Whether a load from an immutable memory is in bounds whatever happens:
/// a constant address whose whole access lies below the memory type's
/// minimum size. An immutable memory never grows or shrinks, and an
/// imported one is at least as large as its declared minimum.
fn immutable_load_in_bounds(
    cx: &FuncCx<'_, '_, '_, '_>,
    memarg: &MemArg,
    index: Value,
    size: u8,
) -> bool {
    let ty = cx.env.module.info.memories[memory_index(memarg) as usize];
    if !ty.control.immutable {
        return false;
    }
    let Some(address) = unsigned_const(&cx.builder.func.dfg, index) else {
        return false;
    };
    let end = address
        .checked_add(memarg.offset)
        .and_then(|a| a.checked_add(size as u64));
    let min_bytes = ty.min.checked_mul(abi::WASM_PAGE_SIZE);
    matches!((end, min_bytes), (Some(end), Some(min)) if end <= min)
}

fn translate_load(cx: &mut FuncCx<'_, '_, '_, '_>, memarg: &MemArg, kind: Load) {
    let index = cx.pop1();
    let size = match kind {
        Load::Plain(t) => t.bytes() as u8,
        Load::Extend(_, n, _) => n,
    };
    let provably_in_bounds = immutable_load_in_bounds(cx, memarg, index, size);
    let (addr, off) = heap_address(cx, memarg, index, size, false);
    let mut flags = heap_flags(cx, memory_index(memarg));
    if cx.env.module.info.memories[memory_index(memarg) as usize]
        .control
        .immutable
    {
        // Nothing writes an immutable memory after instantiation, so its
        // loads can be merged across calls and stores.
        flags = flags.with_readonly();
        if provably_in_bounds {
            // ...and one that cannot fault is pure: Cranelift may hoist it
            // out of loops and merge it with its twins.
            let region = cx.region(Region::Heap(memory_index(memarg)));
            flags = MemFlagsData::trusted()
                .with_endianness(ir::Endianness::Little)
                .with_readonly()
                .with_can_move()
                .with_alias_region(Some(region));
        }
    }
    if let (true, Load::Extend(t, n, signed)) = (provably_in_bounds, kind) {
        // Only a plain `load` counts as pure for Cranelift's egraph: load
        // the narrow type, then extend.
        let narrow = ir::Type::int(n as u16 * 8).expect("1, 2 or 4 bytes");
        let v = cx.builder.ins().load(narrow, flags, addr, off);
        let v = if signed {
            cx.builder.ins().sextend(t, v)
        } else {
            cx.builder.ins().uextend(t, v)
        };
        cx.push(v);
        return;
    }
    let ins = cx.builder.ins();
    let v = match kind {
        Load::Plain(t) => ins.load(t, flags, addr, off),
        Load::Extend(t, 1, false) => ins.uload8(t, flags, addr, off),
        Load::Extend(t, 1, true) => ins.sload8(t, flags, addr, off),
        Load::Extend(t, 2, false) => ins.uload16(t, flags, addr, off),
        Load::Extend(t, 2, true) => ins.sload16(t, flags, addr, off),
        Load::Extend(_, 4, false) => ins.uload32(flags, addr, off),
        Load::Extend(_, 4, true) => ins.sload32(flags, addr, off),
        Load::Extend(..) => unreachable!("load widths are 1, 2 or 4"),
    };
    cx.push(v);
}

/// A store; `narrow` is the stored width for the truncating stores.
fn translate_store(
    cx: &mut FuncCx<'_, '_, '_, '_>,
    memarg: &MemArg,
    narrow: Option<u8>,
) -> Result<(), Error> {
    check_writable(cx, memory_index(memarg), "a store")?;
    let (index, value) = cx.pop2();
    let size = narrow.unwrap_or_else(|| cx.builder.func.dfg.value_type(value).bytes() as u8);
    let (addr, off) = heap_address(cx, memarg, index, size, false);
    let flags = heap_flags(cx, memory_index(memarg));
    // A constant stored narrow becomes a constant of the narrow type: x86's
    // lowering turns `store` of a constant (not `istoreN`) into one
    // `mov $imm, mem` instead of materialising it in a register.
    if let (Some(bytes), Some(c)) = (narrow, unsigned_const(&cx.builder.func.dfg, value)) {
        let t = ir::Type::int_with_byte_size(u16::from(bytes)).expect("1, 2 or 4 bytes");
        let mask = (1u64 << (8 * u32::from(bytes))) - 1;
        let narrow_value = cx.builder.ins().iconst(t, (c & mask) as i64);
        cx.builder.ins().store(flags, narrow_value, addr, off);
        return Ok(());
    }
    let ins = cx.builder.ins();
    match narrow {
        None => ins.store(flags, value, addr, off),
        Some(1) => ins.istore8(flags, value, addr, off),
        Some(2) => ins.istore16(flags, value, addr, off),
        Some(4) => ins.istore32(flags, value, addr, off),
        Some(_) => unreachable!("store widths are 1, 2 or 4"),
    };
    Ok(())
}
