//! The operating-system-specific system calls behind shared memories,
//! shared buffers and discard, one function per job with a Linux and a
//! macOS body:
//!
//! | job | Linux | macOS |
//! | --- | --- | --- |
//! | [`anonymous_file`] | `memfd_create` | `shm_open` (unique name) + `shm_unlink` |
//! | [`punch_hole`] (zero a shared range, free it) | `fallocate(PUNCH_HOLE)` | unsupported: the caller writes zeros |
//! | [`zero_private`] (zero private anonymous pages, free them) | `madvise(MADV_DONTNEED)` | `mmap(MAP_FIXED)` of fresh anonymous pages |
//! | [`max_map_count`] | `vm.max_map_count` | a fixed 65530 (Linux's default) |
//!
//! The macOS bodies are type-checked for both Apple targets (`make
//! check-macos`) but have never run (docs/cross.md).

use std::ffi::CStr;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

/// A fresh, empty, close-on-exec file that lives only in memory and has no
/// name anyone else can open: the backing of shared memories and shared
/// buffers. Size it with `ftruncate` exactly once (macOS refuses a second
/// `ftruncate` of a POSIX shared-memory object). `name` shows up in
/// `/proc/PID/fd` on Linux; macOS ignores it.
#[cfg(target_os = "linux")]
pub fn anonymous_file(name: &CStr) -> io::Result<OwnedFd> {
    // SAFETY: `name` is NUL-terminated; memfd_create returns a new
    // descriptor or -1.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just created and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// macOS: a POSIX shared-memory object under a name unique to this
/// process and call, unlinked at once (so nothing else can open it and
/// nothing is left behind). Names are limited to 31 bytes
/// (`PSHMNAMLEN`): `/w2o.<pid hex>.<counter hex>` fits.
#[cfg(target_os = "macos")]
pub fn anonymous_file(_name: &CStr) -> io::Result<OwnedFd> {
    use std::io::Write;
    use std::sync::atomic::{AtomicU64, Ordering};

    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() } as u32;
    for _ in 0..64 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut buf = [0u8; 32];
        let mut w = &mut buf[..];
        // 1 + 4 + 8 + 1 + 16 = 30 bytes at most, plus the NUL.
        write!(w, "/w2o.{pid:x}.{n:x}\0")
            .map_err(|_| io::Error::from_raw_os_error(libc::ENAMETOOLONG))?;
        let name = CStr::from_bytes_until_nul(&buf)
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: `name` is NUL-terminated; shm_open returns a new
        // descriptor or -1. The mode is passed as an unsigned int, as C's
        // variadic promotion of `mode_t` would.
        let fd = unsafe {
            libc::shm_open(
                name.as_ptr(),
                libc::O_RDWR | libc::O_CREAT | libc::O_EXCL,
                0o600 as libc::c_uint,
            )
        };
        if fd < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EEXIST) {
                // Left behind by a process that had our pid: try the next name.
                continue;
            }
            return Err(e);
        }
        // SAFETY: `fd` was just created and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: removing the name we just created; the object lives on
        // while `fd` (or a mapping of it) does.
        unsafe { libc::shm_unlink(name.as_ptr()) };
        // SAFETY: F_SETFD on our own descriptor. (Set after the fact:
        // `shm_open` is not documented to take O_CLOEXEC.)
        if unsafe {
            libc::fcntl(
                std::os::fd::AsRawFd::as_raw_fd(&fd),
                libc::F_SETFD,
                libc::FD_CLOEXEC,
            )
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        return Ok(fd);
    }
    Err(io::Error::from_raw_os_error(libc::EEXIST))
}

/// Zeroes `[offset, offset+len)` of the anonymous file `fd` for every
/// mapping of it and frees the pages, keeping the file's size (so no
/// mapping of it can hit `SIGBUS`); a racing access sees the old bytes or
/// zeros, never a fault. An error means nothing was done: the caller
/// writes zeros instead.
#[cfg(target_os = "linux")]
pub fn punch_hole(fd: &OwnedFd, offset: usize, len: usize) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let (Ok(off), Ok(n)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "range too large",
        ));
    };
    // SAFETY: plain system call on the caller's descriptor; zeroing the
    // range is what the caller asked for.
    let r = unsafe {
        libc::fallocate(
            fd.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            off,
            n,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// macOS: `fcntl(F_PUNCHHOLE)` works only on files of some file systems
/// (APFS), not on POSIX shared-memory objects, and `MADV_DONTNEED` does
/// not zero, so there is no system call that zeroes a shared range for
/// every mapping: always "unsupported", and the caller writes zeros (the
/// pages stay allocated).
#[cfg(target_os = "macos")]
pub fn punch_hole(_fd: &OwnedFd, _offset: usize, _len: usize) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Zeroes the read-write private anonymous pages `[ptr, ptr+len)`
/// (page-aligned) and gives their physical pages back. Linux:
/// `madvise(MADV_DONTNEED)`, after which the next touch reads fresh zero
/// pages; it keeps protections and never splits a mapping. An error
/// means nothing was guaranteed: the caller writes zeros instead.
///
/// # Safety
///
/// The range must be read-write private anonymous memory the caller owns
/// (inside its own reservation) that no Rust reference covers.
#[cfg(target_os = "linux")]
pub unsafe fn zero_private(ptr: *mut u8, len: usize) -> io::Result<()> {
    // SAFETY: caller contract.
    let r = unsafe { libc::madvise(ptr.cast(), len, libc::MADV_DONTNEED) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// macOS: `MADV_DONTNEED` (and `MADV_FREE`) leave the old contents in
/// place until the kernel reclaims the pages, so map fresh zeroed
/// anonymous read-write pages over the range instead (`MAP_FIXED`: the
/// kernel replaces the old pages in one call and puts them back if it
/// fails). That is why the range must be read-write: the new pages get
/// exactly that protection.
///
/// # Safety
///
/// As for the Linux version.
#[cfg(target_os = "macos")]
pub unsafe fn zero_private(ptr: *mut u8, len: usize) -> io::Result<()> {
    // SAFETY: caller contract: our own read-write private anonymous
    // pages, which MAP_FIXED replaces with zeroed ones of the same kind.
    let p = unsafe {
        libc::mmap(
            ptr.cast(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// How many kernel mappings a process may have: `vm.max_map_count`
/// (65530 if it cannot be read).
#[cfg(target_os = "linux")]
pub fn max_map_count() -> usize {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(65530)
}

/// macOS has no per-process limit on mappings (each costs kernel memory
/// only): use Linux's default, so the per-memory budgets are the same on
/// every host.
#[cfg(target_os = "macos")]
pub fn max_map_count() -> usize {
    65530
}
