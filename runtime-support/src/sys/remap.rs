//! The system calls of memory-control II: replacing pages of a memory
//! reservation with fresh anonymous pages, file pages or the reserved
//! (`PROT_NONE`, no backing) state, each with one `mmap(MAP_FIXED)` over a
//! range checked to lie inside the reservation; memfd shared buffers; file
//! descriptor queries.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::mmap::Mmap;

/// What to put over a range of a reservation.
#[derive(Clone, Copy, Debug)]
pub enum Fill {
    /// Unmapped: `PROT_NONE`, no backing, no swap accounting (what the
    /// reservation was made of).
    Reserved,
    /// Fresh zeroed private anonymous pages with `prot`.
    Anonymous(libc::c_int),
    /// `len` bytes of file `fd` from `offset`, shared or private.
    File {
        prot: libc::c_int,
        fd: RawFd,
        offset: u64,
        shared: bool,
    },
}

fn check(map: &Mmap, start: usize, len: usize) -> io::Result<()> {
    let page = super::mmap::page_size();
    match start.checked_add(len) {
        Some(end)
            if end <= map.len()
                && start.is_multiple_of(page)
                && len.is_multiple_of(page)
                && len > 0 =>
        {
            Ok(())
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "range outside the reservation or unaligned",
        )),
    }
}

/// Replaces `[start, start+len)` of `map` with `fill` in one system call.
/// On failure the range may be unmapped in the kernel (a hole in the
/// reservation); the caller must put something back (see
/// [`replace_or_abort`]).
pub fn replace(map: &Mmap, start: usize, len: usize, fill: Fill) -> io::Result<()> {
    check(map, start, len)?;
    let (prot, flags, fd, off) = match fill {
        Fill::Reserved => (
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        ),
        Fill::Anonymous(prot) => (
            prot,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        ),
        Fill::File {
            prot,
            fd,
            offset,
            shared,
        } => {
            let off = libc::off_t::try_from(offset).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, "file offset too large")
            })?;
            let kind = if shared {
                libc::MAP_SHARED
            } else {
                libc::MAP_PRIVATE
            };
            (prot, kind, fd, off)
        }
    };
    // SAFETY: the range lies inside our own reservation (checked above),
    // which no Rust reference covers; MAP_FIXED replaces only those pages.
    let p = unsafe {
        libc::mmap(
            (map.as_ptr() as usize + start) as *mut libc::c_void,
            len,
            prot,
            flags | libc::MAP_FIXED,
            fd,
            off,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// [`replace`], for putting back a state after a failed call: a range of a
/// reservation left as a hole could be handed to an unrelated mapping and
/// then reached by the guest, so if even this fails the process stops.
pub fn replace_or_abort(map: &Mmap, start: usize, len: usize, fill: Fill) {
    if replace(map, start, len, fill).is_err() && replace(map, start, len, Fill::Reserved).is_err()
    {
        eprintln!("wasm2o: cannot restore a memory reservation after a failed mmap; aborting");
        std::process::abort();
    }
}

/// Whether every page of `[start, start+len)` of `map` is mapped in the
/// kernel (no hole left by a failed `MAP_FIXED` call): `msync` fails with
/// `ENOMEM` on a range with unmapped pages.
pub fn is_fully_mapped(map: &Mmap, start: usize, len: usize) -> bool {
    if check(map, start, len).is_err() {
        return false;
    }
    // SAFETY: MS_ASYNC on a range of our reservation only queries it (and
    // schedules writeback of shared file pages, which is harmless).
    unsafe {
        libc::msync(
            (map.as_ptr() as usize + start) as *mut libc::c_void,
            len,
            libc::MS_ASYNC,
        ) == 0
    }
}

/// `vm.max_map_count` (65530 if it cannot be read; a fixed 65530 on
/// macOS, which has no such limit: see `anon::max_map_count`).
pub fn max_map_count() -> usize {
    super::anon::max_map_count()
}

/// How a descriptor was opened: `(readable, writable)`, or an error for a
/// bad descriptor.
pub fn fd_access(fd: RawFd) -> io::Result<(bool, bool)> {
    // SAFETY: F_GETFL only reads the descriptor's flags.
    let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if fl < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(match fl & libc::O_ACCMODE {
        libc::O_RDONLY => (true, false),
        libc::O_WRONLY => (false, true),
        _ => (true, true),
    })
}

/// A close-on-exec duplicate of `fd`, owned by the runtime.
pub fn dup_fd(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC creates a new descriptor we then own.
    let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `n` is a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// The size of `fd` if it is a regular file (memfds are), `None` for
/// anything else (a device, a pipe) or a failing `fstat`: only a regular
/// file has an end past which its pages fault.
pub fn regular_file_size(fd: RawFd) -> Option<u64> {
    // SAFETY: an all-zero `stat` is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat writes one `stat` into our local on success.
    if unsafe { libc::fstat(fd, &mut st) } != 0 || (st.st_mode & libc::S_IFMT) != libc::S_IFREG {
        return None;
    }
    u64::try_from(st.st_size).ok()
}

/// A sealed memfd of `size` bytes holding `chunks` (`(file offset,
/// bytes)`, written in order, so a later chunk overwrites an earlier
/// one); the rest reads as zeros and costs nothing (holes). Sealed
/// against writes, shrinking and growing: nobody can change it, and no
/// mapping of it can ever hit `SIGBUS`; private mappings stay writable
/// (copy-on-write). Linux only (memfd seals); elsewhere "unsupported",
/// and the data images are copied (`image::build` does not ask).
#[cfg(target_os = "linux")]
pub fn sealed_image<'a>(
    size: u64,
    chunks: impl IntoIterator<Item = (u64, &'a [u8])>,
) -> io::Result<OwnedFd> {
    // SAFETY: a valid NUL-terminated name; memfd_create returns a new
    // descriptor or -1.
    let n = unsafe {
        libc::memfd_create(
            c"wasm2o-data-image".as_ptr(),
            libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `n` is a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(n) };
    let too_big = || io::Error::from_raw_os_error(libc::EFBIG);
    let flen = libc::off_t::try_from(size).map_err(|_| too_big())?;
    // SAFETY: resizing our own memfd.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), flen) } != 0 {
        return Err(io::Error::last_os_error());
    }
    for (offset, mut bytes) in chunks {
        let end = offset.checked_add(bytes.len() as u64).ok_or_else(too_big)?;
        if end > size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "image chunk past its end",
            ));
        }
        let mut at = offset;
        while !bytes.is_empty() {
            let off = libc::off_t::try_from(at).map_err(|_| too_big())?;
            // SAFETY: `bytes` is a live slice; pwrite reads at most its
            // length from it.
            let w =
                unsafe { libc::pwrite(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), off) };
            if w < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if w == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "image write made no progress",
                ));
            }
            bytes = &bytes[w as usize..];
            at += w as u64;
        }
    }
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: F_ADD_SEALS on our own memfd, which has no shared mapping.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// See the Linux version: macOS's shared-memory objects cannot be written
/// with `pwrite` nor sealed, so data images are copied there.
#[cfg(not(target_os = "linux"))]
pub fn sealed_image<'a>(
    _size: u64,
    _chunks: impl IntoIterator<Item = (u64, &'a [u8])>,
) -> io::Result<OwnedFd> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// A memfd of `size` bytes (on macOS a POSIX shared-memory object),
/// mapped shared into this process.
#[derive(Debug)]
pub struct SharedMapping {
    fd: OwnedFd,
    ptr: usize,
    len: usize,
}

impl SharedMapping {
    pub fn new(size: usize) -> io::Result<SharedMapping> {
        let fd = super::anon::anonymous_file(c"wasm2o-shared-buffer")?;
        let flen =
            libc::off_t::try_from(size).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
        // SAFETY: resizing our own memfd.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), flen) } != 0 {
            return Err(io::Error::last_os_error());
        }
        if size == 0 {
            return Ok(SharedMapping { fd, ptr: 0, len: 0 });
        }
        // SAFETY: a fresh shared mapping of our memfd aliases no Rust object.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(SharedMapping {
            fd,
            ptr: p as usize,
            len: size,
        })
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr as *mut u8
    }

    pub fn len(&self) -> usize {
        self.len
    }
}

impl Drop for SharedMapping {
    fn drop(&mut self) {
        if self.len != 0 {
            // SAFETY: our own mapping; nothing refers to it any more.
            unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_inside_the_reservation_only() {
        let page = super::super::mmap::page_size();
        let m = Mmap::reserve(8 * page).unwrap();
        replace(
            &m,
            page,
            2 * page,
            Fill::Anonymous(libc::PROT_READ | libc::PROT_WRITE),
        )
        .unwrap();
        m.write(page, b"x");
        replace(&m, page, 2 * page, Fill::Reserved).unwrap();
        replace(&m, page, page, Fill::Anonymous(libc::PROT_READ)).unwrap();
        let mut b = [9u8];
        m.read(page, &mut b);
        assert_eq!(b, [0], "fresh pages are zero");
        assert!(replace(&m, 7 * page, 2 * page, Fill::Reserved).is_err());
        assert!(replace(&m, 1, page, Fill::Reserved).is_err());
        assert!(replace(&m, 0, 0, Fill::Reserved).is_err());
    }

    #[test]
    fn sealed_image_later_chunks_win() {
        let page = super::super::mmap::page_size();
        let fd = sealed_image(3 * page as u64, [(10, &b"abcdef"[..]), (12, &b"XY"[..])]).unwrap();
        assert_eq!(regular_file_size(fd.as_raw_fd()), Some(3 * page as u64));
        let m = Mmap::reserve(4 * page).unwrap();
        let fill = Fill::File {
            prot: libc::PROT_READ | libc::PROT_WRITE,
            fd: fd.as_raw_fd(),
            offset: 0,
            shared: false,
        };
        replace(&m, 0, 3 * page, fill).unwrap();
        let mut b = [0u8; 8];
        m.read(9, &mut b);
        assert_eq!(&b, b"\0abXYef\0");
        // Copy-on-write: the image never changes.
        m.write(10, b"z");
        replace(&m, 0, 3 * page, fill).unwrap();
        m.read(10, &mut b[..1]);
        assert_eq!(b[0], b'a');
        assert!(sealed_image(4, [(2, &b"abc"[..])]).is_err());
    }

    #[test]
    fn shared_mapping_and_fd_queries() {
        let s = SharedMapping::new(65536).unwrap();
        assert_eq!(fd_access(s.fd()).unwrap(), (true, true));
        let d = dup_fd(s.fd()).unwrap();
        assert_ne!(d.as_raw_fd(), s.fd());
        assert!(fd_access(-1).is_err());
        assert!(max_map_count() > 0);
    }
}
