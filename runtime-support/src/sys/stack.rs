//! The per-thread stack limit handed to compiled code.

use super::tls;

pub use crate::abi::STACK_MARGIN;

/// Lowest address of the current thread's stack, or `None` if the system
/// cannot tell.
fn thread_stack_low() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `attr` is initialised by pthread_getattr_np before use and
        // destroyed once; the out-pointers are valid locals.
        unsafe {
            let mut attr: libc::pthread_attr_t = std::mem::zeroed();
            if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
                return None;
            }
            let mut addr: *mut libc::c_void = std::ptr::null_mut();
            let mut size: libc::size_t = 0;
            let r = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
            libc::pthread_attr_destroy(&mut attr);
            if r != 0 {
                return None;
            }
            Some(addr as usize)
        }
    }
    #[cfg(target_os = "macos")]
    {
        // SAFETY: plain queries of the calling thread. On macOS the
        // "stack address" is the high end; the stack grows down from it.
        // (Type-checked for the Apple targets, never run: docs/cross.md.)
        unsafe {
            let me = libc::pthread_self();
            let high = libc::pthread_get_stackaddr_np(me) as usize;
            let size = libc::pthread_get_stacksize_np(me);
            high.checked_sub(size)
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        None
    }
}

/// The approximate current stack pointer.
#[inline(never)]
pub fn approx_sp() -> usize {
    let x = 0u8;
    std::hint::black_box(&x) as *const u8 as usize
}

/// The stack limit for Wasm entered on this thread: the thread's stack low
/// bound plus [`STACK_MARGIN`], raised so that at most `max_stack_bytes`
/// (if non-zero) are used below the current stack pointer.
pub fn stack_limit(max_stack_bytes: u64) -> usize {
    let mut limit = tls::cached_stack_limit();
    if limit == 0 {
        limit = match thread_stack_low() {
            Some(low) => low.saturating_add(STACK_MARGIN),
            // Unknown stack: allow 1 MiB below here.
            None => approx_sp().saturating_sub(1 << 20),
        };
        tls::set_cached_stack_limit(limit);
    }
    if max_stack_bytes != 0 {
        let want = approx_sp().saturating_sub(max_stack_bytes.min(usize::MAX as u64) as usize);
        limit = limit.max(want);
    }
    limit
}

#[cfg(test)]
mod tests {
    #[test]
    fn limit_is_below_sp() {
        let l = super::stack_limit(0);
        assert!(l < super::approx_sp());
        let l2 = super::stack_limit(64 << 10);
        assert!(l2 >= l && super::approx_sp().abs_diff(l2) <= (64 << 10) + 4096);
    }
}
