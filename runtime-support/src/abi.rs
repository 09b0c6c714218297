//! The ABI shared by the compiler and the runtime: vmctx layout, trap codes,
//! the raw module descriptor, builtin symbol names and memory constants.
//!
//! This module is dependency-free and is the single source of truth: the
//! compiler (`wasm2o-compiler`) imports it to generate code, the runtime uses
//! it to lay out instances. A unit test in the runtime checks that its
//! `#[repr(C)]` structs match the offsets below.
//!
//! # Calling convention of compiled functions
//!
//! Every WebAssembly function (defined or imported, host or Wasm) is called
//! with the platform C calling convention and this signature:
//!
//! ```text
//! R0 f(void *ctx, P0 p0, P1 p1, ..., R1 *r1, R2 *r2, ...)
//! ```
//!
//! `ctx` is the callee's vmctx for Wasm functions and a `wasm2o_caller *` for
//! host functions. The first result (if any) is the return value; results
//! after the first are written through trailing out-pointers. i32 → int32_t,
//! i64 → int64_t, f32 → float, f64 → double, funcref/externref → pointer-sized
//! integer (0 = null).
//!
//! Before calling through a [`VMFuncRef`] (imports, `call_indirect`), the
//! caller copies its stack limit into `ctx[VMCTX_STACK_LIMIT]` of the callee,
//! so the limit follows the thread, not the instance. Host `wasm2o_caller`
//! objects therefore start with a scratch stack-limit word too.
//!
//! # Array wrappers
//!
//! For every exported function index and the start function, the object
//! holds an "array wrapper" `void w(void *vmctx, uint64_t *values)` that
//! reads the arguments from `values[0..nparams]` (each value in the low bits
//! of one 64-bit slot; f32/f64 as their bit patterns), calls the function and
//! writes the results to `values[0..nresults]`. The runtime enters Wasm only
//! through these wrappers (under its trap-catching trampoline).

/// Size of a WebAssembly page.
pub const WASM_PAGE_SIZE: u64 = 65536;
/// Guard region after a 32-bit memory's 4 GiB index space. Accesses whose
/// static offset plus access size is at most this need no bounds check.
pub const GUARD_SIZE: u64 = 32 << 20;
/// Bytes reserved for a 32-bit memory (index space + guard).
pub const MEMORY32_RESERVATION: u64 = (1 << 32) + GUARD_SIZE;
/// Largest reservation made for a memory64 memory (its max, if smaller, is
/// used instead); `memory.grow` beyond it returns -1.
pub const MEMORY64_MAX_RESERVATION: u64 = 16 << 30;

// ---------------------------------------------------------------------------
// vmctx layout
// ---------------------------------------------------------------------------

/// `usize`: the stack limit. Every function that calls something checks
/// it: frames of up to [`MAX_FRAME_AFTER_CHECK`] bytes compare the stack
/// pointer with it after allocating the frame (so they may end up to that
/// far below it), larger frames compare before allocating.
pub const VMCTX_STACK_LIMIT: u32 = 0;

/// Largest frame (below the frame pointer) that compiled code allocates
/// before checking the stack limit; a leaf function (one that calls
/// nothing) with a frame this small is not checked at all.
pub const MAX_FRAME_AFTER_CHECK: u32 = 32 << 10;

/// Stack the runtime keeps free below the stack limit: for host code called
/// from Wasm, the runtime's builtins, signal handlers that do not use the
/// alternate stack, and one frame of up to [`MAX_FRAME_AFTER_CHECK`] bytes.
pub const STACK_MARGIN: usize = 256 << 10;

const _: () = assert!(STACK_MARGIN >= 4 * MAX_FRAME_AFTER_CHECK as usize);
/// `*mut Instance`: runtime-private back pointer.
pub const VMCTX_INSTANCE: u32 = 8;
/// `*const u32`: canonical signature id for each module type index.
pub const VMCTX_TYPE_IDS: u32 = 16;
/// Size of the fixed vmctx header; the per-module arrays follow.
pub const VMCTX_HEADER_SIZE: u32 = 32;

/// One memory entry in the vmctx: `{ base: *mut u8, def: *mut VMMemoryDef }`.
/// `base` never changes for the life of the instance (memories are
/// reserved up front), so compiled code loads it as read-only.
pub const VMCTX_MEMORY_ENTRY_SIZE: u32 = 16;
pub const VMCTX_MEMORY_BASE: u32 = 0;
pub const VMCTX_MEMORY_DEF: u32 = 8;
/// One global entry: `*mut VMGlobal`.
pub const VMCTX_GLOBAL_ENTRY_SIZE: u32 = 8;
/// One table entry: `*mut VMTableDef`.
pub const VMCTX_TABLE_ENTRY_SIZE: u32 = 8;
/// One function entry: a [`VMFuncRef`] stored inline (24 bytes). `ref.func
/// i` evaluates to the address of entry `i`.
pub const VMCTX_FUNC_ENTRY_SIZE: u32 = 24;

/// `VMMemoryDef` (owned by the memory, shared by importers):
/// `{ base: *mut u8, length: u64 /* bytes, current */ }`.
pub const VMMEMORY_DEF_BASE: u32 = 0;
pub const VMMEMORY_DEF_LENGTH: u32 = 8;
pub const VMMEMORY_DEF_SIZE: u32 = 16;

/// `VMTableDef`: `{ elements: *mut usize, length: u64 /* elements */ }`.
/// Each element is a pointer-sized value, 0 meaning null. A funcref element
/// points at a [`VMFuncRef`].
pub const VMTABLE_DEF_ELEMENTS: u32 = 0;
pub const VMTABLE_DEF_LENGTH: u32 = 8;
pub const VMTABLE_DEF_SIZE: u32 = 16;

/// `VMFuncRef`: `{ fn_ptr: *const (), vmctx: *mut (), type_id: u32, _pad: u32 }`.
pub const VMFUNCREF_FN: u32 = 0;
pub const VMFUNCREF_VMCTX: u32 = 8;
pub const VMFUNCREF_TYPE_ID: u32 = 16;
pub const VMFUNCREF_SIZE: u32 = 24;

/// `VMGlobal`: a 16-byte cell; the value sits at offset 0 in its natural
/// little-endian representation (refs as `usize`).
pub const VMGLOBAL_SIZE: u32 = 16;

/// The offsets of the per-module arrays in a vmctx.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmctxLayout {
    pub num_memories: u32,
    pub num_globals: u32,
    pub num_tables: u32,
    pub num_funcs: u32,
}

impl VmctxLayout {
    pub fn memories_start(&self) -> u32 {
        VMCTX_HEADER_SIZE
    }
    pub fn memory(&self, index: u32) -> u32 {
        self.memories_start() + index * VMCTX_MEMORY_ENTRY_SIZE
    }
    pub fn globals_start(&self) -> u32 {
        self.memory(self.num_memories)
    }
    pub fn global(&self, index: u32) -> u32 {
        self.globals_start() + index * VMCTX_GLOBAL_ENTRY_SIZE
    }
    pub fn tables_start(&self) -> u32 {
        self.global(self.num_globals)
    }
    pub fn table(&self, index: u32) -> u32 {
        self.tables_start() + index * VMCTX_TABLE_ENTRY_SIZE
    }
    pub fn funcs_start(&self) -> u32 {
        // Keep the function array 8-byte aligned (it already is: all entry
        // sizes are multiples of 8).
        self.table(self.num_tables)
    }
    pub fn func(&self, index: u32) -> u32 {
        self.funcs_start() + index * VMCTX_FUNC_ENTRY_SIZE
    }
    /// Total size of the vmctx in bytes.
    pub fn size(&self) -> u32 {
        self.func(self.num_funcs)
    }
}

// ---------------------------------------------------------------------------
// Trap codes
// ---------------------------------------------------------------------------

/// Trap codes, as returned to hosts (`wasm2o_trap_code`) and recorded in
/// the object's trap table. 0 means "no trap".
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapCode {
    Unreachable = 1,
    MemoryOutOfBounds = 2,
    MemoryAccessDenied = 3,
    IntegerDivideByZero = 4,
    IntegerOverflow = 5,
    BadConversionToInteger = 6,
    IndirectCallTypeMismatch = 7,
    UninitializedElement = 8,
    TableOutOfBounds = 9,
    NullReference = 10,
    StackOverflow = 11,
    UnalignedAtomic = 12,
    HostError = 13,
    MemoryControlRefused = 14,
    /// `memory.atomic.wait` on a memory that is not shared.
    ExpectedSharedMemory = 15,
}

impl TrapCode {
    pub const ALL: [TrapCode; 15] = [
        TrapCode::Unreachable,
        TrapCode::MemoryOutOfBounds,
        TrapCode::MemoryAccessDenied,
        TrapCode::IntegerDivideByZero,
        TrapCode::IntegerOverflow,
        TrapCode::BadConversionToInteger,
        TrapCode::IndirectCallTypeMismatch,
        TrapCode::UninitializedElement,
        TrapCode::TableOutOfBounds,
        TrapCode::NullReference,
        TrapCode::StackOverflow,
        TrapCode::UnalignedAtomic,
        TrapCode::HostError,
        TrapCode::MemoryControlRefused,
        TrapCode::ExpectedSharedMemory,
    ];

    pub fn from_u32(code: u32) -> Option<TrapCode> {
        TrapCode::ALL.iter().copied().find(|c| *c as u32 == code)
    }

    /// The message a `.wast` script matches (by prefix).
    pub fn message(self) -> &'static str {
        match self {
            TrapCode::Unreachable => "unreachable",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::MemoryAccessDenied => "access denied",
            TrapCode::IntegerDivideByZero => "integer divide by zero",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::BadConversionToInteger => "invalid conversion to integer",
            TrapCode::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapCode::UninitializedElement => "uninitialized element",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::NullReference => "null reference",
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::UnalignedAtomic => "unaligned atomic",
            TrapCode::HostError => "host error",
            TrapCode::MemoryControlRefused => "memory-control request refused",
            TrapCode::ExpectedSharedMemory => "expected shared memory",
        }
    }

    /// The C enumerator name in `wasm2o.h`.
    pub fn c_name(self) -> &'static str {
        match self {
            TrapCode::Unreachable => "WASM2O_TRAP_UNREACHABLE",
            TrapCode::MemoryOutOfBounds => "WASM2O_TRAP_MEMORY_OUT_OF_BOUNDS",
            TrapCode::MemoryAccessDenied => "WASM2O_TRAP_MEMORY_ACCESS_DENIED",
            TrapCode::IntegerDivideByZero => "WASM2O_TRAP_INTEGER_DIVIDE_BY_ZERO",
            TrapCode::IntegerOverflow => "WASM2O_TRAP_INTEGER_OVERFLOW",
            TrapCode::BadConversionToInteger => "WASM2O_TRAP_BAD_CONVERSION_TO_INTEGER",
            TrapCode::IndirectCallTypeMismatch => "WASM2O_TRAP_INDIRECT_CALL_TYPE_MISMATCH",
            TrapCode::UninitializedElement => "WASM2O_TRAP_UNINITIALIZED_ELEMENT",
            TrapCode::TableOutOfBounds => "WASM2O_TRAP_TABLE_OUT_OF_BOUNDS",
            TrapCode::NullReference => "WASM2O_TRAP_NULL_REFERENCE",
            TrapCode::StackOverflow => "WASM2O_TRAP_STACK_OVERFLOW",
            TrapCode::UnalignedAtomic => "WASM2O_TRAP_UNALIGNED_ATOMIC",
            TrapCode::HostError => "WASM2O_TRAP_HOST_ERROR",
            TrapCode::MemoryControlRefused => "WASM2O_TRAP_MEMORY_CONTROL_REFUSED",
            TrapCode::ExpectedSharedMemory => "WASM2O_TRAP_EXPECTED_SHARED_MEMORY",
        }
    }
}

// ---------------------------------------------------------------------------
// The raw module descriptor in the object
// ---------------------------------------------------------------------------

/// `"W2OM"` little-endian.
pub const MODULE_MAGIC: u32 = u32::from_le_bytes(*b"W2OM");
/// Bumped whenever anything in this file or in `desc` changes meaning.
pub const ABI_VERSION: u32 = 2;

/// The descriptor `PREFIX_module()` returns. All pointers are relocated by
/// the linker; the metadata blob is decoded by `desc::ModuleInfo::decode`.
#[repr(C)]
#[derive(Debug)]
pub struct RawModule {
    pub magic: u32,
    pub abi_version: u32,
    /// Encoded [`crate::desc::ModuleInfo`].
    pub meta: *const u8,
    pub meta_len: u64,
    /// One entry per *defined* function, in module order.
    pub funcs: *const RawFunc,
    pub num_funcs: u64,
    /// Trap sites, grouped per function (see `RawFunc::trap_start`), each
    /// group sorted by offset.
    pub traps: *const RawTrap,
    pub num_traps: u64,
    /// Array wrappers, sorted by function index.
    pub wrappers: *const RawWrapper,
    pub num_wrappers: u64,
    /// Bytes of all data segments; each segment starts at a 4096-aligned
    /// offset (`desc::DataSegment::data_offset`).
    pub data: *const u8,
    pub data_len: u64,
    /// The CPU features the code uses ([`CPU_FEATURES`] bits); the runtime
    /// refuses the module on a CPU that lacks one.
    pub cpu_features: u64,
}

/// Offsets of [`RawModule`] fields, used by the emitter for relocations.
pub const RAW_MODULE_META: u32 = 8;
pub const RAW_MODULE_FUNCS: u32 = 24;
pub const RAW_MODULE_TRAPS: u32 = 40;
pub const RAW_MODULE_WRAPPERS: u32 = 56;
pub const RAW_MODULE_DATA: u32 = 72;
pub const RAW_MODULE_CPU_FEATURES: u32 = 88;
pub const RAW_MODULE_SIZE: u32 = 96;

/// CPU features generated code may use, as bits of
/// `RawModule::cpu_features`, with their names. x86-64 in the low half,
/// aarch64 in the high half.
pub const CPU_FEATURES: &[(u64, &str)] = &[
    (CPU_SSE3, "sse3"),
    (CPU_SSSE3, "ssse3"),
    (CPU_SSE41, "sse4.1"),
    (CPU_SSE42, "sse4.2"),
    (CPU_POPCNT, "popcnt"),
    (CPU_AVX, "avx"),
    (CPU_AVX2, "avx2"),
    (CPU_BMI1, "bmi1"),
    (CPU_BMI2, "bmi2"),
    (CPU_LZCNT, "lzcnt"),
    (CPU_FMA, "fma"),
    (CPU_LSE, "lse"),
];
pub const CPU_SSE3: u64 = 1 << 0;
pub const CPU_SSSE3: u64 = 1 << 1;
pub const CPU_SSE41: u64 = 1 << 2;
pub const CPU_SSE42: u64 = 1 << 3;
pub const CPU_POPCNT: u64 = 1 << 4;
pub const CPU_AVX: u64 = 1 << 5;
pub const CPU_AVX2: u64 = 1 << 6;
pub const CPU_BMI1: u64 = 1 << 7;
pub const CPU_BMI2: u64 = 1 << 8;
pub const CPU_LZCNT: u64 = 1 << 9;
pub const CPU_FMA: u64 = 1 << 10;
pub const CPU_LSE: u64 = 1 << 32;

/// The [`CPU_FEATURES`] this CPU has.
pub fn host_cpu_features() -> u64 {
    let mut have = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        for (bit, on) in [
            (CPU_SSE3, has!("sse3")),
            (CPU_SSSE3, has!("ssse3")),
            (CPU_SSE41, has!("sse4.1")),
            (CPU_SSE42, has!("sse4.2")),
            (CPU_POPCNT, has!("popcnt")),
            (CPU_AVX, has!("avx")),
            (CPU_AVX2, has!("avx2")),
            (CPU_BMI1, has!("bmi1")),
            (CPU_BMI2, has!("bmi2")),
            (CPU_LZCNT, has!("lzcnt")),
            (CPU_FMA, has!("fma")),
        ] {
            if on {
                have |= bit;
            }
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("lse") {
            have |= CPU_LSE;
        }
    }
    have
}

/// The names of the features in `required` that `have` lacks.
pub fn missing_cpu_features(required: u64, have: u64) -> Vec<&'static str> {
    let missing = required & !have;
    let mut names: Vec<&str> = CPU_FEATURES
        .iter()
        .filter(|(bit, _)| missing & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    let known = CPU_FEATURES.iter().fold(0, |acc, (bit, _)| acc | bit);
    if missing & !known != 0 {
        names.push("(unknown to this runtime)");
    }
    names
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RawFunc {
    /// Address of the function's code.
    pub ptr: *const u8,
    /// Length of its code in bytes.
    pub len: u32,
    /// Index of its first trap site in `RawModule::traps`.
    pub trap_start: u32,
    pub trap_count: u32,
    pub _pad: u32,
}
pub const RAW_FUNC_SIZE: u32 = 24;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RawTrap {
    /// Offset of the trapping instruction from the function's start.
    pub offset: u32,
    /// A [`TrapCode`] value.
    pub code: u32,
}
pub const RAW_TRAP_SIZE: u32 = 8;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RawWrapper {
    pub func_index: u32,
    pub _pad: u32,
    /// `void (*)(void *vmctx, uint64_t *values)`.
    pub ptr: *const u8,
}
pub const RAW_WRAPPER_SIZE: u32 = 16;

// ---------------------------------------------------------------------------
// Symbols
// ---------------------------------------------------------------------------

/// The function a module object exports: `const wasm2o_module *PREFIX_module(void)`.
pub fn module_symbol(prefix: &str) -> String {
    format!("{prefix}_module")
}

/// Runtime functions called by compiled code. All take the caller's vmctx
/// first; those that can trap unwind to the entry trampoline themselves.
pub mod builtins {
    /// `u64 (vmctx, mem: u32, delta: u64)` → old size in pages, or `u64::MAX`.
    pub const MEMORY_GROW: &str = "wasm2o_rt_memory_grow";
    /// `void (vmctx, mem: u32, dst: u64, val: u32, len: u64)`.
    pub const MEMORY_FILL: &str = "wasm2o_rt_memory_fill";
    /// `void (vmctx, dst_mem: u32, src_mem: u32, dst: u64, src: u64, len: u64)`.
    pub const MEMORY_COPY: &str = "wasm2o_rt_memory_copy";
    /// `void (vmctx, mem: u32, data: u32, dst: u64, src: u32, len: u32)`.
    pub const MEMORY_INIT: &str = "wasm2o_rt_memory_init";
    /// `void (vmctx, data: u32)`.
    pub const DATA_DROP: &str = "wasm2o_rt_data_drop";
    /// `u64 (vmctx, table: u32, init: usize, delta: u64)` → old size, or `u64::MAX`.
    pub const TABLE_GROW: &str = "wasm2o_rt_table_grow";
    /// `void (vmctx, table: u32, dst: u64, val: usize, len: u64)`.
    pub const TABLE_FILL: &str = "wasm2o_rt_table_fill";
    /// `void (vmctx, dst_table: u32, src_table: u32, dst: u64, src: u64, len: u64)`.
    pub const TABLE_COPY: &str = "wasm2o_rt_table_copy";
    /// `void (vmctx, table: u32, elem: u32, dst: u64, src: u32, len: u32)`.
    pub const TABLE_INIT: &str = "wasm2o_rt_table_init";
    /// `void (vmctx, elem: u32)`.
    pub const ELEM_DROP: &str = "wasm2o_rt_elem_drop";
    /// `void (vmctx, code: u32)` — never returns: raises the trap.
    pub const RAISE_TRAP: &str = "wasm2o_rt_raise_trap";
    /// `void (vmctx, mem: u32, addr: u64, size: u64)`: memory.discard (and
    /// direct calls to the `memory-control` `discard` imports).
    pub const MEMORY_DISCARD: &str = "wasm2o_rt_memory_discard";
    /// `u64 (vmctx, mem: u32, addr: u64, size: u64, prot: u32)`: the
    /// `memory-control` `map` import on a virtual memory → `addr`, or
    /// `u64::MAX` when the kernel is out of resources.
    pub const MEMORY_MAP: &str = "wasm2o_rt_memory_map";
    /// `void (vmctx, mem: u32, addr: u64, size: u64)`: `unmap`.
    pub const MEMORY_UNMAP: &str = "wasm2o_rt_memory_unmap";
    /// `void (vmctx, mem: u32, addr: u64, size: u64, prot: u32)`: `protect`.
    pub const MEMORY_PROTECT: &str = "wasm2o_rt_memory_protect";
    /// `u64 (vmctx, mem: u32, addr: u64, size: u64, prot: u32, handle: u32,
    /// offset: u64)`: `map_handle` → `addr`, or `u64::MAX` when the kernel is
    /// out of resources.
    pub const MEMORY_MAP_HANDLE: &str = "wasm2o_rt_memory_map_handle";
    /// `u32 (vmctx, mem: u32, addr: u64, count: u32)`: memory.atomic.notify
    /// (bounds and alignment already checked) → number of waiters woken.
    pub const ATOMIC_NOTIFY: &str = "wasm2o_rt_atomic_notify";
    /// `u32 (vmctx, mem: u32, addr: u64, expected: u32, timeout_ns: i64)`:
    /// memory.atomic.wait32 → 0 woken, 1 not equal, 2 timed out; traps on
    /// an unshared memory.
    pub const ATOMIC_WAIT32: &str = "wasm2o_rt_atomic_wait32";
    /// `u32 (vmctx, mem: u32, addr: u64, expected: u64, timeout_ns: i64)`.
    pub const ATOMIC_WAIT64: &str = "wasm2o_rt_atomic_wait64";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_contiguous() {
        let l = VmctxLayout {
            num_memories: 2,
            num_globals: 3,
            num_tables: 1,
            num_funcs: 4,
        };
        assert_eq!(l.memory(0), 32);
        assert_eq!(l.globals_start(), 64);
        assert_eq!(l.tables_start(), 88);
        assert_eq!(l.funcs_start(), 96);
        assert_eq!(l.size(), 96 + 4 * 24);
    }

    #[test]
    fn missing_cpu_features_are_named() {
        let v3 = CPU_AVX | CPU_AVX2 | CPU_BMI1 | CPU_BMI2 | CPU_LZCNT | CPU_FMA;
        assert!(missing_cpu_features(v3, v3 | CPU_POPCNT).is_empty());
        assert_eq!(
            missing_cpu_features(v3 | CPU_POPCNT, CPU_POPCNT | CPU_AVX | CPU_FMA),
            ["avx2", "bmi1", "bmi2", "lzcnt"]
        );
        assert_eq!(missing_cpu_features(CPU_LSE, 0), ["lse"]);
        assert_eq!(
            missing_cpu_features(1 << 40, u64::MAX >> 30),
            ["(unknown to this runtime)"]
        );
        // The bits are distinct and every one has a name.
        let all = CPU_FEATURES.iter().fold(0u64, |acc, (bit, _)| {
            assert_eq!(acc & bit, 0);
            acc | bit
        });
        assert_eq!(all.count_ones() as usize, CPU_FEATURES.len());
        // What this machine has is among the known features.
        assert_eq!(host_cpu_features() & !all, 0);
    }

    #[test]
    fn raw_module_offsets_match() {
        assert_eq!(std::mem::size_of::<RawModule>() as u32, RAW_MODULE_SIZE);
        assert_eq!(
            std::mem::offset_of!(RawModule, meta) as u32,
            RAW_MODULE_META
        );
        assert_eq!(
            std::mem::offset_of!(RawModule, funcs) as u32,
            RAW_MODULE_FUNCS
        );
        assert_eq!(
            std::mem::offset_of!(RawModule, traps) as u32,
            RAW_MODULE_TRAPS
        );
        assert_eq!(
            std::mem::offset_of!(RawModule, wrappers) as u32,
            RAW_MODULE_WRAPPERS
        );
        assert_eq!(
            std::mem::offset_of!(RawModule, data) as u32,
            RAW_MODULE_DATA
        );
        assert_eq!(
            std::mem::offset_of!(RawModule, cpu_features) as u32,
            RAW_MODULE_CPU_FEATURES
        );
        assert_eq!(std::mem::size_of::<RawFunc>() as u32, RAW_FUNC_SIZE);
        assert_eq!(std::mem::size_of::<RawTrap>() as u32, RAW_TRAP_SIZE);
        assert_eq!(std::mem::size_of::<RawWrapper>() as u32, RAW_WRAPPER_SIZE);
    }

    #[test]
    fn trap_codes_roundtrip() {
        for c in TrapCode::ALL {
            assert_eq!(TrapCode::from_u32(c as u32), Some(c));
        }
        assert_eq!(TrapCode::from_u32(0), None);
    }
}
