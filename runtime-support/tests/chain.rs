//! A fault that is not ours reaches the handler the host installed before
//! the runtime — in a child process, since the handler ends it.

use std::sync::atomic::{AtomicUsize, Ordering};

static HITS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn host_handler(
    _sig: libc::c_int,
    _info: *mut libc::siginfo_t,
    _ctx: *mut libc::c_void,
) {
    HITS.fetch_add(1, Ordering::SeqCst);
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(42) };
}

fn in_child(body: impl FnOnce()) -> libc::c_int {
    // SAFETY: the child only runs `body` and exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        body();
        // SAFETY: leaving the child.
        unsafe { libc::_exit(0) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    status
}

#[test]
fn host_fault_reaches_earlier_handler() {
    let status = in_child(|| {
        // SAFETY: installing a handler in the child.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = host_handler as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            libc::sigaction(libc::SIGSEGV, &sa, std::ptr::null_mut());
        }
        wasm2o_runtime::init();
        // A memory exists, so the reservation registry is not empty; the
        // fault below is outside it and not in compiled code.
        let _m = wasm2o_runtime::Memory::new(wasm2o_runtime::desc::MemoryType {
            min: 1,
            max: None,
            memory64: false,
            shared: false,
            control: Default::default(),
        })
        .unwrap();
        // SAFETY: deliberately faulting.
        unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            std::ptr::read_volatile(p as *const u8);
        }
    });
    assert!(libc::WIFEXITED(status), "child status {status:#x}");
    assert_eq!(libc::WEXITSTATUS(status), 42);
}

#[test]
fn default_action_still_kills() {
    let status = in_child(|| {
        wasm2o_runtime::init();
        // SAFETY: deliberately faulting on a null pointer.
        unsafe { std::ptr::read_volatile(std::ptr::null::<u8>()) };
    });
    assert!(libc::WIFSIGNALED(status), "child status {status:#x}");
    assert_eq!(libc::WTERMSIG(status), libc::SIGSEGV);
}
