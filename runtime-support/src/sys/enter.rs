//! The entry trampoline: calls an array wrapper with trap catching.
//!
//! `wasm2o_rt_enter(buf, wrapper, vmctx, values) -> u32` saves the
//! callee-saved registers on its own frame, stores its stack pointer and
//! the address of its resume label in `buf`, calls `wrapper(vmctx,
//! values)` and returns 0. A trap resumes at the label with the stack
//! pointer from `buf` and the trap code in the return register — either
//! the signal handler rewriting the interrupted context, or
//! `wasm2o_rt_unwind(buf, code)` (a longjmp for traps raised by the
//! runtime). The label restores the callee-saved registers from the frame,
//! so `enter` returns normally to Rust with the code. Frames between the
//! trampoline and the trap (Wasm, builtins) are discarded without running
//! anything: builtins raise only once they hold nothing that needs drop.

use super::tls::{self, JmpBuf, TrapRecord};

// Symbol syntax differs between object formats; the instructions do not.
// ELF: `.type`/`.size` and `.L` local labels. Mach-O: C symbols carry a
// leading `_`, there is no `.type`/`.size`, and local labels start with
// `L` (anything else would be an atom boundary under
// `.subsections_via_symbols`). On ELF these expand to exactly the text the
// trampolines always had. (The Mach-O spelling is assembled, for both
// Apple targets, by `make check-macos`; never run: docs/cross.md.)
#[cfg(not(target_vendor = "apple"))]
macro_rules! asm_fn {
    (start $name:literal, $kind:literal) => {
        concat!(".globl ", $name, "\n.type ", $name, ",", $kind, "\n")
    };
    (label $name:literal) => {
        concat!($name, ":")
    };
    (end $name:literal) => {
        concat!(".size ", $name, ", .-", $name)
    };
    (local $name:literal) => {
        concat!(".L", $name)
    };
}
#[cfg(target_vendor = "apple")]
macro_rules! asm_fn {
    (start $name:literal, $kind:literal) => {
        concat!(".globl _", $name, "\n")
    };
    (label $name:literal) => {
        concat!("_", $name, ":")
    };
    (end $name:literal) => {
        ""
    };
    (local $name:literal) => {
        concat!("L", $name)
    };
}

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".text",
    asm_fn!(start "wasm2o_rt_enter", "@function"),
    ".p2align 4",
    asm_fn!(label "wasm2o_rt_enter"),
    ".cfi_startproc",
    "push rbp",
    ".cfi_def_cfa_offset 16",
    ".cfi_offset rbp, -16",
    "mov rbp, rsp",
    ".cfi_def_cfa_register rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    // Keep the stack 16-byte aligned at the call below.
    "sub rsp, 8",
    "mov [rdi], rsp",
    concat!("lea rax, [rip + ", asm_fn!(local "wasm2o_rt_resume"), "]"),
    "mov [rdi + 8], rax",
    "mov rax, rsi",
    "mov rdi, rdx",
    "mov rsi, rcx",
    "call rax",
    "xor eax, eax",
    concat!(asm_fn!(local "wasm2o_rt_resume"), ":"),
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    ".cfi_def_cfa rsp, 8",
    "ret",
    ".cfi_endproc",
    asm_fn!(end "wasm2o_rt_enter"),
    "",
    asm_fn!(start "wasm2o_rt_unwind", "@function"),
    ".p2align 4",
    asm_fn!(label "wasm2o_rt_unwind"),
    "mov rsp, [rdi]",
    "mov eax, esi",
    "jmp qword ptr [rdi + 8]",
    asm_fn!(end "wasm2o_rt_unwind"),
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".text",
    asm_fn!(start "wasm2o_rt_enter", "%function"),
    ".p2align 2",
    asm_fn!(label "wasm2o_rt_enter"),
    ".cfi_startproc",
    "stp x29, x30, [sp, #-160]!",
    ".cfi_def_cfa_offset 160",
    ".cfi_offset x30, -152",
    ".cfi_offset x29, -160",
    "mov x29, sp",
    "stp x19, x20, [sp, #16]",
    "stp x21, x22, [sp, #32]",
    "stp x23, x24, [sp, #48]",
    "stp x25, x26, [sp, #64]",
    "stp x27, x28, [sp, #80]",
    "stp d8, d9, [sp, #96]",
    "stp d10, d11, [sp, #112]",
    "stp d12, d13, [sp, #128]",
    "stp d14, d15, [sp, #144]",
    "mov x9, sp",
    "str x9, [x0]",
    concat!("adr x9, ", asm_fn!(local "wasm2o_rt_resume")),
    "str x9, [x0, #8]",
    "mov x0, x2",
    "mov x9, x1",
    "mov x1, x3",
    "blr x9",
    "mov w0, #0",
    concat!(asm_fn!(local "wasm2o_rt_resume"), ":"),
    "ldp d14, d15, [sp, #144]",
    "ldp d12, d13, [sp, #128]",
    "ldp d10, d11, [sp, #112]",
    "ldp d8, d9, [sp, #96]",
    "ldp x27, x28, [sp, #80]",
    "ldp x25, x26, [sp, #64]",
    "ldp x23, x24, [sp, #48]",
    "ldp x21, x22, [sp, #32]",
    "ldp x19, x20, [sp, #16]",
    "ldp x29, x30, [sp], #160",
    ".cfi_def_cfa_offset 0",
    "ret",
    ".cfi_endproc",
    asm_fn!(end "wasm2o_rt_enter"),
    "",
    asm_fn!(start "wasm2o_rt_unwind", "%function"),
    ".p2align 2",
    asm_fn!(label "wasm2o_rt_unwind"),
    "ldr x9, [x0]",
    "mov sp, x9",
    "ldr x9, [x0, #8]",
    "mov w0, w1",
    "br x9",
    asm_fn!(end "wasm2o_rt_unwind"),
);

/// `void wrapper(void *vmctx, uint64_t *values)`.
pub type WrapperFn = unsafe extern "C" fn(*mut u8, *mut u64);

extern "C" {
    fn wasm2o_rt_enter(
        buf: *mut JmpBuf,
        wrapper: WrapperFn,
        vmctx: *mut u8,
        values: *mut u64,
    ) -> u32;
    fn wasm2o_rt_unwind(buf: *const JmpBuf, code: u32) -> !;
}

/// Calls `wrapper(vmctx, values)` catching traps. Sets the vmctx stack
/// limit first.
///
/// # Safety
///
/// `wrapper` must be an array wrapper of the module `vmctx` belongs to,
/// `vmctx` a live, fully initialised vmctx, and `values` must hold as many
/// slots as the wrapper reads and writes.
pub unsafe fn call_wrapper(
    wrapper: *const u8,
    vmctx: *mut u8,
    values: *mut u64,
    max_stack_bytes: u64,
) -> Result<(), TrapRecord> {
    super::signals::init();
    super::signals::ensure_altstack();
    let limit = super::stack::stack_limit(max_stack_bytes);
    // SAFETY: vmctx[VMCTX_STACK_LIMIT] is the first word of a live vmctx.
    unsafe { (vmctx.add(crate::abi::VMCTX_STACK_LIMIT as usize) as *mut usize).write(limit) };
    // SAFETY: `wrapper` is a code pointer with the wrapper signature (caller contract).
    let wrapper: WrapperFn = unsafe { std::mem::transmute::<*const u8, WrapperFn>(wrapper) };
    let mut buf = JmpBuf::default();
    let bufp: *mut JmpBuf = &mut buf;
    let prev = tls::swap_buf(bufp);
    // SAFETY: the trampoline is written for exactly this signature; `buf`
    // outlives the call; traps come back here through `buf`.
    let code = unsafe { wasm2o_rt_enter(bufp, wrapper, vmctx, values) };
    tls::swap_buf(prev);
    if code == 0 {
        Ok(())
    } else {
        let mut rec = tls::last_trap();
        rec.code = code;
        Err(rec)
    }
}

/// Unwinds to the innermost entry with `code`.
///
/// # Safety
///
/// Must be called (indirectly) from Wasm entered through [`call_wrapper`],
/// with no live value that needs drop on the frames being discarded.
pub unsafe fn raise(code: u32, address: Option<u64>, memory_base: usize) -> ! {
    // SAFETY: caller contract, forwarded.
    unsafe {
        raise_record(TrapRecord {
            code,
            address,
            memory_base,
            pc: 0,
            reason: None,
        })
    }
}

/// Unwinds to the innermost entry with `rec` as the thread's last trap
/// (its `pc` should be 0: raised by the runtime).
///
/// # Safety
///
/// As for [`raise`].
pub unsafe fn raise_record(rec: TrapRecord) -> ! {
    let buf = tls::current_buf();
    if buf.is_null() {
        // Not under an entry: nothing to unwind to.
        std::process::abort();
    }
    tls::record_trap(rec);
    // SAFETY: `buf` is the innermost live entry frame on this thread.
    unsafe { wasm2o_rt_unwind(buf, rec.code) }
}

/// What [`catch_memory_faults`] hands the trampoline as its "vmctx": the
/// trampoline stores a stack limit in the first word, as in a real vmctx.
#[repr(C)]
struct CatchCtx<'a> {
    stack_limit: usize,
    f: &'a mut dyn FnMut(),
}

/// The "array wrapper" of [`catch_memory_faults`].
unsafe extern "C" fn catch_wrapper(ctx: *mut u8, _values: *mut u64) {
    // SAFETY: `ctx` is the `CatchCtx` `catch_memory_faults` passed.
    let c = unsafe { &mut *(ctx as *mut CatchCtx<'_>) };
    (c.f)();
}

/// Runs `f` (raw copies to or from guest memory, on behalf of the host or
/// of instantiation, outside any Wasm call) so that a fault it takes in a
/// memory reservation — a page past the end of a mapped file (SIGBUS), a
/// protected page — comes back as a trap record instead of killing the
/// process. `f` is abandoned at the fault without unwinding: it must own
/// nothing that needs drop.
pub fn catch_memory_faults(f: &mut dyn FnMut()) -> Result<(), TrapRecord> {
    let mut ctx = CatchCtx { stack_limit: 0, f };
    let mut values = [0u64; 1];
    let prev = tls::set_in_helper(true);
    // SAFETY: `catch_wrapper` has the wrapper signature and reads only
    // `ctx`, whose first word is the scratch stack limit; `values` has the
    // one slot the trampoline may use.
    let r = unsafe {
        call_wrapper(
            catch_wrapper as *const u8,
            &mut ctx as *mut CatchCtx<'_> as *mut u8,
            values.as_mut_ptr(),
            0,
        )
    };
    tls::set_in_helper(prev);
    r
}
