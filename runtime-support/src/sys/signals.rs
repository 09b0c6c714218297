//! Turning hardware faults in compiled code into traps.
//!
//! The handler is tiny and async-signal-safe (no allocation, no locks, no
//! formatting, only const thread-locals): it reads "Wasm is running on this
//! thread" (an entry buffer), looks the faulting PC up in the code registry
//! and the fault address up in the memory registry, records the trap and
//! rewrites the interrupted context so that the entry trampoline resumes
//! with the trap code. Anything else goes to the handler that was installed
//! before ours, so the host's own crashes stay crashes and crash reporters,
//! profilers and JVMs keep working.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::Once;

use super::registry;
use super::tls::{self, JmpBuf, TrapRecord};
use crate::abi::TrapCode;

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The actions installed before ours, written once inside `INIT` before
/// our handlers are installed and only read afterwards.
struct PrevActions(UnsafeCell<[MaybeUninit<libc::sigaction>; 4]>);
// SAFETY: written only inside `INIT.call_once` before any handler that
// reads it is installed; read-only afterwards.
unsafe impl Sync for PrevActions {}

static PREV: PrevActions = PrevActions(UnsafeCell::new([MaybeUninit::uninit(); 4]));
static INIT: Once = Once::new();

/// Installs the handlers once per process.
pub fn init() {
    INIT.call_once(|| {
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: a zeroed sigaction is a valid initial value; we pass
            // valid pointers; `PREV[i]` is not yet read by anyone.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = handler as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO // three-argument handler: we need siginfo (fault address) and the ucontext (PC, SP)
                    | libc::SA_ONSTACK // run on the alternate stack: the fault may be a guard-page hit with no stack left
                    | libc::SA_NODEFER; // do not block the signal while handling: a chained handler may fault again and must not deadlock
                libc::sigemptyset(&mut sa.sa_mask);
                let prev = (*PREV.0.get())[i].as_mut_ptr();
                if libc::sigaction(sig, &sa, prev) != 0 {
                    panic!("wasm2o: cannot install the handler for signal {sig}");
                }
            }
        }
    });
}

fn prev_action(sig: libc::c_int) -> *const libc::sigaction {
    let i = SIGNALS
        .iter()
        .position(|&s| s == sig)
        .expect("one of our signals");
    // SAFETY: initialised in `init` before the handler could run.
    unsafe { (*PREV.0.get())[i].as_ptr() }
}

unsafe extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let buf = tls::current_buf();
    if !buf.is_null() {
        // SAFETY: the kernel passes a valid ucontext and siginfo.
        let pc = unsafe { context_pc(ctx) };
        // SAFETY: as above; si_addr is defined for the fault signals.
        let addr = unsafe { (*info).si_addr() } as usize;
        if let Some(rec) = classify(sig, pc, addr) {
            tls::record_trap(rec);
            // SAFETY: `buf` is the live entry frame of this thread; `ctx`
            // is the interrupted context, which the kernel restores when
            // we return.
            unsafe { redirect(ctx, buf, rec.code) };
            return;
        }
    }
    // SAFETY: forwarding the kernel's arguments unchanged.
    unsafe { chain(sig, info, ctx) }
}

/// Whether a fault is a trap, and which.
fn classify(sig: libc::c_int, pc: usize, addr: usize) -> Option<TrapRecord> {
    let in_code = registry::in_compiled_code(pc);
    if (sig == libc::SIGSEGV || sig == libc::SIGBUS) && (in_code || tls::in_helper()) {
        if let Some(m) = registry::find_memory(addr) {
            let code = if m.within_length {
                TrapCode::MemoryAccessDenied
            } else {
                TrapCode::MemoryOutOfBounds
            };
            return Some(TrapRecord {
                code: code as u32,
                address: Some(m.wasm_address),
                memory_base: m.base,
                pc,
                reason: None,
            });
        }
        // A memory fault outside every reservation is not ours, even in
        // compiled code: chain it (DESIGN: "the address in a registered
        // reservation").
        return None;
    }
    if !in_code {
        return None;
    }
    let code = registry::trap_code_at(pc)?;
    Some(TrapRecord {
        code,
        address: None,
        memory_base: 0,
        pc,
        reason: None,
    })
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
unsafe fn context_pc(ctx: *mut libc::c_void) -> usize {
    // SAFETY: the caller passes the handler's ucontext.
    unsafe {
        (*(ctx as *const libc::ucontext_t)).uc_mcontext.gregs[libc::REG_RIP as usize] as usize
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
unsafe fn redirect(ctx: *mut libc::c_void, buf: *const JmpBuf, code: u32) {
    // SAFETY: the caller passes the handler's ucontext and a live buf.
    unsafe {
        let g = &mut (*(ctx as *mut libc::ucontext_t)).uc_mcontext.gregs;
        g[libc::REG_RSP as usize] = (*buf).sp as i64;
        g[libc::REG_RIP as usize] = (*buf).resume as i64;
        g[libc::REG_RAX as usize] = code as i64;
    }
}

#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
unsafe fn context_pc(ctx: *mut libc::c_void) -> usize {
    // SAFETY: the caller passes the handler's ucontext.
    unsafe { (*(ctx as *const libc::ucontext_t)).uc_mcontext.pc as usize }
}

#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
unsafe fn redirect(ctx: *mut libc::c_void, buf: *const JmpBuf, code: u32) {
    // SAFETY: the caller passes the handler's ucontext and a live buf.
    unsafe {
        let m = &mut (*(ctx as *mut libc::ucontext_t)).uc_mcontext;
        m.sp = (*buf).sp as u64;
        m.pc = (*buf).resume as u64;
        m.regs[0] = code as u64;
    }
}

// macOS keeps the registers behind a pointer (`uc_mcontext` is a
// `*mut __darwin_mcontext64`), in the thread state `__ss`. Built with
// `-Zbuild-std` for the Apple targets (`make check-macos`); never run
// (docs/cross.md). Returning from the handler goes through `_sigtramp`
// and `sigreturn`, which loads this state: the same redirect as on Linux.
#[cfg(all(target_os = "macos", target_arch = "x86_64"))]
unsafe fn context_pc(ctx: *mut libc::c_void) -> usize {
    // SAFETY: the caller passes the handler's ucontext, whose mcontext
    // pointer the kernel set to a valid state on the signal stack.
    unsafe {
        (*(*(ctx as *const libc::ucontext_t)).uc_mcontext)
            .__ss
            .__rip as usize
    }
}

#[cfg(all(target_os = "macos", target_arch = "x86_64"))]
unsafe fn redirect(ctx: *mut libc::c_void, buf: *const JmpBuf, code: u32) {
    // SAFETY: as for `context_pc`; `buf` is live.
    unsafe {
        let ss = &mut (*(*(ctx as *mut libc::ucontext_t)).uc_mcontext).__ss;
        ss.__rsp = (*buf).sp as u64;
        ss.__rip = (*buf).resume as u64;
        ss.__rax = code as u64;
    }
}

#[cfg(all(target_os = "macos", target_arch = "aarch64"))]
unsafe fn context_pc(ctx: *mut libc::c_void) -> usize {
    // SAFETY: as for the x86-64 version.
    unsafe { (*(*(ctx as *const libc::ucontext_t)).uc_mcontext).__ss.__pc as usize }
}

#[cfg(all(target_os = "macos", target_arch = "aarch64"))]
unsafe fn redirect(ctx: *mut libc::c_void, buf: *const JmpBuf, code: u32) {
    // SAFETY: as for `context_pc`; `buf` is live.
    unsafe {
        let ss = &mut (*(*(ctx as *mut libc::ucontext_t)).uc_mcontext).__ss;
        ss.__sp = (*buf).sp as u64;
        ss.__pc = (*buf).resume as u64;
        ss.__x[0] = code as u64;
    }
}

/// Hands the signal to the handler installed before ours.
unsafe fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: initialised before our handler was installed.
    let prev = unsafe { &*prev_action(sig) };
    let h = prev.sa_sigaction;
    if h == libc::SIG_DFL || h == libc::SIG_IGN {
        // SAFETY: info is the kernel's siginfo.
        // (macOS fills fault codes into SIGSEGV/SIGBUS/SIGILL/SIGFPE
        // however they were sent, so there a kill()ed one counts as a
        // fault: the default action comes back and the signal is not
        // re-raised.)
        let sent = unsafe { (*info).si_code } <= 0;
        if h == libc::SIG_IGN && sent {
            // Sent by kill(): ignoring it is what the host asked for.
            return;
        }
        // Put the default action back and return: a synchronous fault
        // re-executes and now kills the process with the right signal and
        // context (an ignored synchronous fault is forced to the default,
        // as the kernel itself does). A signal sent by kill() does not
        // re-occur, so re-raise it.
        // SAFETY: valid sigaction; sigaction and raise are
        // async-signal-safe.
        unsafe {
            let mut dfl: libc::sigaction = std::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigemptyset(&mut dfl.sa_mask);
            libc::sigaction(sig, &dfl, std::ptr::null_mut());
            if sent {
                libc::raise(sig);
            }
        }
        return;
    }
    if prev.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous owner installed a three-argument handler.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(h) };
        f(sig, info, ctx);
    } else {
        // SAFETY: the previous owner installed a one-argument handler.
        let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(h) };
        f(sig);
    }
}

// ---------------------------------------------------------------------------
// Alternate signal stacks
// ---------------------------------------------------------------------------

const ALTSTACK_SIZE: usize = 64 << 10;

/// An alternate stack this runtime allocated for a thread; disabled and
/// freed when the thread exits.
struct AltStack {
    map: super::mmap::Mmap,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY: querying and disabling the thread's own altstack.
        unsafe {
            let mut cur: libc::stack_t = std::mem::zeroed();
            if libc::sigaltstack(std::ptr::null(), &mut cur) == 0
                && cur.ss_sp as usize == self.map.as_ptr() as usize + super::mmap::page_size()
            {
                let mut off: libc::stack_t = std::mem::zeroed();
                off.ss_flags = libc::SS_DISABLE;
                libc::sigaltstack(&off, std::ptr::null_mut());
            }
        }
    }
}

thread_local! {
    static ALTSTACK: std::cell::RefCell<Option<AltStack>> = const { std::cell::RefCell::new(None) };
}

/// Makes sure this thread has an alternate signal stack (allocating one,
/// with a guard page below it, if none is set).
pub fn ensure_altstack() {
    if tls::altstack_checked() {
        return;
    }
    // SAFETY: querying the thread's altstack into a local.
    let mut cur: libc::stack_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer.
    let r = unsafe { libc::sigaltstack(std::ptr::null(), &mut cur) };
    if r == 0 && cur.ss_flags & libc::SS_DISABLE == 0 && cur.ss_size >= ALTSTACK_SIZE / 2 {
        return;
    }
    let page = super::mmap::page_size();
    let size = ALTSTACK_SIZE.max(libc::SIGSTKSZ);
    let Ok(map) = super::mmap::Mmap::reserve(size + page) else {
        return;
    };
    if map.make_accessible(page, size).is_err() {
        return;
    }
    let st = libc::stack_t {
        ss_sp: (map.as_ptr() as usize + page) as *mut libc::c_void,
        ss_flags: 0,
        ss_size: size,
    };
    // SAFETY: the stack lives as long as the thread (kept in ALTSTACK).
    if unsafe { libc::sigaltstack(&st, std::ptr::null_mut()) } == 0 {
        let _ = ALTSTACK.try_with(|a| *a.borrow_mut() = Some(AltStack { map }));
    }
}
