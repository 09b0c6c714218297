//! The C API of memory-control II (`wasm2o.h`): host file mappings,
//! `wasm2o_memory_map/unmap/protect`, shared buffers and grants.
//!
//! `wasm2o_shared_buffer *` is `Box::into_raw` of a [`SharedBuffer`].

use std::ffi::c_int;

use crate::capi::{host_arg_error, memory_result, set_error, wasm2o_instance, wasm2o_memory};
use crate::host_map::{self, MapFlags, SharedBuffer};
use crate::memory::MemoryInner;

#[allow(non_camel_case_types)]
pub type wasm2o_shared_buffer = SharedBuffer;

/// # Safety
///
/// `memory` is null or a live handle.
unsafe fn mem<'a>(memory: *mut wasm2o_memory, what: &str) -> Result<&'a MemoryInner, u32> {
    // SAFETY: caller contract.
    unsafe { memory.as_ref() }.ok_or_else(|| host_arg_error(&format!("{what}: null memory")))
}

/// See `wasm2o.h`.
///
/// # Safety
///
/// `memory` is null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_memory_map_fd(
    memory: *mut wasm2o_memory,
    addr: u64,
    len: u64,
    fd: c_int,
    file_offset: u64,
    prot: u32,
    flags: u32,
) -> u32 {
    // SAFETY: contract.
    let m = match unsafe { mem(memory, "wasm2o_memory_map_fd") } {
        Ok(m) => m,
        Err(code) => return code,
    };
    let Some(flags) = MapFlags::from_c(flags) else {
        return host_arg_error(&format!(
            "wasm2o_memory_map_fd: flags must be WASM2O_MAP_SHARED or WASM2O_MAP_PRIVATE, got {flags}"
        ));
    };
    memory_result(host_map::map_fd(m, addr, len, fd, file_offset, prot, flags))
}

/// See `wasm2o.h`.
///
/// # Safety
///
/// `memory` is null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_memory_map(
    memory: *mut wasm2o_memory,
    addr: u64,
    len: u64,
    prot: u32,
) -> u32 {
    // SAFETY: contract.
    match unsafe { mem(memory, "wasm2o_memory_map") } {
        Ok(m) => memory_result(host_map::map_anonymous(m, addr, len, prot)),
        Err(code) => code,
    }
}

/// See `wasm2o.h`.
///
/// # Safety
///
/// `memory` is null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_memory_unmap(
    memory: *mut wasm2o_memory,
    addr: u64,
    len: u64,
) -> u32 {
    // SAFETY: contract.
    match unsafe { mem(memory, "wasm2o_memory_unmap") } {
        Ok(m) => memory_result(host_map::unmap(m, addr, len)),
        Err(code) => code,
    }
}

/// See `wasm2o.h`.
///
/// # Safety
///
/// `memory` is null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_memory_protect(
    memory: *mut wasm2o_memory,
    addr: u64,
    len: u64,
    prot: u32,
) -> u32 {
    // SAFETY: contract.
    match unsafe { mem(memory, "wasm2o_memory_protect") } {
        Ok(m) => memory_result(host_map::protect(m, addr, len, prot)),
        Err(code) => code,
    }
}

/// See `wasm2o.h`.
///
/// # Safety
///
/// `memory` is null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_memory_set_mapping_budget(
    memory: *mut wasm2o_memory,
    runs: u64,
) -> u32 {
    // SAFETY: contract.
    match unsafe { mem(memory, "wasm2o_memory_set_mapping_budget") } {
        Ok(m) => {
            m.ctl
                .set_budget(usize::try_from(runs).unwrap_or(usize::MAX));
            0
        }
        Err(code) => code,
    }
}

/// See `wasm2o.h`.
#[no_mangle]
pub extern "C" fn wasm2o_shared_buffer_new(size: u64) -> *mut wasm2o_shared_buffer {
    let r = usize::try_from(size)
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EFBIG))
        .and_then(SharedBuffer::new);
    match r {
        Ok(b) => Box::into_raw(Box::new(b)),
        Err(e) => {
            set_error(&format!(
                "wasm2o_shared_buffer_new: cannot create a buffer of {size} bytes: {e}"
            ));
            std::ptr::null_mut()
        }
    }
}

/// # Safety
///
/// `buf` is null or a live handle from `wasm2o_shared_buffer_new`.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_shared_buffer_fd(buf: *const wasm2o_shared_buffer) -> c_int {
    // SAFETY: contract.
    unsafe { buf.as_ref() }.map_or(-1, |b| b.fd())
}

/// # Safety
///
/// `buf` is null or a live handle from `wasm2o_shared_buffer_new`.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_shared_buffer_data(buf: *const wasm2o_shared_buffer) -> *mut u8 {
    // SAFETY: contract.
    unsafe { buf.as_ref() }.map_or(std::ptr::null_mut(), |b| b.data())
}

/// # Safety
///
/// `buf` is null or a live handle from `wasm2o_shared_buffer_new`.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_shared_buffer_size(buf: *const wasm2o_shared_buffer) -> u64 {
    // SAFETY: contract.
    unsafe { buf.as_ref() }.map_or(0, |b| b.size() as u64)
}

/// # Safety
///
/// `buf` is null or a handle from `wasm2o_shared_buffer_new`, freed once.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_shared_buffer_free(buf: *mut wasm2o_shared_buffer) {
    if !buf.is_null() {
        // SAFETY: from Box::into_raw in wasm2o_shared_buffer_new (contract).
        drop(unsafe { Box::from_raw(buf) });
    }
}

/// See `wasm2o.h`: the handle, or -1 with `wasm2o_last_error()` set.
///
/// # Safety
///
/// `instance` is null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn wasm2o_instance_grant(
    instance: *mut wasm2o_instance,
    fd: c_int,
    len: u64,
    max_prot: u32,
    flags: u32,
) -> i32 {
    // SAFETY: contract.
    let Some(inst) = (unsafe { instance.as_ref() }) else {
        set_error("wasm2o_instance_grant: null instance");
        return -1;
    };
    let Some(flags) = MapFlags::from_c(flags) else {
        set_error(&format!(
            "wasm2o_instance_grant: flags must be WASM2O_MAP_SHARED or WASM2O_MAP_PRIVATE, got {flags}"
        ));
        return -1;
    };
    match host_map::grant(inst, fd, len, max_prot, flags) {
        Ok(h) => h as i32,
        Err(e) => {
            set_error(&format!("wasm2o_instance_grant: {e}"));
            -1
        }
    }
}
